"""Anomaly-detection checks.

- ``anomaly.rate``: the share of rows flagged, with an interval, and against
  the contamination the user states (``thresholds: anomaly.rate:
  {contamination: 0.02}``) when one is stated;
- ``anomaly.rate_drift``: the flagged share in current data against the
  reference (test), as a ratio and a difference with intervals; a doubling is
  named with the features that moved most;
- ``anomaly.detection``: with known anomaly labels, precision at the flagged
  rate, recall and PR-AUC (average precision), each with a bootstrap interval,
  against what random flagging gives;
- ``anomaly.drivers``: the features that set flagged rows apart from the others.

Scores follow one convention: higher means more anomalous (a scikit-learn
detector's ``decision_function`` and ``score_samples`` are negated).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.unsupervised import _inputs
from assay.unsupervised._stats import (
    cohen_d,
    num,
    pct,
    percentile_range,
    two_share_test,
    wilson,
)
from assay.unsupervised.segments import feature_phrases

_STANDARDS = ("MEASURE 2.3", "MEASURE 2.5")
_BOOT_STREAM = 0xA1
_MAX_AP_DRAWS = 200  # bootstrap draws for PR-AUC (each one sorts the scores)


def _contamination(ctx: AuditContext) -> float:
    from assay.core.registry import get_check

    th = {**get_check("anomaly.rate").thresholds, **ctx.settings.thresholds.get("anomaly.rate", {})}
    return float(th["contamination"])


def flags(ctx: AuditContext, split: str) -> tuple[np.ndarray, np.ndarray]:
    """(score, flagged) of ``split``; scores without a flag are cut at the stated
    contamination (5% when none is stated)."""
    c = _contamination(ctx)
    return _inputs.anomaly(ctx, split, contamination=c if c > 0 else 0.05)


@dataclass(frozen=True)
class AnomalyRateParams:
    """Parameters of ``anomaly.rate``."""

    contamination: float = param(
        0.0, "Expected share of real anomalies (0: unknown, not tested).", ge=0, le=1
    )
    alpha: float = param(0.05, "Significance level of the test against it.", gt=0, lt=1)
    ratio_warn: float = param(
        1.5, "Flagged-to-expected ratio (or its inverse) that, if clear, warns.", ge=1
    )


@register_check(
    "anomaly.rate",
    area="anomaly",
    title="Anomaly rate",
    explanation="The share of rows the detector flags, with an interval. When you state the "
    "contamination you expect (the share of real anomalies), the flagged share is tested "
    "against it: a detector tuned for 1% that flags 6% floods the people who review its alerts, "
    "one that flags 0.1% misses most of what it is for.",
    standards=_STANDARDS,
    severity="medium",
    params=AnomalyRateParams,
    needs=("model",),
    tasks=("anomaly",),
)
def check_rate(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    conf = ctx.settings.confidence
    _, flagged = flags(ctx, "test")
    n, k = flagged.size, int(flagged.sum())
    rate = k / n
    lo, hi = wilson(k, n, conf)
    c = float(th["contamination"])
    metrics: dict[str, float | int | None] = {
        "rate": rate,
        "rate_low": lo,
        "rate_high": hi,
        "flagged": k,
        "rows": n,
    }
    status: Status = "pass"
    rec = ""
    head = (
        f"The detector flags {k:,} of {n:,} rows, {pct(rate)} ({conf:.0%} CI {pct(lo)}–{pct(hi)})"
    )
    if c > 0:
        p = float(stats.binomtest(k, n, c).pvalue)
        ratio = rate / c
        metrics.update({"contamination": c, "ratio_to_contamination": ratio, "p_value": p})
        off = ratio >= float(th["ratio_warn"]) or ratio <= 1 / float(th["ratio_warn"])
        if p <= float(th["alpha"]) and off:
            status = "warn"
            more = "more" if ratio > 1 else "fewer"
            summary = (
                f"{head}: {ratio:,.1f} times the stated contamination of {pct(c)} "
                f"({more} than expected, p = {p:.2g})."
            )
            rec = (
                "Re-set the detector's threshold (or its contamination) so that the flagged "
                "share matches what reviewers can handle and what you expect."
            )
        else:
            summary = f"{head}, in line with the stated contamination of {pct(c)} (p = {p:.2g})."
    else:
        summary = f"{head}; no expected contamination was stated to compare with."
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=[
            Finding(
                status=status,
                message=summary,
                group="all rows",
                metrics={"rate": rate, "rate_low": lo, "rate_high": hi},
            )
        ],
        recommendation=rec,
    )


@dataclass(frozen=True)
class AnomalyRateDriftParams:
    """Parameters of ``anomaly.rate_drift``."""

    alpha: float = param(0.05, "Significance level of the two-proportion test.", gt=0, lt=1)
    ratio_warn: float = param(
        1.5, "Current-to-reference flagged-share ratio (or inverse) that, if clear, warns.", ge=1
    )
    ratio_fail: float = param(
        2.0, "Current-to-reference flagged-share ratio that, if clear, fails.", ge=1
    )
    top_features: int = param(3, "Features that moved most, named.", ge=0)


@register_check(
    "anomaly.rate_drift",
    area="anomaly",
    title="Anomaly rate drift",
    explanation="If the detector flags twice as many current rows as it did on the reference "
    "data, either the world has more anomalies or the data has drifted under the detector; "
    "both need a person. The flagged shares are compared (two-proportion test, Newcombe "
    "interval for the difference), and the features that moved most between reference and "
    "current data are named.",
    standards=("MEASURE 2.4", "MANAGE 4.1"),
    severity="high",
    params=AnomalyRateDriftParams,
    needs=("model", "current"),
    tasks=("anomaly",),
)
def check_rate_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    conf = ctx.settings.confidence
    _, f_ref = flags(ctx, "test")
    _, f_cur = flags(ctx, "current")
    k1, n1, k2, n2 = int(f_ref.sum()), f_ref.size, int(f_cur.sum()), f_cur.size
    d, lo, hi, p = two_share_test(k1, n1, k2, n2, conf)
    r1, r2 = k1 / n1, k2 / n2
    ratio = (r2 + 0.5 / n2) / (r1 + 0.5 / n1)  # continuity-corrected, finite at zero
    up = max(ratio, 1 / ratio)
    status: Status = "pass"
    if p <= float(th["alpha"]):
        if up >= float(th["ratio_fail"]):
            status = "fail"
        elif up >= float(th["ratio_warn"]):
            status = "warn"
    v_ref, v_cur = _inputs.view(ctx, "test"), _inputs.view(ctx, "current")
    both = _inputs.View(
        X=np.vstack([v_cur.X, v_ref.X]),
        columns=v_ref.columns,
        source=v_ref.source,
        order=np.arange(n1 + n2),
        mean=v_ref.mean,
        scale=v_ref.scale,
    )
    phrases, rows = feature_phrases(
        both,
        np.arange(n2),
        np.arange(n2, n2 + n1),
        top=int(th["top_features"]),
        d_min=0.1,
        confidence=conf,
    )
    moved = "; current data has " + "; ".join(phrases) if phrases else ""
    rates = f"{pct(r1)} of reference rows flagged, {pct(r2)} of current rows"
    if status == "pass":
        summary = f"The anomaly rate holds steady: {rates} (p = {p:.2g})."
        rec = ""
    else:
        word = "more" if ratio > 1 else "fewer"
        summary = (
            f"The detector flags {up:,.1f} times {'as many' if ratio > 1 else 'fewer'} rows in "
            f"current data: {rates} (difference {conf:.0%} CI {pct(lo)} to {pct(hi)}, "
            f"p = {p:.2g}){moved}."
        )
        rec = (
            f"Find out whether there are really {word} anomalies or the data has drifted under "
            "the detector (the features named); refit or re-threshold it on recent normal data."
        )
    findings = [
        Finding(
            status=status,
            message=summary,
            group="all rows",
            split="current",
            metrics={"reference_rate": r1, "current_rate": r2, "p_value": p},
        )
    ]
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "reference_rate": r1,
            "current_rate": r2,
            "rate_change": d,
            "rate_change_low": lo,
            "rate_change_high": hi,
            "rate_ratio": ratio,
            "p_value": p,
        },
        findings=findings,
        recommendation=rec,
        details={
            "moved_features": rows,
            "charts": [
                BarChart(
                    title="Share of rows flagged",
                    x_label="share flagged",
                    unit="share",
                    items=[
                        Bar(label="reference", value=r1, status="pass"),
                        Bar(label="current", value=r2, status=status),
                    ],
                ).to_dict()
            ],
        },
    )


def _ap_draws(y: np.ndarray, s: np.ndarray, *, draws: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([int(seed), _BOOT_STREAM])
    out = []
    for _ in range(draws):
        idx = rng.integers(0, y.size, y.size)
        if y[idx].any() and not y[idx].all():
            out.append(average_precision_score(y[idx], s[idx]))
    return np.asarray(out)


@dataclass(frozen=True)
class AnomalyDetectionParams:
    """Parameters of ``anomaly.detection``."""

    recall_warn: float = param(
        0.5, "Share of known anomalies flagged under which it warns.", ge=0, le=1
    )


@register_check(
    "anomaly.detection",
    area="anomaly",
    title="Anomaly detection against known labels",
    explanation="With rows known to be anomalies (fraud confirmed, faults repaired), the "
    "detector's flags are scored: precision (of the rows flagged, how many are real), recall "
    "(of the real ones, how many are flagged) and PR-AUC (average precision over every "
    "threshold), each with a bootstrap interval. Random flagging gets a PR-AUC equal to the "
    "share of anomalies; a detector not clearly above that finds nothing.",
    standards=_STANDARDS,
    severity="high",
    params=AnomalyDetectionParams,
    needs=("model", "labels"),
    tasks=("anomaly",),
)
def check_detection(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    conf, seed = ctx.settings.confidence, ctx.settings.seed
    y = _inputs.anomaly_labels(ctx, "test")
    if y is None:
        raise SkipCheck("no known anomaly labels were given (pass target=... or --target)")
    score, flagged = flags(ctx, "test")
    prevalence = float(y.mean())
    ap = float(average_precision_score(y, score))
    draws = min(ctx.settings.n_bootstrap, _MAX_AP_DRAWS)
    ap_lo, ap_hi = (
        percentile_range(_ap_draws(y, score, draws=draws, seed=seed), conf) if draws else (ap, ap)
    )
    tp = int((flagged & y).sum())
    nf, npos = int(flagged.sum()), int(y.sum())
    precision = tp / nf if nf else 0.0
    recall = tp / npos if npos else 0.0
    p_lo, p_hi = wilson(tp, nf, conf) if nf else (0.0, 1.0)
    r_lo, r_hi = wilson(tp, npos, conf)
    status: Status = "pass"
    if ap_lo <= prevalence:
        status = "fail"
    elif recall < float(th["recall_warn"]):
        status = "warn"
    text = (
        f"PR-AUC {num(ap)} ({conf:.0%} CI {num(ap_lo)}–{num(ap_hi)}) against {num(prevalence)} for "
        f"random flagging; at its flagged rate ({pct(nf / y.size)}) it catches {tp:,} of {npos:,} "
        f"known anomalies (recall {pct(recall)}, CI {pct(r_lo)}–{pct(r_hi)}) and "
        f"{pct(precision)} of its flags are real (CI {pct(p_lo)}–{pct(p_hi)})"
    )
    if status == "fail":
        summary = f"The detector is no better than random flagging: {text}."
        rec = "Do not rely on this detector; revisit its features or method."
    elif status == "warn":
        summary = f"The detector misses most known anomalies: {text}."
        rec = (
            "Lower the threshold (flag more rows) if reviewers can take it, or improve "
            "the detector."
        )
    else:
        summary = f"The detector finds the known anomalies: {text}."
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "pr_auc": ap,
            "pr_auc_low": ap_lo,
            "pr_auc_high": ap_hi,
            "precision": precision,
            "precision_low": p_lo,
            "precision_high": p_hi,
            "recall": recall,
            "recall_low": r_lo,
            "recall_high": r_hi,
            "prevalence": prevalence,
            "flagged_rate": nf / y.size,
        },
        findings=[
            Finding(
                status=status,
                message=summary,
                group="known anomalies",
                metrics={"pr_auc": ap, "recall": recall, "precision": precision},
            )
        ],
        recommendation=rec,
        details={
            "charts": [
                IntervalChart(
                    title="Detection against known anomalies",
                    x_label="",
                    unit="value",
                    items=[
                        IntervalItem(label="PR-AUC", value=ap, low=ap_lo, high=ap_hi),
                        IntervalItem(label="random PR-AUC", value=prevalence),
                        IntervalItem(label="precision", value=precision, low=p_lo, high=p_hi),
                        IntervalItem(label="recall", value=recall, low=r_lo, high=r_hi),
                    ],
                ).to_dict()
            ]
        },
    )


@dataclass(frozen=True)
class AnomalyDriversParams:
    """Parameters of ``anomaly.drivers``."""

    top_features: int = param(5, "Features named.", ge=1)
    dominant_share: float = param(
        0.5,
        "Share of flagged rows most extreme in one feature that warns (a dull reason).",
        ge=0,
        le=1,
    )


@register_check(
    "anomaly.drivers",
    area="anomaly",
    title="What drives the flagged rows",
    explanation="The features in which the flagged rows are further from typical than the "
    "other rows (distance in standard deviations, compared by Cohen's d with an interval), "
    "and for each feature how "
    "many flagged rows are most extreme in it. This is what a reviewer looks at first, and it "
    "shows a detector that flags rows for a dull reason (one column with a unit error).",
    standards=("MEASURE 2.9", "MEASURE 2.5"),
    severity="low",
    params=AnomalyDriversParams,
    needs=("model",),
    tasks=("anomaly",),
)
def check_drivers(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    conf = ctx.settings.confidence
    _, flagged = flags(ctx, "test")
    v = _inputs.view(ctx, "test")
    inside, outside = np.flatnonzero(flagged), np.flatnonzero(~flagged)
    if inside.size < 2 or outside.size < 2:
        raise SkipCheck("fewer than two rows are flagged (or unflagged); nothing to compare")
    # Distance from typical in robust units (median, 1.4826 MAD; SD where the MAD is 0),
    # so that a few wild values do not stretch their own column's scale.
    med = np.median(v.X, axis=0)
    mad = 1.4826 * np.median(np.abs(v.X - med), axis=0)
    dist = np.abs(v.X - med) / np.where(mad > 0, mad, 1.0)
    eff = cohen_d(dist[inside], dist[outside], conf)
    m_in, m_out = dist[inside].mean(axis=0), dist[outside].mean(axis=0)
    phrases, rows = [], []
    for j in np.argsort(-eff[0], kind="stable")[: int(th["top_features"])]:
        if eff[0, j] < 0.2:
            break
        phrases.append(
            f"{v.columns[j]} ({num(m_in[j], 1)} robust SD from typical against {num(m_out[j], 1)}; "
            f"d = {num(eff[0, j])})"
        )
        rows.append(
            {
                "feature": v.columns[j],
                "d": float(eff[0, j]),
                "d_low": float(eff[1, j]),
                "d_high": float(eff[2, j]),
                "mean_abs_z_flagged": float(m_in[j]),
                "mean_abs_z_other": float(m_out[j]),
            }
        )
    extreme = np.argmax(dist[inside], axis=1)
    by_source: dict[str, int] = {}
    for j in extreme:
        by_source[v.source[j]] = by_source.get(v.source[j], 0) + 1
    top_src = max(by_source, key=lambda s: (by_source[s], s))
    top_share = by_source[top_src] / inside.size
    status: Status = (
        "warn" if top_share >= float(th["dominant_share"]) and len(set(v.source)) >= 3 else "pass"
    )
    what = "; ".join(phrases) if phrases else "no feature in which they are clearly more extreme"
    summary = f"Flagged rows ({inside.size:,}) are most unusual in {what}."
    if status == "warn":
        summary += f" {pct(top_share)} of them are most extreme in {top_src} alone."
        rec = (
            f"Check {top_src}: a detector driven by one column often flags a unit error or a "
            "data-entry problem rather than real anomalies."
        )
    else:
        rec = ""
    rows_out = tuple(int(v.order[i]) for i in inside[:20])
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "flagged": int(inside.size),
            "top_feature_share": top_share,
            "features_named": len(rows),
        },
        findings=[
            Finding(
                status=status,
                message=summary,
                rows=rows_out,
                split="test",
                columns=tuple(r["feature"] for r in rows) or None,
            )
        ],
        recommendation=rec,
        details={
            "drivers": rows,
            "most_extreme_in": dict(sorted(by_source.items(), key=lambda t: -t[1])),
            "charts": [
                IntervalChart(
                    title="How much more extreme flagged rows are (Cohen's d)",
                    x_label="difference in distance from typical, flagged − other rows",
                    unit="std",
                    items=[
                        IntervalItem(
                            label=r["feature"],
                            value=r["d"],
                            low=r["d_low"],
                            high=r["d_high"],
                        )
                        for r in rows
                    ],
                ).to_dict()
            ],
        },
    )
