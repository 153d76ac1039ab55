"""A dead render worker is replaced (issue #17): after `kill -9` of the sweep's render worker, the next sweep
renders in a new worker process, not in the server's own (which would cost every later sweep rerun twice the
server CPU and ~250 MB for the rest of the lesson).
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from worker_respawn import alive, render_workers_of  # noqa: E402  (also used by the benchmark of this fault)

from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.render import pool as render_pool  # noqa: E402
from conv_lab.sweep.animate import sweep_animation  # noqa: E402
from conv_lab.sweep.data import SweepRequest  # noqa: E402
from conv_lab.sweep.service import sweep_player  # noqa: E402

from conftest import run_async, running_server  # noqa: E402
from st_session import StreamlitSession  # noqa: E402


def _kill(pid: int) -> None:
    """SIGKILL `pid` (no clean shutdown at all) and wait until it is gone."""
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while alive(pid):
        assert time.monotonic() < deadline, f"process {pid} survived SIGKILL"
        time.sleep(0.05)


@pytest.fixture
def fresh_workers():
    """No render worker before the test; the test's workers stopped after it."""
    render_pool.shutdown_workers()
    yield
    render_pool.shutdown_workers()


def test_a_killed_render_worker_is_replaced_and_the_next_sweep_renders_in_the_new_one(fresh_workers, caplog):
    # Requests no other test renders through sweep_player, so neither comes from the shared cache.
    sweep_player(SweepRequest(LabConfig(1, 9, 4, 1, kernel_size=(2, 3))))
    (old,) = render_pool.worker_pids()
    respawns = render_pool.respawns()
    _kill(old)

    request = SweepRequest(LabConfig(3, 5, 8, 2, stride=(1, 2), padding=(1, 0)), filter_index=1)
    drawn_here = sweep_animation.cache_info().currsize
    with caplog.at_level("WARNING"):
        shown = sweep_player(request)
    assert sweep_animation.cache_info().currsize == drawn_here, "the sweep was drawn in the server process"
    (new,) = render_pool.worker_pids()
    assert new != old and alive(new), "no new render worker"
    assert render_pool.respawns() == respawns + 1
    assert "Render worker died" in caplog.text and "server process" not in caplog.text
    assert shown == sweep_player(request, in_process=True)


async def _open_sweep(url: str, query: str):
    async with StreamlitSession(url, timeout=120) as session:
        return await session.run(query, "sweep")


def test_a_real_server_replaces_its_killed_render_worker():
    with running_server(timeout=60) as (url, server):
        before = run_async(_open_sweep(url, ""))
        assert before.ok, before.errors
        workers = render_workers_of(server.pid)
        assert len(workers) == 1, f"expected one render worker under the server, found {workers}"
        (old,) = workers
        _kill(old)

        after = run_async(_open_sweep(url, "input=1x6x6"))  # not the default layer: a new render
        assert after.ok and "exception" not in after.element_types, after.errors
        assert after.element_types == before.element_types, "the sweep page did not show the same parts"
        new = render_workers_of(server.pid)
        assert len(new) == 1 and old not in new, f"the killed worker {old} was not replaced: {new}"

        again = run_async(_open_sweep(url, "input=1x7x7"))  # the new worker keeps serving: no further restart
        assert again.ok, again.errors
        assert render_workers_of(server.pid) == new
