"""``evaluation.performance``: the task's metrics on test (and train), each with a
bootstrap confidence interval.

The verdict. A user's ``min``/``max`` bound fails the gate when the whole
interval misses it. Otherwise the check warns only when the interval of the
main metric is too wide to use (:func:`judge_precision`): it reaches the
chance level (ROC-AUC 0.5, balanced accuracy one over the number of classes,
R² 0), it is wider than the model's whole margin over chance
(``max_ci_width_relative``), or, for a metric on the 0–1 scale, wider than
``max_ci_width``. An interval of ±0.05 on a thousand rows is information, and
the sentence states its width and the number of test rows either way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.core.context import AuditContext
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Status
from assay.details.evaluation import PerformanceDetails
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
_TOL = 1e-9


def chance_level(metric: str, *, n_classes: int) -> float | None:
    """What a model with no skill scores on ``metric`` (``None`` when it depends on data).

    >>> chance_level("roc_auc", n_classes=2), chance_level("balanced_accuracy", n_classes=4)
    (0.5, 0.25)
    """
    if metric in ("roc_auc",):
        return 0.5
    if metric == "balanced_accuracy":
        return 1.0 / max(n_classes, 1)
    if metric == "r2":
        return 0.0
    return None


def judge_precision(
    value: float | None,
    low: float | None,
    high: float | None,
    chance: float | None,
    *,
    max_width: float | None,
    max_relative_width: float | None,
) -> tuple[Status, str]:
    """Whether an interval ``low``–``high`` around ``value`` is too wide to use.

    ``warn`` when it reaches ``chance``, when its width exceeds ``max_relative_width``
    times the margin ``value − chance``, or when it exceeds ``max_width`` (``None``: that
    rule is off); ``pass`` otherwise, with the reason.

    >>> judge_precision(0.74, 0.69, 0.79, 0.5, max_width=0.15, max_relative_width=1.0)
    ('pass', 'the interval is 0.10 wide')
    >>> judge_precision(0.58, 0.49, 0.66, 0.5, max_width=0.15, max_relative_width=1.0)[0]
    'warn'
    """
    if value is None or low is None or high is None:
        return "pass", "no interval computed"
    width = high - low
    wide = f"the interval is {width:.2f} wide"
    if chance is not None and low <= chance + _TOL:
        return "warn", f"{wide} and reaches the chance level {chance:.2g}"
    if chance is not None and max_relative_width is not None:
        margin = value - chance
        if width > max_relative_width * margin + _TOL:
            times = "" if max_relative_width == 1 else f"{max_relative_width:g}× "
            return (
                "warn",
                f"{wide}, wider than {times}the model's margin over chance ({margin:.2f})",
            )
    if max_width is not None and width > max_width + _TOL:
        return "warn", f"{wide}, more than the {max_width:.2f} tolerated"
    return "pass", wide


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


@dataclass(frozen=True)
class PerformanceParams:
    """Parameters of ``evaluation.performance``."""

    max_ci_width: float = param(
        0.15, "Width of the main metric's interval (0–1 metrics) above which it warns.", gt=0
    )
    max_ci_width_relative: float = param(
        1.0,
        "Interval width, as a multiple of the model's margin over chance, that warns.",
        gt=0,
    )
    min: dict[str, float] = param(
        {}, "Least acceptable value per metric, e.g. {roc_auc: 0.8}; clearly under it fails."
    )
    max: dict[str, float] = param(
        {}, "Largest acceptable value per metric, e.g. {mae: 3.0}; clearly over it fails."
    )


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
    params=PerformanceParams,
    needs=("model",),
    details=PerformanceDetails,
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
    chance = chance_level(main, n_classes=len(ctx.classes or ()))
    precision, why = judge_precision(
        main_iv.value,
        main_iv.low,
        main_iv.high,
        chance,
        max_width=float(th["max_ci_width"]) if main in UNIT_METRICS else None,
        max_relative_width=float(th["max_ci_width_relative"]),
    )
    wide = precision == "warn"
    n_test = test.data.n
    failed = [lim for lim in limits if lim["status"] == "fail"]
    unknown = [lim for lim in limits if lim["status"] == "warn"]
    status: Status = "fail" if failed else "warn" if (wide or unknown) else "pass"

    summary, rec = _summary(main, main_iv, test, conf, failed, unknown, wide, why)
    details = {
        "main_metric": main,
        "metric_labels": {m: METRIC_LABELS[m] for m in tiv},
        "intervals": {s: {m: iv.to_dict() for m, iv in d.items()} for s, d in ivs.items()},
        "main_interval_width": width,
        "interval_too_wide": wide,
        "precision": {
            "status": precision,
            "reason": why,
            "chance_level": chance,
            "test_rows": n_test,
            "rule": "warn when the interval reaches the chance level, is wider than "
            f"{float(th['max_ci_width_relative']):g}× the margin over chance, or (0–1 metrics) "
            f"wider than {float(th['max_ci_width']):g}",
        },
        "limits": limits,
        **sampling_details(ctx, splits),
        "charts": _charts(ivs, conf),
    }
    return Outcome(
        status=status, summary=summary, metrics=metrics, recommendation=rec, details=details
    )


def _summary(
    main: str,
    main_iv: Interval,
    test: SplitData,
    conf: float,
    failed: list[dict[str, Any]],
    unknown: list[dict[str, Any]],
    wide: bool,
    why: str,
) -> tuple[str, str]:
    """(summary, recommendation): a missed limit first, then an interval too wide to rely
    on (``why``), then a limit that cannot be checked, else the main metric."""
    n_test = test.data.n
    head = f"{label(main, start=True)} on test is"
    if failed:
        summary = f"{failed[0]['message'].rstrip('.')} (over {rows_text(test)})"
        if len(failed) > 1:
            summary += f", and {len(failed) - 1} more metric(s) miss their required level"
        summary += "."
        rec = (
            "The model does not meet the level required of it: improve it (more or better "
            "training data, features, tuning) or revisit the requirement before deploying it."
        )
    elif wide:
        summary = (
            f"{head} {fmt(main, main_iv.value)}, but with only {n_test:,} test rows "
            f"its {ci_text(main, main_iv, conf)} is too wide to rely on: {why}."
        )
        rec = (
            "Collect more labelled test data before relying on this estimate; the interval "
            "narrows roughly with the square root of the number of rows."
        )
    elif unknown:
        summary = (
            f"{head} {_with_width(main, main_iv, conf)} over {rows_text(test)}, but a required "
            "limit names a "
            "metric that cannot be computed for this model."
        )
        rec = "Remove that limit from the configuration, or give the model's class scores."
    else:
        summary = f"{head} {_with_width(main, main_iv, conf)} over {rows_text(test)}."
        rec = (
            "Report these numbers with their intervals, and read them with the baseline and "
            "overfitting checks before trusting them."
        )
    return summary, rec


def _with_width(name: str, iv: Interval, confidence: float) -> str:
    """``'0.91 (95% CI 0.90–0.92, 0.02 wide)'``."""
    text = with_interval(name, iv, confidence)
    if iv.width is None:
        return text
    return f"{text[:-1]}, {iv.width:.2f} wide)"


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
                f"{label(name, start=True)} on test is {_with_width(name, iv, conf)}, {word} "
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
