"""Network planner: stack layers, follow the shape through them, find the layer that breaks, export PyTorch code."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.network.codec import NETWORK_OPTIONS, decode_network, decode_skips, encode_network, encode_skips
from conv_lab.network.debug import debug_model, read_input_shape
from conv_lab.network.export import export_code
from conv_lab.network.flow import SKIP_MODES, Skip
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import parse_rows, plan
from conv_lab.network.presets import PRESET_BY_NAME, PRESETS, preset_for_link
from conv_lab.network.torch_errors import explain_torch_error
from conv_lab.network.torch_run import run_plan
from conv_lab.network.view import SAMPLE_MODEL, SAMPLE_SHAPE, debug_verdict, flow_table, skip_verdict
from ui import require_entry, show_config_error, show_notices, url_options, write_url_options
from ui.share import share_box

require_entry()
state = st.session_state
INPUT_KEYS = ("w_net_batch", "w_net_channels", "w_net_height", "w_net_width")


def _load(input_shape, rows, skips, notices=()) -> None:
    """Make a stack the one the tables show (new editor keys, so Streamlit drops the old edits)."""
    state["net_rows"], state["net_skips"], state["net_notices"] = list(rows), list(skips), list(notices)
    state["net_version"] = state.get("net_version", 0) + 1
    for key, value in zip(INPUT_KEYS, input_shape):
        state[key] = int(value)


def _apply_preset() -> None:
    preset = PRESET_BY_NAME.get(state.get("w_net_preset"))
    if preset:
        _load(preset.input_shape, preset.rows, preset.skips)


def _check_paste(sample: bool = False) -> None:
    """Read the pasted print(model) text (or the sample) and load the stack it follows into the planner."""
    if sample:
        state["w_net_paste"], state["w_net_paste_shape"] = SAMPLE_MODEL, SAMPLE_SHAPE
    state["net_debug"], state["net_debug_error"] = None, None
    try:
        report = debug_model(state.get("w_net_paste", ""), read_input_shape(state.get("w_net_paste_shape")))
    except ConvConfigError as exc:
        state["net_debug_error"] = exc
        return
    state["net_debug"] = report
    if len(report.input_shape) == 4 and report.rows:
        _load(report.input_shape, report.rows, [])
        state["net_names"], state["w_net_preset"] = (list(report.rows), list(report.row_names)), "—"


def _controls() -> list[str]:
    """What decides the stack (for url_options): the editors' keys change with each loaded stack."""
    version = state.get("net_version", 0)
    return ["net_rows", "w_net_preset", *INPUT_KEYS, f"w_net_layers_{version}", f"w_net_skips_{version}"]


url = url_options("network", option_keys(NETWORK_OPTIONS), _controls(), keep_when_absent=True)
if url is not None and "net" in url:  # a link or the back button
    shape, rows, notices = decode_network(url["net"])
    skips, skip_notices = decode_skips(url.get("skip"))
    _load(shape, rows, skips, notices + skip_notices)
    state["w_net_preset"] = preset_for_link(url["net"], url.get("skip"))
elif "net_rows" not in state:  # first visit: the first preset
    first = PRESETS[0]
    _load(first.input_shape, first.rows, first.skips)
    state["w_net_preset"] = first.name

st.title("Network planner")
st.caption("Stack layers with PyTorch's own argument names and follow the shape through them. The formula gives each "
           "layer's output; the real `nn.Sequential` runs on a zero tensor (on torch's meta device: no memory) beside it. "
           "The first layer that breaks is flagged with the fix; the layers after it are greyed out.")

top = st.columns([3, 1, 1, 1, 1])
top[0].selectbox("Preset", ["—"] + [p.name for p in PRESETS], key="w_net_preset", on_change=_apply_preset,
                 help="Classic stacks, each named for what it teaches")
caps = (limits.MAX_BATCH, limits.MAX_CHANNELS, limits.MAX_SPATIAL, limits.MAX_SPATIAL)
input_shape = tuple(int(col.number_input(label, 1, cap, key=key)) for col, label, cap, key in
                    zip(top[1:], ("Batch N", "Channels C", "Height H", "Width W"), caps, INPUT_KEYS))
chosen = PRESET_BY_NAME.get(state.get("w_net_preset"))
if chosen:
    st.caption(f"**{chosen.name}** — {chosen.teaches}")
show_notices(state.get("net_notices", []))

state.setdefault("w_net_paste_shape", "1, 3, 32, 32")
with st.expander("Paste your model: what print(model) shows", expanded="net_debug" in state):
    st.text_area("print(model)", key="w_net_paste", height=220, placeholder="Sequential(\n  (0): Conv2d(3, 16, …)\n…",
                 help="Conv Lab reads the text (it never runs it) and follows the input shape through it")
    paste = st.columns([2, 1, 1], vertical_alignment="bottom")
    paste[0].text_input("Input shape (N, C, H, W)", key="w_net_paste_shape")
    paste[1].button("Check my model", key="w_net_paste_check", on_click=_check_paste, type="primary")
    paste[2].button("Try a sample", key="w_net_paste_sample", on_click=_check_paste, args=(True,),
                    help="a LeNet whose classifier was sized for 28×28 MNIST, fed 32×32")
    if state.get("net_debug_error"):
        bad = state["net_debug_error"]
        st.error(f"**This cannot be checked — {bad.param}**: {bad.why}.  \n**Fix:** {bad.fix}", icon=":material/block:")
    if state.get("net_debug"):
        level, text = debug_verdict(state["net_debug"])
        getattr(st, level)(text)
        st.caption("  \n".join(state["net_debug"].notes))
with st.expander("Explain a torch error"):
    pasted_error = st.text_area("RuntimeError", key="w_net_torch_error", height=100,
                                placeholder="RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x2304 and 1024x10)")
    if (pasted_error or "").strip():
        explained = explain_torch_error(pasted_error, state.get("net_debug"))
        st.info(explained or "This is not one of the shape errors Conv Lab knows (mat1 and mat2, channels, kernel "
                "size, pooling output, cat and add sizes, BatchNorm, LayerNorm).", icon=":material/lightbulb:")

version = state["net_version"]
st.subheader("Layers")
st.caption("Pick a layer and write its arguments as in PyTorch, e.g. `out_channels=16, kernel_size=3, padding=1`. "
           "Leave out in_channels / num_features / in_features: the planner takes them from the incoming tensor.")
layer_options = list(LAYER_KINDS) + sorted({r[0] for r in state["net_rows"] if r[0] and r[0] not in LAYER_KINDS})
edited = st.data_editor(
    pd.DataFrame(state["net_rows"], columns=["layer", "arguments"], index=range(1, len(state["net_rows"]) + 1)),
    key=f"w_net_layers_{version}", num_rows="dynamic", width="stretch",
    height=min(35 * (len(state["net_rows"]) + 2) + 3, 800),
    column_config={"layer": st.column_config.SelectboxColumn("layer", options=layer_options, width="medium"),
                   "arguments": st.column_config.TextColumn("arguments", width="large",
                                                            max_chars=300)})
rows = [(r.layer if isinstance(r.layer, str) else "", r.arguments if isinstance(r.arguments, str) else "")
        for r in edited.itertuples()]

with st.expander("Skip connections (concatenate or add two points)", expanded=bool(state["net_skips"])):
    st.caption("Point 0 is the input, point i the output of layer i. After layer **to**, the tensor at point **from** "
               "is concatenated along channels (`cat`, U-Net) or added (`add`, ResNet); **crop** centre-crops it first.")
    skip_df = pd.DataFrame([(s.mode, s.source, s.target, s.crop) for s in state["net_skips"]],
                           columns=["mode", "from", "to", "crop"])
    edited_skips = st.data_editor(
        skip_df, key=f"w_net_skips_{version}", num_rows="dynamic", hide_index=True,
        column_config={"mode": st.column_config.SelectboxColumn("mode", options=list(SKIP_MODES), required=True,
                                                                default="cat"),
                       "from": st.column_config.NumberColumn("from", min_value=0, max_value=limits.MAX_NETWORK_LAYERS,
                                                             step=1, default=0),
                       "to": st.column_config.NumberColumn("to", min_value=0, max_value=limits.MAX_NETWORK_LAYERS,
                                                           step=1, default=1),
                       "crop": st.column_config.CheckboxColumn("crop", default=False)})
skips = [Skip(str(s["mode"] or "cat"), int(s["from"]) if pd.notna(s["from"]) else 0,
              int(s["to"]) if pd.notna(s["to"]) else 0, bool(s["crop"]) if pd.notna(s["crop"]) else False)
         for s in edited_skips.to_dict("records")]

try:
    result = plan(input_shape, rows, skips)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()
run = run_plan(result)
for notice in result.notices:
    st.warning(notice, icon=":material/warning:")

net_value, skip_value = encode_network(input_shape, parse_rows(rows)), encode_skips(skips)
write_url_options("network", {"net": net_value, **({"skip": skip_value} if skip_value else {})}, _controls())

st.subheader("Shape flow")
metrics = st.columns(4)
metrics[0].metric("Output", str(result.output_shape) if result.ok else f"✗ layer {result.broken}")
metrics[1].metric("Parameters", f"{result.total_params:,}")
metrics[2].metric("MACs", f"{result.total_macs:,}")
metrics[3].metric("Layers", f"{len(result.rows)} / {limits.MAX_NETWORK_LAYERS}")
if result.broken:
    bad = result.rows[result.broken - 1]
    fix = f"  \n**Fix:** {bad.fix}" if bad.fix else ""
    st.error(f"**Layer {bad.index} ({bad.layer or 'no layer'}) breaks — `{bad.param}`**: {bad.message}.{fix}",
             icon=":material/block:")
if run.failed != result.broken:
    st.warning(f"The formula and torch disagree about where the stack breaks (formula: {result.broken}, torch: "
               f"{run.failed} — {run.error}). Please report this stack.", icon=":material/warning:")
elif run.failed and not result.rows[run.failed - 1].over_cap:
    st.caption(f"torch fails at layer {run.failed} too: `{run.error}`")

names = state.get("net_names", ([], []))
table = pd.DataFrame(flow_table(result, run, names[1] if names[0] == rows else None)).set_index("#") \
    if result.rows else pd.DataFrame()


def _row_style(row):
    if row["status"] == "broken":
        return ["background-color: #fde2e2; color: #8a1c1c; font-weight: 600"] * len(row)
    if row["status"] == "not reached":
        return ["color: #a0a0a0; background-color: #f4f4f4"] * len(row)
    return [""] * len(row)


if not table.empty:
    st.dataframe(table.drop(columns=["arguments"]).style.apply(_row_style, axis=1), width="stretch", key="w_net_flow",
                 height=min(35 * (len(table) + 1) + 3, 1200),
                 column_config={"message": st.column_config.TextColumn("message", width="large"),
                                "output (torch)": st.column_config.TextColumn("output (torch)", width="medium")})
for report in result.skips:
    level, text = skip_verdict(report)
    getattr(st, level)(text)

st.subheader("Export")
code = export_code(result)
left, right = st.columns([1, 4], vertical_alignment="center")
left.download_button("Download model.py", code, file_name="model.py", mime="text/x-python", key="w_net_download")
with right:
    share_box(urlencode({"net": net_value, **({"skip": skip_value} if skip_value else {})}, safe="-,"),
              "this stack with every layer and skip", "Share this stack")
    st.caption(f"{len(net_value)} of {limits.MAX_NETWORK_URL_CHARS} characters. Grammar: `C16k3p1` = Conv2d "
               "out_channels=16, kernel_size=3, padding=1; `R` ReLU; `M2` MaxPool2d 2; `F` Flatten; `L10` Linear 10.")
st.code(code, language="python")
