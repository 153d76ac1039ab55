"""Shared by the network planner's tests: hypothesis strategies for random 1-D, 2-D and 3-D stacks, the torch oracle
(plain nn layers, one by one) and the check that exported code runs with the planned shapes."""

from __future__ import annotations

import torch
from hypothesis import strategies as st
from torch import nn

from conv_lab.core.code import argument_text
from conv_lab.network.export import export_code
from conv_lab.network.flow import Skip
from conv_lab.network.layers import LAYER_KINDS
from conv_lab.network.plan import plan
from conv_lab.network.torch_run import merge, run_plan

TORCH_ERRORS = (RuntimeError, ValueError, IndexError, TypeError, NotImplementedError)  # torch's own, whatever type
small = st.integers(1, 3)
MAX_SIDE = {1: 40, 2: 14, 3: 7}  # input sides per dimension: small enough for the CPU oracle in 3-D


def _maybe(draw, name, strategy, values, p=0.5):
    if draw(st.floats(0, 1)) < p:
        values[name] = draw(strategy)


def sizes(n: int, lo: int = 1, hi: int = 3):
    """An int, or a tuple with one number per dimension (a 1-tuple for 1-D, as torch allows)."""
    one = st.integers(lo, hi)
    return st.one_of(one, st.tuples(*[one] * n)) if n else st.one_of(one, *(st.tuples(*[one] * k) for k in (1, 2, 3)))


@st.composite
def layer(draw, dims: int = 2):
    """(layer name, values): in-range values, combined freely, so some stacks break (as they do in real life).
    Three in four layers are of the input's dimension (or any: ReLU, Linear, ...), the rest of any dimension."""
    near = [k for k in LAYER_KINDS.values() if k.dims in (0, dims)]
    kind = draw(st.sampled_from(near if draw(st.floats(0, 1)) < 0.75 else list(LAYER_KINDS.values())))
    n, v = kind.dims, {}
    if kind.family in ("conv", "transposed"):
        v["out_channels"] = draw(st.integers(1, 4))
        v["kernel_size"] = draw(sizes(n))
        _maybe(draw, "stride", st.integers(1, 3), v)
        _maybe(draw, "dilation", sizes(n, 1, 2), v, 0.3)
        _maybe(draw, "groups", st.sampled_from([1, 2]), v, 0.2)
        _maybe(draw, "bias", st.booleans(), v, 0.2)
        _maybe(draw, "in_channels", st.integers(1, 4), v, 0.1)
        if kind.family == "conv":
            words = ["same", "valid", "causal", "causal"] if n == 1 else ["same", "valid"]
            _maybe(draw, "padding", st.one_of(sizes(n, 0, 2), st.sampled_from(words)), v)
            _maybe(draw, "padding_mode", st.sampled_from(["zeros", "reflect", "replicate", "circular"]), v, 0.2)
        else:
            _maybe(draw, "padding", st.integers(0, 2), v)
            _maybe(draw, "output_padding", st.integers(0, 2), v, 0.4)
    elif kind.family in ("maxpool", "avgpool"):
        v["kernel_size"] = draw(sizes(n))
        _maybe(draw, "stride", st.one_of(st.none(), small), v)
        _maybe(draw, "padding", st.integers(0, 1), v)
        _maybe(draw, "ceil_mode", st.booleans(), v)
        if kind.family == "maxpool":
            _maybe(draw, "dilation", st.integers(1, 2), v, 0.3)
        else:
            _maybe(draw, "count_include_pad", st.booleans(), v, 0.2)
    elif kind.family in ("adaptiveavg", "adaptivemax"):
        v["output_size"] = draw(sizes(n, 1, 4))
    elif kind.family == "batchnorm":
        _maybe(draw, "affine", st.booleans(), v, 0.3)
        _maybe(draw, "num_features", st.integers(1, 4), v, 0.1)
    elif kind.name == "Dropout":
        _maybe(draw, "p", st.sampled_from([0.0, 0.25, 0.5, 1.0]), v)
    elif kind.name == "Upsample":
        if draw(st.booleans()):
            v["scale_factor"] = draw(st.sampled_from([0.5, 0.75, 1.3, 1.5, 2.0, 2.5]))
        else:
            v["size"] = draw(sizes(0, 1, 8))
        _maybe(draw, "mode", st.sampled_from(["nearest", "linear", "bilinear", "bicubic", "trilinear"]), v)
        _maybe(draw, "align_corners", st.booleans(), v, 0.2)
        _maybe(draw, "size", st.integers(1, 4), v, 0.05)  # both given: torch refuses
    elif kind.name == "Flatten":
        _maybe(draw, "start_dim", st.integers(-5, 4), v, 0.2)
        _maybe(draw, "end_dim", st.integers(-5, 4), v, 0.2)
    elif kind.name == "Linear":
        v["out_features"] = draw(st.integers(1, 8))
        _maybe(draw, "in_features", st.integers(1, 8), v, 0.1)
    return kind.name, v


def input_shape(dims: int, lo: int = 1):
    return st.tuples(st.integers(1, 2), st.integers(1, 4), *[st.integers(min(lo, MAX_SIDE[dims]), MAX_SIDE[dims])] * dims)


@st.composite
def stack(draw, max_layers=7, dims_from=(1, 2, 3)):
    dims = draw(st.sampled_from(dims_from))
    shape = draw(input_shape(dims))
    layers = draw(st.lists(layer(dims), min_size=1, max_size=max_layers))
    skips = []
    for _ in range(draw(st.integers(0, 2))):
        target = draw(st.integers(1, len(layers)))
        skips.append(Skip(draw(st.sampled_from(["cat", "add"])), draw(st.integers(0, target - 1)), target,
                          draw(st.booleans())))
    rows = [(kind, argument_text(values)) for kind, values in layers]
    return shape, rows, skips


@st.composite
def deep_valid_stack(draw, dims_from=(1, 2, 3)):
    """Deep stacks that work: candidate layers are kept when the planner accepts them (torch then checks every
    shape), so the property covers long chains rather than stacks that break at layer 1 or 2."""
    dims = draw(st.sampled_from(dims_from))
    shape = draw(input_shape(dims, lo={1: 16, 2: 8, 3: 5}[dims]))
    rows: list = []
    for kind, values in draw(st.lists(layer(dims), min_size=4, max_size=24)):
        candidate = rows + [(kind, argument_text(values))]
        if plan(shape, candidate).ok:
            rows = candidate
    skips = []
    for _ in range(draw(st.integers(0, 2))):
        if rows:
            target = draw(st.integers(1, len(rows)))
            skip = Skip(draw(st.sampled_from(["cat", "add"])), draw(st.integers(0, target - 1)), target, draw(st.booleans()))
            if plan(shape, rows, skips + [skip]).ok:
                skips.append(skip)
    return shape, rows, skips


def build(kind: str, kwargs: dict) -> nn.Module:
    """The real layer; padding='causal' as PyTorch users write it: ConstantPad1d((d·(k−1), 0)) and then the Conv1d."""
    if kwargs.get("padding") == "causal" and kwargs.get("padding_mode", "zeros") == "zeros":
        k, d = kwargs["kernel_size"], kwargs.get("dilation", 1)
        k, d = (k[0] if isinstance(k, tuple) else k), (d[0] if isinstance(d, tuple) else d)
        conv = nn.Conv1d(**{name: value for name, value in kwargs.items() if name != "padding"})
        return nn.Sequential(nn.ConstantPad1d((d * (k - 1), 0), 0.0), conv)
    return getattr(nn, kind)(**kwargs)


def torch_oracle(result, device="cpu"):
    """Run the plan's layers one by one with plain torch; (shapes after each row, 1-based row torch fails on)."""
    x = torch.zeros(result.input_shape, device=device)
    points, shapes = [x], []
    for row in result.rows:
        if row.kwargs is None:
            return shapes, row.index
        try:
            with torch.device(device):
                x = build(row.kind, row.kwargs)(x)
            for report in result.skips:
                if report.skip.target == row.index and report.status in ("ok", "mismatch"):
                    x = merge(report.skip.mode, points[report.skip.source], x, report.skip.crop)
        except TORCH_ERRORS as exc:  # torch's own errors, whatever their type
            return shapes, row.index, str(exc)
        if 0 in x.shape:  # torch returns an empty tensor (a transposed conv's padding removes every cell): the
            return shapes, row.index, "empty output"  # planner and the page's run call that a break
        points.append(x)
        shapes.append(tuple(x.shape))
    return shapes, None


def check_export(result):
    """Run the exported code: the planned shapes layer by layer, or torch failing where the plan breaks."""
    code = export_code(result)
    namespace: dict = {}
    seen = []
    compile(code, "model.py", "exec")
    prelude, _, run_lines = code.partition("\nx = torch.zeros")
    try:
        exec(prelude, namespace)  # the generated code only; never user text
    except TORCH_ERRORS:  # torch refuses to build the broken layer (e.g. groups): only a broken stack may do that
        assert not result.ok and result.rows[result.broken - 1].param in ("groups", "padding", "output_padding", "p",
                                                                          "padding_mode")
        return
    for module in namespace["layers"]:
        module.register_forward_hook(lambda m, i, o: seen.append(tuple(o.shape)))
    run_lines = run_lines.replace("print(y.shape)", "pass")
    if result.ok:
        exec("x = torch.zeros" + run_lines, namespace)
        assert tuple(namespace["y"].shape) == result.output_shape
    else:
        try:
            exec("x = torch.zeros" + run_lines, namespace)
        except TORCH_ERRORS:
            pass
        else:  # torch may return an empty tensor instead of raising (the planner calls that a break, as the page does)
            assert any(0 in shape for shape in seen), seen
        seen = seen[:next((i for i, shape in enumerate(seen) if 0 in shape), len(seen))]
    own = []  # each layer's own output (before a skip merges into it)
    for row in result.rows[:len(seen)]:
        merged = [s for s in result.skips if s.skip.target == row.index and s.status == "ok"]
        own.append(merged[0].target_shape if merged else row.out_shape)
    assert seen == own[:len(seen)]
    assert len(seen) == (result.broken - 1 if result.broken else len(result.rows)) or result.broken


def check_first_break(case):
    """The plan's shapes equal torch's layer by layer, and both break at the same row (the page's meta run too)."""
    shape, rows, skips = case
    result = plan(shape, rows, skips)
    shapes, failed, *why = torch_oracle(result)
    assert failed == result.broken, (result.rows[(failed or result.broken) - 1], why)
    reached = [r.out_shape for r in result.rows if r.status == "ok"]
    assert shapes[:len(reached)] == reached
    if result.ok:
        assert shapes[-1] == result.output_shape
    run = run_plan(result)  # the page's own run on the meta device agrees too
    assert run.failed == result.broken and list(run.shapes) == reached
