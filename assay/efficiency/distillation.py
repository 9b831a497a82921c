"""``efficiency.distillation``: could a much smaller model do the same job?

Three small students are trained on the training rows to reproduce the
model's own predictions there (its predicted classes, or its predicted values
for regression), not the true labels: a shallow decision tree, a linear model
and a small gradient-boosted model. On the test rows each is compared with the
model (the teacher): fidelity (how often it predicts what the teacher does;
R² against the teacher for regression), the main metric on the same bootstrap
resamples (paired), latency, throughput, size and cost. The fastest student
that keeps the teacher's quality is named as the best trade-off.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from assay.core.context import AuditContext
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.efficiency._cost import (
    COST_ASSUMPTION,
    DEFAULT_INSTANCES,
    fmt_usd,
    machine_cores,
    resolve_instances,
)
from assay.efficiency._timing import Runner, one_thread
from assay.efficiency._variants import (
    Variant,
    align_proba,
    bars_chart,
    change_text,
    eval_data,
    fidelity,
    fmt_bytes,
    fmt_rate,
    fmt_share,
    fmt_times,
    measure_variants,
    model_features,
    onnx_feed_from_polars,
    onnx_runner,
    prediction_method,
    python_runner,
    require_model,
    serialized_size,
    variant_metrics,
    variant_rows,
)
from assay.evaluation._bootstrap import SPLIT_STREAMS, sample_rows, split_data
from assay.evaluation._common import fmt, intervals_chart, label, sampling_details
from assay.evaluation._metrics import main_metric_name

CHECK_ID = "efficiency.distillation"
_MISSING = "(missing)"
SPEEDUP_MIN = 1.2
"""A student must score at least this many times the teacher's rows per second to be
called faster (smaller differences are within the noise of timing)."""


def _columns(ctx: AuditContext) -> tuple[list[str], list[str], list[str]]:
    """Numeric and categorical columns the students learn from, and those left out."""
    features = list(ctx.schema.features)
    used = ctx.model.feature_names if ctx.model is not None else None
    if used is not None:
        features = [c for c in features if c in set(used)]
    features = [c for c in features if c in ctx.frame("train").columns]
    types = ctx.schema.types
    num = [c for c in features if types.get(c) in ("numeric", "boolean")]
    cat = [c for c in features if types.get(c) == "categorical"]
    return num, cat, [c for c in features if c not in num and c not in cat]


def _design(df: pl.DataFrame, num: list[str], cat: list[str]) -> Any:
    exprs = [pl.col(c).cast(pl.Float64, strict=False) for c in num]
    exprs += [pl.col(c).cast(pl.String).fill_null(_MISSING) for c in cat]
    return df.select(exprs).to_pandas()


def _students(task: str, num: list[str], cat: list[str], th: Mapping[str, Any], seed: int):
    """``{key: (label, short label, unfitted pipeline)}`` for the task."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    def trees_prep() -> Any:
        parts: list[Any] = [("num", "passthrough", num)] if num else []
        if cat:
            enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
            parts.append(("cat", enc, cat))
        return ColumnTransformer(parts)

    def linear_prep() -> Any:
        parts: list[Any] = []
        if num:
            scaled = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
            parts.append(("num", scaled, num))
        if cat:
            onehot = OneHotEncoder(handle_unknown="infrequent_if_exist", max_categories=20)
            parts.append(("cat", onehot, cat))
        return ColumnTransformer(parts)

    depth = int(th["tree_depth"])
    iters, leaves = int(th["boosted_iterations"]), int(th["boosted_leaves"])
    regression = task == "regression"
    tree = (DecisionTreeRegressor if regression else DecisionTreeClassifier)(
        max_depth=depth, min_samples_leaf=20, random_state=seed
    )
    linear = Ridge(alpha=1.0) if regression else LogisticRegression(max_iter=300)
    boosted = (HistGradientBoostingRegressor if regression else HistGradientBoostingClassifier)(
        max_iter=iters, max_leaf_nodes=leaves, early_stopping=False, random_state=seed
    )
    linear_name = "ridge" if regression else "logistic regression"
    return {
        "student_tree": (
            f"shallow tree (depth {depth})",
            f"tree d{depth}",
            make_pipeline(trees_prep(), tree),
        ),
        "student_linear": (
            f"linear model ({linear_name})",
            "linear",
            make_pipeline(linear_prep(), linear),
        ),
        "student_boosted": (
            f"small boosted trees ({iters} × {leaves} leaves)",
            f"boosted {iters}×{leaves}",
            make_pipeline(trees_prep(), boosted),
        ),
    }


def _teacher(ctx: AuditContext, test_rows: Any, data: Any) -> Variant:
    model = ctx.model
    assert model is not None
    X = model_features(ctx, "test", test_rows)
    if model.kind == "onnx":
        feed = onnx_feed_from_polars(model.model, X)
        runner: Runner = onnx_runner("teacher", model.model, feed, threads=machine_cores())
        size, note = None, "an ONNX session (not sized)"
    else:
        method = prediction_method(ctx, model.model)
        runner = python_runner("teacher", model.model, X.to_pandas(), method)
        size, note = serialized_size(model.model), "pickled in memory"
    return Variant("teacher", "the model (teacher)", runner, data, size, note=note, short="model")


def _speedup(v: Variant | None, teacher: Variant) -> float | None:
    """Throughput per thread of ``v`` over the teacher's (the ratio of their costs)."""
    if v is None or not v.rows_per_s_per_thread or not teacher.rows_per_s_per_thread:
        return None
    return v.rows_per_s_per_thread / teacher.rows_per_s_per_thread


def _qualifies(v: Variant, th: Mapping[str, Any]) -> bool:
    keeps_fidelity = v.agreement is not None and v.agreement >= float(th["fidelity_min"])
    change = v.change.value if v.change is not None else None
    keeps_metric = change is not None and change >= -float(th["max_metric_drop"])
    return keeps_fidelity and keeps_metric


@dataclass(frozen=True)
class DistillationParams:
    """Parameters of ``efficiency.distillation``."""

    fidelity_min: float = param(
        0.95, "Share of test predictions a student must match to be a stand-in.", ge=0, le=1
    )
    max_metric_drop: float = param(
        0.01, "Drop in the main metric a stand-in student may cost.", ge=0
    )
    speedup_warn: float = param(
        3.0, "Speed-up of a faithful student from which it is recommended (warns).", ge=1
    )
    tree_depth: int = param(6, "Depth of the decision-tree student.", ge=1)
    boosted_iterations: int = param(50, "Boosting rounds of the boosted-trees student.", ge=1)
    boosted_leaves: int = param(15, "Leaves per tree of the boosted-trees student.", ge=2)
    max_train_rows: int = param(
        50_000, "Training rows the students learn from (max_rows_model_checks caps it).", ge=1
    )
    time_budget_s: float = param(3.0, "Seconds spent timing each model.", gt=0)
    instances: list[dict[str, Any]] = param(
        [dict(i) for i in DEFAULT_INSTANCES],
        "Machines to price a million predictions on: [{name, usd_per_hour, cores, note}].",
    )


@register_check(
    CHECK_ID,
    area="efficiency",
    title="Distillation into smaller models",
    explanation=(
        "A large model can often be imitated by a much smaller one trained to reproduce its "
        "predictions, which is cheaper to run and, for a shallow tree or a linear model, "
        "easier to explain. This check trains three small students on the model's own "
        "predictions for the training rows and measures on the test rows how faithfully each "
        "imitates it, what that costs in the main metric (with a confidence interval), and "
        "what it gains in speed and size."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.9", "MEASURE 2.12", "MAP 3.2"),
    severity="low",
    params=DistillationParams,
    needs=("model", "train"),
    opt_in=True,
    deterministic=False,
)
def distillation(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Students fitted to the teacher's train predictions, compared on test."""
    require_model(ctx)
    s = ctx.settings
    instances = resolve_instances(s.thresholds, CHECK_ID, th)
    task = ctx.task or "regression"
    num, cat, left_out = _columns(ctx)
    if not num and not cat:
        raise SkipCheck("no numeric or categorical feature for a student to learn from")
    train = ctx.frame("train")
    max_rows = min(int(th["max_train_rows"]), s.max_rows_model_checks)
    train_rows = sample_rows(train.height, max_rows, seed=s.seed, stream=SPLIT_STREAMS["train"])
    taught = np.asarray(ctx.predictions("train").labels)
    if train_rows is not None:
        train, taught = train[train_rows], taught[train_rows]
    if task != "regression" and len(np.unique(taught.astype(str))) < 2:
        raise SkipCheck("the model predicts a single class on train: there is nothing to distil")
    test = split_data(ctx, "test")
    test_frame = ctx.frame("test") if test.rows is None else ctx.frame("test")[test.rows]
    y_all = ctx.labels("test")
    assert y_all is not None  # a supervised audit's test data has the target
    y = y_all if test.rows is None else y_all[test.rows]
    X_train, X_test = _design(train, num, cat), _design(test_frame, num, cat)
    teacher = _teacher(ctx, test.rows, test.data)
    variants = [teacher]
    fit_seconds: dict[str, float] = {}
    failed: dict[str, str] = {}
    for key, (text, short, student) in _students(task, num, cat, th, s.seed).items():
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(), one_thread():
                warnings.simplefilter("ignore")
                student.fit(X_train, taught)
        except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
            failed[key] = f"{type(exc).__name__}: {exc}"
            continue
        fit_seconds[key] = time.perf_counter() - start
        proba = None
        if task != "regression":
            proba = align_proba(student.predict_proba(X_test), list(student.classes_), ctx.classes)
        data = eval_data(ctx, y, student.predict(X_test), proba)
        method = prediction_method(ctx, student)
        runner = python_runner(key, student, X_test, method)
        size = serialized_size(student)
        variants.append(Variant(key, text, runner, data, size, "pickled", short=short))
    if len(variants) == 1:
        raise SkipCheck(f"no student could be trained ({'; '.join(failed.values())})")
    for v in variants:
        v.agreement = fidelity(teacher.data, v.data)
    main = main_metric_name(ctx)
    batch = measure_variants(
        ctx,
        test,
        variants,
        main,
        n_rows=X_test.shape[0],
        time_budget_s=th["time_budget_s"],
        instances=instances,
    )

    students = variants[1:]
    good = [v for v in students if _qualifies(v, th)]
    fastest = max(good, key=lambda v: v.rows_per_s or 0.0) if good else None
    speedup = _speedup(fastest, teacher)
    faster = speedup is not None and speedup >= SPEEDUP_MIN
    # The best trade-off: the fastest student that keeps the quality, when it is
    # clearly faster; else the most faithful one that keeps it.
    best = fastest if faster else max(good, key=lambda v: v.agreement or 0.0, default=None)
    speedup = _speedup(best, teacher)
    status: Status = "pass"
    if faster and speedup is not None and speedup >= float(th["speedup_warn"]):
        status = "warn"
    conf = s.confidence
    fid_name = "agreement" if task != "regression" else "R² against the teacher"

    def quality(v: Variant) -> str:
        fid = fmt_share(v.agreement) if task != "regression" else f"{v.agreement:.3f}"
        return (
            f"{fid_name} {fid}, {label(main)} {fmt(main, v.measured_metric.value)} "
            f"({change_text(main, v.measured_change, conf, versus='against the model')})"
        )

    first = instances[0]["name"]
    if best is not None and faster:
        summary = (
            f"The best trade-off is the {best.label}: {quality(best)}, at {fmt_times(speedup)} the "
            f"model's throughput ({fmt_rate(best.rows_per_s)}) and {fmt_bytes(best.size_bytes)} "
            f"against {fmt_bytes(teacher.size_bytes)}."
        )
        rec = (
            f"Consider serving the {best.label}: it imitates the model closely for "
            f"{fmt_usd(best.cost[first])} per million predictions on {first} against "
            f"{fmt_usd(teacher.cost[first])}; check its errors on the weak segments first."
            if status == "warn"
            else f"The {best.label} is an option where speed matters more than the last "
            "bit of fidelity; otherwise keep the model."
        )
    elif best is not None:
        summary = (
            f"The {best.label} keeps the model's quality ({quality(best)}) but no student that "
            f"does is clearly faster ({fmt_rate(best.rows_per_s)} against "
            f"{fmt_rate(teacher.rows_per_s)}): distillation buys no speed here."
        )
        rec = "Keep the model; a smaller one would not run faster on this evidence."
    else:
        closest = max(students, key=lambda v: v.agreement if v.agreement is not None else -1)
        need = float(th["fidelity_min"])
        need_text = f"{need:.0%} agreement" if task != "regression" else f"R² {need:g}"
        summary = (
            f"No small student imitates the model closely enough (at least {need_text} and "
            f"{label(main)} at most {float(th['max_metric_drop']):g} lower): the closest, the "
            f"{closest.label}, has {quality(closest)}."
        )
        rec = (
            "The model's complexity is earning its keep; to cut cost try the ONNX export "
            "(efficiency.quantization) instead."
        )

    findings = [
        Finding(
            status=status if v is best else "pass",
            group=v.label,
            split="test",
            message=(
                f"{v.label[0].upper()}{v.label[1:]}: {quality(v)}; {fmt_rate(v.rows_per_s)}, "
                f"{fmt_bytes(v.size_bytes)}" + (" — the best trade-off." if v is best else ".")
            ),
            metrics={
                "fidelity": v.agreement,
                "metric_change": v.measured_change.value,
                "metric_change_low": v.measured_change.low,
                "metric_change_high": v.measured_change.high,
                "rows_per_s": v.rows_per_s,
                "size_bytes": v.size_bytes,
            },
        )
        for v in students
    ]
    metrics: dict[str, Any] = {
        "students_trained": len(students),
        "students_keeping_quality": len(good),
        "best_speedup": speedup,
    }
    for v in variants:
        metrics.update(variant_metrics(v, agreement_name="fidelity"))
    details = {
        "main_metric": main,
        "variants": variant_rows(variants, main),
        "best": None if best is None else best.key,
        "best_label": None if best is None else best.label,
        "fidelity": "share of test rows where the student predicts the teacher's class"
        if task != "regression"
        else "R² of the student's predictions against the teacher's",
        "trained_on": f"the model's predictions for {X_train.shape[0]:,} training rows"
        + (" (a random sample)" if train_rows is not None else ""),
        "features": {"numeric": num, "categorical": cat, "left_out": left_out},
        "fit_seconds": fit_seconds,
        "failed": failed,
        "throughput_batch_size": batch,
        "sizes": "bytes pickled in memory",
        "instances": instances,
        "cost_assumption": COST_ASSUMPTION,
        **sampling_details(ctx, [test]),
        "charts": [
            bars_chart(
                "Fidelity to the model by student",
                "share of test rows" if task != "regression" else "R² against the model",
                [(v.label, v.agreement, "pass") for v in students],
                unit="share" if task != "regression" else "value",
            ),
            intervals_chart(
                f"{label(main, start=True)} on test, model and students",
                label(main),
                [(v.label, v.measured_metric) for v in variants],
            ),
            bars_chart(
                f"Throughput (batches of {batch:,})",
                "rows per second",
                [(v.label, v.rows_per_s, "pass") for v in variants],
                unit="value",
            ),
            bars_chart(
                "Size",
                "kilobytes",
                [
                    (v.label, None if v.size_bytes is None else v.size_bytes / 1e3, "pass")
                    for v in variants
                ],
                unit="value",
            ),
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
