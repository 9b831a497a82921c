"""Signal 3 of ``security.poisoning``: trigger values, a rare value of a feature (or a
rare pair of values of two coarse categorical features) whose rows almost all carry
one label that the rest of the row does not explain and that the held-out data lacks:
the shape of a backdoor."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.result import Finding, Status
from assay.data._common import capped_rows, pct
from assay.data._crossval import class_codes
from assay.security._poisoning.common import (
    MAX_FINDINGS_PER_SIGNAL,
    design,
    fmt,
    pattern_rows,
    usable,
)
from assay.security._poisoning_judge import judge_trigger

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_PAIR_MAX_CARDINALITY = 30  # columns this coarse are paired for trigger pairs
_MAX_PAIR_COLUMNS = 15
_MAX_TRIGGER_TESTS = 50  # pure patterns tested against the other columns


@dataclass(frozen=True)
class Triggers:
    """The signal's findings (warnings and listed real patterns) and its counts."""

    findings: list[Finding] = field(default_factory=list)
    patterns_tested: int = 0
    pure_patterns: int = 0
    triggers: int = 0  # findings that warn


def triggers(ctx: AuditContext, split: str, th: Mapping[str, Any]) -> Triggers:
    """Rare patterns tied to one label in ``split``: measured, judged, described."""
    df, positions = pattern_rows(ctx, split, th)
    labels = _trigger_labels(ctx, df, th)
    if labels is None:
        return Triggers()
    y, words, allowed = labels
    cols = usable(ctx, df)
    cands = _trigger_candidates(df, cols, y, len(words), allowed, th)
    if not cands:
        return Triggers()
    limit = float(th["alpha"]) / len(cands)
    pure = [c for c in cands if c["purity"] >= th["trigger_purity"] and c["p_value"] < 0.05]
    pure.sort(key=lambda c: (c["p_value"], c["columns"], c["values"]))
    pure = pure[:_MAX_TRIGGER_TESTS]
    others = _held_out(ctx, split)
    model = _OtherColumns(*design(df, cols, ctx)[:2], y, len(words)) if pure else None
    hits = [c for c in pure if _evidence(c, df, others, model) < limit]
    hits.sort(key=lambda c: (c["p_combined"], c["columns"], c["values"]))
    test = ctx.frame("test") if split == "train" and ctx.has("test") else None
    n_other = sum(o.height for o in others)
    findings: list[Finding] = []
    for c in hits:
        if len(findings) >= MAX_FINDINGS_PER_SIGNAL:
            break
        expected_h = c["rows"] * n_other / df.height
        genuine, tail = False, ""
        if test is not None and ctx.target in test.columns:
            genuine, tail = _test_confirms(ctx, c, test, th)
        # A trigger lives in the training data only: one whose held-out rows recur at
        # the training rate is not named (its own evidence says it is the world).
        status, _why = judge_trigger(
            c["p_combined"], limit, c["held_out_rows"], expected_h, c["p_absent"], genuine, th
        )
        if status is None:
            continue
        seen = ""
        if c["held_out_rows"] is not None:
            seen = (
                f" The held-out data ({n_other:,} rows) has {c['held_out_rows']} such rows "
                f"where its size predicts about {expected_h:.1f}."
            )
        where = (ctx.task, split, words, positions)
        findings.append(_describe(c, status, where, expected_h, seen + tail))
    n_warn = sum(1 for f in findings if f.status != "pass")
    return Triggers(findings, len(cands), len(pure), n_warn)


def _evidence(
    c: dict[str, Any],
    df: pl.DataFrame,
    others: list[pl.DataFrame],
    model: _OtherColumns | None,
) -> float:
    """The pattern's combined p-value (Fisher's method over (a) and (b) below); the
    pieces are stored in ``c`` for the sentence."""
    from scipy.stats import binom, chi2

    n_other = sum(o.height for o in others)
    mask = _mask_for(df, c["columns"], c["values"]).to_numpy()
    c["mask"] = mask
    # (a) The label beyond what the rest of each row predicts: a rare value
    # marking rows the other columns already lean to that label (a top-coded
    # income among the well-paid) is a real pattern, not a switch.
    expected = model.share(c["columns"], mask, c["label"]) if model is not None else 0.0
    c["expected_share"] = expected
    p_beyond = float(binom.sf(c["hits"] - 1, c["rows"], min(max(expected, 1e-3), 1 - 1e-9)))
    # (b) A value of the population recurs in the held-out data at the training
    # rate; a planted one lives in the training data only (exact conditional
    # test of two rates: the held-out count given the total).
    p_absent, c["held_out_rows"] = 1.0, None
    if n_other:
        h = sum(int(_mask_for(o, c["columns"], c["values"]).sum()) for o in others)
        c["held_out_rows"] = h
        p_absent = float(binom.cdf(h, c["rows"] + h, n_other / (n_other + df.height)))
        stat = -2.0 * (np.log(max(p_beyond, 1e-300)) + np.log(max(p_absent, 1e-300)))
        c["p_combined"] = float(chi2.sf(stat, 4))  # Fisher's method
    else:
        c["p_combined"] = p_beyond
    c["p_beyond"], c["p_absent"] = p_beyond, p_absent
    return c["p_combined"]


def _describe(
    c: Mapping[str, Any],
    status: Status,
    where: tuple[str | None, str, list[str], np.ndarray],  # task, split, words, positions
    expected_h: float,
    tail: str,
) -> Finding:
    task, split, words, positions = where
    kind = "with the target" if task == "regression" else "labelled"
    shape = (
        "the shape of a backdoor trigger" if status != "pass" else "a real pattern, not a trigger"
    )
    msg = (
        f"Rare pattern {_describe_pattern(c['columns'], c['values'])} appears in "
        f"{c['rows']} {split} rows, {pct(c['purity'])} {kind} {words[c['label']]} (base "
        f"rate {pct(c['base_rate'])}), while their other columns predict about "
        f"{pct(c['expected_share'])}: {shape}.{tail}"
    )
    return Finding(
        status,
        msg,
        columns=tuple(c["columns"]) if len(c["columns"]) > 1 else None,
        column=c["columns"][0] if len(c["columns"]) == 1 else None,
        rows=capped_rows(positions[c["mask"]]),
        split=split,
        metrics={
            "rows": c["rows"],
            "purity": c["purity"],
            "expected_share": c["expected_share"],
            "held_out_rows": c["held_out_rows"],
            "expected_held_out_rows": expected_h if c["held_out_rows"] is not None else None,
            "p_value": c["p_combined"],
            "p_absent_from_held_out": c["p_absent"],
        },
    )


def _label_table(df: pl.DataFrame, keys: list[str], y: np.ndarray, n_classes: int) -> pl.DataFrame:
    """Rows per key value(s) and per class (columns ``c0``, ``c1``...)."""
    frame = df.select(keys).with_columns(pl.Series("__y__", y))
    return frame.group_by(keys).agg(
        pl.len().alias("n"),
        *[(pl.col("__y__") == k).sum().alias(f"c{k}") for k in range(n_classes)],
    )


def _trigger_labels(
    ctx: AuditContext, df: pl.DataFrame, th: Mapping[str, Any]
) -> tuple[np.ndarray, list[str], tuple[int, ...]] | None:
    """(label code per row, words for each code, codes a trigger may point to).

    Classification: the classes. Regression: the target's lowest and highest
    ``trigger_tail`` share (codes 0 and 2) against the middle (code 1), since a
    backdoor on a regression target pushes it to an extreme.
    """
    if ctx.task != "regression":
        y = class_codes(df.get_column(ctx.target_column).to_numpy(), ctx.classes)
        if (y < 0).any():
            return None
        words = [repr(c) for c in ctx.classes]
        return y, words, tuple(range(len(ctx.classes)))
    t = df.get_column(ctx.target_column).cast(pl.Float64, strict=False).to_numpy()
    finite = t[np.isfinite(t)]
    if finite.size < 20:
        return None
    tail = float(th["trigger_tail"])
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    if hi <= lo:
        return None
    y = np.where(t >= hi, 2, np.where(t <= lo, 0, 1))
    y[~np.isfinite(t)] = 1
    words = [
        f"in the lowest {pct(tail)} of '{ctx.target}' (<= {fmt(float(lo))})",
        "in the middle",
        f"in the top {pct(tail)} of '{ctx.target}' (>= {fmt(float(hi))})",
    ]
    return y.astype(np.int64), words, (0, 2)


def _trigger_candidates(
    df: pl.DataFrame,
    cols: list[str],
    y: np.ndarray,
    n_classes: int,
    allowed: tuple[int, ...],
    th: Mapping[str, Any],
) -> list[dict[str, Any]]:
    n = df.height
    max_rows = max(int(th["trigger_min_rows"]), int(th["trigger_max_share"] * n))
    base = np.bincount(y, minlength=n_classes) / n
    out = []
    singles: dict[str, set[str]] = {}
    coarse = []
    for c in cols:
        tab = _label_table(df.with_columns(pl.col(c).cast(pl.String)), [c], y, n_classes)
        if tab.height <= _PAIR_MAX_CARDINALITY:
            coarse.append(c)
        rare = tab.filter(pl.col("n").is_between(int(th["trigger_min_rows"]), max_rows))
        singles[c] = set(rare.get_column(c).drop_nulls().to_list())
        for row in rare.iter_rows(named=True):
            if row[c] is None:
                continue
            out.append(
                {"columns": (c,), "values": (row[c],), **_purity(row, n_classes, base, allowed)}
            )
    coarse = coarse[:_MAX_PAIR_COLUMNS]
    for i, a in enumerate(coarse):
        for b in coarse[i + 1 :]:
            sub = df.select(pl.col(a).cast(pl.String), pl.col(b).cast(pl.String))
            tab = _label_table(sub, [a, b], y, n_classes)
            rare = tab.filter(pl.col("n").is_between(int(th["trigger_min_rows"]), max_rows))
            for row in rare.iter_rows(named=True):
                if row[a] is None or row[b] is None:
                    continue
                if row[a] in singles[a] or row[b] in singles[b]:
                    continue  # a rare value on its own is tested on its own
                out.append(
                    {
                        "columns": (a, b),
                        "values": (row[a], row[b]),
                        **_purity(row, n_classes, base, allowed),
                    }
                )
    return out


def _purity(
    row: Mapping[str, Any], n_classes: int, base: np.ndarray, allowed: tuple[int, ...]
) -> dict[str, Any]:
    from scipy.stats import binom

    counts = np.array([row[f"c{k}"] for k in range(n_classes)])
    top = max(allowed, key=lambda k: (counts[k], -k))
    m = int(row["n"])
    k = int(counts[top])
    return {
        "rows": m,
        "label": top,
        "hits": k,
        "purity": k / m,
        "base_rate": float(base[top]),
        "p_value": float(binom.sf(k - 1, m, base[top])),
    }


def _describe_pattern(columns: tuple[str, ...], values: tuple[Any, ...]) -> str:
    from assay.security._pii_engine import for_display

    return " and ".join(f"'{c}' = '{for_display(v)}'" for c, v in zip(columns, values, strict=True))


def _mask_for(df: pl.DataFrame, columns: tuple[str, ...], values: tuple[Any, ...]) -> pl.Series:
    """Rows holding the pattern; numbers compare as numbers (``7`` matches ``7.0``)."""
    expr = pl.lit(True)
    for c, v in zip(columns, values, strict=True):
        if c not in df.columns:
            return pl.Series(np.zeros(df.height, dtype=bool))
        num = None
        if df.schema[c].is_numeric():
            try:
                num = float(v)
            except (TypeError, ValueError):
                num = None
        if num is not None:
            expr = expr & (pl.col(c).cast(pl.Float64) == num)
        else:
            expr = expr & (pl.col(c).cast(pl.String) == v)
    return df.select(expr.fill_null(False)).to_series()


class _OtherColumns:
    """Least-squares (linear probability) fits of a label on all columns but some.

    ``X'X`` and ``X'z`` are computed once; a pattern's rows are taken out by
    subtraction, so each pattern costs one small solve.
    """

    def __init__(self, X: np.ndarray, owners: list[str | None], y: np.ndarray, n_codes: int):
        self.X, self.owners = X, owners
        self.G = X.T @ X
        self.Z = np.eye(n_codes)[y]
        self.XZ = X.T @ self.Z

    def share(self, columns: tuple[str, ...], mask: np.ndarray, label: int) -> float:
        """Share of the pattern's rows that the OTHER columns predict to carry ``label``.

        Fitted on the rows outside the pattern, averaged (clipped to [0, 1]) over
        the rows inside it.
        """
        keep = np.array([o not in columns for o in self.owners])
        Xm = self.X[mask][:, keep]
        G = self.G[np.ix_(keep, keep)] - Xm.T @ Xm
        b = self.XZ[keep, label] - Xm.T @ self.Z[mask, label]
        n_out = len(mask) - int(mask.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ridge = 1e-6 * max(n_out, 1) * np.eye(len(b))
            beta = np.linalg.lstsq(G + ridge, b, rcond=None)[0]
        return float(np.clip(Xm @ beta, 0.0, 1.0).mean())


def _held_out(ctx: AuditContext, split: str) -> list[pl.DataFrame]:
    """The other splits' tables (test, current), where a real pattern should recur."""
    return [ctx.frame(s) for s in ("test", "current") if s != split and ctx.has(s)]


def _test_confirms(
    ctx: AuditContext, c: Mapping[str, Any], test: pl.DataFrame, th: Mapping[str, Any]
) -> tuple[bool, str]:
    """Whether the labelled test rows with the pattern show the same tie, and in words."""
    from scipy.stats import binom

    omask = _mask_for(test, c["columns"], c["values"]).to_numpy()
    olab = _trigger_labels(ctx, test, th) if omask.any() else None
    if olab is None:
        return False, " The test data has no such labelled rows."
    oy = olab[0][omask]
    k = int((oy == c["label"]).sum())
    same = k / len(oy)
    p_test = float(binom.sf(k - 1, len(oy), c["base_rate"]))
    if same >= th["trigger_purity"] - 0.1 and p_test < 0.05:
        return True, (
            f" The test data shows the same tie ({pct(same)} of its {len(oy)} such rows), "
            "so it is more likely a genuine pattern."
        )
    return False, f" In the test data only {pct(same)} of its {len(oy)} such rows are."
