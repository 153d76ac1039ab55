"""Feature maps engine: torch is the oracle for every bank; classic kernels do what they claim; uploads are guarded."""

from __future__ import annotations

import importlib.util
import io
import struct
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import filter_channels
from conv_lab.core.spec import ConvSpec
from conv_lab.features.banks import BANKS, apply_bank, classic_kernel, classic_kernels
from conv_lab.features.figures import MAX_DRAWN_MAPS, colour_scale, enlarged_image, input_image, maps_grid_image
from conv_lab.features.images import (
    SAMPLES,
    ImageError,
    Picture,
    channel_plan,
    prepare_input,
    read_upload,
    sample_picture,
)
from conv_lab.features.runs import FeatureOptions, options_query, parse_options, run_feature_maps

from conftest import ROOT, jpeg_bytes, n_examples, png_bytes

# --------------------------------------------------------------------------------------------- helpers




def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose IHDR claims width×height, with a tiny (wrong) IDAT: a decompression-bomb header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b"")


def edge_picture(kind: str, size: int = 24) -> Picture:
    """Dark left / bright right ('vertical' edge) or dark top / bright bottom ('horizontal')."""
    a = np.zeros((size, size, 3), np.uint8)
    if kind == "vertical":
        a[:, size // 2:] = 255
    else:
        a[size // 2:, :] = 255
    return Picture(a, f"{kind} edge")


def weight_from_filters(spec: ConvSpec, filters) -> torch.Tensor:
    """The Conv2d-layout (out, in/groups, kh, kw) correlation weights the filters describe."""
    w = torch.zeros(spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_hw, dtype=torch.float64)
    for f in filters:
        w[f.index] = torch.from_numpy(f.weights.copy())
    return w


@st.composite
def layer_specs(draw, transposed: bool | None = None):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 4))
    kernel = (draw(st.integers(1, 6)), draw(st.integers(1, 6)))
    is_transposed = draw(st.booleans()) if transposed is None else transposed
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    if is_transposed:
        padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
        output_padding = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        return ConvSpec(in_channels, out_channels, kernel, stride, padding, dilation, groups, draw(st.booleans()),
                        transposed=True, output_padding=output_padding)
    padding_mode = draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"]))
    padding = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    return ConvSpec(in_channels, out_channels, kernel, stride, padding, dilation, groups, draw(st.booleans()),
                    padding_mode)


def try_run(spec, picture, h, w, **kw):
    try:
        return run_feature_maps(spec, picture, h, w, **kw)
    except ConvConfigError:
        assume(False)


# --------------------------------------------------------------------------------------------- samples


def test_samples_are_small_rgb_and_regenerate_identically():
    spec = importlib.util.spec_from_file_location("make_sample_images", ROOT / "scripts" / "make_sample_images.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert set(script.SAMPLES) == set(SAMPLES)
    for name in SAMPLES:
        path = ROOT / "conv_lab" / "features" / "assets" / f"{name}.png"
        assert path.stat().st_size < 64_000, f"{name}.png should stay small"
        shipped = sample_picture(name).rgb
        assert shipped.dtype == np.uint8 and shipped.ndim == 3 and shipped.shape[2] == 3
        assert np.array_equal(np.asarray(script.SAMPLES[name]().convert("RGB")), shipped), f"{name} differs from its script"
        assert shipped.std() > 10, f"{name} should not be blank"
    with pytest.raises(ImageError, match="no sample picture"):
        sample_picture("../../etc/passwd")


# --------------------------------------------------------------------------------------------- torch oracle


@settings(max_examples=n_examples(120))
@given(spec=layer_specs(), bank=st.sampled_from(list(BANKS)), seed=st.integers(0, 2**31 - 1), relu=st.booleans(),
       size=st.tuples(st.integers(4, 20), st.integers(4, 20)), image=st.sampled_from(list(SAMPLES)))
def test_maps_are_the_modules_output_and_filters_describe_its_weights(spec, bank, seed, relu, size, image):
    run = try_run(spec, sample_picture(image), *size, bank=bank, seed=seed, relu=relu)
    x = torch.from_numpy(run.prepared.array)[None]
    assert tuple(x.shape) == (1, spec.in_channels, *size)
    # 1. the maps ARE the module's output on that input (a fresh call through torch)
    with torch.no_grad():
        again = run.module(x)
    assert torch.equal(run.output, torch.relu(again) if relu else again)
    assert tuple(run.torch_size) == spec.output_shape((1, spec.in_channels, *size))
    # 2. each filter reads exactly its group's input channels, and the bank has the promised kinds
    per_out, per_in = spec.out_channels // spec.groups, spec.in_channels // spec.groups
    for f in run.filters:
        g = f.index // per_out
        assert f.sees == tuple(range(g * per_in, (g + 1) * per_in))
    kinds = [f.kind for f in run.filters]
    expected = {"classic": ["classic"] * spec.out_channels, "random": ["random"] * spec.out_channels,
                "mix": ["classic"] * ((spec.out_channels + 1) // 2) + ["random"] * (spec.out_channels // 2)}[bank]
    assert kinds == expected
    # 3. the described kernels are the module's weights (transposed: stored flipped, as torch scatters)
    weight = run.module.weight.detach().double()
    for f in run.filters:
        local = f.index % per_out
        stored = weight[list(f.sees), local].flip(-1, -2) if spec.transposed else weight[f.index]
        assert torch.allclose(stored, torch.from_numpy(f.weights.copy()), atol=1e-6)
    if run.module.bias is not None:
        assert not run.module.bias.any()


@settings(max_examples=n_examples(80))
@given(spec=layer_specs(transposed=False), bank=st.sampled_from(list(BANKS)), seed=st.integers(0, 1000),
       size=st.tuples(st.integers(6, 16), st.integers(6, 16)))
def test_direct_conv_equals_functional_conv_with_the_described_kernels(spec, bank, seed, size):
    run = try_run(spec, sample_picture("scene"), *size, bank=bank, seed=seed)
    x = torch.from_numpy(run.prepared.array)[None].double()
    top, bottom, left, right = spec.pads()
    if spec.padding_mode != "zeros":
        mode = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}[spec.padding_mode]
        x, pad = F.pad(x, (left, right, top, bottom), mode=mode), 0
    else:
        x, pad = F.pad(x, (left, right, top, bottom)), 0
    expected = F.conv2d(x, weight_from_filters(spec, run.filters), stride=spec.stride_hw, padding=pad,
                        dilation=spec.dilation_hw, groups=spec.groups)
    assert torch.allclose(run.output.double(), expected, atol=1e-5)


@settings(max_examples=n_examples(60))
@given(spec=layer_specs(transposed=True), bank=st.sampled_from(list(BANKS)), size=st.integers(5, 12))
def test_transposed_filters_are_correlation_kernels_over_the_zero_inserted_input(spec, bank, size):
    # ConvTranspose2d == a stride-1 correlation, with the described kernels, of the zero-inserted input
    # padded by d·(k−1)−p on each side (plus output_padding): the textbook view, computed independently.
    run = try_run(spec, sample_picture("shapes"), size, size, bank=bank)
    assert spec.transposed
    (sh, sw), (dh, dw), (kh, kw) = spec.stride_hw, spec.dilation_hw, spec.kernel_hw
    ph, pw = spec.padding if isinstance(spec.padding, tuple) else (spec.padding, spec.padding)
    oh, ow = spec.output_padding_hw
    x = torch.from_numpy(run.prepared.array).double()
    c, h, w = x.shape
    inserted = torch.zeros(c, (h - 1) * sh + 1, (w - 1) * sw + 1, dtype=torch.float64)
    inserted[:, ::sh, ::sw] = x
    eh, ew = dh * (kh - 1) - ph, dw * (kw - 1) - pw
    # pad d·(k−1)−p before and d·(k−1)−p+output_padding after; a negative amount crops instead
    padded = inserted[None]
    for dim, before, after in ((2, eh, eh + oh), (3, ew, ew + ow)):
        pad = [0, 0, 0, 0]
        pad[(3 - dim) * 2: (3 - dim) * 2 + 2] = [max(before, 0), max(after, 0)]
        padded = F.pad(padded, pad)
        length = padded.shape[dim]
        padded = padded.narrow(dim, max(-before, 0), length - max(-before, 0) - max(-after, 0))
    expected = F.conv2d(padded, weight_from_filters(spec, run.filters), dilation=(dh, dw), groups=spec.groups)
    assert torch.allclose(run.output.double(), expected, atol=1e-5)


def test_same_seed_same_random_kernels_and_no_global_rng_use():
    spec = ConvSpec(3, 4, 3)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a = run_feature_maps(spec, sample_picture("scene"), 16, 16, "random", seed=5)
    after = torch.rand(1)
    b = run_feature_maps(spec, sample_picture("scene"), 16, 16, "random", seed=5)
    c = run_feature_maps(spec, sample_picture("scene"), 16, 16, "random", seed=6)
    assert torch.equal(a.output, b.output) and not torch.equal(a.output, c.output)
    assert torch.equal(before, after), "the bank must not consume torch's global random numbers"


def test_depthwise_filters_each_see_one_channel_and_identity_copies_it():
    spec = ConvSpec(3, 6, 3, padding=1, groups=3)
    run = run_feature_maps(spec, sample_picture("scene"), 20, 20, "classic")
    assert [f.sees for f in run.filters] == [(0,), (0,), (1,), (1,), (2,), (2,)]
    assert tuple(filter_channels(spec.in_channels, spec.out_channels, spec.groups, 4)) == (2,)
    # filter 0 is the identity on R, filter 2 (first of group 1) the identity's successor on G
    assert run.filters[0].name == "identity"
    assert np.allclose(run.maps[0], run.prepared.array[0], atol=1e-6)


def test_relu_zeroes_negatives_only():
    spec = ConvSpec(1, 8, 3)
    plain = run_feature_maps(spec, sample_picture("shapes"), 24, 24, "classic")
    relu = run_feature_maps(spec, sample_picture("shapes"), 24, 24, "classic", relu=True)
    assert (plain.maps < 0).any() and (relu.maps >= 0).all()
    assert np.array_equal(relu.maps, np.maximum(plain.maps, 0))


def test_own_size_uses_the_pictures_size_and_stride_shrinks_the_maps():
    run = run_feature_maps(ConvSpec(3, 2, 3, stride=2, padding=1), sample_picture("scene"), 32, 32, own_size=True)
    assert tuple(run.torch_size) == (1, 2, 96, 96)  # scene is 192×192
    assert run.prepared.notices == ()


def test_reflect_and_zero_padding_differ_at_the_border_only():
    zeros = run_feature_maps(ConvSpec(1, 2, 3, padding=1), sample_picture("scene"), 24, 24)
    reflect = run_feature_maps(ConvSpec(1, 2, 3, padding=1, padding_mode="reflect"), sample_picture("scene"), 24, 24)
    assert zeros.filters[1].name == "box blur"
    diff = np.abs(zeros.maps[1] - reflect.maps[1])
    assert diff[1:-1, 1:-1].max() < 1e-6 and diff[0].max() > 0.05


def test_work_caps_and_impossible_layers_are_plain_errors():
    with pytest.raises(ConvConfigError, match="cap"):
        run_feature_maps(ConvSpec(3, 512, 3), sample_picture("scene"), 300, 300)
    with pytest.raises(ConvConfigError, match="reflect"):
        run_feature_maps(ConvSpec(3, 2, 3, padding=5, padding_mode="reflect"), sample_picture("scene"), 4, 4)
    with pytest.raises(ConvConfigError, match="bank"):
        run_feature_maps(ConvSpec(3, 2, 3), sample_picture("scene"), 8, 8, "fancy")


# --------------------------------------------------------------------------------------------- classic kernels


def correlate(picture: Picture, name: str, kh: int, kw: int) -> np.ndarray:
    """Run the real module with a 1-filter classic bank whose first filter is `name` (valid padding)."""
    names = [n for n, _ in classic_kernels(kh, kw)]
    spec = ConvSpec(1, names.index(name) + 1, (kh, kw))
    run = run_feature_maps(spec, picture, *picture.size, "classic")
    assert run.filters[-1].name == name
    return run.maps[-1]


SIZES = st.tuples(st.integers(2, 9), st.integers(2, 9))


@settings(max_examples=n_examples(60))
@given(size=SIZES, axis=st.sampled_from(["x", "y"]), family=st.sampled_from(["Sobel", "Prewitt"]))
def test_edge_filters_answer_their_own_edge_and_not_the_other(size, axis, family):
    kh, kw = size
    along, across = ("vertical", "horizontal") if axis == "x" else ("horizontal", "vertical")
    hit = correlate(edge_picture(along), f"{family} {axis}", kh, kw)
    miss = correlate(edge_picture(across), f"{family} {axis}", kh, kw)
    assert hit.max() > 0.5, f"{family} {axis} should respond (positively: dark→bright) to a {along} edge"
    assert hit.min() >= -1e-6, "dark→bright only: no negative response"
    assert np.abs(miss).max() < 1e-5, f"{family} {axis} must not respond to a {across} edge"


@settings(max_examples=n_examples(60))
@given(size=SIZES, level=st.integers(0, 255))
def test_blurs_keep_a_flat_picture_and_derivatives_zero_it(size, level):
    kh, kw = size
    flat = Picture(np.full((12, 12, 3), level, np.uint8), "flat")
    value = np.float32(level) / np.float32(255)
    available = {n for n, _ in classic_kernels(kh, kw)}
    kernels = dict(classic_kernels(kh, kw))
    for name in ("identity", "box blur", "Gaussian blur", "sharpen", "emboss"):
        if name in available:
            tol = 1e-6 * np.abs(kernels[name]).sum() + 1e-6  # float32 rounding grows with the weights
            assert np.allclose(correlate(flat, name, kh, kw), value, atol=tol), name
    for name in ("Sobel x", "Sobel y", "Prewitt x", "Prewitt y", "Laplacian"):
        if name in available:
            assert np.abs(correlate(flat, name, kh, kw)).max() < 1e-6 * np.abs(kernels[name]).sum() + 1e-6, name


@settings(max_examples=n_examples(40))
@given(k=st.sampled_from([3, 5, 7, 9]), step=st.integers(1, 10), vertical=st.booleans())
def test_laplacian_ignores_a_ramp_but_answers_a_dot(k, step, vertical):
    line = (np.arange(24) * step).astype(np.uint8)  # exact integer steps: a truly linear ramp
    ramp = np.tile(line[:, None, None] if vertical else line[None, :, None], (1, 24, 3) if vertical else (24, 1, 3))
    assert np.abs(correlate(Picture(ramp, "ramp"), "Laplacian", k, k)).max() < 1e-4
    dot = np.zeros((24, 24, 3), np.uint8)
    dot[12, 12] = 255
    response = correlate(Picture(dot, "dot"), "Laplacian", k, k)
    assert response.min() < -0.5, "a bright dot gives a strong negative centre"


@settings(max_examples=n_examples(40))
@given(size=st.tuples(st.integers(1, 15), st.integers(1, 15)))
def test_classic_kernels_have_the_configured_size_and_known_sums(size):
    kernels = dict(classic_kernels(*size))
    assert {"identity", "box blur"} <= set(kernels)
    for name, k in kernels.items():
        assert k.shape == size and np.isfinite(k).all(), name
    for name in ("identity", "box blur", "Gaussian blur", "sharpen", "emboss"):
        if name in kernels:
            assert abs(kernels[name].sum() - 1) < 1e-9, name
    for name in ("Sobel x", "Sobel y", "Prewitt x", "Prewitt y", "Laplacian"):
        if name in kernels:
            assert abs(kernels[name].sum()) < 1e-9, name
    if "Gaussian blur" in kernels:
        g = kernels["Gaussian blur"]
        assert np.allclose(g, g[::-1, ::-1]) and (g > 0).all()


def test_textbook_three_by_three_kernels():
    assert classic_kernel("Sobel y", 3, 3).astype(int).tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]
    assert classic_kernel("Prewitt x", 3, 3).astype(int).tolist() == [[-1, 0, 1]] * 3
    assert classic_kernel("Laplacian", 3, 3).astype(int).tolist() == [[0, 1, 0], [1, -4, 1], [0, 1, 0]]
    assert classic_kernel("emboss", 3, 3).astype(int).tolist() == [[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]
    assert classic_kernel("sharpen", 3, 3).astype(int).tolist() == [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    assert classic_kernel("Sobel x", 5, 5)[2].astype(int).tolist() == [-6, -12, 0, 12, 6]
    with pytest.raises(ConvConfigError, match="makes no sense"):
        classic_kernel("Laplacian", 1, 1)


def test_more_filters_than_kernels_repeat_with_the_opposite_sign():
    module = torch.nn.Conv2d(1, 25, 3)
    filters = apply_bank(module, ConvSpec(1, 25, 3), "classic")
    base = len(classic_kernels(3, 3))
    assert filters[base].name == "−identity" and np.allclose(filters[base].weights, -filters[0].weights)
    assert filters[2 * base].name == "identity #2"


# --------------------------------------------------------------------------------------------- uploads


def test_a_valid_png_and_jpeg_are_read():
    img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (40, 60, 3), dtype=np.uint8))
    pic = read_upload(png_bytes(img), "noise.png")
    assert pic.size == (40, 60) and np.array_equal(pic.rgb, np.asarray(img)) and "PNG 60×40" in pic.source
    assert read_upload(jpeg_bytes(img, quality=95), "noise.jpg").size == (40, 60)


@pytest.mark.parametrize("mode", ["L", "LA", "RGBA", "P", "I;16", "1"])
def test_every_png_mode_becomes_rgb(mode):
    img = Image.new("RGB", (10, 8), (200, 30, 30)).convert(mode if mode != "I;16" else "I").convert(mode) \
        if mode != "P" else Image.new("RGB", (10, 8), "red").convert("P")
    pic = read_upload(png_bytes(img), f"{mode}.png")
    assert pic.rgb.shape == (8, 10, 3) and pic.rgb.dtype == np.uint8


def test_transparent_pixels_become_white():
    img = Image.new("RGBA", (4, 4), (0, 0, 0, 0))
    assert (read_upload(png_bytes(img), "clear.png").rgb == 255).all()


def test_large_pictures_are_shrunk_with_a_notice():
    img = Image.new("RGB", (1500, 600), "blue")
    pic = read_upload(png_bytes(img), "wide.png")
    assert max(pic.size) == limits.MAX_IMAGE_SIDE and pic.size == (205, 512)
    assert any("shrunk from 1500×600" in n for n in pic.notices)


def test_exif_rotation_is_applied():
    img = Image.new("RGB", (30, 10), "green")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° when shown
    pic = read_upload(jpeg_bytes(img, exif=exif.tobytes()), "phone.jpg")
    assert pic.size == (30, 10) and any("upright" in n for n in pic.notices)


GOOD_PNG = png_bytes(Image.new("RGB", (64, 64), "orange"))
BAD_UPLOADS = {
    "empty": (b"", "is empty"),
    "not an image": (b"hello, this is a text file\n" * 20, "not a PNG or JPEG"),
    "gif (not allowed)": (None, "not a PNG or JPEG"),
    "corrupt png": (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not a PNG or JPEG|damaged"),
    "truncated png": (GOOD_PNG[: len(GOOD_PNG) // 2], "damaged or cut short"),
    "truncated jpeg": (None, "damaged or cut short"),
    "bomb header": (png_header_only(100_000, 100_000), "pixels|decompression"),
    "real bomb": (None, "pixels"),
    "oversized bytes": (b"\x89PNG\r\n\x1a\n" + b"\0" * limits.MAX_UPLOAD_BYTES, "upload cap"),
}


def bad_upload(name: str) -> bytes:
    data, _ = BAD_UPLOADS[name]
    if name == "gif (not allowed)":
        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, format="GIF")
        return buf.getvalue()
    if name == "truncated jpeg":
        full = jpeg_bytes(Image.fromarray(np.random.default_rng(1).integers(0, 255, (128, 128, 3), dtype=np.uint8)))
        return full[: len(full) // 2]
    if name == "real bomb":  # 5000×5000 black: a few KB of bytes, 25 M pixels
        return png_bytes(Image.new("L", (5000, 5000)), optimize=True)
    return data


@pytest.mark.parametrize("name", list(BAD_UPLOADS))
def test_bad_uploads_are_plain_image_errors(name):
    data = bad_upload(name)
    if name == "real bomb":
        assert len(data) < 100_000
    with pytest.raises(ImageError, match=BAD_UPLOADS[name][1]) as info:
        read_upload(data, "bad.png")
    assert info.value.param == "image" and info.value.fix
    assert "Traceback" not in str(info.value)


@settings(max_examples=n_examples(150))
@given(data=st.one_of(st.binary(max_size=3000),
                      st.tuples(st.sampled_from(["png", "jpeg"]),
                                st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), min_size=1, max_size=8),
                                st.integers(0, 5000))))
def test_fuzzed_uploads_either_read_or_raise_image_error(data):
    if isinstance(data, tuple):
        kind, flips, cut = data
        img = Image.fromarray(np.random.default_rng(2).integers(0, 255, (24, 24, 3), dtype=np.uint8))
        raw = bytearray(png_bytes(img) if kind == "png" else jpeg_bytes(img))
        for pos, value in flips:
            raw[pos % len(raw)] = value
        data = bytes(raw[: max(1, len(raw) - cut)])
    try:
        pic = read_upload(data, "fuzz")
    except ImageError as exc:
        assert exc.param == "image"
    else:
        assert pic.rgb.ndim == 3 and pic.rgb.shape[2] == 3 and max(pic.size) <= limits.MAX_IMAGE_SIDE


# --------------------------------------------------------------------------------------------- input channels


def test_grayscale_matches_pillows_luma_and_channels_cycle():
    pic = sample_picture("scene")
    gray = prepare_input(pic, 1, 192, 192)
    assert np.allclose(gray.array[0] * 255, np.asarray(Image.fromarray(pic.rgb).convert("L")), atol=1e-3)
    assert any("grayscale" in n for n in gray.notices)
    five = prepare_input(pic, 5, 192, 192)
    assert np.array_equal(five.array[3], five.array[0]) and np.array_equal(five.array[4], five.array[1])
    assert five.channel_names == channel_plan(5) == ("R", "G", "B", "R′", "G′")
    assert any("repeat" in n for n in five.notices)
    two = prepare_input(pic, 2, 192, 192)
    assert any("B is left out" in n for n in two.notices)


@settings(max_examples=n_examples(40))
@given(c=st.integers(1, 8), h=st.integers(1, 80), w=st.integers(1, 80))
def test_prepared_input_has_the_configured_shape_and_range(c, h, w):
    prepared = prepare_input(sample_picture("shapes"), c, h, w)
    assert prepared.shape == (1, c, h, w) and prepared.array.dtype == np.float32
    assert prepared.array.min() >= 0 and prepared.array.max() <= 1


# --------------------------------------------------------------------------------------------- options & figures


@settings(max_examples=n_examples(100))
@given(params=st.dictionaries(st.sampled_from(["image", "bank", "seed", "relu", "own_size", "scale", "filter", "x"]),
                              st.one_of(st.text(max_size=30), st.lists(st.text(max_size=10), max_size=3))))
def test_options_from_any_url_never_raise(params):
    options, notices = parse_options(params)
    assert isinstance(options, FeatureOptions) and all(isinstance(n, str) for n in notices)
    assert parse_options(options_query(options)) == (options, [])


def test_grid_is_one_image_under_streamlits_width_and_caps_drawn_maps():
    run = run_feature_maps(ConvSpec(1, 80, 3), sample_picture("stripes"), 20, 20, "mix")
    data, caption = maps_grid_image(run)
    img = Image.open(io.BytesIO(data))
    assert img.width <= 1460 and caption == f"torch.Size([1, 80, 18, 18]): 80 maps, the first {MAX_DRAWN_MAPS} drawn"
    assert Image.open(io.BytesIO(enlarged_image(run, 79))).width > 300
    assert input_image(run)[1].startswith("Input torch.Size([1, 1, 20, 20])")


def test_colour_scale_per_map_and_shared():
    maps = np.array([[[0.0, 2.0]], [[-1.0, 0.5]]])
    per = colour_scale(maps, per_map=True)
    assert per.limits.tolist() == [2.0, 1.0] and per.diverging.tolist() == [False, True]
    shared = colour_scale(maps, per_map=False)
    assert shared.limits.tolist() == [2.0, 2.0] and shared.diverging.tolist() == [True, True]
    white = per.colourise(np.array([[0.0]]), 1)[0, 0]
    assert (white > 240).all(), "zero is white on the diverging scale"
