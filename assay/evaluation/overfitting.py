"""``evaluation.overfitting``: the gap between train and test performance.

A gap alone is how most good boosted or forest models look, so it warns. The
gate fails (#14) only when the overfitting hurts: the gap is clearly material
(its interval above ``gap_fail``) and on test the model is no better than
always predicting the most common class (or the mean), or clearly and materially
worse than a plain linear model fitted on the same rows
(``linear_loss_fail``); or when the gap is enormous (its interval above
``gap_fail_alone``). The decision is the pure :func:`judge_overfitting`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.evaluation._bootstrap import (
    Interval,
    metric_samples,
    paired_comparison,
    percentile_interval,
    split_data,
)
from assay.evaluation._common import ci_text, fmt, intervals_chart, label, sampling_details
from assay.evaluation._metrics import LOWER_IS_BETTER, MetricPlan, main_metric_name

CHECK_ID = "evaluation.overfitting"
_Z95 = 1.959964


@dataclass(frozen=True)
class OverfitVerdict:
    """What :func:`judge_overfitting` decided: status, why, and the p value of no gap."""

    status: Status
    reason: str  # none | gap | huge_gap | no_better_than_dummy | worse_than_linear
    p: float | None


def judge_overfitting(
    gap: float,
    gap_low: float | None,
    gap_high: float | None,
    *,
    gap_warn: float,
    gap_fail: float,
    gap_fail_alone: float,
    linear_loss_fail: float,
    model_minus_dummy_low: float | None = None,
    model_minus_linear: float | None = None,
    model_minus_linear_high: float | None = None,
) -> OverfitVerdict:
    """Status of a train/test gap (larger is worse), from numbers only.

    ``fail`` when the gap's interval is above ``gap_fail_alone``; or above
    ``gap_fail`` and the model is no better than the dummy on test (the lower
    bound of model − dummy is not above 0) or clearly worse than the linear
    baseline by at least ``linear_loss_fail`` (the upper bound of model − linear
    below 0). ``warn`` when the gap reaches ``gap_warn`` with its interval above
    0. The p value is of "no gap" (one-sided, normal from the interval).

    >>> judge_overfitting(0.3, 0.25, 0.35, gap_warn=0.05, gap_fail=0.15,
    ...                   gap_fail_alone=0.4, linear_loss_fail=0.02).status
    'warn'
    >>> judge_overfitting(0.3, 0.25, 0.35, gap_warn=0.05, gap_fail=0.15, gap_fail_alone=0.4,
    ...                   linear_loss_fail=0.02, model_minus_dummy_low=-0.01).reason
    'no_better_than_dummy'
    """
    low = gap if gap_low is None else gap_low
    p = None
    if gap_low is not None and gap_high is not None and gap_high > gap_low:
        from scipy.stats import norm

        se = (gap_high - gap_low) / (2 * _Z95)
        p = float(norm.sf(gap / se))
    elif math.isfinite(gap):
        p = 0.0 if gap > 0 else 1.0
    if low > gap_fail:
        if model_minus_dummy_low is not None and model_minus_dummy_low <= 0:
            return OverfitVerdict("fail", "no_better_than_dummy", p)
        if (
            model_minus_linear is not None
            and model_minus_linear_high is not None
            and model_minus_linear_high < 0
            and -model_minus_linear >= linear_loss_fail
        ):
            return OverfitVerdict("fail", "worse_than_linear", p)
    if low > gap_fail_alone:
        return OverfitVerdict("fail", "huge_gap", p)
    if gap >= gap_warn and low > 0:
        return OverfitVerdict("warn", "gap", p)
    return OverfitVerdict("pass", "none", p)


@dataclass(frozen=True)
class OverfittingParams:
    """Parameters of ``evaluation.overfitting``."""

    gap_warn: float = param(
        0.05, "Train-minus-test gap of the main metric that, clearly reached, warns.", ge=0
    )
    gap_fail: float = param(
        0.15,
        "Gap whose interval above it fails when the model also does no better on test.",
        ge=0,
    )
    gap_fail_alone: float = param(0.4, "Gap whose interval above it fails on its own.", ge=0)
    linear_loss_fail: float = param(
        0.02, "Lead of a plain linear model on test that, with a large gap, fails.", ge=0
    )


@dataclass(frozen=True)
class OverfittingDetails(Details):
    """What ``evaluation.overfitting`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    gap_definition: str
    intervals: Mapping[str, Any]
    independent_bootstraps: bool
    verdict_reason: str
    baselines: Mapping[str, Any]
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, Any]
    sampled: bool


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Overfitting (train/test gap)",
    explanation=(
        "A model that scores much better on the rows it was trained on than on new rows has "
        "memorised its training data instead of learning patterns that carry over, and it "
        "will disappoint in use. This check compares the main metric on train and on test, "
        "each with a confidence interval, and measures the gap between them. Policy: a clear "
        "gap warns; it fails the gate only when it hurts (the gap's interval is above "
        "gap_fail and on test the model is no better than a dummy, or clearly worse than a "
        "plain linear model by linear_loss_fail) or when the gap's interval is above "
        "gap_fail_alone."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.5"),
    severity="medium",
    params=OverfittingParams,
    needs=("model", "train"),
    details=OverfittingDetails,
)
def overfitting(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Main metric on train minus on test (reversed for error metrics), with intervals."""
    if not ctx.can_predict("train"):
        cols = ", ".join(c for c in (ctx.prediction_column, *ctx.score_columns) if c)
        raise SkipCheck(
            f"the prediction column(s) {cols} are not in the training data, so performance on "
            "train cannot be measured; add them to train or pass the model itself"
        )
    s = ctx.settings
    main = main_metric_name(ctx)
    sign = -1.0 if main in LOWER_IS_BETTER else 1.0
    splits = {name: split_data(ctx, name) for name in ("train", "test")}
    ivs = _gap_intervals(splits, main, sign, s)
    gap = ivs["gap"]
    gap_value = gap.value if gap.value is not None else 0.0
    gap_low = gap.low if gap.low is not None else gap_value
    # The baselines are fitted only when the gap is material enough for them to matter.
    base: dict[str, Interval] = {}
    base_scores: dict[str, Interval] = {}
    if gap_low > float(th["gap_fail"]):
        base_scores, base = _baselines(ctx, splits["test"], main)
    verdict = judge_overfitting(
        gap_value,
        gap.low,
        gap.high,
        gap_warn=float(th["gap_warn"]),
        gap_fail=float(th["gap_fail"]),
        gap_fail_alone=float(th["gap_fail_alone"]),
        linear_loss_fail=float(th["linear_loss_fail"]),
        model_minus_dummy_low=base["dummy"].low if "dummy" in base else None,
        model_minus_linear=base["linear"].value if "linear" in base else None,
        model_minus_linear_high=base["linear"].high if "linear" in base else None,
    )
    status: Status = verdict.status

    tr, te = ivs["train"], ivs["test"]
    summary, rec = _summary(ctx, main, ivs, verdict, base, base_scores)
    metrics: dict[str, float | None] = {}
    for k, iv in ivs.items():
        metrics.update({k: iv.value, f"{k}_low": iv.low, f"{k}_high": iv.high})
    metrics["p_value"] = verdict.p
    for k, iv in base.items():
        metrics.update({f"model_minus_{k}": iv.value, f"model_minus_{k}_low": iv.low})
        metrics[f"model_minus_{k}_high"] = iv.high
    details = {
        "main_metric": main,
        "gap_definition": (
            "test − train (lower is better for this metric)" if sign < 0 else "train − test"
        ),
        "intervals": {k: iv.to_dict() for k, iv in ivs.items()},
        "independent_bootstraps": True,
        "verdict_reason": verdict.reason,
        "baselines": {k: iv.to_dict() for k, iv in base_scores.items()},
        **sampling_details(ctx, splits.values()),
        "charts": [
            intervals_chart(
                f"{label(main, start=True)} on train and test",
                label(main),
                [("train", tr), ("test", te)],
            )
        ],
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        recommendation=rec,
        details=details,
    )


def _gap_intervals(
    splits: Mapping[str, Any], main: str, sign: float, s: Any
) -> dict[str, Interval]:
    """The main metric on train and on test, and the gap (train minus test, error
    metrics reversed), each with its bootstrap interval."""
    conf = s.confidence
    points: dict[str, float] = {}
    samples: dict[str, np.ndarray] = {}
    for name, sd in splits.items():
        plan = MetricPlan(sd.data, [main])
        points[name] = float(plan(np.ones((1, sd.data.n)))[main][0])
        if s.n_bootstrap > 0:
            samples[name] = metric_samples(
                sd.data, [main], n_resamples=s.n_bootstrap, seed=s.seed, stream=sd.stream
            )[main]
    # The two splits are resampled independently; their difference, resample by resample,
    # is a draw of the gap.
    points["gap"] = sign * (points["train"] - points["test"])
    if samples:
        samples["gap"] = sign * (samples["train"] - samples["test"])
    ivs = {
        k: Interval(v, *percentile_interval(samples[k], v, confidence=conf))
        if samples
        else Interval(v)
        for k, v in points.items()
    }
    return ivs


def _summary(
    ctx: AuditContext,
    main: str,
    ivs: Mapping[str, Interval],
    verdict: Any,
    base: Mapping[str, Interval],
    base_scores: Mapping[str, Interval],
) -> tuple[str, str]:
    """(summary, recommendation) for the verdict, with its reason in words."""
    conf = ctx.settings.confidence
    status, gap = verdict.status, ivs["gap"]
    tr, te = ivs["train"], ivs["test"]
    head = (
        f"{label(main, start=True)} is {fmt(main, tr.value)} on train and "
        f"{fmt(main, te.value)} on test"
    )
    gap_txt = (
        f"a gap of {fmt(main, gap.value, signed=True)} ({ci_text(main, gap, conf, signed=True)})"
    )
    if status == "fail":
        why = {
            "huge_gap": "the model has largely memorised its training data",
            "no_better_than_dummy": (
                "the model has memorised its training data and does no better on new data "
                "than always predicting "
                + ("the mean" if ctx.task == "regression" else "the most common class")
                + f" ({fmt(main, base_scores['dummy'].value)})"
                if "dummy" in base_scores
                else "the model has memorised its training data"
            ),
            "worse_than_linear": (
                "the model has memorised its training data and does worse on new data than a "
                f"plain linear model ({fmt(main, base_scores['linear'].value)}, difference "
                f"{ci_text(main, base['linear'], conf, signed=True)})"
                if "linear" in base
                else "the model has memorised its training data"
            ),
        }[verdict.reason]
        summary = f"{head}, {gap_txt}: {why}."
        rec = (
            "Reduce overfitting: regularise or simplify the model (shallower trees, fewer "
            "features, early stopping), get more training data, and check that train and "
            "test come from the same population."
        )
    elif status == "warn":
        summary = f"{head}, {gap_txt}: the model does noticeably better on the data it has seen" + (
            f", though on test it still beats a plain linear model "
            f"({fmt(main, base_scores['linear'].value)})."
            if "linear" in base_scores
            and base["linear"].value is not None
            and base["linear"].value > 0
            else "."
        )
        rec = (
            "Try more regularisation or a simpler model and see whether test performance "
            "holds while the gap shrinks."
        )
    else:
        summary = f"{head}, {gap_txt}: performance carries over from training to new data."
        rec = "No action needed."
    return summary, rec


def _baselines(
    ctx: AuditContext, test: Any, main: str
) -> tuple[dict[str, Interval], dict[str, Interval]]:
    """Test scores of the dummy and linear baselines, and model − baseline (paired)."""
    from assay.evaluation.baseline import _fit_baselines

    s = ctx.settings
    datas, _ = _fit_baselines(ctx, test)
    scores, diffs = paired_comparison(
        {"model": test.data, **datas},
        main,
        reference="model",
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        stream=test.stream,
    )
    scores.pop("model", None)
    return scores, diffs
