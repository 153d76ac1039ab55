"""AppTest drives the real app on the sweep page: presets, every control, links, impossible configs."""

from __future__ import annotations

import base64
import json
import re
import zlib

import pytest

from conv_lab.core.state import share_query_string
from conv_lab.lab.presets import PRESETS

from conftest import run_app

PAGE = "pages/sweep.py"


def sweep_app(**query):
    return run_app(PAGE, query=query, timeout=120)


def texts(at) -> str:
    parts = [e.value for e in at.code] + [e.value for e in at.markdown] + [e.value for e in at.caption]
    return "\n".join(str(p) for p in parts)


def iframe_html(at) -> str:
    frames = [n for n in at.get("iframe")]
    assert frames, "the player iframe is missing"
    proto = frames[0].proto
    return proto.srcdoc or proto.src


def player_data(at) -> tuple[int, list]:
    """The frame the player opens on and its frames ([copies, arithmetic lines] each), from the page's own payload."""
    html = iframe_html(at)
    packed = re.search(r'const FRAMES = "([A-Za-z0-9+/=]*)";', html).group(1)
    frames, _ = json.loads(zlib.decompress(base64.b64decode(packed)))
    return int(re.search(r'data-frame="(\d+)"', html).group(1)), frames


def shown(at) -> str:
    """The page's texts and the arithmetic the player shows on opening (HTML text under the canvas)."""
    start, frames = player_data(at)
    return texts(at) + "\n" + "\n".join(frames[start][1])


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_page_renders_for_every_preset(preset):
    query = dict(q.split("=") for q in share_query_string(preset.config).split("&"))
    at = sweep_app(**query)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    html = iframe_html(at)
    assert 'aria-label="Play"' in html and "<canvas" in html
    assert not any(s.label.startswith("Output position") for s in at.slider), "the player is the one timeline"
    assert "gives the same" in " ".join(e.value for e in at.success)


def test_small_sweep_shows_the_arithmetic_and_matches_torch():
    at = sweep_app(input="1x5x5", filters="1", kernel="3", stride="1", padding="1")
    assert_clean(at)
    assert "25 window positions" in texts(at)
    assert not [s for s in at.main.slider], "no second step control beside the player"
    assert not any("Step " in h.value for h in at.subheader), "no second step counter beside the player"
    at = sweep_app(input="1x5x5", filters="1", kernel="3", stride="1", padding="1", step="7")
    assert_clean(at)
    start, frames = player_data(at)
    assert start == 6 and len(frames) == 26
    assert "output (1, 1) = Σ input × weight" in shown(at)
    assert at.query_params["step"] == ["7"] or at.query_params["step"] == "7"


def test_operation_values_and_filter_controls():
    at = sweep_app(input="2x6x6", filters="4", kernel="2", stride="2", padding="0")
    assert_clean(at)
    at.radio(key="w_sweep_op").set_value("max").run()
    assert_clean(at)
    assert "max(" in shown(at)
    at.toggle(key="w_sweep_ceil").set_value(True).run()
    assert_clean(at)
    at.radio(key="w_sweep_op").set_value("avg").run()
    at.toggle(key="w_sweep_include_pad").set_value(False).run()
    assert_clean(at)
    assert "cells counted" in shown(at)
    at.radio(key="w_sweep_op").set_value("conv").run()
    at.number_input(key="w_sweep_filter").set_value(3).run()
    at.number_input(key="w_sweep_channel").set_value(1).run()
    at.radio(key="w_sweep_values").set_value("float").run()
    assert_clean(at)
    code = shown(at)
    assert "ch 1:" in code and "." in code.split("ch 1:")[1].split("\n")[0]
    assert "gives the same" in " ".join(e.value for e in at.success)


def test_link_options_are_read_and_bad_ones_named():
    at = sweep_app(input="1x6x6", filters="2", kernel="2", stride="2", op="max", step="4", filter="7", values="banana")
    assert_clean(at)
    assert at.radio(key="w_sweep_op").value == "max"
    warnings = " ".join(w.value for w in at.warning)
    assert "values='banana'" in warnings and "filter=7" in warnings
    assert "output (1, 0)" in shown(at) and player_data(at)[0] == 3  # step 4 of a 3×3 output, row-major


def test_impossible_config_shows_a_clear_message():
    at = sweep_app(input="1x2x2", filters="1", kernel="5", stride="1", padding="0")
    assert_clean(at)
    assert at.error and "kernel" in at.error[0].value.lower()
    at = sweep_app(input="1x6x6", filters="1", kernel="3", padding="1", transposed="1", op="max")
    assert_clean(at)
    assert at.error and "transposed" in at.error[0].value.lower()
    at = sweep_app(input="1x6x6", filters="1", kernel="2", padding="2", op="avg")
    assert_clean(at)
    assert at.error and "padding" in at.error[0].value


def test_large_config_animates_a_region_and_reaches_every_position():
    at = sweep_app(input="3x224x224", filters="64", kernel="7", stride="2", padding="3")
    assert_clean(at)
    assert "112×112 outputs" in " ".join(w.value for w in at.warning)
    part = at.slider(key="w_sweep_part")
    assert part.value == 1 and part.max == 16  # 29×29 blocks of the 112×112 output (a 64-cell grid side)
    part.set_value(16).run()
    assert_clean(at)
    assert "output (87, 87)" in shown(at) and query_params(at)["step"] == str(87 * 112 + 88)
    assert player_data(at)[0] == 0, "a new part opens on its first position"
    at = sweep_app(input="3x224x224", filters="64", kernel="7", stride="2", padding="3", step=str(112 * 112))
    assert "output (111, 111)" in shown(at) and at.slider(key="w_sweep_part").value == 16
    assert "Part 16 of 16" in texts(at)
    at.radio(key="w_sweep_region").set_value("row").run()
    assert_clean(at)
    assert "output (111, 111)" in shown(at) and "output row 111" in texts(at)


# ---------------------------------------------------------------- 1-D and 3-D layers
def query_params(at) -> dict:
    return {k: (v[0] if isinstance(v, list) else v) for k, v in at.query_params.items()}


def test_1d_causal_link_sweeps_a_strip_and_matches_conv1d():
    at = sweep_app(input="1x12", filters="1", kernel="3", dilation="2", padding="causal")
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert "12 window positions → 12 outputs." in texts(at)
    assert 'aria-label="Play"' in iframe_html(at)
    assert "nn.Conv1d" in " ".join(e.value for e in at.success) and "gives the same" in at.success[0].value
    assert not any(r.key == "w_sweep_region" for r in at.radio)  # a strip: blocks and rows are the same
    at = sweep_app(input="1x12", filters="1", kernel="3", dilation="2", padding="causal", step="4")
    assert_clean(at)
    assert "output 3 = Σ input × weight" in shown(at) and query_params(at)["step"] == "4"
    at.radio(key="w_sweep_op").set_value("max").run()  # MaxPool1d has no causal padding: a plain message
    assert_clean(at)
    assert at.error and "causal" in at.error[0].value


def test_1d_pooling_transposed_and_long_links():
    at = sweep_app(input="2x11", filters="2", kernel="3", stride="2", padding="1", op="avg", channel="1", step="3")
    assert_clean(at)
    assert "nn.AvgPool1d" in at.success[0].value and "output 2 = sum of the window" in shown(at)
    at = sweep_app(input="2x6", filters="2", kernel="3", stride="2", transposed="1", groups="2", filter="1")
    assert_clean(at)
    assert "nn.ConvTranspose1d" in at.success[0].value and "gives the same" in at.success[0].value
    at = sweep_app(input="1x16000", filters="16", kernel="80", stride="4", step="2000")
    assert_clean(at)
    assert "3981 outputs over a 16000-cell strip" in " ".join(w.value for w in at.warning)
    assert "output 1999 = Σ" in shown(at) and "gives the same" in at.success[0].value


def test_3d_link_sweeps_one_output_depth_slice_and_round_trips_it():
    at = sweep_app(input="1x4x5x5", filters="1", kernel="3", padding="1", out_depth="2", step="7")
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    depth = next(s for s in at.slider if s.label.startswith("Output depth"))
    assert depth.value == 2 and depth.max == 3
    assert "output (2, 1, 1) = Σ input × weight + bias (over depth and channels)" in shown(at)
    assert "ch 0 d2:" in shown(at) and "ch 0 d4:" in shown(at)
    assert "nn.Conv3d" in at.success[0].value and "gives the same" in at.success[0].value
    depth.set_value(3).run()
    assert_clean(at)
    assert query_params(at)["out_depth"] == "3" and "output (3, 1, 1)" in shown(at)
    at.radio(key="w_sweep_op").set_value("max").run()
    assert_clean(at)
    assert at.error and "1-D and 2-D" in at.error[0].value


def test_hostile_3d_and_1d_links_show_notices_not_tracebacks():
    at = sweep_app(input="1x4x5x5", filters="1", kernel="3", padding="1", out_depth="99")
    assert_clean(at)
    assert "out_depth=99" in " ".join(w.value for w in at.warning)
    at = sweep_app(input="2x3x4x4", filters="2", kernel="2", stride="2", transposed="1", groups="2", filter="1",
                   out_depth="-4")
    assert_clean(at)
    assert "nn.ConvTranspose3d" in at.success[0].value
    for query in (dict(input="1x4x5x5", kernel="9"), dict(input="1x5", kernel="3x3"), dict(input="1x1x2x2x2x2"),
                  dict(input="1x3", kernel="5", padding="causal", transposed="1")):
        at = sweep_app(**query)
        assert_clean(at)


# ---------------------------------------------------------------- issue 16: small sweeps, pooling words, titles
def test_a_long_sweep_says_so_and_offers_a_small_layer():
    at = sweep_app(input="3x32x32", filters="16", kernel="3", stride="1", padding="1")
    assert_clean(at)
    assert "1,024 steps" in " ".join(i.value for i in at.info)
    at.button(key="w_sweep_small").click().run()
    assert_clean(at)
    assert not at.info, "a 9-step sweep needs no warning"
    assert "9 window positions → a 3×3 output." in texts(at)
    assert query_params(at)["input"] == "1x5x5" and query_params(at)["stride"] == "2"
    start, frames = player_data(at)
    assert len(frames) == 10 and frames[0][1][0].startswith("output (0, 0) = Σ")


def _greyed(at) -> set[str]:
    """The layer controls drawn disabled (greyed out) in the sidebar."""
    widgets = [*at.sidebar.slider, *at.sidebar.selectbox, *at.sidebar.toggle]
    return {w.key for w in widgets if w.disabled and w.key != "w_output_padding"}


def test_pooling_never_speaks_of_weights_and_greys_out_what_it_ignores():
    at = sweep_app(input="1x6x6", filters="4", kernel="2", stride="2", padding="0", op="max")
    assert_clean(at)
    words = texts(at)
    assert "multiplies the taps by the weights" not in words and "largest value" in words
    assert _greyed(at) == {"w_out_channels"}  # "Advanced" is closed: its rows are not drawn
    assert "pooling has no filters" in at.sidebar.slider(key="w_out_channels").help
    at.session_state["w_advanced"] = True  # the learner opens "Advanced"
    at.run()
    assert _greyed(at) == {"w_out_channels", "w_groups", "w_bias", "w_padding_mode"}
    assert not any(n.key == "w_sweep_filter" for n in at.number_input)
    at.radio(key="w_sweep_op").set_value("avg").run()
    assert "multiplies the taps by the weights" not in texts(at) and "divides" in texts(at)
    at.radio(key="w_sweep_op").set_value("conv").run()
    assert "multiplies the taps by the weights" in texts(at)
    assert not _greyed(at) and at.sidebar.slider(key="w_out_channels").value == 4  # the value was kept


def test_transposed_title_states_the_grid_padding_with_output_padding():
    at = sweep_app(input="1x3x3", filters="1", kernel="3", stride="2", padding="1", transposed="1", output_padding="1")
    assert_clean(at)
    html = iframe_html(at)
    assert "padding 1, output_padding 1 → grid padding 1/2/1/2 (t/b/l/r)" in html
    assert "padding 1/1/1/1" not in html
    _, frames = player_data(at)
    assert len(frames) == 6 * 6 + 1  # (3 − 1)·2 − 2 + 3 + 1 = 6

