"""Practice in 1-D and 3-D (level 6): answers are real Conv1d/Conv3d outputs, the question code runs, the causal slips
are named, and every older level draws exactly the questions it drew before (teachers share seeds)."""

from __future__ import annotations

import hashlib

import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import limits
from conv_lab.core.spec import ConvSpec
from conv_lab.practice.check import Answer, check_answer, parse_settings
from conv_lab.practice.questions import LEVELS, MIX, question_at, question_set
from conv_lab.practice.slips import check_prediction

from conftest import n_examples

# sha256 of every question (levels 1-5, six seeds) as drawn on main before level 6 existed (commit 290e606)
LEVELS_1_TO_5_DIGEST = "3ca943a9102309c65cb459a1522c87dd05c73d718eccdbfbe345f6a4b8482d5c"
BOTH_SIDES = "padded both sides (causal padding is d·(k−1) on the left only)"
FORGOT = "forgot the causal padding (d·(k−1) zeros on the left)"


def test_levels_one_to_five_draw_exactly_the_questions_they_drew_before():
    digest = hashlib.sha256()
    for seed in (0, 1, 7, 42, 2024, 99999):
        for level in range(1, 6):
            for q in question_set(seed, level):
                digest.update(f"{q.seed}|{q.level}|{q.number}|{q.kind}|{q.summary}|{q.answer_text}|{q.code}\n".encode())
    assert digest.hexdigest() == LEVELS_1_TO_5_DIGEST
    assert all(q.layers[-1].dims == 2 for level in range(1, 6) for q in question_set(3, level))


def _runs(q) -> tuple[int, ...]:
    """The question's code as printed, run with real torch: the shape it prints (raises when the layer fails)."""
    scope = {"torch": torch, "nn": nn, "F": F}
    exec(q.code.replace("print(x.shape)", "out = x.shape").replace("print(y.shape)", "out = y.shape"), scope)
    return tuple(scope["out"])


@settings(max_examples=n_examples(60, 10))  # × 20 questions each
@given(st.integers(0, limits.MAX_PRACTICE_SEED))
def test_level_six_answers_are_what_the_printed_torch_code_gives(seed):
    for q in question_set(seed, 6):
        assert q.layers[-1].dims in (1, 3) and len(q.shape_labels) == q.layers[-1].dims + 1
        if q.kind == "params":
            layer = q.layers[0]
            module = getattr(nn, f"Conv{layer.dims}d")(layer.in_channels, layer.out_channels, layer.kernel_size,
                                                       bias=layer.bias)
            assert sum(p.numel() for p in module.parameters()) == q.answer_number
            assert check_answer(q, Answer(number=q.answer_number)).correct
            continue
        if q.fails:
            try:
                _runs(q)
            except (RuntimeError, ValueError):
                continue
            raise AssertionError(f"torch ran {q.summary}, which the question says fails")
        assert _runs(q) == (1, *q.answer_shape)
        assert check_answer(q, Answer(shape=q.answer_shape)).correct
        c, first, *rest = q.answer_shape
        assert not check_answer(q, Answer(shape=(c, first + 2, *rest))).correct


def test_level_six_mixes_1d_causal_and_3d_questions_of_every_promised_kind():
    seen, dims, causal = set(), set(), 0
    for seed in range(15):
        for q in question_set(seed, 6):
            seen.add((q.kind, q.fails))
            dims.add(q.layers[-1].dims)
            causal += q.layers[0].padding == "causal"
    assert seen == {(kind, fails) for kind, fails, _ in MIX[6]} and dims == {1, 3} and causal >= 30
    assert 6 in LEVELS and parse_settings({"level": "6"}, 1)[0].level == 6


@settings(max_examples=n_examples(200))
@given(st.integers(1, 400), st.integers(1, 8), st.integers(1, 8), st.integers(1, 3))
def test_the_causal_slips_are_recognised(length, k, d, stride):
    spec = ConvSpec(1, 4, k, stride, "causal", d, dims=1)
    pad = d * (k - 1)
    x = F.pad(torch.zeros(1, 1, length), (pad, 0))
    real = nn.Conv1d(1, 4, k, stride, dilation=d)(x).shape[-1]
    assert check_prediction(spec, (1, 1, length), (4, real)).correct
    both = (length + 2 * pad - pad - 1) // stride + 1  # d·(k−1) zeros on each side
    if both != real:
        verdict = check_prediction(spec, (1, 1, length), (4, both))
        assert not verdict.correct and verdict.slips == (BOTH_SIDES,)
    forgot = (length - pad - 1) // stride + 1
    if forgot != real and forgot != both:
        assert FORGOT in check_prediction(spec, (1, 1, length), (4, forgot)).slips


def test_a_causal_question_names_the_slip_in_its_feedback():
    q = next(q for seed in range(50) for q in question_set(seed, 6)
             if q.kind == "shape" and not q.fails and q.layers[0].padding == "causal" and q.layers[0].stride == (1,))
    (length,), pad = q.layers[0].input_size, q.layers[0].dilation[0] * (q.layers[0].kernel_size[0] - 1)
    feedback = check_answer(q, Answer(shape=(q.answer_shape[0], length + pad)))
    assert not feedback.correct and feedback.slips == (BOTH_SIDES,)
    assert "L_out: you said" in " ".join(feedback.messages) and feedback.worked[0].latex
    incomplete = check_answer(q, Answer(shape=(q.answer_shape[0], None)))
    assert not incomplete.graded and incomplete.messages == ("Enter C_out and L_out — or tick “PyTorch rejects "
                                                             "this”.",)
    assert "F.pad(x, (layer.dilation[0] * (layer.kernel_size[0] - 1), 0))" in q.code
    assert q.summary.endswith(f"after F.pad(x, ({pad}, 0))")


def test_3d_questions_ask_for_depth_height_and_width():
    q = next(q for seed in range(50) for q in question_set(seed, 6) if q.layers[-1].dims == 3 and q.asks == "shape")
    assert q.shape_labels == ("C_out", "D_out", "H_out", "W_out")
    assert "Enter C_out, D_out, H_out and W_out" in q.prompt and "nn.Conv3d(" in q.code
    assert question_at(q.seed, 6, q.number) is q
