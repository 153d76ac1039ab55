"""The kernel sweep's geometry and arithmetic, pure numpy (no torch, no matplotlib).

`padded_grid` is the grid the kernel really slides over; `sweep_steps` lists, row-major,
every window position with the cells its taps touch, the element-wise products and the
output value. A transposed convolution is shown as the direct convolution it equals
(the conv_arithmetic paper's view): s−1 zeros inserted between input cells, d·(k−1)−p
padding around them, output_padding extra at the bottom/right, a flipped kernel, stride 1.
Max/avg pooling sweeps live in `conv_lab.sweep.pooling` and return the same kind of `Sweep`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Optional

import numpy as np

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.grid import INSERTED, grid_and_kinds, one_sample
from conv_lab.core.params import LayerSpec, filter_channels
from conv_lab.core.plane import plane_view
from conv_lab.core.shapes import output_shape
from conv_lab.core.spec import ConvSpec

OUTSIDE = INSERTED + 1  # a cell kind of pooling with ceil_mode, after the grid's own (core.grid)


@dataclass(frozen=True, eq=False)
class SweepStep:
    """One window position: where it writes, which grid cells its taps read, and the arithmetic."""

    index: int
    out_pos: tuple[int, int]
    cells: tuple[tuple[int, int], ...]  # padded-grid (row, col) of every tap, kernel row-major
    products: np.ndarray  # (channels, kh, kw): input × weight per tap (pooling: the values taken)
    channel_sums: np.ndarray  # (channels,): the partial sum of each input channel
    bias: float
    value: float  # what the real module outputs at out_pos


@dataclass(frozen=True)
class SweepLabels:
    """The words a sweep's pictures and arithmetic use (the backward sweeps of /gradients rename them)."""

    grid: str = "padded input"
    kernel: str = "weights"
    output: str = "output"
    product: str = "input × weight"


class Sweep(Sequence):
    """Every window position of one filter (or one pooled channel), built lazily, row-major.

    >>> s = sweep_steps(ConvSpec(1, 1, 3, padding=1), np.ones((1, 4, 4)), np.ones((1, 3, 3)))
    >>> len(s), s[0].value, float(s.values()[1, 1])
    (16, 4.0, 9.0)
    """

    op = "conv"

    def __init__(self, grid: np.ndarray, kinds: np.ndarray, kernel: np.ndarray, bias: Optional[float],
                 stride: tuple[int, int], dilation: tuple[int, int], out_shape: tuple[int, int],
                 channels: tuple[int, ...]):
        self.grid = grid  # (channels, Hp, Wp): the group's channels of the padded grid
        self.kinds = kinds  # (Hp, Wp) uint8 cell kinds
        self.kernel = kernel  # (channels, kh, kw) as applied to the grid (flipped for transposed)
        self.has_bias = bias is not None
        self.bias = float(bias or 0.0)
        self.stride, self.dilation, self.out_shape = stride, dilation, out_shape
        self.channels = channels  # input channel numbers of the grid's rows
        self.flipped = False  # True for a transposed conv's kernel (shown flipped over the zero-inserted grid)
        self.labels = SweepLabels()
        self.source_dims = 2  # 1: a one-row strip of a Conv1d (sweep_steps), 3: a depth slice (sweep.depth)

    def panels(self, front: int) -> list[int]:
        """The grid rows drawn side by side with `front` (one here; a 3-D sweep draws every depth tap's slice)."""
        return [front]

    def front_row(self, channel: int) -> int:
        """The grid row that shows input channel `channel` in front (the group's first when it reads another)."""
        return channel - self.channels[0] if channel in self.channels else 0

    def panel_kinds(self, row: int) -> np.ndarray:
        """The cell kinds of grid row `row` (the same plane for every row here)."""
        return self.kinds

    def row_label(self, row: int) -> str:
        """How the arithmetic names grid row `row`."""
        return f"ch {self.channels[row]}"

    def position_label(self, row: int, col: int) -> str:
        """Output position (row, col) as the layer names it: (row, col), a strip's index, or (depth, row, col)."""
        return str(col) if self.source_dims == 1 else f"({row}, {col})"

    @property
    def kernel_hw(self) -> tuple[int, int]:
        """Taps per window as (kh, kw)."""
        return self.kernel.shape[1], self.kernel.shape[2]

    def __len__(self) -> int:
        return self.out_shape[0] * self.out_shape[1]

    def window_origin(self, row: int, col: int) -> tuple[int, int]:
        """Top-left grid cell of the window for output (row, col)."""
        return row * self.stride[0], col * self.stride[1]

    def tap_cells(self, row: int, col: int) -> tuple[tuple[int, int], ...]:
        """Grid cells the taps of output (row, col) read, kernel row-major (dilation holes skipped)."""
        (r0, c0), (kh, kw), (dh, dw) = self.window_origin(row, col), self.kernel_hw, self.dilation
        return tuple((r0 + i * dh, c0 + j * dw) for i in range(kh) for j in range(kw))

    def window(self, row: int, col: int) -> np.ndarray:
        """The grid values under the taps of output (row, col): (channels, kh, kw), dilation holes skipped."""
        (r0, c0), (kh, kw), (dh, dw) = self.window_origin(row, col), self.kernel_hw, self.dilation
        return self.grid[:, r0:r0 + (kh - 1) * dh + 1:dh, c0:c0 + (kw - 1) * dw + 1:dw]

    def _combine(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        products = window * self.kernel
        sums = products.reshape(products.shape[0], -1).sum(axis=1)
        return products, sums, float(sums.sum() + self.bias)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        index = int(index) + (len(self) if index < 0 else 0)
        if not 0 <= index < len(self):
            raise IndexError(f"step {index} is outside 0…{len(self) - 1}")
        return self._step(index, *divmod(index, self.out_shape[1]))

    def _step(self, index: int, row: int, col: int) -> SweepStep:
        """The step at output (row, col): products, per-channel sums and the value (pooling overrides this)."""
        products, sums, value = self._combine(self.window(row, col))
        return SweepStep(index, (row, col), self.tap_cells(row, col), products, sums, self.bias, value)

    def values(self, rows: Optional[tuple[int, int]] = None, cols: Optional[tuple[int, int]] = None) -> np.ndarray:
        """The output grid (or the block rows×cols of it, half-open ranges), vectorised."""
        r0, r1 = rows or (0, self.out_shape[0])
        c0, c1 = cols or (0, self.out_shape[1])
        (kh, kw), (dh, dw), (sh, sw) = self.kernel_hw, self.dilation, self.stride
        total = np.full((r1 - r0, c1 - c0), self.bias, dtype=np.float64)
        for i in range(kh):
            for j in range(kw):
                rs, cs = r0 * sh + i * dh, c0 * sw + j * dw
                taps = self.grid[:, rs:rs + (r1 - r0 - 1) * sh + 1:sh, cs:cs + (c1 - c0 - 1) * sw + 1:sw]
                total += np.tensordot(self.kernel[:, i, j], taps, axes=(0, 0))
        return total

    def touched(self) -> np.ndarray:
        """(Hp, Wp) bool: cells some tap of some window reads (the rest are marked at the end)."""
        masks = []
        for axis in (0, 1):
            mask = np.zeros(self.grid.shape[1 + axis], dtype=bool)
            starts = np.arange(self.out_shape[axis]) * self.stride[axis]
            taps = np.arange(self.kernel_hw[axis]) * self.dilation[axis]
            mask[(starts[:, None] + taps[None, :]).ravel()] = True
            masks.append(mask)
        return masks[0][:, None] & masks[1][None, :]


def _weight_shape(spec: ConvSpec) -> tuple[int, int, int, int]:
    """The shape torch gives the module's weight."""
    if spec.transposed:
        return (spec.in_channels, spec.out_channels // spec.groups, *spec.kernel_hw)
    return (spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_hw)


def filter_weight(spec: ConvSpec, weight: np.ndarray, out_channel: int) -> np.ndarray:
    """One filter's weights (C_in/groups, kh, kw) from the module's whole weight tensor.

    >>> filter_weight(ConvSpec(4, 6, 3, groups=2, transposed=True), np.zeros((4, 3, 3, 3)), 4).shape
    (2, 3, 3)
    """
    weight = np.asarray(weight, dtype=np.float64)
    if not spec.transposed:
        return weight[out_channel]
    group = filter_channels(spec.in_channels, spec.out_channels, spec.groups, out_channel)
    return weight[group.start:group.stop, out_channel % (spec.out_channels // spec.groups)]


def sweep_steps(spec: ConvSpec, x: np.ndarray, weight: np.ndarray, bias: Optional[float] = None,
                out_channel: int = 0) -> Sweep:
    """Every window position of filter `out_channel` over x (C, H, W), row-major, as a lazy sequence.

    `weight` is the module's whole weight (`module.weight`, 4-D: the filter is picked by `out_channel`), or
    that one filter as (C_in/groups, kh, kw): `module.weight[o]` for Conv2d; for ConvTranspose2d the group's
    rows of column o % (out_channels/groups), as `filter_weight` takes them. x may be (C, H, W) or (1, C, H, W).

    >>> steps = sweep_steps(ConvSpec(1, 1, 2, stride=2), np.arange(16.).reshape(1, 4, 4), np.ones((1, 2, 2)), bias=1)
    >>> [s.value for s in steps], steps[1].cells
    ([11.0, 19.0, 43.0, 51.0], ((0, 2), (0, 3), (1, 2), (1, 3)))
    """
    source_dims = getattr(spec, "dims", 2)
    if source_dims == 1:  # the formula and caps of the real Conv1d, then its one-row strip
        spec, x, weight, ho, wo = _as_strip(spec, x, weight)
    else:
        x = one_sample(spec, x)
        _, _, ho, wo = output_shape(spec, (1, *x.shape))
    if isinstance(out_channel, bool) or not isinstance(out_channel, numbers.Integral) \
            or not 0 <= out_channel < spec.out_channels:
        raise ConvConfigError("filter", f"filter {out_channel} does not exist; the layer has {spec.out_channels}",
                              f"pick a filter between 0 and {spec.out_channels - 1}")
    out_channel = int(out_channel)
    channels = tuple(filter_channels(spec.in_channels, spec.out_channels, spec.groups, out_channel))
    per_group_in = len(channels)
    weight = weight_array(weight)
    if weight.ndim == 4:
        weight = filter_weight(spec, weight, out_channel) if weight.shape == _weight_shape(spec) else weight
    if weight.shape[:1] == (spec.in_channels,) and per_group_in != spec.in_channels:
        weight = weight[channels[0]:channels[-1] + 1]
    if weight.shape != (per_group_in, *spec.kernel_hw):
        raise ConvConfigError("weight", f"expected the module's weight {_weight_shape(spec)} or one filter of shape "
                              f"{(per_group_in, *spec.kernel_hw)}, got {weight.shape}", "pass module.weight and out_channel")
    grid, kinds = grid_and_kinds(spec, x[channels[0]:channels[-1] + 1])
    if spec.transposed:
        kernel, stride = weight[:, ::-1, ::-1].copy(), (1, 1)
    else:
        kernel, stride = weight, spec.stride_hw
    sweep = Sweep(grid, kinds, kernel, bias, stride, spec.dilation_hw, (ho, wo), channels)
    sweep.flipped, sweep.source_dims = spec.transposed, source_dims
    return sweep


def weight_array(weight) -> np.ndarray:
    """The weight as a float array, or a plain ConvConfigError.

    >>> weight_array([[1, 2]]).dtype
    dtype('float64')
    """
    try:
        return np.asarray(weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConvConfigError("weight", f"the weight is not an array of numbers ({exc})", "pass module.weight") from exc


def _as_strip(spec: LayerSpec, x, weight) -> tuple[LayerSpec, np.ndarray, np.ndarray, int, int]:
    """A Conv1d's spec, input and weight as the one-row 2-D sweep sees them (x (C, 1, L), weight (…, 1, k)), and
    its output (1, L_out) by the Conv1d's own formula and caps."""
    x, weight = one_sample(spec, x), weight_array(weight)  # one (C, L) sample, checked against the Conv1d
    if weight.ndim in (2, 3):  # one filter (C_in/groups, k), or the module's whole weight
        weight = weight[..., None, :]
    length = output_shape(spec, (1, *x.shape))[2]
    return plane_view(spec), x[:, None, :], weight, 1, length


@dataclass(frozen=True)
class Region:
    """A block of output positions (half-open rows × cols) that one animation covers."""

    rows: tuple[int, int]
    cols: tuple[int, int]

    @property
    def size(self) -> int:
        """Output positions in the region."""
        return (self.rows[1] - self.rows[0]) * (self.cols[1] - self.cols[0])

    def contains(self, row: int, col: int) -> bool:
        """True when output (row, col) lies in the region."""
        return self.rows[0] <= row < self.rows[1] and self.cols[0] <= col < self.cols[1]


def _fits(stride: int, eff: int, cap: int) -> int:
    """How many consecutive outputs along one axis fit a drawn grid side of `cap` cells (at least 1)."""
    return max(1, (cap - eff) // stride + 1)


def strip_side(sweep: Sweep, outputs: int = limits.MAX_SWEEP_GRID) -> int:
    """Cells a 1-D sweep's drawn strip may span (it wraps like text): enough for `outputs` windows however wide the
    kernel, within the cells of a full MAX_SWEEP_GRID² 2-D grid; a 2-D sweep's side is MAX_SWEEP_GRID.

    >>> strip_side(sweep_steps(ConvSpec(1, 1, 80, stride=4, dims=1), np.zeros((1, 400)), np.zeros((1, 80))))
    332
    """
    if sweep.source_dims != 1:
        return limits.MAX_SWEEP_GRID
    eff = (sweep.kernel_hw[1] - 1) * sweep.dilation[1] + 1
    return min(limits.MAX_SWEEP_GRID ** 2, max(limits.MAX_SWEEP_GRID, eff + (outputs - 1) * sweep.stride[1]))


def tile_shape(sweep: Sweep, max_frames: int = limits.MAX_SWEEP_FRAMES,
               max_side: int | None = None) -> tuple[int, int]:
    """Rows × cols of output per animated region so frames and the drawn grid stay within caps.

    >>> tile_shape(sweep_steps(ConvSpec(1, 1, 3, padding=1), np.zeros((1, 100, 100)), np.zeros((1, 3, 3))))
    (32, 32)
    """
    max_side = max_side or strip_side(sweep)
    th, tw = (min(n, _fits(sweep.stride[a], (sweep.kernel_hw[a] - 1) * sweep.dilation[a] + 1, max_side))
              for a, n in enumerate(sweep.out_shape))
    while th * tw > max_frames:  # shrink the longer side: regions stay square-ish
        if th >= tw:
            th -= 1
        else:
            tw -= 1
    return th, tw


def _part_shape(sweep: Sweep, mode: str, frames: int) -> tuple[int, int]:
    """Rows × cols of output in one animated part: a tile, or (mode 'row') a segment of one output row."""
    if mode == "row":
        eff = (sweep.kernel_hw[1] - 1) * sweep.dilation[1] + 1
        return 1, min(sweep.out_shape[1], frames, _fits(sweep.stride[1], eff, strip_side(sweep)))
    return tile_shape(sweep, frames)


def region_for(sweep: Sweep, row: int, col: int = 0, mode: str = "region",
               frames: int = limits.MAX_SWEEP_FRAMES) -> Region:
    """The animated region holding output (row, col): a tile of the output, or one output row (or a segment of it),
    of at most `frames` positions.

    >>> region_for(sweep_steps(ConvSpec(1, 1, 3), np.zeros((1, 80, 80)), np.zeros((1, 3, 3))), 40, 5)
    Region(rows=(32, 64), cols=(0, 32))
    """
    ho, wo = sweep.out_shape
    row, col = min(max(int(row), 0), ho - 1), min(max(int(col), 0), wo - 1)
    th, tw = _part_shape(sweep, mode, frames)
    r0, c0 = (row // th) * th, (col // tw) * tw
    return Region((r0, min(ho, r0 + th)), (c0, min(wo, c0 + tw)))


def part_regions(sweep: Sweep, mode: str = "region", frames: int = limits.MAX_SWEEP_FRAMES) -> list[Region]:
    """Every animated part of a sweep in order (row-major): what a 'part to animate' control picks from.

    >>> [r.rows for r in part_regions(sweep_steps(ConvSpec(1, 1, 3), np.zeros((1, 5, 6)), np.zeros((1, 3, 3))), "row")]
    [(0, 1), (1, 2), (2, 3)]
    """
    ho, wo = sweep.out_shape
    th, tw = _part_shape(sweep, mode, frames)
    return [Region((r0, min(ho, r0 + th)), (c0, min(wo, c0 + tw))) for r0 in range(0, ho, th) for c0 in range(0, wo, tw)]
