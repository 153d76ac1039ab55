"""The sweep animation's text, rasterised by matplotlib's own FreeType binding (`matplotlib.ft2font`) without a Figure.

A text is drawn as matplotlib's Agg backend drew a `fig.text` before 3.11 (`FT2Font.set_text`,
`draw_glyphs_to_bitmap`, `get_image`): the same font file (matplotlib's font manager), the same hinting flags,
sizes in points at the frame's DPI, and the anchor placed by the rules of `matplotlib.text.Text` (ink width and
descent, the font's typographic ascent and descent as the minimum line box). Only the Figure and artist machinery
is skipped, and each string's bitmap is cached, so a title or a legend label that recurs across animations costs
one array paste (issue 17: a Figure draw was ~4 ms a text). The bitmap sits on whole pixels where matplotlib 3.11
places each glyph to 1/64 pixel: the same glyphs, their ink within 2 pixels of the Figure's on every side
(tests/test_sweep_typeset.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib.backends.backend_agg import get_hinting_flag
from matplotlib.font_manager import FontProperties, findfont, get_font

from conv_lab import limits
from conv_lab.byte_cache import byte_lru_cache

DPI = 100  # the animation's figure DPI (drawing.DPI): sizes are in points, as fig.text takes them


@dataclass(frozen=True)
class Inked:
    """One line of text as drawn: coverage (0…255, rows × cols), the bitmap's left column from the pen origin, and the
    ink's descent, width and height (pixels) as matplotlib measures them."""

    alpha: np.ndarray
    left: float
    descent: float
    width: float
    height: float

    @property
    def nbytes(self) -> int:
        """Bytes held, for the byte-bounded cache."""
        return self.alpha.nbytes + 100


@lru_cache(maxsize=8)
def _font_file(family: str, bold: bool) -> str:
    return findfont(FontProperties(family=family, weight="bold" if bold else "normal"))


def _font(family: str, bold: bool, size: float):
    font = get_font(_font_file(family, bold))  # matplotlib's per-thread FT2Font of that file
    font.clear()
    font.set_size(size, DPI)
    return font


def raster(text: str, size: float, bold: bool = False, family: str = "sans-serif") -> Inked:
    """One line of text rasterised by matplotlib's FreeType binding (`inked`: the same, cached per string, size, weight).

    >>> line = raster("padding", 11.5); line.alpha.shape[1] > 40 < line.width, int(line.alpha.max())
    (True, 255)
    """
    font = _font(family, bold, size)
    font.set_text(text, 0.0, flags=get_hinting_flag())
    width, height = (v / 64 for v in font.get_width_height())
    descent = font.get_descent() / 64
    font.draw_glyphs_to_bitmap(antialiased=True)
    alpha = np.array(font.get_image(), dtype=np.uint8)
    alpha.flags.writeable = False  # shared by every caller
    return Inked(alpha, font.get_bitmap_offset()[0] / 64, descent, width, height)


inked = byte_lru_cache(limits.SWEEP_TEXT_CACHE_BYTES, maxsize=2048)(raster)  # `raster` cached: 0.1–20 KB a string


@lru_cache(maxsize=64)
def line_box(size: float, bold: bool = False, family: str = "sans-serif") -> tuple[float, float, float]:
    """The font's minimum ascent, descent and line gap in pixels (OS/2 typo metrics, else hhea), as `Text` uses them.

    >>> ascent, descent, gap = line_box(12); 12 < ascent < 14 and 3 < descent < 5
    True
    """
    font = _font(family, bold, size)
    scale = size * DPI / 72 / font.units_per_EM
    os2 = font.get_sfnt_table("OS/2")
    if os2 is not None:
        return os2["sTypoAscender"] * scale, -os2["sTypoDescender"] * scale, os2["sTypoLineGap"] * scale
    hhea = font.get_sfnt_table("hhea")
    return hhea["ascent"] * scale, -hhea["descent"] * scale, hhea["lineGap"] * scale


def stamp(mask: np.ndarray, x: float, y: float, text: str, size: float, bold: bool = False, ha: str = "left",
          va: str = "center", family: str = "sans-serif", cached: bool = True) -> None:
    """Draw `text` into a coverage mask (0…1) anchored at (x, y) pixels from the top left, aligned as `fig.text`'s
    ha (left, center) and va (center, top, center_baseline); lines split at newlines (`cached`: through `inked`).

    >>> mask = np.zeros((40, 200), np.float32); stamp(mask, 10, 20, "Conv2d 1→1", 12)
    >>> float(mask[:, :10].max()), float(mask[8:32, 10:100].max()) > 0.9, float(mask[:, 120:].max())
    (0.0, True, 0.0)
    """
    draw = inked if cached else raster
    lines = [draw(line, size, bold, family) if line else None for line in text.split("\n")]
    min_ascent, min_descent, gap = line_box(size, bold, family)
    gap = gap if len(lines) > 1 else 0.0
    boxes = []  # per line: (ascent, descent) of its line box, as Text._get_layout grows them
    for line in lines:
        a, d = (line.height - line.descent, line.descent) if line else (0.0, 0.0)
        boxes.append((max(a, min_ascent) + gap / 2, max(d, min_descent) + gap / 2))
    width = max((line.width for line in lines if line), default=0.0)
    total = sum(a + d for a, d in boxes)
    top = {"top": 0.0, "center": total / 2, "center_baseline": boxes[0][0] / 2}[va]  # center_baseline: one line
    baseline = y - top
    for line, (a, d) in zip(lines, boxes):
        baseline += a
        if line is not None:
            pen = x - (width / 2 if ha == "center" else 0.0)
            left = int(round(pen + line.left))
            bottom = int(round(baseline + line.descent)) + 1  # Agg's text images sit a row lower
            _add(mask, line.alpha, left, bottom - line.alpha.shape[0])
        baseline += d


def _add(mask: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Lay `alpha` (0…255) over `mask` (0…1) with its top left at (x, y), clipped to the mask (the darker wins)."""
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, mask.shape[1]), min(y + h, mask.shape[0])
    if x0 < x1 and y0 < y1:
        region = mask[y0:y1, x0:x1]
        np.maximum(region, alpha[y0 - y:y1 - y, x0 - x:x1 - x] * np.float32(1 / 255), out=region)
