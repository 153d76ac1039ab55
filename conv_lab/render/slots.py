"""Script-run slots: at most `limits.CONCURRENT_SCRIPT_RUNS` page scripts run at once in the server (issue 17).

Streamlit runs every session's rerun in its own thread. With a lecture hall moving sliders, dozens are runnable
at once; they take turns on the interpreter lock in 5 ms slices, so each rerun lasts as long as all of them
together, and the event loop that sends finished pages waits its turn behind them. `app.py` runs every script
inside `script_slot()`: a queued thread waits on a semaphore without the interpreter lock, and the runs in the
slots finish one after another instead of all at the end. A run that blocks on other work (a render in the
worker process, another session's render, an upload decode) lends its slot out with `slot_released()`, so a
slow render never holds up other students' light reruns.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Iterator

from conv_lab import limits

_SLOTS = threading.BoundedSemaphore(limits.CONCURRENT_SCRIPT_RUNS)
_holding = threading.local()  # .slot: this thread holds a slot now (not lent out)


@contextmanager
def script_slot() -> Iterator[None]:
    """Run the body in one of the script slots (waits, without the interpreter lock, for a free one).

    >>> with script_slot():
    ...     with slot_released():
    ...         holds_slot()
    False
    """
    if holds_slot():  # nested (a page that reruns inside app.py's slot): already counted
        yield
        return
    _SLOTS.acquire()
    _holding.slot = True
    try:
        yield
    finally:
        if holds_slot():
            _holding.slot = False
            _SLOTS.release()


@contextmanager
def slot_released() -> Iterator[None]:
    """While this thread waits on other work, let another page script use its slot (if it holds one).

    >>> with slot_released():  # outside a slot: nothing to lend
    ...     holds_slot()
    False
    """
    held = holds_slot()
    if held:
        _holding.slot = False
        _SLOTS.release()
    try:
        yield
    finally:
        if held:
            _SLOTS.acquire()
            _holding.slot = True


def holds_slot() -> bool:
    """True when this thread runs inside `script_slot()` and has not lent the slot out.

    >>> holds_slot()
    False
    """
    return getattr(_holding, "slot", False)
