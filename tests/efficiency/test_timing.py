"""The timing protocol: repetitions, budgets, batch sizes, memory."""

from __future__ import annotations

import time

import numpy as np
import pytest

from assay.efficiency._timing import (
    Runner,
    batch_sizes,
    measure_batch,
    measure_latency,
    one_thread,
    peak_memory_bytes,
    scaled_budget,
    throughput_batch,
    time_calls,
)


def test_batch_sizes_are_powers_of_four_capped_by_rows():
    assert batch_sizes(10_000) == [1, 4, 16, 64, 256, 1024, 4096]
    assert batch_sizes(900) == [1, 4, 16, 64, 256]
    assert batch_sizes(900, max_batch=64) == [1, 4, 16, 64]
    assert batch_sizes(0) == [1]
    assert throughput_batch(900) == 256 and throughput_batch(50_000) == 1024


def test_budget_scales_down_for_small_data():
    assert scaled_budget(3.0, 40_000) == 3.0
    assert scaled_budget(3.0, 10_000) == 1.5
    assert scaled_budget(3.0, 100) == pytest.approx(0.3)  # never below a tenth


def test_min_reps_and_budget_are_respected():
    calls = []
    secs = time_calls(calls.append, [1, 2], budget_s=0.005, min_reps=7, max_reps=7, warmup=2)
    assert secs.size == 7 and len(calls) == 9  # warm-up calls are not timed
    secs = time_calls(lambda x: None, [0], budget_s=0.003, min_reps=1000, max_reps=1000, warmup=0)
    assert secs.size == 1000  # fast calls get their minimum even past the budget
    secs = time_calls(lambda x: None, [0], budget_s=10.0, min_reps=1, max_reps=50, warmup=0)
    assert secs.size == 50  # stops at max_reps
    start = time.perf_counter()
    secs = time_calls(
        lambda x: time.sleep(0.01), [0], budget_s=0.4, min_reps=1000, max_reps=5000, warmup=0
    )
    assert 2 <= secs.size < 100  # a slow call stops after twice the budget
    assert time.perf_counter() - start < 1.5


def test_latency_and_throughput_of_a_known_delay():
    r = Runner("sleep", batch=lambda a, b: b - a, call=lambda n: time.sleep(0.002))
    t = measure_latency(r, n_rows=100, budget_s=0.05, min_reps=5)
    assert t.reps >= 5 and 1.5 < t.p50_ms < 20
    assert t.p50_ms <= t.p95_ms <= t.p99_ms
    b = measure_batch(r, 64, n_rows=256, budget_s=0.05)
    assert b.reps >= 3 and b.rows_per_s < 64 / 0.0015
    assert set(b.to_dict()) >= {"batch_size", "repetitions", "p50_ms", "rows_per_s"}


def test_peak_memory_sees_numpy_allocations():
    r = Runner("alloc", batch=lambda a, b: b - a, call=lambda n: np.ones(n * 1_000_000 // 8))
    assert 35e6 < peak_memory_bytes(r, 40) < 60e6


def test_one_thread_limits_the_pools():
    from threadpoolctl import threadpool_info

    with one_thread():
        assert all(p["num_threads"] == 1 for p in threadpool_info())
