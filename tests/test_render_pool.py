"""conv_lab.render.pool: one render per key however many sessions ask at once, few renders at a time."""

from __future__ import annotations

import threading
import time

import pytest

from conv_lab import limits
from conv_lab.render.pool import shared_render


def _in_threads(fn, args_list):
    results, errors = [None] * len(args_list), []
    start = threading.Barrier(len(args_list))

    def call(i, args):
        start.wait()
        try:
            results[i] = fn(*args)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i, a)) for i, a in enumerate(args_list)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def test_ten_sessions_asking_for_the_same_render_run_it_once():
    calls = []

    @shared_render(maxsize=4)
    def render(key):
        calls.append(key)
        time.sleep(0.2)
        return f"gif for {key}"

    results, errors = _in_threads(render, [("k",)] * 10)
    assert errors == [] and results == ["gif for k"] * 10
    assert calls == ["k"]
    assert render.cache_stats()["waits"] + render.cache_stats()["hits"] == 9


def test_at_most_the_configured_number_of_renders_run_at_once():
    running, peak, lock = [0], [0], threading.Lock()

    @shared_render(maxsize=16)
    def render(key):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return key

    results, errors = _in_threads(render, [(i,) for i in range(8)])
    assert errors == [] and results == list(range(8))
    assert peak[0] == min(8, limits.MAX_CONCURRENT_RENDERS)


def test_errors_reach_every_waiter_and_are_not_cached():
    attempts = []

    @shared_render()
    def render(key):
        attempts.append(key)
        time.sleep(0.1)
        if len(attempts) == 1:
            raise ValueError("first render failed")
        return "ok"

    results, errors = _in_threads(render, [("k",)] * 4)
    assert len(errors) == 4 and all(str(e) == "first render failed" for e in errors)
    assert render("k") == "ok" and attempts == ["k", "k"]


def test_least_recently_used_results_are_dropped():
    calls = []

    @shared_render(maxsize=2)
    def render(key):
        calls.append(key)
        return key

    for key in (1, 2, 1, 3, 1, 2):
        render(key)
    assert calls == [1, 2, 3, 2]  # 2 was evicted by 3 (1 had been used more recently)
    with pytest.raises(TypeError):
        render([1])  # unhashable arguments are a programming error, not a cache miss


def test_a_render_can_run_in_a_worker_process():
    import os

    from conv_lab.render import pool as render_pool

    pid_in_worker = render_pool.shared_render(in_process=False)(_worker_pid)
    assert pid_in_worker(1) != os.getpid()
    assert pid_in_worker.cache_stats()["misses"] == 1 and pid_in_worker(1) == pid_in_worker(1)


def _worker_pid(_key: int) -> int:
    import os

    return os.getpid()


def _alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _marked_pid(marker: str, seconds: float) -> int:
    """In a worker: note that this render started (its pid in `marker`), take `seconds`, return the pid."""
    import os
    from pathlib import Path

    Path(marker).write_text(str(os.getpid()))
    time.sleep(seconds)
    return os.getpid()


def _kill_own_worker(_key: int) -> int:
    """In a worker: a render that kills the process running it (as the out-of-memory killer would)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return 0


@pytest.fixture
def fresh_workers():
    """No render worker before the test; the test's workers stopped after it."""
    from conv_lab.render import pool as render_pool

    render_pool.shutdown_workers()
    yield render_pool
    render_pool.shutdown_workers()


def test_worker_pids_name_the_running_workers_and_shutdown_stops_them(fresh_workers):
    render_pool = fresh_workers
    assert render_pool.worker_pids() == ()
    pid = render_pool.shared_render(in_process=False)(_worker_pid)(2)
    assert render_pool.worker_pids() == (pid,) and _alive(pid)
    render_pool.shutdown_workers()
    assert render_pool.worker_pids() == () and not _alive(pid)


def test_a_render_worker_runs_at_the_servers_priority(fresh_workers):
    """Not niced: behind a busy laptop's other programs niced workers left sweeps waiting 10 s (limits, issue 17)."""
    import os

    pid = fresh_workers.shared_render(in_process=False)(_worker_pid)(3)
    assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)


def test_renders_on_a_worker_killed_mid_render_are_retried_once_on_one_new_worker(fresh_workers, tmp_path, caplog):
    import os
    import signal

    render_pool = fresh_workers
    slow = render_pool.shared_render(in_process=False)(_marked_pid)
    respawns = render_pool.respawns()
    # Two renders in the pool at once (one running, one queued: limits allow 2 at a time on 1 worker), both on
    # the worker that dies: each sees the same broken pool, and only the first may replace it.
    markers = [str(tmp_path / "a"), str(tmp_path / "b")]
    results, errors, threads = {}, [], []
    for marker in markers:
        def render(marker=marker):
            try:
                results[marker] = slow(marker, 1.0)
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
        threads.append(threading.Thread(target=render))
    with caplog.at_level("WARNING", logger="conv_lab.render.pool"):
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while not any(os.path.exists(m) for m in markers) or slow.cache_stats()["misses"] < 2:
            assert time.monotonic() < deadline, "the first render never started in a worker"
            time.sleep(0.05)
        time.sleep(0.3)  # let the second render reach the pool's queue
        first = render_pool.worker_pids()
        assert len(first) == 1
        os.kill(first[0], signal.SIGKILL)
        for thread in threads:
            thread.join(60)
    assert errors == [], errors
    new = render_pool.worker_pids()
    assert len(new) == 1 and new != first and _alive(new[0])
    assert results == {markers[0]: new[0], markers[1]: new[0]}, "a render did not finish on the new worker"
    assert render_pool.respawns() == respawns + 1, "one dead worker must cost exactly one new pool"
    assert caplog.text.count("Render worker died") == 1


def test_a_render_that_kills_every_worker_is_retried_once_then_fails(fresh_workers):
    from concurrent.futures.process import BrokenProcessPool

    render_pool = fresh_workers
    deadly = render_pool.shared_render(in_process=False)(_kill_own_worker)
    respawns = render_pool.respawns()
    with pytest.raises(BrokenProcessPool):
        deadly(1)
    assert render_pool.respawns() == respawns + 1, "the render was not retried exactly once"
    pid = render_pool.shared_render(in_process=False)(_worker_pid)(3)  # the broken retry pool is replaced in turn
    assert render_pool.respawns() == respawns + 2 and render_pool.worker_pids() == (pid,) and _alive(pid)
