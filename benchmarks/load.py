"""Classroom load: N students on one Conv Lab server, each moving a control every ~2 s.

Drives the real server through Streamlit's websocket protocol (see st_session.py): every
session opens its page by a deep link, then keeps changing one layer setting in the URL and
asking for a rerun, like a student dragging a slider, and fetches the images the page
references, like a browser. Prints p50/p95/max update latency per page, errors, the server's
peak memory (VmHWM) and CPU per rerun. Starts its own server on a free loopback port unless
--url is given, and stops it.

    python benchmarks/load.py --sessions 40 --duration 60
    python benchmarks/load.py --mix shape_lab=30,sweep=10 --duration 60
    python benchmarks/load.py --sessions 10 --duration 30 --baseline   # + the naive page, ratio
    python benchmarks/load.py --url http://127.0.0.1:8501 --pid 1234 --sessions 5
    python benchmarks/load.py --lecture-hall               # 150: 110 Shape Lab, 25 Sweep, 15 Feature maps, 90 s
    python benchmarks/load.py --lecture-hall --uploads 8   # + 8 students uploading a 4096² PNG at once, mid-run
    python benchmarks/load.py --lecture-hall --busy-cores 1  # a busy laptop: another program keeps a core busy

Every figure is printed with the machine's load average (1/5/15 min) before the server starts, when the
students start, at its 1-min peak while they work, when they stop and after the server is gone: on a shared
machine a figure measured at a high load average is pessimistic. Peak memory is the server's VmHWM and the
peak of server + render/decode workers (their VmRSS summed, sampled every 0.5 s from /proc).
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from conftest import running_server  # noqa: E402
from st_session import RunResult, StreamlitSession  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
NAIVE_PAGE = Path(__file__).resolve().parent / "naive_page.py"
MAX_SESSIONS = 200  # bounded: this is a classroom, not a stress test of the laptop
MAX_DURATION = 600.0
# Issue 17's lecture hall: 150 sessions on one 2-core laptop, a move every ~2 s. Goal: Shape Lab p95 <= 1 s,
# Sweep and Feature maps p95 <= 3 s, zero errors. They arrive over 30 s (a class opening the link).
LECTURE_HALL = {"mix": "shape_lab=110,sweep=25,feature-maps=15", "duration": 90.0, "ramp": 30.0, "interval": 2.0}
SWEEP_STEP_SHARE = 0.8  # --sweep-moves step/player: 4 of 5 moves on the sweep step its position, 1 in 5 the layer
LECTURE_HALL_GOAL = {"shape_lab": 1.0, "sweep": 3.0, "feature-maps": 3.0}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- pages of the app (read, not imported)
def app_pages(app_path: Path = ROOT / "app.py") -> list[tuple[str, str]]:
    """(file, url path) of every page registered in app.py's PAGES list, read with ast."""
    tree = ast.parse(app_path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            return [(entry[0], entry[2]) for entry in ast.literal_eval(node.value)]
    raise ValueError(f"no PAGES list in {app_path}")


def resolve_page(name: str, pages: list[tuple[str, str]]) -> str:
    """The url path for a page given by file stem (shape_lab), url path (feature-maps) or '/'."""
    wanted = name.strip().strip("/")
    for file, url in pages:
        if wanted in (url, Path(file).stem, file):
            return url
    known = ", ".join(Path(f).stem for f, _ in pages)
    raise SystemExit(f"unknown page {name!r}; pages in app.py: {known}")


def page_label(url: str, pages: list[tuple[str, str]]) -> str:
    """A readable name for a url path (its file stem)."""
    return next((Path(f).stem for f, u in pages if u == url), url or "default")


def parse_mix(mix: str | None, sessions: int, pages: list[tuple[str, str]]) -> list[str]:
    """The url path of each session: `--mix shape_lab=30,sweep=10`, or all on the default page."""
    if not mix:
        return [""] * sessions
    plan: list[str] = []
    for part in mix.split(","):
        name, _, count = part.partition("=")
        plan += [resolve_page(name, pages)] * int(count or 1)
    return plan


# ---------------------------------------------------------------- what a student does
@dataclass
class Student:
    """One student's layer settings; `move()` changes one of them like a slider step."""

    rng: random.Random
    settings: dict = field(default_factory=dict)
    step_share: float = 0.0  # share of moves that step the sweep's output position instead (--sweep-moves step)
    steps_in_player: bool = False  # --sweep-moves player: a step moves the offline player only (no request)
    step: int = 0  # the sweep position in the URL (0: none)

    RANGES = {"channels": (1, 16), "size": (8, 64), "filters": (1, 64), "kernel": (1, 7), "stride": (1, 3),
              "padding": (0, 3)}

    def __post_init__(self) -> None:
        self.settings = {name: self.rng.randint(lo, min(hi, lo + (hi - lo) // 2))
                         for name, (lo, hi) in self.RANGES.items()}

    def move(self) -> bool:
        """Nudge one setting by one step (bounced at its range), as a slider key press would; False when the move
        stays in the browser (a step of the sweep's offline player, which asks the server nothing)."""
        if self.step_share and self.rng.random() < self.step_share:  # the sweep's step slider (or ▶ to a new start)
            self.step = max(1, self.step + self.rng.choice((1, 1, 1, 2, -1)))
            return not self.steps_in_player
        name = self.rng.choice(list(self.RANGES))
        lo, hi = self.RANGES[name]
        step = self.rng.choice((-1, 1)) * (8 if name == "size" else 1)
        value = self.settings[name] + step
        self.settings[name] = value if lo <= value <= hi else self.settings[name] - step
        return True

    def query(self) -> str:
        """The URL query string of the current settings (the app's share-link keys)."""
        s = self.settings
        return urlencode({"input": f"{s['channels']}x{s['size']}x{s['size']}", "filters": s["filters"],
                          "kernel": s["kernel"], "stride": s["stride"], "padding": s["padding"],
                          **({"step": self.step} if self.step else {})})


@dataclass
class SessionLog:
    """Every run of one simulated student."""

    page: str
    opened: RunResult | None = None
    updates: list[RunResult] = field(default_factory=list)
    connect_error: str | None = None


async def student_session(base_url: str, page: str, seed: int, start_delay: float, end_time: float,
                          interval: float, fetch_media: bool, timeout: float, step_share: float = 0.0,
                          steps_in_player: bool = False) -> SessionLog:
    """Open `page` by a deep link, then move a control every ~interval s until end_time."""
    rng = random.Random(seed)
    student = Student(rng)
    if page == "sweep" and step_share:
        student.step_share, student.step, student.steps_in_player = step_share, 1, steps_in_player
    log = SessionLog(page)
    await asyncio.sleep(start_delay)
    try:
        session = StreamlitSession(base_url, timeout=timeout)
        await session.connect()
    except Exception as exc:  # noqa: BLE001 - any failure to connect counts as an error
        log.connect_error = f"connect failed: {exc!r}"
        return log
    try:
        log.opened = await session.run(student.query(), page, fetch_media=fetch_media)
        while time.monotonic() < end_time and log.opened.status is not None:
            await asyncio.sleep(interval * rng.uniform(0.75, 1.25))
            if time.monotonic() >= end_time:
                break
            if not student.move():  # a step of the offline player: the browser alone redraws
                continue
            result = await session.run(student.query(), page, fetch_media=fetch_media)
            log.updates.append(result)
            if result.status is None:  # connection gone or timed out: this student is stuck
                break
    finally:
        await session.close()
    return log


class ProcessMonitor:
    """Peak memory and CPU time of the server process, read from /proc (no psutil)."""

    def __init__(self, pid: int | None):
        self.pid = pid
        self.peak_rss_kb = 0
        self.peak_tree_kb = 0  # server + its worker processes (render pool, upload decoders), summed
        self.timeline: list[tuple[float, int, int]] = []  # (seconds, server VmRSS kB, tree kB), every sample
        self.started = time.monotonic()
        self.cpu_start = self.cpu_seconds()

    def _status(self, field_name: str) -> int:
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
        except (OSError, TypeError):
            pass
        return 0

    def cpu_seconds(self) -> float:
        """utime + stime of the process so far."""
        try:
            fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        except (OSError, TypeError, IndexError):
            return 0.0

    def descendants(self) -> list[int]:
        """Process ids of the server's children, grandchildren, … (from /proc/PID/task/*/children)."""
        found, todo = [], [self.pid] if self.pid else []
        while todo:
            pid = todo.pop()
            try:
                for task in Path(f"/proc/{pid}/task").iterdir():
                    kids = [int(k) for k in (task / "children").read_text().split()]
                    found += kids
                    todo += kids
            except (OSError, ValueError):
                continue
        return found

    def workers_cpu(self) -> dict[int, float]:
        """CPU seconds used so far by each live descendant (render and decode workers), by process id."""
        return {pid: ProcessMonitor(pid).cpu_seconds() for pid in self.descendants()}

    def tree_rss_kb(self) -> int:
        """VmRSS of the server plus every descendant process (pages shared between them counted twice)."""
        total = self._status("VmRSS")
        for pid in self.descendants():
            total += ProcessMonitor(pid)._status("VmRSS")
        return total

    def sample(self) -> None:
        """Record the current resident memory (the server's, and the whole tree's)."""
        rss, tree = self._status("VmRSS"), self.tree_rss_kb()
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        self.peak_tree_kb = max(self.peak_tree_kb, tree)
        self.timeline.append((time.monotonic() - self.started, rss, tree))

    def rss_by_period(self, periods: int = 10) -> list[tuple[float, float, float]]:
        """(end of period s, highest server RSS MB, highest server + workers RSS MB) over `periods` equal periods.

        >>> m = ProcessMonitor(None); m.timeline = [(1.0, 1024, 2048), (2.0, 2048, 4096)]
        >>> m.rss_by_period(2)
        [(1.0, 1.0, 2.0), (2.0, 2.0, 4.0)]
        """
        if not self.timeline:
            return []
        end = self.timeline[-1][0]
        out = []
        for i in range(periods):
            lo, hi = end * i / periods, end * (i + 1) / periods
            part = [(rss, tree) for t, rss, tree in self.timeline if lo < t <= hi or (i == 0 and t <= hi)]
            if part:
                out.append((round(hi, 1), round(max(r for r, _ in part) / 1024, 1),
                            round(max(t for _, t in part) / 1024, 1)))
        return out

    def peak_mb(self) -> float:
        """Peak resident memory in MB: the kernel's high-water mark when readable, else the sampled peak."""
        return max(self._status("VmHWM"), self.peak_rss_kb) / 1024

    async def poll(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Sample memory every `interval` seconds until `stop` is set."""
        while not stop.is_set():
            self.sample()
            try:
                await asyncio.wait_for(stop.wait(), interval)
            except asyncio.TimeoutError:
                pass


def loadavg() -> list[float]:
    """The machine's 1/5/15-minute load average (printed beside every figure: a shared machine is slower)."""
    return [round(v, 2) for v in os.getloadavg()]


def wait_for_quiet(below: float, patience: float) -> list[float]:
    """Wait (up to `patience` s, checking every 10 s) until the 1-min load average is below `below`; the last one."""
    deadline = time.monotonic() + patience
    load = loadavg()
    while load[0] >= below and time.monotonic() < deadline:
        print(f"  load average {load[0]:.2f} >= {below:g}: waiting for a quieter machine …", flush=True)
        time.sleep(10)
        load = loadavg()
    return load


async def watch_load(stop: asyncio.Event, seen: list) -> None:
    """Keep the highest 1-min load average seen until `stop` (the kernel updates it every 5 s)."""
    while not stop.is_set():
        load = loadavg()
        if not seen or load[0] > seen[0]:
            seen[:] = load
        try:
            await asyncio.wait_for(stop.wait(), 5.0)
        except asyncio.TimeoutError:
            pass


def _cpu_fields() -> list[int]:
    """/proc/stat's machine-wide CPU line: user nice system idle iowait irq softirq steal … (clock ticks)."""
    try:
        return [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return []


def machine_busy_seconds() -> float:
    """CPU seconds all processes on the machine have used (from /proc/stat), to spot a shared, noisy machine."""
    fields = _cpu_fields()
    if not fields:
        return 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


def steal_seconds() -> float:
    """CPU seconds the virtual machine's host gave to someone else while this machine wanted them (/proc/stat)."""
    fields = _cpu_fields()
    return fields[7] / CLOCK_TICKS if len(fields) > 7 else 0.0


# ---------------------------------------------------------------- statistics and the report
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list; nan when empty.

    >>> percentile([1.0, 2.0, 3.0, 4.0], 50), percentile([1.0, 2.0, 3.0, 4.0], 95)
    (2.0, 4.0)
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def summarize(logs: list[SessionLog], wall: float, cpu_seconds: float, peak_mb: float,
              pages: list[tuple[str, str]]) -> dict:
    """Per-page latency figures, errors and server costs of one load run."""
    report: dict = {"pages": {}, "errors": [], "peak_memory_mb": round(peak_mb, 1), "wall_seconds": round(wall, 1)}
    total_runs = 0
    for page in sorted({log.page for log in logs}):
        page_logs = [log for log in logs if log.page == page]
        updates = [r for log in page_logs for r in log.updates]
        opens = [log.opened for log in page_logs if log.opened]
        latencies = [r.latency for r in updates if r.status is not None]
        errors = [f"{page_label(page, pages)}: {e}" for r in opens + updates for e in r.errors]
        errors += [f"{page_label(page, pages)}: {log.connect_error}" for log in page_logs if log.connect_error]
        report["errors"] += errors
        total_runs += len(updates) + len(opens)
        report["pages"][page_label(page, pages)] = {
            "sessions": len(page_logs), "updates": len(updates), "errors": len(errors),
            "p50": percentile(latencies, 50), "p95": percentile(latencies, 95),
            "max": max(latencies, default=math.nan),
            "open_p95": percentile([r.latency for r in opens if r.status is not None], 95),
            "kb_per_update": sum(r.message_bytes + r.media_bytes for r in updates) / max(1, len(updates)) / 1024,
        }
    report["runs"] = total_runs
    report["reruns_per_s"] = round(total_runs / wall, 2) if wall else 0.0
    report["server_cpu_ms_per_run"] = round(1000 * cpu_seconds / total_runs, 1) if total_runs else math.nan
    report["server_cpu_utilisation"] = round(cpu_seconds / wall, 2) if wall else 0.0
    return report


def print_report(title: str, report: dict) -> None:
    """The figures as a small table."""
    print(f"\n== {title}")
    print(f"{'page':<16}{'sessions':>9}{'updates':>9}{'p50 s':>8}{'p95 s':>8}{'max s':>8}{'open p95':>10}"
          f"{'KB/upd':>8}{'errors':>8}")
    for name, row in report["pages"].items():
        print(f"{name:<16}{row['sessions']:>9}{row['updates']:>9}{row['p50']:>8.3f}{row['p95']:>8.3f}"
              f"{row['max']:>8.3f}{row['open_p95']:>10.3f}{row['kb_per_update']:>8.1f}{row['errors']:>8}")
    print(f"server: peak memory {report['peak_memory_mb']:.0f} MB, {report['reruns_per_s']} runs/s, "
          f"CPU {report['server_cpu_ms_per_run']} ms per run ({report['server_cpu_utilisation']:.2f} cores busy)")
    if "workers_cpu_ms_per_run" in report:
        print(f"worker processes (renders, decodes): CPU {report['workers_cpu_ms_per_run']} ms per run "
              f"({report['workers_cpu_utilisation']:.2f} cores busy)")
    if "peak_tree_mb" in report:
        print(f"server + worker processes: peak RSS {report['peak_tree_mb']:.0f} MB, at the end "
              f"{report['end_tree_mb']:.0f} MB (server alone {report['end_rss_mb']:.0f} MB)")
    if report.get("rss_timeline_mb"):  # steady state: does memory level off over the run?
        print("RSS over the run (s: server / server + workers MB, highest in each tenth): " + ", ".join(
            f"{t:.0f}: {rss:.0f}/{tree:.0f}" for t, rss, tree in report["rss_timeline_mb"]))
    if "loadavg" in report:
        print("load average (1/5/15 min): " + "; ".join(f"{when} {' '.join(f'{v:.2f}' for v in load)}"
                                                           for when, load in report["loadavg"].items()))
    if "uploads" in report:
        up = report["uploads"]
        kinds = [a["kind"] for a in up["answers"]]
        print(f"uploads: {up['students']} × {up['side']}² PNG at once after {up['at_seconds']:.0f} s: "
              f"{kinds.count('picture')} pictures, {kinds.count('message')} messages, {kinds.count('none')} "
              f"unanswered; slowest {up['slowest_seconds']:.1f} s; server + workers RSS {up['rss_before_mb']:.0f} MB "
              f"before, peak {report.get('peak_tree_mb', math.nan):.0f} MB in the run")
    goal = report.get("goal")
    if goal:
        verdict = [f"{name} p95 {report['pages'][name]['p95']:.2f} s {'<=' if ok else '>'} {goal[name]:g} s"
                   for name, ok in report["goal_met"].items() if name in goal]
        print("goal: " + ", ".join(verdict) + f", errors {len(report['errors'])}"
              + (" — MET" if report["goal_all_met"] else " — NOT met"))
    if "steal_cores" in report:  # a slow period of the shared host shows here, or as slower CPU per run
        print(f"machine: other processes {report.get('other_processes_cores', math.nan):.2f} cores, the load "
              f"generator {report['load_generator_cpu_s']:.1f} s of CPU, host steal {report['steal_cores']:.2f} cores")
    if report.get("other_processes_cores", 0) > 0.3:
        print(f"note: other processes kept {report['other_processes_cores']:.2f} of the cores busy during this run "
              "(shared machine): latencies are pessimistic")
    for error in report["errors"][:10]:
        print(f"  ERROR {error}")
    if len(report["errors"]) > 10:
        print(f"  ... {len(report['errors']) - 10} more errors")


async def concurrent_uploads(base_url: str, monitor: ProcessMonitor, students: int, side: int, at: float,
                             timeout: float) -> dict:
    """`students` extra tabs open the Feature maps upload page now and all upload a side² PNG `at` s later.

    Reuses benchmarks/uploads.py (the browser's upload protocol); imported here because it imports this module.
    """
    from uploads import Student as UploadTab
    from uploads import classroom_png, xsrf_opener

    tabs = [UploadTab(base_url, i, classroom_png(i, side), timeout) for i in range(students)]
    try:
        opened = await asyncio.gather(*(tab.open_page() for tab in tabs), return_exceptions=True)
        await asyncio.sleep(at)
        rss_before = monitor.tree_rss_kb()
        if not all(ok is True for ok in opened):
            answers = [{"student": i, "kind": "none", "seconds": 0.0, "detail": f"upload page not opened: {ok!r}"}
                       for i, ok in enumerate(opened) if ok is not True]
        else:
            token, opener = await asyncio.to_thread(xsrf_opener, base_url)
            answers = [a.__dict__ for a in await asyncio.gather(*(tab.upload(token, opener) for tab in tabs))]
    finally:
        await asyncio.gather(*(tab.close() for tab in tabs), return_exceptions=True)
    return {"students": students, "side": side, "at_seconds": at, "answers": answers,
            "rss_before_mb": round(rss_before / 1024, 1) if opened else math.nan,
            "slowest_seconds": max((a["seconds"] for a in answers), default=0.0)}


async def drive(base_url: str, plan: list[str], duration: float, interval: float, ramp: float, seed: int,
                fetch_media: bool, timeout: float, monitor: ProcessMonitor, uploads: int = 0,
                upload_side: int = 4096, step_share: float = 0.0, steps_in_player: bool = False
                ) -> tuple[list[SessionLog], float, dict]:
    """Run every session of `plan` against base_url (and the uploads, mid-run); their logs, the wall time, extras."""
    stop = asyncio.Event()
    poller = asyncio.create_task(monitor.poll(stop))
    peak_load: list[float] = []
    load_watch = asyncio.create_task(watch_load(stop, peak_load))
    start = time.monotonic()
    end_time = start + duration
    tasks = [student_session(base_url, page, seed * 1000 + i, ramp * i / max(1, len(plan)), end_time, interval,
                             fetch_media, timeout, step_share, steps_in_player) for i, page in enumerate(plan)]
    if uploads:  # after the ramp, while everybody is moving controls
        tasks.append(concurrent_uploads(base_url, monitor, uploads, upload_side,
                                        min(duration * 0.6, ramp + (duration - ramp) / 3), timeout))
    results = await asyncio.gather(*tasks)
    wall = time.monotonic() - start
    extras = {"loadavg_end": loadavg(), "loadavg_peak": peak_load}
    if uploads:
        extras["uploads"] = results.pop()
    stop.set()
    await poller
    await load_watch
    return list(results), wall, extras


async def warm_up(base_url: str, pages: set[str], timeout: float) -> float:
    """One visit per page before class (the teacher's own check): imports torch, fills caches."""
    start = time.monotonic()
    async with StreamlitSession(base_url, timeout=timeout) as session:
        for page in sorted(pages):
            await session.run("", page, fetch_media=True)
    return time.monotonic() - start


@contextmanager
def other_programs(cores: int) -> Iterator[list[subprocess.Popen]]:
    """`cores` processes, each keeping a core busy at normal priority while the class runs: the other programs of a
    busy laptop (a browser, a projector app), which the server's interpreter competes with for the cores."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)]
    try:
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run_load(script: Path | None, url: str | None, pid: int | None, plan: list[str], args,
             pages: list[tuple[str, str]], options: list[str] = ()) -> dict:
    """Start (or reuse) a server, warm it, drive the plan, stop it; returns the summary."""
    if getattr(args, "quiet_below", None):
        wait_for_quiet(args.quiet_below, args.quiet_wait)
    load_before = loadavg()
    with running_server(url, script=script, timeout=60, options=options) as (url, proc):
        pid = proc.pid if proc else pid
        warm = asyncio.run(warm_up(url, set(plan), args.timeout))
        monitor = ProcessMonitor(pid)
        cpu_before, machine_before, own_before = monitor.cpu_seconds(), machine_busy_seconds(), _own_cpu()
        steal_before = steal_seconds()
        workers_before = monitor.workers_cpu()
        monitor.started, monitor.timeline = time.monotonic(), []
        load_start = loadavg()
        with other_programs(getattr(args, "busy_cores", 0)):
            logs, wall, extras = asyncio.run(drive(url, plan, args.duration, args.interval, args.ramp, args.seed,
                                                   not args.no_media, args.timeout, monitor,
                                                   getattr(args, "uploads", 0), getattr(args, "upload_side", 4096),
                                                   SWEEP_STEP_SHARE if getattr(args, "sweep_moves", "") != "layer"
                                                   else 0.0, getattr(args, "sweep_moves", "") == "player"))
        server_cpu = monitor.cpu_seconds() - cpu_before
        workers_cpu = sum(cpu - workers_before.get(pid, 0.0) for pid, cpu in monitor.workers_cpu().items())
        report = summarize(logs, wall, server_cpu, monitor.peak_mb() if pid else math.nan, pages)
        report["warm_up_seconds"] = round(warm, 1)
        # The render/decode workers' CPU (child processes) is the server's work too, off its interpreter lock.
        report["workers_cpu_ms_per_run"] = round(1000 * workers_cpu / max(1, report["runs"]), 1)
        report["workers_cpu_utilisation"] = round(workers_cpu / wall, 2) if wall else 0.0
        others = machine_busy_seconds() - machine_before - server_cpu - workers_cpu - (_own_cpu() - own_before)
        report["other_processes_cores"] = round(max(0.0, others) / wall, 2) if pid else math.nan
        report["load_generator_cpu_s"] = round(_own_cpu() - own_before, 1)
        report["steal_cores"] = round((steal_seconds() - steal_before) / wall, 2) if wall else 0.0
        if pid:
            report["peak_tree_mb"] = round(monitor.peak_tree_kb / 1024, 1)
            report["end_tree_mb"] = round(monitor.tree_rss_kb() / 1024, 1)
            report["end_rss_mb"] = round(monitor._status("VmRSS") / 1024, 1)
            report["rss_timeline_mb"] = monitor.rss_by_period()
        if "uploads" in extras:
            report["uploads"] = extras["uploads"]
            report["errors"] += [f"upload {a['student']}: {a['detail']}" for a in extras["uploads"]["answers"]
                                 if a["kind"] == "none"]
    time.sleep(2)
    report["loadavg"] = {"before": load_before, "start": load_start, "peak": extras["loadavg_peak"],
                         "end": extras["loadavg_end"], "after": loadavg()}
    return report


def main(argv: list[str] | None = None) -> int:
    """Command line: run the load, print the figures (and the baseline ratio with --baseline)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=10, help="students (ignored when --mix gives counts)")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of moving controls")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between one student's moves")
    parser.add_argument("--mix", help="sessions per page, e.g. shape_lab=30,sweep=10 (default: all on Shape Lab)")
    parser.add_argument("--url", help="an already running server (loopback); default: start one")
    parser.add_argument("--pid", type=int, help="that server's process id, to read its peak memory")
    parser.add_argument("--ramp", type=float, default=None, help="seconds over which students arrive")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds before a run counts as an error")
    parser.add_argument("--no-media", action="store_true", help="do not fetch the images a page references")
    parser.add_argument("--baseline", action="store_true",
                        help="also run the same load on benchmarks/naive_page.py and print the ratio")
    parser.add_argument("--server-option", action="append", default=[], metavar="NAME=VALUE",
                        help="extra streamlit option for the app server, e.g. runner.postScriptGC=true (A/B runs)")
    parser.add_argument("--lecture-hall", action="store_true",
                        help="issue 17's preset: 150 sessions (shape_lab=110, sweep=25, feature-maps=15), a move every "
                             "~2 s, arriving over 30 s, for 90 s (each overridable), checked against the goal")
    parser.add_argument("--uploads", type=int, default=0,
                        help="also: this many students upload a PNG to Feature maps at the same moment, mid-run")
    parser.add_argument("--upload-side", type=int, default=4096, help="pixels per side of each uploaded PNG")
    parser.add_argument("--sweep-moves", choices=("layer", "step", "player"), default="layer",
                        help="what students on the Sweep move: the layer settings every time (default, the worst case: "
                             "every move renders a new animation); mostly the step (4 of 5 moves) as a rerun with "
                             "step= (step); or, as the page works since issue 16, 4 of 5 moves step the offline "
                             "player, which asks the server nothing, and 1 in 5 changes the layer (player)")
    parser.add_argument("--quiet-below", type=float, default=None,
                        help="before starting, wait until the 1-min load average is below this (default 1.5 with "
                             "--lecture-hall)")
    parser.add_argument("--quiet-wait", type=float, default=180.0, help="at most this many seconds of that waiting")
    parser.add_argument("--busy-cores", type=int, default=0,
                        help="a busy laptop: this many other processes each keep a core busy during the run (they show "
                             "as other processes' cores in the report)")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.lecture_hall:  # explicit options win over the preset
        given = {a.split("=", 1)[0] for a in (argv if argv is not None else sys.argv[1:])}
        args.mix = args.mix or LECTURE_HALL["mix"]
        for name in ("duration", "ramp", "interval"):
            if f"--{name}" not in given:
                setattr(args, name, LECTURE_HALL[name])
        args.quiet_below = 1.5 if args.quiet_below is None else args.quiet_below
    if not 0 <= args.uploads <= 64:
        parser.error("uploads must be between 0 and 64")
    if not 0 <= args.busy_cores <= 2 * (os.cpu_count() or 1):
        parser.error("busy-cores must be between 0 and twice the machine's cores")

    pages = app_pages()
    plan = parse_mix(args.mix, args.sessions, pages)
    if not 1 <= len(plan) <= MAX_SESSIONS:
        parser.error(f"sessions must be between 1 and {MAX_SESSIONS}")
    args.duration = min(max(args.duration, 1.0), MAX_DURATION)
    args.ramp = min(5.0, args.duration / 4) if args.ramp is None else args.ramp

    mix_text = ", ".join(f"{plan.count(p)} on {page_label(p, pages)}" for p in dict.fromkeys(plan))
    print(f"Conv Lab load: {len(plan)} sessions ({mix_text}), one move every ~{args.interval:g} s "
          f"for {args.duration:g} s, {os.cpu_count()} cores"
          + (f", {args.busy_cores} of them kept busy by other processes" if args.busy_cores else "")
          + (f"; on the Sweep {SWEEP_STEP_SHARE:.0%} of moves step the position"
             + (" in the offline player (no request)" if args.sweep_moves == "player" else " (a rerun each)")
             if args.sweep_moves != "layer" else ""))
    results = {"app": run_load(ROOT / "app.py", args.url, args.pid, plan, args, pages, args.server_option)}
    if args.lecture_hall:
        pages_seen = results["app"]["pages"]
        results["app"]["goal"] = LECTURE_HALL_GOAL
        results["app"]["goal_met"] = {name: pages_seen[name]["p95"] <= limit for name, limit in LECTURE_HALL_GOAL.items()
                                      if name in pages_seen}
        results["app"]["goal_all_met"] = all(results["app"]["goal_met"].values()) and not results["app"]["errors"]
    print_report("Conv Lab", results["app"])
    if args.baseline:
        results["baseline"] = run_load(NAIVE_PAGE, None, None, [""] * len(plan), args, [("naive", "")])
        print_report("baseline: naive page (torch module + matplotlib on every rerun)", results["baseline"])
        base = next(iter(results["baseline"]["pages"].values()))
        for name, row in results["app"]["pages"].items():
            print(f"ratio naive/Conv Lab {name}: p50 {base['p50'] / row['p50']:.1f}x, "
                  f"p95 {base['p95'] / row['p95']:.1f}x, CPU per run "
                  f"{results['baseline']['server_cpu_ms_per_run'] / results['app']['server_cpu_ms_per_run']:.1f}x")
    own = resource.getrusage(resource.RUSAGE_SELF)
    print(f"load generator's own CPU: {own.ru_utime + own.ru_stime:.1f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2, default=str))
    # A lecture hall that misses its goal fails too: `make hall-check` then says so by its exit status.
    return 1 if results["app"]["errors"] or not results["app"].get("goal_all_met", True) else 0


if __name__ == "__main__":
    sys.exit(main())
