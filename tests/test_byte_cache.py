"""Caches bounded in bytes, not only in entries (issue 17 item 5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
import torch

from conv_lab import limits
from conv_lab.byte_cache import approx_nbytes, byte_lru_cache
from conv_lab.core.state import LabConfig
from conv_lab.render.pool import shared_render
from conv_lab.sweep.data import SweepRequest, build_sweep


@dataclass(frozen=True)
class _Holder:
    grid: np.ndarray
    label: str


def test_evicts_by_bytes_below_the_entry_cap():
    """Ten entries are allowed, but three 40 kB results overflow a 100 kB budget: the oldest goes."""
    calls: list[int] = []

    @byte_lru_cache(max_bytes=100_000, maxsize=10)
    def block(n: int) -> np.ndarray:
        calls.append(n)
        return np.zeros(40_000, np.uint8) + n

    for n in (1, 2, 3):
        block(n)
    assert block.cache_info().currsize == 2  # an entries-only cache would hold 3
    assert block.cache_bytes() <= 100_000
    block(1)  # evicted: computed again
    assert calls == [1, 2, 3, 1]
    block(3)  # still cached
    assert calls == [1, 2, 3, 1]


def test_recently_used_entries_survive():
    @byte_lru_cache(max_bytes=100_000, maxsize=None)
    def block(n: int) -> bytes:
        return bytes(30_000)

    block(1), block(2), block(3)
    block(1)  # now the most recent: 2 is the oldest
    block(4)
    hits = block.cache_info().hits
    block(1), block(3), block(4)
    assert block.cache_info().hits == hits + 3
    assert block.cache_info().currsize == 3


def test_a_result_larger_than_the_budget_is_returned_but_not_kept():
    @byte_lru_cache(max_bytes=10_000, maxsize=4)
    def block(n: int) -> bytes:
        return bytes(n)

    block(100)
    assert len(block(50_000)) == 50_000
    assert block.cache_info().currsize == 1  # the small entry was not pushed out either


def test_count_key_charges_the_arguments():
    @byte_lru_cache(max_bytes=50_000, maxsize=8, count_key=True)
    def length(data: bytes) -> int:
        return len(data)

    for i in range(4):
        length(bytes([i]) * 20_000)
    assert length.cache_info().currsize == 2  # each key holds 20 kB


def test_entry_cap_still_applies():
    @byte_lru_cache(max_bytes=10**9, maxsize=3)
    def same(n: int) -> int:
        return n

    for n in range(10):
        same(n)
    assert same.cache_info().currsize == 3


def test_keyword_arguments_are_part_of_the_key():
    @byte_lru_cache(max_bytes=10**6)
    def add(a: int, b: int = 0) -> int:
        return a + b

    assert add(1, b=2) == 3 and add(1, b=3) == 4 and add(1) == 1
    assert add.cache_info().currsize == 3


def test_shared_render_evicts_by_bytes():
    @shared_render(maxsize=10, max_bytes=100_000)
    def render(n: int) -> bytes:
        return bytes(40_000)

    for n in range(5):
        render(n)
    stats = render.cache_stats()
    assert stats["size"] == 2 and stats["bytes"] <= 100_000
    render.cache_clear()
    assert render.cache_stats()["bytes"] == 0


@pytest.mark.parametrize("value, at_least", [
    (np.zeros((50, 50)), 20_000),
    (torch.zeros(1000), 4000),
    (_Holder(np.zeros(5000, np.uint8), "x"), 5000),
    ({"a": b"x" * 3000, "b": ["y" * 2000]}, 5000),
])
def test_approx_nbytes_counts_the_buffers(value, at_least):
    assert at_least <= approx_nbytes(value) < at_least + 2000


def test_approx_nbytes_counts_a_view_by_its_base_once():
    base = np.zeros(100_000, np.uint8)
    assert approx_nbytes((base[:10], base[10:20], base)) < 100_000 + 1000


def test_build_sweep_stays_within_its_byte_budget():
    """Sixteen 7.4 MB sweeps (16×242×242 padded cells) fit the entry cap of 64 but not the byte budget."""
    build_sweep.cache_clear()
    try:
        for seed in range(16):
            build_sweep(SweepRequest(LabConfig(16, 240, 240, 16), "conv", 0, "int", seed))
        assert 16 * 7_000_000 > limits.SWEEP_CACHE_BYTES  # else this test would not test the budget
        assert build_sweep.cache_bytes() <= limits.SWEEP_CACHE_BYTES
        assert 1 <= build_sweep.cache_info().currsize < 16
    finally:
        build_sweep.cache_clear()
