"""Run a planned stack through the real torch layers on a zero tensor (meta device: no memory, no arithmetic).

The meta device checks shapes as the CPU kernels do for every layer the planner
offers except one: ConvTranspose2d's meta kernel accepts an output_padding the
CPU refuses, so that layer runs on a CPU zero tensor if it fits the work caps
(its input, output and estimated time) and what is left of the request's CPU
budget (`limits.MAX_REQUEST_SECONDS`), and on meta past it. A layer
the plan rejected for a work cap is never run (issue #17: one link ran a 1.85e9
element output and took 21 GB).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from conv_lab import limits
from conv_lab.core.costs import estimated_seconds
from conv_lab.core.errors import ConvConfigError
from conv_lab.core.params import as_sizes
from conv_lab.core.spec import ConvSpec
from conv_lab.network.flow import Skip
from conv_lab.network.plan import NetworkPlan

Frozen = tuple  # (kind, ((name, value), ...)) — hashable layer description


@dataclass(frozen=True)
class TorchRun:
    """torch's shape after each row (None when not run), and where and why it failed."""

    shapes: tuple[tuple[int, ...] | None, ...]
    failed: int | None  # 1-based row
    error: str
    devices: tuple[str, ...]
    cpu_seconds: float = 0.0  # CPU `run_plan` spent running layers on the CPU (0 from the caches): the request's budget


def build_layer(kind: str, kwargs: dict[str, Any], device: str = "meta") -> nn.Module:
    """The real torch.nn layer, built on `device` (meta: parameters take no memory).

    padding='causal' (Conv1d) is built as PyTorch users write it: nn.ConstantPad1d((d·(k−1), 0), 0.0) before the conv
    (with another padding_mode it goes to torch as written, which refuses it, as the planner does).

    >>> build_layer("Conv2d", {"in_channels": 1, "out_channels": 6, "kernel_size": 5}).weight.shape
    torch.Size([6, 1, 5, 5])
    >>> build_layer("Conv1d", {"in_channels": 1, "out_channels": 2, "kernel_size": 3, "padding": "causal"})[0]
    ConstantPad1d(padding=(2, 0), value=0.0)
    """
    with torch.device(device):
        if kwargs.get("padding") == "causal" and kwargs.get("padding_mode", "zeros") == "zeros":
            conv = {k: v for k, v in kwargs.items() if k != "padding"}
            return nn.Sequential(nn.ConstantPad1d((causal_left(kwargs), 0), 0.0), getattr(nn, kind)(**conv))
        return getattr(nn, kind)(**kwargs)


def causal_left(kwargs: dict[str, Any]) -> int:
    """Zeros a causal Conv1d puts on the left: d·(k−1).

    >>> causal_left({"kernel_size": 2, "dilation": 8})
    8
    """
    k, d = (as_sizes(kwargs.get(name, 1), 1, name)[0] for name in ("kernel_size", "dilation"))
    return d * (k - 1)


def _centre_crop(skip: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    for axis in range(2, skip.dim()):
        skip = skip.narrow(axis, (skip.shape[axis] - like.shape[axis]) // 2, like.shape[axis])
    return skip


def merge(mode: str, skip: torch.Tensor, x: torch.Tensor, crop: bool) -> torch.Tensor:
    """What a skip does in torch: centre-crop (when asked and larger), then concatenate or add.

    >>> merge("cat", torch.zeros(1, 2, 6, 6), torch.zeros(1, 3, 4, 4), crop=True).shape
    torch.Size([1, 5, 4, 4])
    """
    if crop and 3 <= skip.dim() == x.dim() <= 5 and all(a >= b for a, b in zip(skip.shape[2:], x.shape[2:])):
        skip = _centre_crop(skip, x)
    return torch.cat([skip, x], dim=1) if mode == "cat" else x + skip


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# Layers whose meta kernel checks less than the CPU one: ConvTranspose1d/2d/3d on meta accept an output_padding that
# is not smaller than stride or dilation, and an input whose channels differ from in_channels (the CPU kernel refuses
# both), so they run on the CPU when that fits the caps and the request's CPU budget; past the budget, on meta.
CPU_CHECKED = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")


def cpu_seconds(kind: str, kwargs: dict[str, Any], x: torch.Tensor) -> float | None:
    """Estimated CPU seconds to run the layer on a zero tensor like `x`, or None when a work cap forbids it.

    >>> cpu_seconds("ConvTranspose2d", {"in_channels": 1, "out_channels": 1024, "kernel_size": 64, "stride": 64},
    ...             torch.zeros(1, 1, 21, 21, device="meta")) is None
    True
    """
    try:
        y = build_layer(kind, kwargs)(x)  # meta: the output's shape, free
    except _TORCH_ERRORS:
        return None
    if max(x.numel(), y.numel()) > limits.MAX_TENSOR_ELEMENTS:
        return None
    try:
        spec = ConvSpec(**kwargs, transposed=kind in CPU_CHECKED, dims=int(kind[-2]))
        seconds = estimated_seconds(spec, tuple(x.shape))
    except (ConvConfigError, TypeError, ValueError):  # not a conv, or one the formula rejects: bound it by the slowest path
        weights = sum(p.numel() for p in build_layer(kind, kwargs).parameters())
        spatial = max(math.prod(x.shape[2:]), math.prod(y.shape[2:])) * x.shape[0] if x.dim() > 2 else x.shape[0]
        seconds = (weights * spatial * max(limits.NS_PER_MAC.values())
                   + (x.numel() + y.numel()) * max(limits.NS_PER_ELEMENT.values())) * 1e-9
    return seconds if seconds <= limits.MAX_REQUEST_SECONDS else None


_SPENT = threading.local()  # CPU seconds this thread's `run_plan` spent in `_run_on_cpu` (its request's share)


def _run_on_cpu(kind: str, kwargs: dict, x: torch.Tensor) -> torch.Tensor:
    """Run one layer on a CPU zero tensor (caller checked the caps); the result goes back to meta."""
    started = time.thread_time()  # torch runs in this thread (one intra-op thread): its CPU, not other sessions'
    try:
        with torch.no_grad():
            return build_layer(kind, kwargs, "cpu")(torch.zeros(x.shape)).to("meta")
    finally:
        _SPENT.seconds = getattr(_SPENT, "seconds", 0.0) + time.thread_time() - started


@dataclass(frozen=True)
class _Prefix:
    """The run of the first rows: every point's meta tensor (no storage, so cheap to keep), the result, and the
    CPU seconds its CPU-checked layers cost (the rest of `limits.MAX_REQUEST_SECONDS` is what later rows may use)."""

    points: tuple[torch.Tensor, ...]
    run: TorchRun
    cpu_seconds: float = 0.0


def _apply(layer: Frozen, x: torch.Tensor, cpu_budget: float) -> tuple[torch.Tensor, str, float]:
    """One real layer on `x`; returns the output (on meta), the device it ran on and the CPU seconds it cost."""
    kind, kwargs = layer[0], dict(layer[1])
    module = build_layer(kind, kwargs)
    if kind in CPU_CHECKED:
        seconds = cpu_seconds(kind, kwargs, x)
        if seconds is not None and seconds <= cpu_budget:
            return _run_on_cpu(kind, kwargs, x), "cpu", seconds
    if kind.startswith("BatchNorm") and not (x.dim() > 1 and x.numel() == x.shape[1]):
        # Eval mode takes half the time on meta and checks the same shapes; training mode adds only the
        # "more than 1 value per channel" check, so it runs in training mode exactly when that could fire.
        module.eval()
    return module(x), "meta", 0.0


_TORCH_ERRORS = (RuntimeError, ValueError, TypeError, IndexError, NotImplementedError)


@lru_cache(maxsize=4096)
def _layer_on_shape(layer: Frozen, shape: tuple[int, ...], cpu_budget: float
                    ) -> tuple[tuple[int, ...] | None, str, str, float]:
    """(output shape, device, torch's error, CPU seconds) of one real layer on a zero tensor of `shape` (a layer's
    output depends only on its arguments and the input's shape, so layers an edit did not reach are not rerun)."""
    try:
        y, device, seconds = _apply(layer, torch.zeros(shape, device="meta"), cpu_budget)
    except _TORCH_ERRORS as exc:
        return None, "", f"{type(exc).__name__}: {_first_line(exc)}", 0.0
    return tuple(y.shape), device, "", seconds


@lru_cache(maxsize=4096)
def _run_prefix(input_shape: tuple[int, ...], layers: tuple[Frozen | None, ...], skips: tuple[Skip, ...]) -> _Prefix:
    """Run `layers` by extending the cached run of all but the last: an edit reruns only the rows from it on."""
    if not layers:
        return _Prefix((torch.zeros(input_shape, device="meta"),), TorchRun((), None, "", ()))
    i = len(layers)
    prev = _run_prefix(input_shape, layers[:-1], tuple(s for s in skips if s.target < i))
    if prev.run.failed:
        return prev
    shapes, devices = prev.run.shapes, prev.run.devices
    if layers[-1] is None:
        return _Prefix(prev.points, TorchRun(shapes, i, "this row does not parse, so it cannot be built", devices))
    budget = round(limits.MAX_REQUEST_SECONDS - prev.cpu_seconds, 3)
    out_shape, device, error, seconds = _layer_on_shape(layers[-1], tuple(prev.points[-1].shape), budget)
    if out_shape is None:
        return _Prefix(prev.points, TorchRun(shapes, i, error, devices))
    if 0 in out_shape:  # torch may return an empty tensor (Upsample ×0.5 of 1×1, meta ops): nothing to pass on
        return _Prefix(prev.points, TorchRun(shapes, i, f"torch produced an empty tensor {out_shape}", devices))
    try:
        x = torch.zeros(out_shape, device="meta")
        for skip in skips:
            if skip.target == i and 0 <= skip.source < i:
                x = merge(skip.mode, prev.points[skip.source], x, skip.crop)
    except _TORCH_ERRORS as exc:
        return _Prefix(prev.points, TorchRun(shapes, i, f"{type(exc).__name__}: {_first_line(exc)}", devices))
    return _Prefix((*prev.points, x), TorchRun((*shapes, tuple(x.shape)), None, "", (*devices, device)),
                   prev.cpu_seconds + seconds)


def cache_clear() -> None:
    """Forget every cached layer run and prefix (benchmarks and tests measure cold runs with it).

    >>> cache_clear()
    """
    _layer_on_shape.cache_clear()
    _run_prefix.cache_clear()


def run_frozen(input_shape: tuple[int, ...], layers: tuple[Frozen | None, ...], skips: tuple[Skip, ...]) -> TorchRun:
    """Run frozen layers (None = a row that does not parse: the run stops there), reusing cached prefixes.

    >>> run_frozen((1, 1, 4, 4), (freeze("MaxPool2d", {"kernel_size": 2}),), ()).shapes
    ((1, 1, 2, 2),)
    """
    return _run_prefix(tuple(input_shape), tuple(layers), tuple(s for s in skips if s.target <= len(layers))).run


def freeze(kind: str, kwargs: dict[str, Any]) -> Frozen:
    """A hashable (kind, kwargs) for the cache.

    >>> freeze("ReLU", {})
    ('ReLU', ())
    """
    return kind, tuple(kwargs.items())


def run_plan(plan: NetworkPlan) -> TorchRun:
    """Run the plan's layers up to and including the first broken one through real torch layers; a row the plan
    broke for a work cap is left out (it is never run: over a cap, torch is not asked).

    >>> from conv_lab.network.plan import plan
    >>> run_plan(plan((1, 3, 224, 224), [("Conv2d", "out_channels=64, kernel_size=7, stride=2, padding=3")])).shapes
    ((1, 64, 112, 112),)
    """
    _SPENT.seconds = 0.0
    last = plan.broken or len(plan.rows)
    over_cap = bool(plan.broken and plan.rows[last - 1].over_cap)
    layers = tuple(freeze(r.kind, r.kwargs) if r.kwargs is not None else None for r in plan.rows[:last - over_cap])
    run = run_frozen(plan.input_shape, layers, tuple(s.skip for s in plan.skips if s.status in ("ok", "mismatch")))
    if over_cap and run.failed is None:
        run = TorchRun(run.shapes, last, NOT_RUN, run.devices)
    return replace(run, cpu_seconds=_SPENT.seconds)


NOT_RUN = "not run: over Conv Lab's work cap, so torch is not asked"
