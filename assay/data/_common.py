"""Small helpers shared by the data checks (private)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from assay.core.result import Finding, Status, worst_status
from assay.io.schema import infer_column_type

if TYPE_CHECKING:
    from assay.core.context import AuditContext

MAX_ROWS_LISTED = 1000
"""At most this many row positions are listed in one finding."""

SPLIT_ORDER = ("train", "test", "current")


def pct(share: float) -> str:
    """Format a share in ``[0, 1]`` as a short percentage (``0.4`` -> ``'40%'``)."""
    if share == 0:
        return "0%"
    if share >= 0.01:
        return f"{share * 100:.3g}%"
    return f"{share * 100:.2g}%"


def splits(ctx: AuditContext) -> list[str]:
    """The splits given, in the order train, test, current."""
    return [s for s in SPLIT_ORDER if ctx.has(s)]


def column_type(ctx: AuditContext, name: str, df: pl.DataFrame) -> str:
    """The schema type of ``name``, inferred from ``df`` if the schema lacks it."""
    t = ctx.schema.types.get(name)
    if t is not None:
        return t
    if df.schema[name] == pl.Object:
        return "categorical"
    return infer_column_type(name, df.get_column(name))


def excluded_columns(ctx: AuditContext) -> set[str]:
    """Columns the data checks leave out: ignored and prediction/score columns."""
    return {*ctx.schema.ignored, *ctx.schema.prediction_columns}


def capped_rows(positions: np.ndarray | Sequence[int]) -> tuple[int, ...]:
    """The first :data:`MAX_ROWS_LISTED` row positions, as plain ints."""
    return tuple(int(p) for p in np.asarray(positions)[:MAX_ROWS_LISTED])


def and_join(words: Sequence[str]) -> str:
    """``'train, test and current'``."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def join_names(names: Iterable[str], limit: int = 3) -> str:
    """``'a', 'b' and 3 more`` for a sentence."""
    names = list(names)
    shown = ", ".join(f"'{n}'" for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def comparable(df: pl.DataFrame, columns: Sequence[str], other: pl.DataFrame) -> pl.DataFrame:
    """``df[columns]`` with dtypes made joinable against ``other[columns]``.

    Categoricals become strings; columns whose dtypes differ between the two
    frames become Float64 when both are numeric and String otherwise.
    """
    exprs = []
    for c in columns:
        a, b = df.schema[c], other.schema[c]
        if a in (pl.Categorical, pl.Enum) or b in (pl.Categorical, pl.Enum):
            exprs.append(pl.col(c).cast(pl.String))
        elif a != b:
            both_numeric = a.is_numeric() and b.is_numeric()
            exprs.append(pl.col(c).cast(pl.Float64 if both_numeric else pl.String))
        else:
            exprs.append(pl.col(c))
    return df.select(exprs)


def overall_status(findings: Sequence[Finding]) -> Status:
    """The worst status among ``findings`` (``pass`` when there are none)."""
    return worst_status([f.status for f in findings])


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Fail before warn before pass, keeping the order within each status."""
    rank = {"fail": 0, "error": 0, "warn": 1, "pass": 2, "skipped": 3}
    return sorted(findings, key=lambda f: rank[f.status])
