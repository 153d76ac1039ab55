"""The bare baseline for benchmarks/slider_latency.py --bare: one slider and the torch.Size text, nothing else.

Issue 16 asks the Shape Lab to answer a slider press within 2× of this page, measured in the same run.
Deliberately not part of the app (and not registered in app.py).
"""

import streamlit as st

filters = st.slider("Filters (output channels)", 1, 512, 16)
st.code(f"torch.Size([1, {filters}, 30, 30])")
