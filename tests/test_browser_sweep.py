"""A real Chromium: the offline player shows its controls with icons, stepping changes the frame, the GIF downloads."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qs, urlparse

from PIL import Image, ImageSequence
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from conftest import artifact, refuse_outside, wait_idle

SMALL = "input=1x5x5&filters=1&kernel=3&stride=1&padding=1"


def open_sweep(page, server_url: str, query: str):
    outside = refuse_outside(page, server_url)  # the app must work offline
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
    assert frame.locator("#count").inner_text() == "step 1 of 25"
    first = canvas_url(frame)
    frame.get_by_role("button", name="Step forward").click()
    assert player.get_attribute("data-frame") == "1"
    second = canvas_url(frame)
    assert second != first, "stepping forward did not change the frame"
    frame.get_by_role("button", name="Step back").click()
    assert canvas_url(frame) == first, "stepping back did not restore the first frame"
    frame.get_by_role("button", name="Last step").click()
    assert frame.locator("#count").inner_text() == "done"
    frame.locator("#seek").fill("12")
    assert player.get_attribute("data-frame") == "12"
    # 8 steps per second: the 26 steps take 3 s, so the Pause click lands well before the player stops at the end by
    # itself (at 30 per second, on a loaded machine, the click could arrive just after that stop and restart it).
    frame.get_by_role("combobox", name="Speed").select_option("8")
    frame.get_by_role("button", name="First step").click()
    frame.get_by_role("button", name="Play").click()
    for _ in range(200):  # the player lives in an iframe: poll its frame number
        if int(player.get_attribute("data-frame")) > 3:
            break
        page.wait_for_timeout(50)
    assert 3 < int(player.get_attribute("data-frame")) < 25, "playing did not advance, or ran to the end"
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
    assert frame.locator("#count").inner_text() == "step 1 of 9"
    assert frame.locator("#arith").inner_text().startswith("output (0, 0) = max of the 4 values")
    page.screenshot(path=str(artifact("sweep_maxpool.png")))
    frame, _ = open_sweep(page, server_url, "input=3x224x224&filters=64&kernel=7&stride=2&padding=3&step=12544")
    count = frame.locator("#count").inner_text().split()  # step k of N
    total = int(count[3])
    assert 1 < total <= 1024 and int(count[1]) == total  # starts at the picked (last) position of its part
    assert "output (111, 111)" in frame.locator("#arith").inner_text()
    page.screenshot(path=str(artifact("sweep_large.png")))


def test_1d_causal_and_3d_links_play_in_the_browser(browser_page, server_url):
    page = browser_page
    frame, outside = open_sweep(page, server_url, "input=1x12&filters=1&kernel=3&dilation=2&padding=causal")
    assert frame.locator("#count").inner_text() == "step 1 of 12"  # 12 positions, then "done"
    first = canvas_url(frame)
    frame.get_by_role("button", name="Step forward").click()
    assert canvas_url(frame) != first, "stepping the strip did not change the frame"
    assert frame.locator("#arith").inner_text().startswith("output 1 = Σ")
    assert not page.locator("[data-testid='stException']").count()
    assert "nn.Conv1d" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    page.screenshot(path=str(artifact("sweep_1d_causal.png")), full_page=True)
    frame, more = open_sweep(page, server_url, "input=1x4x5x5&filters=1&kernel=3&padding=1&out_depth=1")
    assert frame.locator("#count").inner_text() == "step 1 of 25"
    assert frame.locator("#arith").inner_text().startswith("output (1, 0, 0) = Σ")
    frame.get_by_role("button", name="Last step").click()
    assert frame.locator("#count").inner_text() == "done"
    assert not page.locator("[data-testid='stException']").count()
    assert "nn.Conv3d" in page.locator("[data-testid='stAlertContentSuccess']").first.inner_text()
    frame.get_by_role("button", name="First step").click()
    frame.get_by_role("button", name="Step forward").click()
    page.screenshot(path=str(artifact("sweep_3d.png")), full_page=True)
    assert not outside and not more, f"the page tried to reach the network: {(outside + more)[:3]}"


# ---------------------------------------------------------------- one timeline (issue 16)
def step_text(query: dict, index: int) -> str:
    """The arithmetic conv_lab gives step `index` (0-based) of a link's sweep, as the player's HTML shows it."""
    from conv_lab.core.state import parse_query
    from conv_lab.sweep.captions import HTML_CHANNELS, HTML_TERMS
    from conv_lab.sweep.data import SweepRequest, build_sweep, step_lines

    config, _ = parse_query({k: [v] for k, v in query.items()})
    return "\n".join(step_lines(build_sweep(SweepRequest(config)), index, "int", HTML_CHANNELS, HTML_TERMS))


def counters_outside_the_player(page) -> list[str]:
    """Any "step k of N" or "k / N" counter the Streamlit page shows beside the player."""
    text = page.locator("[data-testid='stMain']").inner_text()
    return re.findall(r"(?i)\bstep \d+ of \d+|\b\d+ / \d+\b", text)


def cell_point(frame, grid: str, r: int, c: int) -> dict:
    """CSS position inside the canvas of the centre of cell (r, c) of the output grid ('out') or input grid 0."""
    return frame.locator("#sweep-canvas").evaluate(
        """(canvas, [grid, r, c]) => { const g = grid === "out" ? D.out : D.grids[0];
        const k = canvas.width / canvas.getBoundingClientRect().width;
        return {x: (g.xs[c] + g.xs[c + 1]) / 2 / k, y: (g.ys[r] + g.ys[r + 1]) / 2 / k}; }""",
        [grid, r, c])


def test_the_player_is_the_one_timeline(browser_page, server_url):
    page = browser_page
    frame, outside = open_sweep(page, server_url, SMALL)
    query = dict(q.split("=") for q in SMALL.split("&"))
    assert not page.get_by_role("slider", name="Output position (step)").count(), "a second step control"
    for clicks in range(6):
        assert frame.locator("#count").inner_text() == f"step {clicks + 1} of 25"
        assert frame.locator("#arith").inner_text() == step_text(query, clicks), f"after {clicks} clicks"
        assert not counters_outside_the_player(page), counters_outside_the_player(page)
        frame.get_by_role("button", name="Step forward").click()
    # the page's address follows the player (no rerun), so a copied link opens at this step
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '7'", timeout=10_000)
    assert frame.locator("#readout").get_attribute("aria-live") == "polite"
    frame.locator("#sweep-player").screenshot(path=str(artifact("sweep_player_step7.png")))
    frame.get_by_role("button", name="Last step").click()
    assert frame.locator("#count").inner_text() == "done"
    assert frame.locator("#arith").inner_text().startswith("Done: 25 output positions computed.")
    assert not outside


def test_hover_links_output_and_input_cells(browser_page, server_url):
    from conv_lab.core.state import parse_query
    from conv_lab.sweep.animate import sweep_animation
    from conv_lab.sweep.data import SweepRequest
    from conv_lab.sweep.player_page import reads_map

    page = browser_page
    frame, _ = open_sweep(page, server_url, SMALL)
    canvas = frame.locator("#sweep-canvas")
    canvas.hover(position=cell_point(frame, "out", 2, 3))  # output (2, 3) is step 2·5 + 3 + 1 = 14
    assert frame.locator("#count").inner_text() == "step 14 of 25"
    assert frame.locator("#arith").inner_text().startswith("output (2, 3) = Σ")
    config, _ = parse_query({k: [v] for k, v in (q.split("=") for q in SMALL.split("&"))})
    reads = reads_map(sweep_animation(SweepRequest(config)))
    for r, c in ((0, 0), (1, 1), (3, 2), (6, 6)):  # padding corner, inside, inside, the far padding corner
        canvas.hover(position=cell_point(frame, "in", r, c))
        lit = frame.locator("#sweep-player").get_attribute("data-highlighted")
        assert [int(t) for t in lit.split(",") if t] == reads[r * 7 + c], (r, c)
        assert "read by" in frame.locator("#hover-note").inner_text()
    assert frame.locator("#count").inner_text() == "step 14 of 25", "hovering an input cell keeps the step"
    canvas.hover(position=cell_point(frame, "in", 3, 3))
    frame.locator("#sweep-player").screenshot(path=str(artifact("sweep_player_hover.png")))
    page.mouse.move(0, 0)


def test_a_step_link_opens_the_player_at_that_step(browser_page, server_url):
    page = browser_page
    frame, _ = open_sweep(page, server_url, SMALL + "&step=5")
    assert frame.locator("#count").inner_text() == "step 5 of 25"
    assert frame.locator("#sweep-player").get_attribute("data-frame") == "4"
    assert frame.locator("#arith").inner_text() == step_text(dict(q.split("=") for q in SMALL.split("&")), 4)
    assert parse_qs(urlparse(page.url).query)["step"] == ["5"]
    frame.get_by_role("button", name="Step forward").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('step') === '6'", timeout=10_000)
    copied = page.url  # the address bar is the share link: it opens where the player is
    frame, _ = open_sweep(page, server_url, urlparse(copied).query)
    assert frame.locator("#count").inner_text() == "step 6 of 25"
    page.screenshot(path=str(artifact("sweep_page_1400.png")), full_page=True)


def test_a_bare_sweep_link_opens_a_small_followable_layer(browser_page, server_url):
    page = browser_page
    page.goto(f"{server_url}/sweep")  # a fresh session whose link names no layer
    page.wait_for_function("() => new URLSearchParams(location.search).get('input') !== null", timeout=60_000)
    wait_idle(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["input"] == ["1x5x5"] and query["stride"] == ["2"], query  # 9 steps, not the shared default's 900
    page.get_by_role("link", name="Shape Lab").click()  # the same session keeps its layer on the other pages
    page.wait_for_function("() => !location.pathname.endsWith('/sweep')", timeout=30_000)
    wait_idle(page)
    page.get_by_text("torch.Size([1, 1, 3, 3])").first.wait_for(timeout=30_000)
    assert parse_qs(urlparse(page.url).query)["input"] == ["1x5x5"]


def rerun_and_reopen(page, action, url_part: str):
    """Do `action` (a control that reruns the page), wait until the address holds `url_part` and the run ended; return
    the player's frame once it is ready again."""
    action()
    page.mouse.move(0, 0)  # off the player: a hover over an output cell would move its step
    page.wait_for_function("part => location.search.includes(part)", arg=url_part, timeout=30_000)
    wait_idle(page)
    frame = page.frame_locator("iframe").first
    frame.locator("#sweep-player[data-ready='1']").wait_for(timeout=30_000)
    return frame


def step_in_url(page, frame, step: str) -> None:
    """Wait until the page's address holds step=`step` (the player puts it there); say what it holds if it does not."""
    try:
        page.wait_for_function("step => new URLSearchParams(location.search).get('step') === step", arg=step,
                               timeout=30_000)
    except PlaywrightTimeout:
        shown = frame.locator("#count").inner_text()
        raise AssertionError(f"no step={step} in {page.url}; the player shows {shown}") from None


def test_the_step_survives_reruns_from_other_controls(browser_page, server_url):
    page = browser_page
    frame, _ = open_sweep(page, server_url, SMALL)
    for _ in range(4):
        frame.get_by_role("button", name="Step forward").click()
    assert frame.locator("#count").inner_text() == "step 5 of 25"
    # a control of the sweep page and the projector toggle rerun the page without touching the layer: step 5 stays
    frame = rerun_and_reopen(page, lambda: page.get_by_text("Random floats").click(), "values=float")
    assert frame.locator("#count").inner_text() == "step 5 of 25"
    assert "." in frame.locator("#arith").inner_text(), "the player shows the float sweep"
    step_in_url(page, frame, "5")
    frame = rerun_and_reopen(page, lambda: page.get_by_text("Projector mode").click(), "present=1")
    assert frame.locator("#count").inner_text() == "step 5 of 25"
    step_in_url(page, frame, "5")
    # a smaller layer keeps the step while it has it, and clamps it to its last step when it does not
    slider = page.get_by_role("slider", name="Input size")
    slider.focus()
    frame = rerun_and_reopen(page, lambda: page.keyboard.press("ArrowLeft"), "input=1x4x4")
    frame.locator("#count").filter(has_text="of 16").wait_for()
    assert frame.locator("#count").inner_text() == "step 5 of 16"
    frame.get_by_role("button", name="Step forward").click()
    slider.focus()
    frame = rerun_and_reopen(page, lambda: page.keyboard.press("ArrowLeft"), "input=1x3x3")
    frame.locator("#count").filter(has_text="of 9").wait_for()
    assert frame.locator("#count").inner_text() == "step 6 of 9"
    slider.focus()
    frame = rerun_and_reopen(page, lambda: page.keyboard.press("ArrowLeft"), "input=1x2x2")
    frame.locator("#count").filter(has_text="of 4").wait_for()
    assert frame.locator("#count").inner_text() == "step 4 of 4"
    # a link opened in the same tab still opens at its own step, not the one the tab kept
    frame, _ = open_sweep(page, server_url, SMALL + "&step=3")
    assert frame.locator("#count").inner_text() == "step 3 of 25"
