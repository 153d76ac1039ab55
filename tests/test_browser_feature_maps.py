"""A real Chromium on /feature-maps: upload a PNG and see its maps; bad uploads get a message; screenshots as artifacts."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import artifact, wait_idle

UPLOAD_LINK = "/feature-maps?input=3x64x64&filters=8&kernel=3&padding=1&image=upload"


def _loaded_images(page) -> list[int]:
    """naturalWidth of every st.image picture on the page (0 for one that failed to load)."""
    return page.locator("[data-testid='stImage'] img").evaluate_all("els => els.map(e => e.naturalWidth)")


def _test_png(path) -> None:
    img = Image.new("RGB", (120, 90), (240, 240, 240))
    d = ImageDraw.Draw(img)
    d.rectangle([20, 15, 70, 75], fill=(20, 20, 200))
    d.ellipse([75, 20, 115, 60], fill=(220, 40, 40))
    img.save(path, format="PNG")


def _open(page, url: str) -> None:
    """Open a deep link after the main page: on a fresh server the FIRST deep link shows Streamlit's
    'Page not found' dialog before app.py's navigation takes over (shared glue, reported to the lead)."""
    base = url.split("/feature-maps")[0]
    page.goto(base + "/")
    wait_idle(page)
    page.goto(url)


def _open_upload(page, server_url: str) -> None:
    """Open the page with its upload box showing, idle."""
    _open(page, server_url + UPLOAD_LINK)
    page.get_by_text("Choose a picture to upload").wait_for()
    wait_idle(page)


def _upload(page, path) -> None:
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))


def test_upload_a_png_and_see_every_map(server_url, browser_page, tmp_path):
    page = browser_page
    _open_upload(page, server_url)
    path = tmp_path / "my_picture.png"
    _test_png(path)
    _upload(page, path)
    page.get_by_text("upload 'my_picture.png' (PNG 120×90)").wait_for(timeout=60_000)
    wait_idle(page)
    page.get_by_text("torch.Size([1, 8, 64, 64])").first.wait_for()
    page.get_by_text("torch.Size([1, 8, 64, 64]): 8 maps").wait_for()
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".filter(e => e.complete && e.naturalWidth > 0).length >= 3")
    widths = _loaded_images(page)
    assert len(widths) == 3 and all(w > 100 for w in widths), widths
    assert "image=upload" in page.url
    page.screenshot(path=str(artifact("feature_maps_upload.png")))


def test_a_corrupt_upload_gets_a_message_not_a_traceback(server_url, browser_page, tmp_path):
    page = browser_page
    _open_upload(page, server_url)
    path = tmp_path / "broken.png"
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(buf, format="PNG")
    path.write_bytes(buf.getvalue()[:1500])  # cut short
    _upload(page, path)
    page.get_by_text("Picture not used").wait_for(timeout=60_000)
    assert page.get_by_text("damaged or cut short").first.is_visible()
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifact("feature_maps_bad_upload.png")))


def test_the_browser_refuses_a_file_over_the_upload_cap(server_url, browser_page, tmp_path):
    page = browser_page
    _open_upload(page, server_url)
    path = tmp_path / "huge.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (6 * 1024 * 1024))
    _upload(page, path)
    page.get_by_text("or smaller").first.wait_for(timeout=30_000)  # Streamlit's own "File must be 5.0MB or smaller."
    assert page.locator("[data-testid='stException']").count() == 0


@pytest.mark.parametrize("name, query, size", [
    ("rgb_sample", "input=3x64x64&filters=8&kernel=3&padding=1", "torch.Size([1, 8, 64, 64])"),
    ("depthwise", "input=3x48x48&filters=6&kernel=3&padding=1&groups=3&image=shapes", "torch.Size([1, 6, 48, 48])"),
    ("stride2", "input=3x64x64&filters=8&kernel=3&padding=1&stride=2&image=stripes", "torch.Size([1, 8, 32, 32])"),
    ("grayscale", "input=1x64x64&filters=10&kernel=5&padding=2&image=scene&bank=mix&relu=1",
     "torch.Size([1, 10, 64, 64])"),
])
def test_screenshots_of_the_page(server_url, browser_page, name, query, size):
    page = browser_page
    _open(page, f"{server_url}/feature-maps?{query}")
    page.get_by_text(size).first.wait_for(timeout=60_000)
    wait_idle(page)
    page.wait_for_function("() => [...document.querySelectorAll(\"[data-testid='stImage'] img\")]"
                           ".filter(e => e.complete && e.naturalWidth > 0).length >= 3")
    assert page.locator("[data-testid='stException']").count() == 0
    page.screenshot(path=str(artifact(f"feature_maps_{name}.png")))


@pytest.mark.parametrize("gap_ms", [0, 40])
def test_quick_seed_presses_all_count_and_reach_the_url(server_url, browser_page, gap_ms):
    # Three quick ArrowUp presses on the seed: each rerun carries the URL the browser showed when the press was
    # sent (often our previous write, not yet applied); the newest press must win, on the page and in the URL.
    page = browser_page
    _open(page, f"{server_url}/feature-maps?input=3x32x32&filters=4&kernel=3&bank=random")
    wait_idle(page, 60_000)
    page.get_by_text("Output").first.wait_for(timeout=60_000)
    seed = page.get_by_role("spinbutton", name="Seed")
    seed.focus()
    for _ in range(3):
        page.keyboard.press("ArrowUp")
        page.wait_for_timeout(gap_ms)
    page.wait_for_function("() => location.search.includes('seed=')", timeout=30_000)
    wait_idle(page)
    page.wait_for_timeout(1_500)
    wait_idle(page)
    assert seed.input_value() == "3"
    assert "seed=3" in page.url.split("?")[1].split("&")
