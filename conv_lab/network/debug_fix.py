"""The fix for the first layer of a pasted model that breaks: one sentence naming the argument and the number.

"input too small" fixes look for the smallest input that works by re-running the
formulas (through a `passes` callable from `debug`), bounded by
limits.MAX_DEBUG_SIZE_TRIALS tries.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError
from conv_lab.network.debug_walk import Leaf, where
from conv_lab.network.shapes import Shape, describe

# passes(input shape, last leaf index or None for all) -> whether the leaves up to it work
Passes = Callable[[Shape, "int | None"], bool]
POOLS = ("MaxPool2d", "AvgPool2d")


def _size(value: object) -> str:
    if isinstance(value, tuple):
        return str(value[0]) if len(set(value)) == 1 else "×".join(map(str, value))
    return str(value)


def smallest_input(input_shape: Shape, index: int, passes: Passes) -> tuple[Shape, bool] | None:
    """The smallest input (height and width grown alike) past which leaf `index` works, and whether the whole model
    then works; None when no input up to the cap does (or the tries run out).

    >>> smallest_input((1, 1, 28, 28), 0, lambda shape, upto: shape[2] >= 32)
    ((1, 1, 32, 32), True)
    """
    if len(input_shape) != 4:
        return None
    n, c, h, w = input_shape
    grown = lambda d: (n, c, h + d, w + d)  # noqa: E731 - a one-line helper
    room = limits.MAX_SPATIAL - max(h, w)
    tries = 0
    hi = 1
    while hi <= room and not passes(grown(hi), index):
        tries += 1
        if tries > limits.MAX_DEBUG_SIZE_TRIALS // 2:
            return None
        hi = min(hi * 2, room) if hi < room else room + 1
    if hi > room:
        return None
    lo = max(hi // 2, 0)  # passes(lo) is False unless lo == 0 was never tried
    while hi - lo > 1:
        mid = (lo + hi) // 2
        tries += 1
        if passes(grown(mid), index):
            hi = mid
        else:
            lo = mid
    for d in range(hi, room + 1):  # the whole model may need a little more (a Linear sized for one input)
        tries += 1
        if tries > limits.MAX_DEBUG_SIZE_TRIALS:
            break
        if passes(grown(d), None):
            return grown(d), True
    return grown(hi), False


def _too_small(leaf: Leaf, leaves: Sequence[Leaf], index: int, input_shape: Shape, passes: Passes) -> str:
    pools = sum(1 for other in leaves[:index] if other.mapping.planner in POOLS)
    after = f" after {pools} pooling{'s' if pools != 1 else ''}" if pools else ""
    found = smallest_input(input_shape, index, passes)
    head = f"input too small for kernel {_size(leaf.values.get('kernel_size'))}{after}: "
    remove = " or remove a pool" if pools else ""
    if found is None:
        return head + f"use a larger input{remove}, or add padding"
    size = f"{found[0][2]}×{found[0][3]}"
    if found[1]:
        return head + f"use {size}{remove}"
    return head + f"use at least {size}{remove} (the layers after it then need changes too)"


def fix_sentence(leaf: Leaf, exc: ConvConfigError, shape: Shape, leaves: Sequence[Leaf], index: int,
                 input_shape: Shape, passes: Passes) -> str:
    """One sentence: the argument and number that make `leaf` work on `shape` (torch's name for the argument).

    >>> from conv_lab.network.debug_walk import MAPPINGS
    >>> leaf = Leaf("fc", "Linear", MAPPINGS["Linear"], {"in_features": 400, "out_features": 10})
    >>> fix_sentence(leaf, ConvConfigError("in_features", ""), (1, 256), [leaf], 0, (1, 1, 28, 28), None)
    'Linear(in_features=256, …): fc gets 256 features from (1, 256)'
    """
    kind, name, param = leaf.kind, where(leaf.name), exc.param
    if param == "in_features" and len(shape) > 2:
        return (f"add nn.Flatten() before {name} and use Linear(in_features={math.prod(shape[1:])}, …): it gets the "
                f"feature map {describe(shape)}")
    if param == "in_features":
        return f"Linear(in_features={shape[-1]}, …): {name} gets {shape[-1]} features from {describe(shape)}"
    if param == "in_channels" and len(shape) >= 3:
        return f"{kind}(in_channels={shape[-3]}, …): {name} gets {shape[-3]} channels from {describe(shape)}"
    if param == "num_features" and len(shape) >= 2:
        return f"{kind}(num_features={shape[1]}, …), i.e. {kind}({shape[1]}): {name} gets {shape[1]} channels"
    if param == "normalized_shape":
        return f"{kind}(normalized_shape={exc.fix.rsplit('=', 1)[-1]}, …): {name} gets {describe(shape)}"
    if param == "kernel_size" and leaf.mapping.planner in ("Conv2d", "ConvTranspose2d", *POOLS):
        return _too_small(leaf, leaves, index, input_shape, passes)
    return f"{name} ({kind}): {exc.fix}" if exc.fix else f"{name} ({kind}): {exc.why}"
