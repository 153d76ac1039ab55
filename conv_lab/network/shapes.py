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
from conv_lab.core.params import AXES, as_sizes, fmt
from conv_lab.core.shapes import check_pool_padding, pool_out
from conv_lab.core.spec import ConvSpec
from conv_lab.network.layers import LAYER_KINDS, UPSAMPLE_RANK, LayerKind, ordered

Shape = tuple[int, ...]
WHOLE = None  # receptive-field factor meaning "every output sees the whole input"
# Per spatial axis (L; H, W; or D, H, W): (cells of the layer's own input one output cell sees, input cells per
# output step).
RFFactor = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Step:
    """What one layer does to the shape, with the full constructor arguments torch gets."""

    kwargs: dict[str, Any]
    out_shape: Shape
    params: int = 0
    macs: int = 0
    rf: RFFactor | None = ()  # () keeps the receptive field (identity on every axis)
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
    >>> resolve_kwargs("Conv1d", {"out_channels": 8, "kernel_size": 3}, (1, 2, 100))["in_channels"]
    2
    """
    kind = LAYER_KINDS[kind_name]
    auto = next((a.name for a in kind.args if a.auto), None)
    kw = dict(values)
    if auto and auto not in kw:
        index = {"linear": -1, "batchnorm": 1}.get(kind.family, -(kind.dims + 1))  # conv: C of (C, *sizes)
        kw[auto] = shape[index] if len(shape) >= abs(index) + (index > 0) else 1
    return ordered(kind, kw)


def _rank_fix(kind: LayerKind, shape: Shape) -> str:
    """What to use instead of a layer that gets a tensor of the wrong rank."""
    rank = len(shape)
    family = kind.name[:-2]
    if kind.dims and 3 <= rank <= 5:
        sizes = ", ".join(sym for _, sym, _ in AXES[rank - 2])
        return f"the tensor is (N, C, {sizes}): use {family}{rank - 2}d, or put {kind.name} where the tensor is " \
               f"{_layout(kind.dims)}"
    if rank == 2 and kind.family == "batchnorm":
        return "after Flatten use BatchNorm1d"
    return f"put {kind.name} before Flatten (it needs {_layout(kind.dims)} feature maps)"


def _layout(n: int) -> str:
    return f"(N, C, {', '.join(sym for _, sym, _ in AXES[n])})" if n else "(N, C, …)"


def _need_rank(kind: LayerKind, shape: Shape, ranks: tuple[int, ...], fix: str = "") -> None:
    if len(shape) not in ranks:
        want = " or ".join(f"{r}-D" for r in ranks)
        raise ConvConfigError("input", f"{kind.name} needs a {want} input, but it gets the {len(shape)}-D tensor "
                              f"{describe(shape)}", fix or _rank_fix(kind, shape))


def _unbatched(kind: LayerKind, shape: Shape) -> str:
    """A note when a layer reads its input as one sample without a batch dimension (torch allows it)."""
    if len(shape) != kind.dims + 1:
        return ""
    sizes = ", ".join(sym for _, sym, _ in AXES[kind.dims])
    return f"{kind.name} reads this {len(shape)}-D tensor as one unbatched (C, {sizes}) sample: its first size " \
           f"{shape[0]} is taken as the channels"


def conv_spec(kind_name: str, kw: dict[str, Any]) -> ConvSpec:
    """The ConvSpec of a conv row's full constructor arguments (in_channels filled in).

    >>> conv_spec("ConvTranspose1d", {"in_channels": 2, "out_channels": 4, "kernel_size": 3, "stride": 2}).transposed
    True
    """
    kind = LAYER_KINDS[kind_name]
    return ConvSpec(kw["in_channels"], kw["out_channels"], kw["kernel_size"], kw.get("stride", 1), kw.get("padding", 0),
                    kw.get("dilation", 1), kw.get("groups", 1), kw.get("bias", True), kw.get("padding_mode", "zeros"),
                    kind.family == "transposed", kw.get("output_padding", 0), dims=kind.dims)


def _conv(kind: LayerKind, v: dict, shape: Shape) -> Step:
    n = kind.dims
    kw = resolve_kwargs(kind.name, v, shape)
    spec = conv_spec(kind.name, kw)  # torch's constructor checks (groups, ...) come before the forward's rank check
    _need_rank(kind, shape, (n + 1, n + 2))
    explanation = spec.explain(shape)  # runs the engine's checks (rank, channels, kernel vs input, caps)
    cost = layer_cost(spec, shape)
    out = explanation.output_shape
    r = receptive_field(spec)
    rf = tuple((size, 1 / step if spec.transposed else step) for size, step in zip(r, spec.stride_nd))
    notes = [_unbatched(kind, shape), *(st.note for st in explanation.dims if st.note)]
    return Step(ordered(kind, kw), out, cost.params, cost.macs, rf, "; ".join(n for n in notes if n), {"spec": spec})


def _pool(kind: LayerKind, v: dict, shape: Shape) -> Step:
    n = kind.dims
    _need_rank(kind, shape, (n + 1, n + 2))
    k = as_sizes(v["kernel_size"], n, "kernel_size")
    s = as_sizes(v["stride"], n, "stride") if v.get("stride") is not None else k
    p = as_sizes(v.get("padding", 0), n, "padding")
    d = as_sizes(v.get("dilation", 1), n, "dilation")
    check_pool_padding(k, p)
    size = shape[-n:]
    if kind.name == "AvgPool3d" and any(a < b for a, b in zip(size, k)):  # torch's own rule, padding aside
        raise ConvConfigError("kernel_size", f"AvgPool3d needs an input at least as large as its {fmt(k)} window "
                              f"(padding does not count), but it gets {fmt(size)}",
                              f"use kernel_size ≤ {fmt(tuple(min(a, b) for a, b in zip(size, k)))}, or pool earlier")
    out = tuple(pool_out(size[a], k[a], s[a], p[a], d[a], bool(v.get("ceil_mode", False))) for a in range(n))
    if min(out) < 1:
        eff = tuple(d[a] * (k[a] - 1) + 1 for a in range(n))
        raise ConvConfigError("kernel_size", f"the {fmt(eff)} pooling window is larger than the "
                              f"{fmt(tuple(size[a] + 2 * p[a] for a in range(n)))} padded input (output {fmt(out)})",
                              f"use kernel_size ≤ {min(size)}, or pool earlier while the map is larger")
    rf = tuple((d[a] * (k[a] - 1) + 1, s[a]) for a in range(n))
    return Step(ordered(kind, v), (*shape[:-n], *out), rf=rf, note=_unbatched(kind, shape))


def _adaptive(kind: LayerKind, v: dict, shape: Shape) -> Step:
    n, size_arg = kind.dims, v["output_size"]
    out = as_sizes(size_arg, n, "output_size")
    if kind.family == "adaptiveavg" and n > 1 and set(out) == {1}:
        # torch takes the mean over the last n dimensions when every output size is 1, whatever the rank (an int
        # needs n dimensions, a tuple n + 1): so it accepts a flattened (N, F) input too, or a 5-D one in 2-D.
        need = n + isinstance(size_arg, tuple)
        if len(shape) < need:
            raise ConvConfigError("input", f"{kind.name} needs at least a {need}-D input, but it gets the "
                                  f"{len(shape)}-D tensor {describe(shape)}", _rank_fix(kind, shape))
        note = "" if len(shape) in (n + 1, n + 2) else (f"on a {len(shape)}-D input this averages the last {n} "
                                                       "dimensions, whatever they hold")
        return Step(ordered(kind, v), (*shape[:-n], *out), rf=WHOLE, note=note)
    _need_rank(kind, shape, (n + 1, n + 2))
    size = shape[-n:]
    if set(out) == {1}:
        rf = WHOLE
    else:
        rf = tuple((math.ceil(size[a] / out[a]) + (1 if size[a] % out[a] else 0), size[a] / out[a]) for a in range(n))
    return Step(ordered(kind, v), (*shape[:-n], *out), rf=rf, note=_unbatched(kind, shape))


def _batchnorm(kind: LayerKind, v: dict, shape: Shape) -> Step:
    _need_rank(kind, shape, {1: (2, 3), 2: (4,), 3: (5,)}[kind.dims])
    kw = resolve_kwargs(kind.name, v, shape)
    if kw["num_features"] != shape[1]:
        raise ConvConfigError("num_features", f"the input has {shape[1]} channels but num_features={kw['num_features']}",
                              f"set num_features={shape[1]}")
    if math.prod(shape) == shape[1]:
        letters = "".join(("N", *(sym for _, sym, _ in AXES[len(shape) - 2]))) if len(shape) > 2 else "N"
        raise ConvConfigError("input", f"in training mode {kind.name} needs more than one value per channel, but "
                              f"{'·'.join(letters)} = 1 for {describe(shape)}", "use a batch of 2 or more, or "
                              "normalise before the map shrinks to 1 cell")
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
    _need_rank(kind, shape, (3, 4, 5), "put Upsample before Flatten (it needs (N, C, L), (N, C, H, W) or "
               "(N, C, D, H, W) feature maps)")
    spatial = shape[2:]
    if UPSAMPLE_RANK.get(mode, len(shape)) != len(shape):
        want = {3: "nearest or linear", 4: "nearest, bilinear or bicubic", 5: "nearest or trilinear"}[len(shape)]
        raise ConvConfigError("mode", f"mode='{mode}' needs a {UPSAMPLE_RANK[mode]}-D input, got the {len(shape)}-D "
                              f"{describe(shape)}", f"use mode={want.split(' or ')[-1]!r} (this input takes {want})")
    if size is not None:
        if isinstance(size, tuple) and len(spatial) != len(size):
            raise ConvConfigError("size", f"size {size} has {len(size)} numbers but the input has {len(spatial)} "
                                  "spatial dimensions", f"use size={size[0]}")
        out = size if isinstance(size, tuple) else (size,) * len(spatial)
    else:
        out = tuple(int(float(n) * scale) for n in spatial)
    if min(out) < 1:
        raise ConvConfigError("scale_factor", f"scale_factor {scale:g} shrinks {describe(spatial)} to {describe(out)}",
                              f"use scale_factor ≥ {1 / min(spatial):.3g}")
    cap = limits.MAX_OUTPUT_SPATIAL_BY_DIMS[len(spatial)]
    if max(out) > cap:
        raise ConvConfigError("scale_factor", f"the output would be {max(out)} cells wide, above Conv Lab's cap of "
                              f"{cap}", "use a smaller scale_factor or size")
    taps = {"nearest": 1, "linear": 2, "bilinear": 2, "bicubic": 4, "trilinear": 2}[mode]
    rf = tuple((taps, n / o) for n, o in zip(spatial, out))
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
    "conv": _conv, "transposed": _conv, "maxpool": _pool, "avgpool": _pool, "adaptiveavg": _adaptive,
    "adaptivemax": _adaptive, "batchnorm": _batchnorm, "same": _same, "upsample": _upsample, "flatten": _flatten,
    "linear": _linear,
}


def layer_step(kind_name: str, values: dict[str, Any], shape: Shape) -> Step:
    """Apply one layer's formula to `shape`; raise ConvConfigError where torch would fail (or a cap is hit).

    >>> layer_step("MaxPool2d", {"kernel_size": 2}, (1, 6, 28, 28)).out_shape
    (1, 6, 14, 14)
    >>> layer_step("Conv1d", {"out_channels": 8, "kernel_size": 2, "padding": "causal"}, (1, 1, 100)).out_shape
    (1, 8, 100)
    """
    kind = LAYER_KINDS[kind_name]
    step = _RULES[kind.family](kind, values, tuple(shape))
    if math.prod(step.out_shape) > limits.MAX_TENSOR_ELEMENTS:
        raise WorkCapError("input", f"the output {describe(step.out_shape)} would hold {math.prod(step.out_shape):,} "
                              f"numbers, above Conv Lab's cap of {limits.MAX_TENSOR_ELEMENTS:,} per tensor",
                              "use a smaller input or fewer channels")
    return step
