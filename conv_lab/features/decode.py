"""Bounded, reduced-size decoding of untrusted upload bytes (PNG/JPEG) into a small RGB array.

Memory: a 49 kB PNG can declare 4096×4096 pixels (64 MB decoded). So the pixel count is checked from
the header before any pixel is decoded, the decode's memory is capped from the header (`decode_cost`),
mode changes and shrinking work a strip of rows at a time on the one full-size buffer, at most
`limits.MAX_CONCURRENT_DECODES` decodes run at once on dedicated threads (the rest queue), and freed
pages go back to the OS afterwards (`release_freed_memory`). Every failure is an `ImageError`.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import io
import os
import threading
import warnings
from collections.abc import Callable, Iterator
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from typing import TypeVar

import numpy as np
from PIL import Image, UnidentifiedImageError

from conv_lab import limits
from conv_lab.byte_cache import byte_lru_cache
from conv_lab.core.errors import ConvConfigError
from conv_lab.render.slots import slot_released

T = TypeVar("T")
FORMATS = ("PNG", "JPEG")  # the only decoders an upload may reach


class ImageError(ConvConfigError):
    """A picture Conv Lab will not use (empty, too big, not an image, damaged), in plain words.

    >>> ImageError("the file is empty", "choose a PNG or JPEG picture").param
    'image'
    """

    def __init__(self, why: str, fix: str = "choose a PNG or JPEG picture"):
        super().__init__("image", why, fix)


def megabytes(n: int) -> str:
    """A byte count in MB with one decimal, as the upload messages show it.

    >>> megabytes(5 * 1024 * 1024), megabytes(1536 * 1024)
    ('5.0 MB', '1.5 MB')
    """
    return f"{n / 1024 / 1024:.1f} MB"


class DecodeWorkers:
    """Runs decodes on `size` long-lived threads: uploads queue (up to `wait` s) instead of stacking buffers.

    Dedicated threads, not a semaphore in each caller's thread: glibc gives every thread that allocates its own
    malloc arena, and malloc_trim cannot shrink the top of a thread's arena, so 8 script threads decoding would
    each keep ~8 MB after the decode; these workers are the only threads whose arenas ever see a decode.

    >>> DecodeWorkers(1, wait=5).run("a.png", sum, [1, 2])
    3
    """

    def __init__(self, size: int, wait: float):
        self.size, self.wait = size, wait
        self.on_enter: Callable[[int], None] | None = None  # test hook: called in a worker with `running`
        self._start()
        os.register_at_fork(after_in_child=self._start)  # a forked child has the pool object but not its threads

    def _start(self) -> None:
        self.running = 0
        self._pool = ThreadPoolExecutor(self.size, thread_name_prefix="convlab-decode")
        self._count_lock = threading.Lock()

    def run(self, name: str, fn: Callable[..., T], *args: object) -> T:
        """fn(*args) on a worker; an ImageError naming `name` if it has not finished within `wait` s."""
        future = self._pool.submit(self._counted, fn, *args)
        with slot_released():  # a queued or running decode: other students' page scripts run meanwhile
            finished = futures.wait([future], timeout=self.wait).done
        if not finished:
            future.cancel()  # still queued: never start it; already running: it finishes unseen
            raise ImageError(f"the server is busy decoding other students' pictures, so '{name}' waited "
                             f"{self.wait:.0f} s", "upload the picture again in a moment")
        return future.result()

    def _counted(self, fn: Callable[..., T], *args: object) -> T:
        with self._count_lock:
            self.running += 1
            running = self.running
        try:
            if self.on_enter is not None:
                self.on_enter(running)
            return fn(*args)
        finally:
            with self._count_lock:
                self.running -= 1


DECODE_WORKERS = DecodeWorkers(limits.MAX_CONCURRENT_DECODES, limits.DECODE_WAIT_SECONDS)
_TRIM_AFTER_PIXELS = 1024 * 1024  # a decode of this many header pixels (≥ 4 MB of buffers) returns memory after
_STRIP_BYTES = 1024 * 1024  # rows converted and reduced together: bounds the extra copies of a mode change
# Pillow's storage per pixel (3-channel modes are padded to 4 bytes); a mode not listed is taken as 4.
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
_ORIENTATIONS = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
                 5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
                 8: Image.Transpose.ROTATE_90}  # EXIF orientation tag -> the turn that makes the picture upright
_OPEN_LOCK = threading.Lock()  # catch_warnings swaps process-wide filters: concurrent uploads must not interleave them


# Cached on the bytes: a rerun (any widget change) must not decode again. The keys hold the raw upload
# (≤ MAX_UPLOAD_BYTES = 5 MB each, so ≤ 40 MB for 8) and the values one ≤ 512² RGB array (≤ 0.75 MB each):
# small next to one decode, and what keeps reruns free.
@byte_lru_cache(limits.DECODE_CACHE_BYTES, maxsize=8, count_key=True)  # the key holds the upload
def decode_upload(data: bytes, name: str) -> tuple[np.ndarray, str, tuple[int, int], tuple[str, ...]]:
    """Header checks, integrity check, then a bounded decode in a worker: (rgb, format, (w, h), notices).

    Cached on the bytes; `name` is the sanitised file name messages quote.

    >>> buf = io.BytesIO(); Image.new("RGB", (8, 6), "red").save(buf, "PNG")
    >>> decode_upload(buf.getvalue(), "red.png")[1:]
    ('PNG', (8, 6), ())
    """
    fmt_name = "picture"
    try:
        with _opened(data) as img:
            fmt_name, (w, h) = img.format, img.size
            _check_pixels(name, w, h)
            img.verify()  # structure and checksums, without decoding pixels
        rgb, notices = DECODE_WORKERS.run(name, _decode_and_trim, data, name, (w, h))
    except ImageError:
        raise
    except UnidentifiedImageError as exc:
        raise ImageError(f"'{name}' is not a PNG or JPEG picture Conv Lab can read") from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ImageError(f"'{name}' declares more pixels than Conv Lab decodes "
                         f"({limits.MAX_UPLOAD_PIXELS:,} at most)", "upload a smaller picture") from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, MemoryError) as exc:
        raise ImageError(f"'{name}' looks like a {fmt_name} file but is "
                         f"damaged or cut short ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__})",
                         "save the picture again as PNG or JPEG and upload that file") from exc
    rgb.flags.writeable = False
    return rgb, fmt_name, (w, h), notices


@contextmanager
def _opened(data: bytes) -> Iterator[Image.Image]:
    """Image.open on the bytes (header only; a declared bomb raises); close() frees the pixels, even on errors."""
    with _OPEN_LOCK, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        img = Image.open(io.BytesIO(data), formats=FORMATS)
    try:
        yield img
    finally:
        img.close()  # an ImageFile's own __exit__ only closes the file, keeping the decoded buffer alive


def _decode_and_trim(data: bytes, name: str, header_size: tuple[int, int]) -> tuple[np.ndarray, tuple[str, ...]]:
    try:
        return _decode_small(data, name, header_size)
    finally:
        if header_size[0] * header_size[1] >= _TRIM_AFTER_PIXELS:  # its full-size buffer is freed by now
            release_freed_memory()


def _decode_small(data: bytes, name: str, header_size: tuple[int, int]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode once at full size (or a JPEG draft), reduce strip by strip, finish at ≤ MAX_IMAGE_SIDE."""
    w, h = header_size
    target = _target_size(w, h)
    with _opened(data) as img:
        _check_pixels(name, *img.size)
        if img.format == "JPEG":  # let libjpeg decode at a reduced scale when that is enough
            img.draft("RGB", (limits.MAX_IMAGE_SIDE, limits.MAX_IMAGE_SIDE))
        _check_cost(name, img)
        img.load()
        turn = _orientation(img)
        extrema = img.getextrema() if _working_mode(img) == "F" else None  # of every pixel, as before reducing
        reduced = _reduce_in_strips(img, target)
    small = reduced.resize(target, Image.Resampling.LANCZOS) if reduced.size != target else reduced
    notices: list[str] = []
    turned = small.transpose(turn) if turn is not None else small  # turned small: the same pixels, 1/64 the work
    if turned.size != small.size:
        notices.append("turned upright as the camera's orientation tag asks")
        w, h = h, w
    small = turned
    if target != header_size:
        notices.append(f"shrunk from {w}×{h} to {small.width}×{small.height} pixels "
                       f"(Conv Lab's cap is {limits.MAX_IMAGE_SIDE} per side)")
    return _finish_rgb(small, extrema), tuple(notices)


def _target_size(w: int, h: int) -> tuple[int, int]:
    """(width, height) of the picture Conv Lab keeps: at most MAX_IMAGE_SIDE per side, aspect kept.

    >>> _target_size(1500, 600), _target_size(40, 30)
    ((512, 205), (40, 30))
    """
    side = limits.MAX_IMAGE_SIDE
    if max(w, h) <= side:
        return w, h
    scale = side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def decode_cost(mode: str, w: int, h: int) -> int:
    """Bytes Pillow allocates to hold a w×h picture of `mode` (the full-size buffer of a decode).

    >>> decode_cost("RGB", 4096, 4096) // 2**20, decode_cost("I;16", 4096, 4096) // 2**20
    (64, 32)
    """
    return w * h * _BYTES_PER_PIXEL.get(mode, 4)


def _check_cost(name: str, img: Image.Image) -> None:
    cost = decode_cost(img.mode, *img.size)
    if cost > limits.MAX_DECODE_BYTES:
        raise ImageError(f"'{name}' would need {megabytes(cost)} of memory to decode ({img.width}×{img.height} pixels in "
                         f"mode {img.mode}), above Conv Lab's cap of {megabytes(limits.MAX_DECODE_BYTES)} per picture",
                         "shrink the picture (or save it as 8-bit RGB or JPEG) and upload it again")


def _orientation(img: Image.Image) -> Image.Transpose | None:
    try:
        return _ORIENTATIONS.get(img.getexif().get(0x0112))
    except Exception:  # a broken EXIF block only loses the rotation hint  # noqa: BLE001
        return None


def _check_pixels(name: str, w: int, h: int) -> None:
    if w < 1 or h < 1:
        raise ImageError(f"'{name}' has no pixels ({w}×{h})")
    if w * h > limits.MAX_UPLOAD_PIXELS:
        raise ImageError(f"'{name}' is {w}×{h} = {w * h:,} pixels, above Conv Lab's cap of "
                         f"{limits.MAX_UPLOAD_PIXELS:,} (a guard against decompression bombs)",
                         "shrink the picture below 16 megapixels and upload it again")


def _working_mode(img: Image.Image) -> str:
    """The mode pixels are averaged in: premultiplied alpha (so transparent colour does not bleed), float for
    16/32-bit, else L or RGB.

    >>> [_working_mode(Image.new(m, (1, 1))) for m in ("RGBA", "LA", "I;16", "1", "P", "CMYK")]
    ['RGBa', 'La', 'F', 'L', 'RGB', 'RGB']
    """
    mode = img.mode
    if mode in ("RGBA", "PA") or (mode == "P" and "transparency" in img.info):
        return "RGBa"
    if mode == "LA":
        return "La"
    if mode.startswith("I") or mode == "F":
        return "F"
    return "L" if mode in ("1", "L") else "RGB"


def _reduce_in_strips(img: Image.Image, target: tuple[int, int]) -> Image.Image:
    """Convert to the working mode and box-reduce to ≥ 2× target, a strip of rows at a time.

    Pillow's reduce() averages disjoint fx×fy blocks, so strips whose height is a multiple of fy give the same
    pixels as one call; the strips keep each mode change (RGBA -> RGBa doubles a 64 MB buffer) a few MB.
    """
    mode = _working_mode(img)
    fx = max(1, int(img.width / target[0] / 2))  # Pillow's own reducing_gap=2: LANCZOS finishes the last ≤ 2×
    fy = max(1, int(img.height / target[1] / 2))
    rows = max(1, _STRIP_BYTES // (4 * img.width) // fy) * fy
    out = Image.new(mode, (-(-img.width // fx), -(-img.height // fy)))
    for top in range(0, img.height, rows):
        strip = _convert(img.crop((0, top, img.width, min(top + rows, img.height))), mode)
        out.paste(strip.reduce((fx, fy)) if (fx, fy) != (1, 1) else strip, (0, top // fy))
    return out


def _convert(img: Image.Image, mode: str) -> Image.Image:
    if img.mode == mode:
        return img
    if mode == "RGBa" and img.mode != "RGBA":  # Pillow premultiplies from RGBA only (P, PA go through it)
        img = img.convert("RGBA")
    return img.convert(mode)


def _finish_rgb(img: Image.Image, extrema: tuple[float, float] | None) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a small working-mode picture: alpha over white, 16/32-bit stretched to 0..255."""
    if img.mode in ("RGBa", "La"):  # premultiplied colour over white: c·a + 255·(1 − a) = c_premult + 255 − a
        a = np.asarray(img, dtype=np.int16)  # (H, W, 4) for RGBa, (H, W, 2) for La
        rgb = np.clip(a[..., :-1] + (255 - a[..., -1:]), 0, 255).astype(np.uint8)
        rgb = np.repeat(rgb, 3, axis=2) if img.mode == "La" else rgb
    elif img.mode == "F":
        lo, hi = extrema if extrema is not None else img.getextrema()
        a = np.asarray(img, dtype=np.float64)
        gray = np.clip(np.round((a - lo) / (float(hi - lo) or 1.0) * 255), 0, 255).astype(np.uint8)
        rgb = np.repeat(gray[..., None], 3, axis=2)
    else:
        rgb = np.array(img.convert("RGB"))  # a copy: Pillow's buffer view is read-only
    return rgb


def release_freed_memory() -> bool:
    """Hand freed heap pages back to the OS (glibc's malloc_trim(0)); False where libc has no malloc_trim.

    >>> release_freed_memory() in (True, False)
    True
    """
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)  # glibc keeps freed arenas of every thread otherwise: RSS stayed at 1.1 GB after 8 uploads
    return True


@lru_cache(maxsize=1)
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None
