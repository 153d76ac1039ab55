"""Pictures for the feature-map page: the shipped samples, untrusted uploads, and the input tensor.

Uploads are hostile until proven otherwise: `read_upload` checks the bytes themselves (type, size,
an empty file) and hands them to `features.decode`, which checks the format, the pixel count (read
from the header, before any pixel is decoded), the integrity of the data and the decode itself, in
that order, with bounded memory. Every failure is an `ImageError` with a plain message and a fix.
Large pictures are shrunk to `limits.MAX_IMAGE_SIDE` with a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.features.decode import ImageError, decode_upload, megabytes

ASSETS = Path(__file__).resolve().parent / "assets"
# name -> what it is good for (files: assets/<name>.png, made by scripts/make_sample_images.py)
SAMPLES: dict[str, str] = {
    "scene": "a photo-like landscape: soft sky, sharp house, textured grass",
    "shapes": "flat shapes: vertical, horizontal, diagonal and curved edges, a checkerboard patch",
    "stripes": "vertical stripes left, horizontal stripes right: which edge filter sees which",
    "gradient": "smooth colour ramps: blurs change nothing, edge filters give a flat response",
}
CHANNEL_NAMES = ("R", "G", "B")


def sample_image(name: str) -> np.ndarray:
    """One shipped sample as an (H, W, 3) uint8 RGB array (read-only, cached).

    >>> sample_image("shapes").shape
    (128, 128, 3)
    """
    if name not in SAMPLES:
        raise ImageError(f"there is no sample picture called {name!r}", "pick one of " + ", ".join(SAMPLES))
    return _load_sample(name)


@lru_cache(maxsize=len(SAMPLES))
def _load_sample(name: str) -> np.ndarray:
    with Image.open(ASSETS / f"{name}.png") as img:
        array = np.asarray(img.convert("RGB")).copy()
    array.flags.writeable = False
    return array


@dataclass(frozen=True)
class Picture:
    """A validated picture: RGB pixels plus what was done to it on the way in."""

    rgb: np.ndarray  # (H, W, 3) uint8, read-only
    source: str  # "sample 'scene'" or "upload 'cat.jpg' (JPEG 4000×3000)"
    notices: tuple[str, ...] = ()

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) in pixels.

        >>> Picture(np.zeros((4, 6, 3), np.uint8), "test").size
        (4, 6)
        """
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


def sample_picture(name: str) -> Picture:
    """A shipped sample as a Picture.

    >>> sample_picture("stripes").size
    (128, 128)
    """
    return Picture(sample_image(name), f"sample '{name}'")


def read_upload(data: bytes, filename: str = "upload") -> Picture:
    """Validate and decode untrusted upload bytes (PNG/JPEG) into a Picture; raise ImageError otherwise.

    >>> import io; buf = io.BytesIO(); Image.new("RGB", (8, 6), "red").save(buf, "PNG")
    >>> read_upload(buf.getvalue(), "red.png").size
    (6, 8)
    >>> read_upload(buf.getvalue(), "[x](http://a)*.png").source
    "upload '_x__http___a__.png' (PNG 8×6)"
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise ImageError(f"expected the file's bytes, got {type(data).__name__}")
    data = bytes(data)
    name = re.sub(r"[^\w .\-]", "_", str(filename or "upload"))[:80]  # shown in markdown: no links, no markup
    if not data:
        raise ImageError(f"'{name}' is empty (0 bytes)")
    if len(data) > limits.MAX_UPLOAD_BYTES:
        raise ImageError(f"'{name}' is {megabytes(len(data))}, above Conv Lab's upload cap of "
                         f"{megabytes(limits.MAX_UPLOAD_BYTES)}",
                         "upload a smaller picture (a phone photo saved as JPEG is usually 1–4 MB)")
    rgb, fmt_name, (w, h), notices = decode_upload(data, name)
    return Picture(rgb, f"upload '{name}' ({fmt_name} {w}×{h})", notices)


@dataclass(frozen=True)
class PreparedInput:
    """The tensor data fed to the layer, the names of its channels, and how it was made."""

    array: np.ndarray  # (C, H, W) float32 in [0, 1]
    channel_names: tuple[str, ...]
    notices: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """(1, C, H, W) as torch will see it.

        >>> prepare_input(sample_picture("shapes"), 1, 8, 8).shape
        (1, 1, 8, 8)
        """
        return (1, *(int(v) for v in self.array.shape))


def channel_plan(in_channels: int) -> tuple[str, ...]:
    """Which picture channel feeds each input channel: gray for 1, else R, G, B repeated.

    >>> channel_plan(1), channel_plan(3), channel_plan(5)
    (('gray',), ('R', 'G', 'B'), ('R', 'G', 'B', 'R′', 'G′'))
    """
    if in_channels == 1:
        return ("gray",)
    return tuple(CHANNEL_NAMES[i % 3] + "′" * (i // 3) for i in range(in_channels))


def crop_box(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, top, right, bottom): the largest centred part of a picture of `size` (H, W) with the proportions of
    `target` (H, W). An upload is cropped, not padded: padding would add edges that every filter answers to.

    >>> crop_box((150, 200), (32, 32)), crop_box((150, 200), (30, 40)), crop_box((200, 150), (10, 30))
    ((25, 0, 175, 150), (0, 0, 200, 150), (0, 75, 150, 125))
    """
    (h, w), (th, tw) = size, target
    if w * th > h * tw:  # wider than the target: keep the full height
        cw = max(1, min(w, round(h * tw / th)))
        return (w - cw) // 2, 0, (w - cw) // 2 + cw, h
    ch = max(1, min(h, round(w * th / tw)))
    return 0, (h - ch) // 2, w, (h - ch) // 2 + ch


def prepare_input(picture: Picture, in_channels: int, height: int, width: int, own_size: bool = False) -> PreparedInput:
    """Resize the picture to H×W (or keep its own size) and build `in_channels` channels in [0, 1].

    >>> prepare_input(sample_picture("scene"), 3, 32, 48).array.shape
    (3, 32, 48)
    """
    if not isinstance(in_channels, int) or not 1 <= in_channels <= limits.MAX_CHANNELS:
        raise ConvConfigError("in_channels", f"{in_channels!r} channels cannot be built from a picture",
                              f"use 1 (grayscale) to {limits.MAX_CHANNELS} channels")
    notices: list[str] = []
    img = Image.fromarray(np.asarray(picture.rgb, dtype=np.uint8), "RGB")
    if own_size:
        height, width = picture.size
    for name, value in (("height", height), ("width", width)):
        if not isinstance(value, int) or not 1 <= value <= limits.MAX_SPATIAL:
            raise ConvConfigError("input_size", f"{name} {value!r} is not a size Conv Lab can resize to",
                                  f"use 1 to {limits.MAX_SPATIAL} pixels")
    if (height, width) != picture.size:
        box = crop_box(picture.size, (height, width))
        cropped = (box[2] - box[0], box[3] - box[1])
        shrinking = height < cropped[1] or width < cropped[0]
        img = img.resize((width, height), Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR, box=box)
        crop = "" if cropped == (picture.size[1], picture.size[0]) else (
            f"centre-cropped to {cropped[0]}×{cropped[1]} to keep its proportions (not squashed), then ")
        notices.append(f"picture {crop}resized from {picture.size[1]}×{picture.size[0]} to the layer's input "
                       f"{width}×{height} (width×height)")
    plan = channel_plan(in_channels)
    if in_channels == 1:
        array = (np.asarray(img.convert("L"), dtype=np.float32) / 255.0)[None]
        notices.append("in_channels = 1: the picture was converted to grayscale (0.299 R + 0.587 G + 0.114 B)")
    else:
        rgb = np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0
        array = rgb[[i % 3 for i in range(in_channels)]]
        if in_channels == 2:
            notices.append("in_channels = 2: the layer sees the picture's R and G channels (B is left out)")
        elif in_channels > 3:
            notices.append(f"in_channels = {in_channels}: a picture has 3 colour channels, so they repeat "
                           f"({', '.join(plan)}); primes mark the copies")
    return PreparedInput(np.ascontiguousarray(array, dtype=np.float32), plan, tuple(notices))
