"""Query params <-> configuration: round trips, readable links, tolerant parsing of hostile values."""

from __future__ import annotations

from urllib.parse import parse_qsl

from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab import PARAMETERS, ConvConfigError
from conv_lab.core.params import PARAM
from conv_lab.core.state import (
    CONFIG_KEYS,
    DEFAULT,
    LabConfig,
    config_from_spec,
    parse_query,
    share_query_string,
    to_query,
)
from conv_lab.lab.presets import PRESETS
from ui.navigation import PAGE_OPTION_KEYS as UI_KEYS

from conftest import n_examples


def pair(name):
    p = PARAM[name]
    return st.tuples(st.integers(p.lo, p.hi), st.integers(p.lo, p.hi))


configs = st.builds(
    LabConfig,
    in_channels=st.integers(1, PARAM["in_channels"].hi),
    height=st.integers(1, PARAM["input_size"].hi), width=st.integers(1, PARAM["input_size"].hi),
    out_channels=st.integers(1, PARAM["out_channels"].hi), kernel_size=pair("kernel_size"), stride=pair("stride"),
    padding=st.one_of(pair("padding"), st.sampled_from(["same", "valid"])), dilation=pair("dilation"),
    groups=st.integers(1, PARAM["groups"].hi), bias=st.booleans(),
    padding_mode=st.sampled_from(PARAM["padding_mode"].choices), transposed=st.booleans(),
    output_padding=pair("output_padding"))


@settings(max_examples=n_examples(500, 50))
@given(configs)
def test_query_round_trip_is_exact_and_silent(config):
    query = to_query(config)
    assert set(query) <= set(CONFIG_KEYS)
    back, notices = parse_query(query)
    assert back == config and notices == []
    back2, _ = parse_query(dict(parse_qsl(share_query_string(config, present="1"))), UI_KEYS)
    assert back2 == config


def test_readable_link_for_the_brief_example():
    config, notices = parse_query({"input": "3x32x32", "filters": "64", "kernel": "3", "stride": "2", "padding": "1"})
    assert notices == [] and config.spec().output_shape(config.input_shape()) == (1, 64, 16, 16)
    assert share_query_string(config) == "input=3x32x32&filters=64&kernel=3&stride=2&padding=1"
    assert to_query(config.with_values(kernel_size=(3, 5), padding="same"))["kernel"] == "3x5"


def test_every_table_parameter_is_reachable_from_the_url():
    names = {p.name for p in PARAMETERS}
    config, notices = parse_query({"input": "4x10x12", "filters": "8", "kernel": "3x5", "stride": "2x1",
                                   "padding": "1x2", "dilation": "2", "groups": "2", "padding_mode": "reflect",
                                   "bias": "0", "transposed": "1", "output_padding": "1"})
    assert notices == []
    got = {"in_channels": config.in_channels, "input_size": (config.height, config.width),
           "out_channels": config.out_channels, "kernel_size": config.kernel_size, "stride": config.stride,
           "padding": config.padding, "dilation": config.dilation, "groups": config.groups, "bias": config.bias,
           "padding_mode": config.padding_mode, "transposed": config.transposed,
           "output_padding": config.output_padding}
    assert set(got) == names
    assert got == {"in_channels": 4, "input_size": (10, 12), "out_channels": 8, "kernel_size": (3, 5),
                   "stride": (2, 1), "padding": (1, 2), "dilation": (2, 2), "groups": 2, "bias": False,
                   "padding_mode": "reflect", "transposed": True, "output_padding": (1, 1)}


def test_bad_values_fall_back_with_notices_that_name_them():
    config, notices = parse_query({"kernel": "banana", "stride": "-3", "filters": "99999", "padding": "1x2x3",
                                   "bias": "maybe", "padding_mode": "mirror", "input": "3x32x", "wat": "1",
                                   "dilation": ["2", "3"], "groups": "x" * 500})
    text = "\n".join(notices)
    assert config.kernel_size == DEFAULT.kernel_size and "kernel='banana'" in text
    assert config.stride == DEFAULT.stride and "stride=-3" in text
    assert config.out_channels == PARAM["out_channels"].hi and "filters=99999" in text and "using 512" in text
    assert config.padding == DEFAULT.padding and "padding=1x2x3 has 3 values but the input is 2-D" in text
    assert config.bias is True and "bias='maybe'" in text
    assert config.padding_mode == "zeros" and "padding_mode='mirror'" in text
    assert (config.height, config.width) == (32, 32) and "input='3x32x' is not like 3x32x32" in text
    # The input's rank sets the dimension (issue 13): C×L is 1-D, C×H×W 2-D, C×D×H×W 3-D.
    assert parse_query({"input": "20x24"})[0].input_shape() == (1, 20, 24)
    assert parse_query({"input": "3x8x20x24"})[0].input_shape() == (1, 3, 8, 20, 24)
    assert "ignored unknown setting 'wat'" in text
    assert config.dilation == (3, 3) and "dilation was given more than once" in text
    assert "groups= is 500 characters long" in text


@settings(max_examples=n_examples(500, 50))
@given(st.dictionaries(st.text(max_size=30), st.one_of(st.text(max_size=60), st.lists(st.text(max_size=20), max_size=3)),
                       max_size=12))
def test_parse_never_raises_and_stays_in_range(params):
    config, notices = parse_query(params, UI_KEYS)
    assert isinstance(notices, list)
    assert 1 <= config.height <= PARAM["input_size"].hi and 1 <= config.out_channels <= PARAM["out_channels"].hi
    try:
        config.spec()
    except ConvConfigError:
        pass  # impossible combinations are the page's error box, not a crash


@settings(max_examples=n_examples(300, 50))
@given(st.dictionaries(st.sampled_from(CONFIG_KEYS), st.text(alphabet="0123456789x×-+ ,sameviludo", max_size=12)))
def test_parse_with_near_miss_values(params):
    config, _ = parse_query(params)
    for name in ("kernel_size", "stride", "dilation", "output_padding"):
        p = PARAM[name]  # the upper end depends on the dimension (a 1-D kernel may be 255 long)
        lo, hi = p.lo, (p.his[config.dims - 1] if p.his else p.hi)
        assert all(lo <= v <= hi for v in getattr(config, name)), (config.dims, name, getattr(config, name))


def test_presets_survive_the_url():
    for preset in PRESETS:
        back, notices = parse_query(to_query(preset.config))
        assert back == preset.config and notices == []
        spec = preset.config.spec()
        assert config_from_spec(spec, preset.config.height, preset.config.width).spec() == spec


def test_known_preset_shapes():
    shapes = {p.name: p.config.spec().output_shape(p.config.input_shape()) for p in PRESETS}
    assert shapes["Shrink without padding"] == (1, 16, 30, 30)
    assert shapes["Keep the size with padding"] == (1, 32, 32, 32)
    assert shapes["Halve with stride 2"] == (1, 64, 16, 16)
    assert shapes["AlexNet conv1"] == (1, 96, 55, 55)
    assert shapes["ResNet stem"] == (1, 64, 112, 112)
    assert shapes["Depthwise 3×3"] == (1, 32, 56, 56)
    assert shapes["Dilated 3×3 (d=2)"] == (1, 16, 32, 32)
    assert shapes["Transposed conv doubles 16→32"] == (1, 32, 32, 32)
    assert shapes["Stride leaves a row unused"] == (1, 1, 3, 3)
    assert shapes["'same' with an even kernel"] == (1, 8, 32, 32)
