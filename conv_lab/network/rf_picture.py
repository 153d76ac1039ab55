"""The receptive-field picture: the analytic box over the input grid, on the measured support of the gradient.

Every cell of a window around the box is one of: padding (dotted grey), an input cell outside the box (white), a cell
the gradient reaches (solid blue), a cell inside the box it never reaches (white, hatched: dilation's gridding holes,
strides landing in the padding), or a cell reached outside the box (blue with a white ×: padding modes that read the
far side). The box clipped to the input is a solid frame, the unclipped box reaching into the padding a dashed one, the
input's edge a grey line. Patterns and line styles carry the meaning, never colour alone. A 1-D input is one strip; a
3-D input shows the depth slice through the box's centre. Past a number of cells a side (fewer for a phone's narrow
picture), each square stands for f×f cells (a square with any hole in it is hatched).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from conv_lab.core.receptive import ReceptiveField
from conv_lab.render.canvas import Canvas
from conv_lab.render.colors import rgb8
from conv_lab.render.fonts import text_width

PAD, OUT, REACHED, HOLE, STRAY = range(5)  # also the priority when f×f cells share one square
GRID_PX = {1: 900, 2: 620}  # the grid's width in pixels, a strip and a plane
MIN_CELL_PX = 6  # smaller squares cannot show a hatch
FILL = {PAD: "#e6e6e6", OUT: "#ffffff", REACHED: "#1f4e9c", HOLE: "#ffffff", STRAY: "#1f4e9c"}
HATCH, DOTS, EDGE, GRID = "#c2410c", "#6b6b6b", "#7a7a7a", "#cfcfcf"
LEGEND = {REACHED: "reached by the gradient (measured)", HOLE: "in the box, never reached (a hole)",
          PAD: "padding (outside the input)", STRAY: "reached outside the box", OUT: "input cell outside the box"}


@dataclass(frozen=True)
class View:
    """What the picture shows: a 2-D window of categories, its first cell and cells per square, and its slice."""

    cats: np.ndarray  # (rows, cols) of PAD … STRAY, one per square
    origin: tuple[int, int]  # input index of the first square's first cell
    factor: int
    box: tuple[tuple[int, int], tuple[int, int]]  # unclipped [start, stop) rows, cols (a strip: rows (0, 1))
    sizes: tuple[int, int]
    depth: int | None = None  # the 3-D slice shown


def _slice(field: ReceptiveField, support: np.ndarray, sizes: tuple[int, ...]):
    """The plane drawn: (2-D support, its sizes, its box, the depth shown for 3-D)."""
    if len(sizes) == 1:
        return support[None, :], (1, sizes[0]), ((0, 1), (field.start[0], field.stop[0])), None
    if len(sizes) == 2:
        return support, sizes, tuple(zip(field.start, field.stop)), None
    (lo, hi), = field.clipped(sizes[:1])
    depth = min(max((lo + hi - 1) // 2, 0), sizes[0] - 1)
    return support[depth], sizes[1:], tuple(zip(field.start[1:], field.stop[1:])), depth


def view(field: ReceptiveField, support: np.ndarray, grid_px: int | None = None) -> View:
    """The categories of a window around the box (a few cells of context on each side), in squares of f×f cells when
    the window has more than `grid_px` (default `GRID_PX`) / `MIN_CELL_PX` cells a side.

    >>> support = np.zeros((6, 6), dtype=bool); support[1, 3] = True
    >>> v = view(ReceptiveField((-1, 2), (2, 5), (1, 1)), support)
    >>> v.origin, v.cats[2:5, 1:6].tolist()
    ((-3, 0), [[0, 0, 0, 0, 0], [1, 3, 3, 3, 1], [1, 3, 2, 3, 1]])
    """
    plane, sizes, box, depth = _slice(field, support, support.shape)
    spans = []
    for axis, ((a, b), n) in enumerate(zip(box, sizes)):
        if sizes[0] == 1 and axis == 0:
            spans.append((0, 1))
            continue
        hits = np.flatnonzero(plane.any(axis=1 - axis))
        if len(hits):  # the cells reached, also outside the box (padding modes that read the far side)
            a, b = min(a, int(hits[0])), max(b, int(hits[-1]) + 1)
        margin = max(2, math.ceil((b - a) * 0.15))
        lo, hi = a - margin, b + margin
        spans.append((min(lo, n - min(n, 3)), max(hi, min(n, 3))))  # a few input cells stay in view
    most = (grid_px or GRID_PX[1 if sizes[0] == 1 else 2]) // MIN_CELL_PX
    factor = max(1, math.ceil(max(hi - lo for lo, hi in spans) / most))
    spans = [(lo, lo + math.ceil((hi - lo) / factor) * factor) if i or sizes[0] > 1 else (lo, hi)
             for i, (lo, hi) in enumerate(spans)]
    rows, cols = (np.arange(lo, hi) for lo, hi in spans)
    inside = ((rows >= 0) & (rows < sizes[0]))[:, None] & ((cols >= 0) & (cols < sizes[1]))[None, :]
    in_box = ((rows >= box[0][0]) & (rows < box[0][1]))[:, None] & ((cols >= box[1][0]) & (cols < box[1][1]))[None, :]
    reached = np.zeros(inside.shape, dtype=bool)
    r_in, c_in = np.clip(rows, 0, sizes[0] - 1), np.clip(cols, 0, sizes[1] - 1)
    reached[inside] = plane[np.ix_(r_in, c_in)][inside]
    cats = np.where(~inside, PAD, np.where(in_box, np.where(reached, REACHED, HOLE), np.where(reached, STRAY, OUT)))
    if factor > 1:
        f_rows = 1 if sizes[0] == 1 else factor
        h, w = cats.shape[0] // f_rows, cats.shape[1] // factor
        cats = cats.reshape(h, f_rows, w, factor).max(axis=(1, 3))
    return View(cats, (spans[0][0], spans[1][0]), factor, box, sizes, depth)


def _pattern(canvas: Canvas, mask: np.ndarray, colour: str, kind: str) -> None:
    """Paint `colour` where `mask` holds: every pixel ('solid'), diagonal stripes ('hatch') or a dot grid ('dots')."""
    ys, xs = np.indices(mask.shape)
    if kind == "hatch":
        mask = mask & ((xs + ys) % 7 < 2)
    elif kind == "dots":
        mask = mask & (xs % 4 == 1) & (ys % 4 == 1)
    canvas.pixels[mask] = rgb8(colour)


def _dashed(canvas: Canvas, left: int, top: int, right: int, bottom: int, width: int = 2) -> None:
    for x in range(left, right, 10):  # 6 px on, 4 off
        canvas.fill(x, top - 1, min(x + 6, right + 1), top - 1 + width, "black")
        canvas.fill(x, bottom - 1, min(x + 6, right + 1), bottom - 1 + width, "black")
    for y in range(top, bottom, 10):
        canvas.fill(left - 1, y, left - 1 + width, min(y + 6, bottom + 1), "black")
        canvas.fill(right - 1, y, right - 1 + width, min(y + 6, bottom + 1), "black")


def rf_png(v: View, grid_px: int | None = None) -> bytes:
    """The picture of a `view` (its grid at most `grid_px` wide): cells, box frames, input edge, labels and a legend.

    >>> rf_png(view(ReceptiveField((0,), (3,), (1,)), np.array([True, False, True, False])))[:4]
    b'\\x89PNG'
    """
    strip = v.sizes[0] == 1
    h, w = v.cats.shape
    cell = int(min(28, max(MIN_CELL_PX, (grid_px or GRID_PX[1 if strip else 2]) // max(w, h))))
    cell_h = max(cell, 30) if strip else cell
    left, top = 30 if (grid_px or 999) < 400 else 44, 30
    grid_w, grid_h = w * cell, h * cell_h
    legend = [k for k in (REACHED, HOLE, PAD, STRAY, OUT) if (v.cats == k).any()]
    dashed = any(a < 0 or b > n for (a, b), n in zip(v.box, v.sizes))
    width = max(left + grid_w + 12, min(560, (grid_px or 999) + left + 12))
    canvas = Canvas(width, top + grid_h + 22 + 24 * (len(legend) + 3))
    cats = np.repeat(np.repeat(v.cats, cell_h, axis=0), cell, axis=1)
    area = canvas.pixels[top:top + grid_h, left:left + grid_w]
    for k, colour in FILL.items():
        area[cats == k] = rgb8(colour)
    sub = Canvas(grid_w, grid_h)
    sub.pixels = area
    _pattern(sub, cats == HOLE, HATCH, "hatch")
    _pattern(sub, cats == PAD, DOTS, "dots")
    if cell >= 6:
        ys, xs = np.indices(cats.shape)
        cy, cx = ys % cell_h - cell_h / 2, xs % cell - cell / 2
        _pattern(sub, (cats == STRAY) & ((np.abs(np.abs(cy) - np.abs(cx)) < 1) & (np.abs(cx) < cell / 3)), "white",
                 "solid")
        area[::cell_h, :] = rgb8(GRID)
        area[:, ::cell] = rgb8(GRID)

    def x_of(i: int) -> int:
        return left + round((i - v.origin[1]) / v.factor * cell)

    def y_of(i: int) -> int:
        return top + (0 if strip else round((i - v.origin[0]) / v.factor * cell_h))

    x0, x1 = max(x_of(0), left), min(x_of(v.sizes[1]), left + grid_w)
    y0, y1 = (top, top + grid_h) if strip else (max(y_of(0), top), min(y_of(v.sizes[0]), top + grid_h))
    xs = {x_of(0), x_of(v.sizes[1])} & set(range(left, left + grid_w + 1))  # the input's edges in view
    ys = set() if strip else {y_of(0), y_of(v.sizes[0])} & set(range(top, top + grid_h + 1))
    for x in xs:
        canvas.fill(x - 1, y0, x + 1, y1, EDGE)
    for y in ys:
        canvas.fill(x0, y - 1, x1, y + 1, EDGE)
    (r0, r1), (c0, c1) = v.box
    if dashed:
        _dashed(canvas, x_of(c0), top if strip else y_of(r0), x_of(c1), top + grid_h if strip else y_of(r1))
    clip = lambda a, n: min(max(a, 0), n)  # noqa: E731
    clipped = (x_of(clip(c0, v.sizes[1])), top if strip else y_of(clip(r0, v.sizes[0])), x_of(clip(c1, v.sizes[1])),
               top + grid_h if strip else y_of(clip(r1, v.sizes[0])))
    if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
        canvas.frame(*clipped, "black", 3)
    for i in sorted({c0, c1 - 1, 0, v.sizes[1] - 1}):
        x = x_of(i) + cell // 2
        if left <= x <= left + grid_w:
            canvas.text(x, top - 10, str(i), 11)
    if not strip:
        for i in sorted({r0, r1 - 1, 0, v.sizes[0] - 1}):
            y = y_of(i) + cell_h // 2
            if top <= y <= top + grid_h:
                canvas.text(left - 6, y, str(i), 11, anchor="rm")
    y = top + grid_h + 22
    for k in legend:
        canvas.fill(left, y - 8, left + 16, y + 8, FILL[k])
        swatch = Canvas(16, 16)
        swatch.pixels = canvas.pixels[y - 8:y + 8, left:left + 16]
        if k in (HOLE, PAD):
            _pattern(swatch, np.ones((16, 16), dtype=bool), HATCH if k == HOLE else DOTS, "hatch" if k == HOLE else "dots")
        if k == STRAY:
            canvas.text(left + 8, y, "×", 13, "white")
        canvas.frame(left, y - 8, left + 16, y + 8, GRID, 1)
        canvas.text(left + 24, y, LEGEND[k], 13, anchor="lm")
        y += 24
    if clipped[2] > clipped[0] and clipped[3] > clipped[1]:
        canvas.fill(left, y - 1, left + 16, y + 2, "black")
        canvas.text(left + 24, y, "the analytic box, clipped to the input", 13, anchor="lm")
        y += 24
    if dashed:
        _dashed(canvas, left, y, left + 16, y)
        canvas.text(left + 24, y, "the unclipped box, reaching into the padding", 13, anchor="lm")
        y += 24
    if xs or ys:
        canvas.fill(left, y - 1, left + 16, y + 1, EDGE)
        canvas.text(left + 24, y, "the input's edge", 13, anchor="lm")
        y += 24
    canvas.pixels = canvas.pixels[:y - 6]  # the legend's last line, and no more
    if v.factor > 1:
        note = f"each square: {v.factor} cells" if strip else f"each square: {v.factor}×{v.factor} cells"
        canvas.text(width - text_width(note, 12) - 8, top + grid_h + 12, note, 12, EDGE, anchor="lm")
    return canvas.png()
