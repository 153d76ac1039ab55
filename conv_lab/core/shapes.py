"""The output-size formula, worked out step by step, plus costs and padding solvers.

Pure arithmetic: no torch here. torch is the oracle in the tests.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES, LayerSpec, Sizes, check_range, fmt, is_int

PAD_SIDES = {"L": ("left", "right"), "D": ("front", "back"), "H": ("top", "bottom"), "W": ("left", "right")}


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

    axis: str  # "length", "depth", "height" or "width"
    symbol: str  # "L", "D", "H" or "W"
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
    """Every spatial dimension plus the channel count, as text and LaTeX lines."""

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
    first, second = PAD_SIDES[sym]
    return (f"p_{first} + p_{second}", f"p_{{{first}}} + p_{{{second}}}", f"{pb} + {pa}")


def _dim_step(spec: LayerSpec, axis: int, size_in: int) -> DimStep:
    name, sym, cell = AXES[spec.dims][axis]
    k, s, d = spec.kernel_nd[axis], spec.stride_nd[axis], spec.dilation_nd[axis]
    pb, pa = spec.pad_pairs()[axis]
    op = spec.output_padding_nd[axis]
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
    if spec.padding == "causal":
        note = (f"causal: {pb} = d·(k−1) zeros on the left only, so output {sym} position t sees inputs t−{pb}…t "
                "and never the future")
    if uncovered:
        plural = f"{uncovered} padded {cell}s" if uncovered > 1 else f"padded {cell}"
        note = (note + "; " if note else "") + f"stride {s} leaves the last {plural} in {name} unused"
        if uncovered_input:
            note += (f" — {uncovered_input} of them real input {cell}{'s' if uncovered_input > 1 else ''}"
                     " that the layer never sees")
    return DimStep(name, sym, size_in, k, s, d, pb, pa, op, False, eff, padded, numerator, out,
                   uncovered, uncovered_input, text, latex, note)


def _raise_if_empty(spec: LayerSpec, steps: tuple[DimStep, ...]) -> None:
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
    dilated = any(d != 1 for d in spec.dilation_nd)
    spans = f" dilated by {fmt(spec.dilation_nd)} spans {fmt(eff)} and" if dilated else ""
    what = f"the {fmt(spec.kernel_nd)} kernel" + spans
    fixes = []
    if not isinstance(spec.padding, str):
        need = max(math.ceil((st.effective_kernel - st.size_in) / 2) for st in bad)
        fixes.append(f"add padding ≥ {need}")
    elif spec.padding == "valid":
        fixes.append("use padding='same'")
    kmax = [(st.padded - 1) // st.dilation + 1 for st in steps]
    fixes.append(f"use a kernel ≤ {fmt(tuple(kmax)) if len(set(kmax)) > 1 else kmax[0]}")
    if dilated:
        fixes.append("use a smaller dilation")
    raise ConvConfigError("kernel_size", f"{what} is larger than the {fmt(padded)} padded input", " or ".join(fixes))


def formula_steps(spec: LayerSpec, input_shape: tuple[int, ...]) -> tuple[DimStep, ...]:
    """The formula per dimension even when it comes out ≤ 0 (the page shows an impossible layer's arithmetic).

    >>> [step.size_out for step in formula_steps(ConvSpec(1, 1, 7), (1, 5, 9))]
    [-1, 3]
    """
    shape = check_input(spec, input_shape)
    return tuple(_dim_step(spec, axis, size) for axis, size in enumerate(shape[-spec.dims:]))


def explain(spec: LayerSpec, input_shape: tuple[int, ...]) -> Explanation:
    """Work the formula out per spatial dimension with the numbers substituted.

    >>> print(explain(ConvSpec(3, 16, 3), (3, 32, 32)).dims[0].text)
    H_out = ⌊(H_in + 2p − d·(k−1) − 1) / s⌋ + 1 = ⌊(32 + 2·0 − 1·(3−1) − 1) / 1⌋ + 1 = ⌊29⌋ + 1 = 29 + 1 = 30
    """
    shape = check_input(spec, input_shape)
    steps = formula_steps(spec, shape)
    _raise_if_empty(spec, steps)
    for st in steps:
        cap = limits.MAX_OUTPUT_SPATIAL_BY_DIMS[spec.dims]
        if st.size_out > cap:
            raise ConvConfigError("stride" if spec.transposed else "input_size",
                                  f"the output would be {st.size_out} cells in {st.axis}, above Conv Lab's cap of "
                                  f"{cap}", "use a smaller input, stride or kernel")
    out = (*shape[:-spec.dims - 1], spec.out_channels, *(st.size_out for st in steps))
    c_text = f"C_out = out_channels = {spec.out_channels} (one output map per filter)"
    c_latex = rf"C_{{out}} = \mathrm{{out\_channels}} = {spec.out_channels}"
    return Explanation(steps, c_text, c_latex, out)


def output_shape(spec: LayerSpec, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Output shape by the formula, same rank as `input_shape`.

    >>> output_shape(ConvSpec(3, 32, 5, padding=2), (1, 3, 32, 32))
    (1, 32, 32, 32)
    """
    return explain(spec, input_shape).output_shape


def pool_out(size: int, k: int, s: int, p: int, d: int = 1, ceil_mode: bool = False) -> int:
    """torch's pooling output size for one dimension (may be ≤ 0 when impossible).

    With ceil_mode the last window may hang over the end, but it must start inside the input or the
    left padding.

    >>> pool_out(5, 2, 2, 0), pool_out(5, 2, 2, 0, ceil_mode=True)
    (2, 3)
    """
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and out >= 1 and (out - 1) * s >= size + p:
        out -= 1  # the last window would start in the right padding only
    return out


def check_pool_padding(kernel_size: Sizes, padding: Sizes) -> None:
    """torch's pooling padding rule: at most half the (undilated) kernel; raise ConvConfigError otherwise.

    >>> check_pool_padding((3, 3), (1, 1))
    """
    half = tuple(k // 2 for k in kernel_size)
    if any(p > h for p, h in zip(padding, half)):
        raise ConvConfigError("padding", f"pooling padding {fmt(padding)} is more than half the {fmt(kernel_size)} "
                              "window (torch allows at most kernel_size // 2)", f"use padding ≤ {fmt(half)}")


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
            fits = size_in + 2 * p >= dilation * (kernel_size - 1) + 1
            if fits and conv_out(size_in, kernel_size, s, p, p, dilation) == size_out:
                found.append((p, s))
    return sorted(found, key=lambda ps: (ps[1], ps[0]))


def uncovered_cells(spec: LayerSpec, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Trailing cells of the padded input no window covers, per spatial dimension.

    >>> uncovered_cells(ConvSpec(3, 8, 3, stride=2, padding=1), (3, 6, 6))
    (1, 1)
    """
    return tuple(step.uncovered for step in explain(spec, input_shape).dims)


def check_input(spec: LayerSpec, input_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Validate an input shape for `spec` (rank dims+1 or dims+2); return it as a tuple of ints.

    >>> from conv_lab import ConvSpec
    >>> check_input(ConvSpec(3, 8, 3), (3, 32, 32)), check_input(ConvSpec(1, 8, 3, dims=1), (1, 1, 100))
    ((3, 32, 32), (1, 1, 100))
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else input_shape
    n, axes = spec.dims, AXES[spec.dims]
    letters = ", ".join(sym for _, sym, _ in axes)
    example = {1: "(1, 1, 100)", 2: "(1, 3, 32, 32)", 3: "(1, 3, 16, 32, 32)"}[n]
    if not isinstance(shape, tuple) or not all(is_int(v) for v in shape):
        raise ConvConfigError("input_shape", f"expected (N, C, {letters}) or (C, {letters}) of whole numbers, "
                              f"got {input_shape!r}", f"use e.g. {example}")
    if len(shape) not in (n + 1, n + 2):
        raise ConvConfigError("input_shape", f"{spec.module_name} expects a {n + 2}-D input (N, C, {letters}) or "
                              f"{n + 1}-D (C, {letters}), but got {len(shape)}-D {tuple(shape)}",
                              f"use e.g. {example}, or a {len(shape) - 2}-D layer" if 3 <= len(shape) <= 5
                              else f"use e.g. {example}")
    shape = tuple(int(v) for v in shape)
    if any(v < 1 for v in shape):
        raise ConvConfigError("input_shape", f"every size must be at least 1, got {shape}", f"use e.g. {example}")
    if len(shape) == n + 2 and shape[0] > limits.MAX_BATCH:
        raise ConvConfigError("input_shape", f"batch {shape[0]} is above Conv Lab's cap of {limits.MAX_BATCH}",
                              f"use a batch ≤ {limits.MAX_BATCH}")
    c, sizes = shape[-n - 1], shape[-n:]
    # A 2-D view (core.plane) of a 1-D strip keeps the long sequence's cap.
    check_range("input_size", sizes, 1, limits.MAX_SPATIAL_BY_DIMS[getattr(spec, "source_dims", n)], "input size")
    if c != spec.in_channels:
        raise ConvConfigError("in_channels",
                              f"the input has {c} channels but the layer expects in_channels={spec.in_channels}",
                              f"set in_channels={c} or give the input {spec.in_channels} channels")
    for (axis, _, _), size, (before, after) in zip(axes, sizes, spec.pad_pairs()):
        pad = max(before, after)
        if spec.padding_mode == "reflect" and pad >= size:
            raise ConvConfigError("padding", f"reflect padding of {pad} needs more than {pad} input cells in {axis} "
                                  f"to mirror, but the input has {size}",
                                  f"use padding ≤ {size - 1}, or padding_mode 'replicate' or 'zeros'")
        if spec.padding_mode == "circular" and pad > size:
            raise ConvConfigError("padding", f"circular padding of {pad} wraps around the {size}-cell {axis} more than once",
                                  f"use padding ≤ {size}, or padding_mode 'replicate' or 'zeros'")
    return shape
