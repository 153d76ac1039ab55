"""Faults in a classroom (issue #9), on real servers driven through Streamlit's websocket.

- A server restart loses nothing: the URL a student's browser holds (what the page wrote)
  opens the same page with the same settings on a freshly started server, also when that
  deep link is the new server's very first request and points at a non-default page.
- One session's trouble (impossible layer, caps hit, hostile link, garbage bytes, a tab closed
  mid-run) does not change what another session, running at the same time, sees.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from load import app_pages  # noqa: E402  (reads app.py's PAGES with ast, without importing the app)

from conftest import free_port, run_async, start_server, stop_server  # noqa: E402
from st_session import StreamlitSession  # noqa: E402

PAGES = app_pages()
DEEP_LINK = "kernel=4x3&input=2x13x11&filters=6&stride=2&padding=1&dilation=2"  # not in the order the app writes


def _first_difference(expected, got) -> str:
    """The first element that differs, both versions, for a readable failure."""
    a, b = expected.fingerprint(), got.fingerprint()
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"element {i}:\n  expected {x}\n  got      {y}"
    return f"{len(a)} elements expected, {len(b)} shown"


async def _open(url: str, query: str, page: str, warm_up: bool = False):
    async with StreamlitSession(url, timeout=90) as session:
        if warm_up:  # the class has been using the server: other pages ran first
            await session.run("", "")
        return await session.run(query, page, collect=True)


@pytest.fixture(scope="module")
def before_restart():
    """What each page shows on a server that has been in use, for the deep link; then the server stops."""
    port = free_port()
    proc, _ = start_server(port, timeout=60)
    try:
        url = f"http://127.0.0.1:{port}"
        seen = {page: run_async(_open(url, DEEP_LINK, page, warm_up=True)) for _, page in PAGES}
    finally:
        stop_server(proc)  # the restart: every session and all server memory are gone
    return port, seen


# Known finding (issue #9 report): /network writes its stack to the URL as `net=`, and a page opened from
# that URL shows "Preset: —" and drops the preset's caption, while the session that wrote it showed
# "LeNet-5". Remove this mark once pages/network.py names the preset a URL stack equals.
KNOWN_RESTART_DIFFERENCES: dict[str, str] = {}  # page url -> why it may differ after a restart


def _restart_params():
    for file, url in PAGES:
        marks = [pytest.mark.xfail(strict=True, reason=KNOWN_RESTART_DIFFERENCES[url])] \
            if url in KNOWN_RESTART_DIFFERENCES else []
        yield pytest.param(url, marks=marks, id=Path(file).stem)


@pytest.mark.parametrize("page", list(_restart_params()))
def test_restart_reopens_the_same_page_from_the_url(before_restart, page):
    port, seen = before_restart
    before = seen[page]
    assert before.ok, f"/{page} before the restart: {before.errors}"
    assert before.final_query, f"/{page} wrote no URL: a restart would lose the student's settings"
    for key_value in DEEP_LINK.split("&"):
        assert key_value in before.final_query.split("&"), f"/{page} dropped {key_value} from the URL"
    proc, _ = start_server(port, timeout=60)  # same address, fresh process; the browser reconnects with the URL it holds
    try:
        after = run_async(_open(f"http://127.0.0.1:{port}", before.final_query, page))
    finally:
        stop_server(proc)
    assert after.ok, f"/{page} as the first request after a restart: {after.errors}"
    assert not after.page_not_found
    assert after.final_query == before.final_query
    assert after.fingerprint() == before.fingerprint(), (
        f"/{page} shows something else after the restart: {_first_difference(before, after)}")


# ---------------------------------------------------------------- isolation between sessions
TROUBLE = [
    ("input=3x32x32&filters=16&groups=5", ""),  # groups must divide channels: an error box
    ("input=1024x1024x1024&filters=1024&kernel=64&padding=512", ""),  # caps: work too large
    ("input=3x32x32&transposed=1&stride=2&output_padding=3", "sweep"),  # output_padding >= stride
    ("kernel=%zz&" + "stride=" + "9" * 5000 + "&input=%F0%9F%92%A5", ""),
    ("input=4x64x64&kernel=9&dilation=8", "matrix"),
    ("", "no-such-page"),
]


async def _student_b(url: str, page: str, rounds: int, barrier: asyncio.Event):
    """A well-behaved student repeating one configuration while another session misbehaves."""
    results = []
    async with StreamlitSession(url, timeout=90) as session:
        results.append(await session.run(DEEP_LINK, page, collect=True))
        barrier.set()
        for _ in range(rounds):
            results.append(await session.run(DEEP_LINK, page, collect=True))
            await asyncio.sleep(0.05)
    return results


async def _student_a(url: str, barrier: asyncio.Event):
    """A session that does everything wrong, concurrently with student B."""
    await barrier.wait()
    outcomes = []
    async with StreamlitSession(url, timeout=90) as session:
        for query, page in TROUBLE:
            outcomes.append(await session.run(query, page))
    # a tab closed in the middle of a heavy run
    closing = StreamlitSession(url, timeout=90)
    await closing.connect()
    await closing.ws.send(_rerun_bytes("input=64x256x256&filters=256&kernel=7", ""))
    await asyncio.sleep(0.05)
    await closing.close()
    # garbage where a BackMsg should be: the server may drop this socket, nothing else
    broken = StreamlitSession(url, timeout=10)
    await broken.connect()
    try:
        await broken.send_raw(b"\xff\x00 not a protobuf \x13\x37" * 10)
        await broken.run("kernel=3", "")
    finally:
        await broken.close()
    return outcomes


def _rerun_bytes(query: str, page: str) -> bytes:
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = query
    msg.rerun_script.page_name = page
    return msg.SerializeToString()


@pytest.mark.parametrize("page", ["", "sweep"], ids=["shape_lab", "sweep"])
def test_one_sessions_failures_do_not_touch_another_session(server_url, page):
    async def scenario():
        alone = await _open(server_url, DEEP_LINK, page)
        barrier = asyncio.Event()
        b_results, a_outcomes = await asyncio.gather(_student_b(server_url, page, 12, barrier),
                                                     _student_a(server_url, barrier))
        after = await _open(server_url, DEEP_LINK, page)  # a new student after all that
        return alone, b_results, a_outcomes, after

    alone, b_results, a_outcomes, after = run_async(scenario())
    assert alone.ok, alone.errors
    for i, result in enumerate(b_results):
        assert result.ok, f"student B run {i} broke while another session misbehaved: {result.errors}"
        assert result.fingerprint() == alone.fingerprint(), (
            f"student B run {i} shows something different: {_first_difference(alone, result)}")
    for (query, trouble_page), outcome in zip(TROUBLE, a_outcomes):
        assert outcome.status is not None, f"/{trouble_page}?{query[:60]}: {outcome.error}"
        assert not outcome.exceptions, f"/{trouble_page}?{query[:60]} showed a traceback: {outcome.exceptions}"
    assert after.ok and after.fingerprint() == alone.fingerprint()
