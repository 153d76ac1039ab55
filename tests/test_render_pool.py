"""conv_lab.render_pool: one render per key however many sessions ask at once, few renders at a time."""

from __future__ import annotations

import threading
import time

import pytest

from conv_lab import limits
from conv_lab.render_pool import shared_render


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

    from conv_lab import render_pool

    pid_in_worker = render_pool.shared_render(in_process=False)(_worker_pid)
    assert pid_in_worker(1) != os.getpid()
    assert pid_in_worker.cache_stats()["misses"] == 1 and pid_in_worker(1) == pid_in_worker(1)


def _worker_pid(_key: int) -> int:
    import os

    return os.getpid()
