"""The one parameter table of a convolution layer, and the small helpers every module uses on its values.

`PARAMETERS` is the table (in the spirit of TensorFlow Playground's `state.ts`): each row gives the
torch argument it fills, its URL key, default, slider range, label and help. The Streamlit controls
are drawn from it, `state.parse_query`/`state.to_query` read and write URLs with it, and the layer
config takes its defaults from it. Adding a parameter means adding a row (and its rule in `spec`).
Ranges are what a slider or URL may ask for (`his`: the upper end by dimension, 1-D to 3-D, where a
long signal needs wider ones); the caps in `limits` bound any caller.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Protocol, Union

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.options import Option

Pair = tuple[int, int]
Sizes = tuple[int, ...]  # one entry per spatial dimension: (L,), (H, W) or (D, H, W)
IntOrPair = Union[int, Pair]
IntOrSizes = Union[int, Sizes]
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_WORDS = ("same", "valid", "causal")  # causal: 1-D only, (k−1)·d zeros on the left
DIMS = (1, 2, 3)
AXES = {1: (("length", "L", "position"),),
        2: (("height", "H", "row"), ("width", "W", "column")),
        3: (("depth", "D", "slice"), ("height", "H", "row"), ("width", "W", "column"))}

PARAMETERS: tuple[Option, ...] = (
    Option("input", "int", 3, 1, 256, "Input channels", "C_in: channels of the input, e.g. 3 for RGB",
           field="in_channels", always=True),
    Option("input", "sizes", (32, 32), 1, 512, "Input size", "L, H×W or D×H×W of the input: its rank sets the dimension",
           field="input_size", always=True, his=(65536, 512, 128)),
    Option("filters", "int", 16, 1, 512, "Filters (output channels)", "how many filters, so how many output maps",
           field="out_channels", always=True),
    Option("kernel", "sizes", (3, 3), 1, 15, "Kernel size", "k: the filter's size in each dimension", field="kernel_size",
           always=True, his=(255, 15, 7)),
    Option("stride", "sizes", (1, 1), 1, 8, "Stride", "s: how far the window jumps", always=True),
    Option("padding", "sizes", (0, 0), 0, 16, "Padding", "p: cells added on each side, or 'same'/'valid' ('causal' in 1-D)",
           words=PADDING_WORDS, always=True, his=(256, 16, 8)),
    Option("dilation", "sizes", (1, 1), 1, 8, "Dilation", "d: spacing between kernel taps", his=(512, 8, 4)),
    Option("groups", "int", 1, 1, 256, "Groups", "split channels into independent groups"),
    Option("padding_mode", "choice", "zeros", label="Padding mode", help="what the padding cells hold",
           choices=PADDING_MODES),
    Option("bias", "bool", True, label="Bias", help="add a learned bias per filter"),
    Option("transposed", "bool", False, label="Transposed convolution",
           help="ConvTranspose: upsample instead of downsample"),
    Option("output_padding", "sizes", (0, 0), 0, 7, "Output padding", "extra rows/cols on one side (transposed only)"),
)
PARAM = {p.name: p for p in PARAMETERS}  # by torch name (input_size for H×W)


class LayerSpec(Protocol):
    """What the formula, the costs and the torch run read of a layer: a `spec.ConvSpec` (typed by its fields
    here, so those modules need not import the class whose convenience methods call them)."""

    in_channels: int
    out_channels: int
    groups: int
    bias: bool
    padding_mode: str
    transposed: bool
    dims: int
    kernel_nd: Sizes
    stride_nd: Sizes
    dilation_nd: Sizes
    output_padding_nd: Sizes
    effective_kernel_nd: Sizes
    kernel_hw: Pair
    stride_hw: Pair
    dilation_hw: Pair
    output_padding_hw: Pair
    effective_kernel_hw: Pair
    module_name: str

    def pad_pairs(self) -> tuple[Pair, ...]:
        """(before, after) padding actually applied, per spatial dimension."""

    def pads(self) -> tuple[int, int, int, int]:
        """(top, bottom, left, right) padding of the 2-D view."""

    def torch_kwargs(self) -> dict[str, Any]:
        """The torch module's keyword arguments."""


def is_int(value: Any) -> bool:
    """True for a whole number (numpy's too), False for bools and everything else.

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def fmt(sizes: Sizes) -> str:
    """Render sizes the way people write them.

    >>> fmt((3, 3)), fmt((3, 5)), fmt((16, 112, 112)), fmt((9,))
    ('3×3', '3×5', '16×112×112', '9')
    """
    return "×".join(str(v) for v in sizes)


def as_sizes(value: Any, dims: int, name: str) -> Sizes:
    """Turn an int or a tuple of `dims` ints into `dims` ints (one int applies to every dimension, as in torch).

    >>> as_sizes(3, 3, "kernel_size"), as_sizes([3, 5], 2, "kernel_size"), as_sizes((80,), 1, "kernel_size")
    ((3, 3, 3), (3, 5), (80,))
    """
    if is_int(value):
        return (int(value),) * dims
    if isinstance(value, (tuple, list)) and len(value) == dims and all(is_int(v) for v in value):
        return tuple(int(v) for v in value)
    example = {1: "(80,)", 2: "(3, 5)", 3: "(3, 3, 5)"}[dims] if dims in DIMS else "(3, 5)"
    names = "/".join(sym for _, sym, _ in AXES.get(dims, AXES[2]))
    raise ConvConfigError(name, f"expected a whole number or {dims} whole numbers ({names}) for a {dims}-D layer, "
                          f"got {value!r}", f"use e.g. {name}=3 or {name}={example}")


def as_pair(value: Any, name: str) -> Pair:
    """Turn an int or an (h, w) pair into a pair of ints, or raise ConvConfigError.

    >>> as_pair(3, "kernel_size"), as_pair([3, 5], "kernel_size")
    ((3, 3), (3, 5))
    """
    return as_sizes(value, 2, name)


def plane(values: Sizes, fill: int) -> Pair:
    """The 2-D view of per-dimension values: a 1-D layer is a one-row strip, a 3-D layer shows its H×W plane.

    >>> plane((5,), 1), plane((3, 5), 1), plane((2, 3, 5), 1)
    ((1, 5), (3, 5), (3, 5))
    """
    return (fill, values[0]) if len(values) == 1 else (values[-2], values[-1])


def check_range(name: str, values: Sizes, lo: int, hi: int, what: str) -> None:
    """Raise ConvConfigError naming `name` when a value is outside lo..hi (hi is a Conv Lab cap).

    >>> check_range("stride", (1, 2), 1, 64, "stride")
    """
    for v in values:
        if v < lo:
            raise ConvConfigError(name, f"{what} {v} is below {lo}", f"use {name} ≥ {lo}")
        if v > hi:
            raise ConvConfigError(name, f"{what} {v} is above Conv Lab's cap of {hi} (keeps one request fast on a "
                                  "shared server)", f"use {name} ≤ {hi}")


def group_counts(in_channels: int, out_channels: int) -> list[int]:
    """Every `groups` value torch accepts for these channel counts (the divisors of both).

    >>> group_counts(4, 6), group_counts(32, 32)[-1]
    ([1, 2], 32)
    """
    g = math.gcd(in_channels, out_channels)
    return [d for d in range(1, g + 1) if g % d == 0]


def filter_channels(in_channels: int, out_channels: int, groups: int, filter_index: int) -> range:
    """The input channels filter `filter_index` reads: those of its group.

    >>> filter_channels(4, 6, 2, 4), filter_channels(3, 8, 1, 7)
    (range(2, 4), range(0, 3))
    """
    per_group_in, per_group_out = in_channels // groups, out_channels // groups
    group = filter_index // per_group_out
    return range(group * per_group_in, (group + 1) * per_group_in)
