"""Placeholder while this page is being built (replaced by its issue's work)."""

import streamlit as st

from pages.common import require_entry

require_entry()
st.info("This page is being built.")
