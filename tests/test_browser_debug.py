"""Real Chromium: paste what print(model) shows into the planner page and see the broken layer and its fix."""

from __future__ import annotations

from torch import nn

from conftest import artifact, wait_idle


def _settled(page) -> None:
    wait_idle(page)
    page.wait_for_function("() => !document.querySelector(\"[data-testid='stSkeleton']\")")


def test_paste_a_model_and_see_the_broken_layer_and_the_fix(browser_page, server_url):
    page = browser_page
    page.goto(f"{server_url}/network")
    wait_idle(page, 60_000)
    page.get_by_text("Paste your model").click()
    model = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                          nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(32 * 7 * 7, 10))  # sized for 28×28
    page.get_by_role("textbox", name="print(model)").fill(repr(model))
    shape = page.get_by_label("Input shape (N, C, L)")
    shape.fill("1, 3, 32, 32")
    shape.press("Enter")
    _settled(page)
    page.get_by_role("button", name="Check my model").click()
    page.get_by_text("model[7] (Linear) breaks").wait_for()
    _settled(page)
    verdict = page.locator("[data-testid='stAlert']").filter(has_text="model[7] (Linear) breaks").inner_text()
    assert "Linear(in_features=2048, …)" in verdict, verdict
    assert "mat1 and mat2 shapes cannot be multiplied (1x2048 and 1568x10)" in verdict
    page.get_by_text("Layer 8 (Linear) breaks").wait_for()  # the planner's own table below, on the loaded stack
    code = page.locator("[data-testid='stCode']").last.inner_text()
    assert "nn.Linear(in_features=1568, out_features=10),  # 8: (1, 2048) -> ✗ torch fails here" in code
    assert "net=I3x32x32-C16i3k3x3p1x1" in page.url
    page.locator("[data-testid='stExpander']").filter(has_text="Paste your model").first.screenshot(
        path=str(artifact("debug_pasted_model.png")))
    page.screenshot(path=str(artifact("debug_page.png")))


def test_the_sample_and_a_pasted_error(browser_page, server_url):
    page = browser_page
    page.goto(f"{server_url}/network")
    wait_idle(page, 60_000)
    page.get_by_text("Paste your model").click()
    page.get_by_role("button", name="Try a sample").click()
    page.get_by_text("classifier.0 (Linear) breaks").wait_for()
    page.get_by_text("Explain a torch error").click()
    box = page.get_by_label("RuntimeError")
    box.fill("RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x400 and 256x120)")
    box.press("Control+Enter")
    page.get_by_text("got rows of").wait_for()
    _settled(page)
    explained = page.locator("[data-testid='stAlert']").filter(has_text="got rows of").inner_text()
    assert "classifier.0 (Linear)" in explained and "in_features=400" in explained
    page.screenshot(path=str(artifact("debug_sample_and_error.png")))
