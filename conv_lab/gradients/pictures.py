"""The overlap map of a transposed layer as a PNG: each output cell coloured by how many windows write it."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

MAX_LABELLED = 24  # cells a side that still get their count written in them


def overlap_png(counts: np.ndarray, title: str = "") -> bytes:
    """A heat map of the counts (a 1-D layer is one row; a 3-D layer its first depth slice), numbers when small.

    >>> overlap_png(np.array([[1, 2], [2, 4]]))[:4]
    b'\\x89PNG'
    """
    grid = counts.reshape(1, -1) if counts.ndim == 1 else counts if counts.ndim == 2 else counts[0]
    rows, cols = grid.shape
    fig = Figure(figsize=(min(9.0, 1.5 + cols * 0.35), min(6.0, 1.2 + rows * 0.35)), dpi=100)
    ax = fig.subplots()
    image = ax.imshow(grid, cmap="viridis", vmin=0, interpolation="nearest")
    if max(rows, cols) <= MAX_LABELLED:
        top = grid.max() or 1
        for (r, c), value in np.ndenumerate(grid):
            ax.text(c, r, str(int(value)), ha="center", va="center", fontsize=8,
                    color="black" if value > top * 0.6 else "white")
    ax.set_xticks([])
    ax.set_yticks([])
    fig.colorbar(image, ax=ax, shrink=0.8, label="windows writing the cell")
    ax.set_title(title, fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
