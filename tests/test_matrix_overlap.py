"""The matrix page's overlap map: non-zeros per row of Cᵀ equal the real ConvTranspose's window counts."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.gradients.check import overlap_counts
from conv_lab.matrix.geometry import geometry, window_counts

from conftest import n_examples


@st.composite
def transposed_layers(draw):
    """A random ConvTranspose1d/2d (channels and groups too: the map is per filter × channel) and its input size."""
    dims = draw(st.sampled_from([1, 2]))
    sizes = tuple(draw(st.integers(1, 7)) for _ in range(dims))
    kernel = tuple(draw(st.integers(1, 5)) for _ in range(dims))
    stride = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding = tuple(draw(st.integers(0, 3)) for _ in range(dims))
    extra = tuple(draw(st.integers(0, 3)) for _ in range(dims))
    groups = draw(st.sampled_from([1, 2]))
    try:
        spec = ConvSpec(2 * groups, 2 * draw(st.integers(1, 2)), kernel, stride, padding, dilation, groups,
                        transposed=True, output_padding=extra, dims=dims)
        geometry(spec, 1 if dims == 1 else sizes[0], sizes[-1])
    except ConvConfigError:
        assume(False)
    return spec, sizes


@settings(max_examples=n_examples(200), deadline=None)
@given(transposed_layers())
def test_window_counts_equal_a_transposed_conv_of_ones(layer):
    """Weights of 1 and an input of 1s: each output cell of the real module sums exactly its windows."""
    spec, sizes = layer
    geom = geometry(spec, 1 if spec.dims == 1 else sizes[0], sizes[-1])
    module = getattr(torch.nn, spec.module_name)(1, 1, spec.kernel_size, spec.stride, spec.padding,
                                                 spec.output_padding, 1, False, spec.dilation)
    torch.nn.init.ones_(module.weight)
    with torch.no_grad():
        truth = module(torch.ones(1, 1, *sizes))[0, 0].round().to(torch.int64).numpy()
    counts = window_counts(geom)
    assert counts.shape == truth.shape
    assert np.array_equal(counts, truth)
    assert np.array_equal(counts, overlap_counts(spec, sizes))  # the gradients page's map says the same


def test_checkerboard_when_kernel_is_not_a_multiple_of_the_stride():
    """Kernel 3, stride 2: counts alternate; kernel 4, stride 2: even inside."""
    uneven = window_counts(geometry(ConvSpec(1, 1, 3, stride=2, transposed=True), 4, 4))
    even = window_counts(geometry(ConvSpec(1, 1, 4, stride=2, padding=1, transposed=True), 4, 4))
    assert sorted(set(uneven.ravel().tolist())) == [1, 2, 4]
    assert set(even[1:-1, 1:-1].ravel().tolist()) == {4}
