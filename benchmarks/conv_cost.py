"""Calibrate the CPU cost model behind Conv Lab's work caps (conv_lab.limits NS_PER_MAC, NS_PER_ELEMENT, NS_PER_WEIGHT).

Runs in this process at the server's torch thread count (limits.TORCH_THREADS) and reads process CPU time, best
of a few runs. Three tables:

1. ns per weight to build a seeded module (torch's kaiming init: every weight drawn at random);
2. ns per MAC per torch path, run as conv_lab runs layers (`torch_run.forward`), with out_channels per group
   from 1 up (oneDNN computes blocks of 8 output channels, so 1 filter costs as much as 8);
3. the check: every layer template of benchmarks/worst_request.py at the largest input the work check allows,
   `compare()` (build, random input, run) against `estimated_seconds`. A ratio above 1 is a layer the model
   underestimates; the cap (limits.MAX_REQUEST_SECONDS) must hold for the slowest of them.

    python benchmarks/conv_cost.py            # all three
    python benchmarks/conv_cost.py --check    # only the check
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from conv_lab import limits  # noqa: E402
from conv_lab.core.costs import conv_path, estimated_seconds, layer_cost, work_check  # noqa: E402
from conv_lab.core.errors import ConvConfigError  # noqa: E402
from conv_lab.core.spec import ConvSpec  # noqa: E402
from conv_lab.core.torch_run import build_module, compare, forward  # noqa: E402

REPEATS = 3


def cpu(fn, repeats: int = REPEATS) -> float:
    """Least process CPU seconds of `repeats` calls (the first call's allocations count too: best of)."""
    best = math.inf
    for _ in range(repeats):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best


def weights_table() -> None:
    print("\n1. building a seeded module (kaiming init), ns per weight")
    for spec in (ConvSpec(256, 512, 15), ConvSpec(256, 512, 7), ConvSpec(512, 512, 15, transposed=True),
                 ConvSpec(64, 64, 3)):
        n = layer_cost(spec, (1, spec.in_channels, 16, 16)).weight_params
        seconds = cpu(lambda spec=spec: build_module(spec, seed=0))
        print(f"  {spec.module_name:<16}{spec.in_channels:>4}->{spec.out_channels:<4} k{spec.kernel_hw[0]:<3}"
              f"{n:>12,} weights {seconds:7.3f} s  {seconds / n * 1e9:6.2f} ns/weight")


def _run_only(spec: ConvSpec, shape: tuple[int, ...]) -> float:
    module = build_module(spec, seed=0)
    x = torch.randn(shape)
    with torch.no_grad():
        return cpu(lambda: forward(module, x))


PATH_LAYERS = {  # (spec, input side): MAC-bound layers per path, out_channels per group from 1 up
    "dense": [(ConvSpec(64, c, 7, padding=3), 64) for c in (1, 2, 4, 8, 16, 64)]
    + [(ConvSpec(3, 8, 15, padding=7), 256), (ConvSpec(256, 256, 3, padding=1), 64),
       (ConvSpec(64, 64, 15, padding=16, dilation=8), 96), (ConvSpec(256, 512, 15, stride=8, dilation=8), 144)],
    "grouped": [(ConvSpec(256, 64 * c, 3, padding=1, groups=64), 96) for c in (1, 2, 4, 8)]
    + [(ConvSpec(256, 512, 15, padding=7, groups=64), 48)],
    "depthwise": [(ConvSpec(256, 256 * m, k, padding=k // 2, groups=256), 48) for m in (1, 2) for k in (3, 15)],
    "transposed": [(ConvSpec(256, c, 3, stride=2, transposed=True), 32) for c in (1, 8, 64)]
    + [(ConvSpec(256, 512, 15, stride=8, transposed=True), 8), (ConvSpec(1, 1, 15, stride=8, transposed=True), 256)],
    "transposed grouped": [(ConvSpec(256, 256, 15, padding=7, dilation=8, groups=256, transposed=True), 32),
                           (ConvSpec(256, 512, 15, stride=8, groups=256, transposed=True), 16),
                           (ConvSpec(256, 512, 3, stride=2, groups=2, transposed=True), 16)],
}


def paths_table() -> None:
    print("\n2. the layer run alone (torch_run.forward), ns per MAC and per effective MAC (out_channels per group "
          "rounded up to 8)")
    for path, layers in PATH_LAYERS.items():
        worst = 0.0
        for spec, side in layers:
            shape = (1, spec.in_channels, side, side)
            cost = layer_cost(spec, shape)
            seconds = _run_only(spec, shape)
            per_group = spec.out_channels // spec.groups
            effective = cost.macs * math.ceil(per_group / 8) * 8 / per_group
            worst = max(worst, seconds / effective * 1e9)
            print(f"  {path:<19}{spec.in_channels:>4}->{spec.out_channels:<4}k{spec.kernel_hw[0]:<3}s{spec.stride_hw[0]} "
                  f"d{spec.dilation_hw[0]} g{spec.groups:<4}@{side:<4}{seconds:7.3f} s {seconds / cost.macs * 1e9:7.3f} "
                  f"ns/MAC {seconds / effective * 1e9:7.3f} ns/effective MAC")
        print(f"  {path}: slowest {worst:.3f} ns per effective MAC (limits.NS_PER_MAC[{path!r}] = "
              f"{limits.NS_PER_MAC[path]})")


def _largest_side(spec_at) -> int:
    lo, hi = 0, 512
    while lo < hi:
        mid = (lo + hi + 1) // 2
        try:
            spec, shape = spec_at(mid)
            spec.explain(shape)
            work_check(spec, shape)
            lo = mid
        except ConvConfigError:
            hi = mid - 1
    return lo


def check_table() -> float:
    """compare() of every worst_request.py layer template at its largest allowed side; returns the worst ratio."""
    from worst_request import LAYERS

    print(f"\n3. compare() at the largest input the work check allows (cap {limits.MAX_REQUEST_SECONDS} s): "
          "real CPU against the estimate")
    worst = 0.0
    for layer in LAYERS:
        def spec_at(side, layer=layer):
            config = layer.config(side)
            return config.spec(), config.input_shape()
        side = _largest_side(spec_at)
        if not side:
            print(f"  {layer.name:<34} refused at every size")
            continue
        spec, shape = spec_at(side)
        # first run: oneDNN's one-time setup included
        first = cpu(lambda spec=spec, shape=shape: compare(spec, shape), repeats=1)
        seconds = min(first, cpu(lambda spec=spec, shape=shape: compare(spec, shape), repeats=2))
        estimate = estimated_seconds(spec, shape)
        worst = max(worst, first / estimate)
        flag = "  <-- over the estimate" if first > estimate else ""
        print(f"  {layer.name:<34}{conv_path(spec):<19}@{side:<4} estimate {estimate:6.3f} s  real {first:6.3f} s "
              f"(best {seconds:6.3f})  ratio {first / estimate:5.2f}{flag}")
    print(f"  worst real/estimate: {worst:.2f}")
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only table 3")
    args = parser.parse_args(argv)
    torch.set_num_threads(limits.TORCH_THREADS)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); NS_PER_MAC {limits.NS_PER_MAC}, "
          f"NS_PER_ELEMENT {limits.NS_PER_ELEMENT}, NS_PER_WEIGHT {getattr(limits, 'NS_PER_WEIGHT', None)}")
    if not args.check:
        weights_table()
        paths_table()
    check_table()
    return 0


if __name__ == "__main__":
    sys.exit(main())
