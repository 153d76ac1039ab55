"""An upload is centre-cropped to the layer's proportions, never squashed (issue 16, item 13)."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from conv_lab.features.images import crop_box, prepare_input, read_upload


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array.astype(np.uint8), "RGB").save(out, format="PNG")
    return out.getvalue()


def test_a_200x150_upload_is_cropped_not_squashed():
    pixels = np.full((150, 200, 3), 255)
    pixels[:, :25] = pixels[:, 175:] = (255, 0, 0)  # red bands that only a squash would keep
    pixels[70:80, 95:105] = 0  # a 10×10 black square in the centre stays square
    prepared = prepare_input(read_upload(_png(pixels), "wide.png"), 3, 32, 32)
    red = (prepared.array[0] > 0.9) & (prepared.array[1] < 0.1)
    assert not red.any(), "the sides outside the centred 150×150 are cropped away"
    dark = prepared.array.mean(axis=0) < 0.5
    rows, cols = np.nonzero(dark)
    assert abs(np.ptp(rows) - np.ptp(cols)) <= 1, "the square stays square"
    assert any("centre-cropped to 150×150" in n and "resized from 200×150" in n for n in prepared.notices)


@given(h=st.integers(1, 600), w=st.integers(1, 600), th=st.integers(1, 256), tw=st.integers(1, 256))
def test_crop_box_is_the_largest_centred_part_with_the_target_proportions(h, w, th, tw):
    left, top, right, bottom = crop_box((h, w), (th, tw))
    assert 0 <= left < right <= w and 0 <= top < bottom <= h
    cw, ch = right - left, bottom - top
    assert cw == w or ch == h  # the largest: one side is whole
    assert abs(cw * th - ch * tw) <= max(th, tw)  # the target's proportions, to a pixel of rounding
    assert abs(left - (w - right)) <= 1 and abs(top - (h - bottom)) <= 1  # centred
