"""The worst request each page allows: server CPU seconds of one rerun, for adversarial-but-allowed deep links.

Issue 17 asks that no single request cost more than 0.5 s of CPU on the 2-core server. This starts the
real app (as load.py does), and for every page sends a fixed list of hostile query strings: the largest
layers the URL's ranges allow on each torch path (dense, dilated, strided, grouped, depthwise,
transposed, big kernels, reflect/replicate/circular padding, 512×512 inputs, 512 filters), the
planner's worst `net=` links, the largest sweeps and matrices, feature maps with 512 filters, practice
sets. Where a layer is too large to run, the largest input side the page still accepts is searched with
conv_lab's own checks first (pure arithmetic), so the request measured is the one just under the cap;
the side just over it is sent too (its refusal must be cheap and plain).

Each query is opened in a fresh session (a new websocket, as a new tab), then again in another fresh
session to see the cached cost. CPU is utime+stime of the server and its child processes (render and
decode workers) from /proc, before the rerun and after it has settled (10 ms ticks). An `exception`
element is a failure; a plain error box ("This layer cannot run …") is a refusal, which is fine.

    python benchmarks/worst_request.py                  # every page
    python benchmarks/worst_request.py --pages network,sweep --json out.json
    python benchmarks/worst_request.py --url http://127.0.0.1:8501 --pid 1234
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # conv_lab, when run as a plain script
from conv_lab import limits  # noqa: E402
from conv_lab.core.errors import ConvConfigError  # noqa: E402
from conv_lab.core.state import LabConfig, parse_query  # noqa: E402

from conftest import running_server  # noqa: E402
from st_session import RunResult, StreamlitSession  # noqa: E402

GOAL_SECONDS = 0.5  # issue 17: CPU of the worst allowed request
PAGES = ("", "sweep", "feature-maps", "matrix", "gradients", "network", "practice")
TICK = os.sysconf("SC_CLK_TCK")
SETTLE_POLL = 0.1  # seconds between CPU reads while waiting for the server to go idle after a run
SETTLE_MAX = 5.0  # ... at most this long
MAX_QUERIES_PER_PAGE = 60  # bounded: this is a measurement, not a fuzzer


# ---------------------------------------------------------------- CPU of the server's process tree
def _proc_stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, own utime+stime ticks, waited-for children's ticks) for every process."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                data = f.read()
        except OSError:
            continue
        rest = data[data.rindex(")") + 2:].split()
        found[int(name)] = (int(rest[1]), int(rest[11]) + int(rest[12]), int(rest[13]) + int(rest[14]))
    return found


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of `root` and every live descendant (render/decode workers), plus reaped children."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo, seen = 0, [root], set()
    while todo and len(seen) < 10_000:
        pid = todo.pop()
        if pid in seen or pid not in stats:
            continue
        seen.add(pid)
        total += stats[pid][1] + stats[pid][2]
        todo.extend(children.get(pid, []))
    return total / TICK


def settled_cpu(pid: int) -> float:
    """The tree's CPU once it has stopped rising (two equal reads SETTLE_POLL apart), bounded by SETTLE_MAX."""
    last, deadline = tree_cpu_seconds(pid), time.monotonic() + SETTLE_MAX
    while time.monotonic() < deadline:
        time.sleep(SETTLE_POLL)
        now = tree_cpu_seconds(pid)
        if now == last:
            return now
        last = now
    return last


# ---------------------------------------------------------------- the hostile queries
@dataclass(frozen=True)
class Layer:
    """A layer template for the layer pages: URL values except the input side, which is searched."""

    name: str
    channels: int
    filters: int
    kernel: int
    stride: int = 1
    padding: int | str = 0
    dilation: int = 1
    groups: int = 1
    mode: str = "zeros"
    transposed: bool = False
    output_padding: int = 0

    def query(self, side: int, **extra: str) -> str:
        values = {"input": f"{self.channels}x{side}x{side}", "filters": self.filters, "kernel": self.kernel,
                  "stride": self.stride, "padding": self.padding, "dilation": self.dilation, "groups": self.groups,
                  "padding_mode": self.mode, "transposed": int(self.transposed), "output_padding": self.output_padding}
        return urlencode({**values, **extra})

    def config(self, side: int) -> LabConfig:
        config, notices = parse_query(dict(part.split("=", 1) for part in self.query(side).split("&")))
        assert not notices, notices  # every template stays inside the URL's ranges
        return config


# The biggest layers on every torch path the URL's ranges reach (channels ≤ 256, filters ≤ 512, kernel ≤ 15,
# stride/dilation ≤ 8, padding ≤ 16, input ≤ 512).
LAYERS = [
    Layer("dense 3x3", 256, 512, 3, padding=1),
    Layer("dense 15x15, most weights", 256, 512, 15, padding=7),
    Layer("dense 1x1", 256, 512, 1),
    Layer("dense 3->8 15x15 zero pad 7", 3, 8, 15, padding=7),
    Layer("dense 3->1 15x15 zero pad 7", 3, 1, 15, padding=7),
    Layer("dense 3->16 15x15 zero pad 7", 3, 16, 15, padding=7),
    Layer("dense 256->1 15x15 zero pad 7", 256, 1, 15, padding=7),
    Layer("dense 1->1 same, dilation 8", 1, 1, 15, padding="same", dilation=8),
    Layer("dense 1->512 15x15", 1, 512, 15, padding=7),
    Layer("dilated 8, pad 16", 64, 64, 15, padding=16, dilation=8),
    Layer("strided 8 dilated 8", 256, 512, 15, stride=8, padding=16, dilation=8),
    Layer("depthwise 15x15", 256, 256, 15, padding=7, groups=256),
    Layer("depthwise x2 15x15", 256, 512, 15, padding=7, groups=256),
    Layer("grouped 64 15x15", 256, 512, 15, padding=7, groups=64),
    Layer("grouped 128, 1 out/group", 256, 128, 3, padding=1, groups=128),
    Layer("transposed 15x15 s8 op7", 256, 512, 15, stride=8, transposed=True, output_padding=7),
    Layer("transposed 1x1 s8", 256, 512, 1, stride=8, transposed=True),
    Layer("transposed 256->1 15x15 s8", 256, 1, 15, stride=8, transposed=True),
    Layer("transposed depthwise d8", 256, 256, 15, padding=7, dilation=8, groups=256, transposed=True),
    Layer("transposed grouped s8", 256, 512, 15, stride=8, groups=256, transposed=True),
    Layer("reflect pad 16", 64, 64, 3, padding=16, mode="reflect"),
    Layer("circular pad 16 dilated", 256, 256, 15, padding=16, dilation=8, mode="circular"),
    Layer("replicate same dilated", 256, 256, 15, padding="same", dilation=8, mode="replicate"),
]


def largest_side(layer: Layer, allowed: Callable[[LabConfig], bool]) -> int:
    """The largest square input side (1..512) the page accepts for this layer (0 if none); bisection."""
    lo, hi = 0, 512
    for _ in range(12):
        if lo >= hi:
            break
        mid = (lo + hi + 1) // 2
        try:
            ok = allowed(layer.config(mid))
        except ConvConfigError:
            ok = False
        if ok:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _runs_layer(config: LabConfig) -> bool:
    """Shape Lab / feature maps: the formula holds and conv_lab's work check lets torch run it."""
    from conv_lab.core.costs import work_check

    spec = config.spec()
    spec.explain(config.input_shape())
    work_check(spec, config.input_shape())
    return True


def _runs_feature_maps(config: LabConfig) -> bool:
    """Feature maps: the work check run_feature_maps makes (the layer plus writing its filter bank)."""
    from conv_lab.core.costs import work_check
    from conv_lab.features.runs import page_seconds

    spec = config.spec()
    spec.explain(config.input_shape())
    work_check(spec, config.input_shape(), extra=page_seconds)
    return True


def _sweeps(config: LabConfig) -> bool:
    from conv_lab.sweep.data import SweepRequest, build_sweep

    build_sweep(SweepRequest(config))
    return True


def _draws_matrix(config: LabConfig) -> bool:
    from conv_lab.matrix.geometry import geometry

    geom = geometry(config.spec(), config.height, config.width)
    return geom.buildable and geom.block_fits(False)


def layer_queries(allowed: Callable[[LabConfig], bool], layers: list[Layer], extras: list[dict],
                  over: bool = True) -> list[tuple[str, str]]:
    """(label, query) per template: at the largest accepted side, and one step over it (refused)."""
    out = []
    for n, layer in enumerate(layers):
        side = largest_side(layer, allowed)
        extra = extras[n % len(extras)]
        if side:
            out.append((f"{layer.name} @{side}", layer.query(side, **extra)))
        if over and side < 512:
            bigger = 512 if side == 0 else min(512, side + max(1, side // 8))
            out.append((f"{layer.name} @{bigger} (over)", layer.query(bigger, **extra)))
    return out


def shape_lab_queries() -> list[tuple[str, str]]:
    return layer_queries(_runs_layer, LAYERS, [{}]) + [
        ("everything at its maximum", Layer("max", 256, 512, 15, 8, 16, 8).query(512)),
        ("predict-first form", Layer("p", 3, 64, 3, padding=1).query(224, predict="1", present="1")),
    ]


def feature_map_queries() -> list[tuple[str, str]]:
    layers = [LAYERS[i] for i in (0, 1, 3, 4, 8, 11, 13, 15, 17, 19, 21)] + [
        Layer("512 filters 3x3 on RGB", 3, 512, 3, padding=1), Layer("512 filters 15x15 on RGB", 3, 512, 15, padding=7)]
    extras = [{"bank": "random", "seed": "2147483647", "scale": "shared", "filter": "511"},
              {"bank": "mix", "relu": "1", "image": "scene"}, {"bank": "classic", "image": "stripes", "filter": "511"},
              {"bank": "random", "image": "gradient", "relu": "1", "scale": "shared"}]
    own = Layer("own size", 3, 512, 3, padding=1)
    return layer_queries(_runs_feature_maps, layers, extras) + [
        ("512 filters, picture's own size", own.query(8, own_size="1", bank="random", image="shapes")),
    ]


def sweep_queries() -> list[tuple[str, str]]:
    layers = [Layer("conv 15 ch, dilated 8, pad 16", 15, 512, 15, padding=16, dilation=8),
              Layer("conv 256 ch 15x15", 256, 512, 15, padding=16),
              Layer("conv 16 ch 3x3 pad 16 reflect", 16, 512, 3, padding=16, mode="reflect"),
              Layer("depthwise 15x15", 256, 256, 15, padding=16, groups=256),
              Layer("transposed 15x15 s8 op7", 16, 16, 15, stride=8, transposed=True, output_padding=7),
              Layer("transposed 1 ch k1 s8", 1, 1, 1, stride=8, transposed=True),
              Layer("conv 1 ch 1x1 (most positions)", 1, 1, 1),
              Layer("conv 1 ch 15x15 circular", 1, 1, 15, padding=7, mode="circular")]
    extras = [{"step": "10000000", "values": "float", "speed": "30", "filter": "511"},
              {"step": "130000", "region": "row", "channel": "255"}, {"step": "1"}]
    pooled = [Layer("max pool 15x15 d8 pad 7", 1, 1, 15, padding=7, dilation=8),
              Layer("avg pool 15x15 pad 7", 256, 1, 15, padding=7)]
    pool_extras = [{"op": "max", "ceil_mode": "1", "step": "10000000", "values": "float"},
                   {"op": "avg", "count_include_pad": "0", "region": "row", "step": "200000", "channel": "255"}]
    return layer_queries(_sweeps, layers, extras) + layer_queries(_sweeps, pooled, pool_extras, over=False)


def _runs_backward(config: LabConfig) -> bool:
    """/gradients: the formula holds and the backward page's work cap lets it run forward, backward and by hand."""
    from conv_lab.gradients.check import check_gradient_work

    spec = config.spec()
    spec.explain(config.input_shape())
    check_gradient_work(spec, config.input_shape())
    return True


def gradient_queries() -> list[tuple[str, str]]:
    layers = [LAYERS[i] for i in (0, 1, 3, 9, 11, 15, 18, 20)] + [
        Layer("3->3 3x3 on RGB", 3, 3, 3, padding=1), Layer("16->32 3x3", 16, 32, 3, padding=1),
        Layer("64->64 3x3", 64, 64, 3, padding=1), Layer("256->256 7x7", 256, 256, 7, padding=3),
        Layer("transposed 8->8 k4 s2", 8, 8, 4, stride=2, padding=1, transposed=True),
        Layer("dilated 4 16->16 k5", 16, 16, 5, padding=8, dilation=4, mode="circular")]
    extras = [{"grad": "weight", "filter": "511", "channel": "255"}, {"grad": "input"}]
    return layer_queries(_runs_backward, layers, extras)


def matrix_queries() -> list[tuple[str, str]]:
    layers = [Layer("1 ch 3x3 pad 1", 1, 1, 3, padding=1), Layer("4->4 3x3 pad 16", 4, 4, 3, padding=16),
              Layer("16->16 3x3", 16, 16, 3, padding=1), Layer("dilated 8 15x15 pad 16", 1, 1, 15, padding=16, dilation=8),
              Layer("transposed 15x15 s8", 1, 1, 15, stride=8, transposed=True, output_padding=7),
              Layer("transposed 4->4 3x3 s2", 4, 4, 3, stride=2, padding=1, transposed=True, output_padding=1),
              Layer("256->512 1x1", 256, 512, 1), Layer("grouped 16 3x3", 16, 16, 3, padding=1, groups=4)]
    extras = [{"cell": "399,399"}, {"filter": "511", "channel": "255", "blocks": "1"}, {"blocks": "0", "cell": "0,0"}]
    padded = Layer("padding cells as columns", 1, 1, 3, padding=1)
    return layer_queries(_draws_matrix, layers, extras) + [
        ("padding cells as columns", padded.query(largest_side(padded, _draws_matrix) - 2, show_padding="1"))]


def network_queries() -> list[tuple[str, str]]:
    n = limits.MAX_NETWORK_LAYERS
    deep_t = "I224x56x56-" + "-".join(["T224k3p1"] * (n - 0))
    deep_tk = "I224x16x16-" + "-".join(["T224k7p3"] * n)
    linear = "I3x224x224-F-L1048576-L1048576-L1048576"
    upsample = "I3x250x250-U16-U1-U1"
    upsample_bicubic = "I16x250x250-UmB-U16mC"
    big_weights = "I512x1x1-T512k32"
    bigger_weights = "I1024x1x1-T1024k32"
    t_out1 = "I1024x64x64-T1k64s64"
    t_grouped = "I1024x64x64-T1024k8s8g1024"
    convs = "I3x1024x1024-" + "-".join(["C64k3p1"] * 8)
    skip_fix = "I3x256x256-" + "-".join(["C8k3"] * (n - 1))
    mixed = "I16x512x512-" + "-".join(["C16k3p1-B-R-M2s1p1-A3s1p1-D"] * 10)
    queries = [("64 x ConvTranspose2d 224 ch 3x3", f"net={deep_t}"),
               ("64 x ConvTranspose2d 224 ch 7x7 on 16x16", f"net={deep_tk}"),
               ("Linear 1048576 x3", f"net={linear}"), ("Upsample x16", f"net={upsample}"),
               ("Upsample bicubic x16", f"net={upsample_bicubic}"),
               ("ConvTranspose2d 512->512 k32 on 1x1", f"net={big_weights}"),
               ("ConvTranspose2d 1024->1024 k32 on 1x1", f"net={bigger_weights}"),
               ("ConvTranspose2d 1024->1 k64 s64", f"net={t_out1}"),
               ("ConvTranspose2d depthwise 1024 k8 s8", f"net={t_grouped}"),
               ("8 convs on 1024x1024", f"net={convs}"),
               ("63 convs, mismatched skip (fix search)", f"net={skip_fix}&skip=a0.{n - 1}"),
               ("60 mixed layers on 512x512", f"net={mixed}"),
               ("16 skips on 64 layers", f"net={skip_fix}&skip=" + "-".join(f"c{i}.{i + 3}x" for i in range(16)))]
    for label, query in queries:
        assert len(query) <= limits.MAX_NETWORK_URL_CHARS + 200, label
    return queries


def teacher_link() -> str:
    """class=…&key=… of a live class in the store the server opens (CONVLAB_DATABASE_URL): the teacher view shows
    its answer table only with a teacher's key, and that table is the page's worst case."""
    from conv_lab.classroom.store import open_store

    store = open_store()
    try:
        code, key = store.create_class()
    finally:
        store.close()
    return urlencode({"class": code, "key": key})


def practice_queries() -> list[tuple[str, str]]:
    teacher = teacher_link()
    out = []
    for level in (1, 2, 3, 4, 5, 6):
        for seed in (0, 999_999, 123_457 + level):
            out.append((f"level {level} seed {seed}, teacher view, question 20",
                        f"seed={seed}&level={level}&n=20&teacher=1&{teacher}"))
    return out


QUERIES = {"": shape_lab_queries, "sweep": sweep_queries, "feature-maps": feature_map_queries,
           "matrix": matrix_queries, "gradients": gradient_queries, "network": network_queries,
           "practice": practice_queries}


# ---------------------------------------------------------------- measuring
@dataclass
class Measurement:
    page: str
    label: str
    query: str
    cpu_first: float = 0.0
    cpu_repeat: float = 0.0
    wall_first: float = 0.0
    wall_repeat: float = 0.0
    load_first: float = 0.0
    outcome: str = ""
    refused: bool = False
    failed: bool = False
    detail: list[str] = field(default_factory=list)


def _outcome(result: RunResult) -> tuple[str, bool, bool]:
    """(text, refused, failed): an exception element or no answer is a failure; an error box naming one of Conv
    Lab's caps is a refusal (the work was not run); any other error box (a layer torch rejects, a stack that breaks)
    is an answer like any other."""
    if result.errors:
        return "FAIL " + "; ".join(result.errors)[:160], False, True
    boxes = []
    for _, element in result.elements:
        alert = element.get("alert")
        if alert and alert.get("format") == "ERROR":
            boxes.append(alert.get("body", "").replace("\n", " "))
    capped = [box for box in boxes if "cap" in box]
    if capped:
        return "refused: " + capped[0][:150], True, False
    if boxes:
        return "error box: " + boxes[0][:150], False, False
    return "ok", False, False


async def _one_run(url: str, pid: int, page: str, query: str, timeout: float) -> tuple[float, float, RunResult]:
    async with StreamlitSession(url, timeout=timeout) as session:
        await asyncio.sleep(0.2)  # the new session's own setup settles first
        before = settled_cpu(pid)
        start = time.perf_counter()
        result = await session.run(query, page, collect=True, fetch_media=True)
        wall = time.perf_counter() - start
        cpu = settled_cpu(pid) - before
    return cpu, wall, result


async def measure(url: str, pid: int, page: str, label: str, query: str, timeout: float) -> Measurement:
    """The query in a fresh session, then again in another fresh session (caches warm)."""
    m = Measurement(page, label, query, load_first=round(os.getloadavg()[0], 2))
    m.cpu_first, m.wall_first, result = await _one_run(url, pid, page, query, timeout)
    m.outcome, m.refused, m.failed = _outcome(result)
    m.cpu_repeat, m.wall_repeat, again = await _one_run(url, pid, page, query, timeout)
    if again.errors and not m.failed:
        m.outcome, m.failed = "FAIL on repeat " + "; ".join(again.errors)[:150], True
    return m


async def warm_up(url: str, pages: list[str], timeout: float) -> None:
    """One plain visit per page (imports, worker processes) before anything is measured."""
    async with StreamlitSession(url, timeout=timeout) as session:
        for page in pages:
            await session.run("", page, fetch_media=True)
            if page == "sweep":  # start the render worker on a second sweep too
                await session.run("input=1x6x6&filters=1&kernel=3", page, fetch_media=True)


def idle_cpu_rate(pid: int, seconds: float = 3.0) -> float:
    """CPU seconds per second the idle server spends (subtract nothing: just report it)."""
    before = tree_cpu_seconds(pid)
    time.sleep(seconds)
    return (tree_cpu_seconds(pid) - before) / seconds


def page_name(page: str) -> str:
    return page or "shape lab"


def print_table(page: str, rows: list[Measurement]) -> None:
    print(f"\n== /{page}  ({page_name(page)})")
    print(f"{'CPU s':>7}{'repeat':>8}{'wall s':>8}{'load1':>7}  {'outcome':<32}query")
    for m in rows:
        mark = "!" if m.cpu_first > GOAL_SECONDS else " "
        print(f"{m.cpu_first:>6.2f}{mark}{m.cpu_repeat:>8.2f}{m.wall_first:>8.2f}{m.load_first:>7.2f}  "
              f"{m.outcome[:32]:<32}{m.label}: ?{m.query}")


def summary(results: list[Measurement]) -> list[dict]:
    rows = []
    for page in dict.fromkeys(m.page for m in results):
        mine = [m for m in results if m.page == page]
        ran = [m for m in mine if not m.refused and not m.failed]
        worst = max(ran or mine, key=lambda m: m.cpu_first)
        worst_any = max(mine, key=lambda m: m.cpu_first)
        rows.append({"page": page_name(page), "worst_label": worst.label, "worst_query": worst.query,
                     "cpu": worst.cpu_first, "repeat": worst.cpu_repeat, "wall": worst.wall_first,
                     "load": worst.load_first, "worst_any_cpu": worst_any.cpu_first,
                     "worst_any_label": worst_any.label, "failures": sum(m.failed for m in mine),
                     "queries": len(mine)})
    return rows


def print_summary(rows: list[dict], idle: float) -> None:
    print(f"\n== worst allowed request per page (goal: ≤ {GOAL_SECONDS} s of server CPU; idle server "
          f"{idle * 1000:.0f} ms/s; {os.cpu_count()} cores)")
    print(f"{'page':<14}{'CPU s':>7}{'repeat':>8}{'wall s':>8}{'load1':>7}{'fails':>7}  worst allowed request")
    for r in rows:
        print(f"{r['page']:<14}{r['cpu']:>7.2f}{r['repeat']:>8.2f}{r['wall']:>8.2f}{r['load']:>7.2f}"
              f"{r['failures']:>7}  {r['worst_label']}: ?{r['worst_query']}")
        if r["worst_any_cpu"] > r["cpu"]:
            print(f"{'':<14}{r['worst_any_cpu']:>7.2f}  (a refused request: {r['worst_any_label']})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", help="comma-separated url paths (shape_lab or '' for the Shape Lab); default all")
    parser.add_argument("--url", help="an already running server (loopback); default: start one")
    parser.add_argument("--pid", type=int, help="that server's process id (required with --url)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a run counts as failed")
    parser.add_argument("--list", action="store_true", help="only print the queries")
    parser.add_argument("--json", help="write every measurement here")
    args = parser.parse_args(argv)
    if args.url and not args.pid:
        parser.error("--url needs --pid (the server's CPU is read from /proc)")
    if not args.url and not os.environ.get("CONVLAB_DATABASE_URL"):  # the started server's own class store
        os.environ["CONVLAB_DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp(prefix='convlab-worst-')}/classes.db"
    wanted = PAGES if not args.pages else tuple("" if p in ("shape_lab", "shape-lab", "/") else p.strip("/")
                                                for p in args.pages.split(","))
    plan = {page: QUERIES[page]()[:MAX_QUERIES_PER_PAGE] for page in wanted}
    if args.list:
        for page, queries in plan.items():
            for label, query in queries:
                print(f"/{page}?{query}    # {label}")
        return 0
    print(f"Conv Lab worst requests: {sum(map(len, plan.values()))} queries on {len(plan)} pages, "
          f"load average {os.getloadavg()}")
    results: list[Measurement] = []
    with running_server(args.url, timeout=60) as (url, proc):
        pid = proc.pid if proc else args.pid
        asyncio.run(warm_up(url, list(plan), args.timeout))
        idle = idle_cpu_rate(pid)
        for page, queries in plan.items():
            rows = [asyncio.run(measure(url, pid, page, label, query, args.timeout)) for label, query in queries]
            results.extend(rows)
            print_table(page, rows)
    rows = summary(results)
    print_summary(rows, idle)
    if args.json:
        Path(args.json).write_text(json.dumps({"idle_cpu_per_s": idle, "loadavg": os.getloadavg(), "summary": rows,
                                               "runs": [asdict(m) for m in results]}, indent=2))
    over = [r for r in rows if r["cpu"] > GOAL_SECONDS]
    failed = sum(r["failures"] for r in rows)
    return 1 if over or failed else 0


if __name__ == "__main__":
    sys.exit(main())
