"""Network planner: formula shapes against the real torch layers (hypothesis), presets, export, URL codec."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from network_cases import check_export, check_first_break, deep_valid_stack, stack, torch_oracle

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.network.codec import decode_network, decode_skips, encode_network, encode_skips
from conv_lab.network.flow import Skip
from conv_lab.network.layers import LAYER_KINDS, parse_arguments
from conv_lab.network.plan import parse_rows, plan
from conv_lab.network.presets import PRESET_BY_NAME, PRESETS
from conv_lab.network.torch_run import run_plan

from conftest import n_examples


@settings(max_examples=n_examples(150))
@given(stack())
def test_formula_shapes_and_first_break_match_torch(case):
    check_first_break(case)


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
@example(((1, 1, 1, 1), [("ConvTranspose1d", "out_channels=1, kernel_size=1, groups=2, in_channels=1")], []))  # CI: groups
def test_exported_code_runs_with_the_planned_shapes(case):
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    check_export(result)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets_export_and_run(preset):
    result = plan(preset.input_shape, preset.rows, preset.skips)
    if result.total_macs < 3e9:  # the U-Net (572×572) and the 3-D CNN are slow on CPU; their shapes are checked on meta
        check_export(result)
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
    (("Conv4d", "out_channels=8"), "layer", "not a layer"),
    (("Conv3d", "out_channels=8, kernel_size=(3, 3)"), "kernel_size", "takes one number or 3"),
    (("Conv2d", "out_channels=8, kernel_size=3, padding='causal'"), "padding", "'causal' is not one torch knows"),
    (("MaxPool1d", "kernel_size=(2, 2)"), "kernel_size", "takes one number (1-D)"),
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
                                  "I3x32x32-" + "-".join(["C1k1"] * 200), "I0x0x0", "C16k3pQ", "F s1", "Lé5", "\x00\n",
                                  "I0x0", "I99999x99999x99999x99999n999-3C9999k99x99x99", "I1x65536-1C1024k1024d1024pC",
                                  "I1x8-4C3-0M2-1R2-3U2.0mT", "I3x4x4x4-3T8k2s2o5-3G0x0x0-3X9999", "I1x5-1C1k3x3x3x3"])
def test_specific_hostile_links(text):
    shape, rows, notices = decode_network(text)
    assert shape[0] <= limits.MAX_BATCH and max(shape[2:]) <= limits.MAX_SPATIAL_BY_DIMS[len(shape) - 2]
    assert min(shape) >= 1 and 3 <= len(shape) <= 5
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
