"""Drawing helpers for the sweep animation: the frame layout, colours, cell grids and the glyph atlas.

Everything here draws with matplotlib (Agg) or blends what matplotlib drew; `animate` assembles
the layers and frames from it.
"""

from __future__ import annotations

from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .sweep import INPUT, INSERTED, OUTSIDE, PADDING  # noqa: E402

DPI = 100
WIDTH, HEIGHT = 1120, 806
GRID_BOX = (24, 78, 560, 560)  # x, y from the top, w, h in pixels
OUT_BOX = (640, 78, 300, 300)
KERNEL_BOX = (640, 440, 170, 170)
TEXT_TOP, LINE_H, TEXT_LINES = 648, 25, 6
KIND_COLOURS = {INPUT: "#bcd8f5", PADDING: "#d4d4d4", INSERTED: "#ffffff", OUTSIDE: "#efefef"}
TAP, HOLE, NEVER = "#f5a623", "#fde3b8", "#e8594a"
OUT_EMPTY, OUT_DONE, OUT_NOW = "#ffffff", "#a8dca8", "#f5a623"
BORDER, OUTLINE, INK, ACCENT = "#8c8c8c", "#7a2e00", "#1a1a1a", "#9c3d00"
BASE, HOT, WARM, MARK, SOLID = range(5)  # the layers frames copy from
TRANSPARENT = 255  # palette index left free by quantizing to 255 colours (GIF deltas)
GLYPHS = "".join(chr(c) for c in range(32, 127)) + "×−…∞Σ→·≤÷"
FONT_PX = 18  # text strip glyphs: 11 px wide, ~90 characters a line


def _rgb(colour: str) -> np.ndarray:
    return np.array(matplotlib.colors.to_rgb(colour))


def _box(fig: Figure, box: tuple[int, int, int, int]):
    x, y, w, h = box
    ax = fig.add_axes((x / WIDTH, 1 - (y + h) / HEIGHT, w / WIDTH, h / HEIGHT))
    ax.set_axis_off()
    return ax


def _fit(box: tuple[int, int, int, int], rows: int, cols: int, max_cell: int) -> tuple[int, int, int, int]:
    """The box shrunk to whole-pixel cells with the grid's aspect, centred at the top."""
    x, y, w, h = box
    cell = max(1, min(max_cell, w // cols, h // rows))
    return x + (w - cell * cols) // 2, y, cell * cols, cell * rows


def _font_px(cell: float, labels: list[str]) -> int:
    longest = max((len(t) for t in labels), default=1)
    return int(min(0.42 * cell, 1.6 * cell / max(longest, 2), 30))


def _cell_grid(fig: Figure, box, colours: np.ndarray):
    """An axes filling `box` exactly, one coloured cell per array entry, with cell borders."""
    rows, cols = colours.shape[:2]
    ax = _box(fig, box)
    image = ax.imshow(colours, interpolation="nearest", extent=(-0.5, cols - 0.5, rows - 0.5, -0.5))
    ax.set_xlim(-0.5, cols - 0.5), ax.set_ylim(rows - 0.5, -0.5)
    lw = 1.5 if box[2] / cols >= 12 else 0.6
    ax.vlines(np.arange(-0.5, cols), -0.5, rows - 0.5, colors=BORDER, linewidth=lw)
    ax.hlines(np.arange(-0.5, rows), -0.5, cols - 0.5, colors=BORDER, linewidth=lw)
    return ax, image


def _edges(ax, n: int, axis: int) -> np.ndarray:
    """Pixel edges (n + 1, image coordinates) of n cells along x (axis 1) or y (axis 0)."""
    ticks = np.arange(n + 1) - 0.5
    points = np.column_stack([ticks, np.zeros(n + 1)]) if axis == 1 else np.column_stack([np.zeros(n + 1), ticks])
    display = ax.transData.transform(points)
    return np.round(display[:, 0]).astype(int) if axis == 1 else np.round(HEIGHT - display[:, 1]).astype(int)


def _colour_array(kinds: np.ndarray, mapping: dict) -> np.ndarray:
    out = np.zeros((*kinds.shape, 3))
    for kind, colour in mapping.items():
        out[kinds == kind] = _rgb(colour)
    return out


def _render(fig: Figure) -> np.ndarray:
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[:, :, :3].copy()


@lru_cache(maxsize=32)
def glyph_alpha(size_px: int, bold: bool = False) -> tuple[np.ndarray, int, int]:
    """Coverage (0…1) of every glyph in GLYPHS drawn once by matplotlib in DejaVu Sans Mono: (h, n·w), w, h.

    >>> alpha, w, h = glyph_alpha(18); alpha.shape == (h, w * len(GLYPHS)) and bool(0 < alpha.max() <= 1)
    True
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    w, h = int(np.ceil(0.61 * size_px)), int(np.ceil(1.3 * size_px)) + 2
    fig = Figure(figsize=(w * len(GLYPHS) / DPI, h / DPI), dpi=DPI, facecolor="white")
    FigureCanvasAgg(fig)
    for i, ch in enumerate(GLYPHS):
        fig.text((i * w + w / 2) / fig.bbox.width, 0.5, ch, ha="center", va="center_baseline", family="DejaVu Sans Mono",
                 fontsize=size_px * 72 / DPI, color="black", fontweight="bold" if bold else "normal")
    pixels = _render(fig).astype(np.float32)
    return 1.0 - pixels.mean(axis=2) / 255.0, w, h


def _paint(alpha_out: np.ndarray, text: str, cx: float, cy: float, size_px: int) -> None:
    """Add the coverage of `text` centred at (cx, cy) into an image-sized alpha mask."""
    alpha, w, h = glyph_alpha(size_px)
    x0, y0 = int(round(cx - len(text) * w / 2)), int(round(cy - h / 2))
    for i, ch in enumerate(text):
        g = GLYPHS.index(ch) if ch in GLYPHS else GLYPHS.index("?")
        x = x0 + i * w
        np.maximum(alpha_out[y0:y0 + h, x:x + w], alpha[:, g * w:(g + 1) * w], out=alpha_out[y0:y0 + h, x:x + w])


def _label_mask(labels: list[list[str]], xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """Coverage of the cell labels of a grid (None when its cells are too small to read)."""
    size_px = _font_px(float(np.min(np.diff(xs))), [t for row in labels for t in row])
    if size_px < 10:
        return None
    mask = np.zeros((HEIGHT, WIDTH), np.float32)
    for r, row in enumerate(labels):
        for c, text in enumerate(row):
            _paint(mask, text, (xs[c] + xs[c + 1]) / 2, (ys[r] + ys[r + 1]) / 2, size_px)
    return mask


def _blend(rgb: np.ndarray, mask: np.ndarray | None, colour: str = INK) -> None:
    """Paint `colour` over rgb with the coverage `mask` (only where the mask covers anything)."""
    if mask is None:
        return
    where = np.nonzero(mask > 0.004)
    a = mask[where][:, None]
    rgb[where] = (rgb[where] * (1 - a) + (_rgb(colour) * 255) * a).round().astype(np.uint8)


@lru_cache(maxsize=4)
def glyph_atlas(style_colours: tuple[str, ...] = (INK, ACCENT)) -> tuple[np.ndarray, int, int]:
    """The text strip's glyphs, one RGB row per style (normal ink, bold accent): (styles, h, n·w, 3), w, h.

    >>> atlas, w, h = glyph_atlas(); atlas.shape[1:3] == (h, w * len(GLYPHS))
    True
    """
    rows = []
    for s, colour in enumerate(style_colours):
        alpha, w, h = glyph_alpha(FONT_PX, bool(s))
        row = np.full((*alpha.shape, 3), 255, np.uint8)
        _blend(row, alpha, colour)
        rows.append(row)
    return np.stack(rows), w, h
