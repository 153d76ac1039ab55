"""What each cell of the padded grid is (input, padding, inserted zero, first window, never covered).

The picture itself is drawn by `conv_lab.lab.grid_picture` straight into pixels: under classroom load a matplotlib
figure per new configuration (40-76 ms holding the interpreter lock) was the Shape Lab's largest cost.
"""

from __future__ import annotations

import numpy as np

from conv_lab.core.shapes import explain
from conv_lab.core.spec import ConvSpec

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
