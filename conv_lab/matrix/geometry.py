"""Convolution as a matrix: the sparse matrix C, the padding operator P, and why a transposed conv is Cᵀ.

Pure numpy, no torch (torch is the oracle in the tests; `matrix_run` runs the real modules).
C has one row per output cell and one column per input cell, channel by channel, row by row.
Built over the padded grid ("padding columns"), C_pad·pad(x) = y; over the input cells,
C = C_pad·P where P copies input cells into the padded grid (zeros: no copy; reflect,
replicate, circular: the padding cell's column is added onto the column of the cell it copies).
A ConvTranspose2d layer is Cᵀ of the matching Conv2d (channels swapped, same kernel tensor).
A 1-D layer is a one-row grid (its 2-D view, `ConvSpec.kernel_hw`/`pads()`: causal padding is left-only columns);
a 3-D layer is refused in plain words (the page offers its 2-D plane).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import Pair, filter_channels
from conv_lab.core.shapes import check_input
from conv_lab.core.spec import ConvSpec

ZERO, FOLDED = -1, -2  # tap ids: an empty cell of C, a cell summing several kernel weights


@dataclass(frozen=True)
class MatrixGeometry:
    """Sizes of C for a layer: the direct conv whose matrix it is, its input grid, padding and output grid."""

    layer: ConvSpec  # the configured layer (Conv1d/2d or ConvTranspose1d/2d)
    direct: ConvSpec  # the direct conv whose matrix is C (the layer itself, or its matching direct conv)
    grid_hw: Pair  # C's input grid; for a transposed layer this is the layer's OUTPUT size
    out_hw: Pair  # C's output grid; for a transposed layer this is the layer's INPUT size
    pads: tuple[int, int, int, int]  # (top, bottom, left, right)

    @property
    def dims(self) -> int:
        """1 or 2: a 1-D layer's grids are one row."""
        return self.layer.dims

    def sizes(self, hw: Pair) -> tuple[int, ...]:
        """A grid's size as the layer counts it: (L,) for a 1-D layer, (H, W) otherwise."""
        return tuple(hw[1:]) if self.dims == 1 else tuple(hw)

    @property
    def padded_hw(self) -> Pair:
        """The grid the kernel slides over."""
        top, bottom, left, right = self.pads
        return self.grid_hw[0] + top + bottom, self.grid_hw[1] + left + right

    @property
    def rows(self) -> int:
        """Rows of C: output cells of every filter."""
        return self.direct.out_channels * self.out_hw[0] * self.out_hw[1]

    def cols(self, padded: bool = False) -> int:
        """Columns of C: input cells of every channel (with the padding cells when `padded`)."""
        h, w = self.padded_hw if padded else self.grid_hw
        return self.direct.in_channels * h * w

    def block_shape(self, padded: bool = False) -> Pair:
        """Shape of one block of C: one filter against one input channel."""
        h, w = self.padded_hw if padded else self.grid_hw
        return self.out_hw[0] * self.out_hw[1], h * w

    def fits(self, padded: bool = False) -> bool:
        """True when the whole C (every block) is small enough to draw."""
        return max(self.rows, self.cols(padded)) <= limits.MAX_MATRIX_CELLS

    def block_fits(self, padded: bool = False) -> bool:
        """True when one block (one filter × one channel) is small enough to draw."""
        return max(self.block_shape(padded)) <= limits.MAX_MATRIX_CELLS

    @property
    def buildable(self) -> bool:
        """True when the whole C_pad is small enough to hold in memory (so any block can be cut from it)."""
        return self.rows * self.cols(padded=True) <= limits.MAX_MATRIX_ENTRIES


def geometry(spec: ConvSpec, height: int, width: int) -> MatrixGeometry:
    """Sizes of C for `spec` on a height×width input (1-D: height 1, width L); raises ConvConfigError for impossible
    layers and for 3-D ones.

    >>> g = geometry(ConvSpec(1, 1, 3), 4, 4)
    >>> g.rows, g.cols(), g.out_hw
    (4, 16, (2, 2))
    >>> g = geometry(ConvSpec(1, 1, 3, padding="causal", dims=1), 1, 6)
    >>> g.rows, g.cols(padded=True), g.out_hw, g.pads
    (6, 8, (1, 6), (0, 0, 2, 0))
    """
    if spec.dims == 3:
        raise ConvConfigError("dims", "the matrix view draws 1-D and 2-D layers; a 3-D layer's C (one row per output "
                              "cell D×H×W, one column per input cell) is too large to read even for tiny inputs",
                              "switch to 2-D to see C for the layer's H×W plane, or to 1-D")
    sizes = (width,) if spec.dims == 1 else (height, width)
    shape = check_input(spec, (spec.in_channels, *sizes))
    out = spec.output_shape(shape)[1:]
    grid, out_hw = ((1, width), (1, out[0])) if spec.dims == 1 else ((height, width), tuple(out))
    if not spec.transposed:
        return MatrixGeometry(spec, spec, grid, out_hw, spec.pads())
    direct = ConvSpec(spec.out_channels, spec.in_channels, spec.kernel_size, spec.stride, spec.padding,
                      spec.dilation, spec.groups, bias=False, dims=spec.dims)
    return MatrixGeometry(spec, direct, out_hw, grid, direct.pads())


def _entries(geom: MatrixGeometry) -> tuple[np.ndarray, ...]:
    """(row, padded column, flat weight index, tap id) of every non-zero of C_pad."""
    d = geom.direct
    cin_g = d.in_channels // d.groups  # input channels per filter: the weight's dimension 1
    first = np.array([filter_channels(d.in_channels, d.out_channels, d.groups, f).start for f in range(d.out_channels)])
    (ho, wo), (hp, wp) = geom.out_hw, geom.padded_hw
    (kh, kw), (sh, sw), (dh, dw) = d.kernel_hw, d.stride_hw, d.dilation_hw
    o, i, j, cl, a, b = (v.ravel() for v in np.meshgrid(np.arange(d.out_channels), np.arange(ho), np.arange(wo),
                                                        np.arange(cin_g), np.arange(kh), np.arange(kw), indexing="ij"))
    channel = first[o] + cl
    row = (o * ho + i) * wo + j
    col = (channel * hp + i * sh + a * dh) * wp + j * sw + b * dw
    weight_index = ((o * cin_g + cl) * kh + a) * kw + b
    return row, col, weight_index, a * kw + b


def _check_buildable(geom: MatrixGeometry) -> None:
    if not geom.buildable:
        rows, cols = geom.rows, geom.cols(padded=True)
        raise ConvConfigError("input_size", f"C would be {rows}×{cols} = {rows * cols:,} numbers, above Conv Lab's cap of "
                              f"{limits.MAX_MATRIX_ENTRIES:,}", "use a smaller input or fewer channels and filters")


def padded_matrix(geom: MatrixGeometry, weight: np.ndarray) -> np.ndarray:
    """C_pad: rows = output cells, columns = padded-grid cells; weight has torch's Conv2d layout.

    >>> padded_matrix(geometry(ConvSpec(1, 1, 2), 2, 3), np.array([[[[1, 2], [3, 4]]]]))
    array([[1., 2., 0., 3., 4., 0.],
           [0., 1., 2., 0., 3., 4.]])
    """
    _check_buildable(geom)
    row, col, weight_index, _ = _entries(geom)
    matrix = np.zeros((geom.rows, geom.cols(padded=True)))
    matrix[row, col] = np.asarray(weight, dtype=float).ravel()[weight_index]
    return matrix


def _source(size: int, before: int, after: int, mode: str) -> np.ndarray:
    """For each padded position along one axis, the input position it holds (-1: a zero)."""
    idx = np.arange(-before, size + after)
    if mode == "zeros":
        return np.where((idx >= 0) & (idx < size), idx, -1)
    if mode == "replicate":
        return np.clip(idx, 0, size - 1)
    if mode == "circular":
        return idx % size
    period = max(1, 2 * (size - 1))  # reflect: mirror without repeating the edge
    folded = np.abs(idx) % period if size > 1 else np.zeros_like(idx)
    return np.where(folded >= size, period - folded, folded)


def padding_operator(geom: MatrixGeometry) -> np.ndarray:
    """P: (padded cells × input cells), P·x = the padded input (zeros: empty rows; other modes: copies).

    >>> padding_operator(geometry(ConvSpec(1, 1, 1, padding=1, padding_mode="replicate"), 1, 1)).ravel()
    array([1., 1., 1., 1., 1., 1., 1., 1., 1.])
    """
    _check_buildable(geom)
    source = padded_sources(geom)
    operator = np.zeros((geom.cols(padded=True), geom.cols()))
    held = np.flatnonzero(source >= 0)
    operator[held, source[held]] = 1.0
    return operator


def padded_sources(geom: MatrixGeometry) -> np.ndarray:
    """For each padded-grid cell (a column of C_pad), the input cell (column of C) it holds; -1 for a zero.

    >>> padded_sources(geometry(ConvSpec(1, 1, 1, padding=1), 1, 2)).reshape(3, 4)
    array([[-1, -1, -1, -1],
           [-1,  0,  1, -1],
           [-1, -1, -1, -1]])
    """
    top, bottom, left, right = geom.pads
    (h, w), mode = geom.grid_hw, geom.direct.padding_mode
    rr, cc = np.meshgrid(_source(h, top, bottom, mode), _source(w, left, right, mode), indexing="ij")
    one = np.where((rr >= 0) & (cc >= 0), rr * w + cc, -1).ravel()
    channels = np.arange(geom.direct.in_channels)[:, None] * (h * w)
    return np.where(one >= 0, channels + one, -1).ravel()


def fold_padding(values: np.ndarray, geom: MatrixGeometry) -> np.ndarray:
    """values·P (P = `padding_operator`) without building P: each padded column is added into the input column it
    holds. Work and memory grow with values' size, not with rows × padded columns × columns: P is dense, and the
    products took 0.4 s for a 4-channel 20×20 grid, 3 s and 2 GB for 16 channels of 52×52 (issue 17).

    >>> g = geometry(ConvSpec(1, 1, 1, padding=1, padding_mode="replicate"), 1, 2)
    >>> v = np.arange(12.).reshape(1, 12)
    >>> bool(np.array_equal(fold_padding(v, g), v @ padding_operator(g)))
    True
    """
    values = np.asarray(values, dtype=float)
    source = padded_sources(geom)
    held = np.flatnonzero(source >= 0)
    order = held[np.argsort(source[held], kind="stable")]  # padded columns grouped by the input column they hold
    targets = source[order]
    starts = np.flatnonzero(np.r_[True, targets[1:] != targets[:-1]])
    folded = np.zeros((*values.shape[:-1], geom.cols()))
    folded[..., targets[starts]] = np.add.reduceat(values[..., order], starts, axis=-1)
    return folded


def is_padding_column(geom: MatrixGeometry) -> np.ndarray:
    """Boolean per padded-grid column of C_pad: True for padding cells.

    >>> int(is_padding_column(geometry(ConvSpec(1, 1, 3, padding=1), 1, 1)).sum())
    8
    """
    top, bottom, left, right = geom.pads
    (h, w), (hp, wp) = geom.grid_hw, geom.padded_hw
    block = np.ones((hp, wp), dtype=bool)
    block[top:top + h, left:left + w] = False
    return np.tile(block.ravel(), geom.direct.in_channels)


def conv_matrix(geom: MatrixGeometry, weight: np.ndarray, padded: bool = False) -> np.ndarray:
    """C over the input cells (C_pad·P), or C_pad when `padded`; y = C·x (+ bias) is the layer's output.

    >>> conv_matrix(geometry(ConvSpec(1, 1, 2, padding=1), 1, 1), np.array([[[[1, 2], [3, 4]]]])).ravel()
    array([4., 3., 2., 1.])
    """
    matrix = padded_matrix(geom, weight)
    return matrix if padded else fold_padding(matrix, geom)


def tap_ids(geom: MatrixGeometry, padded: bool = False) -> np.ndarray:
    """Which kernel tap (a·kw + b) fills each cell of C: ZERO for none, FOLDED when copies add several.

    >>> tap_ids(geometry(ConvSpec(1, 1, 2), 2, 2))
    array([[0, 1, 2, 3]])
    """
    _check_buildable(geom)
    row, col, _, tap = _entries(geom)
    taps = np.full((geom.rows, geom.cols(padded=True)), ZERO)
    taps[row, col] = tap
    if padded:
        return taps
    count = fold_padding(taps != ZERO, geom)
    single = np.rint(fold_padding(taps + 1, geom)).astype(int) - 1
    return np.where(count == 0, ZERO, np.where(count == 1, single, FOLDED))


def window_cells(geom: MatrixGeometry, out_cell: Pair) -> list[tuple[int, int, int]]:
    """(padded row, padded col, tap id) of every kernel tap the output cell's window covers.

    >>> window_cells(geometry(ConvSpec(1, 1, 2, stride=2), 4, 4), (1, 1))
    [(2, 2, 0), (2, 3, 1), (3, 2, 2), (3, 3, 3)]
    """
    (kh, kw), (sh, sw), (dh, dw) = geom.direct.kernel_hw, geom.direct.stride_hw, geom.direct.dilation_hw
    i, j = out_cell
    return [(i * sh + a * dh, j * sw + b * dw, a * kw + b) for a in range(kh) for b in range(kw)]


def window_counts(geom: MatrixGeometry) -> np.ndarray:
    """For a transposed layer, the non-zeros in each row of Cᵀ (a column of C, one filter × one channel): how many
    windows write each output cell, shaped like the layer's output. Uneven counts are the checkerboard.

    >>> window_counts(geometry(ConvSpec(1, 1, 3, stride=2, transposed=True, dims=1), 1, 4)).tolist()
    [1, 1, 2, 1, 2, 1, 2, 1, 1]
    """
    d = geom.direct
    one = replace(geom, direct=ConvSpec(1, 1, d.kernel_size, d.stride, d.padding, d.dilation, dims=d.dims))
    _, col, _, _ = _entries(one)
    hits = np.bincount(col, minlength=one.cols(padded=True)).reshape(one.padded_hw)
    (h, w), (top, _, left, _) = geom.grid_hw, geom.pads
    return hits[top:top + h, left:left + w].reshape(geom.sizes(geom.grid_hw))
