"""Mergeable group counts for ``fairness.group_metrics``: rows per group and outcome.

The fairness check's classification metrics (selection rate, accuracy, true
and false positive rates, precision, error rate, base rate) are ratios of
per-group sums of 0/1 columns, so they are functions of one table of counts:
rows per (group of each sensitive attribute, true class, predicted class).

- :class:`TextCounts` — the count of each value of one sensitive column read
  as text (null as ``(missing)``): which categories are kept, and whether a
  numeric column has more distinct values than ``max_categories``. Counts
  add (associative, exact); a numeric column with more than :data:`TEXT_CAP`
  distinct values keeps only that fact (``many``), its bins then come from
  the column's profile.
- :class:`Grouping` — how one column's rows are named: numeric bins (cut
  points and names) or the categories kept (the rest are ``(other)``);
  :func:`group_labels` gives each row its group, as the fairness check names
  them.
- :class:`GroupCounts` — rows per (group of every sensitive column, truth,
  prediction) over some rows; :func:`merge_group_counts` adds two (exact,
  associative, independent of the partitioning). Every attribute set the
  check measures (one column, or a pair) is a sum over these finest cells.

Example
-------
>>> import numpy as np
>>> g = Grouping("sex", keep=("f", "m"))
>>> a = group_counts({"sex": np.array(["sex=f", "sex=m"])}, ["1", "0"], ["1", "1"])
>>> b = group_counts({"sex": np.array(["sex=f"])}, ["1"], ["1"])
>>> merge_group_counts(a, b).table.rows()
[('sex=f', '1', '1', 2), ('sex=m', '0', '1', 1)]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

MISSING = "(missing)"
OTHER = "(other)"
TEXT_CAP = 100_000
"""Distinct values a numeric column's :class:`TextCounts` keeps before it only says ``many``."""

_T, _P, _N = "__truth", "__pred", "count"


@dataclass(frozen=True)
class TextCounts:
    """Rows per value (as text) of one column; ``many``: a numeric column past the cap."""

    column: str
    numeric: bool
    table: pl.DataFrame  # columns "value" (String), "count"
    many: bool = False

    @property
    def n_unique(self) -> int | None:
        """Distinct values, null included (``None`` when ``many``)."""
        return None if self.many else self.table.height

    def top(self, k: int) -> tuple[str, ...]:
        """The ``k`` most frequent values (ties: smaller text first)."""
        t = self.table.sort(["count", "value"], descending=[True, False])
        return tuple(t.get_column("value").to_list()[:k])


def text_counts(series: pl.Series) -> TextCounts:
    """The :class:`TextCounts` of one chunk of a column."""
    text = series.cast(pl.String, strict=False).fill_null(MISSING)
    vc = text.value_counts(name=_N).rename({text.name: "value"})
    vc = vc.with_columns(pl.col(_N).cast(pl.Int64))
    return _capped(TextCounts(series.name, series.dtype.is_numeric(), vc))


def _capped(t: TextCounts) -> TextCounts:
    if t.numeric and t.table.height > TEXT_CAP:
        return TextCounts(t.column, True, t.table.clear(), many=True)
    return t


def merge_text_counts(a: TextCounts, b: TextCounts) -> TextCounts:
    """Add two chunks' counts of the same column."""
    if a.many or b.many:
        return TextCounts(a.column, a.numeric, a.table.clear(), many=True)
    both = pl.concat([a.table, b.table]).group_by("value").agg(pl.col(_N).sum())
    return _capped(TextCounts(a.column, a.numeric, both.sort("value")))


@dataclass(frozen=True)
class Grouping:
    """How one sensitive column's rows are named: ``edges`` and ``names`` (numeric bins,
    a row's group is ``names[searchsorted(edges, value, side="right")]``) or ``keep``
    (categories kept; others are ``(other)``)."""

    column: str
    edges: tuple[float, ...] | None = None
    names: tuple[str, ...] = ()
    keep: tuple[str, ...] = ()


def group_labels(df: pl.DataFrame, g: Grouping) -> np.ndarray:
    """Each row's group name: ``'col <bin>'`` or ``'col=value'`` (as the fairness check)."""
    s = df.get_column(g.column)
    col = g.column
    if g.edges is not None:
        v = s.cast(pl.Float64).to_numpy()
        finite = np.isfinite(v)
        idx = np.searchsorted(np.asarray(g.edges, float), np.where(finite, v, 0.0), side="right")
        names = np.array([f"{col} {n}" for n in g.names], dtype=object)
        out = names[idx]
        out[~finite] = f"{col} {MISSING}"
        return out
    text = s.cast(pl.String, strict=False).fill_null(MISSING)
    keep = set(g.keep)
    return np.array(
        [f"{col}={v}" if v in keep else f"{col}={OTHER}" for v in text.to_list()], dtype=object
    )


@dataclass(frozen=True)
class GroupCounts:
    """Rows per (group of each of ``columns``, true class, predicted class), as text."""

    columns: tuple[str, ...]
    table: pl.DataFrame  # columns: *columns, "__truth", "__pred", "count"; sorted

    @property
    def n(self) -> int:
        return int(self.table.get_column(_N).sum())


def group_counts(
    labels: Mapping[str, np.ndarray],
    truth: Sequence[Any] | np.ndarray,
    predicted: Sequence[Any] | np.ndarray,
) -> GroupCounts:
    """The counts of one chunk: each sensitive column's group labels, truth, prediction."""
    cols = tuple(labels)
    df = pl.DataFrame(
        {
            **{c: pl.Series(c, labels[c], dtype=pl.String) for c in cols},
            _T: pl.Series(_T, [str(v) for v in np.asarray(truth).tolist()], dtype=pl.String),
            _P: pl.Series(_P, [str(v) for v in np.asarray(predicted).tolist()], dtype=pl.String),
        }
    )
    return GroupCounts(cols, _sum(df.group_by([*cols, _T, _P]).len(name=_N), cols))


def _sum(table: pl.DataFrame, cols: tuple[str, ...]) -> pl.DataFrame:
    keys = [*cols, _T, _P]
    out = table.group_by(keys).agg(pl.col(_N).sum().cast(pl.Int64))
    return out.sort(keys)


def merge_group_counts(a: GroupCounts, b: GroupCounts) -> GroupCounts:
    """Add two chunks' counts (the same sensitive columns)."""
    if a.columns != b.columns:
        raise ValueError("cannot merge group counts of different sensitive columns")
    return GroupCounts(a.columns, _sum(pl.concat([a.table, b.table]), a.columns))


SUMS = ("n", "abs", "resid", "pred", "y", "y2")
"""Per-row columns a :class:`GroupSums` adds up: one, ``|pred - y|``, ``pred - y``,
``pred``, ``y``, ``y**2`` (the regression columns of ``fairness.group_metrics``)."""

_PRODUCTS = tuple((i, j) for i in range(1, len(SUMS)) for j in range(i, len(SUMS)))
_PNAMES = tuple(f"{SUMS[i]}*{SUMS[j]}" for i, j in _PRODUCTS)


@dataclass(frozen=True)
class GroupSums:
    """Per group of every sensitive column: rows ``n`` and the sums of :data:`SUMS` and
    of their pairwise products (``abs*abs`` is the sum of squared errors), so each
    group's sums and their second-moment matrix are known."""

    columns: tuple[str, ...]
    table: pl.DataFrame  # columns: *columns, n (Int64), the other SUMS, the products

    @property
    def n(self) -> int:
        return int(self.table.get_column("n").sum())

    def by(self, cols: Sequence[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
        """Groups of ``cols`` (names joined with ``" & "``, sorted), their sums
        ``(G, len(SUMS))`` and second-moment matrices ``(G, len(SUMS), len(SUMS))``:
        ``M[g] = sum over the group's rows of x x^T`` with ``x`` the row's :data:`SUMS`."""
        names = [*SUMS, *_PNAMES]
        if cols:
            t = self.table.group_by(list(cols)).agg(pl.col(c).sum() for c in names)
            t = t.sort(list(cols))
        else:  # every row: one group named ""
            t = self.table.select(pl.col(c).sum() for c in names)
        keys = [" & ".join(k) for k in zip(*(t.get_column(c).to_list() for c in cols), strict=True)]
        sums = np.column_stack([t.get_column(c).cast(pl.Float64).to_numpy() for c in SUMS])
        k = len(SUMS)
        m = np.empty((t.height, k, k))
        m[:, 0, :] = sums
        m[:, :, 0] = sums
        for (i, j), c in zip(_PRODUCTS, _PNAMES, strict=True):
            m[:, i, j] = m[:, j, i] = t.get_column(c).to_numpy()
        return keys, sums, m


def group_sums(
    labels: Mapping[str, np.ndarray],
    truth: Sequence[Any] | np.ndarray,
    predicted: Sequence[Any] | np.ndarray,
) -> GroupSums:
    """The sums of one chunk of a regression: each sensitive column's group labels, the
    true values and the predictions (as float64; a missing value makes its group's sums NaN,
    as the local check's metrics)."""
    y = np.asarray(truth, dtype=np.float64)
    pred = np.asarray(predicted, dtype=np.float64)
    x = [np.abs(pred - y), pred - y, pred, y, y * y]
    cols = tuple(labels)
    data: dict[str, Any] = {c: pl.Series(c, labels[c], dtype=pl.String) for c in cols}
    data.update({name: v for name, v in zip(SUMS[1:], x, strict=True)})
    data.update({c: x[i - 1] * x[j - 1] for (i, j), c in zip(_PRODUCTS, _PNAMES, strict=True)})
    df = pl.DataFrame(data).with_columns(pl.lit(1, dtype=pl.Int64).alias("n"))
    return GroupSums(cols, _add(df, cols))


def _add(table: pl.DataFrame, cols: tuple[str, ...]) -> pl.DataFrame:
    names = [*SUMS, *_PNAMES]
    return table.group_by(list(cols)).agg(pl.col(c).sum() for c in names).sort(list(cols))


def merge_group_sums(a: GroupSums, b: GroupSums) -> GroupSums:
    """Add two chunks' sums (the same sensitive columns): ``n`` exactly, the float sums
    up to rounding (associative within float64 rounding, about 1e-15 relative)."""
    if a.columns != b.columns:
        raise ValueError("cannot merge group sums of different sensitive columns")
    return GroupSums(a.columns, _add(pl.concat([a.table, b.table]), a.columns))


__all__ = [
    "MISSING",
    "OTHER",
    "SUMS",
    "TEXT_CAP",
    "GroupCounts",
    "GroupSums",
    "Grouping",
    "TextCounts",
    "group_counts",
    "group_labels",
    "group_sums",
    "merge_group_counts",
    "merge_group_sums",
    "merge_text_counts",
    "text_counts",
]
