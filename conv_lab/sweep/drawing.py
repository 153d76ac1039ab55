"""Drawing helpers for the sweep animation: the frame layout, the fixed palette, cell grids, text and glyphs.

Matplotlib draws every visual. The shapes figure (cells as images on whole pixels, border lines,
boxes) is drawn without antialiasing, so its pixels are exactly the palette's flat colours
and map straight to palette indices. Text (titles, captions, legend labels, cell values, the glyph
atlas) is rasterised by matplotlib's FreeType binding as the Agg backend draws it (`sweep.typeset`,
cached per string: no Figure per text) and used as coverage, laid over any background through the
palette's antialiasing ramps. So no image is quantized per animation, and a grid's other states
(taps, holes, never read) are recoloured indices.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from conv_lab.core.grid import INPUT, INSERTED, PADDING  # noqa: E402
from conv_lab.render.colors import rgb8  # noqa: E402
from conv_lab.sweep.steps import OUTSIDE  # noqa: E402
from conv_lab.sweep.typeset import stamp  # noqa: E402

DPI = 100
WIDTH, HEIGHT = 1120, 806
GRID_BOX = (24, 78, 560, 560)  # x, y from the top, w, h in pixels
OUT_BOX = (640, 78, 300, 300)
KERNEL_BOX = (640, 440, 170, 170)
TEXT_TOP, LINE_H, TEXT_LINES = 648, 25, 6
KIND_COLOURS = {INPUT: "#bcd8f5", PADDING: "#d4d4d4", INSERTED: "#ffffff", OUTSIDE: "#efefef"}
TAP, HOLE, NEVER = "#f5a623", "#fde3b8", "#e8594a"
OUT_EMPTY, OUT_DONE, OUT_NOW = "#ffffff", "#a8dca8", "#f4a3d3"  # output now: pink, never the taps' orange
BORDER, OUTLINE, INK, ACCENT = "#8c8c8c", "#7a2e00", "#1a1a1a", "#9c3d00"
WHITE, STACK_FILL, KERNEL_FILL = "#ffffff", "#dde9f5", "#e4dcf4"
INKS = (INK, ACCENT)  # text colours by style: normal, and the bold result line
LEVELS = 20  # text coverage levels over a background: 0 is the background, LEVELS - 1 the ink
BASE, HOT, WARM, MARK, SOLID = range(5)  # the layers frames copy from
TRANSPARENT = 255  # palette index the palette leaves free: the GIF deltas' unchanged pixels
GLYPHS = "".join(chr(c) for c in range(32, 127)) + "×−…∞Σ→·≤÷"
FONT_PX = 18  # text strip glyphs: 11 px wide, ~90 characters a line


def fit_cells(box: tuple[int, int, int, int], rows: int, cols: int, max_cell: int) -> tuple[int, int, int, int]:
    """The box (x, y, w, h) shrunk to a rows×cols grid of square whole-pixel cells (≤ max_cell), centred at the top.

    >>> fit_cells((0, 10, 100, 100), 2, 4, 50)
    (0, 10, 100, 50)
    """
    x, y, w, h = box
    cell = max(1, min(max_cell, w // cols, h // rows))
    return x + (w - cell * cols) // 2, y, cell * cols, cell * rows


def _font_px(cell: float, labels: list[str]) -> int:
    longest = max((len(t) for t in labels), default=1)
    return int(min(0.42 * cell, 1.6 * cell / max(longest, 2), 30))


@dataclass(frozen=True)
class Palette:
    """The colours (flat RGB list), the index of each flat colour, ramp[style, background, level] → index, as RGBA."""

    colours: list[int]
    flat: dict[str, int]
    ramp: np.ndarray
    rgba: np.ndarray  # (n, 4) uint8: each entry as an opaque RGBA pixel (figure images, reading a drawn figure)


@lru_cache(maxsize=1)
def palette() -> Palette:
    """The animation's one fixed palette: its flat colours, then each ink's antialiasing ramp over the text backgrounds.

    >>> p = palette(); int(p.ramp[0, p.flat[WHITE], LEVELS - 1]) == p.flat[INK] and len(p.colours) <= 3 * TRANSPARENT
    True
    """
    names = list(dict.fromkeys((WHITE, BORDER, *INKS, OUTLINE, *KIND_COLOURS.values(), TAP, HOLE, NEVER, OUT_DONE,
                                OUT_NOW, STACK_FILL, KERNEL_FILL)))
    flat = {name: i for i, name in enumerate(names)}
    rgb = [rgb8(name) for name in names]
    ramp = np.broadcast_to(np.arange(256, dtype=np.uint8)[None, :, None], (len(INKS), 256, LEVELS)).copy()
    cell_fills = dict.fromkeys((WHITE, *KIND_COLOURS.values(), TAP, HOLE, NEVER, OUT_DONE, OUT_NOW, KERNEL_FILL))
    text_backgrounds = {INK: list(cell_fills), ACCENT: [WHITE]}  # values sit on every cell fill; the result line on white
    for style, ink in enumerate(INKS):
        ramp[style, :, LEVELS // 2:] = flat[ink]  # a background without a ramp: the nearer of the two
        for background in text_backgrounds[ink]:
            b, k = rgb[flat[background]], rgb[flat[ink]]
            for level in range(1, LEVELS - 1):
                a = level / (LEVELS - 1)
                rgb.append(tuple(int(round(x * (1 - a) + y * a)) for x, y in zip(b, k)))
                ramp[style, flat[background], level] = len(rgb) - 1
    assert len(rgb) <= TRANSPARENT, "index 255 stays free for the GIF's transparent pixels"
    rgba = np.array([(*colour, 255) for colour in rgb], np.uint8)
    return Palette([v for colour in rgb for v in colour], flat, ramp, rgba)


def cell_edges(start: int, length: int, n: int) -> np.ndarray:
    """Pixel edges (n + 1) of n equal whole-pixel cells filling `length` from `start`.

    >>> cell_edges(10, 30, 3).tolist()
    [10, 20, 30, 40]
    """
    return start + (length // n) * np.arange(n + 1)


def shapes_figure() -> Figure:
    """A white frame-sized figure for the shapes: cells, boxes and lines, drawn without antialiasing."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    fig = Figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor=WHITE)
    FigureCanvasAgg(fig)
    return fig


class CellImage(Artist):
    """RGBA pixels drawn 1:1 by the renderer at whole-pixel offsets: what `fig.figimage` draws, without its resampling
    pass (issue 17: ~10 ms per grid). `rows_up`: the image's rows bottom first, as `renderer.draw_image` takes them."""

    def __init__(self, rows_up: np.ndarray, x: int, y: int):
        super().__init__()
        self.rows_up, self.x, self.y = rows_up, x, y

    def draw(self, renderer) -> None:
        """Draw the pixels (from the figure's bottom left, in pixels)."""
        gc = renderer.new_gc()
        renderer.draw_image(gc, self.x, self.y, self.rows_up)
        gc.restore()


def add_cells(fig: Figure, xs: np.ndarray, ys: np.ndarray, fills: np.ndarray) -> None:
    """A grid of whole-pixel cells (palette index per cell) as an image, with BORDER lines on every edge."""
    cw, ch = int(xs[1] - xs[0]), int(ys[1] - ys[0])
    rows_up = np.repeat(np.repeat(palette().rgba[fills[::-1]], ch, axis=0), cw, axis=1)
    # figure pixels count from the bottom; zorder: over the boxes (the stacked channels lie behind the grid)
    image = CellImage(rows_up, int(xs[0]), HEIGHT - int(ys[-1]))
    image.set_zorder(2)
    fig.add_artist(image)
    top, bottom = HEIGHT - ys[0], HEIGHT - ys[-1]
    lines = [[(x, top), (x, bottom)] for x in xs] + [[(xs[0], HEIGHT - y), (xs[-1], HEIGHT - y)] for y in ys]
    width_px = 2 if cw >= 12 else 1
    fig.add_artist(LineCollection(lines, colors=BORDER, linewidths=width_px * 72 / DPI, antialiaseds=False,
                                  transform=None, zorder=3))


def add_box(fig: Figure, x: int, y: int, w: int, h: int, fill: str, edge_px: int = 1) -> None:
    """A filled rectangle (pixels, from the top left) with a BORDER edge `edge_px` wide."""
    fig.add_artist(Rectangle((x, HEIGHT - y - h), w, h, facecolor=fill, edgecolor=BORDER, lw=edge_px * 72 / DPI,
                             antialiased=False, transform=None))


def shape_indices(fig: Figure) -> np.ndarray:
    """Draw the shapes figure and read it as palette indices (H, W): its pixels are all flat palette colours.

    >>> fig = shapes_figure(); add_box(fig, 10, 10, 30, 20, TAP); indices = shape_indices(fig)
    >>> int(indices[20, 20]) == palette().flat[TAP] and int(indices[0, 0]) == palette().flat[WHITE]
    True
    """
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    packed = rgba.view(np.uint32)[:, :, 0]  # one RGBA pixel as one number
    channel, table, keys = _flat_lookup()
    if channel is None:  # no colour channel tells the flat colours apart: sort and search
        order = np.argsort(keys[:len(palette().flat)])
        indices = order[np.searchsorted(keys[order], packed).clip(0, len(order) - 1)].astype(np.uint8)
    else:
        indices = table[rgba[:, :, channel]]
    if not np.array_equal(keys[indices], packed):  # keys[TRANSPARENT] is no opaque pixel's
        raise ValueError("the shapes figure has a colour outside the palette (an antialiased artist?)")
    return indices


@lru_cache(maxsize=1)
def _flat_lookup() -> tuple[int | None, np.ndarray, np.ndarray]:
    """How to read a drawn pixel as a flat colour's palette index with one table look-up (issue 17: a sort and search
    of every pixel cost ~10 ms a render): a colour channel (0–2) whose values differ between the flat colours (None:
    none does), value → palette index (TRANSPARENT where none), and palette index → packed RGBA."""
    flat = palette().rgba[:len(palette().flat)]
    keys = np.zeros(256, np.uint32)
    keys[:len(flat)] = np.ascontiguousarray(flat).view(np.uint32)[:, 0]
    keys[TRANSPARENT] = 0  # alpha 0: never a pixel of the opaque figure
    table = np.full(256, TRANSPARENT, np.uint8)
    for channel in range(3):
        if len(set(flat[:, channel].tolist())) == len(flat):
            table[flat[:, channel]] = np.arange(len(flat))
            return channel, table, keys
    return None, table, keys


def recolour_cells(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, fill: str) -> None:
    """Give every cell of a grid drawn on an index canvas the fill `fill` (its border lines stay)."""
    box = canvas[ys[0]:ys[-1], xs[0]:xs[-1]]
    box[box != palette().flat[BORDER]] = palette().flat[fill]


def ink_spots(coverage: np.ndarray | None) -> tuple[np.ndarray, np.ndarray] | None:
    """Where a coverage mask (0…1) inks anything: (flat pixel indices, levels), to lay one text over several layers."""
    if coverage is None:
        return None
    flat = coverage.ravel()
    where = np.flatnonzero(flat)  # text covers a few percent of a frame: level only those pixels (issue 17)
    levels = (flat[where] * (LEVELS - 1) + 0.5).astype(np.uint8)
    inked = levels != 0
    return where[inked], levels[inked]


def apply_ink(canvas: np.ndarray, spots: tuple[np.ndarray, np.ndarray] | None, style: int = 0) -> None:
    """Lay text over an index canvas (the mask's shape): each inked pixel takes its background's ramp entry."""
    if spots is None:
        return
    where, levels = spots
    pixels = canvas.reshape(-1)  # a view: the canvases are contiguous
    pixels[where] = palette().ramp[style, pixels[where], levels]


@lru_cache(maxsize=32)
def glyph_alpha(size_px: int, bold: bool = False) -> tuple[np.ndarray, int, int]:
    """Coverage (0…1) of every glyph in GLYPHS drawn once by matplotlib's FreeType in DejaVu Sans Mono: (h, n·w), w, h.

    >>> alpha, w, h = glyph_alpha(18); alpha.shape == (h, w * len(GLYPHS)) and bool(0 < alpha.max() <= 1)
    True
    """
    w, h = _glyph_box(size_px)
    return np.hstack([glyph_cell(ch, size_px, bold) for ch in GLYPHS]), w, h


def _glyph_box(size_px: int) -> tuple[int, int]:
    return int(np.ceil(0.61 * size_px)), int(np.ceil(1.3 * size_px)) + 2


@lru_cache(maxsize=1024)  # ≤ 3 KB each: a cell label's few characters per size, the text strip's atlas
def glyph_cell(ch: str, size_px: int, bold: bool = False) -> np.ndarray:
    """Coverage (0…1) of one glyph centred in its monospace cell (h, w), as fig.text(ha="center",
    va="center_baseline") draws it; a cell label draws only the characters it has (issue 17).

    >>> cell = glyph_cell("8", 20); cell.shape == _glyph_box(20)[::-1] and float(cell.max()) > 0.9
    True
    """
    w, h = _glyph_box(size_px)
    alpha = np.zeros((h, w), np.float32)
    stamp(alpha, w / 2, h / 2, ch, size_px * 72 / DPI, bold, "center", "center_baseline", "DejaVu Sans Mono",
          cached=False)
    alpha.flags.writeable = False  # shared
    return alpha


def _paint(alpha_out: np.ndarray, text: str, cx: float, cy: float, size_px: int) -> None:
    """Add the coverage of `text` centred at (cx, cy) into an image-sized alpha mask."""
    w, h = _glyph_box(size_px)
    x0, y0 = int(round(cx - len(text) * w / 2)), int(round(cy - h / 2))
    for i, ch in enumerate(text):
        x = x0 + i * w
        np.maximum(alpha_out[y0:y0 + h, x:x + w], glyph_cell(ch if ch in GLYPHS else "?", size_px),
                   out=alpha_out[y0:y0 + h, x:x + w])


def label_coverage(labels: list[list[str]], xs: np.ndarray, ys: np.ndarray) -> np.ndarray | None:
    """Coverage (0…1, frame-sized) of each cell's label centred in a grid with edges xs, ys (None: cells too small).

    >>> mask = label_coverage([["7", "8"]], cell_edges(100, 80, 2), cell_edges(100, 40, 1))
    >>> mask.shape == (HEIGHT, WIDTH), float(mask[100:140, 100:140].max()) > 0.5, float(mask[:100].max())
    (True, True, 0.0)
    >>> label_coverage([["7"]], cell_edges(0, 8, 1), cell_edges(0, 8, 1)) is None
    True
    """
    size_px = _font_px(float(np.min(np.diff(xs))), [t for row in labels for t in row])
    if size_px < 10:
        return None
    mask = np.zeros((HEIGHT, WIDTH), np.float32)
    for r, row in enumerate(labels):
        for c, text in enumerate(row):
            _paint(mask, text, (xs[c] + xs[c + 1]) / 2, (ys[r] + ys[r + 1]) / 2, size_px)
    return mask


@lru_cache(maxsize=1)
def glyph_atlas() -> tuple[np.ndarray, int, int]:
    """The text strip's glyphs on white as palette indices, one row per style (INKS): (styles, h, n·w), w, h.

    >>> atlas, w, h = glyph_atlas(); atlas.shape[1:] == (h, w * len(GLYPHS))
    True
    """
    rows = []
    for style in range(len(INKS)):
        alpha, w, h = glyph_alpha(FONT_PX, bool(style))
        row = np.full(alpha.shape, palette().flat[WHITE], np.uint8)
        apply_ink(row, ink_spots(alpha), style)
        rows.append(row)
    return np.stack(rows), w, h


def panel_boxes(box: tuple[int, int, int, int], n: int, rows: int, cols: int, max_cell: int, gap: int = 14,
                label: int = 18) -> list[tuple[int, int, int, int]]:
    """n grids of rows×cols square cells laid out in `box` (each under a `label`-pixel title), biggest cells first.

    >>> panel_boxes((0, 0, 300, 300), 3, 2, 2, 50)
    [(0, 18, 100, 100), (114, 18, 100, 100), (0, 150, 100, 100)]
    """
    x, y, w, h = box
    best = (0, 1)
    for per_row in range(1, n + 1):
        lines = -(-n // per_row)
        cell = min(max_cell, (w - gap * (per_row - 1)) // (per_row * cols),
                   (h - lines * label - gap * (lines - 1)) // (lines * rows))
        if cell > best[0]:
            best = (cell, per_row)
    cell, per_row = max(1, best[0]), best[1]
    return [(x + (i % per_row) * (cols * cell + gap), y + label + (i // per_row) * (rows * cell + gap + label),
             cols * cell, rows * cell) for i in range(n)]
