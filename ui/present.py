"""Projector mode (`present=1`) on every page: the sidebar collapsed, large type, less chrome.

app.py calls `sidebar_state()` for st.set_page_config and `projector_mode()` once per run for every page (the
sweep included); pages ask `presenting()` to lay themselves out for the back of the room.
"""

from __future__ import annotations

import streamlit as st

from ui.phone import PHONE_CSS, on_phone
from ui.style import page_style
from ui.url_sync import controls_moved, page_flag

FLAG_KEY = "w_flag_present"  # page_flag's widget key for present
LABEL, HELP = "Projector mode", "Large type for the back of the room; the sidebar folds away (open it with ›)"

# Scoped to present mode (only injected when on). Code and captions ≥ 18 px (issue 16: 14 px before), text 20 px,
# the 6 rem top padding and the header's height cut so the answer and the formula fit a 1280×720 projector.
PRESENT_CSS = """
[data-testid="stMainBlockContainer"] { padding-top: 1.2rem; padding-bottom: 2rem; max-width: 100%; }
[data-testid="stHeader"] { background: transparent; height: 2.2rem; }
[data-testid="stMain"] [data-testid="stCode"] code, [data-testid="stMain"] [data-testid="stCode"] pre {
  font-size: 20px !important; line-height: 1.4 !important; }
[data-testid="stMain"] [data-testid="stCaptionContainer"], [data-testid="stMain"] [data-testid="stImageCaption"],
[data-testid="stMain"] [data-testid="stCaptionContainer"] p { font-size: 18px !important; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p, [data-testid="stMain"] [data-testid="stMarkdownContainer"] li,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p, [data-testid="stMain"] [data-testid="stTable"] {
  font-size: 20px !important; }
[data-testid="stMain"] [data-testid="stDataFrame"] { font-size: 18px; }
[data-testid="stMain"] .katex { font-size: 1.2em; }
[data-testid="stMain"] h1 { font-size: 2.2rem; padding-top: 0; }
[data-testid="stMain"] [data-testid="stMetricValue"] { font-size: 2.4rem; }
[data-testid="stMain"] [data-testid="stMetricLabel"] p { font-size: 18px !important; }
[data-testid="stMain"] [data-testid="stExpander"] summary p { font-size: 20px !important; }
"""

def _wanted() -> bool:
    """Whether this run shows projector mode: the toggle's state, else (a first visit) the link's present=1."""
    state = st.session_state.get(FLAG_KEY)
    return st.query_params.get("present") == "1" if state is None else bool(state)


def sidebar_state() -> str:
    """st.set_page_config's initial_sidebar_state: collapsed in projector mode, Streamlit's default otherwise."""
    return "collapsed" if _wanted() else "auto"


def page_config(**config: str) -> None:
    """st.set_page_config, sent only when it differs from what this session's browser already shows.

    The browser keeps a page's config between runs. Sent on every run, it cost each slider press an extra redraw of
    the whole page and two host-frame messages, each checked against Streamlit's allowed origins (issue 16).
    """
    if st.session_state.get("_page_config") != config:
        st.session_state["_page_config"] = config
        st.set_page_config(**config)


def projector_mode(styled: bool = False) -> bool:
    """The projector toggle (present=1, in the URL) at the foot of the sidebar; the page's style (readable captions,
    the large type when projecting, less room above the result on a phone), one element per run.

    styled: the layer controls' heading already carries the base style (ui.style), so a plain run sends none here."""
    if "_moved_before_page" not in st.session_state:  # pages without layer controls (see require_entry); computed
        st.session_state["_moved_before_page"] = controls_moved()  # only then: it reads every control's state
    on = page_flag("present", LABEL, HELP)
    extra = PRESENT_CSS if on else PHONE_CSS if on_phone() else ""
    if extra or not styled:  # the base again when projecting or on a phone, where the sidebar starts folded away
        st.html(page_style(extra))
    return on


def presenting() -> bool:
    """Whether projector mode is on in this run (after app.py drew its toggle).

    >>> presenting() in (True, False)
    True
    """
    return bool(st.session_state.get(FLAG_KEY, False))


def intro_caption(caption: str) -> None:
    """A page's one-paragraph introduction; on a phone one tap away in an expander, so its controls and result come
    first on the screen."""
    (st.expander("About this page", icon=":material/info:") if on_phone() else st).caption(caption)


def page_intro(title: str, caption: str) -> None:
    """The page's title and its one-paragraph introduction (left out in projector mode: less to read, more room)."""
    st.title(title)
    if not presenting():
        intro_caption(caption)
