"""Receptive fields of a stack of conv and pooling layers, as in Araujo, Norris & Sim, "Computing Receptive Fields of
Convolutional Neural Networks" (Distill, 2019).

Walking back from one output cell, a direct layer (conv or pooling) with kernel k, stride s, dilation d and padding p
before maps the cells [u, v] of its output to [u·s − p, v·s − p + d·(k−1)] of its input; a transposed layer maps them
to [⌈(u + p − d·(k−1)) / s⌉, ⌊(v + p) / s⌋]. The box is half-open (`stop` is one past the last cell) and *unclipped*:
it may reach into the padding (negative, or past the input's end). It is empty (stop = start) when a transposed
layer's cell falls between its strided input cells and no tap reaches it. `jump` is the distance in input cells between
neighbouring output cells (the product of the strides; a transposed layer divides by its stride).

What autograd measures (the non-zero support of ∂out/∂x) always lies inside the clipped box. Its bounding box equals
the clipped box on each side the unclipped box does not cross, for direct layers: the extreme taps chain through real
cells. Where the box crosses into the padding, dilation holes and strides can leave the first cells inside the input
unread, and a transposed layer with dilation can skip its extreme cells: there the support may be smaller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Sequence

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


def _back(layer: Any, u: int, v: int, axis: int) -> tuple[int, int]:
    """The input cells [u', v'] that output cells [u, v] of one layer read, along one axis."""
    k, s, d = layer.kernel_nd[axis], layer.stride_nd[axis], layer.dilation_nd[axis]
    before = layer.pad_pairs()[axis][0]
    if getattr(layer, "transposed", False):
        return -((-(u + before - d * (k - 1))) // s), (v + before) // s
    return u * s - before, v * s - before + d * (k - 1)


def receptive_field(specs: Sequence[Any], input_shape: Sequence[int], out_index: Sequence[int]) -> ReceptiveField:
    """The receptive field of cell `out_index` (spatial, per dimension) of the last layer of `specs` (ConvSpecs and
    `Pool`s) on an input of shape (C, …) or (N, C, …).

    >>> from conv_lab import ConvSpec
    >>> rf = receptive_field([ConvSpec(1, 1, 3, padding=1), ConvSpec(1, 1, 3, stride=2, dilation=2)], (1, 9, 9), (1, 0))
    >>> rf.start, rf.stop, rf.size, rf.jump
    ((1, -1), (8, 6), (7, 7), (Fraction(2, 1), Fraction(2, 1)))
    """
    if not specs:
        raise ConvConfigError("layers", "a receptive field needs at least one layer", "add a conv or pooling layer")
    dims = len(specs[0].kernel_nd)
    sizes = tuple(int(v) for v in input_shape[-dims:])
    maps = [sizes]
    for layer in specs:
        maps.append(_sizes_after(layer, maps[-1]))
    index = tuple(int(v) for v in out_index)
    last = maps[-1]
    if len(index) != dims or any(not 0 <= i < n for i, n in zip(index, last)):
        raise ConvConfigError("out_index", f"cell {index} is not in the {'×'.join(map(str, last))} output",
                              f"pick a cell with {dims} indices from 0 to one less than each output size")
    start, stop = [], []
    for axis in range(dims):
        u = v = index[axis]
        empty = False
        for layer in reversed(specs):
            u, v = _back(layer, u, v, axis)
            empty = empty or v < u  # a transposed layer's output cell between two strided input cells reads none
        start.append(u)
        stop.append(u if empty else v + 1)
    jump = tuple(math.prod((Fraction(1, layer.stride_nd[a]) if getattr(layer, "transposed", False)
                            else Fraction(layer.stride_nd[a]) for layer in specs), start=Fraction(1))
                 for a in range(dims))
    return ReceptiveField(tuple(start), tuple(stop), jump)


def receptive_rows(specs: Sequence[Any], input_shape: Sequence[int]) -> list[ReceptiveField]:
    """Per layer, the receptive field of its first output cell on the network's input (size, jump and start rows
    for a planner table, Araujo et al.'s r_l, j_l and the start of cell 0).

    >>> from conv_lab import ConvSpec
    >>> [(r.size, r.start) for r in receptive_rows([ConvSpec(1, 1, 3), Pool(2)], (1, 8, 8))]
    [((3, 3), (0, 0)), ((4, 4), (0, 0))]
    """
    dims = len(specs[0].kernel_nd) if specs else 2
    return [receptive_field(specs[:n + 1], input_shape, (0,) * dims) for n in range(len(specs))]
