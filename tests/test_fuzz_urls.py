"""Hostile URLs on every page (issue #9): whatever a student types after '?', the page renders, no traceback.

Pages are read from app.py's PAGES list (with ast, so pages added later are fuzzed too).
Two drivers:
- AppTest: hypothesis query dicts (known and random keys, huge/negative numbers, unicode,
  repeated keys, empty and very long values), first as a fresh session on the default page,
  then as a deep link into that session on the page under test.
- The real server over its websocket: raw query strings, including malformed percent
  escapes, with a fresh session per example (a new student's first request).
Neither may show an exception element; raw HTML (st.html, unsafe markdown, iframe srcdoc) may
not echo the URL's text.
"""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab.core.state import CONFIG_KEYS, parse_query
from ui.navigation import PAGE_OPTION_KEYS as UI_KEYS

from conftest import n_examples, run_async

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))


from load import app_pages  # noqa: E402  (reads app.py's PAGES with ast, without importing the app)

PAGES = app_pages()
MARKER = "<b id=cvlab-xss>"  # if this ever reaches the page as HTML, user text is rendered raw

_tricky = st.sampled_from([
    "", " ", "0", "-1", "-0", "+3", "00003", "3.0", "3.5", "1e9", "1e308", "-1e308", "nan", "NaN", "inf", "-inf",
    "0x10", "3x3", "3x5", "3x3x3", "3x3x3x3", "x", "xx", "3x", "x3", "-1x-1", "0x0", "999999999x1", "3×3",
    "３", "٣", "½", "ⅻ", "𝟑", "3\u200b", "\u202e3", "\x00", "\t3\n", "same", "valid", "SAME", "Same ", "zeros",
    "reflect", "circular", "true", "false", "yes", "on", "None", "null", "[]", "{}", "'; DROP TABLE x;--",
    "../../etc/passwd", "%00", "%zz", "&", "=", "?", "#", MARKER, "<script>alert(1)</script>", "$$\\frac{1}{0}$$",
    "**bold**", "`code`", "[link](javascript:alert(1))",
])
_number = st.one_of(st.integers(-10**30, 10**30), st.integers(-3, 70)).map(str)
_float = st.floats(allow_nan=True, allow_infinity=True).map(repr)
_long = st.builds(lambda unit, n: (unit * n)[:20_000], st.sampled_from(["9", "3x", "é", "💥", "<", "%"]),
                  st.integers(150, 5000))
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)  # a browser cannot send lone surrogates
_value = st.one_of(_tricky, _number, _float, _text, _long)
_key = st.one_of(st.sampled_from(CONFIG_KEYS + UI_KEYS), _text.filter(bool).map(lambda t: t[:12]),
                 st.sampled_from(["", "page", "input ", "KERNEL", "kernel[]", "__proto__", "_entry_ran", "config"]))
_query = st.dictionaries(_key, st.one_of(_value, st.lists(_value, min_size=2, max_size=4)), max_size=8)


def _page_ids(pages):
    return [Path(file).stem for file, _ in pages]


def _raw_html_texts(nodes):
    """Bodies of every element rendered as raw HTML (st.html, markdown with unsafe_allow_html)."""
    for node in nodes:
        children = getattr(node, "children", None)
        if children:
            yield from _raw_html_texts(children.values())
            continue
        proto = getattr(node, "proto", None)
        if getattr(node, "type", "") == "html" or getattr(proto, "allow_html", False):
            yield str(getattr(proto, "body", ""))
        if getattr(proto, "srcdoc", ""):  # st.iframe with generated HTML (the sweep player)
            yield str(proto.srcdoc)


def _check(at, query: dict, where: str) -> None:
    """No exception element, something rendered, and no raw-HTML element echoing URL text."""
    assert not at.exception, f"{where}: exception shown for ?{query!r}: {[e.value for e in at.exception]}"
    assert len(at.main.children) > 0, f"{where}: nothing rendered for ?{query!r}"
    for text in _raw_html_texts([at.main, at.sidebar]):
        assert MARKER not in text, f"{where}: URL text rendered as raw HTML: {text[:200]!r}"


@pytest.mark.parametrize("page", [file for file, _ in PAGES], ids=_page_ids(PAGES))
@settings(max_examples=n_examples(20, 5))
@given(query=_query)
def test_hostile_query_dict_renders_every_page(page, query):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    for key, value in query.items():
        at.query_params[key] = value
    at.run()  # a fresh session: the default page parses the hostile URL
    _check(at, query, "first load")
    if parse_query(query, UI_KEYS)[1] and "show_notices(" in (ROOT / PAGES[0][0]).read_text():
        notices = [w.value for w in at.warning if "Link setting" in w.value]
        assert notices, f"the default page shows no notice for ?{query!r}"
    at.switch_page(page)
    at.query_params.clear()
    for key, value in query.items():  # the same hostile link again, now as a deep link to `page`
        at.query_params[key] = value
    at.run()
    _check(at, query, page)


# ---------------------------------------------------------------- the real server, raw query strings
_raw_piece = st.one_of(
    st.builds(lambda k, v: f"{k}={v}", st.sampled_from(CONFIG_KEYS + UI_KEYS), _value.map(lambda v: quote(v, safe=""))),
    st.builds(lambda k, v: f"{k}={v}", _text.map(lambda t: quote(t[:8])), _value.map(quote)),
    st.sampled_from(["", "&", "==", "kernel", "kernel=", "=5", "%", "%zz", "%ff%fe", "%00", "kernel=%E2%82",
                     "a=b=c", "kernel=5&kernel=7&kernel=", "input=3x32x32;stride=2", "+=+", "%2B=%2B"]),
    _text,
)
_raw_query = st.lists(_raw_piece, max_size=10).map("&".join)
_page_name = st.one_of(st.sampled_from([url for _, url in PAGES]),
                       st.sampled_from(["nope", "sweep/..", "../app", "SWEEP", "shape_lab", "%2e%2e", "ωmega", " "]))


@settings(max_examples=n_examples(40, 8))
@given(query=_raw_query, page=_page_name)
def test_raw_hostile_urls_on_the_real_server(server_url, query, page):
    from st_session import StreamlitSession

    async def open_link():
        async with StreamlitSession(server_url, timeout=60) as session:
            return await session.run(query, page, collect=True)

    result = run_async(open_link())
    known = page in {url for _, url in PAGES}
    assert result.status is not None, f"/{page}?{query!r}: {result.error}"
    assert not result.exceptions, f"/{page}?{query!r}: {result.exceptions}"
    assert result.element_types, f"/{page}?{query!r}: nothing rendered"
    if known:
        assert not result.page_not_found, f"/{page} is registered in app.py but was not found"
    for _, element in result.elements:
        body = element.get("markdown", {})
        html = element.get("html", {}).get("body", "") + (body.get("body", "") if body.get("allowHtml") else "")
        html += element.get("iframe", {}).get("srcdoc", "")
        assert MARKER not in html, f"/{page}?{query!r}: URL text rendered as raw HTML"
