"""Real Chromium: edit a layer cell in the planner's table and see the shapes update."""

from __future__ import annotations

from conftest import artifact, wait_idle

ROW_HEIGHT = 35  # Streamlit's data grid: header and rows


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text()


def _edit_arguments(page, row: int, text: str) -> None:
    """Open the arguments cell of `row` (0-based) in the layer editor, replace its text, commit with Enter."""
    grid = page.locator("[data-testid='stDataFrame']").first
    box = grid.bounding_box()
    x = box["x"] + box["width"] * 0.75  # the wide arguments column
    y = box["y"] + ROW_HEIGHT * (row + 1) + ROW_HEIGHT / 2
    page.locator("[id^='glide-cell-2-']").first.wait_for(state="attached")
    editor = page.locator("textarea.gdg-input")
    for _ in range(5):  # the grid may still be settling after the first render
        page.mouse.dblclick(x, y)
        try:
            editor.wait_for(timeout=3_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError; try the double-click again
            page.wait_for_timeout(500)
    editor.press("Control+A")
    editor.type(text)
    editor.press("Enter")


def _edit_until(page, row: int, text: str, condition: str) -> None:
    """Edit a cell and wait for `condition` (JS); the canvas grid sometimes drops a first edit while it settles,
    so a missed edit is made again (up to three times) rather than failing on the grid's timing."""
    for attempt in range(3):
        wait_idle(page)
        _edit_arguments(page, row, text)
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

    _edit_until(page, 0, "out_channels=6, kernel_size=3", "() => location.search.includes('net=I1x32x32-C6k3-R')")
    wait_idle(page)
    assert "# 1: (1, 1, 32, 32) -> (1, 6, 30, 30)" in code.inner_text()
    # 30 → pool 15 → 5×5 conv 11 → pool 5: still 16×5×5 = 400 features; only conv1's weights shrink (6·9+6 = 60)
    assert _metric(page, "Parameters") == f"{61_706 - 156 + 60:,}"
    page.screenshot(path=str(artifact("network_after_edit.png")))

    # a kernel larger than the 15×15 map: the stack breaks
    _edit_until(page, 3, "out_channels=16, kernel_size=40", "() => document.body.innerText.includes('Layer 4 (Conv2d) breaks')")
    wait_idle(page)
    assert _metric(page, "Output") == "✗ layer 4"
    assert "not reached" in page.locator("[data-testid='stCode']").last.inner_text()
    page.screenshot(path=str(artifact("network_broken.png")))
