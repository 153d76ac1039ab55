"""Level 6's draws: Conv1d sequences (causal padding too) and Conv3d volumes, the same signatures as `draw`.

A level of its own, so the draws of levels 1–5 (and every seed teachers have shared) stay exactly as they were.
Like `draw`, everything here only proposes and uses nothing but `rng`; `questions` keeps what runs as asked.
"""

from __future__ import annotations

import random
from typing import Union

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.shapes import explain
from conv_lab.core.spec import ConvSpec
from conv_lab.core.state import LabConfig, config_from_spec, sized

Size = Union[int, tuple[int, ...]]
# (kernel, stride, dilation) blocks of 1-D stacks: a strided front end, then dilated causal layers (a TCN)
SEQ_BLOCKS = ((3, 1, 1), (5, 2, 1), (3, 2, 1), (10, 5, 1), (4, 4, 1), (7, 1, 1))
TCN_DILATIONS = ((1, 2, 4), (1, 2), (1, 3, 9), (2, 4, 8))
VOLUME_KERNELS = (3, 3, (1, 3, 3), (3, 1, 1), (3, 5, 5), 5, (2, 3, 3))


def layer_nd(dims: int, c_in: int, sizes: tuple[int, ...], c_out: int, k: Size, s: Size = 1, p: Union[Size, str] = 0,
             d: Size = 1, g: int = 1, bias: bool = True, transposed: bool = False, op: Size = 0) -> LabConfig:
    """A `dims`-D LabConfig on a (c_in, *sizes) input; impossible combinations are kept as given.

    >>> layer_nd(1, 8, (100,), 16, 3, p="causal", d=2).input_shape(), layer_nd(3, 1, (2, 8, 8), 4, 3).kernel_size
    ((1, 8, 100), (3, 3, 3))
    """
    try:
        return config_from_spec(ConvSpec(c_in, c_out, k, s, p, d, g, bias, "zeros", transposed, op, dims), *sizes)
    except ConvConfigError:  # the constructor refuses it: keep exactly what was drawn
        return LabConfig(c_in, sizes[-2] if dims == 3 else 1, sizes[-1], c_out, sized(k, dims), sized(s, dims),
                         sized(p, dims), sized(d, dims), g, bias, "zeros", transposed, sized(op, dims), dims,
                         sizes[0] if dims == 3 else 1)


def _sequence(rng: random.Random, causal: bool) -> LabConfig:
    c_in, c_out = rng.choice([1, 1, 2, 8, 16, 40]), rng.choice([4, 8, 16, 32, 64])
    length = rng.choice([rng.randint(16, 400), rng.randint(16, 400), 100, 128, 256])
    k = rng.choice([2, 3, 3, 5, 7] if causal else [3, 3, 5, 7, 9, 11])
    if causal:
        return layer_nd(1, c_in, (length,), c_out, k, rng.choice([1, 1, 1, 2]), "causal", rng.choice([1, 2, 4, 8]))
    d = rng.choice([1, 1, 1, 2, 4])
    pad = rng.choice([0, rng.randint(0, k // 2), d * (k - 1) // 2, "same", "valid"])
    stride = 1 if pad == "same" else rng.choice([1, 1, 2, 4])
    return layer_nd(1, c_in, (length,), c_out, k, stride, pad, d)


def _volume(rng: random.Random) -> LabConfig:
    c_in, c_out = rng.choice([1, 3, 3]), rng.choice([4, 8, 16, 32])
    depth, side = rng.choice([4, 8, 8, 16]), rng.choice([16, 28, 32, rng.randint(8, 48)])
    kernel = rng.choice(VOLUME_KERNELS)
    ks = sized(kernel, 3)
    stride = rng.choice([1, 1, 2, (1, 2, 2)])
    padding = rng.choice([0, tuple(k // 2 for k in ks), (0, 1, 1), 1])
    return layer_nd(3, c_in, (depth, side, rng.choice([side, side, rng.randint(8, 48)])), c_out, kernel, stride, padding)


def single(rng: random.Random, level: int = 6) -> LabConfig:
    """One 1-D (often causal) or 3-D layer that should run.

    >>> single(random.Random(2)).dims in (1, 3)
    True
    """
    kind = rng.choice(["sequence", "causal", "causal", "volume", "volume"])
    return _volume(rng) if kind == "volume" else _sequence(rng, kind == "causal")


def broken(rng: random.Random, level: int = 6, c_in: int = 0, sizes: tuple[int, ...] = ()) -> LabConfig:
    """One 1-D or 3-D layer PyTorch rejects (a kernel longer than the sequence or deeper than the clip, groups).

    >>> c = broken(random.Random(0)); c.dims in (1, 3)
    True
    """
    dims = len(sizes) or rng.choice([1, 3])
    c_in, c_out = c_in or rng.choice([1, 3, 8]), rng.choice([8, 16, 32])
    kind = rng.choice(["kernel", "kernel", "groups"])
    if kind == "groups":
        c_in = rng.choice([6, 10, 12]) if c_in in (1, 3) else c_in
        g = rng.choice([g for g in (3, 4, 5, 6) if c_in % g])
        sizes = sizes or ((rng.randint(16, 64),) if dims == 1 else (rng.randint(4, 8), 16, 16))
        return layer_nd(dims, c_in, sizes, rng.choice([8, 16]), 3, 1, 1, g=g)
    if dims == 1:  # a kernel (or its dilated span) longer than the padded sequence
        length = sizes[0] if sizes else rng.randint(2, 12)
        k = length + rng.randint(1, 3)
        return layer_nd(1, c_in, (length,), c_out, k, 1, 0, 1)
    depth, height, width = sizes or (rng.randint(1, 3), rng.randint(8, 32), rng.randint(8, 32))
    return layer_nd(3, c_in, (depth, height, width), c_out, (depth + rng.randint(1, 2), 3, 3), 1, (0, 1, 1))


def stack(rng: random.Random, level: int = 6, fails: bool = False) -> list[LabConfig]:
    """Two or three 1-D layers (a strided front end, or a dilated causal stack) or 3-D layers, each on the last output.

    >>> len(stack(random.Random(0))) >= 1
    True
    """
    dims = rng.choice([1, 1, 3])
    c = rng.choice([1, 2]) if dims == 1 else rng.choice([1, 3])
    sizes = (rng.choice([64, 100, 128, 200, 256, rng.randint(32, 400)]),) if dims == 1 else (
        rng.choice([8, 16]), rng.choice([16, 32]), rng.choice([16, 32]))
    causal = dims == 1 and rng.random() < 0.5
    dilations = rng.choice(TCN_DILATIONS)
    out: list[LabConfig] = []
    for i in range(rng.choice([2, 3]) - (1 if fails else 0)):
        c_out = rng.choice([8, 16, 32])
        if causal:
            config = layer_nd(1, c, sizes, c_out, rng.choice([2, 3]), 1, "causal", dilations[min(i, len(dilations) - 1)])
        elif dims == 1:
            k, s, d = rng.choice(SEQ_BLOCKS)
            config = layer_nd(1, c, sizes, c_out, k, s, rng.choice([0, k // 2]), d)
        else:
            kernel = rng.choice([3, (1, 3, 3), (3, 1, 1)])
            config = layer_nd(3, c, sizes, c_out, kernel, rng.choice([1, (1, 2, 2), 2]),
                              tuple(k // 2 for k in sized(kernel, 3)))
        out.append(config)
        try:
            _, c, *rest = explain(config.spec(), config.input_shape()).output_shape
        except ConvConfigError:
            return out  # broke early: the caller draws again
        sizes = tuple(rest)
    if fails:
        out.append(broken(rng, level, c, sizes))
    return out


def params_layer(rng: random.Random, level: int = 6) -> LabConfig:
    """A 1-D or 3-D layer whose learnable parameters are asked for (the kernel volume kd·kh·kw in 3-D).

    >>> params_layer(random.Random(0)).dims in (1, 3)
    True
    """
    c_in, c_out, bias = rng.choice([1, 3, 16, 32]), rng.choice([8, 16, 32, 64]), rng.random() < 0.7
    if rng.random() < 0.5:
        return layer_nd(1, c_in, (128,), c_out, rng.choice([3, 5, 7, 9]), bias=bias)
    return layer_nd(3, c_in, (8, 16, 16), c_out, rng.choice([3, (1, 3, 3), (3, 1, 1), (3, 5, 5)]), bias=bias)
