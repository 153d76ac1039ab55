"""The sweep animation: a handful of full-frame layers drawn once per configuration; frames are composited.

The layers are the padded grid with its values in four states (normal, kernel tap, dilation
hole, never read), the output grid empty / filled / current, the kernel and the legend, plus a
glyph atlas of the text font. Matplotlib draws every visual, read straight into one fixed palette
(`sweep.drawing`: shapes unantialiased; text by matplotlib's FreeType binding, `sweep.typeset`, as
coverage). A frame is then a list of rectangle copies from those layers plus glyph pastes
(`FrameOps`), applied with numpy for a GIF or a PNG step and by the offline HTML player's canvas
for playback — the same pixels either way, in milliseconds per frame instead of a full matplotlib
redraw (see benchmarks/animation.py; one render's CPU: benchmarks/sweep_render.py).
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Union

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from PIL import Image  # noqa: E402

from conv_lab import limits  # noqa: E402
from conv_lab.byte_cache import approx_nbytes, byte_lru_cache  # noqa: E402
from conv_lab.core.grid import INPUT, INSERTED, PADDING  # noqa: E402
from conv_lab.core.state import LabConfig  # noqa: E402
from conv_lab.sweep.captions import describe, done_lines, grid_caption, output_caption, slice_note  # noqa: E402
from conv_lab.sweep.data import SweepRequest, build_sweep, fmt_number, step_lines  # noqa: E402
from conv_lab.sweep.drawing import (
    BASE,
    GLYPHS,
    GRID_BOX,
    HEIGHT,
    HOLE,
    HOT,
    KERNEL_BOX,
    KERNEL_FILL,
    KIND_COLOURS,
    LINE_H,
    MARK,
    NEVER,
    OUT_BOX,
    OUT_DONE,
    OUT_EMPTY,
    OUT_NOW,
    OUTLINE,
    SOLID,
    STACK_FILL,
    TAP,
    TEXT_LINES,
    TEXT_TOP,
    TRANSPARENT,
    WARM,
    WIDTH,
    add_box,
    apply_ink,
    glyph_atlas,
    ink_spots,
    palette,
    panel_boxes,
    shape_indices,
    shapes_figure,
)
from conv_lab.sweep.layout import CellGrid  # noqa: E402
from conv_lab.sweep.player_page import PlayerPage, player_page  # noqa: E402
from conv_lab.sweep.steps import OUTSIDE, Region, Sweep, region_for  # noqa: E402
from conv_lab.sweep.typeset import stamp  # noqa: E402

_NOT_A_GLYPH = re.compile(f"[^{re.escape(GLYPHS)}]")  # characters the glyph atlas lacks (drawn as "?")


@dataclass(frozen=True)
class FrameOps:
    """One frame as rectangle copies (layer, x0, y0, x1, y1) and text lines (x, y, style, text)."""

    copies: tuple[tuple[int, int, int, int, int], ...]
    texts: tuple[tuple[int, int, int, str], ...]


class SweepAnimation:
    """The frames of one sweep region: layers drawn once, frames composited on demand (GIF, PNG, player)."""

    def __init__(self, sweep: Sweep, region: Region, values: str = "int", front: int = 0, title: str = ""):
        self.sweep, self.region, self.values, self.title = sweep, region, values, title
        self.front = min(max(front, 0), sweep.grid.shape[0] - 1)
        self.rows_shown = sweep.panels(self.front)  # grid rows drawn side by side (a 3-D kernel's depth slices)
        ho, wo = sweep.out_shape
        spans = []
        for axis, (lo, hi) in enumerate((region.rows, region.cols)):
            eff = (sweep.kernel_hw[axis] - 1) * sweep.dilation[axis] + 1
            start = 0 if lo == 0 else lo * sweep.stride[axis]
            end = sweep.grid.shape[1 + axis] if hi == (ho, wo)[axis] else (hi - 1) * sweep.stride[axis] + eff
            spans.append((start, end))
        self.grid_rows, self.grid_cols = spans
        self.positions = [(r, c) for r in range(*region.rows) for c in range(*region.cols)]
        self._draw_layers()

    def __len__(self) -> int:
        return len(self.positions) + 1  # every window position, then the end frame with never-read cells

    @property
    def nbytes(self) -> int:
        """Estimated bytes held, for the byte-bounded cache (walking ~10^4 position tuples cost ~3 ms a render)."""
        page = self.__dict__.get("page")
        return (sum(layer.nbytes for layer in self.layers) + self.atlas.nbytes + approx_nbytes(self.sweep)
                + 120 * len(self.positions) + (len(page.template) if page is not None else 0))

    # Drawing the layers ------------------------------------------------------------------------
    def _draw_layers(self) -> None:
        s, (g0, g1), (c0, c1) = self.sweep, self.grid_rows, self.grid_cols
        region = self.region
        out_labels = [[fmt_number(v, self.values) for v in row] for row in s.values(region.rows, region.cols)]
        flat = palette().flat
        shapes = shapes_figure()
        if len(self.rows_shown) == 1:
            stack = min(2, len(s.channels) - 1)
            behind = (GRID_BOX[0], GRID_BOX[1] + 10 * stack, GRID_BOX[2] - 10 * stack, GRID_BOX[3] - 10 * stack)
            self.grids = [CellGrid(behind, g1 - g0, c1 - c0, 80)]
            gx, gy, gw, gh = self.grids[0].box
            for k in range(stack, 0, -1):  # the other channels, stacked behind
                add_box(shapes, gx + 10 * k, gy - 10 * k, gw, gh, STACK_FILL, 2)
        else:
            self.grids = [CellGrid(box, g1 - g0, c1 - c0, 80)
                          for box in panel_boxes(GRID_BOX, len(self.rows_shown), g1 - g0, c1 - c0, 80)]
        oh, ow = region.rows[1] - region.rows[0], region.cols[1] - region.cols[0]
        self.out = CellGrid(OUT_BOX, oh, ow, 70)
        self.grid_x, self.grid_y = self.grids[0].xs, self.grids[0].ys
        self.out_x, self.out_y = self.out.xs, self.out.ys
        fills = np.array([flat[KIND_COLOURS[k]] for k in range(len(KIND_COLOURS))], np.uint8)
        for grid, row in zip(self.grids, self.rows_shown):
            grid.draw(shapes, fills[s.panel_kinds(row)[g0:g1, c0:c1]])
        self.out.draw(shapes, np.full((oh, ow), flat[OUT_EMPTY], np.uint8))
        texts = self._panels(shapes, [grid.box for grid in self.grids], self.out.box)
        still = shape_indices(shapes)  # what no frame changes, then the grids' states over it
        for spots in texts:
            apply_ink(still, spots)
        grid_inks = [grid.ink([[fmt_number(v, self.values) for v in line] for line in s.grid[row, g0:g1, c0:c1]])
                     for grid, row in zip(self.grids, self.rows_shown)]
        out_ink = self.out.ink(out_labels)
        self.layers = []
        states = [(None, OUT_EMPTY, False), (TAP, OUT_DONE, True), (HOLE, OUT_NOW, True), (NEVER, OUT_DONE, True)]
        for grid_fill, out_fill, show_out in states:  # BASE, HOT, WARM, MARK
            layer = still.copy()
            for grid, grid_ink in zip(self.grids, grid_inks):
                if grid_fill:
                    grid.recolour(layer, grid_fill)
                apply_ink(layer, grid_ink)
            self.out.recolour(layer, out_fill)
            if show_out:
                apply_ink(layer, out_ink)
            self.layers.append(layer)
        self.layers.append(np.full_like(still, flat[OUTLINE]))  # SOLID: the window outline colour
        self.palette = palette().colours
        self.atlas, self.glyph_w, self.glyph_h = glyph_atlas()
        # Frames copy from the other layers only inside the two grids: the player sends just that band of them.
        self.band = (GRID_BOX[1] - 12, GRID_BOX[1] + GRID_BOX[3] + 12, OUT_BOX[0] + OUT_BOX[2] + 12)

    def _panels(self, shapes: Figure, grid_boxes: list, out_box) -> list:
        """Titles, captions, the kernel and the legend: shapes into `shapes`; returns the texts' ink spots."""
        mask = np.zeros((HEIGHT, WIDTH), np.float32)  # the texts' coverage, as matplotlib's FreeType draws them
        s = self.sweep
        stamp(mask, 24, 26, self.title, 15, bold=True)
        stamp(mask, grid_boxes[0][0], 56, grid_caption(self), 12)
        stamp(mask, out_box[0], 56, output_caption(s, self.region), 12)
        if len(grid_boxes) > 1:  # a 3-D kernel: each panel is one depth slice of the padded input
            for (x, y, _, _), row in zip(grid_boxes, self.rows_shown):
                stamp(mask, x, y - 9, s.row_label(row).split()[-1] + slice_note(s, row), 11)
        kernel_inks = []
        if s.op == "conv":
            rows = self.rows_shown
            kh, kw = s.kernel_hw
            wide = (KERNEL_BOX[0], KERNEL_BOX[1], 300, KERNEL_BOX[3])  # a 1-D kernel wraps like its strip
            kboxes = [wide if s.source_dims == 1 else KERNEL_BOX] if len(rows) == 1 else \
                panel_boxes((KERNEL_BOX[0], KERNEL_BOX[1] - 16, 300, KERNEL_BOX[3] + 16), len(rows), kh, kw, 50)
            for box, row in zip(kboxes, rows):
                grid = CellGrid(box, kh, kw, 50)
                grid.draw(shapes, np.full((kh, kw), palette().flat[KERNEL_FILL], np.uint8))
                kernel_inks.append(grid.ink([[fmt_number(v, self.values) for v in line] for line in s.kernel[row]]))
                if len(rows) > 1:
                    stamp(mask, box[0], box[1] - 8, s.row_label(row).split()[-1], 10)
            flipped = " (flipped)" if s.flipped else ""
            depth = " by depth tap" if len(rows) > 1 else ""
            stamp(mask, KERNEL_BOX[0], KERNEL_BOX[1] - 16 - 18 * (len(rows) > 1),
                  f"{s.labels.kernel}, channel {s.channels[self.front]}{depth}{flipped}", 12)
        else:
            k = s.kernel_hw
            window = f"{k[1]}-cell" if s.source_dims == 1 else f"{k[0]}×{k[1]}"
            stride = f"{s.stride[1]}" if s.source_dims == 1 else f"{s.stride[0]}×{s.stride[1]}"
            stamp(mask, KERNEL_BOX[0], KERNEL_BOX[1] + 20,
                  f"{'max' if s.op == 'max' else 'average'} of a {window} window\nstride {stride}", 13, va="top")
        kinds = np.stack([s.panel_kinds(row) for row in self.rows_shown])
        legend = [(KIND_COLOURS[INPUT], "input"), (KIND_COLOURS[PADDING], "padding")]
        if (kinds == INSERTED).any():
            legend.append((KIND_COLOURS[INSERTED], "zero inserted"))
        if (kinds == OUTSIDE).any():
            legend.append((KIND_COLOURS[OUTSIDE], "past padding"))
        legend.append((TAP, "taps, outlined" if s.op == "conv" else "window, outlined"))
        if s.dilation != (1, 1):
            legend.append((HOLE, "dilation hole"))
        if not s.touched().all():
            legend.append((NEVER, "never read"))
        legend += [(OUT_DONE, "output done"), (OUT_NOW, "now, outlined")]
        self.legend = tuple(legend)  # the player repeats it as HTML on a narrow screen, where these pixels are tiny
        for i, (colour, label) in enumerate(legend):
            y = OUT_BOX[1] + 4 + i * 27
            add_box(shapes, 958, y, 18, 18, colour)
            stamp(mask, 984, y + 9, label, 11.5)
        return [ink_spots(mask), *kernel_inks]

    # Frames -------------------------------------------------------------------------------------
    @staticmethod
    def _cell(grid: CellGrid, r0: int, c0: int, r1: int, c1: int, layer: int) -> list[tuple[int, int, int, int, int]]:
        return [(layer, *rect) for rect in grid.rects(r0, c0, r1, c1)]

    def frame_ops(self, t: int) -> FrameOps:
        """The copies and text lines that make frame t (t = len(self) − 1 is the end frame)."""
        return FrameOps(self.frame_copies(t), self.frame_texts(t))

    def frame_texts(self, t: int) -> tuple[tuple[int, int, int, str], ...]:
        """The text strip of frame t (GIF and PNG frames; the player shows the arithmetic as HTML instead)."""
        if t >= len(self.positions):
            return self._texts(done_lines(self))
        s, (row, col) = self.sweep, self.positions[t]
        index = row * s.out_shape[1] + col
        lines = [f"step {t + 1} of {len(self.positions)}" + ("" if len(self.positions) == len(s) else
                                                              f" (position {index + 1} of {len(s)})")]
        fits = len(s.channels) if len(s.channels) <= TEXT_LINES - 3 else TEXT_LINES - 4
        return self._texts(lines + step_lines(s, index, self.values, max_channels=fits))

    def frame_copies(self, t: int) -> tuple[tuple[int, int, int, int, int], ...]:
        """The rectangle copies (layer, x0, y0, x1, y1) that make frame t's picture."""
        s, region = self.sweep, self.region
        (g0, _), (c0, _) = self.grid_rows, self.grid_cols
        oh, ow = region.rows[1] - region.rows[0], region.cols[1] - region.cols[0]
        copies: list = []
        if t >= len(self.positions):
            copies += self._cell(self.out, 0, 0, oh, ow, HOT)
            never = ~s.touched()[self.grid_rows[0]:self.grid_rows[1], self.grid_cols[0]:self.grid_cols[1]]
            for grid in self.grids:
                for r, c in zip(*np.nonzero(never)):
                    copies += self._cell(grid, r, c, r + 1, c + 1, MARK)
            return tuple(copies)
        row, col = self.positions[t]
        orow, ocol = row - region.rows[0], col - region.cols[0]
        if orow:
            copies += self._cell(self.out, 0, 0, orow, ow, HOT)
        if ocol:
            copies += self._cell(self.out, orow, 0, orow + 1, ocol, HOT)
        copies += self._cell(self.out, orow, ocol, orow + 1, ocol + 1, WARM)
        for x0, y0, x1, y1 in self.out.rects(orow, ocol, orow + 1, ocol + 1):  # outlined too: not colour alone
            copies += [(SOLID, x0, y0, x1, y0 + 3), (SOLID, x0, y1 - 3, x1, y1), (SOLID, x0, y0, x0 + 3, y1),
                       (SOLID, x1 - 3, y0, x1, y1)]
        (kh, kw), (dh, dw) = s.kernel_hw, s.dilation
        r0, q0 = s.window_origin(row, col)
        r0, q0 = r0 - g0, q0 - c0
        r1, q1 = r0 + (kh - 1) * dh + 1, q0 + (kw - 1) * dw + 1
        w = 3 if len(self.grids) == 1 and len(self.grids[0].rects(r0, q0, r1, q1)) == 1 else 1  # thin: a wrapped window
        for grid in self.grids:  # the window on every slice drawn (one, or each depth tap's)
            if (dh, dw) == (1, 1):
                copies += self._cell(grid, r0, q0, r1, q1, HOT)
            else:
                copies += self._cell(grid, r0, q0, r1, q1, WARM)
                for i in range(kh):
                    for j in range(kw):
                        copies += self._cell(grid, r0 + i * dh, q0 + j * dw, r0 + i * dh + 1, q0 + j * dw + 1, HOT)
            for x0, y0, x1, y1 in grid.rects(r0, q0, r1, q1):  # the window's outline (a piece per strip line)
                copies += [(SOLID, x0 - w, y0 - w, x1 + w, y0 + 1), (SOLID, x0 - w, y1 - 1, x1 + w, y1 + w),
                           (SOLID, x0 - w, y0, x0 + 1, y1), (SOLID, x1 - 1, y0, x1 + w, y1)]
        return tuple(copies)

    def _texts(self, lines: list[str]) -> tuple[tuple[int, int, int, str], ...]:
        width = (WIDTH - 48) // self.glyph_w
        out = []
        for i, line in enumerate(lines[:TEXT_LINES]):
            line = _NOT_A_GLYPH.sub("?", line)
            line = line if len(line) <= width else line[:width - 1] + "…"
            out.append((24, TEXT_TOP + i * LINE_H, 1 if line.startswith("result") else 0, line))
        return tuple(out)

    def compose(self, t: int, canvas: np.ndarray | None = None) -> np.ndarray:
        """Frame t as palette indices (H, W), composited with numpy."""
        ops = self.frame_ops(t)
        if canvas is None:
            canvas = self.layers[BASE].copy()
        else:
            canvas[:] = self.layers[BASE]
        for layer, x0, y0, x1, y1 in ops.copies:
            x0, y0 = max(x0, 0), max(y0, 0)
            canvas[y0:y1, x0:x1] = self.layers[layer][y0:y1, x0:x1]
        gw, gh = self.glyph_w, self.glyph_h
        for x, y, style, text in ops.texts:
            for i, ch in enumerate(text):
                g = GLYPHS.index(ch)
                canvas[y:y + gh, x + i * gw:x + (i + 1) * gw] = self.atlas[style][:, g * gw:(g + 1) * gw]
        return canvas

    def _image(self, indices: np.ndarray) -> Image.Image:
        image = Image.fromarray(indices, "P")
        image.putpalette(self.palette)
        return image

    def frame_png(self, t: int) -> bytes:
        """Frame t as PNG bytes (for stepping one position at a time)."""
        buffer = io.BytesIO()
        self._image(self.compose(t)).save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()

    def frame_rgb(self, t: int) -> np.ndarray:
        """Frame t as an RGB array (H, W, 3)."""
        return np.asarray(self._image(self.compose(t)).convert("RGB"))

    @cached_property
    def gif_bytes(self) -> bytes:
        """The whole animation as a looping GIF (one frame per position plus the end frame).

        Frames after the first hold only the rectangle that changed, unchanged pixels transparent,
        so a 256-frame sweep stays small; the palette is the layers' own, shared by all frames.
        """
        from PIL import GifImagePlugin

        out = [b"GIF89a", struct.pack("<HHBBB", WIDTH, HEIGHT, 0xF7, 0, 0), bytes(self.palette).ljust(768, b"\0"),
               b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"]
        previous = None
        for t in range(len(self)):
            frame = self.compose(t)
            duration = 2000 if t == len(self) - 1 else 260
            if previous is None:
                patch, offset = frame, (0, 0)
            else:
                changed = frame != previous
                rows, cols = np.nonzero(changed.any(axis=1))[0], np.nonzero(changed.any(axis=0))[0]
                if not len(rows):
                    rows, cols = np.array([0]), np.array([0])
                box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
                patch = np.where(changed[box], frame[box], TRANSPARENT).astype(np.uint8)
                offset = (int(cols[0]), int(rows[0]))
            out += GifImagePlugin.getdata(Image.fromarray(np.ascontiguousarray(patch), "P"), offset=offset,
                                          duration=duration, transparency=TRANSPARENT, disposal=1)
            previous = frame
        out.append(b";")
        return b"".join(out)

    def layer_png(self, layer: Union[int, str], band_only: bool = False) -> bytes:
        """A layer (or 'atlas0'/'atlas1') as PNG bytes, for the player; `band_only`: just its `band` rows and columns."""
        image = self.atlas[int(layer[-1])] if isinstance(layer, str) else self.layers[layer]
        if band_only:
            top, bottom, right = self.band
            image = image[top:bottom, :right]
        buffer = io.BytesIO()
        # Level 3: a third of level 6's time (~20 ms of each sweep render, issue 17) for ~10 KB more per player.
        self._image(image).save(buffer, format="PNG", optimize=False, compress_level=3)
        return buffer.getvalue()

    @cached_property
    def page(self) -> PlayerPage:
        """The player page with its layers and frames encoded once."""
        return player_page(self)

    def player_html(self, start: int = 0, fps: float = 4.0) -> str:
        """A self-contained HTML/JS player (play/pause, step, jump, speed; inline SVG icons, no CDN)."""
        return self.page.html(start, fps)


@byte_lru_cache(limits.ANIMATION_CACHE_BYTES, maxsize=16)  # ~5-11 MB each
def sweep_animation(request: SweepRequest, region: Region | None = None, front: int = 0) -> SweepAnimation:
    """The (cached) animation of a request's region (a SweepRequest, or any hashable request with `build()`, `title()`
    and `values`); the whole sweep when it fits the frame budget.

    >>> len(sweep_animation(SweepRequest(LabConfig(1, 5, 5, 1, padding=(1, 1)))))
    26
    """
    custom = hasattr(request, "build")  # a request that builds its own sweep (sweep.backward's BackwardRequest)
    sweep = request.build() if custom else build_sweep(request)
    region = region or region_for(sweep, 0, 0)
    return SweepAnimation(sweep, region, request.values, front, request.title() if custom else describe(request))


def write_sweep_gif(config: LabConfig, path: Union[str, Path], op: str = "conv", filter_index: int = 0,
                    values: str = "int") -> Path:
    """Write the sweep GIF of a configuration (its first region when over the frame budget) to `path`.

    >>> import tempfile, os; p = write_sweep_gif(LabConfig(1, 4, 4, 1), os.path.join(tempfile.mkdtemp(), "s.gif"))
    >>> p.read_bytes()[:6]
    b'GIF89a'
    """
    path = Path(path)
    path.write_bytes(sweep_animation(SweepRequest(config, op, filter_index, values)).gif_bytes)
    return path
