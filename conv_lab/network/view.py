"""What the planner page shows, as plain data: the shape-flow table and the skip verdicts (no Streamlit here)."""

from __future__ import annotations

from conv_lab.network.debug import DebugReport
from conv_lab.network.debug_walk import where
from conv_lab.network.flow import SkipReport, crop_text
from conv_lab.network.plan import NetworkPlan
from conv_lab.network.shapes import describe
from conv_lab.network.torch_run import TorchRun

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


def flow_table(plan: NetworkPlan, run: TorchRun | None = None, names: list[str] | None = None) -> list[dict]:
    """One dict per layer: shapes by the formula and by torch, costs, receptive field, status and message (and the
    pasted model's module name of each row, when `names` are given).

    >>> from conv_lab.network.plan import plan
    >>> flow_table(plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3")]))[0]["output (formula)"]
    '(1, 2, 6, 6)'
    """
    rows = []
    for r in plan.rows:
        torch_shape = ""
        if run is not None and r.index <= len(run.shapes):
            torch_shape = describe(run.shapes[r.index - 1])
        elif run is not None and run.failed == r.index:
            torch_shape = "✗ " + run.error
        formula = describe(r.out_shape) if r.out_shape and r.status == "ok" else ""
        if r.status == "broken":
            formula = "✗ breaks"
        agree = ""
        if run is not None and r.over_cap:
            agree = "—"
        elif run is not None and r.status != "not reached":
            agree = "✓" if (formula == torch_shape or (r.status == "broken" and run.failed == r.index)) else "✗"
        message = f"{r.param}: {r.message}" + (f" — fix: {r.fix}" if r.fix else "") if r.status == "broken" else r.note
        module = {"module": names[r.index - 1]} if names and len(names) == len(plan.rows) else {}
        rows.append({"#": r.index, **module, "layer": r.layer, "arguments": r.arguments,
                     "input": describe(r.in_shape) if r.in_shape else "", "output (formula)": formula,
                     "output (torch)": torch_shape, "agree": agree,
                     "params": f"{r.params:,}" if r.status == "ok" else "",
                     "MACs": f"{r.macs:,}" if r.status == "ok" else "",
                     "receptive field": r.receptive_field, "status": r.status, "message": message})
    return rows


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
