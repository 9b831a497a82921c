"""``evaluation.performance``: the task's metrics on test (and train), each with a
bootstrap confidence interval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.core.context import AuditContext
from assay.core.registry import Outcome, register_check
from assay.core.result import Status
from assay.errors import ConfigError
from assay.evaluation._bootstrap import Interval, SplitData, split_data, split_intervals
from assay.evaluation._common import (
    ci_text,
    conf_text,
    fmt,
    interval_metrics,
    intervals_chart,
    label,
    rows_text,
    sampling_details,
    with_interval,
)
from assay.evaluation._metrics import (
    LABEL_METRICS,
    METRIC_LABELS,
    REGRESSION_METRICS,
    SCORE_METRICS,
    UNIT_METRICS,
    main_metric_name,
)

CHECK_ID = "evaluation.performance"


def _limits(th: Mapping[str, Any], key: str, task: str | None) -> dict[str, float]:
    raw = th.get(key) or {}
    if not isinstance(raw, Mapping):
        raise ConfigError(
            f"thresholds.{CHECK_ID}.{key} must map metric names to numbers, e.g. "
            f"{{roc_auc: 0.8}}, not {raw!r}"
        )
    known = REGRESSION_METRICS if task == "regression" else LABEL_METRICS + SCORE_METRICS
    out = {}
    for name, value in raw.items():
        if name not in known:
            raise ConfigError(
                f"thresholds.{CHECK_ID}.{key} names {name!r}, which is not a {task} metric; "
                f"use one of {', '.join(known)}"
            )
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"thresholds.{CHECK_ID}.{key}.{name} must be a number, not {value!r}"
            ) from None
    return out


def _charts(ivs: Mapping[str, Mapping[str, Interval]], confidence: float) -> list[dict[str, Any]]:
    unit = [
        (f"{label(m)} ({s})", iv)
        for s, d in ivs.items()
        for m, iv in d.items()
        if m in UNIT_METRICS or m == "r2"
    ]
    errors = [
        (f"{label(m)} ({s})", iv)
        for s, d in ivs.items()
        for m, iv in d.items()
        if m in ("mae", "rmse")
    ]
    title = f"Metrics with their {conf_text(confidence).replace('CI', 'confidence intervals')}"
    regression = any(m == "r2" for d in ivs.values() for m in d)
    x_label = (
        "R² (higher is better)"
        if regression
        else "score from 0 to 1 (higher is better, except the Brier score)"
    )
    charts = [intervals_chart(title, x_label, unit)]
    if errors:
        charts.append(intervals_chart("Prediction errors", "error in target units", errors))
    return charts


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Model performance",
    explanation=(
        "How well the model predicts on the test data, with the metrics that suit its task: "
        "accuracy, precision, recall, F1 and ROC-AUC for a classifier; R², MAE and RMSE for "
        "a regression model. Each number comes with a 95% confidence interval found by "
        "resampling the test rows (the bootstrap): the narrower it is, the more the number "
        "can be trusted, and a wide one means the test set is too small to tell."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.5"),
    severity="high",
    thresholds={"max_ci_width": 0.10, "min": {}, "max": {}},
    needs=("model",),
)
def performance(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Metrics of the task on test and, when its predictions exist, on train."""
    conf = ctx.settings.confidence
    main = main_metric_name(ctx)
    mins = _limits(th, "min", ctx.task)
    maxs = _limits(th, "max", ctx.task)
    splits: list[SplitData] = [split_data(ctx, "test")]
    if ctx.has("train") and ctx.can_predict("train"):
        splits.append(split_data(ctx, "train"))
    ivs = {sd.split: split_intervals(ctx, sd) for sd in splits}
    test, tiv = splits[0], ivs["test"]
    metrics: dict[str, float | None] = {}
    for split, d in ivs.items():
        metrics.update(interval_metrics("" if split == "test" else "train_", d))

    limits = _judge_limits(tiv, mins, maxs, conf)
    main_iv = tiv[main]
    width = main_iv.width
    max_width = float(th["max_ci_width"])
    wide = width is not None and width > max_width
    failed = [lim for lim in limits if lim["status"] == "fail"]
    unknown = [lim for lim in limits if lim["status"] == "warn"]
    status: Status = "fail" if failed else "warn" if (wide or unknown) else "pass"

    head = f"{label(main, start=True)} on test is"
    if failed:
        summary = failed[0]["message"].rstrip(".")
        if len(failed) > 1:
            summary += f", and {len(failed) - 1} more metric(s) miss their required level"
        summary += "."
        rec = (
            "The model does not meet the level required of it: improve it (more or better "
            "training data, features, tuning) or revisit the requirement before deploying it."
        )
    elif wide:
        summary = (
            f"{head} {fmt(main, main_iv.value)}, but with only {test.data.n:,} test rows "
            f"its {ci_text(main, main_iv, conf)} is too wide to rely on."
        )
        rec = (
            "Collect more labelled test data before relying on this estimate; the interval "
            "narrows roughly with the square root of the number of rows."
        )
    elif unknown:
        summary = (
            f"{head} {with_interval(main, main_iv, conf)}, but a required limit names a "
            "metric that cannot be computed for this model."
        )
        rec = "Remove that limit from the configuration, or give the model's class scores."
    else:
        summary = f"{head} {with_interval(main, main_iv, conf)} over {rows_text(test)}."
        rec = (
            "Report these numbers with their intervals, and read them with the baseline and "
            "overfitting checks before trusting them."
        )
    details = {
        "main_metric": main,
        "metric_labels": {m: METRIC_LABELS[m] for m in tiv},
        "intervals": {s: {m: iv.to_dict() for m, iv in d.items()} for s, d in ivs.items()},
        "main_interval_width": width,
        "interval_too_wide": wide,
        "limits": limits,
        **sampling_details(ctx, splits),
        "charts": _charts(ivs, conf),
    }
    return Outcome(
        status=status, summary=summary, metrics=metrics, recommendation=rec, details=details
    )


def _judge_limits(
    tiv: Mapping[str, Interval],
    mins: Mapping[str, float],
    maxs: Mapping[str, float],
    conf: float,
) -> list[dict[str, Any]]:
    """Each user limit with its verdict: a minimum fails when even the upper bound of the
    interval is below it, a maximum when even the lower bound is above it."""
    out = []
    for kind, bounds in (("minimum", mins), ("maximum", maxs)):
        for name, limit in bounds.items():
            iv = tiv.get(name)
            row: dict[str, Any] = {"metric": name, "kind": kind, "limit": limit}
            if iv is None or iv.value is None:
                out.append({**row, "status": "warn", "message": _unavailable(name, kind)})
                continue
            row.update(iv.to_dict())
            if kind == "minimum":
                best = iv.high if iv.high is not None else iv.value
                bad, word, end = best < limit, "below the required minimum", "top"
            else:
                best = iv.low if iv.low is not None else iv.value
                bad, word, end = best > limit, "above the allowed maximum", "bottom"
            message = (
                f"{label(name, start=True)} on test is {with_interval(name, iv, conf)}, {word} "
                f"of {fmt(name, limit)} even at the {end} of its interval."
                if bad
                else f"{label(name, start=True)} meets its {kind} of {fmt(name, limit)}."
            )
            out.append({**row, "status": "fail" if bad else "pass", "message": message})
    return out


def _unavailable(name: str, kind: str) -> str:
    why = (
        "class scores are needed"
        if name in SCORE_METRICS
        else ("some targets are zero or near zero" if name == "mape" else "it is not defined here")
    )
    return f"The {kind} set for {label(name)} cannot be checked: {why}."
