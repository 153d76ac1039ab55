"""The drawing kit of the block picture (`conv_lab.lab.blocks`): oblique boxes, flat slabs and stacks in Pillow.

No matplotlib figure: faces are Pillow polygons on an RGB image, labels are cached text masks pasted in
(Pillow's text drawing is the slowest step, and most labels repeat between layers), and the image is mapped
onto one fixed palette before the PNG is written (a palette PNG of ~10–15 KB, encoded at zlib level 1 in ~1.5 ms).
Depth recedes up and to the right: `d` pixels of depth move a point by (d·DX, −d·DY).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from functools import lru_cache

from PIL import Image, ImageDraw

from conv_lab.render.colors import rgb8
from conv_lab.render.fonts import font

RGB = tuple[int, int, int]
Band = tuple[float, float, RGB]  # (start px, end px, colour) along a block's channel axis
DX, DY = 0.72, 0.45  # one pixel of depth, projected
COPY_STEP = 9  # px between stacked 3-D channel volumes at most (a third of a side at least 3 px)
INK, EDGE, LINE = rgb8("#1a1a1a"), rgb8("#333333"), rgb8("#8a8a8a")  # text 17:1, outlines 12.6:1 on white
INPUT_FILL, OUTPUT_FILL = rgb8("#cfe3f7"), rgb8("#d2ecd2")
# Okabe–Ito colours (told apart with the common colour-vision deficiencies), each ≥ 2.3:1 on white and
# always outlined in EDGE and named in text: colour is never the only cue.
STRONG: tuple[RGB, ...] = tuple(rgb8(c) for c in ("#e69f00", "#0072b2", "#009e73", "#cc79a7"))


def mix(colour: RGB, other: RGB, amount: float) -> RGB:
    """`colour` moved `amount` of the way towards `other`.

    >>> mix((0, 0, 0), (255, 255, 255), 0.5)
    (128, 128, 128)
    """
    return tuple(int(round(a + (b - a) * amount)) for a, b in zip(colour, other))


def tint(colour: RGB) -> RGB:
    """The light version of a strong colour: a group's slab, where the strong colour marks one filter.

    >>> tint((0, 0, 0))
    (153, 153, 153)
    """
    return mix(colour, (255, 255, 255), 0.6)


@lru_cache(maxsize=256)
def shades(colour: RGB) -> tuple[RGB, RGB, RGB]:
    """(front, top, side) face colours of a block painted `colour`: lit from the top left.

    >>> shades((100, 100, 100))
    ((100, 100, 100), (154, 154, 154), (80, 80, 80))
    """
    return colour, mix(colour, (255, 255, 255), 0.35), mix(colour, (0, 0, 0), 0.2)


@lru_cache(maxsize=1)
def palette() -> Image.Image:
    """Every colour the picture paints (three shades of each fill) plus a grey ramp for anti-aliased text."""
    fills = [INPUT_FILL, OUTPUT_FILL, *STRONG, *(tint(c) for c in STRONG)]
    colours = [shade for fill in fills for shade in shades(fill)] + [INK, EDGE, LINE]
    colours += [(g, g, g) for g in range(26, 256, 12)] + [(255, 255, 255)]
    image = Image.new("P", (1, 1))
    image.putpalette([v for colour in colours for v in colour] + [0] * 3 * (256 - len(colours)))
    return image


def pieces(text: str) -> list[str]:
    """A label cut before and after its numbers: words and numbers are rendered once each and reused in any label.

    >>> pieces("filter 17 · ch 9–16")
    ['filter ', '17', ' · ch ', '9', '–', '16']
    """
    return re.findall(r"\d+|\D+", text)


@lru_cache(maxsize=4096)
def text_mask(text: str, px: int, bold: bool = False) -> tuple[Image.Image, int, int, int]:
    """(an 'L' mask of `text` at `px`, its x and y offset from the line's top-left, the line's width): rendered once.

    >>> mask, dx, dy, width = text_mask("Input", 15); mask.size[1] <= 15 < width == dx + mask.size[0]
    True
    """
    face = font(px, bold)
    core, (dx, dy) = face.getmask2(text or " ", mode="L")
    mask = Image.Image()._new(core)
    ink = dx + mask.size[0] if text.strip() else 0
    return mask, dx, dy, int(face.getlength(text) + 0.999) if text != text.rstrip() else ink


def text_size(text: str, px: int, bold: bool = False) -> tuple[int, int]:
    """(width, height) of a one-line label in pixels.

    >>> text_size("", 14)
    (0, 18)
    """
    return sum(text_mask(piece, px, bold)[3] for piece in pieces(text)), int(px * 1.3)


def paste_text(image: Image.Image, x: float, y: float, text: str, px: int = 15, bold: bool = False,
               anchor: str = "l", colour: RGB = INK) -> None:
    """Write a one-line label on an RGB image from cached masks: its top at y, x its left, middle or right (`anchor`
    'l', 'm' or 'r'). Like ImageDraw.text at anchor 'la'/'ma'/'ra', without rendering the glyphs again.

    >>> image = Image.new("RGB", (60, 20), "white"); paste_text(image, 30, 2, "3×3", 12, anchor="m")
    >>> image.convert("L").getextrema()[0] < 128  # dark ink on white
    True
    """
    width = text_size(text, px, bold)[0]
    x = int(round(x)) - {"l": 0, "m": width // 2, "r": width}[anchor]
    for piece in pieces(text):
        mask, dx, dy, advance = text_mask(piece, px, bold)
        if piece.strip():
            image.paste(colour, (x + dx, int(round(y)) + dy), mask)
        x += advance


class Painter:
    """An RGB picture with the block picture's shapes, written out as a palette PNG."""

    def __init__(self, width: int, height: int):
        self.image = Image.new("RGB", (int(width), int(height)), "white")
        self.draw = ImageDraw.Draw(self.image)

    def text(self, x: float, y: float, text: str, px: int = 15, bold: bool = False, anchor: str = "l",
             colour: RGB = INK) -> None:
        """A label whose top is at y; `anchor` 'l', 'm' or 'r' says whether x is its left, middle or right."""
        paste_text(self.image, x, y, text, px, bold, anchor, colour)

    def swatch(self, x: float, y: float, colour: RGB, size: int = 14) -> None:
        """A small outlined square of `colour` with its top-left at (x, y)."""
        self.draw.rectangle([x, y, x + size, y + size], fill=colour, outline=EDGE)

    def box(self, x: float, y: float, w: float, h: float, d: float, base: RGB, bands: list[Band] = (),
            lines: int = 0) -> None:
        """A w×h front face at (x, y) with depth d; `bands` recolour stretches of depth; `lines` slice lines."""
        front, top, side = shades(base)
        px, py = d * DX, d * DY
        self.draw.polygon([(x, y), (x + w, y), (x + w + px, y - py), (x + px, y - py)], fill=top)
        self.draw.polygon([(x + w, y), (x + w + px, y - py), (x + w + px, y + h - py), (x + w, y + h)], fill=side)
        for a, b, colour in bands:
            _, band_top, band_side = shades(colour)
            ax, ay, bx, by = a * DX, a * DY, b * DX, b * DY
            self.draw.polygon([(x + ax, y - ay), (x + w + ax, y - ay), (x + w + bx, y - by), (x + bx, y - by)],
                              fill=band_top, outline=EDGE if b - a >= 6 else None)
            self.draw.polygon([(x + w + ax, y - ay), (x + w + bx, y - by), (x + w + bx, y + h - by),
                               (x + w + ax, y + h - ay)], fill=band_side,
                              outline=EDGE if b - a >= 6 else None)
        if lines:
            for i in range(1, lines):
                t = d * i / lines
                self.draw.line([(x + t * DX, y - t * DY), (x + w + t * DX, y - t * DY),
                                (x + w + t * DX, y + h - t * DY)], fill=LINE)
        first = next((colour for a, b, colour in reversed(bands) if a <= 0), base)
        self.draw.rectangle([x, y, x + w, y + h], fill=shades(first)[0], outline=EDGE, width=2)
        self.draw.line([(x + w, y), (x + w + px, y - py), (x + w + px, y + h - py), (x + w, y + h)], fill=EDGE,
                       width=2)
        self.draw.line([(x, y), (x + px, y - py), (x + w + px, y - py)], fill=EDGE, width=2)

    def slab(self, x: float, y: float, w: float, h: float, base: RGB, bands: list[Band] = (), rows: int = 0) -> None:
        """A flat w×h rectangle whose channel axis runs down; `bands` recolour stretches of rows; `rows` lines."""
        self.draw.rectangle([x, y, x + w, y + h], fill=base)
        for a, b, colour in bands:
            self.draw.rectangle([x, y + a, x + w, y + b], fill=colour, outline=EDGE)
        for i in range(1, rows):
            self.draw.line([(x, y + h * i / rows), (x + w, y + h * i / rows)], fill=LINE)
        self.draw.rectangle([x, y, x + w, y + h], outline=EDGE, width=2)

    def stack(self, x: float, y: float, w: float, h: float, d: float, colours: list[RGB], step: float) -> None:
        """Volumes one behind another (one per colour, the first in front), each `step` px up and left of the last."""
        for i in reversed(range(len(colours))):
            self.box(x - i * step, y - i * step, w, h, d, colours[i])

    def png(self) -> bytes:
        """The picture as a palette PNG."""
        buffer = io.BytesIO()
        self.image.quantize(palette=palette(), dither=Image.Dither.NONE).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


@dataclass
class Part:
    """One drawn tensor: a box (2-D), a slab (1-D) or a stack of volumes (3-D), with its bounding size."""

    kind: str
    w: float
    h: float
    d: float = 0.0
    base: RGB = INPUT_FILL
    bands: list[Band] = field(default_factory=list)
    lines: int = 0
    copies: list[RGB] = field(default_factory=list)

    @property
    def step(self) -> float:
        """px between the stacked channel volumes of a 3-D tensor."""
        return max(3.0, min(COPY_STEP, min(self.w, self.h) / 3))

    @property
    def size(self) -> tuple[float, float]:
        """(width, height) of its bounding box."""
        extra = (len(self.copies) - 1) * self.step if self.copies else 0
        if self.kind == "slab":
            return self.w, self.h
        return self.w + self.d * DX + extra, self.h + self.d * DY + extra

    def paint(self, painter: Painter, left: float, top: float) -> None:
        """Draw with its bounding box's top-left at (left, top)."""
        if self.kind == "slab":
            painter.slab(left, top, self.w, self.h, self.base, self.bands, self.lines)
        elif self.kind == "box":
            painter.box(left, top + self.d * DY, self.w, self.h, self.d, self.base, self.bands, self.lines)
        else:
            extra = (len(self.copies) - 1) * self.step
            painter.stack(left + extra, top + extra + self.d * DY, self.w, self.h, self.d, self.copies, self.step)
