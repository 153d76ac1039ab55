"""The backward sweeps (conv_lab.sweep.backward) compute the same numbers as the explicit engine, which equals
autograd (tests/test_gradients.py): every step's sum is one gradient cell."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from conv_lab import ConvConfigError
from conv_lab.core.state import LabConfig
from conv_lab.gradients.engine import gradients, padded_input_gradient
from conv_lab.sweep.animate import sweep_animation
from conv_lab.sweep.backward import BackwardRequest, backward_values, fold_map

from conftest import n_examples


@st.composite
def configs(draw):
    dims = draw(st.sampled_from([1, 2, 2]))
    groups = draw(st.sampled_from([1, 2]))
    transposed = draw(st.booleans())

    def n(lo, hi):
        return tuple(draw(st.integers(lo, hi)) for _ in range(dims))

    padding = draw(st.sampled_from(["causal", "same"])) if dims == 1 and draw(st.integers(0, 3)) == 0 else n(0, 2)
    config = LabConfig(in_channels=groups * draw(st.integers(1, 2)), height=1 if dims == 1 else draw(st.integers(2, 8)),
                       width=draw(st.integers(2, 9)), out_channels=groups * draw(st.integers(1, 2)),
                       kernel_size=n(1, 3), stride=n(1, 3), padding=padding, dilation=n(1, 2), groups=groups,
                       bias=draw(st.booleans()), transposed=transposed, dims=dims,
                       padding_mode="zeros" if transposed or padding == "causal"
                       else draw(st.sampled_from(["zeros", "reflect", "replicate", "circular"])),
                       output_padding=n(0, 1) if transposed else (0,) * dims)
    try:
        spec = config.spec()
        assume(all(spec.output_shape(config.input_shape())))
        backward_values(config)
    except ConvConfigError:
        assume(False)
    return config


@given(configs(), st.data())
@settings(max_examples=n_examples(200, 40))
def test_backward_sweeps_equal_the_engine(config, data):
    spec = config.spec()
    v = backward_values(config)
    x, w, g = (torch.from_numpy(a) for a in (v.x[None], v.weight, v.grad_output[None]))
    grads = gradients(spec, x, w, g, v.bias)
    channel = data.draw(st.integers(0, spec.in_channels - 1))
    per_in, per_out = spec.in_channels // spec.groups, spec.out_channels // spec.groups
    group = channel // per_in
    filt = data.draw(st.integers(group * per_out, (group + 1) * per_out - 1))
    sweep = BackwardRequest(config, "input", filt, channel).build()
    if spec.transposed:
        expected = grads.grad_input[0, channel]
    else:
        pairs = spec.pad_pairs()
        sizes = tuple(s + a + b for s, (a, b) in zip(config.input_size, pairs))
        expected = padded_input_gradient(spec, g, w, sizes)[0, channel]
    assert np.allclose(sweep.values().reshape(expected.shape), expected.numpy())
    try:
        sweep = BackwardRequest(config, "weight", filt, channel).build()
    except ConvConfigError:  # over the drawn-grid side cap
        return
    if spec.transposed:
        expected = grads.grad_weight[channel, filt % per_out]
    else:
        expected = grads.grad_weight[filt, channel % per_in]
    assert np.allclose(sweep.values().reshape(expected.shape), expected.numpy())


def test_backward_animation_plays_and_exports_a_gif():
    config = LabConfig(1, 5, 5, 1, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))
    animation = sweep_animation(BackwardRequest(config, "input"))
    assert len(animation) == 7 * 7 + 1 and animation.gif_bytes[:6] == b"GIF89a"
    text = " ".join(animation.frame_ops(0).texts[i][3] for i in range(3))
    assert "x.grad (padded) (0, 0) = Σ g × w" in text and "?" not in text
    assert len(sweep_animation(BackwardRequest(config, "weight"))) == 10


def test_three_d_and_wrong_group_are_plain_errors():
    with pytest.raises(ConvConfigError, match="1-D and 2-D"):
        BackwardRequest(LabConfig(dims=3, depth=4, height=4, width=4, kernel_size=(3, 3, 3), stride=(1, 1, 1),
                                  padding=(0, 0, 0), dilation=(1, 1, 1), output_padding=(0, 0, 0))).build()
    with pytest.raises(ConvConfigError, match="does not read"):
        BackwardRequest(LabConfig(2, 5, 5, 2, groups=2), "weight", 1, 0).build()


def test_fold_map_lists_where_padding_gradients_go():
    config = LabConfig(1, 4, 4, 1, padding=(1, 1), padding_mode="circular")
    assert fold_map(config.spec(), 4, 0) == [(0, 3), (5, 0)]
