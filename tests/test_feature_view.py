"""Feature maps drawn in the render worker (issue 17): the same pictures and facts as the run drawn in the server."""

from __future__ import annotations

import pytest

from conv_lab import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.features import view as feature_views
from conv_lab.features.figures import enlarged_image, input_image, maps_grid_image
from conv_lab.features.images import sample_picture
from conv_lab.features.patch import cell_patch
from conv_lab.features.runs import run_feature_maps
from conv_lab.render import pool as render_pool

CASES = [  # spec, image, height, width, bank, seed, relu, own_size, per_map, filter, patch, cell
    (ConvSpec(3, 8, 3, padding=1), "scene", 32, 32, "classic", 0, False, False, True, 2, False, (0, 0)),
    (ConvSpec(3, 6, 5, stride=2, groups=3), "scene", 40, 30, "random", 7, True, False, False, 9, True, (3, 99)),
    (ConvSpec(1, 4, 3, dilation=2, padding=2, padding_mode="reflect"), "scene", 24, 24, "classic", 0,
     False, False, True, 1, True, (5, 6)),
]


@pytest.fixture
def fresh_workers():
    render_pool.shutdown_workers()
    yield
    render_pool.shutdown_workers()


@pytest.mark.parametrize("case", CASES, ids=["plain", "grouped-relu-patch-clamped", "dilated-reflect-patch"])
def test_the_view_is_the_run_drawn_as_the_page_drew_it(case):
    spec, image, height, width, bank, seed, relu, own_size, per_map, index, patch, cell = case
    view = feature_views.feature_view(spec, image, height, width, bank, seed, relu, own_size, per_map, index, patch,
                                      cell, in_process=True)
    run = run_feature_maps(spec, sample_picture(image), height, width, bank, seed, relu, own_size)
    chosen = min(index, len(run.filters) - 1)
    clamped = tuple(min(max(0, v), n - 1) for v, n in zip(cell, run.maps.shape[1:]))
    window = cell_patch(spec, run.prepared.array.shape[1:], clamped) if patch else None
    assert (view.filter, view.cell, view.torch_size) == (chosen, clamped, tuple(run.torch_size))
    assert (view.input_png, view.input_caption) == input_image(run)
    assert (view.grid_png, view.grid_caption) == maps_grid_image(run, per_map, chosen)
    assert view.big_png == enlarged_image(run, chosen, per_map=per_map, patch=window)
    assert view.filter_names == tuple(f.name for f in run.filters) and view.notices == tuple(run.notices)
    assert view.patch_text == (window.text(spec.padding_mode) if window else "")


def test_views_from_the_worker_equal_the_ones_drawn_here(fresh_workers):
    misses = feature_views._in_worker.cache_stats()["misses"]  # counted since the process started (other tests too)
    for spec, image, *rest in CASES:
        here = feature_views.feature_view(spec, image, *rest, in_process=True)
        assert feature_views.feature_view(spec, image, *rest) == here
    assert render_pool.worker_pids(), "no render worker drew them"
    assert feature_views._in_worker.cache_stats()["misses"] == misses + len(CASES)


def test_a_layer_over_the_cap_is_a_plain_error_from_the_worker_too(fresh_workers):
    spec = ConvSpec(3, 512, 15, padding=7)
    with pytest.raises(ConvConfigError) as here:
        feature_views.feature_view(spec, "scene", 512, 512, in_process=True)
    with pytest.raises(ConvConfigError) as there:
        feature_views.feature_view(spec, "scene", 512, 512)
    assert type(there.value) is type(here.value) and (there.value.param, there.value.fix) == (here.value.param,
                                                                                            here.value.fix)
