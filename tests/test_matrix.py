"""Convolution as a matrix: torch is the oracle for C, Cᵀ, im2col and the output_padding ambiguity."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image
from torch import nn

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.core.state import LabConfig
from conv_lab.matrix import pictures
from conv_lab.matrix.figures import Panel, matrix_png, tap_colours
from conv_lab.matrix.geometry import (
    FOLDED,
    ZERO,
    conv_matrix,
    geometry,
    is_padding_column,
    padded_matrix,
    tap_ids,
    window_cells,
)
from conv_lab.matrix.pictures import (
    MatrixChoice,
    im2col_panels,
    im2col_picture,
    matrix_picture,
    pair_picture,
    product_panels,
    product_picture,
    product_text,
    product_uses_block,
    window_picture,
)
from conv_lab.matrix.run import im2col, matrix_bundle, matrix_example, transpose_check
from conv_lab.matrix.text import ambiguity, block, parse_matrix_options, same_output_sizes, smaller_config
from conv_lab.render.canvas import Canvas

from conftest import n_examples

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


def _run_module(spec: ConvSpec, height: int, width: int, seed: int):
    """The seeded module's weight, a random input (a tensor), the module's output on it and its bias (numpy)."""
    module, weight = _module(spec, seed)
    x = torch.randn(1, spec.in_channels, height, width, dtype=torch.float64)
    with torch.no_grad():
        expected = module(x)[0].numpy()
    bias = module.bias.detach().numpy() if spec.bias else np.zeros(spec.out_channels)
    return weight, x, expected, bias


@settings(max_examples=n_examples(150))
@given(direct_layers(), st.integers(0, 10_000))
def test_c_times_x_is_the_module_output(layer, seed):
    spec, height, width = layer
    weight, x, expected, bias = _run_module(spec, height, width, seed)
    geom = geometry(spec, height, width)
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
    weight, x, expected, bias = _run_module(spec, height, width, seed)
    geom = geometry(spec, height, width)
    assert geom.direct.in_channels == spec.out_channels and not geom.direct.transposed
    assert geom.grid_hw == expected.shape[-2:] and geom.out_hw == (height, width)
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


def parse_cell(raw, out_hw):
    """The cell the page reads from a URL value, and the first notice (None when there was none)."""
    options, notices = parse_matrix_options({} if raw is None else {"cell": raw}, geometry(ConvSpec(1, 1, 1), *out_hw))
    return options.cell, (notices or [None])[0]


def test_parse_cell_clamps_with_a_notice():
    assert parse_cell("1,2", (3, 3)) == ((1, 2), None)
    assert parse_cell(None, (3, 3)) == ((0, 0), None)
    cell, notice = parse_cell("banana", (3, 3))
    assert cell == (0, 0) and "banana" in notice
    cell, notice = parse_cell("7,1", (3, 3))
    assert cell == (2, 1) and "outside" in notice
    assert parse_cell("9" * 40, (3, 3))[1] is not None


# --- the page's pictures: what they show, their colours, and their caches ---------------------------------------

@settings(max_examples=n_examples(100))
@given(st.one_of(direct_layers(), transposed_layers()), st.data())
def test_block_products_add_up_to_the_module_output(layer, data):
    """y = C·x drawn for one block is that block's share: the shares over the blocks of one output channel,
    plus the bias, are the real module's output (torch is the oracle)."""
    spec, height, width = layer
    geom = geometry(spec, height, width)
    d, example = geom.direct, matrix_bundle(spec, height, width).example
    if spec.transposed:  # layer output channel c collects the shares of every layer input channel (C's filters)
        out_channel = data.draw(st.integers(0, d.in_channels - 1))
        blocks = [(f, out_channel) for f in range(d.out_channels)]
    else:  # filter f collects the shares of every input channel
        out_channel = data.draw(st.integers(0, d.out_channels - 1))
        blocks = [(out_channel, c) for c in range(d.in_channels)]
    total = 0
    for f, c in blocks:
        choice = MatrixChoice(spec, height, width, whole=False, filter_index=f, channel=c)
        c_panel, x_panel, y_panel = product_panels(choice)
        shown = block(example.matrix, geom, f, c)
        np.testing.assert_array_equal(c_panel.values, shown.T if spec.transposed else shown)
        np.testing.assert_array_equal(x_panel.values.ravel(), example.x[f if spec.transposed else c].ravel())
        total = total + y_panel.values.ravel()
        assert product_uses_block(choice) and "block filter" in product_text(choice)
    expected = example.y_module[out_channel] - example.bias[out_channel]
    np.testing.assert_allclose(total, expected.ravel(), atol=1e-9)
    whole = MatrixChoice(spec, height, width)
    if not product_uses_block(whole):
        c_panel, _, y_panel = product_panels(whole)
        assert c_panel.values.shape == (example.matrix.T if spec.transposed else example.matrix).shape
        np.testing.assert_allclose(y_panel.values.ravel(), (example.y_module - example.bias[:, None, None]).ravel(),
                                   atol=1e-9)


@settings(max_examples=n_examples(60))
@given(st.one_of(direct_layers(), transposed_layers()))
def test_im2col_patch_rows_take_the_colour_of_the_weight_they_meet(layer):
    spec, height, width = layer
    panels = im2col_panels(MatrixChoice(spec, height, width))
    if spec.transposed:  # filtersᵀ · x = columns (then fold): the columns' rows meet the filter matrix's columns
        filters, patches = Panel(panels[0].name, panels[0].values.T, panels[0].taps.T), panels[2]
    else:  # filter matrix · patches = output
        filters, patches = panels[0], panels[1]
    n_taps = spec.kernel_hw[0] * spec.kernel_hw[1]
    assert patches.tint and patches.taps.shape == patches.values.shape
    for r in range(patches.taps.shape[0]):  # row r of the patches meets column r of the filter matrix
        assert set(patches.taps[r]) == {r % n_taps}
        assert set(filters.taps[:, r]) <= {r % n_taps, ZERO}


def _pixels(png: bytes) -> set[tuple[int, int, int]]:
    return {tuple(p) for p in np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3).tolist()}


def test_pictures_paint_each_weight_in_its_colour():
    colours = {tuple(int(round(255 * v)) for v in c) for c in tap_colours(4)}
    assert colours <= _pixels(matrix_png(np.array([[0, 1, -1], [2, 3, -1]]), None, 4, title="C"))
    choice = MatrixChoice(ConvSpec(1, 1, 2), 3, 3)
    tints = {tuple(int(round(255 * (0.5 * v + 0.5))) for v in c) for c in tap_colours(4)}
    pixels = _pixels(im2col_picture(choice))
    assert colours <= pixels and tints <= pixels  # filter matrix columns in full colour, patch rows tinted
    assert Image.open(io.BytesIO(window_picture(choice))).size[0] >= 400


def test_canvas_paints_cells_lines_and_frames_where_asked():
    canvas = Canvas(40, 30)
    grid = canvas.cells(np.array([[[1, 0, 0], [0, 0, 1]]], dtype=float), 5, 5, 10, line="black")
    assert grid.box == (5, 5, 25, 15)
    assert tuple(canvas.pixels[10, 10]) == (255, 0, 0) and tuple(canvas.pixels[10, 20]) == (0, 0, 255)
    assert tuple(canvas.pixels[10, 15]) == (0, 0, 0)  # the line between the two cells
    assert tuple(canvas.pixels[2, 2]) == (255, 255, 255)
    canvas.frame(0, 20, 40, 30, "#00ff00", 2)
    assert tuple(canvas.pixels[20, 30]) == (0, 255, 0) and tuple(canvas.pixels[25, 20]) == (255, 255, 255)
    canvas.text(20, 25, "1", 8)
    assert Image.open(io.BytesIO(canvas.png())).size == (40, 30)


def test_pictures_are_cached_by_what_they_depend_on():
    choice = MatrixChoice(ConvSpec(2, 2, 3, padding=1), 5, 5)
    kinds = (window_picture, matrix_picture, product_picture, pair_picture, im2col_picture)
    pictures.cache_clear()
    first = [kind(choice) for kind in kinds]
    assert all(kind(choice) is png for kind, png in zip(kinds, first))  # a repeat is a look-up
    assert matrix_bundle.cache_info().currsize == 1  # C, tap ids and torch runs: once per layer
    toggled = replace(choice, padded=True)
    assert im2col_picture(toggled) is first[4] and product_picture(toggled) is first[2]
    assert matrix_picture(toggled) != first[1] and window_picture(toggled) != first[0]
    moved = replace(choice, cell=(2, 1))
    assert all(kind(moved) != png for kind, png in zip(kinds, first))  # every picture follows the cell
    assert matrix_picture(replace(choice, channel=1)) is first[1]  # the whole C does not depend on the channel
    assert matrix_picture(replace(choice, whole=False, channel=1)) != first[1]
    assert matrix_bundle.cache_info().currsize == 1
    for cached in (pictures._window, pictures._c_matrix, pictures._pair, pictures._product, pictures._im2col):
        assert cached.cache_info().maxsize == limits.MATRIX_CACHED_PICTURES


def test_whole_product_too_small_to_read_is_drawn_for_the_chosen_block():
    choice = MatrixChoice(ConvSpec(3, 16, 3), 7, 7, filter_index=2, channel=1)  # C is 400×147: 2.5 px cells
    assert product_uses_block(choice)
    assert product_text(choice).startswith("The whole C (400×147) would be too small to read here")
    assert [p.values.shape for p in product_panels(choice)] == [(25, 49), (49, 1), (25, 1)]
    assert not product_uses_block(MatrixChoice(ConvSpec(2, 2, 3), 4, 4))
