"""The conditions ``evaluation.weak_segments`` searches: each feature as integer codes
and the readable conditions (sets of codes) it offers (private).

Numeric columns are cut at rounded quantiles (``age < 25``, ``25 <= age < 38``,
``age >= 52``), other columns give one condition per frequent value
(``workclass = Private``), and missing values their own (``age is missing``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from assay.core.context import AuditContext
from assay.evaluation._depth import cut_points, fmt_value

_NUMERIC = "numeric"
_VALUED = ("categorical", "boolean")


@dataclass
class Column:
    """A column as integer codes, and the conditions (sets of codes) it offers."""

    name: str
    codes: np.ndarray  # (n,) in [0, k)
    k: int
    conditions: np.ndarray  # (c, k) 0/1: which codes each condition holds
    predicates: list[str]


def _numeric_column(name: str, s: pl.Series, n_bins: int) -> Column | None:
    """Below each cut, from each cut up, between neighbouring cuts, and missing."""
    v = s.cast(pl.Float64, strict=False).to_numpy().astype(np.float64)
    finite = np.isfinite(v)
    if finite.sum() < 2:
        return None
    vals = v[finite]
    integer = bool(np.all(vals == np.round(vals)))
    raw = np.quantile(vals, np.linspace(0, 1, n_bins + 1)[1:-1])
    lo, hi = vals.min(), vals.max()
    edges = sorted(set(cut_points(raw, float(lo), float(hi), integer)))
    edges = [e for e in edges if lo < e <= hi]
    if not edges:
        return None
    b = len(edges) + 1
    codes = np.where(finite, np.searchsorted(edges, np.where(finite, v, 0.0), side="right"), b)
    has_missing = bool((~finite).any())
    k = b + 1
    rows: list[np.ndarray] = []
    preds: list[str] = []

    def cond(members: range | list[int], text: str) -> None:
        row = np.zeros(k)
        row[list(members)] = 1.0
        rows.append(row)
        preds.append(text)

    e = [fmt_value(x) for x in edges]
    for j in range(1, b):  # x < e_j: bins 0..j-1
        cond(range(0, j), f"{name} < {e[j - 1]}")
    for i in range(1, b):  # x >= e_i: bins i..b-1
        cond(range(i, b), f"{name} >= {e[i - 1]}")
    for i in range(1, b - 1):  # e_i <= x < e_{i+1}
        cond([i], f"{e[i - 1]} <= {name} < {e[i]}")
    if has_missing:
        cond([b], f"{name} is missing")
    return Column(name, codes.astype(np.int64), k, np.array(rows), preds)


def _valued_column(name: str, s: pl.Series, max_values: int) -> Column | None:
    """One condition per frequent value (the rest share a code), and missing."""
    text = s.cast(pl.String, strict=False)
    counts = text.drop_nulls().value_counts()
    if counts.height == 0:
        return None
    counts = counts.sort(["count", text.name], descending=[True, False])
    top = counts.get_column(text.name).to_list()[:max_values]
    index = {v: i for i, v in enumerate(top)}
    other, missing = len(top), len(top) + 1
    values = text.to_list()
    codes = np.array(
        [missing if v is None else index.get(v, other) for v in values], dtype=np.int64
    )
    k = len(top) + 2
    rows, preds = [], []
    for i, v in enumerate(top):
        row = np.zeros(k)
        row[i] = 1.0
        rows.append(row)
        preds.append(f"{name} = {v}")
    if (codes == missing).any():
        row = np.zeros(k)
        row[missing] = 1.0
        rows.append(row)
        preds.append(f"{name} is missing")
    return Column(name, codes, k, np.array(rows), preds)


def columns(ctx: AuditContext, df: pl.DataFrame, th: Mapping[str, Any]) -> list[Column]:
    """The features (and sensitive columns) as conditions; columns with none are left out."""
    names = list(ctx.schema.features) + [c for c in ctx.sensitive if c not in ctx.schema.features]
    out = []
    for c in names:
        if c not in df.columns:
            continue
        t = ctx.schema.types.get(c)
        s = df.get_column(c)
        col = None
        if t == _NUMERIC and s.n_unique() > max(int(th["n_bins"]), 6):
            col = _numeric_column(c, s, int(th["n_bins"]))
        elif t == _NUMERIC or t in _VALUED:
            col = _valued_column(c, s, int(th["max_categories"]))
        if col is not None and col.conditions.shape[0]:
            out.append(col)
    return out
