"""Network planner: stack layers, follow the shape through them, find the layer that breaks, export PyTorch code."""

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.network.codec import NETWORK_OPTIONS, decode_network, decode_skips, encode_network, encode_skips
from conv_lab.network.dims import DIM_LABELS, convert_rows, dims_of_label, edited_rows, input_fields, resize_input
from conv_lab.network.export import export_code
from conv_lab.network.flow import SKIP_MODES, Skip
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import parse_rows, plan
from conv_lab.network.presets import PRESET_BY_NAME, PRESETS, preset_for_link
from conv_lab.network.torch_run import run_plan
from conv_lab.network.view import flow_table, skip_verdict
from ui import require_entry, show_config_error, show_notices, url_options, write_url_options
from ui.network_rf import LINK_KEY, forget_rf, rf_choice, rf_keys, rf_section
from ui.network_tables import flow_dataframe
from ui.paste_model import paste_model_boxes
from ui.phone import on_phone
from ui.present import page_intro
from ui.share import mode_flags, share_box

require_entry()
state = st.session_state
DIMS_KEY = "w_net_dims"


def _input_keys(dims: int) -> list[str]:
    return [f"w_net_{name}" for name, _, _ in input_fields(dims)]


def _load(input_shape, rows, skips, notices=()) -> None:
    """Make a stack the one the tables show (new editor keys, so Streamlit drops the old edits)."""
    state["net_rows"], state["net_skips"], state["net_notices"] = list(rows), list(skips), list(notices)
    state["net_info"] = []
    state["net_version"] = state.get("net_version", 0) + 1
    forget_rf()
    state[DIMS_KEY] = DIM_LABELS[len(input_shape) - 2]
    for key, value in zip(_input_keys(len(input_shape) - 2), input_shape):
        state[key] = int(value)


def _switch_dims() -> None:
    """A new input dimension: the input resized, the stack's 1-D/2-D/3-D layers turned into that dimension."""
    old = state.get("net_dims", 2)
    dims = dims_of_label(state.get(DIMS_KEY), old)
    if state.get(DIMS_KEY) is None:  # the selected segment clicked again: keep it
        state[DIMS_KEY] = DIM_LABELS[old]
        return
    shape = resize_input([state.get(key, 1) for key in _input_keys(old)], dims)
    edits = state.get(f"w_net_layers_{state.get('net_version', 0)}")
    rows, notices = convert_rows(edited_rows(state["net_rows"], edits), dims)
    _load(shape, rows, state["net_skips"])
    state["net_info"] = notices


def _apply_preset() -> None:
    preset = PRESET_BY_NAME.get(state.get("w_net_preset"))
    if preset:
        _load(preset.input_shape, preset.rows, preset.skips)


def _controls() -> list[str]:
    """What decides the stack (for url_options): the editors' keys change with each loaded stack."""
    version = state.get("net_version", 0)
    dims = dims_of_label(state.get(DIMS_KEY))
    return ["net_rows", "w_net_preset", DIMS_KEY, *_input_keys(dims), f"w_net_layers_{version}", f"w_net_skips_{version}",
            *rf_keys()]


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
if url is not None:
    state[LINK_KEY] = url.get("rf", "")

page_intro("Network planner",
           "Stack layers with PyTorch's own argument names and follow the shape through them. The formula gives each "
           "layer's output; the real `nn.Sequential` runs on a zero tensor (on torch's meta device: no memory) beside it. "
           "The first layer that breaks is flagged with the fix; the layers after it are greyed out.")

top = st.columns([1, 1], vertical_alignment="bottom")  # the three input choices need ~400 px (cut at 1366 px by [3, 2])
top[0].selectbox("Preset", ["—"] + [p.name for p in PRESETS], key="w_net_preset", on_change=_apply_preset,
                 help="Classic stacks, each named for what it teaches")
top[1].segmented_control("Input", list(DIM_LABELS.values()), key=DIMS_KEY, on_change=_switch_dims,
                         help="1-D: sequences and audio (Conv1d); 2-D: images; 3-D: video clips and volumes (Conv3d). "
                              "Switching turns the stack's layers into that dimension.")
dims = dims_of_label(state.get(DIMS_KEY), state.get("net_dims", 2))
state["net_dims"] = dims
fields = input_fields(dims)
input_shape = tuple(int(col.number_input(label, 1, cap, key=key)) for col, (_, label, cap), key in
                    zip(st.columns(5), fields, _input_keys(dims)))
chosen = PRESET_BY_NAME.get(state.get("w_net_preset"))
if chosen:
    st.caption(f"**{chosen.name}** — {chosen.teaches}")
show_notices(state.get("net_notices", []))
for note in state.get("net_info", []):
    st.info(note, icon=":material/swap_horiz:")

paste_model_boxes(_load)

version = state["net_version"]
st.subheader("Layers")
st.caption("Pick a layer and write its arguments as in PyTorch, e.g. `out_channels=16, kernel_size=3, padding=1`. "
           "Leave out in_channels / num_features / in_features: the planner takes them from the incoming tensor.")
layer_options = list(LAYER_KINDS) + sorted({r[0] for r in state["net_rows"] if r[0] and r[0] not in LAYER_KINDS})
phone = on_phone()  # issue 16: on a phone the arguments wrap in taller rows (Streamlit wraps rows over 4 rem)
row_px = 72 if phone else 35
edited = st.data_editor(
    pd.DataFrame(state["net_rows"], columns=["layer", "arguments"], index=range(1, len(state["net_rows"]) + 1)),
    key=f"w_net_layers_{version}", num_rows="dynamic", width="stretch", row_height=row_px,
    height=min(row_px * (len(state["net_rows"]) + 1) + 38, 1600),
    column_config={"layer": st.column_config.SelectboxColumn("layer", options=layer_options, width=110 if phone else 125),
                   "arguments": st.column_config.TextColumn("arguments", width=210 if phone else "large", max_chars=300)})
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

choice = rf_choice(result)
net_value, skip_value = encode_network(input_shape, parse_rows(rows)), encode_skips(skips)
links = {"net": net_value, **({"skip": skip_value} if skip_value else {}),
         **({"rf": choice.text(result)} if choice and choice.text(result) else {})}
write_url_options("network", links, _controls())

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
if not table.empty:
    flow_dataframe(table)
for report in result.skips:
    level, text = skip_verdict(report)
    getattr(st, level)(text)
rf_section(result, choice, run.cpu_seconds)

st.subheader("Export")
code = export_code(result)
left, right = st.columns([1, 4], vertical_alignment="center")
left.download_button("Download model.py", code, file_name="model.py", mime="text/x-python", key="w_net_download")
with right:
    share_box(urlencode({**links, **mode_flags()}, safe="-,@"), "this stack with every layer and skip", "Share this stack")
    st.caption(f"{len(net_value)} of {limits.MAX_NETWORK_URL_CHARS} characters. Grammar: `C16k3p1` = Conv2d "
               "out_channels=16, kernel_size=3, padding=1; `1C`/`3C` = Conv1d/Conv3d; `pC` padding='causal'; `R` "
               "ReLU; `3M1x2x2` MaxPool3d (1, 2, 2); `F` Flatten; `L10` Linear 10.")
st.code(code, language="python")
