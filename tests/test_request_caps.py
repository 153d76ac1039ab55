"""Issue 17, item 3: every page caps a request's total work before anything runs (benchmarks/worst_request.py measures
the worst allowed request per page). Real runs, torch as the oracle; no timings asserted."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from conv_lab import ConvSpec, compare, limits
from conv_lab.core.costs import estimated_seconds, fewer_filters_that_fit, layer_cost, smaller_input_that_fits, work_check
from conv_lab.core.errors import WorkCapError
from conv_lab.core.state import LabConfig
from conv_lab.core.torch_run import build_module, forward
from conv_lab.features.images import sample_picture
from conv_lab.features.runs import page_seconds, run_feature_maps
from conv_lab.matrix.geometry import fold_padding, geometry, padding_operator
from conv_lab.matrix.run import matrix_bundle
from conv_lab.network.flow import follow
from conv_lab.network.plan import parse_rows, plan
from conv_lab.network.torch_run import cpu_seconds, run_plan
from conv_lab.sweep.data import SweepRequest, build_sweep, check_grid_cap, grid_cells
from conv_lab.sweep.oracle import torch_check

from conftest import n_examples, run_app


# ---------------------------------------------------------------- the layer run: zero padding done by F.pad
@pytest.mark.parametrize("spec", [
    ConvSpec(3, 8, 15, padding=7), ConvSpec(2, 4, 4, padding="same"), ConvSpec(2, 4, 3, padding=(1, 2)),
    ConvSpec(4, 4, 3, stride=2, padding=2, dilation=2, groups=2), ConvSpec(3, 5, 3), ConvSpec(3, 5, 3, padding="valid"),
    ConvSpec(3, 5, 3, padding=2, padding_mode="reflect"), ConvSpec(4, 6, 3, stride=2, padding=1, transposed=True),
], ids=str)
def test_forward_is_the_module_output(spec):
    module = build_module(spec, seed=3)
    x = torch.randn(1, spec.in_channels, 11, 9)
    with torch.no_grad():
        got, want = forward(module, x), module(x)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=1e-5)


def test_the_layer_onednn_ran_for_seconds_now_runs_and_agrees_with_the_formula():
    # 3→8 filters 15×15, padding 7, on 3×512×512: passed the cap, then a reference kernel ran it for 9.6 s of CPU
    spec, shape = ConvSpec(3, 8, 15, padding=7), (1, 3, 512, 512)
    work_check(spec, shape)
    result = compare(spec, shape)
    assert result.agree and tuple(result.torch_shape) == (1, 8, 512, 512)


# ---------------------------------------------------------------- the cost model's new terms
def test_one_filter_is_estimated_like_a_block_of_eight():
    shape = (1, 64, 64, 64)
    one = estimated_seconds(ConvSpec(64, 1, 7, padding=3), shape)
    eight = estimated_seconds(ConvSpec(64, 8, 7, padding=3), shape)
    macs_one = layer_cost(ConvSpec(64, 1, 7, padding=3), shape).macs
    assert one > 0.8 * eight  # the output channels run in blocks of limits.CHANNEL_BLOCK
    assert one * 1e9 >= macs_one * limits.CHANNEL_BLOCK * limits.NS_PER_MAC["dense"]


def test_every_weight_is_counted():
    spec = ConvSpec(256, 512, 15, padding=7)
    weights = layer_cost(spec, (1, 256, 1, 1)).weight_params
    assert estimated_seconds(spec, (1, 256, 1, 1)) * 1e9 >= weights * limits.NS_PER_WEIGHT


HEAVY = [  # passed the old cost model; each took 0.4-2.8 s of server CPU in one Shape Lab request
    (ConvSpec(256, 1, 15, padding=7), (1, 256, 186, 186)),  # one filter: a whole channel block's work
    (ConvSpec(256, 512, 15, padding=7), (1, 256, 8, 8)),  # 29.5 M weights to draw and reorder
    (ConvSpec(256, 512, 15, stride=8, output_padding=7, transposed=True), (1, 256, 8, 8)),
    (ConvSpec(256, 128, 3, padding=1, groups=128), (1, 256, 248, 248)),  # one filter per group
]


@pytest.mark.parametrize("spec, shape", HEAVY, ids=[str(s) for s, _ in HEAVY])
def test_layers_the_model_underestimated_are_refused_with_the_cap_and_a_layer_that_fits(spec, shape):
    with pytest.raises(WorkCapError) as caught:
        compare(spec, shape)
    exc = caught.value
    assert f"cap of {limits.MAX_REQUEST_SECONDS} s" in exc.why and "e.g." in exc.fix
    smaller = smaller_input_that_fits(spec, shape)
    if smaller is not None:
        assert "×".join(map(str, smaller[-3:])) in exc.fix
        assert compare(spec, smaller).agree  # the named input really runs
    else:
        filters = fewer_filters_that_fit(spec, shape)
        assert f"{filters} filters fit" in exc.fix


# ---------------------------------------------------------------- feature maps: the filter bank counts too
def test_feature_maps_refuse_a_layer_whose_filter_bank_is_over_the_cap_and_name_fewer_filters():
    spec, picture = ConvSpec(256, 256, 15, padding=7), sample_picture("scene")
    assert estimated_seconds(spec, (1, 256, 3, 3)) < limits.MAX_REQUEST_SECONDS  # the Shape Lab runs it
    assert estimated_seconds(spec, (1, 256, 3, 3)) + page_seconds(spec, (1, 256, 3, 3)) > limits.MAX_REQUEST_SECONDS
    with pytest.raises(WorkCapError) as caught:
        run_feature_maps(spec, picture, 3, 3, bank="random")
    assert "cap" in caught.value.why
    filters = fewer_filters_that_fit(spec, (1, 256, 3, 3), page_seconds)
    assert filters and f"e.g. {filters} filters fit" in caught.value.fix
    fewer = ConvSpec(256, filters, 15, padding=7)
    run = run_feature_maps(fewer, picture, 3, 3, bank="random")
    assert tuple(run.torch_size) == fewer.output_shape((1, 256, 3, 3))


# ---------------------------------------------------------------- network planner: no huge weights on the CPU
def test_the_planner_checks_a_huge_transposed_layer_on_meta_not_the_cpu():
    # 512→512 kernel 32 on 1×1: 268 M weights (1 GB); it used to be built and run on the CPU (5 s; 1024 channels: 20 s)
    result = plan((1, 512, 1, 1), [("ConvTranspose2d", "out_channels=512, kernel_size=32")])
    assert result.ok
    assert cpu_seconds("ConvTranspose2d", result.rows[0].kwargs, torch.zeros(1, 512, 1, 1, device="meta")) is None
    run = run_plan(result)
    assert run.devices == ("meta",) and run.shapes == ((1, 512, 32, 32),)
    small = plan((1, 16, 4, 4), [("ConvTranspose2d", "out_channels=8, kernel_size=3, stride=2, output_padding=1")])
    assert run_plan(small).devices == ("cpu",)  # a small one is still checked by the CPU kernel


def test_the_skip_fix_search_shares_layer_results_and_still_finds_the_fix():
    rows = [("Conv2d", "out_channels=8, kernel_size=3, padding=1")] * 10 + [("Conv2d", "out_channels=8, kernel_size=3")]
    from conv_lab.network.flow import Skip

    result = plan((1, 8, 32, 32), rows, [Skip("add", 0, 11)])
    assert result.broken == 11
    assert any("padding=1 on layer 11" in fix for fix in result.skips[0].fixes)
    layers = parse_rows(rows)
    memo: dict = {}
    for stop in (5, 11, 11):  # with a shared memo, the same points as the plain formulas
        shared = follow((1, 8, 32, 32), layers, [], stop=stop, memo=memo)
        plain = follow((1, 8, 32, 32), layers, [], stop=stop)
        assert shared.points == plain.points and shared.broken == plain.broken
    assert len(memo) == 2  # the ten padded convs on 32×32 are one formula; the last conv the other


def test_a_63_layer_skip_mismatch_is_planned_with_its_fixes():
    rows = [("Conv2d", "out_channels=8, kernel_size=3")] * 63
    from conv_lab.network.flow import Skip

    result = plan((1, 3, 256, 256), rows, [Skip("add", 0, 63)])
    assert result.broken == 63 and result.skips[0].fixes
    assert limits.MAX_SKIP_FIX_STEPS >= 1


# ---------------------------------------------------------------- matrix: the padding fold without a dense P
@settings(max_examples=n_examples(60, 15), deadline=None)
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 4), st.integers(0, 3), st.integers(1, 2),
       st.sampled_from(["zeros", "reflect", "replicate", "circular"]), st.integers(3, 7), st.integers(0, 5))
def test_fold_padding_is_the_product_with_the_padding_operator(cin, cout, k, p, s, mode, size, seed):
    if mode == "reflect" and p >= size or mode == "circular" and p > size:
        return
    spec = ConvSpec(cin, cout, k, stride=s, padding=p, padding_mode=mode)
    if k > size + 2 * p:
        return
    geom = geometry(spec, size, size)
    values = np.random.default_rng(seed).integers(-3, 4, (5, geom.cols(padded=True))).astype(float)
    assert np.array_equal(fold_padding(values, geom), values @ padding_operator(geom))


def test_a_matrix_whose_padding_operator_would_take_gigabytes_is_built_from_its_entries():
    # 16 channels of 20×20 padded to 52×52, one 1×1 output: C_pad has 43 264 columns, P would be 43 264 × 6 400
    spec = ConvSpec(16, 1, 12, stride=8, padding=16, dilation=4)
    geom = geometry(spec, 20, 20)
    assert geom.buildable and geom.cols(padded=True) * geom.cols() * 8 > 2e9
    bundle = matrix_bundle(spec, 20, 20)
    assert bundle.example.max_error < 1e-4 and bundle.taps.shape == (geom.rows, geom.cols())


# ---------------------------------------------------------------- sweep: grid cap, and the torch check on a block
@settings(max_examples=n_examples(60, 15), deadline=None)
@given(st.integers(1, 3), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3), st.integers(1, 2),
       st.sampled_from(["zeros", "reflect", "replicate", "circular", "same"]), st.booleans(),
       st.sampled_from(["conv", "max", "avg"]), st.integers(6, 12))
def test_grid_cells_is_the_grid_the_sweep_builds(cin, k, p, s, d, mode, transposed, op, size):
    padding = "same" if mode == "same" else (p, p)
    padding_mode = "zeros" if mode == "same" else mode
    if op != "conv" and (transposed or mode == "same" or p > k // 2):
        return
    config = LabConfig(cin, size, size, 2, (k, k), (1, 1) if mode == "same" else (s, s), padding, (d, d), 1, True,
                       padding_mode, transposed and op == "conv", (0, 0))
    request = SweepRequest(config, op)
    try:
        sweep = build_sweep(request)
    except Exception as exc:  # a layer the formula rejects: no grid to compare
        assert type(exc).__name__ in ("ConvConfigError", "WorkCapError")
        return
    assert grid_cells(request) == sweep.grid.size


@pytest.mark.parametrize("config, rows, cols", [
    (LabConfig(3, 12, 10, 2, (3, 3), (1, 1), (2, 2), (1, 1), 1, True, "reflect"), (2, 7), (3, 9)),
    (LabConfig(2, 13, 13, 2, (4, 4), (2, 2), (3, 3), (2, 2), 2, True, "circular"), (0, 4), (1, 3)),
    (LabConfig(2, 9, 9, 2, (4, 4), (1, 1), "same", (1, 1), 1, False, "replicate"), (3, 9), (0, 9)),
    (LabConfig(4, 16, 16, 4, (3, 3), (2, 1), (1, 1), (1, 2), 2), (1, 8), (5, 12)),
    (LabConfig(2, 6, 6, 2, (3, 3), (2, 2), (1, 1), transposed=True, output_padding=(1, 1)), (0, 12), (2, 9)),
])
def test_the_torch_check_of_a_block_matches_the_sweep(config, rows, cols):
    request = SweepRequest(config, "conv", config.out_channels - 1, "float")
    assert torch_check(request, rows, cols) < 1e-9


def test_a_sweep_over_the_grid_cap_is_refused_before_it_is_built_with_an_input_that_fits():
    request = SweepRequest(LabConfig(256, 93, 93, 512, (3, 3), padding=(16, 16), padding_mode="reflect"))
    assert grid_cells(request) > limits.MAX_SWEEP_GRID_CELLS
    with pytest.raises(WorkCapError) as caught:
        build_sweep(request)
    assert f"cap of {limits.MAX_SWEEP_GRID_CELLS:,}" in caught.value.why
    fit = caught.value.fix.split("e.g. input ")[1].split(" fits")[0]
    c, h, w = map(int, fit.split("×"))
    smaller = SweepRequest(request.config.with_values(height=h, width=w))
    check_grid_cap(smaller)
    assert len(build_sweep(smaller)) == smaller.config.spec().output_shape((1, c, h, w))[2] ** 2


# ---------------------------------------------------------------- numpy's BLAS on one thread, like torch
def test_numpys_openblas_is_limited_to_the_servers_thread_count():
    from conv_lab.blas import blas_threads, limit_blas_threads

    before = blas_threads()
    if before is None:
        pytest.skip("numpy here is not built on OpenBLAS: nothing to limit")
    try:
        assert limit_blas_threads(1) and blas_threads() == 1
        a = np.random.default_rng(0).random((300, 300))
        assert np.allclose(a @ np.eye(300), a)  # numpy still multiplies, on one thread
    finally:
        limit_blas_threads(before)
    assert blas_threads() == before


# ---------------------------------------------------------------- the pages: a plain message, never a traceback
def _errors(at) -> list[str]:
    assert not at.exception, [e.value for e in at.exception]
    return [e.value for e in at.error]


def test_shape_lab_names_the_cap_and_an_input_that_fits():
    at = run_app(query={"input": "256x186x186", "filters": "1", "kernel": "15", "padding": "7"})
    errors = _errors(at)
    assert any(f"cap of {limits.MAX_REQUEST_SECONDS} s" in e and "e.g. input 256×" in e for e in errors), errors
    assert any(c.value.startswith("layer = nn.Conv2d(") for c in at.code)  # the formula side still answers


def test_feature_maps_name_the_cap_and_fewer_filters():
    at = run_app("pages/feature-maps.py", {"input": "256x3x3", "filters": "512", "kernel": "15", "padding": "7"})
    errors = _errors(at)
    assert any(f"cap of {limits.MAX_REQUEST_SECONDS} s" in e and "filters fit" in e for e in errors), errors


def test_sweep_names_the_grid_cap_and_an_input_that_fits():
    at = run_app("pages/sweep.py", {"input": "256x93x93", "filters": "512", "kernel": "3", "padding": "16",
                                    "padding_mode": "reflect"})
    errors = _errors(at)
    assert any("cap of 1,000,000" in e and "e.g. input 256×" in e for e in errors), errors
