"""Convolution as a matrix: torch is the oracle for C, Cᵀ, im2col and the output_padding ambiguity."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conftest import n_examples
from conv_lab import limits
from conv_lab.matrix import FOLDED, ZERO, conv_matrix, geometry, is_padding_column, padded_matrix, tap_ids, window_cells
from conv_lab.matrix_run import im2col, matrix_example, transpose_check
from conv_lab.matrix_view import ambiguity, block, parse_cell, same_output_sizes, smaller_config
from conv_lab.spec import ConvConfigError, ConvSpec
from conv_lab.state import LabConfig

pair = st.tuples(st.integers(1, 3), st.integers(1, 3))


@st.composite
def direct_layers(draw, modes=("zeros", "reflect", "replicate", "circular")):
    """A small valid Conv2d and its input size (any padding, mode, dilation, groups)."""
    groups = draw(st.integers(1, 2))
    in_channels = groups * draw(st.integers(1, 2))
    out_channels = groups * draw(st.integers(1, 2))
    kernel, stride = draw(pair), draw(pair)
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    padding = draw(st.one_of(st.tuples(st.integers(0, 2), st.integers(0, 2)), st.sampled_from(["same", "valid"])))
    if padding == "same":
        stride = (1, 1)
    try:
        spec = ConvSpec(in_channels, out_channels, kernel, stride, padding, dilation, groups,
                        draw(st.booleans()), draw(st.sampled_from(modes)))
        height, width = draw(st.integers(1, 7)), draw(st.integers(1, 7))
        geom = geometry(spec, height, width)
    except ConvConfigError:
        assume(False)
    assume(geom.buildable)
    return spec, height, width


@st.composite
def transposed_layers(draw):
    """A small valid ConvTranspose2d and its input size."""
    groups = draw(st.integers(1, 2))
    stride = draw(pair)
    dilation = draw(st.tuples(st.integers(1, 2), st.integers(1, 2)))
    output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
    try:
        spec = ConvSpec(groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), draw(pair), stride,
                        (draw(st.integers(0, 2)), draw(st.integers(0, 2))), dilation, groups, draw(st.booleans()),
                        transposed=True, output_padding=output_padding)
        height, width = draw(st.integers(1, 4)), draw(st.integers(1, 4))
        geom = geometry(spec, height, width)
    except ConvConfigError:
        assume(False)
    assume(geom.buildable)
    return spec, height, width


def _module(spec: ConvSpec, seed: int) -> tuple[nn.Module, torch.Tensor]:
    torch.manual_seed(seed)
    module = (nn.ConvTranspose2d if spec.transposed else nn.Conv2d)(**spec.torch_kwargs()).double()
    return module, module.weight.detach().numpy()


@settings(max_examples=n_examples(150))
@given(direct_layers(), st.integers(0, 10_000))
def test_c_times_x_is_the_module_output(layer, seed):
    spec, height, width = layer
    module, weight = _module(spec, seed)
    x = torch.randn(1, spec.in_channels, height, width, dtype=torch.float64)
    with torch.no_grad():
        expected = module(x)[0].numpy()
    geom = geometry(spec, height, width)
    bias = module.bias.detach().numpy() if spec.bias else np.zeros(spec.out_channels)
    got = conv_matrix(geom, weight) @ x.numpy().ravel()
    np.testing.assert_allclose(got.reshape(expected.shape) + bias[:, None, None], expected, atol=1e-9)
    # C's shape: (output cells) × (padded input cells), and C_pad·pad(x) gives the same output
    top, bottom, left, right = spec.pads()
    padded = padded_matrix(geom, weight)
    assert padded.shape == (expected.size, spec.in_channels * (height + top + bottom) * (width + left + right))
    mode = {"zeros": "constant"}.get(spec.padding_mode, spec.padding_mode)
    x_padded = F.pad(x, (left, right, top, bottom), mode=mode).numpy().ravel()
    np.testing.assert_allclose((padded @ x_padded).reshape(expected.shape) + bias[:, None, None], expected, atol=1e-9)
    assert is_padding_column(geom).sum() == padded.shape[1] - x.numel()


@settings(max_examples=n_examples(150))
@given(direct_layers(), st.integers(0, 10_000))
def test_c_transpose_is_the_gradient_and_conv_transpose2d(layer, seed):
    spec, height, width = layer
    module, weight = _module(spec, seed)
    geom = geometry(spec, height, width)
    x = torch.randn(1, spec.in_channels, height, width, dtype=torch.float64, requires_grad=True)
    out = module(x)
    y = torch.randn(out.shape, dtype=torch.float64)
    (grad,) = torch.autograd.grad(out, x, y)  # the adjoint of the layer, whatever the padding mode
    c_t_y = conv_matrix(geom, weight).T @ y.numpy().ravel()
    np.testing.assert_allclose(c_t_y, grad.numpy().ravel(), atol=1e-9)
    top, bottom, left, right = spec.pads()
    if spec.padding_mode == "zeros" and (top, left) == (bottom, right):
        # The right output_padding is the one whose conv_transpose2d gives back the input's shape.
        matches = []
        for op_h in range(max(spec.stride_hw[0], spec.dilation_hw[0])):
            for op_w in range(max(spec.stride_hw[1], spec.dilation_hw[1])):
                try:
                    z = F.conv_transpose2d(y, module.weight, stride=spec.stride_hw, padding=(top, left),
                                           output_padding=(op_h, op_w), dilation=spec.dilation_hw, groups=spec.groups)
                except RuntimeError:  # this output_padding would give an empty output
                    continue
                if z.shape == x.shape:
                    matches.append(((op_h, op_w), z))
        assert len(matches) == 1
        (op, z) = matches[0]
        np.testing.assert_allclose(c_t_y, z.detach().numpy().ravel(), atol=1e-9)
    check = transpose_check(matrix_example(spec, height, width, seed % 7))
    assert check.max_error < 1e-9
    assert check.by_torch.shape == (spec.in_channels, height, width)
    if spec.padding_mode == "zeros" and (top, left) == (bottom, right):
        assert check.output_padding == op


@settings(max_examples=n_examples(150))
@given(transposed_layers(), st.integers(0, 10_000))
def test_transposed_layer_is_c_transpose(layer, seed):
    spec, height, width = layer
    module, weight = _module(spec, seed)
    x = torch.randn(1, spec.in_channels, height, width, dtype=torch.float64)
    with torch.no_grad():
        expected = module(x)[0].numpy()
    geom = geometry(spec, height, width)
    assert geom.direct.in_channels == spec.out_channels and not geom.direct.transposed
    assert geom.grid_hw == expected.shape[-2:] and geom.out_hw == (height, width)
    bias = module.bias.detach().numpy() if spec.bias else np.zeros(spec.out_channels)
    got = conv_matrix(geom, weight).T @ x.numpy().ravel()
    np.testing.assert_allclose(got.reshape(expected.shape) + bias[:, None, None], expected, atol=1e-9)
    example = matrix_example(spec, height, width, seed % 5, whole_numbers=bool(seed % 2))
    assert example.max_error < 1e-4
    assert np.abs(im2col(example).product - example.y_module).max() < 1e-4
    assert transpose_check(example).max_error < 1e-9


@settings(max_examples=n_examples(150))
@given(direct_layers(), st.integers(0, 10_000), st.booleans())
def test_im2col_product_is_the_module_output(layer, seed, whole_numbers):
    spec, height, width = layer
    example = matrix_example(spec, height, width, seed % 11, whole_numbers)
    result = im2col(example)
    kh, kw = spec.kernel_hw
    out_cells = example.y_module.shape[-1] * example.y_module.shape[-2]
    assert result.patches.shape == (spec.in_channels * kh * kw, out_cells)
    assert result.patches_bytes == 4 * spec.in_channels * kh * kw * out_cells
    assert result.input_bytes == 4 * spec.in_channels * height * width
    assert np.abs(result.product - example.y_module).max() < 1e-4
    assert example.max_error < 1e-4
    if whole_numbers:
        assert example.max_error == 0


@settings(max_examples=n_examples(100))
@given(direct_layers())
def test_tap_ids_name_the_weight_in_every_cell(layer):
    spec, height, width = layer
    geom = geometry(spec, height, width)
    weight = np.random.default_rng(0).normal(size=(spec.out_channels, spec.in_channels // spec.groups,
                                                   *spec.kernel_hw))
    kh, kw = spec.kernel_hw
    for padded in (True, False):
        taps, matrix = tap_ids(geom, padded), conv_matrix(geom, weight, padded)
        assert ((taps == ZERO) == (matrix == 0)).all()
        if padded or spec.padding_mode == "zeros":
            assert not (taps == FOLDED).any()
        o_ch = 0
        blk_taps, blk = block(taps, geom, o_ch, 0, padded), block(matrix, geom, o_ch, 0, padded)
        for (r, c) in zip(*np.nonzero(blk_taps >= 0)):
            assert blk[r, c] == pytest.approx(weight[0, 0].ravel()[blk_taps[r, c]])
    # The selected output cell's window lists exactly the non-zero columns of its row in C_pad.
    ho, wo = geom.out_hw
    taps = tap_ids(geom, padded=True)
    hp, wp = geom.padded_hw
    for cell in ((0, 0), (ho - 1, wo - 1)):
        row = taps[cell[0] * wo + cell[1], :hp * wp]  # filter 0 against input channel 0
        cols = sorted((r * wp + c, t) for r, c, t in window_cells(geom, cell))
        assert [(int(i), int(row[i])) for i in np.nonzero(row >= 0)[0]] == cols


@settings(max_examples=n_examples(150))
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 3), st.integers(0, 2), st.integers(0, 2),
       st.integers(1, 2))
def test_same_output_sizes_match_torch(size_out, k, s, pad_before, pad_after, d):
    found = same_output_sizes(size_out, k, s, pad_before, pad_after, d)
    x_for = lambda n: torch.zeros(1, 1, n, 1)  # noqa: E731
    w = torch.zeros(1, 1, k, 1)
    for n in range(1, (size_out + 1) * s + d * k + 4):
        if n + pad_before + pad_after < d * (k - 1) + 1:
            continue
        padded = F.pad(x_for(n), (0, 0, pad_before, pad_after))
        produced = F.conv2d(padded, w, stride=(s, 1), dilation=(d, 1)).shape[-2]
        assert (produced == size_out) == (n in found.sizes), n
    if pad_before == pad_after:  # conv_transpose2d with output_padding = n − smallest gives each size back
        for n in found.sizes:
            op = n - ((size_out - 1) * s + d * (k - 1) + 1 - 2 * pad_before)
            if op < max(s, d):
                y = torch.zeros(1, 1, size_out, 1)
                back = F.conv_transpose2d(y, w, stride=(s, 1), padding=(pad_before, 0), output_padding=(op, 0),
                                          dilation=(d, 1))
                assert back.shape[-2] == n


def test_the_classic_ambiguity_5_and_6_give_3():
    geom = geometry(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6)
    assert geom.out_hw == (3, 3)
    assert ambiguity(geom)[0].sizes == (5, 6)
    assert "5 (output_padding=0), 6 (output_padding=1)" in ambiguity(geom)[0].text


@settings(max_examples=n_examples(60))
@given(st.integers(1, 8), st.integers(1, 64), st.integers(1, 64), st.integers(1, 5), st.integers(0, 3),
       st.integers(1, 3), st.booleans())
def test_smaller_config_fits_and_runs(channels, height, width, kernel, padding, stride, transposed):
    config = LabConfig(in_channels=channels, out_channels=channels, height=height, width=width,
                       kernel_size=(kernel, kernel), padding=(padding, padding), stride=(stride, stride),
                       transposed=transposed)
    try:
        config.spec()
    except ConvConfigError:
        assume(False)
    smaller = smaller_config(config)
    if smaller is None:
        return
    geom = geometry(smaller.spec(), smaller.height, smaller.width)
    assert geom.fits(padded=True)
    assert smaller.height <= height and smaller.width <= width
    assert smaller.kernel_size == config.kernel_size and smaller.stride == config.stride
    assert matrix_example(smaller.spec(), smaller.height, smaller.width).max_error == 0


def test_too_large_matrix_is_refused_in_plain_words():
    geom = geometry(ConvSpec(3, 16, 3), 64, 64)
    assert not geom.buildable and not geom.fits()
    with pytest.raises(ConvConfigError, match="input_size") as info:
        padded_matrix(geom, np.zeros((16, 3, 3, 3)))
    assert f"{limits.MAX_MATRIX_ENTRIES:,}" in str(info.value)


def test_parse_cell_clamps_with_a_notice():
    assert parse_cell("1,2", (3, 3)) == ((1, 2), None)
    assert parse_cell(None, (3, 3)) == ((0, 0), None)
    cell, notice = parse_cell("banana", (3, 3))
    assert cell == (0, 0) and "banana" in notice
    cell, notice = parse_cell("7,1", (3, 3))
    assert cell == (2, 1) and "outside" in notice
    assert parse_cell("9" * 40, (3, 3))[1] is not None
