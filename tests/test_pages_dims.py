"""AppTest on the real app: the Shape Lab and the sidebar in 1-D and 3-D (issue 13)."""

from __future__ import annotations

import pytest
from test_pages_shape_lab import assert_clean, expected_size, shown_size

from conv_lab.lab.presets import PRESETS

from conftest import html_metrics, run_app, shown_code, shown_latex

ONE_D = {"input": "32x1000", "filters": "32", "kernel": "2", "dilation": "8", "padding": "causal"}
THREE_D = {"input": "3x16x112x112", "filters": "64", "kernel": "3", "padding": "1"}


def test_a_1d_causal_link_shows_conv1d_its_left_padding_and_the_real_size():
    at = run_app(query=ONE_D)
    assert_clean(at)
    assert shown_size(at) == "torch.Size([1, 32, 1000])" == expected_size(at)
    code = shown_code(at)[0]
    assert "nn.Conv1d(in_channels=32, out_channels=32, kernel_size=2, stride=1, padding=0, dilation=8)" in code
    assert "x = F.pad(x, (8, 0))" in code
    assert any(r"L_{out}" in latex for latex in shown_latex(at))
    assert any("causal: 8 = d·(k−1) zeros on the left only" in m.value for m in at.markdown)
    assert at.segmented_control(key="w_dims").value == "1-D"
    assert at.number_input(key="w_input_size").value == 1000
    assert at.slider(key="w_dilation").value == 8 and at.radio(key="w_padding_kind").value == "causal"  # Advanced open
    assert html_metrics(at)["Receptive field"] == "9"


def test_a_3d_link_shows_conv3d_and_the_formula_per_dimension():
    at = run_app(query=THREE_D)
    assert_clean(at)
    assert shown_size(at) == "torch.Size([1, 64, 16, 112, 112])" == expected_size(at)
    assert "nn.Conv3d(" in shown_code(at)[0]
    symbols = "".join(shown_latex(at))
    assert r"D_{out}" in symbols and r"H_{out}" in symbols and r"W_{out}" in symbols
    assert html_metrics(at)["Parameters"] == f"{3 * 64 * 27 + 64:,}"
    assert at.segmented_control(key="w_dims").value == "3-D"
    # Dilation (1, 1, 1) is 3-D's default: "Advanced" stays closed and draws none of its controls.
    assert [box.key for box in at.selectbox] == ["w_preset"] and not at.radio


def test_the_dimension_control_converts_the_layer_and_the_link():
    at = run_app(query={"input": "3x32x32", "filters": "8", "kernel": "5", "stride": "2"})
    at.segmented_control(key="w_dims").set_value("1-D").run()
    assert_clean(at)
    assert at.query_params["input"] == "3x32" and at.query_params["kernel"] == "5"
    assert shown_size(at) == expected_size(at) == "torch.Size([1, 8, 14])"
    at.segmented_control(key="w_dims").set_value("3-D").run()
    assert_clean(at)
    assert at.query_params["input"] == "3x8x32x32"
    assert shown_size(at) == expected_size(at) == "torch.Size([1, 8, 2, 14, 14])"
    at.slider(key="w_kernel_size").set_value(3).run()
    assert at.query_params["kernel"] == "3" and shown_size(at) == expected_size(at)


def test_per_dimension_sliders_in_3d_write_every_dimension():
    at = run_app(query={**THREE_D, "kernel": "3x5x5", "input": "3x8x32x32"})
    assert_clean(at)
    at.slider(key="w_kernel_size_d").set_value(1).run()
    assert at.query_params["kernel"] == "1x5x5"
    assert shown_size(at) == expected_size(at) == "torch.Size([1, 64, 10, 30, 30])"


@pytest.mark.parametrize("query, words", [
    ({"input": "3x32x32", "kernel": "3x3x5"}, "kernel=3x3x5 has 3 values but the input is 2-D"),
    ({"input": "3x32x32", "padding": "causal"}, "causal padding is for 1-D sequences"),
    ({"input": "1x4", "kernel": "9"}, "kernel_size"),
    ({"input": "3x1x2x3x4x5"}, "is not a size like"),
])
def test_wrong_rank_and_impossible_links_show_a_notice(query, words):
    at = run_app(query=query)
    assert_clean(at)
    texts = [w.value for w in at.warning] + [e.value for e in at.error] + [i.value for i in at.info]
    texts += [m.value for m in at.markdown]
    assert any(words in t for t in texts), texts


def test_predict_first_asks_one_number_per_dimension():
    at = run_app(query={**ONE_D, "predict": "1"})
    assert_clean(at)
    labels = [n.label for n in at.number_input if n.key and n.key.startswith("w_guess_")]
    assert labels == ["C_out", "L_out"]
    at.number_input(key="w_guess_C_out").set_value(32)
    at.number_input(key="w_guess_L_out").set_value(1008)  # 1000 + 2·8 − 8 − 1 + 1
    at.button[0].click().run()
    assert any("padded both sides" in e.value for e in at.error), [e.value for e in at.error]


@pytest.mark.parametrize("preset", [p for p in PRESETS if p.config.dims != 2], ids=lambda p: p.name)
def test_1d_and_3d_presets_give_torch_sizes(preset):
    at = run_app(query={})
    at.selectbox(key="w_preset").set_value(preset.name).run()
    assert_clean(at)
    config = preset.config
    assert shown_size(at) == f"torch.Size({list(config.spec().output_shape(config.input_shape()))})"
    assert at.query_params["input"].count("x") == config.dims


@pytest.mark.parametrize("query, sizes", [
    ({"input": "3x5x5", "kernel": "7"}, ("-1", "-1")),
    ({"input": "1x4", "kernel": "9"}, ("-4",)),
])
def test_an_impossible_layer_keeps_the_formula_and_shows_the_kernel_sticking_out(query, sizes):
    at = run_app(query=query)
    assert_clean(at)
    assert any("cannot run" in e.value for e in at.error)
    latex = [block.value for block in at.latex]
    assert len(latex) == len(sizes) and all(f"= {size}\\end{{aligned}}" in latex[i] for i, size in enumerate(sizes)), latex
    captions = [image.proto.imgs[0].caption for image in at.get("image")]
    assert any("kernel spans" in caption for caption in captions), captions
