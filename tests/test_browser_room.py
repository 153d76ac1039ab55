"""Built for the room (issue 16) in a real Chromium: projector mode at 1280×720 and the phone layout at 390×844.
Screenshots land in test-artifacts/ (look at them)."""

from __future__ import annotations

import pytest
from test_browser_shape_lab import BRIEF, no_exception_box, open_lab

from conftest import artifact, wait_idle

PROJECTED = [  # (query, the torch.Size it shows): square 2-D, transposed (long formula), a 3-D clip (three axes)
    (BRIEF, "torch.Size([1, 64, 16, 16])"),
    ("input=3x8x8&filters=16&kernel=4&stride=2&padding=1&transposed=1&output_padding=1", "torch.Size([1, 16, 17, 17])"),
    ("input=3x16x32x32&filters=16&kernel=3&stride=2&padding=1", "torch.Size([1, 16, 8, 16, 16])"),
]


def sidebar_width(page) -> float:
    """How wide the sidebar shows on screen (0 when collapsed)."""
    return page.locator("[data-testid='stSidebar']").evaluate(
        "el => { const r = el.getBoundingClientRect(); return Math.max(0, Math.min(r.right, innerWidth) - "
        "Math.max(r.left, 0)); }")


@pytest.mark.parametrize(("query", "size"), PROJECTED)
def test_projector_mode_fits_1280x720(browser_page, server_url, query, size):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    open_lab(page, server_url, query + "&present=1")
    answer = page.locator("[data-testid='stMarkdownContainer'] h2 code").filter(has_text=size)
    answer.wait_for()
    formula = page.locator("[data-testid='stMain'] .katex-display")
    tex = " ".join(formula.locator("annotation").all_text_contents())  # KaTeX keeps the TeX source
    assert "_{out}" in tex and "C_{out}" in tex, tex  # at least one axis and C_out (one stacked block)
    for what, element in (("torch.Size", answer), ("the last formula line", formula.last)):
        box = element.bounding_box()
        assert box and box["y"] >= 0 and box["y"] + box["height"] <= 720, (what, box)
    assert sidebar_width(page) <= 1, "projector mode folds the sidebar away"
    code_px = page.locator("[data-testid='stMain'] [data-testid='stCode'] code").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")
    assert code_px >= 18, code_px
    caption_px = page.locator("[data-testid='stMain'] [data-testid='stImageCaption']").first.evaluate(
        "el => parseFloat(getComputedStyle(el).fontSize)")
    assert caption_px >= 18, caption_px
    grid = page.locator("[data-testid='stMain'] [data-testid='stImage']")
    assert grid.count() == 1 and grid.bounding_box()["y"] < 720  # the padded grid is kept, on the first screen
    page.screenshot(path=artifact(f"room_projector_{size[11:-1].replace(', ', 'x')}.png"))
    no_exception_box(page)


@pytest.mark.parametrize("path", ["sweep", "feature-maps", "matrix", "gradients", "network", "practice"])
def test_projector_mode_on_every_page(browser_page, server_url, path):
    page = browser_page
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{server_url}/{path}?input=1x5x5&filters=1&kernel=3&present=1")
    page.locator("h1").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=30_000)
    assert sidebar_width(page) <= 1
    sizes = page.evaluate("""() => [...document.querySelectorAll(
        '[data-testid="stMain"] [data-testid="stCode"] code, [data-testid="stMain"] [data-testid="stCaptionContainer"]')]
        .filter(el => el.getBoundingClientRect().height > 0).map(el => parseFloat(getComputedStyle(el).fontSize))""")
    assert sizes and min(sizes) >= 18, sizes
    page.screenshot(path=artifact(f"room_projector_{path}.png"))
    no_exception_box(page)


def in_view(page, locator, height: int = 664) -> bool:
    """Whether the element is on the first screen (664 px: what Safari's bars leave of an iPhone 13's 844)."""
    box = locator.bounding_box()
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= height and box["x"] + box["width"] <= 391


def test_phone_shows_the_result_and_a_box_changes_it(phone_page, server_url):
    page = phone_page
    open_lab(page, server_url, BRIEF)
    size = page.locator("[data-testid='stMain'] [data-testid='stCode'] code").filter(has_text="torch.Size(")
    assert size.first.inner_text().strip() == "torch.Size([1, 64, 16, 16])"
    assert in_view(page, size.first), size.first.bounding_box()
    assert sidebar_width(page) <= 1, "the result is shown without opening the sidebar"
    page.screenshot(path=artifact("room_phone_390.png"))
    boxes = page.locator(".st-key-phone_controls input[type='number']")
    assert boxes.count() == 7
    filters = page.get_by_role("spinbutton", name="Filters")
    assert in_view(page, filters)
    filters.fill("8")
    filters.press("Enter")
    page.get_by_text("torch.Size([1, 8, 16, 16])").wait_for()
    wait_idle(page)
    assert in_view(page, size.first)
    assert "filters=8" in page.url
    kernel = page.get_by_role("spinbutton", name="Kernel")
    kernel.fill("5")
    kernel.press("Enter")
    page.get_by_text("torch.Size([1, 8, 15, 15])").wait_for()
    wait_idle(page)
    page.screenshot(path=artifact("room_phone_390_changed.png"))
    no_exception_box(page)


def test_desktop_draws_no_phone_boxes(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url, BRIEF)
    assert page.locator(".st-key-phone_controls").count() == 0


CONTRAST = """els => els.filter(el => el.getBoundingClientRect().height > 0).map(el => {
  const probe = document.createElement('canvas').getContext('2d');
  const rgb = css => { probe.fillStyle = '#000'; probe.fillStyle = css; probe.fillRect(0, 0, 1, 1);
                       return [...probe.getImageData(0, 0, 1, 1).data]; };
  const over = (fg, bg) => fg.slice(0, 3).map((c, i) => c * fg[3] / 255 + bg[i] * (1 - fg[3] / 255));
  let node = el, bg = null;
  while (node && !bg) { const c = getComputedStyle(node).backgroundColor;
                        if (c && c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') bg = rgb(c); node = node.parentElement; }
  bg = bg || [255, 255, 255];
  const fg = over(rgb(getComputedStyle(el).color), bg);
  const lin = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
  const lum = c => { const [r, g, b] = c.map(lin); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
  return [(a + 0.05) / (b + 0.05), el.innerText.slice(0, 40)];
})"""


def test_captions_meet_wcag_aa_and_images_have_alt_text(browser_page, server_url):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 1800})
    open_lab(page, server_url, BRIEF)
    ratios = page.locator("[data-testid='stCaptionContainer'], [data-testid='stImageCaption'], .cl-figure figcaption, "
                          ".cl-metric-label").evaluate_all(CONTRAST)
    assert ratios, "the Shape Lab shows captions"
    assert min(r for r, _ in ratios) >= 4.5, ratios
    alts = page.locator("[data-testid='stMain'] .cl-figure img").evaluate_all("els => els.map(e => e.alt)")
    assert len(alts) == 2 and all("Conv2d 3→64" in alt for alt in alts[:1]) and all(len(a) > 20 for a in alts), alts


def test_alexnet_metrics_are_not_cut_at_1366(browser_page, server_url):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 900})
    open_lab(page, server_url, "input=3x227x227&filters=96&kernel=11&stride=4")
    values = page.locator(".cl-metric-value").evaluate_all(
        "els => els.map(e => [e.innerText, e.scrollWidth, e.clientWidth])")
    assert len(values) == 5 and values[1][0] == "105.4 M", values
    assert all(scroll <= client + 1 for _, scroll, client in values), values
    page.locator(".cl-metric").first.scroll_into_view_if_needed()
    page.screenshot(path=artifact("room_metrics_alexnet_1366.png"))


@pytest.mark.parametrize("path", ["", "sweep", "feature-maps", "matrix", "gradients"])
def test_a_bad_stride_link_warns_once(browser_page, server_url, path):
    page = browser_page
    page.goto(f"{server_url}/{path}?input=1x5x5&filters=1&kernel=3&stride=0")
    page.get_by_text("stride=0 must be between").first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_timeout(500)  # anything a second run would add
    wait_idle(page)
    assert page.get_by_text("stride=0 must be between").count() == 1
    no_exception_box(page)
