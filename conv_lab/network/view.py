"""What the planner page shows, as plain data: the shape-flow table and the skip verdicts (no Streamlit here)."""

from __future__ import annotations

import torch

from conv_lab.network.debug import DebugReport
from conv_lab.network.debug_walk import where
from conv_lab.network.flow import SkipReport, crop_text
from conv_lab.network.links import layer_query
from conv_lab.network.plan import NetworkPlan
from conv_lab.network.shapes import Shape, describe
from conv_lab.network.torch_run import NOT_RUN, TorchRun, freeze, merge, run_frozen

# "Try a sample" on the planner page: print(model) of a LeNet whose classifier was sized for 28×28 MNIST
# (16·4·4 = 256 features) and is fed 32×32 (16·5·5 = 400). tests/test_debug_model.py checks it is torch's own repr.
SAMPLE_SHAPE = "1, 1, 32, 32"
SAMPLE_MODEL = """Sequential(
  (features): Sequential(
    (0): Conv2d(1, 6, kernel_size=(5, 5), stride=(1, 1))
    (1): ReLU()
    (2): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
    (3): Conv2d(6, 16, kernel_size=(5, 5), stride=(1, 1))
    (4): ReLU()
    (5): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
  )
  (flatten): Flatten(start_dim=1, end_dim=-1)
  (classifier): Sequential(
    (0): Linear(in_features=256, out_features=120, bias=True)
    (1): ReLU()
    (2): Linear(in_features=120, out_features=84, bias=True)
    (3): ReLU()
    (4): Linear(in_features=84, out_features=10, bias=True)
  )
)"""


def debug_verdict(report: DebugReport) -> tuple[str, str]:
    """(level, Markdown) for a pasted model's report: error, warning, info or success.

    >>> from conv_lab.network.debug import debug_model
    >>> debug_verdict(debug_model(SAMPLE_MODEL, (1, 1, 32, 32)))[1].splitlines()[0][:50]
    '**classifier.0 (Linear) breaks** — Linear expects '
    """
    said = f"  \ntorch says: `{report.torch_error}`" if report.torch_error else ""
    if report.broken:
        return "error", f"**{where(report.broken)} ({report.kind}) breaks** — {report.why}.  \n**Fix:** {report.fix}{said}"
    if report.suspect:
        return "warning", (f"**{where(report.suspect)} ({report.kind}) breaks if forward() runs the layers in printed "
                           f"order** — {report.why}.  \n**Fix:** {report.fix}{said}")
    if report.stopped_at:
        reached = f" (last shape {describe(list(report.shapes.values())[-1])})" if report.shapes else ""
        return "info", f"**The check stops at {where(report.stopped_at)}**{reached}: see the note below."
    if not report.shapes:
        return "info", "The model has no layers to follow."
    return "success", f"**Every layer works**: the output is {describe(report.output_shape)}."


def compact(n: int) -> str:
    """A count in a few characters, so the planner's columns are never cut off.

    >>> compact(9_248), compact(1_343_692_800), compact(46_785_600), compact(151_519_232)
    ('9,248', '1.34 G', '46.8 M', '152 M')
    """
    for unit, size in (("G", 1e9), ("M", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:,}"


def merge_shape(report: SkipReport, source: Shape, x: Shape) -> Shape:
    """The shape torch's own merge gives (on the meta device: no memory).

    >>> from conv_lab.network.flow import Skip
    >>> merge_shape(SkipReport(Skip("add", 0, 1), "ok"), (1, 1, 4, 4), (1, 3, 4, 4))
    (1, 3, 4, 4)
    """
    skip = report.skip
    return tuple(merge(skip.mode, torch.empty(source, device="meta"), torch.empty(x, device="meta"), skip.crop).shape)


def _torch_before_merges(plan: NetworkPlan, run: TorchRun, index: int, merges: list[SkipReport]) -> list[Shape | None]:
    """torch's shape after layer `index` alone, then after each merge. torch's run records only the merged tensor, so
    the layer alone is run again on torch's meta device (an add may broadcast: its own shape cannot be worked back)."""
    row = plan.rows[index - 1]
    before = plan.input_shape if index == 1 else (run.shapes[index - 2] if index - 1 <= len(run.shapes) else None)
    own = None
    if before is not None and row.kind and row.kwargs is not None:
        alone = run_frozen(tuple(before), (freeze(row.kind, row.kwargs),), ())
        own = alone.shapes[0] if alone.shapes else None
    shapes, x = [own], own
    for report in merges[:-1]:  # the tensors between merges: each merge by torch's own rule on the measured shapes
        src = plan.input_shape if report.skip.source == 0 else (
            run.shapes[report.skip.source - 1] if report.skip.source <= len(run.shapes) else None)
        x = None if x is None or src is None else tuple(merge_shape(report, src, x))
        shapes.append(x)
    shapes.append(run.shapes[index - 1] if index <= len(run.shapes) else None)  # the last one torch measured
    return shapes


def _status_word(status: str) -> str:
    """The row's status in words (the row's colour never carries it alone)."""
    return {"broken": "✗ breaks — ", "not reached": "not reached (after the break)"}.get(status, "")


def _links(row) -> dict:
    """The row's conv layer opened in the Shape Lab and the sweep, on the input it gets here (empty for other rows)."""
    query = layer_query(row)
    return {"Shape Lab": f"/?{query}" if query else "", "sweep": f"/sweep?{query}" if query else ""}  # "": no link


def flow_table(plan: NetworkPlan, run: TorchRun | None = None, names: list[str] | None = None) -> list[dict]:
    """One dict per layer, and one per skip merged after it (issue 16: a concatenation is its own row, so a layer's
    output is its own): shapes by the formula and by torch, costs, receptive field, status and message (and the
    pasted model's module name of each row, when `names` are given).

    >>> from conv_lab.network.plan import plan
    >>> flow_table(plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3")]))[0]["output (formula)"]
    '(1, 2, 6, 6)'
    >>> from conv_lab.network.flow import Skip
    >>> rows = flow_table(plan((1, 4, 8, 8), [("Conv2d", "out_channels=2, kernel_size=1")], [Skip("cat", 0, 1)]))
    >>> [(r["#"], r["layer"], r["output (formula)"]) for r in rows]
    [('1', 'Conv2d', '(1, 2, 8, 8)'), ('1 +', 'concat (skip)', '(1, 6, 8, 8)')]
    """
    rows = []
    for r in plan.rows:
        merges = [m for m in plan.skips if m.skip.target == r.index and m.status == "ok"] if r.status == "ok" else []
        torch_shapes = _torch_before_merges(plan, run, r.index, merges) if run is not None else [None] * (len(merges) + 1)
        torch_shape = ""
        if run is not None and r.index <= len(run.shapes):
            torch_shape = describe(torch_shapes[0]) if torch_shapes[0] else "?"
        elif run is not None and run.failed == r.index:  # the error itself is shown above the table, in full
            torch_shape = "not run (work cap)" if run.error == NOT_RUN else "✗ fails (see above)"
        own = merges[0].target_shape if merges else r.out_shape
        formula = describe(own) if own and r.status == "ok" else ""
        if r.status == "broken":
            formula = "✗ breaks"
        agree = ""
        if run is not None and r.over_cap:
            agree = "—"
        elif run is not None and r.status != "not reached":
            agree = "✓" if (formula == torch_shape or (r.status == "broken" and run.failed == r.index)) else "✗"
        message = f"{r.param}: {r.message}" + (f" — fix: {r.fix}" if r.fix else "") if r.status == "broken" else r.note
        module = {"module": names[r.index - 1]} if names and len(names) == len(plan.rows) else {}
        rows.append({"#": str(r.index), **module, "layer": r.layer, "arguments": r.arguments,
                     "input": describe(r.in_shape) if r.in_shape else "", "output (formula)": formula,
                     "output (torch)": torch_shape, "agree": agree,
                     "params": compact(r.params) if r.status == "ok" else "",
                     "MACs": compact(r.macs) if r.status == "ok" else "",
                     "receptive field": r.receptive_field, "status": r.status,
                     "message": _status_word(r.status) + message,
                     "note": short_note(r.status, _status_word(r.status) + message), **_links(r)})
        for k, m in enumerate(merges, start=1):
            merged, by_torch = describe(m.merged_shape), describe(torch_shapes[k]) if torch_shapes[k] else ""
            crop = f", cropped {crop_text(m.crop_box)}" if m.crop_box else ""
            what = "concatenated on channels" if m.skip.mode == "cat" else "added"
            rows.append({"#": f"{r.index} +", **({"module": ""} if module else {}),
                         "layer": "concat (skip)" if m.skip.mode == "cat" else "add (skip)",
                         "arguments": m.skip.label(), "input": f"{describe(m.target_shape)} + {describe(m.source_shape)}",
                         "output (formula)": merged, "output (torch)": by_torch,
                         "agree": "" if run is None else ("✓" if merged == by_torch else "✗"), "params": "0", "MACs": "0",
                         "receptive field": r.receptive_field, "status": "ok",
                         "message": f"point {m.skip.source} {what}{crop}",
                         "note": short_note("ok", f"point {m.skip.source} {what}{crop}"), "Shape Lab": "", "sweep": ""})
    return rows


# The flow table's columns as shown (the data keeps "input", "status" and the full "message" too, for tests and the row
# colours). Issue 16: at 1366 px the message was cut off and pushed params, MACs and the receptive field out of view;
# now every column is sized to its text and the message column holds a few words, each long message listed in full
# under the table.
FLOW_COLUMNS = ("module", "layer", "output (formula)", "output (torch)", "agree", "note", "params", "MACs",
                "receptive field", "Shape Lab", "sweep")
NOTE_CHARS = 16  # a message up to this long shows in the table itself
CELL_PADDING = 22  # px around a grid cell's text
# Streamlit's grid draws 14 px Source Sans: measured on its screenshots, digits ~6.7 px, punctuation and spaces 3-4.5,
# lower-case letters ~6.3, capitals ~8.3 ("(1, 32, 16, 112, 112)" is 109 px, "AdaptiveAvgPool3d" 114 px); a little more
# here, so a column is never short
_NARROW = {",": 3.5, ".": 3.5, " ": 3.2, "(": 4.4, ")": 4.4, "×": 7.0, "✓": 9.0, "✗": 9.0, "↓": 8.0}


def text_px(text: str) -> float:
    """The width in pixels of `text` in Streamlit's grid (an estimate from measured character widths).

    >>> round(text_px("(1, 32, 16, 112, 112)")), round(text_px("AdaptiveAvgPool3d"))
    (110, 116)
    """
    return sum(_NARROW.get(c, 6.8 if c.isdigit() else 8.3 if c.isupper() else 6.5) for c in text)


def short_note(status: str, message: str) -> str:
    """The few words the note column shows: the message when it fits, else what kind of message waits below.

    >>> short_note("ok", "point 4 added"), short_note("broken", "✗ breaks — kernel too big"), short_note("ok", "x" * 40)
    ('point 4 added', '✗ breaks ↓', 'note ↓')
    """
    if len(message) <= NOTE_CHARS:
        return message
    return {"broken": "✗ breaks ↓", "not reached": "not reached"}.get(status, "note ↓")


def flow_widths(table) -> dict[str, int]:
    """Pixel width per column shown: its longest text or header, so nothing is cut off (`table`: the flow frame). The
    note column is left out when no row has a note, the module column when no model was pasted.

    >>> import pandas as pd
    >>> flow_widths(pd.DataFrame([{"layer": "ConvTranspose2d", "agree": "✓", "note": "", "sweep": "/sweep?input=3x8x8"}]))
    {'layer': 123, 'agree': 54, 'sweep': 54}
    """
    widths = {}
    for column in (c for c in FLOW_COLUMNS if c in table.columns):
        texts = ["open"] if column in LINK_COLUMNS else [str(v) for v in table[column]]  # links show "open"
        if column == "note" and not any(texts):
            continue
        widths[column] = int(max(map(text_px, [*texts, HEADERS.get(column, column)])) + CELL_PADDING)
    return widths


HEADERS = {"receptive field": "RF"}  # short headers for wide names
LINK_COLUMNS = ("Shape Lab", "sweep")


def row_style(row) -> list[str]:
    """CSS per cell of a flow row: broken rows red and bold, rows past the break grey (their words say so too)."""
    if row["status"] == "broken":
        return ["background-color: #fde2e2; color: #8a1c1c; font-weight: 600"] * len(row)
    if row["status"] == "not reached":
        return ["color: #6b6b6b; background-color: #f4f4f4"] * len(row)
    return [""] * len(row)


def long_messages(table, width: int = NOTE_CHARS) -> list[tuple[str, str]]:
    """(row label, message) of the flow rows whose message is longer than the note column shows (`table`: by "#").

    >>> import pandas as pd
    >>> long_messages(pd.DataFrame([{"#": "4", "layer": "Conv2d", "message": "x" * 80}]).set_index("#"))[0][0]
    'layer 4 (Conv2d)'
    """
    return [(f"{row['layer']} after layer {label[:-2]}" if label.endswith(" +") else f"layer {label} ({row['layer']})",
             row["message"]) for label, row in table.iterrows()
            if len(row["message"]) > width and row.get("status") != "not reached"]


def skip_verdict(report: SkipReport) -> tuple[str, str]:
    """(level, text) for one skip: level is success, error, warning or info.

    >>> from conv_lab.network.flow import Skip
    >>> skip_verdict(SkipReport(Skip("add", 4, 9), "ok", (1, 8, 4, 4), (1, 8, 4, 4), (1, 8, 4, 4)))[0]
    'success'
    """
    label = report.skip.label()
    if report.status == "ok":
        crop = ""
        if report.crop_box:
            crop = f" after centre-cropping the skip by {crop_text(report.crop_box)}"
        return "success", (f"**{label}** fits{crop}: {describe(report.source_shape)} and {describe(report.target_shape)} "
                           f"→ {describe(report.merged_shape)}")
    if report.status == "mismatch":
        fixes = "".join(f"\n- {fix}" for fix in report.fixes)
        return "error", f"**{label}** does not fit — {report.message}. Fixes that work:{fixes}"
    if report.status == "invalid":
        return "warning", f"**{label}** is ignored: {report.message}"
    return "info", f"**{label}** is not reached: {report.message}"
