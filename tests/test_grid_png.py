"""conv_lab.lab.grid_picture: the fast padded-grid picture shows exactly figures.grid_categories, with the same caption."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.grid import grid_shape
from conv_lab.core.spec import ConvSpec
from conv_lab.lab import categories as figures
from conv_lab.lab import grid_picture as grid_png

from conftest import n_examples


@st.composite
def specs(draw):
    transposed = draw(st.booleans())
    stride = draw(st.integers(1, 3))
    padding = draw(st.integers(0, 3)) if transposed else draw(st.sampled_from([0, 1, 2, 3, "same", "valid"]))
    try:
        spec = ConvSpec(draw(st.integers(1, 4)), draw(st.integers(1, 8)),
                        (draw(st.integers(1, 7)), draw(st.integers(1, 7))), stride=stride, padding=padding,
                        dilation=draw(st.integers(1, 3)), transposed=transposed,
                        output_padding=draw(st.integers(0, stride - 1)) if transposed else 0)
    except ConvConfigError:
        assume(False)
    return spec, draw(st.integers(1, 60)), draw(st.integers(1, 60))


@settings(max_examples=n_examples(60, 15))
@given(specs())
def test_pixels_show_the_categories_with_their_caption(case):
    spec, height, width = case
    try:
        categories = figures.grid_categories(spec, height, width)
        png, caption = grid_png.padded_grid_png(spec, height, width)
    except ConvConfigError:
        assume(False)
    assert caption == grid_png.grid_caption(spec, height, width, categories.shape,
                                            categories[:figures.MAX_DRAWN_SIDE, :figures.MAX_DRAWN_SIDE].shape)
    image = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
    shown = categories[:figures.MAX_DRAWN_SIDE, :figures.MAX_DRAWN_SIDE]
    rows, cols = shown.shape
    cell = max(1, grid_png.GRID_PIXELS // max(rows, cols))
    # find the grid on the canvas by its top-left: the first window's outline starts there
    left = (image.shape[1] - cols * cell) // 2
    top = 18 + 8
    centres = image[top + cell // 2: top + rows * cell: cell, left + cell // 2: left + cols * cell: cell]
    expected = grid_png._RGB[shown]
    inner = slice(1, -1) if min(rows, cols) > 2 else slice(None)
    if cell >= 6:  # the window outline covers only the cells' edges; centres keep their colour
        assert np.array_equal(centres[inner, inner], expected[inner, inner])


@settings(max_examples=n_examples(80, 20))
@given(specs(), st.integers(1, 40))
def test_a_picture_builds_only_the_corner_it_shows(case, max_side):
    """The corner the picture draws is the whole grid's corner (never-covered cells included), and the caption's
    full size comes from the layer alone: a transposed layer on 512×512 no longer builds its ~17 M-cell grid."""
    spec, height, width = case
    try:
        whole = figures.grid_categories(spec, height, width)
    except ConvConfigError:
        assume(False)
    corner = figures.grid_categories(spec, height, width, max_side)
    assert np.array_equal(corner, whole[:max_side, :max_side])
    assert grid_shape(spec, height, width) == whole.shape


def test_a_huge_transposed_grid_is_drawn_from_its_corner():
    spec = ConvSpec(256, 512, 15, stride=8, output_padding=7, transposed=True)
    png, caption = grid_png.padded_grid_png(spec, 512, 512)
    assert png[:4] == b"\x89PNG"
    assert caption.startswith("zero-inserted and padded input 4124×4124 (top-left 384×384 shown)"), caption


def test_channels_do_not_change_the_picture_or_miss_the_cache():
    grid_png._cached.cache_clear()
    a = grid_png.padded_grid_png(ConvSpec(3, 64, 3, stride=2, padding=1), 20, 20)
    b = grid_png.padded_grid_png(ConvSpec(8, 16, 3, stride=2, padding=1, bias=False), 20, 20)
    assert a == b and grid_png._cached.cache_info().hits == 1


def test_captions_say_what_the_grid_is():
    _, caption = grid_png.padded_grid_png(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6)
    assert caption == "Padded input 8×8 = 6×6 input + padding 1/1 rows, 1/1 columns (zeros); first 3×3 window"
    _, caption = grid_png.padded_grid_png(ConvSpec(1, 1, 3, dilation=2, padding="same", padding_mode="reflect"), 9, 9)
    assert caption.endswith("padding 2/2 rows, 2/2 columns (reflect); first 3×3 window dilated to 5×5")
    _, caption = grid_png.padded_grid_png(ConvSpec(1, 1, 4, stride=2, padding=1, transposed=True), 16, 16)
    assert caption.startswith("zero-inserted and padded input 35×35")
