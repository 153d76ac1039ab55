"""Debug my model: follow an input shape through the text of print(model) and find the first layer that breaks.

The text is read by `repr_parse` (never evaluated) and ordered by `debug_walk`,
whose table maps each torch class onto a planner layer kind. Shapes come from the
planner's own formulas (`flow.memo_step`); the few layers the planner has no row
for keep the shape, with torch's checks (`_RULES`). The same layers are then built
with real torch on the meta device and run as the check (`torch_run.run_frozen`).
`fix` is one sentence naming the argument and the number (`debug_fix`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import torch
import torch.nn.functional as F

from conv_lab import limits
from conv_lab.core.code import argument_text
from conv_lab.core.errors import ConvConfigError, WorkCapError
from conv_lab.core.params import as_pair
from conv_lab.network.debug_fix import fix_sentence
from conv_lab.network.debug_walk import Leaf, Walk, collect, where
from conv_lab.network.flow import memo_step
from conv_lab.network.plan import check_input_shape
from conv_lab.network.repr_parse import ReprError, parse_repr
from conv_lab.network.shapes import Shape, describe, resolve_kwargs
from conv_lab.network.torch_run import freeze, run_frozen

FLATTEN_NAME = "(flatten in forward)"


@dataclass(frozen=True)
class DebugReport:
    """What `debug_model` found: each leaf's output shape, the first layer that breaks and the fix, and the limits.

    `broken` is certain (torch fails there); `suspect` is where it breaks if a custom module's forward() runs its
    children in printed order (`fix` then applies to it). `rows`/`row_names` are the walked stack as planner rows.
    """

    input_shape: Shape
    shapes: dict[str, Shape]
    broken: str | None
    fix: str | None
    notes: tuple[str, ...] = ()
    suspect: str | None = None
    why: str = ""  # what goes wrong at broken / suspect, in plain words
    kind: str = ""  # torch class of broken / suspect
    torch_error: str = ""  # torch's own message there, from the real check
    stopped_at: str | None = None  # where the report stops (a module it cannot follow), if anywhere
    rows: tuple[tuple[str, str], ...] = ()
    row_names: tuple[str, ...] = ()
    layers: dict[str, tuple[str, dict]] = field(default_factory=dict)  # leaf name -> (torch class, its values)

    @property
    def output_shape(self) -> Shape | None:
        """The last leaf's output when nothing breaks or stops."""
        if self.broken or self.suspect or self.stopped_at or not self.shapes:
            return None
        return list(self.shapes.values())[-1]


def _same(values: dict, shape: Shape) -> Shape:
    return shape


def _softmax(values: dict, shape: Shape) -> Shape:
    dim, rank = values.get("dim"), len(shape)
    if dim is not None and not -rank <= dim < rank:
        raise ConvConfigError("dim", f"dim={dim} is outside the {rank}-D input {describe(shape)}",
                              f"use dim between {-rank} and {rank - 1} (dim=1 for (N, classes))")
    return shape


def _layernorm(values: dict, shape: Shape) -> Shape:
    want = values["normalized_shape"]
    if math.prod(want) > limits.MAX_TENSOR_ELEMENTS:
        raise WorkCapError("normalized_shape", f"normalized_shape {want} is above Conv Lab's cap", "")
    if tuple(shape[len(shape) - len(want):]) != tuple(want) or len(want) > len(shape):
        last = tuple(shape[-len(want):]) if len(want) <= len(shape) else shape
        raise ConvConfigError("normalized_shape", f"LayerNorm normalizes the last dimensions {want}, but the input "
                              f"{describe(shape)} ends in {last}", f"set normalized_shape={last}")
    return shape


def _unflatten(values: dict, shape: Shape) -> Shape:
    dim, sizes, rank = values["dim"], values["unflattened_size"], len(shape)
    if not -rank <= dim < rank:
        raise ConvConfigError("dim", f"dim={dim} is outside the {rank}-D input {describe(shape)}",
                              f"use dim between {-rank} and {rank - 1}")
    dim %= rank
    known = math.prod(s for s in sizes if s != -1)
    if sizes.count(-1) == 1 and known and shape[dim] % known == 0:
        sizes = tuple(shape[dim] // known if s == -1 else s for s in sizes)
    if sizes.count(-1) or min(sizes, default=0) < 1 or math.prod(sizes) != shape[dim]:
        raise ConvConfigError("unflattened_size", f"unflattened_size {values['unflattened_size']} does not multiply "
                              f"to {shape[dim]}, the size of dimension {dim} of {describe(shape)}",
                              f"use sizes whose product is {shape[dim]}")
    return (*shape[:dim], *sizes, *shape[dim + 1:])


_RULES = {"same": _same, "softmax": _softmax, "layernorm": _layernorm, "unflatten": _unflatten}


def step(leaf: Leaf, shape: Shape, memo: dict) -> tuple[Shape, dict]:
    """One leaf's output shape and the constructor arguments torch gets; ConvConfigError where torch fails.

    >>> from conv_lab.network.debug_walk import MAPPINGS
    >>> step(Leaf("0", "Linear", MAPPINGS["Linear"], {"in_features": 4, "out_features": 2}), (1, 4), {})[0]
    (1, 2)
    """
    if leaf.mapping.rule == "planner":
        taken = memo_step(memo, (leaf.mapping.planner, leaf.values), shape)
        return taken.out_shape, taken.kwargs
    return _RULES[leaf.mapping.rule](leaf.values, shape), leaf.values


def _flattens(leaf: Leaf, shape: Shape) -> bool:
    """A custom module's forward() usually flattens before its first Linear (torch.flatten(x, 1), x.view(…))."""
    return leaf.assumed and leaf.boundary and leaf.mapping.planner == "Linear" and len(shape) > 2


@dataclass
class Trace:
    """One pass over the leaves: output shapes, torch's layers (with implicit flattens), and the failure."""

    shapes: list[Shape]
    frozen: list[tuple]
    names: list[str]
    flat_before: set[int] = field(default_factory=set)  # leaf indices a flatten is assumed before
    failed: int | None = None  # leaf index
    error: ConvConfigError | None = None
    in_shape: Shape | None = None  # the input of the failing leaf


def trace(leaves: Sequence[Leaf], shape: Shape, memo: dict) -> Trace:
    """Follow `shape` through the leaves until one fails.

    >>> from conv_lab.network.debug_walk import MAPPINGS
    >>> trace([Leaf("0", "Flatten", MAPPINGS["Flatten"], {})], (1, 2, 3, 3), {}).shapes
    [(1, 18)]
    """
    out = Trace([], [], [])
    for i, leaf in enumerate(leaves):
        if _flattens(leaf, shape):
            shape = (shape[0], math.prod(shape[1:]))
            out.frozen.append(freeze("Flatten", {}))
            out.names.append(FLATTEN_NAME)
            out.flat_before.add(i)
        try:
            shape, kwargs = step(leaf, shape, memo)
        except ConvConfigError as exc:
            out.failed, out.error, out.in_shape = i, exc, shape
            if leaf.mapping.rule == "planner" and not isinstance(exc, WorkCapError):
                out.frozen.append(freeze(leaf.kind, resolve_kwargs(leaf.mapping.planner, leaf.values, shape)))
            elif not isinstance(exc, WorkCapError):
                out.frozen.append(freeze(leaf.kind, leaf.values))
            out.names.append(leaf.name)
            return out
        out.shapes.append(shape)
        out.frozen.append(freeze(leaf.kind, kwargs))
        out.names.append(leaf.name)
    return out


def torch_check(input_shape: Shape, frozen: Sequence[tuple]) -> tuple[int | None, str]:
    """Run the real layers on a meta zero tensor; (index of the layer torch fails at, torch's message) or (None, '').

    >>> torch_check((1, 4), [("Linear", (("in_features", 3), ("out_features", 2)))])[0]
    0
    """
    run = None
    for n in range(1, len(frozen) + 1):  # prefix by prefix: each run extends the cached one (no deep recursion)
        run = run_frozen(input_shape, tuple(frozen[:n]), ())
        if run.failed:
            return run.failed - 1, run.error
    return None, ""


def cpu_message(layer: tuple, shape: Shape) -> str | None:
    """torch's own CPU message for a layer the meta check saw fail on `shape` (the meta device words some errors
    differently), from zero tensors expanded from one number (no memory); None for layers it does not redo.

    >>> cpu_message(freeze("Linear", {"in_features": 256, "out_features": 120}), (1, 400))
    'RuntimeError: mat1 and mat2 shapes cannot be multiplied (1x400 and 256x120)'
    """
    kind, kw = layer[0], dict(layer[1])
    x = torch.zeros(1).expand(*shape)
    try:
        if kind == "Linear":
            F.linear(x, torch.zeros(1).expand(kw["out_features"], kw["in_features"]))
        elif kind == "Conv2d" and kw.get("padding_mode", "zeros") == "zeros":
            groups = kw.get("groups", 1)
            weight = torch.zeros(1).expand(kw["out_channels"], kw["in_channels"] // groups,
                                           *as_pair(kw["kernel_size"], "kernel_size"))
            F.conv2d(x, weight, None, kw.get("stride", 1), kw.get("padding", 0), kw.get("dilation", 1), groups)
        elif kind in ("MaxPool2d", "AvgPool2d"):
            args = (kw["kernel_size"], kw.get("stride"), kw.get("padding", 0))
            if kind == "MaxPool2d":
                F.max_pool2d(x, *args, kw.get("dilation", 1), kw.get("ceil_mode", False))
            else:
                F.avg_pool2d(x, *args, kw.get("ceil_mode", False))
        else:
            return None
    except (RuntimeError, ValueError) as exc:
        return f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:300]}"
    return None


def read_input_shape(text: Any) -> Shape:
    """An input shape from text like '1, 3, 32, 32', '1x3x32x32' or 'torch.Size([1, 3, 32, 32])'.

    >>> read_input_shape("torch.Size([1, 3, 32, 32])"), read_input_shape("1×784")
    ((1, 3, 32, 32), (1, 784))
    """
    raw = str(text or "").strip()[:80]
    raw = re.sub(r"^(torch\.)?Size\(\[(.*)\]\)$", r"\2", raw)
    parts = [p for p in re.split(r"[\s,x×*()\[\]]+", raw) if p]
    if not 2 <= len(parts) <= 5 or not all(re.fullmatch(r"\d{1,7}", p) for p in parts):
        raise ConvConfigError("input", f"'{raw[:40]}' is not an input shape", "write it like 1, 3, 32, 32 (N, C, H, W)")
    return check_input(tuple(int(p) for p in parts))


def check_input(shape: Sequence[int]) -> Shape:
    """A valid input: (N, C, L), (N, C, H, W) or (N, C, D, H, W) within the planner's caps, or (N, F) within Conv Lab's.

    >>> check_input((2, 784)), check_input((1, 1, 16000))
    ((2, 784), (1, 1, 16000))
    """
    shape = tuple(shape)
    if 3 <= len(shape) <= 5:
        return check_input_shape(list(shape))
    if len(shape) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in shape):
        raise ConvConfigError("input", f"expected 2 to 5 whole numbers ≥ 1, got {shape!r}", "use e.g. 1, 3, 32, 32")
    if shape[0] > limits.MAX_BATCH or math.prod(shape) > limits.MAX_TENSOR_ELEMENTS:
        raise ConvConfigError("input", f"the input {describe(shape)} is above Conv Lab's caps",
                              f"use a batch ≤ {limits.MAX_BATCH} and at most {limits.MAX_TENSOR_ELEMENTS:,} numbers")
    return shape


def _notes(walk: Walk, flattened: list[str]) -> list[str]:
    notes = []
    if walk.custom:
        names = ", ".join(walk.custom[:3]) + (f" and {len(walk.custom) - 3} more" if len(walk.custom) > 3 else "")
        verb = "runs its" if len(walk.custom) == 1 else "run their"
        notes.append(f"Printed order is not always forward order: {names} {verb} children in an order only "
                     "forward() knows (it may reuse a layer, call functions such as F.relu or torch.flatten that "
                     "print(model) does not show, or skip some). The report assumes the printed order there.")
    if flattened:
        notes.append(f"A flatten is assumed before {', '.join(map(where, flattened[:3]))}: the Linear gets a feature "
                     "map, which a custom forward() usually flattens first (torch.flatten(x, 1) or x.view(x.size(0), -1)).")
    if walk.stop:
        notes.append(("T" + walk.stop_note[1:] if walk.stop_note.startswith("the ") else walk.stop_note) + ".")
    return notes


def _planner_rows(walk: Walk, result: Trace) -> tuple[list, list, list[str]]:
    """The walked leaves as planner rows: stand-ins for shape-keeping layers it has no row for, and an Unflatten
    (or a rule layer that breaks) ends them."""
    rows, names, notes, stand_ins = [], [], [], set()
    for i, leaf in enumerate(walk.leaves):
        if i in result.flat_before:
            rows.append(("Flatten", ""))
            names.append(FLATTEN_NAME)
        if leaf.mapping.rule == "unflatten" or (leaf.mapping.planner is None and i == result.failed):
            notes.append(f"The planner has no row for {leaf.kind}, so its table stops before {where(leaf.name)}.")
            break
        kind = leaf.mapping.planner or "ReLU"
        if kind != leaf.kind:
            stand_ins.add(leaf.kind)
        rows.append((kind, argument_text(leaf.values) if leaf.mapping.rule == "planner" else ""))
        names.append(leaf.name)
    if stand_ins:
        notes.insert(0, f"The planner has no row for {', '.join(sorted(stand_ins))}: its table shows the layer it "
                        "follows the shape with instead (the same shape).")
    return rows, names, notes


def _passes(leaves: Sequence[Leaf], shape: Shape, upto: int | None, memo: dict) -> bool:
    """Whether the leaves up to `upto` (all: None) work on `shape`; False once the formulas' budget is spent."""
    if len(memo) > limits.MAX_DEBUG_SIZE_STEPS:
        return False
    return trace(leaves[:upto + 1] if upto is not None else leaves, shape, memo).failed is None


def debug_model(text: str, input_shape: tuple[int, ...]) -> DebugReport:
    """Follow `input_shape` through the text of print(model); ConvConfigError when the text or shape is unusable.

    >>> text = "Sequential(\\n  (0): Flatten(start_dim=1, end_dim=-1)\\n  (1): Linear(in_features=100, out_features=10)\\n)"
    >>> report = debug_model(text, (1, 1, 28, 28))
    >>> report.broken, report.fix
    ('1', 'Linear(in_features=784, …): model[1] gets 784 features from (1, 784)')
    """
    shape = check_input(input_shape)
    try:
        tree = parse_repr(text)
    except ReprError as exc:
        raise ConvConfigError("model", str(exc), "paste exactly what print(model) shows") from None
    walk = collect(tree)
    memo: dict = {}
    result = trace(walk.leaves, shape, memo)
    shapes = {leaf.name: out for leaf, out in zip(walk.leaves, result.shapes)}
    notes = _notes(walk, [walk.leaves[i].name for i in sorted(result.flat_before)])
    broken = suspect = fix = None
    why = kind = ""
    stopped_at = walk.stop
    failed_at, torch_error = torch_check(shape, result.frozen)
    formula_at = len(result.frozen) - 1 if result.failed is not None else None
    if isinstance(result.error, WorkCapError):
        leaf = walk.leaves[result.failed]
        stopped_at, formula_at = leaf.name, None
        notes.append(f"The report stops at {where(leaf.name)} ({leaf.kind}): {result.error.why} — a work cap of Conv Lab, "
                     "not an error of torch.")
    elif result.error is not None:
        leaf = walk.leaves[result.failed]
        why, kind = result.error.why, leaf.kind
        fix = fix_sentence(leaf, result.error, result.in_shape, walk.leaves, result.failed, shape,
                           lambda candidate, upto: _passes(walk.leaves, candidate, upto, memo))
        if leaf.assumed:
            suspect = leaf.name
            notes.append(f"If forward() runs the layers in printed order, {where(leaf.name)} ({leaf.kind}) breaks: {why}. "
                         "Check forward() before changing it.")
        else:
            broken = leaf.name
    if failed_at is not None and failed_at == formula_at:
        torch_error = cpu_message(result.frozen[failed_at], result.in_shape) or torch_error
    if failed_at != formula_at:
        places = [result.names[i] if i is not None else "nowhere" for i in (formula_at, failed_at)]
        notes.append(f"Conv Lab's formula and torch disagree (formula: {places[0]}, torch: {places[1]} — {torch_error}). "
                     "Please report this model.")
    rows, row_names, row_notes = _planner_rows(walk, result)
    if len(shape) != 4:
        row_notes.append("The network planner takes (N, C, H, W) inputs: this model is checked here but not loaded "
                         "into its table.")
    return DebugReport(shape, shapes, broken, fix, tuple(notes + row_notes), suspect, why, kind,
                       torch_error if failed_at is not None else "", stopped_at, tuple(rows), tuple(row_names),
                       {leaf.name: (leaf.kind, leaf.values) for leaf in walk.leaves})
