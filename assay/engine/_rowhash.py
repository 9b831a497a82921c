"""Exact row-hash counts: duplicate rows and train/test overlap from summaries.

Every row of a chunk gets a 128-bit key (Polars ``hash_rows`` with two seeds
over the compared columns, nulls equal, NaN equal, ``-0.0`` equal to ``0.0``).
A :class:`RowHashCounts` holds, for each distinct key, its count and the two
smallest row positions holding it; merging adds counts and keeps the two
smallest positions, so it is associative and exact (two different rows are
taken for one only if their 128-bit keys collide: probability below 1e-20 for
a billion rows). On Dask the keys are split into :data:`BUCKETS` buckets by
their top bits (a hash shuffle) and each bucket is merged and reduced on its
own; locally there is one bucket.

From the merged counts come exact numbers: duplicate rows are rows minus
distinct keys; overlapping rows are the rows of a split whose key is a
training key; the groups of identical rows of train and the split together
give the chance model of :mod:`assay.data.overlap`. The row positions listed
in findings (at most :data:`LISTED`) need one more pass over the rows, with a
small set of candidate keys (those whose first repeat, or first overlapping
row, comes earliest; see :func:`duplicate_candidates`).

Example
-------
>>> import polars as pl
>>> c = hash_counts(pl.DataFrame({"a": [1, 2, 1, 1]}))
>>> c.n_rows, c.distinct, duplicate_rows(c)
(4, 2, 2)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

LISTED = 1000
"""Row positions listed in one finding (as :data:`assay.data._common.MAX_ROWS_LISTED`)."""

BUCKETS = 16
"""Hash-shuffle buckets on the Dask engine."""

_NONE = np.iinfo(np.int64).max


@dataclass(frozen=True)
class RowHashCounts:
    """Distinct 128-bit row keys (sorted) with count, first and second row position."""

    n_rows: int
    h1: np.ndarray
    h2: np.ndarray
    count: np.ndarray
    first: np.ndarray
    second: np.ndarray

    @property
    def distinct(self) -> int:
        return int(self.h1.size)


def prepare(df: pl.DataFrame, cast: Mapping[str, pl.DataType] | None = None) -> pl.DataFrame:
    """The chunk as hashed: categoricals as strings, ``cast`` applied, objects dropped."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.Object:
            continue
        target = (cast or {}).get(name)
        if target is not None and target != dtype:
            exprs.append(pl.col(name).cast(target, strict=False))
        elif dtype in (pl.Categorical, pl.Enum):
            exprs.append(pl.col(name).cast(pl.String))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs)


def row_keys(df: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The two 64-bit halves of each row's key (``df`` already :func:`prepare`-d)."""
    if df.width == 0:
        zero = np.zeros(df.height, np.uint64)
        return zero, zero.copy()
    return df.hash_rows(seed=0).to_numpy(), df.hash_rows(seed=0x5EED).to_numpy()


def _group(n_rows, h1, h2, count, first, second) -> RowHashCounts:
    order = np.lexsort((first, h2, h1))
    h1, h2, count, first, second = h1[order], h2[order], count[order], first[order], second[order]
    if h1.size == 0:
        return RowHashCounts(n_rows, h1, h2, count, first, second)
    new = np.concatenate(([True], (h1[1:] != h1[:-1]) | (h2[1:] != h2[:-1])))
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, h1.size))
    nxt = np.where(sizes > 1, first[np.minimum(starts + 1, h1.size - 1)], _NONE)
    return RowHashCounts(
        n_rows,
        h1[starts],
        h2[starts],
        np.add.reduceat(count, starts),
        first[starts],
        np.minimum(second[starts], nxt),
    )


def counts_from_keys(h1: np.ndarray, h2: np.ndarray, *, offset: int = 0) -> RowHashCounts:
    """Counts of the keys of consecutive rows, the first at position ``offset`` (one
    stable sort: rows of one key stay in row order, so no position is sorted on)."""
    n = h1.size
    order = np.lexsort((h2, h1))
    s1, s2 = h1[order], h2[order]
    if n == 0:
        empty = np.zeros(0, np.int64)
        return RowHashCounts(0, s1, s2, empty, empty, empty.copy())
    new = np.empty(n, bool)
    new[0] = True
    np.not_equal(s1[1:], s1[:-1], out=new[1:])
    new[1:] |= s2[1:] != s2[:-1]
    starts = np.flatnonzero(new)
    del new
    sizes = np.diff(np.append(starts, n))
    first = order[starts].astype(np.int64) + offset
    second = np.where(sizes > 1, order[np.minimum(starts + 1, n - 1)] + offset, _NONE)
    return RowHashCounts(n, s1[starts], s2[starts], sizes.astype(np.int64), first, second)


def hash_counts(df: pl.DataFrame, *, offset: int = 0) -> RowHashCounts:
    """Counts of the row keys of a prepared chunk whose first row is at ``offset``."""
    h1, h2 = row_keys(df)
    return counts_from_keys(h1, h2, offset=offset)


def merge_counts(a: RowHashCounts, b: RowHashCounts) -> RowHashCounts:
    """Combine the counts of two sets of rows of the same table (associative, exact)."""
    return _group(
        a.n_rows + b.n_rows,
        np.concatenate([a.h1, b.h1]),
        np.concatenate([a.h2, b.h2]),
        np.concatenate([a.count, b.count]),
        np.concatenate([a.first, b.first]),
        np.concatenate([a.second, b.second]),
    )


def merge_all_counts(parts: Iterable[RowHashCounts]) -> RowHashCounts:
    """Merge any number of counts of one table at once (one sort; same result as merging
    them pairwise in any order)."""
    items = list(parts)
    if not items:
        raise ValueError("nothing to merge")
    if len(items) == 1:
        return items[0]
    return _group(
        sum(c.n_rows for c in items),
        *(np.concatenate([getattr(c, f) for c in items]) for f in _FIELDS),
    )


_FIELDS = ("h1", "h2", "count", "first", "second")


def bucket_of(h1: np.ndarray, buckets: int) -> np.ndarray:
    """The shuffle bucket of each key (its top bits)."""
    bits = int(np.log2(buckets))
    return (h1 >> np.uint64(64 - bits)).astype(np.int64) if bits else np.zeros(h1.size, np.int64)


def split_buckets(c: RowHashCounts, buckets: int) -> list[RowHashCounts]:
    """``c`` cut into ``buckets`` parts by key (rows counted in the first part only)."""
    b = bucket_of(c.h1, buckets)
    out = []
    for i in range(buckets):
        m = b == i
        out.append(
            RowHashCounts(
                c.n_rows if i == 0 else 0, c.h1[m], c.h2[m], c.count[m], c.first[m], c.second[m]
            )
        )
    return out


# -- reductions ------------------------------------------------------------------------


def duplicate_rows(c: RowHashCounts) -> int:
    """Rows that repeat an earlier row."""
    return int(c.count.sum()) - c.distinct


def duplicate_candidates(c: RowHashCounts, limit: int = LISTED) -> pl.DataFrame:
    """Keys whose first repeat comes among the ``limit`` earliest: every one of the first
    ``limit`` repeated rows has one of these keys (a key's repeats all come at or after its
    second position)."""
    m = c.count > 1
    frame = pl.DataFrame(
        {"h1": c.h1[m], "h2": c.h2[m], "first": c.first[m], "second": c.second[m]},
        schema={"h1": pl.UInt64, "h2": pl.UInt64, "first": pl.Int64, "second": pl.Int64},
    )
    return frame.sort("second").head(limit)


@dataclass(frozen=True)
class OverlapStats:
    """What the overlap check needs of one split against train."""

    overlap_rows: int
    group_sizes: pl.DataFrame  # size, groups: groups of identical rows (train and split)
    candidates: pl.DataFrame  # h1, h2, first (in the split), train_first

    def sizes(self) -> np.ndarray:
        """The size of every group of two or more identical rows."""
        g = self.group_sizes
        return np.repeat(g.get_column("size").to_numpy(), g.get_column("groups").to_numpy())


def overlap_stats(train: RowHashCounts, other: RowHashCounts, limit: int = LISTED) -> OverlapStats:
    """Overlap of ``other`` with ``train`` and the sizes of its groups (one bucket or all).

    Both key sets are sorted, so each other key is found among train's by binary
    search: nothing is joined, hashed or sorted again.
    """
    nt = train.distinct
    # Both key sets are sorted by (h1, h2): find each other key among train's by h1,
    # then h2 (several train keys share an h1 only on a 64-bit collision: searched apart).
    left = np.searchsorted(train.h1, other.h1, side="left")
    right = np.searchsorted(train.h1, other.h1, side="right")
    run = right - left
    at = np.minimum(left, max(nt - 1, 0))
    hit = (run == 1) & (train.h2[at] == other.h2) if nt else np.zeros(other.distinct, bool)
    oi_parts = [np.flatnonzero(hit)]
    ti_parts = [left[oi_parts[0]]]
    for j in np.flatnonzero(run > 1):
        lo, hi = int(left[j]), int(right[j])
        k = lo + int(np.searchsorted(train.h2[lo:hi], other.h2[j]))
        if k < hi and train.h2[k] == other.h2[j]:
            oi_parts.append(np.array([j]))
            ti_parts.append(np.array([k]))
    del left, right, run, at, hit
    order = np.argsort(np.concatenate(oi_parts), kind="stable")
    oi_all, ti_all = np.concatenate(oi_parts)[order], np.concatenate(ti_parts)[order]
    oi, ti = oi_all.astype(np.int64), ti_all.astype(np.int64)
    matched_t = np.zeros(nt, bool)
    matched_t[ti] = True
    matched_o = np.zeros(other.distinct, bool)
    matched_o[oi] = True
    sizes = np.concatenate(
        [train.count[ti] + other.count[oi], train.count[~matched_t], other.count[~matched_o]]
    )
    size, groups = np.unique(sizes[sizes > 1], return_counts=True)
    first = other.first[oi]
    keep = np.argsort(first, kind="stable")[:limit]
    cand = pl.DataFrame(
        {
            "h1": other.h1[oi][keep],
            "h2": other.h2[oi][keep],
            "first": first[keep],
            "train_first": train.first[ti][keep],
        },
        schema={"h1": pl.UInt64, "h2": pl.UInt64, "first": pl.Int64, "train_first": pl.Int64},
    )
    group_sizes = pl.DataFrame(
        {"size": size.astype(np.int64), "groups": groups.astype(np.int64)},
        schema={"size": pl.Int64, "groups": pl.Int64},
    )
    return OverlapStats(int(other.count[oi].sum()), group_sizes, cand)


def merge_overlap(parts: Sequence[OverlapStats], limit: int = LISTED) -> OverlapStats:
    """Add the per-bucket overlap statistics."""
    cand = pl.concat([p.candidates for p in parts]).sort("first").head(limit)
    groups = pl.concat([p.group_sizes for p in parts]).group_by("size").agg(pl.col("groups").sum())
    return OverlapStats(sum(p.overlap_rows for p in parts), groups.sort("size"), cand)


def chance_rows(train: RowHashCounts) -> int:
    """Training rows that share their key with another training row."""
    return int(train.count[train.count > 1].sum())


def positions(
    df: pl.DataFrame, candidates: pl.DataFrame, *, offset: int, skip_first: bool, limit: int
) -> pl.DataFrame:
    """The rows of a prepared chunk whose key is a candidate (``row`` = ``offset`` + row,
    with the candidate's other columns), leaving out each key's first row when
    ``skip_first``; at most ``limit``, in row order."""
    extra = [c for c in candidates.columns if c not in ("h1", "h2")]
    h1, h2 = row_keys(df)
    rows = pl.DataFrame(
        {"h1": h1, "h2": h2, "row": np.arange(offset, offset + h1.size, dtype=np.int64)},
        schema={"h1": pl.UInt64, "h2": pl.UInt64, "row": pl.Int64},
    )
    hit = rows.join(candidates, on=["h1", "h2"], how="inner")
    if skip_first:
        hit = hit.filter(pl.col("row") != pl.col("first"))
    return hit.select("row", *extra).sort("row").head(limit)


def first_positions(found: Iterable[pl.DataFrame], limit: int = LISTED) -> pl.DataFrame:
    """The first ``limit`` rows among the :func:`positions` of several chunks."""
    return pl.concat(list(found)).sort("row").head(limit)


__all__ = [
    "BUCKETS",
    "LISTED",
    "OverlapStats",
    "RowHashCounts",
    "bucket_of",
    "chance_rows",
    "counts_from_keys",
    "duplicate_candidates",
    "duplicate_rows",
    "first_positions",
    "hash_counts",
    "merge_all_counts",
    "merge_counts",
    "merge_overlap",
    "overlap_stats",
    "positions",
    "prepare",
    "row_keys",
]
