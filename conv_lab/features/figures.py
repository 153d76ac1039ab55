"""Pictures of a feature-map run: one composed image of every map with its kernel, the input channels, one map enlarged.

Everything is composed with numpy and Pillow (matplotlib's colour maps as look-up tables,
nearest/box resizing, text in matplotlib's bundled DejaVu font), not as matplotlib axes: 64 maps
of 224×224 take tens of milliseconds instead of seconds. Every map is drawn at the same
pixels-per-cell as the input, so a strided map looks smaller and a transposed one bigger.
The primitives (colour scales, text, bars) live in `feature_drawing`. The grid's kernels, maps and frames are
numpy blits into one array and its text comes from glyph masks cached per string (issue 17: a rerun's CPU), drawing
exactly the pixels that per-tile Pillow calls drew (tests/test_feature_drawing.py holds that drawing as the oracle).
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from conv_lab.core.params import fmt
from conv_lab.features.banks import Filter, sees_text
from conv_lab.features.drawing import (
    BACKGROUND,
    FRAME,
    INK,
    MUTED,
    ColourScale,
    bar,
    blank,
    colour_scale,
    draw_text,
    encode,
    fit,
    get_font,
    image_format,
    kernel_image,
    kernel_pixels,
    num,
    paste_text,
    resize,
    text_length,
    vertical_bar,
)
from conv_lab.features.patch import CellPatch
from conv_lab.features.runs import FeatureRun

__all__ = ["MAX_DRAWN_MAPS", "ColourScale", "colour_scale", "encode", "image_format", "maps_grid_image",
           "input_image", "enlarged_image"]

MAX_DRAWN_MAPS = 64  # maps drawn in the grid; the rest are listed as not drawn
MAX_DRAWN_INPUTS = 16


def _layout(n: int) -> tuple[int, int]:
    """(columns, map box side in px) for n maps."""
    if n <= 4:
        return max(n, 1), 200
    if n <= 16:
        return 4, 160
    return 8, 120


def maps_grid_image(run: FeatureRun, per_map: bool = True, highlight: int | None = None) -> tuple[bytes, str]:
    """ONE image (PNG/JPEG bytes) of every output map with its kernel beside it, captions and a legend; plus a caption.

    >>> from conv_lab.features.runs import run_feature_maps; from conv_lab.features.images import sample_picture
    >>> from conv_lab.core.spec import ConvSpec
    >>> data, caption = maps_grid_image(run_feature_maps(ConvSpec(3, 4, 3), sample_picture("shapes"), 16, 16))
    >>> data[:4] == b"\\x89PNG", caption
    (True, 'torch.Size([1, 4, 14, 14]): 4 maps')
    """
    maps = run.maps
    total = len(maps)
    drawn = maps[:MAX_DRAWN_MAPS]
    scale = colour_scale(drawn, per_map)
    cols, box = _layout(len(drawn))
    _, _, in_h, in_w = run.prepared.shape
    out_h, out_w = maps.shape[1:]
    ppc = box / max(in_h, in_w, out_h, out_w)  # pixels per cell, the same for input and output
    mh, mw = max(1, round(out_h * ppc)), max(1, round(out_w * ppc))
    shown = _shrink_maps(drawn, mh, mw)
    kside, gap, cap_h = 36, 5, 50
    slices_max = max(len(_kernel_slices(f)) for f in run.filters[:len(drawn)])
    tile_w = kside + gap + max(mw, 124) + 9  # 8 columns stay under Streamlit's 1460 px (wider gets resampled)
    tile_h = max(mh, slices_max * (kside + 4)) + cap_h + 8
    rows = -(-len(drawn) // cols)
    head = 98
    width, height = max(cols * tile_w + 16, 620), head + rows * tile_h + 8
    pixels = blank(height, width)  # kernels, maps and frames as numpy blits, then text on top with Pillow
    colours = scale.colourise_all(shown, mh, mw)
    text_at = []
    for i in range(len(drawn)):
        x0, y0 = 8 + (i % cols) * tile_w, head + (i // cols) * tile_h
        if highlight == i:  # drawn first, as ever: a map wider than 124 px covers the box's right edge
            _highlight(pixels, x0 - 4, y0 - 4, x0 + tile_w - 10, y0 + tile_h - 6)
        ky = y0
        for kernel in _kernel_slices(run.filters[i]):
            k_px = kernel_pixels(kernel, kside)
            pixels[ky:ky + k_px.shape[0], x0:x0 + k_px.shape[1]] = k_px
            _frame(pixels, x0, ky, k_px.shape[1], k_px.shape[0])
            ky += k_px.shape[0] + 4
        mx = x0 + kside + gap
        pixels[y0:y0 + mh, mx:mx + mw] = colours[i]
        _frame(pixels, mx, y0, mw, mh)
        text_at.append((x0, y0 + max(mh, ky - y0 - 4) + 5))
    canvas = Image.fromarray(pixels)
    draw = ImageDraw.Draw(canvas)
    title = f"Output {run.torch_size}" + (" after ReLU" if run.relu else "")
    draw_text(canvas, (8, 6), title, 16, True, INK)
    _legend(canvas, draw, scale, 8, 30, width - 16)
    small, bold = get_font(11), get_font(12, bold=True)
    names = run.prepared.channel_names
    lows, highs = drawn.reshape(len(drawn), -1).min(axis=1), drawn.reshape(len(drawn), -1).max(axis=1)
    text_w = tile_w - 10
    for i, (x0, ty) in enumerate(text_at):
        f = run.filters[i]
        paste_text(canvas, (x0, ty), fit(draw, f"#{i} {f.name}", bold, text_w), 12, True, INK)
        kernel_text = f"{fmt(run.spec.kernel_hw)} on {sees_text(f.sees, names)} → {fmt((out_h, out_w))}"
        paste_text(canvas, (x0, ty + 15), fit(draw, kernel_text, small, text_w), 11, False, MUTED)
        lo, hi = float(lows[i]), float(highs[i])
        paste_text(canvas, (x0, ty + 29), fit(draw, f"values {num(lo)} … {num(hi)}", small, text_w), 11, False, MUTED)
    caption = f"{run.torch_size}: {total} maps" + (f", the first {len(drawn)} drawn" if total > len(drawn) else "")
    return encode(canvas), caption


def _frame(pixels: np.ndarray, x: int, y: int, w: int, h: int) -> None:
    """What `draw.rectangle([x - 1, y - 1, x + w, y + h], outline=FRAME)` draws around a w×h block at (x, y)."""
    pixels[[y - 1, y + h], x - 1:x + w + 1] = FRAME
    pixels[y - 1:y + h + 1, [x - 1, x + w]] = FRAME


def _highlight(pixels: np.ndarray, left: int, top: int, right: int, bottom: int) -> None:
    """The chosen map's orange box, 3 px wide, as `draw.rectangle(..., width=3)` draws it."""
    box = Image.new("RGB", (right - left + 1, bottom - top + 1), BACKGROUND)
    ImageDraw.Draw(box).rectangle([0, 0, right - left, bottom - top], outline=(230, 120, 0), width=3)
    pixels[top:bottom + 1, left:right + 1] = np.asarray(box)


def _shrink_maps(maps: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-average maps larger than their drawing down to it before colouring (one torch call for all)."""
    if height >= maps.shape[1] and width >= maps.shape[2]:
        return maps
    tensor = torch.from_numpy(np.ascontiguousarray(maps))[None]
    size = (min(height, maps.shape[1]), min(width, maps.shape[2]))
    return torch.nn.functional.interpolate(tensor, size=size, mode="area")[0].numpy()


def _kernel_slices(f: Filter) -> list[np.ndarray]:
    """What to draw beside a map: each channel's kernel for random filters on ≤ 3 channels, else the one pattern."""
    if f.kind == "random" and 1 < len(f.sees) <= 3:
        return list(f.weights)
    return [f.weights[0] if f.kind == "classic" else f.kernel]


def _legend(canvas: Image.Image, draw: ImageDraw.ImageDraw, scale: ColourScale, x: int, y: int, width: int) -> None:
    top = "max" if scale.per_map else num(scale.limits[0] if len(scale.limits) else 0)
    kinds = [d for d in (True, False) if (scale.diverging == d).any()]
    for diverging in kinds:
        bar(canvas, draw, diverging, top, x, y + 2)
        x += 176
    font = get_font(11)
    text = scale.legend()
    if text_length(text, 11) > width:  # two lines: the colours, then how the maps are scaled
        colours, where = text.rsplit("; ", 1)
        draw_text(canvas, (8, y + 46), fit(draw, where, font, width), 11, False, INK)
        text = colours
    draw_text(canvas, (8, y + 32), fit(draw, text, font, width), 11, False, INK)


def input_image(run: FeatureRun) -> tuple[bytes, str]:
    """The input channels the layer sees, gray from 0 (black) to 1 (white), one tile each; plus a caption.

    >>> from conv_lab.features.runs import run_feature_maps; from conv_lab.features.images import sample_picture
    >>> from conv_lab.core.spec import ConvSpec
    >>> input_image(run_feature_maps(ConvSpec(1, 2, 3), sample_picture("shapes"), 16, 16))[1]
    'Input torch.Size([1, 1, 16, 16]): gray'
    """
    array = run.prepared.array
    names = run.prepared.channel_names
    shown = array[:MAX_DRAWN_INPUTS]
    side = 150
    h, w = array.shape[1:]
    ppc = side / max(h, w)
    th, tw = max(1, round(h * ppc)), max(1, round(w * ppc))
    canvas = Image.new("RGB", (len(shown) * (tw + 12) + 4, th + 24), BACKGROUND)
    for i, channel in enumerate(shown):
        grey = np.clip(channel * 255 + 0.5, 0, 255).astype(np.uint8)
        canvas.paste(resize(np.stack([grey] * 3, axis=-1), th, tw), (4 + i * (tw + 12), 2))
        draw_text(canvas, (4 + i * (tw + 12), th + 6), f"{i}: {names[i]}", 12, True, INK)
    more = f" (first {len(shown)} drawn)" if len(array) > len(shown) else ""
    listed = ", ".join(names[:8]) + ("…" if len(names) > 8 else "")
    return encode(canvas), f"Input torch.Size([1, {len(array)}, {h}, {w}]): {listed}{more}"


PATCH_INK, PATCH_EDGE = (255, 190, 0), (20, 20, 20)  # the picked cell and the input it read: amber inside black


def _outline(draw: ImageDraw.ImageDraw, left: float, top: float, right: float, bottom: float) -> None:
    """A box visible on any colour: black, amber, black (so it never relies on colour alone)."""
    for grow, ink in ((3, PATCH_EDGE), (2, PATCH_INK), (1, PATCH_INK), (0, PATCH_EDGE)):
        draw.rectangle([left - grow, top - grow, right + grow, bottom + grow], outline=ink)


def enlarged_image(run: FeatureRun, index: int, per_map: bool = True, side: int = 340,
                   patch: CellPatch | None = None) -> bytes:
    """One map large: the input it sees, its kernel with the numbers, the map and its colour bar (and, with `patch`,
    one map cell outlined beside the input cells it read).

    >>> from conv_lab.features.runs import run_feature_maps; from conv_lab.features.images import sample_picture
    >>> from conv_lab.core.spec import ConvSpec
    >>> enlarged_image(run_feature_maps(ConvSpec(3, 2, 3), sample_picture("shapes"), 16, 16), 1)[:4] == b"\\x89PNG"
    True
    """
    maps = run.maps
    index = min(max(0, int(index)), len(maps) - 1)
    f = run.filters[index]
    scale = colour_scale(maps[:MAX_DRAWN_MAPS] if index < MAX_DRAWN_MAPS else maps[index:index + 1], per_map)
    at = min(index, len(scale.limits) - 1)
    in_h, in_w = run.prepared.array.shape[1:]
    out_h, out_w = maps.shape[1:]
    ppc = side / max(in_h, in_w, out_h, out_w)
    ih, iw = max(1, round(in_h * ppc)), max(1, round(in_w * ppc))
    mh, mw = max(1, round(out_h * ppc)), max(1, round(out_w * ppc))
    kernel = f.kernel if f.kind == "random" else f.weights[0]
    kh, kw = kernel.shape
    cell = max(8, min(64, 260 // max(kh, kw)))
    k_w = max(kw * cell, 200)
    gap, head = 28, 30
    panel = max(iw, 190)  # room for the title even when the input is drawn small
    width = 10 + panel + gap + k_w + gap + mw + 80
    height = head + max(ih, mh, kh * cell + 40) + 30 + (16 if patch is not None else 0)
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    bold, small = get_font(13, bold=True), get_font(11)
    seen = run.prepared.array[list(f.sees)].mean(axis=0)
    grey = np.clip(seen * 255 + 0.5, 0, 255).astype(np.uint8)
    x = 10
    canvas.paste(resize(np.stack([grey] * 3, axis=-1), ih, iw), (x, head))
    seen_names = sees_text(f.sees, run.prepared.channel_names)
    seen_title = f"input it sees: {seen_names}" + (" (mean)" if len(f.sees) > 1 else "")
    draw_text(canvas, (x, 8), fit(draw, seen_title, bold, panel + gap - 6), 13, True, INK)
    draw_text(canvas, (x, head + ih + 4), f"{in_h}×{in_w}", 11, False, MUTED)
    if patch is not None:
        (r0, r1), (c0, c1) = patch.clipped
        if r1 > r0 and c1 > c0:
            _outline(draw, x + c0 * iw / in_w, head + r0 * ih / in_h, x + c1 * iw / in_w - 1, head + r1 * ih / in_h - 1)
    x += panel + gap
    canvas.paste(kernel_image(kernel, cell * max(kh, kw)), (x, head))
    if cell >= 26:
        top = float(np.abs(kernel).max()) or 1.0
        for (r, c), v in np.ndenumerate(kernel):
            text = f"{v:.2g}"
            ink = (255, 255, 255) if abs(v) / top > 0.6 else INK
            tx = x + c * cell + (cell - text_length(text, 11)) / 2
            draw_text(canvas, (tx, head + r * cell + cell / 2 - 7), text, 11, False, ink)
    what = ("sum over its channels" if f.kind == "random" and len(f.sees) > 1 else
            f"on each channel ÷{len(f.sees)}" if len(f.sees) > 1 else "kernel")
    draw_text(canvas, (x, 8), fit(draw, f"{f.name} {fmt((kh, kw))}", bold, k_w + gap), 13, True, INK)
    draw_text(canvas, (x, head + kh * cell + 4), fit(draw, what, small, k_w + gap), 11, False, MUTED)
    x += k_w + gap
    canvas.paste(resize(scale.colourise(maps[index], at), mh, mw), (x, head))
    draw.rectangle([x - 1, head - 1, x + mw, head + mh], outline=FRAME)
    title = f"map #{index}: {out_h}×{out_w}" + (" after ReLU" if run.relu else "")
    draw_text(canvas, (x, 8), title, 13, True, INK)
    lo, hi = float(maps[index].min()), float(maps[index].max())
    draw_text(canvas, (x, head + mh + 4), f"values {num(lo)} … {num(hi)}", 11, False, MUTED)
    if patch is not None:
        r, c = patch.cell
        cw, ch = mw / out_w, mh / out_h
        _outline(draw, x + c * cw, head + r * ch, x + (c + 1) * cw - 1, head + (r + 1) * ch - 1)
        draw_text(canvas, (x, head + mh + 18), f"cell {patch.cell} = {num(float(maps[index][r, c]))}", 11, False, INK)
    vertical_bar(canvas, draw, bool(scale.diverging[at]), float(scale.limits[at]), x + mw + 12, head, min(mh, 240))
    return encode(canvas)
