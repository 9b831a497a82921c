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
from assay.core.details import Details
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
from assay.evaluation._bootstrap import SPLIT_STREAMS, SplitData, sample_rows, split_data
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


def _qualifies(v: Variant, *, fidelity_min: float, max_metric_drop: float) -> bool:
    keeps_fidelity = v.agreement is not None and v.agreement >= fidelity_min
    change = v.change.value if v.change is not None else None
    keeps_metric = change is not None and change >= -max_metric_drop
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


@dataclass(frozen=True)
class DistillationDetails(Details):
    """What ``efficiency.distillation`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    variants: tuple[Mapping[str, Any], ...]
    best: str | None
    best_label: str | None
    fidelity: str
    trained_on: str
    features: Mapping[str, Any]
    fit_seconds: Mapping[str, Any]
    failed: Mapping[str, Any]
    throughput_batch_size: int
    sizes: str
    instances: tuple[Mapping[str, Any], ...]
    cost_assumption: str
    n_bootstrap: int
    seed: int
    confidence: float
    n_rows: Mapping[str, Any]
    sampled: bool


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
    details=DistillationDetails,
)
def distillation(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Students fitted to the teacher's train predictions, compared on test."""
    require_model(ctx)
    instances = resolve_instances(ctx.settings.thresholds, CHECK_ID, th)
    m = _measure(ctx, th, instances)
    verdict = judge_distillation(
        m,
        fidelity_min=float(th["fidelity_min"]),
        max_metric_drop=float(th["max_metric_drop"]),
        speedup_warn=float(th["speedup_warn"]),
    )
    conf = ctx.settings.confidence
    summary, rec = _summary(m, verdict, th, instances[0]["name"], conf)
    metrics: dict[str, Any] = {
        "students_trained": len(m.students),
        "students_keeping_quality": len(verdict.good),
        "best_speedup": verdict.speedup,
    }
    for v in m.variants:
        metrics.update(variant_metrics(v, agreement_name="fidelity"))
    return Outcome(
        status=verdict.status,
        summary=summary,
        metrics=metrics,
        findings=_findings(m, verdict, conf),
        recommendation=rec,
        details=_details(ctx, m, verdict, instances),
    )


@dataclass(frozen=True)
class DistillationMeasured:
    """The teacher and the students measured alike (no verdict, no words): each student's
    fidelity to the teacher, metric change, timings, size and cost, and how they were
    trained."""

    task: str
    main: str  # the main metric compared
    variants: tuple[Variant, ...]  # the teacher first, then the students trained
    batch: int  # batch size throughput was timed at
    test: SplitData
    n_train: int  # training rows the students learned from
    train_sampled: bool
    features: Mapping[str, list[str]]  # numeric, categorical, left_out
    fit_seconds: Mapping[str, float]
    failed: Mapping[str, str]  # students that could not be trained, with the error

    @property
    def teacher(self) -> Variant:
        return self.variants[0]

    @property
    def students(self) -> tuple[Variant, ...]:
        return self.variants[1:]

    def variant(self, key: str | None) -> Variant | None:
        return next((v for v in self.variants if v.key == key), None)


@dataclass(frozen=True)
class DistillationVerdict:
    """The status, the students that keep the teacher's quality (keys), the best
    trade-off among them (key) and its speed-up, and whether that one is clearly faster."""

    status: Status
    good: tuple[str, ...]
    best: str | None
    speedup: float | None
    faster: bool


def judge_distillation(
    m: DistillationMeasured, *, fidelity_min: float, max_metric_drop: float, speedup_warn: float
) -> DistillationVerdict:
    """A student keeps the teacher's quality with fidelity at least ``fidelity_min`` and a
    main-metric change of at least ``-max_metric_drop``. The best trade-off is the fastest
    such student when it is clearly faster than the teacher (:data:`SPEEDUP_MIN`), else the
    most faithful one. ``warn`` (recommend it) when that clearly faster student reaches
    ``speedup_warn`` times the teacher's throughput per thread; else ``pass``."""
    good = [
        v
        for v in m.students
        if _qualifies(v, fidelity_min=fidelity_min, max_metric_drop=max_metric_drop)
    ]
    fastest = max(good, key=lambda v: v.rows_per_s or 0.0) if good else None
    speedup = _speedup(fastest, m.teacher)
    faster = speedup is not None and speedup >= SPEEDUP_MIN
    best = fastest if faster else max(good, key=lambda v: v.agreement or 0.0, default=None)
    speedup = _speedup(best, m.teacher)
    status: Status = "pass"
    if faster and speedup is not None and speedup >= speedup_warn:
        status = "warn"
    return DistillationVerdict(
        status=status,
        good=tuple(v.key for v in good),
        best=None if best is None else best.key,
        speedup=speedup,
        faster=faster,
    )


def _training_rows(ctx: AuditContext, th: Mapping[str, Any]) -> tuple[pl.DataFrame, Any, Any]:
    """The training rows the students learn from (a sample above ``max_train_rows``), the
    teacher's predictions for them, and the rows sampled (``None``: all)."""
    s = ctx.settings
    train = ctx.frame("train")
    max_rows = min(int(th["max_train_rows"]), s.max_rows_model_checks)
    train_rows = sample_rows(train.height, max_rows, seed=s.seed, stream=SPLIT_STREAMS["train"])
    taught = np.asarray(ctx.predictions("train").labels)
    if train_rows is not None:
        train, taught = train[train_rows], taught[train_rows]
    if (ctx.task or "regression") != "regression" and len(np.unique(taught.astype(str))) < 2:
        raise SkipCheck("the model predicts a single class on train: there is nothing to distil")
    return train, taught, train_rows


def _measure(
    ctx: AuditContext, th: Mapping[str, Any], instances: list[dict[str, Any]]
) -> DistillationMeasured:
    """Fit the students to the teacher's train predictions, then compare, time and cost
    every variant on the test rows."""
    task = ctx.task or "regression"
    num, cat, left_out = _columns(ctx)
    if not num and not cat:
        raise SkipCheck("no numeric or categorical feature for a student to learn from")
    train, taught, train_rows = _training_rows(ctx, th)
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
    for key, (text, short, student) in _students(task, num, cat, th, ctx.settings.seed).items():
        start = time.perf_counter()
        try:
            with warnings.catch_warnings(), one_thread():
                warnings.simplefilter("ignore")
                student.fit(X_train, taught)
        except (ValueError, TypeError, np.linalg.LinAlgError) as exc:
            failed[key] = f"{type(exc).__name__}: {exc}"
            continue
        fit_seconds[key] = time.perf_counter() - start
        variants.append(_student_variant(ctx, key, text, short, student, X_test, y))
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
    return DistillationMeasured(
        task=task,
        main=main,
        variants=tuple(variants),
        batch=batch,
        test=test,
        n_train=X_train.shape[0],
        train_sampled=train_rows is not None,
        features={"numeric": num, "categorical": cat, "left_out": left_out},
        fit_seconds=fit_seconds,
        failed=failed,
    )


def _student_variant(
    ctx: AuditContext, key: str, text: str, short: str, student: Any, X_test: Any, y: Any
) -> Variant:
    """A fitted student's test predictions, runner and size as a variant."""
    proba = None
    if (ctx.task or "regression") != "regression":
        proba = align_proba(student.predict_proba(X_test), list(student.classes_), ctx.classes)
    data = eval_data(ctx, y, student.predict(X_test), proba)
    runner = python_runner(key, student, X_test, prediction_method(ctx, student))
    return Variant(key, text, runner, data, serialized_size(student), "pickled", short=short)


def _quality(m: DistillationMeasured, v: Variant, conf: float) -> str:
    """A student's fidelity and main metric against the model's, in words."""
    regression = m.task == "regression"
    fid_name = "agreement" if not regression else "R² against the teacher"
    fid = fmt_share(v.agreement) if not regression else f"{v.agreement:.3f}"
    return (
        f"{fid_name} {fid}, {label(m.main)} {fmt(m.main, v.measured_metric.value)} "
        f"({change_text(m.main, v.measured_change, conf, versus='against the model')})"
    )


def _summary(
    m: DistillationMeasured,
    verdict: DistillationVerdict,
    th: Mapping[str, Any],
    first: str,
    conf: float,
) -> tuple[str, str]:
    """(summary, recommendation): the best trade-off and its speed, a faithful student
    that is not faster, or the closest student when none is faithful."""
    teacher, best, speedup = m.teacher, m.variant(verdict.best), verdict.speedup
    if best is not None and verdict.faster:
        summary = (
            f"The best trade-off is the {best.label}: {_quality(m, best, conf)}, at "
            f"{fmt_times(speedup)} the model's throughput ({fmt_rate(best.rows_per_s)}) and "
            f"{fmt_bytes(best.size_bytes)} against {fmt_bytes(teacher.size_bytes)}."
        )
        rec = (
            f"Consider serving the {best.label}: it imitates the model closely for "
            f"{fmt_usd(best.cost[first])} per million predictions on {first} against "
            f"{fmt_usd(teacher.cost[first])}; check its errors on the weak segments first."
            if verdict.status == "warn"
            else f"The {best.label} is an option where speed matters more than the last "
            "bit of fidelity; otherwise keep the model."
        )
        return summary, rec
    if best is not None:
        summary = (
            f"The {best.label} keeps the model's quality ({_quality(m, best, conf)}) but no "
            f"student that does is clearly faster ({fmt_rate(best.rows_per_s)} against "
            f"{fmt_rate(teacher.rows_per_s)}): distillation buys no speed here."
        )
        return summary, "Keep the model; a smaller one would not run faster on this evidence."
    closest = max(m.students, key=lambda v: v.agreement if v.agreement is not None else -1)
    need = float(th["fidelity_min"])
    need_text = f"{need:.0%} agreement" if m.task != "regression" else f"R² {need:g}"
    summary = (
        f"No small student imitates the model closely enough (at least {need_text} and "
        f"{label(m.main)} at most {float(th['max_metric_drop']):g} lower): the closest, the "
        f"{closest.label}, has {_quality(m, closest, conf)}."
    )
    return summary, (
        "The model's complexity is earning its keep; to cut cost try the ONNX export "
        "(efficiency.quantization) instead."
    )


def _findings(m: DistillationMeasured, verdict: DistillationVerdict, conf: float) -> list[Finding]:
    """One finding per student; the best trade-off carries the check's status."""
    return [
        Finding(
            status=verdict.status if v.key == verdict.best else "pass",
            group=v.label,
            split="test",
            message=(
                f"{v.label[0].upper()}{v.label[1:]}: {_quality(m, v, conf)}; "
                f"{fmt_rate(v.rows_per_s)}, {fmt_bytes(v.size_bytes)}"
                + (" — the best trade-off." if v.key == verdict.best else ".")
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
        for v in m.students
    ]


def _details(
    ctx: AuditContext,
    m: DistillationMeasured,
    verdict: DistillationVerdict,
    instances: list[dict[str, Any]],
) -> dict[str, Any]:
    """The variants table, the best trade-off, how the students were trained, and charts."""
    best = m.variant(verdict.best)
    return {
        "main_metric": m.main,
        "variants": variant_rows(m.variants, m.main),
        "best": None if best is None else best.key,
        "best_label": None if best is None else best.label,
        "fidelity": "share of test rows where the student predicts the teacher's class"
        if m.task != "regression"
        else "R² of the student's predictions against the teacher's",
        "trained_on": f"the model's predictions for {m.n_train:,} training rows"
        + (" (a random sample)" if m.train_sampled else ""),
        "features": m.features,
        "fit_seconds": m.fit_seconds,
        "failed": m.failed,
        "throughput_batch_size": m.batch,
        "sizes": "bytes pickled in memory",
        "instances": instances,
        "cost_assumption": COST_ASSUMPTION,
        **sampling_details(ctx, [m.test]),
        "charts": _charts(m),
    }


def _charts(m: DistillationMeasured) -> list[dict[str, Any]]:
    regression = m.task == "regression"
    return [
        bars_chart(
            "Fidelity to the model by student",
            "share of test rows" if not regression else "R² against the model",
            [(v.label, v.agreement, "pass") for v in m.students],
            unit="share" if not regression else "value",
        ),
        intervals_chart(
            f"{label(m.main, start=True)} on test, model and students",
            label(m.main),
            [(v.label, v.measured_metric) for v in m.variants],
        ),
        bars_chart(
            f"Throughput (batches of {m.batch:,})",
            "rows per second",
            [(v.label, v.rows_per_s, "pass") for v in m.variants],
            unit="value",
        ),
        bars_chart(
            "Size",
            "kilobytes",
            [
                (v.label, None if v.size_bytes is None else v.size_bytes / 1e3, "pass")
                for v in m.variants
            ],
            unit="value",
        ),
    ]
