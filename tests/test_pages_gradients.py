"""AppTest of /gradients: the real app, its controls, deep links, hostile links and impossible layers."""

from __future__ import annotations

import pytest

from conftest import run_app

PAGE = "pages/gradients.py"
SMALL = {"input": "2x5x5", "filters": "2", "kernel": "3", "stride": "2", "padding": "1"}


def _text(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [i.value for i in at.info]
    parts += [s.value for s in at.success] + [w.value for w in at.warning] + [e.value for e in at.error]
    parts += [c.value for c in at.code] + [h.value for h in at.subheader]
    return "\n".join(str(p) for p in parts)


def _ok(at) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_strided_layer_shows_shapes_check_formulas_sweep_and_matrix_link():
    at = run_app(PAGE, SMALL)
    _ok(at)
    text = _text(at)
    assert "x.grad.shape  →  torch.Size([1, 2, 5, 5])" in text
    assert "layer.weight.grad.shape  →  torch.Size([2, 2, 3, 3])" in text
    assert "layer.bias.grad.shape  →  torch.Size([2])" in text
    assert "✓ The explicit computation equals loss.backward()" in text and "largest difference 0" in text
    assert len(at.latex) == 3 and "flip" in at.latex[0].value
    assert "49 steps → x.grad (padded) 7×7" in text  # 5 + 2·1 padding
    assert "Zero padding holds no input cell" in text
    assert "(matrix?input=2x5x5" in text
    assert len(at.get("iframe")) == 1


def test_controls_switch_to_the_weight_sweep_and_write_the_url():
    at = run_app(PAGE, SMALL)
    at.radio(key="w_grad_which").set_value("weight").run()
    _ok(at)
    assert "9 steps → weight.grad 3×3" in _text(at)
    assert at.query_params["grad"] in ("weight", ["weight"])
    at.number_input(key="w_grad_channel").set_value(1).run()
    at.selectbox(key="w_grad_filter").set_value(1).run()
    _ok(at)
    assert at.query_params["filter"] in ("1", ["1"]) and at.query_params["channel"] in ("1", ["1"])


def test_transposed_deep_link_shows_the_direct_conv_and_the_overlap_map():
    at = run_app(PAGE, {**SMALL, "transposed": "1", "output_padding": "1"})
    _ok(at)
    text = _text(at)
    assert "x.grad.shape  →  torch.Size([1, 2, 5, 5])" in text and "torch.Size([2, 2, 3, 3])" in text
    assert "direct convolution of g" in text and "Overlap map" in text and "✓" in text
    assert len(at.get("imgs")) == 1 or len(at.get("image")) == 1


@pytest.mark.parametrize("query", [
    {**SMALL, "padding_mode": "reflect"},
    {**SMALL, "padding_mode": "circular", "stride": "1", "kernel": "2x3"},
    {"input": "2x40", "filters": "3", "kernel": "5", "padding": "causal", "dilation": "2"},
    {"input": "1x4x5x5", "filters": "2", "kernel": "3", "padding": "1"},
    {**SMALL, "groups": "2", "grad": "weight", "channel": "1", "filter": "1"},
])
def test_every_mode_and_dimension_agrees_with_autograd(query):
    at = run_app(PAGE, query)
    _ok(at)
    assert "✓ The explicit computation equals loss.backward()" in _text(at)


def test_reflect_padding_explains_the_scatter():
    at = run_app(PAGE, {**SMALL, "padding_mode": "reflect"})
    assert "reflect padding copied input cells into the padding" in _text(at) and "rows: 0→1, 6→3" in _text(at)


def test_hostile_links_fall_back_with_notices():
    at = run_app(PAGE, {**SMALL, "grad": "<script>", "channel": "-4", "filter": "99999", "kernel": "x"})
    _ok(at)
    text = _text(at)
    assert "✓" in text and "grad=" in text
    assert at.session_state["w_grad_filter"] in (0, 1)


def test_impossible_and_too_large_layers_are_plain_messages():
    at = run_app(PAGE, {"input": "3x4x4", "filters": "8", "kernel": "9"})
    _ok(at)
    assert at.error and "kernel" in _text(at).lower()
    at = run_app(PAGE, {"input": "64x512x512", "filters": "256", "kernel": "7", "padding": "3"})
    _ok(at)
    assert at.error and "cap" in _text(at)
    # float64 unfolds every window: this layer passed a float32 cost model and took 3.6 s of CPU (issue 17)
    at = run_app(PAGE, {"input": "3x269x269", "filters": "8", "kernel": "15", "padding": "7"})
    _ok(at)
    assert at.error and "cap" in _text(at) and "e.g. input 3×" in _text(at)
    assert "x.grad" not in _text(at)  # refused before anything ran
    at = run_app(PAGE, {"input": "1x80x80", "filters": "1", "kernel": "3", "grad": "weight"})
    _ok(at)
    assert "up to 64 cells a side" in _text(at) and "✓" in _text(at)
