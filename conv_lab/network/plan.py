"""Network planner: follow a shape through a stack of layers and skip connections, find the first layer that breaks.

Rows are (layer name, argument text) pairs as the page's table holds them. A
point is a place in the stack: 0 is the input, i is the output of layer i. A
skip concatenates ("cat", along channels) or adds ("add") the tensor at an
earlier point to the tensor at a later one, optionally centre-cropping it first
(as the original U-Net does). Pure arithmetic: torch runs in network_torch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Sequence

from conv_lab import limits
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.network.layers import format_arguments, kind_named, parse_arguments
from conv_lab.network.shapes import WHOLE, Shape, Step, describe, layer_step, resolve_kwargs

SKIP_MODES = ("cat", "add")
Row = tuple[Any, Any]  # (layer name, argument text), straight from the table


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
    crop_box: tuple[int, int, int, int] | None = None  # rows/cols cut from the source: top, bottom, left, right
    message: str = ""
    fixes: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlanRow:
    """One layer of the plan: its shapes, costs, receptive field and status."""

    index: int
    layer: str
    arguments: str
    status: str  # ok | broken | not reached
    in_shape: Shape | None = None
    out_shape: Shape | None = None  # after the layer and any skip merged at its output
    params: int = 0
    macs: int = 0
    receptive_field: str = ""
    kind: str | None = None
    kwargs: dict | None = None  # full constructor arguments torch gets (in_channels etc. filled in)
    param: str = ""
    message: str = ""
    fix: str = ""
    note: str = ""
    over_cap: bool = False  # broken by one of Conv Lab's work caps, not by a torch rule: never run


@dataclass(frozen=True)
class NetworkPlan:
    """The whole stack: rows, skip reports, totals and the first row that breaks (1-based) if any."""

    input_shape: Shape
    rows: tuple[PlanRow, ...]
    skips: tuple[SkipReport, ...]
    broken: int | None
    notices: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """True when every layer and skip works."""
        return self.broken is None

    @property
    def total_params(self) -> int:
        """Parameters of every layer that was reached."""
        return sum(r.params for r in self.rows)

    @property
    def total_macs(self) -> int:
        """Multiply-accumulates of every layer that was reached."""
        return sum(r.macs for r in self.rows)

    @property
    def output_shape(self) -> Shape | None:
        """The final shape, or None when the stack breaks."""
        return (self.rows[-1].out_shape if self.rows else self.input_shape) if self.ok else None


@dataclass
class _Flow:
    points: dict[int, Shape]
    rfs: dict[int, Any]
    steps: list[Step | ConvConfigError | None]
    merges: dict[int, SkipReport] = field(default_factory=dict)  # skip index -> report
    broken: int | None = None
    error: ConvConfigError | None = None


def check_input_shape(shape: Sequence[int]) -> Shape:
    """Validate the planner's (N, C, H, W) input; raise ConvConfigError with the cap when out of range.

    >>> check_input_shape([1, 3, 224, 224])
    (1, 3, 224, 224)
    """
    if len(shape) != 4 or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
        raise ConvConfigError("input", f"expected (N, C, H, W) whole numbers, got {shape!r}", "use e.g. 1×3×32×32")
    for name, v, hi in zip(("batch", "channels", "height", "width"), shape,
                           (limits.MAX_BATCH, limits.MAX_CHANNELS, limits.MAX_SPATIAL, limits.MAX_SPATIAL)):
        if not 1 <= v <= hi:
            raise ConvConfigError("input", f"input {name} {v} is outside 1..{hi}", f"use an input {name} between 1 and {hi}")
    return tuple(shape)


def merge_shapes(mode: str, source: Shape, target: Shape, crop: bool = False) -> tuple[Shape, tuple | None]:
    """The merged shape of a skip (and the crop applied to the source); ConvConfigError when they do not fit.

    >>> merge_shapes("cat", (1, 16, 568, 568), (1, 16, 536, 536), crop=True)
    ((1, 32, 536, 536), (16, 16, 16, 16))
    """
    box = None
    if len(source) != len(target) and mode == "cat":
        raise ConvConfigError("skip", f"the tensors have different ranks: {describe(source)} and {describe(target)}",
                              "take both points before Flatten (or both after it)")
    if crop and len(source) == 4 == len(target) and source[2] >= target[2] and source[3] >= target[3]:
        dh, dw = source[2] - target[2], source[3] - target[3]
        box = (dh // 2, dh - dh // 2, dw // 2, dw - dw // 2)
        source = (*source[:2], target[2], target[3])
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


def _rf_after(rf: Any, factor: Any) -> Any:
    """Receptive field (size, jump) per axis after a layer with per-axis (span, step) factors."""
    if rf is WHOLE or factor is WHOLE:
        return WHOLE
    return tuple((size + (span - 1) * jump, jump * step) for (size, jump), (span, step) in zip(rf, factor))


def rf_text(rf: Any) -> str:
    """Receptive field as text.

    >>> rf_text(((11.0, 4.0), (11.0, 4.0))), rf_text(None)
    ('11×11', 'whole input')
    """
    if rf is WHOLE:
        return "whole input"
    return "×".join(str(math.ceil(size - 1e-9)) for size, _ in rf)


def _merge_rf(a: Any, b: Any) -> Any:
    if a is WHOLE or b is WHOLE:
        return WHOLE
    return tuple((max(x[0], y[0]), min(x[1], y[1])) for x, y in zip(a, b))


def _flow(input_shape: Shape, layers: Sequence[Any], skips: Sequence[Skip], stop: int | None = None) -> _Flow:
    """Run the formulas over parsed layers ((kind, values) or a ConvConfigError) and the valid skips."""
    flow = _Flow({0: input_shape}, {0: ((1, 1), (1, 1))}, [])
    shape, rf = input_shape, flow.rfs[0]
    for i, layer in enumerate(layers[:stop] if stop else layers, start=1):
        if flow.broken:
            flow.steps.append(None)
            continue
        try:
            if isinstance(layer, ConvConfigError):
                raise layer
            step = layer_step(layer[0], layer[1], shape)
        except ConvConfigError as exc:
            flow.steps.append(exc)
            flow.broken, flow.error = i, exc
            continue
        flow.steps.append(step)
        shape, rf = step.out_shape, _rf_after(rf, step.rf)
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
            shape, rf = merged, _merge_rf(rf, flow.rfs[skip.source])
        flow.points[i], flow.rfs[i] = shape, rf
    return flow


def parse_rows(rows: Sequence[Row]) -> list[Any]:
    """Each row as (kind name, values) or the ConvConfigError that says what is wrong with it.

    >>> parse_rows([("Conv2d", "out_channels=8, kernel_size=3"), ("Relu", "")])
    [('Conv2d', {'out_channels': 8, 'kernel_size': 3}), ('ReLU', {})]
    """
    parsed: list[Any] = []
    for layer, arguments in rows:
        try:
            kind = kind_named(layer)
            parsed.append((kind.name, parse_arguments(kind, arguments)))
        except ConvConfigError as exc:
            parsed.append(exc)
    return parsed


def valid_skips(skips: Sequence[Skip], n_layers: int) -> tuple[list[Skip], dict[int, SkipReport]]:
    """Skips that can be applied, and reports for those that cannot (bad points or mode)."""
    good, bad = [], {}
    for n, skip in enumerate(skips[:limits.MAX_NETWORK_SKIPS]):
        if skip.mode not in SKIP_MODES:
            bad[n] = SkipReport(skip, "invalid", message=f"mode '{skip.mode}' is not cat or add")
        elif not 0 <= skip.source < skip.target <= n_layers:
            bad[n] = SkipReport(skip, "invalid", message=f"points must satisfy 0 ≤ from < to ≤ {n_layers} (0 is the "
                                f"input, i is the output of layer i)")
        else:
            good.append(skip)
            continue
        good.append(Skip(skip.mode, -1, -1, skip.crop))  # placeholder keeps indices aligned; never merges
    return good, bad


def plan(input_shape: Sequence[int], rows: Sequence[Row], skips: Sequence[Skip] = ()) -> NetworkPlan:
    """Shapes, costs and receptive field per layer; the first row (or skip) that breaks, with a fix.

    >>> p = plan((1, 1, 32, 32), [("Conv2d", "out_channels=6, kernel_size=5"), ("MaxPool2d", "kernel_size=2")])
    >>> [r.out_shape for r in p.rows], p.total_params
    ([(1, 6, 28, 28), (1, 6, 14, 14)], 156)
    """
    from conv_lab.network.fixes import suggest_fixes

    shape = check_input_shape(list(input_shape))
    notices = []
    if len(rows) > limits.MAX_NETWORK_LAYERS:
        notices.append(f"only the first {limits.MAX_NETWORK_LAYERS} of {len(rows)} layers are planned (Conv Lab's cap)")
        rows = rows[:limits.MAX_NETWORK_LAYERS]
    if len(skips) > limits.MAX_NETWORK_SKIPS:
        notices.append(f"only the first {limits.MAX_NETWORK_SKIPS} skip connections are checked")
    layers = parse_rows(rows)
    usable, bad = valid_skips(skips, len(rows))
    flow = _flow(shape, layers, usable)
    reports = []
    for n, skip in enumerate(usable):
        if n in bad:
            reports.append(bad[n])
        elif n in flow.merges and flow.merges[n].status == "mismatch":
            why, fixes = suggest_fixes(shape, layers, usable, n, flow.merges[n])
            reports.append(SkipReport(skip, "mismatch", flow.merges[n].source_shape, flow.merges[n].target_shape,
                                      message=why, fixes=fixes))
        else:
            reports.append(flow.merges.get(n, SkipReport(skip, "not reached", message=f"the stack breaks before point {skip.target}")))
    plan_rows = []
    prev = shape
    for i, ((layer, arguments), step) in enumerate(zip(rows, flow.steps), start=1):
        name, args_text = str(layer or ""), str(arguments or "")
        if step is None:
            plan_rows.append(PlanRow(i, name, args_text, "not reached"))
        elif isinstance(step, ConvConfigError):
            parsed = layers[i - 1]
            kind, kwargs = (parsed[0], resolve_kwargs(*parsed, prev)) if isinstance(parsed, tuple) else (None, None)
            if kind:
                name, args_text = kind, format_arguments(parsed[1])
            plan_rows.append(PlanRow(i, name, args_text, "broken", prev, kind=kind, kwargs=kwargs, param=step.param,
                                     message=step.why, fix=step.fix, over_cap=isinstance(step, WorkCapError)))
        else:
            kind = layers[i - 1][0]
            merge = next((r for r in reports if r.skip.target == i and r.status == "mismatch"), None)
            status, message, fix, param = "ok", "", "", ""
            if merge:
                status, param, message, fix = "broken", "skip", f"{merge.skip.label()}: {merge.message}", " or ".join(merge.fixes)
            plan_rows.append(PlanRow(i, kind, format_arguments(layers[i - 1][1]), status, prev, flow.points.get(i, step.out_shape),
                                     step.params, step.macs, rf_text(flow.rfs.get(i, WHOLE)), kind, step.kwargs,
                                     param, message, fix, step.note))
            prev = flow.points.get(i, step.out_shape)
    return NetworkPlan(shape, tuple(plan_rows), tuple(reports), flow.broken, tuple(notices))
