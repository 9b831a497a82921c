"""``data.integrity``: is the data well-formed?

Missing values, constant and near-constant columns, mixed types, infinities,
duplicate rows, duplicated column names and identifier-like features, on
every split given. Column statistics come from one vectorized Polars query per
split (plus a second, smaller one for the most frequent value of columns that
repeat values); duplicate rows are found by row hashes verified exactly.

Sentinels and impossible values (numeric columns). A *sentinel* is a code such
as 999, 666 or 99999 standing for "unknown": an extreme value of a column
(its largest or smallest) separated from the rest by more than ``sentinel_gap``
robust scales, more than ``sentinel_far`` robust scales from the rest's median,
held by at most ``sentinel_max_share`` of the rows, and a code-like number
(-1, nines such as 99 or 999, three or more repeated digits such as 666); the
rest of the column must take at least two values. Repetition alone is not
enough: real extremes repeat (a fare paid by a party of four). The robust
scale is the rest's interquartile range over 1.349 (its 5-95% range over 3.29
when the quartiles coincide). A lone far value that is no code is only a note
(a pass finding), and only when the rest of the column is compact (heavy tails
reach far by themselves). *Impossible values*: exact zeros in a column otherwise
strictly positive and well away from zero, also in robust scales (a dimension
recorded as 0), and code-like negatives (-1, -9, -99) in a column otherwise
non-negative, each in at most ``impossible_max_share`` of rows.
The decisions are the pure functions :func:`judge_sentinel`,
:func:`judge_impossible` and :func:`judge_outlier_note`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.data._common import (
    and_join,
    column_type,
    excluded_columns,
    overall_status,
    pct,
    sort_findings,
    splits,
)
from assay.details.data import IntegrityColumn, IntegrityDetails  # noqa: F401  (re-exported)
from assay.engine._audit import LocalAuditEngine, ValueRequest, audit_engine
from assay.engine._profile import ColumnProfileSummary, ValueView

if TYPE_CHECKING:
    from assay.core.context import AuditContext

WantRows = Callable[[Finding, ValueRequest], None]
"""Asks for the rows of a finding: resolved in one pass over the split's rows."""

_SEP = "\x1f"


@dataclass(frozen=True)
class ColumnProfile:
    """Vectorized statistics of one column of one split."""

    column: str
    n_rows: int
    n_missing: int
    n_unique: int | None
    dominant_count: int | None
    n_infinite: int = 0
    n_numeric_like: int | None = None
    is_object: bool = False

    @property
    def n_present(self) -> int:
        return self.n_rows - self.n_missing

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else 0.0

    @property
    def dominant_share(self) -> float | None:
        if self.dominant_count is None or self.n_present == 0:
            return None
        return self.dominant_count / self.n_present


def as_profile(s: ColumnProfileSummary) -> ColumnProfile:
    """The check's view of a merged column summary."""
    n_unique = s.n_unique
    n_present = s.n_present
    if n_unique is None or n_present == 0:
        dominant = None
    elif n_unique == 1:
        dominant = n_present
    elif n_unique == n_present:
        dominant = 1
    else:
        dominant = s.dominant_count
    return ColumnProfile(
        column=s.column,
        n_rows=s.n_rows,
        n_missing=s.n_missing,
        n_unique=n_unique,
        dominant_count=dominant,
        n_infinite=s.n_infinite,
        n_numeric_like=s.n_numeric_like,
        is_object=s.kind == "object",
    )


def profile_columns(df: pl.DataFrame) -> list[ColumnProfile]:
    """Statistics of every column of ``df``, from mergeable per-chunk summaries
    (:mod:`assay.engine._profile`).

    Missing values are nulls, and NaN in float columns. ``n_unique`` and
    ``dominant_count`` (rows holding the most frequent value) count present
    values only. ``n_numeric_like`` (string columns) counts values that parse
    as numbers.

    Examples
    --------
    >>> p = profile_columns(pl.DataFrame({"a": [1.0, None, float("nan"), 1.0]}))
    >>> p[0].n_missing, p[0].n_unique, p[0].dominant_share
    (2, 1, 1.0)
    """
    engine = LocalAuditEngine({"t": df})
    return [as_profile(s) for s in engine.profiles("t", df.columns)]


def duplicate_row_positions(df: pl.DataFrame) -> pl.Series:
    """0-based positions of rows that repeat an earlier row exactly (nulls equal), at most
    :data:`~assay.data._common.MAX_ROWS_LISTED`, from exact 128-bit row-hash counts
    (:mod:`assay.engine._rowhash`).

    Examples
    --------
    >>> duplicate_row_positions(pl.DataFrame({"a": [1, 2, 1, None, None]})).to_list()
    [2, 4]
    """
    dups = LocalAuditEngine({"t": df}).duplicates("t", df.columns)
    return pl.Series("row", list(dups.rows), dtype=pl.UInt32)


def _parses(v: Any) -> bool:
    try:
        float(str(v).strip())
    except ValueError:
        return False
    return True


def _non_numeric_tokens(s: ColumnProfileSummary, limit: int = 5) -> list[str]:
    return s.frequent(lambda v: v is not None and not _parses(v), limit)


def _column_findings(
    s: ColumnProfileSummary,
    split: str,
    th: Mapping[str, Any],
    is_target: bool,
    want_rows: WantRows,
) -> list[tuple[str, Finding]]:
    """Findings about one column of one split, each with its problem kind."""
    out: list[tuple[str, Finding]] = []
    p = as_profile(s)
    name = p.column

    def add(kind: str, status: Status, msg: str, **kw: Any) -> None:
        out.append((kind, Finding(status, msg, column=name, split=split, **kw)))

    if p.n_rows and p.n_missing == p.n_rows:
        msg = f"Column '{name}' is empty in {split}: every value is missing."
        add("all_null", "fail", msg, metrics={"missing_share": 1.0})
        return out
    share = p.missing_share
    if share > th["missing_warn"]:
        msg = (
            f"Column '{name}' is {pct(share)} missing in {split} "
            f"({p.n_missing:,} of {p.n_rows:,} rows)."
        )
        status: Status = "fail" if share > th["missing_fail"] else "warn"
        add("missing", status, msg, metrics={"missing_share": share, "missing_count": p.n_missing})
    if p.n_infinite:
        msg = (
            f"Column '{name}' holds {p.n_infinite:,} infinite value(s) in {split}; "
            "most models cannot use them."
        )
        add("infinite", "fail", msg, metrics={"infinite_count": p.n_infinite})
        want_rows(out[-1][1], (name, "inf", 0.0))
    if p.is_object:
        msg = f"Column '{name}' in {split} holds Python objects, not values of one data type."
        add("mixed_type", "warn", msg)
    elif p.n_numeric_like is not None and p.n_present:
        numeric_share = p.n_numeric_like / p.n_present
        if th["mixed_min_numeric"] <= numeric_share < 1:
            shown = ", ".join(repr(t) for t in _non_numeric_tokens(s))
            msg = (
                f"Column '{name}' in {split} is mostly numbers ({pct(numeric_share)}) "
                f"mixed with text such as {shown}."
            )
            bad = p.n_present - p.n_numeric_like
            add(
                "mixed_type",
                "warn",
                msg,
                metrics={"numeric_share": numeric_share, "non_numeric_count": bad},
            )
    if is_target or p.n_unique is None:
        return out
    if p.n_unique == 1:
        value = s.only_value()
        extra = " (the other rows are missing)" if p.n_missing else ""
        msg = (
            f"Column '{name}' is constant in {split}: every row is {value!r}{extra}, "
            "so it carries no information."
        )
        add("constant", "warn", msg, metrics={"n_unique": 1})
    elif p.dominant_share is not None and p.dominant_share >= th["near_constant_warn"]:
        msg = (
            f"Column '{name}' is nearly constant in {split}: one value fills "
            f"{pct(p.dominant_share)} of its rows."
        )
        add(
            "near_constant",
            "warn",
            msg,
            metrics={"dominant_share": p.dominant_share, "n_unique": p.n_unique},
        )
    return out


# -- sentinels and impossible values -------------------------------------------------


def code_like(value: float) -> bool:
    """Whether ``value`` reads as a code for 'unknown': -1, nines (99, 999, -9, -99...),
    or an integer of three or more repeated digits (666, 8888).

    >>> code_like(999), code_like(666.0), code_like(-1), code_like(55), code_like(1000)
    (True, True, True, False, False)
    """
    if not np.isfinite(value) or value != int(value):
        return False
    v = int(value)
    if v == -1:
        return True
    digits = str(abs(v))
    if set(digits) == {"9"}:
        return len(digits) >= 2 or v < 0
    return len(digits) >= 3 and len(set(digits)) == 1


def judge_sentinel(
    *,
    count: int,
    n: int,
    gap: float,
    far: float,
    code_like: bool,
    rest_unique: int,
    params: Mapping[str, Any],
) -> tuple[Status, str]:
    """Whether an extreme value of a column is a sentinel code (warn) or not (pass).

    ``gap``: distance to the nearest other value, and ``far``: distance to the median
    of the other values, both in robust scales of the other values. Pure: numbers in,
    verdict out.

    >>> th = {"sentinel_gap": 5.0, "sentinel_far": 10.0, "sentinel_max_share": 0.01}
    >>> judge_sentinel(count=3, n=1000, gap=40, far=50, code_like=True, rest_unique=9,
    ...                params=th)[0]
    'warn'
    """
    if rest_unique < 2:
        return "pass", "the other values are all equal: a rare value, not a code"
    if count > float(params["sentinel_max_share"]) * n:
        return "pass", "too many rows hold it to be a stray code"
    if gap <= float(params["sentinel_gap"]):
        return "pass", "not separated from the other values"
    if far <= float(params["sentinel_far"]):
        return "pass", "not far from the bulk of the other values"
    if not code_like:
        # Real extremes repeat too (a fare paid by a party of four, a capped income).
        return "pass", "a value that reads as no code"
    return "warn", "a code-like value far outside the rest of the column"


def judge_outlier_note(*, count: int, far: float, rest_reach: float, params: Mapping) -> bool:
    """Whether a lone extreme value that is no code deserves a note (never a warning):
    more than ``outlier_note_far`` robust scales from the median, in a column whose other
    values reach at most ``outlier_note_reach`` scales (no heavy tail).

    >>> th = {"outlier_note_far": 50.0, "outlier_note_reach": 6.0}
    >>> judge_outlier_note(count=1, far=600.0, rest_reach=3.3, params=th)
    True
    """
    return (
        count == 1
        and far > float(params["outlier_note_far"])
        and rest_reach <= float(params["outlier_note_reach"])
    )


def judge_impossible(
    kind: str,
    *,
    count: int,
    n: int,
    rest_min: float,
    rest_median: float,
    resolution: float,
    rest_scale: float = 0.0,
    n_distinct: int = 1,
    code_like: bool = True,
    params: Mapping[str, Any],
) -> tuple[Status, str]:
    """Whether zeros (``kind="zero"``) in an otherwise positive column, or negatives
    (``kind="negative"``) in an otherwise non-negative one, are impossible values (warn).

    Zeros warn when the other values stay well away from zero (their minimum is at least
    ``zero_min_gap`` of their median, ``zero_min_scales`` of their robust scale and ten
    resolutions); negatives when they take at most two distinct values, all code-like
    (-1, -9, -99: a real tail crossing zero, such as a temperature, is no error). Either
    needs at most ``impossible_max_share`` of the rows.

    >>> th = {"impossible_max_share": 0.01, "zero_min_gap": 0.2, "zero_min_scales": 0.5}
    >>> judge_impossible("zero", count=3, n=1000, rest_min=3.5, rest_median=6.0,
    ...                  resolution=0.01, rest_scale=2.0, params=th)[0]
    'warn'
    """
    if count < 1 or count > float(params["impossible_max_share"]) * n:
        return "pass", "too many rows: a value of its own, not an error"
    if kind == "zero":
        if rest_min <= 0:
            return "pass", "the other values are not all positive"
        if (
            rest_min < 10 * resolution
            or rest_min < float(params["zero_min_gap"]) * rest_median
            or rest_min < float(params["zero_min_scales"]) * rest_scale
        ):
            return "pass", "the other values come close to zero"
        return "warn", "exact zeros in a column otherwise well above zero"
    if rest_min < 0:
        return "pass", "the other values are not all non-negative"
    if n_distinct > 2 or not code_like:
        return "pass", "negative values that read as no code: a tail crossing zero"
    return "warn", "negative values in a column otherwise never negative"


def _scale(rest: ValueView) -> float:
    q05, q25, q75, q95 = rest.percentile([5, 25, 75, 95])
    s = (q75 - q25) / 1.349
    if s <= 0:
        s = (q95 - q05) / 3.29
    if s <= 0:
        d = np.diff(rest.values)
        s = float(d.min()) if d.size else 0.0
    return float(s)


def _fmt(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else f"{v:.6g}"


def _top_code(value: float, median: float, near: float) -> bool:
    """A nines value (99, 9999, 99999) capping a strongly right-skewed column: more
    likely a top-code (a cap, as census incomes are) than an 'unknown' code, so it is a
    note, not a warning. A nines code far above a column whose values sit near their
    median (an age of 999) stays a warning."""
    digits = f"{abs(value):.0f}"
    nines = value > 0 and float(value).is_integer() and set(digits) == {"9"}
    return nines and (median <= 0 or near / median >= 20)


def _value_findings(
    name: str, view: ValueView, split: str, th: Mapping[str, Any], want_rows: WantRows
) -> list[tuple[str, Finding]]:
    """Sentinel codes, impossible zeros and negatives, and notes on lone far values,
    from the sorted distinct finite values of a column with their counts."""
    n = view.n
    out: list[tuple[str, Finding]] = []
    if n < 20:
        return out

    def finding(kind: str, status: Status, msg: str, value: float, m: dict, op: str = "eq"):
        f = Finding(status, msg, column=name, split=split, metrics=m)
        out.append((kind, f))
        want_rows(f, (name, op, value))

    flagged = _extreme_values(name, view, split, th, finding)
    _impossible_zeros(name, view, split, th, finding, flagged)
    _impossible_negatives(name, view, split, th, finding, flagged)
    return out


def _extreme_values(
    name: str, view: ValueView, split: str, th: Mapping[str, Any], finding: Callable[..., None]
) -> set[float]:
    """Up to three values at each end, far from the rest: sentinels (warn), top-codes and a
    lone far value (notes). Returns the values flagged as codes."""
    n = view.n
    flagged: set[float] = set()
    for end in ("top", "bottom"):
        lo, hi = 0, len(view)
        for _ in range(3):
            at = hi - 1 if end == "top" else lo
            c = float(view.values[at])
            count = round(float(view.counts[at]))
            others = view.slice(lo, hi - 1) if end == "top" else view.slice(lo + 1, hi)
            if others.n < 2:
                break
            s = _scale(others)
            if s <= 0:
                break
            med = others.median()
            near = others.values[-1] if end == "top" else others.values[0]
            gap, far = abs(c - near) / s, abs(c - med) / s
            status, _ = judge_sentinel(
                count=count,
                n=n,
                gap=gap,
                far=far,
                code_like=code_like(c),
                rest_unique=len(others),
                params=th,
            )
            first, last = _fmt(float(others.values[0])), _fmt(float(others.values[-1]))
            if status == "warn" and end == "top" and _top_code(c, med, float(near)):
                msg = (
                    f"Note: column '{name}' holds the value {_fmt(c)} in {count:,} row(s) of "
                    f"{split}, far above its other values ({first} to {last}) in a column most "
                    "of whose values are small: it reads as a top-code (values above a cap "
                    "recorded as the cap) or a code for 'unknown'; check which before using it."
                )
                m = {"topcode_count": count, "topcode_value": c, "robust_distance": far}
                finding("topcode_note", "pass", msg, c, m)
                flagged.add(c)
                lo, hi = (lo, hi - 1) if end == "top" else (lo + 1, hi)
                continue
            if status == "warn":
                flagged.add(c)
                word = "row" if count == 1 else "rows"
                msg = (
                    f"Column '{name}' holds the value {_fmt(c)} in {count:,} {word} of {split}, "
                    f"far outside its other values ({first} to {last}): it looks like a code "
                    "for 'unknown' (a sentinel), not a measurement."
                )
                m = {"sentinel_count": count, "sentinel_value": c, "robust_distance": far}
                finding("sentinel", "warn", msg, c, m)
                lo, hi = (lo, hi - 1) if end == "top" else (lo + 1, hi)
                continue
            reach = abs(float(near) - med) / s
            if judge_outlier_note(count=count, far=far, rest_reach=reach, params=th):
                msg = (
                    f"Note: column '{name}' has one value, {_fmt(c)}, far outside its other "
                    f"values ({first} to {last}) in {split}; check that it is a real measurement."
                )
                m = {"outlier_count": 1, "outlier_value": c, "robust_distance": far}
                finding("outlier_note", "pass", msg, c, m)
            break
    return flagged


def _impossible_zeros(
    name: str,
    view: ValueView,
    split: str,
    th: Mapping[str, Any],
    finding: Callable[..., None],
    flagged: set[float],
) -> None:
    """Zeros in a column whose other values are all positive (a missing measurement)."""
    n = view.n
    zeros = view.where(0.0, 0.0, strict=False).n
    positive = view.where(low=0.0, strict=True)
    if zeros and zeros + positive.n == n and 0.0 not in flagged and positive.n > 1:
        d = np.diff(positive.values)
        status, _ = judge_impossible(
            "zero",
            count=zeros,
            n=n,
            rest_min=float(positive.values[0]),
            rest_median=positive.median(),
            resolution=float(d.min()) if d.size else 0.0,
            rest_scale=_scale(positive),
            params=th,
        )
        if status == "warn":
            word = "row" if zeros == 1 else "rows"
            msg = (
                f"Column '{name}' is zero in {zeros:,} {word} of {split} while every other "
                f"value is positive ({_fmt(float(positive.values[0]))} or more): a zero here is "
                "likely impossible (a missing measurement recorded as 0)."
            )
            m = {"impossible_count": zeros, "impossible_value": 0.0}
            finding("impossible", "warn", msg, 0.0, m)


def _impossible_negatives(
    name: str,
    view: ValueView,
    split: str,
    th: Mapping[str, Any],
    finding: Callable[..., None],
    flagged: set[float],
) -> None:
    """Negatives in a column whose other values are all 0 or more (or codes)."""
    n = view.n
    negative = view.where(high=0.0, strict=True)
    if negative.n and not np.isin(list(flagged), negative.values).any():
        nonneg = view.where(low=0.0, strict=False)
        if nonneg.n > 1:
            distinct = negative.values
            status, _ = judge_impossible(
                "negative",
                count=negative.n,
                n=n,
                rest_min=float(nonneg.values[0]),
                rest_median=nonneg.median(),
                resolution=0.0,
                n_distinct=len(negative),
                code_like=all(code_like(float(x)) for x in distinct),
                params=th,
            )
            if status == "warn":
                k = negative.n
                shown = " and ".join(_fmt(float(x)) for x in distinct)
                word = "row" if k == 1 else "rows"
                msg = (
                    f"Column '{name}' is negative ({shown}) in {k:,} {word} of {split} while "
                    "every other value is 0 or more: likely impossible, or a code for 'unknown'."
                )
                m = {"impossible_count": k, "impossible_value": float(distinct[0])}
                finding("impossible", "warn", msg, 0.0, m, op="neg")


# Metric names for the number of problems of each kind (a column in one split
# counts once), chosen to read plainly in the report.
_COUNT_NAMES = {
    "all_null": "columns_all_null",
    "missing": "columns_with_missing",
    "infinite": "columns_with_infinities",
    "duplicate_column_names": "duplicated_column_names",
    "mixed_type": "columns_mixed_type",
    "sentinel": "columns_with_sentinels",
    "impossible": "columns_with_impossible_values",
    "identifier_feature": "identifier_features",
    "duplicate_rows": "splits_with_duplicate_rows",
    "constant": "columns_constant",
    "near_constant": "columns_near_constant",
}


def _identifier_findings(ctx: AuditContext) -> list[tuple[str, Finding]]:
    names = ctx.model.feature_names if ctx.model is not None else None
    used = list(names) if names else list(ctx.schema.features)
    how = "the model uses it as a feature" if names else "it is treated as a model feature"
    out = []
    for c in used:
        if ctx.schema.types.get(c) == "identifier":
            msg = (
                f"Column '{c}' looks like an identifier (a different value in almost every "
                f"row) and {how}; an identifier cannot generalize to new rows."
            )
            out.append(("identifier_feature", Finding("warn", msg, column=c, split="test")))
    return out


# Problem kinds, worst first, with what to do about each.
_RECOMMENDATIONS = {
    "all_null": "Drop empty columns or fix the step that should fill them.",
    "missing": "Find out why values are missing in the named columns: fix the pipeline, "
    "impute deliberately, or drop a column that is mostly empty.",
    "infinite": "Replace infinite values (often a division by zero upstream) with a "
    "missing value or a capped number.",
    "duplicate_column_names": "Rename columns so that every name appears once.",
    "mixed_type": "Clean columns that mix numbers and text: declare tokens such as 'NA' or "
    "'?' as missing when reading the file, or correct the values.",
    "sentinel": "Declare the named codes (such as 999 or -1) as missing values when reading "
    "the data, so that no model learns them as real measurements.",
    "impossible": "Check the named zeros or negative values at their source: treat them as "
    "missing if they cannot be real.",
    "identifier_feature": "Remove identifier columns from the model's features (or list them "
    "under ignore) unless the identifier really carries meaning.",
    "duplicate_rows": "Remove duplicate rows, or confirm that they are real repeated events.",
    "constant": "Drop constant columns, and check that near-constant ones are not the "
    "trace of a broken extraction.",
}
_RECOMMENDATIONS["near_constant"] = _RECOMMENDATIONS["constant"]
_PRIORITY = {k: i for i, k in enumerate(_RECOMMENDATIONS)}


def _missing_chart(table: list[dict[str, Any]], th: Mapping[str, Any], many: bool) -> dict:
    rows = sorted((r for r in table if r["missing_share"]), key=lambda r: -r["missing_share"])
    items = []
    for r in rows[:25]:
        share = r["missing_share"]
        status = (
            "fail"
            if share > th["missing_fail"] or share == 1
            else "warn"
            if share > th["missing_warn"]
            else "pass"
        )
        label = f"{r['column']} ({r['split']})" if many else r["column"]
        items.append(Bar(label, share, status))
    return BarChart(
        title="Missing values by column",
        x_label="share of rows missing",
        unit="share",
        items=items,
        threshold=th["missing_warn"],
    ).to_dict()


@dataclass(frozen=True)
class IntegrityParams:
    """Parameters of ``data.integrity``."""

    missing_warn: float = param(
        0.05, "Share of a column's values missing above which it warns.", ge=0, le=1
    )
    missing_fail: float = param(
        0.5, "Share of a column's values missing above which it fails.", ge=0, le=1
    )
    near_constant_warn: float = param(
        0.99,
        "Share of rows holding one value at or above which a column is near-constant.",
        ge=0,
        le=1,
    )
    mixed_min_numeric: float = param(
        0.5,
        "Share of numeric-looking values from which a text column counts as mixed-type.",
        ge=0,
        le=1,
    )
    duplicate_warn: float = param(
        0.01, "Share of duplicated rows above which it warns.", ge=0, le=1
    )
    sentinel_gap: float = param(
        5.0,
        "Robust scales an extreme value must stand from its nearest neighbour to be a code.",
        ge=0,
    )
    sentinel_far: float = param(
        10.0, "Robust scales an extreme value must stand from the median to be a code.", ge=0
    )
    sentinel_max_share: float = param(
        0.01, "Largest share of rows a sentinel code (such as 999) may hold.", ge=0, le=1
    )
    impossible_max_share: float = param(
        0.01, "Largest share of rows impossible zeros or negatives may hold to warn.", ge=0, le=1
    )
    zero_min_gap: float = param(
        0.2,
        "Zeros warn only if the other values' minimum is at least this share of their median.",
        ge=0,
    )
    zero_min_scales: float = param(
        0.5,
        "Zeros warn only if the other values' minimum is at least this many robust scales.",
        ge=0,
    )
    outlier_note_far: float = param(
        50.0,
        "Robust scales from the median beyond which a lone non-code extreme gets a note.",
        ge=0,
    )
    outlier_note_reach: float = param(
        6.0, "The note needs the other values to reach at most this many robust scales.", ge=0
    )


@register_check(
    "data.integrity",
    area="data",
    title="Data integrity",
    explanation=(
        "Checks that the data is well-formed before anything is learned from it: columns "
        "with missing values, columns that never change, numbers mixed with text, "
        "infinite values, rows or column names that appear twice, identifier columns "
        "used as features, sentinel codes (a few code-like values such as 999, 666 or "
        "-1 far outside the rest of a numeric column) and impossible values (exact zeros in a "
        "column otherwise well above zero, negatives in a column otherwise never negative). "
        "Each of these silently degrades a model or makes its evaluation misleading. Every "
        "problem names its column (or rows) and data split."
    ),
    standards=("MAP 2.3", "MEASURE 2.1"),
    severity="high",
    params=IntegrityParams,
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=IntegrityDetails,
)
def integrity(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Missing, constant, mixed-type, infinite and duplicated data on every split.

    A column entirely missing, a column more than ``missing_fail`` missing, an
    infinite value or a duplicated column name fails; missing above
    ``missing_warn``, a constant column, a column whose most frequent value
    fills at least ``near_constant_warn`` of its rows, a string column whose
    values are at least ``mixed_min_numeric`` (but not all) numbers, an object
    column, duplicate rows above ``duplicate_warn`` of a split and an
    identifier-like feature warn. Constant columns warn rather than fail: they
    cannot mislead a model, but usually betray a broken extraction.
    """
    skip = excluded_columns(ctx)
    engine = audit_engine(ctx)
    found: list[tuple[str, Finding]] = []
    table: list[dict[str, Any]] = []
    metrics: dict[str, float | int | None] = {}
    for split in splits(ctx):
        dtypes = engine.dtypes(split)
        columns = [c for c in dtypes if c not in skip]
        pending: list[tuple[Finding, ValueRequest]] = []

        def want_rows(f: Finding, request: ValueRequest) -> None:
            pending.append((f, request))  # noqa: B023 - resolved before the next split

        for summary in engine.profiles(split, columns):
            name = summary.column
            found += _column_findings(summary, split, th, name == ctx.target, want_rows)
            dtype = dtypes[name]
            kind = ctx.schema.types.get(name)
            if (dtype.is_integer() or dtype.is_float()) and kind not in ("identifier", "boolean"):
                found += _value_findings(name, summary.values(), split, th, want_rows)
            table.append(_table_row(ctx, summary, split))
        rows = engine.value_rows(split, [r for _, r in pending])
        with_rows = {id(f): replace(f, rows=r) for (f, _), r in zip(pending, rows, strict=True)}
        found = [(k, with_rows.get(id(f), f)) for k, f in found]
        height = engine.rows(split)
        dup_found, count, share = _duplicates(ctx, engine, split, columns, height, th)
        found += dup_found
        metrics[f"n_rows_{split}"] = height
        metrics[f"n_columns_{split}"] = len(dtypes)
        metrics[f"duplicate_rows_{split}"] = count
        metrics[f"duplicate_share_{split}"] = share
    found += _identifier_findings(ctx)

    problems = [(k, f) for k, f in found if f.status != "pass"]
    for problem in _PRIORITY:
        metrics[_COUNT_NAMES[problem]] = sum(1 for k, _ in problems if k == problem)
    # Worst first: fails, then by kind, then by size (each finding's first metric
    # is its size: missing share, count of infinities, duplicated rows...).
    ordered = sorted(
        problems,
        key=lambda kf: (
            kf[1].status != "fail",
            _PRIORITY[kf[0]],
            -float(next(iter(kf[1].metrics.values()), 0) or 0),
        ),
    )
    findings = sort_findings([f for _, f in ordered] + [f for _, f in found if f.status == "pass"])
    summary_text, recommendation = _summary(ctx, engine, ordered)
    details = {"columns": table, "charts": []}
    if any(r["missing_share"] for r in table):
        details["charts"] = [_missing_chart(table, th, many=len(splits(ctx)) > 1)]
    return Outcome(
        status=overall_status(findings),
        summary=summary_text,
        metrics=metrics,
        findings=findings,
        recommendation=recommendation,
        details=details,
    )


def _duplicates(
    ctx: AuditContext,
    engine: Any,
    split: str,
    columns: list[str],
    height: int,
    th: Mapping[str, Any],
) -> tuple[list[tuple[str, Finding]], int, float]:
    """Duplicate rows (warn above ``duplicate_warn``) and duplicated column names (fail)
    of one split; with the count and share of duplicate rows."""
    found: list[tuple[str, Finding]] = []
    dups = engine.duplicates(split, columns)
    share = dups.count / height if height else 0.0
    if dups.count:
        status: Status = "warn" if share > th["duplicate_warn"] else "pass"
        msg = f"{dups.count:,} row(s) of {split} ({pct(share)}) repeat an earlier row exactly."
        metrics_dup = {"duplicate_count": dups.count, "duplicate_share": share}
        finding = Finding(status, msg, rows=dups.rows, split=split, metrics=metrics_dup)
        found.append(("duplicate_rows", finding))
    for name in getattr(ctx.sources.get(split), "duplicate_columns", ()) or ():
        msg = (
            f"Column name '{name}' appears more than once in {split}; the copies were "
            f"renamed '{name}__dup1' and so on, and it is unclear which one is meant."
        )
        found.append(("duplicate_column_names", Finding("fail", msg, column=name, split=split)))
    return found, dups.count, share


def _summary(ctx: AuditContext, engine: Any, ordered: list[tuple[str, Finding]]) -> tuple[str, str]:
    """(summary, recommendation): the worst problem and how many more, or none."""
    if ordered:
        rest = len(ordered) - 1
        summary = ordered[0][1].message
        if rest:
            summary = summary.rstrip(".") + f"; {rest} more problem{'s' if rest > 1 else ''} found."
        kinds = list(dict.fromkeys(k for k, _ in ordered))
        return summary, " ".join(dict.fromkeys(_RECOMMENDATIONS[k] for k in kinds))
    rows = sum(engine.rows(s) for s in splits(ctx))
    summary = (
        f"No data integrity problems were found in {and_join(splits(ctx))} ({rows:,} rows checked)."
    )
    return summary, "Nothing to fix."


def _table_row(ctx: AuditContext, summary: Any, split: str) -> dict[str, Any]:
    """One column of one split in the details table."""
    p = as_profile(summary)
    return {
        "column": summary.column,
        "split": split,
        "type": column_type(ctx, summary.column, ctx.frame(split)),
        "missing_share": p.missing_share,
        "n_unique": p.n_unique,
        "dominant_share": p.dominant_share,
    }
