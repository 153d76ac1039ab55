"""Convolution as a matrix for 1-D layers (causal included), and the plain refusal of 3-D ones: torch is the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.matrix.geometry import conv_matrix, geometry
from conv_lab.matrix.pictures import MatrixChoice, im2col_picture, matrix_picture, product_picture, window_picture
from conv_lab.matrix.run import im2col, matrix_example, transpose_check
from conv_lab.matrix.text import ambiguity, dims_notice, matrix_story, same_output_sizes

from conftest import n_examples


@st.composite
def conv1d_layers(draw, modes=("zeros", "reflect", "replicate", "circular")):
    """A small valid Conv1d (any padding incl. 'same' and 'causal', mode, dilation, groups) and its length."""
    groups = draw(st.integers(1, 2))
    stride, dilation = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    padding = draw(st.one_of(st.integers(0, 3), st.sampled_from(["same", "valid", "causal", "causal"])))
    mode = "zeros" if padding == "causal" else draw(st.sampled_from(modes))
    if padding == "same":
        stride = 1
    try:
        spec = ConvSpec(groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 3)), draw(st.integers(1, 4)),
                        stride, padding, dilation, groups, draw(st.booleans()), mode, dims=1)
        length = draw(st.integers(1, 12))
        geom = geometry(spec, 1, length)
    except ConvConfigError:
        assume(False)
    assume(geom.buildable)
    return spec, length


@st.composite
def transposed1d_layers(draw):
    """A small valid ConvTranspose1d and its length."""
    groups, stride, dilation = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 2))
    try:
        spec = ConvSpec(groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2)), draw(st.integers(1, 4)),
                        stride, draw(st.integers(0, 2)), dilation, groups, draw(st.booleans()), transposed=True,
                        output_padding=draw(st.integers(0, max(stride, dilation) - 1)), dims=1)
        length = draw(st.integers(1, 6))
        geom = geometry(spec, 1, length)
    except ConvConfigError:
        assume(False)
    assume(geom.buildable)
    return spec, length


def _layer(spec: ConvSpec, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    module = spec.to_module().double()
    assert type(module).__name__ == spec.module_name  # the real nn.Conv1d / nn.ConvTranspose1d
    return module


def _forward(spec: ConvSpec, module: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The layer as a learner writes it: causal = F.pad on the left by d·(k−1), then the Conv1d (padding=0)."""
    left = spec.dilation_nd[0] * (spec.kernel_nd[0] - 1) if spec.padding == "causal" else 0
    return module(F.pad(x, (left, 0)) if left else x)


def _weight(module: torch.nn.Module) -> np.ndarray:
    w = module.weight.detach().numpy()
    return w.reshape(*w.shape[:2], 1, w.shape[-1])


@settings(max_examples=n_examples(150))
@given(conv1d_layers(), st.integers(0, 10_000))
def test_c_times_x_is_the_real_conv1d_output(layer, seed):
    spec, length = layer
    module = _layer(spec, seed)
    x = torch.randn(1, spec.in_channels, length, dtype=torch.float64)
    with torch.no_grad():
        expected = _forward(spec, module, x)[0].numpy()
    geom = geometry(spec, 1, length)
    c = conv_matrix(geom, _weight(module))
    assert c.shape == (spec.out_channels * expected.shape[-1], spec.in_channels * length)  # rows: positions × filters
    bias = module.bias.detach().numpy() if spec.bias else np.zeros(spec.out_channels)
    got = (c @ x.numpy().ravel()).reshape(expected.shape) + bias[:, None]
    np.testing.assert_allclose(got, expected, atol=1e-9)
    example = matrix_example(spec, 1, length, seed % 7, whole_numbers=bool(seed % 2))
    assert example.max_error < 1e-4 and example.y_module.shape == (spec.out_channels, 1, expected.shape[-1])


@settings(max_examples=n_examples(150))
@given(conv1d_layers(), st.integers(0, 10_000))
def test_c_transpose_is_the_gradient_and_conv_transpose1d(layer, seed):
    spec, length = layer
    module = _layer(spec, seed)
    geom = geometry(spec, 1, length)
    x = torch.randn(1, spec.in_channels, length, dtype=torch.float64, requires_grad=True)
    out = _forward(spec, module, x)
    y = torch.randn(out.shape, dtype=torch.float64)
    (grad,) = torch.autograd.grad(out, x, y)  # the adjoint of the layer, causal padding included
    c_t_y = conv_matrix(geom, _weight(module)).T @ y.numpy().ravel()
    np.testing.assert_allclose(c_t_y, grad.numpy().ravel(), atol=1e-9)
    (left, right), = spec.pad_pairs()
    if spec.padding_mode == "zeros":  # conv_transpose1d over the padded length, the padding cut off (none if 0)
        s, d, k = spec.stride_nd[0], spec.dilation_nd[0], spec.kernel_nd[0]
        op = length + left + right - ((out.shape[-1] - 1) * s + d * (k - 1) + 1)
        z = F.conv_transpose1d(y, module.weight, stride=s, output_padding=op, dilation=d, groups=spec.groups)
        np.testing.assert_allclose(c_t_y, z[0, :, left:left + length].detach().numpy().ravel(), atol=1e-9)
    check = transpose_check(matrix_example(spec, 1, length, seed % 7))
    assert check.max_error < 1e-9 and "conv_transpose1d" in check.code
    assert check.by_torch.shape == (spec.in_channels, 1, length)


@settings(max_examples=n_examples(150))
@given(transposed1d_layers(), st.integers(0, 10_000))
def test_conv_transpose1d_layer_is_c_transpose(layer, seed):
    spec, length = layer
    module = _layer(spec, seed)
    x = torch.randn(1, spec.in_channels, length, dtype=torch.float64)
    with torch.no_grad():
        expected = module(x)[0].numpy()
    geom = geometry(spec, 1, length)
    assert geom.grid_hw == (1, expected.shape[-1]) and geom.out_hw == (1, length)
    bias = module.bias.detach().numpy() if spec.bias else np.zeros(spec.out_channels)
    got = (conv_matrix(geom, _weight(module)).T @ x.numpy().ravel()).reshape(expected.shape) + bias[:, None]
    np.testing.assert_allclose(got, expected, atol=1e-9)
    example = matrix_example(spec, 1, length, seed % 5, whole_numbers=bool(seed % 2))
    assert example.max_error < 1e-4
    assert np.abs(im2col(example).product - example.y_module).max() < 1e-4
    assert transpose_check(example).max_error < 1e-9


@settings(max_examples=n_examples(100))
@given(conv1d_layers(modes=("zeros", "reflect", "circular")), st.integers(0, 1000))
def test_1d_im2col_and_its_shown_code_give_the_real_output(layer, seed):
    spec, length = layer
    example = matrix_example(spec, 1, length, seed % 5)
    result = im2col(example)
    k, out_len = spec.kernel_nd[0], example.y_module.shape[-1]
    assert result.patches.shape == (spec.in_channels * k, out_len)
    assert np.abs(result.product - example.y_module).max() < 1e-4
    if spec.groups == 1:  # the code on the page, run as written on the real layer
        layer_module = spec.to_module().double()
        with torch.no_grad():
            layer_module.weight.copy_(torch.from_numpy(example.weight.reshape(layer_module.weight.shape)))
            if layer_module.bias is not None:
                layer_module.bias.copy_(torch.from_numpy(example.bias))
        scope = {"F": F, "layer": layer_module, "x": torch.from_numpy(example.x[:, 0])[None]}
        code = result.code if spec.bias else result.code.replace(" + layer.bias.view(1, -1, 1)", "")
        exec(code, scope)  # noqa: S102 - our own generated line
        np.testing.assert_allclose(scope["y"].detach().numpy()[0], example.y_module[:, 0], atol=1e-6)


def test_causal_c_never_reads_the_future():
    spec = ConvSpec(1, 1, 3, dilation=2, padding="causal", dims=1)
    example = matrix_example(spec, 1, 9)
    rows, cols = np.nonzero(example.matrix)
    assert (cols <= rows).all() and example.matrix.shape == (9, 9)
    assert "all 4 zeros on the left" in matrix_story(example.geom)
    check = transpose_check(example)
    assert "causal padding puts every zero on the left" in check.note and check.code.endswith("[..., 4:13]")


def test_1d_texts_speak_of_positions_and_one_length():
    geom = geometry(ConvSpec(1, 1, 3, stride=2, padding=1, dims=1), 1, 5)
    assert [a.axis for a in ambiguity(geom)] == ["length"]
    assert ambiguity(geom)[0].sizes == same_output_sizes(3, 3, 2, 1, 1).sizes == (5, 6)
    story = matrix_story(geom)
    assert "output position (3 rows)" in story and "cell" not in story
    choice = MatrixChoice(ConvSpec(2, 2, 3, padding="causal", dims=1), 1, 6, cell=(0, 5))
    for picture in (window_picture, matrix_picture, product_picture, im2col_picture):
        assert picture(choice)[:4] == b"\x89PNG"


@pytest.mark.parametrize("spec", [ConvSpec(1, 1, 3, dims=3), ConvSpec(2, 2, 1, transposed=True, dims=3)])
def test_3d_layers_are_refused_in_plain_words(spec):
    with pytest.raises(ConvConfigError) as info:
        geometry(spec, 4, 4)
    assert info.value.param == "dims" and "2-D" in info.value.fix
    assert "1-D and 2-D" in dims_notice(3) and dims_notice(1) == dims_notice(2) == ""
