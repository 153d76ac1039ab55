"""Network planner in 1-D and 3-D: random stacks against real torch layers (hypothesis), the WaveNet and 3-D CNN
presets, causal padding's exported code, the breaking layer's message and fix, and the net= codec."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from network_cases import check_export, check_first_break, deep_valid_stack, stack, torch_oracle

from conv_lab.network.codec import decode_network
from conv_lab.network.dims import convert_rows, resize_input
from conv_lab.network.export import export_code
from conv_lab.network.flow import Skip
from conv_lab.network.plan import plan
from conv_lab.network.presets import C3D_NAME, PRESET_BY_NAME, WAVENET_NAME
from conv_lab.network.torch_run import run_plan

from conftest import n_examples


def _preset(name):
    p = PRESET_BY_NAME[name]
    return p.input_shape, p.rows, p.skips


def test_new_presets_known_shapes():
    wavenet = plan(*_preset(WAVENET_NAME))
    assert wavenet.ok and wavenet.output_shape == (1, 256, 16000)
    assert [r.receptive_field for r in wavenet.rows if r.kind == "Conv1d"] == ["2", "3", "5", "9", "17", "17"]
    assert all(s.status == "ok" for s in wavenet.skips) and len(wavenet.skips) == 4
    assert wavenet.total_params == 32 * 3 + 4 * (32 * 32 * 2 + 32) + 256 * 33
    c3d = plan(*_preset(C3D_NAME))
    assert c3d.ok and c3d.output_shape == (1, 101)
    assert [r.out_shape for r in c3d.rows if r.kind == "MaxPool3d"] == [(1, 32, 16, 56, 56), (1, 64, 8, 28, 28),
                                                                         (1, 128, 4, 14, 14)]
    assert c3d.rows[15].out_shape == (1, 256, 1, 1, 1) and c3d.rows[16].out_shape == (1, 256)
    assert run_plan(c3d).shapes[-1] == (1, 101) and run_plan(wavenet).shapes[-1] == (1, 256, 16000)


def test_causal_export_is_constant_pad_then_conv1d_and_runs():
    result = plan((2, 1, 50), [("Conv1d", "out_channels=4, kernel_size=3, dilation=4, padding='causal'")])
    code = export_code(result)
    assert "nn.Sequential(nn.ConstantPad1d((8, 0), 0.0), nn.Conv1d(in_channels=1, out_channels=4, kernel_size=3, " \
           "dilation=4))," in code and "'causal'" not in code
    namespace: dict = {}
    exec(code.replace("print(y.shape)", "pass"), namespace)  # the generated code only
    assert tuple(namespace["y"].shape) == (2, 4, 50) == result.output_shape
    # causal means the past only: output t depends on no input after t
    layer = namespace["layers"][0]
    x = torch.randn(1, 1, 50)
    y1, x2 = layer(x), x.clone()
    x2[..., 30:] = 7.0
    assert torch.equal(layer(x2)[..., :30], y1[..., :30]) and not torch.equal(layer(x2)[..., 30:], y1[..., 30:])


@pytest.mark.parametrize("shape, rows, broken, param, words", [
    ((1, 16, 100), [("Conv3d", "out_channels=8, kernel_size=3")], 1, "input", "use Conv1d"),
    ((1, 3, 8, 8, 8), [("Conv2d", "out_channels=8, kernel_size=3")], 1, "input", "use Conv3d"),
    ((1, 8, 100), [("Conv1d", "in_channels=4, out_channels=8, kernel_size=3")], 1, "in_channels", "set in_channels=8"),
    ((1, 3, 16, 16, 16), [("MaxPool3d", "kernel_size=4"), ("MaxPool3d", "kernel_size=4"),
                          ("Conv3d", "out_channels=4, kernel_size=3")], 3, "kernel_size", "larger than the 1×1×1"),
    ((1, 3, 40), [("MaxPool1d", "kernel_size=8"), ("AvgPool1d", "kernel_size=8")], 2, "kernel_size", "larger than"),
    ((1, 3, 2, 8, 8), [("AvgPool3d", "kernel_size=3, padding=1")], 1, "kernel_size", "padding does not count"),
    ((1, 3, 8, 8, 8), [("BatchNorm2d", "")], 1, "input", "use BatchNorm3d"),
    ((1, 3, 8, 8), [("BatchNorm3d", "")], 1, "input", "use BatchNorm2d"),
    ((1, 3, 40), [("Flatten", ""), ("BatchNorm1d", "")], 2, "input", "more than one value per channel"),
    ((1, 3, 8, 8, 8), [("AdaptiveAvgPool1d", "output_size=2")], 1, "input", "use AdaptiveAvgPool3d"),
    ((1, 3, 8, 8, 8), [("Upsample", "scale_factor=2.0, mode='bilinear'")], 1, "mode", "'trilinear'"),
    ((1, 3, 40), [("Conv1d", "out_channels=4, kernel_size=3, padding='causal', padding_mode='reflect'")], 1,
     "padding_mode", "causal padding adds zeros"),
])
def test_1d_and_3d_breaks_name_the_fix_where_torch_fails(shape, rows, broken, param, words):
    result = plan(shape, rows)
    assert result.broken == broken
    bad = result.rows[broken - 1]
    assert bad.param == param and words in bad.message + " " + bad.fix, (bad.message, bad.fix)
    assert torch_oracle(result)[1] == broken and run_plan(result).failed == broken


@pytest.mark.parametrize("shape, rows, out", [
    ((2, 3, 40), [("BatchNorm1d", ""), ("Flatten", ""), ("BatchNorm1d", "")], (2, 120)),  # (N, C, L) and (N, C)
    ((1, 3, 8, 8, 8), [("AdaptiveAvgPool2d", "output_size=1")], (1, 3, 8, 1, 1)),  # torch's mean shortcut, any rank
    ((1, 3, 8, 8, 8), [("AdaptiveMaxPool3d", "output_size=(1, 2, 2)"), ("Flatten", ""), ("Linear", "out_features=4")],
     (1, 4)),
    ((1, 4, 6, 6), [("Conv3d", "out_channels=2, kernel_size=3")], (2, 2, 4, 4)),  # 4-D: one unbatched (C, D, H, W)
])
def test_torch_rules_that_surprise(shape, rows, out):
    result = plan(shape, rows)
    assert result.ok and result.output_shape == out
    assert torch_oracle(result)[0][-1] == out


@settings(max_examples=n_examples(100))
@given(st.sampled_from([1, 3]).flatmap(lambda n: deep_valid_stack(dims_from=(n,))))
def test_deep_1d_and_3d_stacks_match_torch_and_export(case):
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    shapes, failed, *why = torch_oracle(result)
    assert failed is None and result.ok and shapes == [r.out_shape for r in result.rows], why
    assert run_plan(result).shapes == tuple(shapes)
    check_export(result)


@settings(max_examples=n_examples(150))
@given(stack(dims_from=(1, 3)))
def test_1d_and_3d_first_break_matches_torch(case):
    check_first_break(case)


def test_convert_rows_keeps_a_stack_working_in_every_dimension():
    lenet = PRESET_BY_NAME["LeNet-5 (1×32×32)"]
    for dims in (1, 3):
        rows, notices = convert_rows(lenet.rows, dims)
        shape = resize_input(lenet.input_shape, dims)
        result = plan(shape, rows)
        assert result.ok and result.output_shape == (1, 10) and notices
        assert torch_oracle(result)[0][-1] == (1, 10)


def test_codec_1d_and_3d_examples():
    shape, rows, notices = decode_network("I1x16000-1C32k2pCd8-1M4-3C8k1x3x3-1G1-1X1-1B-U2.0mL-F-L10")
    assert shape == (1, 1, 16000) and notices == []
    assert rows[0] == ("Conv1d", "out_channels=32, kernel_size=2, padding='causal', dilation=8")
    assert rows[2] == ("Conv3d", "out_channels=8, kernel_size=(1, 3, 3)")
    assert rows[4:7] == [("AdaptiveMaxPool1d", "output_size=1"), ("BatchNorm1d", ""), ("Upsample",
                                                                                       "scale_factor=2.0, mode='linear'")]
    assert decode_network("I3x16x112x112n2")[0] == (2, 3, 16, 112, 112)
    assert decode_network("I1x32x32-C6k5")[1] == [("Conv2d", "out_channels=6, kernel_size=5")]  # 2-D: as before
    assert decode_network("I1x32x32-2C6k5")[1] == [("Conv2d", "out_channels=6, kernel_size=5")]
    assert decode_network("I1x9-1R")[2] == ["net: layer 1 '1R': ReLU has no 1-D or 3-D form: write 'R' without the 1"]
    assert "takes one number or 3" in decode_network("I1x9-3C8k3x3")[2][0]
    assert "'causal' is not one torch knows" in decode_network("I1x9-3C8k3pC")[2][0]
    assert decode_network("I1x99999")[2] == ["net: input length 99999 is outside 1..65536; using 65536"]
    assert decode_network("I1x2x3x4x5")[0] == (1, 3, 32, 32) and "not like" in decode_network("I1x2x3x4x5")[2][0]


def test_a_1d_residual_that_does_not_fit_gets_checked_fixes():
    rows = [("Conv1d", "out_channels=8, kernel_size=1"), ("Conv1d", "out_channels=8, kernel_size=3, dilation=2"),
            ("ReLU", "")]
    result = plan((1, 1, 100), rows, [Skip("add", 1, 3)])
    assert result.broken == 3 and result.rows[2].param == "skip"
    report = result.skips[0]
    assert "the skip is 4 positions larger (100 vs 96)" in report.message
    assert report.fixes[0] == "tick crop: centre-crop the skip by 2 left, 2 right"
    assert "keep each size: padding=2 on Conv1d layer 2" in report.fixes
    assert "keep each length, past only: padding='causal' on Conv1d layer 2" in report.fixes
    for fix, changed in (("padding=2", "padding=2"), ("causal", "padding='causal'")):
        fixed = plan((1, 1, 100), [rows[0], ("Conv1d", rows[1][1] + f", {changed}"), rows[2]], [Skip("add", 1, 3)])
        assert fixed.ok and fixed.output_shape == (1, 8, 100), fix
        assert torch_oracle(fixed)[0][-1] == (1, 8, 100)
