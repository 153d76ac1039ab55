"""conv_lab.render.direct: renders over the page's own pipe; started early, read late; a dead or hung worker is
replaced; a page never waits for a pipe while holding a script slot that the pipe's holder needs (issue 17)."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
import time

import pytest
from test_render_pool import _alive, _kill_own_worker, _worker_pid

from conv_lab import ConvConfigError, limits
from conv_lab.render.direct import DirectWorker, WorkerGone
from conv_lab.render.slots import holds_slot, script_slot


def _echo(value, seconds: float = 0.0):
    """In the worker: `value` after `seconds`."""
    time.sleep(seconds)
    return value


def _refuse(param: str) -> None:
    raise ConvConfigError(param, "too big", "make it smaller")


def _unpicklable(_key: int):
    return threading.Lock()


@pytest.fixture
def worker():
    made = []

    def make(**options) -> DirectWorker:
        made.append(DirectWorker("test", **options))
        return made[-1]

    yield make
    for each in made:
        each.shutdown()


def test_a_render_started_early_is_read_late_from_another_process(worker):
    pictures = worker()
    pending = pictures.start(_worker_pid, 1)
    assert pictures.pids() and pictures.pids()[0] != os.getpid()
    assert pending.result() == pictures.pids()[0] and pending.result() == pictures.pids()[0]  # read once, kept


def test_the_worker_runs_at_the_servers_priority(worker):
    """Not niced: behind a busy laptop's other programs a niced picture worker kept the Shape Lab waiting (limits)."""
    pid = worker().start(_worker_pid, 1).result()
    assert os.getpriority(os.PRIO_PROCESS, pid) == os.getpriority(os.PRIO_PROCESS, 0)


def test_errors_come_back_as_raised_in_the_worker_and_unpicklable_results_are_named(worker):
    pictures = worker()
    with pytest.raises(ConvConfigError) as refused:
        pictures.start(_refuse, "kernel_size").result()
    assert (refused.value.param, refused.value.fix) == ("kernel_size", "make it smaller")
    with pytest.raises(RuntimeError, match="unpicklable lock"):
        pictures.start(_unpicklable, 1).result()
    assert pictures.start(_echo, "still serving").result() == "still serving"


def test_a_reply_nobody_read_never_reaches_the_next_caller(worker):
    pictures = worker(channels=1)
    pending = pictures.start(_echo, "abandoned", 0.2)  # a rerun interrupted the page before it read this
    del pending
    gc.collect()
    assert pictures.start(_echo, "mine").result() == "mine"


def test_a_killed_worker_is_replaced_and_the_render_sent_again(worker):
    pictures = worker()
    old = pictures.start(_worker_pid, 1).result()
    pending = pictures.start(_echo, "redrawn", 1.0)
    os.kill(old, 9)
    assert pending.result() == "redrawn"
    (new,) = pictures.pids()
    assert new != old and _alive(new) and not _alive(old) and pictures.respawns == 1
    assert pictures.start(_worker_pid, 2).result() == new, "the next render is not from the new worker"


def test_a_render_that_kills_every_worker_is_sent_once_more_then_gives_up(worker):
    pictures = worker()
    with pytest.raises(WorkerGone):
        pictures.start(_kill_own_worker, 1).result()
    assert pictures.respawns == 2  # the first worker and the one that took the retry
    assert pictures.start(_echo, "after").result() == "after"


def test_a_silent_worker_is_replaced(worker, monkeypatch):
    monkeypatch.setattr(limits, "DIRECT_RENDER_TIMEOUT_SECONDS", 0.5)
    pictures = worker()
    first = pictures.start(_worker_pid, 1).result()
    os.kill(first, 19)  # SIGSTOP: alive but never answering
    try:
        assert pictures.start(_echo, "from a new worker").result() == "from a new worker"
        assert pictures.pids()[0] != first and pictures.respawns == 1 and not _alive(first)
    finally:
        with contextlib.suppress(ProcessLookupError):  # replacing it killed it already
            os.kill(first, 9)


def test_a_page_waiting_for_a_pipe_does_not_hold_the_slot_the_pipes_holder_needs(worker):
    """One pipe: page A sent a render and waits for it outside its slot; page B, holding the only light slot, wants
    the pipe. B must lend its slot while it waits, or A (needing the slot back) and B would wait for each other."""
    pictures = worker(channels=1)
    sent, done = threading.Event(), []

    def page_a() -> None:
        with script_slot():
            pending = pictures.start(_echo, "a", 0.3)
            sent.set()
            done.append(pending.result())

    def page_b() -> None:
        sent.wait(10)
        with script_slot():
            done.append(pictures.start(_echo, "b").result())
            assert holds_slot()

    threads = [threading.Thread(target=page_a), threading.Thread(target=page_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert sorted(done) == ["a", "b"], "the two pages waited for each other"


def test_the_worker_ends_with_a_killed_server():
    """kill -9 of the server closes its ends of the pipes: the worker reads EOF on all of them and exits."""
    import signal
    import subprocess
    import sys

    server = subprocess.Popen([sys.executable, "-c", "import math, sys, time\n"
                               "from conv_lab.render.direct import DirectWorker\n"
                               "worker = DirectWorker('orphan'); worker.start(math.factorial, 3).result()\n"
                               "print(worker.pids()[0], flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, cwd=os.path.dirname(os.path.dirname(__file__)))
    try:
        pid = int(server.stdout.readline())
        assert _alive(pid)
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(10)
    deadline = time.monotonic() + 10
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(pid), "the worker outlived its server"
