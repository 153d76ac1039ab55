"""The padded-grid picture drawn straight into pixels (numpy + Pillow): the hot path under classroom load.

The categories come from `categories.grid_categories` (input, padding, first window, the
never-covered cells) and are painted with a legend, without building a matplotlib figure: ~2-5 ms instead of
~60 ms per new configuration, and ~3 KB (benchmarks/load.py, issue #9). The cache is keyed on the geometry
only — channels, filters, groups and bias do not change the picture — so students who differ
only in those share one image.
"""

from __future__ import annotations

import io
from dataclasses import replace
from functools import lru_cache

import numpy as np
from PIL import Image, ImageDraw

from conv_lab.core.grid import grid_shape
from conv_lab.core.params import LayerSpec, Sizes, fmt
from conv_lab.core.plane import plane_view
from conv_lab.lab.block_shapes import paste_text
from conv_lab.lab.categories import COLOURS, LABELS, MAX_DRAWN_SIDE, OUTSIDE, grid_categories, overhang_categories
from conv_lab.render.colors import rgb8

GRID_PIXELS = 420  # side of the drawn grid, like the matplotlib figure's axes
STRIP_PIXELS = 840  # width of a 1-D strip, which shows at most STRIP_CELLS positions (its start, where the window is)
STRIP_CELLS = 64
WINDOW_EDGE = rgb8("#b35900")  # the first window's outline
_RGB = np.array([rgb8(colour) for colour in COLOURS], dtype=np.uint8)  # (categories, 3): each category's colour


def geometry_only(spec: LayerSpec) -> LayerSpec:
    """The spec with everything that does not change the picture set to 1 (the cache key).

    >>> geometry_only(ConvSpec(3, 64, 3, stride=2)) == geometry_only(ConvSpec(8, 16, 3, stride=2))
    True
    """
    return replace(spec, in_channels=1, out_channels=1, groups=1, bias=True)


def _is_strip(spec: LayerSpec) -> bool:
    """A 1-D layer's sequence (its 2-D view: one row), drawn as a strip of positions."""
    return getattr(spec, "source_dims", spec.dims) == 1


def grid_caption(spec: LayerSpec, height: int, width: int, full: tuple[int, int], shown: tuple[int, int]) -> str:
    """The caption written under the grid.

    >>> grid_caption(ConvSpec(1, 1, 3, padding=1), 5, 5, (7, 7), (7, 7))
    'Padded input 7×7 = 5×5 input + padding 1/1 rows, 1/1 columns (zeros); first 3×3 window'
    """
    kind = "zero-inserted and padded input" if spec.transposed else "Padded input"
    strip = _is_strip(spec)
    if strip:  # a 1-D sequence: positions, not rows and columns
        caption = f"{kind} of {full[1]} positions" + (f" (first {shown[1]} shown)" if shown != full else "")
    else:
        caption = f"{kind} {fmt(full)}" + (f" (top-left {fmt(shown)} shown)" if shown != full else "")
    top, bottom, left, right = spec.pads()
    if not spec.transposed and strip:
        caption += f" = {width} input positions + padding {left} left, {right} right ({spec.padding_mode})"
    elif not spec.transposed:
        caption += f" = {height}×{width} input + padding {top}/{bottom} rows, {left}/{right} columns ({spec.padding_mode})"
    eh, ew = spec.effective_kernel_hw
    kernel, spans = (spec.kernel_hw[1:], (ew,)) if strip else (spec.kernel_hw, (eh, ew))
    caption += f"; first {fmt(kernel)} window" + (f" dilated to {fmt(spans)}" if spans != kernel else "")
    return caption


def grid_pixels(categories: np.ndarray, cell: int, borders: bool) -> np.ndarray:
    """RGB pixels of a category grid: `cell` px per cell, white 1-px cell borders when asked.

    >>> grid_pixels(np.zeros((2, 3), dtype=np.uint8), 4, True).shape
    (8, 12, 3)
    """
    # Colour the cells first, then repeat them: indexing the colour table once per cell, not once per pixel, cut
    # this from ~4 ms to ~1.3 ms of the picture worker's time for a 420-pixel grid (issue 17).
    pixels = np.repeat(np.repeat(_RGB[categories], cell, axis=0), cell, axis=1)
    if borders:
        pixels[::cell, :] = 255
        pixels[:, ::cell] = 255
    return pixels


@lru_cache(maxsize=1)
def _palette() -> Image.Image:
    """Exact category colours, the outlines, and a grey ramp for anti-aliased text."""
    colours = [tuple(int(v) for v in rgb) for rgb in _RGB] + [WINDOW_EDGE, (60, 60, 60), (153, 153, 153)]
    colours += [(g, g, g) for g in range(0, 256, 15)] + [(255, 255, 255)]
    palette = Image.new("P", (1, 1))
    palette.putpalette([v for colour in colours for v in colour] + [0] * 3 * (256 - len(colours)))
    return palette


def _render(spec: LayerSpec, height: int, width: int) -> tuple[bytes, str]:
    grid = grid_categories(spec, height, width, STRIP_CELLS if _is_strip(spec) else MAX_DRAWN_SIDE)  # what is shown
    full = grid_shape(spec, height, width)
    return _draw(spec, grid, lambda shown: grid_caption(spec, height, width, full, shown))


def _draw(spec: LayerSpec, grid: np.ndarray, caption_of, title: str = "") -> tuple[bytes, str]:
    """The category grid in pixels with its legend; `caption_of(shown shape)` writes the caption."""
    strip = _is_strip(spec)
    shown = grid[:, :STRIP_CELLS] if strip else grid[:MAX_DRAWN_SIDE, :MAX_DRAWN_SIDE]
    rows, cols = shown.shape
    cell = max(1, min(48, STRIP_PIXELS // cols)) if strip else max(1, GRID_PIXELS // max(rows, cols))
    pixels = grid_pixels(shown, cell, borders=max(rows, cols) <= 64)
    margin, line = 12, 18
    present = sorted(set(np.unique(shown).tolist()))
    legend_rows = (len(present) + 1) // 2
    canvas_w = max(pixels.shape[1] + 2 * margin, 460)
    canvas_h = line + 8 + pixels.shape[0] + 12 + legend_rows * line + margin
    image = Image.new("RGB", (canvas_w, canvas_h), "white")
    left, top = (canvas_w - pixels.shape[1]) // 2, line + 8
    image.paste(Image.fromarray(pixels), (left, top))
    draw = ImageDraw.Draw(image)
    draw.rectangle([left - 1, top - 1, left + pixels.shape[1], top + pixels.shape[0]], outline=(60, 60, 60))
    eh, ew = spec.effective_kernel_hw
    draw.rectangle([left, top, left + min(ew, cols) * cell - 1, top + min(eh, rows) * cell - 1], outline=WINDOW_EDGE,
                   width=max(1, min(3, cell // 3)))
    caption = caption_of(shown.shape)
    title = title or caption.split(" = ")[0].split(";")[0]
    paste_text(image, canvas_w // 2, 4, title, 12, anchor="m", colour=(0, 0, 0))  # cached glyphs: legends repeat
    y0 = top + pixels.shape[0] + 12
    for i, category in enumerate(present):
        x, y = margin + (i % 2) * (canvas_w // 2), y0 + (i // 2) * line
        draw.rectangle([x, y + 2, x + 18, y + 12], fill=tuple(int(v) for v in _RGB[category]), outline=(153, 153, 153))
        paste_text(image, x + 24, y, LABELS[category], 12, colour=(0, 0, 0))
    buffer = io.BytesIO()
    # A palette PNG: ~3 KB, and Streamlit's st.image keeps it as PNG (an RGB PNG it re-encodes as a ~50 KB JPEG).
    image.quantize(palette=_palette(), dither=Image.Dither.NONE).save(buffer, format="PNG")
    return buffer.getvalue(), caption


@lru_cache(maxsize=512)
def _cached(spec: LayerSpec, height: int, width: int) -> tuple[bytes, str]:
    return _render(spec, height, width)


@lru_cache(maxsize=128)
def overhang_png(spec: LayerSpec, input_size: Sizes) -> tuple[bytes, str]:
    """An impossible layer's picture: the padded input and the first window sticking out past it.

    >>> png, caption = overhang_png(ConvSpec(1, 1, 5, dims=1), (3,))
    >>> caption
    'The 5 kernel spans 5 cells but the padded input has only 3: 2 taps have no input under them'
    """
    view = plane_view(spec)
    height, width = (1, input_size[0]) if len(input_size) == 1 else input_size[-2:]
    grid = overhang_categories(view, height, width)
    outside = int((grid == OUTSIDE).sum())
    kernel = view.kernel_hw[1:] if _is_strip(view) else view.kernel_hw
    spans = view.effective_kernel_hw[1:] if _is_strip(view) else view.effective_kernel_hw
    padded = grid_shape(view, height, width)[1 if _is_strip(view) else 0:]
    caption = (f"The {fmt(kernel)} kernel spans {fmt(spans)} cells but the padded input has only {fmt(padded)}: "
               f"{outside} tap{'s' * (outside != 1)} have no input under them")
    return _draw(view, grid, lambda shown: caption, "The first window sticks out of the padded input")


def layer_grid_png(spec: LayerSpec, input_size: Sizes) -> tuple[bytes, str]:
    """The padded-grid picture of a layer in any dimension: a strip for 1-D, one depth slice's plane for 3-D.

    >>> png, caption = layer_grid_png(ConvSpec(1, 1, 3, padding="causal", dims=1), (10,))
    >>> caption
    'Padded input of 12 positions = 10 input positions + padding 2 left, 0 right (zeros); first 3 window'
    """
    view = plane_view(spec)
    height, width = (1, input_size[0]) if len(input_size) == 1 else input_size[-2:]
    png, caption = padded_grid_png(view, height, width)
    if spec.dims == 3:
        (front, back), kd = spec.pad_pairs()[0], spec.kernel_nd[0]
        caption += (f". One of {input_size[0]} depth slices (+ {front}/{back} padded slices in front/behind): the "
                    f"kernel also spans {kd} slices in depth")
    return png, caption


def padded_grid_png(spec: LayerSpec, height: int, width: int) -> tuple[bytes, str]:
    """PNG of the padded grid with the first window and never-covered cells, plus its caption (cached).

    >>> png, caption = padded_grid_png(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6)
    >>> png[:4] == b"\\x89PNG", caption.startswith("Padded input 8×8")
    (True, True)
    """
    return _cached(geometry_only(spec), height, width)
