"""Projector mode (`present=1`) on every page: the sidebar collapsed, large type, less chrome.

app.py calls `sidebar_state()` for st.set_page_config and `projector_mode()` once per run for every page (the
sweep included); pages ask `presenting()` to lay themselves out for the back of the room.
"""

from __future__ import annotations

import streamlit as st

from ui.phone import PHONE_CSS, on_phone
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

# On every page (issue 16, WCAG AA 4.5:1): Streamlit draws captions in its text colour at 60 % opacity, 3.9:1 on white
# at 14 px. 82 % of the inherited text colour: about 7:1 on the light theme, and it follows the dark theme too.
# The metric and picture rows drawn as one HTML element each (conv_lab.render.html_rows) look like st.metric/st.image;
# code blocks inside markdown (conv_lab.render.markdown_blocks) wrap like st.code(wrap_lines=True).
BASE_CSS = """
[data-testid="stCaptionContainer"], [data-testid="stImageCaption"], .cl-figure figcaption, .cl-metric-label {
  color: color-mix(in srgb, currentColor 82%, transparent); }
.cl-metrics { display: flex; flex-wrap: wrap; gap: 0.25rem 1.5rem; }
.cl-metric { flex: 1 1 8.5rem; min-width: 0; position: relative; }
.cl-metric-label { font-size: 14px; }
.cl-metric[data-help] .cl-metric-label { text-decoration: underline dotted; text-underline-offset: 3px; cursor: help; }
.cl-metric[data-help]:hover::after, .cl-metric[data-help]:focus::after { content: attr(data-help); position: absolute;
  left: 0; top: calc(100% + 0.2rem); z-index: 5; width: max-content; max-width: 18rem; padding: 0.35rem 0.6rem;
  border-radius: 0.4rem; font-size: 13px; background: #262730; color: #fff; white-space: normal; }
.cl-metric:last-child[data-help]::after { left: auto; right: 0; }
.cl-metric-value { font-size: 2rem; line-height: 1.3; white-space: nowrap; }
.cl-figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 300px), 1fr)); gap: 1rem 3rem; }
.cl-figure { margin: 0; }
.cl-figure img { display: block; max-width: 100%; height: auto; }
.cl-figure figcaption { font-size: 14px; margin: 0.3rem 0 0.6rem; text-align: center; }
.cl-figure-text ul { margin: 0.3rem 0 0 1.2rem; }
[data-testid="stMarkdownContainer"] [data-testid="stCode"] code {
  white-space: pre-wrap !important; overflow-wrap: anywhere; }
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


def projector_mode() -> bool:
    """The projector toggle (present=1, in the URL) at the foot of the sidebar; the page's style (readable captions,
    the large type when projecting, less room above the result on a phone), one element per run."""
    if "_moved_before_page" not in st.session_state:  # pages without layer controls (see require_entry); computed
        st.session_state["_moved_before_page"] = controls_moved()  # only then: it reads every control's state
    on = page_flag("present", LABEL, HELP)
    st.html(f"<style>{BASE_CSS}{PRESENT_CSS if on else PHONE_CSS if on_phone() else ''}</style>")
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
