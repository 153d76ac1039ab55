"""The backward sweeps of /gradients, drawn by the kernel sweep's own animation, player and GIF (pure numpy).

- **∂L/∂x** of a direct layer: the flipped kernel (in/out channels swapped inside the group) slides at stride 1 over
  the output gradient g, zero-inserted by the stride and padded by d·(k−1) (plus the uncovered trailing cells): each
  step writes one cell of the *padded* input's gradient; the page then scatters the padding cells back. For a
  transposed layer: the kernel slides unflipped over g padded by p, at the layer's stride: a direct convolution.
- **∂L/∂w**: the output gradient, its cells s apart, slides under the padded input (a transposed layer: x under the
  padded g), one step per kernel tap, taps d apart.

The seeded values (`backward_values`) are small whole numbers by default, so every product can be checked by eye.
1-D layers are drawn as a one-row strip; 3-D layers are not drawn (their gradients are still computed and checked).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.grid import INPUT, INSERTED, NUMPY_MODES, PADDING, check_grid_size
from conv_lab.core.params import fmt
from conv_lab.core.plane import plane_view
from conv_lab.core.state import LabConfig
from conv_lab.sweep.steps import Sweep, SweepLabels

WHICH = ("input", "weight")


@dataclass(frozen=True)
class BackwardValues:
    """One sample's seeded x (C, …), the layer's weight and bias, and the upstream gradient g (C_out, …)."""

    x: np.ndarray
    weight: np.ndarray
    bias: np.ndarray | None
    grad_output: np.ndarray


def _draw(seed: list[int], shape: tuple[int, ...], kind: str, lo: int, hi: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "int":
        return rng.integers(lo, hi + 1, size=shape).astype(np.float64)
    return np.round(rng.normal(0.0, 1.0, size=shape), 2)


@lru_cache(maxsize=8)
def backward_values(config: LabConfig, values: str = "int", seed: int = 0) -> BackwardValues:
    """Seeded values for the layer (inputs 0…9, weights and g −2…2, bias 1…3; or floats with two decimals).

    >>> v = backward_values(LabConfig(1, 4, 4, 2, kernel_size=(3, 3)))
    >>> v.x.shape, v.weight.shape, v.grad_output.shape, v.bias.tolist()
    ((1, 4, 4), (2, 1, 3, 3), (2, 2, 2), [2.0, 3.0])
    """
    spec = config.spec()
    out = spec.output_shape((1, *config.input_shape()[1:]))
    if spec.transposed:
        weight_shape = (spec.in_channels, spec.out_channels // spec.groups, *spec.kernel_nd)
    else:
        weight_shape = (spec.out_channels, spec.in_channels // spec.groups, *spec.kernel_nd)
    bias = _draw([seed, 3], (spec.out_channels,), values, 1, 3) if spec.bias else None
    return BackwardValues(_draw([seed, 1], config.input_shape()[1:], values, 0, 9),
                          _draw([seed, 2], weight_shape, values, -2, 2), bias,
                          _draw([seed, 4], out[1:], values, -2, 2))


def _planes(array: np.ndarray) -> np.ndarray:
    """(C, …) as (C, H, W): a 1-D strip gets one row."""
    return array[:, None, :] if array.ndim == 2 else array


@dataclass(frozen=True)
class BackwardRequest:
    """One backward sweep: of ∂L/∂x (following input channel `channel`) or ∂L/∂w (filter `filter_index`'s weights
    on input channel `channel`). Hashable: its animation is cached and rendered in the sweep's worker pool.

    >>> sweep = BackwardRequest(LabConfig(1, 4, 4, 1, kernel_size=(2, 2), stride=(2, 2))).build()
    >>> sweep.out_shape, sweep.grid.shape, sweep.stride
    ((4, 4), (1, 5, 5), (1, 1))
    """

    config: LabConfig
    which: str = "input"
    filter_index: int = 0
    channel: int = 0
    values: str = "int"
    seed: int = 0

    def title(self) -> str:
        """The animation's title line."""
        spec = self.config.spec()
        if self.which == "input":
            return f"{spec.module_name} backward: ∂L/∂x, input channel {self.channel}"
        return f"{spec.module_name} backward: ∂L/∂w, filter {self.filter_index}, input channel {self.channel}"

    def build(self) -> Sweep:
        """The sweep (raises ConvConfigError for a 3-D layer, a missing channel or a grid over the caps)."""
        spec = self.config.spec()
        if spec.dims == 3:
            raise ConvConfigError("dims", "the backward sweep draws 1-D and 2-D layers; a 3-D layer's gradients are "
                                  "computed and checked above", "switch to 2-D in the sidebar to watch the sweep")
        if self.which not in WHICH:
            raise ConvConfigError("sweep", f"'{self.which}' is not a backward sweep", "use input or weight")
        per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
        if not 0 <= self.channel < spec.in_channels or not 0 <= self.filter_index < spec.out_channels:
            raise ConvConfigError("channel", f"input channel {self.channel} or filter {self.filter_index} does not "
                                  "exist", f"pick a channel below {spec.in_channels} and a filter below {spec.out_channels}")
        group = self.channel // per_in
        outs = tuple(range(group * per_out, (group + 1) * per_out))
        if self.which == "weight" and self.filter_index not in outs:
            raise ConvConfigError("filter", f"filter {self.filter_index} does not read input channel {self.channel} "
                                  f"(groups={spec.groups})", f"pick a filter in {outs[0]}…{outs[-1]}")
        view = plane_view(spec)
        v = backward_values(self.config, self.values, self.seed)
        x, g = _planes(v.x), _planes(v.grad_output)
        kernel_w = v.weight if spec.dims == 2 else v.weight[:, :, None, :]
        if self.which == "input":
            return _input_sweep(view, x, g, kernel_w, self.channel, outs)
        return _weight_sweep(view, x, g, kernel_w, self.channel, self.filter_index)


def _input_sweep(view, x: np.ndarray, g: np.ndarray, weight: np.ndarray, channel: int, outs: tuple) -> Sweep:
    (kh, kw), (sh, sw), (dh, dw) = view.kernel_hw, view.stride_hw, view.dilation_hw
    top, bottom, left, right = view.pads()
    _, h, w = x.shape
    block = g[outs[0]:outs[-1] + 1]
    if view.transposed:  # the direct conv of g, padded by p, at the layer's stride; the kernel as it is
        check_grid_size(len(outs) * (g.shape[1] + top + bottom) * (g.shape[2] + left + right))
        grid = np.pad(block, ((0, 0), (top, bottom), (left, right)))
        kinds = np.full(grid.shape[1:], PADDING, np.uint8)
        kinds[top:top + g.shape[1], left:left + g.shape[2]] = INPUT
        kernel = weight[channel]
        sweep = Sweep(grid, kinds, kernel, None, (sh, sw), (dh, dw), (h, w), outs)
        sweep.labels = SweepLabels("g, padded", "weights", "x.grad", "g × w")
        return sweep
    hp, wp = h + top + bottom, w + left + right
    inner_h, inner_w = (g.shape[1] - 1) * sh + 1, (g.shape[2] - 1) * sw + 1
    reach_h, reach_w = dh * (kh - 1), dw * (kw - 1)
    check_grid_size(len(outs) * (reach_h + hp) * (reach_w + wp))
    pads = ((reach_h, hp - inner_h), (reach_w, wp - inner_w))  # d·(k−1) before; after it, + the uncovered cells
    spread = np.zeros((len(outs), inner_h, inner_w))
    spread[:, ::sh, ::sw] = block
    grid = np.pad(spread, ((0, 0), *pads))
    kinds = np.full(grid.shape[1:], PADDING, np.uint8)
    inner = np.full((inner_h, inner_w), INSERTED, np.uint8)
    inner[::sh, ::sw] = INPUT
    kinds[reach_h:reach_h + inner_h, reach_w:reach_w + inner_w] = inner
    per_in = weight.shape[1]
    kernel = weight[outs[0]:outs[-1] + 1, channel % per_in, ::-1, ::-1].copy()  # channels swapped, flipped
    sweep = Sweep(grid, kinds, kernel, None, (1, 1), (dh, dw), (hp, wp), outs)
    sweep.flipped = False  # the caption says "(flipped)" itself
    sweep.labels = SweepLabels("g, zero-inserted + padded", "weights (flipped)", "x.grad (padded)",
                                "g × w")
    return sweep


def _weight_sweep(view, x: np.ndarray, g: np.ndarray, weight: np.ndarray, channel: int, filter_index: int) -> Sweep:
    (kh, kw), (sh, sw), (dh, dw) = view.kernel_hw, view.stride_hw, view.dilation_hw
    top, bottom, left, right = view.pads()
    if view.transposed:  # x[c] slides, its cells s apart, under g[o] padded by p
        per_out = weight.shape[1]
        grid = np.pad(g[filter_index:filter_index + 1], ((0, 0), (top, bottom), (left, right)))
        inside, taps, labels = g.shape[1:], x[channel:channel + 1], SweepLabels("g, padded", "input x",
                                                                                  "weight.grad", "g × x")
        channels = (filter_index % per_out,)
    else:  # g[o] slides, its cells s apart, under the padded input x[c]
        mode = NUMPY_MODES[view.padding_mode]
        grid = np.pad(x[channel:channel + 1], ((0, 0), (top, bottom), (left, right)), mode=mode)
        inside, taps, labels = x.shape[1:], g[filter_index:filter_index + 1], SweepLabels("padded input x",
                                                                                            "output gradient g",
                                                                                            "weight.grad", "x × g")
        channels = (channel,)
    if max(grid.shape[1:]) > limits.MAX_SWEEP_GRID:
        raise WorkCapError("input_size", f"the weight-gradient sweep draws the whole {fmt(grid.shape[1:])} grid in "
                           f"every frame; Conv Lab draws grids up to {limits.MAX_SWEEP_GRID} cells a side",
                           "use a smaller input to watch it (the numbers above are still exact)")
    kinds = np.full(grid.shape[1:], PADDING, np.uint8)
    kinds[top:top + inside[0], left:left + inside[1]] = INPUT
    sweep = Sweep(grid, kinds, taps, None, (dh, dw), (sh, sw), (kh, kw), channels)
    sweep.labels = labels
    return sweep


def fold_map(spec, size: int, axis: int) -> list[tuple[int, int]]:
    """(padded cell, input cell it copies) for the padding cells of one axis (reflect/replicate/circular), so the page
    can say where each padding cell's gradient goes.

    >>> from conv_lab import ConvSpec
    >>> fold_map(ConvSpec(1, 1, 3, padding=1, padding_mode="reflect"), 4, 1)
    [(0, 1), (5, 2)]
    """
    top, bottom, left, right = plane_view(spec).pads()
    before, after = ((top, bottom), (left, right))[axis]
    if spec.padding_mode == "zeros":
        return []
    cells = list(range(-before, 0)) + list(range(size, size + after))
    if spec.padding_mode == "replicate":
        sources = [min(max(c, 0), size - 1) for c in cells]
    elif spec.padding_mode == "circular":
        sources = [c % size for c in cells]
    else:
        sources = [abs(c) if abs(c) <= size - 1 else 2 * (size - 1) - abs(c) for c in cells]
    return [(c + before, s) for c, s in zip(cells, sources)]


def region_cap_text(sweep: Sweep) -> str:
    """One caption line: what the sweep's output is and how many steps it takes.

    >>> region_cap_text(BackwardRequest(LabConfig(1, 4, 4, 1, kernel_size=(2, 2))).build())
    '16 steps → x.grad (padded) 4×4'
    """
    return f"{len(sweep)} steps → {sweep.labels.output} {fmt(sweep.out_shape)}"
