"""The planner's shape-flow table as Streamlit draws it: columns sized to their text (issue 16: nothing cut off at
1366 px), row colours with words, and each message too long for the note column listed in full under the table."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from conv_lab.network.view import HEADERS, flow_widths, long_messages, row_style


def flow_dataframe(table: pd.DataFrame) -> None:
    """Draw the flow table (`table`: network.view.flow_table's rows indexed by "#") and its long messages."""
    widths = flow_widths(table)
    config = {c: st.column_config.TextColumn(HEADERS.get(c, c), width=w) for c, w in widths.items()}
    config["receptive field"] = st.column_config.TextColumn("RF", width=widths["receptive field"],
                                                           help="receptive field: input cells one output cell sees")
    for page in ("Shape Lab", "sweep"):
        config[page] = st.column_config.LinkColumn(page, display_text="open", width=widths[page],
                                                   help=f"this layer in the {page}, on its input here")
    st.dataframe(table.drop(columns=["arguments"]).style.apply(row_style, axis=1), width="stretch", key="w_net_flow",
                 height=min(35 * (len(table) + 1) + 3, 1200), column_order=list(widths), column_config=config)
    for label, text in long_messages(table):
        st.caption(f"**{label}** — {text}")
