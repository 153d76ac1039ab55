"""Where one cell of a feature map looked: its window on the input, from the one receptive-field walk in core (issue
14: "click a map cell, see the patch of the image it saw")."""

from __future__ import annotations

from dataclasses import dataclass

from conv_lab.core.params import LayerSpec
from conv_lab.core.receptive import ReceptiveField, receptive_field


@dataclass(frozen=True)
class CellPatch:
    """The input rows and columns one map cell read: [start, stop), unclipped (may reach into the padding)."""

    cell: tuple[int, int]
    rows: tuple[int, int]
    cols: tuple[int, int]
    input_hw: tuple[int, int]

    @property
    def clipped(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The rows and columns of the box that are real input cells."""
        return ReceptiveField(*zip(self.rows, self.cols), jump=(1, 1)).clipped(self.input_hw)

    @property
    def outside(self) -> int:
        """How many cells of the box are padding (outside the input)."""
        (r0, r1), (c0, c1) = self.clipped
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0]) - (r1 - r0) * (c1 - c0)

    def text(self, padding_mode: str = "zeros") -> str:
        """The patch in words.

        >>> cell_patch(ConvSpec(1, 1, 3, padding=1), (8, 8), (0, 5)).text()
        'cell (0, 5) read input rows −1 to 1 × columns 4 to 6 (3×3 cells; 3 of them padding zeros)'
        """
        (a, b), (c, d) = self.rows, self.cols

        def span(lo: int, hi: int) -> str:
            return f"{lo}".replace("-", "−") + f" to {hi - 1}".replace("-", "−")

        padding = (f"; {self.outside} of them padding " + ("zeros" if padding_mode == "zeros" else f"({padding_mode} "
                   "copies of input cells)")) if self.outside else ""
        return (f"cell {self.cell} read input rows {span(a, b)} × columns {span(c, d)} ({b - a}×{d - c} cells"
                f"{padding})")


def cell_patch(spec: LayerSpec, input_hw: tuple[int, int], cell: tuple[int, int]) -> CellPatch:
    """The window of map cell `cell` (row, column) of a 2-D layer on an input of `input_hw`.

    >>> cell_patch(ConvSpec(3, 8, 5, stride=2), (32, 32), (3, 4)).rows
    (6, 11)
    """
    rf = receptive_field([spec], (spec.in_channels, *input_hw), cell)
    return CellPatch(tuple(int(v) for v in cell), (rf.start[0], rf.stop[0]), (rf.start[1], rf.stop[1]),
                     tuple(input_hw))
