"""Live class: the teacher asks, every student answers on their own device, the projector shows what the class thinks."""

from __future__ import annotations

import streamlit as st

from conv_lab import limits
from conv_lab.classroom import WRONG_KEY, ClassroomError, default_hours, display_code, shared_store
from conv_lab.classroom import questions as cq
from conv_lab.classroom.qr import qr_png
from conv_lab.lab.presets import PRESET_BY_NAME, PRESETS
from conv_lab.practice.questions import LEVELS
from ui import current_config, require_entry
from ui.share import page_url

require_entry()
store = shared_store()
REFRESH = limits.CLASS_REFRESH_SECONDS
SHAPE_LAB_NOW = "The layer on the Shape Lab now"


def _start() -> None:
    try:
        st.query_params.from_dict(dict(zip(("class", "key"), store.create_class())))
    except ClassroomError as exc:
        st.session_state["cl_msg"] = str(exc)


def _join() -> None:
    code, nickname = st.session_state.get("w_cl_code", ""), st.session_state.get("w_cl_nick", "")
    try:
        student = store.join(code, nickname)
        st.query_params.from_dict({"join": store.state(code).code, "me": student})
    except ClassroomError as exc:
        st.session_state["cl_msg"] = str(exc)


def _ask(code: str, key: str) -> None:
    state = st.session_state
    try:
        if state["w_cl_kind"] == "Practice question":
            qid = cq.practice_question_id(state["w_cl_seed"] or 0, state["w_cl_level"], state["w_cl_n"])
        else:
            chosen = state["w_cl_layer"]
            qid = cq.lab_question_id(current_config() if chosen == SHAPE_LAB_NOW else PRESET_BY_NAME[chosen].config)
        cq.load_question(qid)  # refuses a layer that cannot run before the class sees it
        store.set_question(code, key, qid)
    except (ClassroomError, PermissionError) as exc:
        state["cl_msg"] = str(exc)


def _send(code: str, student: str, qid: str, labels: tuple[str, ...]) -> None:
    state = st.session_state
    answer = cq.encode_answer(tuple(state.get(f"w_cl_{qid}_{label}") for label in labels), bool(state.get(f"w_cl_{qid}_f")))
    if answer is None:
        state["cl_msg"] = f"Fill in {', '.join(labels)} first."
        return
    try:
        if not store.submit(code, student, qid, answer):
            state["cl_msg"] = "The teacher has revealed this question: answers are closed."
    except ClassroomError as exc:
        state["cl_msg"] = str(exc)


def _message() -> None:
    if msg := st.session_state.pop("cl_msg", None):
        st.warning(msg, icon=":material/info:")  # what a callback could not do, in plain words


def landing() -> None:
    st.title("Live class")
    st.caption("The teacher starts a class and projects its code; students join on their own devices, answer, and "
               "the projector shows what the class thinks, grouped by the slip behind each wrong answer.")
    _message()
    join, teach = st.columns(2, gap="large")
    with join.form("cl_join"):
        st.subheader("Join a class")
        st.text_input("Class code", value=st.query_params.get("join", ""), key="w_cl_code", max_chars=16,
                      placeholder="e.g. KXM-47R")
        st.text_input("Nickname (optional)", key="w_cl_nick", max_chars=limits.MAX_NICKNAME_CHARS)
        st.form_submit_button("Join", type="primary", on_click=_join)
    teach.subheader("Teach")
    teach.markdown(f"Start a class: you get a join code, a QR code and your private teacher link. It ends after "
                   f"{default_hours():g} hours.")
    teach.button("Start a class", on_click=_start, icon=":material/co_present:")


@st.fragment(run_every=REFRESH)
def live_tally(code: str, key: str) -> None:
    """The projector: the question, how many answered, the histogram by slip, and Reveal (refreshes itself)."""
    try:
        state = store.state(code)
        if not state.question:
            st.info("Pick the first question above: it appears on every student's page.", icon=":material/quiz:")
            return
        question = cq.load_question(state.question)
        tally = store.tally(code, key, state.question)
    except (ClassroomError, PermissionError) as exc:
        st.error(str(exc))
        return
    answered = sum(tally.values())
    st.subheader(question.title)
    st.markdown(question.prompt)
    st.code(question.code, language="python", wrap_lines=True)
    st.metric("Answered", f"{answered} of {state.students} joined")
    for group in cq.group_tally(question, tally):
        mark = ":green[:material/check_circle:]" if group.right else ":orange[:material/error:]"
        st.markdown(f"{mark} **{group.label}** — {group.count} ({group.count / answered:.0%})")
        st.progress(group.count / answered, text=" · ".join(f"`{a}` ×{n}" for a, n in group.answers))
    if state.revealed:
        st.success(f"**Revealed — the real PyTorch result:** `{cq.reveal(question).headline}`",
                   icon=":material/visibility:")
    else:
        st.button("Reveal", type="primary", icon=":material/visibility:", key="w_cl_reveal",
                  on_click=lambda: store.reveal(code, key, state.question))
    if question.practice:
        q = question.practice
        st.markdown(f"[Practice answer key for this set]({page_url().rsplit('/', 1)[0]}/practice?seed={q.seed}"
                    f"&level={q.level}&n={q.number}&teacher=1&class={code}&key={key}) (teacher link)")


def teacher(code: str, key: str) -> None:
    join_url = f"{page_url()}?join={code}"
    st.title(f"Live class — {display_code(code)}")
    qr, info = st.columns([1, 3], gap="large")
    qr.image(qr_png(join_url), caption="Scan to join", width=220)
    info.markdown(f"### Code: `{display_code(code)}`\nJoin at **{join_url}**")
    with info.expander("Private teacher link (do not project: anyone with it sees the answers)"):
        st.code(f"{page_url()}?class={code}&key={key}", language="text")
    _message()
    with st.container(border=True):
        kind = st.segmented_control("Ask", ["Shape Lab layer", "Practice question"], key="w_cl_kind",
                                    default="Shape Lab layer")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            if kind == "Practice question":
                st.number_input("Seed", 0, limits.MAX_PRACTICE_SEED, 42, key="w_cl_seed")
                st.selectbox("Level", sorted(LEVELS), key="w_cl_level", format_func=lambda n: f"{n}. {LEVELS[n][0]}")
                st.number_input("Question", 1, limits.PRACTICE_SET_SIZE, 1, key="w_cl_n")
            else:
                st.selectbox("Layer (predict first)", [SHAPE_LAB_NOW, *(p.name for p in PRESETS)], key="w_cl_layer")
            st.button("Show to the class", type="primary", on_click=_ask, args=(code, key), key="w_cl_ask")
    live_tally(code, key)


@st.fragment(run_every=REFRESH)
def watch(code: str, seen: tuple[str, bool]) -> None:
    """A student's page reruns when the teacher changes the question or reveals it."""
    try:
        state = store.state(code)
    except ClassroomError:  # ended: the next full run says so
        state = None
    if state is None or (state.question, state.revealed) != seen:
        st.rerun()


def student(code: str, me: str) -> None:
    try:
        state, nickname = store.state(code), store.nickname_of(code, me)
    except ClassroomError as exc:
        st.error(str(exc))
        landing()
        return
    st.title(f"Live class {display_code(state.code)}" + (f" — {nickname}" if nickname else ""))
    watch(state.code, (state.question, state.revealed))
    if not state.question:
        st.info("You are in. Waiting for the teacher's first question…", icon=":material/hourglass_top:")
        return
    question, qid = cq.load_question(state.question), state.question
    st.subheader(question.title)
    st.markdown(question.prompt)
    st.code(question.code, language="python", wrap_lines=True)
    mine = store.answer_of(state.code, me, qid)
    _message()
    if state.revealed:
        st.success(f"**The real PyTorch result:** `{cq.reveal(question).headline}`", icon=":material/visibility:")
        if mine:
            slip = cq.diagnose(question, mine)
            says = "right!" if slip == cq.RIGHT else f"not quite — you probably {slip}."
            st.markdown(f"Your answer `{mine}` is {says}")
        return
    with st.form(f"cl_answer_{qid}"):
        for col, label in zip(st.columns(len(question.labels)), question.labels):
            col.number_input(label, -100_000, 100_000_000, value=None, step=1, key=f"w_cl_{qid}_{label}")
        if question.can_fail:
            st.checkbox("PyTorch rejects this (the layer fails)", key=f"w_cl_{qid}_f")
        st.form_submit_button("Send my answer", type="primary", on_click=_send, args=(state.code, me, qid, question.labels))
    if mine:
        st.info(f"Your answer: **{mine}** — you can change it until the teacher reveals.", icon=":material/how_to_vote:")


params = st.query_params
if "class" in params:
    if store.is_teacher(params.get("class"), params.get("key")):
        teacher(store.state(params["class"]).code, params["key"])
    else:
        st.title("Live class")
        st.warning(WRONG_KEY, icon=":material/lock:")
elif "join" in params and "me" in params:
    student(params["join"], params["me"])
else:
    landing()
