"""Issue #17: no request runs more than its share of the server, and the small gaps against torch are closed."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab import ConvConfigError, ConvSpec, compare, limits
from conv_lab.core.costs import conv_path, estimated_seconds, smaller_input_that_fits, work_check
from conv_lab.core.errors import WorkCapError
from conv_lab.core.grid import padded_grid
from conv_lab.network import torch_run as network_torch
from conv_lab.network.codec import decode_network
from conv_lab.network.plan import plan
from conv_lab.sweep.steps import sweep_steps

from conftest import n_examples, run_app

# The requests the issue measured: each took seconds of CPU or gigabytes before it was refused.
HEAVY = [
    # Shape Lab: passed the MAC check, 1.85 s of CPU and 403 MB (transposed, depthwise, dilated: the slow paths)
    (ConvSpec(256, 256, 15, padding=7, dilation=8, groups=256, transposed=True), (1, 256, 150, 150)),
    # replicate padding of 512: the padded copy is 4× the tensor cap (794 MB peak)
    (ConvSpec(15, 15, 3, stride=64, padding=512, padding_mode="replicate"), (1, 15, 1024, 1024)),
    # a depthwise 15×15 kernel on a large map: 1.6 ns per MAC
    (ConvSpec(512, 512, 15, padding=7, groups=512), (1, 512, 256, 256)),
]


@pytest.mark.parametrize("spec, shape", HEAVY)
def test_heavy_layers_are_refused_before_running_with_the_cap_and_a_layer_that_fits(spec, shape):
    with pytest.raises(WorkCapError) as caught:
        compare(spec, shape)
    exc = caught.value
    assert "cap" in exc.why and "formula above still holds" in exc.why and exc.fix
    assert spec.output_shape(shape)  # the formula still answers
    smaller = smaller_input_that_fits(spec, shape)
    if smaller is not None:  # the layer it names really fits, and really runs
        assert "×".join(map(str, smaller[-3:])) in exc.fix
        work_check(spec, smaller)
        assert tuple(compare(spec, smaller).torch_shape) == spec.output_shape(smaller)


def test_the_padded_copy_is_named_when_only_it_is_over_the_cap():
    exc = pytest.raises(WorkCapError, compare, *HEAVY[1]).value
    assert exc.param == "padding" and "less padding" in exc.fix and "padded input" in exc.why


@settings(max_examples=n_examples(200, 30), deadline=None)
@given(st.sampled_from([1, 4, 16, 64]), st.sampled_from([1, 2, 4]), st.sampled_from([1, 3, 7]),
       st.sampled_from([1, 2]), st.booleans(), st.sampled_from(["dense", "depthwise", "grouped"]))
def test_the_cost_model_is_a_cap_on_every_path(channels, stride, kernel, dilation, transposed, groups_kind):
    groups = {"dense": 1, "depthwise": channels, "grouped": 2 if channels % 2 == 0 else 1}[groups_kind]
    spec = ConvSpec(channels, channels, kernel, stride, kernel // 2 * dilation, dilation, groups, transposed=transposed)
    shape = (1, channels, 64, 64)
    seconds = estimated_seconds(spec, shape)
    assert seconds > 0
    expected = ("transposed grouped" if groups > 1 else "transposed") if transposed else \
        "dense" if groups == 1 else "depthwise" if groups == channels else "grouped"
    assert conv_path(spec) == expected
    if seconds > limits.MAX_REQUEST_SECONDS:
        pytest.raises(WorkCapError, work_check, spec, shape)


def test_numpy_integers_are_plain_ints_for_torch():
    for name, value in [("padding", np.int64(1)), ("stride", np.int32(2)), ("dilation", np.int64(2)),
                        ("groups", np.int64(3)), ("kernel_size", (np.int16(3), 3)), ("in_channels", np.int64(3))]:
        kwargs = {"in_channels": 3, "out_channels": 6, "kernel_size": 3, name: value}
        spec = ConvSpec(**kwargs)
        plain = ConvSpec(**{k: (tuple(int(x) for x in v) if isinstance(v, tuple) else int(v)) if k == name else v
                            for k, v in kwargs.items()})
        assert spec == plain and hash(spec) == hash(plain)
        assert tuple(compare(spec, (1, 3, 9, 9)).torch_shape) == plain.output_shape((1, 3, 9, 9))
        assert type(spec.to_module()).__name__ == "Conv2d"


def test_padded_grid_takes_a_batch_of_one_and_refuses_other_ranks_plainly():
    spec = ConvSpec(1, 1, 3, padding=1)
    assert padded_grid(spec, np.zeros((1, 1, 4, 4))).shape == (1, 6, 6)
    for bad in (np.zeros((2, 1, 4, 4)), np.zeros((4, 4)), [["a"]]):
        with pytest.raises(ConvConfigError) as caught:
            padded_grid(spec, bad)
        assert caught.value.param == "input" and caught.value.fix


@pytest.mark.parametrize("out_channel", [1.5, "0", None, True, -1, 6])
def test_a_filter_index_that_is_not_a_filter_is_a_plain_error(out_channel):
    spec = ConvSpec(2, 6, 3)
    with pytest.raises(ConvConfigError) as caught:
        sweep_steps(spec, np.zeros((2, 5, 5)), np.zeros((2, 3, 3)), out_channel=out_channel)
    assert caught.value.param == "filter"


@settings(max_examples=n_examples(60, 15), deadline=None)
@given(st.sampled_from([(4, 6, 2), (6, 6, 3), (4, 4, 4), (3, 6, 1)]), st.booleans(), st.integers(0, 2**16))
def test_sweep_steps_take_the_modules_whole_weight_for_every_filter(channels, transposed, seed):
    c_in, c_out, groups = channels
    spec = ConvSpec(c_in, c_out, 3, stride=2 if transposed else 1, padding=1, groups=groups, transposed=transposed)
    torch.manual_seed(seed)
    module = spec.to_module().double()
    x = torch.randn(1, c_in, 5, 5, dtype=torch.float64)
    with torch.no_grad():
        y = module(x)[0].numpy()
    weight = module.weight.detach().numpy()
    for o in range(c_out):
        steps = sweep_steps(spec, x.numpy(), weight, float(module.bias[o].detach()), out_channel=o)
        np.testing.assert_allclose(steps.values(), y[o], atol=1e-9)


def test_adaptive_pool_of_one_after_flatten_follows_torch():
    ok = plan((2, 3, 8, 8), [("Flatten", ""), ("AdaptiveAvgPool2d", "output_size=1")])
    refused = plan((2, 3, 8, 8), [("Flatten", ""), ("AdaptiveAvgPool2d", "output_size=(1, 1)")])
    real = torch.nn.AdaptiveAvgPool2d(1)(torch.zeros(2, 192))
    assert ok.ok and ok.output_shape == tuple(real.shape)
    with pytest.raises(ValueError):
        torch.nn.AdaptiveAvgPool2d((1, 1))(torch.zeros(2, 192))
    assert refused.broken == 2
    assert network_torch.run_plan(ok).shapes[-1] == tuple(real.shape)
    assert network_torch.run_plan(refused).failed == 2


@pytest.fixture
def cpu_runs(monkeypatch):
    """Every layer the planner runs on the CPU (the real run still happens; this only records it)."""
    seen = []
    real = network_torch._run_on_cpu

    def recording(kind, kwargs, x):
        seen.append((kind, tuple(x.shape)))
        return real(kind, kwargs, x)

    monkeypatch.setattr(network_torch, "_run_on_cpu", recording)
    network_torch.cache_clear()
    return seen


@pytest.mark.parametrize("net", ["I1x21x21-T1024k64s64", "A3c1-T1024k64s64-G8192-A3c1-Fs8"])
def test_a_layer_the_planner_rejects_for_a_cap_is_never_run(net, cpu_runs):
    try:
        shape, rows, _ = decode_network(net)
    except ConvConfigError:
        return  # refused before planning: nothing runs at all
    result = plan(shape, rows)
    run = network_torch.run_plan(result)
    if result.broken and result.rows[result.broken - 1].over_cap:
        assert run.failed == result.broken and run.error == network_torch.NOT_RUN
    assert all(np.prod(s) <= limits.MAX_TENSOR_ELEMENTS for _, s in cpu_runs)


def test_the_planner_spends_at_most_one_request_budget_on_cpu_checks(cpu_runs):
    rows = [("ConvTranspose2d", f"out_channels={224 + i % 5}, kernel_size=3, padding=1") for i in range(64)]
    result = plan((1, 224, 64, 64), rows)
    run = network_torch.run_plan(result)
    assert result.ok and run.failed is None and len(run.shapes) == 64
    spent = sum(network_torch.cpu_seconds("ConvTranspose2d", dict(r.kwargs), torch.zeros(r.in_shape, device="meta"))
                for r, device in zip(result.rows, run.devices) if device == "cpu")
    assert 1 <= len(cpu_runs) < 64 and spent <= limits.MAX_REQUEST_SECONDS
    assert run.devices.count("cpu") == len(cpu_runs)


def test_the_shape_lab_shows_the_cap_for_the_issues_link():
    at = run_app(query={"input": "256x150x150", "filters": "256", "kernel": "15", "dilation": "8", "padding": "7",
                        "groups": "256", "transposed": "1"})
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "s of CPU" in text and "cap" in text and "fits" in text
