"""The Shape Lab's pictures drawn in their worker are the ones drawn in the server (issue 17)."""

from __future__ import annotations

import pytest

from conv_lab import ConvConfigError
from conv_lab.core.spec import ConvSpec
from conv_lab.lab import pictures

LAYERS = [(ConvSpec(3, 16, 3, stride=2, padding=1), (32, 32)),
          (ConvSpec(4, 8, 5, groups=2, stride=2, transposed=True, output_padding=1), (7, 9)),
          (ConvSpec(2, 6, 3, padding="causal", dims=1), (20,)),
          (ConvSpec(3, 4, 3, padding=1, dims=3), (4, 8, 8))]


@pytest.fixture
def fresh_workers():
    pictures.WORKER.shutdown()
    pictures._drawn.clear()
    yield
    pictures.WORKER.shutdown()


def test_pictures_from_the_worker_equal_the_ones_drawn_here(fresh_workers):
    drawn_here = pictures._here.cache_stats()["misses"]
    for spec, size in LAYERS:
        out = spec.output_shape((1, spec.in_channels, *size))[2:]
        later = pictures.start_layer_pictures(spec, size, out)  # as the page does: started first, taken last
        here = pictures.layer_pictures(spec, size, out, in_process=True)
        assert later() == here and pictures.layer_pictures(spec, size, out) == here
        assert here[0][0][:4] == here[1][0][:4] == b"\x89PNG"
    assert pictures.WORKER.pids(), "no picture worker drew them"
    assert len(pictures._drawn) == len(LAYERS), "the worker's pictures were not kept for the next student"
    assert pictures._here.cache_stats()["misses"] - drawn_here <= len(LAYERS), "the server drew more than the check"


def test_an_impossible_layer_is_a_plain_error_from_the_worker_too(fresh_workers):
    with pytest.raises(ConvConfigError) as here:
        pictures.layer_pictures(ConvSpec(1, 1, 5), (3, 3), (1, 1), in_process=True)
    with pytest.raises(ConvConfigError) as there:
        pictures.layer_pictures(ConvSpec(1, 1, 5), (3, 3), (1, 1))
    assert (there.value.param, there.value.fix) == (here.value.param, here.value.fix)


def test_a_killed_worker_is_replaced_and_the_next_pictures_come_from_the_new_one(fresh_workers):
    from test_worker_faults import _kill

    spec = ConvSpec(5, 7, 3, stride=2)
    pictures.layer_pictures(spec, (11, 11), (5, 5))
    (old,) = pictures.WORKER.pids()
    _kill(old)
    spec = ConvSpec(5, 7, 3, stride=3)
    here = pictures._here.cache_stats()["misses"]
    shown = pictures.layer_pictures(spec, (11, 11), (3, 3))
    (new,) = pictures.WORKER.pids()
    assert new != old and pictures._here.cache_stats()["misses"] == here, "drawn in the server, not a new worker"
    assert shown == pictures.layer_pictures(spec, (11, 11), (3, 3), in_process=True)
