"""What each cell of the padded grid is (input, padding, inserted zero, first window, never covered).

The picture itself is drawn by `conv_lab.lab.grid_picture` straight into pixels: under classroom load a matplotlib
figure per new configuration (40-76 ms holding the interpreter lock) was the Shape Lab's largest cost.
"""

from __future__ import annotations

import numpy as np

from conv_lab.core.grid import INPUT, INSERTED, PADDING, grid_kinds  # noqa: F401 (INPUT, PADDING: kinds drawn)
from conv_lab.core.shapes import explain
from conv_lab.core.spec import ConvSpec

MAX_DRAWN_SIDE = 384  # larger grids show their top-left corner (where the first window is)
TAP, HOLE, UNCOVERED = INSERTED + 1, INSERTED + 2, INSERTED + 3  # after the grid's own kinds (core.grid)
OUTSIDE, BEYOND = UNCOVERED + 1, UNCOVERED + 2  # an impossible layer's kernel sticking out of the grid
COLOURS = ["#cfe3f7", "#d5d5d5", "#ffffff", "#f39c12", "#fbe3c0", "#e74c3c", "#8e2a1f", "#f4f4f4"]
LABELS = ["input cell", "padding", "zero inserted (transposed)", "first window: kernel tap",
          "first window: dilation hole", "never covered by any window", "kernel tap with no input under it",
          "beyond the padded input"]


def grid_categories(spec: ConvSpec, height: int, width: int, max_side: int | None = None) -> np.ndarray:
    """Category per cell of the grid the kernel slides over (see INPUT…UNCOVERED), or of its top-left max_side ×
    max_side corner: a picture shows no more, and built whole the zero-inserted grid of a transposed layer on a
    512×512 input (stride 8: ~17 M cells) cost the picture worker 0.26 s (issue 17).

    >>> grid_categories(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6).shape
    (8, 8)
    >>> grid_categories(ConvSpec(1, 1, 3, stride=2, padding=1), 6, 6, max_side=5).shape
    (5, 5)
    """
    dims = explain(spec, (spec.in_channels, height, width)).dims
    grid = grid_kinds(spec, height, width, max_side)
    if not spec.transposed:  # a transposed conv's stride-1 sweep covers its whole grid
        for axis, step in enumerate(dims):
            if step.uncovered:  # the whole grid's trailing cells: in the corner only when it reaches them
                start = step.padded - step.uncovered
                if axis == 0:
                    grid[start:, :] = UNCOVERED
                else:
                    grid[:, start:] = UNCOVERED
    _mark_first_window(spec, grid)
    return grid


def _mark_first_window(spec: ConvSpec, grid: np.ndarray) -> None:
    """Taps and holes of the first window; a tap past the padded input (an impossible layer) is OUTSIDE."""
    (eh, ew), (dh, dw) = spec.effective_kernel_hw, spec.dilation_hw
    window = grid[:eh, :ew]
    inside = window != BEYOND
    window[inside & (window != PADDING)] = HOLE  # a hole over padding stays padding: a causal strip shows its left zeros
    taps = np.zeros_like(inside)
    taps[::dh, ::dw] = True
    window[taps & inside] = TAP
    window[taps & ~inside] = OUTSIDE


def overhang_categories(spec: ConvSpec, height: int, width: int) -> np.ndarray:
    """The padded grid with a too-large first window drawn where it would lie, sticking out past the grid.

    >>> overhang_categories(ConvSpec(1, 1, 3), 2, 2)[:, 2].tolist()  # 6: a tap with no input under it
    [6, 6, 6]
    """
    kinds = grid_kinds(spec, height, width)
    eh, ew = spec.effective_kernel_hw
    grid = np.full((max(eh, kinds.shape[0]), max(ew, kinds.shape[1])), BEYOND, np.uint8)
    grid[:kinds.shape[0], :kinds.shape[1]] = kinds
    _mark_first_window(spec, grid)
    return grid
