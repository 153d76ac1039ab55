"""Receptive fields of a stack of layers, as in Araujo, Norris & Sim, "Computing Receptive Fields of Convolutional
Neural Networks" (Distill, 2019): the one implementation the /gradients page and the network planner share.

Walking back from one output cell, a direct layer (conv or pooling) with kernel k, stride s, dilation d and padding p
before maps the cells [u, v] of its output to [u·s − p, v·s − p + d·(k−1)] of its input; a transposed layer maps them
to [⌈(u + p − d·(k−1)) / s⌉, ⌊(v + p) / s⌋]. The box is half-open (`stop` is one past the last cell) and *unclipped*:
it may reach into the padding (negative, or past the input's end). It is empty (stop = start) when a transposed
layer's cell falls between its strided input cells and no tap reaches it. `jump` is the distance in input cells between
neighbouring output cells (the product of the strides; a transposed layer divides by its stride).

Besides ConvSpecs and `Pool`s a layer may be an `Adaptive` pooling layer (cell i reads ⌊i·n/o⌋ … ⌈(i+1)·n/o⌉ − 1, as
torch's adaptive pools do), a `Resize` (nn.Upsample: the cells torch's interpolation reads, clamped to the input, so
never padding), `WholeAxes` (a Linear on a map reads its whole last axis) or None (same geometry: activations,
BatchNorm, Dropout).

What autograd measures (the non-zero support of ∂out/∂x with positive weights) always lies inside the clipped box for
zero padding. Its bounding box equals the clipped box on each side the unclipped box does not cross, for direct layers:
the extreme taps chain through real cells. Where the box crosses into the padding, dilation holes and strides can leave
the first cells inside the input unread, and a transposed layer with dilation can skip its extreme cells: there the
support may be smaller. Interpolation whose source falls exactly on a cell gives its neighbour weight 0: smaller too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

import numpy as np

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import Sizes, as_sizes
from conv_lab.core.shapes import output_shape, pool_out


@dataclass(frozen=True)
class Pool:
    """A max/avg pooling layer's geometry (nn.MaxPool2d / AvgPool2d; stride defaults to the kernel, as in torch).

    >>> Pool(2).stride_nd, Pool(3, 2, 1).output_sizes((7, 7))
    ((2, 2), (4, 4))
    """

    kernel_size: Any
    stride: Any = None
    padding: Any = 0
    dilation: Any = 1
    ceil_mode: bool = False
    dims: int = 2

    @property
    def kernel_nd(self) -> Sizes:
        """Window size per spatial dimension."""
        return as_sizes(self.kernel_size, self.dims, "kernel_size")

    @property
    def stride_nd(self) -> Sizes:
        """Stride per spatial dimension (the window size when not given)."""
        return self.kernel_nd if self.stride is None else as_sizes(self.stride, self.dims, "stride")

    @property
    def dilation_nd(self) -> Sizes:
        """Dilation per spatial dimension."""
        return as_sizes(self.dilation, self.dims, "dilation")

    def pad_pairs(self) -> tuple[tuple[int, int], ...]:
        """(before, after) padding per spatial dimension."""
        return tuple((p, p) for p in as_sizes(self.padding, self.dims, "padding"))

    def output_sizes(self, sizes: Sizes) -> Sizes:
        """Output sizes by torch's pooling formula."""
        return tuple(pool_out(n, k, s, p, d, self.ceil_mode) for n, k, s, (p, _), d in
                     zip(sizes, self.kernel_nd, self.stride_nd, self.pad_pairs(), self.dilation_nd))


@dataclass(frozen=True)
class Adaptive:
    """An adaptive pooling layer (nn.AdaptiveAvgPool2d / AdaptiveMaxPool2d): its windows follow the two sizes.

    >>> back(Adaptive(), 0, 1, 1, 7, 3)
    (2, 4)
    """


@dataclass(frozen=True)
class Resize:
    """nn.Upsample's geometry: the interpolation mode, the scale factor given (None: a size) and align_corners.

    >>> back(Resize("nearest", 2.0), 0, 3, 3, 4, 8), back(Resize("bilinear", 2.0), 0, 3, 3, 4, 8)
    ((1, 1), (1, 2))
    """

    mode: str = "nearest"
    scale_factor: float | None = None
    align_corners: bool | None = None


@dataclass(frozen=True)
class WholeAxes:
    """A layer each of whose output cells reads the whole of some spatial axes (a Linear on a map: its last axis).

    >>> back(WholeAxes((1,)), 1, 0, 0, 5, 3), back(WholeAxes((1,)), 0, 2, 2, 5, 5)
    ((0, 4), (2, 2))
    """

    axes: tuple[int, ...]


def _source(layer: Resize, dst: int, n_in: int, n_out: int) -> float:
    """Where torch's interpolation samples the input for output cell `dst` (float32, as its CPU kernels compute)."""
    f32 = np.float32
    if layer.mode != "nearest" and layer.align_corners:
        return float(f32(n_in - 1) / f32(n_out - 1) * f32(dst)) if n_out > 1 else 0.0
    scale = f32(1.0 / layer.scale_factor) if layer.scale_factor else f32(n_in / n_out)
    if layer.mode == "nearest":
        return float(f32(dst) * scale)
    return float(scale * f32(dst + 0.5) - f32(0.5))


def _resize_cells(layer: Resize, dst: int, n_in: int, n_out: int) -> tuple[int, int]:
    """The input cells output cell `dst` of an interpolation reads (clamped to the input)."""
    src = _source(layer, dst, n_in, n_out)
    if layer.mode == "nearest":
        i = min(math.floor(src), n_in - 1)
        return i, i
    if layer.mode == "bicubic":
        i = math.floor(src)
        return min(max(i - 1, 0), n_in - 1), min(max(i + 2, 0), n_in - 1)
    i = min(int(max(src, 0.0)), n_in - 1)
    return i, min(i + 1, n_in - 1)


def back(layer: Any, axis: int, u: int, v: int, n_in: int, n_out: int) -> tuple[int, int]:
    """The input cells [u', v'] (inclusive, unclipped) that output cells [u, v] of one layer read along `axis`;
    n_in, n_out: the layer's input and output sizes on that axis. v' < u' when no cell is read.

    >>> from conv_lab.core.spec import ConvSpec
    >>> back(ConvSpec(1, 1, 3, padding=1), 0, 0, 0, 8, 8), back(Pool(2), 1, 1, 2, 8, 4), back(None, 0, 3, 4, 8, 8)
    ((-1, 1), (2, 5), (3, 4))
    """
    if layer is None:
        return u, v
    if isinstance(layer, Adaptive):
        return (u * n_in) // n_out, -(-(v + 1) * n_in // n_out) - 1
    if isinstance(layer, Resize):
        lo, hi = (_resize_cells(layer, min(max(c, 0), n_out - 1), n_in, n_out) for c in (u, v))
        return lo[0], hi[1]
    if isinstance(layer, WholeAxes):
        return (0, n_in - 1) if axis in layer.axes else (u, v)
    k, s, d = layer.kernel_nd[axis], layer.stride_nd[axis], layer.dilation_nd[axis]
    before = layer.pad_pairs()[axis][0]
    if getattr(layer, "transposed", False):
        return -((-(u + before - d * (k - 1))) // s), (v + before) // s
    return u * s - before, v * s - before + d * (k - 1)


def jump(layer: Any, axis: int, n_in: int, n_out: int) -> Fraction:
    """Input cells between neighbouring output cells of one layer along `axis`.

    >>> from conv_lab.core.spec import ConvSpec
    >>> jump(ConvSpec(1, 1, 3, stride=2, transposed=True), 0, 4, 7), jump(Adaptive(), 0, 7, 2), jump(Pool(3), 0, 9, 3)
    (Fraction(1, 2), Fraction(7, 2), Fraction(3, 1))
    """
    if layer is None:
        return Fraction(1)
    if isinstance(layer, (Adaptive, Resize, WholeAxes)):
        return Fraction(n_in, n_out)
    s = layer.stride_nd[axis]
    return Fraction(1, s) if getattr(layer, "transposed", False) else Fraction(s)


@dataclass(frozen=True)
class ReceptiveField:
    """The input cells one output cell depends on, per spatial dimension: [start, stop), unclipped."""

    start: tuple[int, ...]
    stop: tuple[int, ...]
    jump: tuple[Fraction, ...]

    @property
    def size(self) -> tuple[int, ...]:
        """stop − start per dimension."""
        return tuple(b - a for a, b in zip(self.start, self.stop))

    def clipped(self, sizes: Sizes) -> tuple[tuple[int, int], ...]:
        """The box cut to the input: ((start, stop), …) within 0…size.

        >>> ReceptiveField((-1, 2), (2, 5), (1, 1)).clipped((4, 4))
        ((0, 2), (2, 4))
        """
        return tuple((min(max(a, 0), n), min(max(b, 0), n)) for a, b, n in zip(self.start, self.stop, sizes))


def _sizes_after(layer: Any, sizes: Sizes) -> Sizes:
    if isinstance(layer, Pool) or not hasattr(layer, "transposed"):
        out = Pool(layer.kernel_nd, layer.stride_nd, tuple(b for b, _ in layer.pad_pairs()), layer.dilation_nd,
                   getattr(layer, "ceil_mode", False), len(sizes)).output_sizes(sizes)
        if min(out) < 1:
            raise ConvConfigError("layers", f"a pooling layer leaves no output from {sizes}", "use a larger input")
        return out
    return output_shape(layer, (layer.in_channels, *sizes))[1:]


def check_cell(index: Sequence[int], sizes: Sizes) -> tuple[int, ...]:
    """`index` when it names a cell of a map of `sizes`, else ConvConfigError saying what a cell is.

    >>> check_cell((1, 2), (3, 3))
    (1, 2)
    """
    index = tuple(int(v) for v in index)
    if len(index) != len(sizes) or any(not 0 <= i < n for i, n in zip(index, sizes)):
        raise ConvConfigError("out_index", f"cell {index} is not in the {'×'.join(map(str, sizes))} output",
                              f"pick a cell with {len(sizes)} indices from 0 to one less than each output size")
    return index


def receptive_field(specs: Sequence[Any], input_shape: Sequence[int], out_index: Sequence[int]) -> ReceptiveField:
    """The receptive field of cell `out_index` (spatial, per dimension) of the last layer of `specs` (ConvSpecs and
    `Pool`s) on an input of shape (C, …) or (N, C, …).

    >>> from conv_lab.core.spec import ConvSpec
    >>> rf = receptive_field([ConvSpec(1, 1, 3, padding=1), ConvSpec(1, 1, 3, stride=2, dilation=2)], (1, 9, 9), (1, 0))
    >>> rf.start, rf.stop, rf.size, rf.jump
    ((1, -1), (8, 6), (7, 7), (Fraction(2, 1), Fraction(2, 1)))
    """
    if not specs:
        raise ConvConfigError("layers", "a receptive field needs at least one layer", "add a conv or pooling layer")
    dims = len(specs[0].kernel_nd)
    maps = [tuple(int(v) for v in input_shape[-dims:])]
    for layer in specs:
        maps.append(_sizes_after(layer, maps[-1]))
    index = check_cell(out_index, maps[-1])
    start, stop, jumps = [], [], []
    for axis in range(dims):
        u = v = index[axis]
        empty = False
        for n, layer in reversed(list(enumerate(specs))):
            u, v = back(layer, axis, u, v, maps[n][axis], maps[n + 1][axis])
            empty = empty or v < u  # a transposed layer's output cell between two strided input cells reads none
        start.append(u)
        stop.append(u if empty else v + 1)
        jumps.append(math.prod((jump(layer, axis, maps[n][axis], maps[n + 1][axis]) for n, layer in enumerate(specs)),
                               start=Fraction(1)))
    return ReceptiveField(tuple(start), tuple(stop), tuple(jumps))


def receptive_rows(specs: Sequence[Any], input_shape: Sequence[int]) -> list[ReceptiveField]:
    """Per layer, the receptive field of its first output cell on the network's input (size, jump and start rows
    for a planner table, Araujo et al.'s r_l, j_l and the start of cell 0).

    >>> from conv_lab.core.spec import ConvSpec
    >>> [(r.size, r.start) for r in receptive_rows([ConvSpec(1, 1, 3), Pool(2)], (1, 8, 8))]
    [((3, 3), (0, 0)), ((4, 4), (0, 0))]
    """
    dims = len(specs[0].kernel_nd) if specs else 2
    return [receptive_field(specs[:n + 1], input_shape, (0,) * dims) for n in range(len(specs))]
