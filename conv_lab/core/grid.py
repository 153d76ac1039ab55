"""The grid a kernel slides over: the padded input, or for a transposed conv the zero-inserted, padded grid.

One implementation for every page: the sweep's values and cell kinds, the Shape Lab's picture, the
matrix view. A transposed convolution is the direct convolution it equals (the conv_arithmetic
paper's view): s−1 zeros inserted between input cells, d·(k−1)−p padding around them (negative
padding crops), output_padding extra at the bottom/right, then a stride-1 sweep with the flipped kernel.
Cell kinds are separable (a cell is input when its row and its column are), so the kinds of a
large grid's corner cost only that corner.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES, LayerSpec
from conv_lab.core.shapes import check_input

INPUT, PADDING, INSERTED = range(3)  # cell kinds; pages add their own after these (OUTSIDE, TAP, …)
NUMPY_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def axis_placement(spec: LayerSpec, axis: int, size: int) -> tuple[int, int, int]:
    """(inner size, padding before, padding after) of one axis; negative padding crops a transposed grid.

    >>> axis_placement(ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True), 0, 4)
    (7, 1, 1)
    """
    top, bottom, left, right = spec.pads()
    before, after = ((top, bottom), (left, right))[axis]
    if not spec.transposed:
        return size, before, after
    k, s, d = spec.kernel_hw[axis], spec.stride_hw[axis], spec.dilation_hw[axis]
    pad = d * (k - 1) - before
    return (size - 1) * s + 1, pad, pad + spec.output_padding_hw[axis]


def axis_kinds(spec: LayerSpec, axis: int, size: int) -> np.ndarray:
    """The kind of every cell along one axis of the grid (INPUT, PADDING or INSERTED).

    >>> axis_kinds(ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True), 0, 3).tolist()
    [1, 0, 2, 0, 2, 0, 1]
    """
    inner, before, after = axis_placement(spec, axis, size)
    kinds = np.full(inner, INSERTED, np.uint8)
    kinds[::spec.stride_hw[axis] if spec.transposed else 1] = INPUT
    kinds = kinds[max(0, -before): inner - max(0, -after)]
    return np.concatenate([np.full(max(0, before), PADDING, np.uint8), kinds, np.full(max(0, after), PADDING, np.uint8)])


def grid_kinds(spec: LayerSpec, height: int, width: int, max_side: int | None = None) -> np.ndarray:
    """The kind of every cell of the grid (or of its top-left max_side × max_side corner).

    >>> grid_kinds(ConvSpec(1, 1, 3, padding=1), 2, 2)
    array([[1, 1, 1, 1],
           [1, 0, 0, 1],
           [1, 0, 0, 1],
           [1, 1, 1, 1]], dtype=uint8)
    """
    rows, cols = axis_kinds(spec, 0, height)[:max_side], axis_kinds(spec, 1, width)[:max_side]
    kinds = np.where((rows[:, None] == INPUT) & (cols[None, :] == INPUT), INPUT, INSERTED).astype(np.uint8)
    kinds[(rows[:, None] == PADDING) | (cols[None, :] == PADDING)] = PADDING
    return kinds


def grid_shape(spec: LayerSpec, height: int, width: int) -> tuple[int, int]:
    """Rows and columns of the grid, without building it.

    >>> grid_shape(ConvSpec(1, 1, 3, stride=2, padding=1, transposed=True), 3, 3)
    (7, 7)
    """
    return len(axis_kinds(spec, 0, height)), len(axis_kinds(spec, 1, width))


def check_grid_size(cells: int) -> None:
    """Refuse a sweep grid over `limits.MAX_SWEEP_GRID_CELLS` numbers with a plain ConvConfigError.

    >>> check_grid_size(100)
    """
    if cells > limits.MAX_SWEEP_GRID_CELLS:
        raise ConvConfigError("input_size", f"the sweep's grid would hold {cells:,} numbers, above Conv Lab's cap of "
                              f"{limits.MAX_SWEEP_GRID_CELLS:,} for one sweep", "use a smaller input, fewer channels "
                              "per group or a smaller stride (transposed convs insert stride−1 zeros per cell)")


def one_sample(spec: LayerSpec, x: Any) -> np.ndarray:
    """x as one (C, *sizes) float sample of the layer's rank, checked against the spec; a batch of one is unwrapped,
    others refused.

    >>> one_sample(ConvSpec(1, 1, 3), np.zeros((1, 1, 4, 4))).shape, one_sample(ConvSpec(1, 1, 3, dims=1), [[1, 2, 3]]).shape
    ((1, 4, 4), (1, 3))
    """
    shape = f"(C, {', '.join(sym for _, sym, _ in AXES[spec.dims])})"
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ConvConfigError("input", f"the input is not an array of numbers ({exc})", f"pass a {shape} array") from exc
    if x.ndim == spec.dims + 2 and x.shape[0] == 1:
        x = x[0]
    if x.ndim != spec.dims + 1:
        raise ConvConfigError("input", f"the sweep follows one sample of shape {shape}, got shape {x.shape}",
                              f"pass x[0] of a batch, or a {shape} array")
    check_input(spec, x.shape)
    return x


def grid_and_kinds(spec: LayerSpec, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The grid's values for x (C, H, W), real padding values included, and its cell kinds (capped in size).

    >>> grid, kinds = grid_and_kinds(ConvSpec(1, 1, 2, stride=2, transposed=True), np.ones((1, 2, 2)))
    >>> grid[0].astype(int).tolist()[:2], kinds.shape
    ([[0, 0, 0, 0, 0], [0, 1, 0, 1, 0]], (5, 5))
    """
    c, h, w = x.shape
    (ih, bh, ah), (iw, bw, aw) = axis_placement(spec, 0, h), axis_placement(spec, 1, w)
    check_grid_size(c * max(1, ih + bh + ah) * max(1, iw + bw + aw))
    kinds = grid_kinds(spec, h, w)
    if not spec.transposed:
        return np.pad(x, ((0, 0), (bh, ah), (bw, aw)), mode=NUMPY_MODES[spec.padding_mode]), kinds
    sh, sw = spec.stride_hw
    inner = np.zeros((c, ih, iw))
    inner[:, ::sh, ::sw] = x
    inner = inner[:, max(0, -bh): ih - max(0, -ah), max(0, -bw): iw - max(0, -aw)]  # negative padding crops
    return np.pad(inner, ((0, 0), (max(0, bh), max(0, ah)), (max(0, bw), max(0, aw)))), kinds


def padded_grid(spec: LayerSpec, x: Any) -> np.ndarray:
    """The grid the kernel slides over for x of shape (C, H, W) (or a batch of one): real padding values, or for a
    transposed conv the zero-inserted, padded grid of the equivalent direct convolution.

    >>> padded_grid(ConvSpec(1, 1, 3, padding=1, padding_mode="replicate"), np.arange(4.).reshape(1, 2, 2))[0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]])
    """
    return grid_and_kinds(spec, one_sample(spec, x))[0]
