"""Mergeable column summaries: what the drift statistics are computed from.

A summary of one column of one table is built from one chunk of rows and
merged with the summaries of other chunks by :func:`merge`; merging is
associative, so chunks may be summarised anywhere (one process, or Dask
workers) and combined in any tree. Every statistic of
:mod:`assay.engine._stats` is derived from summaries only.

Numeric columns
    Two passes. The first (:func:`numeric_partial`) gives counts, extremes,
    mean and sum of squared deviations, a *weighted quantile sketch*
    (distinct values with their counts; compressed to evenly spaced order
    statistics when a chunk has more than :data:`SKETCH_POINTS` distinct
    values), and the sorted values themselves when there are at most
    :data:`SMALL` of them. The two tables' sketches fix the *edges*
    (:func:`edges_for`): every distinct value of a table when there are at
    most :data:`MAX_EDGES`, otherwise :data:`MAX_EDGES` of its quantiles.
    The second pass (:func:`edge_counts`) counts, for each edge, the values
    strictly below it and the values at or below it; these counts add up
    across chunks, so the current table can be streamed.

Categorical columns
    One pass: the count of each category (:class:`CategoricalSummary`).

Missing values (null, NaN and ±inf) are counted, never summarised.

Example
-------
>>> import numpy as np
>>> a = numeric_partial(np.array([3.0, 1.0, 2.0]))
>>> b = numeric_partial(np.array([2.0, np.nan]))
>>> m = merge(a, b)
>>> (m.n, m.n_missing, m.min, m.max, round(m.mean, 4))
(4, 1, 1.0, 3.0, 2.0)
>>> m.sketch_values.tolist(), m.sketch_weights.tolist()
([1.0, 2.0, 3.0], [1.0, 2.0, 1.0])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

SMALL = 1000
"""Up to this many values, a summary keeps the sorted values themselves (for
exact small-sample tests)."""

SKETCH_POINTS = 8192
"""Points a chunk's quantile sketch keeps when it has more distinct values."""

MAX_EDGES = 2000
"""Most edges of the fine grid on which numeric columns are counted."""

LOW_CARDINALITY = 5
"""A numeric column with at most this many distinct values (both tables
together) is compared as categories, as Evidently does."""


@dataclass(frozen=True)
class NumericSummary:
    """Summary of the values of one numeric column (see the module docstring).

    ``edges``/``lt``/``le`` are ``None`` until the second pass: ``lt[i]`` and
    ``le[i]`` count the values ``< edges[i]`` and ``<= edges[i]``.
    """

    n: int
    n_missing: int
    min: float
    max: float
    mean: float
    m2: float
    sketch_values: np.ndarray
    sketch_weights: np.ndarray
    sketch_exact: bool
    values: np.ndarray | None = None
    edges: np.ndarray | None = None
    lt: np.ndarray | None = None
    le: np.ndarray | None = None

    @property
    def std(self) -> float:
        """Population standard deviation (``ddof=0``, as NumPy's default)."""
        return float(np.sqrt(self.m2 / self.n)) if self.n else float("nan")

    @property
    def missing_share(self) -> float:
        total = self.n + self.n_missing
        return self.n_missing / total if total else 0.0

    @property
    def distinct(self) -> np.ndarray | None:
        """The distinct values when the sketch holds them all, else ``None``."""
        return self.sketch_values if self.sketch_exact else None

    def counted(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(edges, lt, le)``, which the second pass sets together."""
        if self.edges is None or self.lt is None or self.le is None:
            raise ValueError("the summary has no second-pass counts")
        return self.edges, self.lt, self.le


@dataclass(frozen=True)
class CategoricalSummary:
    """Counts of each category of one column (keys are strings)."""

    n: int
    n_missing: int
    counts: Mapping[str, int]

    @property
    def missing_share(self) -> float:
        total = self.n + self.n_missing
        return self.n_missing / total if total else 0.0


Summary = NumericSummary | CategoricalSummary


# -- numeric: first pass -----------------------------------------------------------


def finite_sorted(values: Any) -> tuple[np.ndarray, int]:
    """The finite values of ``values`` as a sorted float array, and how many were missing."""
    a = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(a)
    n_missing = int(a.size - np.count_nonzero(ok))
    if n_missing:
        a = a[ok]
    return np.sort(a), n_missing


def _distinct_counts(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values of a sorted array and their counts, in O(n)."""
    if s.size == 0:
        return s, np.zeros(0)
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    counts = np.diff(np.append(starts, s.size)).astype(np.float64)
    return s[starts], counts


def compress(values: np.ndarray, weights: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` evenly spaced weighted quantiles of a weighted sorted point set.

    Each kept point carries ``total / k`` of the weight. The rank error of any
    quantile read from the result is at most ``1 / k`` of the total.
    """
    total = float(weights.sum())
    cum = np.cumsum(weights)
    targets = (np.arange(k) + 0.5) * (total / k)
    idx = np.minimum(np.searchsorted(cum, targets, side="left"), values.size - 1)
    return values[idx], np.full(k, total / k)


def numeric_partial(
    values: Any, *, presorted: bool = False, sketch_points: int | None = SKETCH_POINTS
) -> NumericSummary:
    """First-pass summary of a chunk of numeric values (NaN/±inf count as missing).

    ``sketch_points=None`` keeps every distinct value (the local engine, which
    holds the whole column, does so: its sketch is exact).
    """
    if presorted:
        s, n_missing = np.asarray(values, dtype=np.float64), 0
    else:
        s, n_missing = finite_sorted(values)
    n = int(s.size)
    if n == 0:
        empty = np.zeros(0)
        return NumericSummary(0, n_missing, np.nan, np.nan, np.nan, 0.0, empty, empty, True)
    mean = float(s.mean())
    m2 = float(np.square(s - mean).sum())
    n_distinct = 1 + int(np.count_nonzero(s[1:] != s[:-1]))
    if sketch_points is not None and n_distinct > sketch_points:
        # Evenly spaced order statistics, each standing for n / k values.
        idx = ((np.arange(sketch_points) + 0.5) * (n / sketch_points)).astype(np.int64)
        dv, dc = s[np.minimum(idx, n - 1)], np.full(sketch_points, n / sketch_points)
        exact = False
    else:
        dv, dc = _distinct_counts(s)
        exact = True
    return NumericSummary(
        n=n,
        n_missing=n_missing,
        min=float(s[0]),
        max=float(s[-1]),
        mean=mean,
        m2=m2,
        sketch_values=dv,
        sketch_weights=dc,
        sketch_exact=exact,
        values=s.copy() if n <= SMALL else None,
    )


def _merge_sketch(
    a: NumericSummary, b: NumericSummary, k: int | None
) -> tuple[np.ndarray, np.ndarray, bool]:
    v = np.concatenate([a.sketch_values, b.sketch_values])
    w = np.concatenate([a.sketch_weights, b.sketch_weights])
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    if v.size:
        starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
        v, w = v[starts], np.add.reduceat(w, starts)
    exact = a.sketch_exact and b.sketch_exact
    if k is not None and v.size > k:
        v, w = compress(v, w, k)
        exact = False
    return v, w, exact


def _merge_numeric(a: NumericSummary, b: NumericSummary, k: int | None) -> NumericSummary:
    if a.n == 0 or b.n == 0:
        keep, other = (b, a) if a.n == 0 else (a, b)
        merged = replace(keep, n_missing=a.n_missing + b.n_missing)
        if keep.edges is not None and other.lt is not None:
            (_, keep_lt, keep_le), (_, other_lt, other_le) = keep.counted(), other.counted()
            merged = replace(merged, lt=keep_lt + other_lt, le=keep_le + other_le)
        return merged
    n = a.n + b.n
    delta = b.mean - a.mean
    mean = a.mean + delta * b.n / n
    m2 = a.m2 + b.m2 + delta * delta * a.n * b.n / n
    sv, sw, exact = _merge_sketch(a, b, k)
    values = None
    if a.values is not None and b.values is not None and n <= SMALL:
        values = np.sort(np.concatenate([a.values, b.values]))
    lt = le = None
    if a.edges is not None and b.edges is not None:
        if a.edges.shape != b.edges.shape or not np.array_equal(a.edges, b.edges):
            raise ValueError("cannot merge summaries counted on different edges")
        (_, a_lt, a_le), (_, b_lt, b_le) = a.counted(), b.counted()
        lt, le = a_lt + b_lt, a_le + b_le
    return NumericSummary(
        n=n,
        n_missing=a.n_missing + b.n_missing,
        min=min(a.min, b.min),
        max=max(a.max, b.max),
        mean=mean,
        m2=m2,
        sketch_values=sv,
        sketch_weights=sw,
        sketch_exact=exact,
        values=values,
        edges=a.edges if a.edges is not None else b.edges,
        lt=lt,
        le=le,
    )


def merge(a: Summary, b: Summary, *, sketch_points: int | None = SKETCH_POINTS) -> Summary:
    """Combine the summaries of two chunks of the same column."""
    if isinstance(a, CategoricalSummary) and isinstance(b, CategoricalSummary):
        counts = dict(a.counts)
        for key, c in b.counts.items():
            counts[key] = counts.get(key, 0) + c
        return CategoricalSummary(a.n + b.n, a.n_missing + b.n_missing, counts)
    if isinstance(a, NumericSummary) and isinstance(b, NumericSummary):
        return _merge_numeric(a, b, sketch_points)
    raise TypeError(f"cannot merge {type(a).__name__} with {type(b).__name__}")


def merge_all(parts: Sequence[Summary], *, sketch_points: int | None = SKETCH_POINTS) -> Summary:
    """Merge a non-empty sequence of summaries of the same column, pairwise as a tree."""
    items = list(parts)
    if not items:
        raise ValueError("nothing to merge")
    while len(items) > 1:
        nxt = [
            merge(items[i], items[i + 1], sketch_points=sketch_points)
            for i in range(0, len(items) - 1, 2)
        ]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


# -- numeric: edges and second pass ---------------------------------------------------


def sketch_quantiles(summary: NumericSummary, probs: Any) -> np.ndarray:
    """Quantiles read from the sketch (inverted-CDF definition; exact when the
    sketch is exact): the smallest value whose cumulative share reaches ``p``."""
    p = np.asarray(probs, dtype=np.float64)
    if summary.n == 0:
        return np.full(p.shape, np.nan)
    cum = np.cumsum(summary.sketch_weights)
    total = cum[-1]
    # A small tolerance so that p * total equal to a cumulative count picks that value.
    idx = np.searchsorted(cum, p * total * (1 - 1e-12), side="left")
    return summary.sketch_values[np.clip(idx, 0, summary.sketch_values.size - 1)]


DECILES = np.arange(1, 10) / 10


def _grid(s: NumericSummary, max_edges: int) -> np.ndarray:
    if s.n == 0:
        return np.zeros(0)
    if s.sketch_exact and s.sketch_values.size <= max_edges:
        return s.sketch_values
    probs = np.arange(1, max_edges) / max_edges
    return np.concatenate([[s.min], sketch_quantiles(s, probs), [s.max]])


def edges_for(
    reference: NumericSummary, current: NumericSummary, max_edges: int = MAX_EDGES
) -> np.ndarray:
    """The fine grid of edges on which both tables are counted (second pass).

    For each table: every distinct value when its sketch holds them all and
    they are at most ``max_edges``, otherwise ``max_edges`` of its quantiles
    (with its minimum and maximum); the union of both, plus the reference
    deciles (so that PSI bins fall on edges). No bin then holds more than
    ``1 / max_edges`` of either table, except at a single repeated value.
    """
    parts = [_grid(reference, max_edges), _grid(current, max_edges)]
    if reference.n:
        parts.append(sketch_quantiles(reference, DECILES))
    return np.unique(np.concatenate(parts))


def edge_counts(sorted_values: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lt, le)``: values ``< edge`` and ``<= edge`` for each edge (values sorted)."""
    lt = np.searchsorted(sorted_values, edges, side="left").astype(np.int64)
    le = np.searchsorted(sorted_values, edges, side="right").astype(np.int64)
    return lt, le


def with_counts(summary: NumericSummary, sorted_values: np.ndarray, edges: np.ndarray):
    """``summary`` with its second pass done on ``sorted_values``."""
    lt, le = edge_counts(sorted_values, edges)
    return replace(summary, edges=edges, lt=lt, le=le)


def counts_only(sorted_values: np.ndarray, edges: np.ndarray) -> NumericSummary:
    """A summary carrying only the second-pass counts of a chunk (for merging
    into a first-pass summary with :func:`add_counts`)."""
    lt, le = edge_counts(sorted_values, edges)
    empty = np.zeros(0)
    return NumericSummary(
        0, 0, np.nan, np.nan, np.nan, 0.0, empty, empty, True, None, edges, lt, le
    )


def add_counts(summary: NumericSummary, counts: Sequence[NumericSummary]) -> NumericSummary:
    """Attach the summed second-pass counts of ``counts`` to a first-pass summary."""
    if not counts:
        raise ValueError("no counts to add")
    edges = counts[0].edges
    lt = np.sum([c.counted()[1] for c in counts], axis=0)
    le = np.sum([c.counted()[2] for c in counts], axis=0)
    return replace(summary, edges=edges, lt=lt, le=le)


# -- categorical ------------------------------------------------------------------------


def categorical_summary(
    keys: Sequence[Any], counts: Sequence[int] | np.ndarray, n_missing: int
) -> CategoricalSummary:
    """A categorical summary from distinct keys (already strings) and their counts."""
    table = {str(k): int(c) for k, c in zip(keys, counts, strict=True) if c}
    return CategoricalSummary(int(sum(table.values())), int(n_missing), table)


def format_value(v: float) -> str:
    """A number as a category label: ``1.0`` → ``'1'``, ``2.5`` → ``'2.5'``."""
    return np.format_float_positional(float(v), trim="-")


def numeric_as_categorical(summary: NumericSummary) -> CategoricalSummary:
    """The categories of a low-cardinality numeric column (its sketch must be exact)."""
    if not summary.sketch_exact:
        raise ValueError("the sketch does not hold every distinct value")
    return categorical_summary(
        [format_value(v) for v in summary.sketch_values],
        summary.sketch_weights.astype(np.int64),
        summary.n_missing,
    )
