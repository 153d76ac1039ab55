"""A killed render worker (issue #17): server CPU per sweep rerun and server memory before and after `kill -9`.

Starts a Conv Lab server on a free loopback port (or takes --script, e.g. an older checkout's app.py, to compare),
drives N sweep reruns through Streamlit's websocket (each a layer not shown before, so each is a real render),
kills the server's render worker, drives N more, and prints the server's CPU ms per rerun (utime + stime from
/proc, which leaves out the worker's own CPU), its resident memory, the render workers and the load average.

    python benchmarks/worker_respawn.py --reruns 20
    python benchmarks/worker_respawn.py --script /tmp/old/app.py   # the same on another tree
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from load import ProcessMonitor  # noqa: E402

from conftest import running_server  # noqa: E402
from st_session import StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def alive(pid: int) -> bool:
    """True while `pid` runs (a zombie, killed but not yet reaped, counts as gone).

    >>> alive(os.getpid())
    True
    """
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def render_workers_of(parent: int) -> set[int]:
    """Live children of `parent` that are multiprocessing 'spawn' workers (not its resource tracker).

    >>> render_workers_of(os.getpid())
    set()
    """
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[-1].split()[1])
            command = (entry / "cmdline").read_bytes()
        except (OSError, IndexError, ValueError):
            continue  # ended while we looked
        if ppid == parent and b"spawn_main" in command and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` in MB (0 when it is gone).

    >>> rss_mb(os.getpid()) > 0
    True
    """
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def sweep_queries(count: int, parity: int) -> list[str]:
    """`count` sweep layers of growing size (3 channels); parity 0 and 1 give disjoint lists of about equal cost.

    >>> sweep_queries(2, 0), sweep_queries(2, 1)
    (['input=3x8x8', 'input=3x9x9'], ['input=3x8x9', 'input=3x9x10'])
    """
    return [f"input=3x{8 + i}x{8 + i + parity}" for i in range(count)]


async def _reruns(url: str, queries: list[str], timeout: float) -> list[float]:
    """One session's sweep reruns, one per query; their latencies (raises on a page error)."""
    latencies = []
    async with StreamlitSession(url, timeout=timeout) as session:
        for query in queries:
            result = await session.run(query, "sweep")
            if not result.ok:
                raise RuntimeError(f"/sweep?{query}: {result.errors}")
            latencies.append(result.latency)
    return latencies


def _phase(name: str, url: str, pid: int, queries: list[str], timeout: float) -> None:
    monitor = ProcessMonitor(pid)
    start = monitor.cpu_seconds()
    latencies = asyncio.run(_reruns(url, queries, timeout))
    cpu_ms = 1000 * (monitor.cpu_seconds() - start) / len(queries)
    workers = sorted(render_workers_of(pid))
    print(f"{name:<22}{len(queries):>7}{cpu_ms:>12.1f}{statistics.median(latencies) * 1000:>12.0f}"
          f"{rss_mb(pid):>10.0f}  {workers} ({', '.join(f'{rss_mb(w):.0f} MB' for w in workers)})"
          f"  load {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--reruns", type=int, default=20, help="sweep reruns before and after the kill")
    parser.add_argument("--script", type=Path, default=ROOT / "app.py", help="the app to serve")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    n = max(1, min(args.reruns, 200))
    with running_server(script=args.script.resolve(), timeout=60) as (url, proc):
        asyncio.run(_reruns(url, ["", "input=3x7x7"], args.timeout))  # imports torch, starts the worker
        print(f"server {proc.pid} at {url}, {n} sweep reruns per phase, {os.cpu_count()} cores")
        print(f"{'phase':<22}{'reruns':>7}{'CPU ms/run':>12}{'p50 ms':>12}{'RSS MB':>10}  render workers")
        _phase("before kill", url, proc.pid, sweep_queries(n, 0), args.timeout)
        killed = sorted(render_workers_of(proc.pid))
        for worker in killed:
            os.kill(worker, signal.SIGKILL)
            while alive(worker):
                time.sleep(0.05)
        print(f"kill -9 {killed}")
        _phase("first rerun after kill", url, proc.pid, ["input=2x9x9"], args.timeout)  # pays the worker's start
        _phase("after kill", url, proc.pid, sweep_queries(n, 1), args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
