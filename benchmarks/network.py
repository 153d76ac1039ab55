"""Network planner: time to recompute a 50-layer stack after one cell edit (target ≤ 100 ms).

Prints p50/p95 for the formula plan alone and for everything the page recomputes
after an edit: plan + the real layers on torch's meta device (an edit reruns the
layers whose input it changed; the rest come from the per-layer cache) +
shape-flow table + exported code + share link; and a cold run with every cache
cleared (a link nobody has opened before).
Run: MPLBACKEND=Agg python benchmarks/network.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conv_lab.network.codec import encode_network  # noqa: E402
from conv_lab.network.export import export_code  # noqa: E402
from conv_lab.network.plan import parse_rows, plan  # noqa: E402
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


if __name__ == "__main__":
    main()
