"""A real Chromium opens /gradients deep links (a strided layer, a transposed one) and sees both gradient shapes, the
autograd check mark and the backward sweep's player, all offline."""

from __future__ import annotations

import pytest

from conftest import artifact, refuse_outside, wait_idle

STRIDED = "input=2x6x6&filters=3&kernel=3&stride=2&padding=1"
TRANSPOSED = "input=2x4x4&filters=2&kernel=3&stride=2&padding=1&transposed=1&output_padding=1"


@pytest.mark.parametrize("name, query, x_shape, w_shape", [
    ("strided", STRIDED, "torch.Size([1, 2, 6, 6])", "torch.Size([3, 2, 3, 3])"),
    ("transposed", TRANSPOSED, "torch.Size([1, 2, 4, 4])", "torch.Size([2, 2, 3, 3])"),
])
def test_deep_link_shows_both_gradient_shapes(browser_page, server_url, name, query, x_shape, w_shape):
    page = browser_page
    outside = refuse_outside(page, server_url)  # offline
    page.goto(f"{server_url}/gradients?{query}")
    wait_idle(page, 90_000)
    page.get_by_text("x.grad.shape").first.wait_for(timeout=60_000)
    body = page.locator("[data-testid='stMain']").inner_text()
    assert f"x.grad.shape  →  {x_shape}" in body
    assert f"layer.weight.grad.shape  →  {w_shape}" in body
    assert "The explicit computation equals loss.backward()" in body
    frame = page.frame_locator("iframe").first
    frame.locator("#sweep-player[data-ready='1']").wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Download GIF (for slides)").is_visible()
    if name == "transposed":
        assert "Overlap map" in body
    page.screenshot(path=str(artifact(f"gradients_{name}.png")))
    assert not outside, outside
