"""Drawing primitives for the feature-map pictures: colour scales, look-up tables, text, resizing, colour bars.

Pure numpy + Pillow; matplotlib only lends its colour maps and (through `render.fonts`) its bundled DejaVu font.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from matplotlib import colormaps
from PIL import Image, ImageDraw, ImageFont

from conv_lab.render.fonts import FONT_FILES
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


def paste_text(canvas: Image.Image, xy: tuple[int, int], text: str, size: int, bold: bool, fill: tuple) -> None:
    """Draw text through a cached glyph mask: captions repeat on every tile, rendering them once is 4× cheaper.

    >>> img = Image.new("RGB", (40, 16), "white"); paste_text(img, (1, 1), "ab", 11, False, (0, 0, 0))
    >>> int(np.asarray(img).min()) < 100
    True
    """
    # draw_text's cached mask at a whole-pixel position, with ink left of or above xy cut off as a mask drawn at xy's
    # corner cuts it (one cache for both).
    dx, dy, mask = _placed_mask(text, size, bold, 0.0, 0.0)
    if mask is not None:
        mask = mask.crop((max(0, -dx), max(0, -dy), mask.width, mask.height))
        left, top = int(xy[0]) + max(0, dx), int(xy[1]) + max(0, dy)
        canvas.paste(fill, (left, top, left + mask.width, top + mask.height), mask)


@lru_cache(maxsize=4096)
def _placed_mask(text: str, size: int, bold: bool, fx: float, fy: float) -> tuple[int, int, Image.Image | None]:
    """ImageDraw.text's own glyph mask for text whose position has fractional parts (fx, fy): drawn once at
    (pad + fx, pad + fy) on an empty mask and cropped to its ink, with where the crop sits relative to int(xy)."""
    font = get_font(size, bold)
    pad = 2 * size
    mask = Image.new("L", (int(text_length(text, size, bold)) + 3 * pad, 3 * pad))
    ImageDraw.Draw(mask).text((pad + fx, pad + fy), text, font=font, fill=255)
    box = mask.getbbox()
    return (0, 0, None) if box is None else (box[0] - pad, box[1] - pad, mask.crop(box))


def draw_text(canvas: Image.Image, xy: tuple[float, float], text: str, size: int, bold: bool, fill: tuple) -> None:
    """Exactly what `ImageDraw.Draw(canvas).text(xy, text, fill, get_font(size, bold))` draws (one line, xy ≥ 0), from
    a mask cached per text and sub-pixel position: kernel numbers, labels and legends repeat between reruns.

    >>> a, b = Image.new("RGB", (60, 20), "white"), Image.new("RGB", (60, 20), "white")
    >>> ImageDraw.Draw(a).text((2.5, 3.25), "−0.5 j", fill=(9, 9, 9), font=get_font(11))
    >>> draw_text(b, (2.5, 3.25), "−0.5 j", 11, False, (9, 9, 9)); a.tobytes() == b.tobytes()
    True
    """
    x, y = xy
    dx, dy, mask = _placed_mask(text, size, bold, x - int(x), y - int(y))
    if mask is not None:
        left, top = int(x) + dx, int(y) + dy
        canvas.paste(fill, (left, top, left + mask.width, top + mask.height), mask)


@lru_cache(maxsize=8192)
def text_length(text: str, size: int, bold: bool = False) -> float:
    """`ImageDraw.textlength` of text in get_font(size, bold), cached.

    >>> text_length("ab", 11) == ImageDraw.Draw(Image.new("RGB", (1, 1))).textlength("ab", font=get_font(11))
    True
    """
    return ImageDraw.Draw(Image.new("L", (1, 1))).textlength(text, font=get_font(size, bold))


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

    def colourise_all(self, values: np.ndarray, height: int, width: int) -> np.ndarray:
        """(n, h, w) values -> (n, height, width, 3) uint8: every map's `colourise`, enlarged as `resize` would
        (nearest), in one numpy pass.

        >>> s = ColourScale(True, np.array([2.0, 1.0]), np.array([True, False]))
        >>> s.colourise_all(np.array([[[-2.0, 2.0]], [[0.0, 1.0]]], np.float32), 2, 4)[:, 0, :, 0].tolist()
        [[5, 5, 103, 103], [0, 0, 255, 255]]
        """
        n, h, w = values.shape
        if height < h or width < w:  # shrinking: Pillow's box filter, map by map
            return np.stack([np.asarray(resize(self.colourise(v, i), height, width)) for i, v in enumerate(values)])
        tops = np.array([float(t) or 1.0 for t in self.limits[:n]], dtype=values.dtype)[:, None, None]
        diverging = self.diverging[:n].astype(bool)[:, None, None]
        t = values / tops  # float32 as in `colourise` (a Python float divisor is taken as the array's dtype)
        t = np.where(diverging, (t + 1) / 2, t)
        idx = np.clip(np.nan_to_num(t) * 255 + 0.5, 0, 255).astype(np.intp) + 256 * diverging  # into both tables
        if (height, width) != (h, w):
            idx = np.take(np.take(idx, nearest_index(h, height), axis=1), nearest_index(w, width), axis=2)
        return np.take(np.concatenate([lut(SEQUENTIAL), lut(DIVERGING)]), idx, axis=0)

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


def blank(height: int, width: int) -> np.ndarray:
    """A (height, width, 3) uint8 canvas of BACKGROUND (filled row by row: numpy broadcasts a 3-byte colour slowly).

    >>> blank(2, 3)[1, 2].tolist() == list(BACKGROUND)
    True
    """
    pixels = np.empty((height, width * 3), np.uint8)
    pixels[:] = np.tile(np.array(BACKGROUND, np.uint8), width)
    return pixels.reshape(height, width, 3)


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


def kernel_pixels(kernel: np.ndarray, side: int) -> np.ndarray:
    """A kernel drawn blue (negative) – white (0) – red (positive), about `side` ≤ 64 px on its longer side, as a
    read-only (h, w, 3) uint8 array of whole cells, side // max(kh, kw) px each (what Pillow's nearest resize draws);
    cached, as a bank's classic kernels repeat from map to map.

    >>> kernel_pixels(np.eye(3), 30).shape
    (30, 30, 3)
    """
    kernel = np.asarray(kernel)
    return _kernel_pixels(kernel.tobytes(), kernel.dtype.str, kernel.shape, min(side, 64))


@lru_cache(maxsize=256)  # ≤ 12 KB each: ≤ 3 MB (classic kernels repeat; random ones are new per layer anyway)
def _kernel_pixels(data: bytes, dtype: str, shape: tuple[int, int], side: int) -> np.ndarray:
    pixels = _kernel_rgb(np.frombuffer(data, dtype).reshape(shape), side)
    pixels.flags.writeable = False
    return pixels


def _kernel_rgb(kernel: np.ndarray, side: int) -> np.ndarray:
    top = float(np.abs(kernel).max()) or 1.0
    idx = np.clip(((kernel / top + 1) / 2) * 255 + 0.5, 0, 255).astype(np.uint8)
    cell = max(1, side // max(kernel.shape))
    return lut(DIVERGING)[np.repeat(np.repeat(idx, cell, axis=0), cell, axis=1)]


def kernel_image(kernel: np.ndarray, side: int) -> Image.Image:
    """The same drawing as a Pillow image, at any size.

    >>> kernel_image(np.eye(3), 300).size
    (300, 300)
    """
    return Image.fromarray(_kernel_rgb(np.asarray(kernel), side))


@lru_cache(maxsize=512)
def nearest_index(n_in: int, n_out: int) -> np.ndarray:
    """Which of n_in source cells each of n_out pixels shows under Pillow's nearest resize (asked of Pillow itself).

    >>> nearest_index(3, 7).tolist()
    [0, 0, 1, 1, 1, 2, 2]
    """
    line = Image.fromarray(np.arange(n_in, dtype=np.int32)[None, :])
    index = np.asarray(line.resize((n_out, 1), Image.Resampling.NEAREST))[0].astype(np.intp)
    index.flags.writeable = False
    return index


def fit(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int) -> str:
    """The text, cut with an ellipsis when wider than `width` px (`font` from get_font; lengths cached).

    >>> fit(ImageDraw.Draw(Image.new("L", (1, 1))), "a long caption", get_font(11), 40)
    'a lon…'
    """
    return _fit(text, int(font.size), font.path == str(FONT_FILES[True]), width)


@lru_cache(maxsize=8192)
def _fit(text: str, size: int, bold: bool, width: int) -> str:
    if text_length(text, size, bold) <= width:
        return text
    while text and text_length(text + "…", size, bold) > width:
        text = text[:-1]
    return text + "…"


def encode(img: Image.Image) -> bytes:
    """PNG (`png`) for small pictures; JPEG (4:4:4, quality 90) above 0.6 MP, where PNG encoding costs 100+ ms.

    >>> encode(Image.new("RGB", (4, 4)))[:4] == b"\\x89PNG"
    True
    """
    if img.width * img.height > 600_000:
        buffer = io.BytesIO()
        img.save(buffer, format="JPEG", quality=90, subsampling=0)
        return buffer.getvalue()
    return png(np.asarray(img if img.mode == "RGB" else img.convert("RGB")))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(pixels: np.ndarray) -> bytes:
    """(H, W, 3) uint8 as PNG bytes: every row stored as its difference from the row above (PNG's "Up" filter, one
    numpy pass), deflated at zlib level 1 (which lets go of the interpreter lock). Three times cheaper than Pillow's
    encoder, which tries five filters on every row, for about 3 % more bytes.

    >>> pixels = np.arange(60, dtype=np.uint8).reshape(2, 10, 3)
    >>> (np.asarray(Image.open(io.BytesIO(png(pixels)))) == pixels).all()
    np.True_
    """
    height, width, _ = pixels.shape
    rows = np.ascontiguousarray(pixels, dtype=np.uint8).reshape(height, width * 3)
    data = np.empty((height, width * 3 + 1), np.uint8)
    data[:, 0] = 2  # filter type Up: each byte minus the byte above it, modulo 256
    data[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=data[1:, 1:])
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8 bits, RGB, deflate, no interlace
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(data, 1))
            + _chunk(b"IEND", b""))


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
    left = f"−{top}" if diverging else "0"
    draw_text(canvas, (x, y + bar_h + 2), left, 11, False, MUTED)
    draw_text(canvas, (x + bar_w - text_length(top, 11), y + bar_h + 2), top, 11, False, MUTED)
    if diverging:
        draw_text(canvas, (x + bar_w / 2 - 3, y + bar_h + 2), "0", 11, False, MUTED)


def vertical_bar(canvas: Image.Image, draw: ImageDraw.ImageDraw, diverging: bool, top: float, x: int, y: int,
                 height: int) -> None:
    """A vertical colour bar beside an enlarged map, labelled with its values.

    >>> img = Image.new("RGB", (60, 80), "white"); vertical_bar(img, ImageDraw.Draw(img), False, 2.0, 4, 4, 60)
    """
    height = max(height, 60)
    ramp = lut(DIVERGING if diverging else SEQUENTIAL)[::-1]
    canvas.paste(Image.fromarray(np.tile(ramp[:, None], (1, 12, 1))).resize((12, height)), (x, y))
    draw.rectangle([x - 1, y - 1, x + 12, y + height], outline=FRAME)
    draw_text(canvas, (x + 16, y - 2), num(top), 11, False, MUTED)
    draw_text(canvas, (x + 16, y + height - 12), num(-top) if diverging else "0", 11, False, MUTED)
    if diverging:
        draw_text(canvas, (x + 16, y + height / 2 - 6), "0", 11, False, MUTED)
