"""The planner's receptive-field section: pick a cell (a layer and one index per spatial dimension, mirrored in the URL
as `rf=`), see each layer's box, and the analytic box over the gradient's measured support (conv_lab.network.rf_view).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from conv_lab.core.params import AXES
from conv_lab.network.plan import NetworkPlan
from conv_lab.network.receptive import Choice, choose, default_point, map_points, sizes_at, walk
from conv_lab.network.rf_view import RF_COLUMNS, picture, rf_rows, rf_widths, summary
from ui.messages import show_notices
from ui.phone import on_phone

POINT_KEY, LINK_KEY, SEEN_KEY = "w_net_rf_point", "net_rf_link", "net_rf_seen_point"
CELL_KEYS = tuple(f"w_net_rf_{axis}" for axis in range(3))
PHONE_GRID_PX = 320  # a 390 px phone shows ~358 px: the picture is drawn that narrow, so its text is not shrunk


def rf_keys() -> list[str]:
    """The section's controls (for url_options: a move of one is a control moving)."""
    return [POINT_KEY, *CELL_KEYS]


def forget_rf() -> None:
    """A new stack: the next run picks the default cell again."""
    for key in (*rf_keys(), SEEN_KEY):
        st.session_state.pop(key, None)


def rf_choice(plan: NetworkPlan) -> Choice | None:
    """The cell to show: an adopted link's `rf=` (its notices shown once), else the controls, clamped to the map."""
    state = st.session_state
    if LINK_KEY in state:
        choice = choose(plan, state.pop(LINK_KEY))
        if choice and choice.notices:
            show_notices(list(choice.notices))
    else:
        points = map_points(plan)
        point = state.get(POINT_KEY)
        if not points:
            return None
        point = point if point in points else default_point(plan)
        sizes = sizes_at(plan, point)
        moved = point != state.get(SEEN_KEY)  # another layer: its centre cell (indices mean other cells there)
        cell = tuple(n // 2 if moved else min(max(int(state.get(key, n // 2)), 0), n - 1)
                     for key, n in zip(CELL_KEYS, sizes))
        choice = Choice(point, cell)
    if choice is None:
        return None
    state[POINT_KEY] = state[SEEN_KEY] = choice.point
    for key, value in zip(CELL_KEYS, choice.cell):
        state[key] = value
    return choice


def _label(plan: NetworkPlan, point: int) -> str:
    row = plan.rows[point - 1]
    return f"layer {point}: {row.layer} → {'×'.join(map(str, sizes_at(plan, point)))}"


def rf_section(plan: NetworkPlan, choice: Choice | None, spent: float = 0.0) -> None:
    """The controls, the per-layer rows and the picture (or a plain message); `spent`: the CPU seconds the planner's
    torch run cost (`TorchRun.cpu_seconds`), which the measurement's budget shares."""
    st.subheader("Receptive field of one cell")
    if choice is None:
        st.info("No layer here gives a map of the input's dimension to pick a cell from (the stack breaks first, or "
                "flattens at once).", icon=":material/info:")
        return
    sizes = sizes_at(plan, choice.point)
    names = AXES[len(sizes)]
    columns = st.columns([3] + [1] * len(sizes), vertical_alignment="bottom")
    columns[0].selectbox("Cell of", map_points(plan), key=POINT_KEY, format_func=lambda p: _label(plan, p),
                         help="a layer whose output is still a map (before Flatten); the default is the last one")
    for column, key, name, n in zip(columns[1:], CELL_KEYS, names, sizes):
        column.number_input(f"{name[2]} (0–{n - 1})", 0, n - 1, key=key, step=1,
                            help=f"the cell's {name[0]} index in the {'×'.join(map(str, sizes))} map")
    rows = walk(plan, choice)
    st.markdown(summary(plan, choice, rows))
    records = rf_rows(rows)
    config = {c: st.column_config.TextColumn(c, width=w) for c, w in rf_widths(records).items() if c != "point"}
    st.dataframe(pd.DataFrame(records, columns=RF_COLUMNS).set_index("point"), width="stretch", key="w_net_rf_rows",
                 height=min(35 * (len(records) + 1) + 3, 600), column_config=config)
    st.caption("Each row: the cells of that layer's output map the picked cell depends on (first cell and size; a "
               "negative first cell, or one past the map's end, is padding of the next layer), and the jump — that "
               "map's cells between the boxes of two neighbouring picked cells. Where a skip joins, the box is the hull "
               "of both branches, the crop's offset included. Activations, BatchNorm and Dropout keep the box.")
    pic = picture(plan, choice, PHONE_GRID_PX if on_phone() else None, spent)
    if pic.png is None:
        st.info(pic.message, icon=":material/info:")
        return
    st.image(pic.png, alt=pic.alt, output_format="PNG")  # a JPEG would blur the hatching
    st.caption(pic.caption)
