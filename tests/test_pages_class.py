"""The Live class page in AppTest: start, ask, answer, tally by slip, reveal; no answer without the teacher key."""

from __future__ import annotations

import pytest

from conv_lab.classroom import WRONG_KEY, shared_store
from conv_lab.classroom.questions import lab_question_id, practice_question_id
from conv_lab.lab.presets import PRESET_BY_NAME
from conv_lab.practice.questions import question_at

from conftest import run_app

PAGE = "pages/class.py"
HALVE = PRESET_BY_NAME["Halve with stride 2"].config  # 3×32×32 → 64×16×16


def page_text(at) -> str:
    return " ".join(str(e.value) for kind in ("markdown", "caption", "info", "success", "warning", "error", "subheader",
                                              "title", "code") for e in getattr(at, kind))


def start_class():
    at = run_app(PAGE)
    assert not at.exception and "Start a class" in [b.label for b in at.button]
    next(b for b in at.button if b.label == "Start a class").click().run()
    assert not at.exception
    return at, at.query_params["class"], at.query_params["key"]


def test_a_teacher_starts_a_class_and_asks_a_shape_lab_layer():
    at, code, key = start_class()
    assert f"{code[:3]}-{code[3:]}" in at.title[0].value and shared_store().is_teacher(code, key)
    assert [img.proto.imgs[0].caption for img in at.get("image")] == ["Scan to join"]  # the QR code
    at.selectbox(key="w_cl_layer").set_value("Halve with stride 2").run()
    at.button(key="w_cl_ask").click().run()
    assert shared_store().state(code).question == lab_question_id(HALVE)
    assert "Answered" in [m.label for m in at.metric] and "0 of 0 joined" in [m.value for m in at.metric]


def student_page(code: str, nickname: str = ""):
    student = shared_store().join(code, nickname)
    return run_app(PAGE, {"join": code, "me": student}), student


def answer(at, qid: str, values, labels=("C_out", "H_out", "W_out")):
    for label, value in zip(labels, values):
        at.number_input(key=f"w_cl_{qid}_{label}").set_value(value)
    next(b for b in at.button if b.label == "Send my answer").click().run()
    assert not at.exception
    return at


def test_students_answer_the_teacher_sees_slips_and_reveals():
    teacher, code, key = start_class()
    waiting, _ = student_page(code, "Ada")
    assert "Waiting for the teacher" in page_text(waiting) and "Ada" in waiting.title[0].value
    teacher.selectbox(key="w_cl_layer").set_value("Halve with stride 2").run()
    teacher.button(key="w_cl_ask").click().run()
    qid = lab_question_id(HALVE)
    answers = [(64, 16, 16), (64, 15, 15), (64, 15, 15), (3, 16, 16)]
    students = []
    for values in answers:
        at, student = student_page(code)
        answer(at, qid, values)
        assert f"Your answer: **{'×'.join(map(str, values))}**" in page_text(at)
        students.append((at, student))
    answer(students[3][0], qid, (64, 16, 16))  # changed their mind: the latest answer counts
    teacher.run()
    text = page_text(teacher)
    assert "Right** — 2 (50%)" in text and "forgot the padding** — 2 (50%)" in text
    assert "4 of 5 joined" in [m.value for m in teacher.metric]
    teacher.button(key="w_cl_reveal").click().run()
    assert shared_store().state(code).revealed and "torch.Size([1, 64, 16, 16])" in page_text(teacher)
    at, _ = students[1]
    at.run()
    text = page_text(at)
    assert "torch.Size([1, 64, 16, 16])" in text and "you probably forgot the padding" in text
    assert "Send my answer" not in [b.label for b in at.button]  # closed after the reveal


def test_a_practice_question_goes_to_the_class():
    teacher, code, key = start_class()
    teacher.segmented_control(key="w_cl_kind").set_value("Practice question").run()
    teacher.number_input(key="w_cl_seed").set_value(42).run()
    teacher.button(key="w_cl_ask").click().run()
    qid = practice_question_id(42, 1, 1)
    assert shared_store().state(code).question == qid
    q = question_at(42, 1, 1)
    at, _ = student_page(code)
    assert q.code in [c.value for c in at.code]
    assert f"teacher=1&class={code}&key={key}" in page_text(teacher)  # the answer key, for the teacher only
    assert "teacher=1" not in page_text(at)


@pytest.mark.parametrize("query", [{"class": "?"}, {"class": "KXM47R", "key": "x"}, {"teacher": "1"},
                                   {"class": "'; DROP TABLE classes;--", "key": "' OR '1'='1"}, "guessed key",
                                   "key alone", {"join": "x" * 5000, "me": "\x00"}, {"join": "KXM47R", "me": "a;b"}])
def test_without_the_teacher_key_no_answer_is_shown(query):
    teacher, code, key = start_class()
    shared_store().set_question(code, key, lab_question_id(HALVE))
    shared_store().submit(code, "ann", lab_question_id(HALVE), "64×17×17")
    if query == "guessed key":
        query = {"class": code, "key": key[:-2] + "AA" if not key.endswith("AA") else key[:-2] + "BB"}
    elif query == "key alone":
        query = {"key": key, "teacher": "1"}
    at = run_app(PAGE, query)
    assert not at.exception
    text = page_text(at)
    assert "64×17×17" not in text and "Answered" not in [m.label for m in at.metric]
    assert "Reveal" not in [b.label for b in at.button]
    if "class" in query:
        assert WRONG_KEY in text


def test_an_ended_class_says_so_plainly():
    at = run_app(PAGE, {"join": "KXM47R", "me": "abc"})
    assert not at.exception and any("No class is running" in e.value for e in at.error)
