"""Generate Conv Lab's sample images into conv_lab/features/assets/ (run: python scripts/make_sample_images.py).

Every picture is drawn here from numpy arithmetic and Pillow shapes, so the files carry no third-party
rights (dedicated to the public domain, CC0). The output is deterministic: running the script again
writes byte-identical PNGs, which `tests/test_feature_maps.py` checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

ASSETS = Path(__file__).resolve().parent.parent / "conv_lab" / "features" / "assets"


def shapes(size: int = 128) -> Image.Image:
    """Flat shapes with crisp vertical, horizontal, diagonal and curved edges on a light ground."""
    img = Image.new("RGB", (size, size), (236, 232, 220))
    d = ImageDraw.Draw(img)
    s = size / 128
    d.rectangle([10 * s, 12 * s, 54 * s, 56 * s], fill=(30, 30, 40))  # square: 2 vertical + 2 horizontal edges
    d.ellipse([70 * s, 10 * s, 118 * s, 58 * s], fill=(205, 45, 40))  # circle: every orientation
    d.polygon([(14 * s, 118 * s), (58 * s, 118 * s), (36 * s, 72 * s)], fill=(40, 90, 200))  # triangle: diagonals
    cell = max(1, int(8 * s))  # a checkerboard patch: fine detail that stride aliases
    for r in range(4):
        for c in range(5):
            if (r + c) % 2 == 0:
                x, y = int(72 * s) + c * cell, int(76 * s) + r * cell
                d.rectangle([x, y, x + cell - 1, y + cell - 1], fill=(20, 20, 20))
    d.line([(70 * s, 114 * s), (118 * s, 114 * s)], fill=(40, 140, 60), width=max(1, int(4 * s)))
    return img


def gradient(size: int = 128) -> Image.Image:
    """Smooth colour ramps: red grows left to right, green top to bottom, blue along the diagonal."""
    y, x = np.mgrid[0:size, 0:size] / (size - 1)
    rgb = np.stack([x, y, 1 - (x + y) / 2], axis=-1)
    return Image.fromarray(np.round(rgb * 255).astype(np.uint8), "RGB")


def stripes(size: int = 128) -> Image.Image:
    """Vertical stripes on the left half, horizontal stripes on the right: the edge-filter test card."""
    a = np.full((size, size), 235, dtype=np.uint8)
    half, period = size // 2, max(4, size // 8)
    cols = np.arange(half)
    a[:, :half][:, (cols // (period // 2)) % 2 == 1] = 25
    rows = np.arange(size)
    a[(rows // (period // 2)) % 2 == 1, half:] = 25
    a[:, half - 1:half + 1] = 128  # a grey seam between the halves
    return Image.fromarray(a, "L").convert("RGB")


def scene(size: int = 192) -> Image.Image:
    """A photo-like landscape: sky gradient, soft sun, hills, a house with windows, a tree, textured grass."""
    rng = np.random.default_rng(7)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64)
    sky_t = y / size
    img = np.zeros((size, size, 3))
    img[..., 0] = 120 + 90 * sky_t
    img[..., 1] = 170 + 60 * sky_t
    img[..., 2] = 235 - 20 * sky_t
    sun = np.exp(-(((x - 0.78 * size) ** 2 + (y - 0.2 * size) ** 2) / (2 * (0.07 * size) ** 2)))
    img += sun[..., None] * (np.array([255, 240, 170]) - img) * 0.95
    hill = 0.55 * size + 0.06 * size * np.sin(x / size * 2 * np.pi * 1.3) + 0.03 * size * np.sin(x / size * 11)
    ground = y > hill
    grass = np.array([70, 140, 60]) + rng.normal(0, 14, (size, size, 1)) * np.array([0.6, 1.0, 0.5])
    shade = (1 - 0.35 * (y - hill) / size)[..., None]
    img = np.where(ground[..., None], grass * shade, img)
    pic = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), "RGB")
    d = ImageDraw.Draw(pic)
    s = size / 192
    d.rectangle([30 * s, 100 * s, 96 * s, 150 * s], fill=(214, 196, 160))  # house walls
    d.polygon([(24 * s, 101 * s), (102 * s, 101 * s), (63 * s, 70 * s)], fill=(150, 55, 45))  # roof
    for wx in (38, 74):  # two windows with crossbars
        d.rectangle([wx * s, 110 * s, (wx + 14) * s, 124 * s], fill=(60, 90, 130))
        d.line([((wx + 7) * s, 110 * s), ((wx + 7) * s, 124 * s)], fill=(240, 240, 240), width=max(1, int(s)))
        d.line([(wx * s, 117 * s), ((wx + 14) * s, 117 * s)], fill=(240, 240, 240), width=max(1, int(s)))
    d.rectangle([56 * s, 126 * s, 70 * s, 150 * s], fill=(95, 60, 35))  # door
    d.rectangle([136 * s, 104 * s, 142 * s, 150 * s], fill=(90, 60, 30))  # tree trunk
    d.ellipse([118 * s, 70 * s, 160 * s, 112 * s], fill=(40, 105, 45))  # crown
    return pic


SAMPLES = {"scene": scene, "shapes": shapes, "stripes": stripes, "gradient": gradient}


def main() -> int:
    """Write every sample as an optimised PNG; print name, size and bytes."""
    ASSETS.mkdir(parents=True, exist_ok=True)
    for name, draw in SAMPLES.items():
        path = ASSETS / f"{name}.png"
        draw().save(path, format="PNG", optimize=True)
        print(f"{path.relative_to(ASSETS.parent.parent)}  {Image.open(path).size}  {path.stat().st_size} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
