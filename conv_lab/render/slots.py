"""Script-run slots: how many page scripts run at once in the server, in two lanes (issue 17).

Streamlit runs every session's rerun in its own thread, and they all share one interpreter lock. With a lecture
hall moving sliders, dozens are runnable at once: taking turns on the lock in 5 ms slices, each rerun lasts as long
as all of them together, and every hand-over of the lock leaves a core idle while the next thread is woken. So
`app.py` runs every script inside `script_slot()`: a queued thread waits on a semaphore without the lock.

- **Light lane** (`limits.LIGHT_SCRIPT_RUNS`, one): the pages a class moves sliders on (Shape Lab, sweep, feature
  maps), whose own work is a few ms. One at a time finishes them soonest: 110 Shape Lab students measured p95
  2.3–2.6 s with three slots, 1.1–1.2 s with one (benchmarks/load.py).
- **Heavy lane** (`limits.HEAVY_SCRIPT_RUNS`): pages and blocks that may compute for up to the work cap (the
  planner, the matrix, a layer run on an upload, a render done here). `heavy_work()` moves a run there, so a
  half-second request never stalls the light lane's queue; it only shares the interpreter with it.

A run that blocks on other work (a render in the worker process, another session's render, an upload decode) lends
its slot out with `slot_released()`, so a slow render never holds up other students' light reruns. A free slot goes
to the oldest run waiting (by when it first asked for a slot), not to the first in the queue: a Shape Lab run back
from its pictures finishes before runs that arrived while it waited, instead of queueing a second time behind all
of them (under the lecture hall's load that second queue was ~350 ms on average).
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from conv_lab import limits


class OldestFirst:
    """A counting semaphore that hands a freed slot to the waiter that asked earliest (its `since`), not the first to
    queue now; waiters block on their own lock, without the interpreter lock.

    >>> lane = OldestFirst(1); lane.acquire(since=2.0); lane.free
    0
    >>> lane.release(); lane.free
    1
    """

    def __init__(self, slots: int):
        self.free = slots
        self._lock = threading.Lock()
        self._waiters: list[tuple[float, int, threading.Lock]] = []  # a heap: (since, arrival, lock it waits on)
        self._arrivals = itertools.count()

    def acquire(self, since: float) -> None:
        """Take a slot, waiting behind every waiter with an earlier `since` (a time.monotonic())."""
        with self._lock:
            if self.free > 0:
                self.free -= 1
                return
            waiter = threading.Lock()
            waiter.acquire()
            heapq.heappush(self._waiters, (since, next(self._arrivals), waiter))
        waiter.acquire()  # release() hands its slot straight to us: no other thread can take it in between

    def release(self) -> None:
        """Give the slot to the oldest waiter, or back to the lane."""
        with self._lock:
            if self._waiters:
                heapq.heappop(self._waiters)[2].release()
            else:
                self.free += 1


LIGHT, HEAVY = "light", "heavy"
_LANES = {LIGHT: OldestFirst(limits.LIGHT_SCRIPT_RUNS), HEAVY: OldestFirst(limits.HEAVY_SCRIPT_RUNS)}
# .lane: the lane this thread holds a slot in now (None: none, or lent out); .since: when its run first asked for one
_holding = threading.local()


def held_lane() -> str | None:
    """The lane whose slot this thread holds now (None outside a slot or while it is lent out).

    >>> with script_slot(HEAVY):
    ...     held_lane()
    'heavy'
    """
    return getattr(_holding, "lane", None)


def holds_slot() -> bool:
    """True when this thread runs inside `script_slot()` and has not lent the slot out.

    >>> holds_slot()
    False
    """
    return held_lane() is not None


@contextmanager
def script_slot(lane: str = LIGHT) -> Iterator[None]:
    """Run the body in one of the lane's slots (waits, without the interpreter lock, for a free one).

    >>> with script_slot():
    ...     with slot_released():
    ...         holds_slot()
    False
    """
    if holds_slot():  # nested (a page that reruns inside app.py's slot): already counted
        yield
        return
    before = getattr(_holding, "since", None)
    # A run that lent its light slot to do heavy work keeps its age in the heavy lane (heavy_work).
    _holding.since = before if getattr(_holding, "lending", False) and before is not None else time.monotonic()
    _LANES[lane].acquire(_holding.since)
    _holding.lane = lane
    try:
        yield
    finally:
        if held_lane() == lane:
            _holding.lane = None
            _LANES[lane].release()
        _holding.since = before


@contextmanager
def slot_released() -> Iterator[None]:
    """While this thread waits on other work, let another page script use its slot (if it holds one).

    >>> with slot_released():  # outside a slot: nothing to lend
    ...     holds_slot()
    False
    """
    lane = held_lane()
    if lane is not None:
        _holding.lane, _holding.lending = None, True
        _LANES[lane].release()
    try:
        yield
    finally:
        if lane is not None:
            _holding.lending = False
            _LANES[lane].acquire(_holding.since)  # back ahead of the runs that came after this one
            _holding.lane = lane


@contextmanager
def heavy_work() -> Iterator[None]:
    """Run the body in the heavy lane: a light run about to compute long hands its light slot on meanwhile.

    >>> with script_slot():
    ...     with heavy_work():
    ...         held_lane()
    'heavy'
    """
    if held_lane() != LIGHT:  # already heavy, or outside the slots (a test, a worker): nothing to move
        yield
        return
    with slot_released(), script_slot(HEAVY):
        yield
