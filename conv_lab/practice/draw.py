"""The random draws behind practice questions: one layer (or a stack) per level, valid or deliberately impossible.

Each draw only proposes; `conv_lab.practice.questions` runs the formula, keeps a draw when it is what was asked
for (runs / fails, links round-trip) and draws again otherwise, so everything here may be sloppy about
validity but must use nothing but `rng` (the same seed gives the same questions for every student).
"""

from __future__ import annotations

import random
from typing import Optional, Union

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import as_pair
from conv_lab.core.shapes import explain
from conv_lab.core.spec import ConvSpec
from conv_lab.core.state import LabConfig, config_from_spec

Size = Union[int, tuple[int, int]]
# (kernel, stride, padding) blocks people actually stack
BLOCKS = ((3, 1, 1), (3, 2, 1), (5, 1, 2), (3, 1, 0), (1, 1, 0), (2, 2, 0), (5, 2, 2), (3, 2, 0), (7, 2, 3), (4, 2, 1))
CLASSICS = ((3, 227, 96, 11, 4, 0), (3, 224, 64, 7, 2, 3), (3, 32, 64, 3, 2, 1), (1, 28, 32, 5, 2, 2))


def layer(c_in: int, h: int, w: int, c_out: int, k: Size, s: Size = 1, p: Union[Size, str] = 0, d: Size = 1,
          g: int = 1, bias: bool = True, transposed: bool = False, op: Size = 0) -> LabConfig:
    """A LabConfig for one layer on a (c_in, h, w) input; impossible combinations are kept as given.

    >>> layer(3, 32, 32, 16, 3, p=1).padding
    (1, 1)
    """
    w = w or h
    try:
        spec = ConvSpec(c_in, c_out, k, s, p, d, g, bias, "zeros", transposed, op)
        return config_from_spec(spec, h, w)
    except ConvConfigError:  # the constructor refuses it: keep exactly what was drawn
        pad = p if isinstance(p, str) else as_pair(p, "padding")
        return LabConfig(c_in, h, w, c_out, as_pair(k, "kernel_size"), as_pair(s, "stride"), pad, as_pair(d, "dilation"),
                         g, bias, "zeros", transposed, as_pair(op, "output_padding"))


def _size(rng: random.Random, lo: int = 5, hi: int = 64) -> int:
    return rng.choice([rng.randint(lo, hi), rng.randint(lo, hi), 28, 32, 64])


def single(rng: random.Random, level: int) -> LabConfig:
    """One layer that should run, with the parameters of `level` (1..5).

    >>> single(random.Random(1), 1).stride
    (1, 1)
    """
    c_in, c_out = rng.choice([1, 3, 3, 8, 16]), rng.choice([4, 8, 16, 32, 64])
    h = _size(rng)
    if level == 1:  # small inputs too, so a tiny input alone does not give away "this layer fails"
        h = rng.randint(3, 9) if rng.random() < 0.25 else h
        return layer(rng.choice([1, 3]), h, h, c_out, rng.choice([k for k in (1, 2, 3, 3, 5, 7) if k <= h]))
    if level == 2:
        return layer(c_in, h, h, c_out, rng.choice([1, 3, 3, 5, 7]), 1, rng.choice([0, 1, 1, 2, 3, "same", "valid"]))
    if level == 3:
        if rng.random() < 0.25:
            c, size, filters, k, s, p = rng.choice(CLASSICS)
            return layer(c, size, size, filters, k, s, p)
        k = rng.choice([1, 2, 3, 3, 4, 5, 7])
        return layer(c_in, rng.randint(7, 64), 0, c_out, k, rng.choice([2, 2, 3, 4]), rng.randint(0, k // 2))
    if level == 4:  # non-square sizes
        kernel = (rng.choice([1, 3, 5]), rng.choice([1, 3, 5, 7]))
        return layer(c_in, rng.randint(8, 64), rng.randint(8, 64), c_out, kernel,
                     rng.choice([(1, 1), (1, 2), (2, 1), (2, 2)]),
                     (rng.randint(0, kernel[0] // 2), rng.randint(0, kernel[1] // 2)),
                     bias=rng.random() < 0.7)
    kind = rng.choice(["dilation", "groups", "transposed", "transposed"])
    if kind == "dilation":
        k, d = rng.choice([3, 5]), rng.randint(2, 4)
        return layer(c_in, rng.randint(10, 64), 0, c_out, k, rng.choice([1, 1, 2]), rng.randint(0, d * (k - 1) // 2), d)
    if kind == "groups":
        c = rng.choice([8, 16, 32, 64])
        g, filters = rng.choice([(c, c), (c, 2 * c), (2, 2 * c_out), (4, 4 * c_out)])
        return layer(c, rng.randint(8, 64), 0, filters, 3, rng.choice([1, 2]), 1, g=g)
    k, s = rng.choice([2, 3, 4, 5]), rng.choice([1, 2, 2, 3])
    return layer(rng.choice([8, 16, 32, 64]), rng.randint(2, 32), 0, rng.choice([3, 8, 16, 32]), k, s,
                 rng.randint(0, min(2, k - 1)),
                 rng.choice([1, 1, 1, 2]), transposed=True, op=rng.randint(0, s - 1))


def broken(rng: random.Random, level: int, c_in: int = 0, h: int = 0, w: int = 0) -> LabConfig:
    """One layer PyTorch rejects, of a kind that fits `level`, on the given input (drawn when 0).

    >>> c = broken(random.Random(3), 1); c.kernel_size[0] > c.height
    True
    """
    c_in, c_out = c_in or rng.choice([1, 3, 8]), rng.choice([8, 16, 32])
    kinds = ["kernel"] + (["same_stride"] if level == 3 else []) + (
        ["groups", "output_padding", "dilation", "transposed_padding"] if level == 5 else [])
    kind = rng.choice(kinds)
    if kind == "same_stride":
        return layer(c_in, h or rng.randint(8, 64), w, c_out, rng.choice([3, 5]), rng.choice([2, 3]), "same")
    if kind == "groups":
        c_in = rng.choice([6, 10, 12]) if c_in in (1, 3) else c_in
        g = rng.choice([g for g in (3, 4, 5, 6) if c_in % g])
        return layer(c_in, h or rng.randint(8, 32), w, rng.choice([8, 16]), 3, 1, 1, g=g)
    if kind == "output_padding":
        s = rng.choice([1, 2])
        return layer(c_in, h or rng.randint(4, 16), w, c_out, rng.choice([3, 4]), s, 1, transposed=True, op=s)
    if kind == "transposed_padding":
        size, k = h or rng.randint(1, 3), rng.choice([2, 3])
        # output (size−1) − 2p + k ≤ −1: torch 2.13 sometimes returns an empty tensor for exactly 0 instead of failing
        return layer(c_in, size, w, c_out, k, 1, (size + k) // 2 + 1 + rng.randint(0, 1), transposed=True)
    p = rng.randint(0, 1) if level > 1 else 0
    size = h or rng.randint(2, 9)
    if kind == "dilation":  # a 3×3 dilated past the padded input
        return layer(c_in, size, w, c_out, 3, 1, p, (size + 2 * p) // 2 + 1)
    k = size + 2 * p + rng.randint(1, 2)
    return layer(c_in, size, w, c_out, k, rng.choice([1, 1, 2]) if level >= 3 else 1, p)


def stack(rng: random.Random, level: int, fails: bool) -> list[LabConfig]:
    """Two or three layers in a row, each on the previous output (the last one broken when `fails`).

    >>> len(stack(random.Random(0), 4, False)) in (2, 3)
    True
    """
    c = rng.choice([1, 3])
    size = rng.randint(6, 16) if fails else rng.choice([16, 28, 32, 64, rng.randint(12, 64)])
    h = w = size
    out: list[LabConfig] = []
    for _ in range(rng.choice([2, 3]) - (1 if fails else 0)):
        k, s, p = rng.choice(BLOCKS)
        c_out = rng.choice([8, 16, 32, 64])
        if level == 5 and rng.random() < 0.4:
            k, s, p = rng.choice([(3, 1, 2), (4, 2, 1), (3, 2, 1)])
            transposed = (k, s, p) != (3, 1, 2)
            config = layer(c, h, w, c_out, k, s, p, 1 if transposed else 2, transposed=transposed,
                           op=1 if (k, s) == (3, 2) and transposed else 0)
        else:
            config = layer(c, h, w, c_out, k, s, p)
        out.append(config)
        try:
            _, c, h, w = explain(config.spec(), config.input_shape()).output_shape
        except ConvConfigError:
            return out  # broke early: the caller draws again
    if fails:
        out.append(broken(rng, 5 if level == 5 and rng.random() < 0.5 else 1, c, h, w))
    return out


def params_layer(rng: random.Random, level: int) -> LabConfig:
    """A layer whose learnable parameters are asked for (groups and transposed at level 5).

    >>> params_layer(random.Random(0), 4).groups
    1
    """
    c_in, c_out = rng.choice([1, 3, 16, 32, 64]), rng.choice([8, 16, 32, 64, 128])
    kernel = rng.choice([1, 3, 3, 5, 7, (1, 3), (3, 1), (1, 7)])
    bias = rng.random() < 0.7
    if level < 5:
        return layer(c_in, 32, 32, c_out, kernel, bias=bias)
    c = rng.choice([16, 32, 64])
    g, filters = rng.choice([(c, c), (2, 2 * rng.choice([8, 16])), (4, 64), (1, c_out)])
    return layer(c, 16, 16, filters, rng.choice([3, 3, 4, 5]), rng.choice([1, 2]), 1, g=g, bias=bias,
                 transposed=rng.random() < 0.35)


def keep_padding_layer(rng: random.Random, level: int) -> LabConfig:
    """A stride-1 layer with an odd kernel, padded so it keeps its size (the padding is the question).

    >>> c = keep_padding_layer(random.Random(0), 2); c.padding[0] == (c.kernel_size[0] - 1) // 2
    True
    """
    k = rng.choice([3, 5, 7, 9, 11] if level < 5 else [3, 5, 7])
    d = 1 if level < 5 else rng.randint(1, 4)
    size = _size(rng, 8, 64)
    return layer(rng.choice([1, 3, 8, 16]), size, size, rng.choice([8, 16, 32]), k, 1, d * (k - 1) // 2, d)


def stride_layer(rng: random.Random) -> Optional[LabConfig]:
    """A layer with a stride to find ("which stride turns 64 into 32"), square sizes.

    >>> stride_layer(random.Random(0)).stride[0] >= 1
    True
    """
    if rng.random() < 0.3:
        return layer(3, 64, 64, 64, 3, 2, 1)
    k = rng.choice([1, 3, 3, 5, 7])
    size = rng.choice([32, 64, 128, 224, rng.randint(16, 128)])
    return layer(rng.choice([1, 3]), size, size, rng.choice([16, 32, 64]), k, rng.choice([2, 2, 3, 4]),
                 rng.randint(0, (k - 1) // 2))
