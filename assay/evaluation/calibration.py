"""``evaluation.calibration``: do predicted probabilities match observed rates?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from assay.core.context import AuditContext
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import bootstrap, make_intervals, split_data
from assay.evaluation._common import fmt, rows_text, sampling_details, with_interval
from assay.evaluation._metrics import CalibrationPlan, calibration_target, compute_metrics

CHECK_ID = "evaluation.calibration"


def _direction(task: str, table: list[dict[str, Any]], ece: float) -> str:
    """How the scores are off: too high, too low, overconfident or underconfident."""
    n = sum(b["count"] for b in table)
    if n == 0 or ece <= 0:
        return "calibrated"
    pred = np.array([b["mean_predicted"] for b in table])
    obs = np.array([b["observed"] for b in table])
    share = np.array([b["count"] for b in table]) / n
    if task == "binary":
        bias = float(share @ (pred - obs))
        if abs(bias) >= 0.5 * ece:
            return "too_high" if bias > 0 else "too_low"
        extreme = float(share @ (np.sign(pred - 0.5) * (pred - obs)))
        return "overconfident" if extreme > 0 else "underconfident"
    return "overconfident" if float(share @ (pred - obs)) > 0 else "underconfident"


_DIRECTION_TEXT = {
    "too_high": "its scores overstate how often {event} happens",
    "too_low": "its scores understate how often {event} happens",
    "overconfident": "the model is overconfident, its scores sit too close to {ends}",
    "underconfident": "the model is underconfident, its scores sit too close to {middle}",
    "calibrated": "the scores match the observed rates",
}


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Probability calibration",
    explanation=(
        "Whether the model's probabilities can be taken at face value: among cases scored "
        "around 0.8, about 80% should turn out positive. Rows are grouped into bins of "
        "equal size by score and each bin's average score is compared with what actually "
        "happened; the expected calibration error (ECE) is the average gap. Badly "
        "calibrated scores mislead anyone who uses them as risks or sets thresholds on them. "
        "The status is judged on the ECE itself (the point estimate); its interval is shown "
        "alongside."
    ),
    standards=("MEASURE 2.5", "MEASURE 2.9"),
    severity="medium",
    thresholds={"ece_warn": 0.05, "ece_fail": 0.15, "n_bins": 10},
    needs=("model", "scores"),
    tasks=("binary", "multiclass"),
)
def calibration(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Expected calibration error over equal-mass bins, with a bootstrap interval."""
    s = ctx.settings
    sd = split_data(ctx, "test")
    if sd.data.proba is None:
        raise SkipCheck("the model gave no class probabilities for the test data")
    event, prob = calibration_target(sd.data)
    plan = CalibrationPlan(event, prob, n_bins=int(th["n_bins"]))
    points = {k: float(v[0]) for k, v in plan(np.ones((1, sd.data.n))).items()}
    samples = (
        bootstrap(plan, sd.data.n, n_resamples=s.n_bootstrap, seed=s.seed, stream=sd.stream)
        if s.n_bootstrap > 0
        else None
    )
    ivs = make_intervals(points, samples, confidence=s.confidence)
    ece = ivs["ece"]
    brier = compute_metrics(sd.data, ["brier"])["brier"]
    table = plan.table()
    ece_value = ece.value or 0.0
    warn_at, fail_at = float(th["ece_warn"]), float(th["ece_fail"])
    status: Status = "fail" if ece_value >= fail_at else "warn" if ece_value >= warn_at else "pass"

    if ctx.task == "binary":
        target = f"the positive class {ctx.positive_class!r}"
        words = {"event": repr(ctx.positive_class), "ends": "0 and 1", "middle": "0.5"}
    else:
        target = "the top-scored class (top-label confidence)"
        words = {"event": "the top class", "ends": "1", "middle": "the average"}
    direction = _direction(ctx.task or "binary", table, ece_value)
    how = _DIRECTION_TEXT[direction].format(**words)
    ece_txt = with_interval("ece", ece, s.confidence)
    findings: list[Finding] = []
    if status == "pass":
        summary = (
            f"Predicted probabilities match observed rates well: the expected "
            f"calibration error is {ece_txt} over {rows_text(sd)}."
        )
        rec = "No action needed; check calibration again after retraining."
    else:
        level = (
            f"failure level of {fail_at:g}" if status == "fail" else f"warning level of {warn_at:g}"
        )
        summary = (
            f"Predicted probabilities are off by {fmt('ece', ece.value)} on average "
            f"(expected calibration error, above the {level}): {how}."
        )
        rec = (
            "Recalibrate the scores on held-out data (for example scikit-learn's "
            "CalibratedClassifierCV, method 'isotonic' or 'sigmoid') before using them as "
            "probabilities, risks or thresholds."
        )
        worst = max(table, key=lambda b: abs(b["mean_predicted"] - b["observed"]))
        findings.append(
            Finding(
                status=status,
                split="test",
                group=f"scores {worst['lower']:.2f}–{worst['upper']:.2f}",
                metrics={k: worst[k] for k in ("mean_predicted", "observed", "count")},
                message=(
                    f"Where the model predicts about {worst['mean_predicted']:.2f} for "
                    f"{target}, it happens {worst['observed']:.2f} of the time "
                    f"({worst['count']:,} rows)."
                ),
            )
        )
    metrics = {
        "ece": ece.value,
        "ece_low": ece.low,
        "ece_high": ece.high,
        "brier": brier,
        "max_calibration_error": ivs["max_calibration_error"].value,
    }
    details = {
        "target": target,
        "binning": "equal-mass (quantile) bins; bin edges fixed from the test data for the "
        "bootstrap",
        "n_bins": len(table),
        "judged_on": "point estimate",
        "direction": direction,
        "bins": table,
        **sampling_details(ctx, [sd]),
        "charts": [
            {
                "kind": "reliability",
                "title": f"Reliability of the scores for {target}",
                "bins": [{k: b[k] for k in ("mean_predicted", "observed", "count")} for b in table],
            }
        ],
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )
