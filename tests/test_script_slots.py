"""Script-run slots (issue 17): at most LIGHT_SCRIPT_RUNS light and HEAVY_SCRIPT_RUNS heavy page scripts at once;
blocking waits lend the slot; heavy work never holds up the light lane."""

from __future__ import annotations

import threading
import time

import pytest

from conv_lab import limits
from conv_lab.render.pool import shared_render
from conv_lab.render.slots import HEAVY, LIGHT, heavy_work, held_lane, holds_slot, script_slot, slot_released


def _run_many(body, count: int, lane: str = LIGHT) -> int:
    """Run `body` inside a script slot of `lane` on `count` threads at once; the most that were inside it together."""
    lock, inside, most = threading.Lock(), [0], [0]
    start = threading.Barrier(count)

    def script() -> None:
        start.wait()
        with script_slot(lane):
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


@pytest.mark.parametrize("lane, slots", [(LIGHT, limits.LIGHT_SCRIPT_RUNS), (HEAVY, limits.HEAVY_SCRIPT_RUNS)])
def test_at_most_the_configured_number_of_scripts_run_at_once(lane, slots):
    gate = threading.Event()
    threading.Timer(0.3, gate.set).start()
    assert _run_many(lambda: gate.wait(5), slots + 4, lane) == slots


def test_a_script_waiting_on_other_work_lends_its_slot():
    """All scripts block together inside slot_released: more than the slot count are in their bodies at once."""
    count = limits.LIGHT_SCRIPT_RUNS + 3
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
    others = [threading.Thread(target=waiter) for _ in range(limits.LIGHT_SCRIPT_RUNS + 2)]
    for t in others:
        t.start()
    with script_slot():  # a light script still gets a slot while every other thread waits on the render
        assert holds_slot()
    release.set()
    for t in [owner, *others]:
        t.join(timeout=10)
    assert seen == [1] * (limits.LIGHT_SCRIPT_RUNS + 3)


def test_a_nested_slot_is_not_counted_twice():
    with script_slot():
        with script_slot():
            assert holds_slot()
        assert holds_slot()
    assert not holds_slot()


def test_heavy_work_hands_the_light_slot_on_while_it_computes():
    """Light runs fill the light lane while a heavy block computes; afterwards the heavy run is light again."""
    computing, finish, lanes = threading.Event(), threading.Event(), []

    def heavy() -> None:
        with script_slot():
            with heavy_work():
                lanes.append(held_lane())
                computing.set()
                finish.wait(10)
            lanes.append(held_lane())

    runner = threading.Thread(target=heavy)
    runner.start()
    assert computing.wait(10)
    gate = threading.Event()
    threading.Timer(0.2, gate.set).start()
    assert _run_many(lambda: gate.wait(5), limits.LIGHT_SCRIPT_RUNS + 2) == limits.LIGHT_SCRIPT_RUNS
    finish.set()
    runner.join(timeout=10)
    assert lanes == [HEAVY, LIGHT] and not holds_slot()


def test_heavy_work_outside_a_slot_or_in_the_heavy_lane_moves_nothing():
    with heavy_work():
        assert held_lane() is None
    with script_slot(HEAVY):
        with heavy_work():
            assert held_lane() == HEAVY
        assert held_lane() == HEAVY


def test_a_run_back_from_lending_its_slot_goes_before_runs_that_came_after_it():
    """Oldest first: a Shape Lab run back from its pictures does not queue a second time behind newer runs."""
    from conv_lab.render.slots import _LANES

    lane, order, go, lent = _LANES[LIGHT], [], threading.Event(), threading.Event()
    back = threading.Event()

    def returning() -> None:  # asked first, then lent its slot while "its pictures were drawn"
        with script_slot():
            with slot_released():
                lent.set()
                back.wait(10)
            order.append("returning")

    def holder() -> None:
        with script_slot():
            go.wait(10)
            order.append("holder")

    def newer(name: str) -> None:
        with script_slot():
            order.append(name)

    first = threading.Thread(target=returning)
    first.start()
    assert lent.wait(10)
    threads = [threading.Thread(target=holder)]
    threads[0].start()
    while not (go.is_set() or order or lane.free == 0):
        time.sleep(0.01)
    for name in ("newer 1", "newer 2"):
        threads.append(threading.Thread(target=newer, args=(name,)))
        threads[-1].start()
        while len(lane._waiters) < len(threads) - 1:
            time.sleep(0.01)
    back.set()  # the returning run queues again, behind the two newer ones in arrival
    while len(lane._waiters) < 3:
        time.sleep(0.01)
    go.set()
    for thread in [first, *threads]:
        thread.join(10)
    assert order == ["holder", "returning", "newer 1", "newer 2"]
