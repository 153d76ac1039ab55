"""conv_lab.lab.blocks: the layer as blocks decodes, stays in bounds, names the right numbers, and is cached."""

from __future__ import annotations

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from conv_lab.lab import block_shapes, blocks
from conv_lab.lab.blocks import layer_blocks_png

from conftest import n_examples

MAX_W, MAX_H = 1200, 900  # the picture always fits a slide


def decode(png: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(png))
    image.load()
    assert image.format == "PNG"
    return np.asarray(image.convert("RGB"))


def colours(pixels: np.ndarray) -> set[tuple[int, int, int]]:
    return {tuple(int(v) for v in c) for c in np.unique(pixels.reshape(-1, 3), axis=0)}


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG 2 contrast ratio."""
    def luminance(rgb):
        c = np.array(rgb) / 255
        c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2]
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_plain_2d_picture_and_caption():
    png, caption = layer_blocks_png(3, 16, 1, (3, 3), (32, 32), (30, 30))
    pixels = decode(png)
    assert 400 <= pixels.shape[1] <= MAX_W and 250 <= pixels.shape[0] <= MAX_H
    assert caption.startswith("Conv2d: input 3×32×32 volume, 16 filters of 3×3×3, output 16×30×30; "
                              "each filter makes one output slice")
    assert "4 of the 16 filters are drawn" in caption
    assert set(block_shapes.STRONG) <= colours(pixels)  # four drawn filters, four colours (each also named in text)


def test_two_filters_use_two_colours():
    png, caption = layer_blocks_png(3, 2, 1, (3, 3), (8, 8), (6, 6))
    found = colours(decode(png))
    assert set(block_shapes.STRONG[:2]) <= found and not set(block_shapes.STRONG[2:]) & found
    assert "filters are drawn" not in caption  # both are drawn


def test_1d_caption_names_the_slab_rows_and_numbers():
    png, caption = layer_blocks_png(1, 64, 1, (80,), (16000,), (3981,))
    decode(png)
    assert caption.startswith("Conv1d: input 1×16000 slab (channels × length), 64 filters of 1×80, output 64×3981; "
                              "each filter makes one output row")
    assert "compressed" in caption  # an 80-tap kernel on 16000 samples is drawn bigger than to scale


def test_3d_caption_names_volumes():
    png, caption = layer_blocks_png(3, 64, 1, (3, 3, 3), (16, 112, 112), (14, 110, 110))
    decode(png)
    assert caption.startswith("Conv3d: input 3×16×112×112 (channels × depth × height × width), 64 filters of "
                              "3×3×3×3, output 64×14×110×110; each filter makes one output volume")
    assert "3 of the 64 filters are drawn" in caption


def test_depthwise_says_each_filter_reads_one_channel():
    png, caption = layer_blocks_png(32, 32, 32, (3, 3), (56, 56), (56, 56))
    assert "32 filters of 1×3×3 (depthwise, groups=32: each filter reads 1 channel)" in caption
    assert set(block_shapes.STRONG) <= colours(decode(png))  # four groups' slabs and filters coloured


def test_groups_say_how_many_channels_each_filter_reads():
    _, caption = layer_blocks_png(32, 64, 4, (3, 3), (28, 28), (14, 14))
    assert "64 filters of 8×3×3 (groups=4: each filter reads 8 of the 32 channels)" in caption
    _, caption = layer_blocks_png(4, 8, 2, (3,), (20,), (18,))
    assert "8 filters of 2×3 (groups=2: each filter reads 2 of the 4 channels)" in caption


def test_transposed_is_labelled_and_bigger():
    png, caption = layer_blocks_png(64, 32, 1, (4, 4), (8, 8), (16, 16), transposed=True)
    decode(png)
    assert caption.startswith("ConvTranspose2d: input 64×8×8 volume") and "output is bigger" in caption


def test_huge_layer_still_fits():
    png, caption = layer_blocks_png(1024, 512, 1, (3, 3), (1024, 1024), (1022, 1022))
    pixels = decode(png)
    assert pixels.shape[1] <= MAX_W and pixels.shape[0] <= MAX_H
    assert "4 of the 512 filters are drawn" in caption and "Not to scale" in caption
    assert len(png) < 60_000


@settings(max_examples=n_examples(60, 20), deadline=None)
@given(dims=st.integers(1, 3), c_in=st.sampled_from([1, 3, 16, 64, 1024]), groups=st.sampled_from([1, 2, "dw"]),
       per_group_out=st.integers(1, 64), size=st.integers(1, 4096), kernel=st.integers(1, 15),
       transposed=st.booleans())
def test_any_layer_draws_within_bounds(dims, c_in, groups, per_group_out, size, kernel, transposed):
    groups = c_in if groups == "dw" else min(groups, c_in) if c_in % 2 == 0 else 1
    size = size if dims < 3 else size % 256 + 1
    out = size + kernel - 1 if transposed else max(1, size - kernel + 1)
    png, caption = layer_blocks_png(c_in, groups * per_group_out, groups, (kernel,) * dims, (size,) * dims,
                                    (out,) * dims, transposed)
    pixels = decode(png)
    assert pixels.shape[1] <= MAX_W and pixels.shape[0] <= MAX_H
    assert f"{groups * per_group_out} filter" in caption


def test_cache_hit_returns_the_same_bytes():
    blocks._cached.cache_clear()
    first = layer_blocks_png(8, 16, 2, (3, 3), (20, 20), (18, 18))
    second = layer_blocks_png(8, 16, 2, [3, 3], [20, 20], [18, 18])  # lists name the same layer
    assert second is first and blocks._cached.cache_info().hits == 1
    assert blocks._cached.cache_info().maxsize == 256


@pytest.mark.parametrize("args", [
    (3, 16, 1, (3, 3), (32,), (30, 30)),  # input_size too short
    (3, 16, 1, (3,), (32, 32), (30, 30)),  # kernel too short
    (3, 16, 1, (3, 3, 3, 3), (8, 8, 8, 8), (6, 6, 6, 6)),  # 4-D
    (3, 16, 1, (), (), ()),  # no dimension
    (3, 16, 2, (3, 3), (32, 32), (30, 30)),  # groups do not divide in_channels
    (4, 6, 4, (3, 3), (32, 32), (30, 30)),  # groups do not divide out_channels
    (3, 16, 1, (0, 3), (32, 32), (30, 30)),  # zero kernel
    (0, 16, 1, (3, 3), (32, 32), (30, 30)),  # no input channels
    (3, 16, 1, 3, (32, 32), (30, 30)),  # a bare int is not a tuple of sizes
])
def test_invalid_arguments_raise_value_error(args):
    with pytest.raises(ValueError):
        layer_blocks_png(*args)


def test_readable_on_a_projector():
    assert min(blocks.PX, blocks.TITLE_PX) >= 14
    white = (255, 255, 255)
    assert contrast(block_shapes.INK, white) >= 7  # text: WCAG AAA
    assert contrast(block_shapes.EDGE, white) >= 4.5  # outlines around every coloured face
    assert all(contrast(block_shapes.EDGE, c) >= 3 for c in (block_shapes.INPUT_FILL, block_shapes.OUTPUT_FILL,
                                                             *(block_shapes.tint(s) for s in block_shapes.STRONG)))
    mask, *_ = block_shapes.text_mask("Input", blocks.PX)
    assert mask.size[1] >= 11  # a capital drawn at 15 px is at least 11 px tall
