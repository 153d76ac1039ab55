"""The receptive field of one cell of a planned network, walked back layer by layer (and through skips).

A point is 0 (the input) or i (the tensor after layer i and the skips merged there). For a cell of point P, each
point's row gives the cells of that map the cell depends on (Araujo et al.'s r_l and u_l: size and start, unclipped,
so a negative start reaches into the padding of the layer reading that map) and the jump (that map's cells between
the boxes of two neighbouring cells of point P). Row 0 is the receptive field in the input. Where a skip merges two
branches the box is the hull of both (the skip's centre crop shifts its indices by the cells cut before).
The geometry itself is `conv_lab.core.receptive`, shared with /gradients.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from conv_lab.core.receptive import Adaptive, Pool, ReceptiveField, Resize, WholeAxes, back, jump
from conv_lab.network.codec import RF_CHARS
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import NetworkPlan, PlanRow
from conv_lab.network.shapes import conv_spec

NOT_A_MAP = object()  # a layer after which the tensor is no longer a map of the input's dimension
Interval = tuple[int, int]  # inclusive; hi < lo: no cell


def geometry(row: PlanRow, dims: int) -> Any:
    """What `conv_lab.core.receptive` walks back through for one planned layer (None: same geometry), or NOT_A_MAP.

    >>> from conv_lab.network.plan import plan
    >>> geometry(plan((1, 1, 8, 8), [("MaxPool2d", "kernel_size=2")]).rows[0], 2)
    Pool(kernel_size=2, stride=None, padding=0, dilation=1, ceil_mode=False, dims=2)
    """
    kind = LAYER_KINDS.get(row.kind or "")
    kw = row.kwargs or {}
    if kind is None or (kind.dims and kind.dims != dims):
        return NOT_A_MAP
    if kind.family in ("conv", "transposed"):
        return conv_spec(kind.name, kw)
    if kind.family in ("maxpool", "avgpool"):
        return Pool(kw["kernel_size"], kw.get("stride"), kw.get("padding", 0), kw.get("dilation", 1),
                    bool(kw.get("ceil_mode", False)), dims)
    if kind.family in ("adaptiveavg", "adaptivemax"):
        return Adaptive()
    if kind.family == "upsample":
        return Resize(kw.get("mode", "nearest"), kw.get("scale_factor"), kw.get("align_corners"))
    if kind.family == "linear":
        return WholeAxes((dims - 1,))
    if kind.family == "flatten":
        return None if row.in_shape == row.out_shape else NOT_A_MAP
    return None


def map_points(plan: NetworkPlan) -> list[int]:
    """The points whose tensor is a map of the input's dimension all the way from the input (cells one can pick).

    >>> from conv_lab.network.plan import plan
    >>> map_points(plan((1, 1, 12, 12), [("Conv2d", "out_channels=2, kernel_size=3"), ("Flatten", ""), ("ReLU", "")]))
    [1]
    """
    rank, dims, good = len(plan.input_shape), len(plan.input_shape) - 2, {0}
    for row in plan.rows:
        merges = [m for m in plan.skips if m.skip.target == row.index and m.status == "ok"]
        if (row.status != "ok" or row.index - 1 not in good or len(row.out_shape or ()) != rank
                or geometry(row, dims) is NOT_A_MAP or any(m.skip.source not in good for m in merges)):
            break
        good.add(row.index)
    return sorted(good - {0})


def sizes_at(plan: NetworkPlan, point: int) -> tuple[int, ...]:
    """The spatial sizes of the map at a point.

    >>> from conv_lab.network.plan import plan
    >>> sizes_at(plan((1, 1, 12, 12), [("Conv2d", "out_channels=2, kernel_size=3")]), 1)
    (10, 10)
    """
    return tuple((plan.input_shape if point == 0 else plan.rows[point - 1].out_shape)[2:])


def default_point(plan: NetworkPlan) -> int | None:
    """The point a cell is picked on by default: the last map with more than one cell (else the last map).

    >>> from conv_lab.network.plan import plan
    >>> default_point(plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3"),
    ...                                   ("AdaptiveAvgPool2d", "output_size=1")]))
    1
    """
    points = map_points(plan)
    big = [p for p in points if any(n > 1 for n in sizes_at(plan, p))]
    return (big or points or [None])[-1]


@dataclass(frozen=True)
class Choice:
    """The cell picked: its point, index and the notices a link's value gave."""

    point: int
    cell: tuple[int, ...]
    notices: tuple[str, ...] = ()

    def text(self, plan: NetworkPlan) -> str:
        """The `rf=` value: the cell, and `@point` unless it is the default point ('' for the default cell there).

        >>> from conv_lab.network.plan import plan
        >>> p = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3"), ("ReLU", "")])
        >>> Choice(2, (1, 4)).text(p), Choice(1, (0, 0)).text(p), Choice(2, (3, 3)).text(p)
        ('1,4', '0,0@1', '')
        """
        default = default_point(plan)
        if self.point == default and self.cell == tuple(n // 2 for n in sizes_at(plan, default)):
            return ""
        return ",".join(map(str, self.cell)) + ("" if self.point == default else f"@{self.point}")


_WHOLE = re.compile(r"^\s*[+-]?\d{1,9}\s*$")


def choose(plan: NetworkPlan, text: Any) -> Choice | None:
    """The cell an `rf=` value names ('3,5', or '3,5@7' for point 7), clamped into the map; bad parts fall back to
    the default point and its centre cell, each with a notice. None when the plan has no map to pick from.

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3")])
    >>> choose(p, "2,3"), choose(p, "")
    (Choice(point=1, cell=(2, 3), notices=()), Choice(point=1, cell=(3, 3), notices=()))
    >>> choose(p, "9,1@4").notices
    ('rf: point 4 is not a map one can pick a cell of (points 1 to 1); using 1', 'rf: index 9 is outside 0..5; using 5')
    """
    points, notices = map_points(plan), []
    if not points:
        return None
    raw = str(text or "").strip()
    if len(raw) > RF_CHARS:
        notices.append(f"rf= is {len(raw)} characters long (cap {RF_CHARS}); using the default cell")
        raw = ""
    cell_text, _, at_text = raw.partition("@")
    point = default_point(plan)
    if at_text.strip():
        if not _WHOLE.match(at_text):
            notices.append(f"rf: '@{at_text.strip()[:20]}' is not a layer number; using {point}")
        elif int(at_text) not in points:
            wanted = int(at_text)
            point = max([p for p in points if p <= wanted] or [points[0]])
            notices.append(f"rf: point {wanted} is not a map one can pick a cell of (points {points[0]} to "
                           f"{points[-1]}); using {point}")
        else:
            point = int(at_text)
    sizes = sizes_at(plan, point)
    centre = tuple(n // 2 for n in sizes)
    if not cell_text.strip():
        return Choice(point, centre, tuple(notices))
    parts = [p for p in re.split(r"[,;x×\s]+", cell_text.strip()) if p]
    if not all(_WHOLE.match(p) for p in parts):
        notices.append(f"rf: '{cell_text.strip()[:30]}' is not a cell like {','.join(['3'] * len(sizes))}; "
                       f"using the centre cell")
        return Choice(point, centre, tuple(notices))
    if len(parts) != len(sizes):
        notices.append(f"rf: '{cell_text.strip()[:30]}' has {len(parts)} indices, but the map at point {point} has "
                       f"{len(sizes)} dimensions; using the centre cell")
        return Choice(point, centre, tuple(notices))
    cell = []
    for value, n in zip((int(p) for p in parts), sizes):
        cell.append(min(max(value, 0), n - 1))
        if cell[-1] != value:
            notices.append(f"rf: index {value} is outside 0..{n - 1}; using {cell[-1]}")
    return Choice(point, tuple(cell), tuple(notices))


@dataclass(frozen=True)
class BoxRow:
    """The cells of the map at one point that the picked cell depends on (None: none), and that map's jump."""

    point: int
    layer: str
    sizes: tuple[int, ...]
    box: tuple[Interval, ...] | None
    jump: tuple[Fraction, ...]

    @property
    def start(self) -> tuple[int, ...]:
        """First cell per axis (negative: in the padding)."""
        return tuple(lo for lo, _ in self.box) if self.box else ()

    @property
    def size(self) -> tuple[int, ...]:
        """Cells per axis, from the first to the last (padding included)."""
        return tuple(hi - lo + 1 for lo, hi in self.box) if self.box else ()

    @property
    def whole(self) -> bool:
        """Whether the box covers the whole map."""
        return bool(self.box) and all(lo <= 0 and hi >= n - 1 for (lo, hi), n in zip(self.box, self.sizes))


def _hull(a: tuple[Interval, ...] | None, b: tuple[Interval, ...]) -> tuple[Interval, ...]:
    return b if a is None else tuple((min(x[0], y[0]), max(x[1], y[1])) for x, y in zip(a, b))


def _broadcast(box: tuple[Interval, ...], sizes: tuple[int, ...], merged: tuple[int, ...], shift=None):
    """A merged tensor's box on one of its two inputs: shifted by a crop, or cell 0 where that input broadcasts."""
    shift = shift or (0,) * len(box)
    return tuple((0, 0) if n == 1 and m > 1 else (lo + s, hi + s) for (lo, hi), n, m, s in zip(box, sizes, merged, shift))


def walk(plan: NetworkPlan, choice: Choice) -> list[BoxRow]:
    """Rows from the picked point down to the input: each map's box (unclipped) and jump.

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 1, 9, 9), [("Conv2d", "out_channels=1, kernel_size=3, padding=1"), ("ReLU", ""),
    ...                         ("Conv2d", "out_channels=1, kernel_size=3, stride=2, dilation=2")])
    >>> [(r.point, r.start, r.size, str(r.jump[0])) for r in walk(p, Choice(3, (1, 0)))]
    [(3, (1, 0), (1, 1), '1'), (2, (2, 0), (5, 5), '2'), (1, (2, 0), (5, 5), '2'), (0, (1, -1), (7, 7), '2')]
    """
    dims = len(plan.input_shape) - 2
    boxes: dict[int, tuple[Interval, ...] | None] = {choice.point: tuple((c, c) for c in choice.cell)}
    jumps: dict[int, tuple[Fraction, ...]] = {choice.point: (Fraction(1),) * dims}
    rows = []
    for point in range(choice.point, -1, -1):
        box, jumped = boxes.get(point), jumps.get(point)
        if jumped is None:  # a point the picked cell does not depend on (bypassed by a skip)
            continue
        row = plan.rows[point - 1] if point else None
        joins = [f" + {m.skip.mode} point {m.skip.source}" for m in plan.skips
                 if m.skip.target == point and m.status == "ok"]
        rows.append(BoxRow(point, (row.layer + "".join(joins)) if row else "input", sizes_at(plan, point),
                           box if box and all(lo <= hi for lo, hi in box) else None, jumped))
        if row is None:
            break
        merged = sizes_at(plan, point)
        raw = merged
        for m in reversed([m for m in plan.skips if m.skip.target == point and m.status == "ok"]):
            raw = tuple(m.target_shape[2:])
            source = tuple(m.source_shape[2:])
            crop = tuple(m.crop_box[2 * a] for a in range(dims)) if m.crop_box else None
            cropped = tuple(n - m.crop_box[2 * a] - m.crop_box[2 * a + 1] for a, n in enumerate(source)) \
                if m.crop_box else source
            if rows[-1].box:
                boxes[m.skip.source] = _hull(boxes.get(m.skip.source), _broadcast(box, cropped, merged, crop))
                box = _broadcast(box, raw, merged)
            jumps[m.skip.source] = tuple(min(a, b) for a, b in zip(jumps.get(m.skip.source, jumped), jumped))
            merged = raw
        layer = geometry(row, dims)
        before = sizes_at(plan, point - 1)
        if rows[-1].box:
            walked = tuple(back(layer, a, lo, hi, before[a], raw[a]) for a, (lo, hi) in enumerate(box))
            if all(lo <= hi for lo, hi in walked):
                boxes[point - 1] = _hull(boxes.get(point - 1), walked)
        step = tuple(jumped[a] * jump(layer, a, before[a], raw[a]) for a in range(dims))
        jumps[point - 1] = tuple(min(a, b) for a, b in zip(jumps.get(point - 1, step), step))
    return rows


def input_field(rows: list[BoxRow]) -> ReceptiveField | None:
    """The receptive field in the input (the last row), half-open and unclipped; None when no input cell is read.

    >>> input_field([BoxRow(0, "input", (8,), ((-1, 2),), (Fraction(2),))])
    ReceptiveField(start=(-1,), stop=(3,), jump=(Fraction(2, 1),))
    """
    last = rows[-1]
    if last.point != 0 or not last.box:
        return None
    return ReceptiveField(last.start, tuple(hi + 1 for _, hi in last.box), last.jump)
