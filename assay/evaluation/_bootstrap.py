"""Vectorized bootstrap: resample counts as a weight matrix, metrics as matrix products.

A bootstrap resample of ``n`` rows is a vector of counts (how often each row
was drawn) that sums to ``n``. :func:`resample_counts` draws ``B`` such vectors
as a ``(B, n)`` matrix, in chunks that bound memory, and the metric plans of
:mod:`assay.evaluation._metrics` evaluate every resample at once. Nothing
here loops over resamples in Python.

Intervals are percentile intervals. Each split draws from its own random
stream (:data:`SPLIT_STREAMS`), so two checks that resample the same split
with the same seed see the same resamples and report the same numbers; two
models scored on the same resamples give a *paired* bootstrap.

Example
-------
>>> import numpy as np
>>> from assay.evaluation._metrics import EvalData
>>> d = EvalData.from_arrays("regression", np.arange(50.0), np.arange(50.0) + 1)
>>> iv = metric_intervals(d, ["mae"], n_resamples=100, seed=0)["mae"]
>>> (iv.value, iv.low, iv.high)
(1.0, 1.0, 1.0)
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assay.evaluation._metrics import EvalData, MetricPlan

if TYPE_CHECKING:
    from assay.core.context import AuditContext

SPLIT_STREAMS = {"test": 0, "train": 1, "current": 2}
"""Random-stream number of each split."""

MAX_CELLS = 2_000_000
"""Cells of the count matrix held at once (about 16 MB of float64)."""

Statistic = Callable[[np.ndarray], Mapping[str, np.ndarray]]


@dataclass(frozen=True)
class Interval:
    """A point estimate and its confidence interval (``None`` where unknown)."""

    value: float | None
    low: float | None = None
    high: float | None = None

    @property
    def width(self) -> float | None:
        if self.low is None or self.high is None:
            return None
        return self.high - self.low

    def to_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "low": self.low, "high": self.high}


CACHE_CELLS = 64_000_000
"""Most resample-count cells (bytes) kept for reuse across checks."""

_LOCK = threading.Lock()
_COUNTS: dict[tuple[Any, ...], list[np.ndarray]] = {}
_SAMPLES: dict[tuple[Any, ...], np.ndarray] = {}
_MAX_SAMPLE_SETS = 256


def _remember(
    cache: dict[Any, Any], key: Any, value: Any, limit: int, size: Callable[[Any], int]
) -> None:
    with _LOCK:
        cache.pop(key, None)
        cache[key] = value
        while len(cache) > 1 and sum(size(v) for v in cache.values()) > limit:
            cache.pop(next(iter(cache)))  # the oldest entry


def clear_cache() -> None:
    """Forget kept resample counts and bootstrap samples (they are rebuilt identically)."""
    with _LOCK:
        _COUNTS.clear()
        _SAMPLES.clear()


def resample_counts(
    n: int, n_resamples: int, *, seed: int, stream: int = 0, max_cells: int = MAX_CELLS
) -> Iterator[np.ndarray]:
    """Bootstrap resamples of ``n`` rows as count matrices, chunk by chunk.

    Yields integer arrays of shape ``(b, n)`` (all chunks together
    ``n_resamples`` rows); row ``r`` holds how many times each of the ``n``
    rows was drawn, with replacement, in resample ``r`` (multinomial counts
    summing to ``n``). The chunking depends on ``n`` only, so the draws are a
    function of ``(n, n_resamples, seed, stream)``. Recent draws are kept
    (as ``uint8``, up to :data:`CACHE_CELLS`) because several checks resample
    the same split.
    """
    if n <= 0 or n_resamples <= 0:
        return
    key = (n, n_resamples, seed, stream, max_cells)
    with _LOCK:
        cached = _COUNTS.get(key)
    if cached is not None:
        yield from cached
        return
    chunks = []
    rng = np.random.default_rng([seed, stream])
    per = max(1, min(n_resamples, max_cells // n))
    done = 0
    while done < n_resamples:
        b = min(per, n_resamples - done)
        idx = rng.integers(0, n, size=(b, n), dtype=np.int64)
        idx += (np.arange(b, dtype=np.int64) * n)[:, None]
        counts = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n)
        if counts.max() < 256:
            counts = counts.astype(np.uint8)
        counts.flags.writeable = False
        chunks.append(counts)
        yield counts
        done += b
    if sum(c.size for c in chunks) <= CACHE_CELLS and all(c.dtype == np.uint8 for c in chunks):
        _remember(_COUNTS, key, chunks, CACHE_CELLS, lambda v: sum(c.size for c in v))


def bootstrap(
    statistic: Statistic, n: int, *, n_resamples: int, seed: int, stream: int = 0
) -> dict[str, np.ndarray]:
    """Evaluate ``statistic(counts) -> {name: (b,) array}`` on every resample.

    Returns ``{name: (n_resamples,) array}``.
    """
    parts: dict[str, list[np.ndarray]] = defaultdict(list)
    for counts in resample_counts(n, n_resamples, seed=seed, stream=stream):
        for name, values in statistic(counts).items():
            parts[name].append(np.asarray(values, dtype=np.float64))
    return {name: np.concatenate(v) for name, v in parts.items()}


def metric_samples(
    data: EvalData, names: Sequence[str], *, n_resamples: int, seed: int, stream: int = 0
) -> dict[str, np.ndarray]:
    """Bootstrap distribution of each metric in ``names`` (arrays of ``n_resamples``).

    Resample ``r`` of every call with the same ``(n, n_resamples, seed,
    stream)`` is the same draw of rows, so samples of two predictions of the
    same rows are paired. Results are kept by the data's fingerprint: a
    metric asked again for the same data is not recomputed.
    """

    def key(name: str) -> tuple[Any, ...]:
        return (data.fingerprint, name, n_resamples, seed, stream)

    with _LOCK:
        found = {m: _SAMPLES[key(m)] for m in names if key(m) in _SAMPLES}
    missing = [m for m in names if m not in found]
    if missing:
        plan = MetricPlan(data, missing)
        got = bootstrap(plan, data.n, n_resamples=n_resamples, seed=seed, stream=stream)
        for m in missing:
            got[m].flags.writeable = False
            found[m] = got[m]
            _remember(_SAMPLES, key(m), got[m], _MAX_SAMPLE_SETS, lambda v: 1)
    return {m: found[m] for m in names}


def percentile_interval(
    samples: np.ndarray, point: float | None, *, confidence: float = 0.95
) -> tuple[float | None, float | None]:
    """Percentile interval of the finite ``samples``.

    The interval is widened to contain ``point`` where the percentile interval
    misses it (a skewed statistic near a bound, such as ROC-AUC near 1).
    """
    s = np.asarray(samples, dtype=np.float64)
    s = s[np.isfinite(s)]
    if s.size == 0 or point is None or not np.isfinite(point):
        return None, None
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(s, [alpha, 1.0 - alpha])
    return float(min(low, point)), float(max(high, point))


def make_intervals(
    points: Mapping[str, float],
    samples: Mapping[str, np.ndarray] | None,
    *,
    confidence: float,
) -> dict[str, Interval]:
    """Pair point estimates with percentile intervals of their samples."""
    out = {}
    for name, point in points.items():
        value = float(point) if point is not None and np.isfinite(point) else None
        if samples is None or name not in samples:
            out[name] = Interval(value)
        else:
            low, high = percentile_interval(samples[name], value, confidence=confidence)
            out[name] = Interval(value, low, high)
    return out


def metric_intervals(
    data: EvalData,
    names: Sequence[str] | None = None,
    *,
    n_resamples: int,
    seed: int,
    confidence: float = 0.95,
    stream: int = 0,
) -> dict[str, Interval]:
    """Point estimates and bootstrap intervals of ``names`` (default: all) for ``data``."""
    plan = MetricPlan(data, names)
    points = {k: float(v[0]) for k, v in plan(np.ones((1, data.n))).items()}
    samples = (
        metric_samples(data, plan.names, n_resamples=n_resamples, seed=seed, stream=stream)
        if n_resamples > 0
        else None
    )
    return make_intervals(points, samples, confidence=confidence)


def paired_comparison(
    datas: Mapping[str, EvalData],
    name: str,
    *,
    reference: str,
    n_resamples: int,
    seed: int,
    confidence: float = 0.95,
    stream: int = 0,
) -> tuple[dict[str, Interval], dict[str, Interval]]:
    """Metric ``name`` for several predictions of the same rows, on the same resamples.

    Returns ``(scores, differences)``: each entry's interval, and for each
    entry other than ``reference`` the interval of ``reference − entry``
    computed resample by resample (a paired bootstrap).
    """
    n = datas[reference].n
    if any(d.n != n for d in datas.values()):
        raise ValueError("a paired comparison needs predictions for the same rows")
    points = {k: float(MetricPlan(d, [name])(np.ones((1, n)))[name][0]) for k, d in datas.items()}
    diff_points = {k: points[reference] - v for k, v in points.items() if k != reference}
    if n_resamples <= 0:
        return (
            make_intervals(points, None, confidence=confidence),
            make_intervals(diff_points, None, confidence=confidence),
        )
    samples = {
        k: metric_samples(d, [name], n_resamples=n_resamples, seed=seed, stream=stream)[name]
        for k, d in datas.items()
    }
    diff_samples = {k: samples[reference] - samples[k] for k in diff_points}
    return (
        make_intervals(points, samples, confidence=confidence),
        make_intervals(diff_points, diff_samples, confidence=confidence),
    )


# -- the data of a split ------------------------------------------------------


@dataclass(frozen=True)
class SplitData:
    """The encoded data of one split, and which of its rows were used."""

    split: str
    data: EvalData
    rows: np.ndarray | None
    n_total: int

    @property
    def sampled(self) -> bool:
        return self.rows is not None

    @property
    def stream(self) -> int:
        return SPLIT_STREAMS.get(self.split, 9)


def sample_rows(n: int, max_rows: int, *, seed: int, stream: int) -> np.ndarray | None:
    """Sorted positions of a seeded sample of ``max_rows`` of ``n`` rows, or ``None``."""
    if n <= max_rows:
        return None
    rng = np.random.default_rng([seed, stream, 1])
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def split_data(ctx: AuditContext, split: str) -> SplitData:
    """Labels and predictions of ``split``, sampled down to ``max_rows_model_checks``."""
    y = ctx.labels(split)
    if y is None:
        raise ValueError(f"the {split} data has no target column")
    pred = ctx.predictions(split)
    rows = sample_rows(
        y.shape[0],
        ctx.settings.max_rows_model_checks,
        seed=ctx.settings.seed,
        stream=SPLIT_STREAMS.get(split, 9),
    )

    def pick(a: Any) -> Any:
        return a if a is None or rows is None else np.asarray(a)[rows]

    proba = pred.proba if ctx.task in ("binary", "multiclass") else None
    data = EvalData.from_arrays(
        ctx.task or "regression",
        pick(y),
        pick(pred.labels),
        pick(proba),
        classes=ctx.classes,
        positive_class=ctx.positive_class,
    )
    return SplitData(split, data, rows, int(y.shape[0]))


def split_intervals(
    ctx: AuditContext, sd: SplitData, names: Sequence[str] | None = None
) -> dict[str, Interval]:
    """Intervals of ``names`` for a split, with the audit's seed and settings."""
    s = ctx.settings
    return metric_intervals(
        sd.data,
        names,
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        stream=sd.stream,
    )


def metric_interval(ctx: AuditContext, split: str, name: str) -> Interval:
    """``(value, low, high)`` of metric ``name`` on ``split`` of the audit.

    The same numbers as :mod:`~assay.evaluation.performance` reports for that
    metric: same rows, seed and resamples. Typical use in a check:
    ``metric_interval(ctx, "test", main_metric_name(ctx))``.
    """
    return split_intervals(ctx, split_data(ctx, split), [name])[name]
