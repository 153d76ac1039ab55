"""Every error path: ConvConfigError names the parameter, says why in plain words, and gives a fix."""

from __future__ import annotations

import pytest

from conv_lab import ConvConfigError, ConvSpec, compare, limits
from conv_lab.core.costs import work_check
from conv_lab.core.shapes import explain, output_shape


def error_of(make, *args):
    """Run `make(*args)` expecting ConvConfigError; return it."""
    with pytest.raises(ConvConfigError) as info:
        make(*args)
    return info.value


def shape_error(spec_kwargs: dict, shape: tuple) -> ConvConfigError:
    return error_of(lambda: ConvSpec(**spec_kwargs).output_shape(shape))


# (spec kwargs, input shape or None for construction errors, param, words the message must contain)
CASES = [
    (dict(in_channels=3, out_channels=8, kernel_size=3), (3, 2, 2), "kernel_size",
     ["3×3 kernel is larger than the 2×2 padded input", "add padding ≥ 1", "kernel ≤ 2"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, dilation=3), (1, 5, 5), "kernel_size",
     ["dilated by 3×3 spans 7×7", "5×5 padded input", "smaller dilation"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding="valid"), (1, 2, 2), "kernel_size", ["padding='same'"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, padding="same"), None, "padding",
     ["'same' is not supported with stride 2×2", "use stride 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding=4, padding_mode="reflect"), (1, 4, 4), "padding",
     ["reflect padding of 4", "the input has 4", "padding ≤ 3"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding=5, padding_mode="circular"), (1, 4, 4), "padding",
     ["wraps around the 4-cell height more than once", "padding ≤ 4"]),
    (dict(in_channels=3, out_channels=8, kernel_size=3, groups=2), None, "groups",
     ["in_channels=3 cannot be split into 2 equal groups", "use groups in [1]"]),
    (dict(in_channels=4, out_channels=6, kernel_size=3, groups=4), None, "groups",
     ["out_channels=6 cannot be split into 4 equal groups", "use groups in [1, 2]"]),
    (dict(in_channels=3, out_channels=8, kernel_size=3), (4, 8, 8), "in_channels",
     ["the input has 4 channels but the layer expects in_channels=3", "set in_channels=4"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, stride=2, dilation=1, transposed=True, output_padding=2), None,
     "output_padding", ["must be smaller than the stride (2) or the dilation (1)", "output_padding ≤ 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, output_padding=1), None, "output_padding",
     ["only exists for transposed convolution"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, transposed=True, padding_mode="reflect"), None, "padding_mode",
     ["ConvTranspose2d only supports 'zeros'"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, transposed=True, padding="same"), None, "padding",
     ["ConvTranspose2d takes no padding='same'"]),
    (dict(in_channels=1, out_channels=1, kernel_size=1, padding=1, transposed=True), (1, 1, 1), "padding",
     ["removes more than the transposed convolution produces", "padding ≤ 0"]),
    (dict(in_channels=1, out_channels=1, kernel_size=0), None, "kernel_size", ["kernel size 0 is below 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, stride=0), None, "stride", ["stride 0 is below 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, dilation=0), None, "dilation", ["dilation 0 is below 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding=-1), None, "padding", ["padding -1 is below 0"]),
    (dict(in_channels=0, out_channels=1, kernel_size=3), None, "in_channels", ["a count of 0 is below 1"]),
    (dict(in_channels=1, out_channels=0, kernel_size=3), None, "out_channels", ["below 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, groups=0), None, "groups", ["below 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding="full"), None, "padding", ["'full' is not a padding"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding_mode="mirror"), None, "padding_mode",
     ["'mirror' is not a padding mode", "reflect"]),
    (dict(in_channels=1, out_channels=1, kernel_size="3"), None, "kernel_size", ["expected a whole number"]),
    (dict(in_channels=1, out_channels=1, kernel_size=(3, 3, 3)), None, "kernel_size", ["2 whole numbers (H/W)", "2-D"]),
    (dict(in_channels=1, out_channels=1, kernel_size=(3, 3), dims=1), None, "kernel_size", ["1-D layer", "(80,)"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, dims=4), None, "dims", ["1, 2 or 3", "Conv3d"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding="causal"), None, "padding", ["1-D", "dims=1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, padding="causal", dims=1, padding_mode="reflect"), None,
     "padding_mode", ["zeros"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, dims=3), (1, 8, 8), "input_shape",
     ["5-D input (N, C, D, H, W)", "got 3-D", "1-D layer"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, dims=1), (1, 1, 8, 8), "input_shape",
     ["Conv1d expects a 3-D input (N, C, L)", "2-D layer"]),
    (dict(in_channels=1, out_channels=1, kernel_size=True), None, "kernel_size", ["expected a whole number"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3, bias="yes"), None, "bias", ["True or False"]),
    (dict(in_channels=1, out_channels=1, kernel_size=limits.MAX_KERNEL + 1), None, "kernel_size",
     [f"cap of {limits.MAX_KERNEL}"]),
    (dict(in_channels=limits.MAX_CHANNELS + 1, out_channels=1, kernel_size=1), None, "in_channels", ["cap"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3), (1, 0, 5), "input_shape", ["at least 1"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3), (5, 5), "input_shape", ["(N, C, H, W) or 3-D (C, H, W)"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3), (1, limits.MAX_SPATIAL + 1, 8), "input_size",
     [f"cap of {limits.MAX_SPATIAL}"]),
    (dict(in_channels=1, out_channels=1, kernel_size=3), (limits.MAX_BATCH + 1, 1, 8, 8), "input_shape", ["batch"]),
    (dict(in_channels=1, out_channels=1, kernel_size=64, stride=64, transposed=True), (1, 200, 200), "stride",
     [f"cap of {limits.MAX_OUTPUT_SPATIAL}"]),
]


@pytest.mark.parametrize("kwargs, shape, param, words", CASES, ids=[f"{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_error_message_names_param_why_and_fix(kwargs, shape, param, words):
    exc = error_of(lambda: ConvSpec(**kwargs)) if shape is None else shape_error(kwargs, shape)
    assert exc.param == param
    text = str(exc)
    assert text.startswith(f"{param}: ")
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    assert "Traceback" not in text and "aten" not in text


def test_explain_and_compare_raise_the_same_error():
    spec = ConvSpec(3, 8, 5)
    for call in (lambda: explain(spec, (1, 3, 4, 4)), lambda: output_shape(spec, (1, 3, 4, 4)),
                 lambda: spec.explain((1, 3, 4, 4)), lambda: compare(spec, (1, 3, 4, 4))):
        assert error_of(call).param == "kernel_size"


def test_work_caps_refuse_to_run_but_the_formula_still_answers():
    spec = ConvSpec(512, 512, 15, padding=7)
    shape = (1, 512, 512, 512)
    assert spec.output_shape(shape) == (1, 512, 512, 512)
    exc = error_of(lambda: compare(spec, shape))
    assert exc.param in ("out_channels", "input_size") and "cap" in exc.why and exc.fix
    exc = error_of(lambda: work_check(ConvSpec(64, 64, 15, padding=7), (1, 64, 256, 256)))
    assert "multiply-accumulates" in exc.why and "formula above still holds" in exc.why


def test_error_is_a_value_error_with_fields():
    exc = error_of(lambda: ConvSpec(1, 1, 3, stride=0))
    assert isinstance(exc, ValueError) and exc.why and exc.fix


def test_error_survives_pickling_from_a_worker_process():
    import pickle

    exc = error_of(lambda: ConvSpec(1, 1, 3, stride=0))
    back = pickle.loads(pickle.dumps(exc))
    assert (back.param, back.why, back.fix, str(back)) == (exc.param, exc.why, exc.fix, str(exc))
