"""What a layer costs: parameters, multiply-accumulates, memory, receptive field, and the work caps.

`work_check` is where every page's run of a layer is refused before it starts when it would take
more than one request's share of a shared server (`limits.MAX_REQUEST_SECONDS`, the tensor caps).
The CPU estimate follows the torch kernel family that runs the layer (`conv_path`): their cost per
multiply-accumulate differs ~50×, measured by benchmarks/conv_cost.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Callable

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.params import LayerSpec
from conv_lab.core.shapes import output_shape


@dataclass(frozen=True)
class LayerCost:
    """Parameters, multiply-accumulates and memory of one layer on one input."""

    weight_params: int
    bias_params: int
    macs: int
    input_bytes: int
    output_bytes: int
    effective_kernel: tuple[int, ...]  # per spatial dimension
    receptive_field: tuple[int, ...]

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.weight_params + self.bias_params


def receptive_field(spec: LayerSpec) -> tuple[int, ...]:
    """Input cells per spatial dimension that one output cell depends on, for this layer alone.

    >>> receptive_field(ConvSpec(1, 1, 3, dilation=2)), receptive_field(ConvSpec(1, 1, 3, dilation=4, dims=1))
    ((5, 5), (9,))
    """
    if not spec.transposed:
        return spec.effective_kernel_nd
    spans = []
    for k, s, d in zip(spec.kernel_nd, spec.stride_nd, spec.dilation_nd):
        best = 1
        for r in range(s):  # output positions repeat their tap pattern with period s
            taps = [t for t in range(k) if (r - t * d) % s == 0]
            if taps:
                best = max(best, (max(taps) - min(taps)) * d // s + 1)
        spans.append(best)
    return tuple(spans)


def layer_cost(spec: LayerSpec, input_shape: tuple[int, ...]) -> LayerCost:
    """Parameters (as torch counts them), MACs and float32 memory.

    >>> layer_cost(ConvSpec(3, 16, 3), (1, 3, 32, 32)).params
    448
    """
    out = output_shape(spec, input_shape)
    shape = tuple(input_shape)
    taps = math.prod(spec.kernel_nd)
    weight = spec.in_channels * (spec.out_channels // spec.groups) * taps
    batch = shape[0] if len(shape) == spec.dims + 2 else 1
    n = spec.dims
    if spec.transposed:  # every input cell scatters a (C_out/g)×k… block
        macs = batch * spec.in_channels * math.prod(shape[-n:]) * (spec.out_channels // spec.groups) * taps
    else:
        macs = batch * spec.out_channels * math.prod(out[-n:]) * (spec.in_channels // spec.groups) * taps
    return LayerCost(weight, spec.out_channels if spec.bias else 0, macs,
                     4 * math.prod(shape), 4 * math.prod(out), spec.effective_kernel_nd, receptive_field(spec))


def conv_path(spec: LayerSpec) -> str:
    """Which family of torch kernels runs the layer: their cost per MAC differs ~50× (limits.NS_PER_MAC).

    >>> conv_path(ConvSpec(8, 8, 3)), conv_path(ConvSpec(8, 8, 3, groups=8)), conv_path(ConvSpec(8, 8, 3, transposed=True))
    ('dense', 'depthwise', 'transposed')
    """
    if spec.transposed:
        return "transposed grouped" if spec.groups > 1 else "transposed"
    if spec.groups == 1:
        return "dense"
    return "depthwise" if spec.groups == spec.in_channels else "grouped"


def padded_elements(spec: LayerSpec, input_shape: tuple[int, ...]) -> int:
    """Numbers in the padded input (torch builds that copy for reflect/replicate/circular padding).

    >>> padded_elements(ConvSpec(3, 8, 3, padding=1), (1, 3, 32, 32))
    3468
    """
    n = spec.dims
    pairs = ((0, 0),) * n if spec.transposed else spec.pad_pairs()
    sizes = input_shape[-n:]
    return math.prod(input_shape[:-n]) * math.prod(size + b + a for size, (b, a) in zip(sizes, pairs))


def estimated_seconds(spec: LayerSpec, input_shape: tuple[int, ...]) -> float:
    """CPU seconds one run of the layer is expected to take on one torch thread (a generous upper estimate).

    >>> round(estimated_seconds(ConvSpec(64, 64, 3, padding=1), (1, 64, 128, 128)), 3)
    0.077
    """
    cost = layer_cost(spec, input_shape)
    elements = cost.input_bytes // 4 + padded_elements(spec, input_shape) + cost.output_bytes // 4
    per_element = limits.NS_PER_ELEMENT["transposed" if spec.transposed else "direct"]
    path = conv_path(spec)
    macs = cost.macs
    if path in ("dense", "grouped", "transposed"):  # output channels run in blocks: 1 filter costs as much as 8
        per_group = spec.out_channels // spec.groups
        macs = macs * math.ceil(per_group / limits.CHANNEL_BLOCK) * limits.CHANNEL_BLOCK / per_group
    return (macs * limits.NS_PER_MAC[path] + elements * per_element + cost.params * limits.NS_PER_WEIGHT) * 1e-9


Extra = Callable[[LayerSpec, tuple], float]  # CPU seconds a page adds to the layer run (see work_check)


def smaller_input_that_fits(spec: LayerSpec, input_shape: tuple[int, ...], extra: Extra | None = None
                            ) -> tuple[int, ...] | None:
    """The largest input of the same aspect (sides halved step by step) whose run fits the work caps, if any.

    >>> smaller_input_that_fits(ConvSpec(256, 256, 15, groups=256, padding=7), (1, 256, 150, 150))
    (1, 256, 37, 37)
    """
    lead, sizes = tuple(input_shape[:-spec.dims]), tuple(input_shape[-spec.dims:])
    for _ in range(17):
        sizes = tuple(max(1, v // 2) for v in sizes)
        shape = (*lead, *sizes)
        try:
            output_shape(spec, shape)
            if not _over_caps(spec, shape, extra):
                return shape
        except ConvConfigError:
            return None
        if set(sizes) == {1}:
            return None
    return None


def fewer_filters_that_fit(spec: LayerSpec, input_shape: tuple[int, ...], extra: Extra | None = None) -> int | None:
    """The most filters (halved step by step, a multiple of groups) with which the layer fits on this input, if any.

    >>> fewer_filters_that_fit(ConvSpec(256, 512, 15, padding=7), (1, 256, 8, 8))
    128
    """
    filters = spec.out_channels
    while filters // 2 >= spec.groups and (filters // 2) % spec.groups == 0:
        filters //= 2
        if not _over_caps(replace(spec, out_channels=filters), tuple(input_shape), extra):
            return filters
    return None


def _over_caps(spec: LayerSpec, shape: tuple[int, ...], extra: Extra | None = None) -> str:
    """Why running the layer on `shape` is over a work cap, or ''."""
    cost = layer_cost(spec, shape)
    largest = max(cost.input_bytes // 4, cost.output_bytes // 4, padded_elements(spec, shape))
    if largest > limits.MAX_TENSOR_ELEMENTS:
        return (f"a tensor of this layer (input, padded input or output) would hold {largest:,} numbers, over "
                f"Conv Lab's cap of {limits.MAX_TENSOR_ELEMENTS:,} for one request on a shared server")
    if cost.macs > limits.MAX_MACS:
        return (f"running this layer takes {cost.macs:,} multiply-accumulates, above Conv Lab's cap of "
                f"{limits.MAX_MACS:,} per request")
    seconds = estimated_seconds(spec, shape) + (extra(spec, shape) if extra else 0.0)
    if seconds > limits.MAX_REQUEST_SECONDS:
        return (f"running this {conv_path(spec)} layer would take about {seconds:.1f} s of CPU, above Conv Lab's cap of "
                f"{limits.MAX_REQUEST_SECONDS} s per request on a shared server")
    return ""


def work_check(spec: LayerSpec, input_shape: tuple[int, ...], extra: Extra | None = None) -> LayerCost:
    """Raise WorkCapError when running the layer would exceed the server's work caps, naming the cap and a smaller
    input (or fewer filters) that fits. `extra(spec, input_shape)`: CPU seconds the page adds to the run (the feature
    maps write a filter bank into every weight and draw every output number), counted against the same cap.

    >>> work_check(ConvSpec(3, 16, 3), (1, 3, 32, 32)).macs
    388800
    """
    cost = layer_cost(spec, input_shape)
    why = _over_caps(spec, tuple(input_shape), extra)
    if why:
        smaller = smaller_input_that_fits(spec, tuple(input_shape), extra)
        fit = f"; e.g. input {'×'.join(map(str, smaller[-spec.dims - 1:]))} fits" if smaller else ""
        filters = None if smaller or "tensor" in why else fewer_filters_that_fit(spec, tuple(input_shape), extra)
        fit += f"; e.g. {filters} filters fit" if filters else ""
        padded = (padded_elements(spec, tuple(input_shape)) > limits.MAX_TENSOR_ELEMENTS
                  >= max(cost.input_bytes, cost.output_bytes) // 4)  # only the padded copy is over the cap
        param = "padding" if padded else "input_size" if "tensor" in why else "out_channels"
        fix = ("use less padding (the padded copy is the largest tensor)" if padded else
               "use a smaller input, fewer filters or fewer input channels")
        raise WorkCapError(param, f"{why} (the formula above still holds)", f"{fix} to run it for real{fit}")
    return cost
