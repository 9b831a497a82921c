"""Mergeable column profiles: what ``data.integrity`` reads.

A :class:`ColumnProfileSummary` summarises one column of one chunk of rows:
its rows, missing values (null, and NaN in floats), infinities, how many
string values parse as numbers, and the count of every distinct present
value. Summaries of chunks are combined by :func:`merge_profiles`; the
scalars add and the value counts add, so merging is associative and, while
the distinct values fit, exact.

A cap (``cap``, the Dask engine's :data:`PROFILE_CAP`) bounds the value
counts: beyond it the counts become a Misra–Gries heavy-hitter table (each
count low by at most ``rows / (cap + 1)``), the number of distinct values a
lower bound, and a numeric column keeps its :data:`TAIL` smallest and largest
distinct values with exact counts plus a weighted quantile sketch of the
rest (:func:`assay.engine._summary.compress`). The local engine passes
``cap=None``: its profiles are exact.

:class:`ValueView` is what the sentinel rules see: the sorted distinct
finite values and their counts, with the order statistics NumPy's
``percentile`` and ``median`` would give on the expanded array.

Example
-------
>>> import polars as pl
>>> a = profile_series(pl.Series("x", [1.0, None, 2.0]))
>>> b = profile_series(pl.Series("x", [2.0, float("inf")]))
>>> m = merge_profiles(a, b)
>>> m.n_rows, m.n_missing, m.n_infinite, m.n_unique, m.dominant_count
(5, 1, 1, 3, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

import numpy as np
import polars as pl

from assay.engine._summary import SKETCH_POINTS, compress

PROFILE_CAP = 100_000
"""Distinct values a profile counts exactly on the Dask engine."""

TAIL = 8
"""Smallest and largest distinct values kept exactly once a numeric profile overflows."""

_V, _N = "value", "count"


@dataclass(frozen=True)
class ColumnProfileSummary:
    """Profile of one column over some rows (see the module docstring).

    ``counts`` has columns ``value`` and ``count`` (``None`` for Python-object
    columns); ``exact`` is false once the cap was passed, ``tails`` then holds
    ``(low values, low counts, sketch values, sketch weights, high values,
    high counts)`` of the finite values of a numeric column.
    """

    column: str
    kind: str  # "numeric" (integer or float dtype), "string", "other", "object"
    n_rows: int
    n_missing: int
    n_infinite: int = 0
    n_numeric_like: int | None = None
    counts: pl.DataFrame | None = None
    exact: bool = True
    n_unique_min: int = 0
    tails: tuple[np.ndarray, ...] | None = None

    @property
    def n_present(self) -> int:
        return self.n_rows - self.n_missing

    @property
    def n_unique(self) -> int | None:
        """Distinct present values (a lower bound when not ``exact``)."""
        if self.counts is None:
            return None
        return max(self.counts.height, self.n_unique_min)

    @property
    def dominant_count(self) -> int | None:
        """Rows holding the most frequent present value."""
        if self.counts is None or self.n_present == 0 or self.counts.height == 0:
            return None
        return cast(int, self.counts.get_column(_N).max())  # counts of a non-empty frame

    def only_value(self) -> Any:
        """The single present value of a constant column."""
        assert self.counts is not None and self.counts.height >= 1
        return self.counts.get_column(_V)[0]

    def frequent(self, keep: Any, limit: int) -> list[Any]:
        """Up to ``limit`` values for which ``keep(value)`` holds, most frequent first."""
        if self.counts is None:
            return []
        vc = self.counts.sort([_N, _V], descending=[True, False], nulls_last=True)
        out = []
        for v in vc.get_column(_V).to_list():
            if keep(v):
                out.append(v)
                if len(out) == limit:
                    break
        return out

    def values(self) -> ValueView:
        """The finite values of a numeric column as a :class:`ValueView`."""
        if self.tails is not None:
            lv, lc, sv, sw, hv, hc = self.tails
            mid = (sv > lv[-1]) & (sv < hv[0]) if lv.size and hv.size else np.zeros(0, bool)
            v = np.concatenate([lv, sv[mid], hv])
            c = np.concatenate([lc, sw[mid], hc]).astype(np.float64)
            v, idx = np.unique(v, return_index=True)
            return ValueView(v, c[idx], exact=False)
        if self.counts is None or self.counts.height == 0:
            return ValueView(np.zeros(0), np.zeros(0, np.int64))
        vc = self.counts.with_columns(pl.col(_V).cast(pl.Float64))
        vc = vc.filter(pl.col(_V).is_finite())  # already in value order
        return ValueView(vc.get_column(_V).to_numpy(), vc.get_column(_N).to_numpy())


def _kind(dtype: pl.DataType) -> str:
    if dtype == pl.Object:
        return "object"
    if dtype.is_integer() or dtype.is_float():
        return "numeric"
    if dtype in (pl.String, pl.Categorical, pl.Enum):
        return "string"
    return "other"


def profile_series(s: pl.Series, *, cap: int | None = None) -> ColumnProfileSummary:
    """The profile of one column of one chunk."""
    kind = _kind(s.dtype)
    if kind == "object":
        return ColumnProfileSummary(s.name, kind, s.len(), s.null_count())
    if s.dtype in (pl.Categorical, pl.Enum):
        s = s.cast(pl.String)
    n_missing, n_inf = s.null_count(), 0
    present = s.drop_nulls()
    if s.dtype.is_float():
        nan = present.is_nan()
        n_missing += int(nan.sum())
        present = present.filter(~nan)
        n_inf = int(present.is_infinite().sum())
    numeric_like = None
    if s.dtype == pl.String:
        parsed = present.str.strip_chars().cast(pl.Float64, strict=False)
        numeric_like = int(parsed.is_not_null().sum())
    if kind == "numeric":  # counts kept in value order: one sort, no hash table
        a = np.sort(present.to_numpy())
        starts = (
            np.flatnonzero(np.concatenate(([True], a[1:] != a[:-1])))
            if a.size
            else np.zeros(0, np.int64)
        )
        counts = np.diff(np.append(starts, a.size)).astype(np.int64)
        vc = pl.DataFrame(
            {_V: pl.Series(_V, a[starts], dtype=present.dtype), _N: pl.Series(_N, counts)}
        )
        del a
    else:
        vc = present.rename(_V).value_counts(sort=False, name=_N)
        vc = vc.with_columns(pl.col(_N).cast(pl.Int64))
    out = ColumnProfileSummary(s.name, kind, s.len(), n_missing, n_inf, numeric_like, vc)
    return _capped(out, cap)


def profile_frame(df: pl.DataFrame, *, cap: int | None = None) -> dict[str, ColumnProfileSummary]:
    """Profiles of every column of a chunk."""
    return {c: profile_series(df.get_column(c), cap=cap) for c in df.columns}


def _tails_of(v: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, ...]:
    """Tails and sketch of exact (sorted, distinct) finite values ``v`` with counts ``c``."""
    c = c.astype(np.float64)
    if v.size > SKETCH_POINTS:
        sv, sw = compress(v, c, SKETCH_POINTS)
    else:
        sv, sw = v, c
    return (v[:TAIL], c[:TAIL], sv, sw, v[-TAIL:], c[-TAIL:])


def _merge_tails(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> tuple[np.ndarray, ...]:
    def union(v1, c1, v2, c2):
        v = np.concatenate([v1, v2])
        c = np.concatenate([c1, c2])
        order = np.argsort(v, kind="stable")
        v, c = v[order], c[order]
        if not v.size:
            return v, c
        starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
        return v[starts], np.add.reduceat(c, starts)

    lv, lc = union(a[0], a[1], b[0], b[1])
    hv, hc = union(a[4], a[5], b[4], b[5])
    sv, sw = union(a[2], a[3], b[2], b[3])
    if sv.size > SKETCH_POINTS:
        sv, sw = compress(sv, sw, SKETCH_POINTS)
    return (lv[:TAIL], lc[:TAIL], sv, sw, hv[-TAIL:], hc[-TAIL:])


def _capped(p: ColumnProfileSummary, cap: int | None) -> ColumnProfileSummary:
    """``p`` with its value counts within ``cap`` distinct values (Misra–Gries beyond)."""
    if cap is None or p.counts is None or p.counts.height <= cap:
        return p
    tails = p.tails
    if p.kind == "numeric" and tails is None:
        exact = p.values()
        tails = _tails_of(exact.values, exact.counts)
    vc = p.counts.sort(_N, descending=True)
    cut = int(vc.get_column(_N)[cap])
    vc = vc.head(cap).with_columns(pl.col(_N) - cut).filter(pl.col(_N) > 0)
    if p.kind == "numeric":
        vc = vc.sort(_V)
    return replace(
        p,
        counts=vc,
        exact=False,
        n_unique_min=max(p.n_unique_min, p.counts.height),
        tails=tails,
    )


def merge_profiles(
    a: ColumnProfileSummary, b: ColumnProfileSummary, *, cap: int | None = None
) -> ColumnProfileSummary:
    """Combine the profiles of the same column over two sets of rows."""
    if a.column != b.column:
        raise ValueError(f"cannot merge profiles of {a.column!r} and {b.column!r}")
    kind = a.kind if a.kind == b.kind else ("object" if "object" in (a.kind, b.kind) else "other")
    numeric_like = (
        None
        if a.n_numeric_like is None and b.n_numeric_like is None
        else (a.n_numeric_like or 0) + (b.n_numeric_like or 0)
    )
    base = ColumnProfileSummary(
        a.column,
        kind,
        a.n_rows + b.n_rows,
        a.n_missing + b.n_missing,
        a.n_infinite + b.n_infinite,
        numeric_like,
    )
    if kind == "object" or a.counts is None or b.counts is None:
        return base
    both = pl.concat([a.counts, b.counts], how="vertical_relaxed")
    vc = both.group_by(_V).agg(pl.col(_N).sum())
    if kind == "numeric":
        vc = vc.sort(_V)
    tails = None
    if kind == "numeric" and (a.tails is not None or b.tails is not None):
        ta = a.tails if a.tails is not None else _tails_of(*_exact_arrays(a))
        tb = b.tails if b.tails is not None else _tails_of(*_exact_arrays(b))
        tails = _merge_tails(ta, tb)
    merged = replace(
        base,
        counts=vc,
        exact=a.exact and b.exact,
        n_unique_min=max(a.n_unique_min, b.n_unique_min),
        tails=tails,
    )
    return _capped(merged, cap)


def _exact_arrays(p: ColumnProfileSummary) -> tuple[np.ndarray, np.ndarray]:
    view = p.values()
    return view.values, view.counts


def merge_all_profiles(
    parts: Iterable[ColumnProfileSummary], *, cap: int | None = None
) -> ColumnProfileSummary:
    """Merge a non-empty sequence of profiles of one column, pairwise as a tree."""
    items = list(parts)
    if not items:
        raise ValueError("nothing to merge")
    while len(items) > 1:
        nxt = [merge_profiles(items[i], items[i + 1], cap=cap) for i in range(0, len(items) - 1, 2)]
        if len(items) % 2:
            nxt.append(items[-1])
        items = nxt
    return items[0]


# -- order statistics of a weighted sorted array -------------------------------------


@dataclass(frozen=True)
class ValueView:
    """Sorted distinct finite values with their counts: an array ``np.repeat(values,
    counts)`` without expanding it. ``exact`` is false when counts come from a sketch.
    ``cum`` (the running count) is shared with the slices taken of a view."""

    values: np.ndarray
    counts: np.ndarray
    exact: bool = True
    cum: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.cum is None:
            object.__setattr__(self, "cum", np.cumsum(self.counts))

    @property
    def n(self) -> int:
        assert self.cum is not None
        return round(float(self.cum[-1])) if self.cum.size else 0

    def __len__(self) -> int:
        return int(self.values.size)

    def slice(self, lo: int, hi: int) -> ValueView:
        assert self.cum is not None
        hi = max(hi, lo)
        base = self.cum[lo - 1] if lo > 0 else 0
        return ValueView(self.values[lo:hi], self.counts[lo:hi], self.exact, self.cum[lo:hi] - base)

    def where(self, low: float | None = None, high: float | None = None, *, strict: bool):
        """The values above ``low`` and/or below ``high`` (strictly or not)."""
        lo = (
            0
            if low is None
            else int(np.searchsorted(self.values, low, side="right" if strict else "left"))
        )
        hi = (
            len(self)
            if high is None
            else int(np.searchsorted(self.values, high, side="left" if strict else "right"))
        )
        return self.slice(lo, hi)

    def at(self, ranks: np.ndarray) -> np.ndarray:
        """The values at 0-based ``ranks`` of the expanded sorted array."""
        assert self.cum is not None  # set in __post_init__
        idx = np.searchsorted(self.cum, np.asarray(ranks, dtype=np.float64), side="right")
        return self.values[np.minimum(idx, self.values.size - 1)]

    def percentile(self, q: Sequence[float]) -> np.ndarray:
        """``np.percentile(expanded, q)`` (linear method), on the counts."""
        n = float(self.n)
        quantiles = np.true_divide(np.asarray(q, dtype=np.float64), 100)
        virtual = (n - 1) * quantiles
        prev = np.floor(virtual)
        nxt = np.minimum(prev + 1, n - 1)
        gamma = virtual - prev
        a, b = self.at(prev), self.at(nxt)
        diff = b - a
        out = a + diff * gamma
        hi = gamma >= 0.5
        out[hi] = (b - diff * (1 - gamma))[hi]
        return np.where(a == b, a, out)

    def median(self) -> float:
        """``np.median(expanded)``."""
        n = self.n
        if n % 2:
            return float(self.at(np.array([n // 2]))[0])
        two = self.at(np.array([n // 2 - 1, n // 2]))
        return float(np.mean(two))


__all__ = [
    "PROFILE_CAP",
    "TAIL",
    "ColumnProfileSummary",
    "ValueView",
    "merge_all_profiles",
    "merge_profiles",
    "profile_frame",
    "profile_series",
]
