"""AppTest drives the real app on the sweep page: presets, every control, links, impossible configs."""

from __future__ import annotations

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
    assert any(s.label.startswith("Output position") for s in at.slider)
    assert "gives the same" in " ".join(e.value for e in at.success)


def test_small_sweep_shows_the_arithmetic_and_matches_torch():
    at = sweep_app(input="1x5x5", filters="1", kernel="3", stride="1", padding="1")
    assert_clean(at)
    assert "25 window positions" in texts(at)
    slider = next(s for s in at.slider if s.label.startswith("Output position"))
    assert slider.max == 25
    slider.set_value(7).run()
    assert_clean(at)
    assert "output (1, 1) = Σ input × weight" in texts(at)
    assert at.query_params["step"] == ["7"] or at.query_params["step"] == "7"


def test_operation_values_and_filter_controls():
    at = sweep_app(input="2x6x6", filters="4", kernel="2", stride="2", padding="0")
    assert_clean(at)
    at.radio(key="w_sweep_op").set_value("max").run()
    assert_clean(at)
    assert "max(" in texts(at)
    at.toggle(key="w_sweep_ceil").set_value(True).run()
    assert_clean(at)
    at.radio(key="w_sweep_op").set_value("avg").run()
    at.toggle(key="w_sweep_include_pad").set_value(False).run()
    assert_clean(at)
    assert "cells counted" in texts(at)
    at.radio(key="w_sweep_op").set_value("conv").run()
    at.number_input(key="w_sweep_filter").set_value(3).run()
    at.number_input(key="w_sweep_channel").set_value(1).run()
    at.radio(key="w_sweep_values").set_value("float").run()
    assert_clean(at)
    code = texts(at)
    assert "ch 1:" in code and "." in code.split("ch 1:")[1].split("\n")[0]
    assert "gives the same" in " ".join(e.value for e in at.success)


def test_link_options_are_read_and_bad_ones_named():
    at = sweep_app(input="1x6x6", filters="2", kernel="2", stride="2", op="max", step="4", filter="7", values="banana")
    assert_clean(at)
    assert at.radio(key="w_sweep_op").value == "max"
    warnings = " ".join(w.value for w in at.warning)
    assert "values='banana'" in warnings and "filter=7" in warnings
    assert "output (0, 2)" in texts(at) or "Step 4 of 9" in " ".join(h.value for h in at.subheader)


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
    slider = next(s for s in at.slider if s.label.startswith("Output position"))
    assert slider.max == 112 * 112
    slider.set_value(112 * 112).run()
    assert_clean(at)
    assert "output (111, 111)" in texts(at)
    at.radio(key="w_sweep_region").set_value("row").run()
    assert_clean(at)
    assert "rows 111–111" in iframe_html(at) or "output (111, 111)" in texts(at)
