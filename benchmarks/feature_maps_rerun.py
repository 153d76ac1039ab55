"""Feature maps: server CPU of one page rerun when a student moves a layer setting; prints p50/p95/mean and KB.

Usage: python benchmarks/feature_maps_rerun.py [--layers 40] [--seed 17] [--passes 1] [--profile 25]

The page's own work for a fixed, seeded list of random layers such as a class produces (input 1–16
channels of 8–64 px, 1–64 filters, kernel 1–7, stride 1–3, padding 0–3; the default picture, bank and
options): the sample picture, the run, the input channels, the grid of maps and the enlarged map, as
pages/feature-maps.py calls them. Each layer is new to the process (a move is a new layer), so nothing
computed for an earlier layer is reused; process-wide caches of fonts and glyphs stay warm, as in a
server. CPU is time.process_time (all threads, so work that releases the GIL counts too). --profile N
prints cProfile's top N functions over one more pass. The machine is shared: run before/after back to
back and read `uptime` beside each figure.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

from conv_lab import limits  # noqa: E402
from conv_lab.blas import limit_blas_threads  # noqa: E402
from conv_lab.core.errors import ConvConfigError  # noqa: E402
from conv_lab.core.spec import ConvSpec  # noqa: E402
from conv_lab.features.figures import enlarged_image, input_image, maps_grid_image  # noqa: E402
from conv_lab.features.images import sample_picture  # noqa: E402
from conv_lab.features.runs import run_feature_maps  # noqa: E402


def class_layers(n: int, seed: int) -> list[tuple[ConvSpec, int, int]]:
    """n random layers that run (spec, height, width), the same list for the same seed."""
    rng = random.Random(seed)
    layers: list[tuple[ConvSpec, int, int]] = []
    while len(layers) < n:
        side = rng.randint(8, 64)
        height, width = side, rng.choice((side, rng.randint(8, 64)))
        k, s, p = rng.randint(1, 7), rng.randint(1, 3), rng.randint(0, 3)
        spec = ConvSpec(rng.randint(1, 16), rng.randint(1, 64), k, stride=s, padding=p)
        if (height + 2 * p - k) // s + 1 >= 1 and (width + 2 * p - k) // s + 1 >= 1:
            layers.append((spec, height, width))
    return layers


def rerun(spec: ConvSpec, height: int, width: int) -> tuple[int, int, int]:
    """What the page draws for one layer with the default options; the three pictures' sizes in bytes."""
    run = run_feature_maps(spec, sample_picture("scene"), height, width, "classic", 0, False, False)
    data, _ = input_image(run)
    grid, _ = maps_grid_image(run, per_map=True, highlight=0)
    big = enlarged_image(run, 0, per_map=True, patch=None)
    return len(data), len(grid), len(big)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=40)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--passes", type=int, default=1, help="passes over fresh lists (seed, seed+1, …)")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="cProfile one more pass, top N")
    args = parser.parse_args()
    torch.set_num_threads(limits.TORCH_THREADS)  # as the server runs it (app.py)
    limit_blas_threads(limits.TORCH_THREADS)
    rerun(ConvSpec(2, 5, 3), 20, 20)  # warm-up: first torch call, fonts, colour tables (a layer not in the lists)
    cpu: list[float] = []
    sizes: list[tuple[int, int, int]] = []
    for p in range(args.passes):
        for spec, h, w in class_layers(args.layers, args.seed + p):
            c0 = time.process_time()
            try:
                sizes.append(rerun(spec, h, w))
            except ConvConfigError:
                continue  # over the work cap: the page shows a message
            cpu.append(time.process_time() - c0)
    ms = [c * 1000 for c in cpu]
    print(f"{len(ms)} layers (seed {args.seed}, {args.passes} pass(es)), CPU per rerun: p50 {pct(ms, 50):.1f} ms, "
          f"p95 {pct(ms, 95):.1f} ms, mean {statistics.mean(ms):.1f} ms, max {max(ms):.1f} ms")
    for name, column in zip(("input", "grid", "enlarged"), zip(*sizes)):
        kb = [b / 1024 for b in column]
        print(f"  {name:<9} picture: mean {statistics.mean(kb):6.1f} KB, max {max(kb):6.1f} KB")
    print("load average:", " ".join(f"{v:.2f}" for v in os.getloadavg()))
    if args.profile:
        layers = class_layers(args.layers, args.seed + 1000)
        profiler = cProfile.Profile()
        profiler.enable()
        for spec, h, w in layers:
            try:
                rerun(spec, h, w)
            except ConvConfigError:
                pass
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
