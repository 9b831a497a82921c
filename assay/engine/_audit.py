"""The audit's data engine: the summaries the data checks read, local or on Dask.

``data.integrity``, ``data.train_test_overlap`` and ``data.provenance`` ask
:func:`audit_engine` (the context's ``data_engine``, else a local one) for
per-split summaries: column profiles (:mod:`assay.engine._profile`), row-hash
counts (:mod:`assay.engine._rowhash`) and fingerprint states
(:mod:`assay.engine._fingerprint`). Both engines run the same per-chunk
functions and merge with the same functions:

- :class:`LocalAuditEngine` over the audit's frames, :data:`CHUNK_ROWS` rows
  at a time (one column at a time for profiles), so that no sorted copy or
  join of a whole table is ever built;
- :class:`~assay.engine._audit_dask.DaskAuditEngine` over Parquet partitions
  on a Dask cluster (``assay audit --engine dask``).

Row positions in findings come from a second pass over the rows with a small
set of candidates (values, or row keys).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import polars as pl

from assay.engine._fingerprint import fingerprint_summary, merge_all_fingerprints
from assay.engine._profile import ColumnProfileSummary, merge_all_profiles, profile_series
from assay.engine._rowhash import (
    LISTED,
    OverlapStats,
    RowHashCounts,
    chance_rows,
    counts_from_keys,
    duplicate_candidates,
    duplicate_rows,
    first_positions,
    overlap_stats,
    positions,
    prepare,
    row_keys,
)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

CHUNK_ROWS = 250_000
"""Rows per chunk of the local engine."""

ValueRequest = tuple[str, str, float]
"""``(column, op, value)``: ``op`` is ``eq`` (equal to value), ``inf`` or ``neg`` (finite, < 0)."""


@dataclass(frozen=True)
class DuplicateResult:
    count: int
    rows: tuple[int, ...]


@dataclass(frozen=True)
class OverlapResult:
    """Overlap of a split with train: counts, group sizes, listed rows with their train row."""

    stats: OverlapStats
    rows: tuple[int, ...]
    train_rows: tuple[int, ...]  # the first training row each listed row copies
    train_chance_rows: int


class AuditEngine(Protocol):
    name: str

    def rows(self, split: str) -> int: ...

    def dtypes(self, split: str) -> Mapping[str, pl.DataType]: ...

    def profiles(self, split: str, columns: Sequence[str]) -> Iterator[ColumnProfileSummary]: ...

    def value_rows(self, split: str, requests: Sequence[ValueRequest]) -> list[tuple[int, ...]]: ...

    def duplicates(self, split: str, columns: Sequence[str]) -> DuplicateResult: ...

    def overlap(self, split: str, columns: Sequence[str]) -> OverlapResult: ...

    def fingerprint(self, split: str, columns: Sequence[str] | None = None) -> str: ...


def audit_engine(ctx: AuditContext) -> AuditEngine:
    """The context's ``data_engine``, or a :class:`LocalAuditEngine` over its frames."""
    return ctx.data_engine if ctx.data_engine is not None else LocalAuditEngine(ctx.frames)


# -- per-chunk helpers shared by both engines --------------------------------------------


def cast_plan(
    a: Mapping[str, pl.DataType], b: Mapping[str, pl.DataType], columns: Sequence[str]
) -> dict[str, pl.DataType]:
    """Dtypes that make ``columns`` comparable between two tables (as
    :func:`assay.data._common.comparable`): categoricals as strings, numbers of
    different dtypes as Float64, anything else that differs as strings."""
    plan: dict[str, pl.DataType] = {}
    for c in columns:
        x, y = a[c], b[c]
        if x in (pl.Categorical, pl.Enum) or y in (pl.Categorical, pl.Enum):
            plan[c] = pl.String()
        elif x != y:
            plan[c] = pl.Float64() if x.is_numeric() and y.is_numeric() else pl.String()
    return plan


def value_positions(
    df: pl.DataFrame, requests: Sequence[ValueRequest], *, offset: int, limit: int = LISTED
) -> list[np.ndarray]:
    """Positions (``offset`` + row) of the rows of a chunk matching each request."""
    out = []
    for column, op, value in requests:
        raw = df.get_column(column).cast(pl.Float64, strict=False).to_numpy()
        with np.errstate(invalid="ignore"):
            if op == "inf":
                hit = np.isinf(raw)
            elif op == "neg":
                hit = np.isfinite(raw) & (raw < 0)
            else:
                hit = np.isfinite(raw) & (raw == value)
        out.append(np.flatnonzero(hit)[:limit].astype(np.int64) + offset)
    return out


def first_rows(
    chunks: Sequence[Sequence[np.ndarray]], n: int, limit: int = LISTED
) -> list[tuple[int, ...]]:
    """Per request, the first ``limit`` positions over the chunks' :func:`value_positions`."""
    out = []
    for i in range(n):
        found = [c[i] for c in chunks if c[i].size]
        rows = np.sort(np.concatenate(found))[:limit] if found else np.zeros(0, np.int64)
        out.append(tuple(int(r) for r in rows))
    return out


# -- the local engine -----------------------------------------------------------------


class LocalAuditEngine:
    """Summaries of in-memory frames, computed :data:`CHUNK_ROWS` rows at a time.

    A column profile holds the column's distinct values whatever the chunking, so
    profiles are computed one whole column at a time unless ``profile_rows`` asks
    for chunks (the result is the same; tests use it to exercise the merges).
    """

    name = "local"

    def __init__(
        self,
        frames: Mapping[str, pl.DataFrame],
        chunk_rows: int = CHUNK_ROWS,
        profile_rows: int | None = None,
    ) -> None:
        self.frames = frames
        self.chunk_rows = chunk_rows
        self.profile_rows = profile_rows

    def _chunks(self, split: str, columns: Sequence[str] | None = None, rows: int | None = None):
        df = self.frames[split]
        if columns is not None:
            df = df.select(columns)
        step = rows or self.chunk_rows
        for start in range(0, max(df.height, 1), step):
            yield start, df.slice(start, step)

    def rows(self, split: str) -> int:
        return self.frames[split].height

    def dtypes(self, split: str) -> Mapping[str, pl.DataType]:
        return dict(self.frames[split].schema)

    def profiles(self, split: str, columns: Sequence[str]) -> Iterator[ColumnProfileSummary]:
        rows = self.profile_rows or max(self.rows(split), 1)
        for c in columns:
            parts = (profile_series(ch.get_column(c)) for _, ch in self._chunks(split, [c], rows))
            yield merge_all_profiles(parts)

    def value_rows(self, split: str, requests: Sequence[ValueRequest]) -> list[tuple[int, ...]]:
        if not requests:
            return []
        cols = sorted({r[0] for r in requests})
        found = [value_positions(ch, requests, offset=o) for o, ch in self._chunks(split, cols)]
        return first_rows(found, len(requests))

    def _counts(self, split: str, columns: Sequence[str], cast=None) -> RowHashCounts:
        # The keys of all chunks (16 bytes a row), then one sort: the same counts as
        # merging per-chunk counts, with less held at once.
        keys = [row_keys(prepare(ch, cast)) for _, ch in self._chunks(split, columns)]
        h1 = np.concatenate([k[0] for k in keys])
        h2 = np.concatenate([k[1] for k in keys])
        del keys
        return counts_from_keys(h1, h2)

    def duplicates(self, split: str, columns: Sequence[str]) -> DuplicateResult:
        cols = [c for c in columns if self.frames[split].schema[c] != pl.Object]
        if not cols or self.rows(split) < 2:
            return DuplicateResult(0, ())
        counts = self._counts(split, cols)
        cand = duplicate_candidates(counts)
        if cand.height == 0:  # no repeated row: nothing to list
            return DuplicateResult(0, ())
        found = first_positions(
            positions(prepare(ch), cand, offset=o, skip_first=True, limit=LISTED)
            for o, ch in self._chunks(split, cols)
        )
        rows = tuple(int(r) for r in found.get_column("row"))
        return DuplicateResult(duplicate_rows(counts), rows)

    def overlap(self, split: str, columns: Sequence[str]) -> OverlapResult:
        plan = cast_plan(self.dtypes("train"), self.dtypes(split), columns)
        train = self._counts("train", columns, plan)
        other = self._counts(split, columns, plan)
        stats = overlap_stats(train, other)
        if stats.candidates.height == 0:  # no overlap: nothing to list
            return OverlapResult(stats, (), (), chance_rows(train))
        found = first_positions(
            positions(prepare(ch, plan), stats.candidates, offset=o, skip_first=False, limit=LISTED)
            for o, ch in self._chunks(split, columns)
        )
        return overlap_result(stats, chance_rows(train), found)

    def fingerprint(self, split: str, columns: Sequence[str] | None = None) -> str:
        return merge_all_fingerprints(
            fingerprint_summary(ch) for _, ch in self._chunks(split, columns)
        ).digest()


def overlap_result(stats: OverlapStats, chance: int, found: pl.DataFrame) -> OverlapResult:
    """The overlap result from merged statistics and the listed rows found."""
    return OverlapResult(
        stats,
        tuple(int(r) for r in found.get_column("row")),
        tuple(int(r) for r in found.get_column("train_first")),
        chance,
    )


__all__ = [
    "CHUNK_ROWS",
    "AuditEngine",
    "DuplicateResult",
    "LocalAuditEngine",
    "OverlapResult",
    "ValueRequest",
    "audit_engine",
    "cast_plan",
    "first_rows",
    "overlap_result",
    "value_positions",
]
