"""``evaluation.calibration``: do predicted probabilities match observed rates?

The ECE of a finite test set is never zero, even for perfectly calibrated
scores: with a few hundred rows it often exceeds 0.05 by chance alone. So the
observed ECE is compared with its own sampling distribution under perfect
calibration: labels are drawn from the model's scores (``y* ~ Bernoulli(p)``;
for multiclass the top-label event is Bernoulli in the top probability, which
is what drawing ``y* ~ Categorical(p)`` gives), and the ECE is recomputed with
the same bins (:func:`ece_null_draws`). The verdict, :func:`judge_calibration`,
alarms only when the ECE is both improbable under that null (``p < alpha``) and
material (at least ``ece_warn``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.core.charts import ReliabilityBin, ReliabilityChart
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import (
    Interval,
    SplitData,
    bootstrap,
    make_intervals,
    split_data,
)
from assay.evaluation._common import fmt, rows_text, sampling_details, with_interval
from assay.evaluation._metrics import (
    CalibrationPlan,
    calibration_target,
    compute_metrics,
    equal_mass_bins,
)

CHECK_ID = "evaluation.calibration"
_NULL_STREAM = 0xCA1  # keeps the null draws apart from the bootstrap's random stream
_EXACT_BIN_ROWS = 1_000  # bins up to this size draw every row's label


def ece_null_draws(prob: Any, *, n_bins: int, draws: int, seed: int) -> np.ndarray:
    """ECEs of ``draws`` label sets drawn from perfectly calibrated scores ``prob``.

    Each draw sets ``event* ~ Bernoulli(prob)`` row by row and recomputes the
    ECE over the same equal-mass bins as the observed one. A bin of more than
    :data:`_EXACT_BIN_ROWS` rows draws its event count from ``Binomial(rows,
    mean score)`` instead (slightly wider, so conservative; at that size the
    null ECE is far below any material level).

    >>> p = np.linspace(0.05, 0.95, 200)
    >>> null = ece_null_draws(p, n_bins=10, draws=100, seed=0)
    >>> null.shape, bool(null.min() > 0)
    ((100,), True)
    """
    prob = np.asarray(prob, dtype=np.float64)
    n = prob.size
    if n == 0 or draws <= 0:
        return np.zeros(0)
    bins = equal_mass_bins(prob, n_bins=n_bins)
    rng = np.random.default_rng([int(seed), _NULL_STREAM])
    gap = np.zeros(draws)
    for b in range(int(bins.max()) + 1):
        p = np.sort(prob[bins == b])  # row order must not change the draws
        if p.size == 0:
            continue
        if p.size <= _EXACT_BIN_ROWS:
            events = np.count_nonzero(rng.random((draws, p.size)) < p, axis=1)
        else:
            events = rng.binomial(p.size, float(p.mean()), size=draws)
        gap += np.abs(p.sum() - events)
    return gap / n


def debiased_ece(event: Any, prob: Any, *, n_bins: int) -> float:
    """ECE with each bin's sampling noise taken out: ``sum_b w_b sqrt(max(gap_b^2 - v_b, 0))``.

    ``gap_b`` is the bin's |mean score - observed rate| and ``v_b = sum p(1 - p) / n_b^2``
    its variance under perfect calibration, so ``gap_b^2 - v_b`` estimates the
    squared true gap without the upward bias of a small bin.

    >>> round(debiased_ece([0, 1, 0, 1], [0.2, 0.8, 0.2, 0.8], n_bins=2), 6)
    0.0
    """
    prob = np.asarray(prob, dtype=np.float64)
    if prob.size == 0:
        return 0.0
    plan = CalibrationPlan(event, prob, n_bins=n_bins)  # the bootstrap's own statistic
    return float(plan(np.ones((1, prob.size)))["ece_debiased"][0])


def null_p_value(observed: float, null: np.ndarray) -> float | None:
    """Monte Carlo p value: ``(1 + #{null >= observed}) / (1 + draws)``.

    >>> null_p_value(0.5, np.array([0.1, 0.2, 0.6]))
    0.5
    """
    if null.size == 0:
        return None
    return float((1 + np.count_nonzero(null >= observed)) / (1 + null.size))


def judge_calibration(
    ece: float,
    p_value: float | None,
    *,
    alpha: float,
    ece_warn: float,
    ece_fail: float,
    debiased: float | None = None,
    debiased_low: float | None = None,
) -> Status:
    """Status from the observed ECE and its p value under perfect calibration.

    Alarms only when the ECE is improbable for calibrated scores (``p_value <
    alpha``) and clearly material: the low end of the ``debiased`` ECE's interval
    (``debiased_low``) is at least ``ece_warn`` — a test against "off by no more
    than the warning level", not against "perfect", so a model sitting on the line
    does not warn on one test set and pass on the next. Without an interval the
    debiased ECE (else the ECE) itself must reach ``ece_warn``. ``fail`` when, in
    addition, that size reaches ``ece_fail``. Without a null (``p_value`` is
    ``None``) the size alone is judged.

    >>> judge_calibration(0.08, 0.01, alpha=0.05, ece_warn=0.05, ece_fail=0.15)
    'warn'
    >>> judge_calibration(0.08, 0.30, alpha=0.05, ece_warn=0.05, ece_fail=0.15)
    'pass'
    >>> judge_calibration(0.08, 0.01, alpha=0.05, ece_warn=0.05, ece_fail=0.15,
    ...                   debiased=0.06, debiased_low=0.03)
    'pass'
    """
    if p_value is not None and not p_value < alpha:
        return "pass"
    size = ece if debiased is None else debiased
    clear = size if debiased_low is None else debiased_low
    if not clear >= ece_warn:
        return "pass"
    return "fail" if size >= ece_fail else "warn"


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


@dataclass(frozen=True)
class CalibrationParams:
    """Parameters of ``evaluation.calibration``."""

    ece_warn: float = param(
        0.05,
        "Debiased ECE, beyond what perfect scores reach by chance, that warns.",
        ge=0,
        le=1,
    )
    ece_fail: float = param(
        0.15,
        "Debiased ECE, beyond what perfect scores reach by chance, that fails.",
        ge=0,
        le=1,
    )
    n_bins: int = param(10, "Equal-size score bins of the ECE and the reliability chart.", ge=2)
    alpha: float = param(
        0.05, "Significance level of the ECE against perfectly calibrated scores.", gt=0, lt=1
    )
    null_draws: int = param(
        1000, "Draws of perfectly calibrated labels the ECE is compared with.", ge=1
    )


@dataclass(frozen=True)
class CalibrationDetails(Details):
    """What ``evaluation.calibration`` keeps in its ``details`` (``report.json``)."""

    target: str
    binning: str
    n_bins: int
    judged_on: str
    null: str
    direction: str
    bins: tuple[Mapping[str, Any], ...]
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, Any]
    sampled: bool


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
        "Even perfect scores show some ECE on a finite test set, so Assay warns only when the "
        "ECE is both above what perfect scores reach by chance (p below alpha) and material "
        "once that chance part is taken out (debiased ECE at least ece_warn)."
    ),
    standards=("MEASURE 2.5", "MEASURE 2.9"),
    severity="medium",
    params=CalibrationParams,
    needs=("model", "scores"),
    tasks=("binary", "multiclass"),
    details=CalibrationDetails,
)
def calibration(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Expected calibration error over equal-mass bins, with a bootstrap interval."""
    m = _measure(ctx, th)
    status = judge_calibration(
        m.ece.value or 0.0,
        m.p_value,
        alpha=float(th["alpha"]),
        ece_warn=float(th["ece_warn"]),
        ece_fail=float(th["ece_fail"]),
        debiased=m.debiased,
        debiased_low=m.debiased_low,
    )
    target, words = _target(ctx)
    direction = _direction(ctx.task or "binary", m.table, m.ece.value or 0.0)
    how = _DIRECTION_TEXT[direction].format(**words)
    summary, rec, findings = _describe(status, m, th, how, target, ctx.settings.confidence)
    metrics = {
        "ece": m.ece.value,
        "ece_low": m.ece.low,
        "ece_high": m.ece.high,
        "brier": m.brier,
        "max_calibration_error": m.mce,
        "ece_debiased": m.debiased,
        "ece_debiased_low": m.debiased_low,
        "p_value": m.p_value,
        "ece_null_q95": m.q95,
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=_details(ctx, m, th, target, direction),
    )


@dataclass(frozen=True)
class _Measured:
    """The numbers of one calibration measurement (no verdict, no words)."""

    sd: SplitData
    ece: Interval
    mce: float | None
    brier: float | None
    debiased: float
    debiased_low: float | None  # low end of the debiased ECE's interval; None without bootstrap
    p_value: float | None
    q95: float | None
    null_draws: int
    table: list[dict[str, Any]]


def _measure(ctx: AuditContext, th: Mapping[str, Any]) -> _Measured:
    """ECE with its interval, the debiased ECE with its interval, and the ECE's null."""
    s = ctx.settings
    sd = split_data(ctx, "test")
    if sd.data.proba is None:
        raise SkipCheck("the model gave no class probabilities for the test data")
    event, prob = calibration_target(sd.data)
    n_bins = int(th["n_bins"])
    plan = CalibrationPlan(event, prob, n_bins=n_bins)
    points = {k: float(v[0]) for k, v in plan(np.ones((1, sd.data.n))).items()}
    samples = (
        bootstrap(plan, sd.data.n, n_resamples=s.n_bootstrap, seed=s.seed, stream=sd.stream)
        if s.n_bootstrap > 0
        else None
    )
    ivs = make_intervals(points, samples, confidence=s.confidence)
    null = ece_null_draws(prob, n_bins=n_bins, draws=int(th["null_draws"]), seed=s.seed)
    return _Measured(
        sd=sd,
        ece=ivs["ece"],
        mce=ivs["max_calibration_error"].value,
        brier=compute_metrics(sd.data, ["brier"])["brier"],
        debiased=points["ece_debiased"],
        debiased_low=ivs["ece_debiased"].low if samples is not None else None,
        p_value=null_p_value(ivs["ece"].value or 0.0, null),
        q95=float(np.quantile(null, 0.95)) if null.size else None,
        null_draws=int(null.size),
        table=plan.table(),
    )


def _details(
    ctx: AuditContext, m: _Measured, th: Mapping[str, Any], target: str, direction: str
) -> dict[str, Any]:
    alpha, warn_at = float(th["alpha"]), float(th["ece_warn"])
    return {
        "target": target,
        "binning": "equal-mass (quantile) bins; bin edges fixed from the test data for the "
        "bootstrap",
        "n_bins": len(m.table),
        "judged_on": "low end of the debiased ECE's interval",
        "null": (
            f"the ECE's distribution under perfect calibration ({m.null_draws} label sets "
            f"drawn from the scores, same bins): alarm when p < {alpha:g} and the "
            f"debiased ECE (each bin's sampling noise taken out) is clearly at least "
            f"{warn_at:g} (the low end of its interval)"
            if m.null_draws
            else "none (null_draws is 0): the ECE alone is judged"
        ),
        "direction": direction,
        "bins": m.table,
        **sampling_details(ctx, [m.sd]),
        "charts": [
            ReliabilityChart(
                title=f"Reliability of the scores for {target}",
                bins=[
                    ReliabilityBin(b["mean_predicted"], b["observed"], b["count"]) for b in m.table
                ],
            ).to_dict()
        ],
    }


def _target(ctx: AuditContext) -> tuple[str, dict[str, str]]:
    """What the scores are calibrated for, in words, and the words of the direction."""
    if ctx.task == "binary":
        target = f"the positive class {ctx.positive_class!r}"
        words = {"event": repr(ctx.positive_class), "ends": "0 and 1", "middle": "0.5"}
    else:
        target = "the top-scored class (top-label confidence)"
        words = {"event": "the top class", "ends": "1", "middle": "the average"}
    return target, words


def _worst_bin(status: Status, table: list[dict[str, Any]], target: str) -> Finding:
    """The bin whose mean score is furthest from its observed rate."""
    worst = max(table, key=lambda b: abs(b["mean_predicted"] - b["observed"]))
    return Finding(
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


def _describe(
    status: Status,
    m: _Measured,
    th: Mapping[str, Any],
    how: str,
    target: str,
    confidence: float,
) -> tuple[str, str, list[Finding]]:
    """(summary, recommendation, findings): calibrated, off within chance, slightly off
    once noise is taken out, or off (with the worst bin as the finding)."""
    warn_at, fail_at = float(th["ece_warn"]), float(th["ece_fail"])
    chance = (
        f"; perfectly calibrated scores reach {m.q95:.3f} or more in 5% of draws of "
        f"{m.sd.data.n:,} rows (p = {m.p_value:.2g})"
        if m.q95 is not None and m.p_value is not None
        else ""
    )
    if status == "pass":
        summary, rec = _pass_text(m, th, with_interval("ece", m.ece, confidence), chance)
        return summary, rec, []
    level = f"failure level of {fail_at:g}" if status == "fail" else f"warning level of {warn_at:g}"
    summary = (
        f"Predicted probabilities are off by {fmt('ece', m.ece.value)} on average "
        f"({m.debiased:.3f} once sampling noise is taken out, clearly above the {level}"
        f"{chance}): {how}."
    )
    rec = (
        "Recalibrate the scores on held-out data (for example scikit-learn's "
        "CalibratedClassifierCV, method 'isotonic' or 'sigmoid') before using them as "
        "probabilities, risks or thresholds."
    )
    return summary, rec, [_worst_bin(status, m.table, target)]


def _pass_text(m: _Measured, th: Mapping[str, Any], ece_txt: str, chance: str) -> tuple[str, str]:
    """Why calibration passes: within chance, not clearly material, or slightly off."""
    warn_at, alpha = float(th["ece_warn"]), float(th["alpha"])
    ece_value, p_value, debiased, debiased_low = (
        m.ece.value or 0.0,
        m.p_value,
        m.debiased,
        m.debiased_low,
    )
    sd = m.sd
    if ece_value >= warn_at and p_value is not None and p_value >= alpha:
        summary = (
            f"Predicted probabilities match observed rates as closely as {rows_text(sd)} "
            f"can show: the expected calibration error is {ece_txt}, within what chance "
            f"gives for perfectly calibrated scores{chance}."
        )
        rec = (
            "No action needed; a larger test set would measure calibration more precisely. "
            "Check calibration again after retraining."
        )
    elif p_value is not None and debiased >= warn_at and debiased_low is not None:
        summary = (
            f"Predicted probabilities may be off: the expected calibration error is "
            f"{ece_txt}, more than chance gives{chance}, and {debiased:.3f} once each bin's "
            f"sampling noise is taken out; but the low end of that figure's interval "
            f"({debiased_low:.3f}) is below the warning level of {warn_at:g}, so "
            f"{rows_text(sd)} cannot show that it is clearly off."
        )
        rec = (
            "No action needed on this evidence; a larger test set would settle it. "
            "Recalibrate (CalibratedClassifierCV) if the scores are used as probabilities "
            "where a few points matter."
        )
    elif ece_value >= warn_at and p_value is not None:
        summary = (
            f"Predicted probabilities are slightly off: the expected calibration error is "
            f"{ece_txt}, more than chance gives{chance}, but {debiased:.3f} once each "
            f"bin's sampling noise is taken out, below the warning level of {warn_at:g}."
        )
        rec = (
            "No action needed; recalibrate (CalibratedClassifierCV) if the scores are used "
            "as probabilities where a few points matter."
        )
    else:
        summary = (
            f"Predicted probabilities match observed rates well: the expected "
            f"calibration error is {ece_txt} over {rows_text(sd)}."
        )
        rec = "No action needed; check calibration again after retraining."
    return summary, rec
