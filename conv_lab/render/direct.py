"""A render process reached over the page's own pipe: start a picture early, pick it up at the end (issue 17).

Under the lecture hall's load the render pool (`render.pool`) took 36 ms on average from submit to result for a
10 ms Shape Lab picture: a request crosses two helper threads of the server (the executor's manager and its queue's
feeder) and the answer a third, and each of them waits for the interpreter lock that every script thread shares.
The page meanwhile lent its light slot out and then queued for it a second time (~350 ms mean under that load).

Here the page's own thread writes the request into a pipe of a dedicated worker process (`DirectWorker.start`),
goes on with its formula and PyTorch run while the worker draws on the other core, and reads the answer from the
same pipe at the end (`Pending.result`): no helper thread, and usually no wait. A worker that dies is replaced and
the request sent once more; when that fails too, `WorkerGone` tells the caller to draw in its own process.

    worker = DirectWorker("pictures")
    pending = worker.start(draw, *args)  # draw: a module-level function; arguments and result pickle
    ...                                  # the page's other work
    value = pending.result()
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import pickle
import queue
import sys
import threading
import time
import types
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

from conv_lab import limits
from conv_lab.render.slots import slot_released

log = logging.getLogger(__name__)
PIPE_ERRORS = (EOFError, OSError)  # a worker that died: its end of the pipe is closed


class WorkerGone(RuntimeError):
    """The worker process died, hung or could not start: draw in this process instead."""


@contextmanager
def empty_main() -> Iterator[None]:
    """While spawning a worker: an empty `__main__`, so the new process does not re-run the app script (under
    Streamlit `__main__` is the app, with torch and the pages) but imports only what its renders need.

    >>> with empty_main():
    ...     hasattr(sys.modules["__main__"], "__file__")
    False
    """
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def _reply(function_path: tuple[str, str], args: tuple) -> tuple[bool, Any]:
    """(True, result) or (False, the exception), made sure to pickle."""
    module, name = function_path
    try:
        reply = (True, getattr(importlib.import_module(module), name)(*args))
    except Exception as exc:  # noqa: BLE001 - every error goes back to the caller, as the render pool does
        reply = (False, exc)
    try:
        pickle.dumps(reply[1])
    except Exception as exc:  # noqa: BLE001 - an unpicklable result or error: say what it was
        reply = (False, RuntimeError(f"render {module}.{name} gave an unpicklable {type(reply[1]).__name__}: {exc}"))
    return reply


def _serve(connections: list[Connection]) -> None:
    """The worker process: answer requests on any of its pipes, one at a time, until the server closes them all."""
    live = list(connections)
    while live:
        for conn in wait(live):
            try:
                function_path, args = conn.recv()
                conn.send(_reply(function_path, args))
            except PIPE_ERRORS:  # the server closed this pipe (or died): serve the others
                live.remove(conn)


class _Channel:
    """The server's end of one pipe; `owed`: a reply nobody collected yet (its caller gave up) is still coming."""

    def __init__(self, conn: Connection):
        self.conn, self.owed = conn, False

    def settle(self) -> None:
        """Read and drop a reply owed to an abandoned request, so the next reply read is the next caller's."""
        if self.owed:
            if not self.conn.poll(limits.DIRECT_RENDER_TIMEOUT_SECONDS):
                raise WorkerGone("the worker did not finish an earlier render")
            self.conn.recv()
            self.owed = False


class _Process:
    """One worker process and the free ends of its pipes."""

    def __init__(self, name: str, channels: int):
        context = multiprocessing.get_context("spawn")  # safe from a threaded server
        pairs = [context.Pipe() for _ in range(channels)]
        self.process = context.Process(target=_serve, args=([child for _, child in pairs],), daemon=True,
                                       name=f"conv-lab {name}")
        with empty_main():
            self.process.start()
        for _, child in pairs:
            child.close()  # only the worker holds these: when it dies, our ends read EOF
        self.free: queue.SimpleQueue[_Channel] = queue.SimpleQueue()
        for conn, _ in pairs:
            self.free.put(_Channel(conn))

    def stop(self) -> None:
        """End the worker and wait for it."""
        self.process.kill()
        self.process.join(5)


class Pending:
    """A render sent to the worker; `result()` reads its answer (once)."""

    def __init__(self, worker: DirectWorker, process: _Process, channel: _Channel, request: tuple):
        self._worker, self._process, self._channel, self._request = worker, process, channel, request
        self._answer: tuple[bool, Any] | None = None
        # Given up on (a rerun interrupts the page): the pipe goes back owing its reply, which the next user drops.
        self._give_back = weakref.finalize(self, process.free.put, channel)

    def result(self) -> Any:
        """The render's result (its error raised here); WorkerGone when no worker could answer. Read once, kept."""
        if self._answer is None:
            try:
                self._answer = self._read()
            except WorkerGone as exc:
                self._worker.replace(self._process, exc)
                retry = self._worker.send(self._request, retry=False)  # once more, on a new worker
                try:
                    self._answer = retry._read()
                except WorkerGone as again:
                    self._worker.replace(retry._process, again)
                    raise
        ok, value = self._answer
        if ok:
            return value
        raise value

    def _read(self) -> tuple[bool, Any]:
        conn = self._channel.conn
        try:
            if conn.poll(limits.DIRECT_RENDER_HOLD_SECONDS):  # usually: the page did its other work meanwhile
                return self._take_reply()
            with slot_released():  # a longer wait lends the script slot out (render.slots), as the pool's renders do
                if not conn.poll(limits.DIRECT_RENDER_TIMEOUT_SECONDS):
                    raise WorkerGone(f"no answer within {limits.DIRECT_RENDER_TIMEOUT_SECONDS} s")
                # Read and give the pipe back before queueing for the slot again: a pipe is never held by a page that
                # waits for a slot, so pages holding slots never wait for pipes held by pages waiting for slots.
                return self._take_reply()
        except PIPE_ERRORS as exc:
            raise WorkerGone(f"the worker's pipe closed: {exc!r}") from exc

    def _take_reply(self) -> tuple[bool, Any]:
        """Read the reply and give the pipe back."""
        reply = self._channel.conn.recv()
        self._channel.owed = False
        self._give_back()
        return reply


class DirectWorker:
    """A lazily started worker process for small renders, reached over `limits.DIRECT_CHANNELS` pipes."""

    def __init__(self, name: str, channels: int | None = None):
        self.name = name
        self.channels = channels or limits.DIRECT_CHANNELS
        self.respawns = 0  # dead workers replaced
        self._process: _Process | None = None
        self._retry_at = 0.0  # after a failed start: no new attempt before this time.monotonic()
        self._lock = threading.Lock()

    def _current(self) -> _Process:
        with self._lock:
            if self._process is None:
                if time.monotonic() < self._retry_at:  # it could not start a moment ago: not on every rerun
                    raise WorkerGone(f"the {self.name} worker could not start; trying again later")
                try:
                    self._process = _Process(self.name, self.channels)
                except (OSError, RuntimeError, ImportError) as exc:
                    self._retry_at = time.monotonic() + limits.RENDER_POOL_RETRY_SECONDS
                    log.warning("Cannot start the %s worker (%r): drawing in the server for %d s", self.name, exc,
                                limits.RENDER_POOL_RETRY_SECONDS)
                    raise WorkerGone(f"cannot start the {self.name} worker: {exc!r}") from exc
            return self._process

    def start(self, function: Callable, *args: Any) -> Pending:
        """Send `function(*args)` to the worker now (a module-level function); WorkerGone when no worker can take it.

        >>> import math
        >>> worker = DirectWorker("example"); worker.start(math.factorial, 5).result()
        120
        >>> worker.shutdown(); worker.pids()
        ()
        """
        return self.send(((function.__module__, function.__qualname__), args))

    def send(self, request: tuple, retry: bool = True) -> Pending:
        """Send a (function path, args) request on a free pipe (waiting for one if all are in use); a dead worker
        is replaced and, with `retry`, the request sent once more to the new one."""
        process = self._current()
        try:
            channel = process.free.get_nowait()
        except queue.Empty:  # every pipe busy: wait without the script slot (their holders may need it back)
            with slot_released():
                try:
                    channel = process.free.get(timeout=limits.DIRECT_RENDER_TIMEOUT_SECONDS)
                except queue.Empty:
                    raise WorkerGone(f"every pipe to the {self.name} worker stayed busy") from None
        try:
            channel.settle()
            channel.conn.send(request)
        except (WorkerGone, *PIPE_ERRORS) as exc:
            self.replace(process, exc)
            if retry:
                return self.send(request, retry=False)
            raise WorkerGone(f"the {self.name} worker is gone: {exc!r}") from exc
        channel.owed = True
        return Pending(self, process, channel, request)

    def replace(self, process: _Process, why: BaseException) -> None:
        """Drop a dead or hung worker; the next request starts a new one (only the first caller counts it)."""
        with self._lock:
            if self._process is not process:
                return
            self._process = None
            self.respawns += 1
        log.warning("The %s worker stopped answering (%r); starting a new one", self.name, why)
        process.stop()

    def pids(self) -> tuple[int, ...]:
        """The worker's process id (empty before its first render or after `shutdown`)."""
        with self._lock:
            return (self._process.process.pid,) if self._process else ()

    def shutdown(self) -> None:
        """Stop the worker; the next render starts a new one."""
        with self._lock:
            process, self._process = self._process, None
        if process:
            process.stop()
