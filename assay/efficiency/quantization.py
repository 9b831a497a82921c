"""``efficiency.quantization``: what does exporting the model to ONNX, and quantizing it
to int8, change in speed, size, predictions and accuracy?

The model is converted with skl2onnx (LightGBM and XGBoost through onnxmltools)
and run with ONNX Runtime in float32; then its weights are quantized to int8
with ONNX Runtime's dynamic quantization where the graph has operators it
applies to (matrix products: neural networks; not tree ensembles or the
linear-model operators). Each variant is timed like the original, its
predictions compared with the original's row by row, and its main metric
compared on the same bootstrap resamples (paired). A model that cannot be
converted is skipped with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status, worst_status
from assay.efficiency._cost import (
    COST_ASSUMPTION,
    DEFAULT_INSTANCES,
    fmt_usd,
    resolve_instances,
)
from assay.efficiency._onnx import (
    ConversionError,
    OnnxModel,
    convert,
    onnx_predictions,
    quantize_int8,
)
from assay.efficiency._variants import (
    Variant,
    agreement,
    align_proba,
    bars_chart,
    change_text,
    eval_data,
    fmt_ms,
    fmt_rate,
    fmt_share,
    fmt_times,
    max_score_difference,
    measure_variants,
    model_features,
    onnx_runner,
    prediction_method,
    python_runner,
    require_model,
    serialized_size,
    variant_metrics,
    variant_rows,
)
from assay.evaluation._bootstrap import SplitData, split_data
from assay.evaluation._common import fmt, intervals_chart, label, sampling_details
from assay.evaluation._metrics import main_metric_name

CHECK_ID = "efficiency.quantization"


def _onnx_variant(
    ctx: AuditContext, key: str, text: str, converted: OnnxModel, X: Any, y: Any
) -> Variant:
    classifier = ctx.task in ("binary", "multiclass")
    session = converted.session()
    feed = converted.feed(X)
    labels, proba = onnx_predictions(session, feed, classifier=classifier)
    if proba is not None and ctx.has_scores:  # else they are decision scores, not probabilities
        proba = align_proba(proba, ctx.model.classes if ctx.model else None, ctx.classes)
    else:
        proba = None
    return Variant(
        key=key,
        label=text,
        runner=onnx_runner(key, session, feed),
        data=eval_data(ctx, y, labels, proba),
        size_bytes=converted.size_bytes,
    )


@dataclass(frozen=True)
class QuantizationParams:
    """Parameters of ``efficiency.quantization``."""

    agreement_min: float = param(
        0.99, "Share of test predictions the quantized model must match.", ge=0, le=1
    )
    max_metric_drop: float = param(0.01, "Drop in the main metric quantization may cost.", ge=0)
    regression_tolerance: float = param(
        0.01,
        "Change of a regression prediction, in prediction SDs, that counts as a disagreement.",
        ge=0,
    )
    time_budget_s: float = param(3.0, "Seconds spent timing each model.", gt=0)
    instances: list[dict[str, Any]] = param(
        [dict(i) for i in DEFAULT_INSTANCES],
        "Machines to price a million predictions on: [{name, usd_per_hour, cores, note}].",
    )


@dataclass(frozen=True)
class QuantizationDetails(Details):
    """What ``efficiency.quantization`` keeps in its ``details`` (``report.json``)."""

    main_metric: str
    variants: tuple[Mapping[str, Any], ...]
    input_mode: str
    int8: str
    throughput_batch_size: int
    timing: str
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
    title="ONNX export and int8 quantization",
    explanation=(
        "Exporting a model to ONNX and running it with ONNX Runtime often makes it much "
        "faster, and quantizing its weights to 8-bit integers can shrink and speed it up "
        "further, but either may change its predictions. This check converts the model, "
        "times each version like the original, and measures how often it predicts the same "
        "thing and how much the main metric moves (with a confidence interval), so the "
        "speed is never bought blind."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.12", "MAP 3.2"),
    severity="medium",
    params=QuantizationParams,
    needs=("model",),
    extras=("onnx",),
    opt_in=True,
    deterministic=False,
    details=QuantizationDetails,
)
def quantization(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """ONNX float32 and dynamic-int8 variants against the original."""
    require_model(ctx)
    assert ctx.model is not None
    if ctx.model.kind == "onnx":
        raise SkipCheck(
            "the model is already an ONNX graph; quantize the file with "
            "onnxruntime.quantization.quantize_dynamic and audit the result"
        )
    instances = resolve_instances(ctx.settings.thresholds, CHECK_ID, th)
    m = _measure(ctx, th, instances)
    verdict = judge_quantization(
        m, agreement_min=float(th["agreement_min"]), max_metric_drop=float(th["max_metric_drop"])
    )
    summary, rec = _summary(m, verdict, instances[0]["name"])
    metrics: dict[str, Any] = {"int8_applies": int(m.int8_made)}
    for v in m.variants:
        metrics.update(variant_metrics(v))
    return Outcome(
        status=verdict.status,
        summary=summary,
        metrics=metrics,
        findings=_findings(m, verdict, ctx.settings.confidence),
        recommendation=rec,
        details=_details(ctx, m, verdict, instances),
    )


@dataclass(frozen=True)
class QuantizationMeasured:
    """The variants measured alike (no verdict, no words): the original first, then ONNX
    float32 and, when made, ONNX int8, each with its agreement with the original, metric
    change, timings, size and cost."""

    main: str  # the main metric compared
    variants: tuple[Variant, ...]
    int8_reason: str | None  # why no int8 variant was made
    input_mode: str
    batch: int  # batch size throughput was timed at
    test: SplitData

    @property
    def int8_made(self) -> bool:
        return len(self.variants) == 3


@dataclass(frozen=True)
class QuantizationVerdict:
    """The status, and that of each variant but the original (by key)."""

    status: Status
    variants: Mapping[str, Status]


def judge_variant(v: Variant, *, agreement_min: float, max_metric_drop: float) -> Status:
    """``warn`` unless the variant predicts as the original on at least ``agreement_min``
    of the test rows and its main metric drops by at most ``max_metric_drop``."""
    ok_agree = v.agreement is not None and v.agreement >= agreement_min
    change = None if v.change is None else v.change.value
    ok_metric = change is None or change >= -max_metric_drop
    return "pass" if ok_agree and ok_metric else "warn"


def judge_quantization(
    m: QuantizationMeasured, *, agreement_min: float, max_metric_drop: float
) -> QuantizationVerdict:
    """Each ONNX variant judged by :func:`judge_variant`; the status is the worst of them
    (an int8 variant that could not be made is no alarm)."""
    per = {
        v.key: judge_variant(v, agreement_min=agreement_min, max_metric_drop=max_metric_drop)
        for v in m.variants[1:]
    }
    not_made: list[Status] = [] if m.int8_made else ["pass"]
    return QuantizationVerdict(worst_status([*per.values(), *not_made]), per)


def _measure(
    ctx: AuditContext, th: Mapping[str, Any], instances: list[dict[str, Any]]
) -> QuantizationMeasured:
    """Convert, quantize, predict, compare, time and cost every variant."""
    assert ctx.model is not None
    test = split_data(ctx, "test")
    X = model_features(ctx, "test", test.rows).to_pandas()
    y_all = ctx.labels("test")
    assert y_all is not None  # a supervised audit's test data has the target
    y = y_all if test.rows is None else y_all[test.rows]
    classifier = ctx.task in ("binary", "multiclass")
    model = ctx.model.model
    try:
        converted = convert(model, X, classifier=classifier)
    except ConversionError as exc:
        raise SkipCheck(f"the model could not be converted to ONNX: {exc}") from None
    original = Variant(
        key="original",
        label="original model",
        runner=python_runner("original", model, X, prediction_method(ctx, model)),
        data=test.data,
        size_bytes=serialized_size(model),
        note="pickled in memory",
        short="original",
    )
    variants = [original, _onnx_variant(ctx, "onnx_float32", "ONNX float32", converted, X, y)]
    int8, int8_reason = quantize_int8(converted)
    if int8 is not None:
        try:
            variants.append(_onnx_variant(ctx, "onnx_int8", "ONNX int8 (dynamic)", int8, X, y))
        except Exception as exc:  # a quantized graph ONNX Runtime cannot run
            int8_reason = f"the quantized graph does not run ({type(exc).__name__})"
    tol = float(th["regression_tolerance"])
    for v in variants:
        v.agreement = agreement(original.data, v.data, tolerance=tol)
        v.max_difference = max_score_difference(original.data, v.data)
    main = main_metric_name(ctx)
    batch = measure_variants(
        ctx,
        test,
        variants,
        main,
        n_rows=X.shape[0],
        time_budget_s=th["time_budget_s"],
        instances=instances,
    )
    return QuantizationMeasured(main, tuple(variants), int8_reason, converted.mode, batch, test)


def _findings(m: QuantizationMeasured, v: QuantizationVerdict, conf: float) -> list[Finding]:
    """One finding per ONNX variant, and one saying why int8 was not made."""
    original, main = m.variants[0], m.main
    findings = []
    for var in m.variants[1:]:
        ch = var.measured_change
        findings.append(
            Finding(
                status=v.variants[var.key],
                group=var.label,
                split="test",
                message=(
                    f"{var.label}: {fmt_share(var.agreement)} of test rows predicted as the "
                    f"original does; {label(main)} {change_text(main, ch, conf)}; one row "
                    f"{fmt_ms(var.median_ms)} against {fmt_ms(original.median_ms)}; "
                    f"{fmt_rate(var.rows_per_s)} against {fmt_rate(original.rows_per_s)}."
                ),
                metrics={
                    "agreement": var.agreement,
                    "metric_change": ch.value,
                    "metric_change_low": ch.low,
                    "metric_change_high": ch.high,
                    "latency_p50_ms": var.median_ms,
                    "rows_per_s": var.rows_per_s,
                },
            )
        )
    if not m.int8_made:
        findings.append(
            Finding(
                status="pass", group="ONNX int8 (dynamic)", message=f"Not made: {m.int8_reason}."
            )
        )
    return findings


def _summary(m: QuantizationMeasured, v: QuantizationVerdict, first: str) -> tuple[str, str]:
    """(summary, recommendation): the ONNX export's speed and agreement (or how it
    differs), int8's agreement and cost, and whether serving ONNX is safe."""
    original, onnx, main = m.variants[0], m.variants[1], m.main
    speed = original.median_ms / onnx.median_ms if onnx.median_ms > 0 else None
    speed_text = f"{fmt_times(speed)} the speed" if speed is not None else "a different speed"
    assert onnx.agreement is not None  # set on every variant by _measure
    if v.variants[onnx.key] == "pass":
        summary = (
            f"ONNX Runtime runs the model at {speed_text} one row at a time "
            f"({fmt_ms(onnx.median_ms)} against {fmt_ms(original.median_ms)} at the "
            f"median) and agrees with it on {fmt_share(onnx.agreement)} of test rows"
        )
    else:
        summary = (
            f"The ONNX export of the model predicts differently on "
            f"{fmt_share(1 - onnx.agreement)} of test rows ({label(main)} "
            f"{fmt(main, onnx.measured_change.value, signed=True)})"
        )
    if m.int8_made:
        q = m.variants[2]
        summary += (
            f"; int8 quantization agrees on {fmt_share(q.agreement)} of rows with {label(main)} "
            f"{fmt(main, q.measured_change.value, signed=True)} and costs "
            f"{fmt_usd(q.cost[first])} per million predictions on {first}."
        )
    else:
        summary += "; int8 quantization does not apply to this graph."
    if v.status == "pass":
        return summary, (
            "Serving the ONNX version is safe on this evidence: it predicts as the original "
            "does; deploy it where its speed matters and keep this check in CI."
        )
    bad = [var.label for var in m.variants[1:] if v.variants[var.key] != "pass"]
    return summary, (
        f"Do not deploy {' or '.join(bad)} without looking into the rows where predictions "
        "change; keep the original model (or the ONNX float32 version if it passed)."
    )


def _details(
    ctx: AuditContext,
    m: QuantizationMeasured,
    v: QuantizationVerdict,
    instances: list[dict[str, Any]],
) -> dict[str, Any]:
    """The variants table, how they were made, timed and sized, and the four charts."""
    variants, main = m.variants, m.main
    return {
        "main_metric": main,
        "variants": variant_rows(variants, main),
        "input_mode": m.input_mode,
        "int8": "made" if m.int8_made else m.int8_reason,
        "throughput_batch_size": m.batch,
        "timing": "Every variant is timed alike on the same prepared rows: single rows (at "
        "least 10 calls) then batches of the throughput batch size (at least 3 calls), each "
        "variant with an equal share of the time budget.",
        "sizes": "original: pickled in memory; ONNX variants: the serialized graph",
        "instances": instances,
        "cost_assumption": COST_ASSUMPTION,
        **sampling_details(ctx, [m.test]),
        "charts": [
            bars_chart(
                "Time for one row by variant (median)",
                "milliseconds",
                [(var.label, var.median_ms, "pass") for var in variants],
                unit="ms",
            ),
            bars_chart(
                f"Throughput by variant (batches of {m.batch:,})",
                "rows per second",
                [(var.label, var.rows_per_s, "pass") for var in variants],
                unit="value",
            ),
            bars_chart(
                "Agreement with the original's predictions",
                "share of test rows",
                [(var.label, var.agreement, v.variants[var.key]) for var in variants[1:]],
                unit="share",
            ),
            intervals_chart(
                f"{label(main, start=True)} by variant on test",
                label(main),
                [(var.label, var.measured_metric) for var in variants],
            ),
        ],
    }
