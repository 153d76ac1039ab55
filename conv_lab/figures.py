"""Static matplotlib pictures: the padded grid with its first window and the cells no window covers."""

from __future__ import annotations

import io
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch, Rectangle  # noqa: E402

from .shapes import explain  # noqa: E402
from .spec import ConvSpec, fmt  # noqa: E402

MAX_DRAWN_SIDE = 384  # larger grids show their top-left corner (where the first window is)
INPUT, PADDING, INSERTED, TAP, HOLE, UNCOVERED = range(6)
COLOURS = ["#cfe3f7", "#d5d5d5", "#ffffff", "#f39c12", "#fbe3c0", "#e74c3c"]
LABELS = ["input cell", "padding", "zero inserted (transposed)", "first window: kernel tap",
          "first window: dilation hole", "never covered by any window"]


def grid_categories(spec: ConvSpec, height: int, width: int) -> np.ndarray:
    """Category per cell of the grid the kernel slides over (see INPUT…UNCOVERED).

    >>> grid_categories(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6).shape
    (8, 8)
    """
    dims = explain(spec, (spec.in_channels, height, width)).dims
    if spec.transposed:
        return _transposed_categories(spec, dims)
    (top, bottom, left, right) = spec.pads()
    grid = np.full((height + top + bottom, width + left + right), PADDING, dtype=np.uint8)
    grid[top:top + height, left:left + width] = INPUT
    for axis, step in enumerate(dims):
        if step.uncovered:
            if axis == 0:
                grid[-step.uncovered:, :] = UNCOVERED
            else:
                grid[:, -step.uncovered:] = UNCOVERED
    _mark_first_window(spec, grid)
    return grid


def _transposed_categories(spec: ConvSpec, dims) -> np.ndarray:
    # The equivalent direct convolution: s−1 zeros between inputs, d·(k−1)−p padding each side,
    # output_padding extra at the bottom/right, then a stride-1 sweep (conv_arithmetic's view).
    sizes, offsets = [], []
    for step in dims:
        pad = step.dilation * (step.kernel - 1) - step.pad_before
        sizes.append(max(1, (step.size_in - 1) * step.stride + 1 + 2 * pad + step.output_padding))
        offsets.append(pad)
    grid = np.full(sizes, PADDING, dtype=np.uint8)
    (sh, sw), (h, w) = (spec.stride_hw, (dims[0].size_in, dims[1].size_in))
    inner = np.full(((h - 1) * sh + 1, (w - 1) * sw + 1), INSERTED, dtype=np.uint8)
    inner[::sh, ::sw] = INPUT
    r0, c0 = offsets
    # Negative padding crops the zero-inserted grid; clip both sides.
    src_r, src_c = max(0, -r0), max(0, -c0)
    dst_r, dst_c = max(0, r0), max(0, c0)
    nr = min(inner.shape[0] - src_r, sizes[0] - dst_r)
    nc = min(inner.shape[1] - src_c, sizes[1] - dst_c)
    if nr > 0 and nc > 0:
        grid[dst_r:dst_r + nr, dst_c:dst_c + nc] = inner[src_r:src_r + nr, src_c:src_c + nc]
    _mark_first_window(spec, grid)
    return grid


def _mark_first_window(spec: ConvSpec, grid: np.ndarray) -> None:
    eh, ew = spec.effective_kernel_hw
    (dh, dw) = spec.dilation_hw
    window = grid[:eh, :ew]
    window[:, :] = HOLE
    window[::dh, ::dw] = TAP


@lru_cache(maxsize=128)
def padded_grid_png(spec: ConvSpec, height: int, width: int, dpi: int = 90) -> tuple[bytes, str]:
    """PNG of the padded grid with the first window and the never-covered cells, plus a caption.

    >>> png, caption = padded_grid_png(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6)
    >>> png[:4] == b"\\x89PNG", caption.startswith("Padded input 8×8")
    (True, True)
    """
    grid = grid_categories(spec, height, width)
    full = grid.shape
    shown = grid[:MAX_DRAWN_SIDE, :MAX_DRAWN_SIDE]
    rows, cols = shown.shape
    side = 5.2
    fig = Figure(figsize=(side * min(1.6, max(0.6, cols / rows)), side), dpi=dpi)
    ax = fig.add_axes([0.02, 0.16, 0.96, 0.78])
    ax.imshow(shown, cmap=ListedColormap(COLOURS), vmin=0, vmax=len(COLOURS) - 1, interpolation="nearest")
    if max(rows, cols) <= 48:  # cell borders only while they are distinguishable
        ax.set_xticks(np.arange(-0.5, cols, 1), minor=True)
        ax.set_yticks(np.arange(-0.5, rows, 1), minor=True)
        ax.grid(which="minor", color="white", linewidth=0.8)
    eh, ew = spec.effective_kernel_hw
    ax.add_patch(Rectangle((-0.5, -0.5), ew, eh, fill=False, edgecolor="#b35900", linewidth=2.2))
    ax.tick_params(which="both", length=0, labelsize=7)
    ax.set_xticks([]), ax.set_yticks([])
    present = sorted(set(np.unique(shown).tolist()))
    fig.legend(handles=[Patch(facecolor=COLOURS[c], edgecolor="#999999", label=LABELS[c]) for c in present], loc="lower center",
               ncol=3, fontsize=8, frameon=False)
    kind = "zero-inserted and padded input" if spec.transposed else "Padded input"
    caption = f"{kind} {fmt(full)}" + (f" (top-left {fmt(shown.shape)} shown)" if shown.shape != full else "")
    if not spec.transposed:
        top, bottom, left, right = spec.pads()
        caption += f" = {height}×{width} input + padding {top}/{bottom} rows, {left}/{right} columns ({spec.padding_mode})"
    caption += f"; first {fmt(spec.kernel_hw)} window" + (f" dilated to {fmt((eh, ew))}" if (eh, ew) != spec.kernel_hw else "")
    fig.suptitle(caption.split(" = ")[0].split(";")[0], fontsize=9, y=0.985)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue(), caption
