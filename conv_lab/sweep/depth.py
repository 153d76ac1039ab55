"""A Conv3d sweep, one output depth slice at a time, as the 2-D sweep of the depth slices its kernel touches.

Output (z, r, c) of a 3-D conv is Σ over the filter's channels and its kd depth taps of a 2-D window sum on
depth slice z·s_d + i·d_d of the padded (or zero-inserted, transposed) input. So one output depth slice is a
2-D sweep whose stacked rows are (channel, depth tap) pairs: grid row n is channel n // kd, slice
z·s_d + (n % kd)·d_d, with that depth tap's kh×kw weights. The animation draws a channel's kd slices side by
side with the taps lit on each; the arithmetic sums over depth and channels; the frame caps stay 2-D ones.
"""

from __future__ import annotations

import dataclasses
import numbers
from typing import Optional

import numpy as np

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.grid import (
    INPUT,
    INSERTED,
    NUMPY_MODES,
    PADDING,
    axis_kinds,
    axis_placement,
    grid_and_kinds,
    one_sample,
)
from conv_lab.core.params import LayerSpec, filter_channels
from conv_lab.core.plane import plane_view
from conv_lab.core.shapes import output_shape
from conv_lab.sweep.steps import Sweep, filter_weight, weight_array

MAX_DEPTH_PANELS = 8  # depth slices drawn side by side; a deeper kernel's arithmetic still sums every tap


def depth_view(spec: LayerSpec) -> LayerSpec:
    """The 2-D view of a 3-D layer whose first axis is depth (for `core.grid`'s per-axis placement and kinds).

    >>> from conv_lab import ConvSpec
    >>> depth_view(ConvSpec(1, 1, (3, 1, 1), padding=(2, 0, 0), dims=3)).pads()
    (2, 2, 0, 0)
    """
    plane = plane_view(spec)
    return dataclasses.replace(plane, kernel_nd=(spec.kernel_nd[0], plane.kernel_nd[0]),
                               stride_nd=(spec.stride_nd[0], plane.stride_nd[0]),
                               dilation_nd=(spec.dilation_nd[0], plane.dilation_nd[0]),
                               output_padding_nd=(spec.output_padding_nd[0], plane.output_padding_nd[0]),
                               sides=(spec.pad_pairs()[0], plane.sides[0]))


def depth_index(spec: LayerSpec, depth: int) -> tuple[np.ndarray, np.ndarray]:
    """For every depth slice of the padded (or zero-inserted) grid: the input slice it holds (−1: zeros), and its kind.

    numpy's own padding of the index array gives reflect / replicate / circular padding's slices, as np.pad of the
    values would; only the slices a window reads are then built.

    >>> from conv_lab import ConvSpec
    >>> index, kinds = depth_index(ConvSpec(1, 1, 3, padding=2, padding_mode="reflect", dims=3), 3)
    >>> index.tolist(), kinds.tolist()
    ([2, 1, 0, 1, 2, 1, 0], [1, 1, 0, 0, 0, 1, 1])
    >>> depth_index(ConvSpec(1, 1, 2, stride=2, transposed=True, dims=3), 2)[0].tolist()
    [-1, 0, -1, 1, -1]
    """
    view = depth_view(spec)
    inner, before, after = axis_placement(view, 0, depth)
    if spec.transposed:
        index = np.full(inner, -1)
        index[::spec.stride_nd[0]] = np.arange(depth)
        index = index[max(0, -before): inner - max(0, -after)]
        index = np.pad(index, (max(0, before), max(0, after)), constant_values=-1)
    elif spec.padding_mode == "zeros":
        index = np.pad(np.arange(depth), (before, after), constant_values=-1)
    else:
        index = np.pad(np.arange(depth), (before, after), mode=NUMPY_MODES[spec.padding_mode])
    return index, axis_kinds(view, 0, depth)


class DepthSweep(Sweep):
    """One output depth slice of a Conv3d filter: grid rows are (channel, depth tap) pairs, kd rows per channel.

    >>> from conv_lab import ConvSpec
    >>> s = depth_sweep(ConvSpec(1, 1, 3, padding=1, dims=3), np.ones((1, 2, 3, 3)), np.ones((1, 3, 3, 3)), out_depth=1)
    >>> len(s), s[4].value, s.slices, s.row_label(2), s.position_label(1, 1)
    (9, 18.0, (1, 2, 3), 'ch 0 d3', '(1, 1, 1)')
    """

    def __init__(self, grid, kinds, kernel, bias, stride, dilation, out_shape, channels, *, out_depth: int,
                 out_depths: int, slices: tuple[int, ...], depth_kinds: np.ndarray):
        super().__init__(grid, kinds, kernel, bias, stride, dilation, out_shape, channels)
        self.source_dims, self.out_depth, self.out_depths = 3, out_depth, out_depths
        self.slices, self.depth_kinds = slices, depth_kinds  # padded depth index of each tap; kind of every slice

    @property
    def depth_taps(self) -> int:
        """kd: the kernel's depth taps (grid rows per channel)."""
        return len(self.slices)

    def panels(self, front: int) -> list[int]:
        """The depth slices of the front row's channel, side by side (at most MAX_DEPTH_PANELS)."""
        first = front - front % self.depth_taps
        return [first + i for i in range(min(self.depth_taps, MAX_DEPTH_PANELS))]

    def front_row(self, channel: int) -> int:
        """The first depth slice of input channel `channel` (the group's first channel when it reads another)."""
        return (channel - self.channels[0]) * self.depth_taps if channel in self.channels else 0

    def panel_kinds(self, row: int) -> np.ndarray:
        """Cell kinds of a depth slice: all padding on a padding slice, inserted zeros on an inserted one."""
        kind = self.depth_kinds[self.slices[row % self.depth_taps]]
        if kind == PADDING:
            return np.full_like(self.kinds, PADDING)
        if kind == INSERTED:
            return np.where(self.kinds == INPUT, INSERTED, self.kinds).astype(np.uint8)
        return self.kinds

    def row_label(self, row: int) -> str:
        """'ch c dz': input channel c on depth slice z of the padded input."""
        return f"ch {self.channels[row]} d{self.slices[row % self.depth_taps]}"

    def position_label(self, row: int, col: int) -> str:
        """(depth, row, col) of the output."""
        return f"({self.out_depth}, {row}, {col})"


def depth_sweep(spec: LayerSpec, x, weight, bias: Optional[float] = None, out_channel: int = 0,
                out_depth: int = 0) -> DepthSweep:
    """Every window position of filter `out_channel` on output depth slice `out_depth` of a Conv3d/ConvTranspose3d.

    x is (C, D, H, W) or (1, C, D, H, W); `weight` is the module's whole 5-D weight, or one filter (C_in/groups, kd,
    kh, kw) as `steps.filter_weight` takes it. Step values equal the real module's output[0, out_channel, out_depth].

    >>> from conv_lab import ConvSpec
    >>> s = depth_sweep(ConvSpec(1, 1, (2, 1, 1), dims=3), np.arange(3.).reshape(1, 3, 1, 1), np.ones((1, 2, 1, 1)), 1)
    >>> [s.value for s in s], s.out_depths, s.slices
    ([2.0], 2, (0, 1))
    """
    if getattr(spec, "dims", 2) != 3:
        raise ConvConfigError("dims", "a depth sweep follows a 3-D layer", "use sweep_steps for 1-D and 2-D layers")
    x, weight = one_sample(spec, x), weight_array(weight)
    _, _, depths, ho, wo = output_shape(spec, (1, *x.shape))
    check_index("filter", out_channel, spec.out_channels)
    check_index("out_depth", out_depth, depths)
    channels = filter_channels(spec.in_channels, spec.out_channels, spec.groups, int(out_channel))
    if weight.ndim == 5:
        weight = filter_weight(spec, weight, int(out_channel))
    slices, sources, depth_kinds = depth_sources(spec, x.shape[1], int(out_depth))
    taps = x[channels.start:channels.stop, np.maximum(sources, 0)] * (sources >= 0)[None, :, None, None]
    return taps_sweep(spec, taps, weight, bias, int(out_channel), int(out_depth), (depths, ho, wo), slices, depth_kinds)


def check_index(name: str, value, count: int) -> None:
    """ConvConfigError unless value is a whole number in 0…count−1 (a filter, an output depth slice).

    >>> check_index("out_depth", 2, 3)
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 0 <= value < count:
        raise ConvConfigError(name, f"{name} {value} does not exist; there are {count}",
                              f"pick a {name} between 0 and {count - 1}")


def depth_sources(spec: LayerSpec, depth: int, out_depth: int) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """The padded-grid depth slice under each depth tap of output depth `out_depth`, the input slice each holds
    (−1: zeros), and the kind of every padded depth slice.

    >>> from conv_lab import ConvSpec
    >>> slices, sources, _ = depth_sources(ConvSpec(1, 1, 3, padding=1, dims=3), 4, 0); slices, sources.tolist()
    ((0, 1, 2), [-1, 0, 1])
    """
    index, depth_kinds = depth_index(spec, depth)
    step = 1 if spec.transposed else spec.stride_nd[0]
    slices = tuple(out_depth * step + i * spec.dilation_nd[0] for i in range(spec.kernel_nd[0]))
    return slices, index[list(slices)], depth_kinds


def taps_sweep(spec: LayerSpec, taps: np.ndarray, weight: np.ndarray, bias: Optional[float], out_channel: int,
               out_depth: int, out_size: tuple[int, int, int], slices: tuple[int, ...],
               depth_kinds: np.ndarray) -> DepthSweep:
    """The DepthSweep of one filter (C_in/groups, kd, kh, kw) over the input slices under its depth taps, taps
    (C_in/groups, kd, H, W) (zeros where a tap reads padding), as `depth_sources` names them."""
    channels = tuple(filter_channels(spec.in_channels, spec.out_channels, spec.groups, out_channel))
    kd, kh, kw = spec.kernel_nd
    if weight.shape != (len(channels), kd, kh, kw):
        raise ConvConfigError("weight", f"expected the module's 5-D weight or one filter of shape "
                              f"{(len(channels), kd, kh, kw)}, got {weight.shape}", "pass module.weight and out_channel")
    plane = plane_view(spec)
    grid, kinds = grid_and_kinds(plane, taps.reshape(-1, *taps.shape[2:]))  # (C·kd, Hp, Wp): only these slices
    kernel = weight[:, ::-1, ::-1, ::-1] if spec.transposed else weight
    depths, ho, wo = out_size
    sweep = DepthSweep(grid, kinds, kernel.reshape(-1, kh, kw).copy(),
                       bias, (1, 1) if spec.transposed else plane.stride_hw, plane.dilation_hw, (ho, wo),
                       tuple(c for c in channels for _ in range(kd)), out_depth=out_depth, out_depths=depths,
                       slices=slices, depth_kinds=depth_kinds)
    sweep.flipped = spec.transposed
    return sweep
