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
    AXES,
    DIMS,
    PADDING_MODES,
    PADDING_WORDS,
    IntOrSizes,
    Pair,
    Sizes,
    as_sizes,
    check_range,
    fmt,
    group_counts,
    is_int,
    plane,
)
from conv_lab.core.shapes import Explanation, explain, output_shape


@dataclass(frozen=True)
class ConvSpec:
    """A Conv1d/2d/3d or ConvTranspose1d/2d/3d layer with torch's argument names and defaults (`dims`: 1, 2 or 3).

    >>> ConvSpec(3, 16, 3).output_shape((1, 3, 32, 32))
    (1, 16, 30, 30)
    >>> ConvSpec(1, 8, 3, dilation=2, padding="causal", dims=1).output_shape((1, 1, 100))
    (1, 8, 100)
    """

    in_channels: int
    out_channels: int
    kernel_size: IntOrSizes
    stride: IntOrSizes = 1
    padding: Union[IntOrSizes, str] = 0
    dilation: IntOrSizes = 1
    groups: int = 1
    bias: bool = True
    padding_mode: str = "zeros"
    transposed: bool = False
    output_padding: IntOrSizes = 0
    dims: int = 2
    _norm: dict = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # Normalise lists to tuples so specs stay hashable (caches key on them), and numpy integers to int:
        # torch tests `if padding` on them, which is ambiguous for numpy scalars (issue #17).
        for name in ("in_channels", "out_channels", "groups", "kernel_size", "stride", "padding", "dilation",
                     "output_padding", "dims"):
            value = getattr(self, name)
            if isinstance(value, (list, tuple)):
                value = tuple(int(v) if is_int(v) else v for v in value)
            elif is_int(value):
                value = int(value)
            object.__setattr__(self, name, value)
        _validate(self)

    # Normalised views: per spatial dimension (_nd), and the 2-D view the grid pictures draw (_hw) -------
    @property
    def kernel_nd(self) -> Sizes:
        """Kernel size per spatial dimension.

        >>> ConvSpec(1, 1, 3, dims=3).kernel_nd, ConvSpec(1, 1, (3, 5)).kernel_nd
        ((3, 3, 3), (3, 5))
        """
        return as_sizes(self.kernel_size, self.dims, "kernel_size")

    @property
    def stride_nd(self) -> Sizes:
        """Stride per spatial dimension.

        >>> ConvSpec(1, 1, 3, stride=4, dims=1).stride_nd
        (4,)
        """
        return as_sizes(self.stride, self.dims, "stride")

    @property
    def dilation_nd(self) -> Sizes:
        """Dilation per spatial dimension.

        >>> ConvSpec(1, 1, 3, dilation=(1, 2, 2), dims=3).dilation_nd
        (1, 2, 2)
        """
        return as_sizes(self.dilation, self.dims, "dilation")

    @property
    def output_padding_nd(self) -> Sizes:
        """Output padding per spatial dimension; all 0 for a direct convolution.

        >>> ConvSpec(1, 1, 3, stride=2, transposed=True, output_padding=1).output_padding_nd
        (1, 1)
        """
        return as_sizes(self.output_padding, self.dims, "output_padding")

    @property
    def effective_kernel_nd(self) -> Sizes:
        """Span of the dilated kernel, d·(k−1)+1 per spatial dimension.

        >>> ConvSpec(1, 1, 3, dilation=2, dims=1).effective_kernel_nd
        (5,)
        """
        return tuple(d * (k - 1) + 1 for k, d in zip(self.kernel_nd, self.dilation_nd))

    def pad_pairs(self) -> tuple[Pair, ...]:
        """Padding actually applied, (before, after) per dimension; 'same' puts the odd cell last, 'causal' all left.

        >>> ConvSpec(1, 1, 4, padding="same").pad_pairs()
        ((1, 2), (1, 2))
        >>> ConvSpec(1, 1, 3, dilation=2, padding="causal", dims=1).pad_pairs()
        ((4, 0),)
        """
        if self.padding == "valid":
            return ((0, 0),) * self.dims
        if self.padding in ("same", "causal"):
            totals = [e - 1 for e in self.effective_kernel_nd]
            return tuple((t, 0) if self.padding == "causal" else (t // 2, t - t // 2) for t in totals)
        return tuple((p, p) for p in as_sizes(self.padding, self.dims, "padding"))

    @property
    def kernel_hw(self) -> Pair:
        """Kernel as (kh, kw) in the 2-D view (1-D: a one-row strip; 3-D: the H×W plane).

        >>> ConvSpec(1, 1, 3).kernel_hw, ConvSpec(1, 1, 5, dims=1).kernel_hw
        ((3, 3), (1, 5))
        """
        return plane(self.kernel_nd, 1)

    @property
    def stride_hw(self) -> Pair:
        """Stride as (sh, sw) in the 2-D view.

        >>> ConvSpec(1, 1, 3, stride=(1, 2)).stride_hw
        (1, 2)
        """
        return plane(self.stride_nd, 1)

    @property
    def dilation_hw(self) -> Pair:
        """Dilation as (dh, dw) in the 2-D view.

        >>> ConvSpec(1, 1, 3, dilation=2).dilation_hw
        (2, 2)
        """
        return plane(self.dilation_nd, 1)

    @property
    def output_padding_hw(self) -> Pair:
        """Output padding as (oh, ow) in the 2-D view; always (0, 0) for a direct convolution.

        >>> ConvSpec(1, 1, 3, stride=2, transposed=True, output_padding=1).output_padding_hw
        (1, 1)
        """
        return plane(self.output_padding_nd, 0)

    @property
    def effective_kernel_hw(self) -> Pair:
        """Span of the dilated kernel, d·(k−1)+1, in the 2-D view.

        >>> ConvSpec(1, 1, 3, dilation=2).effective_kernel_hw
        (5, 5)
        """
        return plane(self.effective_kernel_nd, 1)

    def pads(self) -> tuple[int, int, int, int]:
        """Padding of the 2-D view as (top, bottom, left, right); 'same' puts the odd cell last.

        >>> ConvSpec(1, 1, 4, padding="same").pads(), ConvSpec(1, 1, 3, padding="causal", dims=1).pads()
        ((1, 2, 1, 2), (0, 0, 2, 0))
        """
        pairs = self.pad_pairs()
        (top, bottom), (left, right) = ((0, 0), pairs[0]) if self.dims == 1 else pairs[-2:]
        return top, bottom, left, right

    @property
    def module_name(self) -> str:
        """'Conv2d', 'ConvTranspose1d', … as torch names the module.

        >>> ConvSpec(1, 1, 3).module_name, ConvSpec(1, 1, 3, transposed=True, dims=3).module_name
        ('Conv2d', 'ConvTranspose3d')
        """
        return f"ConvTranspose{self.dims}d" if self.transposed else f"Conv{self.dims}d"

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
        """The real torch.nn.Conv1d/2d/3d or ConvTranspose1d/2d/3d.

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
            if value != default and value != (default,) * self.dims and value != "causal":  # causal: F.pad first
                kwargs[name] = value
        return kwargs


def _validate(spec: ConvSpec) -> None:
    """Every rule that does not depend on the input; raises ConvConfigError."""
    if not is_int(spec.dims) or spec.dims not in DIMS:
        raise ConvConfigError("dims", f"a convolution has 1, 2 or 3 spatial dimensions, not {spec.dims!r}",
                              "use dims=1 (Conv1d), 2 (Conv2d) or 3 (Conv3d)")
    for name, cap in (("in_channels", limits.MAX_CHANNELS), ("out_channels", limits.MAX_FILTERS),
                      ("groups", limits.MAX_CHANNELS)):
        value = getattr(spec, name)
        if not is_int(value):
            raise ConvConfigError(name, f"expected a whole number, got {value!r}", f"use e.g. {name}=3")
        check_range(name, (value, value), 1, cap, "a count of")
    check_range("kernel_size", spec.kernel_nd, 1, limits.MAX_KERNEL_BY_DIMS[spec.dims], "kernel size")
    check_range("stride", spec.stride_nd, 1, limits.MAX_STRIDE, "stride")
    check_range("dilation", spec.dilation_nd, 1, limits.MAX_DILATION_BY_DIMS[spec.dims], "dilation")
    check_range("output_padding", spec.output_padding_nd, 0, limits.MAX_STRIDE, "output_padding")
    if isinstance(spec.padding, str):
        if spec.padding not in PADDING_WORDS:
            raise ConvConfigError("padding", f"'{spec.padding}' is not a padding torch knows",
                                  "use a whole number, one per dimension, 'same' or 'valid'")
        if spec.padding == "causal" and spec.dims != 1:
            raise ConvConfigError("padding", f"causal padding is for 1-D sequences, not a {spec.dims}-D layer",
                                  "use dims=1 (Conv1d), or padding='same'")
        if spec.padding == "causal" and spec.padding_mode != "zeros":
            raise ConvConfigError("padding_mode", f"causal padding adds zeros on the left; '{spec.padding_mode}' "
                                  "would copy input values into the past", "use padding_mode='zeros' with causal padding")
    else:
        check_range("padding", as_sizes(spec.padding, spec.dims, "padding"), 0, limits.MAX_PADDING, "padding")
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
    strides = spec.stride_nd
    if spec.transposed:
        if spec.padding_mode != "zeros":
            raise ConvConfigError("padding_mode",
                                  f"{spec.module_name} only supports 'zeros' padding, not '{spec.padding_mode}'",
                                  "use padding_mode='zeros' or a direct (non-transposed) convolution")
        if isinstance(spec.padding, str):
            raise ConvConfigError("padding", f"{spec.module_name} takes no padding='{spec.padding}'",
                                  "give a number: padding=(k−1)//2 with stride 1 keeps the size")
        names = [axis for axis, _, _ in AXES[spec.dims]]
        for axis, o, s, d in zip(names, spec.output_padding_nd, strides, spec.dilation_nd):
            if o >= s and o >= d:
                raise ConvConfigError("output_padding",
                                      f"output_padding {o} in {axis} must be smaller than the stride ({s}) "
                                      f"or the dilation ({d}); it only picks between output sizes a stride leaves ambiguous",
                                      f"use output_padding ≤ {max(s, d) - 1}")
    else:
        if any(spec.output_padding_nd):
            raise ConvConfigError("output_padding", "output_padding only exists for transposed convolution",
                                  "set output_padding=0, or transposed=True")
        if spec.padding == "same" and any(s != 1 for s in strides):
            raise ConvConfigError("padding", f"padding='same' is not supported with stride {fmt(strides)} "
                                  "(torch cannot keep the size while striding)",
                                  "use stride 1, or a number: padding=(k−1)//2 with stride 2 halves the size")
