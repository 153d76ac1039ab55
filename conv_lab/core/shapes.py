"""The output-size formula, worked out step by step, plus costs and padding solvers.

Pure arithmetic: no torch here. torch is the oracle in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conv_lab import limits
from conv_lab.core.spec import ConvConfigError, ConvSpec, WorkCapError, as_pair, check_input, fmt

AXES = (("height", "H", "row"), ("width", "W", "column"))


def conv_out(i: int, k: int, s: int = 1, pad_before: int = 0, pad_after: int = 0, d: int = 1) -> int:
    """Direct convolution output size for one dimension (may be ≤ 0 when impossible).

    >>> conv_out(32, 3, 2, 1, 1)
    16
    """
    return (i + pad_before + pad_after - d * (k - 1) - 1) // s + 1


def transposed_out(i: int, k: int, s: int = 1, p: int = 0, d: int = 1, output_padding: int = 0) -> int:
    """Transposed convolution output size for one dimension.

    >>> transposed_out(16, 4, 2, 1)
    32
    """
    return (i - 1) * s - 2 * p + d * (k - 1) + output_padding + 1


@dataclass(frozen=True)
class DimStep:
    """The formula for one spatial dimension with the user's numbers substituted."""

    axis: str  # "height" or "width"
    symbol: str  # "H" or "W"
    size_in: int
    kernel: int
    stride: int
    dilation: int
    pad_before: int
    pad_after: int
    output_padding: int
    transposed: bool
    effective_kernel: int
    padded: int  # input plus padding (direct); zero-inserted grid plus padding (transposed)
    numerator: int  # the integer that is divided by the stride (direct only)
    size_out: int
    uncovered: int  # trailing padded rows/cols no window ever covers
    uncovered_input: int  # how many of those are real input, not padding
    text: str
    latex: str
    note: str


@dataclass(frozen=True)
class Explanation:
    """Both dimensions plus the channel count, as text and LaTeX lines."""

    dims: tuple[DimStep, ...]
    channels_text: str
    channels_latex: str
    output_shape: tuple[int, ...]

    @property
    def text(self) -> str:
        """All lines as plain text."""
        return "\n".join([*(d.text for d in self.dims), *(d.note for d in self.dims if d.note), self.channels_text])


def _pad_terms(pb: int, pa: int, sym: str) -> tuple[str, str, str]:
    """(plain, latex, numbers) for the padding term: 2p when symmetric, p_top + p_bottom when not."""
    if pb == pa:
        return "2p", "2p", f"2·{pb}"
    first, second = ("top", "bottom") if sym == "H" else ("left", "right")
    return (f"p_{first} + p_{second}", f"p_{{{first}}} + p_{{{second}}}", f"{pb} + {pa}")


def _dim_step(spec: ConvSpec, axis: int, size_in: int) -> DimStep:
    name, sym, cell = AXES[axis]
    k, s, d = spec.kernel_hw[axis], spec.stride_hw[axis], spec.dilation_hw[axis]
    pads = spec.pads()
    pb, pa = pads[2 * axis], pads[2 * axis + 1]
    op = spec.output_padding_hw[axis]
    eff = d * (k - 1) + 1
    if spec.transposed:
        out = transposed_out(size_in, k, s, pb, d, op)
        text = (f"{sym}_out = ({sym}_in − 1)·s − 2p + d·(k−1) + output_padding + 1 = "
                f"({size_in} − 1)·{s} − 2·{pb} + {d}·({k}−1) + {op} + 1 = {out}")
        latex = (rf"\begin{{aligned}}{sym}_{{out}} &= ({sym}_{{in}} - 1)\,s - 2p + d\,(k-1) + \mathrm{{output\_padding}} + 1"
                 rf"\\ &= ({size_in} - 1)\cdot {s} - 2\cdot {pb} + {d}\cdot({k}-1) + {op} + 1 = {out}\end{{aligned}}")
        # Equivalent direct conv: zeros between inputs, d(k-1)-p padding, stride 1: every cell covered.
        padded = (size_in - 1) * s + 1 + 2 * (d * (k - 1) - pb) + op
        return DimStep(name, sym, size_in, k, s, d, pb, pa, op, True, eff, padded, 0, out, 0, 0, text, latex, "")
    plain_pad, latex_pad, num_pad = _pad_terms(pb, pa, sym)
    numerator = size_in + pb + pa - d * (k - 1) - 1
    out = numerator // s + 1
    exact = f"{numerator}/{s}" if s > 1 else f"{numerator}"
    floor_note = "" if s == 1 else (f" = ⌊{numerator / s:g}⌋ + 1" if numerator % s else "")
    text = (f"{sym}_out = ⌊({sym}_in + {plain_pad} − d·(k−1) − 1) / s⌋ + 1 = "
            f"⌊({size_in} + {num_pad} − {d}·({k}−1) − 1) / {s}⌋ + 1 = ⌊{exact}⌋ + 1{floor_note} = "
            f"{numerator // s} + 1 = {out}")
    num_latex = num_pad.replace("·", r"\cdot ")
    if s > 1 and numerator % s:
        last = rf"= \lfloor {numerator / s:g} \rfloor + 1 = {numerator // s} + 1 = {out}"
    else:
        last = rf"= {numerator // s} + 1 = {out}"
    # Three aligned lines (symbols, numbers, the floor) so the formula fits half a projector screen.
    latex = (rf"\begin{{aligned}}{sym}_{{out}} &= \left\lfloor \frac{{{sym}_{{in}} + {latex_pad} - d\,(k-1) - 1}}{{s}}"
             rf" \right\rfloor + 1 \\ &= \left\lfloor \frac{{{size_in} + {num_latex} - {d}\cdot({k}-1) - 1}}{{{s}}}"
             rf" \right\rfloor + 1 \\ &{last}\end{{aligned}}")
    padded = size_in + pb + pa
    uncovered = max(0, padded - ((out - 1) * s + eff)) if out >= 1 else 0
    uncovered_input = max(0, uncovered - pa)
    note = ""
    if uncovered:
        plural = f"{uncovered} padded {cell}s" if uncovered > 1 else f"padded {cell}"
        note = f"stride {s} leaves the last {plural} in {name} unused"
        if uncovered_input:
            note += (f" — {uncovered_input} of them real input {cell}{'s' if uncovered_input > 1 else ''}"
                     " that the layer never sees")
    return DimStep(name, sym, size_in, k, s, d, pb, pa, op, False, eff, padded, numerator, out,
                   uncovered, uncovered_input, text, latex, note)


def _raise_if_empty(spec: ConvSpec, steps: tuple[DimStep, ...]) -> None:
    bad = [st for st in steps if st.size_out < 1]
    if not bad:
        return
    if spec.transposed:
        st = bad[0]
        max_pad = ((st.size_in - 1) * st.stride + st.dilation * (st.kernel - 1) + st.output_padding) // 2
        raise ConvConfigError("padding", f"padding {st.pad_before} removes more than the transposed convolution produces "
                              f"in {st.axis} (the output would be {st.size_out} cells)",
                              f"use padding ≤ {max_pad}, a larger kernel or a larger stride")
    eff = tuple(st.effective_kernel for st in steps)
    padded = tuple(st.padded for st in steps)
    dilated = spec.dilation_hw != (1, 1)
    what = f"the {fmt(spec.kernel_hw)} kernel" + (f" dilated by {fmt(spec.dilation_hw)} spans {fmt(eff)} and" if dilated else "")
    fixes = []
    if not isinstance(spec.padding, str):
        need = max(math.ceil((st.effective_kernel - st.size_in) / 2) for st in bad)
        fixes.append(f"add padding ≥ {need}")
    elif spec.padding == "valid":
        fixes.append("use padding='same'")
    kmax = [(st.padded - 1) // st.dilation + 1 for st in steps]
    fixes.append(f"use a kernel ≤ {fmt(tuple(kmax)) if kmax[0] != kmax[1] else kmax[0]}")
    if dilated:
        fixes.append("use a smaller dilation")
    raise ConvConfigError("kernel_size", f"{what} is larger than the {fmt(padded)} padded input", " or ".join(fixes))


def explain(spec: ConvSpec, input_shape: tuple[int, ...]) -> Explanation:
    """Work the formula out per spatial dimension with the numbers substituted.

    >>> print(explain(ConvSpec(3, 16, 3), (3, 32, 32)).dims[0].text)
    H_out = ⌊(H_in + 2p − d·(k−1) − 1) / s⌋ + 1 = ⌊(32 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = ⌊29⌋ + 1 = 29 + 1 = 30
    """
    shape = check_input(spec, input_shape)
    steps = tuple(_dim_step(spec, axis, shape[-2 + axis]) for axis in (0, 1))
    _raise_if_empty(spec, steps)
    for st in steps:
        if st.size_out > limits.MAX_OUTPUT_SPATIAL:
            raise ConvConfigError("stride" if spec.transposed else "input_size",
                                  f"the output would be {st.size_out} cells in {st.axis}, above Conv Lab's cap of "
                                  f"{limits.MAX_OUTPUT_SPATIAL}", "use a smaller input, stride or kernel")
    out = (*shape[:-3], spec.out_channels, steps[0].size_out, steps[1].size_out)
    c_text = f"C_out = out_channels = {spec.out_channels} (one output map per filter)"
    c_latex = rf"C_{{out}} = \mathrm{{out\_channels}} = {spec.out_channels}"
    return Explanation(steps, c_text, c_latex, out)


def output_shape(spec: ConvSpec, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Output shape by the formula, same rank as `input_shape`.

    >>> output_shape(ConvSpec(3, 32, 5, padding=2), (1, 3, 32, 32))
    (1, 32, 32, 32)
    """
    return explain(spec, input_shape).output_shape


@dataclass(frozen=True)
class LayerCost:
    """Parameters, multiply-accumulates and memory of one layer on one input."""

    weight_params: int
    bias_params: int
    macs: int
    input_bytes: int
    output_bytes: int
    effective_kernel: tuple[int, int]
    receptive_field: tuple[int, int]

    @property
    def params(self) -> int:
        """Weights plus biases."""
        return self.weight_params + self.bias_params


def receptive_field(spec: ConvSpec) -> tuple[int, int]:
    """Input cells (height, width) that one output cell depends on, for this layer alone.

    >>> receptive_field(ConvSpec(1, 1, 3, dilation=2))
    (5, 5)
    """
    if not spec.transposed:
        return spec.effective_kernel_hw
    spans = []
    for k, s, d in zip(spec.kernel_hw, spec.stride_hw, spec.dilation_hw):
        best = 1
        for r in range(s):  # output positions repeat their tap pattern with period s
            taps = [t for t in range(k) if (r - t * d) % s == 0]
            if taps:
                best = max(best, (max(taps) - min(taps)) * d // s + 1)
        spans.append(best)
    return spans[0], spans[1]


def layer_cost(spec: ConvSpec, input_shape: tuple[int, ...]) -> LayerCost:
    """Parameters (as torch counts them), MACs and float32 memory.

    >>> layer_cost(ConvSpec(3, 16, 3), (1, 3, 32, 32)).params
    448
    """
    out = output_shape(spec, input_shape)
    shape = tuple(input_shape)
    kh, kw = spec.kernel_hw
    weight = spec.in_channels * (spec.out_channels // spec.groups) * kh * kw
    batch = shape[0] if len(shape) == 4 else 1
    if spec.transposed:  # every input cell scatters a (C_out/g)×kh×kw block
        macs = batch * spec.in_channels * shape[-2] * shape[-1] * (spec.out_channels // spec.groups) * kh * kw
    else:
        macs = batch * spec.out_channels * out[-2] * out[-1] * (spec.in_channels // spec.groups) * kh * kw
    return LayerCost(weight, spec.out_channels if spec.bias else 0, macs,
                     4 * math.prod(shape), 4 * math.prod(out), spec.effective_kernel_hw, receptive_field(spec))


def keep_size_padding(kernel_size: int, dilation: int = 1) -> tuple[int, int]:
    """(before, after) padding that keeps the size at stride 1; unequal when d·(k−1) is odd.

    >>> keep_size_padding(3), keep_size_padding(4)
    ((1, 1), (1, 2))
    """
    total = dilation * (kernel_size - 1)
    return total // 2, total - total // 2


def solve_padding_stride(size_in: int, size_out: int, kernel_size: int, dilation: int = 1,
                         max_stride: int = 8, max_padding: int = 16) -> list[tuple[int, int]]:
    """All (padding, stride) pairs that turn `size_in` into `size_out` for a direct conv.

    >>> solve_padding_stride(64, 32, 3)[:1]
    [(1, 2)]
    """
    found = []
    for s in range(1, max_stride + 1):
        for p in range(0, max_padding + 1):
            if size_in + 2 * p >= dilation * (kernel_size - 1) + 1 and conv_out(size_in, kernel_size, s, p, p, dilation) == size_out:
                found.append((p, s))
    return sorted(found, key=lambda ps: (ps[1], ps[0]))


def uncovered_cells(spec: ConvSpec, input_shape: tuple[int, ...]) -> tuple[int, int]:
    """Trailing rows and columns of the padded input no window covers.

    >>> uncovered_cells(ConvSpec(3, 8, 3, stride=2, padding=1), (3, 6, 6))
    (1, 1)
    """
    dims = explain(spec, input_shape).dims
    return dims[0].uncovered, dims[1].uncovered


def conv_path(spec: ConvSpec) -> str:
    """Which family of torch kernels runs the layer: their cost per MAC differs ~50× (limits.NS_PER_MAC).

    >>> conv_path(ConvSpec(8, 8, 3)), conv_path(ConvSpec(8, 8, 3, groups=8)), conv_path(ConvSpec(8, 8, 3, transposed=True))
    ('dense', 'depthwise', 'transposed')
    """
    if spec.transposed:
        return "transposed grouped" if spec.groups > 1 else "transposed"
    if spec.groups == 1:
        return "dense"
    return "depthwise" if spec.groups == spec.in_channels else "grouped"


def padded_elements(spec: ConvSpec, input_shape: tuple[int, ...]) -> int:
    """Numbers in the padded input (torch builds that copy for reflect/replicate/circular padding).

    >>> padded_elements(ConvSpec(3, 8, 3, padding=1), (1, 3, 32, 32))
    3468
    """
    top, bottom, left, right = (0, 0, 0, 0) if spec.transposed else spec.pads()
    *lead, h, w = input_shape
    return math.prod(lead) * (h + top + bottom) * (w + left + right)


def estimated_seconds(spec: ConvSpec, input_shape: tuple[int, ...]) -> float:
    """CPU seconds one run of the layer is expected to take on one torch thread (a generous upper estimate).

    >>> round(estimated_seconds(ConvSpec(64, 64, 3, padding=1), (1, 64, 128, 128)), 3)
    0.076
    """
    cost = layer_cost(spec, input_shape)
    elements = cost.input_bytes // 4 + padded_elements(spec, input_shape) + cost.output_bytes // 4
    per_element = limits.NS_PER_ELEMENT["transposed" if spec.transposed else "direct"]
    return (cost.macs * limits.NS_PER_MAC[conv_path(spec)] + elements * per_element) * 1e-9


def smaller_input_that_fits(spec: ConvSpec, input_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """The largest input of the same aspect (sides halved step by step) whose run fits the work caps, if any.

    >>> smaller_input_that_fits(ConvSpec(256, 256, 15, groups=256, padding=7), (1, 256, 150, 150))
    (1, 256, 37, 37)
    """
    *lead, h, w = input_shape
    for _ in range(12):
        h, w = max(1, h // 2), max(1, w // 2)
        shape = (*lead, h, w)
        try:
            output_shape(spec, shape)
            if not _over_caps(spec, shape):
                return shape
        except ConvConfigError:
            return None
        if h == w == 1:
            return None
    return None


def _over_caps(spec: ConvSpec, shape: tuple[int, ...]) -> str:
    """Why running the layer on `shape` is over a work cap, or ''."""
    cost = layer_cost(spec, shape)
    largest = max(cost.input_bytes // 4, cost.output_bytes // 4, padded_elements(spec, shape))
    if largest > limits.MAX_TENSOR_ELEMENTS:
        return (f"a tensor of this layer (input, padded input or output) would hold {largest:,} numbers, over "
                f"Conv Lab's cap of {limits.MAX_TENSOR_ELEMENTS:,} for one request on a shared server")
    if cost.macs > limits.MAX_MACS:
        return (f"running this layer takes {cost.macs:,} multiply-accumulates, above Conv Lab's cap of "
                f"{limits.MAX_MACS:,} per request")
    seconds = estimated_seconds(spec, shape)
    if seconds > limits.MAX_REQUEST_SECONDS:
        return (f"running this {conv_path(spec)} layer would take about {seconds:.1f} s of CPU, above Conv Lab's cap of "
                f"{limits.MAX_REQUEST_SECONDS} s per request on a shared server")
    return ""


def work_check(spec: ConvSpec, input_shape: tuple[int, ...]) -> LayerCost:
    """Raise ConvConfigError when running the layer would exceed the server's work caps.

    >>> work_check(ConvSpec(3, 16, 3), (1, 3, 32, 32)).macs
    388800
    """
    cost = layer_cost(spec, input_shape)
    why = _over_caps(spec, tuple(input_shape))
    if why:
        smaller = smaller_input_that_fits(spec, tuple(input_shape))
        fit = f"; e.g. input {'×'.join(map(str, smaller[-3:]))} fits" if smaller else ""
        padded = (padded_elements(spec, tuple(input_shape)) > limits.MAX_TENSOR_ELEMENTS
                  >= max(cost.input_bytes, cost.output_bytes) // 4)  # only the padded copy is over the cap
        param = "padding" if padded else "input_size" if "tensor" in why else "out_channels"
        fix = ("use less padding (the padded copy is the largest tensor)" if padded else
               "use a smaller input, fewer filters or fewer input channels")
        raise WorkCapError(param, f"{why} (the formula above still holds)", f"{fix} to run it for real{fit}")
    return cost


__all__ = ["conv_out", "transposed_out", "explain", "output_shape", "layer_cost", "receptive_field",
           "keep_size_padding", "solve_padding_stride", "uncovered_cells", "work_check", "as_pair", "conv_path",
           "estimated_seconds", "padded_elements", "smaller_input_that_fits"]
