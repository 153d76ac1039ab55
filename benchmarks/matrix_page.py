"""Time the /matrix page's work (C, the real run, Cᵀ check, im2col and the five PNGs) for a few configs; prints p50/p95."""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from conv_lab.matrix import geometry, is_padding_column, tap_ids  # noqa: E402
from conv_lab.matrix_figures import Panel, matrix_png, pair_png, product_png, window_png  # noqa: E402
from conv_lab.matrix_run import im2col, matrix_example, transpose_check  # noqa: E402
from conv_lab.spec import ConvSpec  # noqa: E402

CONFIGS = {
    "1x4x4 k3": (ConvSpec(1, 1, 3), 4, 4),
    "1x5x5 k3 s2 p1": (ConvSpec(1, 1, 3, stride=2, padding=1), 5, 5),
    "3x7x7 16 filters (C 400×147)": (ConvSpec(3, 16, 3), 7, 7),
    "transposed 1x3x3 k3 s2 p1 op1": (ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True, output_padding=1), 3, 3),
}


def page_work(spec: ConvSpec, h: int, w: int) -> None:
    """Everything the page computes and draws, without the cache."""
    matrix_example.cache_clear()
    geom = geometry(spec, h, w)
    ex = matrix_example(spec, h, w)
    taps = tap_ids(geom, True)
    n = spec.kernel_hw[0] * spec.kernel_hw[1]
    window_png(geom, (0, 0), ex.weight[0, 0], padded=True)
    matrix_png(taps, ex.padded_matrix, n, title="C", grey_cols=is_padding_column(geom), rows=[0])
    product_png([Panel("C", ex.matrix, tap_ids(geom)), Panel("x", ex.x.reshape(-1, 1)),
                 Panel("y", ex.y_matrix.reshape(-1, 1))], n)
    pair_png(taps, ex.padded_matrix, n, rows=[0])
    transpose_check(ex)
    r = im2col(ex)
    product_png([Panel("W", r.filters), Panel("P", r.patches), Panel("Y", r.product.reshape(r.filters.shape[0], -1))], n)


def main(repeats: int = 7) -> None:
    page_work(*CONFIGS["1x4x4 k3"])  # warm-up (imports, fonts)
    for name, (spec, h, w) in CONFIGS.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            page_work(spec, h, w)
            times.append(time.perf_counter() - start)
        times.sort()
        p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
        print(f"{name:34s} p50 {1000 * statistics.median(times):7.0f} ms   p95 {1000 * p95:7.0f} ms   (n={repeats})")


if __name__ == "__main__":
    main()
