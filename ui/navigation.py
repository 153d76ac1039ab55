"""Running every page inside app.py's navigation, and the page options every page may find in a link."""

from __future__ import annotations

import copy
import gc
import sys
from collections.abc import Iterable

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager
from streamlit.runtime.scriptrunner import get_script_run_ctx

from conv_lab.core.options import option_keys
from conv_lab.core.state import FLAG_OPTIONS
from conv_lab.features.runs import FEATURE_OPTIONS
from conv_lab.matrix.text import MATRIX_OPTIONS
from conv_lab.network.codec import NETWORK_OPTIONS
from conv_lab.practice.check import PRACTICE_OPTIONS
from conv_lab.sweep.options import SWEEP_OPTIONS
from ui.url_sync import controls_moved

# Every page's own URL keys: a link may carry any of them beside the layer (each page reads its own table).
PAGE_OPTION_KEYS = option_keys(FLAG_OPTIONS, SWEEP_OPTIONS, FEATURE_OPTIONS, MATRIX_OPTIONS, NETWORK_OPTIONS,
                               PRACTICE_OPTIONS)
_PAGE_TEMPLATES: dict[tuple, list] = {}  # navigation_pages: st.Page objects per page list, built once per process
_FROZEN_AT = [0]  # freeze_loaded_objects: how many modules were loaded at the last freeze
# The collector's thresholds (Python's are 700, 10, 10). A lecture hall's reruns leave ~3,000 cyclic objects a second
# (Streamlit's per-message tasks, script threads): with the defaults the collector paused every thread 92 times in a
# minute for ~7.5 ms (generation 1) and every ~10 s for 120–180 ms (generation 2), 2.1 s in all; with these, 34 times
# and 1.2 s, for ~30 MB more garbage waiting (issue 17: 110 Shape Lab students, p95 1.7 -> 1.0 s in one pair of runs).
GC_THRESHOLDS = (20_000, 20, 20)


def freeze_loaded_objects() -> None:
    """Move what the imports created (torch, matplotlib, …) out of the garbage collector's sight, and collect less often.

    Streamlit runs a full gc.collect() after every script run; with torch and matplotlib loaded it walked ~1 M
    long-lived objects: ~110 ms of CPU per slider press, holding the GIL. Frozen objects are skipped. Freezes again
    only when new modules were imported (a page's first view). A module-level mark, not st.cache_resource: app.py
    runs again on every rerun, and decorating there hashed the function's source each time (~1.5 ms per rerun).

    >>> freeze_loaded_objects(); _FROZEN_AT[0] == len(sys.modules)
    True
    """
    if _FROZEN_AT[0] != len(sys.modules):
        _FROZEN_AT[0] = len(sys.modules)
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)


def navigation_pages(entries: Iterable[tuple[str, str, str]]) -> list:
    """st.Page objects for (file, title, url path) entries ('' = the default page), fresh copies on every call.

    `st.Page(...)` resolves and checks the page's path on disk (~2 % of a Shape Lab rerun's CPU for six pages;
    issue 17): the templates are built once per process and shallow-copied per run. Copies, not the templates:
    `st.navigation` marks the page it returns as callable and `Page.run` clears the mark, so page objects shared
    by sessions running at the same time would race. (Outside a script run st.Page is not usable.)

    >>> navigation_pages([])
    []
    """
    ctx = get_script_run_ctx()
    key = (tuple(entries), str(ctx.pages_manager.main_script_parent) if ctx else "")  # one app per script folder
    templates = _PAGE_TEMPLATES.get(key)
    if templates is None:
        templates = _PAGE_TEMPLATES[key] = [st.Page(path, title=title, url_path=url or None, default=not url)
                                            for path, title, url in key[0]]
    return [copy.copy(page) for page in templates]


def require_entry() -> None:
    """Make sure this page runs inside app.py's navigation; call first thing on every page.

    Because a `pages/` folder sits beside app.py, Streamlit runs a page file on its own
    (its old multipage mode) until some run in the process has called st.navigation:
    after a server restart, a student's deep link to /sweep would land there first, without
    the shared controls. Switch the process to app.py's navigation, as st.navigation does,
    and rerun. (Streamlit's AppTest resets that switch on every run, so tests pass here too.)
    """
    # The page's first call in every run (after app.py's layer controls): fix what moved for url_options.
    moved = st.session_state.pop("_moved_before_page", None)
    st.session_state["_moved_this_run"] = controls_moved() if moved is None else moved
    if st.session_state.pop("_entry_ran", False):
        return
    PagesManager.uses_pages_directory = False
    st.rerun()


