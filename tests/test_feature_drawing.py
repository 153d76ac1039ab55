"""The feature-map pictures' fast paths draw exactly what Pillow's own calls draw (issue 17: cheaper reruns, same
pictures): cached text, numpy blits of kernels and maps, the PNG writer, and the whole grid against the per-tile
Pillow drawing it replaced."""

from __future__ import annotations

import io

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from conv_lab.core.params import fmt
from conv_lab.core.spec import ConvSpec
from conv_lab.features.banks import sees_text
from conv_lab.features.drawing import (
    BACKGROUND,
    DIVERGING,
    FRAME,
    INK,
    MUTED,
    ColourScale,
    colour_scale,
    draw_text,
    fit,
    get_font,
    kernel_pixels,
    lut,
    num,
    paste_text,
    png,
    resize,
)
from conv_lab.features.figures import _kernel_slices, _layout, _legend, _shrink_maps, maps_grid_image
from conv_lab.features.images import sample_picture
from conv_lab.features.runs import run_feature_maps

from conftest import n_examples

TEXT = st.text(alphabet="0123456789.−-e+…×→ #abcjgyWAVT()", min_size=0, max_size=24)


@settings(max_examples=n_examples(60), deadline=None)
@given(TEXT, st.sampled_from([(11, False), (12, True), (13, True), (16, True)]),
       st.floats(0, 40), st.floats(0, 12))
def test_draw_text_is_imagedraw_text(text, font, x, y):
    size, bold = font
    want, got = Image.new("RGB", (120, 40), (240, 250, 255)), Image.new("RGB", (120, 40), (240, 250, 255))
    ImageDraw.Draw(want).text((x, y), text, fill=MUTED, font=get_font(size, bold))
    draw_text(got, (x, y), text, size, bold, MUTED)
    assert want.tobytes() == got.tobytes()


@settings(max_examples=n_examples(60), deadline=None)
@given(TEXT, st.sampled_from([(11, False), (12, True)]), st.integers(0, 60), st.integers(0, 20))
def test_paste_text_is_a_mask_cut_at_the_text_box(text, font, x, y):
    """paste_text = the text drawn at (0, 0) of a mask of the font's bounding box (right, bottom), pasted at xy."""
    size, bold = font
    want, got = Image.new("RGB", (140, 40), BACKGROUND), Image.new("RGB", (140, 40), BACKGROUND)
    _, _, right, bottom = get_font(size, bold).getbbox(text)
    mask = Image.new("L", (max(1, right), max(1, bottom)))
    ImageDraw.Draw(mask).text((0, 0), text, font=get_font(size, bold), fill=255)
    want.paste(INK, (x, y, x + mask.width, y + mask.height), mask)
    paste_text(got, (x, y), text, size, bold, INK)
    assert want.tobytes() == got.tobytes()


@settings(max_examples=n_examples(40), deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_png_round_trips_through_pillow(height, width, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    pixels[:, : width // 2] = pixels[0, 0]  # flat runs as well as noise
    assert (np.asarray(Image.open(io.BytesIO(png(pixels))).convert("RGB")) == pixels).all()


@settings(max_examples=n_examples(40), deadline=None)
@given(st.integers(1, 5), st.integers(1, 12), st.integers(1, 12), st.integers(1, 4), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_colourise_all_is_colourise_then_resize(n, h, w, grow, per_map, seed):
    values = (np.random.default_rng(seed).standard_normal((n, h, w)) * 3).astype(np.float32)
    values[0] = np.abs(values[0])  # a map without negatives (gray) beside diverging ones
    scale = colour_scale(values, per_map)
    height, width = h * grow + grow // 2, w * grow + (grow > 1)
    got = scale.colourise_all(values, height, width)
    for i in range(n):
        assert (got[i] == np.asarray(resize(scale.colourise(values[i], i), height, width))).all()
    shrunk = ColourScale(per_map, scale.limits, scale.diverging).colourise_all(values, max(1, h // 2), max(1, w // 2))
    assert shrunk.shape == (n, max(1, h // 2), max(1, w // 2), 3)


@settings(max_examples=n_examples(40), deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(8, 64), st.integers(0, 2**32 - 1))
def test_kernel_pixels_is_pillows_nearest_resize(kh, kw, side, seed):
    kernel = np.random.default_rng(seed).standard_normal((kh, kw))
    top = float(np.abs(kernel).max()) or 1.0
    idx = np.clip(((kernel / top + 1) / 2) * 255 + 0.5, 0, 255).astype(np.uint8)
    cell = max(1, side // max(kh, kw))
    assert (kernel_pixels(kernel, side) == np.asarray(resize(lut(DIVERGING)[idx], kh * cell, kw * cell))).all()


def per_tile_grid(run, per_map: bool, highlight: int | None) -> np.ndarray:
    """The grid drawn tile by tile with Pillow, as maps_grid_image drew it before its numpy blits."""
    from conv_lab.features.drawing import kernel_image

    maps, drawn = run.maps, run.maps[:64]
    scale = colour_scale(drawn, per_map)
    cols, box = _layout(len(drawn))
    _, _, in_h, in_w = run.prepared.shape
    out_h, out_w = maps.shape[1:]
    ppc = box / max(in_h, in_w, out_h, out_w)
    mh, mw = max(1, round(out_h * ppc)), max(1, round(out_w * ppc))
    shown = _shrink_maps(drawn, mh, mw)
    kside, gap, cap_h = 36, 5, 50
    slices_max = max(len(_kernel_slices(f)) for f in run.filters[:len(drawn)])
    tile_w = kside + gap + max(mw, 124) + 9
    tile_h = max(mh, slices_max * (kside + 4)) + cap_h + 8
    width, height = max(cols * tile_w + 16, 620), 98 + -(-len(drawn) // cols) * tile_h + 8
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    draw.text((8, 6), f"Output {run.torch_size}" + (" after ReLU" if run.relu else ""), fill=INK,
              font=get_font(16, bold=True))
    _legend(canvas, draw, scale, 8, 30, width - 16)
    small, bold = get_font(11), get_font(12, bold=True)
    for i in range(len(drawn)):
        f = run.filters[i]
        x0, y0 = 8 + (i % cols) * tile_w, 98 + (i // cols) * tile_h
        if highlight == i:
            draw.rectangle([x0 - 4, y0 - 4, x0 + tile_w - 10, y0 + tile_h - 6], outline=(230, 120, 0), width=3)
        ky = y0
        for kernel in _kernel_slices(f):
            k_img = kernel_image(kernel, kside)
            canvas.paste(k_img, (x0, ky))
            draw.rectangle([x0 - 1, ky - 1, x0 + k_img.width, ky + k_img.height], outline=FRAME)
            ky += k_img.height + 4
        mx = x0 + kside + gap
        canvas.paste(resize(scale.colourise(shown[i], i), mh, mw), (mx, y0))
        draw.rectangle([mx - 1, y0 - 1, mx + mw, y0 + mh], outline=FRAME)
        ty = y0 + max(mh, ky - y0 - 4) + 5
        kernel_text = f"{fmt(run.spec.kernel_hw)} on {sees_text(f.sees, run.prepared.channel_names)} → " \
                      f"{fmt((out_h, out_w))}"
        values = f"values {num(float(drawn[i].min()))} … {num(float(drawn[i].max()))}"
        for dy, text, font, size, is_bold, ink in ((0, f"#{i} {f.name}", bold, 12, True, INK),
                                                   (15, kernel_text, small, 11, False, MUTED),
                                                   (29, values, small, 11, False, MUTED)):
            paste_text(canvas, (x0, ty + dy), fit(draw, text, font, tile_w - 10), size, is_bold, ink)
    return np.asarray(canvas)


@settings(max_examples=n_examples(25), deadline=None)
@given(st.integers(1, 16), st.sampled_from([1, 2, 3, 5, 8, 17, 64, 70]), st.integers(1, 7), st.integers(1, 3),
       st.integers(0, 3), st.integers(4, 64), st.sampled_from(["classic", "random", "mix"]), st.booleans(),
       st.booleans(), st.integers(-1, 5))
def test_grid_is_the_per_tile_pillow_drawing(c_in, filters, k, stride, padding, side, bank, relu, per_map, pick):
    spec = ConvSpec(c_in, filters, k, stride=stride, padding=padding)
    if (side + 2 * padding - k) // stride + 1 < 1:
        return
    run = run_feature_maps(spec, sample_picture("scene"), side, side, bank, 3, relu)
    highlight = None if pick < 0 else min(pick, filters - 1)
    data, _ = maps_grid_image(run, per_map, highlight)
    if data[:4] == b"\x89PNG":
        assert (np.asarray(Image.open(io.BytesIO(data))) == per_tile_grid(run, per_map, highlight)).all()
    else:  # a large grid is a JPEG: lossy, so compare with the reference through the same encoder
        reference = io.BytesIO()
        Image.fromarray(per_tile_grid(run, per_map, highlight)).save(reference, format="JPEG", quality=90,
                                                                     subsampling=0)
        assert (np.asarray(Image.open(io.BytesIO(data))) == np.asarray(Image.open(reference))).all()
