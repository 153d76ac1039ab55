"""Rows drawn as one element each: metrics over pictures (conv_lab.render.html_rows escapes every text in it), and
two markdown columns (conv_lab.render.markdown_blocks.side_by_side lets no HTML through from them)."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from conv_lab.render.html_rows import Figure, HtmlBlock, Metric, figure_row_html, metric_row_html
from conv_lab.render.markdown_blocks import Code, side_by_side


def metric_and_figure_rows(metrics: list[Metric], figures: list[Figure]) -> None:
    """A row of metrics (like st.metric side by side) over a row of pictures with captions and texts (like st.image
    in columns), as one element instead of thirteen; an empty list leaves its row out."""
    st.html(HtmlBlock((metric_row_html(metrics) if metrics else "") + (figure_row_html(figures) if figures else "")))


def markdown_columns(left: Iterable[str | Code], right: Iterable[str | Code]) -> None:
    """Two columns of markdown texts and code blocks (like st.columns([4, 3], gap="large") with markdown in each) as
    one element; the only HTML shown is the columns' own."""
    st.markdown(side_by_side(left, right), unsafe_allow_html=True)
