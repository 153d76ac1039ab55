"""The shape flow: follow a shape (and the receptive field) through parsed layers and skip connections.

A point is a place in the stack: 0 is the input, i is the output of layer i. A
skip concatenates ("cat", along channels) or adds ("add") the tensor at an
earlier point to the tensor at a later one, optionally centre-cropping it first
(as the original U-Net does). The planner (`plan`) and the fix finder (`fixes`)
both run the formulas through `follow`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import AXES
from conv_lab.core.shapes import PAD_SIDES
from conv_lab.network.shapes import WHOLE, Shape, Step, describe, layer_step

SKIP_MODES = ("cat", "add")


@dataclass(frozen=True)
class Skip:
    """Merge the tensor at point `source` into the one at point `target` (0 = input, i = after layer i)."""

    mode: str
    source: int
    target: int
    crop: bool = False

    def label(self) -> str:
        """Short description for tables.

        >>> Skip("cat", 4, 20, True).label()
        'cat point 4 → point 20 (crop)'
        """
        return f"{self.mode} point {self.source} → point {self.target}" + (" (crop)" if self.crop else "")


@dataclass(frozen=True)
class SkipReport:
    """Whether a skip's two shapes fit, by how much they miss, and what would fix it."""

    skip: Skip
    status: str  # ok | mismatch | invalid | not reached
    source_shape: Shape | None = None
    target_shape: Shape | None = None
    merged_shape: Shape | None = None
    crop_box: tuple[int, ...] | None = None  # cells cut from the source, (before, after) per spatial axis
    message: str = ""
    fixes: tuple[str, ...] = ()


@dataclass
class Flow:
    """What `follow` found: the shape and receptive field at each point reached, each layer's step (or the
    error it raised, or None past the break), the skips merged, and the first layer (1-based) that breaks.

    >>> Flow({0: (1, 3, 8, 8)}, {0: ((1, 1), (1, 1))}, []).broken is None
    True
    """

    points: dict[int, Shape]
    rfs: dict[int, Any]
    steps: list[Step | ConvConfigError | None]
    merges: dict[int, SkipReport] = field(default_factory=dict)  # skip index -> report
    broken: int | None = None
    error: ConvConfigError | None = None


def crop_text(box: tuple[int, ...]) -> str:
    """A crop box in words: (before, after) per spatial axis, named as the padding sides are.

    >>> crop_text((1, 1, 2, 2)), crop_text((3, 0))
    ('1 top, 1 bottom, 2 left, 2 right', '3 left, 0 right')
    """
    axes = AXES[len(box) // 2]
    return ", ".join(f"{box[2 * i + j]} {PAD_SIDES[sym][j]}" for i, (_, sym, _) in enumerate(axes) for j in (0, 1))


def _croppable(source: Shape, target: Shape) -> bool:
    return 3 <= len(source) == len(target) <= 5 and all(a >= b for a, b in zip(source[2:], target[2:]))


def merge_shapes(mode: str, source: Shape, target: Shape, crop: bool = False) -> tuple[Shape, tuple | None]:
    """The merged shape of a skip (and the crop applied to the source); ConvConfigError when they do not fit.

    >>> merge_shapes("cat", (1, 16, 568, 568), (1, 16, 536, 536), crop=True)
    ((1, 32, 536, 536), (16, 16, 16, 16))
    >>> merge_shapes("add", (1, 8, 100), (1, 8, 96), crop=True)
    ((1, 8, 96), (2, 2))
    """
    box = None
    if len(source) != len(target) and mode == "cat":
        raise ConvConfigError("skip", f"the tensors have different ranks: {describe(source)} and {describe(target)}",
                              "take both points before Flatten (or both after it)")
    if crop and _croppable(source, target):
        box = tuple(v for a, b in zip(source[2:], target[2:]) for v in ((a - b) // 2, a - b - (a - b) // 2))
        source = (*source[:2], *target[2:])
    if mode == "cat":
        if len(source) < 2 or any(a != b for i, (a, b) in enumerate(zip(source, target)) if i != 1):
            raise ConvConfigError("skip", f"torch.cat along channels needs equal sizes in every other dimension, but "
                                  f"they are {describe(source)} and {describe(target)}", "")
        return (target[0], source[1] + target[1], *target[2:]), box
    rank = max(len(source), len(target))  # torch broadcasting: align on the right; equal, or one of them is 1
    a_dims, b_dims = (1,) * (rank - len(source)) + tuple(source), (1,) * (rank - len(target)) + tuple(target)
    if any(a != b and 1 not in (a, b) for a, b in zip(a_dims, b_dims)):
        raise ConvConfigError("skip", f"adding needs equal shapes (or a size of 1 to broadcast), but they are "
                              f"{describe(source)} and {describe(target)}", "")
    return tuple(max(a, b) for a, b in zip(a_dims, b_dims)), box


def rf_after(rf: Any, factor: Any) -> Any:
    """Receptive field (size, jump) per axis after a layer with per-axis (span, step) factors (None = whole input).

    >>> rf_after(((3, 1), (3, 1)), ((2, 2), (2, 2))), rf_after(((2, 1),), ((2, 4),))
    (((4, 2), (4, 2)), ((3, 4),))
    """
    if rf is WHOLE or factor is WHOLE:
        return WHOLE
    factor = ((1, 1),) * (len(rf) - len(factor)) + tuple(factor)[-len(rf):]  # aligned on the last axes, as torch is
    return tuple((size + (span - 1) * jump, jump * step) for (size, jump), (span, step) in zip(rf, factor))


def merge_rf(a: Any, b: Any) -> Any:
    """Receptive field where two branches meet: the larger size and the finer jump per axis.

    >>> merge_rf(((5, 1), (5, 1)), ((3, 2), (7, 2)))
    ((5, 1), (7, 1))
    """
    if a is WHOLE or b is WHOLE or len(a) != len(b):
        return WHOLE
    return tuple((max(x[0], y[0]), min(x[1], y[1])) for x, y in zip(a, b))


def rf_text(rf: Any) -> str:
    """Receptive field as text.

    >>> rf_text(((11.0, 4.0), (11.0, 4.0))), rf_text(None)
    ('11×11', 'whole input')
    """
    if rf is WHOLE:
        return "whole input"
    return "×".join(str(math.ceil(size - 1e-9)) for size, _ in rf)


def memo_step(memo: dict, layer: tuple, shape: Shape) -> Step:
    """`layer_step` remembered in `memo` per (layer, input shape), errors included (the skip-fix search repeats most).

    >>> memo = {}; memo_step(memo, ("ReLU", {}), (1, 2, 3, 3)).out_shape, len(memo)
    ((1, 2, 3, 3), 1)
    """
    key = (layer[0], tuple(sorted(layer[1].items())), shape)
    if key not in memo:
        try:
            memo[key] = layer_step(layer[0], layer[1], shape)
        except ConvConfigError as exc:
            memo[key] = exc
    if isinstance(memo[key], ConvConfigError):
        raise memo[key]
    return memo[key]


def follow(input_shape: Shape, layers: Sequence[Any], skips: Sequence[Skip], stop: int | None = None,
           memo: dict | None = None) -> Flow:
    """Run the formulas over parsed layers ((kind, values) or a ConvConfigError) and the valid skips, up to `stop`.

    memo: a dict shared by several flows (the skip-fix search) that keeps each layer's result per input shape, so a
    flow re-runs only the layers whose arguments or input shape changed.

    >>> flow = follow((1, 4, 8, 8), [("Conv2d", {"out_channels": 4, "kernel_size": 3})], [Skip("add", 0, 1)])
    >>> flow.broken, flow.merges[0].status, flow.error.param
    (1, 'mismatch', 'skip')
    """
    flow = Flow({0: input_shape}, {0: ((1, 1),) * (len(input_shape) - 2)}, [])
    shape, rf = input_shape, flow.rfs[0]
    for i, layer in enumerate(layers[:stop] if stop else layers, start=1):
        if flow.broken:
            flow.steps.append(None)
            continue
        try:
            if isinstance(layer, ConvConfigError):
                raise layer
            step = memo_step(memo, layer, shape) if memo is not None else layer_step(layer[0], layer[1], shape)
        except ConvConfigError as exc:
            flow.steps.append(exc)
            flow.broken, flow.error = i, exc
            continue
        flow.steps.append(step)
        shape, rf = step.out_shape, rf_after(rf, step.rf)
        for n, skip in enumerate(skips):
            if skip.target != i:
                continue
            source = flow.points[skip.source]
            try:
                merged, box = merge_shapes(skip.mode, source, shape, skip.crop)
            except ConvConfigError as exc:
                flow.merges[n] = SkipReport(skip, "mismatch", source, shape, message=exc.why)
                flow.broken, flow.error = i, exc
                break
            flow.merges[n] = SkipReport(skip, "ok", source, shape, merged, box)
            shape, rf = merged, merge_rf(rf, flow.rfs[skip.source])
        flow.points[i], flow.rfs[i] = shape, rf
    return flow
