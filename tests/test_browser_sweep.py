"""A real Chromium: the offline player shows its controls with icons, stepping changes the frame, the GIF downloads."""

from __future__ import annotations

import io
from urllib.parse import parse_qs, urlparse

import pytest
from PIL import Image, ImageSequence

from conftest import artifact, wait_idle

SMALL = "input=1x5x5&filters=1&kernel=3&stride=1&padding=1"


def open_sweep(page, server_url: str, query: str):
    outside: list[str] = []
    host = urlparse(server_url).netloc

    def guard(route):  # the app must work offline: refuse and record anything not served by the app itself
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).netloc == host:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.goto(f"{server_url}/sweep?{query}")
    wait_idle(page, 90_000)
    page.wait_for_selector("iframe", timeout=60_000)
    frame = page.frame_locator("iframe").first
    frame.locator("#sweep-player[data-ready='1']").wait_for(timeout=30_000)
    return frame, outside


def canvas_url(frame) -> str:
    return frame.locator("#sweep-canvas").evaluate("c => c.toDataURL()")


def test_player_controls_icons_and_stepping(browser_page, server_url):
    page = browser_page
    frame, outside = open_sweep(page, server_url, SMALL)
    for name in ("First step", "Step back", "Play", "Step forward", "Last step"):
        button = frame.get_by_role("button", name=name)
        assert button.is_visible(), name
        box = button.locator("svg:visible").first.bounding_box()
        assert box and box["width"] >= 16 and box["height"] >= 16, f"{name} has no visible icon"
    assert frame.get_by_role("slider", name="Jump to step").is_visible()
    assert frame.get_by_role("combobox", name="Speed").is_visible()
    player = frame.locator("#sweep-player")
    assert player.get_attribute("data-frame") == "0"
    assert frame.locator("#count").inner_text() == "1 / 26"
    first = canvas_url(frame)
    frame.get_by_role("button", name="Step forward").click()
    assert player.get_attribute("data-frame") == "1"
    second = canvas_url(frame)
    assert second != first, "stepping forward did not change the frame"
    frame.get_by_role("button", name="Step back").click()
    assert canvas_url(frame) == first, "stepping back did not restore the first frame"
    frame.get_by_role("button", name="Last step").click()
    assert frame.locator("#count").inner_text() == "26 / 26"
    frame.locator("#seek").fill("12")
    assert player.get_attribute("data-frame") == "12"
    frame.get_by_role("combobox", name="Speed").select_option("30")
    frame.get_by_role("button", name="First step").click()
    frame.get_by_role("button", name="Play").click()
    page.wait_for_timeout(600)
    assert int(player.get_attribute("data-frame")) > 3, "playing did not advance"
    frame.get_by_role("button", name="Pause").click()
    paused = player.get_attribute("data-frame")
    page.wait_for_timeout(300)
    assert player.get_attribute("data-frame") == paused
    frame.locator("#sweep-player").screenshot(path=str(artifact("sweep_player.png")))
    page.screenshot(path=str(artifact("sweep_page.png")))
    assert not outside, f"the page tried to reach the network: {outside[:3]}"


def test_gif_downloads_with_every_frame(browser_page, server_url):
    page = browser_page
    open_sweep(page, server_url, SMALL)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download GIF").click()
    path = artifact("sweep_download.gif")
    info.value.save_as(str(path))
    image = Image.open(io.BytesIO(path.read_bytes()))
    frames = [f.convert("RGB") for f in ImageSequence.Iterator(image)]
    assert image.format == "GIF" and len(frames) == 25 + 1  # every window position, then the never-read cells
    assert frames[0].tobytes() != frames[1].tobytes()


def test_pooling_and_large_config_in_the_browser(browser_page, server_url):
    page = browser_page
    frame, _ = open_sweep(page, server_url, "input=1x6x6&filters=1&kernel=2&stride=2&padding=0&op=max")
    assert frame.locator("#count").inner_text() == "1 / 10"
    page.screenshot(path=str(artifact("sweep_maxpool.png")))
    frame, _ = open_sweep(page, server_url, "input=3x224x224&filters=64&kernel=7&stride=2&padding=3&step=12544")
    count = frame.locator("#count").inner_text()
    total = int(count.split("/")[1])
    assert 1 < total <= 1025 and int(count.split("/")[0]) == total - 1  # starts at the picked (last) position
    page.screenshot(path=str(artifact("sweep_large.png")))


def _settled(page) -> None:
    """Wait until the reruns the last presses caused have all finished (a pause, then idle again)."""
    wait_idle(page)
    page.wait_for_timeout(1_500)
    wait_idle(page)


@pytest.mark.parametrize("gap_ms", [0, 40])
def test_quick_step_presses_all_count_and_reach_the_url(browser_page, server_url, gap_ms):
    # Each rerun carries the URL the browser showed when the press was sent; after quick presses that is our
    # previous write, not yet applied. The page must keep the newest press, not adopt that stale URL (nor move the
    # slider back to an older value while a press is on its way).
    page = browser_page
    open_sweep(page, server_url, "input=3x16x16&filters=4&kernel=3&stride=1&padding=1")
    page.get_by_role("slider", name="Output position (step)").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(gap_ms)
    page.wait_for_function("() => location.search.includes('step=')", timeout=30_000)
    _settled(page)
    assert page.get_by_text("Step 4 of 256: output (0, 3)").is_visible()
    assert parse_qs(urlparse(page.url).query)["step"] == ["4"]
    thumb = page.locator("[data-testid='stSlider']").filter(has_text="Output position").locator(
        "[data-testid='stSliderThumbValue']")
    assert thumb.inner_text() == "4"


def test_1d_causal_and_3d_links_play_in_the_browser(browser_page, server_url):
    page = browser_page
    frame, outside = open_sweep(page, server_url, "input=1x12&filters=1&kernel=3&dilation=2&padding=causal")
    assert frame.locator("#count").inner_text() == "1 / 13"  # 12 positions, then the never-read cells
    first = canvas_url(frame)
    frame.get_by_role("button", name="Step forward").click()
    assert canvas_url(frame) != first, "stepping the strip did not change the frame"
    assert page.get_by_text("Step 1 of 12: output 0").is_visible()
    assert not page.locator("[data-testid='stException']").count()
    assert "nn.Conv1d" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    page.screenshot(path=str(artifact("sweep_1d_causal.png")), full_page=True)
    frame, more = open_sweep(page, server_url, "input=1x4x5x5&filters=1&kernel=3&padding=1&out_depth=1")
    assert frame.locator("#count").inner_text() == "1 / 26"
    frame.get_by_role("button", name="Last step").click()
    assert frame.locator("#count").inner_text() == "26 / 26"
    assert page.get_by_text("Step 1 of 25: output (1, 0, 0)").is_visible()
    assert not page.locator("[data-testid='stException']").count()
    assert "nn.Conv3d" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    frame.get_by_role("button", name="First step").click()
    frame.get_by_role("button", name="Step forward").click()
    page.screenshot(path=str(artifact("sweep_3d.png")), full_page=True)
    assert not outside and not more, f"the page tried to reach the network: {(outside + more)[:3]}"
