"""torch is the oracle for 1-D and 3-D sweeps: every step value equals the real nn.Conv1d/Conv3d (and transposes, and
MaxPool1d/AvgPool1d) output, through the public functions and through the page's own request path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab import ConvConfigError, ConvSpec, limits
from conv_lab.core.grid import INSERTED, PADDING
from conv_lab.core.state import LabConfig
from conv_lab.core.torch_run import run_layer
from conv_lab.sweep.animate import sweep_animation
from conv_lab.sweep.data import SweepRequest, build_sweep, step_lines
from conv_lab.sweep.depth import depth_sweep
from conv_lab.sweep.layout import CellGrid
from conv_lab.sweep.oracle import module_name, torch_check
from conv_lab.sweep.steps import region_for, sweep_steps

from conftest import n_examples

MODES = ["zeros", "reflect", "replicate", "circular"]


def sizes(draw, dims: int, lo: int, hi: int):
    """One int for every dimension, or one per dimension."""
    if draw(st.booleans()):
        return draw(st.integers(lo, hi))
    return tuple(draw(st.integers(lo, hi)) for _ in range(dims))


@st.composite
def layers(draw, dims: int):
    """A random valid `dims`-D layer (direct, causal in 1-D, or transposed) and an input (C, *sizes) it accepts."""
    groups = draw(st.sampled_from([1, 1, 2]))
    cin, cout = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    transposed = draw(st.booleans())
    top = 5 if dims == 1 else 3
    kwargs = dict(in_channels=cin, out_channels=cout, kernel_size=sizes(draw, dims, 1, top), groups=groups,
                  stride=sizes(draw, dims, 1, 3), dilation=sizes(draw, dims, 1, 3), bias=draw(st.booleans()), dims=dims)
    if transposed:
        kwargs.update(padding=sizes(draw, dims, 0, 2), output_padding=sizes(draw, dims, 0, 2))
    else:
        words = ["same", "valid"] + (["causal", "causal"] if dims == 1 else [])
        kwargs.update(padding=draw(st.one_of(st.just(sizes(draw, dims, 0, 2)), st.sampled_from(words))),
                      padding_mode=draw(st.sampled_from(MODES)))
        if kwargs["padding"] == "causal":
            kwargs["padding_mode"] = "zeros"
    if kwargs["padding"] == "same":
        kwargs["stride"] = 1
    shape = (cin, *(draw(st.integers(1, 12 if dims == 1 else 5)) for _ in range(dims)))
    try:
        spec = ConvSpec(**kwargs, transposed=transposed)
        spec.output_shape(shape)
    except ConvConfigError:
        assume(False)
    return spec, shape


def real_output(spec: ConvSpec, shape, seed: int):
    torch.manual_seed(seed)
    module = spec.to_module().double()
    x = torch.randn((1, *shape), dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        out = run_layer(spec, module, x)[0].numpy()  # causal: F.pad on the left, then the Conv1d
    bias = None if module.bias is None else module.bias.detach().numpy()
    return module.weight.detach().numpy(), bias, x[0].numpy(), out


@settings(max_examples=n_examples(200, 40), deadline=None)
@given(layers(1), st.integers(0, 2**16), st.data())
def test_every_1d_step_equals_the_real_conv1d(layer, seed, data):
    spec, shape = layer
    weight, bias, x, expected = real_output(spec, shape, seed)
    o = data.draw(st.integers(0, spec.out_channels - 1), label="filter")
    steps = sweep_steps(spec, x, weight, None if bias is None else float(bias[o]), o)
    assert steps.out_shape == (1, expected.shape[1]) and steps.source_dims == 1
    values = np.array([step.value for step in steps])
    np.testing.assert_allclose(values, expected[o], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(steps.values()[0], expected[o], rtol=1e-9, atol=1e-9)
    for step in steps:  # a strip: every tap on the one row, each product a tap × value summed over the group
        assert all(r == 0 for r, _ in step.cells) and len(step.cells) == spec.kernel_nd[0]
        assert step.products.shape == (spec.in_channels // spec.groups, 1, spec.kernel_nd[0])
        assert step.value == pytest.approx(step.channel_sums.sum() + step.bias, abs=1e-9)
    if spec.padding == "causal":  # the padding sits on the left only: d·(k−1) grey cells, then the input
        left = spec.dilation_nd[0] * (spec.kernel_nd[0] - 1)
        assert (steps.kinds[0, :left] == PADDING).all() and (steps.kinds[0, left:] != PADDING).all()


@settings(max_examples=n_examples(120, 25), deadline=None)
@given(layers(3), st.integers(0, 2**16), st.data())
def test_every_3d_step_equals_the_real_conv3d(layer, seed, data):
    spec, shape = layer
    weight, bias, x, expected = real_output(spec, shape, seed)
    o = data.draw(st.integers(0, spec.out_channels - 1), label="filter")
    for z in range(expected.shape[1]):  # every output depth slice
        steps = depth_sweep(spec, x, weight, None if bias is None else float(bias[o]), o, z)
        assert steps.out_shape == expected.shape[2:] and steps.out_depths == expected.shape[1]
        values = np.array([step.value for step in steps]).reshape(steps.out_shape)
        np.testing.assert_allclose(values, expected[o, z], rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(steps.values(), expected[o, z], rtol=1e-9, atol=1e-9)
        kd = spec.kernel_nd[0]
        step = steps[len(steps) // 2]
        assert len(step.channel_sums) == kd * (spec.in_channels // spec.groups)  # summed over depth and channels
        assert step.value == pytest.approx(step.channel_sums.sum() + step.bias, abs=1e-9)
        assert steps.panels(0) == list(range(min(kd, 8)))
        for row in range(kd):  # a slice of padding (or of inserted zeros) is drawn as such
            kind = steps.depth_kinds[steps.slices[row]]
            if kind == PADDING:
                assert (steps.panel_kinds(row) == PADDING).all()
            if kind == INSERTED:
                assert not (steps.panel_kinds(row) == 0).any()


def config(draw, dims: int) -> LabConfig:
    groups = draw(st.sampled_from([1, 2]))
    k = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    s = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    d = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    transposed = draw(st.booleans())
    padding = draw(st.sampled_from(["causal", (1,)] if dims == 1 and not transposed else [(1,) * dims, (0,) * dims]))
    sizes_ = [draw(st.integers(3, 9)) for _ in range(dims)]
    depth, height = (sizes_[0], sizes_[1]) if dims == 3 else (1, 1)
    return LabConfig(2 * groups if groups > 1 else draw(st.integers(1, 2)), height, sizes_[-1], 2 * groups, k, s,
                     padding, d, groups, draw(st.booleans()), "zeros", transposed,
                     tuple(min(p, max(a, b) - 1) for p, a, b in zip((1,) * dims, s, d)) if transposed else (0,) * dims,
                     dims, depth)


@settings(max_examples=n_examples(60, 15), deadline=None)
@given(st.data(), st.sampled_from([1, 3]))
def test_the_pages_request_path_matches_torch_in_1d_and_3d(data, dims):
    cfg = config(data.draw, dims)
    try:
        out = cfg.spec().output_shape(cfg.input_shape())
    except ConvConfigError:
        assume(False)
    out_depth = data.draw(st.integers(0, out[2] - 1)) if dims == 3 else 0
    request = SweepRequest(cfg, "conv", data.draw(st.integers(0, cfg.out_channels - 1)), "float", out_depth=out_depth)
    sweep = build_sweep(request)
    region = region_for(sweep, 0, 0)
    assert torch_check(request, region.rows, region.cols) < 1e-9
    assert module_name(request) == cfg.spec().module_name
    lines = step_lines(sweep, len(sweep) - 1, "float")
    where = str(sweep.out_shape[1] - 1) if dims == 1 else f"({out_depth}, {sweep.out_shape[0] - 1}, "
    assert lines[0].startswith(f"output {where}")


@settings(max_examples=n_examples(60, 15), deadline=None)
@given(st.sampled_from(["max", "avg"]), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(1, 2),
       st.booleans(), st.booleans(), st.integers(3, 14))
def test_1d_pooling_sweeps_equal_maxpool1d_and_avgpool1d(op, k, s, p, d, ceil_mode, include_pad, length):
    assume(p <= k // 2 and (op == "max" or d == 1))
    cfg = LabConfig(1, 1, length, 1, (k,), (s,), (p,), (d,), output_padding=(0,), dims=1)
    request = SweepRequest(cfg, op, 0, "float", ceil_mode=ceil_mode, count_include_pad=include_pad)
    try:
        sweep = build_sweep(request)
    except ConvConfigError:
        with pytest.raises(RuntimeError):  # torch refuses it too
            pool = request.pool_spec()
            getattr(torch.nn, pool.module_name)(**pool.torch_kwargs())(torch.zeros(1, 1, length))
        return
    assert module_name(request) == f"{op.capitalize()}Pool1d" and sweep.out_shape[0] == 1
    assert torch_check(request, (0, 1), (0, sweep.out_shape[1])) < 1e-9


def test_3d_pooling_and_wrong_depths_are_plain_errors():
    cfg = LabConfig(1, 5, 5, 1, (2, 2, 2), (1, 1, 1), (0, 0, 0), (1, 1, 1), output_padding=(0, 0, 0), dims=3, depth=4)
    with pytest.raises(ConvConfigError, match="1-D and 2-D"):
        build_sweep(SweepRequest(cfg, "max"))
    with pytest.raises(ConvConfigError, match="out_depth 9 does not exist"):
        build_sweep(SweepRequest(cfg, out_depth=9))
    spec = cfg.spec()
    with pytest.raises(ConvConfigError):  # a 2-D input to a 3-D layer
        depth_sweep(spec, np.zeros((1, 5, 5)), np.zeros((1, 2, 2, 2)))
    with pytest.raises(ConvConfigError):  # a 3-D input to a 1-D layer
        sweep_steps(ConvSpec(1, 1, 3, dims=1), np.zeros((1, 4, 4, 4)), np.zeros((1, 3)))


def test_a_long_signal_animates_a_region_within_the_caps():
    cfg = LabConfig(1, 1, 16000, 4, (80,), (4,), (0,), (1,), output_padding=(0,), dims=1)
    request = SweepRequest(cfg)
    sweep = build_sweep(request)
    assert len(sweep) == 3981
    region = region_for(sweep, 0, 2000)
    assert region.contains(0, 2000) and 1 < region.size <= limits.MAX_SWEEP_FRAMES
    animation = sweep_animation(request, region)
    assert len(animation) == region.size + 1
    assert animation.grid_cols[1] - animation.grid_cols[0] <= limits.MAX_SWEEP_GRID ** 2
    assert animation.grids[0].folded  # a long strip wraps like text
    assert animation.gif_bytes[:6] == b"GIF89a"
    assert torch_check(request, region.rows, region.cols) < 1e-9


def test_3d_animation_draws_every_depth_tap_and_its_arithmetic():
    cfg = LabConfig(1, 5, 5, 1, (3, 3, 3), (1, 1, 1), (1, 1, 1), (1, 1, 1), output_padding=(0, 0, 0), dims=3, depth=4)
    animation = sweep_animation(SweepRequest(cfg, out_depth=0))
    assert len(animation.grids) == 3 and len(animation) == 26
    ops = animation.frame_ops(3)
    assert ops.texts[1][3].startswith("output (0, 0, 3) = Σ input × weight")
    assert [t[3].split(":")[0] for t in ops.texts[2:5]] == ["ch 0 d0", "ch 0 d1", "ch 0 d2"]
    lit = {(x0, y0) for layer, x0, y0, _, _ in ops.copies if layer == 1}  # HOT: the taps, on each slice
    assert len(lit) >= 3
    assert animation.frame_png(3)[:4] == b"\x89PNG"


@given(st.integers(1, 300), st.integers(0, 299), st.integers(1, 300))
def test_a_wrapped_strip_covers_exactly_the_cells_asked(n, a, length):
    grid = CellGrid((0, 0, 560, 560), 1, n, 80)
    a = min(a, n - 1)
    b = min(n, a + length)
    cell = int(grid.xs[1] - grid.xs[0])
    area = sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in grid.rects(0, a, 1, b))
    assert area == (b - a) * cell * int(grid.ys[1] - grid.ys[0])
    assert grid.box[2] <= 560 and grid.box[3] <= 560 or cell == 1
