"""What the planner page shows, as plain data: the shape-flow table and the skip verdicts (no Streamlit here)."""

from __future__ import annotations

from conv_lab.network.flow import SkipReport, crop_text
from conv_lab.network.plan import NetworkPlan
from conv_lab.network.shapes import describe
from conv_lab.network.torch_run import TorchRun


def flow_table(plan: NetworkPlan, run: TorchRun | None = None) -> list[dict]:
    """One dict per layer: shapes by the formula and by torch, costs, receptive field, status and message.

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
        rows.append({"#": r.index, "layer": r.layer, "arguments": r.arguments,
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
