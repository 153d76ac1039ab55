"""Script-run slots (issue 17): at most CONCURRENT_SCRIPT_RUNS page scripts at once; blocking waits lend the slot."""

from __future__ import annotations

import threading

from conv_lab import limits
from conv_lab.render.pool import shared_render
from conv_lab.render.slots import holds_slot, script_slot, slot_released


def _run_many(body, count: int) -> int:
    """Run `body` inside a script slot on `count` threads at once; the most that were inside it together."""
    lock, inside, most = threading.Lock(), [0], [0]
    start = threading.Barrier(count)

    def script() -> None:
        start.wait()
        with script_slot():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            body()
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=script) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return most[0]


def test_at_most_the_configured_number_of_scripts_run_at_once():
    gate = threading.Event()
    threading.Timer(0.3, gate.set).start()
    assert _run_many(lambda: gate.wait(5), limits.CONCURRENT_SCRIPT_RUNS + 4) <= limits.CONCURRENT_SCRIPT_RUNS


def test_a_script_waiting_on_other_work_lends_its_slot():
    """All scripts block together inside slot_released: more than the slot count are in their bodies at once."""
    count = limits.CONCURRENT_SCRIPT_RUNS + 3
    everyone = threading.Barrier(count)  # would time out (BrokenBarrierError) if the slots were not lent

    def body() -> None:
        with slot_released():
            everyone.wait(timeout=10)

    assert _run_many(body, count) == count


def test_waiting_for_another_sessions_render_lends_the_slot():
    release = threading.Event()

    @shared_render(maxsize=2)
    def slow(x: int) -> int:
        release.wait(10)
        return x

    seen = []

    def waiter() -> None:
        with script_slot():
            seen.append(slow(1))

    owner = threading.Thread(target=waiter)
    owner.start()
    others = [threading.Thread(target=waiter) for _ in range(limits.CONCURRENT_SCRIPT_RUNS + 2)]
    for t in others:
        t.start()
    with script_slot():  # a light script still gets a slot while every other thread waits on the render
        assert holds_slot()
    release.set()
    for t in [owner, *others]:
        t.join(timeout=10)
    assert seen == [1] * (limits.CONCURRENT_SCRIPT_RUNS + 3)


def test_a_nested_slot_is_not_counted_twice():
    with script_slot():
        with script_slot():
            assert holds_slot()
        assert holds_slot()
    assert not holds_slot()
