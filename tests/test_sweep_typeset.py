"""The sweep animation's fast drawing paths against matplotlib's own (issue 17 item 4: a render at half the CPU).

Text drawn by `sweep.typeset` (matplotlib's FreeType binding, no Figure) must land where `fig.text` puts it, the
cell images drawn 1:1 must be `fig.figimage`'s pixels exactly, and the palette lookup must still refuse a colour
outside the palette.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab.sweep.drawing import (
    GLYPHS,
    HEIGHT,
    WIDTH,
    CellImage,
    add_box,
    glyph_alpha,
    palette,
    shape_indices,
    shapes_figure,
)
from conv_lab.sweep.typeset import inked, stamp

WORDS = ["Conv2d 3→8, kernel 3×3, stride 1×1, padding 1/1/1/1 zeros · filter 0", "padded input 14×14, channel 0",
         "output done", "never read", "−7", "8", "0.25", "ch 3", "max of a 3×3 window\nstride 2×2", "gjpqy ÀÉ"]


def matplotlib_coverage(x, y, text, size, bold, ha, va, family) -> np.ndarray:
    """What the animation drew before issue 17: a fig.text, black on white, read back as coverage."""
    fig = shapes_figure()
    fig.text(x / WIDTH, 1 - y / HEIGHT, text, fontsize=size, weight="bold" if bold else "normal", ha=ha, va=va,
             family=family, color="black")
    fig.canvas.draw()
    return 1.0 - np.asarray(fig.canvas.buffer_rgba())[:, :, 0].astype(np.float32) / 255.0


def ink_box(coverage: np.ndarray) -> tuple[int, int, int, int]:
    rows, cols = np.nonzero(coverage > 0.3)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(WORDS) | st.text(st.sampled_from(GLYPHS[1:]), min_size=1, max_size=12),
       st.floats(40, 900), st.floats(40, 700), st.sampled_from([7.2, 10, 11, 11.5, 12, 13, 15, 21.6]), st.booleans(),
       st.sampled_from([("left", "center", "sans-serif"), ("left", "top", "sans-serif"),
                        ("center", "center_baseline", "DejaVu Sans Mono")]))
def test_text_lands_where_fig_text_puts_it(text, x, y, size, bold, where):
    ha, va, family = where
    if va == "center_baseline":
        text = text.split("\n")[0] or "8"  # the glyph atlas: one line
    theirs = matplotlib_coverage(x, y, text, size, bold, ha, va, family)
    ours = np.zeros((HEIGHT, WIDTH), np.float32)
    stamp(ours, x, y, text, size, bold, ha, va, family)
    if (theirs > 0.3).sum() < 3 or not all(1 < box[2] < box[3] < WIDTH - 2 for box in map(ink_box, (ours, theirs))):
        return  # a space or a hairline, or a text past the frame's edge: nothing to compare
    # The same glyphs on whole pixels, laid out by FreeType's hinted advances (matplotlib ≥ 3.11 places each glyph
    # to 1/64 pixel): the ink box within 2 pixels on every side, as much ink.
    assert max(abs(a - b) for a, b in zip(ink_box(ours), ink_box(theirs))) <= 2, (text, ink_box(ours), ink_box(theirs))
    assert ours.sum() == pytest.approx(theirs.sum(), rel=0.12)


def test_text_bitmaps_are_cached_and_read_only():
    first = inked("taps, outlined", 11.5)
    assert inked("taps, outlined", 11.5) is first
    with pytest.raises(ValueError):
        first.alpha[0, 0] = 0


def test_glyph_atlas_cells_hold_each_glyph_centred():
    alpha, w, h = glyph_alpha(20)
    for ch in "0−8∞":
        cell = alpha[:, GLYPHS.index(ch) * w:(GLYPHS.index(ch) + 1) * w]
        rows, cols = np.nonzero(cell > 0.3)
        assert len(rows), ch
        assert abs((cols.min() + cols.max()) / 2 - (w - 1) / 2) <= 1.5, ch  # centred, as ha="center"
        assert 0 < rows.min() and rows.max() < h - 1, ch  # inside its cell


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 12), st.integers(1, 12), st.integers(2, 30), st.integers(2, 30), st.integers(0, 500),
       st.integers(0, 400), st.integers(0, 2**31))
def test_cell_images_are_figimage_pixels(rows, cols, cw, ch, x, y, seed):
    fills = np.random.default_rng(seed).integers(0, len(palette().flat), (rows, cols))
    pixels = np.repeat(np.repeat(palette().rgba[fills], ch, axis=0), cw, axis=1)
    before, after = shapes_figure(), shapes_figure()
    for fig in (before, after):
        add_box(fig, 20, 20, 700, 600, "#dde9f5")
    before.figimage(pixels, x, y, origin="upper", zorder=2)
    image = CellImage(np.ascontiguousarray(pixels[::-1]), x, y)
    image.set_zorder(2)
    after.add_artist(image)
    np.testing.assert_array_equal(shape_indices(after), shape_indices(before))


def test_palette_lookup_reads_every_flat_colour_and_refuses_others():
    fig = shapes_figure()
    for i, name in enumerate(palette().flat):
        add_box(fig, 10 + 30 * i, 10, 20, 20, name)
    indices = shape_indices(fig)
    assert [int(indices[20, 20 + 30 * i]) for i in range(len(palette().flat))] == list(palette().flat.values())
    add_box(fig, 10, 100, 20, 20, "#123457")
    with pytest.raises(ValueError, match="outside the palette"):
        shape_indices(fig)


def test_palette_lookup_without_a_telling_channel_sorts_and_searches(monkeypatch):
    from conv_lab.sweep import drawing

    fig = shapes_figure()
    for i, name in enumerate(palette().flat):
        add_box(fig, 10 + 30 * i, 10, 20, 20, name)
    by_channel = shape_indices(fig)
    _, table, keys = drawing._flat_lookup()
    monkeypatch.setattr(drawing, "_flat_lookup", lambda: (None, table, keys))
    np.testing.assert_array_equal(shape_indices(fig), by_channel)
    add_box(fig, 10, 100, 20, 20, "#123457")
    with pytest.raises(ValueError, match="outside the palette"):
        shape_indices(fig)
