"""AppTest on the real app: every Shape Lab control, presets, URL round trip, malformed URLs, error paths."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from conv_lab import ConvConfigError
from conv_lab.core.state import parse_query
from conv_lab.lab.presets import PRESETS

from conftest import html_metrics, run_app, shown_code, shown_latex

BRIEF = {"input": "3x32x32", "filters": "64", "kernel": "3", "stride": "2", "padding": "1"}


def shown_size(at) -> str | None:
    """The torch.Size line the page prints (None when no result is shown)."""
    for block in shown_code(at):
        if block.startswith("torch.Size("):
            return block
    for block in at.markdown:
        if "`torch.Size(" in block.value:
            return block.value.split("`")[1]
    return None


def expected_size(at) -> str:
    """torch.Size the URL's configuration must give, computed by conv_lab (itself checked against torch)."""
    config, _ = parse_query(dict(at.query_params))
    return f"torch.Size({list(config.spec().output_shape(config.input_shape()))})"


def assert_clean(at):
    assert not at.exception, [e.value for e in at.exception]


def open_advanced(at):
    """Open the sidebar's "Advanced" expander, as a click does: its controls are drawn only while it is open."""
    at.session_state["w_advanced"] = True
    return at.run()


def test_deep_link_renders_the_brief_example_without_a_click():
    at = run_app(query=BRIEF)
    assert_clean(at)
    assert shown_size(at) == "torch.Size([1, 64, 16, 16])"
    assert any("formula and PyTorch agree" in m.value for m in at.markdown)
    assert "nn.Conv2d(in_channels=3, out_channels=64, kernel_size=3, stride=2, padding=1)" in shown_code(at)[0]
    assert html_metrics(at)["Parameters"] == "1,792"


SLIDERS = [("w_in_channels", 6, "input", "6x32x32"), ("w_input_size", 20, "input", "3x20x20"),
           ("w_out_channels", 10, "filters", "10"), ("w_kernel_size", 5, "kernel", "5"),
           ("w_stride", 3, "stride", "3"), ("w_padding", 2, "padding", "2"), ("w_dilation", 2, "dilation", "2")]


@pytest.mark.parametrize("key, value, url_key, url_value", SLIDERS, ids=[s[0] for s in SLIDERS])
def test_each_slider_changes_result_and_url(key, value, url_key, url_value):
    at = run_app(query=BRIEF)
    if key == "w_dilation":
        open_advanced(at)
    at.slider(key=key).set_value(value).run()
    assert_clean(at)
    assert at.query_params[url_key] == url_value
    assert shown_size(at) == expected_size(at)


def test_advanced_controls_change_result_and_url():
    at = run_app(query={"input": "4x9x9", "filters": "8", "kernel": "3", "padding": "1"})
    assert [box.key for box in at.selectbox] == ["w_preset"] and not at.radio, "a closed Advanced draws no controls"
    open_advanced(at)
    at.selectbox(key="w_groups").set_value(2).run()
    assert at.query_params["groups"] == "2" and shown_size(at) == expected_size(at)
    at.selectbox(key="w_padding_mode").set_value("reflect").run()
    assert at.query_params["padding_mode"] == "reflect" and shown_size(at) == expected_size(at)
    at.toggle(key="w_bias").set_value(False).run()
    assert at.query_params["bias"] == "0"
    assert html_metrics(at)["Parameters"] == f"{8 * 2 * 9:,}"
    at.radio(key="w_padding_kind").set_value("same").run()
    assert at.query_params["padding"] == "same" and shown_size(at) == "torch.Size([1, 8, 9, 9])"
    at.radio(key="w_padding_kind").set_value("valid").run()
    assert at.query_params["padding"] == "valid" and shown_size(at) == "torch.Size([1, 8, 7, 7])"
    assert_clean(at)


def test_transposed_and_output_padding():
    at = run_app(query={"input": "8x16x16", "filters": "4", "kernel": "3", "stride": "2", "padding": "1"})
    open_advanced(at)
    at.toggle(key="w_transposed").set_value(True).run()
    assert at.query_params["transposed"] == "1" and shown_size(at) == "torch.Size([1, 4, 31, 31])"
    at.slider(key="w_output_padding").set_value(1).run()
    assert at.query_params["output_padding"] == "1" and shown_size(at) == "torch.Size([1, 4, 32, 32])"
    assert "nn.ConvTranspose2d(" in shown_code(at)[0] and "output_padding=1" in shown_code(at)[0]
    assert_clean(at)


def test_non_square_toggle_gives_height_and_width_controls():
    at = run_app(query=BRIEF)
    at.toggle(key="w_non_square").set_value(True).run()
    at.slider(key="w_kernel_size_w").set_value(5).run()
    at.slider(key="w_input_size_h").set_value(40).run()
    at.slider(key="w_stride_w").set_value(1).run()
    at.slider(key="w_padding_h").set_value(0).run()
    assert at.query_params["kernel"] == "3x5" and at.query_params["input"] == "3x40x32"
    assert at.query_params["stride"] == "2x1" and at.query_params["padding"] == "0x1"
    assert shown_size(at) == expected_size(at) == "torch.Size([1, 64, 19, 30])"
    open_advanced(at)
    at.slider(key="w_dilation_h").set_value(2).run()
    assert at.query_params["dilation"] == "2x1" and shown_size(at) == expected_size(at)


@pytest.mark.parametrize("preset", PRESETS, ids=[p.name for p in PRESETS])
def test_each_preset(preset):
    at = run_app()
    at.selectbox(key="w_preset").set_value(preset.name).run()
    assert_clean(at)
    spec = preset.config.spec()
    assert shown_size(at) == f"torch.Size({list(spec.output_shape(preset.config.input_shape()))})"
    assert parse_query(dict(at.query_params))[0] == preset.config
    assert at.slider(key="w_out_channels").value == preset.config.out_channels


def test_url_round_trip_moves_controls():
    query = {"input": "5x11x13", "filters": "7", "kernel": "3x2", "stride": "2", "padding": "1x0", "dilation": "2",
             "padding_mode": "replicate", "bias": "0"}
    at = run_app(query=query)
    assert at.toggle(key="w_non_square").value is True
    assert at.slider(key="w_kernel_size_h").value == 3 and at.slider(key="w_kernel_size_w").value == 2
    assert at.selectbox(key="w_padding_mode").value == "replicate" and at.toggle(key="w_bias").value is False
    assert dict(at.query_params) == query
    assert shown_size(at) == expected_size(at)


def test_advanced_stays_open_while_the_layer_uses_it_and_is_not_drawn_when_closed():
    at = run_app(query={"input": "3x32x32", "kernel": "3", "dilation": "2"})
    assert at.slider(key="w_dilation").value == 2  # the link uses an Advanced row: open
    at.session_state["w_advanced"] = False
    at.run()
    assert at.slider(key="w_dilation").value == 2  # still used: it stays open, the same page on every run
    at.slider(key="w_dilation").set_value(1).run()
    at.session_state["w_advanced"] = False
    at.run()
    assert [box.key for box in at.selectbox] == ["w_preset"] and not at.radio  # closed: its controls are not drawn
    at.slider(key="w_out_channels").set_value(10).run()
    assert "dilation" not in at.query_params and shown_size(at) == expected_size(at) == "torch.Size([1, 10, 30, 30])"
    open_advanced(at)
    assert at.slider(key="w_dilation").value == 1 and at.toggle(key="w_bias").value is True


@pytest.mark.parametrize("query, words", [
    ({"kernel": "banana"}, "kernel='banana'"),
    ({"filters": "-5"}, "filters=-5"),
    ({"stride": "99"}, "stride=99"),
    ({"input": "3x100000x2"}, "input=3x100000x2"),
    ({"padding": "%00"}, "padding="),
    ({"zzz": "1"}, "unknown setting 'zzz'"),
    ({"transposed": "perhaps"}, "transposed='perhaps'"),
])
def test_malformed_url_values_show_a_notice_and_a_result(query, words):
    at = run_app(query=query)
    assert_clean(at)
    assert any(words in w.value for w in at.warning), [w.value for w in at.warning]
    assert shown_size(at) is not None or at.error


@pytest.mark.parametrize("query, param", [
    ({"input": "3x2x2", "kernel": "3"}, "kernel_size"),
    ({"input": "3x8x8", "kernel": "3", "stride": "2", "padding": "same"}, "padding"),
    ({"input": "3x4x4", "kernel": "3", "padding": "4", "padding_mode": "reflect"}, "padding"),
    ({"input": "3x8x8", "filters": "4", "groups": "2"}, "groups"),
    ({"input": "3x8x8", "transposed": "1", "stride": "1", "output_padding": "2"}, "output_padding"),
    ({"input": "3x8x8", "transposed": "1", "padding_mode": "circular"}, "padding_mode"),
    ({"input": "64x128x128", "filters": "256", "kernel": "15", "padding": "7"}, "out_channels"),
])
def test_impossible_configurations_show_the_message_and_keep_the_page(query, param):
    at = run_app(query=query)
    assert_clean(at)
    assert any(f"`{param}`" in e.value and "Fix:" in e.value for e in at.error), [e.value for e in at.error]
    assert at.slider(key="w_kernel_size").value >= 1  # the controls are still there
    config, _ = parse_query(query)
    if param != "out_channels":
        with pytest.raises(ConvConfigError):
            config.spec().output_shape(config.input_shape())


def test_projector_mode_enlarges_and_hides_detail():
    at = run_app(query={**BRIEF, "present": "1"})
    assert_clean(at)
    assert at.toggle(key="w_flag_present").value is True
    assert any(r"H_{out} = W_{out}" in block for block in shown_latex(at))  # the same numbers worked out once
    assert any("## `torch.Size([1, 64, 16, 16])`" in m.value for m in at.markdown)
    assert not html_metrics(at)
    at.toggle(key="w_flag_present").set_value(False).run()
    assert "present" not in at.query_params and html_metrics(at)


def test_predict_first_hides_answer_until_checked():
    at = run_app(query={**BRIEF, "predict": "1"})
    assert shown_size(at) is None
    at.number_input(key="w_guess_C_out").set_value(64)
    at.number_input(key="w_guess_H_out").set_value(15)
    at.number_input(key="w_guess_W_out").set_value(16)
    at.button[0].click().run()
    assert any("H_out: you said 15, it is 16" in e.value for e in at.error)
    assert shown_size(at) == "torch.Size([1, 64, 16, 16])"
    at.slider(key="w_filters" if False else "w_out_channels").set_value(32).run()
    assert shown_size(at) is None  # a new configuration hides the answer again


def test_share_link_carries_the_configuration():
    at = run_app(query=BRIEF)
    link = [c for c in shown_code(at) if "input=" in c][-1]
    assert link.endswith("?input=3x32x32&filters=64&kernel=3&stride=2&padding=1")


@pytest.mark.parametrize("flags", [{"predict": "1"}, {"present": "1"}, {"present": "1", "predict": "1"}])
def test_share_link_keeps_the_mode_flags(flags):
    at = run_app(query={**BRIEF, **flags})
    link = [c for c in shown_code(at) if "input=" in c][-1]
    shared = dict(parse_qsl(urlsplit(link).query))
    assert all(shared.get(key) == value for key, value in flags.items()), link  # a predict link must not leak
