"""A row of metrics or of pictures drawn as one element (conv_lab.render.html_rows escapes every text in it)."""

from __future__ import annotations

import streamlit as st

from conv_lab.render.html_rows import Figure, Metric, figure_row_html, metric_row_html


def metric_row(metrics: list[Metric]) -> None:
    """Metrics side by side, like st.metric in a horizontal container, as one element instead of six."""
    st.html(metric_row_html(metrics))


def figure_row(figures: list[Figure]) -> None:
    """Pictures side by side with captions and texts, like st.image in columns, as one element instead of seven."""
    st.html(figure_row_html(figures))
