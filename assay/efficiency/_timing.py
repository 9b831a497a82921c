"""Timing protocol shared by the efficiency checks.

A :class:`Runner` says how to build the input of rows ``[start, stop)`` for
one model variant and how to call it. Inputs are built before the clock
starts, so only the prediction call is timed (not reading or converting the
data). Timing runs on one thread (:func:`one_thread`; ONNX sessions made
here get one thread too), as a server running one worker per core does: the
cost of :mod:`._cost` scales that per-core throughput by an instance's
cores, and a busy machine does not turn thread synchronisation into noise.

Each measurement does a few warm-up calls, then repeats the call, with the
garbage collector paused as :mod:`timeit` does, until it has at least
``min_reps`` repetitions and its share of the time budget is spent (or
``max_reps`` is reached). The number of repetitions is recorded with every
figure.

Example
-------
>>> import numpy as np
>>> r = Runner("sum", batch=lambda a, b: np.arange(a, b), call=np.sum)
>>> t = measure_latency(r, n_rows=10, budget_s=0.01, min_reps=5)
>>> t.reps >= 5 and t.p50_ms >= 0
True
"""

from __future__ import annotations

import contextlib
import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

BATCH_SIZES = (1, 4, 16, 64, 256, 1024, 4096)
"""Batch sizes measured (powers of 4), capped by the rows available."""

FULL_BUDGET_ROWS = 20_000
"""Rows from which a check gets its whole time budget; fewer rows get a share."""

MIN_BUDGET_SHARE = 0.1
"""The smallest share of the time budget a check gets (small data)."""

HARD_FLOOR_S = 0.5
"""Seconds a measurement may run to reach its minimum repetitions, whatever its budget."""

SINGLE_ROWS = 64
"""Distinct rows cycled through when timing one row at a time."""


@dataclass(frozen=True)
class Runner:
    """One way to predict: ``call(batch(start, stop))`` predicts rows ``[start, stop)``.

    ``threads`` is how many threads the call may use while timed: 1 under
    :func:`one_thread`, more for an ONNX session Assay did not create.
    """

    name: str
    batch: Callable[[int, int], Any]
    call: Callable[[Any], Any]
    threads: int = 1


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit the BLAS and OpenMP thread pools of this process to one thread."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


@dataclass(frozen=True)
class Timing:
    """Seconds taken by each repetition of one call on ``batch_size`` rows."""

    batch_size: int
    seconds: np.ndarray
    warmup: int

    @property
    def reps(self) -> int:
        return int(self.seconds.size)

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.seconds, q) * 1e3)

    @property
    def p50_ms(self) -> float:
        return self.percentile_ms(50)

    @property
    def p95_ms(self) -> float:
        return self.percentile_ms(95)

    @property
    def p99_ms(self) -> float:
        return self.percentile_ms(99)

    @property
    def rows_per_s(self) -> float:
        """Throughput: rows of the batch over the median call time."""
        median = float(np.median(self.seconds))
        return self.batch_size / median if median > 0 else float("inf")

    def to_dict(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "repetitions": self.reps,
            "warmup_calls": self.warmup,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "rows_per_s": self.rows_per_s,
        }


def scaled_budget(budget_s: float, n_rows: int) -> float:
    """The time budget for ``n_rows``: all of it from :data:`FULL_BUDGET_ROWS` rows,
    proportionally less below (at least :data:`MIN_BUDGET_SHARE` of it)."""
    share = min(1.0, max(MIN_BUDGET_SHARE, n_rows / FULL_BUDGET_ROWS))
    return float(budget_s) * share


def batch_sizes(n_rows: int, max_batch: int = BATCH_SIZES[-1]) -> list[int]:
    """Powers of 4 from 1 up to the rows available and ``max_batch``."""
    return [b for b in BATCH_SIZES if b <= min(n_rows, max_batch)] or [1]


def throughput_batch(n_rows: int, cap: int = 1024) -> int:
    """The batch size at which variants are compared for throughput."""
    return batch_sizes(n_rows, cap)[-1]


def time_calls(
    call: Callable[[Any], Any],
    inputs: Sequence[Any],
    *,
    budget_s: float,
    min_reps: int,
    max_reps: int,
    warmup: int,
) -> np.ndarray:
    """Seconds per call, cycling through ``inputs``, after ``warmup`` untimed calls.

    Stops at ``max_reps``, or once ``min_reps`` are done and ``budget_s`` is
    spent; a call too slow for ``min_reps`` to fit gets at least two
    repetitions, and no more once twice the budget (at least
    :data:`HARD_FLOOR_S`) has passed.
    """
    for i in range(warmup):
        call(inputs[i % len(inputs)])
    times: list[int] = []
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter_ns()
        deadline = start + int(budget_s * 1e9)
        hard = start + int(max(2 * budget_s, HARD_FLOOR_S) * 1e9)
        i = 0
        while i < max_reps:
            x = inputs[i % len(inputs)]
            t0 = time.perf_counter_ns()
            call(x)
            t1 = time.perf_counter_ns()
            times.append(t1 - t0)
            i += 1
            if (i >= min_reps and t1 >= deadline) or (i >= 2 and t1 >= hard):
                break
    finally:
        if gc_was_enabled:
            gc.enable()
    return np.asarray(times, dtype=np.float64) / 1e9


def measure_latency(
    runner: Runner,
    *,
    n_rows: int,
    budget_s: float,
    min_reps: int = 20,
    max_reps: int = 2000,
    warmup: int = 3,
) -> Timing:
    """One row per call, cycling through up to :data:`SINGLE_ROWS` distinct rows."""
    k = max(1, min(n_rows, SINGLE_ROWS))
    inputs = [runner.batch(i, i + 1) for i in range(k)]
    secs = time_calls(
        runner.call, inputs, budget_s=budget_s, min_reps=min_reps, max_reps=max_reps, warmup=warmup
    )
    return Timing(1, secs, warmup)


def measure_batch(
    runner: Runner,
    batch_size: int,
    *,
    n_rows: int,
    budget_s: float,
    min_reps: int = 3,
    max_reps: int = 500,
    warmup: int = 1,
) -> Timing:
    """``batch_size`` rows per call, cycling through up to 3 distinct batches."""
    k = max(1, min(3, n_rows // batch_size))
    inputs = [runner.batch(i * batch_size, (i + 1) * batch_size) for i in range(k)]
    secs = time_calls(
        runner.call, inputs, budget_s=budget_s, min_reps=min_reps, max_reps=max_reps, warmup=warmup
    )
    return Timing(batch_size, secs, warmup)


def peak_memory_bytes(runner: Runner, n_rows: int) -> int:
    """Peak memory allocated during one call on ``n_rows`` rows, by :mod:`tracemalloc`.

    tracemalloc sees what Python and NumPy allocate, not the native buffers
    of libraries such as ONNX Runtime or LightGBM.
    """
    x = runner.batch(0, n_rows)
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        runner.call(x)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not was_tracing:
            tracemalloc.stop()
    return max(0, int(peak - base))


def thread_info() -> dict[str, Any]:
    """Thread pools loaded in this process (BLAS, OpenMP) and their default sizes."""
    try:
        from threadpoolctl import threadpool_info

        pools = [
            {
                "library": p.get("internal_api"),
                "api": p.get("user_api"),
                "threads": p.get("num_threads"),
            }
            for p in threadpool_info()
        ]
    except Exception:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pools = []
    counts = [int(p["threads"]) for p in pools if isinstance(p.get("threads"), int)]
    return {"default_threads": max(counts, default=1), "pools": pools}
