"""Time the Shape Lab's block picture (conv_lab.lab.blocks) per uncached configuration: p50/p95 per dimension.

Draws ~50 random layers per dimension (1-D, 2-D, 3-D; plain, grouped, depthwise and transposed; small to huge),
each a cache miss, after one warm-up call (the first call loads fonts): once with the label cache as a running
server has it, once with it emptied before every layer. Wall time and CPU time (the machine may be shared).
The issue's budget: the picture adds ≤ 10 ms per uncached configuration.

    python benchmarks/blocks_picture.py [--n 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conv_lab.lab import block_shapes, blocks  # noqa: E402

BUDGET_MS = 10.0


def random_layer(rng: random.Random, dims: int) -> tuple:
    """Arguments of one random layer of `dims` dimensions (shapes as the formula gives them)."""
    groups = rng.choice([1, 1, 1, 2, 4, "depthwise"])
    c_in = rng.choice([1, 3, 8, 16, 32, 64, 128, 256, 512, 1024])
    if groups == "depthwise":
        groups = c_in
    else:
        c_in = max(groups, c_in - c_in % groups)
    c_out = groups * rng.choice([1, 2, 4, 8, 16, 32])
    largest = {1: 16000, 2: 1024, 3: 128}[dims]
    size = tuple(rng.randint(1, largest) if rng.random() < 0.3 else rng.randint(4, 64) for _ in range(dims))
    kernel = tuple(min(n, rng.choice([1, 3, 5, 7])) for n in size)
    transposed = rng.random() < 0.2
    if transposed:
        out = tuple(2 * n + k - 2 for n, k in zip(size, kernel))
    else:
        out = tuple(n - k + 1 for n, k in zip(size, kernel))
    return c_in, c_out, groups, kernel, size, out, transposed


def measure(layers: list[tuple], cold: bool) -> tuple[list[float], list[float], list[int]]:
    """Wall and CPU ms and PNG bytes per layer, each a cache miss (`cold`: no label rendered before either)."""
    wall, cpu, sizes = [], [], []
    for layer in layers:
        blocks._cached.cache_clear()
        if cold:
            block_shapes.text_mask.cache_clear()
        start, start_cpu = time.perf_counter(), time.process_time()
        png, _ = blocks.layer_blocks_png(*layer)
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        sizes.append(len(png))
    return wall, cpu, sizes


def p50_p95(values: list[float]) -> tuple[float, float]:
    """Median and 95th percentile."""
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=50, help="random layers per dimension")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    blocks.layer_blocks_png(3, 16, 1, (3, 3), (32, 32), (30, 30))  # warm-up: fonts, palette
    print(f"block picture, uncached, {args.n} random layers per dimension (budget {BUDGET_MS:.0f} ms); "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print("  labels seen before (a running server)      | labels never rendered (cold)")
    worst = 0.0
    for dims in (1, 2, 3):
        layers = [random_layer(rng, dims) for _ in range(args.n)]
        wall, cpu, sizes = measure(layers, cold=False)
        cold_wall, cold_cpu, _ = measure(layers, cold=True)
        (w50, w95), (c50, c95) = p50_p95(wall), p50_p95(cpu)
        (cw50, cw95), (cc50, cc95) = p50_p95(cold_wall), p50_p95(cold_cpu)
        worst = max(worst, c95)
        print(f"  {dims}-D  p50 {w50:4.1f} p95 {w95:4.1f} ms (CPU {c50:4.1f}/{c95:4.1f}) | "
              f"p50 {cw50:4.1f} p95 {cw95:4.1f} ms (CPU {cc50:4.1f}/{cc95:4.1f})   "
              f"PNG median {statistics.median(sizes) / 1000:4.1f} kB")
    verdict = "within" if worst <= BUDGET_MS else "OVER"
    print(f"  verdict: warm CPU p95 {worst:.1f} ms, {verdict} the {BUDGET_MS:.0f} ms budget "
          "(wall time adds waits for the other processes on a shared machine)")


if __name__ == "__main__":
    main()
