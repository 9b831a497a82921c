"""What to summarise: column specs, and the per-chunk passes both engines run.

A :class:`ColumnSpec` names one compared series: a numeric or categorical
column, or a derived part of a datetime column (its weekday or hour: raw
timestamps always move forward between a reference and a later current
table, their weekly and daily pattern need not). The functions here turn a
Polars chunk of rows into first-pass summaries and second-pass counts; the
local engine calls them once on the whole table, the Dask engine once per
partition, and both merge the results the same way.

Example
-------
>>> import polars as pl
>>> df = pl.DataFrame({"x": [1.0, 2.0, None], "c": ["a", "b", "a"]})
>>> specs = [ColumnSpec("x", "x", "numeric"), ColumnSpec("c", "c", "categorical")]
>>> s = first_pass(df, specs)
>>> s["x"].n, s["x"].n_missing, sorted(s["c"].counts.items())
(2, 1, [('a', 2), ('b', 1)])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from assay.engine._summary import (
    SKETCH_POINTS,
    CategoricalSummary,
    NumericSummary,
    Summary,
    categorical_summary,
    counts_only,
    finite_sorted,
    format_value,
    numeric_partial,
)

Kind = Literal["numeric", "categorical"]
Part = Literal["weekday", "hour"]

WEEKDAYS = {1: "Mon", 2: "Tue", 3: "Wed", 4: "Thu", 5: "Fri", 6: "Sat", 7: "Sun"}


@dataclass(frozen=True)
class ColumnSpec:
    """One compared series: ``name`` as shown, from ``column``, of ``kind``.

    ``part`` derives the series from a datetime column (``weekday`` or ``hour``).
    """

    name: str
    column: str
    kind: Kind
    part: Part | None = None


def _series(df: pl.DataFrame, spec: ColumnSpec) -> pl.Series:
    s = df.get_column(spec.column)
    if spec.part is not None and not s.dtype.is_temporal():
        # e.g. a CSV whose dates did not parse in this table: parse them here
        s = s.cast(pl.String).str.to_datetime(strict=False)
    if spec.part == "weekday":
        return s.dt.weekday()
    if spec.part == "hour":
        return s.dt.hour()
    return s


def numeric_values(df: pl.DataFrame, spec: ColumnSpec) -> np.ndarray:
    """The column as float64 (nulls and unparseable values become NaN)."""
    s = _series(df, spec)
    if s.dtype == pl.Boolean or not s.dtype.is_numeric():
        s = s.cast(pl.Float64, strict=False)
    return s.cast(pl.Float64).to_numpy()


def category_counts(df: pl.DataFrame, spec: ColumnSpec) -> CategoricalSummary:
    """Counts of each category; numbers are labelled alike whatever their dtype."""
    s = _series(df, spec)
    n_missing = s.null_count()
    s = s.drop_nulls()
    if s.dtype.is_float():
        nan = int(s.is_nan().sum())
        n_missing += nan
        if nan:
            s = s.filter(~s.is_nan())
    if s.dtype in (pl.Categorical, pl.Enum):
        s = s.cast(pl.String)
    vc = s.value_counts(sort=False, name="__count__")
    keys = vc.get_column(s.name).to_list()
    counts = vc.get_column("__count__").to_list()
    if spec.part == "weekday":
        labels = [WEEKDAYS.get(int(k), str(k)) for k in keys]
    elif spec.part == "hour":
        labels = [f"{int(k):02d}h" for k in keys]
    elif s.dtype == pl.Boolean:
        labels = [str(k).lower() for k in keys]
    elif s.dtype.is_numeric():
        labels = [format_value(k) for k in keys]
    else:
        labels = [str(k) for k in keys]
    return categorical_summary(labels, counts, n_missing)


def first_pass(
    df: pl.DataFrame, specs: Sequence[ColumnSpec], *, sketch_points: int | None = SKETCH_POINTS
) -> dict[str, Summary]:
    """First-pass summaries of ``specs`` on the chunk ``df`` (categoricals are complete)."""
    out: dict[str, Summary] = {}
    for spec in specs:
        if spec.kind == "numeric":
            out[spec.name] = numeric_partial(numeric_values(df, spec), sketch_points=sketch_points)
        else:
            out[spec.name] = category_counts(df, spec)
    return out


def second_pass(
    df: pl.DataFrame, specs: Sequence[ColumnSpec], edges: Mapping[str, np.ndarray]
) -> dict[str, NumericSummary]:
    """Counts of the numeric ``specs`` of the chunk ``df`` on their ``edges``."""
    out = {}
    for spec in specs:
        if spec.name in edges:
            s, _ = finite_sorted(numeric_values(df, spec))
            out[spec.name] = counts_only(s, edges[spec.name])
    return out


def hash_sample(df: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """The ``n`` rows with the smallest content hash, in hash order.

    The choice depends on the rows' content only, never on their order or on
    how the table is split: the smallest hashes of the union of two chunks
    are among the smallest of each. A column ``__hash__`` is added.
    """
    h = df.hash_rows(seed=seed) if df.width else pl.Series([], dtype=pl.UInt64)
    out = df.with_columns(h.alias("__hash__"))
    if out.height > n:
        out = out.filter(pl.col("__hash__") <= pl.col("__hash__").bottom_k(n).max())
    return out.sort("__hash__", maintain_order=True).head(n)
