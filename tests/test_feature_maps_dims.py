"""Feature maps of 1-D and 3-D layers: the generated chirp / clip through the layer equals a real nn.Conv1d / Conv3d."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab.core.errors import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.features.signals import clip_png, run_sample, sample_clip, sample_signal, signal_png

from conftest import n_examples


@settings(max_examples=n_examples(100), deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 9), st.integers(1, 3), st.integers(1, 3),
       st.sampled_from([0, 1, 2, "same", "causal"]), st.integers(8, 300), st.integers(0, 50), st.booleans())
def test_1d_maps_are_a_real_conv1d_on_the_chirp(c_in, c_out, k, s, d, padding, length, seed, relu):
    try:
        spec = ConvSpec(c_in, c_out, k, 1 if padding == "same" else s, padding, d, dims=1)
        run = run_sample(spec, (length,), seed, relu)
    except ConvConfigError:
        assume(False)
    np.testing.assert_array_equal(run.x[0].numpy(), sample_signal(c_in, length, seed))
    real = nn.Conv1d(c_in, c_out, k, spec.stride_nd, 0 if padding == "causal" else padding, d)
    with torch.no_grad():
        real.weight.copy_(run.module.weight)
        real.bias.zero_()
        x = F.pad(run.x, (d * (k - 1), 0)) if padding == "causal" else run.x
        expected = real(x)
        expected = torch.relu(expected) if relu else expected
    assert run.torch_size == expected.shape
    torch.testing.assert_close(run.output, expected)
    if padding == "causal" and s == 1:
        assert run.torch_size[-1] == length


@settings(max_examples=n_examples(40), deadline=None)
@given(st.integers(1, 2), st.integers(1, 4), st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
       st.integers(0, 1), st.integers(2, 8), st.integers(4, 24))
def test_3d_maps_are_a_real_conv3d_on_the_clip(c_in, c_out, kernel, padding, depth, side):
    try:
        spec = ConvSpec(c_in, c_out, kernel, 1, padding, dims=3)
        run = run_sample(spec, (depth, side, side))
    except ConvConfigError:
        assume(False)
    real = nn.Conv3d(c_in, c_out, kernel, padding=padding)
    with torch.no_grad():
        real.weight.copy_(run.module.weight)
        real.bias.zero_()
        expected = real(torch.from_numpy(sample_clip(c_in, depth, side, side))[None])
    torch.testing.assert_close(run.output, expected)


def test_pictures_and_caps():
    assert signal_png(run_sample(ConvSpec(1, 12, 5, dims=1), (100,)))[:4] == b"\x89PNG"
    assert clip_png(run_sample(ConvSpec(1, 6, 3, dims=3), (6, 12, 12)))[:4] == b"\x89PNG"
    clip = sample_clip(1, 5, 12, 12)[0]
    centres = [np.argwhere(frame).mean(axis=0) for frame in clip]
    assert all((b > a).all() for a, b in zip(centres, centres[1:]))  # the square moves every frame
    try:
        run_sample(ConvSpec(64, 64, 7, dims=3), (64, 64, 64))
    except ConvConfigError as exc:
        assert exc.why
    else:
        raise AssertionError("a layer above the work cap ran")
