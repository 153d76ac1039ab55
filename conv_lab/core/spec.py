"""ConvSpec: one convolution layer in torch's own terms, plus the one parameter table.

`PARAMETERS` is the single table that drives sliders, URL query params and
validation ranges; `ConvSpec` validates everything that does not depend on the
input, and `check_input` the rest, always raising `ConvConfigError` with a
plain-language message that names the parameter and a fix.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any, Union

from conv_lab import limits

Pair = tuple[int, int]
IntOrPair = Union[int, Pair]
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_WORDS = ("same", "valid")


class ConvConfigError(ValueError):
    """A configuration torch would reject (or that yields nothing), in plain words.

    >>> ConvConfigError("stride", "stride must be at least 1", "use stride 1").param
    'stride'
    """

    def __init__(self, param: str, why: str, fix: str = ""):
        self.param, self.why, self.fix = param, why, fix
        text = f"{param}: {why}"
        super().__init__(f"{text}: {fix}" if fix else text)

    def __reduce__(self):
        # Pickle by the three fields (render workers send errors back to the server process).
        return ConvConfigError, (self.param, self.why, self.fix)


class WorkCapError(ConvConfigError):
    """A layer torch could run, but not within one request's share of a shared server: it is never run.

    >>> isinstance(WorkCapError("input", "too big", "use less"), ConvConfigError)
    True
    """

    def __reduce__(self):
        return WorkCapError, (self.param, self.why, self.fix)


@dataclass(frozen=True)
class Param:
    """One row of the parameter table: torch name, URL key, slider range, label."""

    name: str
    url: str
    kind: str  # int | pair | padding | bool | choice
    default: Any
    lo: int = 0
    hi: int = 0
    label: str = ""
    help: str = ""
    choices: tuple = ()


# The one table. Ranges are the slider ranges and the range a URL value is
# clamped to; they sit inside the caps in `limits`, which bound any caller.
PARAMETERS: tuple[Param, ...] = (
    Param("in_channels", "input", "int", 3, 1, 256, "Input channels", "C_in: channels of the input, e.g. 3 for RGB"),
    Param("input_size", "input", "pair", (32, 32), 1, 512, "Input size", "H×W of the input"),
    Param("out_channels", "filters", "int", 16, 1, 512, "Filters (output channels)", "how many filters, so how many output maps"),
    Param("kernel_size", "kernel", "pair", 3, 1, 15, "Kernel size", "k: height×width of each filter"),
    Param("stride", "stride", "pair", 1, 1, 8, "Stride", "s: how far the window jumps"),
    Param("padding", "padding", "padding", 0, 0, 16, "Padding", "p: cells added on each side, or 'same'/'valid'"),
    Param("dilation", "dilation", "pair", 1, 1, 8, "Dilation", "d: spacing between kernel taps"),
    Param("groups", "groups", "int", 1, 1, 256, "Groups", "split channels into independent groups"),
    Param("bias", "bias", "bool", True, label="Bias", help="add a learned bias per filter"),
    Param("padding_mode", "padding_mode", "choice", "zeros", label="Padding mode", help="what the padding cells hold", choices=PADDING_MODES),
    Param("transposed", "transposed", "bool", False, label="Transposed convolution", help="ConvTranspose2d: upsample instead of downsample"),
    Param("output_padding", "output_padding", "pair", 0, 0, 7, "Output padding", "extra rows/cols on one side (transposed only)"),
)
PARAM = {p.name: p for p in PARAMETERS}


def fmt(pair: Pair) -> str:
    """Render a size pair the way people write it.

    >>> fmt((3, 3)), fmt((3, 5))
    ('3×3', '3×5')
    """
    return f"{pair[0]}×{pair[1]}"


def as_pair(value: Any, name: str) -> Pair:
    """Turn an int or an (h, w) pair into a pair of ints, or raise ConvConfigError.

    >>> as_pair(3, "kernel_size"), as_pair([3, 5], "kernel_size")
    ((3, 3), (3, 5))
    """
    if _is_int(value):
        return int(value), int(value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(_is_int(v) for v in value):
        return int(value[0]), int(value[1])
    raise ConvConfigError(name, f"expected a whole number or an (height, width) pair, got {value!r}",
                          f"use e.g. {name}=3 or {name}=(3, 5)")


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _check_range(name: str, values: Pair, lo: int, hi: int, what: str) -> None:
    for v in values:
        if v < lo:
            raise ConvConfigError(name, f"{what} {v} is below {lo}", f"use {name} ≥ {lo}")
        if v > hi:
            raise ConvConfigError(name, f"{what} {v} is above Conv Lab's cap of {hi} (keeps one request fast on a shared server)",
                                  f"use {name} ≤ {hi}")


@dataclass(frozen=True)
class ConvSpec:
    """A Conv2d / ConvTranspose2d layer with torch's argument names and defaults.

    >>> ConvSpec(3, 16, 3).output_shape((1, 3, 32, 32))
    (1, 16, 30, 30)
    """

    in_channels: int
    out_channels: int
    kernel_size: IntOrPair
    stride: IntOrPair = 1
    padding: Union[IntOrPair, str] = 0
    dilation: IntOrPair = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: IntOrPair = 0
    _norm: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Normalise lists to tuples so specs stay hashable (caches key on them), and numpy integers to int:
        # torch tests `if padding` on them, which is ambiguous for numpy scalars (issue #17).
        for name in ("in_channels", "out_channels", "groups", "kernel_size", "stride", "padding", "dilation",
                     "output_padding"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                value = tuple(int(v) if _is_int(v) else v for v in value)
            elif _is_int(value):
                value = int(value)
            object.__setattr__(self, name, value)
        _validate(self)

    # Normalised views -------------------------------------------------------
    @property
    def kernel_hw(self) -> Pair:
        """Kernel as (kh, kw).

        >>> ConvSpec(1, 1, 3).kernel_hw
        (3, 3)
        """
        return as_pair(self.kernel_size, "kernel_size")

    @property
    def stride_hw(self) -> Pair:
        """Stride as (sh, sw).

        >>> ConvSpec(1, 1, 3, stride=(1, 2)).stride_hw
        (1, 2)
        """
        return as_pair(self.stride, "stride")

    @property
    def dilation_hw(self) -> Pair:
        """Dilation as (dh, dw).

        >>> ConvSpec(1, 1, 3, dilation=2).dilation_hw
        (2, 2)
        """
        return as_pair(self.dilation, "dilation")

    @property
    def output_padding_hw(self) -> Pair:
        """Output padding as (oh, ow); always (0, 0) for a direct convolution.

        >>> ConvSpec(1, 1, 3, stride=2, transposed=True, output_padding=1).output_padding_hw
        (1, 1)
        """
        return as_pair(self.output_padding, "output_padding")

    @property
    def effective_kernel_hw(self) -> Pair:
        """Span of the dilated kernel, d·(k−1)+1 per dimension.

        >>> ConvSpec(1, 1, 3, dilation=2).effective_kernel_hw
        (5, 5)
        """
        (kh, kw), (dh, dw) = self.kernel_hw, self.dilation_hw
        return dh * (kh - 1) + 1, dw * (kw - 1) + 1

    def pads(self) -> tuple[int, int, int, int]:
        """Padding actually applied as (top, bottom, left, right); 'same' puts the odd cell last.

        >>> ConvSpec(1, 1, 4, padding="same").pads()
        (1, 2, 1, 2)
        """
        if self.padding == "valid":
            return 0, 0, 0, 0
        if self.padding == "same":
            (th, tw) = (e - 1 for e in self.effective_kernel_hw)
            return th // 2, th - th // 2, tw // 2, tw - tw // 2
        ph, pw = as_pair(self.padding, "padding")
        return ph, ph, pw, pw

    @property
    def module_name(self) -> str:
        """'Conv2d' or 'ConvTranspose2d'.

        >>> ConvSpec(1, 1, 3).module_name
        'Conv2d'
        """
        return "ConvTranspose2d" if self.transposed else "Conv2d"

    # The fixed public API, implemented in shapes / torch_run ---------------
    def output_shape(self, input_shape: tuple[int, ...]) -> tuple[int, ...]:
        """Output shape by the formula alone (no torch call), same rank as the input.

        >>> ConvSpec(3, 64, 3, stride=2, padding=1).output_shape((1, 3, 32, 32))
        (1, 64, 16, 16)
        """
        from conv_lab.core.shapes import output_shape

        return output_shape(self, input_shape)

    def explain(self, input_shape: tuple[int, ...]):
        """Step-by-step computation per spatial dimension (text and LaTeX).

        >>> ConvSpec(3, 8, 3, stride=2, padding=1).explain((3, 6, 6)).dims[0].uncovered
        1
        """
        from conv_lab.core.shapes import explain

        return explain(self, input_shape)

    def to_module(self):
        """The real torch.nn.Conv2d or torch.nn.ConvTranspose2d.

        >>> type(ConvSpec(3, 8, 3).to_module()).__name__
        'Conv2d'
        """
        from conv_lab.core.torch_run import build_module

        return build_module(self)

    def torch_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for the torch module, only those that differ from torch's defaults.

        >>> ConvSpec(3, 16, 3, padding=1).torch_kwargs()
        {'in_channels': 3, 'out_channels': 16, 'kernel_size': 3, 'padding': 1}
        """
        kwargs: dict[str, Any] = {"in_channels": self.in_channels, "out_channels": self.out_channels,
                                  "kernel_size": self.kernel_size}
        defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True, "padding_mode": "zeros"}
        if self.transposed:
            defaults["output_padding"] = 0
        for name, default in defaults.items():
            value = getattr(self, name)
            if value != default and value != (default, default):
                kwargs[name] = value
        return kwargs


def _validate(spec: ConvSpec) -> None:
    """Every rule that does not depend on the input; raises ConvConfigError."""
    for name, cap in (("in_channels", limits.MAX_CHANNELS), ("out_channels", limits.MAX_FILTERS),
                      ("groups", limits.MAX_CHANNELS)):
        value = getattr(spec, name)
        if not _is_int(value):
            raise ConvConfigError(name, f"expected a whole number, got {value!r}", f"use e.g. {name}=3")
        _check_range(name, (value, value), 1, cap, "a count of")
    _check_range("kernel_size", as_pair(spec.kernel_size, "kernel_size"), 1, limits.MAX_KERNEL, "kernel size")
    _check_range("stride", as_pair(spec.stride, "stride"), 1, limits.MAX_STRIDE, "stride")
    _check_range("dilation", as_pair(spec.dilation, "dilation"), 1, limits.MAX_DILATION, "dilation")
    _check_range("output_padding", as_pair(spec.output_padding, "output_padding"), 0, limits.MAX_STRIDE, "output_padding")
    if isinstance(spec.padding, str):
        if spec.padding not in PADDING_WORDS:
            raise ConvConfigError("padding", f"'{spec.padding}' is not a padding torch knows",
                                  "use a whole number, an (h, w) pair, 'same' or 'valid'")
    else:
        _check_range("padding", as_pair(spec.padding, "padding"), 0, limits.MAX_PADDING, "padding")
    if not isinstance(spec.bias, bool):
        raise ConvConfigError("bias", f"expected True or False, got {spec.bias!r}", "use bias=True or bias=False")
    if not isinstance(spec.transposed, bool):
        raise ConvConfigError("transposed", f"expected True or False, got {spec.transposed!r}", "use transposed=True or False")
    if spec.padding_mode not in PADDING_MODES:
        raise ConvConfigError("padding_mode", f"'{spec.padding_mode}' is not a padding mode torch knows",
                              "use one of " + ", ".join(PADDING_MODES))
    g = spec.groups
    for name in ("in_channels", "out_channels"):
        c = getattr(spec, name)
        if c % g:
            options = [d for d in range(1, c + 1) if c % d == 0 and spec.in_channels % d == 0 and spec.out_channels % d == 0]
            raise ConvConfigError("groups", f"{name}={c} cannot be split into {g} equal groups ({c} is not divisible by {g})",
                                  f"use groups in {options} or make {name} a multiple of {g}")
    sh, sw = spec.stride_hw
    if spec.transposed:
        if spec.padding_mode != "zeros":
            raise ConvConfigError("padding_mode", f"ConvTranspose2d only supports 'zeros' padding, not '{spec.padding_mode}'",
                                  "use padding_mode='zeros' or a direct (non-transposed) convolution")
        if isinstance(spec.padding, str):
            raise ConvConfigError("padding", f"ConvTranspose2d takes no padding='{spec.padding}'",
                                  "give a number: padding=(k−1)//2 with stride 1 keeps the size")
        (oh, ow), (dh, dw) = spec.output_padding_hw, spec.dilation_hw
        for axis, o, s, d in (("height", oh, sh, dh), ("width", ow, sw, dw)):
            if o >= s and o >= d:
                raise ConvConfigError("output_padding", f"output_padding {o} in {axis} must be smaller than the stride ({s}) "
                                      f"or the dilation ({d}); it only picks between output sizes a stride leaves ambiguous",
                                      f"use output_padding ≤ {max(s, d) - 1}")
    else:
        if spec.output_padding_hw != (0, 0):
            raise ConvConfigError("output_padding", "output_padding only exists for transposed convolution",
                                  "set output_padding=0, or transposed=True")
        if spec.padding == "same" and (sh, sw) != (1, 1):
            raise ConvConfigError("padding", f"padding='same' is not supported with stride {fmt((sh, sw))} "
                                  "(torch cannot keep the size while striding)",
                                  "use stride 1, or a number: padding=(k−1)//2 with stride 2 halves the size")


def check_input(spec: ConvSpec, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate an input shape for `spec`; return it as a tuple of ints.

    >>> check_input(ConvSpec(3, 8, 3), (3, 32, 32))
    (3, 32, 32)
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    if not isinstance(shape, tuple) or len(shape) not in (3, 4) or not all(_is_int(v) for v in shape):
        raise ConvConfigError("input_shape", f"expected (N, C, H, W) or (C, H, W) of whole numbers, got {input_shape!r}",
                              "use e.g. (1, 3, 32, 32)")
    shape = tuple(int(v) for v in shape)
    if any(v < 1 for v in shape):
        raise ConvConfigError("input_shape", f"every size must be at least 1, got {shape}", "use e.g. (1, 3, 32, 32)")
    if len(shape) == 4 and shape[0] > limits.MAX_BATCH:
        raise ConvConfigError("input_shape", f"batch {shape[0]} is above Conv Lab's cap of {limits.MAX_BATCH}",
                              f"use a batch ≤ {limits.MAX_BATCH}")
    c, h, w = shape[-3:]
    _check_range("input_size", (h, w), 1, limits.MAX_SPATIAL, "input size")
    if c != spec.in_channels:
        raise ConvConfigError("in_channels", f"the input has {c} channels but the layer expects in_channels={spec.in_channels}",
                              f"set in_channels={c} or give the input {spec.in_channels} channels")
    top, bottom, left, right = spec.pads()
    if spec.padding_mode == "reflect":
        for axis, size, pad in (("height", h, max(top, bottom)), ("width", w, max(left, right))):
            if pad >= size:
                raise ConvConfigError("padding", f"reflect padding of {pad} needs more than {pad} input cells in {axis} "
                                      f"to mirror, but the input has {size}",
                                      f"use padding ≤ {size - 1}, or padding_mode 'replicate' or 'zeros'")
    if spec.padding_mode == "circular":
        for axis, size, pad in (("height", h, max(top, bottom)), ("width", w, max(left, right))):
            if pad > size:
                raise ConvConfigError("padding", f"circular padding of {pad} wraps around the {size}-cell {axis} more than once",
                                      f"use padding ≤ {size}, or padding_mode 'replicate' or 'zeros'")
    return shape
