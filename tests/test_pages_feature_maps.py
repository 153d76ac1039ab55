"""AppTest: the real app's /feature-maps page — every control, each bank, grouped/depthwise layers, bad uploads."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from conv_lab import limits
from conv_lab.features.banks import classic_kernels

from conftest import run_app

PAGE = "pages/feature-maps.py"
DEEP_LINK = {"input": "3x64x64", "filters": "8", "kernel": "3", "padding": "1"}


def texts(at) -> str:
    parts = [e.value for kind in ("markdown", "subheader", "caption", "info", "warning", "error", "title")
             for e in getattr(at, kind)]
    parts += [img.proto.imgs[0].caption for img in at.get("image")]
    return "\n".join(str(p) for p in parts)


def no_exception(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def images(at) -> list:
    return [img.proto.imgs[0] for img in at.get("image")]


def png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def test_deep_link_shows_the_full_output_size_and_three_images():
    at = run_app(PAGE, DEEP_LINK)
    no_exception(at)
    assert "torch.Size([1, 8, 64, 64])" in at.subheader[0].value
    captions = [i.caption for i in images(at)]
    assert captions[0] == "Input torch.Size([1, 3, 64, 64]): R, G, B"
    assert captions[1] == "torch.Size([1, 8, 64, 64]): 8 maps"
    assert captions[2].startswith("Map #0 enlarged")
    assert "resized from 192×192" in texts(at)


@pytest.mark.parametrize("bank", ["classic", "random", "mix"])
def test_each_bank_names_its_filters(bank):
    at = run_app(PAGE, DEEP_LINK)
    at.selectbox(key="w_fm_bank").set_value(bank).run()
    no_exception(at)
    options = at.selectbox(key="w_fm_filter").options
    assert len(options) == 8
    names = [o.split(" — ")[0].split(" ", 1)[1] for o in options]
    classic = [n for n, _ in classic_kernels(3, 3)]
    expected = {"classic": classic[:8], "random": ["random"] * 8, "mix": classic[:4] + ["random"] * 4}[bank]
    assert names == expected
    assert at.query_params.get("bank") == (None if bank == "classic" else bank), "defaults stay out of the URL"
    assert "torch.Size([1, 8, 64, 64])" in at.subheader[0].value


def test_seed_changes_random_kernels_and_is_in_the_url():
    at = run_app(PAGE, {**DEEP_LINK, "bank": "random"})
    assert not at.number_input(key="w_fm_seed").disabled
    first = images(at)[1].url
    at.number_input(key="w_fm_seed").set_value(7).run()
    no_exception(at)
    assert at.query_params["seed"] == "7" and images(at)[1].url != first


def test_depthwise_layer_shows_which_channel_each_filter_sees():
    at = run_app(PAGE, {"input": "3x32x32", "filters": "6", "kernel": "3", "padding": "1", "groups": "3"})
    no_exception(at)
    sees = [o.split(" — sees ")[1] for o in at.selectbox(key="w_fm_filter").options]
    assert sees == ["R", "R", "G", "G", "B", "B"]
    assert "in 3 groups (each filter sees 1 of the 3 input channels)" in texts(at)


def test_grouped_layer_on_more_channels_than_the_picture_has():
    at = run_app(PAGE, {"input": "4x32x32", "filters": "8", "kernel": "3", "groups": "2"})
    no_exception(at)
    sees = [o.split(" — sees ")[1] for o in at.selectbox(key="w_fm_filter").options]
    assert sees == ["R+G"] * 4 + ["B+R′"] * 4
    assert "a picture has 3 colour channels, so they repeat" in texts(at)
    assert "torch.Size([1, 8, 30, 30])" in at.subheader[0].value


def test_stride_two_halves_the_maps_and_grayscale_is_announced():
    at = run_app(PAGE, {"input": "1x32x32", "filters": "4", "kernel": "3", "padding": "1", "stride": "2"})
    no_exception(at)
    assert "torch.Size([1, 4, 16, 16])" in at.subheader[0].value
    assert "converted to grayscale" in texts(at)
    assert images(at)[0].caption == "Input torch.Size([1, 1, 32, 32]): gray"


def test_relu_own_size_scale_picture_and_enlarge_controls_reach_the_url():
    at = run_app(PAGE, DEEP_LINK)
    at.toggle(key="w_fm_relu").set_value(True).run()
    assert "then ReLU" in texts(at) and at.query_params["relu"] == "1"
    at.toggle(key="w_fm_own_size").set_value(True).run()
    no_exception(at)
    assert "torch.Size([1, 8, 192, 192])" in at.subheader[0].value  # scene.png is 192×192
    assert "own size 192×192" in texts(at)
    at.radio(key="w_fm_scale").set_value("shared").run()
    at.selectbox(key="w_fm_image").set_value("stripes").run()
    assert "torch.Size([1, 8, 128, 128])" in at.subheader[0].value
    at.selectbox(key="w_fm_filter").set_value(5).run()
    no_exception(at)
    assert images(at)[2].caption.startswith("Map #5 enlarged")
    assert {k: at.query_params[k] for k in ("scale", "image", "filter", "own_size")} == \
        {"scale": "shared", "image": "stripes", "filter": "5", "own_size": "1"}


def test_page_options_from_a_link_and_bad_values_become_notices():
    at = run_app(PAGE, {**DEEP_LINK, "bank": "mix", "relu": "1", "image": "shapes", "filter": "3"})
    no_exception(at)
    assert at.selectbox(key="w_fm_bank").value == "mix" and at.toggle(key="w_fm_relu").value
    assert at.selectbox(key="w_fm_filter").value == 3 and at.selectbox(key="w_fm_image").value == "shapes"
    bad = run_app(PAGE, {**DEEP_LINK, "bank": "fancy", "seed": "-4", "filter": "999"})
    no_exception(bad)
    warnings = " ".join(w.value for w in bad.warning)
    assert "bank='fancy'" in warnings and "seed=-4" in warnings
    assert bad.selectbox(key="w_fm_filter").value == 7, "an out-of-range map index is clamped to the last map"


def test_impossible_layer_is_a_plain_error():
    at = run_app(PAGE, {"input": "3x4x4", "filters": "4", "kernel": "3", "padding": "4", "padding_mode": "reflect"})
    no_exception(at)
    assert "reflect padding" in " ".join(e.value for e in at.error)


def test_a_good_upload_is_used():
    at = run_app(PAGE, {**DEEP_LINK, "image": "upload"})
    assert "Choose a picture to upload" in texts(at)
    picture = Image.fromarray(np.random.default_rng(0).integers(0, 255, (50, 70, 3), dtype=np.uint8))
    at.file_uploader(key="w_fm_upload").set_value(("noise.png", png(picture), "image/png")).run()
    no_exception(at)
    assert "upload 'noise.png' (PNG 70×50)" in texts(at)
    assert "torch.Size([1, 8, 64, 64])" in at.subheader[0].value


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("L", (5000, 5000)).save(buf, format="PNG", optimize=True)
    return buf.getvalue()


BAD = {
    "empty": (lambda: b"", "is empty"),
    "corrupt": (lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a PNG or JPEG|damaged"),
    "truncated": (lambda: png(Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)))[:900],
                  "damaged or cut short"),
    "not an image": (lambda: b"<html>definitely not a picture</html>", "not a PNG or JPEG"),
    "huge": (_bomb, "above Conv Lab's cap of 16,777,216"),
    "too many bytes": (lambda: b"\xff\xd8\xff" + b"\0" * (limits.MAX_UPLOAD_BYTES + 10), "upload cap"),
}


@pytest.mark.parametrize("name", list(BAD))
def test_bad_uploads_show_a_message_not_a_traceback(name):
    import re

    make, pattern = BAD[name]
    at = run_app(PAGE, {**DEEP_LINK, "image": "upload"})
    at.file_uploader(key="w_fm_upload").set_value((f"{name}.png", make(), "image/png")).run()
    no_exception(at)
    errors = " ".join(e.value for e in at.error)
    assert "Picture not used" in errors and re.search(pattern, errors), errors
    assert not at.get("image"), "no maps for a refused picture"


def test_uploader_stays_when_the_layer_cannot_run():
    at = run_app(PAGE, {"input": "3x4x4", "filters": "4", "kernel": "3", "padding": "4", "padding_mode": "reflect",
                        "image": "upload"})
    no_exception(at)
    assert len(at.file_uploader) == 1
    at.file_uploader(key="w_fm_upload").set_value(("ok.png", png(Image.new("RGB", (8, 8), "red")), "image/png")).run()
    no_exception(at)
    assert "reflect padding" in " ".join(e.value for e in at.error)


def test_transposed_layer_grows_the_maps():
    at = run_app(PAGE, {"input": "3x24x24", "filters": "4", "kernel": "3", "stride": "2", "padding": "1",
                        "transposed": "1", "output_padding": "1"})
    no_exception(at)
    assert "torch.Size([1, 4, 48, 48])" in at.subheader[0].value
    assert "ConvTranspose2d" in texts(at)


def test_1d_causal_link_plots_the_chirp_through_the_real_conv1d():
    at = run_app(PAGE, {"input": "2x200", "filters": "4", "kernel": "9", "padding": "causal", "dilation": "2"})
    no_exception(at)
    text = texts(at)
    assert "Output `torch.Size([1, 4, 200])`" in text and "`Conv1d` with **4 filters**" in text
    assert "causal: `F.pad(x, (16, 0))` first" in text and "generated chirp" in text
    assert len(at.get("image")) == 1 and not [s for s in at.selectbox if s.key == "w_fm_image"]
    assert not at.get("file_uploader")


def test_3d_link_shows_depth_slices_of_the_clip():
    at = run_app(PAGE, {"input": "1x6x24x24", "filters": "3", "kernel": "3", "padding": "1"})
    no_exception(at)
    text = texts(at)
    assert "Output `torch.Size([1, 3, 6, 24, 24])`" in text and "Depth slices (frames)" in text
    assert len(at.get("image")) == 1 and "square moving" in text


@pytest.mark.parametrize("query, fragment", [
    ({"input": "1x3", "kernel": "9"}, "kernel_size"),
    ({"input": "3x16x64x64", "filters": "64", "kernel": "7"}, "cannot run"),
    ({"input": "1x2x4x4", "kernel": "3x3x3"}, "kernel_size"),
    ({"input": "2x50", "kernel": "3", "image": "upload"}, "generated chirp"),
])
def test_impossible_or_too_large_1d_3d_links_give_plain_messages(query, fragment):
    at = run_app(PAGE, query)
    no_exception(at)
    assert fragment in texts(at)
