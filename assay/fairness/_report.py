"""Wording, metrics and charts of ``fairness.group_metrics`` (private).

The computation lives in :mod:`assay.fairness.group_metrics`; this module
turns its per-group results and disparities into the check's outcome.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem, Unit
from assay.core.context import AuditContext
from assay.core.registry import Outcome
from assay.core.result import Finding, Status, worst_status

METRIC_TEXT = {
    "count": "size",
    "selection_rate": "selection rate",
    "accuracy": "accuracy",
    "true_positive_rate": "true positive rate",
    "false_positive_rate": "false positive rate",
    "precision": "precision",
    "error_rate": "error rate",
    "mae": "MAE",
    "mean_residual": "mean residual (prediction − truth)",
    "mean_prediction": "mean prediction",
    "base_rate": "base rate (share of positive labels)",
    "relative_mae": "MAE relative to the group's spread of the target",
}
METRIC_UNIT: dict[str, Unit] = {
    "count": "count",
    "selection_rate": "share",
    "true_positive_rate": "share",
    "false_positive_rate": "share",
    "error_rate": "share",
    "base_rate": "share",
}
"""The unit of each group metric drawn in a chart; scores (accuracy, precision) and
errors in the target's units are raw values."""


@dataclass
class Disparity:
    """A gap between two groups in one metric (a difference or a ratio), judged."""

    metric: str
    kind: str  # difference | ratio
    value: float
    low: float | None
    high: float | None
    worst: str  # the group to name
    other: str  # the group it is compared with
    worst_value: float
    other_value: float
    pair_low: float | None  # interval of the two groups' difference
    pair_high: float | None
    status: Status = "pass"
    threshold: float | None = None
    gap: float = float("nan")  # oriented larger-is-worse: a difference, or a log ratio
    se: float | None = None  # bootstrap standard error of ``gap``
    m: int = 1  # comparisons in the check (Bonferroni)
    p: float | None = None  # adjusted p value of "no gap"
    base_worst: float | None = None  # label base rates of the two groups (binary)
    base_other: float | None = None
    beyond_base: float | None = None  # selection ratio / base-rate ratio
    beyond_base_high: float | None = None

    @property
    def significant(self) -> bool:
        if self.pair_low is None or self.pair_high is None:
            return True
        return self.pair_low > 0 or self.pair_high < 0


@dataclass
class SetResult:
    """Per-group metrics, intervals and disparities of one attribute set."""

    name: str
    columns: tuple[str, ...]
    groups: list[str]
    by_group: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, tuple[float | None, float | None]]]
    small: list[str]
    disparities: list[Disparity] = field(default_factory=list)


_HEADLINE = {"binary": "selection_rate", "multiclass": "accuracy", "regression": "mae"}
_PRIORITY = {
    ("selection_rate", "ratio"): 0,
    ("true_positive_rate", "difference"): 1,
    ("false_positive_rate", "difference"): 1,
    ("error_rate", "difference"): 2,
    ("mae", "ratio_high"): 0,
    ("relative_mae", "ratio_high"): 0,
    ("mean_residual", "share_of_mae"): 1,
    ("selection_rate", "difference"): 3,
}


def _num(v: float | None) -> str:
    return "n/a" if v is None or not np.isfinite(v) else f"{v:.3g}".replace("-", "−")


def _ci(lo: float | None, hi: float | None, conf: float) -> str:
    if lo is None or hi is None:
        return ""
    return f" ({conf:.0%} CI {_num(lo)} to {_num(hi)})"


def _base_text(d: Disparity) -> str:
    """The labels' base rates of the two groups, in plain words (binary selection gaps)."""
    bw, bo = d.base_worst, d.base_other
    if bw is None or bo is None or not (np.isfinite(bw) and np.isfinite(bo)):
        return ""
    text = (
        f" In the labels, the base rate of {d.worst} is {_num(bw)} against {_num(bo)} for {d.other}"
    )
    if d.beyond_base is None or d.kind != "ratio":
        return text + "."
    if d.status == "fail" and d.threshold is not None and d.threshold < 0.8:
        return (
            text + f": the model's selection gap goes far beyond that difference (selection "
            f"ratio {_num(d.beyond_base)} times the base-rate ratio)."
        )
    if d.beyond_base >= 0.8:
        return text + ": the model mirrors a difference present in the data."
    return (
        text + f": the model widens that difference (selection ratio {_num(d.beyond_base)} "
        "times the base-rate ratio)."
    )


def _message(d: Disparity, conf: float, th: Mapping[str, Any]) -> str:
    m = METRIC_TEXT[d.metric]
    w, o = d.worst, d.other
    if d.kind == "ratio":
        return (
            f"Group {w} is selected at a rate of {_num(d.worst_value)}, {_num(d.value)} times"
            f"{_ci(d.low, d.high, conf)} the rate of {o} ({_num(d.other_value)}): "
            + (
                f"below the four-fifths rule ({th['four_fifths']:g})."
                if d.value < float(th["four_fifths"])
                else f"within the four-fifths rule ({th['four_fifths']:g})."
            )
            + _base_text(d)
        )
    if d.kind == "ratio_high":
        return (
            f"Group {w} has {'an' if d.metric == 'mae' else 'a'} {m} of {_num(d.worst_value)}, "
            f"{_num(d.value)} times that of {o} ({_num(d.other_value)}){_ci(d.low, d.high, conf)}."
        )
    if d.kind == "share_of_mae":
        return (
            f"The mean residual of group {w} is {_num(d.worst_value)} against "
            f"{_num(d.other_value)} for {o}: a gap of {d.value:.0%} of the overall MAE"
            f"{_ci(d.low, d.high, conf)}."
        )
    name = {
        ("selection_rate", "difference"): "demographic parity difference",
        ("true_positive_rate", "difference"): "equalized odds difference",
        ("false_positive_rate", "difference"): "equalized odds difference",
        ("error_rate", "difference"): "accuracy gap",
    }.get((d.metric, d.kind), "difference")
    article = "an" if m[0] in "aeiou" else "a"
    tail = _base_text(d) if d.metric == "selection_rate" else ""
    return (
        f"Group {w} has {article} {m} of {_num(d.worst_value)} against {_num(d.other_value)} for "
        f"{o}: a gap of {_num(d.value)} ({name}){_ci(d.low, d.high, conf)}.{tail}"
    )


def outcome(
    ctx: AuditContext,
    task: str,
    results: list[SetResult],
    overall: Mapping[str, float],
    th: Mapping[str, Any],
    n: int,
    n_total: int,
) -> Outcome:
    """Status, summary, findings (worst gap first, then groups too small), metrics and
    charts from the results of every attribute set."""
    s = ctx.settings
    conf = s.confidence
    judged = [(r, d) for r in results for d in r.disparities if d.status != "pass"]
    judged.sort(
        key=lambda rd: (
            {"fail": 0, "warn": 1}[rd[1].status],
            _PRIORITY.get((rd[1].metric, rd[1].kind), 5),
            -rd[1].value if rd[1].kind != "ratio" else rd[1].value,
            rd[0].name,
        )
    )
    findings = _findings(judged, results, conf, th)
    min_size = int(th["min_group_size"])
    status: Status = worst_status([d.status for _, d in judged])
    summary, rec = _summary(task, results, judged, conf, th, n)
    metrics = _metrics(task, results, overall, n)
    # The evidence of the verdict: the adjusted p value of the gap the summary names.
    metrics["p_value"] = judged[0][1].p if judged else None
    details = {
        "sensitive": list(ctx.sensitive),
        "positive_class": ctx.positive_class if task == "binary" else None,
        "metrics_by": "fairlearn.metrics.MetricFrame (point estimates); intervals from the "
        "vectorized bootstrap of per-group sums",
        "overall": dict(overall),
        "sets": [_set_details(r) for r in results],
        "min_group_size": min_size,
        "judged_on": "the two extreme groups among those of at least min_group_size rows; "
        "intervals and p values Bonferroni-adjusted for every pair of such groups in the "
        "check (normal, bootstrap standard error; ratios on the log scale); a gap warns when "
        "its interval excludes no gap and it reaches its warn level, and fails only when the "
        "whole interval lies beyond its fail level",
        "n_rows": n,
        "n_rows_available": n_total,
        "sampled": n < n_total,
        "seed": s.seed,
        "n_bootstrap": s.n_bootstrap,
        "confidence": conf,
        "charts": _charts(task, results, judged, conf, th),
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )


def _findings(
    judged: list[tuple[SetResult, Disparity]],
    results: list[SetResult],
    conf: float,
    th: Mapping[str, Any],
) -> list[Finding]:
    """One finding per judged gap (in order), then up to ten groups too small to judge."""
    findings: list[Finding] = []
    min_size = int(th["min_group_size"])
    for r, d in judged:
        findings.append(
            Finding(
                status=d.status,
                group=d.worst,
                column=r.columns[0] if len(r.columns) == 1 else None,
                columns=r.columns if len(r.columns) > 1 else None,
                split="test",
                message=_message(d, conf, th),
                metrics={
                    d.metric: d.worst_value,
                    f"reference_{d.metric}": d.other_value,
                    d.kind: d.value,
                    f"{d.kind}_low": d.low,
                    f"{d.kind}_high": d.high,
                    "p_value": d.p,
                    "comparisons": d.m,
                },
            )
        )
    small = [(r, g) for r in results for g in r.small]
    for r, g in small[:10]:
        findings.append(
            Finding(
                status="pass",
                group=g,
                column=r.columns[0] if len(r.columns) == 1 else None,
                columns=r.columns if len(r.columns) > 1 else None,
                split="test",
                message=(
                    f"Group {g} has only {int(r.by_group[g]['count'])} rows in test: too small "
                    f"to judge (minimum {min_size})."
                ),
                metrics={"count": r.by_group[g]["count"]},
            )
        )
    return findings


def _summary(
    task: str,
    results: list[SetResult],
    judged: list[tuple[SetResult, Disparity]],
    conf: float,
    th: Mapping[str, Any],
    n: int,
) -> tuple[str, str]:
    """(summary, recommendation): the worst gap and how many more, or the headline
    metric's range across the groups of the first attribute set."""
    min_size = int(th["min_group_size"])
    if judged:
        r0, d0 = judged[0]
        summary = _message(d0, conf, th)
        extra = len(judged) - 1
        if extra:
            summary = summary[:-1] + f"; {extra} more gap(s) cross their thresholds."
        rec = (
            f"Investigate why {d0.worst} is treated differently: check its representation and "
            "label quality in the training data, whether features act as proxies for the "
            "sensitive attribute, and consider mitigation with Fairlearn (ThresholdOptimizer for "
            "post-processing, ExponentiatedGradient with a DemographicParity or EqualizedOdds "
            "constraint for retraining); document the decision either way."
        )
    else:
        head = _HEADLINE[task]
        r0 = results[0]
        vals = [r0.by_group[g][head] for g in r0.groups if r0.by_group[g]["count"] >= min_size]
        span = (
            f"{METRIC_TEXT[head]} ranges from {_num(min(vals))} to {_num(max(vals))} across "
            f"the groups of {r0.name}"
            if vals
            else f"no group of {r0.name} has {min_size} rows"
        )
        n_small = sum(len(r.small) for r in results)
        tail = f"; {n_small} group(s) too small to judge" if n_small else ""
        summary = f"No gap between groups crosses its threshold: {span} ({n:,} test rows{tail})."
        if not vals:
            summary = f"No group is large enough to judge: {span} ({n:,} test rows)."
        rec = (
            "No action needed on these attributes; keep monitoring group metrics in production "
            "and collect more data for groups reported as too small."
        )
    return summary, rec


def _set_details(r: SetResult) -> dict[str, Any]:
    """One attribute set in the details: its groups with intervals, and its gaps."""
    return {
        "attributes": list(r.columns),
        "groups": [
            {
                "group": g,
                "too_small": g in r.small,
                **r.by_group[g],
                **{
                    f"{m}_{end}": iv[i]
                    for m, iv in r.intervals[g].items()
                    for i, end in ((0, "low"), (1, "high"))
                },
            }
            for g in r.groups
        ],
        "disparities": [
            {
                "metric": d.metric,
                "kind": d.kind,
                "value": d.value,
                "low": d.low,
                "high": d.high,
                "worst_group": d.worst,
                "reference_group": d.other,
                "pair_difference_low": d.pair_low,
                "pair_difference_high": d.pair_high,
                "status": d.status,
                "threshold": d.threshold,
                "p_value": d.p,
                "comparisons": d.m,
                "base_rate_worst": d.base_worst,
                "base_rate_reference": d.base_other,
                "selection_ratio_over_base_rate_ratio": d.beyond_base,
            }
            for d in r.disparities
        ],
    }


def _metrics(
    task: str, results: list[SetResult], overall: Mapping[str, float], n: int
) -> dict[str, float | int | None]:
    def pick(metric: str, kind: str, worst_low: bool = False) -> Disparity | None:
        ds = [d for r in results for d in r.disparities if d.metric == metric and d.kind == kind]
        ds = [d for d in ds if np.isfinite(d.value)]
        if not ds:
            return None
        return (min if worst_low else max)(ds, key=lambda d: d.value)

    out: dict[str, float | int | None] = {}

    def put(name: str, d: Disparity | None) -> None:
        out[name] = None if d is None else d.value
        out[f"{name}_low"] = None if d is None else d.low
        out[f"{name}_high"] = None if d is None else d.high

    if task == "binary":
        put("selection_rate_ratio", pick("selection_rate", "ratio", worst_low=True))
        put("demographic_parity_difference", pick("selection_rate", "difference"))
        tpr = pick("true_positive_rate", "difference")
        fpr = pick("false_positive_rate", "difference")
        eo = max((d for d in (tpr, fpr) if d is not None), key=lambda d: d.value, default=None)
        put("equalized_odds_difference", eo)
    if task in ("binary", "multiclass"):
        put("error_rate_difference", pick("error_rate", "difference"))
        out["accuracy"] = overall.get("accuracy")
    if task == "regression":
        put("mae_ratio", pick("mae", "ratio_high"))
        put("relative_mae_ratio", pick("relative_mae", "ratio_high"))
        put("mean_residual_gap", pick("mean_residual", "share_of_mae"))
        out["mae"] = overall.get("mae")
    out["n_groups"] = sum(len(r.groups) for r in results)
    out["n_groups_too_small"] = sum(len(r.small) for r in results)
    out["n_attribute_sets"] = len(results)
    out["n_rows"] = n
    return out


def _charts(
    task: str,
    results: list[SetResult],
    judged: list[tuple[SetResult, Disparity]],
    conf: float,
    th: Mapping[str, Any],
) -> list[dict[str, Any]]:
    head = _HEADLINE[task]
    group_status: dict[str, Status] = {}
    for _, d in judged:
        group_status[d.worst] = worst_status([group_status.get(d.worst, "pass"), d.status])

    def chart(title: str, metric: str) -> dict[str, Any]:
        return IntervalChart(
            title=title,
            x_label=METRIC_TEXT[metric],
            unit=METRIC_UNIT.get(metric, "value"),
            items=[IntervalItem(**i) for i in _interval_items(results, metric)],
        ).to_dict()

    charts: list[dict[str, Any]] = [
        chart(f"{METRIC_TEXT[head].capitalize()} per group ({conf:.0%} CI)", head)
    ]
    charts.append(_bars(task, results, group_status, th))
    worst_metric = judged[0][1].metric if judged else None
    if worst_metric and worst_metric != head:
        charts.append(
            chart(
                f"{METRIC_TEXT[worst_metric].capitalize()} per group ({conf:.0%} CI)",
                worst_metric,
            )
        )
    elif task == "binary":
        charts.append(chart(f"Error rate per group ({conf:.0%} CI)", "error_rate"))
    return charts


def _interval_items(results: list[SetResult], metric: str) -> list[dict[str, Any]]:
    """Each group's ``metric`` with its interval, for an interval chart."""
    out = []
    for r in results:
        for g in r.groups:
            v = r.by_group[g].get(metric)
            if v is None or not np.isfinite(v):
                continue
            lo, hi = r.intervals[g].get(metric, (None, None))
            small = " (too small)" if g in r.small else ""
            out.append(
                {
                    "label": g + small,
                    "value": v,
                    "low": v if lo is None else lo,
                    "high": v if hi is None else hi,
                }
            )
    return out


def _bars(
    task: str,
    results: list[SetResult],
    group_status: Mapping[str, Status],
    th: Mapping[str, Any],
) -> dict[str, Any]:
    """Binary: each group's selection rate over the highest (the four-fifths rule);
    otherwise each group's error rate or MAE. Groups too small are left out."""
    bar_items: list[Bar] = []
    if task == "binary":
        for r in results:
            eligible = [g for g in r.groups if g not in r.small]
            rates = [r.by_group[g]["selection_rate"] for g in eligible]
            top = max(rates, default=0.0)
            for g in eligible:
                ratio = r.by_group[g]["selection_rate"] / top if top else 0.0
                bar_items.append(Bar(g, ratio, group_status.get(g, "pass")))
        return BarChart(
            title="Selection rate of each group relative to the most selected group "
            "(four-fifths rule)",
            x_label="ratio to the highest selection rate",
            unit="ratio",
            items=bar_items,
            threshold=float(th["four_fifths"]),
        ).to_dict()
    metric = "error_rate" if task == "multiclass" else "mae"
    for r in results:
        for g in r.groups:
            if g not in r.small:
                bar_items.append(Bar(g, r.by_group[g][metric], group_status.get(g, "pass")))
    return BarChart(
        title=f"{METRIC_TEXT[metric].capitalize()} per group",
        x_label=METRIC_TEXT[metric],
        unit=METRIC_UNIT.get(metric, "value"),
        items=bar_items,
    ).to_dict()
