"""Real Chromium: a /network deep link with rf= shows the receptive-field rows and the measured picture (its alt text
names the cell), offline; at 1366 px no grid of the page scrolls sideways (issue 16: the flow table's message was cut
off), and on a phone the layer editor's arguments wrap inside the screen."""

from __future__ import annotations

from conftest import artifact, refuse_outside, wait_idle

DILATED = "net=I1x32x32-C8k3d2-R-C8k3d2-R-C8k3d2&rf=10,12"
RESNET = "net=I3x224x224-C64k7s2p3b0-B-R-M3s2p1-C64k3p1b0-B-R-C64k3p1b0-B-R&skip=a4.9"
GRIDS = """() => [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stDataFrame"] .dvn-scroller')]
    .map(s => [s.scrollWidth, s.clientWidth])"""


def _open(page, server_url: str, query: str) -> None:
    page.goto(f"{server_url}/network?{query}")
    wait_idle(page, 90_000)
    page.get_by_text("Receptive field of one cell").wait_for(timeout=60_000)
    page.locator("[data-testid='stSkeleton']").first.wait_for(state="detached", timeout=30_000)


def test_a_deep_link_shows_the_rows_and_the_measured_picture(browser_page, server_url):
    page = browser_page
    page.set_viewport_size({"width": 1366, "height": 768})
    outside = refuse_outside(page, server_url)
    _open(page, server_url, DILATED)
    summary = page.get_by_text("Cell (10, 12) of layer 5 (Conv2d) sees input rows 10 to 22 × columns 12 to 24")
    summary.wait_for()
    picture = page.locator("[data-testid='stMain'] [data-testid='stImage'] img").first
    picture.wait_for()
    alt = picture.get_attribute("alt")
    assert alt.startswith("Receptive field of cell (10, 12) of layer 5 (Conv2d) over the 32×32 input")
    assert "holds 169 cells, the gradient reaches 49 of them (120 holes)" in alt  # dilation 2, three times
    assert picture.evaluate("img => img.complete && img.naturalWidth > 300")
    assert "gridding holes" in page.locator("[data-testid='stMain']").inner_text()
    assert page.get_by_role("spinbutton", name="row (0–19)").input_value() == "10"
    assert "rf=10,12" in page.url
    grids = page.evaluate(GRIDS)
    assert len(grids) >= 3 and all(width <= client + 1 for width, client in grids), grids  # nothing cut at 1366
    picture.scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("network_rf_dilated_1366.png")))
    assert not outside, outside


def test_at_1366_the_flow_table_fits_and_on_a_phone_the_arguments_wrap(browser, server_url):
    desk = browser.new_context(viewport={"width": 1366, "height": 768})
    page = desk.new_page()
    _open(page, server_url, RESNET)
    grids = page.evaluate(GRIDS)
    assert all(width <= client + 1 for width, client in grids), grids
    page.locator("[data-testid='stDataFrame']").nth(2).scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("network_flow_1366.png")))
    desk.close()
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
                                           "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1")
    page = phone.new_page()
    _open(page, server_url, RESNET)
    editor = page.evaluate(GRIDS)[0]
    assert editor[0] <= editor[1] + 1, editor  # the layer editor: arguments wrap in its rows, nothing off-screen
    page.locator("[data-testid='stDataFrame']").first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifact("network_phone_390.png")))
    phone.close()
