"""The measured receptive field: which input cells the gradient of one output cell reaches, by autograd on the
planner's real torch layers (skips included), built so that nothing hides a cell.

The measurement is structural: every conv has one output channel (its input channels as the stack gives them, so a
concatenation still doubles them), weights of 1/taps and no bias; BatchNorm, Dropout and everything else run in eval
mode; the input is all ones. Every activation is then positive, so ReLU passes every path and no two paths cancel: the
non-zero support of ∂out[cell]/∂x (summed over channels) is exactly the set of input cells some chain of taps reaches.
Max pooling would pass the gradient to one cell per window, so it is measured as a window sum of the same geometry
(kernel, stride, padding, dilation, ceil_mode) and adaptive max pooling as adaptive average pooling. The gradient is
rescaled at every point by a positive factor (its support does not change) so that float64 never underflows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from conv_lab import limits
from conv_lab.core.params import as_sizes
from conv_lab.core.shapes import pool_out
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import NetworkPlan, PlanRow
from conv_lab.network.receptive import Choice, sizes_at
from conv_lab.network.torch_run import build_layer, merge

SWAP_NOTE = ("max pooling passes the gradient to one cell per window (the largest), so the measurement runs it as "
             "a window sum of the same geometry (average pooling)")


class WindowSum(nn.Module):
    """Average pooling of a max pool's exact geometry (dilation and ceil_mode too), as a conv with equal weights.

    >>> WindowSum(1, (3,), (2,), (1,), (1,), True)(torch.ones(1, 2, 6, dtype=torch.float64)).shape
    torch.Size([1, 2, 4])
    """

    def __init__(self, dims: int, k, s, p, d, ceil_mode: bool):
        super().__init__()
        self.k, self.s, self.p, self.d, self.ceil, self.dims = tuple(k), tuple(s), tuple(p), tuple(d), ceil_mode, dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad as the pool does (and to the end where ceil_mode adds a window), then average each window."""
        sizes = x.shape[-self.dims:]
        pads = []
        for n, k, s, p, d in zip(sizes, self.k, self.s, self.p, self.d):
            out = pool_out(n, k, s, p, d, self.ceil)
            extra = max(0, (out - 1) * s + d * (k - 1) + 1 - (n + 2 * p))  # ceil_mode's window hanging past the end
            pads.append((p, p + extra))
        flat = [v for pair in reversed(pads) for v in pair]
        channels = x.shape[-self.dims - 1]
        weight = torch.full((channels, 1, *self.k), 1.0 / math.prod(self.k), dtype=x.dtype)
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[self.dims]
        return conv(F.pad(x, flat), weight, stride=self.s, dilation=self.d, groups=channels)


ELEMENT_WORK = 4  # per cell and layer: the elementwise work (activations, the rescaling hook, backward) in taps
# float64 kernels cost more per tap for large kernels (31×31, 1024 taps: ~3.5×), transposed layers (col2im: ~1.6×) and
# 3-D layers (vol2col: ~1.8×), measured by benchmarks/network.py (`rf`)


def _tap_weight(row: PlanRow, taps: int, dims: int) -> float:
    """What one tap costs, in units of a small 1-D/2-D conv's tap.

    >>> from conv_lab.network.plan import plan
    >>> _tap_weight(plan((1, 1, 8, 8), [("Conv2d", "out_channels=1, kernel_size=3")]).rows[0], 9, 2)
    1.047
    """
    family = LAYER_KINDS[row.kind].family
    weight = 1 + 2.6 * min(1.0, taps / 500) if family in ("conv", "transposed", "maxpool") else 1.0
    weight *= (1.6 if family == "transposed" else 1.0) * (1.8 if dims == 3 else 1.0)
    return round(weight, 3)


def _taps(row: PlanRow, dims: int) -> int:
    """Input cells one output cell reads, for the work estimate."""
    kw, family = row.kwargs or {}, LAYER_KINDS[row.kind].family
    if family in ("conv", "transposed", "maxpool", "avgpool"):
        return math.prod(as_sizes(kw["kernel_size"], dims, "kernel_size"))
    if family in ("adaptiveavg", "adaptivemax"):
        return math.prod(-(-a // b) + 1 for a, b in zip(row.in_shape[2:], row.out_shape[2:]))
    if family == "linear":
        return row.in_shape[-1]
    if family == "upsample":
        return {"nearest": 1, "bicubic": 4 ** dims}.get(kw.get("mode", "nearest"), 2 ** dims)
    return 1


def measure_work(plan: NetworkPlan, point: int) -> int:
    """Cell-taps the measurement computes (one output channel per conv; each tap weighted by `_tap_weight`, plus
    `ELEMENT_WORK` per cell for the elementwise work): the cap `limits.MAX_RF_MEASURE_WORK` applies.

    >>> from conv_lab.network.plan import plan
    >>> measure_work(plan((1, 3, 10, 10), [("Conv2d", "out_channels=8, kernel_size=3")]), 1)  # 100 cells × (9·1.047 + 4)
    1342
    """
    dims = len(plan.input_shape) - 2
    work, channels = 0, {0: 1}
    for row in plan.rows[:point]:
        conv = LAYER_KINDS[row.kind].family in ("conv", "transposed")
        cells = max(math.prod(row.in_shape[2:]), math.prod(row.out_shape[2:]))
        taps = _taps(row, dims)
        work += round(cells * (taps * _tap_weight(row, taps, dims) * channels[row.index - 1] + ELEMENT_WORK))
        channels[row.index] = 1 if conv else channels[row.index - 1]
        for m in plan.skips:
            if m.skip.target == row.index and m.status == "ok":
                merged = channels[row.index] + channels[m.skip.source]
                channels[row.index] = merged if m.skip.mode == "cat" else max(channels[row.index], channels[m.skip.source])
                work += math.prod(row.out_shape[2:]) * channels[row.index]
    return work


def _structural(row: PlanRow, channels: int) -> nn.Module:
    """One planned layer, rebuilt on the CPU in float64 for the measurement (see the module's docstring)."""
    kind = LAYER_KINDS[row.kind]
    kw = dict(row.kwargs or {})
    if kind.family in ("conv", "transposed"):
        kw.update(in_channels=channels, out_channels=1, groups=1, bias=False)
    elif kind.family == "batchnorm":
        kw["num_features"] = channels
    elif kind.family == "linear":
        kw["bias"] = False
    elif kind.family == "maxpool":
        n = kind.dims
        k = as_sizes(kw["kernel_size"], n, "kernel_size")
        return WindowSum(n, k, as_sizes(kw.get("stride") or k, n, "stride"), as_sizes(kw.get("padding", 0), n, "padding"),
                         as_sizes(kw.get("dilation", 1), n, "dilation"), bool(kw.get("ceil_mode", False)))
    elif kind.family == "adaptivemax":
        return getattr(nn, f"AdaptiveAvgPool{kind.dims}d")(kw["output_size"])
    module = build_layer(row.kind, kw, "cpu").double().eval()
    with torch.no_grad():
        for sub in module.modules():
            weight = getattr(sub, "weight", None)
            if isinstance(weight, torch.Tensor) and not isinstance(sub, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
                weight.fill_(1.0 / weight[0].numel())
    return module


def _rescale(grad: torch.Tensor) -> torch.Tensor:
    top = grad.abs().amax()
    return grad / top if top > 0 else grad


@dataclass(frozen=True)
class Measured:
    """The input cells the gradient reaches (bool, the input's spatial shape) and what was swapped to measure it."""

    support: np.ndarray
    swapped: tuple[str, ...]


def measure(plan: NetworkPlan, choice: Choice) -> Measured:
    """The non-zero support of ∂(point's cell, summed over channels)/∂input, by autograd on the rebuilt layers.

    >>> from conv_lab.network.plan import plan
    >>> p = plan((1, 3, 9, 9), [("Conv2d", "out_channels=4, kernel_size=3, dilation=2"), ("MaxPool2d", "kernel_size=1")])
    >>> m = measure(p, Choice(2, (1, 1)))
    >>> int(m.support[1:6:2, 1:6:2].sum()), int(m.support.sum()), m.swapped
    (9, 9, ('MaxPool2d',))
    """
    sizes = sizes_at(plan, 0)
    x = torch.ones((1, 1, *sizes), dtype=torch.float64, requires_grad=True)
    points, swapped = [x], []
    for row in plan.rows[:choice.point]:
        y = _structural(row, points[-1].shape[1])(points[-1])
        for m in plan.skips:
            if m.skip.target == row.index and m.status == "ok":
                y = merge(m.skip.mode, points[m.skip.source], y, m.skip.crop)
        if LAYER_KINDS[row.kind].family in ("maxpool", "adaptivemax") and row.kind not in swapped:
            swapped.append(row.kind)
        y.register_hook(_rescale)
        points.append(y)
    out = points[-1]
    out[(0, slice(None), *choice.cell)].sum().backward()
    return Measured((x.grad[0, 0] != 0).numpy(), tuple(swapped))


def allowed_work(spent: float = 0.0) -> int:
    """The measurement's work cap: `limits.MAX_RF_MEASURE_WORK`, or less when the request already spent `spent` CPU
    seconds running torch layers on the CPU (the planner's check of transposed layers) out of MAX_REQUEST_SECONDS.

    >>> allowed_work() == limits.MAX_RF_MEASURE_WORK, allowed_work(0.4)
    (True, 0)
    """
    left = max(0.0, limits.MAX_REQUEST_SECONDS - spent)
    return int(min(limits.MAX_RF_MEASURE_WORK, left * 1e9 / limits.RF_NS_PER_UNIT))


def over_cap(plan: NetworkPlan, point: int, allowed: int = limits.MAX_RF_MEASURE_WORK) -> str:
    """A plain message when measuring this point would cost more than `allowed` (`allowed_work`), else ''.

    >>> from conv_lab.network.plan import plan
    >>> print(over_cap(plan((1, 1, 1024, 1024), [("Conv2d", "out_channels=1, kernel_size=9")] * 3), 3)[:65])
    Measuring this cell would take 368,843,410 units of autograd work
    """
    work = measure_work(plan, point)
    if work <= allowed:
        return ""
    fits = [p for p in range(1, point) if measure_work(plan, p) <= allowed]
    earlier = f"pick layer {fits[-1]} or an earlier one" if fits else "use a smaller input"
    cap = (f"Conv Lab's cap of {allowed:,} (about 0.15 s of CPU)" if allowed == limits.MAX_RF_MEASURE_WORK else
           f"the {allowed:,} left of this request's CPU budget after torch checked the stack's layers on the CPU")
    return (f"Measuring this cell would take {work:,} units of autograd work (cell-taps), above {cap}, so the measured "
            f"picture is left out. The rows above still hold; to see the measurement, {earlier}"
            + (" (or use a smaller input)." if fits else "."))
