"""Server CPU per rerun, page by page: one session moving a layer setting as fast as the server answers.

    python benchmarks/rerun_cpu.py                                   # Shape Lab on this checkout
    python benchmarks/rerun_cpu.py --page shape_lab --page sweep --page feature-maps --page class
    python benchmarks/rerun_cpu.py --tree /tmp/main-before --tree .  # A/B: two checkouts, rounds alternated
    python benchmarks/rerun_cpu.py --bare                            # + benchmarks/bare_slider.py: Streamlit's floor
    python benchmarks/rerun_cpu.py --square                          # the lecture hall's square layers

Starts one server per checkout (and the bare one-slider app with --bare), then for every page runs `--rounds`
rounds of `--reruns` sequential reruns on one session per server, alternating the servers' order from round to
round, so a load that swings hits all of them alike. Prints the median of the rounds: the server's CPU per rerun
and its worker processes' (the sweep's renders), read from /proc, with the load average. CPU time, unlike latency,
barely depends on what else the machine runs: this is the figure to compare across changes (issue 17).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from load import ProcessMonitor, Student, app_pages, resolve_page  # noqa: E402

from conftest import running_server  # noqa: E402
from st_session import StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BARE = Path(__file__).resolve().parent / "bare_slider.py"


def layer_queries(count: int = 50, seed: int = 3, square: bool = False) -> list[str]:
    """Links to random layers as a class would make them (each rerun a new layer: no cache helps). square: the
    lecture hall's moves instead (benchmarks/load.py: one student nudging one square layer's settings).

    >>> len(layer_queries(4)), layer_queries(1)[0].startswith("input="), layer_queries(1, square=True)[0][:6]
    (4, True, 'input=')
    """
    if square:
        student = Student(random.Random(seed))
        return [student.query() for _ in range(count) if student.move()]
    rng, ranges = random.Random(seed), Student.RANGES  # the same class as load.py's students
    draw = [rng.randint(*ranges[name]) for _ in range(count) for name in
            ("channels", "size", "size", "filters", "kernel", "stride", "padding")]
    return [f"input={c}x{h}x{w}&filters={f}&kernel={k}&stride={s}&padding={p}"
            for c, h, w, f, k, s, p in zip(*[iter(draw)] * 7)]


def cpu_now(monitor: ProcessMonitor) -> tuple[float, float]:
    """(server CPU s, its worker processes' CPU s) so far."""
    return monitor.cpu_seconds(), sum(monitor.workers_cpu().values())


async def measure(servers: dict[str, tuple[str, int]], page: str, reruns: int, rounds: int,
                  square: bool = False) -> dict[str, list]:
    """Per server name: a (server ms, worker ms) per rerun for every round."""
    queries = layer_queries(square=square)
    sessions = {}
    for name, (url, _) in servers.items():
        sessions[name] = StreamlitSession(url, timeout=120)
        await sessions[name].connect()
        await sessions[name].run(queries[0], page, fetch_media=True)  # the page's imports and first view
    figures: dict[str, list] = {name: [] for name in servers}
    try:
        for r in range(rounds):
            for name in (list(servers) if r % 2 == 0 else list(servers)[::-1]):
                monitor = ProcessMonitor(servers[name][1])
                server0, workers0 = cpu_now(monitor)
                for i in range(reruns):
                    await sessions[name].run(queries[(i * 7 + r) % len(queries)], page, fetch_media=True)
                server1, workers1 = cpu_now(monitor)
                figures[name].append((1000 * (server1 - server0) / reruns, 1000 * (workers1 - workers0) / reruns))
    finally:
        for session in sessions.values():
            await session.close()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", action="append", default=[], help="a checkout to serve (repeat for A/B; default .)")
    parser.add_argument("--page", action="append", default=[], help="page by file stem or url path (repeatable)")
    parser.add_argument("--bare", action="store_true", help="also the bare one-slider app (Streamlit's floor)")
    parser.add_argument("--reruns", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--square", action="store_true", help="the lecture hall's square layers (load.py's moves)")
    args = parser.parse_args(argv)
    trees = [Path(t).resolve() for t in args.tree] or [ROOT]
    pages = app_pages()
    wanted = [resolve_page(p, pages) for p in args.page] or [""]
    with ExitStack() as stack:
        servers = {}
        for tree in trees:
            url, proc = stack.enter_context(running_server(script=tree / "app.py", timeout=90))
            servers[str(tree)] = (url, proc.pid)
        for page in wanted:
            figures = asyncio.run(measure(servers, page, args.reruns, args.rounds, args.square))
            for name, rows in figures.items():
                server = statistics.median(r[0] for r in rows)
                workers = statistics.median(r[1] for r in rows)
                print(f"{page or 'shape_lab':13s} {name}: server {server:5.1f} ms/rerun, workers {workers:5.1f} ms/rerun"
                      f"  (rounds: {', '.join(f'{r[0]:.1f}' for r in rows)})")
        if args.bare:
            # Run from benchmarks/, it does not read the app's .streamlit/config.toml: turn off the full GC after every
            # run as that file does (else ~30 ms of the bare app's rerun is the collector).
            url, proc = stack.enter_context(running_server(script=BARE, timeout=60, options=["runner.postScriptGC=false"]))
            rows = asyncio.run(measure({"bare": (url, proc.pid)}, "", args.reruns, args.rounds, args.square))["bare"]
            print(f"{'bare slider':13s}: server {statistics.median(r[0] for r in rows):5.1f} ms/rerun")
    print("load average (1/5/15 min):", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
