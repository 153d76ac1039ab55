"""Conv Lab entry point: page navigation and the shared layer controls (run: streamlit run app.py)."""

import streamlit as st

from pages.common import layer_controls

st.set_page_config(page_title="Conv Lab — how a conv layer's parameters decide its output", page_icon="🧮",
                   layout="wide")

# (file, title, url path, uses the shared layer controls)
PAGES = [
    ("pages/shape_lab.py", "Shape Lab", "", True),
    ("pages/sweep.py", "Kernel sweep", "sweep", True),
    ("pages/feature_maps.py", "Feature maps", "feature-maps", True),
    ("pages/matrix.py", "As a matrix", "matrix", True),
    ("pages/network.py", "Network planner", "network", False),
    ("pages/practice.py", "Practice", "practice", False),
]

pages = [st.Page(path, title=title, url_path=url or None, default=not url) for path, title, url, _ in PAGES]
current = st.navigation(pages)
if any(url == current.url_path and uses for _, _, url, uses in PAGES):
    layer_controls()
st.session_state["_entry_ran"] = True  # pages check this: see pages.common.require_entry
current.run()
