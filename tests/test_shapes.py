"""The worked formula, costs, receptive field and padding solvers, each checked against torch."""

from __future__ import annotations

import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch.utils.flop_counter import FlopCounterMode

from conv_lab import ConvConfigError, ConvSpec, keep_size_padding, layer_cost, receptive_field, solve_padding_stride
from conv_lab.core.shapes import conv_out, explain, uncovered_cells
from conv_lab.core.torch_run import build_module

from conftest import n_examples


def test_explain_six_by_six_stride_two_leaves_last_padded_row_and_column_uncovered():
    ex = ConvSpec(3, 8, 3, stride=2, padding=1).explain((3, 6, 6))
    assert ex.output_shape == (8, 3, 3)
    height, width = ex.dims
    assert height.text.endswith("= ⌊5/2⌋ + 1 = ⌊2.5⌋ + 1 = 2 + 1 = 3")
    assert height.uncovered == width.uncovered == 1 and height.uncovered_input == 0
    assert height.note == "stride 2 leaves the last padded row in height unused"
    assert width.note == "stride 2 leaves the last padded column in width unused"
    assert r"\left\lfloor" in height.latex and height.latex.endswith(r"\lfloor 2.5 \rfloor + 1 = 2 + 1 = 3\end{aligned}")
    assert "C_out = out_channels = 8" in ex.text


def test_explain_reports_real_input_rows_the_layer_never_sees():
    ex = ConvSpec(1, 1, 3, stride=3).explain((1, 8, 8))
    assert ex.dims[0].uncovered == 2 and ex.dims[0].uncovered_input == 2
    assert "2 of them real input rows that the layer never sees" in ex.dims[0].note


def test_explain_same_with_even_kernel_pads_asymmetrically():
    spec = ConvSpec(1, 1, (4, 3), padding="same")
    assert spec.pads() == (1, 2, 1, 1)
    ex = spec.explain((1, 7, 7))
    assert ex.output_shape == (1, 7, 7)
    assert "p_top + p_bottom" in ex.dims[0].text and "1 + 2" in ex.dims[0].text
    assert "2p" in ex.dims[1].text


def test_explain_transposed_shows_its_own_formula():
    ex = ConvSpec(64, 32, 4, stride=2, padding=1, transposed=True).explain((64, 16, 16))
    assert ex.output_shape == (32, 32, 32)
    assert ex.dims[0].text == ("H_out = (H_in − 1)·s − 2p + d·(k−1) + output_padding + 1 = "
                               "(16 − 1)·2 − 2·1 + 1·(4−1) + 0 + 1 = 32")


@st.composite
def direct_specs(draw):
    g = draw(st.sampled_from([1, 2]))
    spec = ConvSpec(g * draw(st.integers(1, 3)), g * draw(st.integers(1, 3)),
                    (draw(st.integers(1, 4)), draw(st.integers(1, 4))), (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                    (draw(st.integers(0, 3)), draw(st.integers(0, 3))), (draw(st.integers(1, 3)), draw(st.integers(1, 3))),
                    g, draw(st.booleans()), transposed=draw(st.booleans()))
    shape = (1, spec.in_channels, draw(st.integers(1, 14)), draw(st.integers(1, 14)))
    try:
        spec.output_shape(shape)
    except ConvConfigError:
        assume(False)
    return spec, shape


@settings(max_examples=n_examples(300, 30))
@given(direct_specs())
def test_macs_equal_torch_flop_counter(case):
    spec, shape = case
    module = build_module(spec, seed=0)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        module(torch.randn(shape))
    assert 2 * layer_cost(spec, shape).macs == counter.get_total_flops()


@settings(max_examples=n_examples(200, 30))
@given(direct_specs())
def test_receptive_field_equals_autograd_footprint(case):
    """The input cells whose gradient is non-zero for one output cell: its receptive field."""
    spec, shape = case
    module = build_module(spec, seed=0)
    with torch.no_grad():
        module.weight.fill_(1.0)
    x = torch.ones(shape, requires_grad=True)
    y = module(x)
    spans = []
    for axis in (2, 3):
        best = 0
        for pos in range(y.shape[axis]):  # the widest footprint over every output row / column
            index = [0, 0, 0, 0]
            index[axis] = pos
            other = 5 - axis
            index[other] = y.shape[other] // 2
            (grad,) = torch.autograd.grad(y[tuple(index)], x, retain_graph=True)
            hits = grad[0].abs().sum(dim=(0, 5 - axis - 1)).nonzero().flatten()
            if len(hits):
                best = max(best, int(hits.max() - hits.min() + 1))
        spans.append(best)
    expected = receptive_field(spec)
    # Footprints are clipped at the input's edges, so the widest one can be smaller than the field.
    assert spans[0] <= expected[0] and spans[1] <= expected[1]
    if not spec.transposed and spec.pads() == (0, 0, 0, 0):  # the first window lies wholly inside the input
        assert tuple(spans) == expected


def test_receptive_field_examples():
    assert receptive_field(ConvSpec(1, 1, 3)) == (3, 3)
    assert receptive_field(ConvSpec(1, 1, (3, 5), dilation=(2, 1))) == (5, 5)
    assert receptive_field(ConvSpec(1, 1, 4, stride=2, transposed=True)) == (2, 2)


@given(st.integers(1, 9), st.integers(1, 4))
def test_keep_size_padding_keeps_the_size(k, d):
    before, after = keep_size_padding(k, d)
    assert after - before in (0, 1)
    assert conv_out(20, k, 1, before, after, d) == 20


@settings(max_examples=n_examples(100, 20))
@given(st.integers(4, 80), st.integers(1, 40), st.integers(1, 7), st.integers(1, 3))
def test_solve_padding_stride_solutions_hit_the_target_in_torch(size_in, size_out, k, d):
    found = solve_padding_stride(size_in, size_out, k, d)
    for padding, stride in found[:3]:
        module = torch.nn.Conv2d(1, 1, k, stride=stride, padding=padding, dilation=d)
        assert module(torch.zeros(1, 1, size_in, size_in)).shape[-1] == size_out
    brute = {(p, s) for s in range(1, 9) for p in range(17)
             if size_in + 2 * p >= d * (k - 1) + 1 and conv_out(size_in, k, s, p, p, d) == size_out}
    assert set(found) == brute


def test_solver_stride_that_halves_64():
    assert (1, 2) in solve_padding_stride(64, 32, 3)


def test_uncovered_cells_zero_at_stride_one():
    assert uncovered_cells(ConvSpec(1, 1, 3), (1, 9, 9)) == (0, 0)
    assert explain(ConvSpec(1, 1, 3, stride=2), (1, 8, 8)).dims[0].uncovered == 1
