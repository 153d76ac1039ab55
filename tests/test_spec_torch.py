"""torch is the oracle: the formula's shape equals the real module's, or both reject the configuration."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import ConvConfigError, ConvSpec, compare
from conv_lab.core.torch_run import build_module

from conftest import n_examples

PROPERTY_EXAMPLES = n_examples(4000, 200)


def size(lo: int, hi: int, dims: int = 2):
    """An int or one value per dimension (non-square)."""
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * dims))


@st.composite
def configurations(draw):
    """A random layer + input over the whole parameter space, in 1, 2 or 3 dimensions, valid or not."""
    dims = draw(st.sampled_from([1, 2, 2, 3]))
    groups = draw(st.sampled_from([1, 1, 1, 2, 3, 4]))
    if draw(st.integers(0, 9)) == 0:  # sometimes channels that groups cannot split
        cin, cout = draw(st.integers(1, 8)), draw(st.integers(1, 8))
    else:
        cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    words = ["same", "valid", "causal"] if dims == 1 else ["same", "valid"]
    padding = draw(st.one_of(size(0, 4, dims), st.sampled_from(words)))
    kwargs = dict(in_channels=cin, out_channels=cout, kernel_size=draw(size(1, 5, dims)), stride=draw(size(1, 4, dims)),
                  padding=padding, dilation=draw(size(1, 3, dims)), groups=groups, bias=draw(st.booleans()),
                  padding_mode=draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"])), dims=dims)
    if transposed:
        kwargs["output_padding"] = draw(size(0, 3, dims))
    c_in = cin if draw(st.integers(0, 14)) else draw(st.integers(1, 8))
    sizes = tuple(draw(st.integers(1, 12 if dims < 3 else 6)) for _ in range(dims))
    if not draw(st.integers(0, 19)):  # sometimes an input of the wrong rank
        sizes = sizes[:-1] if dims > 1 and draw(st.booleans()) else (*sizes, draw(st.integers(1, 4)))
    shape = (draw(st.integers(1, 2)), c_in, *sizes) if draw(st.booleans()) else (c_in, *sizes)
    return transposed, kwargs, shape


def torch_shape(transposed: bool, kwargs: dict, shape: tuple) -> tuple | None:
    """The real module's output shape, or None when torch refuses (at build or at run) or outputs nothing.

    Surprise: ConvTranspose2d returns an empty tensor (a 0-sized dim) where Conv2d raises.
    """
    kwargs = dict(kwargs)
    dims = kwargs.pop("dims", 2)
    causal = kwargs.get("padding") == "causal"
    if causal:  # no such torch argument: the zeros go on the left by F.pad, then a conv without padding
        kwargs["padding"] = 0
        k, d = kwargs["kernel_size"], kwargs["dilation"]
        left = (k if isinstance(k, int) else k[0]) - 1
        left *= d if isinstance(d, int) else d[0]
    try:
        module = getattr(nn, f"ConvTranspose{dims}d" if transposed else f"Conv{dims}d")(**kwargs)
        x = torch.randn(shape)
        if causal:
            if kwargs.get("padding_mode", "zeros") != "zeros" or transposed:
                return None
            x = F.pad(x, (left, 0))
        with torch.no_grad():
            out = tuple(module(x).shape)
    except Exception:  # noqa: BLE001 - any refusal by torch counts as "rejects"
        return None
    return out if all(out) else None


def conv_lab_shape(transposed: bool, kwargs: dict, shape: tuple) -> tuple | None:
    """Conv Lab's formula shape, or None when it raises ConvConfigError (anything else fails the test)."""
    try:
        return ConvSpec(**kwargs, transposed=transposed).output_shape(shape)
    except ConvConfigError as exc:
        assert str(exc).startswith(exc.param), "message must name the parameter first"
        assert exc.why and exc.fix, "message must say why and give a fix"
        return None


@settings(max_examples=PROPERTY_EXAMPLES)
@given(configurations())
@example((False, dict(in_channels=3, out_channels=8, kernel_size=3, padding=4, padding_mode="reflect"), (3, 4, 4)))
@example((False, dict(in_channels=1, out_channels=1, kernel_size=4, padding="same", padding_mode="circular"), (1, 1, 1)))
@example((True, dict(in_channels=1, out_channels=1, kernel_size=1, padding=1), (1, 1, 1)))
@example((True, dict(in_channels=1, out_channels=1, kernel_size=3, stride=1, dilation=2, output_padding=1), (1, 3, 3)))
@example((False, dict(in_channels=1, out_channels=2, kernel_size=3, dilation=2, padding="causal", dims=1), (1, 1, 3)))
@example((False, dict(in_channels=2, out_channels=2, kernel_size=(1, 3, 3), stride=2, groups=2, dims=3), (2, 1, 5, 5)))
@example((True, dict(in_channels=1, out_channels=1, kernel_size=4, stride=3, output_padding=2, dims=1), (1, 1, 4)))
def test_formula_equals_torch_or_both_reject(case):
    transposed, kwargs, shape = case
    expected = torch_shape(transposed, kwargs, shape)
    got = conv_lab_shape(transposed, kwargs, shape)
    assert got == expected, f"conv_lab {got} vs torch {expected} for {kwargs}, transposed={transposed}, input {shape}"


@settings(max_examples=n_examples(400, 40))
@given(configurations())
def test_compare_agrees_and_counts_parameters_like_torch(case):
    transposed, kwargs, shape = case
    if torch_shape(transposed, kwargs, shape) is None:
        return
    spec = ConvSpec(**kwargs, transposed=transposed)
    result = compare(spec, shape, seed=3)
    assert result.agree and tuple(result.torch_shape) == spec.output_shape(shape)
    module = build_module(spec)
    assert result.params == sum(p.numel() for p in module.parameters()) == result.cost.params
    assert result.output_bytes == result.cost.output_bytes


def test_worked_examples_from_the_brief():
    x = (1, 3, 32, 32)
    assert compare(ConvSpec(3, 16, 3, stride=1, padding=0), x).torch_shape == torch.Size([1, 16, 30, 30])
    assert compare(ConvSpec(3, 32, 5, stride=1, padding=2), x).torch_shape == torch.Size([1, 32, 32, 32])
    assert compare(ConvSpec(3, 64, 3, stride=2, padding=1), x).torch_shape == torch.Size([1, 64, 16, 16])


def test_compare_is_seeded_and_reproducible():
    a = compare(ConvSpec(2, 4, 3, padding=1), (1, 2, 6, 6), seed=7)
    b = compare(ConvSpec(2, 4, 3, padding=1), (1, 2, 6, 6), seed=7)
    c = compare(ConvSpec(2, 4, 3, padding=1), (1, 2, 6, 6), seed=8)
    assert torch.equal(a.output, b.output) and not torch.equal(a.output, c.output)


def test_to_module_is_the_real_torch_module():
    conv = ConvSpec(4, 6, (3, 5), stride=(1, 2), padding="same" if False else (1, 2), groups=2).to_module()
    assert isinstance(conv, nn.Conv2d) and conv.weight.shape == (6, 2, 3, 5) and conv.padding == (1, 2)
    tconv = ConvSpec(4, 6, 4, stride=2, padding=1, transposed=True, output_padding=1, groups=2).to_module()
    assert isinstance(tconv, nn.ConvTranspose2d) and tconv.weight.shape == (4, 3, 4, 4)
    assert tconv.output_padding == (1, 1)


def test_every_dimension_builds_its_real_module():
    assert isinstance(ConvSpec(1, 4, 80, stride=4, dims=1).to_module(), nn.Conv1d)
    conv3d = ConvSpec(3, 8, (3, 3, 5), dims=3, transposed=True).to_module()
    assert isinstance(conv3d, nn.ConvTranspose3d) and conv3d.weight.shape == (3, 8, 3, 3, 5)
    assert compare(ConvSpec(3, 64, 3, padding=1, dims=3), (1, 3, 16, 112, 112)).torch_shape == (1, 64, 16, 112, 112)


def test_causal_padding_never_lets_an_output_see_the_future():
    from conv_lab.core.torch_run import run_layer, torch_code

    spec = ConvSpec(1, 1, 2, dilation=4, padding="causal", dims=1)
    module = build_module(spec, seed=0)
    x = torch.randn(1, 1, 12)
    later = x.clone()
    later[..., 7:] += 1.0  # change the future from t = 7 on
    with torch.no_grad():
        y, y_later = run_layer(spec, module, x), run_layer(spec, module, later)
    assert y.shape == (1, 1, 12)
    assert torch.equal(y[..., :7], y_later[..., :7]) and not torch.equal(y[..., 7:], y_later[..., 7:])
    code = torch_code(spec, (1, 1, 12))
    assert "x = F.pad(x, (4, 0))" in code and "padding=0" in code and "Conv1d" in code
