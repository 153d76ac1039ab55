"""The /matrix page's five pictures for one choice of layer and options, as cached PNG bytes.

`MatrixChoice` is hashable, so a repeat (a slider moved back, a toggle flipped back, another student
opening the same link) is a dictionary look-up. Each picture is keyed only by what it depends on (the
im2col picture does not change with the padding toggle, for instance), and the numbers behind all
five come from one cached `matrix_bundle` per layer. Only PNG bytes are kept, never figures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from conv_lab import limits
from conv_lab.byte_cache import byte_lru_cache
from conv_lab.core.params import Pair
from conv_lab.core.spec import ConvSpec
from conv_lab.matrix.figures import Panel, grid_labels, matrix_png, pair_png, product_cell_px, product_png, window_png
from conv_lab.matrix.geometry import MatrixGeometry, geometry, is_padding_column
from conv_lab.matrix.run import MatrixBundle, matrix_bundle, matrix_example
from conv_lab.matrix.text import block, kernel_for


@dataclass(frozen=True)
class MatrixChoice:
    """What the page shows: the layer, its input size, and the page's options (a cache key)."""

    spec: ConvSpec
    height: int
    width: int
    padded: bool = False  # padding cells as columns of C
    whole: bool = True  # every block of C, or only block (filter_index, channel)
    filter_index: int = 0
    channel: int = 0
    cell: Pair = (0, 0)  # the selected output cell (a transposed layer: the selected input cell)

    @property
    def geom(self) -> MatrixGeometry:
        """C's sizes for this layer."""
        return geometry(self.spec, self.height, self.width)

    @property
    def bundle(self) -> MatrixBundle:
        """The cached numbers behind the pictures."""
        return matrix_bundle(self.spec, self.height, self.width)

    @property
    def row(self) -> int:
        """The selected cell's row within one filter's block of C."""
        return self.cell[0] * self.geom.out_hw[1] + self.cell[1]


@dataclass(frozen=True)
class ShownMatrix:
    """The part of C a picture shows (all of it, or one block), with its labels and the highlighted row."""

    taps: np.ndarray
    values: np.ndarray
    grey_cols: np.ndarray | None
    row: int
    blocks: Pair  # rows and columns per block (0: no separators)
    row_labels: list[str]
    col_labels: list[str]


def shown_matrix(choice: MatrixChoice, padded: bool) -> ShownMatrix:
    """C (or C_pad) whole or as the chosen block, with its labels and the selected row.

    >>> s = shown_matrix(MatrixChoice(ConvSpec(2, 2, 3), 4, 4, whole=False, filter_index=1, channel=1), False)
    >>> s.taps.shape, s.row, s.col_labels[:2]
    ((4, 16), 0, ['(0,0)', '(0,1)'])
    """
    geom, bundle = choice.geom, choice.bundle
    d, (ho, wo) = geom.direct, geom.out_hw
    taps = bundle.tap_ids(padded)
    values = bundle.example.padded_matrix if padded else bundle.example.matrix
    grey = is_padding_column(geom) if padded else None
    hw = geom.padded_hw if padded else geom.grid_hw
    if choice.whole:
        return ShownMatrix(taps, values, grey, choice.filter_index * ho * wo + choice.row, (ho * wo, hw[0] * hw[1]),
                           grid_labels((ho, wo), d.out_channels, "f", geom.dims),
                           grid_labels(hw, d.in_channels, dims=geom.dims))
    f, c = choice.filter_index, choice.channel
    grey = None if grey is None else block(grey[None], geom, 0, c, padded)[0]
    return ShownMatrix(block(taps, geom, f, c, padded), block(values, geom, f, c, padded), grey, choice.row, (0, 0),
                       grid_labels((ho, wo), dims=geom.dims), grid_labels(hw, dims=geom.dims))


def _n_taps(spec: ConvSpec) -> int:
    return spec.kernel_hw[0] * spec.kernel_hw[1]


@byte_lru_cache(limits.MATRIX_PICTURE_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_PICTURES)
def _window(choice: MatrixChoice) -> bytes:
    geom, transposed = choice.geom, choice.spec.transposed
    kernel = kernel_for(geom, choice.bundle.example.weight, choice.filter_index, choice.channel)
    return window_png(geom, choice.cell, kernel, padded=choice.padded, channel=choice.channel if choice.whole else 0,
                      grid_title="padded layer output" if transposed else "padded input",
                      out_title="layer input" if transposed else "output")


def window_picture(choice: MatrixChoice) -> bytes:
    """The kernel, the padded grid with the selected cell's window, and the output grid (PNG)."""
    return _window(choice)


@byte_lru_cache(limits.MATRIX_PICTURE_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_PICTURES)
def _c_matrix(choice: MatrixChoice) -> bytes:
    shown, transposed = shown_matrix(choice, choice.padded), choice.spec.transposed
    name = "C (the layer is Cᵀ)" if transposed else "C"
    title = f"{name}: {shown.taps.shape[0]}×{shown.taps.shape[1]}" + (
        "" if choice.whole else f" — block filter {choice.filter_index} × channel {choice.channel}")
    return matrix_png(shown.taps, shown.values, _n_taps(choice.spec), title=title, row_labels=shown.row_labels,
                      col_labels=shown.col_labels, grey_cols=shown.grey_cols, rows=[shown.row],
                      row_blocks=shown.blocks[0], col_blocks=shown.blocks[1],
                      row_axis=_word(choice, "layer input cell" if transposed else "output cell"),
                      col_axis=_word(choice, ("padded " if choice.padded else "") + ("layer output cell" if transposed
                                                                                     else "input cell")))


def _word(choice: MatrixChoice, text: str) -> str:
    """A 1-D layer's cells are positions."""
    return text.replace("cell", "position") if choice.spec.dims == 1 else text


def _shown_key(choice: MatrixChoice) -> MatrixChoice:
    """C's picture does not depend on the channel when it shows every block."""
    return replace(choice, channel=0) if choice.whole else choice


def matrix_picture(choice: MatrixChoice) -> bytes:
    """C (whole or the chosen block), coloured per kernel weight, the selected row framed (PNG)."""
    return _c_matrix(_shown_key(choice))


@byte_lru_cache(limits.MATRIX_PICTURE_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_PICTURES)
def _pair(choice: MatrixChoice) -> bytes:
    shown = shown_matrix(choice, choice.padded)
    return pair_png(shown.taps, shown.values, _n_taps(choice.spec), row_blocks=shown.blocks[0],
                    col_blocks=shown.blocks[1], rows=[shown.row])


def pair_picture(choice: MatrixChoice) -> bytes:
    """The same C beside Cᵀ (PNG)."""
    return _pair(_shown_key(choice))


MIN_PRODUCT_CELL_PX = 6  # below this the whole y = C·x is unreadable: it is drawn for the chosen block instead


def product_uses_block(choice: MatrixChoice) -> bool:
    """True when y = C·x is drawn for the chosen block: only a block is shown, or the whole would be too small.

    >>> product_uses_block(MatrixChoice(ConvSpec(3, 16, 3), 7, 7)), product_uses_block(MatrixChoice(ConvSpec(2, 2, 3), 4, 4))
    (True, False)
    """
    geom = choice.geom
    if not choice.whole:
        return True
    if geom.direct.in_channels == geom.direct.out_channels == 1:
        return False
    rows, cols = geom.rows, geom.cols()
    return product_cell_px([(rows, cols), (cols, 1), (rows, 1)]) < MIN_PRODUCT_CELL_PX


def product_text(choice: MatrixChoice) -> str:
    """What the y = C·x picture shows when it is one block: one channel's share of one output channel.

    >>> product_text(MatrixChoice(ConvSpec(2, 1, 3), 4, 4, whole=False, channel=1))[:44]
    'Shown for the block filter 0 × channel 1: C['
    """
    if not product_uses_block(choice):
        return ""
    f, c, d = choice.filter_index, choice.channel, choice.geom.direct
    why = (f"The whole C ({choice.geom.rows}×{choice.geom.cols()}) would be too small to read here, so this is "
           "the block" if choice.whole else "Shown for the block")
    if choice.spec.transposed:
        share = (f"layer input channel {f}'s share of layer output channel {c}" if d.out_channels > 1 else
                 f"layer output channel {c}")
        return (f"{why} filter {f} × channel {c}: C[{f},{c}]ᵀ·x[{f}] is {share}"
                + (f"; the layer adds the shares of all {d.out_channels} input channels (+ bias)."
                   if d.out_channels > 1 else " (before the bias)."))
    share = f"channel {c}'s share of filter {f}'s output" if d.in_channels > 1 else f"filter {f}'s output"
    return (f"{why} filter {f} × channel {c}: C[{f},{c}]·x[{c}] is {share}"
            + (f"; the layer adds the shares of all {d.in_channels} channels (+ bias)." if d.in_channels > 1
               else " (before the bias)."))


def product_panels(choice: MatrixChoice) -> list[Panel]:
    """The three matrices of y = C·x (Cᵀ·x for a transposed layer): whole, or the chosen block when it is drawn.

    >>> [p.values.shape for p in product_panels(MatrixChoice(ConvSpec(1, 1, 3), 4, 4))]
    [(4, 16), (16, 1), (4, 1)]
    """
    if choice.whole and product_uses_block(choice):
        choice = replace(choice, whole=False)
    geom, example = choice.geom, choice.bundle.example
    (ho, wo), f, c, transposed = geom.out_hw, choice.filter_index, choice.channel, choice.spec.transposed
    if choice.whole:
        matrix, taps, x, sel = example.matrix, choice.bundle.taps, example.x.reshape(-1, 1), f * ho * wo + choice.row
        names = ("Cᵀ", "x", "Cᵀ·x") if transposed else ("C", "x", "C·x")
    else:  # the block shown above: one filter against one channel
        matrix, taps, sel = block(example.matrix, geom, f, c), block(choice.bundle.taps, geom, f, c), choice.row
        x = example.x[f if transposed else c].reshape(-1, 1)
        names = ((f"C[{f},{c}]ᵀ", f"x[{f}]", f"C[{f},{c}]ᵀ·x[{f}]") if transposed else
                 (f"C[{f},{c}]", f"x[{c}]", f"C[{f},{c}]·x[{c}]"))
    window = tuple(np.nonzero(matrix[sel])[0])  # the input cells the selected row's weights meet
    if transposed:  # the selected layer-input cell is a column of Cᵀ: it spreads over one window of the output
        panels = [Panel(names[0], matrix.T, taps.T, cols=(sel,)), Panel(names[1], x, rows=(sel,)),
                  Panel(names[2], matrix.T @ x, rows=window)]
    else:
        panels = [Panel(names[0], matrix, taps, rows=(sel,)), Panel(names[1], x, rows=window),
                  Panel(names[2], matrix @ x, rows=(sel,))]
    return panels


@byte_lru_cache(limits.MATRIX_PICTURE_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_PICTURES)
def _product(choice: MatrixChoice) -> bytes:
    return product_png(product_panels(choice), _n_taps(choice.spec))


def product_picture(choice: MatrixChoice) -> bytes:
    """y = C·x (a transposed layer: Cᵀ·x) worked out, for the whole C or the chosen block (PNG)."""
    whole = not product_uses_block(choice)
    return _product(replace(choice, padded=False, whole=whole, channel=0 if whole else choice.channel))


def im2col_panels(choice: MatrixChoice) -> list[Panel]:
    """filter matrix · patches = output (a transposed layer: filtersᵀ · x = columns, then fold), coloured by tap.

    >>> [p.values.shape for p in im2col_panels(MatrixChoice(ConvSpec(1, 2, 3), 4, 4))]
    [(2, 9), (9, 4), (2, 4)]
    """
    result, geom, n_taps = choice.bundle.im2col, choice.geom, _n_taps(choice.spec)
    d, row, (ho, wo) = geom.direct, choice.row, geom.out_hw
    filter_taps = np.where(result.filters != 0, np.arange(result.filters.shape[1]) % n_taps, -1)
    patch_taps = np.repeat((np.arange(result.patches.shape[0]) % n_taps)[:, None], result.patches.shape[1], axis=1)
    if choice.spec.transposed:
        x = choice.bundle.example.x.reshape(d.out_channels, -1)
        panels = [Panel("filtersᵀ", result.filters.T, filter_taps.T),
                  Panel("x (a column per cell)", x, cols=(row,)),
                  Panel("columns, then fold", result.patches, patch_taps, tint=True,
                        cols=(row,) if result.patches.shape[1] == ho * wo else ())]
    else:
        panels = [Panel("filter matrix", result.filters, filter_taps, rows=(choice.filter_index,)),
                  Panel("patches (unfold)", result.patches, patch_taps, cols=(row,), tint=True),
                  Panel("output (a row per filter)", result.product.reshape(d.out_channels, -1), cols=(row,))]
    return panels


@byte_lru_cache(limits.MATRIX_PICTURE_CACHE_BYTES, maxsize=limits.MATRIX_CACHED_PICTURES)
def _im2col(choice: MatrixChoice) -> bytes:
    return product_png(im2col_panels(choice), _n_taps(choice.spec))


def im2col_picture(choice: MatrixChoice) -> bytes:
    """im2col: filter matrix · patches (rows coloured by the weight they meet) = output (PNG)."""
    return _im2col(replace(choice, padded=False, whole=True, channel=0))


def cache_clear() -> None:
    """Forget every cached picture and layer (benchmarks measure cold runs with it)."""
    for cached in (_window, _c_matrix, _pair, _product, _im2col, matrix_bundle, matrix_example):
        cached.cache_clear()
