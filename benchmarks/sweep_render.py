"""CPU of one sweep render (the animation + player page the render worker builds), over a seeded set of layers.

Run: MPLBACKEND=Agg python benchmarks/sweep_render.py [--layers 30] [--seed 1]
Each layer is random (channels 1–8, square input 8–36, filters 1–32, kernel 1–4, stride 1–2, padding 0–1) and
rendered by `sweep.service._render_player` as a worker does, uncached (the sweep and animation caches cleared).
Prints CPU seconds (time.process_time) per render, p50 / p95 / mean, with:
  first pass : the layers in turn, text and glyph caches filling up as a fresh worker meets them;
  cold glyphs: every text and glyph cache cleared before each render (a new cell size, new captions);
  warm glyphs: the same layers again once every layer has been rendered (the worker's steady state).
Runs on older code too (clears whichever caches it has), so before/after figures come from this one script.
Issue 17 item 4: the Sweep page's share of a lecture hall. Print `uptime` beside the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.sweep import drawing  # noqa: E402
from conv_lab.sweep.animate import sweep_animation  # noqa: E402
from conv_lab.sweep.data import SweepRequest, build_sweep  # noqa: E402
from conv_lab.sweep.service import _render_player  # noqa: E402


def layers(count: int, seed: int) -> list[LabConfig]:
    """The seeded random layers (the profile of issue 17's item 4)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        c, s, f = rng.randint(1, 8), rng.randint(8, 36), rng.randint(1, 32)
        k, st, p = rng.randint(1, 4), rng.randint(1, 2), rng.randint(0, 1)
        out.append(LabConfig(c, s, s, f, kernel_size=(k, k), stride=(st, st), padding=(p, p)))
    return out


def clear_glyphs() -> None:
    """Every text and glyph cache this checkout has (the glyph atlas per size, and rasterised strings if any)."""
    for name in ("glyph_alpha", "glyph_atlas", "glyph_cell"):
        if hasattr(drawing, name):
            getattr(drawing, name).cache_clear()
    try:
        from conv_lab.sweep import typeset
    except ImportError:
        return
    typeset.inked.cache_clear()


def render_cpu(config: LabConfig) -> float:
    """CPU seconds of one uncached render of a layer's player."""
    sweep_animation.cache_clear()
    build_sweep.cache_clear()
    start = time.process_time()
    result = _render_player(SweepRequest(config), None, 0)
    cpu = time.process_time() - start
    assert not isinstance(result, tuple), result
    return cpu


def summary(label: str, times: list[float]) -> None:
    ms = np.array(times) * 1000
    print(f"{label:<13}: p50 {np.percentile(ms, 50):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms  "
          f"mean {ms.mean():6.1f} ms  ({len(ms)} layers)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--layers", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    configs = layers(args.layers, args.seed)
    print(f"load average before: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    render_cpu(LabConfig(1, 5, 5, 1))  # imports, fonts, matplotlib's first figure
    clear_glyphs()
    first = [render_cpu(config) for config in configs]
    cold = []
    for config in configs:
        clear_glyphs()
        cold.append(render_cpu(config))
    for config in configs:  # every cell size and caption seen once
        render_cpu(config)
    warm = [render_cpu(config) for config in configs]
    summary("first pass", first)
    summary("cold glyphs", cold)
    summary("warm glyphs", warm)
    print(f"load average after : {' '.join(f'{v:.2f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
