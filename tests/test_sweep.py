"""torch is the oracle for the sweep: step values, padded grids and pooling equal the real modules."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import ConvConfigError, ConvSpec, limits, padded_grid, sweep_steps
from conv_lab.core.grid import INPUT, INSERTED, PADDING
from conv_lab.sweep.pooling import PoolSpec, pool_sweep
from conv_lab.sweep.steps import Region, filter_weight, region_for, tile_shape

from conftest import n_examples

TORCH_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "replicate", "circular": "circular"}


def size(lo: int, hi: int):
    """An int or a non-square (h, w) pair."""
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


@st.composite
def valid_layers(draw):
    """A random valid layer (direct or transposed) and an input it accepts."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    transposed = draw(st.booleans())
    kwargs = dict(in_channels=cin, out_channels=cout, kernel_size=draw(size(1, 4)), stride=draw(size(1, 3)),
                  dilation=draw(size(1, 3)), groups=groups, bias=draw(st.booleans()))
    if transposed:
        kwargs.update(padding=draw(size(0, 3)), output_padding=draw(size(0, 2)))
    else:
        kwargs.update(padding=draw(st.one_of(size(0, 3), st.sampled_from(["same", "valid"]))),
                      padding_mode=draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])))
    if kwargs["padding"] == "same":
        kwargs["stride"] = 1
    shape = (cin, draw(st.integers(1, 9)), draw(st.integers(1, 9)))
    try:
        spec = ConvSpec(**kwargs, transposed=transposed)
        spec.output_shape(shape)
    except ConvConfigError:
        assume(False)
    return spec, shape


def real_module(spec: ConvSpec, seed: int):
    torch.manual_seed(seed)
    module = spec.to_module().double()
    return module


@settings(max_examples=n_examples(300, 40))
@given(valid_layers(), st.integers(0, 2**16), st.data())
def test_step_values_assemble_into_the_real_output(layer, seed, data):
    spec, shape = layer
    module = real_module(spec, seed)
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        expected = module(x.unsqueeze(0))[0].numpy()
    o = data.draw(st.integers(0, spec.out_channels - 1), label="filter")
    weight = module.weight.detach().numpy()
    if spec.transposed:  # the brief's form: module.weight[:, o] (local index within the group), plus out_channel
        one = weight[:, o % (spec.out_channels // spec.groups)]
    else:
        one = weight[o]
    bias = None if module.bias is None else float(module.bias[o].detach())
    steps = sweep_steps(spec, x.numpy(), one, bias=bias, out_channel=o)
    grid = padded_grid(spec, x.numpy())
    assembled = np.full(expected.shape[1:], np.nan)
    for step in steps:
        assembled[step.out_pos] = step.value
        assert len(step.cells) == spec.kernel_hw[0] * spec.kernel_hw[1]
        for r, c in step.cells:  # every tap lies inside the padded grid
            assert 0 <= r < grid.shape[1] and 0 <= c < grid.shape[2]
        assert step.products.shape == (spec.in_channels // spec.groups, *spec.kernel_hw)
        assert np.isclose(step.products.sum() + step.bias, step.value)
    assert [s.out_pos for s in steps] == [(r, c) for r in range(expected.shape[1]) for c in range(expected.shape[2])]
    np.testing.assert_allclose(assembled, expected[o], atol=1e-9)
    np.testing.assert_allclose(steps.values(), expected[o], atol=1e-9)
    flip = -1 if spec.transposed else 1
    given = filter_weight(spec, weight, o) if spec.transposed else weight[o]
    np.testing.assert_allclose(filter_weight(spec, weight, o),
                               sweep_steps(spec, x.numpy(), given, out_channel=o).kernel[:, ::flip, ::flip])


@settings(max_examples=n_examples(200, 40))
@given(valid_layers(), st.integers(0, 2**16))
def test_padded_grid_equals_torch_pad(layer, seed):
    spec, shape = layer
    x = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    grid = padded_grid(spec, x.numpy())
    if spec.transposed:  # zeros inserted between cells, then padded/cropped: the input cells sit on a stride lattice
        (sh, sw), (h, w) = spec.stride_hw, shape[1:]
        inner = torch.zeros((shape[0], (h - 1) * sh + 1, (w - 1) * sw + 1), dtype=torch.float64)
        inner[:, ::sh, ::sw] = x
        pads = []
        for axis in (1, 0):  # F.pad: last dim first; negative pads crop
            k, d, p, op = spec.kernel_hw[axis], spec.dilation_hw[axis], spec.pads()[2 * axis], spec.output_padding_hw[axis]
            pads += [d * (k - 1) - p, d * (k - 1) - p + op]
        expected = F.pad(inner, pads)
    else:
        top, bottom, left, right = spec.pads()
        expected = F.pad(x.unsqueeze(0), (left, right, top, bottom), mode=TORCH_MODES[spec.padding_mode])[0]
    np.testing.assert_array_equal(grid, expected.numpy())


@settings(max_examples=n_examples(300, 40))
@given(st.sampled_from(["max", "avg"]), size(1, 4), size(1, 3), st.integers(0, 2), size(1, 3), st.booleans(),
       st.booleans(), st.integers(1, 9), st.integers(1, 9), st.integers(0, 2**16))
def test_pooling_equals_torch(op, kernel, stride, padding, dilation, ceil_mode, include_pad, h, w, seed):
    x = torch.randn((2, h, w), dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    if op == "avg":
        dilation = 1
        module = nn.AvgPool2d(kernel, stride, padding, ceil_mode=ceil_mode, count_include_pad=include_pad)
    else:
        module = nn.MaxPool2d(kernel, stride, padding, dilation=dilation, ceil_mode=ceil_mode)
    try:
        expected = module(x.unsqueeze(0))[0].numpy()
        torch_ok = expected.size > 0
    except RuntimeError:
        torch_ok = False
    try:
        pool = PoolSpec(op, kernel, stride, padding, dilation, ceil_mode, include_pad)
        sweep = pool_sweep(pool, x.numpy(), channel=1)
    except ConvConfigError:
        assert not torch_ok, "Conv Lab refused a pooling torch accepts"
        return
    assert torch_ok, "Conv Lab accepted a pooling torch refuses"
    values = np.full(expected.shape[1:], np.nan)
    for step in sweep:
        values[step.out_pos] = step.value
        for r, c in step.cells:
            assert 0 <= r < sweep.grid.shape[1] and 0 <= c < sweep.grid.shape[2]
    np.testing.assert_allclose(values, expected[1], atol=1e-12)
    np.testing.assert_allclose(sweep.values(), expected[1], atol=1e-12)


def test_grid_kinds_mark_padding_and_inserted_zeros():
    spec = ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True)
    steps = sweep_steps(spec, np.ones((1, 3, 3)), np.ones((1, 3, 3)))
    # 3 inputs, 1 zero between each: 5 cells, plus d·(k−1)−p = 1 padding each side → 7
    assert steps.kinds.shape == (7, 7)
    assert steps.kinds[1, 1] == INPUT and steps.kinds[1, 2] == INSERTED and steps.kinds[0, 0] == PADDING
    assert steps.stride == (1, 1)


def test_stride_leaves_last_row_untouched():
    spec = ConvSpec(1, 1, 3, stride=2, padding=1)
    steps = sweep_steps(spec, np.ones((1, 6, 6)), np.ones((1, 3, 3)))
    touched = steps.touched()
    assert touched.shape == (8, 8) and not touched[-1].any() and not touched[:, -1].any() and touched[:-1, :-1].all()


def test_dilation_holes_are_skipped():
    spec = ConvSpec(1, 1, 3, dilation=2)
    step = sweep_steps(spec, np.arange(49.).reshape(1, 7, 7), np.ones((1, 3, 3)))[0]
    assert step.cells == ((0, 0), (0, 2), (0, 4), (2, 0), (2, 2), (2, 4), (4, 0), (4, 2), (4, 4))


def test_wrong_filter_and_weight_shape_are_plain_errors():
    spec = ConvSpec(2, 4, 3)
    with pytest.raises(ConvConfigError, match="filter 4 does not exist"):
        sweep_steps(spec, np.zeros((2, 5, 5)), np.zeros((2, 3, 3)), out_channel=4)
    with pytest.raises(ConvConfigError, match="weight"):
        sweep_steps(spec, np.zeros((2, 5, 5)), np.zeros((3, 3)))


def test_huge_transposed_grid_is_refused_not_built():
    spec = ConvSpec(1, 1, 3, stride=64, transposed=True)
    with pytest.raises(ConvConfigError, match="cap"):
        sweep_steps(spec, np.zeros((1, 1000, 1000)), np.zeros((1, 3, 3)))


@settings(max_examples=n_examples(100, 30))
@given(st.integers(1, 300), st.integers(1, 300), st.integers(1, 11), st.integers(1, 4), st.integers(1, 3),
       st.sampled_from(["region", "row"]), st.data())
def test_regions_stay_within_the_caps_and_cover_every_position(h, w, k, s, d, mode, data):
    spec = ConvSpec(1, 1, k, stride=s, dilation=d)
    try:
        steps = sweep_steps(spec, np.zeros((1, h, w)), np.zeros((1, k, k)))
    except ConvConfigError:
        assume(False)
    ho, wo = steps.out_shape
    row, col = data.draw(st.integers(0, ho - 1)), data.draw(st.integers(0, wo - 1))
    region = region_for(steps, row, col, mode)
    assert region.contains(row, col)
    assert 1 <= region.size <= limits.MAX_SWEEP_FRAMES
    for lo, hi in ((region.rows[0], region.rows[1]), (region.cols[0], region.cols[1])):
        assert hi > lo
    eff = d * (k - 1) + 1
    span = ((region.rows[1] - region.rows[0] - 1) * s + eff, (region.cols[1] - region.cols[0] - 1) * s + eff)
    assert max(span) <= max(limits.MAX_SWEEP_GRID, eff)
    th, tw = tile_shape(steps)
    assert th * tw <= limits.MAX_SWEEP_FRAMES
    if mode == "region" and ho * wo <= limits.MAX_SWEEP_FRAMES and max(steps.grid.shape[1:]) <= limits.MAX_SWEEP_GRID:
        assert region == Region((0, ho), (0, wo))  # small sweeps animate whole
