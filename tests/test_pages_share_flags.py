"""Every page's share link keeps the mode flags (present=1, predict=1) and the page's own options (issue 16, item 3).

A predict-first link that drops predict=1 sends the answer; a projector link that drops present=1 lands small."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest

from conftest import run_app, shown_code

LAYER = {"input": "2x6x6", "filters": "2", "kernel": "3", "stride": "2", "padding": "1"}
CASES = [  # (page file, query, the page's own options the link must keep)
    ("pages/shape_lab.py", {**LAYER, "predict": "1"}, {}),
    ("pages/matrix.py", {**LAYER, "show_padding": "1", "cell": "1,2", "filter": "1"},
     {"show_padding": "1", "cell": "1,2", "filter": "1"}),
    ("pages/feature-maps.py", {**LAYER, "bank": "mix", "relu": "1", "image": "stripes"},
     {"bank": "mix", "relu": "1", "image": "stripes"}),
    ("pages/gradients.py", {**LAYER, "grad": "weight", "channel": "1", "filter": "1"},
     {"grad": "weight", "channel": "1", "filter": "1"}),
    ("pages/network.py", {"net": "I1x28x28-C6k5-R-M2", "skip": ""}, {"net": "I1x28x28-C6k5-R-M2"}),
    ("pages/practice.py", {"seed": "42", "level": "2"}, {"seed": "42", "level": "2"}),
]


def share_link(at, key: str) -> dict[str, str]:
    """The query of the page's share box (the last code block holding `key=`)."""
    links = [c for c in shown_code(at) if f"{key}=" in c and "?" in c and "\n" not in c.strip()]
    assert links, [c[:80] for c in shown_code(at)]
    return dict(parse_qsl(urlsplit(links[-1].strip()).query, keep_blank_values=True))


@pytest.mark.parametrize(("page", "query", "own"), CASES, ids=[c[0].split("/")[1][:-3] for c in CASES])
def test_share_link_keeps_present_and_the_page_options(page, query, own):
    at = run_app(page, {**query, "present": "1"})
    assert not at.exception, at.exception
    shared = share_link(at, next(iter(query)))
    assert shared.get("present") == "1", shared
    for key, value in own.items():
        assert shared.get(key) == value, (key, shared)
    if page == "pages/shape_lab.py":
        assert shared.get("predict") == "1", shared  # a predict-first link must not leak the answer


def test_class_link_never_carries_the_teacher_view():
    at = run_app("pages/practice.py", {"seed": "42", "level": "2", "teacher": "1"})
    shared = share_link(at, "seed")
    assert "teacher" not in shared and shared["seed"] == "42", shared


def test_share_link_without_flags_stays_short():
    at = run_app("pages/gradients.py", LAYER)
    shared = share_link(at, "input")
    assert "present" not in shared and "predict" not in shared and shared["input"] == "2x6x6", shared
