"""The network planner's "Paste your model" and "Explain a torch error" boxes (issue 18): read widgets, call
conv_lab.network.debug / torch_errors, render; a checked model is loaded into the planner by the page's `load`."""

from __future__ import annotations

from typing import Callable

import streamlit as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.network.debug import debug_model, read_input_shape
from conv_lab.network.torch_errors import explain_torch_error
from conv_lab.network.view import SAMPLE_MODEL, SAMPLE_SHAPE, debug_verdict

state = st.session_state


def _check_paste(load: Callable, sample: bool = False) -> None:
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
    if 3 <= len(report.input_shape) <= 5 and report.rows:  # a batched 1-D, 2-D or 3-D input
        load(report.input_shape, report.rows, [])
        state["net_names"], state["w_net_preset"] = (list(report.rows), list(report.row_names)), "—"


def paste_model_boxes(load: Callable) -> None:
    """Both boxes; `load(input_shape, rows, skips)` makes a checked model the planner's stack."""
    state.setdefault("w_net_paste_shape", "1, 3, 32, 32")
    with st.expander("Paste your model: what print(model) shows", expanded="net_debug" in state):
        st.text_area("print(model)", key="w_net_paste", height=220, placeholder="Sequential(\n  (0): Conv2d(3, 16, …)\n…",
                     help="Conv Lab reads the text (it never runs it) and follows the input shape through it")
        paste = st.columns([2, 1, 1], vertical_alignment="bottom")
        paste[0].text_input("Input shape (N, C, L), (N, C, H, W) or (N, C, D, H, W)", key="w_net_paste_shape")
        paste[1].button("Check my model", key="w_net_paste_check", on_click=_check_paste, args=(load,), type="primary")
        paste[2].button("Try a sample", key="w_net_paste_sample", on_click=_check_paste, args=(load, True),
                        help="a LeNet whose classifier was sized for 28×28 MNIST, fed 32×32")
        if state.get("net_debug_error"):
            bad = state["net_debug_error"]
            st.error(f"**This cannot be checked — {bad.param}**: {bad.why}.  \n**Fix:** {bad.fix}", icon=":material/block:")
        if state.get("net_debug"):
            level, text = debug_verdict(state["net_debug"])
            getattr(st, level)(text)
            st.caption("  \n".join(state["net_debug"].notes))
    with st.expander("Explain a torch error"):
        example = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x2304 and 1024x10)"
        pasted_error = st.text_area("RuntimeError", key="w_net_torch_error", height=100, placeholder=example)
        if (pasted_error or "").strip():
            explained = explain_torch_error(pasted_error, state.get("net_debug"))
            st.info(explained or "This is not one of the shape errors Conv Lab knows (mat1 and mat2, channels, kernel "
                    "size, pooling output, cat and add sizes, BatchNorm, LayerNorm).", icon=":material/lightbulb:")
