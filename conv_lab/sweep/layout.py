"""Where a sweep animation's cells sit: a grid of square whole-pixel cells, and a long 1-D strip wrapped like text.

A strip whose cells would be thinner than `MIN_STRIP_CELL` pixels in one line is folded into lines of equal
length (the last one shorter), so a 1-D sweep over a long signal stays readable; every rectangle the frames
copy (a window, a tap, an output cell) is split at the line ends. A 2-D grid (or a short strip) is one block.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from conv_lab.sweep.drawing import add_cells, cell_edges, fit_cells, ink_spots, label_coverage, recolour_cells

MIN_STRIP_CELL = 24  # pixels: a strip with thinner cells in one line is wrapped


def _fold(box: tuple[int, int, int, int], cols: int, max_cell: int) -> int:
    """Cells per line of a strip of `cols` cells in `box`: all of them when they fit MIN_STRIP_CELL wide."""
    _, _, w, h = box
    if min(max_cell, w // cols) >= MIN_STRIP_CELL:
        return cols
    per_line = max(1, w // MIN_STRIP_CELL)
    if -(-cols // per_line) * (w // per_line) <= h:
        return per_line
    return max(range(1, cols + 1), key=lambda f: (min(w // f, h // -(-cols // f)), f))  # the biggest cells


class CellGrid:
    """rows×cols cells placed in a box (a strip of one row wrapped when long): rectangles, drawing, recolouring.

    >>> g = CellGrid((0, 0, 100, 100), 1, 40, 50); g.fold, g.lines, g.rects(0, 5, 1, 9)
    (7, 6, [(71, 0, 99, 14), (1, 14, 29, 28)])
    """

    def __init__(self, box: tuple[int, int, int, int], rows: int, cols: int, max_cell: int):
        self.rows, self.cols = rows, cols
        self.fold = _fold(box, cols, max_cell) if rows == 1 else cols
        self.lines = -(-cols // self.fold) if rows == 1 else rows
        self.box = fit_cells(box, self.lines, self.fold, max_cell)
        x, y, w, h = self.box
        self.xs, self.ys = cell_edges(x, w, self.fold), cell_edges(y, h, self.lines)

    @property
    def folded(self) -> bool:
        """True when a strip is wrapped over several lines."""
        return self.rows == 1 and self.lines > 1

    def rects(self, r0: int, c0: int, r1: int, c1: int) -> list[tuple[int, int, int, int]]:
        """Pixel rectangles (x0, y0, x1, y1) of the cells rows r0…r1−1 × cols c0…c1−1 (split at a strip's line ends)."""
        xs, ys, f = self.xs, self.ys, self.fold
        if not self.folded:
            return [(int(xs[c0]), int(ys[r0]), int(xs[c1]), int(ys[r1]))]
        return [(int(xs[max(c0, n * f) - n * f]), int(ys[n]), int(xs[min(c1, (n + 1) * f) - n * f]), int(ys[n + 1]))
                for n in range(c0 // f, (c1 - 1) // f + 1)]

    def _lines(self, values: np.ndarray) -> list:
        """A rows×cols array as the drawn lines (a strip cut every `fold` cells)."""
        if not self.folded:
            return list(values)
        return [values[0, n * self.fold:(n + 1) * self.fold] for n in range(self.lines)]

    def draw(self, fig: Figure, fills: np.ndarray) -> None:
        """The cells (palette index each) with their border lines."""
        if not self.folded:
            add_cells(fig, self.xs, self.ys, fills)
            return
        for n, line in enumerate(self._lines(fills)):
            add_cells(fig, self.xs[:len(line) + 1], self.ys[n:n + 2], line[None, :])

    def recolour(self, canvas: np.ndarray, fill: str) -> None:
        """Every cell of an index canvas in `fill` (border lines stay)."""
        for x0, y0, x1, y1 in self.rects(0, 0, self.rows, self.cols):
            recolour_cells(canvas, np.array([x0, x1]), np.array([y0, y1]), fill)

    def ink(self, labels: list[list[str]]):
        """The ink spots of one label per cell (None when the cells are too small for text)."""
        lines = self._lines(np.array(labels, dtype=object).reshape(self.rows, self.cols))
        return ink_spots(label_coverage([list(line) for line in lines], self.xs, self.ys))
