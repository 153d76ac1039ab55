"""Conv Lab entry point: page navigation and the shared layer controls (run: streamlit run app.py)."""

from contextlib import nullcontext

import streamlit as st
import torch

from conv_lab import limits
from conv_lab.blas import limit_blas_threads
from conv_lab.render.slots import heavy_work, script_slot
from conv_lab.sweep.options import SMALL_LAYER, unused_controls
from ui import layer_controls
from ui.navigation import freeze_loaded_objects, navigation_pages
from ui.present import page_config, projector_mode, sidebar_state
from ui.streamlit_speedups import skip_unset_theme_sections

skip_unset_theme_sections()  # once per process: Streamlit's scan for theme options nobody set (issue 17)

# Sent only when it changes in this session (its first run, projector mode toggled): the browser keeps it between runs.
page_config(page_title="Conv Lab — how a conv layer's parameters decide its output", page_icon="🧮", layout="wide",
            initial_sidebar_state=sidebar_state())  # collapsed in projector mode

# (file, title, url path, uses the shared layer controls, heavy). Each file is named like its url path: on a freshly
# started server Streamlit's old pages/-folder mode serves the first request by file name (see
# ui.navigation.require_entry), so a first deep link to /feature-maps must find pages/feature-maps.py. Heavy pages
# may compute for up to the work cap in this process: their scripts run in the heavy lane (conv_lab.render.slots).
PAGES = [
    ("pages/shape_lab.py", "Shape Lab", "", True, False),
    ("pages/sweep.py", "Kernel sweep", "sweep", True, False),
    ("pages/feature-maps.py", "Feature maps", "feature-maps", True, False),
    ("pages/matrix.py", "As a matrix", "matrix", True, True),
    ("pages/gradients.py", "Backward pass", "gradients", True, True),
    ("pages/network.py", "Network planner", "network", False, True),
    ("pages/practice.py", "Practice", "practice", False, False),
    ("pages/class.py", "Live class", "class", False, True),
]

# On a shared 2-core server torch's intra-op thread pool waits for descheduled threads: measured here
# under load, a 3→16 conv on 32×32 took 12–26 ms with 2 threads and 0.04 ms with 1 (ResNet stem 40 → 3–12 ms).
if torch.get_num_threads() != limits.TORCH_THREADS:
    torch.set_num_threads(limits.TORCH_THREADS)
    limit_blas_threads(limits.TORCH_THREADS)  # numpy's OpenBLAS too (conv_lab.blas, issue 17)


freeze_loaded_objects()  # torch, matplotlib, … out of the garbage collector's sight (ui.navigation)

# Page scripts run one at a time in the light lane (limits.LIGHT_SCRIPT_RUNS); the others queue here without holding
# the interpreter lock (conv_lab.render.slots; issue 17: with 110 students ~50 script threads took turns on the lock in
# 5 ms slices, and the event loop that sends their pages waited behind all of them).
with script_slot():
    # Copies of st.Page objects built once per process (ui.navigation.navigation_pages).
    current = st.navigation(navigation_pages([(path, title, url) for path, title, url, _, _ in PAGES]))
    _, _, _, uses_layer, heavy = next((row for row in PAGES if row[2] == current.url_path), ("", "", "", False, False))
    if uses_layer:
        # A first visit straight to /sweep with no layer in its link opens a sweep a class can follow (9 steps), not
        # the shared default's 900 (issue 16); any layer the link or the session already has is kept.
        layer_controls(first_visit=SMALL_LAYER if current.url_path == "sweep" else None,
                       unused=unused_controls(current.url_path,  # a first visit: the link's op=
                                              st.session_state.get("w_sweep_op", st.query_params.get("op"))))
    projector_mode(styled=uses_layer)  # the present=1 toggle and its large type, on every page
    st.session_state["_entry_ran"] = True  # pages check this: see ui.navigation.require_entry
    with heavy_work() if heavy else nullcontext():
        current.run()
