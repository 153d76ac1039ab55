"""Heavy renders shared across sessions: cached, computed once when many ask at once, few at a time.

In a classroom, ten students open the same sweep within a second. `functools.lru_cache`
alone would start ten identical renders (it caches only finished results), and ten busy
threads share one interpreter lock with everyone's light reruns, so the Shape Lab stalls
too. `shared_render` adds what the classroom needs (issue #9):

- single flight: callers with the same arguments wait for the one render in progress;
- a bounded number of renders run at once (`limits.MAX_CONCURRENT_RENDERS`); the others
  wait without holding the interpreter, so light reruns keep their share of the CPU;
- an LRU cache of finished results, shared by every session of the process;
- optionally (`in_process=False`), the render runs in a worker process
  (`limits.RENDER_PROCESSES` of them), so it does not hold the server's interpreter lock at
  all: the second core keeps serving everyone else. Arguments and result must pickle, and
  the function must be a module-level name.

A worker that dies (killed, out of memory) breaks its pool: every later submit would fail. The
render that sees `BrokenProcessPool` replaces the pool and retries once on a fresh worker
(issue #17), so one dead worker costs one restart, not the rest of the lesson. `worker_pids()`,
`respawns()` and `shutdown_workers()` let tests and benchmarks see and stop the workers. When the pool cannot run
at all, `in_worker_or_here` renders in the server for a cool-down, then tries the pool again.

Usage (in conv_lab, never in pages): `sweep_gif = shared_render(maxsize=16)(_sweep_gif)`.
"""

from __future__ import annotations

import functools
import importlib
import logging
import multiprocessing
import os
import pickle
import threading
import time
from collections import OrderedDict
from concurrent.futures import BrokenExecutor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Hashable, TypeVar

from conv_lab import limits
from conv_lab.byte_cache import approx_nbytes
from conv_lab.render.direct import empty_main
from conv_lab.render.slots import heavy_work, slot_released

T = TypeVar("T")
log = logging.getLogger(__name__)
_RENDER_SLOTS = threading.BoundedSemaphore(limits.MAX_CONCURRENT_RENDERS)
_EXECUTOR: ProcessPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()
_RESPAWNS = 0  # broken pools replaced since this process started


def _executor() -> ProcessPoolExecutor:
    """The worker processes for renders, started on first use ('spawn': safe from a threaded server)."""
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ProcessPoolExecutor(max_workers=limits.RENDER_PROCESSES,
                                            mp_context=multiprocessing.get_context("spawn"))
            # Start the workers now, against an empty __main__ (render.direct.empty_main).
            with empty_main():
                for _ in range(limits.RENDER_PROCESSES):
                    _EXECUTOR.submit(int)
        return _EXECUTOR


def _replace_broken(broken: ProcessPoolExecutor) -> None:
    """Drop `broken` as the current pool, so the next render starts fresh workers."""
    global _EXECUTOR, _RESPAWNS
    with _EXECUTOR_LOCK:
        # Every render queued on the dead worker sees the same broken pool; only the first replaces it
        # (the others find a newer pool here and just retry on it).
        if _EXECUTOR is not broken:
            return
        _EXECUTOR = None
        _RESPAWNS += 1
        count = _RESPAWNS
    log.warning("Render worker died; starting a new render worker pool (respawn %d)", count)
    broken.shutdown(wait=False, cancel_futures=True)  # its manager thread already reaped the dead worker


def _run_in_worker(render: Callable[..., T], args: tuple, kwargs: dict) -> T:
    """Run `render` in a worker process; on a broken pool, replace the pool and retry once."""
    call = (_call_in_worker, render.__module__, render.__qualname__, args, kwargs)
    pool = _executor()
    try:
        return pool.submit(*call).result()
    except BrokenProcessPool:
        _replace_broken(pool)
    # A second break (no processes can start here, or this render itself kills its worker) goes to the caller:
    # the player then renders in the server process.
    return _executor().submit(*call).result()


def worker_pids() -> tuple[int, ...]:
    """Process ids of the current render workers (empty before the first worker render or after a shutdown).

    >>> shutdown_workers(); worker_pids()
    ()
    """
    with _EXECUTOR_LOCK:
        return tuple(getattr(_EXECUTOR, "_processes", None) or ())  # None once the pool is shut down


def shutdown_workers() -> None:
    """Stop the render workers and wait for them; the next worker render starts new ones.

    >>> shutdown_workers(); shutdown_workers(); worker_pids()
    ()
    """
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        pool, _EXECUTOR = _EXECUTOR, None
    if pool is not None:
        pool.shutdown(wait=True)


def respawns() -> int:
    """How many broken worker pools this process has replaced.

    >>> respawns() >= 0
    True
    """
    return _RESPAWNS


def _call_in_worker(module: str, name: str, args: tuple, kwargs: dict) -> Any:
    """Run `module.name` (unwrapped from its shared_render decorator) in a worker process."""
    function = getattr(importlib.import_module(module), name)
    function = getattr(function, "_render", function)
    return function(*args, **kwargs)


class _InFlight:
    """One render in progress that other callers wait for."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None


def shared_render(maxsize: int = 32, in_process: bool = True, max_bytes: int | None = None
                  ) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator: LRU-cached, single-flight, concurrency-bounded version of a pure render function.

    max_bytes: also keep the cached results' estimated bytes (`byte_cache.approx_nbytes`) within this budget
    (issue 17 item 5); a result larger than the whole budget is returned but not kept.

    >>> calls = []
    >>> @shared_render(maxsize=2)
    ... def square(x: int) -> int:
    ...     calls.append(x)
    ...     return x * x
    >>> square(3), square(3), calls
    (9, 9, [3])
    """

    def decorate(render: Callable[..., T]) -> Callable[..., T]:
        lock = threading.Lock()
        done: OrderedDict[Hashable, T] = OrderedDict()
        sizes: dict[Hashable, int] = {}  # estimated bytes of each result in `done` (with max_bytes)
        running: dict[Hashable, _InFlight] = {}
        stats = {"hits": 0, "misses": 0, "waits": 0, "bytes": 0}

        @functools.wraps(render)
        def wrapper(*args: Hashable, **kwargs: Hashable) -> T:
            key = (args, tuple(sorted(kwargs.items())))
            with lock:
                if key in done:
                    done.move_to_end(key)
                    stats["hits"] += 1
                    return done[key]
                flight = running.get(key)
                owner = flight is None
                if owner:
                    flight = running[key] = _InFlight()
                    stats["misses"] += 1
                else:
                    stats["waits"] += 1
            if not owner:
                with slot_released():  # another session's render: wait without holding a script slot
                    flight.done.wait()
                if flight.error is not None:
                    raise flight.error
                return flight.result
            try:
                # A render in the worker process: this thread only waits, so its script slot goes to another run.
                # One drawn here computes: it moves to the heavy lane, and the light lane's reruns go on meanwhile.
                with (heavy_work() if in_process else slot_released()), _RENDER_SLOTS:
                    if in_process:
                        flight.result = render(*args, **kwargs)
                    else:  # the thread waits without the interpreter lock while a worker renders
                        flight.result = _run_in_worker(render, args, kwargs)
            except BaseException as exc:  # errors are not cached; waiting callers see the same error
                flight.error = exc
                raise
            finally:
                size = approx_nbytes(flight.result) if max_bytes is not None and flight.error is None else 0
                with lock:
                    running.pop(key, None)
                    if flight.error is None and (max_bytes is None or size <= max_bytes):
                        stats["bytes"] += size - sizes.get(key, 0)
                        done[key], sizes[key] = flight.result, size
                        while len(done) > maxsize or (max_bytes is not None and stats["bytes"] > max_bytes):
                            old, _ = done.popitem(last=False)
                            stats["bytes"] -= sizes.pop(old, 0)
                flight.done.set()
            return flight.result

        def cache_clear() -> None:
            with lock:
                done.clear()
                sizes.clear()
                stats["bytes"] = 0

        wrapper._render = render  # type: ignore[attr-defined]
        wrapper.cache_clear = cache_clear  # type: ignore[attr-defined]
        wrapper.cache_stats = lambda: dict(stats, size=len(done))  # type: ignore[attr-defined]
        return wrapper

    return decorate


POOL_FAILURES = (BrokenExecutor, OSError, RuntimeError, ImportError, NotImplementedError, EOFError,
                  pickle.PicklingError)
# ok: the last worker render worked. After a failure renders run here until retry_at (time.monotonic()), then the
# pool is tried again: a transient failure must not move every render into the server for the rest of the lesson.
worker_health: dict[str, Any] = {"ok": True, "retry_at": 0.0}
_watchdog = threading.Lock()


def exit_with_parent() -> None:
    """In a render worker, end the process when the server's process ends (even killed, no clean shutdown)."""
    parent = multiprocessing.parent_process()
    if parent is None or not _watchdog.acquire(blocking=False):
        return  # the server itself, or the watchdog already runs

    def watch() -> None:
        parent.join()
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-server", daemon=True).start()


def in_worker_or_here(in_worker: Callable, here: Callable, *args: Any) -> Any:
    """`in_worker(*args)` (a shared_render with in_process=False); if the pool cannot run, `here(*args)` in this
    process for a cool-down (logged), then the pool again.

    >>> in_worker_or_here(lambda x: x + 1, lambda x: x - 1, 1)
    2
    """
    if worker_health["ok"] or time.monotonic() >= worker_health["retry_at"]:
        try:
            result = in_worker(*args)
        except POOL_FAILURES as exc:  # a dead worker was already replaced and retried once: the pool cannot run now
            worker_health.update(ok=False, retry_at=time.monotonic() + limits.RENDER_POOL_RETRY_SECONDS)
            log.warning("Renders run in the server process for the next %d s: the render worker failed (%r)",
                        limits.RENDER_POOL_RETRY_SECONDS, exc)
        else:
            if not worker_health["ok"]:
                log.warning("Renders run in the render worker again")
                worker_health["ok"] = True
            return result
    return here(*args)
