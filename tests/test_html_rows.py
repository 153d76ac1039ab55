"""The one-element metric and picture rows (conv_lab.render.html_rows): any text, hostile or not, stays text."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given
from hypothesis import strategies as st

from conv_lab.render.html_rows import Figure, Metric, figure_row_html, metric_row_html

TEXT = st.text(alphabet=st.sampled_from('<>&"\'=/ ab1-·×script onerror'), max_size=30)
TAGS = {"div", "figure", "img", "figcaption", "strong", "ul", "li"}


class Reader(HTMLParser):
    """Every tag, attribute value and text chunk of a piece of HTML, as a browser would parse them."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags, self.attrs, self.texts = [], [], []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.texts.append(data)


@given(label=TEXT, value=TEXT, help_text=TEXT)
def test_a_metric_shows_its_texts_as_text(label, value, help_text):
    read = Reader(metric_row_html([Metric(label, value, help_text)]))
    assert set(read.tags) <= {"div"} and len(read.tags) == 4
    assert "".join(read.texts) == label + value
    assert ("data-help", help_text) in read.attrs if help_text else all(k != "data-help" for k, _ in read.attrs)
    assert {k for k, _ in read.attrs} <= {"class", "role", "aria-label", "tabindex", "data-help"}


@given(caption=TEXT, alt=TEXT, lead=TEXT, text=TEXT, notes=st.lists(TEXT, max_size=3))
def test_a_figure_shows_its_texts_as_text(caption, alt, lead, text, notes):
    read = Reader(figure_row_html([Figure(b"\x89PNG", caption, alt, lead, text, tuple(notes))]))
    assert set(read.tags) <= TAGS and read.tags.count("img") == 1
    assert ("alt", alt) in read.attrs and ("src", "data:image/png;base64,iVBORw==") in read.attrs
    assert "".join(read.texts) == caption + (f"{lead} " if lead else "") + text + "".join(notes)
    assert {k for k, _ in read.attrs} <= {"class", "src", "alt"}
