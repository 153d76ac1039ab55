"""Check a learner's answer (output shape, parameter count, padding, stride) and name the term they probably got wrong."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from conv_lab.core.costs import layer_cost
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES
from conv_lab.core.shapes import conv_out, explain, transposed_out
from conv_lab.core.spec import ConvSpec


@dataclass(frozen=True)
class Verdict:
    """Right or wrong, per part, with the likely slip and the worked formula."""

    correct: bool
    actual: tuple[int, ...]  # (C_out, *sizes)
    guess: tuple[int, ...]
    messages: tuple[str, ...]
    slips: tuple[str, ...] = ()


@dataclass(frozen=True)
class NumberVerdict:
    """Right or wrong for a single-number answer, with what the guess really gives and the likely slip."""

    correct: bool
    actual: int
    guess: int
    message: str
    slip: str = ""


def _slips(spec: ConvSpec, axis: int, size_in: int) -> dict[str, int]:
    """Answers a learner gets by the classic mistakes, for one dimension."""
    k, s, d = spec.kernel_nd[axis], spec.stride_nd[axis], spec.dilation_nd[axis]
    pb, pa = spec.pad_pairs()[axis]
    sym = AXES[spec.dims][axis][1]
    if spec.transposed:
        op = spec.output_padding_nd[axis]
        return {
            "used the direct-convolution formula (a transposed conv grows the input)":
                (size_in + pb + pa - d * (k - 1) - 1) // s + 1,
            "forgot output_padding": (size_in - 1) * s - pb - pa + d * (k - 1) + 1,
            "forgot the dilation (d·(k−1) instead of k−1)": (size_in - 1) * s - pb - pa + (k - 1) + op + 1,
            "subtracted the padding once instead of twice": (size_in - 1) * s - pb + d * (k - 1) + op + 1,
            f"multiplied {sym}_in by the stride instead of ({sym}_in − 1)": size_in * s - pb - pa + d * (k - 1) + op + 1,
        }
    num = size_in + pb + pa - d * (k - 1) - 1
    if spec.padding == "causal":  # the zeros go on the left only: d·(k−1) of them, not twice that
        return {
            "forgot the causal padding (d·(k−1) zeros on the left)": (size_in - d * (k - 1) - 1) // s + 1,
            "padded both sides (causal padding is d·(k−1) on the left only)": (size_in + 2 * pb - d * (k - 1) - 1) // s + 1,
            "forgot the dilation (the kernel spans d·(k−1)+1 cells)": (size_in + pb - (k - 1) - 1) // s + 1,
            "forgot the + 1 at the end": num // s,
            "forgot to divide by the stride": num + 1,
        }
    return {
        "forgot the padding": (size_in - d * (k - 1) - 1) // s + 1,
        "added the padding once instead of twice (2p)": (size_in + pb - d * (k - 1) - 1) // s + 1,
        "forgot the dilation (the kernel spans d·(k−1)+1 cells)": (size_in + pb + pa - (k - 1) - 1) // s + 1,
        "rounded up instead of taking the floor": -(-num // s) + 1,
        "forgot the + 1 at the end": num // s,
        "forgot to divide by the stride": num + 1,
    }


def _size_after(spec: ConvSpec, axis: int, size_in: int) -> int:
    """The correct output size of one dimension (≤ 0 when the layer cannot run)."""
    k, s, d = spec.kernel_nd[axis], spec.stride_nd[axis], spec.dilation_nd[axis]
    pb, pa = spec.pad_pairs()[axis]
    if spec.transposed:
        return transposed_out(size_in, k, s, pb, d, spec.output_padding_nd[axis])
    return conv_out(size_in, k, s, pb, pa, d)


def _dim_candidates(specs: Sequence[ConvSpec], sizes_in: Sequence[int], axis: int) -> dict[int, str]:
    """Final sizes a learner reaches by one classic slip in one layer (then correct arithmetic), first slip wins."""
    found: dict[int, str] = {}
    many = len(specs) > 1
    for i, spec in enumerate(specs):
        for why, value in _slips(spec, axis, sizes_in[i]).items():
            for later in specs[i + 1:]:
                value = _size_after(later, axis, value) if value >= 1 else value
            found.setdefault(value, f"{why} in layer {i + 1}" if many else why)
    for i in range(1, len(specs)):  # stopped early: the size after layer i
        found.setdefault(sizes_in[i], f"stopped after layer {i} (the output is what comes out of the last layer)")
    return found


def check_stack_prediction(specs: Sequence[ConvSpec], input_shape: tuple[int, ...],
                           guess: tuple[int, ...]) -> Verdict:
    """Compare a guessed final (C_out, *sizes) of layers applied in order (one size per dimension); name the slip.

    >>> specs = [ConvSpec(3, 8, 3, stride=2, padding=1), ConvSpec(8, 16, 3, stride=2, padding=1)]
    >>> check_stack_prediction(specs, (1, 3, 32, 32), (16, 7, 8)).messages[1]
    'H_out: you said 7, it is 8 — you probably forgot the padding in layer 2.'
    """
    shapes = [tuple(input_shape)]
    for spec in specs:  # raises ConvConfigError when a layer cannot run
        shapes.append(explain(spec, shapes[-1]).output_shape)
    dims = specs[-1].dims
    actual = tuple(shapes[-1][-dims - 1:])
    guess = tuple(int(g) for g in guess)
    messages, slips = [], []
    last = specs[-1]
    if guess[0] != actual[0]:
        if len(specs) > 1 and guess[0] in {s.out_channels for s in specs[:-1]}:
            hint, slip = "C_out is the last layer's out_channels", "took the channels of an earlier layer"
        elif guess[0] == last.in_channels:
            hint = "C_out is the number of filters (out_channels), not the input channels"
            slip = "took the input channels for C_out"
        else:
            hint, slip = "C_out is the number of filters (out_channels)", "mixed up C_out"
        messages.append(f"C_out: you said {guess[0]}, it is {actual[0]} — {hint}.")
        slips.append(slip)
    else:
        messages.append(f"C_out = {actual[0]}: right.")
    for axis, (_, symbol, _) in enumerate(AXES[dims]):
        said, real = guess[1 + axis], actual[1 + axis]
        if said == real:
            messages.append(f"{symbol}_out = {real}: right.")
            continue
        sizes_in = [shape[-dims + axis] for shape in shapes[:-1]]
        slip = _dim_candidates(specs, sizes_in, axis).get(said)
        if slip and slip not in slips:
            slips.append(slip)
        tail = f" — you probably {slip}." if slip else "."
        messages.append(f"{symbol}_out: you said {said}, it is {real}{tail}")
    return Verdict(guess == actual, actual, guess, tuple(messages), tuple(slips))


def check_prediction(spec: ConvSpec, input_shape: tuple[int, ...], guess: tuple[int, ...]) -> Verdict:
    """Compare a guessed (C_out, *sizes) with the formula; explain any miss.

    >>> check_prediction(ConvSpec(3, 16, 3, padding=1), (1, 3, 32, 32), (16, 30, 30)).messages[1]
    'H_out: you said 30, it is 32 — you probably forgot the padding.'
    >>> check_prediction(ConvSpec(1, 8, 3, dilation=2, padding="causal", dims=1), (1, 1, 50), (8, 54)).messages[1]
    'L_out: you said 54, it is 50 — you probably padded both sides (causal padding is d·(k−1) on the left only).'
    """
    return check_stack_prediction([spec], input_shape, guess)


def _param_slips(spec: ConvSpec) -> dict[str, int]:
    (kh, kw), c_in, c_out, g = spec.kernel_hw, spec.in_channels, spec.out_channels, spec.groups
    if spec.dims == 3:  # the kernel volume kd·kh·kw: the depth joins the height here
        kh *= spec.kernel_nd[0]
    bias = c_out if spec.bias else 0
    slips = {"forgot the bias (one per filter)" if spec.bias else "counted a bias, but bias=False":
             c_in * (c_out // g) * kh * kw + (0 if spec.bias else c_out)}
    if g > 1:
        slips["forgot the groups (each filter sees only C_in/groups input channels)"] = c_in * c_out * kh * kw + bias
        slips["divided by the groups twice"] = (c_in // g) * (c_out // g) * kh * kw + bias
    slips["forgot the input channels (each filter spans every input channel it sees)"] = (c_out // g) * kh * kw + bias
    slips["forgot the kernel area kh·kw"] = c_in * (c_out // g) + bias
    if kh > 1 or kw > 1:
        slips["used k instead of kh·kw"] = c_in * (c_out // g) * kh + bias
    return slips


def check_params(spec: ConvSpec, input_shape: tuple[int, ...], guess: int) -> NumberVerdict:
    """Compare a guessed parameter count with torch's count (the core's `layer_cost`); name the probable slip.

    >>> check_params(ConvSpec(3, 16, 3), (1, 3, 32, 32), 432).slip
    'forgot the bias (one per filter)'
    """
    actual, guess = layer_cost(spec, input_shape).params, int(guess)
    if guess == actual:
        return NumberVerdict(True, actual, guess, f"{actual:,} parameters: right.")
    slip = next((why for why, value in _param_slips(spec).items() if value == guess and value != actual), "")
    tail = f" — you probably {slip}." if slip else "."
    return NumberVerdict(False, actual, guess, f"Parameters: you said {guess:,}, it is {actual:,}{tail}", slip)


def check_keep_padding(spec: ConvSpec, size_in: int, guess: int) -> NumberVerdict:
    """Is `guess` (padding per side) the padding that keeps `size_in` for this stride-1 layer? Name the slip.

    >>> check_keep_padding(ConvSpec(8, 8, 5, padding=2), 32, 4).slip
    'used the total padding d·(k−1) instead of half of it per side'
    """
    k, d = spec.kernel_nd[0], spec.dilation_nd[0]
    actual, guess = d * (k - 1) // 2, int(guess)
    gives = conv_out(size_in, k, 1, guess, guess, d)
    if gives == size_in:
        return NumberVerdict(True, actual, guess, f"padding={guess} keeps {size_in}: right.")
    slips = {"used the total padding d·(k−1) instead of half of it per side": d * (k - 1),
             "forgot the dilation: the padding is d·(k−1)/2": (k - 1) // 2,
             "used k instead of (k−1)/2": k, "used ⌈k/2⌉ — (k−1)/2 is enough": (k + 1) // 2}
    slip = next((why for why, value in slips.items() if value == guess), "")
    tail = f" — you probably {slip}." if slip else "."
    what = f"gives {gives}" if gives >= 1 else "leaves no output at all"
    return NumberVerdict(False, actual, guess, f"padding={guess} {what}, not {size_in}; the answer is {actual}{tail}", slip)


def check_stride(spec: ConvSpec, size_in: int, target: int, guess: int) -> NumberVerdict:
    """Does stride `guess` turn `size_in` into `target` with this layer's kernel and padding? Name the slip.

    >>> check_stride(ConvSpec(3, 8, 3, stride=2, padding=1), 64, 32, 3).message
    'stride=3 gives ⌊(64 + 2·1 − 1·(3−1) − 1) / 3⌋ + 1 = 22, not 32; the answer is 2.'
    """
    k, d, s_true = spec.kernel_nd[0], spec.dilation_nd[0], spec.stride_nd[0]
    p = spec.pad_pairs()[0][0]
    guess = int(guess)
    if guess < 1:
        return NumberVerdict(False, s_true, guess,
                             f"stride={guess} is not a stride: it must be at least 1; the answer is {s_true}.",
                             "used a stride below 1")
    num = size_in + 2 * p - d * (k - 1) - 1
    gives = num // guess + 1
    if gives == target:
        return NumberVerdict(True, s_true, guess, f"stride={guess} turns {size_in} into {target}: right.")
    slips = {"rounded up instead of taking the floor": -(-num // guess) + 1,
             "forgot the + 1 at the end": num // guess}
    slip = next((why for why, value in slips.items() if value == target), "")
    if not slip and guess == round(size_in / target):
        slip = "divided the sizes, ignoring the kernel and the padding"
    tail = f" — you probably {slip}." if slip else "."
    worked = f"⌊({size_in} + 2·{p} − {d}·({k}−1) − 1) / {guess}⌋ + 1 = {gives}"
    return NumberVerdict(False, s_true, guess,
                         f"stride={guess} gives {worked}, not {target}; the answer is {s_true}{tail}", slip)


def failure_slip(exc: ConvConfigError) -> str:
    """The rule a learner skipped when they computed a shape for a layer PyTorch rejects.

    >>> failure_slip(ConvConfigError("groups", "in_channels=6 cannot be split into 4 equal groups"))
    'did not check that groups divides both in_channels and out_channels'
    """
    why = exc.why.lower()
    if exc.param == "kernel_size":
        return "did not check that the (dilated) kernel fits inside the padded input"
    if exc.param == "groups":
        return "did not check that groups divides both in_channels and out_channels"
    if exc.param == "output_padding":
        return "did not check that output_padding is smaller than the stride or the dilation"
    if exc.param == "padding" and "same" in why:
        return "did not check that padding='same' only works with stride 1"
    if exc.param == "padding" and "transposed" in why:
        return "did not check that the padding removes less than the transposed convolution produces"
    return f"did not check the rule on {exc.param}"
