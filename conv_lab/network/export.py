"""A planned stack as runnable PyTorch code: nn.Sequential with a shape comment on every line."""

from __future__ import annotations

from conv_lab.core.code import layer_code
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import NetworkPlan, PlanRow
from conv_lab.network.shapes import describe
from conv_lab.network.torch_run import causal_left

_SKIP_HELPERS = '''

def centre_crop(skip, like):
    """Cut the centre of `skip` to the spatial sizes of `like` (as the U-Net paper crops its skips)."""
    for axis in range(2, skip.dim()):
        skip = skip.narrow(axis, (skip.shape[axis] - like.shape[axis]) // 2, like.shape[axis])
    return skip


class Net(nn.Module):
    """The layers in order; after layer `target` the tensor at point `source` is concatenated or added."""

    # (mode, source point, target point, centre-crop); point 0 is the input, point i the output of layer i
    SKIPS = {skips}

    def __init__(self, layers):
        super().__init__()
        self.layers = layers

    def forward(self, x):
        points = [x]
        for i, layer in enumerate(self.layers, start=1):
            x = layer(x)
            for mode, source, target, crop in self.SKIPS:
                if target == i:
                    skip = points[source]
                    if crop and 3 <= skip.dim() == x.dim() <= 5 and all(
                            a >= b for a, b in zip(skip.shape[2:], x.shape[2:])):
                        skip = centre_crop(skip, x)
                    x = torch.cat([skip, x], dim=1) if mode == "cat" else x + skip
            points.append(x)
        return x
'''


def _line(row: PlanRow, plan: NetworkPlan) -> str:
    merges = [s for s in plan.skips if s.skip.target == row.index and s.status == "ok"]
    if row.status == "not reached":
        prefix = "nn." if row.layer in LAYER_KINDS else ""
        return f"    # {prefix}{row.layer}({row.arguments}),  # {row.index}: not reached (a layer above breaks)"
    if row.kwargs is None:
        return f"    # row {row.index}: {row.layer!r} {row.arguments!r} — {row.message}"
    code, causal = layer_code(row.kind, row.kwargs) + ",", ""
    # padding='causal' as PyTorch users write it: zeros on the left, then the plain conv
    if row.kwargs.get("padding") == "causal" and row.kwargs.get("padding_mode", "zeros") == "zeros":
        left = causal_left(row.kwargs)
        conv = layer_code(row.kind, {k: v for k, v in row.kwargs.items() if k != "padding"})
        code, causal = f"nn.Sequential(nn.ConstantPad1d(({left}, 0), 0.0), {conv}),", f" (causal: {left} zeros left)"
    if row.status == "broken":
        return f"    {code}  # {row.index}: {describe(row.in_shape)} -> ✗ torch fails here: {row.message}"
    own = describe(merges[0].target_shape) if merges else describe(row.out_shape)
    after = "".join(f", {m.skip.mode} point {m.skip.source}" + (" (cropped)" if m.crop_box else "") +
                    f" -> {describe(m.merged_shape)}" for m in merges)
    return f"    {code}  # {row.index}: {describe(row.in_shape)} -> {own}{after}{causal}"


def export_code(plan: NetworkPlan) -> str:
    """Runnable code: the layers (and skips, as a small nn.Module) with shapes in comments, then a zero-tensor run.

    >>> from conv_lab.network.plan import plan
    >>> print(export_code(plan((1, 1, 8, 8), [("Conv2d", "out_channels=2, kernel_size=3"), ("ReLU", "")])))
    import torch
    from torch import nn
    <BLANKLINE>
    # input: (1, 1, 8, 8)
    layers = nn.Sequential(
        nn.Conv2d(in_channels=1, out_channels=2, kernel_size=3),  # 1: (1, 1, 8, 8) -> (1, 2, 6, 6)
        nn.ReLU(),  # 2: (1, 2, 6, 6) -> (1, 2, 6, 6)
    )
    model = layers
    <BLANKLINE>
    x = torch.zeros(1, 1, 8, 8)
    y = model(x)
    print(y.shape)  # torch.Size([1, 2, 6, 6])
    """
    skips = [(s.skip.mode, s.skip.source, s.skip.target, s.skip.crop) for s in plan.skips if s.status != "invalid"]
    lines = ["import torch", "from torch import nn"]
    if skips:
        lines += _SKIP_HELPERS.replace("{skips}", repr(skips)).split("\n")
    lines += ["", f"# input: {describe(plan.input_shape)}", "layers = nn.Sequential("]
    lines += [_line(row, plan) for row in plan.rows]
    lines += [")", "model = Net(layers)" if skips else "model = layers", ""]
    lines.append(f"x = torch.zeros({', '.join(map(str, plan.input_shape))})")
    lines.append("y = model(x)")
    if plan.ok:
        lines.append(f"print(y.shape)  # torch.Size([{', '.join(map(str, plan.output_shape))}])")
    else:
        lines.append(f"print(y.shape)  # raises at layer {plan.broken}: fix it in the planner first")
    return "\n".join(lines)
