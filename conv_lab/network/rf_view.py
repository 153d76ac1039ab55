"""What the planner's receptive-field section shows, as plain data: the rows, a summary, the picture and its words."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from conv_lab.byte_cache import byte_lru_cache
from conv_lab.core.params import AXES
from conv_lab.network.plan import NetworkPlan
from conv_lab.network.plan import plan as make_plan
from conv_lab.network.receptive import BoxRow, Choice, input_field, walk
from conv_lab.network.rf_measure import SWAP_NOTE, allowed_work, measure, over_cap
from conv_lab.network.rf_picture import HOLE, rf_png, view
from conv_lab.network.view import CELL_PADDING, text_px

RF_COLUMNS = ("point", "layer", "map", "first cell", "size", "jump", "note")


def _x(values) -> str:
    return "×".join(str(v) for v in values)


def _jump(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _note(row: BoxRow, picked: bool) -> str:
    if picked:
        return "the picked cell"
    if row.box is None:
        return "no cell: every tap falls between strided cells"
    spill = [_count(max(0, -lo) + max(0, hi - n + 1), AXES[len(row.sizes)][a][2]) for a, ((lo, hi), n) in
             enumerate(zip(row.box, row.sizes)) if lo < 0 or hi >= n]
    whole = "the whole map" if row.whole else ""
    padding = f"reaches into the padding ({', '.join(spill)})" if spill else ""
    return "; ".join(t for t in (whole, padding) if t)


def rf_rows(rows: list[BoxRow]) -> list[dict]:
    """The section's table: per point, its map, the box's first cell, size and jump (cells of that map between the
    boxes of two neighbouring picked cells), and a note.

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3, padding=1, stride=2")])
    >>> [(r["point"], r["first cell"], r["size"], r["jump"]) for r in rf_rows(walk(p, Choice(1, (0, 1))))]
    [('1', '0, 1', '1×1', '1×1'), ('0', '-1, 1', '3×3', '2×2')]
    >>> rf_rows(walk(p, Choice(1, (0, 1))))[1]["note"]
    'reaches into the padding (1 row)'
    """
    return [{"point": str(r.point), "layer": r.layer,
             "map": _x(r.sizes), "first cell": ", ".join(map(str, r.start)) if r.box else "—",
             "size": _x(r.size) if r.box else "0", "jump": _x(_jump(j) for j in r.jump), "note": _note(r, n == 0)}
            for n, r in enumerate(rows)]


def rf_widths(rows: list[dict]) -> dict[str, int]:
    """Pixel width per column of the rows table but the note (which takes the rest): its longest text or header.

    >>> rf_widths([{"point": "15", "layer": "ConvTranspose2d + cat point 9", "map": "272×272", "first cell": "1, 2",
    ...             "size": "7×7", "jump": "1/2×1/2", "note": ""}])["layer"]
    201
    """
    return {c: int(max([text_px(c), *(text_px(str(r[c])) for r in rows)]) + CELL_PADDING) for c in RF_COLUMNS[:-1]}


def _span(a: int, b: int) -> str:
    return f"{a}" if b - a == 1 else f"{a} to {b - 1}"


def summary(plan: NetworkPlan, choice: Choice, rows: list[BoxRow]) -> str:
    """One sentence: which input cells the picked cell sees.

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3, padding=1")])
    >>> print(summary(p, Choice(1, (0, 4)), walk(p, Choice(1, (0, 4)))).split(": ")[1])
    a 3×3 box, jump 1×1, 1 row of it in the padding.
    """
    field = input_field(rows)
    head = f"Cell ({', '.join(map(str, choice.cell))}) of layer {choice.point} ({rows[0].layer})"
    if field is None:
        return f"{head} reads no input cell: each of its taps falls between the strided cells of a transposed layer."
    names = AXES[len(field.start)]
    spans = " × ".join(f"{name[2]}s {_span(a, b)}" for name, a, b in zip(names, field.start, field.stop))
    sizes = tuple(plan.input_shape[2:])
    spill = [_count(max(0, -a) + max(0, b - n), name[2]) for name, a, b, n in zip(names, field.start, field.stop, sizes)
             if a < 0 or b > n]
    whole = all(a <= 0 and b >= n for a, b, n in zip(field.start, field.stop, sizes))
    tail = (" It sees the whole input." if whole else "")
    pad = f", {' and '.join(spill)} of it in the padding" if spill else ""
    return f"{head} sees input {spans}: a {_x(field.size)} box, jump {_x(_jump(j) for j in field.jump)}{pad}.{tail}"


@dataclass(frozen=True)
class Picture:
    """The measured picture (or the message said instead), its alt text and caption."""

    png: bytes | None
    alt: str
    caption: str
    message: str = ""


def picture(plan: NetworkPlan, choice: Choice, grid_px: int | None = None, spent: float = 0.0) -> Picture:
    """The analytic box over the measured support, with words; a plain message when over the cap or nothing is read.
    Remembered per stack up to the picked point and cell (a rerun that moves nothing else measures nothing); `grid_px`:
    the grid's width in pixels (a phone's is narrower), default `rf_picture.GRID_PX`; `spent`: CPU seconds this request
    already spent running torch layers (`TorchRun.cpu_seconds`), which lowers the measurement's cap (`allowed_work`).

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 1, 12, 12), [("Conv2d", "out_channels=2, kernel_size=3, dilation=2")])
    >>> pic = picture(p, Choice(1, (2, 2)))
    >>> pic.png[:4], pic.alt.split(": ")[1]
    (b'\\x89PNG', 'the box rows 2 to 6 × columns 2 to 6 holds 25 cells, the gradient reaches 9 of them (16 holes)')
    """
    rows = tuple((r.kind, r.arguments) for r in plan.rows[:choice.point])
    skips = tuple(m.skip for m in plan.skips if m.status == "ok" and m.skip.target <= choice.point)
    return _picture(plan.input_shape, rows, skips, Choice(choice.point, choice.cell), grid_px, allowed_work(spent))


@byte_lru_cache(max_bytes=8 * 2**20, maxsize=32)
def _picture(input_shape: tuple, rows: tuple, skips: tuple, choice: Choice, grid_px: int | None,
             allowed: int) -> Picture:
    plan = make_plan(input_shape, rows, skips)
    message = over_cap(plan, choice.point, allowed)
    if message:
        return Picture(None, "", "", message)
    rows = walk(plan, choice)
    field = input_field(rows)
    if field is None:
        return Picture(None, "", "", "No input cell to draw: this cell reads none.")
    measured = measure(plan, choice)
    sizes = tuple(plan.input_shape[2:])
    v = view(field, measured.support, grid_px)
    clipped = field.clipped(sizes)
    box = np.zeros(sizes, dtype=bool)
    box[tuple(slice(a, b) for a, b in clipped)] = True
    reached, stray = int((measured.support & box).sum()), int((measured.support & ~box).sum())
    names = AXES[len(sizes)]
    where = " × ".join(f"{n[2]}s {_span(a, b)}" for n, (a, b) in zip(names, clipped))
    alt = (f"Receptive field of cell ({', '.join(map(str, choice.cell))}) of layer {choice.point} ({rows[0].layer}) over "
           f"the {_x(sizes)} input: the box {where} holds {int(box.sum())} cells, the gradient reaches {reached} of them "
           f"({int(box.sum()) - reached} holes)" + (f" and {stray} cells outside it" if stray else ""))
    words = ["Measured: autograd on the real layers rebuilt with one output channel each, positive weights, no bias, "
             "eval mode and an input of ones, so ReLU hides no cell and the support is every input cell a chain of taps "
             "reaches (summed over channels)."]
    if measured.swapped:
        words.append(f"{', '.join(measured.swapped)}: {SWAP_NOTE}.")
    if v.depth is not None:
        words.append(f"Depth slice {v.depth} of {sizes[0]} (the box's centre).")
    if not measured.support.any():
        words.append("The gradient reaches no input cell: every chain of taps from this cell ends in zero padding. The "
                     "box is where those taps would land if the padding were input (Araujo et al.'s unclipped field).")
    elif (v.cats == HOLE).any():
        words.append("Hatched cells are inside the box but no tap chain reaches them: dilation's gridding holes, or "
                     "strides that land on padding.")
    if stray:
        words.append("Cells marked × are outside the box: a reflect, replicate or circular padding reads real cells "
                     "for its padding, so the gradient lands on them.")
    return Picture(rf_png(v, grid_px), alt, " ".join(words))
