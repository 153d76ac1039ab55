"""The /matrix page in a real Chromium: the pictures load, the padding toggle and the smaller-input button work."""

from __future__ import annotations

from conftest import artifact, wait_idle

SMALL = "input=1x4x4&filters=1&kernel=3&stride=1&padding=0"


def _open(page, server_url: str, query: str) -> None:
    page.goto(f"{server_url}/matrix?{query}")
    page.get_by_role("heading", name="Convolution as a matrix").wait_for()
    wait_idle(page)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".every(i => i.complete && i.naturalWidth > 0) && "
                           "document.querySelectorAll('[data-testid=stImage] img').length >= 5")


def _image_sizes(page) -> list[list[int]]:
    return page.evaluate("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                         ".map(i => [i.naturalWidth, i.naturalHeight])")


def test_small_layer_pictures_load_and_padding_toggle(browser_page, server_url):
    page = browser_page
    _open(page, server_url, SMALL + "&cell=1,1")
    for text in ("y = C·x, worked out", "Transposed: Cᵀ", "im2col: how the library computes it",
                 "Equal: largest difference 0"):
        assert page.get_by_text(text).first.is_visible(), text
    sizes = _image_sizes(page)
    assert len(sizes) == 5 and all(w >= 400 and h >= 200 for w, h in sizes), sizes
    page.screenshot(path=str(artifact("matrix_4x4_k3.png")))
    # no padding: the toggle adds no columns
    page.get_by_test_id("stSidebar").get_by_text("Padding cells as columns").click()
    page.wait_for_url(lambda url: "show_padding=1" in url)
    wait_idle(page)
    assert page.get_by_text("Each row of C is one output cell (4 rows)").is_visible()


def test_stride_two_with_padding_columns(browser_page, server_url):
    page = browser_page
    _open(page, server_url, "input=1x5x5&filters=1&kernel=3&stride=2&padding=1&cell=1,2")
    assert not page.get_by_text("Grey columns are").is_visible()
    page.get_by_test_id("stSidebar").get_by_text("Padding cells as columns").click()
    wait_idle(page)
    page.get_by_text("Grey columns are the 24 padding cells").wait_for()
    page.wait_for_url(lambda url: "show_padding=1" in url)
    assert "show_padding=1" in page.url and ("cell=1%2C2" in page.url or "cell=1,2" in page.url), page.url
    page.screenshot(path=str(artifact("matrix_stride2_padding_columns.png")))


def test_transposed_layer_and_too_large_button(browser_page, server_url):
    page = browser_page
    _open(page, server_url, "input=1x3x3&filters=1&kernel=3&stride=2&padding=1&transposed=1&output_padding=1")
    assert page.get_by_text("This layer is a ConvTranspose2d: it is Cᵀ").is_visible()
    assert page.get_by_text("y = Cᵀ·x, worked out").is_visible()
    page.screenshot(path=str(artifact("matrix_transposed.png")))
    page.goto(f"{server_url}/matrix?input=3x32x32&filters=16&kernel=3")
    button = page.get_by_role("button", name="Use this smaller layer in the sidebar")
    button.wait_for()
    assert page.get_by_text("C would be 14400×3072").is_visible()
    page.get_by_text("y = C·x, worked out").wait_for()  # the largest layer that fits is drawn without a click
    page.screenshot(path=str(artifact("matrix_too_large_shrunk.png")))
    button.click()
    page.wait_for_url(lambda url: "input=3x7x7" in url)
    wait_idle(page)
    assert page.get_by_text("C would be 14400×3072").count() == 0
    page.screenshot(path=str(artifact("matrix_after_smaller_input.png")))


def _image_sources(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('[data-testid=stImage] img')].map(i => i.src)")


def _choose_cell(page, name: str) -> None:
    before = _image_sources(page)
    page.get_by_role("combobox", name="Output cell (a row of C)").click()
    page.get_by_role("option", name=name, exact=True).click()
    # The rerun may not have started when the click returns: wait for the pictures to be replaced.
    page.wait_for_function("(before) => { const now = [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".map(i => i.src); return now.length >= 5 && now.some((s, k) => s !== before[k]); }",
                           arg=before)
    wait_idle(page)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stImage] img')]"
                           ".every(i => i.complete && i.naturalWidth > 0)")


def test_moving_the_cell_and_back_gives_the_same_pictures(browser_page, server_url):
    page = browser_page
    _open(page, server_url, "input=1x5x5&filters=1&kernel=3&stride=2&padding=1")
    first = _image_sources(page)
    _choose_cell(page, "(2, 1)")
    page.wait_for_url(lambda url: "cell=2" in url)
    moved = _image_sources(page)
    assert len(moved) == 5 and all(a != b for a, b in zip(first, moved)), "every picture follows the cell"
    page.screenshot(path=str(artifact("matrix_cell_2_1.png")))
    _choose_cell(page, "(0, 0)")
    page.wait_for_url(lambda url: "cell=" not in url)
    assert _image_sources(page) == first  # the same bytes again: Streamlit names media by their content
