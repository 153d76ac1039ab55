"""The planner's input in 1-D, 2-D or 3-D: its fields, caps, a resize when the dimension changes, and the stack's
1-D/2-D/3-D layers turned into the new dimension (Conv2d → Conv1d) so a switch keeps the stack's meaning."""

from __future__ import annotations

from typing import Any, Sequence

from conv_lab import limits
from conv_lab.core.code import argument_text
from conv_lab.core.params import AXES, DIMS
from conv_lab.network.layers import LAYER_KINDS, LayerKind
from conv_lab.network.plan import Row, parse_rows

DIM_LABELS = {1: "1-D (N, C, L)", 2: "2-D (N, C, H, W)", 3: "3-D (N, C, D, H, W)"}
_LINEAR_MODE = {1: "linear", 2: "bilinear", 3: "trilinear"}


def input_fields(dims: int) -> list[tuple[str, str, int]]:
    """(field name, label, cap) of each number in a `dims` input: batch, channels, then L; H, W; or D, H, W.

    >>> [label for _, label, _ in input_fields(1)], input_fields(3)[2]
    (['Batch N', 'Channels C', 'Length L'], ('depth', 'Depth D', 256))
    """
    sizes = [(axis, f"{axis.capitalize()} {sym}", limits.MAX_SPATIAL_BY_DIMS[dims]) for axis, sym, _ in AXES[dims]]
    return [("batch", "Batch N", limits.MAX_BATCH), ("channels", "Channels C", limits.MAX_CHANNELS), *sizes]


def dims_of_label(label: Any, default: int = 2) -> int:
    """The dimension a control label stands for.

    >>> dims_of_label("3-D (N, C, D, H, W)"), dims_of_label(None)
    (3, 2)
    """
    return next((n for n, text in DIM_LABELS.items() if text == label), default)


def resize_input(shape: Sequence[int], dims: int) -> tuple[int, ...]:
    """The input in `dims` dimensions, keeping batch, channels and the last size (within the new caps).

    >>> resize_input((1, 3, 32, 32), 1), resize_input((1, 1, 16000), 3), resize_input((1, 3, 16, 112, 112), 2)
    ((1, 3, 32), (1, 1, 16, 256, 256), (1, 3, 112, 112))
    """
    last = min(int(shape[-1]), limits.MAX_SPATIAL_BY_DIMS[dims])
    sizes = {1: (last,), 2: (last, last), 3: (min(16, last), last, last)}[dims]
    return (int(shape[0]), int(shape[1]), *sizes)


def _resized(value: Any, n: int) -> Any:
    if not isinstance(value, tuple) or len(value) == n:
        return value
    return value[-n:] if len(value) > n else (value[0],) * (n - len(value)) + value


def _converted(kind: LayerKind, values: dict, dims: int) -> tuple[str, dict]:
    mode = values.get("mode")
    if kind.name == "Upsample" and mode in (*_LINEAR_MODE.values(), "bicubic"):
        values = {**values, "mode": "bicubic" if dims == 2 and mode == "bicubic" else _LINEAR_MODE[dims]}
    if not kind.dims or kind.dims == dims:
        return kind.name, values
    new = LAYER_KINDS[kind.name[:-2] + f"{dims}d"]
    out = {}
    for name, value in values.items():
        arg = new.arg(name)
        if value == "causal" and dims != 1:
            value = "same"
        out[name] = _resized(value, dims) if arg.dims == dims else value
    return new.name, out


def convert_rows(rows: Sequence[Row], dims: int) -> tuple[list[Row], list[str]]:
    """Rows with each 1-D/2-D/3-D layer in its `dims` form (sizes per dimension resized); rows that do not parse stay.

    >>> convert_rows([("Conv2d", "out_channels=6, kernel_size=(3, 5)"), ("ReLU", "")], 1)
    ([('Conv1d', 'out_channels=6, kernel_size=5'), ('ReLU', '')], ['layers now 1-D: Conv2d → Conv1d (layer 1)'])
    """
    if dims not in DIMS:
        return list(rows), []
    out, changed = [], []
    for i, (row, parsed) in enumerate(zip(rows, parse_rows(rows)), start=1):
        if not isinstance(parsed, tuple):
            out.append(row)
            continue
        name, values = _converted(LAYER_KINDS[parsed[0]], parsed[1], dims)
        values = {k: v[0] if isinstance(v, tuple) and len(v) == 1 else v for k, v in values.items()}
        if (name, values) == parsed:
            out.append(row)
            continue
        out.append((name, argument_text(values)))
        changed.append((parsed[0], name, i))
    notices = []
    if changed:
        pairs = sorted({(a, b) for a, b, _ in changed})
        which = ", ".join(str(i) for _, _, i in changed)
        notices.append(f"layers now {dims}-D: " + ", ".join(f"{a} → {b}" for a, b in pairs) +
                       f" (layer{'s' if len(changed) > 1 else ''} {which})")
    return out, notices


def edited_rows(rows: Sequence[Row], edits: Any) -> list[Row]:
    """The layer table as the user left it: a data editor's edits (edited, added, deleted rows) applied to `rows`.

    >>> edited_rows([("ReLU", ""), ("Flatten", "")], {"edited_rows": {1: {"arguments": "start_dim=2"}},
    ...                                                "added_rows": [{"layer": "Linear"}], "deleted_rows": [0]})
    [('Flatten', 'start_dim=2'), ('Linear', '')]
    """
    edits = edits if isinstance(edits, dict) else {}
    table = [list(r) for r in rows]
    for i, change in (edits.get("edited_rows") or {}).items():
        if str(i).isdigit() and int(i) < len(table) and isinstance(change, dict):
            table[int(i)] = [change.get("layer", table[int(i)][0]), change.get("arguments", table[int(i)][1])]
    table += [[r.get("layer") or "", r.get("arguments") or ""] for r in edits.get("added_rows") or [] if isinstance(r, dict)]
    deleted = set(edits.get("deleted_rows") or [])
    return [(r[0] or "", r[1] or "") for i, r in enumerate(table) if i not in deleted]
