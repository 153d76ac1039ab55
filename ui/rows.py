"""Metrics over pictures drawn as one element (conv_lab.render.html_rows escapes every text in it)."""

from __future__ import annotations

import streamlit as st

from conv_lab.render.html_rows import Figure, HtmlBlock, Metric, figure_row_html, metric_row_html


def metric_and_figure_rows(metrics: list[Metric], figures: list[Figure]) -> None:
    """A row of metrics (like st.metric side by side) over a row of pictures with captions and texts (like st.image
    in columns), as one element instead of thirteen; an empty list leaves its row out."""
    st.html(HtmlBlock((metric_row_html(metrics) if metrics else "") + (figure_row_html(figures) if figures else "")))
