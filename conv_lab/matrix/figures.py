"""Pictures of convolution as a matrix: C coloured per kernel weight, Cᵀ beside it, the window, im2col.

Every cell of C that holds a kernel weight gets that weight's colour (the same colour in the
kernel, the window and the im2col pictures), so the repeating diagonal pattern shows. Sized for a
projector: cells up to 44 px, labels 15–21 px, numbers only where they are readable (cells ≥ 16 px).
Painted on a `render.canvas.Canvas` (numpy + Pillow): ~10–40 ms a picture instead of matplotlib's 150–450.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

from conv_lab.matrix.geometry import FOLDED, ZERO, MatrixGeometry, window_cells
from conv_lab.render.canvas import Canvas, GridBox
from conv_lab.render.colors import rgb
from conv_lab.render.fonts import text_width

WHITE, PAD_GREY, INPUT_BLUE, FOLDED_COLOUR = "#ffffff", "#d9d9d9", "#dcebf8", "#5b2c6f"
HIGHLIGHT, CELL_LINE, INPUT_EDGE = "#ffe14d", "#bbbbbb", "#1f4e79"
TAB = [colormaps["tab10"](i) for i in range(10)] + [colormaps["tab20"](2 * i + 1) for i in range(10)]
MAX_TEXT_CELLS = 1200  # numbers drawn in one picture at most
TITLE_PX, LABEL_PX, SIGN_PX = 21, 17, 36  # title, axis label and '·'/'=' sizes in pixels


def tap_colours(n_taps: int) -> np.ndarray:
    """One RGB colour per kernel tap: distinct hues for up to 20 taps, a rainbow beyond.

    >>> tap_colours(9).shape
    (9, 3)
    """
    if n_taps <= len(TAB):
        return np.array([c[:3] for c in TAB[:n_taps]])
    return colormaps["turbo"](np.linspace(0.05, 0.95, n_taps))[:, :3]


def _image(taps: np.ndarray, n_taps: int, grey_cols: np.ndarray | None, tint: bool = False) -> np.ndarray:
    """Cell colours: a tap's colour (faded when `tint`), dark purple for sums, white for zeros, grey padding."""
    colours = tap_colours(n_taps)
    image = np.ones((*taps.shape, 3))
    nonzero = taps >= 0
    image[nonzero] = colours[taps[nonzero]] * (0.5 if tint else 1) + (0.5 if tint else 0)
    image[taps == FOLDED] = rgb(FOLDED_COLOUR)
    if grey_cols is not None and grey_cols.any():  # padding columns: greyed, their weights faded
        grey = rgb(PAD_GREY)
        column = 0.45 * image[:, grey_cols] + 0.55 * grey
        column[taps[:, grey_cols] == ZERO] = grey
        image[:, grey_cols] = column
    return image


def _text_colour(colour: np.ndarray) -> tuple[int, int, int]:
    return (0, 0, 0) if colour @ np.array([0.299, 0.587, 0.114]) > 0.5 else (255, 255, 255)


def _fmt(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".replace("0.", ".")


def _number_px(cell: float) -> int:
    return int(min(19, cell * 0.58))


def _cell_px(n_rows: int, n_cols: int, width_px: float = 1150, height_px: float = 900) -> float:
    return float(max(2.0, min(44.0, width_px / max(1, n_cols), height_px / max(1, n_rows))))


def _draw(canvas: Canvas, left: float, top: float, cell: float, taps: np.ndarray, values: np.ndarray | None,
          n_taps: int, *, grey_cols=None, rows=(), cols=(), fill_rows=(), fill_cols=(), row_blocks: int = 0,
          col_blocks: int = 0, tint: bool = False, all_numbers: bool = False) -> GridBox:
    """One matrix: colours per tap, yellow filled rows/columns, thin cell lines, block separators, black frames
    around the selected rows/columns, then numbers (non-zeros, or every cell when `all_numbers`)."""
    image = _image(taps, n_taps, grey_cols, tint)
    for r in fill_rows:
        image[r] = rgb(HIGHLIGHT)
    for c in fill_cols:
        image[:, c] = rgb(HIGHLIGHT)
    n_rows, n_cols = taps.shape
    lines = cell >= 9 and max(n_rows, n_cols) <= 120
    grid = canvas.cells(image, left, top, cell, line=CELL_LINE if lines else None)
    canvas.lines(grid, "black", 1, (0, n_rows), (0, n_cols))  # the outer frame
    separators = [range(step, n, step) if step and step < n else () for step, n in ((row_blocks, n_rows),
                                                                                     (col_blocks, n_cols))]
    canvas.lines(grid, "black", 2, *separators)
    x0, y0, x1, y1 = grid.box
    for r in set(rows) | set(fill_rows):
        canvas.frame(x0, grid.row_edges[r], x1, grid.row_edges[r + 1], width=3 if r in rows else 2)
    for c in set(cols) | set(fill_cols):
        canvas.frame(grid.col_edges[c], y0, grid.col_edges[c + 1], y1, width=3 if c in cols else 2)
    if values is not None and cell >= 16:
        shown = np.argwhere(np.ones_like(taps, dtype=bool) if all_numbers else taps != ZERO)
        if len(shown) <= MAX_TEXT_CELLS:
            for r, c in shown:
                canvas.text(*grid.centre(r, c), _fmt(values[r, c]), _number_px(cell), _text_colour(image[r, c]))
    return grid


def grid_labels(hw: tuple[int, int], channels: int = 1, prefix: str = "c", dims: int = 2) -> list[str]:
    """'(r,c)' per flattened cell ('(c)' for a 1-D layer's row), with a channel (or filter) prefix when there are several.

    >>> grid_labels((1, 2), 2), grid_labels((1, 2), dims=1)
    (['c0(0,0)', 'c0(0,1)', 'c1(0,0)', 'c1(0,1)'], ['(0)', '(1)'])
    """
    return [(f"{prefix}{ch}" if channels > 1 else "") + (f"({c})" if dims == 1 else f"({r},{c})")
            for ch in range(channels) for r in range(hw[0]) for c in range(hw[1])]


def matrix_png(taps: np.ndarray, values: np.ndarray | None, n_taps: int, *, title: str, row_labels=None,
               col_labels=None, grey_cols=None, rows=(), cols=(), row_blocks: int = 0, col_blocks: int = 0,
               row_axis: str = "output cell", col_axis: str = "input cell") -> bytes:
    """PNG of one matrix (C, Cᵀ or a block), non-zeros coloured per kernel weight, cells labelled when readable.

    >>> matrix_png(np.array([[0, 1, -1]]), None, 2, title="C")[:4] == b"\\x89PNG"
    True
    """
    n_rows, n_cols = taps.shape
    cell = _cell_px(n_rows, n_cols, height_px=1400)
    tick_px = 15 if cell >= 20 else 13
    row_labels = row_labels if cell >= 12 else None
    col_labels = col_labels if cell >= 12 else None
    row_room = max(text_width(t, tick_px) for t in row_labels) + 8 if row_labels else 0
    col_room = max(text_width(t, tick_px) for t in col_labels) + 8 if col_labels else 0
    xlabel = f"columns: {col_axis}s ({n_cols})"
    ylabel = f"rows: {row_axis}s ({n_rows})"
    left, top = 12 + 26 + row_room, 12 + 34 + col_room
    grid_w, grid_h = n_cols * cell, n_rows * cell
    width = max(left + grid_w + 24, text_width(xlabel, LABEL_PX) + left + 24, text_width(title, TITLE_PX) + 40)
    height = max(top + grid_h + 40, text_width(ylabel, LABEL_PX) + top + 40)
    canvas = Canvas(width, height)
    grid = _draw(canvas, left, top, cell, taps, values, n_taps, grey_cols=grey_cols, rows=rows, cols=cols,
                 row_blocks=row_blocks, col_blocks=col_blocks)
    x0, y0, x1, y1 = grid.box
    for r, label in enumerate(row_labels or ()):
        canvas.text(x0 - 5, grid.centre(r, 0)[1], label, tick_px, anchor="rm")
    for c, label in enumerate(col_labels or ()):
        canvas.text(grid.centre(0, c)[0], y0 - 5, label, tick_px, anchor="mb", vertical=True)
    canvas.text(min(max((x0 + x1) / 2, width / 2 if grid_w < 200 else 0), width - 10), 12, title, TITLE_PX,
                anchor="mt")
    canvas.text((x0 + x1) / 2, y1 + 8, xlabel, LABEL_PX, anchor="mt")
    canvas.text(12 + LABEL_PX * 0.7, (y0 + y1) / 2, ylabel, LABEL_PX, vertical=True)
    return canvas.png()


def pair_png(taps: np.ndarray, values: np.ndarray | None, n_taps: int, *, row_blocks: int = 0,
             col_blocks: int = 0, rows=(), names=("C", "Cᵀ")) -> bytes:
    """C and Cᵀ side by side at the same cell size (a row of C is a column of Cᵀ).

    >>> pair_png(np.array([[0, 1, -1]]), None, 2)[:4] == b"\\x89PNG"
    True
    """
    n_rows, n_cols = taps.shape
    cell = _cell_px(n_rows + n_cols, max(n_rows, n_cols), width_px=1100, height_px=1100)
    cell = min(cell, 1150 / (n_rows + n_cols + 4))
    titles = [f"{names[0]}  ({n_rows}×{n_cols})", f"{names[1]}  ({n_cols}×{n_rows})"]
    slots = [max(w * cell, text_width(t, TITLE_PX) + 10) for w, t in zip((n_cols, n_rows), titles)]
    canvas = Canvas(40 + sum(slots) + 100 + 40, 50 + max(n_rows, n_cols) * cell + 30)
    x = 40.0
    for matrix, vals, title, slot, r_sel, c_sel, rb, cb in (
            (taps, values, titles[0], slots[0], rows, (), row_blocks, col_blocks),
            (taps.T, None if values is None else values.T, titles[1], slots[1], (), rows, col_blocks, row_blocks)):
        left = x + (slot - matrix.shape[1] * cell) / 2
        grid = _draw(canvas, left, 50, cell, matrix, vals, n_taps, rows=r_sel, cols=c_sel, row_blocks=rb,
                     col_blocks=cb)
        canvas.text((grid.box[0] + grid.box[2]) / 2, 40, title, TITLE_PX, anchor="mb")
        x += slot + 100
    return canvas.png()


def _legend(canvas: Canvas, y: float, entries: list[tuple[str, str]]) -> None:
    """Colour swatches with labels, centred in one row."""
    widths = [28 + text_width(label, LABEL_PX) for _, label in entries]
    x = (canvas.size[0] - sum(widths) - 40 * (len(entries) - 1)) / 2
    for (colour, label), width in zip(entries, widths):
        canvas.fill(x, y - 7, x + 22, y + 8, colour)
        canvas.frame(x, y - 7, x + 22, y + 8, "#999999", 1)
        canvas.text(x + 28, y, label, LABEL_PX, anchor="lm")
        x += width + 40


def window_png(geom: MatrixGeometry, out_cell: tuple[int, int], kernel: np.ndarray, *, padded: bool,
               channel: int = 0, grid_title: str = "padded input", out_title: str = "output") -> bytes:
    """Kernel (colours = C's colours), the padded grid with the selected cell's window, and the output grid.

    >>> from conv_lab.matrix.geometry import geometry
    >>> from conv_lab.core.spec import ConvSpec
    >>> window_png(geometry(ConvSpec(1, 1, 3, padding=1), 4, 4), (0, 0), np.ones((3, 3)), padded=True)[:4] == b"\\x89PNG"
    True
    """
    kh, kw = kernel.shape
    colours = tap_colours(kh * kw)
    (hp, wp), (h, w), (ho, wo) = geom.padded_hw, geom.grid_hw, geom.out_hw
    top, _, left, _ = geom.pads
    cell = float(min(44, 560 / max(hp, wp)))
    shapes = ((kh, kw), (hp, wp), (ho, wo))
    one, word = geom.dims == 1, "position" if geom.dims == 1 else "cell"
    titles = ("kernel", f"{grid_title} {wp if one else f'{hp}×{wp}'}", f"{out_title} {wo if one else f'{ho}×{wo}'}")
    slots = [max(s[1] * cell, text_width(t, 19) + 10) for s, t in zip(shapes, titles)]
    legend = [(INPUT_BLUE, f"{grid_title.replace('padded ', '')} {word} (number: its column of C)"),
              (PAD_GREY, f"padding {word}"), (HIGHLIGHT, f"selected {out_title} {word} (its row of C)")]
    legend_w = sum(28 + text_width(label, LABEL_PX) for _, label in legend) + 80
    width = max(sum(slots) + 2 * 70 + 100, legend_w + 40)
    grid_top = 48
    canvas = Canvas(width, grid_top + max(hp, kh, ho) * cell + 70)
    grid_colours = np.empty((hp, wp, 3))
    grid_colours[:] = rgb(PAD_GREY)
    grid_colours[top:top + h, left:left + w] = rgb(INPUT_BLUE)
    window = window_cells(geom, out_cell)
    for r, c, tap in window:
        grid_colours[r, c] = colours[tap]
    out_colours = np.ones((ho, wo, 3))
    out_colours[out_cell] = rgb(HIGHLIGHT)
    x = (width - sum(slots) - 2 * 70) / 2
    grids = []
    for (n_r, n_c), slot, title, image in zip(shapes, slots, titles,
                                              (colours.reshape(kh, kw, 3), grid_colours, out_colours)):
        grid = canvas.cells(image, x + (slot - n_c * cell) / 2, grid_top, cell, line="white", line_width=2)
        canvas.lines(grid, "black", 1, (0, n_r), (0, n_c))
        canvas.text((grid.box[0] + grid.box[2]) / 2, grid_top - 8, title, 19, anchor="mb")
        grids.append(grid)
        x += slot + 70
    kernel_grid, padded_grid, out_grid = grids
    canvas.frame(padded_grid.col_edges[left], padded_grid.row_edges[top], padded_grid.col_edges[left + w],
                 padded_grid.row_edges[top + h], INPUT_EDGE, 2)
    if cell >= 16:
        small = int(min(17, cell * 0.5))
        for a in range(kh):
            for b in range(kw):
                canvas.text(*kernel_grid.centre(a, b), _fmt(kernel[a, b]), _number_px(cell),
                            _text_colour(colours[a * kw + b]))
        taps_at = {(r, c) for r, c, _ in window}
        for r in range(hp):
            for c in range(wp):
                inside = top <= r < top + h and left <= c < left + w
                index = (r * wp + c) if padded else ((r - top) * w + c - left) if inside else None
                if index is not None:
                    colour = _text_colour(grid_colours[r, c]) if (r, c) in taps_at else (51, 51, 51)
                    canvas.text(*padded_grid.centre(r, c), str(channel * (hp * wp if padded else h * w) + index),
                                small, colour)
        for r in range(ho):
            for c in range(wo):
                canvas.text(*out_grid.centre(r, c), str(r * wo + c), small)
    _legend(canvas, canvas.size[1] - 26, legend)
    return canvas.png()


@dataclass(frozen=True)
class Panel:
    """One matrix of a product picture: its numbers, optional tap ids (colours), highlighted rows/columns.

    `tint`: colour by tap but faded (values that meet a weight, like the patch matrix); without taps the
    cells are white and the highlighted rows/columns are filled yellow.
    """

    name: str
    values: np.ndarray
    taps: np.ndarray | None = None  # None: plain numbers on white
    rows: tuple = ()
    cols: tuple = ()
    grey_cols: np.ndarray | None = None
    tint: bool = False


def product_cell_px(shapes: list[tuple[int, int]]) -> float:
    """Cell size (px) of a product picture of matrices with these shapes.

    >>> product_cell_px([(400, 147), (147, 1), (400, 1)])
    2.5
    """
    return _cell_px(max(h for h, _ in shapes), sum(w for _, w in shapes) + 2 * len(shapes), width_px=1200,
                    height_px=1000)


def product_png(panels: list[Panel], n_taps: int) -> bytes:
    """'A · B = Y' at one cell size: operands separated by '·', the last one by '='.

    >>> product_png([Panel("C", np.array([[1., 2.]]), np.array([[0, 1]])), Panel("x", np.ones((2, 1)))], 2)[:4]
    b'\\x89PNG'
    """
    heights = [p.values.shape[0] for p in panels]
    widths = [p.values.shape[1] for p in panels]
    cell = product_cell_px([p.values.shape for p in panels])
    slots = [max(w * cell, text_width(p.name, TITLE_PX) + 6) for w, p in zip(widths, panels)]
    gap, grid_top = 70, 44
    canvas = Canvas(sum(slots) + gap * (len(panels) - 1) + 60, grid_top + max(heights) * cell + 20)
    x = 30.0
    sign_y = grid_top + min(heights[0], 12) * cell / 2
    for index, (panel, slot) in enumerate(zip(panels, slots)):
        h, w = panel.values.shape
        left = x + (slot - w * cell) / 2
        if panel.taps is None:  # plain numbers: white cells, highlighted rows/columns in yellow
            grid = _draw(canvas, left, grid_top, cell, np.full((h, w), ZERO), panel.values, n_taps,
                         fill_rows=panel.rows, fill_cols=panel.cols, all_numbers=True)
        else:
            grid = _draw(canvas, left, grid_top, cell, panel.taps, panel.values, n_taps, grey_cols=panel.grey_cols,
                         rows=panel.rows, cols=panel.cols, tint=panel.tint, all_numbers=panel.tint)
        canvas.text((grid.box[0] + grid.box[2]) / 2, grid_top - 8, panel.name, TITLE_PX, anchor="mb")
        x += slot + gap
        if index < len(panels) - 1:
            last = index == len(panels) - 2
            canvas.text(x - gap / 2, sign_y, "=" if last else "·", SIGN_PX if last else SIGN_PX * 3 // 2)
    return canvas.png()
