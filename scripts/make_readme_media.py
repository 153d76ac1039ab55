"""Regenerate the README's pictures from the running app: a Shape Lab screenshot and the sweep GIF.

Starts a real Conv Lab server, opens it in headless Chromium (Debian's), takes a screenshot of the Shape
Lab on a deep link, and clicks the Sweep page's own "Download GIF" button, so both files are exactly what
a user gets. Run: `make readme-media` (or `python scripts/make_readme_media.py`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from conftest import CHROMIUM, CHROMIUM_ARGS, running_server  # noqa: E402

DOCS = ROOT / "docs"
SHAPE_LAB_LINK = "/?input=3x32x32&filters=64&kernel=3&stride=2&padding=1"
SWEEP_LINK = "/sweep?input=1x6x6&filters=1&kernel=3&stride=2&padding=1"
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def main() -> None:
    """Write docs/shape_lab.png and docs/sweep.gif."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM:
        sys.exit("Chromium not found: apt-get install chromium")
    DOCS.mkdir(exist_ok=True)
    with running_server() as (url, _), sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1250}, accept_downloads=True)
        page.goto(url + SHAPE_LAB_LINK)
        page.wait_for_selector(IDLE, timeout=90_000)
        page.get_by_text("torch.Size([1, 64, 16, 16])").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # KaTeX and the grid image settle
        page.screenshot(path=str(DOCS / "shape_lab.png"))
        page.goto(url + SWEEP_LINK)
        page.wait_for_selector(IDLE, timeout=90_000)
        with page.expect_download(timeout=90_000) as info:
            page.get_by_role("button", name="Download GIF").click()
        info.value.save_as(str(DOCS / "sweep.gif"))
        page.wait_for_timeout(500)
        page.screenshot(path=str(DOCS / "sweep_page.png"))
        browser.close()
    for name in ("shape_lab.png", "sweep.gif", "sweep_page.png"):
        print(f"wrote docs/{name} ({(DOCS / name).stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
