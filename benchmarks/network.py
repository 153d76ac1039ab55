"""Network planner: time to recompute a 50-layer stack after one cell edit (target ≤ 100 ms).

Prints p50/p95 for the formula plan alone and for everything the page recomputes
after an edit: plan + the real layers on torch's meta device (an edit reruns the
layers whose input it changed; the rest come from the per-layer cache) +
shape-flow table + exported code + share link; and a cold run with every cache
cleared (a link nobody has opened before).
Then the measured receptive field (issue 14): CPU p50/p95 of the autograd measurement plus its picture on the
largest plans `limits.MAX_RF_MEASURE_WORK` allows, one per kind of stack, and the first one in a fresh process.
Run: MPLBACKEND=Agg python benchmarks/network.py          (`... network.py rf`: the receptive field only)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conv_lab import limits  # noqa: E402
from conv_lab.network.codec import encode_network  # noqa: E402
from conv_lab.network.export import export_code  # noqa: E402
from conv_lab.network.plan import parse_rows, plan  # noqa: E402
from conv_lab.network.receptive import choose, input_field, walk  # noqa: E402
from conv_lab.network.rf_measure import measure, measure_work  # noqa: E402
from conv_lab.network.rf_picture import rf_png, view  # noqa: E402
from conv_lab.network.torch_run import cache_clear, run_plan  # noqa: E402
from conv_lab.network.view import flow_table  # noqa: E402

TARGET_MS = 100
INPUT = (1, 3, 224, 224)


def stack_50(edit: int) -> list[tuple[str, str]]:
    """50 layers: 10 blocks of conv-BN-ReLU-conv-ReLU, with `edit` changing one cell (a user's edit)."""
    rows = []
    for block in range(10):
        stride = 2 if block in (2, 5, 8) else 1
        rows += [("Conv2d", f"out_channels={32 + (edit if block == 4 else 0)}, kernel_size=3, padding=1, "
                            f"stride={stride}"),
                 ("BatchNorm2d", ""), ("ReLU", ""), ("Conv2d", "out_channels=32, kernel_size=3, padding=1"), ("ReLU", "")]
    return rows


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def main(repeats: int = 200) -> None:
    """Measure and print."""
    plan(INPUT, stack_50(0))
    run_plan(plan(INPUT, stack_50(1)))  # import torch and warm the meta kernels once
    formula, everything = [], []
    for i in range(repeats):
        rows = stack_50(i + 2)
        t0 = time.perf_counter()
        result = plan(INPUT, rows)
        t1 = time.perf_counter()
        run = run_plan(result)  # a new stack on every edit, so the run cache never answers
        flow_table(result, run)
        export_code(result)
        encode_network(INPUT, parse_rows(rows))
        t2 = time.perf_counter()
        assert result.ok and len(result.rows) == 50 and run.failed is None
        formula.append((t1 - t0) * 1000)
        everything.append((t2 - t0) * 1000)
    cold = []
    for i in range(20):  # a stack nobody has run before (a fresh link): every layer runs on meta
        cache_clear()
        t0 = time.perf_counter()
        result = plan(INPUT, stack_50(500 + i))
        assert result.ok and run_plan(result).failed is None
        cold.append((time.perf_counter() - t0) * 1000)
    for name, values in (("formula plan (50 layers)", formula), ("plan + meta torch run + table + code + link", everything),
                         ("cold: plan + meta torch run, no cache", cold)):
        p50, p95 = statistics.median(values), percentile(values, 95)
        print(f"{name:46s} p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   target ≤ {TARGET_MS} ms: "
              f"{'OK' if p95 <= TARGET_MS else 'MISSED'}   ({p95 / TARGET_MS:.2f}× of target)")


# Stacks whose measurement is the most work per cell: each is grown to the largest input the cap allows.
RF_STACKS = {
    "2-D 3×3 conv+ReLU, 64 layers": (2, [("Conv2d", "out_channels=64, kernel_size=3, padding=1"), ("ReLU", "")] * 32),
    "2-D 31×31 dilated convs, 4 layers": (2, [("Conv2d", "out_channels=8, kernel_size=31, padding=30, dilation=2")] * 4),
    "2-D dilated max pools, 16 layers": (2, [("MaxPool2d", "kernel_size=3, stride=1, padding=1, dilation=1")] * 16),
    "2-D transposed 4×4 s1, 8 layers": (2, [("ConvTranspose2d", "out_channels=8, kernel_size=4, padding=1")] * 8),
    "1-D causal k2, 64 layers": (1, [("Conv1d", f"out_channels=32, kernel_size=2, padding='causal', "
                                               f"dilation={2 ** (i % 10)}") for i in range(64)]),
    "1-D k1024 convs, 4 layers": (1, [("Conv1d", "out_channels=8, kernel_size=1024, padding=512")] * 4),
    "3-D 3×3×3 conv+BN+ReLU, 48 layers": (3, [("Conv3d", "out_channels=16, kernel_size=3, padding=1"), ("BatchNorm3d", ""),
                                              ("ReLU", "")] * 16),
}


def largest_allowed(dims: int, rows: list) -> tuple:
    """The plan on the largest square input whose measurement fits `limits.MAX_RF_MEASURE_WORK`."""
    lo, hi = 2, limits.MAX_SPATIAL_BY_DIMS[dims]
    while lo < hi:
        mid = (lo + hi + 1) // 2
        result = plan((1, 1, *(mid,) * dims), rows)
        if result.ok and measure_work(result, len(rows)) <= limits.MAX_RF_MEASURE_WORK:
            lo = mid
        else:
            hi = mid - 1
    return plan((1, 1, *(lo,) * dims), rows)


def rf_bench(repeats: int = 15) -> None:
    """CPU p50/p95 of the measured receptive field (autograd + picture) on the largest allowed plans."""
    import torch

    torch.set_num_threads(limits.TORCH_THREADS)  # as the server runs it (app.py)
    cold = time.process_time()
    first = plan((1, 1, 64, 64), [("Conv2d", "out_channels=4, kernel_size=3, padding=1")])
    measure(first, choose(first, ""))
    print(f"receptive field: the first measurement in a process (torch's float64 kernels): "
          f"{(time.process_time() - cold) * 1000:.0f} ms CPU")
    for name, (dims, rows) in RF_STACKS.items():
        result = largest_allowed(dims, rows)
        choice = choose(result, "")
        times = []
        for _ in range(repeats):
            t0 = time.process_time()
            field = input_field(walk(result, choice))
            rf_png(view(field, measure(result, choice).support))
            times.append((time.process_time() - t0) * 1000)
        p50, p95 = statistics.median(times), percentile(times, 95)
        size = "×".join(map(str, result.input_shape[2:]))
        print(f"  {name:36s} input {size:>11s}  work {measure_work(result, choice.point) / 1e6:5.1f} M   "
              f"CPU p50 {p50:6.1f} ms   p95 {p95:6.1f} ms   (goal well under 500 ms)")


if __name__ == "__main__":
    if sys.argv[1:] != ["rf"]:
        main()
    rf_bench()
