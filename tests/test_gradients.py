"""The explicit backward pass equals torch autograd on random layers (1-D incl. causal, 2-D, 3-D; transposed, groups,
every padding mode, non-square, output_padding, uncovered trailing cells)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab import ConvConfigError, ConvSpec
from conv_lab.gradients.engine import gradients, padding_sources, scatter_padding, weight_shape

from conftest import n_examples


def sizes(lo: int, hi: int, dims: int):
    return st.one_of(st.integers(lo, hi), st.tuples(*[st.integers(lo, hi)] * dims))


@st.composite
def layers(draw, dims=None):
    """A valid random layer and input shape (invalid draws are rejected by assume)."""
    dims = dims or draw(st.sampled_from([1, 2, 2, 2, 3]))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    transposed = draw(st.booleans())
    words = ["same", "valid", "causal"] if dims == 1 else ["same", "valid"]
    padding = draw(st.one_of(sizes(0, 3, dims), st.sampled_from(words)))
    kwargs = dict(kernel_size=draw(sizes(1, 4, dims)), stride=draw(sizes(1, 3, dims)), padding=padding,
                  dilation=draw(sizes(1, 3, dims)), groups=groups, bias=draw(st.booleans()), dims=dims,
                  padding_mode=draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])))
    if transposed:
        kwargs.update(output_padding=draw(sizes(0, 2, dims)), padding_mode="zeros")
    shape = (draw(st.integers(1, 2)), cin, *(draw(st.integers(1, 9 if dims < 3 else 5)) for _ in range(dims)))
    try:
        spec = ConvSpec(cin, cout, transposed=transposed, **kwargs)
        out = spec.output_shape(shape)
    except ConvConfigError:
        assume(False)
    assume(all(out))
    return spec, shape


def autograd(spec: ConvSpec, x: torch.Tensor, grad_output: torch.Tensor, seed: int):
    """x.grad, weight.grad, bias.grad from loss.backward() on the real module (float64)."""
    torch.manual_seed(seed)
    module = spec.to_module().double()
    x = x.clone().requires_grad_(True)
    left = spec.pad_pairs()[0][0] if spec.padding == "causal" else 0
    y = module(F.pad(x, (left, 0)) if left else x)
    assert y.shape == grad_output.shape
    (y * grad_output).sum().backward()
    bias = module.bias.grad if module.bias is not None else None
    return module, x.grad, module.weight.grad, bias


@given(layers(), st.integers(0, 2**16))
@settings(max_examples=n_examples(400, 60))
def test_gradients_equal_autograd(layer, seed):
    spec, shape = layer
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=generator, dtype=torch.float64)
    grad_output = torch.randn(spec.output_shape(shape), generator=generator, dtype=torch.float64)
    module, gx, gw, gb = autograd(spec, x, grad_output, seed)
    mine = gradients(spec, x, module.weight.detach(), grad_output, None if module.bias is None else module.bias)
    assert mine.grad_input.shape == gx.shape and mine.grad_weight.shape == gw.shape
    assert torch.allclose(mine.grad_input, gx, atol=1e-9), (spec, shape)
    assert torch.allclose(mine.grad_weight, gw, atol=1e-9), (spec, shape)
    if gb is None:
        assert mine.grad_bias is None
    else:
        assert torch.allclose(mine.grad_bias, gb, atol=1e-9)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@given(size=st.integers(2, 7), before=st.integers(0, 3), after=st.integers(0, 3), dims=st.integers(1, 3))
@settings(max_examples=n_examples(60, 15))
def test_scatter_is_the_adjoint_of_pad(mode, size, before, after, dims):
    """Scattering the padded gradient back is exactly what autograd does through F.pad, per mode."""
    assume(before < size and after < size)  # reflect needs pad < size; replicate/circular accept it too
    sides = tuple(size + i for i in range(dims))
    x = torch.randn((1, 2, *sides), dtype=torch.float64, requires_grad=True)
    flat = [before, after] * dims
    padded = F.pad(x, flat, mode=mode)
    g = torch.randn(padded.shape, dtype=torch.float64)
    (padded * g).sum().backward()
    assert torch.allclose(scatter_padding(g, sides, ((before, after),) * dims, mode), x.grad)


def test_padding_sources_match_f_pad():
    x = torch.arange(5.).reshape(1, 1, 5)
    for mode in ("reflect", "replicate", "circular"):
        sources = padding_sources(5, 3, 2, mode)
        assert F.pad(x, (3, 2), mode=mode)[0, 0].tolist() == x[0, 0, sources].tolist()


def test_uncovered_trailing_cells_get_zero():
    spec = ConvSpec(1, 1, 3, stride=2)  # 8 wide: windows at 0, 2, 4; column 7 is never read
    x = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    mine = gradients(spec, x, torch.ones(1, 1, 3, 3), torch.ones(1, 1, 3, 3))
    assert mine.grad_input[0, 0, :, 7].abs().sum() == 0 and mine.grad_input[0, 0, :, 6].abs().sum() > 0


def test_wrong_shapes_are_plain_errors():
    spec = ConvSpec(2, 4, 3)
    with pytest.raises(ConvConfigError, match="grad_output"):
        gradients(spec, torch.zeros(1, 2, 5, 5), torch.zeros(weight_shape(spec)), torch.zeros(1, 4, 5, 5))
    with pytest.raises(ConvConfigError, match="weight"):
        gradients(spec, torch.zeros(1, 2, 5, 5), torch.zeros(4, 2, 2, 2), torch.zeros(1, 4, 3, 3))
    with pytest.raises(ConvConfigError, match="in_channels"):
        gradients(spec, torch.zeros(1, 3, 5, 5), torch.zeros(weight_shape(spec)), torch.zeros(1, 4, 3, 3))
