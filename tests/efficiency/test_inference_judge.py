"""``efficiency.inference``'s verdict (:func:`judge_inference`) on timings built by hand:
a median single-row latency above ``latency_budget_ms`` fails, a p95 above it warns, and
the recommended batch size is the fastest whose p95 call time meets the budget. No
model and no clock: each case runs in microseconds."""

from __future__ import annotations

import time

import numpy as np

from assay.efficiency._timing import Timing
from assay.efficiency.inference import InferenceMeasured, judge_inference


def timing(p50_ms: float, p95_ms: float, batch: int = 1) -> Timing:
    """21 call times whose median is ``p50_ms`` and whose 95th percentile is ``p95_ms``
    (np.percentile, linear: the 11th and the 20th of the sorted values)."""
    ms = np.r_[np.full(10, p50_ms / 2), p50_ms, np.full(8, p50_ms), p95_ms, p95_ms * 1.5]
    return Timing(batch, np.sort(ms) / 1e3, 3)


def measured(single: Timing, batches: tuple[Timing, ...] = ()) -> InferenceMeasured:
    batches = batches or (single,)
    return InferenceMeasured(
        "predict on pandas", 256, single, batches, 1_000, 2_000, "", 1, 4, {}, 3.0, 0.1
    )


def status(p50_ms: float, p95_ms: float, budget: float = 100.0) -> str:
    return judge_inference(measured(timing(p50_ms, p95_ms)), latency_budget_ms=budget).status


def test_the_constructed_timings_have_the_percentiles_asked_for():
    t = timing(40.0, 90.0)
    assert (t.p50_ms, t.p95_ms) == (40.0, 90.0)


def test_a_fast_model_passes():
    assert status(5.0, 12.0) == "pass"
    assert status(60.0, 100.0) == "pass"  # p95 at the budget is within it


def test_a_slow_tail_warns():
    assert status(60.0, 100.01) == "warn"
    assert status(100.0, 400.0) == "warn"  # median at the budget: only the tail misses


def test_a_slow_median_fails():
    assert status(100.01, 120.0) == "fail"
    assert status(500.0, 900.0, budget=100.0) == "fail"


def test_the_recommended_batch_is_the_fastest_within_the_budget():
    single = timing(1.0, 2.0)
    b1, b64 = timing(1.0, 2.0, batch=1), timing(20.0, 40.0, batch=64)
    b1024 = timing(150.0, 300.0, batch=1024)  # fastest, but its calls take too long
    m = measured(single, (b1, b64, b1024))
    v = judge_inference(m, latency_budget_ms=100.0)
    assert v.recommended is b64
    assert m.fastest is b1024
    assert judge_inference(m, latency_budget_ms=300.0).recommended is b1024
    assert judge_inference(m, latency_budget_ms=1.0).recommended is None


def test_judging_takes_microseconds():
    m = measured(timing(40.0, 90.0))
    start = time.perf_counter()
    for _ in range(200):
        judge_inference(m, latency_budget_ms=100.0)
    assert (time.perf_counter() - start) / 200 < 1e-3  # tens of us (NumPy percentiles)
