"""Every page on a 390×844 phone (issue 16 item 5) in a real Chromium with a mobile User-Agent and touch: the layer's
number boxes sit right above the page's result, a change made there keeps the result on the screen, nothing is wider
than the screen, and a desktop browser sees none of it. Screenshots land in test-artifacts/ (look at them)."""

from __future__ import annotations

import pytest
from test_browser_room import sidebar_width
from test_browser_shape_lab import no_exception_box

from conftest import artifact, wait_idle

WIDTH, HEIGHT = 390, 844
BOXES = ".st-key-phone_controls"
OVERFLOW = """() => { const main = document.querySelector('[data-testid="stMain"]');
  return [document.scrollingElement.scrollWidth, main.scrollWidth, innerWidth]; }"""


def open_page(page, server_url: str, path: str) -> None:
    """Open `path` and wait until the run has finished and no element is a lazily loaded placeholder."""
    page.goto(f"{server_url}/{path}")
    page.locator("h1").first.wait_for(timeout=90_000)
    wait_idle(page, 90_000)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)


def no_overflow(page) -> None:
    """Nothing scrolls sideways: the document and Streamlit's main container are no wider than the phone."""
    document, main, inner = page.evaluate(OVERFLOW)
    assert inner == WIDTH and document <= WIDTH and main <= WIDTH, (document, main, inner)


def on_screen(locator, what: str) -> dict:
    """The element's box, asserted to lie inside the phone's screen (all of it, or its top 200 px when taller)."""
    box = locator.bounding_box()
    assert box, f"{what} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH + 1, (what, box)
    assert 0 <= box["y"] and box["y"] + min(box["height"], 200) <= HEIGHT, (what, box)
    return box


def set_box(page, label: str, value: int, url_part: str) -> None:
    """Scroll the layer's boxes to the top of the screen, type `value` into one of them, and wait for the rerun."""
    page.locator(BOXES).evaluate("el => el.scrollIntoView({block: 'start'})")
    box = page.locator(BOXES).get_by_role("spinbutton", name=label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    page.wait_for_function("part => location.search.includes(part)", arg=url_part, timeout=30_000)
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)


def box_labels(page) -> list[str]:
    return page.locator(BOXES).locator("[data-testid='stWidgetLabel']").all_inner_texts()


def test_phone_sweep_boxes_sit_above_a_readable_player(phone_page, server_url):
    page = phone_page
    open_page(page, server_url, "sweep?input=1x5x5&filters=1&kernel=3&stride=2&padding=1")
    frame = page.frame_locator("iframe").first
    frame.locator("#sweep-player[data-ready='1']").wait_for(timeout=30_000)
    assert sidebar_width(page) <= 1
    assert box_labels(page) == ["Input size", "C_in", "Filters", "Kernel", "Stride", "Padding", "Dilation"]
    page.screenshot(path=artifact("phone_sweep.png"))
    set_box(page, "Stride", 1, "stride=1")
    frame.locator("#count").filter(has_text="of 25").wait_for(timeout=30_000)
    assert frame.locator("#count").inner_text() == "step 1 of 25"
    canvas = on_screen(frame.locator("#sweep-canvas"), "the player's canvas")
    assert canvas["width"] >= 300, "the figure is scaled to the phone's width"
    # readable: the step's arithmetic, the title and the colour key are HTML text of 14 px or more, not canvas pixels
    for part in ("#arith", "#narrow b", "#narrow span"):
        element = frame.locator(part).first
        assert element.is_visible(), part
        assert element.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 14, part
    assert frame.locator("#narrow b").inner_text().startswith("Conv2d 1→1, kernel 3×3, stride 1×1")
    for name in ("First step", "Step back", "Play", "Step forward", "Last step"):  # tap targets on the screen
        button = frame.get_by_role("button", name=name).bounding_box()
        assert button["width"] >= 40 and button["height"] >= 40 and button["x"] + button["width"] <= WIDTH, name
    frame.get_by_role("button", name="Step forward").tap()
    assert frame.locator("#count").inner_text() == "step 2 of 25"
    assert frame.locator("body").evaluate("b => b.scrollWidth <= b.clientWidth"), "the player scrolls sideways"
    no_overflow(page)
    page.screenshot(path=artifact("phone_sweep_changed.png"))
    # pooling has no filters, and average pooling no dilation: their boxes go
    page.get_by_text("Max pooling").click()
    page.wait_for_function("() => location.search.includes('op=max')", timeout=30_000)
    wait_idle(page)
    assert box_labels(page) == ["Input size", "C_in", "Kernel", "Stride", "Padding", "Dilation"]
    page.get_by_text("Average pooling").click()
    page.wait_for_function("() => location.search.includes('op=avg')", timeout=30_000)
    wait_idle(page)
    assert box_labels(page) == ["Input size", "C_in", "Kernel", "Stride", "Padding"]
    no_exception_box(page)


def test_phone_matrix_boxes_and_padding_flag_above_the_pictures(phone_page, server_url):
    page = phone_page
    open_page(page, server_url, "matrix?input=1x6x6&filters=1&kernel=3")
    assert sidebar_width(page) <= 1
    page.get_by_text("(16 rows)").first.wait_for()
    set_box(page, "Kernel", 2, "kernel=2")
    page.get_by_text("(25 rows)").first.wait_for(timeout=30_000)  # a 5×5 output: 25 rows of C
    pictures = page.locator("[data-testid='stMain'] [data-testid='stImage'] img")
    on_screen(pictures.first, "the kernel, padded input and output picture")
    assert all(b["x"] + b["width"] <= WIDTH + 1 for b in (pictures.nth(i).bounding_box() for i in range(pictures.count())))
    no_overflow(page)
    page.screenshot(path=artifact("phone_matrix_changed.png"))
    # the page's own sidebar flag is inline on a phone, beside the boxes
    flag = page.locator("[data-testid='stMain']").get_by_text("Padding cells as columns")
    assert flag.count() == 1
    assert page.locator("[data-testid='stSidebar']").get_by_text("Padding cells as columns").count() == 0
    flag.click()
    page.wait_for_function("() => location.search.includes('show_padding=1')", timeout=30_000)
    wait_idle(page)
    no_exception_box(page)


def test_phone_feature_maps_boxes_above_the_maps(phone_page, server_url):
    page = phone_page
    open_page(page, server_url, "feature-maps?input=3x32x32&filters=4&kernel=3")
    assert page.get_by_text("Picture, filters and colour scale").is_visible()  # the page's options: one tap away
    set_box(page, "Filters", 8, "filters=8")
    output = page.locator("[data-testid='stMain'] h3").filter(has_text="torch.Size([1, 8, 30, 30])")
    output.wait_for(timeout=30_000)
    on_screen(output, "the output's torch.Size")
    maps = page.locator("[data-testid='stMain'] [data-testid='stImage'] img").nth(1)
    on_screen(maps, "the feature maps")
    no_overflow(page)
    page.screenshot(path=artifact("phone_feature_maps_changed.png"))
    no_exception_box(page)


def test_phone_gradients_boxes_above_the_gradient_shapes(phone_page, server_url):
    page = phone_page
    open_page(page, server_url, "gradients?input=1x5x5&filters=1&kernel=3")
    set_box(page, "Input size", 6, "input=1x6x6")
    shape = page.locator("[data-testid='stMain'] [data-testid='stCode']").filter(
        has_text="x.grad.shape  →  torch.Size([1, 1, 6, 6])")
    shape.wait_for(timeout=30_000)
    on_screen(shape, "the input gradient's shape")
    code = page.locator("[data-testid='stMain'] [data-testid='stCode'] pre").first
    assert code.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the layer's code is wrapped on a phone"
    no_overflow(page)
    page.screenshot(path=artifact("phone_gradients_changed.png"))
    no_exception_box(page)


def test_phone_practice_keeps_its_numbers_on_one_line(phone_page, server_url):
    page = phone_page
    open_page(page, server_url, "practice?seed=7&level=1")
    tops = [m.bounding_box()["y"] for m in page.locator("[data-testid='stMetric']").all()]
    assert len(tops) == 4 and max(tops) - min(tops) < 2, tops
    on_screen(page.locator("[data-testid='stMain'] [data-testid='stCode']").first, "the question's code")
    no_overflow(page)
    page.screenshot(path=artifact("phone_practice.png"))


@pytest.mark.parametrize("path", ["?input=3x227x227&filters=96&kernel=11&stride=4", "network", "class", "sweep?op=avg",
                                  "matrix?input=1x6x6&show_padding=1",
                                  "feature-maps?input=1x64&filters=4&kernel=5", "feature-maps?input=1x4x16x16"])
def test_phone_pages_are_no_wider_than_the_phone(phone_page, server_url, path):
    page = phone_page
    open_page(page, server_url, path)
    page.wait_for_timeout(500)  # images and iframes settle their size
    no_overflow(page)
    for image in page.locator("[data-testid='stMain'] [data-testid='stImage'] img, .cl-figure img").all():
        box = image.bounding_box()
        assert box["x"] + box["width"] <= WIDTH + 1, box
    no_exception_box(page)


@pytest.mark.parametrize("path", ["", "sweep", "matrix?input=1x6x6", "feature-maps", "gradients?input=1x5x5",
                                  "practice", "network"])
def test_desktop_is_unchanged(browser_page, server_url, path):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(page, server_url, path)
    assert page.locator(BOXES).count() == 0
    assert page.get_by_text("About this page").count() == 0
    assert page.get_by_text("Picture, filters and colour scale").count() == 0
    if path.startswith("matrix"):
        assert page.locator("[data-testid='stSidebar']").get_by_text("Padding cells as columns").count() == 1
