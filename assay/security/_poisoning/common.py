"""What several poisoning signals share: the rows searched for patterns, the columns
that can carry one, and the linear design matrix of the surrogate fits."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.data._crossval import model_features

if TYPE_CHECKING:
    from assay.core.context import AuditContext

MAX_FINDINGS_PER_SIGNAL = 10


def fmt(v: Any) -> str:
    """A value for a sentence: floats with four significant digits."""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def usable(ctx: AuditContext, df: pl.DataFrame) -> list[str]:
    """Model features that can carry a pattern (not identifiers or free text)."""
    return [
        c
        for c in model_features(ctx, df)
        if ctx.schema.types.get(c) not in ("identifier", "text") and df.schema[c] != pl.Object
    ]


def pattern_rows(
    ctx: AuditContext, split: str, th: Mapping[str, Any]
) -> tuple[pl.DataFrame, np.ndarray]:
    """The rows searched for duplicates and trigger patterns, with their positions.

    All rows up to ``max_rows_patterns``; beyond, the rows with the smallest seeded
    hash of their features, so identical rows are kept or left out together (and
    the sample does not depend on row order).
    """
    df = ctx.frame(split)
    limit = int(th["max_rows_patterns"])
    if df.height <= limit:
        return df, np.arange(df.height)
    feats = [c for c in model_features(ctx, df) if df.schema[c] != pl.Object]
    keys = df.select(feats).hash_rows(seed=ctx.settings.seed).to_numpy()
    keep = np.sort(np.argsort(keys, kind="stable")[:limit])
    return df[keep], keep


def design(
    df: pl.DataFrame, cols: list[str], ctx: AuditContext, other: pl.DataFrame | None = None
) -> tuple[np.ndarray, list[str | None], np.ndarray | None]:
    """Intercept, standardized numbers and one-hot top-20 categories; the column of each;
    and ``other`` encoded the same way (``df``'s means, scales and categories)."""
    parts = [np.ones((df.height, 1))]
    o_parts = [np.ones((other.height, 1))] if other is not None else []
    owners: list[str | None] = [None]
    for c in cols:
        s = df.get_column(c)
        o = other.get_column(c) if other is not None and c in other.columns else None
        if s.dtype.is_temporal():
            s = s.to_physical()
            o = o.to_physical() if o is not None and o.dtype.is_temporal() else o
        numeric = s.dtype.is_numeric() or s.dtype == pl.Boolean
        if numeric and ctx.schema.types.get(c) != "categorical":
            cols_here = _numeric_columns(s, o, other)
        else:
            cols_here = _one_hot_columns(s, o, other)
        for part, o_part in cols_here:
            parts.append(part)
            owners.append(c)
            if other is not None:
                assert o_part is not None  # each column has its part of `other` when given
                o_parts.append(o_part)
    return np.hstack(parts), owners, np.hstack(o_parts) if other is not None else None


def _numeric_columns(
    s: pl.Series, o: pl.Series | None, other: pl.DataFrame | None
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """One standardized column (none when constant), and ``other``'s on ``s``'s scale."""
    x = s.cast(pl.Float64).to_numpy().astype(float, copy=True)
    x[~np.isfinite(x)] = np.nan
    mu, sd = np.nanmean(x), np.nanstd(x)
    if not np.isfinite(sd) or sd == 0:
        return []
    o_col = None
    if other is not None:
        xo = np.full(other.height, np.nan)
        if o is not None:
            xo = o.cast(pl.Float64, strict=False).to_numpy().astype(float, copy=True)
            xo[~np.isfinite(xo)] = np.nan
        o_col = np.nan_to_num((xo - mu) / sd, nan=0.0).reshape(-1, 1)
    return [(np.nan_to_num((x - mu) / sd, nan=0.0).reshape(-1, 1), o_col)]


def _one_hot_columns(
    s: pl.Series, o: pl.Series | None, other: pl.DataFrame | None
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """One-hot columns of ``s``'s 20 most frequent values but the first (the reference)."""
    vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
    uniq, counts = np.unique(vals, return_counts=True)
    top = uniq[np.lexsort((uniq, -counts))][:20]
    vo = None
    if other is not None and o is not None:
        vo = o.cast(pl.String).fill_null("(missing)").to_numpy()
    out: list[tuple[np.ndarray, np.ndarray | None]] = []
    for v in top[1:]:  # the most frequent level is the reference
        o_col = None
        if other is not None:
            hot = np.zeros(other.height) if vo is None else (vo == v).astype(float)
            o_col = hot.reshape(-1, 1)
        out.append(((vals == v).astype(float).reshape(-1, 1), o_col))
    return out
