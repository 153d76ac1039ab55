"""A small raster canvas for the matrix pictures: numpy paints cells and lines, Pillow draws text, then PNG.

matplotlib spent ~1 s per page on five pictures (mostly one Text artist per number). These pictures
are grids of flat-coloured cells, so they are painted straight into a pixel array (a few ms), and the
numbers are drawn with Pillow in the same DejaVu Sans font matplotlib ships (~0.05 ms each; `render.fonts`).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw

from conv_lab.render.colors import rgb8
from conv_lab.render.fonts import font, text_width

BLACK = (0, 0, 0)


def edges(start: float, count: int, cell: float) -> np.ndarray:
    """Pixel edges of `count` cells of `cell` px from `start` (fractional sizes rounded consistently).

    >>> edges(10, 3, 2.5).tolist()
    [10, 12, 15, 18]
    """
    return np.rint(start + cell * np.arange(count + 1)).astype(int)


@dataclass(frozen=True)
class GridBox:
    """Where a grid of cells sits on the canvas: pixel edges of its rows and columns."""

    row_edges: np.ndarray
    col_edges: np.ndarray

    @property
    def box(self) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels."""
        return int(self.col_edges[0]), int(self.row_edges[0]), int(self.col_edges[-1]), int(self.row_edges[-1])

    def centre(self, r: int, c: int) -> tuple[float, float]:
        """Pixel centre of cell (r, c)."""
        return (self.col_edges[c] + self.col_edges[c + 1]) / 2, (self.row_edges[r] + self.row_edges[r + 1]) / 2


class Canvas:
    """RGB pixels painted with numpy, text queued and drawn by Pillow at the end (text stays on top)."""

    def __init__(self, width: int, height: int):
        self.pixels = np.full((max(1, int(np.ceil(height))), max(1, int(np.ceil(width))), 3), 255, dtype=np.uint8)
        self._texts: list[tuple] = []

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self.pixels.shape[1], self.pixels.shape[0]

    def fill(self, left: float, top: float, right: float, bottom: float, colour) -> None:
        """Fill a rectangle (pixel coordinates, right/bottom exclusive)."""
        self.pixels[max(0, int(top)):max(0, int(bottom)), max(0, int(left)):max(0, int(right))] = rgb8(colour)

    def frame(self, left: float, top: float, right: float, bottom: float, colour="black", width: int = 3) -> None:
        """A rectangle outline `width` px thick, centred on the given edges."""
        half, rest = width // 2, width - width // 2
        for x0, y0, x1, y1 in ((left - half, top - half, right + rest, top + rest),
                               (left - half, bottom - half, right + rest, bottom + rest),
                               (left - half, top - half, left + rest, bottom + rest),
                               (right - half, top - half, right + rest, bottom + rest)):
            self.fill(x0, y0, x1, y1, colour)

    def cells(self, colours: np.ndarray, left: float, top: float, cell: float, line=None,
              line_width: int = 1) -> GridBox:
        """Paint an (h, w, 3) array of 0–1 colours as cells of `cell` px; thin lines between them when `line`."""
        h, w = colours.shape[:2]
        grid = GridBox(edges(top, h, cell), edges(left, w, cell))
        rows, cols = np.diff(grid.row_edges), np.diff(grid.col_edges)
        block = np.repeat(np.repeat(np.rint(colours * 255).astype(np.uint8), rows, axis=0), cols, axis=1)
        x0, y0, x1, y1 = grid.box
        self.pixels[y0:y1, x0:x1] = block
        if line is not None:
            self.lines(grid, line, line_width)
        return grid

    def lines(self, grid: GridBox, colour, width: int = 1, row_edges=None, col_edges=None) -> None:
        """Lines along the given row and column edge indices of a grid (None: every edge, the outer ones too)."""
        x0, y0, x1, y1 = grid.box
        rgb, half = rgb8(colour), width // 2
        ys = grid.row_edges if row_edges is None else grid.row_edges[list(row_edges)]
        xs = grid.col_edges if col_edges is None else grid.col_edges[list(col_edges)]
        for y in ys:
            self.pixels[max(0, y - half):y - half + width, max(0, x0 - half):x1 + width - half] = rgb
        for x in xs:
            self.pixels[max(0, y0 - half):y1 + width - half, max(0, x - half):x - half + width] = rgb

    def text(self, x: float, y: float, text: str, px: int, colour=BLACK, anchor: str = "mm",
             vertical: bool = False) -> None:
        """Queue text at (x, y); `anchor` as in Pillow ('mm' centre, 'lm' left-middle...); vertical reads upwards."""
        self._texts.append((x, y, text, int(px), colour, anchor, vertical))

    def png(self) -> bytes:
        """The picture as PNG bytes (texts drawn last)."""
        image = Image.fromarray(self.pixels)
        draw = ImageDraw.Draw(image)
        for x, y, text, px, colour, anchor, vertical in self._texts:
            fill = rgb8(colour) if not isinstance(colour, tuple) or any(isinstance(v, float) for v in colour) \
                else colour
            if not vertical:
                draw.text((x, y), text, font=font(px), fill=fill, anchor=anchor)
                continue
            width, height = text_width(text, px) + 2, int(px * 1.35)
            label = Image.new("L", (width, height), 0)
            ImageDraw.Draw(label).text((1, height / 2), text, font=font(px), fill=255, anchor="lm")
            label = label.transpose(Image.Transpose.ROTATE_90)  # reads bottom to top
            # anchor for vertical text: 'mm' centre, 'mb' = bottom end at (x, y) (the text grows upwards)
            left = int(x - height / 2)
            top = int(y - width / 2) if anchor == "mm" else int(y - width)
            image.paste(Image.new("RGB", label.size, fill), (left, top), label)
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", compress_level=3)
        return buffer.getvalue()
