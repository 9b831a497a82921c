"""``evaluation.uncertainty``: conformal prediction sets and intervals.

Split conformal prediction, written out here (MAPIE is not used; the
arithmetic is a few lines). The test rows are split, in a seeded order that
does not depend on the input row order, into a *calibration* half and an
*evaluation* half.

- Classification: the score of a row is ``1 − p̂(true class)`` (the "LAC"
  score). With ``n`` calibration scores, the threshold for level ``1 − α`` is
  the ``⌈(n + 1)(1 − α)⌉``-th smallest score (every class when that rank
  exceeds ``n``). The prediction set of a row holds every class ``c`` with
  ``1 − p̂(c) ≤`` threshold.
- Regression: the score is ``|y − ŷ|`` and the interval ``ŷ ± threshold``.

If the rows are exchangeable, the sets (intervals) hold the true value with
probability at least ``1 − α``. The check measures that coverage on the
evaluation half (with a Wilson interval), the average set size or interval
width, and the coverage within each class (classification) or each quarter of
the predicted values (regression): a marginal guarantee can hide a part of the
data that is covered much less often.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from assay.core.context import AuditContext
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._depth import eval_data, sample_positions, wilson
from assay.io.models import Prediction

CHECK_ID = "evaluation.uncertainty"


def conformal_threshold(scores: np.ndarray, level: float) -> float:
    """The split-conformal threshold: the ``⌈(n+1)·level⌉``-th smallest score.

    >>> conformal_threshold(np.arange(1.0, 11.0), 0.8)
    9.0
    >>> conformal_threshold(np.arange(1.0, 11.0), 0.95)
    inf
    """
    n = scores.size
    k = math.ceil((n + 1) * level)
    if n == 0 or k > n:
        return math.inf
    return float(np.sort(scores)[k - 1])


def _key(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


def _classification(
    proba: np.ndarray, y: np.ndarray, cal: np.ndarray, ev: np.ndarray, level: float
) -> dict[str, Any]:
    scores = 1.0 - proba[cal, y[cal]]
    q = conformal_threshold(scores, level)
    sets = (1.0 - proba[ev]) <= q + 1e-12
    covered = sets[np.arange(ev.size), y[ev]]
    size = sets.sum(axis=1)
    return {
        "threshold": None if math.isinf(q) else q,
        "covered": covered,
        "set_size": float(size.mean()),
        "singleton_share": float((size == 1).mean()),
        "empty_share": float((size == 0).mean()),
    }


def _regression(
    pred: np.ndarray, y: np.ndarray, cal: np.ndarray, ev: np.ndarray, level: float
) -> dict[str, Any]:
    q = conformal_threshold(np.abs(y[cal] - pred[cal]), level)
    covered = np.abs(y[ev] - pred[ev]) <= q
    # The same construction without the model: intervals around the mean target.
    q0 = conformal_threshold(np.abs(y[cal] - y[cal].mean()), level)
    return {
        "threshold": None if math.isinf(q) else q,
        "covered": covered,
        "width": None if math.isinf(q) else 2 * q,
        "width_ratio": None if math.isinf(q) or not q0 or math.isinf(q0) else q / q0,
    }


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Uncertainty (conformal prediction)",
    explanation=(
        "How sure the model's predictions are, in a form anyone can use: instead of one "
        "answer, a set of classes (or an interval of values) that contains the truth 90% or "
        "95% of the time. Half of the test rows calibrate these sets (split conformal "
        "prediction); the other half check that they really cover the truth that often. Small "
        "sets mean a confident, useful model; a part of the data covered much less often than "
        "promised means the model's uncertainty is misjudged there."
    ),
    standards=("MEASURE 2.5", "MEASURE 2.6"),
    severity="medium",
    thresholds={
        "levels": [0.9, 0.95],
        "calibration_share": 0.5,
        "conditional_gap_warn": 0.1,
        "min_group_size": 30,
        "min_rows": 40,
    },
    needs=("model",),
)
def uncertainty(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Split-conformal sets (classification) or intervals (regression) at each level."""
    s = ctx.settings
    conf = s.confidence
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    regression = ctx.task == "regression"
    full = ctx.predictions("test")
    if not regression and full.proba is None:
        raise SkipCheck(
            "conformal prediction sets need class probabilities (a model with predict_proba, "
            "or --score columns)"
        )
    pos = sample_positions(ctx, s.max_rows_model_checks)
    n = pos.size
    if n < int(th["min_rows"]):
        raise SkipCheck(
            f"only {n} labelled test rows; conformal calibration needs {th['min_rows']}"
        )
    pred = Prediction(
        labels=np.asarray(full.labels)[pos], proba=None if full.proba is None else full.proba[pos]
    )
    data = eval_data(ctx, y_all[pos], pred)
    n_cal = round(n * float(th["calibration_share"]))
    n_cal = min(max(n_cal, 1), n - 1)
    cal, ev = np.arange(n_cal), np.arange(n_cal, n)
    levels = sorted(float(v) for v in th["levels"])
    min_group = int(th["min_group_size"])
    gap = float(th["conditional_gap_warn"])

    # The parts of the evaluation half whose coverage is looked at separately.
    if regression:
        yhat = data.pred[ev]
        edges = np.unique(np.quantile(yhat, [0.25, 0.5, 0.75]))
        part = np.searchsorted(edges, yhat, side="right")
        bounds = [-np.inf, *edges.tolist(), np.inf]
        part_names = [_range_text(bounds[i], bounds[i + 1]) for i in range(len(edges) + 1)]
        part_kind = "predicted value"
    else:
        part = data.y[ev]
        part_names = [f"class {c!r}" for c in ctx.classes]
        part_kind = "class"

    per_level: list[dict[str, Any]] = []
    findings: list[Finding] = []
    status: Status = "pass"
    for lv in levels:
        r = (
            _regression(data.pred, data.y, cal, ev, lv)
            if regression
            else _classification(data.proba, data.y, cal, ev, lv)
        )
        covered = r.pop("covered")
        k = int(covered.sum())
        low, high = wilson(k, ev.size, conf)
        row: dict[str, Any] = {
            "level": lv,
            "coverage": k / ev.size,
            "coverage_low": low,
            "coverage_high": high,
            **r,
        }
        parts = []
        for j, name in enumerate(part_names):
            sel = part == j
            m = int(sel.sum())
            if m == 0:
                continue
            kj = int(covered[sel].sum())
            lo_j, hi_j = wilson(kj, m, conf)
            judged = m >= min_group
            under = judged and kj / m < lv - gap and hi_j is not None and hi_j < lv
            parts.append(
                {
                    "part": name,
                    "rows": m,
                    "coverage": kj / m,
                    "coverage_low": lo_j,
                    "coverage_high": hi_j,
                    "judged": judged,
                    "status": "warn" if under else "pass",
                }
            )
        row["parts"] = parts
        judged_parts = [p for p in parts if p["judged"]]
        row["worst_part"] = min(judged_parts, key=lambda p: p["coverage"]) if judged_parts else None
        if high is not None and high < lv - gap:
            row["status"] = "fail"
        elif any(p["status"] == "warn" for p in parts):
            row["status"] = "warn"
        else:
            row["status"] = "pass"
        status = _worse(status, row["status"])
        per_level.append(row)
        for p in parts:
            if p["status"] != "pass":
                findings.append(
                    Finding(
                        status="warn",
                        group=p["part"],
                        split="test",
                        message=(
                            f"The {lv:.0%} {'intervals' if regression else 'prediction sets'} "
                            f"cover only {p['coverage']:.1%} of the rows "
                            f"{'where' if regression else 'of'} {p['part']} "
                            f"({p['rows']:,} rows), against {lv:.0%} promised."
                        ),
                        metrics={
                            "level": lv,
                            "coverage": p["coverage"],
                            "coverage_low": p["coverage_low"],
                            "coverage_high": p["coverage_high"],
                            "rows": p["rows"],
                        },
                    )
                )
        if row["status"] == "fail":
            findings.append(
                Finding(
                    status="fail",
                    group="all evaluation rows",
                    split="test",
                    message=(
                        f"The {lv:.0%} sets cover only {row['coverage']:.1%} of the evaluation "
                        "rows: the two halves of test are not alike (not exchangeable)."
                    ),
                    metrics={"level": lv, "coverage": row["coverage"]},
                )
            )

    summary, rec = _words(status, per_level, regression, findings)
    metrics: dict[str, float | int | None] = {}
    for row in per_level:
        k = _key(row["level"])
        metrics[f"coverage_{k}"] = row["coverage"]
        metrics[f"coverage_{k}_low"] = row["coverage_low"]
        metrics[f"coverage_{k}_high"] = row["coverage_high"]
        if regression:
            metrics[f"width_{k}"] = row["width"]
            metrics[f"width_ratio_{k}"] = row["width_ratio"]
        else:
            metrics[f"set_size_{k}"] = row["set_size"]
            metrics[f"singleton_share_{k}"] = row["singleton_share"]
        wp = row["worst_part"]
        metrics[f"worst_{'bin' if regression else 'class'}_coverage_{k}"] = (
            wp["coverage"] if wp else None
        )
    metrics["n_calibration"] = int(cal.size)
    metrics["n_evaluation"] = int(ev.size)
    details = {
        "method": "split conformal prediction; score 1 − p̂(true class) (LAC)"
        if not regression
        else "split conformal prediction; score |y − ŷ|, interval ŷ ± threshold",
        "implementation": "the split-conformal arithmetic is written out in Assay "
        "(MAPIE is not used)",
        "levels": per_level,
        "conditional_by": part_kind,
        "n_calibration": int(cal.size),
        "n_evaluation": int(ev.size),
        "n_rows_available": int(y_all.shape[0]),
        "split": "calibration and evaluation halves of test, in a seeded order that does not "
        "depend on the input row order",
        "coverage_interval": "Wilson score interval",
        "seed": s.seed,
        "confidence": conf,
        "charts": _charts(per_level, regression, conf, th),
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )


def _worse(a: Status, b: Status) -> Status:
    rank = {"pass": 0, "warn": 1, "fail": 2}
    return a if rank[a] >= rank[b] else b


def _range_text(lo: float, hi: float) -> str:
    if np.isinf(lo):
        return f"prediction < {hi:.4g}"
    if np.isinf(hi):
        return f"prediction >= {lo:.4g}"
    return f"{lo:.4g} <= prediction < {hi:.4g}"


def _words(
    status: Status, per_level: list[dict[str, Any]], regression: bool, findings: list[Finding]
) -> tuple[str, str]:
    def one(row: Mapping[str, Any]) -> str:
        if regression:
            width = "unbounded" if row["width"] is None else f"{row['width']:.4g}"
            return f"{row['coverage']:.1%} covered with intervals {width} wide"
        return f"{row['coverage']:.1%} covered with {row['set_size']:.2f} classes per set"

    parts = "; ".join(f"at {row['level']:.0%}, {one(row)}" for row in per_level)
    kind = "intervals" if regression else "prediction sets"
    if status == "pass":
        summary = f"Conformal {kind} keep their promise on held-out test rows: {parts}."
        rec = (
            f"Use these {kind} to communicate uncertainty, and recalibrate them on recent "
            "labelled data when production drifts."
        )
        return summary, rec
    f = findings[0]
    summary = f"{f.message[:-1]}; overall, {parts}."
    rec = (
        "Calibrate the sets separately for the parts that are under-covered (class-"
        "conditional or group-conditional, 'Mondrian', conformal prediction), or improve the "
        "model for them; do not rely on one marginal guarantee there."
    )
    return summary, rec


def _charts(
    per_level: list[dict[str, Any]], regression: bool, conf: float, th: Mapping[str, Any]
) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = [
        {
            "kind": "intervals",
            "title": f"Empirical coverage of the conformal {'intervals' if regression else 'sets'}"
            f" on held-out rows ({conf:.0%} Wilson intervals)",
            "x_label": "share of rows covered",
            "items": [
                {
                    "label": f"promised {row['level']:.0%}",
                    "value": row["coverage"],
                    "low": row["coverage_low"],
                    "high": row["coverage_high"],
                }
                for row in per_level
            ],
        }
    ]
    first = per_level[0] if per_level else None
    if first is not None and first["parts"]:
        charts.append(
            {
                "kind": "bars",
                "title": f"Coverage of the {first['level']:.0%} "
                f"{'intervals by predicted value' if regression else 'sets by true class'}",
                "x_label": "share of rows covered",
                "items": [
                    {"label": p["part"], "value": p["coverage"], "status": p["status"]}
                    for p in first["parts"]
                ],
                "threshold": first["level"],
            }
        )
    if not regression:
        charts.append(
            {
                "kind": "bars",
                "title": "Average number of classes in a prediction set",
                "x_label": "classes per set",
                "items": [
                    {
                        "label": f"{row['level']:.0%} sets",
                        "value": row["set_size"],
                        "status": "pass",
                    }
                    for row in per_level
                ],
                "threshold": None,
            }
        )
    return charts
