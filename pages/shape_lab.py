"""Shape Lab: the formula worked out with your numbers beside the real PyTorch layer's torch.Size."""

from __future__ import annotations

import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES, fmt
from conv_lab.core.shapes import formula_steps
from conv_lab.core.torch_run import RunReport, run_report, torch_code
from conv_lab.lab.blocks import layer_blocks_png
from conv_lab.lab.grid_picture import layer_grid_png, overhang_png
from conv_lab.lab.presets import PRESET_BY_NAME, PRESETS
from conv_lab.practice.slips import check_prediction
from ui import apply_config, current_config, page_flag, require_entry, show_config_error, show_notices
from ui.share import layer_share_query, share_box

require_entry()

present = page_flag("present", "Projector mode", "Large formula and result, secondary detail hidden")
predict = page_flag("predict", "Predict first", "Hide the answer until you type your guess")
config = current_config()
NO_PRESET = "—"

if present:
    st.markdown("#### Conv Lab — Shape Lab")
else:
    st.title("Conv Lab — Shape Lab")
    st.caption("What shape comes out of this convolution, and why? Move the sliders on the left: the formula with "
               "your numbers, and the real PyTorch layer giving the same `torch.Size`.")


def _apply_preset() -> None:
    name = st.session_state.get("w_preset")
    if name in PRESET_BY_NAME:
        apply_config(PRESET_BY_NAME[name].config)


chosen = PRESET_BY_NAME.get(st.session_state.get("w_preset"))
if chosen and chosen.config != config:  # the sliders moved on: the box no longer names what is shown
    st.session_state["w_preset"], chosen = NO_PRESET, None
st.selectbox("Preset", [NO_PRESET] + [p.name for p in PRESETS], key="w_preset", on_change=_apply_preset,
             help="Classic layers, each named for what it teaches", width=420)
# Fixed slots (empty or not) keep every later element at the same position from run to run, so the
# browser never shows the previous run's elements shifted while a rerun streams in.
with st.container():
    if chosen and not present:
        st.caption(f"**{chosen.name}** — {chosen.teaches}")
with st.container():
    show_notices()


def _count(n: int) -> str:
    """Large counts in a few characters, so the metric is never cut off (the exact number is in the help)."""
    for unit, size in (("G", 1e9), ("M", 1e6)):
        if n >= 10 * size:
            return f"{n / size:,.1f} {unit}"
    return f"{n:,}"


def _memory(n_bytes: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n_bytes < 1024 or unit == "MiB":
            return f"{n_bytes:,} B" if unit == "B" else f"{n_bytes:,.1f} {unit}"
        n_bytes /= 1024


def _impossible() -> None:
    """Keep the teaching moment of an impossible layer: the formula coming out ≤ 0, the kernel sticking out."""
    try:
        spec = config.spec()
        steps = formula_steps(spec, shape)
    except ConvConfigError:
        return
    if all(step.size_out >= 1 for step in steps):
        return
    left, right = st.columns([1, 1], gap="large")
    with left:
        st.subheader("Formula")
        for step in steps:
            st.latex(step.latex)
    if not spec.transposed:
        right.image(*overhang_png(spec, config.input_size))


shape = config.input_shape()
try:
    spec = config.spec()
    explanation = spec.explain(shape)
except ConvConfigError as exc:
    show_config_error(exc)
    _impossible()
    share_box(layer_share_query(config))
    st.stop()

revealed = True
if predict:
    with st.form("predict_form"):
        st.markdown("**Predict first:** what shape comes out of this layer?")
        st.code(torch_code(spec, shape).rsplit("\n", 1)[0], language="python", wrap_lines=True)
        labels = ["C_out", *(f"{sym}_out" for _, sym, _ in AXES[spec.dims])]
        cols = st.columns(len(labels))
        guess = tuple(col.number_input(label, min_value=0, max_value=1_000_000, step=1, value=None, placeholder="?",
                                       key=f"w_guess_{label}") for col, label in zip(cols, labels))
        checked = st.form_submit_button("Check my answer", type="primary")
    if checked and None in guess:
        st.warning(f"Type all {len(labels)} numbers — {', '.join(labels)} — then check.", icon=":material/edit:")
    elif checked:
        st.session_state["checked_for"] = (config, guess)
    revealed = st.session_state.get("checked_for", (None,))[0] == config
    if revealed:
        verdict = check_prediction(spec, shape, st.session_state["checked_for"][1])
        if verdict.correct:
            st.success("\n\n".join(verdict.messages), icon=":material/celebration:")
        else:
            st.error("\n\n".join(verdict.messages), icon=":material/school:")
    else:
        st.info("The answer is hidden until you check your guess.", icon=":material/visibility_off:")


def _torch_result() -> RunReport | None:
    """The PyTorch side: the code that ran, its torch.Size and the agreement mark (None if it could not run)."""
    try:
        report = run_report(spec, shape)
    except ConvConfigError as exc:
        st.code(torch_code(spec, shape), language="python", wrap_lines=True)
        show_config_error(exc)
        return None
    size_text = f"torch.Size({list(report.torch_shape)})"
    mark = (":green[:material/check_circle: **formula and PyTorch agree**]" if report.agree
            else ":red[:material/error: **formula and PyTorch DISAGREE**]")
    if present:
        st.markdown(f"## `{size_text}`\n### {mark}")
        st.code(report.code, language="python", wrap_lines=True)
    else:
        st.code(report.code, language="python", wrap_lines=True)
        st.code(size_text, language="text")
        st.markdown(f"{mark}  \nthe formula gives `{tuple(report.formula_shape)}`")
    return report


def _formula(size: str) -> None:
    for step in explanation.dims:
        st.latex(size + step.latex)
        if step.note:
            st.caption(f":material/warning: {step.note}")
    st.latex(size + explanation.channels_latex)


if revealed and present:  # projector: the answer on top, then the formula full width and large
    report = _torch_result()
    st.subheader("Formula")
    _formula(r"\Large ")
elif revealed:
    formula_col, torch_col = st.columns([4, 3], gap="large")  # the transposed formula needs the width
    with torch_col:  # filled first: the result reaches the browser before the formula
        st.subheader("PyTorch")
        report = _torch_result()
    with formula_col:
        st.subheader("Formula")
        _formula("")
    if report:
        cost = report.cost
        # One horizontal row: the five metrics side by side as st.columns(5) drew them, in one block instead of six
        # (every block is a message and a container per rerun; issue 17).
        with st.container(horizontal=True):
            st.metric("Parameters", f"{report.params:,}", help="summed from the module's own parameters")
            st.metric("Multiply-accumulates", _count(cost.macs),
                      help=f"multiply-adds for one input (batch 1): {cost.macs:,}")
            st.metric("Output memory", _memory(cost.output_bytes), help="float32, batch of 1")
            st.metric("Effective kernel", fmt(cost.effective_kernel), help="d·(k−1)+1")
            st.metric("Receptive field", fmt(cost.receptive_field), help="input cells one output cell sees")

if revealed and not present:
    png, caption = layer_grid_png(spec, config.input_size)  # cached on the geometry alone
    blocks, blocks_caption = layer_blocks_png(spec.in_channels, spec.out_channels, spec.groups, spec.kernel_nd,
                                              config.input_size, explanation.output_shape[2:], spec.transposed)
    left, right = st.columns([1, 1], gap="large")
    left.image(png, caption=caption)
    with left:
        st.markdown("**The grid the kernel slides over.** Blue cells are the input, grey the padding, orange the first "
                    "window; red cells are never covered by any window.")
        for step in explanation.dims:
            if step.note:
                st.markdown(f"- {step.note}")
    right.image(blocks, caption=blocks_caption)
    right.markdown("**The tensors as blocks.** Each filter spans every input channel of its group and makes one "
                   "output slice: the input volume becomes a volume with one slice per filter.")

share_box(layer_share_query(config))
