"""Network planner: formula shapes against the real torch layers (hypothesis), presets, export, URL codec."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import limits
from conv_lab.core.code import argument_text
from conv_lab.core.errors import ConvConfigError
from conv_lab.network.codec import decode_network, decode_skips, encode_network, encode_skips
from conv_lab.network.export import export_code
from conv_lab.network.flow import Skip
from conv_lab.network.layers import LAYER_KINDS, parse_arguments
from conv_lab.network.plan import parse_rows, plan
from conv_lab.network.presets import PRESET_BY_NAME, PRESETS
from conv_lab.network.torch_run import merge, run_plan

from conftest import n_examples

TORCH_ERRORS = (RuntimeError, ValueError, IndexError, TypeError)  # torch's own errors, whatever their type
small = st.integers(1, 3)
pair_or_int = st.one_of(small, st.tuples(small, small))


def _maybe(draw, name, strategy, values, p=0.5):
    if draw(st.floats(0, 1)) < p:
        values[name] = draw(strategy)


@st.composite
def layer(draw):
    """(layer name, values): in-range values, combined freely, so some stacks break (as they do in real life)."""
    kind = draw(st.sampled_from(list(LAYER_KINDS)))
    v: dict = {}
    if kind in ("Conv2d", "ConvTranspose2d"):
        v["out_channels"] = draw(st.integers(1, 4))
        v["kernel_size"] = draw(pair_or_int)
        _maybe(draw, "stride", st.integers(1, 3), v)
        _maybe(draw, "dilation", st.integers(1, 2), v, 0.3)
        _maybe(draw, "groups", st.sampled_from([1, 2]), v, 0.2)
        _maybe(draw, "bias", st.booleans(), v, 0.2)
        _maybe(draw, "in_channels", st.integers(1, 4), v, 0.1)
        if kind == "Conv2d":
            _maybe(draw, "padding", st.one_of(st.integers(0, 2), st.sampled_from(["same", "valid"])), v)
            _maybe(draw, "padding_mode", st.sampled_from(["zeros", "reflect", "replicate", "circular"]), v, 0.2)
        else:
            _maybe(draw, "padding", st.integers(0, 2), v)
            _maybe(draw, "output_padding", st.integers(0, 2), v, 0.4)
    elif kind in ("MaxPool2d", "AvgPool2d"):
        v["kernel_size"] = draw(pair_or_int)
        _maybe(draw, "stride", st.one_of(st.none(), small), v)
        _maybe(draw, "padding", st.integers(0, 1), v)
        _maybe(draw, "ceil_mode", st.booleans(), v)
        if kind == "MaxPool2d":
            _maybe(draw, "dilation", st.integers(1, 2), v, 0.3)
        else:
            _maybe(draw, "count_include_pad", st.booleans(), v, 0.2)
    elif kind == "AdaptiveAvgPool2d":
        v["output_size"] = draw(st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4))))
    elif kind == "BatchNorm2d":
        _maybe(draw, "affine", st.booleans(), v, 0.3)
        _maybe(draw, "num_features", st.integers(1, 4), v, 0.1)
    elif kind == "Dropout":
        _maybe(draw, "p", st.sampled_from([0.0, 0.25, 0.5, 1.0]), v)
    elif kind == "Upsample":
        if draw(st.booleans()):
            v["scale_factor"] = draw(st.sampled_from([0.5, 0.75, 1.3, 1.5, 2.0, 2.5]))
        else:
            v["size"] = draw(st.one_of(st.integers(1, 8), st.tuples(st.integers(1, 8), st.integers(1, 8))))
        _maybe(draw, "mode", st.sampled_from(["nearest", "bilinear", "bicubic"]), v)
        _maybe(draw, "align_corners", st.booleans(), v, 0.2)
        _maybe(draw, "size", st.integers(1, 4), v, 0.05)  # both given: torch refuses
    elif kind == "Flatten":
        _maybe(draw, "start_dim", st.integers(-4, 3), v, 0.2)
        _maybe(draw, "end_dim", st.integers(-4, 3), v, 0.2)
    elif kind == "Linear":
        v["out_features"] = draw(st.integers(1, 8))
        _maybe(draw, "in_features", st.integers(1, 8), v, 0.1)
    return kind, v


@st.composite
def stack(draw, max_layers=7):
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(1, 14)), draw(st.integers(1, 14)))
    layers = draw(st.lists(layer(), min_size=1, max_size=max_layers))
    skips = []
    for _ in range(draw(st.integers(0, 2))):
        target = draw(st.integers(1, len(layers)))
        skips.append(Skip(draw(st.sampled_from(["cat", "add"])), draw(st.integers(0, target - 1)), target,
                          draw(st.booleans())))
    rows = [(kind, argument_text(values)) for kind, values in layers]
    return shape, rows, skips


@st.composite
def deep_valid_stack(draw):
    """Deep stacks that work: candidate layers are kept when the planner accepts them (torch then checks every
    shape), so the property covers long chains rather than stacks that break at layer 1 or 2."""
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 4)), draw(st.integers(8, 32)), draw(st.integers(8, 32)))
    rows: list = []
    for kind, values in draw(st.lists(layer(), min_size=4, max_size=24)):
        candidate = rows + [(kind, argument_text(values))]
        if plan(shape, candidate).ok:
            rows = candidate
    skips = []
    for _ in range(draw(st.integers(0, 2))):
        if rows:
            target = draw(st.integers(1, len(rows)))
            skip = Skip(draw(st.sampled_from(["cat", "add"])), draw(st.integers(0, target - 1)), target, draw(st.booleans()))
            if plan(shape, rows, skips + [skip]).ok:
                skips.append(skip)
    return shape, rows, skips


def torch_oracle(result, device="cpu"):
    """Run the plan's layers one by one with plain torch; (shapes after each row, 1-based row torch fails on)."""
    x = torch.zeros(result.input_shape, device=device)
    points, shapes = [x], []
    for row in result.rows:
        if row.kwargs is None:
            return shapes, row.index
        try:
            with torch.device(device):
                x = getattr(nn, row.kind)(**row.kwargs)(x)
            for report in result.skips:
                if report.skip.target == row.index and report.status in ("ok", "mismatch"):
                    x = merge(report.skip.mode, points[report.skip.source], x, report.skip.crop)
        except TORCH_ERRORS as exc:  # torch's own errors, whatever their type
            return shapes, row.index, str(exc)
        if 0 in x.shape:  # ConvTranspose2d returns an empty tensor where Conv2d raises: a break all the same
            return shapes, row.index, f"empty output {tuple(x.shape)}"
        points.append(x)
        shapes.append(tuple(x.shape))
    return shapes, None


@settings(max_examples=n_examples(150))
@given(stack())
def test_formula_shapes_and_first_break_match_torch(case):
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    shapes, failed, *why = torch_oracle(result)
    assert failed == result.broken, (result.rows[(failed or result.broken) - 1], why)
    reached = [r.out_shape for r in result.rows if r.status == "ok"]
    assert shapes[:len(reached)] == reached
    if result.ok:
        assert shapes[-1] == result.output_shape
    run = run_plan(result)  # the page's own run on the meta device agrees too
    assert run.failed == result.broken and list(run.shapes) == reached


@settings(max_examples=n_examples(100))
@given(deep_valid_stack())
def test_deep_valid_stacks_match_torch_layer_by_layer(case):
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    shapes, failed, *why = torch_oracle(result)
    assert failed is None and result.ok, why
    assert shapes == [r.out_shape for r in result.rows]
    assert run_plan(result).shapes == tuple(shapes)


@settings(max_examples=n_examples(40, 10))
@given(stack(max_layers=5))
def test_exported_code_runs_with_the_planned_shapes(case):
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    _check_export(result)


def _check_export(result):
    code = export_code(result)
    namespace: dict = {}
    seen = []
    compile(code, "model.py", "exec")
    prelude, _, run_lines = code.partition("\nx = torch.zeros")
    try:
        exec(prelude, namespace)  # the generated code only; never user text
    except TORCH_ERRORS:  # torch refuses to build the broken layer (e.g. groups): only a broken stack may do that
        assert not result.ok and result.rows[result.broken - 1].param in ("groups", "padding", "output_padding", "p")
        return
    for module in namespace["layers"]:
        module.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
    run_lines = run_lines.replace("print(y.shape)", "pass")
    if result.ok:
        exec("x = torch.zeros" + run_lines, namespace)
        assert tuple(namespace["y"].shape) == result.output_shape
    else:
        with pytest.raises(TORCH_ERRORS):
            exec("x = torch.zeros" + run_lines, namespace)
    own = []  # each layer's own output (before a skip merges into it)
    for row in result.rows[:len(seen)]:
        merged = [s for s in result.skips if s.skip.target == row.index and s.status == "ok"]
        own.append(merged[0].target_shape if merged else row.out_shape)
    assert seen == own[:len(seen)]
    assert len(seen) == (result.broken - 1 if result.broken else len(result.rows)) or result.broken


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets_export_and_run(preset):
    result = plan(preset.input_shape, preset.rows, preset.skips)
    if preset.input_shape[-1] <= 224:  # the U-Net's 572×572 run is slow on CPU; its shapes are checked on meta
        _check_export(result)
    run = run_plan(result)
    assert run.failed == result.broken


def test_preset_known_shapes():
    lenet = plan(*_preset("LeNet-5 (1×32×32)"))
    assert lenet.rows[5].out_shape == (1, 16, 5, 5) and lenet.output_shape == (1, 10) and lenet.total_params == 61_706
    resnet = plan(*_preset("ResNet-18 stem + basic block (3×224×224)"))
    assert resnet.rows[3].out_shape == (1, 64, 56, 56) and resnet.output_shape == (1, 64, 56, 56)
    assert resnet.rows[0].receptive_field == "7×7" and resnet.rows[3].receptive_field == "11×11"
    assert resnet.skips[0].status == "ok"
    vgg = plan(*_preset("VGG block (3×224×224)"))
    assert vgg.output_shape == (1, 64, 112, 112)
    auto = plan(*_preset("Autoencoder with transposed convs (1×28×28)"))
    assert auto.output_shape == (1, 1, 28, 28)
    broken = plan(*_preset("LeNet-5 on 28×28 MNIST (breaks)"))
    assert broken.broken == 8 and "in_features=256" in broken.rows[7].fix
    assert [r.status for r in broken.rows[8:]] == ["not reached"] * 4


def _preset(name):
    p = PRESET_BY_NAME[name]
    return p.input_shape, p.rows, p.skips


def test_unet_needs_cropping_and_the_suggested_fixes_work():
    shape, rows, skips = _preset("Small U-Net (1×572×572)")
    cropped = plan(shape, rows, skips)
    assert cropped.ok and cropped.output_shape == (1, 2, 532, 532)
    assert [s.crop_box for s in cropped.skips] == [(4, 4, 4, 4), (16, 16, 16, 16)]
    uncropped = plan(shape, rows, [Skip(s.mode, s.source, s.target) for s in skips])
    assert uncropped.broken == 15 and uncropped.rows[14].param == "skip"
    report = uncropped.skips[0]
    assert report.status == "mismatch" and "8 rows and 8 columns larger" in report.message
    assert report.fixes[0].startswith("tick crop") and any("padding=1 on Conv2d layers 11, 13" in f for f in report.fixes)
    # apply the padding fix the planner suggests: the first skip then fits without a crop
    fixed_rows = list(rows)
    for j in (10, 12):
        fixed_rows[j] = ("Conv2d", fixed_rows[j][1] + ", padding=1")
    again = plan(shape, fixed_rows, [Skip("cat", 9, 15)])
    assert again.ok and again.skips[0].merged_shape == (1, 64, 280, 280)


def test_add_skip_channel_mismatch_suggests_channels():
    rows = [("Conv2d", "out_channels=8, kernel_size=3, padding=1"), ("Conv2d", "out_channels=16, kernel_size=3, padding=1")]
    result = plan((1, 3, 8, 8), rows, [Skip("add", 1, 2)])
    assert result.broken == 2
    assert any("out_channels=8" in f for f in result.skips[0].fixes)


def test_transposed_output_padding_fix():
    rows = [("Conv2d", "out_channels=4, kernel_size=3, stride=2, padding=1"),
            ("ConvTranspose2d", "out_channels=4, kernel_size=3, stride=2, padding=1")]
    result = plan((1, 4, 8, 8), rows, [Skip("add", 0, 2)])
    assert result.skips[0].status == "mismatch"
    assert "output_padding=1 on layer 2 (ConvTranspose2d)" in result.skips[0].fixes


@pytest.mark.parametrize("row, param, words", [
    (("Conv2d", "out_channels=8, kernel_size=-3"), "kernel_size", "below 1"),
    (("Conv2d", "out_channels=8, kernal_size=3"), "kernal_size", "did you mean kernel_size"),
    (("Conv2D", "kernel_size=3"), "out_channels", "needs out_channels"),
    (("Conv3d", "out_channels=8"), "layer", "not a layer"),
    (("", ""), "layer", "no layer type"),
    (("Linear", "16"), "arguments", "has no name"),
    (("Dropout", "p=2"), "p", "above"),
    (("MaxPool2d", "kernel_size=__import__('os')"), "kernel_size", "cannot read"),
])
def test_bad_cells_give_a_message_on_that_row(row, param, words):
    rows = [("ReLU", ""), row, ("ReLU", "")]
    result = plan((1, 3, 16, 16), rows)
    assert result.broken == 2
    bad = result.rows[1]
    assert bad.param == param and words in bad.message + bad.fix
    assert result.rows[2].status == "not reached"


def test_wrong_in_channels_breaks_where_torch_does():
    result = plan((1, 3, 16, 16), [("Conv2d", "out_channels=8, kernel_size=3"),
                                   ("Conv2d", "in_channels=4, out_channels=8, kernel_size=3")])
    assert result.broken == 2 and "set in_channels=8" in result.rows[1].fix
    assert run_plan(result).failed == 2


def test_caps_on_layers_and_work():
    many = plan((1, 1, 8, 8), [("ReLU", "")] * (limits.MAX_NETWORK_LAYERS + 5))
    assert len(many.rows) == limits.MAX_NETWORK_LAYERS and many.notices
    huge = plan((1, 64, 1024, 1024), [("Upsample", "scale_factor=16.0")])
    assert huge.broken == 1 and "cap" in huge.rows[0].message
    with pytest.raises(ConvConfigError):
        plan((1, 3, 99999, 8), [])


@settings(max_examples=n_examples(100))
@given(stack(max_layers=10))
def test_url_codec_round_trip(case):
    shape, rows, skips = case
    parsed = parse_rows(rows)
    text = encode_network(shape, parsed)
    assert len(text) <= limits.MAX_NETWORK_URL_CHARS
    back_shape, back_rows, notices = decode_network(text)
    assert back_shape == shape and parse_rows(back_rows) == parsed and notices == []
    assert decode_skips(encode_skips(skips)) == (skips, [])


@settings(max_examples=n_examples(200))
@given(st.text(max_size=300))
def test_hostile_url_values_never_raise(text):
    shape, rows, notices = decode_network(text)
    assert len(rows) <= limits.MAX_NETWORK_LAYERS
    plan(shape, rows)  # every row either parses or carries its message; no exception escapes
    decode_skips(text)


@settings(max_examples=n_examples(200))
@given(st.text(max_size=120))
def test_hostile_argument_text_is_a_message(text):
    for kind in LAYER_KINDS.values():
        try:
            parse_arguments(kind, text)
        except ConvConfigError as exc:
            assert exc.why


@pytest.mark.parametrize("text", ["x" * 5000, "I99999x99999x99999n999-C" + "9" * 8, "-" * 1500, "__import__('os')",
                                  "I3x32x32-" + "-".join(["C1k1"] * 200), "I0x0x0", "C16k3pQ", "F s1", "Lé5", "\x00\n"])
def test_specific_hostile_links(text):
    shape, rows, notices = decode_network(text)
    assert shape[0] <= limits.MAX_BATCH and max(shape[2:]) <= limits.MAX_SPATIAL and min(shape) >= 1
    assert len(rows) <= limits.MAX_NETWORK_LAYERS
    result = plan(shape, rows)
    assert all(r.status in ("ok", "broken", "not reached") for r in result.rows)


def test_codec_examples():
    shape, rows, notices = decode_network("I1x32x32-C6k5-R-M2-C16k5pS-T8k2s2o1-U2.0mB-FsN3-D0.25-L10b0")
    assert shape == (1, 1, 32, 32) and notices == []
    assert rows[3] == ("Conv2d", "out_channels=16, kernel_size=5, padding='same'")
    assert rows[4] == ("ConvTranspose2d", "out_channels=8, kernel_size=2, stride=2, output_padding=1")
    assert rows[5] == ("Upsample", "scale_factor=2.0, mode='bilinear'")
    assert rows[6] == ("Flatten", "start_dim=-3")
    assert decode_network("I1x8x8-C6q5")[2] == ["net: layer 1 'C6q5': Conv2d has no argument letter 'q'"]
