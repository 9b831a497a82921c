"""``evaluation.baseline_comparison``: does the model beat simple baselines?

Two baselines are fitted on the training data: a dummy that ignores the
features (the most frequent class, or the mean target) and a plain linear
model (logistic regression or ridge, on imputed and scaled numbers and one-hot
categories). All three are scored on the same test rows and the same
bootstrap resamples, so each difference gets a paired interval.

The verdict is :func:`judge_dummy` and :func:`judge_linear` (numbers in, status
out). A model that is itself linear (a ``sklearn.linear_model`` estimator,
possibly at the end of a pipeline, or one whose predictions equal the linear
baseline's within ``same_kind_tolerance``) is not compared with its own kind:
it passes that comparison, and is still compared with the dummy.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import (
    SPLIT_STREAMS,
    Interval,
    SplitData,
    paired_comparison,
    sample_rows,
    split_data,
)
from assay.evaluation._common import (
    ci_text,
    fmt,
    intervals_chart,
    label,
    sampling_details,
)
from assay.evaluation._metrics import EvalData, encode_labels, main_metric_name

CHECK_ID = "evaluation.baseline_comparison"
_NUMERIC = ("numeric",)
_CATEGORICAL = ("categorical", "boolean")
_MISSING = "(missing)"


def _feature_columns(ctx: AuditContext) -> tuple[list[str], list[str], list[str]]:
    """Numeric and categorical columns a linear baseline can use, and those it ignores."""
    features = list(ctx.schema.features)
    used_by_model = ctx.model.feature_names if ctx.model is not None else None
    if used_by_model is not None:
        features = [c for c in features if c in set(used_by_model)]
    train_cols = set(ctx.frame("train").columns)
    features = [c for c in features if c in train_cols]
    types = ctx.schema.types
    num = [c for c in features if types.get(c) in _NUMERIC]
    cat = [c for c in features if types.get(c) in _CATEGORICAL]
    ignored = [c for c in features if c not in num and c not in cat]
    return num, cat, ignored


def _design(df: pl.DataFrame, num: list[str], cat: list[str]) -> Any:
    exprs = [pl.col(c).cast(pl.Float64, strict=False) for c in num]
    exprs += [pl.col(c).cast(pl.String).fill_null(_MISSING) for c in cat]
    return df.select(exprs).to_pandas()


def _linear_model(task: str, num: list[str], cat: list[str]) -> Any:
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if num:
        parts.append(
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), num)
        )
    if cat:
        onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=30)
        parts.append(("cat", onehot, cat))
    estimator = Ridge(alpha=1.0) if task == "regression" else LogisticRegression(max_iter=500)
    return make_pipeline(ColumnTransformer(parts), estimator)


def _aligned_proba(model: Any, X: Any, classes: list[Any]) -> np.ndarray:
    raw = np.asarray(model.predict_proba(X), dtype=float)
    codes = encode_labels(np.asarray(model.classes_), classes)
    out = np.zeros((raw.shape[0], len(classes)))
    for j, code in enumerate(codes):
        if code >= 0:
            out[:, code] = raw[:, j]
    return out


def _baseline_data(
    ctx: AuditContext, model: Any, X: Any, y_test: Any, use_scores: bool
) -> EvalData:
    proba = _aligned_proba(model, X, ctx.classes) if use_scores else None
    return EvalData.from_arrays(
        ctx.task or "regression",
        y_test,
        model.predict(X),
        proba,
        classes=ctx.classes,
        positive_class=ctx.positive_class,
    )


_LINEAR_MODULES = ("sklearn.linear_model", "sklearn.svm._classes")
_LINEAR_SVM = ("LinearSVC", "LinearSVR")


def _final_estimator(model: Any) -> Any:
    """The last step of (possibly nested) scikit-learn pipelines."""
    for _ in range(10):
        steps = getattr(model, "steps", None)
        if not isinstance(steps, list) or not steps:
            return model
        model = steps[-1][1]
    return model


def same_kind_as_linear(model: Any) -> bool:
    """Whether ``model`` is a linear model by its class (the last pipeline step).

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> same_kind_as_linear(make_pipeline(StandardScaler(), LogisticRegression()))
    True
    """
    est = _final_estimator(model)
    module = type(est).__module__
    if module.startswith("sklearn.linear_model"):
        return True
    return module.startswith("sklearn.svm") and type(est).__name__ in _LINEAR_SVM


def prediction_distance(model: EvalData, other: EvalData, y_scale: float) -> float:
    """How far two models' test predictions are apart, 0 when identical.

    Class scores: the mean total-variation distance between the two rows of
    probabilities. Labels only: the share of rows predicted differently.
    Regression: the mean absolute difference over ``y_scale`` (the target's
    standard deviation).
    """
    if model.task == "regression":
        diff = np.abs(np.asarray(model.pred, float) - np.asarray(other.pred, float))
        return float(diff.mean() / y_scale) if y_scale > 0 else float(diff.mean())
    if model.proba is not None and other.proba is not None:
        return float(0.5 * np.abs(model.proba - other.proba).sum(axis=1).mean())
    return float(np.mean(model.pred != other.pred))


def judge_dummy(diff: float | None, low: float | None) -> Status:
    """``fail`` unless the model beats the dummy: its difference's lower bound is above 0.

    Without an interval (no bootstrap) the point estimate is judged.

    >>> judge_dummy(0.2, 0.1), judge_dummy(0.2, 0.0)
    ('pass', 'fail')
    """
    bound = low if low is not None else diff
    return "pass" if bound is not None and bound > 0 else "fail"


def judge_linear(
    diff: float | None, low: float | None, high: float | None, *, material: float
) -> Status:
    """``warn`` when the linear baseline is clearly and materially better than the model.

    ``diff`` is the model's metric minus the linear baseline's, ``low``/``high``
    its interval. Warns when the whole interval is below zero (statistically
    clear) and the baseline leads by at least ``material`` (worth acting on).
    Without an interval, the point estimate alone must lead by ``material``.

    >>> judge_linear(-0.05, -0.08, -0.02, material=0.01)
    'warn'
    >>> judge_linear(0.0, 0.0, 0.0, material=0.01)
    'pass'
    """
    if diff is None:
        return "pass"
    clear = high < 0 if high is not None else True
    return "warn" if clear and -diff >= material else "pass"


def _fit_baselines(
    ctx: AuditContext, test: SplitData
) -> tuple[dict[str, EvalData], dict[str, Any]]:
    """Fit the dummy and the linear baseline on train; their test data and a description."""
    from sklearn.dummy import DummyClassifier, DummyRegressor

    s = ctx.settings
    train = ctx.frame("train")
    rows = sample_rows(
        train.height, s.max_rows_model_checks, seed=s.seed, stream=SPLIT_STREAMS["train"]
    )
    if rows is not None:
        train = train[rows]
    y_train = train.get_column(ctx.target_column).to_numpy()
    test_frame = ctx.frame("test") if test.rows is None else ctx.frame("test")[test.rows]
    y_test = test_frame.get_column(ctx.target_column).to_numpy()
    task = ctx.task or "regression"
    use_scores = task != "regression" and test.data.proba is not None
    dummy: Any = (
        DummyRegressor(strategy="mean")
        if task == "regression"
        else DummyClassifier(strategy="most_frequent")
    )
    dummy.fit(np.zeros((len(y_train), 1)), y_train)
    datas = {"dummy": _baseline_data(ctx, dummy, np.zeros((test.data.n, 1)), y_test, use_scores)}
    num, cat, ignored = _feature_columns(ctx)
    about: dict[str, Any] = {
        "dummy": "always predicts the mean target"
        if task == "regression"
        else "always predicts the most frequent class of train",
        "features_used": num + cat,
        "features_ignored": ignored,
        "n_rows_fit": len(y_train),
        "train_sampled": rows is not None,
    }
    if not num and not cat:
        about["linear_error"] = "no numeric, categorical or boolean feature to fit it on"
        return datas, about
    linear = _linear_model(task, num, cat)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            linear.fit(_design(train, num, cat), y_train)
            datas["linear"] = _baseline_data(
                ctx, linear, _design(test_frame, num, cat), y_test, use_scores
            )
    except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
        about["linear_error"] = f"{type(exc).__name__}: {exc}"
        return datas, about
    name = "ridge regression" if task == "regression" else "logistic regression"
    about["linear"] = (
        f"{name} on {len(num)} numeric column(s) (median-imputed, scaled) and "
        f"{len(cat)} categorical column(s) (one-hot)"
    )
    return datas, about


@dataclass(frozen=True)
class BaselineParams:
    """Parameters of ``evaluation.baseline_comparison``."""

    linear_material: float = param(
        0.01, "Clear lead of the linear baseline on the main metric from which it warns.", ge=0
    )
    same_kind_tolerance: float = param(
        0.02,
        "Prediction distance to the linear baseline under which the model is linear too.",
        ge=0,
    )


@dataclass(frozen=True)
class BaselineComparisonDetails(Details):
    """What ``evaluation.baseline_comparison`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    scores: Mapping[str, Any]
    differences: Mapping[str, Any]
    baselines: Mapping[str, Any]
    features_used: tuple[str, ...]
    features_ignored: tuple[Any, ...]
    n_rows_fit: int
    train_sampled: bool
    same_kind_as_linear: bool
    prediction_distance_to_linear: float
    linear_rule: str
    paired: bool
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, Any]
    sampled: bool


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Comparison with simple baselines",
    explanation=(
        "A model is only useful if it does better than the simplest thing one could do. "
        "This check trains two baselines on the same training data: one that ignores the "
        "features (always the most common class, or the average value) and a plain linear "
        "model. All three are scored on the same test rows; a model that cannot beat the "
        "first has learnt nothing, and one that does no better than the second may not be "
        "worth its complexity."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.13"),
    severity="high",
    params=BaselineParams,
    needs=("model", "train"),
    details=BaselineComparisonDetails,
)
def baseline_comparison(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Paired bootstrap of the model's main metric minus each baseline's."""
    s = ctx.settings
    conf = s.confidence
    main = main_metric_name(ctx)
    test = split_data(ctx, "test")
    baselines, about = _fit_baselines(ctx, test)
    scores, diffs = paired_comparison(
        {"model": test.data, **baselines},
        main,
        reference="model",
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=conf,
        stream=test.stream,
    )
    material = float(th["linear_material"])
    names = {
        "dummy": "always predicting "
        + ("the mean" if ctx.task == "regression" else "the most common class"),
        "linear": "a simple linear model",
    }
    findings: list[Finding] = []
    d = diffs["dummy"]
    dummy_status = judge_dummy(d.value, d.low)
    beats_dummy = dummy_status == "pass"
    findings.append(_finding(dummy_status, main, names["dummy"], scores, "dummy", d, conf))
    status: Status = dummy_status
    same_kind = ctx.model is not None and same_kind_as_linear(ctx.model.model)
    distance = None
    if "linear" in baselines:
        y_scale = float(np.std(test.data.y)) if ctx.task == "regression" else 1.0
        distance = prediction_distance(test.data, baselines["linear"], y_scale)
        same_kind = same_kind or distance <= float(th["same_kind_tolerance"])
    linear_finding, linear_bad = _linear_finding(
        main, names, scores, diffs, about, same_kind, th, conf
    )
    findings.append(linear_finding)
    if linear_bad and status == "pass":
        status = "warn"
    summary, rec = _summary(main, names, scores, diffs, beats_dummy, linear_bad, same_kind, conf)

    metrics = _metrics(scores, diffs)
    details = {
        "main_metric": main,
        "scores": {k: iv.to_dict() for k, iv in scores.items()},
        "differences": {k: iv.to_dict() for k, iv in diffs.items()},
        "baselines": {k: about[k] for k in ("dummy", "linear") if k in about},
        **{k: v for k, v in about.items() if k not in ("dummy", "linear")},
        "same_kind_as_linear": bool(same_kind),
        "prediction_distance_to_linear": distance,
        "linear_rule": (
            "warn when the linear baseline leads by at least "
            f"{material:g} and the difference's interval excludes zero"
        ),
        "paired": True,
        **sampling_details(ctx, [test]),
        "charts": [
            intervals_chart(
                f"{label(main, start=True)} of the model and its baselines on test",
                label(main),
                [(k if k == "model" else f"{k} baseline", iv) for k, iv in scores.items()],
            )
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


def _linear_finding(
    main: str,
    names: Mapping[str, str],
    scores: Mapping[str, Interval],
    diffs: Mapping[str, Interval],
    about: Mapping[str, Any],
    same_kind: bool,
    th: Mapping[str, Any],
    conf: float,
) -> tuple[Finding, bool]:
    """The linear baseline's finding, and whether it does clearly better (a warning).
    A model of the linear baseline's own kind is listed, not judged against it."""
    if "linear" in diffs and same_kind:
        dl = diffs["linear"]
        finding = Finding(
            status="pass",
            split="test",
            group="linear baseline",
            metrics={
                "model": scores["model"].value,
                "baseline": scores["linear"].value,
                "difference": dl.value,
                "difference_low": dl.low,
                "difference_high": dl.high,
            },
            message=(
                "The model is itself a linear model, the kind of the linear baseline, so "
                "it is not judged against it (difference "
                f"{fmt(main, dl.value, signed=True)}, "
                f"{ci_text(main, dl, conf, signed=True)})."
            ),
        )
        return finding, False
    if "linear" in diffs:
        dl = diffs["linear"]
        linear_status = judge_linear(
            dl.value, dl.low, dl.high, material=float(th["linear_material"])
        )
        finding = _finding(linear_status, main, names["linear"], scores, "linear", dl, conf)
        return finding, linear_status == "warn"
    finding = Finding(
        status="pass",
        group="linear baseline",
        message="The linear baseline could not be "
        f"fitted ({about['linear_error']}); only the dummy is compared.",
    )
    return finding, False


def _summary(
    main: str,
    names: Mapping[str, str],
    scores: Mapping[str, Interval],
    diffs: Mapping[str, Interval],
    beats_dummy: bool,
    linear_bad: bool,
    same_kind: bool,
    conf: float,
) -> tuple[str, str]:
    """(summary, recommendation): no better than the dummy, worse than the linear model,
    of the linear model's kind, or better than both."""
    d = diffs["dummy"]
    m = scores["model"]
    if not beats_dummy:
        summary = (
            f"The model does no better than {names['dummy']}: "
            f"{label(main)} {fmt(main, m.value)} against "
            f"{fmt(main, scores['dummy'].value)} (difference "
            f"{fmt(main, d.value, signed=True)}, {ci_text(main, d, conf, signed=True)})."
        )
        rec = (
            "The model has learnt nothing usable from its features: check the labels, the "
            "features given to it, and how it was trained before going further."
        )
    elif linear_bad:
        dl = diffs["linear"]
        summary = (
            f"A simple linear model does better than this model: {label(main)} "
            f"{fmt(main, m.value)} against {fmt(main, scores['linear'].value)} for the "
            f"linear model (difference {fmt(main, dl.value, signed=True)}, "
            f"{ci_text(main, dl, conf, signed=True)})."
        )
        rec = (
            "Consider the linear model instead: it is more accurate here, simpler to explain "
            "and cheaper to run; otherwise show what the extra complexity buys."
        )
    elif same_kind and "linear" in scores:
        summary = (
            f"The model beats {names['dummy']} ({label(main)} {fmt(main, m.value)} against "
            f"{fmt(main, scores['dummy'].value)}); it is itself a linear model, the kind of "
            f"the linear baseline ({fmt(main, scores['linear'].value)}), so it is not judged "
            "against it."
        )
        rec = "No action needed; keep this comparison in the model's documentation."
    else:
        extra = (
            f" and {fmt(main, scores['linear'].value)} for a simple linear model"
            if "linear" in scores
            else ""
        )
        summary = (
            f"The model beats simple baselines: {label(main)} {fmt(main, m.value)} "
            f"against {fmt(main, scores['dummy'].value)} for {names['dummy']}{extra}."
        )
        rec = "No action needed; keep this comparison in the model's documentation."
    return summary, rec


def _metrics(
    scores: Mapping[str, Interval], diffs: Mapping[str, Interval]
) -> dict[str, float | None]:
    """Each score, and the model minus each baseline with its interval."""
    metrics: dict[str, float | None] = {"model": scores["model"].value}
    for k, iv in scores.items():
        if k != "model":
            metrics[k] = iv.value
    for k, iv in diffs.items():
        metrics[f"model_minus_{k}"] = iv.value
        metrics[f"model_minus_{k}_low"] = iv.low
        metrics[f"model_minus_{k}_high"] = iv.high
    return metrics


def _lower(iv: Interval) -> float | None:
    return iv.low if iv.low is not None else iv.value


def _finding(
    status: Status,
    main: str,
    name: str,
    scores: Mapping[str, Interval],
    key: str,
    diff: Interval,
    conf: float,
) -> Finding:
    low = _lower(diff)
    if key == "dummy":
        verb = "beats" if status == "pass" else "does not beat"
    elif status != "pass":
        verb = "does clearly worse than"
    else:
        verb = "beats" if low is not None and low > 0 else "is not clearly different from"
    return Finding(
        status=status,
        split="test",
        group=f"{key} baseline",
        metrics={
            "model": scores["model"].value,
            "baseline": scores[key].value,
            "difference": diff.value,
            "difference_low": diff.low,
            "difference_high": diff.high,
        },
        message=(
            f"The model {verb} {name} ({label(main)} {fmt(main, scores['model'].value)} "
            f"against {fmt(main, scores[key].value)}; difference "
            f"{fmt(main, diff.value, signed=True)}, "
            f"{ci_text(main, diff, conf, signed=True)})."
        ),
    )
