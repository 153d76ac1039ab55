"""Network planner: follow a shape through a stack of layers and skip connections, find the first layer that breaks.

Rows are (layer name, argument text) pairs as the page's table holds them; the
shape flow itself (points, skips, receptive field) is `flow`, and `fixes` finds
what would make a mismatched skip fit. Pure arithmetic: torch runs in
network.torch_run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from conv_lab import limits
from conv_lab.core.code import argument_text
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.params import AXES
from conv_lab.network.fixes import suggest_fixes
from conv_lab.network.flow import SKIP_MODES, Skip, SkipReport, follow, rf_text
from conv_lab.network.layers import kind_named, parse_arguments
from conv_lab.network.shapes import WHOLE, Shape, resolve_kwargs

Row = tuple[Any, Any]  # (layer name, argument text), straight from the table


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


def check_input_shape(shape: Sequence[int]) -> Shape:
    """Validate the planner's (N, C, L), (N, C, H, W) or (N, C, D, H, W) input; ConvConfigError with the cap if not.

    >>> check_input_shape([1, 3, 224, 224]), check_input_shape((1, 1, 16000))
    ((1, 3, 224, 224), (1, 1, 16000))
    """
    if not 3 <= len(shape) <= 5 or not all(isinstance(v, int) and not isinstance(v, bool) for v in shape):
        raise ConvConfigError("input", f"expected (N, C, L), (N, C, H, W) or (N, C, D, H, W) whole numbers, got "
                              f"{shape!r}"[:200], "use e.g. 1×3×32×32")
    dims = len(shape) - 2
    names = ("batch", "channels", *(axis for axis, _, _ in AXES[dims]))
    caps = (limits.MAX_BATCH, limits.MAX_CHANNELS, *(limits.MAX_SPATIAL_BY_DIMS[dims],) * dims)
    for name, v, hi in zip(names, shape, caps):
        if not 1 <= v <= hi:
            raise ConvConfigError("input", f"input {name} {v} is outside 1..{hi}", f"use an input {name} between 1 and {hi}")
    return tuple(shape)


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
    shape = check_input_shape(list(input_shape))
    notices = []
    if len(rows) > limits.MAX_NETWORK_LAYERS:
        notices.append(f"only the first {limits.MAX_NETWORK_LAYERS} of {len(rows)} layers are planned (Conv Lab's cap)")
        rows = rows[:limits.MAX_NETWORK_LAYERS]
    if len(skips) > limits.MAX_NETWORK_SKIPS:
        notices.append(f"only the first {limits.MAX_NETWORK_SKIPS} skip connections are checked")
    layers = parse_rows(rows)
    usable, bad = valid_skips(skips, len(rows))
    flow = follow(shape, layers, usable)
    reports = []
    for n, skip in enumerate(usable):
        if n in bad:
            reports.append(bad[n])
        elif n in flow.merges and flow.merges[n].status == "mismatch":
            why, fixes = suggest_fixes(shape, layers, usable, n, flow.merges[n])
            reports.append(SkipReport(skip, "mismatch", flow.merges[n].source_shape, flow.merges[n].target_shape,
                                      message=why, fixes=fixes))
        else:
            reports.append(flow.merges.get(n, SkipReport(skip, "not reached",
                                                         message=f"the stack breaks before point {skip.target}")))
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
                name, args_text = kind, argument_text(parsed[1])
            plan_rows.append(PlanRow(i, name, args_text, "broken", prev, kind=kind, kwargs=kwargs, param=step.param,
                                     message=step.why, fix=step.fix, over_cap=isinstance(step, WorkCapError)))
        else:
            kind = layers[i - 1][0]
            merge = next((r for r in reports if r.skip.target == i and r.status == "mismatch"), None)
            status, message, fix, param = "ok", "", "", ""
            if merge:
                status, param, fix = "broken", "skip", " or ".join(merge.fixes)
                message = f"{merge.skip.label()}: {merge.message}"
            out = flow.points.get(i, step.out_shape)
            plan_rows.append(PlanRow(i, kind, argument_text(layers[i - 1][1]), status, prev, out, step.params, step.macs,
                                     rf_text(flow.rfs.get(i, WHOLE)), kind, step.kwargs, param, message, fix, step.note))
            prev = out
    return NetworkPlan(shape, tuple(plan_rows), tuple(reports), flow.broken, tuple(notices))
