"""The style every page carries: readable captions, the one-element rows and columns that stand in for Streamlit's.

Sent inside an element the page draws anyway (the layer controls' heading), or on its own (ui.present).
"""

# On every page (issue 16, WCAG AA 4.5:1): Streamlit draws captions in its text colour at 60 % opacity, 3.9:1 on white
# at 14 px. 82 % of the inherited text colour: about 7:1 on the light theme, and it follows the dark theme too.
# The metric and picture rows drawn as one HTML element each (conv_lab.render.html_rows) look like st.metric/st.image;
# code blocks inside markdown (conv_lab.render.markdown_blocks) wrap like st.code(wrap_lines=True); .cl-side is
# st.columns([4, 3], gap="large") in one markdown element (markdown_blocks.side_by_side), stacked where columns stack.
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
.cl-side { display: grid; grid-template-columns: calc(400% / 7 - 2rem) calc(300% / 7 - 2rem); gap: 0 4rem; }
@media (max-width: 639.98px) { .cl-side { grid-template-columns: minmax(0, 1fr); } }  /* where columns stack */
[data-testid="stMarkdownContainer"] [data-testid="stCode"] code {
  white-space: pre-wrap !important; overflow-wrap: anywhere; }
"""


def page_style(extra: str = "") -> str:
    """The base style and `extra` as one <style> tag.

    >>> page_style("p { margin: 0; }").endswith("p { margin: 0; }</style>")
    True
    """
    return f"<style>{BASE_CSS}{extra}</style>"
