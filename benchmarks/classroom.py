"""Live class load: N students answer a question within a window while the teacher's tally refreshes.

Drives the real server(s) through Streamlit's websocket protocol (st_session.py): each student session opens its
/class page (join=…&me=…), reruns it every 2 s (the page's poll; a full rerun, heavier than the fragment the
browser reruns), and at a random moment in the window types its answer and presses "Send my answer" (the widget
states a browser sends): the answer goes through the page's own callback into the store. An answer counts as
acknowledged when the page that came back shows "Your answer: …". The teacher's session reruns the tally page every
half second. Prints tally refresh p50/p95/max, answer acknowledgement p50/p95, and lost answers (acknowledged but not in
the final tally).

    python benchmarks/classroom.py                          # 40 students in 10 s, one server, SQLite
    python benchmarks/classroom.py --replicas               # the same through HAProxy, two replicas, PostgreSQL
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent / "tests"), str(HERE.parent / "scripts"), str(HERE.parent)]
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: E402

from conv_lab.classroom import open_store  # noqa: E402
from conv_lab.classroom.questions import lab_question_id  # noqa: E402
from conv_lab.lab.presets import PRESET_BY_NAME  # noqa: E402

from st_session import StreamlitSession  # noqa: E402

QID = lab_question_id(PRESET_BY_NAME["Halve with stride 2"].config)  # 3×32×32 → 64×16×16
ANSWERS = [(64, 16, 16), (64, 15, 15), (64, 17, 17), (3, 16, 16)]


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of a non-empty list."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def widget_ids(result) -> dict[str, str]:
    """label -> widget id of the answer boxes and the send button in a collected run."""
    ids = {}
    for _, element in result.elements:
        for body in element.values():
            if isinstance(body, dict) and "id" in body and "label" in body:
                ids[body["label"]] = body["id"]
    return ids


async def student(base: str, code: str, me: str, answer_at: float, window_end: float, values, out: dict) -> None:
    query = f"join={code}&me={me}"
    async with StreamlitSession(base, timeout=60) as session:
        first = await session.run(query, page="class", collect=True)
        ids = widget_ids(first)
        if first.errors or "Send my answer" not in ids:
            out["errors"].append(f"{me}: {first.errors or 'no answer form'}")
            return
        answered, next_poll = False, time.monotonic() + 2.0
        while not answered or time.monotonic() < window_end:
            now = time.monotonic()
            if not answered and now >= answer_at:
                states = [WidgetState(id=ids[label], int_value=v) for label, v in zip(("C_out", "H_out", "W_out"), values)]
                states.append(WidgetState(id=ids["Send my answer"], trigger_value=True))
                start = time.perf_counter()
                result = await session.run(query, page="class", collect=True, widgets=states)
                text = "×".join(map(str, values))
                if any(f"Your answer: **{text}**" in t for t in result.texts()):
                    out["acked"].append((me, text))
                    out["ack_latency"].append(time.perf_counter() - start)
                else:
                    out["errors"].append(f"{me}: no acknowledgement {result.errors}")
                answered = True
            elif now >= next_poll:  # the page's poll (a full rerun here)
                result = await session.run(query, page="class")
                out["errors"].extend(f"{me}: {e}" for e in result.errors)
                next_poll = now + 2.0
            else:
                await asyncio.sleep(max(0.0, min(next_poll, answer_at if not answered else next_poll) - now))


async def teacher(base: str, code: str, key: str, until: float, out: dict) -> None:
    async with StreamlitSession(base, timeout=60) as session:
        while time.monotonic() < until:
            result = await session.run(f"class={code}&key={key}", page="class", collect=True)
            if result.errors:
                out["errors"].extend(f"teacher: {e}" for e in result.errors)
            else:
                out["refresh"].append(result.latency)
                out["shown"] = [t for t in result.texts() if " of " in t and "joined" in t]
            await asyncio.sleep(0.5)


async def lesson(base: str, url: str, students: int, window: float, warm: tuple[str, ...] = ()) -> dict:
    store = open_store(url)
    code, key = store.create_class()
    store.set_question(code, key, QID)
    ids = [store.join(code, f"s{i}") for i in range(students)]
    out: dict = {"acked": [], "ack_latency": [], "refresh": [], "errors": [], "shown": []}
    for server in warm or (base,):  # the teacher's own check of every server before class: imports torch
        async with StreamlitSession(server, timeout=120) as session:
            await session.run(f"class={code}&key={key}", page="class")
    start = time.monotonic()
    end = start + window
    tasks = [student(base, code, me, start + random.uniform(0, window), end, ANSWERS[i % len(ANSWERS)], out)
             for i, me in enumerate(ids)]
    tasks.append(teacher(base, code, key, end + 5, out))
    await asyncio.gather(*tasks)
    out["tally"] = store.tally(code, key, QID)
    out["lost"] = [(me, a) for me, a in out["acked"] if store.answer_of(code, me, QID) != a]
    store.close()
    return out


def report(title: str, out: dict, students: int) -> None:
    refresh, acks = out["refresh"], out["ack_latency"]
    print(f"{title}: load average {os.getloadavg()[0]:.1f}")
    print(f"  answers acknowledged {len(out['acked'])}/{students}, counted in the tally {sum(out['tally'].values())}, "
          f"lost {len(out['lost'])}, errors {len(out['errors'])}")
    if refresh:
        print(f"  tally refresh ({len(refresh)} reruns): p50 {statistics.median(refresh):.3f} s, "
              f"p95 {percentile(refresh, 95):.3f} s, max {max(refresh):.3f} s")
    if acks:
        print(f"  answer sent -> acknowledged: p50 {statistics.median(acks):.3f} s, p95 {percentile(acks, 95):.3f} s")
    print(f"  the teacher's page last showed: {out['shown']}")
    for error in out["errors"][:5]:
        print(f"  error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--window", type=float, default=10.0, help="seconds in which every student answers")
    parser.add_argument("--replicas", action="store_true", help="two replicas on a throwaway PostgreSQL behind HAProxy")
    args = parser.parse_args()
    if args.replicas:
        import replicas
        from pg_server import start_postgres

        pg = start_postgres()
        setup = replicas.start(pg.url)
        try:
            warm = tuple(setup.replica_url(i) for i in range(len(setup.ports)))
            out = asyncio.run(lesson(setup.url, pg.url, args.students, args.window, warm))
        finally:
            setup.stop()
            pg.stop()
            shutil.rmtree(setup.workdir, ignore_errors=True)
        report(f"{args.students} students in {args.window:g} s, HAProxy + 2 replicas, PostgreSQL", out, args.students)
        return
    from conftest import running_server

    with tempfile.TemporaryDirectory(prefix="convlab-bench-") as tmp:
        url = os.environ["CONVLAB_DATABASE_URL"] = f"sqlite:///{tmp}/classes.db"
        with running_server() as (base, _):
            out = asyncio.run(lesson(base, url, args.students, args.window))
    report(f"{args.students} students in {args.window:g} s, one server, SQLite", out, args.students)


if __name__ == "__main__":
    main()
