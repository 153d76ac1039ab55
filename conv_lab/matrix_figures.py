"""Pictures of convolution as a matrix: C coloured per kernel weight, Cᵀ beside it, the window, im2col.

Every cell of C that holds a kernel weight gets that weight's colour (the same colour in the
kernel and the window pictures), so the repeating diagonal pattern shows. Sized for a projector:
cells up to ~44 px, labels 12–15 pt, numbers only where they are readable.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from .matrix import FOLDED, ZERO, MatrixGeometry, window_cells  # noqa: E402

DPI = 100
WHITE, PAD_GREY, INPUT_BLUE, FOLDED_COLOUR = "#ffffff", "#d9d9d9", "#dcebf8", "#5b2c6f"
HIGHLIGHT = "#ffe14d"
TAB = [colormaps["tab10"](i) for i in range(10)] + [colormaps["tab20"](2 * i + 1) for i in range(10)]
MAX_TEXT_CELLS = 1200  # numbers drawn in one picture at most (text dominates drawing time)


def tap_colours(n_taps: int) -> np.ndarray:
    """One RGB colour per kernel tap: distinct hues for up to 20 taps, a rainbow beyond.

    >>> tap_colours(9).shape
    (9, 3)
    """
    if n_taps <= len(TAB):
        return np.array([c[:3] for c in TAB[:n_taps]])
    return colormaps["turbo"](np.linspace(0.05, 0.95, n_taps))[:, :3]


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array(matplotlib.colors.to_rgb(hex_colour))


def _image(taps: np.ndarray, n_taps: int, grey_cols: np.ndarray | None) -> np.ndarray:
    colours = tap_colours(n_taps)
    image = np.ones((*taps.shape, 3))
    nonzero = taps >= 0
    image[nonzero] = colours[taps[nonzero]]
    image[taps == FOLDED] = _rgb(FOLDED_COLOUR)
    if grey_cols is not None and grey_cols.any():  # padding columns: greyed, their weights faded
        grey = _rgb(PAD_GREY)
        column = 0.45 * image[:, grey_cols] + 0.55 * grey
        column[taps[:, grey_cols] == ZERO] = grey
        image[:, grey_cols] = column
    return image


def _text_colour(rgb: np.ndarray) -> str:
    return "black" if rgb @ np.array([0.299, 0.587, 0.114]) > 0.5 else "white"


def _fmt(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.2f}".replace("0.", ".")


def _draw(ax, taps: np.ndarray, values: np.ndarray | None, n_taps: int, *, grey_cols=None, rows=(), cols=(),
          row_labels=None, col_labels=None, row_blocks: int = 0, col_blocks: int = 0, cell_px: float = 30) -> None:
    """One matrix: colours per tap, optional numbers, highlighted rows/columns, block separators."""
    image = _image(taps, n_taps, grey_cols)
    ax.imshow(image, interpolation="nearest", aspect="equal")
    n_rows, n_cols = taps.shape
    for r in rows:
        ax.add_patch(Rectangle((-0.5, r - 0.5), n_cols, 1, fill=False, edgecolor="black", linewidth=2.5, zorder=5))
    for c in cols:
        ax.add_patch(Rectangle((c - 0.5, -0.5), 1, n_rows, fill=False, edgecolor="black", linewidth=2.5, zorder=5))
    if cell_px >= 9 and max(n_rows, n_cols) <= 120:
        _cell_lines(ax, n_rows, n_cols, "#bbbbbb", 0.5)
    for step, n, line in ((row_blocks, n_rows, ax.axhline), (col_blocks, n_cols, ax.axvline)):
        if step and step < n:
            for b in range(step, n, step):
                line(b - 0.5, color="black", linewidth=1.6)
    if values is not None and cell_px >= 16:
        shown = np.argwhere(taps != ZERO)
        if len(shown) <= MAX_TEXT_CELLS:
            size = min(14, cell_px * 0.42)
            for r, c in shown:
                ax.text(c, r, _fmt(values[r, c]), ha="center", va="center", fontsize=size,
                        color=_text_colour(image[r, c]), zorder=6)
    ax.tick_params(which="both", length=0)
    label_size = 11 if cell_px >= 20 else 9
    if row_labels is not None and cell_px >= 12:
        ax.set_yticks(range(n_rows), row_labels, fontsize=label_size)
    else:
        ax.set_yticks([])
    if col_labels is not None and cell_px >= 12:
        ax.set_xticks(range(n_cols), col_labels, fontsize=label_size, rotation=90)
        ax.xaxis.set_ticks_position("top")
    else:
        ax.set_xticks([])


def _cell_lines(ax, n_rows: int, n_cols: int, colour: str, width: float) -> None:
    """Cell borders as two line collections (much cheaper than minor ticks and a grid)."""
    ax.hlines(np.arange(-0.5, n_rows, 1), -0.5, n_cols - 0.5, colors=colour, linewidth=width, zorder=2)
    ax.vlines(np.arange(-0.5, n_cols, 1), -0.5, n_rows - 0.5, colors=colour, linewidth=width, zorder=2)


def _cell_px(n_rows: int, n_cols: int, width_px: float = 1150, height_px: float = 900) -> float:
    return float(max(2.0, min(44.0, width_px / max(1, n_cols), height_px / max(1, n_rows))))


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def grid_labels(hw: tuple[int, int], channels: int = 1, prefix: str = "c") -> list[str]:
    """'(r,c)' per flattened cell, with a channel (or filter) prefix when there are several.

    >>> grid_labels((1, 2), 2)
    ['c0(0,0)', 'c0(0,1)', 'c1(0,0)', 'c1(0,1)']
    """
    return [(f"{prefix}{ch}" if channels > 1 else "") + f"({r},{c})"
            for ch in range(channels) for r in range(hw[0]) for c in range(hw[1])]


def matrix_png(taps: np.ndarray, values: np.ndarray | None, n_taps: int, *, title: str, row_labels=None,
               col_labels=None, grey_cols=None, rows=(), cols=(), row_blocks: int = 0, col_blocks: int = 0,
               row_axis: str = "output cell", col_axis: str = "input cell") -> bytes:
    """PNG of one matrix (C, Cᵀ or a block), non-zeros coloured per kernel weight.

    >>> matrix_png(np.array([[0, 1, -1]]), None, 2, title="C")[:4] == b"\\x89PNG"
    True
    """
    n_rows, n_cols = taps.shape
    cell = _cell_px(n_rows, n_cols, height_px=1400)
    label_room = 70 if cell >= 12 else 20
    width = n_cols * cell + label_room + 60
    height = n_rows * cell + label_room + 70
    fig = Figure(figsize=(max(4.0, width / DPI), max(2.4, height / DPI)))
    ax = fig.add_axes([(label_room + 30) / max(width, 400), 30 / max(height, 240),
                       n_cols * cell / max(width, 400), n_rows * cell / max(height, 240)])
    _draw(ax, taps, values, n_taps, grey_cols=grey_cols, rows=rows, cols=cols, row_labels=row_labels,
          col_labels=col_labels, row_blocks=row_blocks, col_blocks=col_blocks, cell_px=cell)
    ax.set_ylabel(f"rows: {row_axis}s ({n_rows})", fontsize=12)
    ax.set_xlabel(f"columns: {col_axis}s ({n_cols})", fontsize=12)
    fig.suptitle(title, fontsize=15, y=0.995, va="top")
    return _png(fig)


def pair_png(taps: np.ndarray, values: np.ndarray | None, n_taps: int, *, row_blocks: int = 0,
             col_blocks: int = 0, rows=(), names=("C", "Cᵀ")) -> bytes:
    """C and Cᵀ side by side at the same cell size (a row of C is a column of Cᵀ).

    >>> pair_png(np.array([[0, 1, -1]]), None, 2)[:4] == b"\\x89PNG"
    True
    """
    n_rows, n_cols = taps.shape
    cell = _cell_px(n_rows + n_cols, max(n_rows, n_cols), width_px=1100, height_px=1100)
    cell = min(cell, 1150 / (n_rows + n_cols + 4))
    width = (n_rows + n_cols) * cell + 220
    height = max(n_rows, n_cols) * cell + 110
    fig = Figure(figsize=(max(6.0, width / DPI), max(2.6, height / DPI)))
    scale_w, scale_h = max(width, 600), max(height, 260)
    left = 60 / scale_w
    for index, (matrix, vals, name, r_sel, c_sel, rb, cb) in enumerate((
            (taps, values, names[0], rows, (), row_blocks, col_blocks),
            (taps.T, None if values is None else values.T, names[1], (), rows, col_blocks, row_blocks))):
        h, w = matrix.shape
        ax = fig.add_axes([left, (scale_h - 50 - h * cell) / scale_h, w * cell / scale_w, h * cell / scale_h])
        _draw(ax, matrix, vals, n_taps, rows=r_sel, cols=c_sel, row_blocks=rb, col_blocks=cb, cell_px=cell)
        ax.set_title(f"{name}  ({h}×{w})", fontsize=15)
        left += (w * cell + 100) / scale_w
    return _png(fig)


def window_png(geom: MatrixGeometry, out_cell: tuple[int, int], kernel: np.ndarray, *, padded: bool,
               channel: int = 0, grid_title: str = "padded input", out_title: str = "output") -> bytes:
    """Kernel (colours = C's colours), the padded grid with the selected cell's window, and the output grid.

    >>> from conv_lab.matrix import geometry
    >>> from conv_lab.spec import ConvSpec
    >>> window_png(geometry(ConvSpec(1, 1, 3, padding=1), 4, 4), (0, 0), np.ones((3, 3)), padded=True)[:4] == b"\\x89PNG"
    True
    """
    kh, kw = kernel.shape
    colours = tap_colours(kh * kw)
    (hp, wp), (h, w), (ho, wo) = geom.padded_hw, geom.grid_hw, geom.out_hw
    top, _, left, _ = geom.pads
    cell = float(min(44, 560 / max(hp, wp)))
    widths = [kw * cell, wp * cell, wo * cell]
    total_w = max(sum(widths) + 4 * 70, 1150)
    total_h = max(hp, kh, ho) * cell + 120
    fig = Figure(figsize=(total_w / DPI, max(3.0, total_h / DPI)))
    x = max(50.0, (total_w - sum(widths) - 140) / 2)
    axes = []
    for width_px, height_cells in zip(widths, (kh, hp, ho)):
        axes.append(fig.add_axes([x / total_w, (total_h - 55 - height_cells * cell) / total_h, width_px / total_w,
                                  height_cells * cell / total_h]))
        x += width_px + 70
    # kernel
    kimg = colours.reshape(kh, kw, 3)
    axes[0].imshow(kimg, interpolation="nearest")
    for a in range(kh):
        for b in range(kw):
            if cell >= 16:
                axes[0].text(b, a, _fmt(kernel[a, b]), ha="center", va="center", fontsize=min(14, cell * 0.42),
                             color=_text_colour(kimg[a, b]))
    axes[0].set_title("kernel", fontsize=14)
    # padded grid with the window
    grid = np.empty((hp, wp, 3))
    grid[:] = _rgb(PAD_GREY)
    grid[top:top + h, left:left + w] = _rgb(INPUT_BLUE)
    window = window_cells(geom, out_cell)
    for r, c, tap in window:
        grid[r, c] = colours[tap]
    axes[1].imshow(grid, interpolation="nearest")
    if cell >= 16:
        taps_at = {(r, c) for r, c, _ in window}
        for r in range(hp):
            for c in range(wp):
                inside = top <= r < top + h and left <= c < left + w
                index = (r * wp + c) if padded else ((r - top) * w + c - left) if inside else None
                if index is not None:
                    axes[1].text(c, r, str(channel * (hp * wp if padded else h * w) + index), ha="center",
                                 va="center", fontsize=min(12, cell * 0.36),
                                 color=_text_colour(grid[r, c]) if (r, c) in taps_at else "#333333")
    axes[1].add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="#1f4e79", linewidth=2))
    axes[1].set_title(f"{grid_title} {hp}×{wp}", fontsize=14)
    # output grid
    out = np.ones((ho, wo, 3))
    out[out_cell] = _rgb(HIGHLIGHT)
    axes[2].imshow(out, interpolation="nearest")
    if cell >= 16:
        for r in range(ho):
            for c in range(wo):
                axes[2].text(c, r, str(r * wo + c), ha="center", va="center", fontsize=min(12, cell * 0.36))
    axes[2].set_title(f"{out_title} {ho}×{wo}", fontsize=14)
    for ax, (n_r, n_c) in zip(axes, ((kh, kw), (hp, wp), (ho, wo))):
        _cell_lines(ax, n_r, n_c, "white", 1.2)
        ax.set_xticks([]), ax.set_yticks([])
    fig.legend(handles=[Patch(facecolor=INPUT_BLUE, edgecolor="#999", label=f"{grid_title.replace('padded ', '')} cell (number: its column of C)"),
                        Patch(facecolor=PAD_GREY, edgecolor="#999", label="padding cell"),
                        Patch(facecolor=HIGHLIGHT, edgecolor="#999", label=f"selected {out_title} cell (its row of C)")],
               loc="lower center", ncol=3, fontsize=12, frameon=False)
    return _png(fig)


@dataclass(frozen=True)
class Panel:
    """One matrix of a product picture: its numbers, optional tap ids (colours), highlighted rows/columns."""

    name: str
    values: np.ndarray
    taps: np.ndarray | None = None  # None: plain numbers on white
    rows: tuple = ()
    cols: tuple = ()
    grey_cols: np.ndarray | None = None


def product_png(panels: list[Panel], n_taps: int) -> bytes:
    """'A · B = Y' at one cell size: operands separated by '·', the last one by '='.

    >>> product_png([Panel("C", np.array([[1., 2.]]), np.array([[0, 1]])), Panel("x", np.ones((2, 1)))], 2)[:4]
    b'\\x89PNG'
    """
    heights = [p.values.shape[0] for p in panels]
    widths = [p.values.shape[1] for p in panels]
    cell = _cell_px(max(heights), sum(widths) + 2 * len(panels), width_px=1200, height_px=1000)
    total_w = sum(widths) * cell + 90 * len(panels) + 40
    total_h = max(heights) * cell + 100
    fig = Figure(figsize=(max(6.0, total_w / DPI), max(2.4, total_h / DPI)))
    x = 40.0
    sign_y = (total_h - 50 - min(heights[0], 12) * cell / 2) / total_h
    for index, panel in enumerate(panels):
        h, w = panel.values.shape
        ax = fig.add_axes([x / total_w, (total_h - 50 - h * cell) / total_h, w * cell / total_w, h * cell / total_h])
        if panel.taps is None:  # plain numbers: white cells, highlighted rows/columns in yellow
            _draw(ax, np.full((h, w), ZERO), None, n_taps, cell_px=cell)
            for r in panel.rows:
                ax.add_patch(Rectangle((-0.5, r - 0.5), w, 1, facecolor=HIGHLIGHT, edgecolor="black", linewidth=2,
                                       zorder=0.5))
            for c in panel.cols:
                ax.add_patch(Rectangle((c - 0.5, -0.5), 1, h, facecolor=HIGHLIGHT, edgecolor="black", linewidth=2,
                                       zorder=0.5))
            if cell >= 16 and panel.values.size <= MAX_TEXT_CELLS:
                for r in range(h):
                    for c in range(w):
                        ax.text(c, r, _fmt(panel.values[r, c]), ha="center", va="center", fontsize=min(14, cell * 0.42))
        else:
            _draw(ax, panel.taps, panel.values, n_taps, grey_cols=panel.grey_cols, rows=panel.rows, cols=panel.cols,
                  cell_px=cell)
        ax.set_title(panel.name, fontsize=15)
        x += w * cell + 90
        if index < len(panels) - 1:
            fig.text((x - 45) / total_w, sign_y, "=" if index == len(panels) - 2 else "·", fontsize=26,
                     ha="center", va="center")
    return _png(fig)
