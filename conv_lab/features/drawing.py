"""Drawing primitives for the feature-map pictures: colour scales, look-up tables, text, resizing, colour bars.

Pure numpy + Pillow; matplotlib only lends its colour maps and (through `render.fonts`) its bundled DejaVu font.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from conv_lab.render.fonts import font as get_font  # the one per-thread font cache (features.figures reads it here)

BACKGROUND, INK, MUTED, FRAME = (255, 255, 255), (25, 25, 35), (95, 95, 110), (200, 200, 210)
DIVERGING, SEQUENTIAL = "RdBu_r", "gray"


@lru_cache(maxsize=4)
def lut(name: str) -> np.ndarray:
    """A matplotlib colour map as a (256, 3) uint8 look-up table.

    >>> lut("gray")[[0, 255]].tolist()
    [[0, 0, 0], [255, 255, 255]]
    """
    return (colormaps[name](np.linspace(0, 1, 256))[:, :3] * 255).round().astype(np.uint8)


@lru_cache(maxsize=4096)
def _text_mask(text: str, size: int, bold: bool) -> Image.Image:
    font = get_font(size, bold)
    left, top, right, bottom = font.getbbox(text)
    mask = Image.new("L", (max(1, right), max(1, bottom)))
    ImageDraw.Draw(mask).text((0, 0), text, font=font, fill=255)
    return mask


def paste_text(canvas: Image.Image, xy: tuple[int, int], text: str, size: int, bold: bool, fill: tuple) -> None:
    """Draw text through a cached glyph mask: captions repeat on every tile, rendering them once is 4× cheaper.

    >>> img = Image.new("RGB", (40, 16), "white"); paste_text(img, (1, 1), "ab", 11, False, (0, 0, 0))
    >>> int(np.asarray(img).min()) < 100
    True
    """
    mask = _text_mask(text, size, bold)
    canvas.paste(fill, (int(xy[0]), int(xy[1]), int(xy[0]) + mask.width, int(xy[1]) + mask.height), mask)


@dataclass(frozen=True)
class ColourScale:
    """How values become colours, per map: diverging around 0 when a map has negatives, gray from 0 otherwise."""

    per_map: bool
    limits: np.ndarray  # (n,) the |value| drawn at full colour, per map (all equal when shared)
    diverging: np.ndarray  # (n,) bool: this map is drawn blue–white–red

    def colourise(self, values: np.ndarray, i: int) -> np.ndarray:
        """(H, W) values -> (H, W, 3) uint8 with map `i`'s colours.

        >>> ColourScale(False, np.array([2.0]), np.array([True])).colourise(np.array([[-2.0, 0.0, 2.0]]), 0)[0, :, 0]
        array([  5, 247, 103], dtype=uint8)
        """
        top = float(self.limits[i]) or 1.0
        diverging = bool(self.diverging[i])
        t = (values / top + 1) / 2 if diverging else values / top
        idx = np.clip(np.nan_to_num(t) * 255 + 0.5, 0, 255).astype(np.uint8)
        return lut(DIVERGING if diverging else SEQUENTIAL)[idx]

    def legend(self) -> str:
        """The legend's words.

        >>> ColourScale(True, np.array([1.0]), np.array([True])).legend()
        'blue = negative, white = 0, red = positive; each map scaled to its own largest |value|'
        """
        parts = []
        if self.diverging.any():
            parts.append("blue = negative, white = 0, red = positive")
        if not self.diverging.all():
            parts.append(("maps with no negatives: " if self.diverging.any() else "") + "black = 0, white = largest")
        where = ("each map scaled to its own largest |value|" if self.per_map else
                 f"one scale for all maps: full colour at {num(self.limits[0]) if len(self.limits) else 0}")
        return "; ".join(parts + [where])


def colour_scale(maps: np.ndarray, per_map: bool) -> ColourScale:
    """The colour scale for (n, H, W) maps (per map, or shared: one limit and one colour map for all).

    >>> s = colour_scale(np.array([[[-1.0, 3.0]], [[0.0, 1.0]]]), per_map=False)
    >>> s.limits.tolist(), s.diverging.tolist()
    ([3.0, 3.0], [True, True])
    """
    n = len(maps)
    flat = maps.reshape(n, -1)
    if flat.shape[1] == 0:
        return ColourScale(per_map, np.zeros(n), np.zeros(n, dtype=bool))
    lows, highs = flat.min(axis=1).astype(np.float64), flat.max(axis=1).astype(np.float64)
    tops = np.maximum(-lows, highs)
    negative = lows < 0
    if not per_map:
        tops = np.full(n, tops.max() if n else 0.0)
        negative = np.full(n, bool(negative.any()))
    return ColourScale(per_map, tops, negative)


def num(v: float) -> str:
    """A value short enough for a caption.

    >>> num(3.14159), num(0.0004), num(0)
    ('3.14', '4.0e-04', '0')
    """
    v = float(v)
    return f"{v:.3g}" if abs(v) >= 0.01 or v == 0 else f"{v:.1e}"


def resize(rgb: np.ndarray, height: int, width: int) -> Image.Image:
    """(H, W, 3) uint8 -> a Pillow image of height×width: nearest when enlarging (cells stay crisp), box when shrinking.

    >>> resize(np.zeros((2, 3, 3), np.uint8), 4, 6).size
    (6, 4)
    """
    img = Image.fromarray(rgb)
    if (height, width) == rgb.shape[:2]:
        return img
    enlarge = height >= rgb.shape[0] and width >= rgb.shape[1]
    return img.resize((max(1, width), max(1, height)), Image.Resampling.NEAREST if enlarge else Image.Resampling.BOX)


def kernel_image(kernel: np.ndarray, side: int) -> Image.Image:
    """A kernel drawn blue (negative) – white (0) – red (positive), about `side` px on its longer side.

    >>> kernel_image(np.eye(3), 30).size
    (30, 30)
    """
    top = float(np.abs(kernel).max()) or 1.0
    idx = np.clip(((kernel / top + 1) / 2) * 255 + 0.5, 0, 255).astype(np.uint8)
    kh, kw = kernel.shape
    cell = max(1, side // max(kh, kw))
    return resize(lut(DIVERGING)[idx], kh * cell, kw * cell)


def fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """The text, cut with an ellipsis when wider than `width` px.

    >>> fit(ImageDraw.Draw(Image.new("L", (1, 1))), "a long caption", get_font(11), 40)
    'a lon…'
    """
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def encode(img: Image.Image) -> bytes:
    """PNG for small pictures; JPEG (4:4:4, quality 90) above 0.6 MP, where PNG encoding costs 100+ ms.

    >>> encode(Image.new("RGB", (4, 4)))[:4] == b"\\x89PNG"
    True
    """
    buffer = io.BytesIO()
    if img.width * img.height > 600_000:
        img.save(buffer, format="JPEG", quality=90, subsampling=0)
    else:
        img.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def image_format(data: bytes) -> str:
    """'PNG' or 'JPEG', for st.image's output_format (so Streamlit does not re-encode).

    >>> image_format(encode(Image.new("RGB", (2, 2))))
    'PNG'
    """
    return "PNG" if data[:4] == b"\x89PNG" else "JPEG"


def bar(canvas: Image.Image, draw: ImageDraw.ImageDraw, diverging: bool, top: str, x: int, y: int,
        bar_w: int = 160, bar_h: int = 12) -> None:
    """A horizontal colour bar with its end and zero labels.

    >>> img = Image.new("RGB", (200, 40), "white"); bar(img, ImageDraw.Draw(img), True, "max", 4, 4)
    """
    ramp = np.tile(lut(DIVERGING if diverging else SEQUENTIAL)[None], (bar_h, 1, 1))
    canvas.paste(Image.fromarray(ramp).resize((bar_w, bar_h)), (x, y))
    draw.rectangle([x - 1, y - 1, x + bar_w, y + bar_h], outline=FRAME)
    font = get_font(11)
    left = f"−{top}" if diverging else "0"
    draw.text((x, y + bar_h + 2), left, fill=MUTED, font=font)
    draw.text((x + bar_w - draw.textlength(top, font=font), y + bar_h + 2), top, fill=MUTED, font=font)
    if diverging:
        draw.text((x + bar_w / 2 - 3, y + bar_h + 2), "0", fill=MUTED, font=font)


def vertical_bar(canvas: Image.Image, draw: ImageDraw.ImageDraw, diverging: bool, top: float, x: int, y: int,
                 height: int) -> None:
    """A vertical colour bar beside an enlarged map, labelled with its values.

    >>> img = Image.new("RGB", (60, 80), "white"); vertical_bar(img, ImageDraw.Draw(img), False, 2.0, 4, 4, 60)
    """
    height = max(height, 60)
    ramp = lut(DIVERGING if diverging else SEQUENTIAL)[::-1]
    canvas.paste(Image.fromarray(np.tile(ramp[:, None], (1, 12, 1))).resize((12, height)), (x, y))
    draw.rectangle([x - 1, y - 1, x + 12, y + height], outline=FRAME)
    font = get_font(11)
    draw.text((x + 16, y - 2), num(top), fill=MUTED, font=font)
    draw.text((x + 16, y + height - 12), num(-top) if diverging else "0", fill=MUTED, font=font)
    if diverging:
        draw.text((x + 16, y + height / 2 - 6), "0", fill=MUTED, font=font)
