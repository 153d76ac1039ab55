"""Sweep animation speed: the stock matplotlib path (FuncAnimation + to_jshtml) vs Conv Lab's composited frames.

Run: MPLBACKEND=Agg python benchmarks/animation.py [--stock-64]
Prints time, bytes and ratios on the same frames, measured in one run on this machine.
Targets (issue #4): 25 frames ≤ 0.5 s; 256 frames ≤ 3 s and ≤ 2 MB; one step ≤ 50 ms; ≥ 20× faster than stock.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from matplotlib.animation import FuncAnimation  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.sweep.animate import SweepAnimation, describe  # noqa: E402
from conv_lab.sweep.data import SweepRequest, build_sweep, fmt_number, step_lines  # noqa: E402
from conv_lab.sweep.drawing import DPI, HEIGHT, WIDTH, glyph_alpha  # noqa: E402
from conv_lab.sweep.steps import region_for  # noqa: E402


def stock_jshtml(request: SweepRequest) -> tuple[float, int, int]:
    """The usual way: FuncAnimation updating artists (cell texts included) per frame, saved with to_jshtml()."""
    import matplotlib.pyplot as plt

    sweep = build_sweep(request)
    start = time.perf_counter()
    fig = plt.figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    ax_in = fig.add_axes((0.02, 0.2, 0.5, 0.7))
    ax_out = fig.add_axes((0.57, 0.5, 0.27, 0.4))
    rows, cols = sweep.grid.shape[1:]
    ho, wo = sweep.out_shape
    ax_in.imshow(sweep.kinds, cmap="Blues", vmin=0, vmax=4)
    for r in range(rows):
        for c in range(cols):
            ax_in.text(c, r, fmt_number(sweep.grid[0, r, c], "int"), ha="center", va="center")
    values = sweep.values()
    out_image = ax_out.imshow(np.zeros((ho, wo)), cmap="Greens", vmin=0, vmax=1)
    out_texts = [[ax_out.text(c, r, "", ha="center", va="center") for c in range(wo)] for r in range(ho)]
    kh, kw = sweep.kernel_hw
    window = ax_in.add_patch(Rectangle((-0.5, -0.5), kw, kh, fill=False, lw=3, edgecolor="#7a2e00"))
    text = fig.text(0.02, 0.02, "", family="monospace", fontsize=12, va="bottom")
    done = np.zeros((ho, wo))

    def update(t):
        row, col = divmod(t, wo)
        r0, c0 = sweep.window_origin(row, col)
        window.set_xy((c0 - 0.5, r0 - 0.5))
        done[row, col] = 1
        out_image.set_data(done)
        out_texts[row][col].set_text(fmt_number(values[row, col], "int"))
        text.set_text("\n".join(step_lines(sweep, t, "int")))
        return [window, out_image, text]

    animation = FuncAnimation(fig, update, frames=len(sweep), interval=250, blit=True)
    html = animation.to_jshtml()
    plt.close(fig)
    return time.perf_counter() - start, len(html.encode()), len(sweep)


def ours(request: SweepRequest, gif: bool = False) -> tuple[float, int, SweepAnimation]:
    """Conv Lab: build the layers, the player page (and the GIF when asked), uncached."""
    sweep = build_sweep(request)
    start = time.perf_counter()
    animation = SweepAnimation(sweep, region_for(sweep, 0, 0), request.values, 0, describe(request))
    html = animation.player_html()
    size = len(html.encode())
    if gif:
        size = len(animation.gif_bytes)
    return time.perf_counter() - start, size, animation


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stock-64", action="store_true", help="also time the stock path on 64 frames (~1 min)")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    small = SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1)))
    medium = SweepRequest(LabConfig(1, 8, 8, 1, padding=(1, 1)))
    big = SweepRequest(LabConfig(1, 16, 16, 1, padding=(1, 1)))
    cold_start = time.perf_counter()
    glyph_alpha.cache_clear()
    ours(small)
    print(f"first sweep in this process (fonts, glyph atlas): {time.perf_counter() - cold_start:.2f} s")

    print("\n== 25 frames (5×5, k3, p1) ==")
    stock_t, stock_bytes, n = stock_jshtml(small)
    print(f"stock FuncAnimation + to_jshtml : {stock_t:7.2f} s  {stock_bytes / 1e6:6.2f} MB  ({n} frames)")
    runs = [ours(small) for _ in range(args.repeats)]
    times = [r[0] for r in runs]
    print(f"Conv Lab player page            : p50 {pct(times, 50):.3f} s  p95 {pct(times, 95):.3f} s  "
          f"{runs[0][1] / 1e6:6.2f} MB   (target ≤ 0.5 s)")
    gif_runs = [ours(small, gif=True) for _ in range(args.repeats)]
    p50 = pct([r[0] for r in gif_runs], 50)
    print(f"Conv Lab player + GIF           : p50 {p50:.3f} s  GIF {gif_runs[0][1] / 1e6:.2f} MB")
    print(f"ratio stock / Conv Lab          : {stock_t / pct(times, 50):.0f}× faster, "
          f"{stock_bytes / runs[0][1]:.1f}× smaller (target ≥ 20×)")

    if args.stock_64:
        print("\n== 64 frames (8×8, k3, p1) ==")
        stock_t, stock_bytes, n = stock_jshtml(medium)
        t64 = [ours(medium)[0] for _ in range(args.repeats)]
        print(f"stock {stock_t:.2f} s {stock_bytes / 1e6:.2f} MB; Conv Lab p50 {pct(t64, 50):.3f} s; "
              f"ratio {stock_t / pct(t64, 50):.0f}×")

    print("\n== 256 frames (16×16, k3, p1) ==")
    runs = [ours(big) for _ in range(args.repeats)]
    times = [r[0] for r in runs]
    print(f"Conv Lab player page            : p50 {pct(times, 50):.3f} s  p95 {pct(times, 95):.3f} s  "
          f"{runs[0][1] / 1e6:.2f} MB   (target ≤ 3 s, ≤ 2 MB)")
    gif_runs = [ours(big, gif=True) for _ in range(max(2, args.repeats // 2))]
    print(f"Conv Lab player + GIF           : p50 {pct([r[0] for r in gif_runs], 50):.3f} s  GIF "
          f"{gif_runs[0][1] / 1e6:.2f} MB")
    animation = runs[0][2]
    steps = []
    for t in range(0, len(animation), 3):
        start = time.perf_counter()
        animation.frame_png(t)
        steps.append((time.perf_counter() - start) * 1000)
    print(f"one step as PNG (composite+encode): p50 {pct(steps, 50):.1f} ms  p95 {pct(steps, 95):.1f} ms  "
          f"(target ≤ 50 ms)")
    print("(stock path on 256 frames not run: measured ~140 s and 21 MB here, see RECIPES.md)")
    rerun_section(args.repeats)


def unpacked_page_bytes(animation: SweepAnimation) -> int:
    """Bytes of the earlier page encoding: every layer whole, frames as plain JSON with positioned text lines."""
    import json

    from conv_lab.render.data_uri import png_data_uri

    frames = [[[v for copy in ops.copies for v in copy], [list(text) for text in ops.texts]]
              for ops in (animation.frame_ops(t) for t in range(len(animation)))]
    layers = sum(len(png_data_uri(animation.layer_png(i))) for i in range(len(animation.layers)))
    return layers + len(json.dumps(frames, separators=(",", ":"))) + 4_000


def rerun_section(repeats: int) -> None:
    """Issue #9: what a sweep rerun costs when the configuration did not change, and what it sends."""
    from conv_lab.sweep.player_page import player_page
    from conv_lab.sweep.service import sweep_player

    print("\n== a sweep rerun, configuration unchanged (issue #9; default layer 3×32×32, 901 frames) ==")
    request = SweepRequest(LabConfig())
    sweep = build_sweep(request)
    animation = SweepAnimation(sweep, region_for(sweep, 0, 0), request.values, 0, describe(request))
    rebuilt, cached = [], []
    for t in range(repeats):
        start = time.perf_counter()
        player_page(animation).html(t, 4)  # what every rerun did before: rebuild the frame data
        rebuilt.append((time.perf_counter() - start) * 1000)
        start = time.perf_counter()
        animation.player_html(t, 4)  # now: the page is built once per animation, start and speed filled in
        cached.append((time.perf_counter() - start) * 1000)
    print(f"player page rebuilt per rerun     : p50 {pct(rebuilt, 50):.1f} ms; cached page: p50 {pct(cached, 50):.2f} ms"
          f" ({pct(rebuilt, 50) / max(pct(cached, 50), 1e-3):.0f}× less)")
    before, after = unpacked_page_bytes(animation), len(animation.player_html().encode())
    print(f"player page size                  : {before / 1e3:.0f} KB as before → {after / 1e3:.0f} KB "
          f"(band-only layers, deflated frames)")
    start = time.perf_counter()
    player = sweep_player(request)
    cold = time.perf_counter() - start
    start = time.perf_counter()
    sweep_player(request).player_html(5, 4)
    warm = (time.perf_counter() - start) * 1000
    print(f"render worker: first render {cold:.2f} s (starts the process), repeat {warm:.2f} ms from the cache; "
          f"same page as in process: {player.player_html(5, 4) == animation.player_html(5, 4)}")


if __name__ == "__main__":
    main()
