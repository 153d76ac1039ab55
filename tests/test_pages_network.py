"""AppTest: the network planner page driven through its real controls (editors, presets, inputs, URL)."""

from __future__ import annotations

import pytest

from conv_lab.network.codec import decode_network, decode_skips
from conv_lab.network.dims import input_fields
from conv_lab.network.plan import parse_rows
from conv_lab.network.presets import C3D_NAME, PRESET_BY_NAME, PRESETS, WAVENET_NAME

from conftest import run_app

PAGE = "pages/network.py"
UNET = "Small U-Net (1×572×572)"


def _metrics(at) -> dict:
    return {m.label: m.value for m in at.metric}


def _input(at) -> tuple:
    """The input shape the number fields show, for the dimension the control shows."""
    dims = {"1": 1, "2": 2, "3": 3}[at.session_state["w_net_dims"][0]]
    return tuple(at.number_input(key=f"w_net_{name}").value for name, _, _ in input_fields(dims))


def _flow(at):
    flow = next(d for d in at.dataframe if d.editing_mode == "read_only").value
    flow.index = [int(label) if label.isdigit() else label for label in flow.index]  # "4", and "4 +" for a merge
    return flow


def _edit(at, editor: str, edited=None, added=None, deleted=None):
    """Seed a keyed data_editor's edit state (what a user's cell edits produce) and rerun."""
    version = at.session_state["net_version"]
    at.session_state[f"w_net_{editor}_{version}"] = {"edited_rows": edited or {}, "added_rows": added or [],
                                                      "deleted_rows": deleted or []}
    at.run()
    assert not at.exception, at.exception
    return at


def test_default_is_lenet_with_torch_beside_the_formula():
    at = run_app(PAGE)
    assert not at.exception
    assert _metrics(at)["Output"] == "(1, 10)" and _metrics(at)["Parameters"] == "61,706"
    flow = _flow(at)
    assert len(flow) == 12 and set(flow["agree"]) == {"✓"}
    assert flow.loc[6, "output (torch)"] == "(1, 16, 5, 5)" and flow.loc[6, "output (formula)"] == "(1, 16, 5, 5)"
    assert at.query_params["net"] == "I1x32x32-C6k5-R-A2-C16k5-R-A2-F-L120-R-L84-R-L10"
    code = at.code[-1].value
    assert "nn.Sequential(" in code and "# 6: (1, 16, 10, 10) -> (1, 16, 5, 5)" in code
    assert at.get("download_button")


def test_editing_a_cell_updates_shapes_and_url():
    at = run_app(PAGE)
    _edit(at, "layers", edited={0: {"arguments": "out_channels=8, kernel_size=3, padding=1"}})
    flow = _flow(at)
    assert flow.loc[1, "output (formula)"] == "(1, 8, 32, 32)" == flow.loc[1, "output (torch)"]
    assert flow.loc[7, "output (formula)"] == "(1, 576)"  # 32 kept, pooled to 16, 5×5 conv → 12, pooled → 16×6×6
    assert at.query_params["net"].startswith("I1x32x32-C8k3p1-R")
    _edit(at, "layers", added=[{"layer": "Dropout", "arguments": "p=0.25"}], deleted=[11])
    assert _flow(at)["layer"].tolist()[-1] == "Dropout" and at.query_params["net"].endswith("-R-L84-R-D0.25")


def test_bad_cells_show_a_message_on_their_row_and_grey_the_rest():
    at = run_app(PAGE)
    _edit(at, "layers", edited={3: {"arguments": "out_channels=16, kernel_size=-5"}})
    flow = _flow(at)
    assert flow.loc[4, "status"] == "broken" and "kernel_size -5 is below 1" in flow.loc[4, "message"]
    assert (flow.loc[5:, "status"] == "not reached").all()
    assert any("Layer 4 (Conv2d) breaks" in e.value and "kernel_size" in e.value for e in at.error)
    _edit(at, "layers", edited={3: {"arguments": "out_chanels=16, kernel_size=5"}})
    assert "did you mean out_channels" in _flow(at).loc[4, "message"]


def test_unknown_layer_and_hostile_links_become_messages():
    at = run_app(PAGE, query={"net": "I1x16x16-C4k3-Z9-R", "skip": "c1.2-zz"})
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "'Z' is not a layer code" in warnings and "'zz' is not like c9.15x" in warnings
    flow = _flow(at)
    assert flow.loc[2, "status"] == "broken" and "'Z9' is not a layer the planner knows" in flow.loc[2, "message"]
    at = run_app(PAGE, query={"net": "C" * 5000})
    assert not at.exception and any("characters long" in w.value for w in at.warning)
    at = run_app(PAGE, query={"net": "I3x9999x9999-" + "-".join(["R"] * 80)})
    assert not at.exception
    assert (at.number_input(key="w_net_height").value, at.number_input(key="w_net_width").value) == (1024, 1024)
    assert any("only the first 64" in w.value for w in at.warning)


@pytest.mark.parametrize("preset", PRESETS, ids=lambda p: p.name)
def test_presets(preset):
    at = run_app(PAGE)
    at.selectbox(key="w_net_preset").set_value(preset.name).run()
    assert not at.exception
    expected = {"LeNet-5 (1×32×32)": "(1, 10)", "VGG block (3×224×224)": "(1, 64, 112, 112)",
                "ResNet-18 stem + basic block (3×224×224)": "(1, 64, 56, 56)", UNET: "(1, 2, 532, 532)",
                "Autoencoder with transposed convs (1×28×28)": "(1, 1, 28, 28)",
                "LeNet-5 on 28×28 MNIST (breaks)": "✗ layer 8", WAVENET_NAME: "(1, 256, 16000)",
                C3D_NAME: "(1, 101)"}[preset.name]
    assert _metrics(at)["Output"] == expected
    assert _input(at) == preset.input_shape
    net = at.query_params["net"]
    assert decode_network(net)[0] == preset.input_shape and parse_rows(decode_network(net)[1]) == parse_rows(preset.rows)
    if preset.name.startswith("ResNet"):
        assert _flow(at).loc[4, "output (torch)"] == "(1, 64, 56, 56)"
        assert any("add point 4 → point 9" in s.value and "fits" in s.value for s in at.success)
    if "breaks" in preset.name:
        assert any("set in_features=256" in e.value for e in at.error)


def test_skip_checks_say_how_much_and_how_to_fix():
    at = run_app(PAGE)
    at.selectbox(key="w_net_preset").set_value(UNET).run()
    texts = [s.value for s in at.success]
    assert any("cat point 9 → point 15 (crop)" in t and "by 4 top, 4 bottom" in t for t in texts)
    assert any("by 16 top" in t for t in texts)
    _edit(at, "skips", edited={0: {"crop": False}})  # untick the crop: the concatenation no longer fits
    assert _metrics(at)["Output"] == "✗ layer 15"
    error = next(e.value for e in at.error if e.value.startswith("**cat point 9"))
    assert "8 rows and 8 columns larger" in error and "tick crop" in error and "padding=1 on Conv2d layers 11, 13" in error
    assert at.query_params["skip"] == "c9.15-c4.20x"
    _edit(at, "skips", added=[{"mode": "add", "from": 30, "to": 2, "crop": False}])
    assert any("is ignored" in w.value for w in at.warning)


def test_url_round_trip_reproduces_the_stack():
    at = run_app(PAGE)
    at.selectbox(key="w_net_preset").set_value(UNET).run()
    _edit(at, "layers", edited={24: {"arguments": "out_channels=3, kernel_size=1"}})
    net, skip = at.query_params["net"], at.query_params["skip"]
    again = run_app(PAGE, query={"net": net, "skip": skip})
    assert not again.exception and not again.warning
    assert _metrics(again)["Output"] == "(1, 3, 532, 532)"
    assert _flow(again).drop(columns=["agree"]).equals(_flow(at).drop(columns=["agree"]))
    assert decode_skips(skip)[0] == list(PRESET_BY_NAME[UNET].skips)


def test_input_shape_controls():
    at = run_app(PAGE)
    at.number_input(key="w_net_height").set_value(28).run()
    at.number_input(key="w_net_width").set_value(28).run()
    flow = _flow(at)
    assert flow.loc[7, "output (formula)"] == "(1, 256)" and _metrics(at)["Output"] == "(1, 10)"
    assert at.query_params["net"].startswith("I1x28x28-")
    at.number_input(key="w_net_batch").set_value(4).run()
    assert _metrics(at)["Output"] == "(4, 10)" and at.query_params["net"].startswith("I1x28x28n4-")


def test_a_shared_link_to_a_preset_shows_its_name():
    from conv_lab.network.codec import encode_network, encode_skips
    from conv_lab.network.plan import parse_rows
    from conv_lab.network.presets import PRESETS

    for preset in PRESETS:
        query = {"net": encode_network(preset.input_shape, parse_rows(preset.rows))}
        if preset.skips:
            query["skip"] = encode_skips(preset.skips)
        at = run_app(page="pages/network.py", query=query)
        assert not at.exception
        assert at.selectbox(key="w_net_preset").value == preset.name


def test_wavenet_preset_keeps_the_length_and_grows_the_receptive_field():
    at = run_app(PAGE)
    at.selectbox(key="w_net_preset").set_value(WAVENET_NAME).run()
    assert not at.exception and at.session_state["w_net_dims"].startswith("1-D")
    flow = _flow(at)
    assert set(flow["agree"]) == {"✓"} and (flow["status"] == "ok").all()
    assert flow.loc[8, "output (torch)"] == "(1, 32, 16000)" and flow.loc[8, "receptive field"] == "17"
    assert "causal: 8 = d·(k−1) zeros on the left only" in flow.loc[8, "message"]
    assert sum("fits" in s.value for s in at.success) == 4  # the four residual adds
    code = at.code[-1].value
    assert "nn.Sequential(nn.ConstantPad1d((8, 0), 0.0), nn.Conv1d(in_channels=32, out_channels=32, kernel_size=2, " \
           "dilation=8))," in code
    assert at.query_params["net"].startswith("I1x16000-1C32k2pC-") and at.query_params["skip"] == "a1.3-a3.5-a5.7-a7.9"


def test_c3d_preset_and_a_broken_3d_edit():
    at = run_app(PAGE)
    at.selectbox(key="w_net_preset").set_value(C3D_NAME).run()
    flow = _flow(at)
    assert flow.loc[4, "output (torch)"] == "(1, 32, 16, 56, 56)" == flow.loc[4, "output (formula)"]
    assert flow.loc[16, "output (formula)"] == "(1, 256, 1, 1, 1)" and _metrics(at)["Output"] == "(1, 101)"
    # a 7×7×7 kernel on the 4×14×14 map after three pools: larger than the input
    _edit(at, "layers", edited={12: {"arguments": "out_channels=256, kernel_size=7"}})
    assert _metrics(at)["Output"] == "✗ layer 13"
    error = next(e.value for e in at.error if "Layer 13 (Conv3d) breaks" in e.value)
    assert "7×7×7 kernel is larger than the 4×14×14 padded input" in error and "padding" in error
    assert "torch fails at layer 13 too" in " ".join(c.value for c in at.caption)


@pytest.mark.parametrize("net, shape, output", [
    ("I1x16000-1C32k80s4-R-1M4-1C32k3-R-1M4-1G1-F-L10", (1, 1, 16000), "(1, 10)"),
    ("I32x1000n2-1C32k2pC-1B-R-1C32k2pCd2", (2, 32, 1000), "(2, 32, 1000)"),
    ("I3x8x32x32n2-3C8k3p1-3B-R-3M2-3X1x2x2-F-1B-L5", (2, 3, 8, 32, 32), "(2, 5)"),
    ("I1x32x32-C6k5-R-A2", (1, 1, 32, 32), "(1, 6, 14, 14)"),  # a 2-D link keeps its meaning
])
def test_1d_and_3d_links_open_with_torch_beside_the_formula(net, shape, output):
    at = run_app(PAGE, query={"net": net})
    assert not at.exception and not at.warning
    assert _input(at) == shape and _metrics(at)["Output"] == output
    assert set(_flow(at)["agree"]) == {"✓"}
    assert at.query_params["net"] == net


@pytest.mark.parametrize("net, words", [
    ("I1x16000-3C8k3", "Conv3d needs a 4-D or 5-D input"),                   # wrong rank into a Conv3d
    ("I4x100-1C8k3i3", "set in_channels=4"),                                 # in_channels mismatch
    ("I3x16x16x16-3M4-3M4-3C8k3", "larger than the 1×1×1 padded input"),     # the kernel after two pools
    ("I3x16x16x16-3C8k3-2B", "use BatchNorm3d"),
    ("I3x16x16x16-3C8k3-F-L10-1C4k3", "Conv1d reads this 2-D tensor"),       # unbatched: a note; breaks later
])
def test_1d_and_3d_breaking_layers_say_why(net, words):
    at = run_app(PAGE, query={"net": net})
    assert not at.exception
    text = " ".join([*(e.value for e in at.error), *_flow(at)["message"]])
    assert words in text


@pytest.mark.parametrize("net", ["I1x2x3x4x5", "I1x99999-1C3k5", "I3x999x999x999-3C4k3", "I1x16-1R-4C3-3C8k3x3",
                                 "I1x16-1C8k3pQ", "I3x8x8x8-3C8k3pC", "I1x9-1T2k2pC", "I2x1x1x1x1n99-3B-3G0"])
def test_hostile_1d_and_3d_links_show_messages(net):
    at = run_app(PAGE, query={"net": net})
    assert not at.exception
    assert at.warning or at.error or _metrics(at)["Output"].startswith("(")


def test_switching_the_dimension_turns_the_layers():
    at = run_app(PAGE)  # LeNet, 2-D
    at.segmented_control(key="w_net_dims").set_value("1-D (N, C, L)").run()
    assert not at.exception
    assert _input(at) == (1, 1, 32)
    flow = _flow(at)
    assert flow.loc[1, "layer"] == "Conv1d" and flow.loc[3, "layer"] == "AvgPool1d"
    assert flow.loc[1, "output (torch)"] == "(1, 6, 28)" and _metrics(at)["Output"] == "(1, 10)"
    assert any("layers now 1-D: AvgPool2d → AvgPool1d, Conv2d → Conv1d" in i.value for i in at.info)
    assert at.query_params["net"].startswith("I1x32-1C6k5-R-1A2")
    at.segmented_control(key="w_net_dims").set_value("3-D (N, C, D, H, W)").run()
    assert _input(at) == (1, 1, 16, 32, 32) and _flow(at).loc[1, "layer"] == "Conv3d"
    # depth 16 → 12 → 6 → 2 → 1 beside 32 → 28 → 14 → 10 → 5: still 16·1·5·5 = 400 features for the Linear
    assert _metrics(at)["Output"] == "(1, 10)" and _flow(at).loc[7, "output (formula)"] == "(1, 400)"
