"""Page-facing helpers for the matrix view: labels, blocks, the output_padding ambiguity, size caps, URL options.

Pure numpy and arithmetic (see `matrix` for C itself).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Iterable, Mapping

import numpy as np

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import Option, QueryValue, option_defaults, options_query, parse_options
from conv_lab.core.params import Pair, filter_channels, fmt
from conv_lab.core.shapes import conv_out
from conv_lab.core.state import LabConfig
from conv_lab.matrix.geometry import MatrixGeometry, geometry


def block(matrix: np.ndarray, geom: MatrixGeometry, filter_index: int, channel: int, padded: bool = False) -> np.ndarray:
    """The block of C (or of any array shaped like it) for one filter against one input channel.

    >>> from conv_lab.core.spec import ConvSpec
    >>> g = geometry(ConvSpec(2, 3, 1), 2, 2)
    >>> block(np.arange(12 * 8).reshape(12, 8), g, 1, 1).tolist()
    [[36, 37, 38, 39], [44, 45, 46, 47], [52, 53, 54, 55], [60, 61, 62, 63]]
    """
    rows, cols = geom.block_shape(padded)
    return matrix[filter_index * rows:(filter_index + 1) * rows, channel * cols:(channel + 1) * cols]


@dataclass(frozen=True)
class SameOutputSizes:
    """Input sizes that a direct conv maps to the same output size, and the output_padding naming each."""

    axis: str
    size_out: int
    sizes: tuple[int, ...]

    @property
    def text(self) -> str:
        """One sentence: which sizes collapse and how output_padding tells them apart."""
        if len(self.sizes) == 1:
            return f"in {self.axis} only {self.sizes[0]} gives {self.size_out}: no ambiguity, output_padding = 0"
        names = ", ".join(f"{n} (output_padding={n - self.sizes[0]})" for n in self.sizes)
        return f"in {self.axis}, inputs of {names} all give {self.size_out}"


def same_output_sizes(size_out: int, k: int, s: int, pad_before: int, pad_after: int, d: int = 1,
                      axis: str = "height") -> SameOutputSizes:
    """All input sizes giving `size_out` (the stride's floor hides s of them); output_padding picks one back.

    >>> same_output_sizes(3, 3, 2, 1, 1).sizes
    (5, 6)
    """
    smallest = (size_out - 1) * s + d * (k - 1) + 1 - pad_before - pad_after
    sizes = tuple(n for n in range(max(1, smallest), smallest + s)
                  if conv_out(n, k, s, pad_before, pad_after, d) == size_out)
    return SameOutputSizes(axis, size_out, sizes)


def ambiguity(geom: MatrixGeometry) -> tuple[SameOutputSizes, ...]:
    """Per axis (a 1-D layer: its length only), the grid sizes C's direct conv maps onto its output size.

    >>> ambiguity(geometry(ConvSpec(1, 1, 3, stride=2, padding=1), 5, 5))[0].sizes
    (5, 6)
    """
    d, top_bottom = geom.direct, (geom.pads[:2], geom.pads[2:])
    axes = ((1, "length"),) if geom.dims == 1 else ((0, "height"), (1, "width"))
    return tuple(same_output_sizes(geom.out_hw[a], d.kernel_hw[a], d.stride_hw[a], *top_bottom[a],
                                   d.dilation_hw[a], axis) for a, axis in axes)


@lru_cache(maxsize=64)
def smaller_config(config: LabConfig, padded: bool = True) -> LabConfig | None:
    """The largest input (keeping the layer) whose whole C fits the drawing cap; one channel/filter if needed.

    >>> smaller_config(LabConfig(in_channels=1, out_channels=1, height=32, width=32)).height
    20
    """
    for channels in ((config.in_channels, config.out_channels, config.groups), (1, 1, 1)):
        candidate = config.with_values(in_channels=channels[0], out_channels=channels[1], groups=channels[2])
        for side in range(min(max(config.height, config.width), limits.MAX_MATRIX_CELLS), 0, -1):
            h = max(1, round(side * config.height / max(config.height, config.width)))
            w = max(1, round(side * config.width / max(config.height, config.width)))
            smaller = candidate.with_values(height=h, width=w)
            try:
                geom = geometry(smaller.spec(), h, w)
            except ConvConfigError:
                continue
            if geom.fits(padded) and min(geom.out_hw) >= 1:
                return smaller
    return None


def dims_notice(dims: int) -> str:
    """Why a layer's C is not drawn for its number of dimensions (empty for 1-D and 2-D layers).

    >>> dims_notice(2), dims_notice(3)[:42]
    ('', 'The matrix view draws 1-D and 2-D layers. ')
    """
    if dims in (1, 2):
        return ""
    return ("The matrix view draws 1-D and 2-D layers. A 3-D layer's C has one row per output cell (D×H×W of them, "
            "per filter) and one column per input cell, so even a 4×4×4 input gives a matrix too large to read; "
            "the idea is the same: every depth slice adds a band of kernel weights. Show the layer as a 2-D layer "
            "(its H×W plane, same kernel and stride) or as a 1-D layer to see C.")


def why_output_padding(dims: int) -> str:
    """The classic example of the stride's ambiguity, in the layer's own dimensions (markdown).

    >>> "**both 5 and 6 to 3**; `conv_transpose1d` returns 5" in why_output_padding(1)
    True
    """
    five, six, three = ("5", "6", "3") if dims == 1 else ("5×5", "6×6", "3×3")
    return ("**Why output_padding exists.** The stride's floor maps several input sizes onto one output size, so "
            f"going back is ambiguous. For example, kernel 3, stride 2, padding 1 takes **both {five} and {six} to "
            f"{three}**; `conv_transpose{dims}d` returns {five} with output_padding=0 and {six} with output_padding=1. "
            "For this layer:")


def transpose_story(geom: MatrixGeometry, transposed: bool, output_padding: Pair, note: str = "") -> str:
    """What Cᵀ is for this layer (markdown): the layer's own product when it is transposed, else the way back
    from the output's shape to the input's; `output_padding` and `note` come from the Cᵀ check.

    >>> story = transpose_story(geometry(ConvSpec(1, 1, 3, stride=2, padding=1), 5, 5), False, (0, 0))
    >>> "(3×3) back to the input's shape (5×5)" in story, story.endswith("output_padding=0×0.")
    (True, True)
    """
    grid, out, n = fmt(geom.sizes(geom.grid_hw)), fmt(geom.sizes(geom.out_hw)), geom.dims
    aside = f" ({note}.)" if note else ""
    if transposed:
        return (f"Your layer multiplies by **Cᵀ** (right). Going the other way, **C** takes a tensor shaped like "
                f"the layer's output ({grid}) back to its input's shape ({out}): that is "
                f"`conv{n}d` with the same weight tensor." + aside)
    return (f"A row of C is a column of Cᵀ. Cᵀ takes a tensor shaped like the output ({out}) back to "
            f"the input's shape ({grid}): that is exactly `conv_transpose{n}d` with the same kernel, "
            f"stride and padding, and output_padding={fmt(geom.sizes(output_padding))}." + aside)


def im2col_story(transposed: bool) -> str:
    """How the library computes the layer: im2col for a convolution, col2im for a transposed one (markdown).

    >>> im2col_story(False).startswith("`unfold`"), im2col_story(True).startswith("A transposed layer")
    (True, True)
    """
    if transposed:
        return ("A transposed layer is computed the other way round (col2im): each input cell's channel values are "
                "multiplied by the filter matrix (transposed) into columns, and `fold` adds every column into its "
                "window of the output. The columns' rows are tinted with the weight they were multiplied by.")
    return ("`unfold` copies every window into one column (the patch matrix); one matrix product with the "
            "filter matrix (one row per filter) gives every output cell at once. Each row of the patch matrix "
            "is tinted with the colour of the weight it meets: the same colour as its column of the filter matrix.")


def too_large_text(geom: MatrixGeometry, padded: bool) -> str:
    """Why C is not drawn whole, in numbers.

    >>> too_large_text(geometry(ConvSpec(1, 1, 3), 32, 32), False)
    'C would be 900×1024 (rows × columns); Conv Lab draws at most 400 of either.'
    """
    return (f"C would be {geom.rows}×{geom.cols(padded)} (rows × columns); Conv Lab draws at most "
            f"{limits.MAX_MATRIX_CELLS} of either.")


def shrunk_text(geom: MatrixGeometry, padded: bool, smaller: LabConfig) -> str:
    """Why the page draws `smaller` instead of the sidebar's layer (whose geometry is `geom`), in numbers.

    >>> shrunk_text(geometry(ConvSpec(1, 1, 3), 32, 32), False, LabConfig(in_channels=1, out_channels=1, height=20,
    ...                                                                   width=20))[-115:]
    'the largest layer with your kernel, stride and padding that fits: input 1×20×20, 1 filter. The sidebar keeps yours.'
    """
    filters = f"{smaller.out_channels} filter{'s' if smaller.out_channels > 1 else ''}"
    return (too_large_text(geom, padded) + " Shown instead: the largest layer with your kernel, stride and padding "
            f"that fits: input {fmt((smaller.in_channels, *smaller.input_size))}, {filters}. The sidebar keeps yours.")


MATRIX_OPTIONS = (
    Option("show_padding", "bool", False, label="Padding cells as columns",
           help="Add the padding cells to C as greyed columns"),
    Option("cell", "cell", (0, 0), label="Output cell (a row of C)",
           help="Highlights its row of C and its window on the padded grid"),
    Option("filter", "int", 0, 0, limits.MAX_FILTERS - 1, "Filter",
           help="Which filter's block of C, and whose row is highlighted"),
    Option("channel", "int", 0, 0, limits.MAX_CHANNELS - 1, "Input channel",
           help="Which channel's block of C and of the padded grid"),
    Option("blocks", "bool", True, label="Whole C (every block)", help="Off: only the selected filter × channel block"),
)
MATRIX_OPTION = {option.key: option for option in MATRIX_OPTIONS}
_DEFAULTS = option_defaults(MATRIX_OPTIONS)
_TRANSPOSED_LABELS = {"cell": "Input cell of the layer (a column of Cᵀ)", "filter": "Filter (layer input channel)",
                      "channel": "Input channel (layer output channel)"}


@dataclass(frozen=True)
class MatrixOptions:
    """The /matrix page's own options (the defaults are what a bare link shows).

    >>> MatrixOptions().cell, MatrixOptions().blocks
    ((0, 0), True)
    """

    show_padding: bool = _DEFAULTS["show_padding"]  # padding cells as columns of C (a sidebar flag)
    cell: Pair = _DEFAULTS["cell"]  # the selected output cell (a transposed layer: the selected input cell)
    filter: int = _DEFAULTS["filter"]
    channel: int = _DEFAULTS["channel"]
    blocks: bool = _DEFAULTS["blocks"]  # every block of C, or only the chosen filter × channel block

    def to_query(self, keys: Iterable[str]) -> dict[str, str]:
        """Query params of the options in `keys` that differ from their defaults.

        >>> MatrixOptions(cell=(1, 0), filter=0, blocks=False).to_query(("cell", "filter", "blocks"))
        {'cell': '1,0', 'blocks': '0'}
        """
        return options_query([option for option in MATRIX_OPTIONS if option.key in keys], self)


@dataclass(frozen=True)
class MatrixControl:
    """A page option that has a control for this layer: its label, help and the values it offers."""

    label: str
    help: str
    values: tuple


def matrix_controls(geom: MatrixGeometry, padded: bool) -> dict[str, MatrixControl]:
    """The page's controls for this layer, by URL key: a cell always; a filter, a channel, the blocks toggle if useful.

    >>> list(matrix_controls(geometry(ConvSpec(1, 1, 3), 4, 4), False))
    ['cell']
    >>> controls = matrix_controls(geometry(ConvSpec(2, 4, 3, groups=2), 4, 4), False)
    >>> {key: len(control.values) for key, control in controls.items()}
    {'cell': 4, 'filter': 4, 'channel': 2, 'blocks': 2}
    """
    d, (ho, wo), transposed = geom.direct, geom.out_hw, geom.layer.transposed
    values = {"cell": tuple((i, j) for i in range(ho) for j in range(wo))}
    if d.out_channels > 1:
        values["filter"] = tuple(range(d.out_channels))
    if d.in_channels > 1:
        values["channel"] = tuple(range(d.in_channels))
    if geom.fits(padded) and (d.in_channels > 1 or d.out_channels > 1):
        values["blocks"] = (True, False)
    return {key: MatrixControl(_TRANSPOSED_LABELS[key] if transposed and key in _TRANSPOSED_LABELS
                               else MATRIX_OPTION[key].label, MATRIX_OPTION[key].help, allowed)
            for key, allowed in values.items()}


def parse_matrix_options(params: Mapping[str, QueryValue], geom: MatrixGeometry) -> tuple[MatrixOptions, list[str]]:
    """The page options from query params (the table, read by `core.options`), clamped to this layer; never raises.

    >>> options, notes = parse_matrix_options({"cell": "1,9", "filter": "7", "blocks": "0"},
    ...                                       geometry(ConvSpec(1, 4, 3), 5, 5))
    >>> options.cell, options.filter, options.blocks
    ((1, 2), 3, False)
    >>> notes
    ['filter=7 must be between 0 and 3; using 3', 'cell=1,9 is outside the 3×3 output; using (1,2)']
    """
    notices: list[str] = []
    d, out_hw = geom.direct, geom.out_hw
    found = parse_options(MATRIX_OPTIONS, params, notices, {"filter": d.out_channels - 1, "channel": d.in_channels - 1})
    options = replace(MatrixOptions(), **found)
    row, col = options.cell
    inside = (min(max(row, 0), out_hw[0] - 1), min(max(col, 0), out_hw[1] - 1))
    if inside != options.cell:
        notices.append(f"cell={row},{col} is outside the {fmt(out_hw)} output; using ({inside[0]},{inside[1]})")
    return replace(options, cell=inside), notices


def matrix_story(geom: MatrixGeometry, padded: bool = False) -> str:
    """What C is for this layer, in words and numbers (markdown); `padded`: C has the padding cells as columns.

    >>> print(matrix_story(geometry(ConvSpec(1, 1, 3), 4, 4)))  # doctest: +NORMALIZE_WHITESPACE
    Each **row** of C is one output cell (4 rows), each **column** one input cell (16 columns). A row holds the
    9 kernel weights at the columns its window covers, zeros elsewhere: **y = C·x** (+ bias).
    >>> matrix_story(geometry(ConvSpec(1, 1, 3, padding=1), 3, 3), padded=True)[47:138]
    'each **column** one cell of the padded input (25 columns: 9 input cells + 16 padding cells)'
    """
    d, (ho, wo) = geom.direct, geom.out_hw
    grid, out = fmt(geom.sizes(geom.grid_hw)), fmt(geom.sizes(geom.out_hw))
    k = d.kernel_hw[0] * d.kernel_hw[1]
    n_pad = geom.cols(padded=True) - geom.cols()
    columns = (f"one cell of the padded input ({geom.cols(True)} columns: {geom.cols()} input cells + {n_pad} "
               "padding cells)" if padded and n_pad else f"one input cell ({geom.cols()} columns)")
    text = (f"Each **row** of C is one output cell ({geom.rows} rows), each **column** {columns}. A row holds the "
            f"{k} kernel weights at the columns its window covers, zeros elsewhere: **y = C·x** (+ bias).")
    block_cols = geom.block_shape(padded)[1]
    if d.in_channels > 1 or d.out_channels > 1:
        text += (f" With {d.in_channels} input channels and {d.out_channels} filters C is a grid of "
                 f"{d.out_channels}×{d.in_channels} blocks, each {ho * wo}×{block_cols}: block (f, c) holds "
                 "filter f's kernel for channel c")
        text += (f"; with groups={d.groups} the blocks outside a filter's group are all zero." if d.groups > 1 else ".")
    if d.padding == "causal":
        text += (f" Causal padding puts all {geom.pads[2]} zeros on the left, so output position t only reads inputs "
                 "t−d·(k−1) … t: no row of C reaches a later column than its own (with stride 1), nothing from the "
                 "future.")
    if geom.layer.transposed:
        lay = geom.layer
        text = (f"**This layer is a {lay.module_name}: it is Cᵀ.** C belongs to the matching direct "
                f"`{d.module_name}({d.in_channels}, {d.out_channels}, kernel_size={d.kernel_size}, stride={d.stride}, "
                f"padding={d.padding}, dilation={d.dilation}, groups={d.groups})`, which takes a {grid} grid "
                f"down to {out}; the transposed layer uses the same weight tensor and goes back up: "
                f"**y = Cᵀ·x** (+ bias), from your {out} input to the {grid} output. "
                "Each input cell is a row of C, a column of Cᵀ: it spreads its value, times the kernel, over one "
                "window of the output.\n\n" + text.replace("one output cell", "one cell of the layer's input")
                .replace("each **column** one input cell", "each **column** one cell of the layer's output")
                .replace("padded input (", "padded layer output (").replace(" input cells + ", " layer output cells + ")
                .replace("zeros elsewhere: **y = C·x** (+ bias)", "zeros elsewhere"))
        if lay.output_padding_hw != (0, 0):
            added = (f"{lay.output_padding_hw[1]} positions at the end" if geom.dims == 1 else
                     f"{fmt(lay.output_padding_hw)} rows/columns at the bottom/right")
            text += (f"\n\noutput_padding={lay.output_padding} picks the larger of the output sizes the stride "
                     f"makes ambiguous: it adds {added}.")
    return text.replace("cell", "position") if geom.dims == 1 else text


def padding_story(geom: MatrixGeometry, padded: bool) -> str:
    """How padding shows up in C for this padding mode (markdown; empty when there is no padding; 1-D: positions).

    >>> padding_story(geometry(ConvSpec(1, 1, 3, padding=1), 4, 4), True)[:40]
    'Grey columns are the 20 padding cells. W'
    """
    text = _padding_story(geom, padded)
    if geom.dims == 1:  # the toggle keeps its name
        text = text.replace("cell", "position").replace("*Padding positions as columns*", "*Padding cells as columns*")
    return text


def _padding_story(geom: MatrixGeometry, padded: bool) -> str:
    if not any(geom.pads):
        return ""
    mode = geom.direct.padding_mode
    n_pad = geom.cols(padded=True) - geom.cols()
    if mode == "zeros":
        if padded:
            return (f"Grey columns are the {n_pad} padding cells. Weights do land in them, but they multiply zeros, "
                    "so dropping those columns changes nothing: that is C without padding columns.")
        return (f"Zero padding adds no columns: the weights that fall on the {n_pad} padding cells multiply zeros "
                "and vanish. Turn on *Padding cells as columns* to see them.")
    if padded:
        return (f"Grey columns are the {n_pad} padding cells. With **{mode}** padding they hold *copies* of input "
                "cells (P·x builds the padded grid), so their weights do count: C = C_pad·P adds each padding "
                "column onto the column of the input cell it copies.")
    return (f"With **{mode}** padding the padding cells are copies of input cells, so C = C_pad·P: each padding "
            "column is added onto the column of the cell it copies. Dark purple cells hold the sum of several "
            "kernel weights (a weight on a copy plus the weight on the original).")


def kernel_for(geom: MatrixGeometry, weight: np.ndarray, filter_index: int, channel: int) -> np.ndarray:
    """The kh×kw kernel filter `filter_index` applies to input `channel` (zeros when groups keep them apart).

    >>> kernel_for(geometry(ConvSpec(2, 2, 1, groups=2), 1, 1), np.array([[[[3.]]], [[[4.]]]]), 1, 0).tolist()
    [[0.0]]
    """
    d = geom.direct
    channels = filter_channels(d.in_channels, d.out_channels, d.groups, filter_index)
    if channel not in channels:
        return np.zeros(d.kernel_hw)
    return np.asarray(weight[filter_index, channel - channels.start], dtype=float)
