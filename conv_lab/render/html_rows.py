"""A row of metrics or of pictures as one HTML element: one message per rerun instead of six or seven.

Every Streamlit element costs the server ~0.3 ms per rerun and the browser a React redraw (issue 17: 150 students
on one laptop; issue 16: a slider press within 2× of a bare slider). The look follows Streamlit's own metric and
image (ui.style.BASE_CSS styles the classes). Every text is escaped here, so a page passes plain text only
(tests/test_server_config.py: no page renders HTML it built itself).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from conv_lab.render.data_uri import png_data_uri


@dataclass(frozen=True)
class Metric:
    """One labelled number; `help` is its tooltip (e.g. the exact figure when the value is shortened)."""

    label: str
    value: str
    help: str = ""


@dataclass(frozen=True)
class Figure:
    """One picture with its caption and alt text, and a short explanation under it: a bold lead, text, notes."""

    png: bytes
    caption: str
    alt: str
    lead: str = ""
    text: str = ""
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class HtmlBlock:
    """Markup for st.html to take as it is: through `_repr_html_` Streamlit skips dedenting it, a regex pass over
    the ~20 KB of inline pictures that cost ~0.5 ms of the server's interpreter per rerun (issue 17).

    >>> HtmlBlock("<p>x</p>")._repr_html_()
    '<p>x</p>'
    """

    markup: str

    def _repr_html_(self) -> str:
        return self.markup


def metric_row_html(metrics: list[Metric]) -> str:
    """Metrics side by side, wrapping on a narrow screen; each is a labelled group for screen readers.

    >>> html = metric_row_html([Metric("Parameters", "1,792", "summed")])
    >>> html.startswith('<div class="cl-metrics"><div class="cl-metric" role="group" aria-label="Parameters: 1,792. sum')
    True
    >>> 'data-help="summed"' in html, '<div class="cl-metric-value">1,792</div>' in html
    (True, True)
    """
    return f'<div class="cl-metrics">{"".join(_metric(m) for m in metrics)}</div>'


def figure_row_html(figures: list[Figure]) -> str:
    """Pictures side by side (stacked on a phone), each inline as a data: URI with its caption and text.

    >>> html = figure_row_html([Figure(b"PNG", "a <grid>", "the grid", "Why.", "Because", ("x < y",))])
    >>> html.startswith('<div class="cl-figures"><figure class="cl-figure"><img src="data:image/png;base64,UE5H"')
    True
    >>> 'alt="the grid"' in html, "<figcaption>a &lt;grid&gt;</figcaption>" in html, "<li>x &lt; y</li>" in html
    (True, True, True)
    """
    return f'<div class="cl-figures">{"".join(_figure(f) for f in figures)}</div>'


def _metric(metric: Metric) -> str:
    """One metric's markup."""
    label, value, help_text = escape(metric.label), escape(metric.value), escape(metric.help)
    # The help shows on hover and on keyboard focus (a CSS tooltip; a title attribute is mouse-only) and is read out.
    described = f' tabindex="0" data-help="{help_text}"' if metric.help else ""
    spoken = f"{label}: {value}" + (f". {help_text}" if metric.help else "")
    return (f'<div class="cl-metric" role="group" aria-label="{spoken}"{described}>'
            f'<div class="cl-metric-label">{label}</div><div class="cl-metric-value">{value}</div></div>')


def _figure(figure: Figure) -> str:
    """One picture's markup."""
    lead = f"<strong>{escape(figure.lead)}</strong> " if figure.lead else ""
    notes = "".join(f"<li>{escape(note)}</li>" for note in figure.notes)
    text = (f'<div class="cl-figure-text">{lead}{escape(figure.text)}{f"<ul>{notes}</ul>" if notes else ""}</div>'
            if lead or figure.text or notes else "")
    return (f'<figure class="cl-figure"><img src="{png_data_uri(figure.png)}" alt="{escape(figure.alt)}">'
            f"<figcaption>{escape(figure.caption)}</figcaption>{text}</figure>")
