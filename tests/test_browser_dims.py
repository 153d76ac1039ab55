"""1-D and 3-D layers in a real Chromium (issue 13): deep links give the real torch.Size, the dimension control
converts the layer and the link, and a wrong-rank link shows a notice. Screenshots land in test-artifacts/."""

from __future__ import annotations

from test_browser_shape_lab import expected_size, no_exception_box, open_lab, shown_size, url_query

from conftest import artifact, wait_idle

ONE_D = "input=32x1000&filters=32&kernel=2&dilation=8&padding=causal"
THREE_D = "input=3x16x112x112&filters=64&kernel=3&padding=1"


def test_1d_causal_deep_link_shows_the_real_size_and_the_left_padding(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url, ONE_D)
    page.get_by_text("torch.Size([1, 32, 1000])").wait_for()
    assert shown_size(page) == "torch.Size([1, 32, 1000])" == expected_size(url_query(page))
    assert page.get_by_text("formula and PyTorch agree").is_visible()
    assert "x = F.pad(x, (8, 0))" in page.locator("[data-testid='stCode']").first.inner_text()
    assert page.locator("img[alt*='Conv1d']").count() + page.get_by_text("Conv1d: input 32×1000").count() >= 1
    page.screenshot(path=artifact("dims_1d_causal.png"), full_page=True)
    no_exception_box(page)


def test_3d_deep_link_and_the_dimension_control(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url, THREE_D)
    page.get_by_text("torch.Size([1, 64, 16, 112, 112])").wait_for()
    assert shown_size(page) == expected_size(url_query(page))
    page.screenshot(path=artifact("dims_3d.png"), full_page=True)
    before = page.url
    page.locator("[data-testid='stSidebar'] button", has_text="1-D").first.click()
    page.wait_for_function("before => location.href !== before", arg=before)
    wait_idle(page)
    query = url_query(page)
    assert query["input"] == "3x112" and query["kernel"] == "3"
    page.get_by_text(expected_size(query)).wait_for()
    assert shown_size(page) == expected_size(query)
    no_exception_box(page)


def test_a_wrong_rank_link_shows_a_notice_not_a_traceback(browser_page, server_url):
    page = browser_page
    open_lab(page, server_url, "input=3x32x32&kernel=3x3x5")
    page.get_by_text("has 3 values but the input is 2-D").first.wait_for()
    assert shown_size(page) == "torch.Size([1, 16, 30, 30])"
    no_exception_box(page)
