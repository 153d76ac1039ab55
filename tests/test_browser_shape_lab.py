"""The Shape Lab in a real Chromium: deep links, keyboard sliders, projector and predict-first modes,
the copy link, offline assets and hostile URLs. Screenshots land in test-artifacts/ (look at them)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from conv_lab.core.state import parse_query

from conftest import artifact, wait_idle

BRIEF = "input=3x32x32&filters=64&kernel=3&stride=2&padding=1"
SIZE_CODE = "[data-testid='stCode'] code"


def open_lab(page, server_url: str, query: str = BRIEF, expect: str = "Copy link") -> None:
    """Open the Shape Lab at `query` and wait until `expect` is shown and the run has finished."""
    page.goto(f"{server_url}/?{query}")
    page.get_by_text(expect).first.wait_for(timeout=60_000)
    wait_idle(page)
    # Code blocks and select boxes render through lazily loaded chunks: wait until none is a placeholder.
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)


def shown_size(page) -> str | None:
    """The torch.Size text on the page, if any."""
    texts = page.locator(f"{SIZE_CODE}, [data-testid='stMarkdownContainer'] h2 code").all_inner_texts()
    return next((t.strip() for t in texts if t.strip().startswith("torch.Size(")), None)


def press(page, slider: str, key: str, times: int = 1) -> None:
    """Focus a slider by its accessible name, press a key, and wait for the rerun it causes to finish."""
    before = page.evaluate("() => location.href")
    page.get_by_role("slider", name=slider).focus()
    for _ in range(times):
        page.keyboard.press(key)
    page.wait_for_function("before => location.href !== before", arg=before)  # written during the rerun
    wait_idle(page)


def url_query(page) -> dict[str, str]:
    """The page's current query string as a dict (last value per key)."""
    return {k: v[-1] for k, v in parse_qs(urlsplit(page.url).query).items()}


def expected_size(query: dict[str, str]) -> str:
    """What conv_lab's formula (itself checked against torch elsewhere) says the URL's layer gives."""
    config, _ = parse_query(query)
    return f"torch.Size({list(config.spec().output_shape(config.input_shape()))})"


def no_exception_box(page) -> None:
    """Streamlit draws an uncaught exception as an stException element: there must be none."""
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


def test_deep_link_renders_the_result_with_no_click(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url)
    page.get_by_text("torch.Size([1, 64, 16, 16])").wait_for()
    assert shown_size(page) == "torch.Size([1, 64, 16, 16])"
    assert page.get_by_text("formula and PyTorch agree").is_visible()
    # The formula is typeset, not raw TeX: one block working out H_out, W_out and C_out (its TeX is in the MathML).
    formula = page.locator("[data-testid='stMain'] .katex-display")
    assert formula.count() == 1 and formula.locator(".katex-html").is_visible()
    tex = formula.locator("annotation").text_content()
    assert all(f"{sym}_{{out}}" in tex for sym in "HWC") and "= 16" in tex and "= 64" in tex, tex
    assert page.locator(".cl-metric-value").first.inner_text() == "1,792"
    page.screenshot(path=artifact("shape_lab_deep_link_1400.png"))
    no_exception_box(page)


def test_keyboard_slider_updates_result_and_url(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url)
    filters = page.get_by_role("slider", name="Filters (output channels)")
    filters.focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.get_by_text("torch.Size([1, 67, 16, 16])").wait_for()
    wait_idle(page)
    assert url_query(page)["filters"] == "67"
    page.get_by_role("slider", name="Stride").focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_text("torch.Size([1, 67, 32, 32])").wait_for()
    wait_idle(page)
    query = url_query(page)
    assert query["stride"] == "1" and query["filters"] == "67"
    assert shown_size(page) == expected_size(query) == "torch.Size([1, 67, 32, 32])"
    # The share link follows the sliders too.
    link = page.locator(SIZE_CODE).filter(has_text="input=").inner_text()
    assert "stride=1" in link and "filters=67" in link
    no_exception_box(page)


def test_back_button_restores_the_previous_configuration(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url)
    press(page, "Filters (output channels)", "ArrowRight")
    press(page, "Filters (output channels)", "ArrowRight")
    assert shown_size(page) == "torch.Size([1, 66, 16, 16])"
    page.go_back()
    page.get_by_text("torch.Size([1, 65, 16, 16])").wait_for()
    wait_idle(page)
    assert url_query(page)["filters"] == "65"
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Filters").locator(
        "[data-testid='stSliderThumbValue']")
    assert thumb.inner_text() == "65"  # the control follows the URL back too
    no_exception_box(page)


def _formula_and_pytorch_boxes(page) -> tuple[dict, dict]:
    """Where the formula and the PyTorch column are: the two halves of the one markdown element."""
    formula = page.locator(".cl-side > div").filter(has=page.locator(".katex-display"))
    pytorch = page.locator(".cl-side > div").filter(has_text="torch.Size(")
    return formula.bounding_box(), pytorch.bounding_box()


def test_formula_and_pytorch_sit_side_by_side_then_stack(browser_page, server_url):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    open_lab(page, server_url)
    formula, pytorch = _formula_and_pytorch_boxes(page)
    assert formula["y"] == pytorch["y"] and formula["x"] + formula["width"] < pytorch["x"], (formula, pytorch)
    assert 1.25 < formula["width"] / pytorch["width"] < 1.45, (formula, pytorch)  # 4 : 3, as st.columns([4, 3])
    # The page's style rides on the sidebar's heading: it must hold with the sidebar folded away.
    page.mouse.move(150, 300)
    page.get_by_test_id("stSidebarCollapseButton").locator("button").click()
    page.wait_for_function("() => document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 0")
    formula, pytorch = _formula_and_pytorch_boxes(page)
    assert formula["y"] == pytorch["y"] and formula["x"] + formula["width"] < pytorch["x"], (formula, pytorch)
    assert page.locator(".cl-metrics").evaluate("el => getComputedStyle(el).display") == "flex"
    page.set_viewport_size({"width": 600, "height": 900})  # a narrow window: stacked, as st.columns stack
    page.wait_for_timeout(300)
    formula, pytorch = _formula_and_pytorch_boxes(page)
    assert pytorch["y"] >= formula["y"] + formula["height"] and formula["x"] == pytorch["x"], (formula, pytorch)
    page.screenshot(path=artifact("shape_lab_stacked_600.png"))
    no_exception_box(page)


def test_projector_mode_renders_large(browser_page, server_url):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    open_lab(page, server_url, BRIEF + "&present=1")
    big = page.locator("[data-testid='stMarkdownContainer'] h2 code").filter(has_text="torch.Size([1, 64, 16, 16])")
    big.wait_for()
    box = big.bounding_box()
    assert box["y"] + box["height"] <= 720, "the result must be on the projected screen without scrolling"
    big_px = float(big.evaluate("el => parseFloat(getComputedStyle(el).fontSize)"))
    assert big_px >= 24, big_px
    assert page.get_by_role("switch", name="Projector mode").is_checked()
    assert page.locator(".cl-metric").count() == 0  # secondary detail hidden
    assert page.locator("[data-testid='stImage']").count() == 1  # the padded grid, the most projectable picture
    page.screenshot(path=artifact("shape_lab_projector_1280x720.png"))
    # The toggle (in the folded sidebar) leaves projector mode and takes present=1 out of the URL.
    page.get_by_test_id("stExpandSidebarButton").click()
    page.get_by_text("Projector mode").click()
    page.locator(".cl-metric").first.wait_for()
    wait_idle(page)
    assert "present" not in url_query(page)
    assert shown_size(page) == "torch.Size([1, 64, 16, 16])"
    normal_px = float(page.locator(SIZE_CODE).filter(has_text="torch.Size(").evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)"))
    assert big_px >= 1.8 * normal_px, (big_px, normal_px)
    no_exception_box(page)


def test_predict_first_hides_the_answer_until_checked(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url, BRIEF + "&predict=1")
    assert shown_size(page) is None
    assert page.get_by_text("torch.Size(").count() == 0
    assert page.locator("[data-testid='stImage'], .cl-figure").count() == 0  # the grid would give the answer away
    page.get_by_text("The answer is hidden").wait_for()
    page.screenshot(path=artifact("shape_lab_predict_hidden.png"))
    for label, value in (("C_out", "64"), ("H_out", "15"), ("W_out", "16")):
        page.get_by_label(label).fill(value)
    page.get_by_role("button", name="Check my answer").click()
    page.get_by_text("H_out: you said 15, it is 16").wait_for()
    wait_idle(page)
    assert shown_size(page) == "torch.Size([1, 64, 16, 16])"
    page.screenshot(path=artifact("shape_lab_predict_checked.png"))
    # A new configuration hides the answer again.
    page.get_by_role("slider", name="Stride").focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_text("The answer is hidden").wait_for()
    wait_idle(page)
    assert shown_size(page) is None
    no_exception_box(page)


def test_copy_link_holds_the_current_url(browser_page, server_url):
    page = browser_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    open_lab(page, server_url)
    page.get_by_role("slider", name="Kernel size").focus()
    page.keyboard.press("ArrowLeft")
    page.get_by_text("torch.Size([1, 64, 17, 17])").wait_for()
    wait_idle(page)
    block = page.locator("[data-testid='stCode']").filter(has_text="input=")
    link = block.inner_text().strip()
    assert urlsplit(link)._replace(query="") == urlsplit(page.url)._replace(query="")
    assert parse_qs(urlsplit(link).query) == parse_qs(urlsplit(page.url).query)
    assert parse_qs(urlsplit(link).query)["kernel"] == ["2"]
    block.hover()
    block.get_by_role("button").click()  # Streamlit's copy icon
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.strip() == link
    # The copied link opens the same layer in a fresh session.
    page.goto(link)
    page.get_by_text("torch.Size([1, 64, 17, 17])").wait_for(timeout=60_000)
    no_exception_box(page)


def test_page_loads_nothing_from_outside(browser_page, server_url):
    page = browser_page
    hosts = []
    page.on("request", lambda request: hosts.append((urlsplit(request.url).hostname, request.url)))
    open_lab(page, server_url, BRIEF + "&transposed=1&output_padding=1")
    press(page, "Filters (output channels)", "ArrowRight")
    page.get_by_text("Advanced").click()  # expanders, icons and fonts of the hidden controls
    page.get_by_text("Projector mode").click()
    page.locator("[data-testid='stMarkdownContainer'] h2 code").first.wait_for()
    wait_idle(page)
    assert len(hosts) > 10, hosts  # the page, its scripts, fonts, the websocket, the picture
    outside = [url for host, url in hosts
               if urlsplit(url).scheme not in ("data", "blob", "about") and host not in ("127.0.0.1", "localhost")]
    assert not outside, outside


HOSTILE = [
    ("kernel=banana&filters=99999&zzz=1", "Link settings not used"),
    ("input=0x0x0&stride=-3&padding=%00", "Link settings not used"),
    ("input=3x32x32&filters=10&groups=5", "This layer cannot run"),
    ("input=3x4x4&kernel=3&padding=4&padding_mode=reflect", "This layer cannot run"),
    ("input=3x8x8&stride=2&padding=same", "This layer cannot run"),
    ("kernel=" + "9" * 400 + "&input=%3Cscript%3Ealert(1)%3C/script%3E", "Link settings not used"),
    ("transposed=1&stride=1&output_padding=7&present=1&predict=1", "This layer cannot run"),
]


@pytest.mark.parametrize("query, words", HOSTILE, ids=[f"hostile{i}" for i in range(len(HOSTILE))])
def test_hostile_urls_show_a_message_never_an_exception(browser_page, server_url, query, words):
    page = browser_page
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_lab(page, server_url, query, expect=words)
    no_exception_box(page)
    assert page.get_by_text("Traceback").count() == 0
    if "%3Cscript" in query:  # shown as text in the notice, never run as a script
        assert page.get_by_text("<script>alert(1)</script>", exact=False).first.is_visible()
        assert not page.evaluate("() => [...document.scripts].some(s => s.textContent.includes('alert(1)'))")
    if words == "This layer cannot run":
        assert page.get_by_text("Fix:").first.is_visible()
    # The controls still work: a slider press reruns cleanly.
    press(page, "Filters (output channels)", "ArrowLeft")
    no_exception_box(page)
    index = HOSTILE.index((query, words))
    if index in (0, 2):
        page.screenshot(path=artifact(f"shape_lab_hostile_{index}.png"))
    assert re.search(r"filters=\d+", page.url)
    assert not dialogs, dialogs
