"""ConvSpec: one convolution layer in torch's own terms, validated on construction.

`ConvSpec` checks everything that does not depend on the input and raises `ConvConfigError` with a
plain-language message that names the parameter and a fix; `shapes.check_input` checks the rest.
Its convenience methods (`output_shape`, `explain`, `to_module`) call downward into `shapes` and
`torch_run`, which read a spec's fields and never import this module.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import (
    PADDING_MODES,
    PADDING_WORDS,
    IntOrPair,
    Pair,
    as_pair,
    check_range,
    fmt,
    group_counts,
    is_int,
)
from conv_lab.core.shapes import Explanation, explain, output_shape


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
                value = tuple(int(v) if is_int(v) else v for v in value)
            elif is_int(value):
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
        return output_shape(self, input_shape)

    def explain(self, input_shape: tuple[int, ...]) -> Explanation:
        """Step-by-step computation per spatial dimension (text and LaTeX).

        >>> ConvSpec(3, 8, 3, stride=2, padding=1).explain((3, 6, 6)).dims[0].uncovered
        1
        """
        return explain(self, input_shape)

    def to_module(self):
        """The real torch.nn.Conv2d or torch.nn.ConvTranspose2d.

        >>> type(ConvSpec(3, 8, 3).to_module()).__name__
        'Conv2d'
        """
        from conv_lab.core.torch_run import build_module  # here, not above: importing the spec must not load torch

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
        if not is_int(value):
            raise ConvConfigError(name, f"expected a whole number, got {value!r}", f"use e.g. {name}=3")
        check_range(name, (value, value), 1, cap, "a count of")
    check_range("kernel_size", as_pair(spec.kernel_size, "kernel_size"), 1, limits.MAX_KERNEL, "kernel size")
    check_range("stride", as_pair(spec.stride, "stride"), 1, limits.MAX_STRIDE, "stride")
    check_range("dilation", as_pair(spec.dilation, "dilation"), 1, limits.MAX_DILATION, "dilation")
    check_range("output_padding", as_pair(spec.output_padding, "output_padding"), 0, limits.MAX_STRIDE, "output_padding")
    if isinstance(spec.padding, str):
        if spec.padding not in PADDING_WORDS:
            raise ConvConfigError("padding", f"'{spec.padding}' is not a padding torch knows",
                                  "use a whole number, an (h, w) pair, 'same' or 'valid'")
    else:
        check_range("padding", as_pair(spec.padding, "padding"), 0, limits.MAX_PADDING, "padding")
    if not isinstance(spec.bias, bool):
        raise ConvConfigError("bias", f"expected True or False, got {spec.bias!r}", "use bias=True or bias=False")
    if not isinstance(spec.transposed, bool):
        raise ConvConfigError("transposed", f"expected True or False, got {spec.transposed!r}",
                              "use transposed=True or False")
    if spec.padding_mode not in PADDING_MODES:
        raise ConvConfigError("padding_mode", f"'{spec.padding_mode}' is not a padding mode torch knows",
                              "use one of " + ", ".join(PADDING_MODES))
    g = spec.groups
    for name in ("in_channels", "out_channels"):
        c = getattr(spec, name)
        if c % g:
            options = group_counts(spec.in_channels, spec.out_channels)
            raise ConvConfigError("groups",
                                  f"{name}={c} cannot be split into {g} equal groups ({c} is not divisible by {g})",
                                  f"use groups in {options} or make {name} a multiple of {g}")
    sh, sw = spec.stride_hw
    if spec.transposed:
        if spec.padding_mode != "zeros":
            raise ConvConfigError("padding_mode",
                                  f"ConvTranspose2d only supports 'zeros' padding, not '{spec.padding_mode}'",
                                  "use padding_mode='zeros' or a direct (non-transposed) convolution")
        if isinstance(spec.padding, str):
            raise ConvConfigError("padding", f"ConvTranspose2d takes no padding='{spec.padding}'",
                                  "give a number: padding=(k−1)//2 with stride 1 keeps the size")
        (oh, ow), (dh, dw) = spec.output_padding_hw, spec.dilation_hw
        for axis, o, s, d in (("height", oh, sh, dh), ("width", ow, sw, dw)):
            if o >= s and o >= d:
                raise ConvConfigError("output_padding",
                                      f"output_padding {o} in {axis} must be smaller than the stride ({s}) "
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
