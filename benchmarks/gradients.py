"""CPU of the /gradients page's work on the largest layers its caps allow, and the backward sweep's build time.

    python benchmarks/gradients.py

Per layer: the cap check, the seeded values, loss.backward() on the real module and the explicit engine (one torch
thread, as the server runs), then the backward sweep's grid. Then the backward sweep's animation + player page + GIF
for 25 and 256 frames. Prints CPU seconds (time.process_time), the median of a few runs.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

from conv_lab.core.errors import ConvConfigError  # noqa: E402
from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.gradients.check import autograd_check, check_gradient_work  # noqa: E402
from conv_lab.sweep.animate import SweepAnimation  # noqa: E402
from conv_lab.sweep.backward import BackwardRequest, backward_values  # noqa: E402
from conv_lab.sweep.steps import region_for  # noqa: E402

LARGEST = {  # layers at the caps (each passes check_gradient_work; a bit more is refused)
    "3x512x512 → 3, k3 p1": LabConfig(3, 512, 512, 3, (3, 3), padding=(1, 1)),
    "16x128x128 → 32, k3 p1": LabConfig(16, 128, 128, 32, (3, 3), padding=(1, 1)),
    "64x64x64 → 64, k3 p1": LabConfig(64, 64, 64, 64, (3, 3), padding=(1, 1)),
    "256x16x16 → 256, k7 p3": LabConfig(256, 16, 16, 256, (7, 7), padding=(3, 3)),
    "transposed 8x128x128 → 8, k4 s2 p1": LabConfig(8, 128, 128, 8, (4, 4), (2, 2), (1, 1), transposed=True),
    "reflect 3x400x400 → 4, k5 p2": LabConfig(3, 400, 400, 4, (5, 5), padding=(2, 2), padding_mode="reflect"),
    "1-D 4x60000 → 4, k9 causal": LabConfig(4, 1, 60000, 4, (9,), (1,), "causal", (1,), dims=1),
}


def page_run(config: LabConfig) -> float:
    backward_values.cache_clear()
    start = time.process_time()
    spec = config.spec()
    check_gradient_work(spec, config.input_shape())
    v = backward_values(config)
    result = autograd_check(spec, v.x, v.weight, v.bias, v.grad_output)
    assert result.agree, result.max_difference
    BackwardRequest(config, "input").build()
    return time.process_time() - start


def sweep_build(config: LabConfig) -> tuple[float, float, int]:
    """CPU of the player (sweep, animation layers, player page) and then of the GIF download."""
    backward_values.cache_clear()
    start = time.process_time()
    sweep = BackwardRequest(config, "input").build()
    animation = SweepAnimation(sweep, region_for(sweep, 0, 0), "int", 0, "bench")
    animation.page.html(0)
    player = time.process_time() - start
    animation.gif_bytes  # noqa: B018 - the download's work
    return player, time.process_time() - start - player, len(animation)


def main() -> None:
    torch.set_num_threads(1)
    print("CPU per /gradients page run (cap check, values, loss.backward() + explicit engine, sweep grid):")
    for name, config in LARGEST.items():
        try:
            times = [page_run(config) for _ in range(3)]
        except ConvConfigError as exc:
            print(f"  {name:40s} refused: {exc}")
            continue
        print(f"  {name:40s} p50 {statistics.median(times):.3f} s  max {max(times):.3f} s")
    print("Backward sweep build (grid, animation layers, player page; then the GIF on demand):")
    for name, config in (("25 frames (1x3x3 k3 p1: padded 5×5)", LabConfig(1, 3, 3, 1, padding=(1, 1))),
                         ("256 frames (1x14x14 k3 p1 → 16×16)", LabConfig(1, 14, 14, 1, padding=(1, 1)))):
        times = [sweep_build(config) for _ in range(3)]
        player, gif, frames = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times), times[0][2]
        print(f"  {frames - 1:4d} steps + end frame: player p50 {player:.3f} s CPU, GIF download {gif:.3f} s  ({name})")


if __name__ == "__main__":
    main()
