"""The layer controls on a phone: number boxes inline above the result, so the result stays in view (issue 16).

On a phone the sidebar covers the whole screen and a 230 px slider over 1…512 cannot be set by touch. A page calls
`phone_controls()` just above its result (before anything that may stop the page, so a broken layer can be fixed
there), with the rows that page uses (pooling has no filters); it draws nothing on a desktop browser and returns the
row, where the page puts its own sidebar flags (`page_flag(..., container=row)`). A phone is told by its browser's
User-Agent ("Mobi", as MDN recommends): the server knows before anything is drawn, and desktops pay nothing. The boxes
set one value for every dimension (square); non-square sizes and the advanced rows stay in the sidebar.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from conv_lab.core.params import PARAM
from conv_lab.core.state import LabConfig, sized
from ui.controls import apply_config, current_config

# Table row → short label: the rows a learner moves most, each a number box (wide ranges typed, not dragged).
LABELS = {"input_size": "Input size", "in_channels": "C_in", "out_channels": "Filters", "kernel_size": "Kernel",
          "stride": "Stride", "padding": "Padding", "dilation": "Dilation"}
ROWS = tuple(LABELS)
POOL_ROWS = {"max": ("input_size", "in_channels", "kernel_size", "stride", "padding", "dilation"),  # no filters
             "avg": ("input_size", "in_channels", "kernel_size", "stride", "padding")}  # no dilation either

# Less room above the result on a phone, on every page: Streamlit's 6 rem top padding and a 2.75 rem title take a
# third of the screen.
PHONE_CSS = """[data-testid="stMainBlockContainer"] { padding-top: 3rem; }
[data-testid="stMain"] h1 { font-size: 1.8rem; }
[data-testid="stMain"] h2 { font-size: 1.4rem; }
[data-testid="stMain"] h3 { font-size: 1.2rem; }"""


def on_phone() -> bool:
    """Whether this session's browser says it is a phone (its User-Agent holds "Mobi"); read once per session: a
    tab's websocket keeps its headers, and st.context.headers rebuilds them on every access (issue 17)."""
    phone = st.session_state.get("_on_phone")
    if phone is None:
        phone = st.session_state["_on_phone"] = "Mobi" in (st.context.headers.get("User-Agent") or "")
    return phone


def _value(config: LabConfig, name: str) -> int:
    """The config's value of a row as one number (a word such as 'same' shows as the row's lowest value)."""
    if name == "input_size":
        return config.width if config.dims == 1 else config.height
    value = getattr(config, name)
    if name in ("in_channels", "out_channels"):
        return value
    return PARAM[name].lo if isinstance(value, str) else sized(value, config.dims)[-1]


def _with(config: LabConfig, name: str, value: int) -> LabConfig:
    """`config` with one row set to `value` in every dimension (the input: L, or H×W keeping a clip's depth)."""
    if name == "input_size":
        return replace(config, width=value, height=1 if config.dims == 1 else value)
    if name in ("in_channels", "out_channels"):
        return replace(config, **{name: value})
    return replace(config, **{name: (value,) * config.dims})


def _changed(name: str) -> None:
    value = st.session_state.get(f"w_ph_{name}")
    if value is not None:
        apply_config(_with(current_config(), name, int(value)))


def phone_controls(rows: Sequence[str] = ROWS) -> DeltaGenerator | None:
    """On a phone: the layer's `rows` (table names) as number boxes in one wrapping row, returned for the page's own
    flags; None (nothing drawn) on other browsers."""
    if not on_phone():
        return None
    config = current_config()
    row = st.container(horizontal=True, key="phone_controls", gap="xsmall")  # 4 boxes a line at 390 px
    with row:
        for name in rows:
            p, label = PARAM[name], LABELS[name]
            key = f"w_ph_{name}"
            st.session_state[key] = min(max(_value(config, name), p.lo), p.his[config.dims - 1] if p.his else p.hi)
            st.number_input(label, p.lo, p.his[config.dims - 1] if p.his else p.hi, key=key, step=1, width=82,
                            on_change=_changed, args=(name,), help=p.help)
    return row
