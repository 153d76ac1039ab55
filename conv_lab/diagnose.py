"""Check a learner's predicted output shape and name the term they probably got wrong."""

from __future__ import annotations

from dataclasses import dataclass

from .shapes import explain
from .spec import ConvSpec


@dataclass(frozen=True)
class Verdict:
    """Right or wrong, per part, with the likely slip and the worked formula."""

    correct: bool
    actual: tuple[int, int, int]
    guess: tuple[int, int, int]
    messages: tuple[str, ...]


def _slips(spec: ConvSpec, axis: int, size_in: int) -> dict[str, int]:
    """Answers a learner gets by the classic mistakes, for one dimension."""
    k, s, d = spec.kernel_hw[axis], spec.stride_hw[axis], spec.dilation_hw[axis]
    pads = spec.pads()
    pb, pa = pads[2 * axis], pads[2 * axis + 1]
    if spec.transposed:
        op = spec.output_padding_hw[axis]
        return {
            "used the direct-convolution formula (a transposed conv grows the input)": (size_in + pb + pa - d * (k - 1) - 1) // s + 1,
            "forgot output_padding": (size_in - 1) * s - pb - pa + d * (k - 1) + 1,
            "forgot the dilation (d·(k−1) instead of k−1)": (size_in - 1) * s - pb - pa + (k - 1) + op + 1,
            "subtracted the padding once instead of twice": (size_in - 1) * s - pb + d * (k - 1) + op + 1,
            "multiplied H_in by the stride instead of (H_in − 1)": size_in * s - pb - pa + d * (k - 1) + op + 1,
        }
    num = size_in + pb + pa - d * (k - 1) - 1
    return {
        "forgot the padding": (size_in - d * (k - 1) - 1) // s + 1,
        "added the padding once instead of twice (2p)": (size_in + pb - d * (k - 1) - 1) // s + 1,
        "forgot the dilation (the kernel spans d·(k−1)+1 cells)": (size_in + pb + pa - (k - 1) - 1) // s + 1,
        "rounded up instead of taking the floor": -(-num // s) + 1,
        "forgot the + 1 at the end": num // s,
        "forgot to divide by the stride": num + 1,
    }


def check_prediction(spec: ConvSpec, input_shape: tuple[int, ...], guess: tuple[int, int, int]) -> Verdict:
    """Compare a guessed (C_out, H_out, W_out) with the formula; explain any miss.

    >>> check_prediction(ConvSpec(3, 16, 3, padding=1), (1, 3, 32, 32), (16, 30, 30)).messages[1]
    'H_out: you said 30, it is 32 — you probably forgot the padding.'
    """
    ex = explain(spec, input_shape)
    actual = tuple(ex.output_shape[-3:])
    guess = tuple(int(g) for g in guess)
    messages = []
    if guess[0] != actual[0]:
        hint = (" — C_out is the number of filters (out_channels), not the input channels"
                if guess[0] == spec.in_channels else " — C_out is the number of filters (out_channels)")
        messages.append(f"C_out: you said {guess[0]}, it is {actual[0]}{hint}.")
    else:
        messages.append(f"C_out = {actual[0]}: right.")
    for axis, step in enumerate(ex.dims):
        said, real = guess[1 + axis], actual[1 + axis]
        if said == real:
            messages.append(f"{step.symbol}_out = {real}: right.")
            continue
        slip = next((why for why, value in _slips(spec, axis, step.size_in).items() if value == said), None)
        tail = f" — you probably {slip}." if slip else "."
        messages.append(f"{step.symbol}_out: you said {said}, it is {real}{tail}")
    return Verdict(guess == actual, actual, guess, tuple(messages))
