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
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import torch  # noqa: E402

from conv_lab.core.errors import ConvConfigError  # noqa: E402
from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.gradients.check import autograd_check, backward_seconds, check_gradient_work  # noqa: E402
from conv_lab.sweep.animate import SweepAnimation  # noqa: E402
from conv_lab.sweep.backward import BackwardRequest, backward_values  # noqa: E402
from conv_lab.sweep.steps import region_for  # noqa: E402

TEMPLATES = {  # layer families; each is measured at the largest square input side the page's cap allows
    "3→3 k3 p1": LabConfig(3, 8, 8, 3, (3, 3), padding=(1, 1)),
    "3→8 k15 p7": LabConfig(3, 8, 8, 8, (15, 15), padding=(7, 7)),
    "3→64 k7 p3": LabConfig(3, 8, 8, 64, (7, 7), padding=(3, 3)),
    "16→32 k3 p1": LabConfig(16, 8, 8, 32, (3, 3), padding=(1, 1)),
    "64→64 k3 p1": LabConfig(64, 8, 8, 64, (3, 3), padding=(1, 1)),
    "256→256 k7 p3": LabConfig(256, 8, 8, 256, (7, 7), padding=(3, 3)),
    "depthwise 64 k15 p7": LabConfig(64, 8, 8, 64, (15, 15), padding=(7, 7), groups=64),
    "dilated 4 circular 16→16 k5 p8": LabConfig(16, 8, 8, 16, (5, 5), padding=(8, 8), dilation=(4, 4),
                                                padding_mode="circular"),
    "reflect 64→64 k3 p1": LabConfig(64, 8, 8, 64, (3, 3), padding=(1, 1), padding_mode="reflect"),
    "transposed 8→8 k4 s2 p1": LabConfig(8, 8, 8, 8, (4, 4), (2, 2), (1, 1), transposed=True),
    "1-D 4→4 k9 causal": LabConfig(4, 1, 8, 4, (9,), (1,), "causal", (1,), dims=1),
}


def at_cap(config: LabConfig) -> LabConfig | None:
    """The template with the largest input side (1…512, or 1…65536 for 1-D) the /gradients cap accepts."""
    lo, hi = 0, 65536 if config.dims == 1 else 512
    while lo < hi:
        mid = (lo + hi + 1) // 2
        sized = replace(config, width=mid, height=1 if config.dims == 1 else mid)
        try:
            check_gradient_work(sized.spec(), sized.input_shape())
            lo = mid
        except ConvConfigError:
            hi = mid - 1
    return replace(config, width=lo, height=1 if config.dims == 1 else lo) if lo else None


def page_run(config: LabConfig) -> float:
    backward_values.cache_clear()
    start = time.process_time()
    spec = config.spec()
    check_gradient_work(spec, config.input_shape())
    v = backward_values(config)
    result = autograd_check(spec, v.x, v.weight, v.bias, v.grad_output)
    assert result.agree, result.max_difference
    try:
        BackwardRequest(config, "input").build()
    except ConvConfigError:  # the page says the sweep's grid is too large to draw; the gradients above still show
        pass
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
    print("CPU per /gradients page run at the largest input the cap allows (cap check, values, loss.backward() + "
          "explicit engine, sweep grid), beside the cost model's estimate:")
    for name, template in TEMPLATES.items():
        config = at_cap(template)
        if config is None:
            print(f"  {name:34s} refused at every size")
            continue
        estimate = backward_seconds(config.spec(), config.input_shape())
        times = [page_run(config) for _ in range(3)]
        print(f"  {name:34s} @{config.width:>5}  p50 {statistics.median(times):.3f} s  max {max(times):.3f} s  "
              f"(estimated {estimate:.3f} s)")
    print("Backward sweep build (grid, animation layers, player page; then the GIF on demand):")
    for name, config in (("25 frames (1x3x3 k3 p1: padded 5×5)", LabConfig(1, 3, 3, 1, padding=(1, 1))),
                         ("256 frames (1x14x14 k3 p1 → 16×16)", LabConfig(1, 14, 14, 1, padding=(1, 1)))):
        times = [sweep_build(config) for _ in range(3)]
        player, gif, frames = statistics.median(t[0] for t in times), statistics.median(t[1] for t in times), times[0][2]
        print(f"  {frames - 1:4d} steps + end frame: player p50 {player:.3f} s CPU, GIF download {gif:.3f} s  ({name})")


if __name__ == "__main__":
    main()
