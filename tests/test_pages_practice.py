"""The Practice page in AppTest: answers right and wrong, the slip named, seeds in the URL, teacher view, bad links."""

from __future__ import annotations

import pytest

from conv_lab import limits
from conv_lab.classroom import shared_store
from conv_lab.core.state import share_query_string
from conv_lab.practice.questions import question_at, question_set

from conftest import run_app, shown_code

PAGE = "pages/practice.py"


def find(level, predicate):
    """(seed, number) of the first question of `level` matching `predicate`, scanning seeds in order."""
    for seed in range(300):
        for q in question_set(seed, level):
            if predicate(q):
                return q
    raise AssertionError("no such question")


def open_question(q, **extra):
    query = {"seed": str(q.seed), "level": str(q.level), "n": str(q.number), **extra}
    at = run_app(PAGE, query)
    assert not at.exception, [e.value for e in at.exception]
    return at


def token(q):
    return f"{q.seed}_{q.level}_{q.number}"


def answer_shape(at, q, shape=None, fails=False):
    t = token(q)
    if shape is not None:
        for label, value in zip(q.shape_labels, shape):
            at.number_input(key=f"w_pr_{label}_{t}").set_value(value)
    if fails:
        at.checkbox(key=f"w_pr_fails_{t}").check()
    return submit(at, q)


def answer_number(at, q, value):
    at.number_input(key=f"w_pr_number_{token(q)}").set_value(value)
    return submit(at, q)


def submit(at, q):
    at.button(key=f"FormSubmitter:pr_form_{token(q)}-Check my answer").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metrics(at):
    return {m.label: m.value for m in at.metric}


def texts(at):
    return "\n".join([*(e.value for e in at.error), *(s.value for s in at.success), *(m.value for m in at.markdown),
                      *(i.value for i in at.info), *(w.value for w in at.warning), *(c.value for c in at.caption)])


def test_the_seed_in_the_url_gives_the_same_questions_in_the_same_order():
    at = run_app(PAGE, {"seed": "42", "level": "2"})
    assert not at.exception
    assert at.code[0].value == question_at(42, 2, 1).code
    assert (at.query_params["seed"], at.query_params["level"], at.query_params["n"]) == ("42", "2", "1")
    at.button(key="w_pr_next").click().run()
    assert at.code[0].value == question_at(42, 2, 2).code and at.query_params["n"] == "2"
    again = run_app(PAGE, {"seed": "42", "level": "2", "n": "2"})
    assert again.code[0].value == question_at(42, 2, 2).code
    at.button(key="w_pr_prev").click().run()
    assert at.code[0].value == question_at(42, 2, 1).code


def test_a_right_answer_scores_and_builds_a_streak():
    q = find(1, lambda q: not q.fails and q.number == 1)
    at = answer_shape(open_question(q), q, q.answer_shape)
    assert at.success and "Right" in at.success[0].value
    assert metrics(at)["Score"] == "1 / 1" and metrics(at)["Streak"] == "1"
    at.button(key="w_pr_next").click().run()
    nxt = question_at(q.seed, q.level, 2)
    at = answer_shape(at, nxt, nxt.answer_shape, fails=nxt.fails) if not nxt.fails else answer_shape(at, nxt, fails=True)
    assert metrics(at)["Score"] == "2 / 2" and metrics(at)["Streak"] == "2" and metrics(at)["Best streak"] == "2"


def test_a_wrong_answer_shows_the_slip_the_formula_and_links_to_the_lab():
    q = find(2, lambda q: q.kind == "shape" and not q.fails and isinstance(q.layers[0].padding, tuple)
             and q.layers[0].padding[0] > 0)
    c, h, w = q.answer_shape
    at = answer_shape(open_question(q), q, (c, h - 2 * q.layers[0].padding[0], w))
    assert "forgot the padding" in at.error[0].value
    assert "Probable slip:** you forgot the padding" in texts(at)
    assert any(str(q.layers[0].height) in line.value and "2p" in line.value for line in at.latex)
    links = "\n".join(m.value for m in at.markdown)
    query = share_query_string(q.layers[0])
    assert f"(/?{query})" in links and f"(/sweep?{query})" in links
    assert metrics(at)["Score"] == "0 / 1" and metrics(at)["Streak"] == "0"
    at = answer_shape(at, q, q.answer_shape)  # a second try is graded but does not change the score
    assert at.success and metrics(at)["Score"] == "0 / 1"
    assert "Only your first answer" in texts(at)


def test_an_impossible_layer_is_answered_with_fails_and_the_reason_is_shown():
    q = find(1, lambda q: q.fails)
    at = answer_shape(open_question(q), q, (8, 1, 1))
    assert "PyTorch rejects this layer" in at.error[0].value
    assert "kernel fits inside the padded input" in at.error[0].value
    assert q.failure_why in at.info[0].value
    at = answer_shape(at, q, fails=True)
    assert at.success and "rejects" in at.success[0].value


def test_number_questions_parameters_padding_stride():
    q = find(4, lambda q: q.kind == "params" and q.layers[0].bias)
    at = answer_number(open_question(q), q, q.answer_number - q.layers[0].out_channels)
    assert "forgot the bias" in at.error[0].value
    assert any(r"\mathrm{params}" in line.value for line in at.latex)
    q = find(2, lambda q: q.kind == "keep_padding")
    at = answer_number(open_question(q), q, q.answer_number)
    assert at.success
    q = find(3, lambda q: q.kind == "stride_for")
    at = answer_number(open_question(q), q, q.answer_number + 1)
    assert f"the answer is {q.answer_number}" in at.error[0].value


def test_an_incomplete_answer_is_not_graded():
    q = find(1, lambda q: not q.fails)
    at = open_question(q)
    at.number_input(key=f"w_pr_C_out_{token(q)}").set_value(q.answer_shape[0])
    at = submit(at, q)
    assert "Enter C_out, H_out and W_out" in at.warning[0].value and metrics(at)["Score"] == "0 / 0"


def teacher_link() -> dict[str, str]:
    """The class and key of a live class started for the test (the teacher view needs them)."""
    code, key = shared_store().create_class()
    return {"class": code, "key": key}


def test_teacher_view_shows_every_answer_of_the_set():
    at = run_app(PAGE, {"seed": "7", "level": "5", "teacher": "1", **teacher_link()})
    assert not at.exception and at.toggle(key="w_pr_teacher").value
    table = at.table[0].value
    assert len(table) == limits.PRACTICE_SET_SIZE
    assert list(table["answer"]) == [q.answer_text for q in question_set(7, 5)]
    at.toggle(key="w_pr_teacher").set_value(False).run()
    assert not at.table and "teacher" not in at.query_params
    at.toggle(key="w_pr_teacher").set_value(True).run()
    assert at.table and at.query_params["teacher"] == "1"


@pytest.mark.parametrize("access", [{}, {"key": "guess"}, {"class": "KXM47R", "key": "x" * 32},
                                    {"class": "'; DROP TABLE classes;--", "key": "' OR 1=1"}, "other class's key",
                                    "right key, other class", "key alone"])
def test_teacher_view_without_the_teacher_key_shows_no_answer(access):
    link, other = teacher_link(), teacher_link()
    if access == "other class's key":
        access = {"class": link["class"], "key": other["key"]}
    elif access == "right key, other class":
        access = {"class": other["class"], "key": link["key"][:-1] + "A"}
    elif access == "key alone":
        access = {"key": link["key"]}
    at = run_app(PAGE, {"seed": "7", "level": "5", "teacher": "1", **access})
    assert not at.exception and not at.table and at.toggle(key="w_pr_teacher").value
    assert any("answers stay hidden" in i.value for i in at.info)
    page_text = " ".join(str(e.value) for e in (*at.markdown, *at.caption, *at.info, *at.subheader))
    assert all(q.answer_text not in page_text for q in question_set(7, 5) if q.number > 1)


def test_level_and_seed_controls_restart_the_set():
    at = run_app(PAGE, {"seed": "3", "level": "1", "n": "5"})
    at.selectbox(key="w_pr_level").set_value(4).run()
    assert at.query_params["level"] == "4" and at.query_params["n"] == "1"
    assert at.code[0].value == question_at(3, 4, 1).code
    at.number_input(key="w_pr_seed").set_value(99).run()
    assert at.query_params["seed"] == "99" and at.code[0].value == question_at(99, 4, 1).code
    at.button(key="w_pr_new_set").click().run()
    seed = int(at.query_params["seed"])
    assert seed != 99 and at.query_params["n"] == "1" and at.number_input(key="w_pr_seed").value == seed
    assert at.code[0].value == question_at(seed, 4, 1).code


def test_leaving_for_the_shape_lab_and_coming_back_keeps_the_place_in_the_set():
    at = run_app(PAGE, {"seed": "42", "level": "3", "n": "4"})
    at.switch_page("pages/shape_lab.py").run()
    for key in list(at.query_params):
        del at.query_params[key]
    at.switch_page(PAGE).run()
    assert not at.exception and at.code[0].value == question_at(42, 3, 4).code
    assert (at.query_params["seed"], at.query_params["n"]) == ("42", "4")


def test_the_last_question_offers_the_next_set():
    at = run_app(PAGE, {"seed": "5", "level": "1", "n": str(limits.PRACTICE_SET_SIZE)})
    assert "Set finished" in texts(at)
    at.button(key="w_pr_next").click().run()
    assert at.query_params["seed"] == "6" and at.query_params["n"] == "1"


@pytest.mark.parametrize("query, fragment", [
    ({"seed": "banana", "level": "2"}, "seed='banana' is not a whole number"),
    ({"seed": "42", "level": "99"}, "level=99 must be between 1 and 6"),
    ({"seed": "42", "level": "x"}, "level='x' is not a whole number"),
    ({"seed": "-4", "n": "0"}, "seed=-4 must be between 0"),
    ({"seed": "1", "n": "500"}, f"n=500 must be between 1 and {limits.PRACTICE_SET_SIZE}"),
    ({"seed": "9" * 250}, "characters long"),
])
def test_bad_values_in_the_url_give_a_notice_not_a_crash(query, fragment):
    at = run_app(PAGE, query)
    assert not at.exception
    assert any(fragment in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.code and at.form  # still a question to answer


def test_the_class_link_opens_the_same_set_from_question_one():
    at = run_app(PAGE, {"seed": "42", "level": "2", "n": "5"})
    links = [c for c in shown_code(at) if "seed=" in c]
    assert links and links[-1].endswith("?seed=42&level=2"), links
    assert any("Class link" in m.value for m in at.markdown)


def test_a_1d_causal_question_has_one_box_for_the_length_and_names_the_causal_slip():
    q = find(6, lambda q: q.kind == "shape" and not q.fails and q.layers[0].padding == "causal"
             and q.layers[0].stride == (1,))
    at = open_question(q)
    t = token(q)
    assert [n.label for n in at.number_input if n.key.endswith(t)] == ["C_out", "L_out"]
    assert "Enter C_out and L_out" in texts(at) and any("nn.Conv1d(" in c.value for c in at.code)
    (length,), layer = q.layers[0].input_size, q.layers[0]
    both_sides = length + layer.dilation[0] * (layer.kernel_size[0] - 1)
    answer_shape(at, q, (q.answer_shape[0], both_sides))
    assert "padded both sides (causal padding is d·(k−1) on the left only)" in texts(at)
    assert metrics(at)["Score"] == "0 / 1"


def test_a_3d_question_has_depth_height_and_width_boxes_and_grades_right():
    q = find(6, lambda q: q.kind == "shape" and not q.fails and q.layers[-1].dims == 3)
    at = open_question(q)
    t = token(q)
    assert [n.label for n in at.number_input if n.key.endswith(t)] == ["C_out", "D_out", "H_out", "W_out"]
    answer_shape(at, q, q.answer_shape)
    assert any("Right!" in s.value for s in at.success) and metrics(at)["Score"] == "1 / 1"


def test_level_six_teacher_view_lists_every_answer():
    at = run_app(PAGE, {"seed": "5", "level": "6", "teacher": "1", **teacher_link()})
    assert not at.exception
    rows = at.table[0].value
    assert len(rows) == limits.PRACTICE_SET_SIZE
    assert {"C_out, L_out", "C_out, D_out, H_out, W_out"} & set(rows["asks for"])
