"""receptive_field against the real gradient: the support of ∂out[cell]/∂x from autograd on the real nn.Sequential.

Weights are positive, so no two paths cancel: the support is exactly the set of input cells some chain of taps reaches.
It always lies inside the clipped analytic box; its bounding box equals that box on every side where the unclipped box
stays inside the input (conv and average-pooling stacks). Where the box reaches into the padding, dilation holes and
strides may leave the first input cells unread, so there (and for max pooling and transposed layers) only "inside" holds.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from torch import nn

from conv_lab import ConvConfigError, ConvSpec
from conv_lab.gradients.receptive import Pool, receptive_field, receptive_rows

from conftest import n_examples


def pair(lo, hi):
    return st.one_of(st.integers(lo, hi), st.tuples(st.integers(lo, hi), st.integers(lo, hi)))


@st.composite
def stacks(draw, allow_exotic: bool):
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "conv", "avg"] + (["max", "transposed"] if allow_exotic else [])))
        if kind in ("avg", "max"):
            k = draw(st.integers(1, 3))
            dilation = draw(st.integers(1, 2)) if kind == "max" else 1
            # Not dilation with padding: torch's max_pool2d backward then writes past its buffer (MaxPool2d(2, 2, 1, 2)
            # corrupts the heap and aborts the test process). Conv Lab never runs a max pool backward: the planner's
            # measured support pools by a window sum (network.rf_measure).
            padding = draw(st.integers(0, k // 2)) if dilation == 1 else 0
            layers.append(Pool(k, draw(st.integers(1, 3)), padding, dilation, draw(st.booleans())))
            layers[-1] = (kind, layers[-1])
            continue
        transposed = kind == "transposed"
        stride = draw(pair(1, 3))
        kwargs = dict(kernel_size=draw(pair(1, 4)), stride=stride, padding=draw(pair(0, 2)),
                      dilation=draw(pair(1, 3)), transposed=transposed)
        if transposed:
            kwargs["dilation"] = 1
        layers.append((kind, ConvSpec(1, 1, **kwargs)))
    return layers


def module(kind, layer):
    if kind == "avg":
        return nn.AvgPool2d(layer.kernel_size, layer.stride_nd, layer.padding, layer.ceil_mode)
    if kind == "max":
        return nn.MaxPool2d(layer.kernel_size, layer.stride_nd, layer.padding, layer.dilation, ceil_mode=layer.ceil_mode)
    conv = layer.to_module().double()
    with torch.no_grad():
        conv.weight.uniform_(0.5, 1.5)
    return conv


def measured(layers, size, cell):
    net = nn.Sequential(*(module(k, layer) for k, layer in layers)).double()
    x = torch.rand(1, 1, *size, dtype=torch.float64, requires_grad=True)
    y = net(x)
    assume(tuple(y.shape[2:]) == (y.shape[2], y.shape[3]) and all(c < n for c, n in zip(cell, y.shape[2:])))
    y[0, 0, cell[0], cell[1]].backward()
    return x.grad[0, 0] != 0


@pytest.mark.parametrize("exotic", [False, True])
@given(data=st.data())
@settings(max_examples=n_examples(300, 60))
def test_box_matches_autograd_support(exotic, data):
    layers = data.draw(stacks(exotic))
    size = (data.draw(st.integers(4, 20)), data.draw(st.integers(4, 20)))
    specs = [layer for _, layer in layers]
    try:
        out = size
        for _, layer in layers:  # the formula's sizes (also rejects impossible stacks, as torch does)
            out = layer.output_sizes(out) if isinstance(layer, Pool) else layer.output_shape((1, *out))[1:]
            assume(min(out) >= 1)
    except ConvConfigError:
        assume(False)
    cell = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    try:
        support = measured(layers, size, cell)
    except RuntimeError:  # torch's extra pooling rules (e.g. padding vs dilated window): not a receptive-field case
        assume(False)
    rf = receptive_field(specs, (1, *size), cell)
    box = rf.clipped(size)
    rows, cols = torch.nonzero(support.any(dim=1)).flatten(), torch.nonzero(support.any(dim=0)).flatten()
    exact = not any(kind in ("max", "transposed") for kind, _ in layers)
    if not len(rows):  # every chain of taps ends in padding (the box crosses into it); transposed: holes may skip all
        crosses = any(a < 0 or b > n or a == b for a, b, n in zip(rf.start, rf.stop, size))
        assert not exact or crosses, (specs, size, cell, rf)
        return
    bbox = ((int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1))
    for axis in (0, 1):
        assert box[axis][0] <= bbox[axis][0] and bbox[axis][1] <= box[axis][1], (specs, size, cell, rf, bbox)
        if exact:
            if rf.start[axis] >= 0:
                assert bbox[axis][0] == rf.start[axis], (specs, size, cell, rf, bbox)
            if rf.stop[axis] <= size[axis]:
                assert bbox[axis][1] == rf.stop[axis], (specs, size, cell, rf, bbox)
    assert rf.size == tuple(b - a for a, b in zip(rf.start, rf.stop))


def test_worked_example_and_rows():
    specs = [ConvSpec(1, 1, 3, padding=1), ConvSpec(1, 1, 3, stride=2), Pool(2)]
    rf = receptive_field(specs, (1, 1, 16, 16), (2, 1))
    assert rf.jump == (4, 4) and rf.size == (7, 7) and rf.start == (7, 3)
    assert [r.size[0] for r in receptive_rows(specs, (1, 16, 16))] == [3, 5, 7]


def test_cell_outside_the_output_is_a_plain_error():
    with pytest.raises(ConvConfigError, match="not in the"):
        receptive_field([ConvSpec(1, 1, 3)], (1, 5, 5), (3, 0))
