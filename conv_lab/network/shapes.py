"""Formula shapes, parameters, MACs and receptive-field factors for one layer of a planned network.

Each rule mirrors what torch does (the tests run the real layers as the oracle);
conv layers go through ConvSpec so their messages are the engine's own.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

from conv_lab import limits
from conv_lab.core.costs import layer_cost, receptive_field
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.params import as_pair, fmt
from conv_lab.core.shapes import check_pool_padding, pool_out
from conv_lab.core.spec import ConvSpec
from conv_lab.network.layers import LAYER_KINDS, LayerKind, ordered

Shape = tuple[int, ...]
WHOLE = None  # receptive-field factor meaning "every output sees the whole input"
# Per spatial axis: (cells of the layer's own input one output cell sees, input cells per output step).
RFFactor = tuple[tuple[float, float], tuple[float, float]]


@dataclass(frozen=True)
class Step:
    """What one layer does to the shape, with the full constructor arguments torch gets."""

    kwargs: dict[str, Any]
    out_shape: Shape
    params: int = 0
    macs: int = 0
    rf: RFFactor | None = ((1, 1), (1, 1))
    note: str = ""
    extra: dict = field(default_factory=dict)


def describe(shape: Shape) -> str:
    """A shape written the way torch prints it, without torch.

    >>> describe((1, 16, 5, 5))
    '(1, 16, 5, 5)'
    """
    return "(" + ", ".join(str(v) for v in shape) + ")"


def resolve_kwargs(kind_name: str, values: dict[str, Any], shape: Shape) -> dict[str, Any]:
    """Constructor arguments with the ones left out taken from the incoming tensor (in_channels, ...).

    >>> resolve_kwargs("Conv2d", {"out_channels": 8, "kernel_size": 3}, (1, 3, 32, 32))
    {'in_channels': 3, 'out_channels': 8, 'kernel_size': 3}
    """
    auto = {"Conv2d": "in_channels", "ConvTranspose2d": "in_channels", "BatchNorm2d": "num_features",
            "Linear": "in_features"}.get(kind_name)
    kw = dict(values)
    if auto and auto not in kw:
        index = -1 if kind_name == "Linear" else (-3 if auto == "in_channels" else 1)
        kw[auto] = shape[index] if len(shape) >= abs(index) + (index > 0) else 1
    return ordered(LAYER_KINDS[kind_name], kw)


def _need_rank(kind: LayerKind, shape: Shape, ranks: tuple[int, ...], fix: str) -> None:
    if len(shape) not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ConvConfigError("input", f"{kind.name} needs a {want} input, but it gets the {len(shape)}-D tensor "
                              f"{describe(shape)}", fix)


def _conv(kind: LayerKind, v: dict, shape: Shape) -> Step:
    _need_rank(kind, shape, (3, 4), "put convolutions before Flatten (they need (N, C, H, W) feature maps)")
    kw = resolve_kwargs(kind.name, v, shape)
    spec = ConvSpec(kw["in_channels"], kw["out_channels"], kw["kernel_size"], kw.get("stride", 1), kw.get("padding", 0),
                    kw.get("dilation", 1), kw.get("groups", 1), kw.get("bias", True), kw.get("padding_mode", "zeros"),
                    kind.name == "ConvTranspose2d", kw.get("output_padding", 0))
    explanation = spec.explain(shape)  # runs the engine's checks (channels, kernel vs input, caps)
    cost = layer_cost(spec, shape)
    out = explanation.output_shape
    r = receptive_field(spec)
    steps = spec.stride_hw
    if spec.transposed:
        rf = ((r[0], 1 / steps[0]), (r[1], 1 / steps[1]))
    else:
        rf = ((r[0], steps[0]), (r[1], steps[1]))
    notes = [st.note for st in explanation.dims if st.note]
    return Step(ordered(kind, kw), out, cost.params, cost.macs, rf, "; ".join(notes), {"spec": spec})


def _pool(kind: LayerKind, v: dict, shape: Shape) -> Step:
    _need_rank(kind, shape, (3, 4), "put pooling before Flatten (it needs (N, C, H, W) feature maps)")
    k = as_pair(v["kernel_size"], "kernel_size")
    s = as_pair(v["stride"], "stride") if v.get("stride") is not None else k
    p = as_pair(v.get("padding", 0), "padding")
    d = as_pair(v.get("dilation", 1), "dilation")
    check_pool_padding(k, p)
    size = shape[-2:]
    out = tuple(pool_out(size[a], k[a], s[a], p[a], d[a], bool(v.get("ceil_mode", False))) for a in (0, 1))
    if min(out) < 1:
        eff = tuple(d[a] * (k[a] - 1) + 1 for a in (0, 1))
        raise ConvConfigError("kernel_size", f"the {fmt(eff)} pooling window is larger than the "
                              f"{fmt(tuple(size[a] + 2 * p[a] for a in (0, 1)))} padded input (output {fmt(out)})",
                              f"use kernel_size ≤ {min(size)}, or pool earlier while the map is larger")
    rf = tuple((d[a] * (k[a] - 1) + 1, s[a]) for a in (0, 1))
    return Step(ordered(kind, v), (*shape[:-2], *out), rf=rf)


def _adaptive(kind: LayerKind, v: dict, shape: Shape) -> Step:
    if len(shape) == 2 and v["output_size"] == 1 and not isinstance(v["output_size"], tuple):
        # torch's shortcut for an int output_size of 1 takes the mean over the last two dimensions, so it
        # accepts a flattened (N, F) input too (a tuple (1, 1) does not take that path and needs 3-D).
        return Step(ordered(kind, v), (1, 1), rf=WHOLE,
                    note="on a 2-D input this averages everything, the batch included, into one number")
    _need_rank(kind, shape, (3, 4), "put AdaptiveAvgPool2d before Flatten")
    out = as_pair(v["output_size"], "output_size")
    size = shape[-2:]
    if out == (1, 1):
        rf = WHOLE
    else:
        rf = tuple((math.ceil(size[a] / out[a]) + (1 if size[a] % out[a] else 0), size[a] / out[a]) for a in (0, 1))
    return Step(ordered(kind, v), (*shape[:-2], *out), rf=rf)


def _batchnorm(kind: LayerKind, v: dict, shape: Shape) -> Step:
    _need_rank(kind, shape, (4,), "BatchNorm2d works on (N, C, H, W); after Flatten use BatchNorm1d")
    kw = resolve_kwargs(kind.name, v, shape)
    if kw["num_features"] != shape[1]:
        raise ConvConfigError("num_features", f"the input has {shape[1]} channels but num_features={kw['num_features']}",
                              f"set num_features={shape[1]}")
    if shape[0] * shape[2] * shape[3] == 1:
        raise ConvConfigError("input", "in training mode BatchNorm2d needs more than one value per channel, but "
                              f"N·H·W = 1 for {describe(shape)}", "use a batch of 2 or more, or normalise before the "
                              "map shrinks to 1×1")
    params = 2 * shape[1] if kw.get("affine", True) else 0
    return Step(ordered(kind, kw), shape, params, math.prod(shape))


def _upsample(kind: LayerKind, v: dict, shape: Shape) -> Step:
    size, scale, mode = v.get("size"), v.get("scale_factor"), v.get("mode", "nearest")
    if (size is None) == (scale is None):
        raise ConvConfigError("scale_factor", "Upsample needs exactly one of size and scale_factor",
                              "give scale_factor=2 (or size=…) and leave the other out")
    if v.get("align_corners") is not None and mode == "nearest":
        raise ConvConfigError("align_corners", "align_corners only applies to interpolating modes, not 'nearest'",
                              "remove align_corners or use mode='bilinear'")
    _need_rank(kind, shape, (3, 4), "put Upsample before Flatten (it needs (N, C, H, W) feature maps)")
    spatial = shape[2:]
    if len(shape) == 3 and mode != "nearest":
        raise ConvConfigError("mode", f"mode='{mode}' needs a 4-D (N, C, H, W) input, got {describe(shape)}",
                              "use mode='nearest' or keep the batch dimension")
    if size is not None:
        if isinstance(size, tuple) and len(spatial) != 2:
            raise ConvConfigError("size", f"size {size} has 2 dimensions but the input has {len(spatial)} spatial one",
                                  f"use size={size[0]}")
        out = size if isinstance(size, tuple) else (size,) * len(spatial)
    else:
        out = tuple(int(float(n) * scale) for n in spatial)
    if min(out) < 1:
        raise ConvConfigError("scale_factor", f"scale_factor {scale:g} shrinks {describe(spatial)} to {describe(out)}",
                              f"use scale_factor ≥ {1 / min(spatial):.3g}")
    if max(out) > limits.MAX_OUTPUT_SPATIAL:
        raise ConvConfigError("scale_factor", f"the output would be {max(out)} cells wide, above Conv Lab's cap of "
                              f"{limits.MAX_OUTPUT_SPATIAL}", "use a smaller scale_factor or size")
    taps = {"nearest": 1, "bilinear": 2, "bicubic": 4}[mode]
    rf = tuple((taps, n / o) for n, o in zip(spatial, out))
    if len(rf) == 1:  # (N, C, L): the one spatial axis is the width
        rf = ((1, 1), *rf)
    return Step(ordered(kind, v), (*shape[:2], *out), rf=rf)


def _flatten(kind: LayerKind, v: dict, shape: Shape) -> Step:
    rank = len(shape)
    dims = []
    for name in ("start_dim", "end_dim"):
        d = v.get(name, kind.arg(name).default)
        if not -rank <= d < rank:
            raise ConvConfigError(name, f"{name}={d} is outside the {rank}-D input {describe(shape)}",
                                  f"use {name} between {-rank} and {rank - 1}")
        dims.append(d % rank)
    start, end = dims
    if start > end:
        raise ConvConfigError("start_dim", f"start_dim {start} comes after end_dim {end}",
                              "use start_dim ≤ end_dim (the default 1 and -1 keep the batch)")
    out = (*shape[:start], math.prod(shape[start:end + 1]), *shape[end + 1:])
    return Step(ordered(kind, v), out, rf=WHOLE)


def _linear(kind: LayerKind, v: dict, shape: Shape) -> Step:
    kw = resolve_kwargs(kind.name, v, shape)
    if kw["in_features"] != shape[-1]:
        hint = "" if len(shape) == 2 else " (did you forget Flatten before it?)"
        raise ConvConfigError("in_features", f"Linear expects in_features={kw['in_features']} but the incoming tensor "
                              f"{describe(shape)} has {shape[-1]} in its last dimension{hint}",
                              f"set in_features={math.prod(shape[1:])} after a Flatten" if len(shape) > 2
                              else f"set in_features={shape[-1]} (or leave it out: the planner fills it in)")
    note = ("Linear acts on the last dimension only: without Flatten it treats each row of the map "
            "separately" if len(shape) > 2 else "")
    params = kw["in_features"] * kw["out_features"] + (kw["out_features"] if kw.get("bias", True) else 0)
    return Step(ordered(kind, kw), (*shape[:-1], kw["out_features"]), params,
                math.prod(shape[:-1]) * kw["in_features"] * kw["out_features"], WHOLE, note)


def _same(kind: LayerKind, v: dict, shape: Shape) -> Step:
    return Step(ordered(kind, v), shape)


_RULES: dict[str, Callable[[LayerKind, dict, Shape], Step]] = {
    "Conv2d": _conv, "ConvTranspose2d": _conv, "MaxPool2d": _pool, "AvgPool2d": _pool,
    "AdaptiveAvgPool2d": _adaptive, "BatchNorm2d": _batchnorm, "ReLU": _same, "Dropout": _same,
    "Upsample": _upsample, "Flatten": _flatten, "Linear": _linear,
}


def layer_step(kind_name: str, values: dict[str, Any], shape: Shape) -> Step:
    """Apply one layer's formula to `shape`; raise ConvConfigError where torch would fail (or a cap is hit).

    >>> layer_step("MaxPool2d", {"kernel_size": 2}, (1, 6, 28, 28)).out_shape
    (1, 6, 14, 14)
    """
    kind = LAYER_KINDS[kind_name]
    step = _RULES[kind_name](kind, values, tuple(shape))
    if math.prod(step.out_shape) > limits.MAX_TENSOR_ELEMENTS:
        raise WorkCapError("input", f"the output {describe(step.out_shape)} would hold {math.prod(step.out_shape):,} "
                              f"numbers, above Conv Lab's cap of {limits.MAX_TENSOR_ELEMENTS:,} per tensor",
                              "use a smaller input or fewer channels")
    return step
