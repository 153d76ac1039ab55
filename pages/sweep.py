"""Kernel sweep: the kernel sliding over the padded grid, every step's arithmetic, an offline player and a GIF."""

import streamlit as st

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import option_keys
from conv_lab.sweep.captions import page_caption, part_label
from conv_lab.sweep.data import SweepRequest, build_sweep
from conv_lab.sweep.options import (
    SMALL_LAYER,
    SWEEP_OPTIONS,
    SweepOptions,
    clamp_out_depth,
    clamp_step,
    new_timeline,
    parse_sweep_query,
    too_many_steps,
    url_step,
)
from conv_lab.sweep.oracle import checkable, module_name, torch_check
from conv_lab.sweep.service import sweep_player
from conv_lab.sweep.steps import Region, part_regions, region_for
from ui import apply_config, current_config, require_entry, show_config_error, show_notices, url_options, write_url_options
from ui.phone import POOL_ROWS, ROWS, phone_controls
from ui.present import intro_caption

require_entry()

config = current_config()
OPTION_KEYS = option_keys(SWEEP_OPTIONS)
WIDGETS = {"op": "w_sweep_op", "filter_index": "w_sweep_filter", "channel": "w_sweep_channel", "step": "w_sweep_step",
           "values": "w_sweep_values", "region": "w_sweep_region", "ceil_mode": "w_sweep_ceil",
           "count_include_pad": "w_sweep_include_pad", "out_depth": "w_sweep_depth"}

# Adopt the URL's options on the first run and on a link or the back button (see pages.common.url_options).
url_now = url_options("sweep", OPTION_KEYS, WIDGETS.values())
if url_now is not None:
    options, notices = parse_sweep_query(url_now, config)
    for name, key in WIDGETS.items():
        st.session_state[key] = getattr(options, name)
    st.session_state["_sweep_speed"], st.session_state["_sweep_notices"] = options.speed, notices
    st.session_state["_sweep_timeline"] = new_timeline()  # the link decides the step: the player opens there



def _set(key: str, value, drawn: bool = True) -> None:
    """Assign a control's state. Each assignment also moves the control in the browser, undoing a press made while
    this run was on its way: a drawn control only when its value must change; one this run does not draw always
    (else Streamlit drops its state)."""
    if not drawn or st.session_state.get(key) != value:
        st.session_state[key] = value


# Keep every option across runs, clamped to this layer.
defaults = SweepOptions()
op_now = st.session_state.get("w_sweep_op", defaults.op)
hidden = {"w_sweep_filter": op_now != "conv", "w_sweep_ceil": op_now == "conv", "w_sweep_include_pad": op_now != "avg"}
for name, key in WIDGETS.items():
    if key not in ("w_sweep_step", "w_sweep_region", "w_sweep_depth"):  # these: below, once the sweep's size is known
        _set(key, st.session_state.get(key, getattr(defaults, name)), drawn=not hidden.get(key, False))
_set("w_sweep_filter", min(st.session_state["w_sweep_filter"], config.out_channels - 1), not hidden["w_sweep_filter"])
_set("w_sweep_channel", min(st.session_state["w_sweep_channel"], config.in_channels - 1))

st.title("Kernel sweep")
intro_caption(page_caption(op_now))  # on a phone: in an expander
show_notices()
show_notices(st.session_state.get("_sweep_notices", []))

OP_LABELS = {"conv": "Convolution", "max": "Max pooling", "avg": "Average pooling"}
with st.container(horizontal=True):
    op = st.radio("Operation", list(OP_LABELS), format_func=OP_LABELS.get, key="w_sweep_op", horizontal=True,
                  help="Pooling uses the same kernel, stride, padding (and dilation for max) from the sidebar")
    values = st.radio("Values", ["int", "float"], key="w_sweep_values", horizontal=True,
                      format_func={"int": "Small integers", "float": "Random floats"}.get)
    if op == "conv":
        st.number_input("Filter to follow", 0, max(0, config.out_channels - 1), key="w_sweep_filter",
                        help="each filter has its own weights and reads its group's input channels")
    st.number_input("Input channel in front" if op == "conv" else "Channel to pool", 0, max(0, config.in_channels - 1),
                    key="w_sweep_channel", help="the other channels of the group are stacked behind")
    if op != "conv":
        st.toggle("ceil_mode", key="w_sweep_ceil", help="round the output size up: one more window at the end, "
                  "as long as it starts inside the input or the left padding")
    if op == "avg":
        st.toggle("count_include_pad", key="w_sweep_include_pad", help="do padding zeros count in the divisor?")

phone_controls(ROWS if op == "conv" else POOL_ROWS[op])  # a phone: the layer's boxes right above the player
filter_index = st.session_state["w_sweep_filter"] if op == "conv" else st.session_state["w_sweep_channel"]
out_depth = st.session_state.get("w_sweep_depth", defaults.out_depth)
try:
    if config.dims == 3 and op == "conv":  # a 3-D sweep shows one output depth slice at a time
        depths = config.spec().output_shape(config.input_shape())[2]
        depth_notices: list[str] = []
        _set("w_sweep_depth", clamp_out_depth(int(out_depth), depths, depth_notices), drawn=depths > 1)
        show_notices(depth_notices)
        if depths > 1:
            st.slider("Output depth slice", 0, depths - 1, key="w_sweep_depth", help="the sweep animates one output "
                      "depth slice: the kernel's depth taps read that many input slices, shown side by side")
        out_depth = st.session_state["w_sweep_depth"]
    else:
        _set("w_sweep_depth", out_depth, drawn=False)
    request = SweepRequest(config, op, filter_index, values, 0, st.session_state["w_sweep_ceil"],
                           st.session_state["w_sweep_include_pad"], out_depth if config.dims == 3 else 0)
    sweep = build_sweep(request)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()

total = len(sweep)
ho, wo = sweep.out_shape
step_notices: list[str] = []
# The player is the one timeline: step= opens it there, and it keeps step= in the browser's address as it moves
# (no rerun; Streamlit's own copy of the query does not see that, so a rerun reopens it at the step it last knew).
step = clamp_step(url_step(st.query_params.get("step"), st.session_state.get("w_sweep_step", 1)), total, step_notices)
show_notices(step_notices)
whole = region_for(sweep, 0, 0)
over_budget = whole != Region((0, ho), (0, wo))
strip = config.dims == 1
sizes = f"{wo} outputs over a {sweep.grid.shape[2]}-cell strip" if strip else \
    f"{ho}×{wo} outputs over a {sweep.grid.shape[1]}×{sweep.grid.shape[2]} grid"
if too_many_steps(total):
    with st.container(horizontal=True):
        st.info(too_many_steps(total), icon=":material/timer:")
        st.button("Sweep a 1×5×5 layer (kernel 3, stride 2, padding 1)", on_click=apply_config, args=(SMALL_LAYER,),
                  key="w_sweep_small")
if over_budget:
    st.warning(f"This sweep has {total:,} window positions ({sizes}): more than one animation shows (at most "
               f"{limits.MAX_SWEEP_FRAMES:,} frames and a {limits.MAX_SWEEP_GRID}-cell grid side). The player animates "
               "one part at a time: pick it below.", icon=":material/content_cut:")
if over_budget and not strip:
    st.radio("Animate", ["region", "row"], key="w_sweep_region", horizontal=True,
             format_func={"region": "a block of outputs", "row": "one output row"}.get)
else:
    _set("w_sweep_region", st.session_state.get("w_sweep_region", defaults.region), drawn=False)
    if total > 1:
        st.caption(f"{total} window positions → " + (f"{wo} outputs." if strip else f"a {ho}×{wo} output" + (
            f" (depth slice {out_depth} of 0–{sweep.out_depths - 1})." if config.dims == 3 else ".")))
row, col = divmod(step - 1, wo)
region = whole
if over_budget:
    parts = part_regions(sweep, st.session_state["w_sweep_region"])
    if st.session_state.pop("_sweep_part_moved", False):  # the part control moved: start at its first position
        region = parts[st.session_state["w_sweep_part"] - 1]
        row, col = region.rows[0], region.cols[0]
        st.session_state["_sweep_timeline"] = new_timeline()
        step = row * wo + col + 1
    else:
        region = region_for(sweep, row, col, st.session_state["w_sweep_region"])
        _set("w_sweep_part", parts.index(region) + 1)
    st.slider("Part to animate", 1, len(parts), key="w_sweep_part",
              on_change=lambda: st.session_state.update(_sweep_part_moved=True),
              help="the player steps through this part; its counter and the link's step= follow it")
    st.caption(part_label(sweep, region, len(parts), st.session_state["w_sweep_part"]))
_set("w_sweep_step", step, drawn=False)
front = sweep.front_row(st.session_state["w_sweep_channel"]) if op == "conv" else 0
if op == "conv" and st.session_state["w_sweep_channel"] not in sweep.channels:
    st.caption(f"Filter {request.filter_index} reads input channels {sweep.channels[0]}–{sweep.channels[-1]} "
               f"(its group); showing channel {sweep.channels[front]} in front.")
animation = sweep_player(request, region, front)  # rendered in a worker process, shared
start = animation.positions.index((row, col))
# Any other rerun keeps the player where it was moved (the same timeline), clamped when the layer has fewer steps.
st.iframe(animation.player_html(start, st.session_state["_sweep_speed"], st.session_state.get("_sweep_timeline", "")))
st.download_button("⬇️ Download GIF (for slides)", data=lambda: animation.gif_bytes, file_name="conv-lab-sweep.gif",
                   mime="image/gif", help=f"{len(animation)} frames: every position shown, then the never-read cells",
                   key="w_sweep_gif")
cost = len(sweep.channels) * sweep.kernel.shape[1] * sweep.kernel.shape[2] * total
cost *= getattr(sweep, "out_depths", 1) if config.transposed else 1  # a transposed 3-D check runs every depth
if cost <= limits.MAX_MACS // 10 and checkable(request):
    difference = torch_check(request, region.rows, region.cols)
    module = module_name(request)
    ok = difference < 1e-6
    (st.success if ok else st.error)(f"The real nn.{module} on these values gives {'the same' if ok else 'DIFFERENT'} "
                                     f"{region.size} outputs (largest difference {difference:.2g}).")
elif not checkable(request):
    st.caption("The sweep builds only the slices under the kernel's depth taps; the check against the real "
               f"nn.{module_name(request)} would read this whole clip, which is over Conv Lab's cap: it is skipped.")

chosen = SweepOptions(op, request.filter_index if op == "conv" else 0, st.session_state["w_sweep_channel"], step,
                      values, st.session_state["w_sweep_region"], st.session_state["w_sweep_ceil"],
                      st.session_state["w_sweep_include_pad"], st.session_state["_sweep_speed"],
                      st.session_state["w_sweep_depth"] if config.dims == 3 else 0)
write_url_options("sweep", chosen.to_query())
