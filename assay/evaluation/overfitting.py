"""``evaluation.overfitting``: the gap between train and test performance."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from assay.core.context import AuditContext
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.evaluation._bootstrap import Interval, metric_samples, percentile_interval, split_data
from assay.evaluation._common import ci_text, fmt, intervals_chart, label, sampling_details
from assay.evaluation._metrics import LOWER_IS_BETTER, MetricPlan, main_metric_name

CHECK_ID = "evaluation.overfitting"


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Overfitting (train/test gap)",
    explanation=(
        "A model that scores much better on the rows it was trained on than on new rows has "
        "memorised its training data instead of learning patterns that carry over, and it "
        "will disappoint in use. This check compares the main metric on train and on test, "
        "each with a confidence interval, and measures the gap between them."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.5"),
    severity="medium",
    thresholds={"gap_warn": 0.05, "gap_fail": 0.15},
    needs=("model", "train"),
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
    conf = s.confidence
    main = main_metric_name(ctx)
    sign = -1.0 if main in LOWER_IS_BETTER else 1.0
    splits = {name: split_data(ctx, name) for name in ("train", "test")}
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
    gap = ivs["gap"]
    gap_value = gap.value if gap.value is not None else 0.0
    gap_low = gap.low if gap.low is not None else gap_value
    warn_at, fail_at = float(th["gap_warn"]), float(th["gap_fail"])
    if gap_value > fail_at:
        status: Status = "fail"
    elif gap_value > warn_at and gap_low > 0:
        status = "warn"
    else:
        status = "pass"

    tr, te = ivs["train"], ivs["test"]
    head = (
        f"{label(main, start=True)} is {fmt(main, tr.value)} on train and "
        f"{fmt(main, te.value)} on test"
    )
    gap_txt = (
        f"a gap of {fmt(main, gap.value, signed=True)} ({ci_text(main, gap, conf, signed=True)})"
    )
    if status == "fail":
        summary = f"{head}, {gap_txt}: the model has largely memorised its training data."
        rec = (
            "Reduce overfitting: regularise or simplify the model (shallower trees, fewer "
            "features, early stopping), get more training data, and check that train and "
            "test come from the same population."
        )
    elif status == "warn":
        summary = f"{head}, {gap_txt}: the model does noticeably better on the data it has seen."
        rec = (
            "Try more regularisation or a simpler model and see whether test performance "
            "holds while the gap shrinks."
        )
    else:
        summary = f"{head}, {gap_txt}: performance carries over from training to new data."
        rec = "No action needed."
    metrics: dict[str, float | None] = {}
    for k, iv in ivs.items():
        metrics.update({k: iv.value, f"{k}_low": iv.low, f"{k}_high": iv.high})
    details = {
        "main_metric": main,
        "gap_definition": (
            "test − train (lower is better for this metric)" if sign < 0 else "train − test"
        ),
        "intervals": {k: iv.to_dict() for k, iv in ivs.items()},
        "independent_bootstraps": True,
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
