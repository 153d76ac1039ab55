"""Shape Lab: the formula worked out with your numbers beside the real PyTorch layer's torch.Size."""

import streamlit as st

from conv_lab.diagnose import check_prediction
from conv_lab.figures import padded_grid_png
from conv_lab.presets import PRESET_BY_NAME, PRESETS
from conv_lab.spec import ConvConfigError, fmt
from conv_lab.state import share_query_string
from conv_lab.torch_run import run_report
from pages.common import apply_config, current_config, page_flag, require_entry, show_config_error, show_notices

require_entry()

present = page_flag("present", "Projector mode", "Large formula and result, secondary detail hidden")
predict = page_flag("predict", "Predict first", "Hide the answer until you type your guess")
config = current_config()
big = r"\Large " if present else ""

st.title("Conv Lab — Shape Lab")
if not present:
    st.caption("What shape comes out of this convolution, and why? Move the sliders on the left: the formula with "
               "your numbers, and the real PyTorch layer giving the same `torch.Size`.")


def _apply_preset() -> None:
    name = st.session_state.get("w_preset")
    if name in PRESET_BY_NAME:
        apply_config(PRESET_BY_NAME[name].config)


with st.container(horizontal=True):
    st.selectbox("Preset", ["—"] + [p.name for p in PRESETS], key="w_preset", on_change=_apply_preset,
                 help="Classic layers, each named for what it teaches")
chosen = PRESET_BY_NAME.get(st.session_state.get("w_preset"))
if chosen and not present:
    st.caption(f"**{chosen.name}** — {chosen.teaches}")
show_notices()

shape = config.input_shape()
try:
    spec = config.spec()
    explanation = spec.explain(shape)
except ConvConfigError as exc:
    show_config_error(exc)
    st.stop()

revealed = True
if predict:
    with st.form("predict_form"):
        st.markdown(f"**Predict first:** input `{fmt((config.height, config.width))}` with {config.in_channels} "
                    "channels. What comes out?")
        cols = st.columns(3)
        guess = tuple(col.number_input(label, min_value=0, max_value=100_000, step=1, key=f"w_guess_{label}")
                      for col, label in zip(cols, ("C_out", "H_out", "W_out")))
        checked = st.form_submit_button("Check my answer")
    if checked:
        st.session_state["checked_for"] = (config, guess)
    revealed = st.session_state.get("checked_for", (None,))[0] == config
    if revealed:
        verdict = check_prediction(spec, shape, st.session_state["checked_for"][1])
        (st.success if verdict.correct else st.error)("\n\n".join(verdict.messages))
    else:
        st.info("The answer is hidden until you check your guess.")

if revealed:
    formula_col, torch_col = st.columns(2, gap="large")
    with formula_col:
        st.subheader("Formula")
        for step in explanation.dims:
            st.latex(big + step.latex)
            if step.note:
                st.caption(f"⚠️ {step.note}")
        st.latex(big + explanation.channels_latex)
    with torch_col:
        st.subheader("PyTorch")
        try:
            report = run_report(spec, shape)
        except ConvConfigError as exc:
            st.code(spec.module_name + str(spec.torch_kwargs()), language="python")
            show_config_error(exc)
            report = None
        if report:
            st.code(report.code, language="python")
            mark = "✅ formula and PyTorch agree" if report.agree else "❌ formula and PyTorch DISAGREE"
            size_text = f"torch.Size({list(report.torch_shape)})"
            if present:
                st.markdown(f"## `{size_text}`\n### {mark}")
            else:
                st.code(size_text, language="text")
                st.markdown(f"**{mark}** — formula gives `{tuple(report.formula_shape)}`")
    if report and not present:
        cost = report.cost
        cols = st.columns(5)
        cols[0].metric("Parameters", f"{report.params:,}", help="summed from the module's own parameters")
        cols[1].metric("Multiply-accumulates", f"{cost.macs:,}")
        cols[2].metric("Output memory", f"{cost.output_bytes / 1024:,.1f} KiB", help="float32")
        cols[3].metric("Effective kernel", fmt(cost.effective_kernel), help="d·(k−1)+1")
        cols[4].metric("Receptive field", fmt(cost.receptive_field), help="input cells one output cell sees")

if not present:
    png, caption = padded_grid_png(spec, config.height, config.width)
    left, right = st.columns([3, 2])
    left.image(png, caption=caption)
    with right:
        st.markdown("**The grid the kernel slides over.** Blue cells are the input, grey the padding, orange the first "
                    "window; red rows/columns are never covered by any window.")
        for step in explanation.dims:
            if step.note:
                st.markdown(f"- {step.note}")

base = (st.context.url or "").split("?")[0]
st.markdown("**Share this exact configuration** (copy with the icon):")
st.code(f"{base}?{share_query_string(config, present='1' if present else None)}", language="text")
