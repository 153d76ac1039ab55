"""Shared fixtures: AppTest runner, a real Streamlit server, and Playwright on the system Chromium."""

from __future__ import annotations

import atexit
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MPLBACKEND", "Agg")
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The live class's store: a throwaway SQLite file for every server and AppTest the tests start (never the user's).
if "CONVLAB_DATABASE_URL" not in os.environ:
    _DB_DIR = tempfile.mkdtemp(prefix="convlab-db-")
    os.environ["CONVLAB_DATABASE_URL"] = f"sqlite:///{_DB_DIR}/classes.db"
    atexit.register(shutil.rmtree, _DB_DIR, ignore_errors=True)
REQUIRE_POSTGRES = os.environ.get("CONVLAB_REQUIRE_POSTGRES") == "1"

# Hypothesis: `dev` is quick for local runs; CI exports HYPOTHESIS_PROFILE=ci (Makefile default).
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "dev")
settings.register_profile("dev", max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
settings.register_profile("ci", max_examples=150, deadline=None, suppress_health_check=list(HealthCheck),
                          print_blob=True)
settings.load_profile(PROFILE)


def n_examples(ci_count: int, dev_count: int = 25) -> int:
    """Examples for one property test: `ci_count` under the ci profile, fewer locally."""
    return ci_count if PROFILE == "ci" else min(ci_count, dev_count)


CHROMIUM = os.environ.get("CONVLAB_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRE_BROWSER = os.environ.get("CONVLAB_REQUIRE_BROWSER") == "1"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _navigation_mode_like_a_running_server() -> None:
    """AppTest resets Streamlit's old `pages/`-folder mode before every run; a running server leaves it after
    its first st.navigation call. Mirror the server, so a rerun does not drop button clicks.
    (The server-side first-run case is covered in test_faults.py.)"""
    from streamlit.runtime import pages_manager

    original = pages_manager.PagesManager.__init__

    def init(self, *args, **kwargs):
        original(self, *args, **kwargs)
        pages_manager.PagesManager.uses_pages_directory = False

    if not getattr(original, "_convlab", False):
        init._convlab = True
        pages_manager.PagesManager.__init__ = init


_navigation_mode_like_a_running_server()


async def open_stream(base_url: str):
    """A raw websocket to a running server's Streamlit stream, opened as a browser tab opens it."""
    import websockets

    return await websockets.connect(base_url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                    origin=base_url, max_size=None)


async def rerun_messages(ws, until: str = "script_finished", query: str = ""):
    """Ask the stream for a script run; yield its ForwardMsgs up to the first of type `until` (included)."""
    import asyncio

    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    rerun = BackMsg()
    rerun.rerun_script.query_string = query
    await ws.send(rerun.SerializeToString())
    while True:
        fwd = ForwardMsg()
        fwd.ParseFromString(await asyncio.wait_for(ws.recv(), 60))
        yield fwd
        if fwd.WhichOneof("type") == until:
            return


def run_async(coro):
    """asyncio.run in a fresh thread: Playwright's sync API leaves an event loop running in the main thread,
    so a plain asyncio.run fails in any test that runs after a browser test."""
    import asyncio
    import threading

    outcome: dict = {}

    def target():
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


def run_app(page: str | None = None, query: dict | None = None, timeout: float = 60):
    """Run the real app in AppTest, optionally on a page and with query params; returns the AppTest."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page:
        at.switch_page(page)
        at.run()
    return at


def html_metrics(at) -> dict[str, str]:
    """Label → value of the metrics an AppTest run shows in HTML rows (conv_lab.render.html_rows), as a reader sees them."""
    import html
    import re

    pairs = (re.findall(r'<div class="cl-metric-label">(.*?)</div><div class="cl-metric-value">(.*?)</div>', b.proto.body)
             for b in at.get("html"))
    return {html.unescape(label): html.unescape(value) for found in pairs for label, value in found}


def shown_code(at) -> list[str]:
    """Every code block the main area shows, in page order: st.code bodies and markdown's fenced blocks."""
    from conv_lab.render.markdown_blocks import fenced_blocks

    return [block for node in at.main if node.type in ("code", "markdown")
            for block in ([node.value] if node.type == "code" else fenced_blocks(node.value))]


def shown_latex(at) -> list[str]:
    """Every display formula the main area shows, in page order: st.latex bodies and markdown's $$ blocks."""
    import re

    return [body for node in at.main if node.type in ("latex", "markdown")
            for body in re.findall(r"^\$\$\n(.*?)\n\$\$$", node.value, re.S | re.M) or
            ([node.value] if node.type == "latex" else [])]


@pytest.fixture
def app():
    """Factory fixture: app(page=None, query=None) -> a run AppTest."""
    return run_app


def free_port() -> int:
    """An unused loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int | None = None, timeout: float = 30, script: Path = ROOT / "app.py",
                 options: Sequence[str] = ()) -> tuple[subprocess.Popen, str]:
    """Start `streamlit run script` on loopback (a free port unless given; `--name value` per `name=value` option)
    and wait up to `timeout` s for its health check; returns (process, url)."""
    port = port or free_port()
    extra = [part for option in options for part in (f"--{option.split('=', 1)[0]}", option.split("=", 1)[1])]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none", *extra],
        cwd=script.parent, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError(f"Streamlit server for {script.name} did not become healthy in {timeout:.0f} s")


def stop_server(proc: subprocess.Popen) -> None:
    """Stop a server started by `start_server`: terminate, then kill if it lingers."""
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


@contextmanager
def running_server(url: str | None = None, **start: Any) -> Iterator[tuple[str, subprocess.Popen | None]]:
    """(url, process): the server at `url` when given (process None), else one started with `start_server(**start)`
    and stopped on exit."""
    if url:
        yield url.rstrip("/"), None
        return
    proc, url = start_server(**start)
    try:
        yield url, proc
    finally:
        stop_server(proc)


@pytest.fixture(scope="session")
def server_url():
    """Base URL of a real Conv Lab server (CONVLAB_SERVER_URL, or one started for the session)."""
    with running_server(os.environ.get("CONVLAB_SERVER_URL")) as (url, _):
        yield url


@pytest.fixture(scope="session")
def postgres_url():
    """URL of a real PostgreSQL started for the session (Debian's binaries, run as a non-root user), stopped after.

    Without the binaries: skipped with the reason, or a failure under CONVLAB_REQUIRE_POSTGRES=1 (make test, CI)."""
    from pg_server import pg_bin, start_postgres

    if pg_bin() is None:
        if REQUIRE_POSTGRES:
            pytest.fail("CONVLAB_REQUIRE_POSTGRES=1 but PostgreSQL is not installed (apt-get install postgresql)")
        pytest.skip("SKIPPED: PostgreSQL binaries not found (/usr/lib/postgresql/*/bin); apt-get install postgresql "
                    "to run the store tests on PostgreSQL too (make test does)")
    server = start_postgres()
    try:
        yield server.url
    finally:
        server.stop()


def _need_browser():
    if not CHROMIUM:
        if REQUIRE_BROWSER:
            pytest.fail("CONVLAB_REQUIRE_BROWSER=1 but no Chromium found (apt-get install chromium)")
        pytest.skip("SKIPPED LOUDLY: no system Chromium found; install Debian's chromium to run browser tests")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright: launch Debian's Chromium with flags that keep it quiet offline."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture
def browser_page(page):
    """A Playwright page on the system Chromium with a tall viewport (Streamlit scrolls an inner div)."""
    _need_browser()
    page.set_viewport_size({"width": 1400, "height": 1800})
    page.set_default_timeout(30_000)
    return page


@pytest.fixture
def phone_page(browser, playwright):
    """A page in an iPhone 13 context (390×844, touch, a mobile User-Agent holding "Mobi") on the system Chromium."""
    _need_browser()
    device = {k: v for k, v in playwright.devices["iPhone 13"].items() if k != "default_browser_type"}
    assert device["screen"] == {"width": 390, "height": 844} and "Mobi" in device["user_agent"]
    context = browser.new_context(**{**device, "viewport": {"width": 390, "height": 844}})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    context.close()


def refuse_outside(page, server_url: str) -> list[str]:
    """Make the page work offline: anything not served by the app itself is refused and recorded in the list returned."""
    outside: list[str] = []
    host = urlparse(server_url).netloc

    def guard(route):
        url = route.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).netloc == host:
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    return outside


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished the current script run."""
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout)


def artifact(name: str) -> Path:
    """Path for a test artifact (screenshots, downloads), created on demand."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


def pytest_collection_modifyitems(config, items):
    # Browser tests need Chromium; without it they are skipped loudly, or fail under CI.
    if CHROMIUM or REQUIRE_BROWSER:
        return
    for item in items:
        if {"browser_page", "phone_page"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.skip(reason="SKIPPED LOUDLY: no system Chromium found"))


def png_bytes(img, **kw) -> bytes:
    """A Pillow image saved as PNG bytes (uploads in tests)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def jpeg_bytes(img, **kw) -> bytes:
    """A Pillow image saved as JPEG bytes (uploads in tests)."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", **kw)
    return buf.getvalue()
