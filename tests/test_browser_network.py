"""Real Chromium: edit a layer cell in the planner's table and see the shapes update."""

from __future__ import annotations

from conftest import artifact, wait_idle

ROW_HEIGHT = 35  # Streamlit's data grid: header and rows


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def _edit_arguments(page, row: int, old: str, text: str) -> None:
    """Open the arguments cell of `row` (0-based) in the layer editor, replace `old` with `text`, commit with Enter.

    The cell is found by position on the canvas grid, which can still shift while the page settles, so the editor
    must open showing `old` (the right cell); otherwise it is closed untouched and the double-click made again."""
    page.locator("[id^='glide-cell-2-']").first.wait_for(state="attached")
    editor = page.locator("textarea.gdg-input")
    for _ in range(8):
        wait_idle(page)
        box = page.locator("[data-testid='stDataFrame']").first.bounding_box()  # measured afresh: layout may move
        x = box["x"] + box["width"] * 0.75  # the wide arguments column
        y = box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
        page.mouse.dblclick(x, y)
        try:
            editor.wait_for(timeout=3_000)
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; the grid was not ready for the double-click
            page.wait_for_timeout(500)
            continue
        if editor.input_value() == old:
            break
        editor.press("Escape")  # the wrong cell opened: leave it unchanged
        page.wait_for_timeout(500)
    else:
        page.screenshot(path=str(artifact("network_editor_not_opened.png")))
        raise AssertionError(f"the arguments cell of row {row} ({old!r}) never opened in the editor")
    # fill, not Control+A and type: measured on this grid, typed keys were dropped on commit in 1 edit of 4
    # (the editor showed the text, Enter closed it, the grid kept the old value); fill: 0 of 36
    editor.fill(text)
    editor.press("Enter")


def _edit_until(page, row: int, old: str, text: str, condition: str) -> None:
    """Edit a cell and wait for `condition` (JS); an edit the grid drops is made again (up to three times)."""
    for attempt in range(3):
        wait_idle(page)
        _edit_arguments(page, row, old, text)
        try:
            page.wait_for_function(condition, timeout=15_000)
            return
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            if attempt == 2:
                page.screenshot(path=str(artifact("network_edit_missed.png")))
                raise


def test_edit_a_cell_and_see_the_shapes_update(browser_page, server_url):
    page = browser_page
    page.goto(f"{server_url}/network")
    wait_idle(page, 60_000)
    page.get_by_text("Shape flow").wait_for()
    assert _metric(page, "Output") == "(1, 10)"
    assert _metric(page, "Parameters") == "61,706"
    code = page.locator("[data-testid='stCode']").last
    assert "# 1: (1, 1, 32, 32) -> (1, 6, 28, 28)" in code.inner_text()

    _edit_until(page, 0, "out_channels=6, kernel_size=5", "out_channels=6, kernel_size=3",
                "() => location.search.includes('net=I1x32x32-C6k3-R')")
    wait_idle(page)
    assert "# 1: (1, 1, 32, 32) -> (1, 6, 30, 30)" in code.inner_text()
    # 30 → pool 15 → 5×5 conv 11 → pool 5: still 16×5×5 = 400 features; only conv1's weights shrink (6·9+6 = 60)
    assert _metric(page, "Parameters") == f"{61_706 - 156 + 60:,}"
    page.screenshot(path=str(artifact("network_after_edit.png")))

    # a kernel larger than the 15×15 map: the stack breaks
    _edit_until(page, 3, "out_channels=16, kernel_size=5", "out_channels=16, kernel_size=40",
                "() => document.body.innerText.includes('Layer 4 (Conv2d) breaks')")
    wait_idle(page)
    assert _metric(page, "Output") == "✗ layer 4"
    assert "not reached" in page.locator("[data-testid='stCode']").last.inner_text()
    page.screenshot(path=str(artifact("network_broken.png")))


def test_wavenet_preset_link_opens_with_the_causal_stack(browser_page, server_url):
    from urllib.parse import urlencode

    from conv_lab.network.codec import encode_network, encode_skips
    from conv_lab.network.plan import parse_rows
    from conv_lab.network.presets import PRESET_BY_NAME, WAVENET_NAME

    preset = PRESET_BY_NAME[WAVENET_NAME]
    query = {"net": encode_network(preset.input_shape, parse_rows(preset.rows)), "skip": encode_skips(preset.skips)}
    page = browser_page
    page.goto(f"{server_url}/network?{urlencode(query, safe='-')}")
    wait_idle(page, 60_000)
    page.get_by_text("Shape flow").wait_for()
    assert _metric(page, "Output") == "(1, 256, 16000)"
    assert page.get_by_text(WAVENET_NAME).count() >= 1  # the link is recognised as the preset
    assert page.locator("[data-testid='stNumberInput']").filter(has_text="Length L").count() == 1
    code = page.locator("[data-testid='stCode']").last.inner_text()
    assert "nn.Sequential(nn.ConstantPad1d((8, 0), 0.0), nn.Conv1d(in_channels=32" in code
    assert "# 9: (1, 32, 16000) -> (1, 32, 16000), add point 7 -> (1, 32, 16000)" in code
    assert page.get_by_text("fits").count() >= 4  # the four residual adds
    page.screenshot(path=str(artifact("network_wavenet.png")), full_page=True)
