"""The words and charts of ``evaluation.weak_segments`` (private): a table row and a
finding per segment shown, the summary, the details and the two charts. Numbers in
(measured by :mod:`assay.evaluation._segments_search`, judged by
:mod:`assay.evaluation._segments_judge`); nothing is computed from the data here."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem, Unit
from assay.core.registry import Outcome
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import Interval
from assay.evaluation._common import conf_text, fmt, label, with_interval
from assay.evaluation._segments_columns import Column
from assay.evaluation._segments_search import Candidate, Losses, Plan, predicate

_MAX_ROWS_LISTED = 1000


@dataclass(frozen=True)
class Shown:
    """One segment in the report: judged (``status``) or, with no discovery, the worst found."""

    cand: Candidate
    q: float
    idx: np.ndarray  # its rows' positions within the sample
    interval: Interval  # its metric with a bootstrap interval
    effect: float
    status: Status


@dataclass(frozen=True)
class Searched:
    """What was searched and how: everything the sentences need but the segments shown."""

    cols: list[Column]
    losses: Losses
    plan: Plan
    metric: str
    pos: np.ndarray  # the sample's row positions in the test data
    n_total: int  # test rows before sampling
    min_size: int
    cands: list[Candidate]
    qvals: np.ndarray
    overall: Interval  # the overall metric

    @property
    def n(self) -> int:
        return int(self.pos.size)


def describe(
    sr: Searched,
    shown: list[Shown],
    significant: bool,
    status: Status,
    settings: Any,
    th: Mapping[str, Any],
) -> Outcome:
    """The check's outcome, judged ``status``: warn or fail with the segments reported,
    else a pass that still lists (in the details and charts) the worst segments found."""
    conf = settings.confidence
    rows = [_row(sr, seg) for seg in shown]
    findings = []
    if significant:
        findings = [_finding(sr, seg, row, conf) for seg, row in zip(shown, rows, strict=True)]
    lo = sr.losses
    charts = _charts(
        rows, sr.overall, sr.metric, conf, th, lo.regression, significant, lo.unexpected
    )
    reported = rows if significant else []
    summary, rec = _summary(sr, reported, conf)
    details = _details(sr, settings)
    details.update(
        segments=reported,
        worst_segments_not_significant=[] if reported else rows,
        charts=charts,
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=_metrics(sr, reported),
        findings=findings,
        recommendation=rec,
        details=details,
        units={} if lo.regression else _GAP_UNITS,
    )


_GAP_UNITS: dict[str, Unit] = {"worst_segment_gap": "points", "worst_segment_judged_gap": "points"}
"""A classifier's segment gaps are differences of error rates: points, as in the chart."""


def _row(sr: Searched, seg: Shown) -> dict[str, Any]:
    metric, cand, iv, n = sr.metric, seg.cand, seg.interval, sr.n
    row: dict[str, Any] = {
        "segment": predicate(sr.cols, cand),
        "columns": [sr.cols[ci].name for ci in cand.cols],
        "size": int(cand.n),
        "share": cand.n / n,
        metric: iv.value,
        f"{metric}_low": iv.low,
        f"{metric}_high": iv.high,
        f"overall_{metric}": sr.overall.value,
        "gap": (iv.value or 0.0) - (sr.overall.value or 0.0),
        "judged_gap": seg.effect,
        "p_value": cand.p,
        "q_value": seg.q,
        "status": seg.status,
    }
    expected = sr.losses.expected
    if expected is not None and sr.losses.regression:
        row["expected_mae"] = float(expected[seg.idx].mean())
    elif expected is not None:
        row["expected_accuracy"] = float(1.0 - expected[seg.idx].mean())
    return row


def _finding(sr: Searched, seg: Shown, row: Mapping[str, Any], conf: float) -> Finding:
    metric, n, cand = sr.metric, sr.n, seg.cand
    tail = ""
    if "expected_mae" in row:
        tail = (
            f"; rows given similar predictions have {fmt(metric, row['expected_mae'])} on average"
        )
    elif "expected_accuracy" in row:
        tail = f"; the model's own scores expected {row['expected_accuracy']:.2f} there"
    where = np.sort(sr.pos[seg.idx])
    return Finding(
        status=seg.status,
        group=row["segment"],
        columns=tuple(row["columns"]),
        rows=tuple(int(r) for r in where[:_MAX_ROWS_LISTED]),
        split="test",
        message=(
            f"Where {row['segment']} ({int(cand.n):,} rows, {cand.n / n:.1%}), "
            f"{label(metric)} is {with_interval(metric, seg.interval, conf)} against "
            f"{fmt(metric, sr.overall.value)} overall{tail}."
        ),
        metrics={k: row[k] for k in (metric, "gap", "judged_gap", "size", "share", "q_value")},
    )


def _summary(sr: Searched, reported: list[dict[str, Any]], conf: float) -> tuple[str, str]:
    """(summary, recommendation): the weakest segment reported, or the all-clear."""
    metric, n, lo = sr.metric, sr.n, sr.losses
    if reported:
        r0 = reported[0]
        summary = (
            f"The model is weakest where {r0['segment']} ({r0['size']:,} rows, "
            f"{r0['share']:.1%}): {label(metric)} "
            f"{with_interval(metric, _iv(r0, metric), conf)} against "
            f"{fmt(metric, sr.overall.value)} overall."
        )
        rec = (
            f"Look at the rows where {r0['segment']} (listed in the finding): check their labels, "
            "collect more training data like them, add features that describe them, or give them "
            "their own threshold or model; then monitor this segment separately."
        )
        return summary, rec
    if lo.unexpected and lo.regression:
        worse = "worse than overall and than rows given similar predictions"
    elif lo.unexpected:
        worse = "worse than its scores expect"
    else:
        worse = "worse than overall"
    rows_text = (
        f"{n:,} test rows" if n == sr.n_total else f"a sample of {n:,} of {sr.n_total:,} test rows"
    )
    summary = (
        f"No segment of at least {sr.min_size:,} rows is clearly {worse} "
        f"({len(sr.cands):,} segments tested at a {sr.plan.fdr:.0%} false discovery rate; "
        f"{label(metric)} {fmt(metric, sr.overall.value)} over {rows_text})."
    )
    return summary, "No action needed; repeat this search after retraining or on new labelled data."


def _metrics(sr: Searched, reported: list[dict[str, Any]]) -> dict[str, float | int | None]:
    metric, first = sr.metric, reported[0] if reported else None
    return {
        f"overall_{metric}": sr.overall.value,
        "worst_segment_gap": first["gap"] if first else None,
        "worst_segment_judged_gap": first["judged_gap"] if first else None,
        f"worst_segment_{metric}": first[metric] if first else None,
        "worst_segment_size": first["size"] if first else None,
        "n_weak_segments": len(reported),
        "n_segments_tested": len(sr.cands),
        "n_significant": int((sr.qvals <= sr.plan.fdr).sum()) if sr.qvals.size else 0,
        "min_size": sr.min_size,
        "n_rows": sr.n,
    }


def _judged_on(lo: Losses) -> str:
    if lo.unexpected and lo.regression:
        return (
            "mean absolute error of the segment divided by the overall one, and the same "
            "ratio for the absolute error divided by the mean absolute error of the rows in "
            "the same decile of predictions (the smaller counts)"
        )
    if lo.unexpected:
        return (
            "errors beyond those the model's own scores expect (observed minus expected "
            "misclassification, row by row), segment against overall"
        )
    if lo.regression:
        return "mean absolute error of the segment divided by the overall one"
    return "misclassification rate of the segment minus the overall one"


def _details(sr: Searched, settings: Any) -> dict[str, Any]:
    """The details but the segment tables and the charts (the caller adds them)."""
    plan = sr.plan
    n_tested = len(sr.cands)
    n_single = sum(1 for c in sr.cands if len(c.cols) == 1)
    return {
        "metric": sr.metric,
        "judged_on": _judged_on(sr.losses),
        "overall_error": sr.losses.overall_raw,
        "segments": None,
        "worst_segments_not_significant": None,
        "columns_searched": [c.name for c in sr.cols],
        "conditions_per_column": {c.name: c.predicates for c in sr.cols},
        "test": _test_text(plan),
        "false_discovery_control": _fdr_text(plan, n_single, n_tested),
        "n_rows": sr.n,
        "n_rows_available": sr.n_total,
        "sampled": sr.n < sr.n_total,
        "seed": settings.seed,
        "n_bootstrap": settings.n_bootstrap,
        "confidence": settings.confidence,
        "charts": None,
    }


def _test_text(plan: Plan) -> str:
    return "one-sided Welch test of the judged per-row loss, segment against the other rows" + (
        f": a single condition against the null that it is worse than overall by at "
        f"most {plan.test_floor:g}, and reported only when its own test (unadjusted) also "
        f"shows it worse by more than {plan.warn_effect:g}; a pair against the null of at most "
        f"{plan.pair_floor:g} (minimum-effect tests)"
        if plan.min_effect
        else f"; a discovery is reported only when it is worse by at least {plan.warn_effect:g}"
    )


def _fdr_text(plan: Plan, n_single: int, n_tested: int) -> str:
    pair_share, fdr = plan.pair_share, plan.fdr
    return (
        f"Benjamini–Hochberg at {fdr:g} over the claims that a "
        + (
            f"single condition is worse than overall by more than {plan.test_floor:g} and a "
            f"pair by more than {plan.pair_floor:g}"
            if plan.min_effect
            else "segment is worse than the other rows"
        )
        + f", shared by two families: the {n_single:,} single conditions "
        f"({1 - pair_share:.0%} of the rate) and the {n_tested - n_single:,} pairs "
        f"({pair_share:.0%}; a pair's p-value is the largest of its test against the other "
        "rows and against the rest of each of its two single conditions). The materiality "
        "rules and the choice among overlapping segments only drop discoveries; they add "
        "none."
    )


def _iv(row: Mapping[str, Any], metric: str) -> Interval:
    return Interval(row[metric], row[f"{metric}_low"], row[f"{metric}_high"])


def _charts(
    rows: list[dict[str, Any]],
    overall: Interval,
    metric: str,
    conf: float,
    th: Mapping[str, Any],
    regression: bool,
    significant: bool,
    unexpected: bool,
) -> list[dict[str, Any]]:
    """An interval chart of the segments' metric against overall, and a bar chart of
    how much worse each is (the judged gap; regression: the ratio)."""
    if not rows:
        return []
    which = "weakest segments" if significant else "worst segments found (none significant)"
    items = [{"label": "overall", **overall.to_dict()}] + [
        {
            "label": r["segment"],
            "value": r[metric],
            "low": r[f"{metric}_low"],
            "high": r[f"{metric}_high"],
        }
        for r in rows
    ]
    for it in items:
        it["low"] = it["value"] if it["low"] is None else it["low"]
        it["high"] = it["value"] if it["high"] is None else it["high"]
    if regression:
        gap_label = f"{label(metric)} of the segment ÷ overall"
    elif unexpected:
        gap_label = "errors beyond what the model's scores expect, against overall (points)"
    else:
        gap_label = "error rate above overall (points)"
    return [
        IntervalChart(
            title=f"{label(metric, start=True)} of the {which} against overall ({conf_text(conf)})",
            x_label=label(metric) + (" (lower is better)" if regression else ""),
            unit="value",
            items=[IntervalItem(**it) for it in items],
        ).to_dict(),
        BarChart(
            title=f"How much worse each of the {which} is",
            x_label=gap_label,
            unit="ratio" if regression else "points",
            items=[
                Bar(r["segment"], r["judged_gap"] + (1.0 if regression else 0.0), r["status"])
                for r in rows
            ],
            threshold=float(th["warn_ratio"]) if regression else float(th["warn_gap"]),
        ).to_dict(),
    ]
