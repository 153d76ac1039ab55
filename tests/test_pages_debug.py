"""AppTest: the planner page's "Paste your model" and "Explain a torch error" boxes."""

from __future__ import annotations

from collections import OrderedDict

import pytest
from torch import nn

from conftest import run_app

PAGE = "pages/network.py"


def _flow(at):
    flow = next(d for d in at.dataframe if d.editing_mode == "read_only").value
    flow.index = [int(label) if label.isdigit() else label for label in flow.index]  # "4", and "4 +" for a merge
    return flow


def _paste(at, text: str, shape: str = "1, 3, 32, 32"):
    at.text_area(key="w_net_paste").input(text)
    at.text_input(key="w_net_paste_shape").input(shape)
    at.button(key="w_net_paste_check").click().run()
    assert not at.exception, at.exception
    return at


def test_the_sample_loads_into_the_planner_with_the_break_and_the_fix():
    at = run_app(PAGE)
    at.button(key="w_net_paste_sample").click().run()
    assert not at.exception
    verdict = at.error[0].value
    assert "**classifier.0 (Linear) breaks**" in verdict and "Linear(in_features=400, …)" in verdict
    assert "mat1 and mat2 shapes cannot be multiplied (1x400 and 256x120)" in verdict
    flow = _flow(at)
    assert flow.loc[8, "module"] == "classifier.0" and flow.loc[8, "status"] == "broken"
    assert flow.loc[7, "output (formula)"] == "(1, 400)" == flow.loc[7, "output (torch)"]
    assert "Layer 8 (Linear) breaks" in at.error[1].value
    assert at.query_params["net"].startswith("I1x32x32-C6i1k5x5-R-M2s2-C16i6k5x5")
    code = at.code[-1].value
    assert "nn.Linear(in_features=256, out_features=120)," in code and "torch fails here" in code


def test_a_working_pasted_model_loads_and_every_layer_agrees_with_torch():
    model = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 8, 3, padding=1), act=nn.GELU(), pool=nn.MaxPool2d(2),
                                      flat=nn.Flatten(), fc=nn.Linear(8 * 16 * 16, 10)))
    at = _paste(run_app(PAGE), repr(model))
    assert "**Every layer works**: the output is (1, 10)" in at.success[0].value
    flow = _flow(at)
    assert list(flow["module"]) == ["conv", "act", "pool", "flat", "fc"] and set(flow["agree"]) == {"✓"}
    assert flow.loc[2, "layer"] == "ReLU"  # the planner's stand-in for GELU, said so in a note
    assert any("no row for GELU" in c.value for c in at.caption)


@pytest.mark.parametrize("text, words", [
    ("__import__('os').system('echo hi')", "more text after"),
    ("Sequential(\n  (0): Conv2d(3, 64, kernel_size=(3, 3)", "is missing"),
    ("Séquentiel()", "expected '('"),
    ("(" * 5000, "expected a module"),
])
def test_hostile_pastes_are_plain_messages_and_leave_the_planner_alone(text, words):
    at = run_app(PAGE)
    before = at.query_params["net"]
    at = _paste(at, text)
    assert words in at.error[0].value and "This cannot be checked" in at.error[0].value
    assert at.query_params["net"] == before


def test_a_bad_input_shape_is_a_plain_message():
    at = _paste(run_app(PAGE), repr(nn.Sequential(nn.ReLU())), shape="one, two")
    assert "is not an input shape" in at.error[0].value


def test_a_torch_error_is_explained_and_points_at_the_pasted_layer():
    at = run_app(PAGE)
    at.button(key="w_net_paste_sample").click().run()
    at.text_area(key="w_net_torch_error").input(
        "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x400 and 256x120)").run()
    assert not at.exception
    explained = at.info[-1].value
    assert "`Linear(in_features=400, …)`" in explained and "**classifier.0 (Linear)**" in explained
    at.text_area(key="w_net_torch_error").input("KeyError: 'weight'").run()
    assert "not one of the shape errors" in at.info[-1].value
