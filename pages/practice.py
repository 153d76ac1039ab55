"""Practice: predict the output, get it checked, learn from the miss. The same seed + level gives a class the same set."""

from urllib.parse import urlencode

import streamlit as st

from conv_lab import limits
from conv_lab.classroom import shared_store
from conv_lab.core.options import option_keys
from conv_lab.practice.check import PRACTICE_OPTIONS, Answer, PracticeSettings, Score, check_answer, new_seed, parse_settings
from conv_lab.practice.questions import LEVELS, question_at, question_set
from ui import require_entry, url_options, write_url_options
from ui.phone import on_phone
from ui.present import page_intro
from ui.share import mode_flags, share_box

require_entry()

SET_SIZE = limits.PRACTICE_SET_SIZE
PAGE_KEYS = option_keys(PRACTICE_OPTIONS)


def _load_settings() -> PracticeSettings:
    """Settings from the URL on arrival, a link or the back button; else from this session (see url_options)."""
    in_url = url_options("practice", PAGE_KEYS, ["w_pr_level", "w_pr_seed", "w_pr_teacher", "pr_settings"],
                         keep_when_absent=True)  # back from another page: keep our place
    if in_url is not None:
        settings, st.session_state["pr_notices"] = parse_settings(in_url, new_seed())
        st.session_state["pr_settings"] = settings
    _use(st.session_state["pr_settings"])  # also re-seeds the controls Streamlit dropped on another page
    return st.session_state["pr_settings"]


def _use(settings: PracticeSettings) -> None:
    st.session_state.update(pr_settings=settings, w_pr_level=settings.level, w_pr_seed=settings.seed,
                            w_pr_teacher=settings.teacher)


def _on_set_change() -> None:  # level or seed changed: start that set from question 1
    seed = int(st.session_state["w_pr_seed"] or 0)
    st.session_state["pr_settings"] = PracticeSettings(seed, st.session_state["w_pr_level"], 1,
                                                       st.session_state["w_pr_teacher"])


def _on_teacher() -> None:
    old = st.session_state["pr_settings"]
    st.session_state["pr_settings"] = PracticeSettings(old.seed, old.level, old.number, st.session_state["w_pr_teacher"])


def _token(settings: PracticeSettings) -> str:
    return f"{settings.seed}_{settings.level}_{settings.number}"


def _check() -> None:  # the form's callback: read the answer, grade it, count it before the page draws the score
    settings = st.session_state["pr_settings"]
    question, token, state = question_at(settings.seed, settings.level, settings.number), _token(settings), st.session_state
    if question.asks == "shape":
        given = Answer(shape=tuple(state.get(f"w_pr_{label}_{token}") for label in question.shape_labels),
                       fails=bool(state.get(f"w_pr_fails_{token}")))
    else:
        given = Answer(number=state.get(f"w_pr_number_{token}"))
    key = (settings.seed, settings.level, settings.number)
    state["pr_answers"][key] = given
    feedback = check_answer(question, given)
    if feedback.graded:
        state["pr_score"].record(key, feedback.correct)


def _go_to(number: int, seed: int | None = None) -> None:
    old = st.session_state["pr_settings"]
    _use(PracticeSettings(old.seed if seed is None else seed, old.level, number, old.teacher))


settings = _load_settings()
score: Score = st.session_state.setdefault("pr_score", Score())
answers: dict = st.session_state.setdefault("pr_answers", {})

page_intro("Practice — predict the output",
           "Work it out on paper first, then type your answer. A wrong answer shows the formula with the question's "
           "numbers and the step you probably slipped on. The same seed and level give everyone the same questions.")
for notice in st.session_state.get("pr_notices", []):
    st.warning(f"Link setting not used — {notice}", icon=":material/warning:")

with st.container(horizontal=True, vertical_alignment="bottom"):
    st.selectbox("Level", sorted(LEVELS), key="w_pr_level", on_change=_on_set_change,
                 format_func=lambda n: f"{n}. {LEVELS[n][0]}", help="Harder levels add stride, stacks, dilation, …")
    st.number_input("Seed", 0, limits.MAX_PRACTICE_SEED, step=1, key="w_pr_seed", on_change=_on_set_change,
                    help="Everyone with the same seed and level gets the same questions in the same order")
    st.button("New set", icon=":material/casino:", on_click=_go_to, args=(1, new_seed()), key="w_pr_new_set",
              help="A fresh seed, from question 1")
    st.toggle("Teacher view", key="w_pr_teacher", on_change=_on_teacher,
              help="Every question with its answer: needs the teacher link of a live class (Live class page)")

settings = st.session_state["pr_settings"]
write_url_options("practice", settings.query())
seed, level, number = settings.seed, settings.level, settings.number
key, token = (seed, level, number), _token(settings)
question = question_at(seed, level, number)

phone = on_phone()  # a phone: the four numbers on one line, not four stacked rows above the question
cols = [st.container(horizontal=True)] * 4 if phone else st.columns(4)
cols[0].metric("Question", f"{number} / {SET_SIZE}")
cols[1].metric("Score", f"{score.right} / {score.answered}", help="first answers right / questions answered")
cols[2].metric("Streak", score.streak, help="right first answers in a row")
cols[3].metric("Best streak", score.best_streak)

st.subheader(f"Question {number} — level {level}: {LEVELS[level][0]}")
st.caption(LEVELS[level][1])
st.markdown(question.prompt)
st.code(question.code, language="python")

with st.form(f"pr_form_{token}"):
    if question.asks == "shape":
        # one box per dimension: L; H, W; or D, H, W (a phone: side by side too, where columns would stack)
        cols = [st.container(horizontal=True)] * len(question.shape_labels) if phone else \
            st.columns(len(question.shape_labels))
        for col, label in zip(cols, question.shape_labels):
            col.number_input(label, -100_000, 1_000_000, value=None, step=1, key=f"w_pr_{label}_{token}")
        st.checkbox("PyTorch rejects this (the layer fails)", key=f"w_pr_fails_{token}")
    else:
        st.number_input(question.number_label, -100_000, 100_000_000, value=None, step=1, key=f"w_pr_number_{token}")
    st.form_submit_button("Check my answer", type="primary", on_click=_check)

if key in answers:
    feedback = check_answer(question, answers[key])
    if not feedback.graded:
        st.warning(" ".join(feedback.messages), icon=":material/edit:")
    else:
        if feedback.correct is not score.first_answers.get(key, feedback.correct):
            st.caption("Only your first answer to a question counts toward the score.")
        if feedback.correct:
            st.success("**Right!** " + " ".join(feedback.messages), icon=":material/check_circle:")
        else:
            st.error("**Not quite.**  \n" + "  \n".join(feedback.messages), icon=":material/cancel:")
            if feedback.slips:
                st.markdown("**Probable slip:** you " + "; and you ".join(feedback.slips) + ".")
            else:
                st.markdown("**No single classic slip gives your number** — compare your steps with the formula.")
        if feedback.reason:
            st.info(f"**Why it fails — {feedback.reason}**", icon=":material/block:")
        worked_out = [w for w in feedback.worked if w.latex]
        if worked_out:
            with st.expander("The formula with this question's numbers", expanded=not feedback.correct):
                for worked in worked_out:
                    st.caption(f"`{worked.title}`")
                    for line in worked.latex:
                        st.latex(line)
        st.markdown("**Explore it:** " + " · ".join(
            f"{link.label}: [Shape Lab]({link.shape_lab}) · [Sweep]({link.sweep})" for link in question.links))

with st.container(horizontal=True):
    if number < SET_SIZE:
        st.button("Next question →", on_click=_go_to, args=(number + 1,), type="primary", key="w_pr_next")
    else:
        st.markdown(f"**Set finished:** {score.right} of {score.answered} right at the first try.")
        st.button("Next set →", on_click=_go_to, args=(1, (seed + 1) % (limits.MAX_PRACTICE_SEED + 1)), key="w_pr_next")
    if number > 1:
        st.button("← Previous", on_click=_go_to, args=(number - 1,), key="w_pr_prev")

# The class link keeps the mode flags (present=1) but never teacher=1: students would see every answer.
share_box(urlencode({"seed": seed, "level": level, **mode_flags()}), "this set, in the same order, for everyone",
          "Class link")

if settings.teacher and not shared_store().is_teacher(st.query_params.get("class"), st.query_params.get("key")):
    st.info("**The answers stay hidden.** The teacher view needs a teacher's link: start a class on the **Live class** "
            "page and open this set's answer key from there.", icon=":material/lock:")
elif settings.teacher:
    st.subheader(f"Teacher view — all answers, seed {seed}, level {level}")
    rows = [{"question": q.number, "asks for": q.number_label or ", ".join(q.shape_labels), "input → layers": q.summary,
             "answer": q.answer_text} for q in question_set(seed, level)]
    st.table(rows, hide_index=True)
