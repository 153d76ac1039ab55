"""Time the /matrix page's work per config: cold (nothing cached), a new cell on a cached layer, and a repeat.

    python benchmarks/matrix_page.py                      # the page's work in conv_lab (numbers + five PNGs)
    python benchmarks/matrix_page.py --page               # also the whole page script, run by AppTest
    python benchmarks/matrix_page.py --before /tmp/old    # also the same work in an older checkout, side by side

For --before, unpack the version to compare with, e.g. `git archive <commit> | tar -x -C /tmp/old` for the commit
before the raster pictures (the first /matrix page: matplotlib, nothing cached but the example run). Its page work
is replayed with that version's own functions. Prints p50/p95 and the before/after ratios of the p50s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

from conv_lab.core.spec import ConvSpec  # noqa: E402
from conv_lab.matrix import pictures  # noqa: E402

CONFIGS = {  # name: (spec, height, width, URL query of the same page)
    "1x4x4 k3": (ConvSpec(1, 1, 3), 4, 4, "input=1x4x4&filters=1&kernel=3&stride=1&padding=0"),
    "1x5x5 k3 s2 p1": (ConvSpec(1, 1, 3, stride=2, padding=1), 5, 5,
                       "input=1x5x5&filters=1&kernel=3&stride=2&padding=1"),
    "3x7x7 16 filters (C 400×147)": (ConvSpec(3, 16, 3), 7, 7, "input=3x7x7&filters=16&kernel=3&stride=1&padding=0"),
    "transposed 1x3x3 k3 s2 p1 op1": (ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True, output_padding=1), 3, 3,
                                      "input=1x3x3&filters=1&kernel=3&stride=2&padding=1&transposed=1&output_padding=1"),
}


def page_work(choice: pictures.MatrixChoice) -> int:
    """What the page computes for one choice: the cached bundle and its five pictures; returns the PNG bytes."""
    bundle = choice.bundle
    bundle.nonzero(choice.padded)
    pngs = (pictures.window_picture(choice), pictures.matrix_picture(choice), pictures.product_picture(choice),
            pictures.pair_picture(choice), pictures.im2col_picture(choice))
    return sum(len(png) for png in pngs)


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return 1000 * statistics.median(times), 1000 * times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]


def measure_after(spec: ConvSpec, h: int, w: int, repeats: int) -> dict[str, tuple[float, float]]:
    """Cold (caches cleared), new cell (layer cached, pictures not), repeat (everything cached)."""
    choice = pictures.MatrixChoice(spec, h, w, whole=choice_whole(spec, h, w))
    cold, new_cell, repeat = [], [], []
    geom = choice.geom
    cells = [(i, j) for i in range(geom.out_hw[0]) for j in range(geom.out_hw[1])]
    for k in range(repeats):
        pictures.cache_clear()
        start = time.perf_counter()
        page_work(choice)
        cold.append(time.perf_counter() - start)
        moved = pictures.MatrixChoice(spec, h, w, whole=choice.whole, cell=cells[(k + 1) % len(cells)])
        start = time.perf_counter()
        page_work(moved)
        new_cell.append(time.perf_counter() - start)
        start = time.perf_counter()
        page_work(choice)  # back to the first cell: a repeat
        repeat.append(time.perf_counter() - start)
    return {"cold": _stats(cold), "new cell": _stats(new_cell), "repeat": _stats(repeat)}


def choice_whole(spec: ConvSpec, h: int, w: int) -> bool:
    """The page's default: the whole C when it fits the drawing cap."""
    return pictures.MatrixChoice(spec, h, w).geom.fits()


BEFORE_SCRIPT = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
from conv_lab.matrix.geometry import geometry, tap_ids
from conv_lab.matrix.figures import Panel, grid_labels, matrix_png, pair_png, product_png, window_png
from conv_lab.matrix.run import im2col, matrix_example, transpose_check
from conv_lab.matrix.text import kernel_for
from conv_lab.core.spec import ConvSpec
import numpy as np

def page(spec, h, w):  # what the first /matrix page did per run (default options: cell (0,0), filter 0, channel 0)
    geom = geometry(spec, h, w); d = geom.direct; (ho, wo) = geom.out_hw
    ex = matrix_example(spec, h, w)
    taps, values = tap_ids(geom, False), ex.matrix
    n = d.kernel_hw[0] * d.kernel_hw[1]
    window_png(geom, (0, 0), kernel_for(geom, ex.weight, 0, 0), padded=False)
    matrix_png(taps, values, n, title="C", row_labels=grid_labels((ho, wo), d.out_channels, "f"),
               col_labels=grid_labels(geom.grid_hw, d.in_channels), rows=[0], row_blocks=ho * wo,
               col_blocks=geom.grid_hw[0] * geom.grid_hw[1])
    flat_y = (ex.y_matrix - ex.bias[:, None, None]).reshape(-1, 1)
    product_png([Panel("C", ex.matrix, tap_ids(geom), rows=(0,)), Panel("x", ex.x.reshape(-1, 1),
                 rows=tuple(np.nonzero(ex.matrix[0])[0])), Panel("C·x", flat_y, rows=(0,))], n)
    pair_png(taps, values, n, row_blocks=ho * wo, col_blocks=geom.grid_hw[0] * geom.grid_hw[1], rows=[0])
    transpose_check(ex)
    r = im2col(ex)
    ft = np.where(r.filters != 0, np.arange(r.filters.shape[1]) % n, -1)
    product_png([Panel("filter matrix", r.filters, ft, rows=(0,)), Panel("patches (unfold)", r.patches, cols=(0,)),
                 Panel("output", r.product.reshape(d.out_channels, -1), cols=(0,))], n)

configs, repeats = json.loads(sys.argv[2]), int(sys.argv[3])
page(ConvSpec(1, 1, 3), 4, 4)  # warm-up: imports, fonts
out = {}
for name, (kwargs, h, w) in configs.items():
    cold, repeat = [], []
    for _ in range(repeats):
        matrix_example.cache_clear()
        t = time.perf_counter(); page(ConvSpec(**kwargs), h, w); cold.append(time.perf_counter() - t)
        t = time.perf_counter(); page(ConvSpec(**kwargs), h, w); repeat.append(time.perf_counter() - t)
    out[name] = {"cold": cold, "repeat": repeat}
print(json.dumps(out))
"""


def measure_before(path: str, repeats: int) -> dict[str, dict[str, tuple[float, float]]]:
    """The same page work in an older checkout (a subprocess with that checkout first on sys.path)."""
    configs = {name: (_spec_kwargs(spec), h, w) for name, (spec, h, w, _) in CONFIGS.items()}
    done = subprocess.run([sys.executable, "-c", BEFORE_SCRIPT, path, json.dumps(configs), str(repeats)],
                          capture_output=True, text=True, cwd=path, env={**os.environ, "MPLBACKEND": "Agg"})
    if done.returncode:
        raise SystemExit(f"the --before run failed:\n{done.stderr[-3000:]}")
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    return {name: {kind: _stats(times) for kind, times in kinds.items()} for name, kinds in raw.items()}


def _spec_kwargs(spec: ConvSpec) -> dict:
    return {"in_channels": spec.in_channels, "out_channels": spec.out_channels, "kernel_size": spec.kernel_size,
            "stride": spec.stride, "padding": spec.padding, "transposed": spec.transposed,
            "output_padding": spec.output_padding}


def measure_page(query: str, repeats: int) -> dict[str, tuple[float, float]]:
    """The whole /matrix script in AppTest: cold (conv_lab caches cleared) and a repeat of the same URL."""
    import logging

    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)  # bare mode
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/matrix.py")
    for part in query.split("&"):
        key, value = part.split("=")
        at.query_params[key] = value
    at.run()  # warm-up: imports, session state
    cold, repeat = [], []
    for _ in range(repeats):
        pictures.cache_clear()
        start = time.perf_counter()
        at.run()
        cold.append(time.perf_counter() - start)
        start = time.perf_counter()
        at.run()
        repeat.append(time.perf_counter() - start)
        assert not at.exception and len(at.get("image")) == 5
    return {"page cold": _stats(cold), "page repeat": _stats(repeat)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--page", action="store_true", help="also time the whole page script in AppTest")
    parser.add_argument("--before", help="an older checkout to time side by side (see the module docstring)")
    args = parser.parse_args()
    page_work(pictures.MatrixChoice(ConvSpec(1, 1, 3), 4, 4))  # warm-up: imports, fonts
    before = measure_before(args.before, args.repeats) if args.before else {}
    print(f"/matrix page work, n={args.repeats} per cell, ms (p50 / p95); targets: new < 500 p50, repeat < 100")
    for name, (spec, h, w, query) in CONFIGS.items():
        after = measure_after(spec, h, w, args.repeats)
        if args.page:
            after.update(measure_page(query, args.repeats))
        line = "  ".join(f"{kind} {p50:6.1f} / {p95:6.1f}" for kind, (p50, p95) in after.items())
        print(f"{name:31s} after:  {line}")
        if name in before:
            old = before[name]
            print(f"{'':31s} before: " + "  ".join(f"{kind} {p50:6.1f} / {p95:6.1f}" for kind, (p50, p95) in old.items())
                  + f"   ratio cold {old['cold'][0] / after['cold'][0]:.1f}×, repeat "
                  f"{old['repeat'][0] / after['repeat'][0]:.0f}×")


if __name__ == "__main__":
    main()
