"""Practice questions: every answer checked against the real torch module; seeds reproduce; slips are named."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from urllib.parse import parse_qsl

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import limits
from conv_lab.core.state import LabConfig, parse_query
from conv_lab.practice.check import Answer, PracticeSettings, Score, check_answer, parse_settings
from conv_lab.practice.questions import LEVELS, MIX, question_at, question_set

from conftest import ROOT, n_examples

seeds = st.integers(0, limits.MAX_PRACTICE_SEED)
levels = st.sampled_from(sorted(LEVELS))
numbers = st.integers(1, limits.PRACTICE_SET_SIZE)


def torch_layer(config: LabConfig, **override) -> nn.Module:
    """The torch module (nn.Conv1d/2d/3d, nn.ConvTranspose…) for a LabConfig, built straight from its fields (not
    through conv_lab); a causal layer is the conv with padding 0 (`run` pads the left)."""
    kwargs = dict(kernel_size=config.kernel_size, stride=config.stride,
                  padding=0 if config.padding == "causal" else config.padding,
                  dilation=config.dilation, groups=config.groups, bias=config.bias)
    kwargs.update(override)
    if config.transposed:
        return getattr(nn, f"ConvTranspose{config.dims}d")(config.in_channels, config.out_channels,
                                                           output_padding=config.output_padding, **kwargs)
    return getattr(nn, f"Conv{config.dims}d")(config.in_channels, config.out_channels, **kwargs)


def run(module: nn.Module, shape: tuple[int, ...], causal: bool = False) -> tuple[int, ...]:
    """The module's output shape on zeros; `causal`: F.pad(x, (d·(k−1), 0)) first."""
    x = torch.zeros(shape)
    if causal:
        x = torch.nn.functional.pad(x, (module.dilation[0] * (module.kernel_size[0] - 1), 0))
    with torch.no_grad():
        return tuple(module(x).shape)


def check_against_torch(q) -> None:
    """The question's right answer is what the real modules do."""
    first = q.layers[0]
    shape = first.input_shape()
    if q.kind == "params":
        assert sum(p.numel() for p in torch_layer(first).parameters()) == q.answer_number
        return
    if q.kind == "keep_padding":
        p = q.answer_number
        assert run(torch_layer(first, padding=p), shape)[-2:] == (first.height, first.width)
        for other in (p - 1, p + 1):  # the answer is the only one
            if other >= 0:
                assert run(torch_layer(first, padding=other), shape)[-2:] != (first.height, first.width)
        return
    if q.kind == "stride_for":
        assert run(torch_layer(first, stride=q.answer_number), shape)[-2:] == (q.target, q.target)
        return
    for i, config in enumerate(q.layers):
        assert config.input_shape() == shape, f"layer {i + 1} of {q} is not on the previous output"
        last = i == len(q.layers) - 1
        if q.fails and last:
            with pytest.raises((RuntimeError, ValueError)):
                run(torch_layer(config), shape, config.padding == "causal")
            return
        shape = run(torch_layer(config), shape, config.padding == "causal")
    assert not q.fails, "torch ran a layer the question says fails"
    assert shape == (1, *q.answer_shape)


@settings(max_examples=n_examples(80, 12))  # × 20 questions each
@given(seed=seeds, level=levels)
def test_every_answer_of_a_set_is_what_torch_does(seed, level):
    for q in question_set(seed, level):
        check_against_torch(q)


@settings(max_examples=n_examples(300))
@given(seed=seeds, level=levels, number=numbers)
def test_links_open_exactly_the_question(seed, level, number):
    q = question_at(seed, level, number)
    assert len(q.links) == len(q.layers)
    for link, config in zip(q.links, q.layers):
        assert link.shape_lab.startswith("/?") and link.sweep.startswith("/sweep?")
        for url in (link.shape_lab, link.sweep):
            parsed, notices = parse_query(dict(parse_qsl(url.split("?", 1)[1])))
            assert parsed == config and notices == []


@settings(max_examples=n_examples(300))
@given(seed=seeds, level=levels, number=numbers)
def test_the_right_answer_is_graded_right_and_a_wrong_one_wrong(seed, level, number):
    q = question_at(seed, level, number)
    if q.asks == "number":
        assert check_answer(q, Answer(number=q.answer_number)).correct
        assert not check_answer(q, Answer(number=q.answer_number + 1000)).correct
        return
    if q.fails:
        right, wrong = Answer(fails=True), Answer(shape=(1, 1, 1))
    else:
        right = Answer(shape=q.answer_shape)
        c, first, *rest = q.answer_shape
        wrong = Answer(shape=(c, first + 1, *rest))
    good, bad = check_answer(q, right), check_answer(q, wrong)
    assert good.graded and good.correct
    assert bad.graded and not bad.correct
    assert bad.worked, "a wrong answer shows the formula worked out"
    if q.fails:
        assert bad.reason.startswith(q.failure_param) and bad.slips
    else:
        assert all(w.latex for w in bad.worked)


def test_every_level_yields_each_kind_of_question_it_promises():
    for level, mix in MIX.items():
        seen = Counter()
        for seed in range(25):
            for q in question_set(seed, level):
                assert q.level == level and q.prompt and q.code and q.answer_text
                assert (q.answer_shape is not None) + (q.answer_number is not None) + q.fails == 1
                if q.kind == "stack":
                    assert 2 <= len(q.layers) <= 3
                seen[(q.kind, q.fails)] += 1
        assert set(seen) == {(kind, fails) for kind, fails, _ in mix}, (level, seen)


def test_impossible_questions_cover_the_rules_torch_enforces():
    params = Counter(q.failure_param for seed in range(40) for q in question_set(seed, 5) if q.fails)
    assert {"kernel_size", "groups", "output_padding", "padding"} <= set(params), params
    assert any(q.fails and q.failure_param == "padding" for seed in range(40) for q in question_set(seed, 3))


def test_same_seed_gives_the_same_sequence_in_any_process():
    first = [q.answer_text + q.code for q in question_set(42, 2)]
    question_at.cache_clear()
    assert [q.answer_text + q.code for q in question_set(42, 2)] == first
    assert [q.code for q in question_set(43, 2)] != [q.code for q in question_set(42, 2)]
    code = ("from conv_lab.practice.questions import question_set; "
            "print('|'.join(q.answer_text + q.code for q in question_set(42, 2)))")
    for hash_seed in ("0", "12345"):  # string seeding must not depend on Python's hash randomisation
        out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONHASHSEED": hash_seed}).stdout.strip()
        assert out == "|".join(first)


def _find(level, predicate):
    return next(q for seed in range(200) for q in question_set(seed, level) if predicate(q))


def test_feedback_names_the_classic_slips():
    q = _find(2, lambda q: q.kind == "shape" and not q.fails and q.layers[0].padding[0] > 0
              and isinstance(q.layers[0].padding, tuple) and q.layers[0].kernel_size[0] > 1)
    c, h, w = q.answer_shape
    fb = check_answer(q, Answer(shape=(c, h - 2 * q.layers[0].padding[0], w)))
    assert "forgot the padding" in fb.messages[1]
    q = _find(3, lambda q: q.kind == "shape" and not q.fails and q.layers[0].stride[0] > 1)
    c, h, w = q.answer_shape
    fb = check_answer(q, Answer(shape=(c, h - 1, w)))
    assert "forgot the + 1" in fb.messages[1] or fb.slips, fb
    q = _find(4, lambda q: q.kind == "params" and q.layers[0].bias)
    fb = check_answer(q, Answer(number=q.answer_number - q.layers[0].out_channels))
    assert fb.slips == ("forgot the bias (one per filter)",)
    q = _find(2, lambda q: q.kind == "keep_padding")
    k = q.layers[0].kernel_size[0]
    assert "total padding" in check_answer(q, Answer(number=k - 1)).slips[0]
    q = _find(1, lambda q: q.fails)
    fb = check_answer(q, Answer(shape=(8, 1, 1)))
    assert "kernel fits inside the padded input" in fb.messages[0] and "kernel_size" in fb.reason
    q = _find(5, lambda q: q.fails and q.failure_param == "groups")
    assert "groups divides" in check_answer(q, Answer(shape=(8, 1, 1))).slips[0]
    q = _find(1, lambda q: not q.fails)
    assert check_answer(q, Answer(fails=True)).slips == ("thought a legal layer fails",)
    q = _find(4, lambda q: q.kind == "stack" and not q.fails)
    c = q.layers[0].in_channels
    assert "out_channels" in check_answer(q, Answer(shape=(c, *q.answer_shape[1:]))).messages[0]


def test_incomplete_answers_are_not_graded():
    q = _find(1, lambda q: not q.fails)
    assert not check_answer(q, Answer(shape=(None, 3, 3))).graded
    q = _find(4, lambda q: q.kind == "params")
    assert not check_answer(q, Answer()).graded


def test_score_counts_first_answers_and_streaks():
    score = Score()
    for key, ok in [((1, 1, 1), True), ((1, 1, 2), True), ((1, 1, 2), False), ((1, 1, 3), False), ((1, 1, 4), True)]:
        score.record(key, ok)
    assert (score.right, score.answered, score.streak, score.best_streak) == (3, 4, 1, 2)


def test_settings_from_the_url():
    url = {"seed": "42", "level": "2", "n": "3", "teacher": "1"}
    assert parse_settings(url, 5) == (PracticeSettings(42, 2, 3, True), [])
    assert parse_settings({}, 5) == (PracticeSettings(5), [])
    s, notices = parse_settings({"seed": "abc", "level": "0", "n": "999", "teacher": "maybe"}, 7)
    assert s == PracticeSettings(7, 1, limits.PRACTICE_SET_SIZE, False)
    assert len(notices) == 4 and "seed='abc'" in notices[0]
    assert parse_settings({"seed": ["1", "2"]}, 0)[0].seed == 2


@given(st.dictionaries(st.sampled_from(["seed", "level", "n", "teacher", "other"]), st.text(max_size=300)))
def test_settings_never_raise_and_stay_in_range(params):
    s, _ = parse_settings(params, 11)
    assert 0 <= s.seed <= limits.MAX_PRACTICE_SEED and s.level in LEVELS and 1 <= s.number <= limits.PRACTICE_SET_SIZE
