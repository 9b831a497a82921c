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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.details import Details
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


@dataclass(frozen=True)
class AnomalyRateDetails(Details):
    """What ``anomaly.rate`` keeps in its ``details`` (``report.json``)."""


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
    details=AnomalyRateDetails,
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


@dataclass(frozen=True)
class AnomalyRateDriftDetails(Details):
    """What ``anomaly.rate_drift`` keeps in its ``details`` (``report.json``)."""

    moved_features: tuple[Mapping[str, Any], ...]


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
    details=AnomalyRateDriftDetails,
)
def check_rate_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Flagged share of current against reference rows: measured
    (:func:`measure_rate_drift`), judged (:func:`judge_rate_drift`), described."""
    m = measure_rate_drift(ctx, top_features=int(th["top_features"]))
    return _describe_rate_drift(m, judge_rate_drift(m, th), ctx.settings.confidence)


@dataclass(frozen=True)
class RateDrift:
    """What ``anomaly.rate_drift`` measures (numbers only, no verdict)."""

    reference_rate: float
    current_rate: float
    change: float
    """``current_rate - reference_rate``, with its Newcombe interval below."""
    change_low: float
    change_high: float
    p_value: float
    """Two-proportion test of the two flagged shares."""
    ratio: float
    """Current to reference flagged share, continuity-corrected (finite at zero)."""
    moved_phrases: tuple[str, ...] = ()
    """The features that moved most from reference to current, in words."""
    moved_rows: tuple[dict[str, Any], ...] = ()

    @property
    def fold(self) -> float:
        """The ratio or its inverse, whichever is at least 1."""
        return max(self.ratio, 1 / self.ratio)


def measure_rate_drift(ctx: AuditContext, *, top_features: int) -> RateDrift:
    """The flagged shares of test (reference) and current rows, and the features that moved."""
    conf = ctx.settings.confidence
    _, f_ref = flags(ctx, "test")
    _, f_cur = flags(ctx, "current")
    k1, n1, k2, n2 = int(f_ref.sum()), f_ref.size, int(f_cur.sum()), f_cur.size
    d, lo, hi, p = two_share_test(k1, n1, k2, n2, conf)
    r1, r2 = k1 / n1, k2 / n2
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
        both, np.arange(n2), np.arange(n2, n2 + n1), top=top_features, d_min=0.1, confidence=conf
    )
    return RateDrift(
        reference_rate=r1,
        current_rate=r2,
        change=d,
        change_low=lo,
        change_high=hi,
        p_value=p,
        ratio=(r2 + 0.5 / n2) / (r1 + 0.5 / n1),
        moved_phrases=tuple(phrases),
        moved_rows=tuple(rows),
    )


def judge_rate_drift(m: RateDrift, th: Mapping[str, Any]) -> Status:
    """``fail`` when the flagged share changed clearly (``p_value <= alpha``) by at least
    ``ratio_fail`` times (either way), ``warn`` from ``ratio_warn``; else ``pass``.

    >>> m = RateDrift(0.05, 0.11, 0.06, 0.04, 0.08, 1e-6, 2.2)
    >>> judge_rate_drift(m, {"alpha": 0.05, "ratio_warn": 1.5, "ratio_fail": 2.0})
    'fail'
    """
    if not m.p_value <= float(th["alpha"]):
        return "pass"
    if m.fold >= float(th["ratio_fail"]):
        return "fail"
    return "warn" if m.fold >= float(th["ratio_warn"]) else "pass"


def _describe_rate_drift(m: RateDrift, status: Status, conf: float) -> Outcome:
    """Summary, finding, recommendation and chart of a judged rate drift."""
    r1, r2, ratio, p = m.reference_rate, m.current_rate, m.ratio, m.p_value
    moved = "; current data has " + "; ".join(m.moved_phrases) if m.moved_phrases else ""
    rates = f"{pct(r1)} of reference rows flagged, {pct(r2)} of current rows"
    if status == "pass":
        summary = f"The anomaly rate holds steady: {rates} (p = {p:.2g})."
        rec = ""
    else:
        word = "more" if ratio > 1 else "fewer"
        summary = (
            f"The detector flags {m.fold:,.1f} times {'as many' if ratio > 1 else 'fewer'} rows "
            f"in current data: {rates} (difference {conf:.0%} CI {pct(m.change_low)} to "
            f"{pct(m.change_high)}, p = {p:.2g}){moved}."
        )
        rec = (
            f"Find out whether there are really {word} anomalies or the data has drifted under "
            "the detector (the features named); refit or re-threshold it on recent normal data."
        )
    finding = Finding(
        status=status,
        message=summary,
        group="all rows",
        split="current",
        metrics={"reference_rate": r1, "current_rate": r2, "p_value": p},
    )
    chart = BarChart(
        title="Share of rows flagged",
        x_label="share flagged",
        unit="share",
        items=[
            Bar(label="reference", value=r1, status="pass"),
            Bar(label="current", value=r2, status=status),
        ],
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "reference_rate": r1,
            "current_rate": r2,
            "rate_change": m.change,
            "rate_change_low": m.change_low,
            "rate_change_high": m.change_high,
            "rate_ratio": ratio,
            "p_value": p,
        },
        findings=[finding],
        recommendation=rec,
        details={"moved_features": list(m.moved_rows), "charts": [chart.to_dict()]},
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


@dataclass(frozen=True)
class AnomalyDetectionDetails(Details):
    """What ``anomaly.detection`` keeps in its ``details`` (``report.json``)."""


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
    details=AnomalyDetectionDetails,
)
def check_detection(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Flags and scores against known anomaly labels: measured (:func:`measure_detection`),
    judged (:func:`judge_detection`), described."""
    m = measure_detection(ctx)
    return _describe_detection(m, judge_detection(m, th), ctx.settings.confidence)


@dataclass(frozen=True)
class Detection:
    """What ``anomaly.detection`` measures on the test rows (numbers only, no verdict)."""

    pr_auc: float
    pr_auc_low: float
    pr_auc_high: float
    prevalence: float
    """Share of known anomalies: the PR-AUC of random flagging."""
    recall: float
    recall_low: float
    recall_high: float
    precision: float
    precision_low: float
    precision_high: float
    caught: int
    """Known anomalies flagged."""
    flagged: int
    anomalies: int
    rows: int

    @property
    def flagged_rate(self) -> float:
        return self.flagged / self.rows


def measure_detection(ctx: AuditContext) -> Detection:
    """PR-AUC (bootstrap interval), recall and precision (Wilson intervals) of the flags."""
    conf, seed = ctx.settings.confidence, ctx.settings.seed
    y = _inputs.anomaly_labels(ctx, "test")
    if y is None:
        raise SkipCheck("no known anomaly labels were given (pass target=... or --target)")
    score, flagged = flags(ctx, "test")
    ap = float(average_precision_score(y, score))
    draws = min(ctx.settings.n_bootstrap, _MAX_AP_DRAWS)
    ap_lo, ap_hi = (
        percentile_range(_ap_draws(y, score, draws=draws, seed=seed), conf) if draws else (ap, ap)
    )
    tp = int((flagged & y).sum())
    nf, npos = int(flagged.sum()), int(y.sum())
    p_lo, p_hi = wilson(tp, nf, conf) if nf else (0.0, 1.0)
    r_lo, r_hi = wilson(tp, npos, conf)
    return Detection(
        pr_auc=ap,
        pr_auc_low=ap_lo,
        pr_auc_high=ap_hi,
        prevalence=float(y.mean()),
        recall=tp / npos if npos else 0.0,
        recall_low=r_lo,
        recall_high=r_hi,
        precision=tp / nf if nf else 0.0,
        precision_low=p_lo,
        precision_high=p_hi,
        caught=tp,
        flagged=nf,
        anomalies=npos,
        rows=int(y.size),
    )


def judge_detection(m: Detection, th: Mapping[str, Any]) -> Status:
    """``fail`` when the PR-AUC is not clearly above random flagging (the low end of its
    interval at or under the prevalence); ``warn`` when recall is under ``recall_warn``.

    >>> m = Detection(0.6, 0.5, 0.7, 0.03, 0.4, 0.3, 0.5, 0.5, 0.4, 0.6, 18, 36, 45, 1500)
    >>> judge_detection(m, {"recall_warn": 0.5})
    'warn'
    """
    if m.pr_auc_low <= m.prevalence:
        return "fail"
    return "warn" if m.recall < float(th["recall_warn"]) else "pass"


def _describe_detection(m: Detection, status: Status, conf: float) -> Outcome:
    """Summary, finding, recommendation and chart of a judged detection."""
    text = (
        f"PR-AUC {num(m.pr_auc)} ({conf:.0%} CI {num(m.pr_auc_low)}–{num(m.pr_auc_high)}) "
        f"against {num(m.prevalence)} for random flagging; at its flagged rate "
        f"({pct(m.flagged_rate)}) it catches {m.caught:,} of {m.anomalies:,} known anomalies "
        f"(recall {pct(m.recall)}, CI {pct(m.recall_low)}–{pct(m.recall_high)}) and "
        f"{pct(m.precision)} of its flags are real "
        f"(CI {pct(m.precision_low)}–{pct(m.precision_high)})"
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
    names = ("pr_auc", "precision", "recall")
    metrics: dict[str, float | int | None] = {
        f"{k}{end}": getattr(m, f"{k}{end}") for k in names for end in ("", "_low", "_high")
    }
    metrics.update(prevalence=m.prevalence, flagged_rate=m.flagged_rate)
    chart = IntervalChart(
        title="Detection against known anomalies",
        x_label="",
        unit="value",
        items=[
            IntervalItem(label="PR-AUC", value=m.pr_auc, low=m.pr_auc_low, high=m.pr_auc_high),
            IntervalItem(label="random PR-AUC", value=m.prevalence),
            IntervalItem(
                label="precision", value=m.precision, low=m.precision_low, high=m.precision_high
            ),
            IntervalItem(label="recall", value=m.recall, low=m.recall_low, high=m.recall_high),
        ],
    )
    finding = Finding(
        status=status,
        message=summary,
        group="known anomalies",
        metrics={"pr_auc": m.pr_auc, "recall": m.recall, "precision": m.precision},
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=[finding],
        recommendation=rec,
        details={"charts": [chart.to_dict()]},
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


@dataclass(frozen=True)
class AnomalyDriversDetails(Details):
    """What ``anomaly.drivers`` keeps in its ``details`` (``report.json``)."""

    drivers: tuple[Mapping[str, Any], ...]
    most_extreme_in: Mapping[str, Any]


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
    details=AnomalyDriversDetails,
)
def check_drivers(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """What sets flagged rows apart: measured (:func:`measure_drivers`), judged
    (:func:`judge_drivers`), described."""
    m = measure_drivers(ctx, top_features=int(th["top_features"]))
    return _describe_drivers(m, judge_drivers(m, th))


@dataclass(frozen=True)
class Drivers:
    """What ``anomaly.drivers`` measures on the test rows (numbers only, no verdict)."""

    flagged: int
    top_feature: str
    """The feature in which most flagged rows are most extreme."""
    top_share: float
    """Share of flagged rows most extreme in ``top_feature``."""
    n_features: int
    """Source features compared (a one-hot column counts with its feature)."""
    drivers: tuple[dict[str, Any], ...] = ()
    """Features in which flagged rows are clearly more extreme (Cohen's d >= 0.2), largest d
    first: feature, d, d_low, d_high, mean_abs_z_flagged, mean_abs_z_other."""
    most_extreme_in: Mapping[str, int] = field(default_factory=dict)
    example_rows: tuple[int, ...] = ()


def measure_drivers(ctx: AuditContext, *, top_features: int) -> Drivers:
    """Distances from typical of flagged and other rows, feature by feature."""
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
    rows = []
    for j in np.argsort(-eff[0], kind="stable")[:top_features]:
        if eff[0, j] < 0.2:
            break
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
    by_source: dict[str, int] = {}
    for j in np.argmax(dist[inside], axis=1):
        by_source[v.source[j]] = by_source.get(v.source[j], 0) + 1
    top_src = max(by_source, key=lambda s: (by_source[s], s))
    return Drivers(
        flagged=int(inside.size),
        top_feature=top_src,
        top_share=by_source[top_src] / inside.size,
        n_features=len(set(v.source)),
        drivers=tuple(rows),
        most_extreme_in=by_source,
        example_rows=tuple(int(v.order[i]) for i in inside[:20]),
    )


def judge_drivers(m: Drivers, th: Mapping[str, Any]) -> Status:
    """``warn`` when at least ``dominant_share`` of flagged rows are most extreme in one
    feature, out of three or more (a detector driven by one column); else ``pass``.

    >>> judge_drivers(Drivers(40, "f0", 0.8, 5), {"dominant_share": 0.5})
    'warn'
    """
    return "warn" if m.top_share >= float(th["dominant_share"]) and m.n_features >= 3 else "pass"


def _describe_drivers(m: Drivers, status: Status) -> Outcome:
    """Summary, finding, recommendation and chart of judged drivers."""
    rows = [dict(r) for r in m.drivers]
    phrases = [
        f"{r['feature']} ({num(r['mean_abs_z_flagged'], 1)} robust SD from typical against "
        f"{num(r['mean_abs_z_other'], 1)}; d = {num(r['d'])})"
        for r in rows
    ]
    what = "; ".join(phrases) if phrases else "no feature in which they are clearly more extreme"
    summary = f"Flagged rows ({m.flagged:,}) are most unusual in {what}."
    rec = ""
    if status == "warn":
        summary += f" {pct(m.top_share)} of them are most extreme in {m.top_feature} alone."
        rec = (
            f"Check {m.top_feature}: a detector driven by one column often flags a unit error "
            "or a data-entry problem rather than real anomalies."
        )
    chart = IntervalChart(
        title="How much more extreme flagged rows are (Cohen's d)",
        x_label="difference in distance from typical, flagged − other rows",
        unit="std",
        items=[
            IntervalItem(label=r["feature"], value=r["d"], low=r["d_low"], high=r["d_high"])
            for r in rows
        ],
    )
    finding = Finding(
        status=status,
        message=summary,
        rows=m.example_rows,
        split="test",
        columns=tuple(r["feature"] for r in rows) or None,
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "flagged": m.flagged,
            "top_feature_share": m.top_share,
            "features_named": len(rows),
        },
        findings=[finding],
        recommendation=rec,
        details={
            "drivers": rows,
            "most_extreme_in": dict(sorted(m.most_extreme_in.items(), key=lambda t: -t[1])),
            "charts": [chart.to_dict()],
        },
    )
