"""Class questions: ids, answers as text, the slip behind each wrong answer, and the reveal (torch is the oracle)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from conv_lab import limits
from conv_lab.classroom import ClassroomError
from conv_lab.classroom.codes import clean_answer, clean_question
from conv_lab.classroom.questions import (
    FAILS,
    NO_SLIP,
    RIGHT,
    UNREADABLE,
    diagnose,
    encode_answer,
    group_tally,
    lab_question_id,
    load_question,
    practice_question_id,
    reveal,
)
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.state import LabConfig
from conv_lab.core.torch_run import build_module, run_layer
from conv_lab.practice.check import Answer, check_answer
from conv_lab.practice.questions import LEVELS, question_at

from conftest import n_examples

layers = st.builds(
    lambda dims, c, size, f, k, s, p, d, t: LabConfig(
        c, size[1] if dims > 1 else 1, size[-1], f, (k,) * dims, (s,) * dims, (p,) * dims, dilation=(d,) * dims,
        transposed=t, dims=dims, depth=size[0] if dims == 3 else 1),
    st.sampled_from([1, 2, 3]), st.integers(1, 4), st.tuples(st.integers(4, 12), st.integers(4, 12), st.integers(4, 20)),
    st.integers(1, 8), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2), st.booleans())


@settings(max_examples=n_examples(150, 30))
@given(layers)
def test_a_shape_lab_question_reveals_what_the_real_module_gives(config):
    try:
        config.spec()
    except ConvConfigError:
        assume(False)
    qid = lab_question_id(config)
    assert clean_question(qid) == qid
    try:
        question = load_question(qid)
    except ClassroomError:  # the layer cannot run: the formula and torch both refuse it
        with pytest.raises((ConvConfigError, RuntimeError)):
            spec = config.spec()
            spec.explain(config.input_shape())
            run_layer(spec, build_module(spec), torch.zeros(config.input_shape()))
        return
    spec = question.config.spec()
    real = tuple(run_layer(spec, build_module(spec), torch.zeros(config.input_shape())).shape)
    result = reveal(question)
    assert result.headline == f"torch.Size({list(real)})"
    assert result.answer == encode_answer(real[1:]) and clean_answer(result.answer) == result.answer
    assert diagnose(question, result.answer) == RIGHT
    wrong = encode_answer((real[1], *(v + 1 for v in real[2:])))
    assert diagnose(question, wrong) != RIGHT
    groups = group_tally(question, {result.answer: 3, wrong: 2, "nonsense": 1})
    assert sum(g.count for g in groups) == 6 and [g for g in groups if g.right][0].count == 3
    assert any(g.label == UNREADABLE for g in groups)


@settings(max_examples=n_examples(120, 30))
@given(st.integers(0, limits.MAX_PRACTICE_SEED), st.sampled_from(sorted(LEVELS)),
       st.integers(1, limits.PRACTICE_SET_SIZE))
def test_a_practice_question_is_graded_as_the_practice_page_grades_it(seed, level, number):
    question = load_question(practice_question_id(seed, level, number))
    q = question_at(seed, level, number)
    result = reveal(question)
    assert diagnose(question, result.answer) == RIGHT
    if q.fails:
        assert result.answer == FAILS and q.failure_param in result.headline
    elif q.asks == "shape":
        assert result.answer == encode_answer(q.answer_shape)
        wrong = (q.answer_shape[0], *(v - 1 for v in q.answer_shape[1:]))
        feedback = check_answer(q, Answer(shape=wrong))
        label = diagnose(question, encode_answer(wrong))
        assert label == ("; ".join(feedback.slips) or NO_SLIP)
    else:
        assert result.answer == str(q.answer_number)
        feedback = check_answer(q, Answer(number=q.answer_number + 1))
        assert diagnose(question, str(q.answer_number + 1)) == ("; ".join(feedback.slips) or NO_SLIP)


def test_the_slip_is_named_as_on_the_shape_lab():
    q = load_question("lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=1")
    assert diagnose(q, "16×30×30") == "forgot the padding"
    assert diagnose(q, "16x32x32") == RIGHT  # typed with an x
    assert diagnose(q, "3×32×32") == "took the input channels for C_out"
    assert diagnose(q, FAILS) == UNREADABLE


@given(st.text(max_size=80))
@example("²")  # Unicode digits pass isdigit() but not int() (found by CI)
@example("16×3²×30")
@example("١٦×30×30")
def test_any_stored_answer_is_diagnosed_without_raising(text):
    for qid in ("lab:input=3x32x32&filters=16&kernel=3&stride=1&padding=1", "practice:42:4:2", "practice:5:6:3"):
        assert isinstance(diagnose(load_question(qid), text), str)


@pytest.mark.parametrize("qid", ["", "lab:", "lab:input=3x99999x99999", "lab:kernel=99", "lab:input=3x8x8&kernel=9",
                                 "practice:1:9:1", "practice:-1:1:1", "practice:1:1:21", "practice:a:b:c",
                                 "practice:99999999999:1:1", "practice:1:1", "quiz:1", "lab:" + "a=1&" * 5000,
                                 "lab:input=256x256x256&filters=1024&kernel=3"])
def test_bad_question_ids_give_a_plain_error(qid):
    with pytest.raises(ClassroomError) as info:
        load_question(qid)
    assert len(str(info.value)) < 300 and "Traceback" not in str(info.value)


def test_encode_answer():
    assert encode_answer((8, 30)) == "8×30" and encode_answer((1_234,)) == "1234"
    assert encode_answer((None,)) is None and encode_answer(()) is None and encode_answer((None,), True) == FAILS
