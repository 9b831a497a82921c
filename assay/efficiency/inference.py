"""``efficiency.inference``: how fast is the model, one row at a time and in batches,
and what does a million predictions cost?

Timed on the first rows of the test split, prepared as the model takes them
(a pandas frame, or an ONNX input feed) before the clock starts. Single-row
latency percentiles, throughput for batch sizes 1, 4, 16, ... 4096 (capped by
the rows available), peak memory of one prediction (tracemalloc), model size,
thread pools, the batch size recommended for a latency budget, and the cost
per million predictions on instance profiles (:mod:`._cost`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.efficiency._cost import (
    COST_ASSUMPTION,
    DEFAULT_INSTANCES,
    INFERENCE_ID,
    costs,
    fmt_usd,
    machine_cores,
    resolve_instances,
    slug,
)
from assay.efficiency._timing import (
    FULL_BUDGET_ROWS,
    MIN_BUDGET_SHARE,
    Runner,
    Timing,
    batch_sizes,
    measure_batch,
    measure_latency,
    one_thread,
    peak_memory_bytes,
    scaled_budget,
    thread_info,
)
from assay.efficiency._variants import (
    bars_chart,
    fmt_bytes,
    fmt_ms,
    fmt_rate,
    model_features,
    onnx_feed_from_polars,
    onnx_runner,
    prediction_method,
    python_runner,
    require_model,
    serialized_size,
)

PROTOCOL = (
    "Inputs are prepared before timing (only the prediction call is timed). Single rows: "
    "{warm} warm-up calls, then one call per row cycling through up to 64 rows, at least "
    "20 repetitions, until {single:.2g} s is spent. Batches: 1 warm-up call per size, then "
    "at least 3 repetitions each, until {each:.2g} s per size is spent. Throughput = batch "
    "size / median call time. The time budget ({budget:.2g} s) is time_budget_s × "
    "min(1, rows / {full:,}), at least {floor:.0%} of it."
)


def _runner(ctx: AuditContext, n_rows: int) -> tuple[Runner, str]:
    model = ctx.model
    assert model is not None
    X = model_features(ctx, "test", None).head(n_rows)
    if model.kind == "onnx":
        feed = onnx_feed_from_polars(model.model, X)
        runner = onnx_runner("model", model.model, feed, threads=machine_cores())
        return runner, "ONNX Runtime InferenceSession.run (the session's own threads)"
    method = prediction_method(ctx, model.model)
    return python_runner("model", model.model, X.to_pandas(), method), f"{method} on pandas"


def _size(ctx: AuditContext) -> tuple[int | None, str]:
    model = ctx.model
    assert model is not None
    if model.path is not None and os.path.exists(model.path):
        return os.path.getsize(model.path), f"size of the model file {os.path.basename(model.path)}"
    size = serialized_size(model.model)
    return size, "bytes of the model pickled in memory (no file was given)"


def _recommended(batches: list[Timing], budget_ms: float) -> Timing | None:
    """The batch size with the highest throughput whose p95 call time meets the budget."""
    within = [t for t in batches if t.p95_ms <= budget_ms]
    return max(within, key=lambda t: (t.rows_per_s, -t.batch_size)) if within else None


@dataclass(frozen=True)
class InferenceParams:
    """Parameters of ``efficiency.inference``."""

    latency_budget_ms: float = param(
        100.0, "Budget for one prediction: a p95 above it warns, a median above it fails.", gt=0
    )
    time_budget_s: float = param(3.0, "Seconds spent timing, scaled with the rows.", gt=0)
    max_batch_size: int = param(4096, "Largest batch size whose throughput is timed.", ge=1)
    instances: list[dict[str, Any]] = param(
        [dict(i) for i in DEFAULT_INSTANCES],
        "Machines to price a million predictions on: [{name, usd_per_hour, cores, note}]; "
        "the efficiency checks share them.",
    )


@dataclass(frozen=True)
class InferenceDetails(Details):
    """What ``efficiency.inference`` keeps in its ``details`` (``report.json``)."""

    method: str
    rows_timed: int
    single_row: Mapping[str, Any]
    batches: tuple[Mapping[str, Any], ...]
    recommended_batch_size: int | None
    latency_budget_ms: float
    timing: str
    memory: Mapping[str, Any]
    model_size: Mapping[str, Any]
    threads: Mapping[str, Any]
    cpu_cores: int
    instances: tuple[Mapping[str, Any], ...]
    cost: Mapping[str, Any]
    cost_assumption: str


@register_check(
    INFERENCE_ID,
    area="efficiency",
    title="Inference latency, throughput and cost",
    explanation=(
        "A model that is accurate but too slow or too costly does not ship. This check times "
        "the model on test rows: how long one prediction takes (median and slowest 5% and 1%), "
        "how many rows per second it scores in batches of growing size, how much memory a "
        "prediction allocates, and how large the model is. It recommends the batch size that "
        "scores fastest within the latency budget and prices a million predictions on example "
        "instance profiles that you should edit."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.12", "MAP 3.2"),
    severity="medium",
    params=InferenceParams,
    needs=("model",),
    opt_in=True,
    deterministic=False,
    details=InferenceDetails,
)
def inference(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Latency percentiles, throughput by batch size, memory, size, threads and cost."""
    require_model(ctx)
    instances = resolve_instances(ctx.settings.thresholds, INFERENCE_ID, th)
    budget_ms = float(th["latency_budget_ms"])
    m = _measure(ctx, th)
    v = judge_inference(m, latency_budget_ms=budget_ms)
    costed = v.recommended or m.fastest
    cost = costs(costed.rows_per_s, instances, m.threads)
    cost_single = costs(m.single.rows_per_s, instances, m.threads)
    summary, rec_text = _summary(m, v, budget_ms, instances[0]["name"], cost)
    metrics: dict[str, Any] = {
        "latency_p50_ms": m.single.p50_ms,
        "latency_p95_ms": m.single.p95_ms,
        "latency_p99_ms": m.single.p99_ms,
        "single_row_repetitions": m.single.reps,
        "recommended_batch_size": None if v.recommended is None else v.recommended.batch_size,
        "peak_memory_bytes": m.memory_bytes,
        "model_size_bytes": m.size_bytes,
        "threads": m.threads,
        "cpu_cores": m.cores,
        "time_budget_s": m.budget_s,
    }
    for t in m.batches:
        metrics[f"rows_per_s_batch_{t.batch_size}"] = t.rows_per_s
        metrics[f"latency_p95_ms_batch_{t.batch_size}"] = t.p95_ms
        metrics[f"repetitions_batch_{t.batch_size}"] = t.reps
    for name in cost:
        metrics[f"usd_per_million_{slug(name)}"] = cost[name]
        metrics[f"usd_per_million_single_row_{slug(name)}"] = cost_single[name]
    return Outcome(
        status=v.status,
        summary=summary,
        metrics=metrics,
        findings=_findings(m, v, budget_ms),
        recommendation=rec_text,
        details=_details(m, v, budget_ms, instances, cost, cost_single),
    )


@dataclass(frozen=True)
class InferenceMeasured:
    """The timings and sizes of one inference measurement (no verdict, no words)."""

    method: str  # what was timed, in words
    n_rows: int  # test rows timed
    single: Timing  # one row per call
    batches: tuple[Timing, ...]  # one per batch size, smallest first
    memory_bytes: int | None  # tracemalloc peak of one call on the largest batch
    size_bytes: int | None
    size_method: str
    threads: int  # threads the timed calls could use
    cores: int
    pools: Mapping[str, Any]  # thread pools (threadpoolctl)
    budget_s: float  # the time budget scaled to the rows
    each_s: float  # seconds per batch size

    @property
    def fastest(self) -> Timing:
        return max(self.batches, key=lambda t: t.rows_per_s)


@dataclass(frozen=True)
class InferenceVerdict:
    """The status and the batch size recommended for the latency budget."""

    status: Status
    recommended: Timing | None


def judge_inference(m: InferenceMeasured, *, latency_budget_ms: float) -> InferenceVerdict:
    """``fail`` when the median single-row latency is above the budget, ``warn`` when its
    p95 is; the recommended batch size is the fastest whose p95 call time meets it.

    >>> import numpy as np
    >>> t = Timing(1, np.linspace(0.001, 0.003, 21), 3)  # p50 2 ms, p95 2.9 ms
    >>> m = InferenceMeasured("predict", 64, t, (t,), None, None, "", 1, 1, {}, 1.0, 0.1)
    >>> judge_inference(m, latency_budget_ms=2.5).status
    'warn'
    """
    single = m.single
    if single.p50_ms > latency_budget_ms:
        status: Status = "fail"
    elif single.p95_ms > latency_budget_ms:
        status = "warn"
    else:
        status = "pass"
    return InferenceVerdict(status, _recommended(list(m.batches), latency_budget_ms))


def _measure(ctx: AuditContext, th: Mapping[str, Any]) -> InferenceMeasured:
    """Time single rows and every batch size on one thread, then memory, size, threads."""
    max_batch = int(th["max_batch_size"])
    n_rows = min(ctx.frame("test").height, 3 * max_batch)
    runner, method = _runner(ctx, n_rows)
    sizes = batch_sizes(n_rows, max_batch)
    budget = scaled_budget(float(th["time_budget_s"]), n_rows)
    each = 0.6 * budget / len(sizes)
    with one_thread():
        single = measure_latency(runner, n_rows=n_rows, budget_s=0.4 * budget, min_reps=20)
        batches = [measure_batch(runner, b, n_rows=n_rows, budget_s=each) for b in sizes]
        memory = peak_memory_bytes(runner, sizes[-1])
    size, size_method = _size(ctx)
    return InferenceMeasured(
        method=method,
        n_rows=n_rows,
        single=single,
        batches=tuple(batches),
        memory_bytes=memory,
        size_bytes=size,
        size_method=size_method,
        threads=runner.threads,
        pools=thread_info(),
        cores=machine_cores(),
        budget_s=budget,
        each_s=each,
    )


def _summary(
    m: InferenceMeasured,
    v: InferenceVerdict,
    budget_ms: float,
    first: str,
    cost: Mapping[str, float | None],
) -> tuple[str, str]:
    """(summary, recommendation): within the budget with the cost on the first instance,
    or which requests miss it."""
    single, rec, best = m.single, v.recommended, m.fastest
    tail = f"p95 {fmt_ms(single.p95_ms)}, p99 {fmt_ms(single.p99_ms)}, {single.reps} calls"
    batch_text = (
        f"batches of {rec.batch_size:,} rows score {fmt_rate(rec.rows_per_s)} within it"
        if rec is not None
        else f"no batch size meets it (the fastest, {best.batch_size:,} rows, scores "
        f"{fmt_rate(best.rows_per_s)})"
    )
    if v.status == "pass":
        summary = (
            f"One prediction takes {fmt_ms(single.p50_ms)} at the median ({tail}), within the "
            f"{budget_ms:g} ms budget; {batch_text}, about {fmt_usd(cost[first])} per million "
            f"predictions on {first}."
        )
        return summary, (
            f"Serve in batches of {(rec or best).batch_size:,} rows where requests can wait for "
            "each other; edit the instance profiles to your own prices before relying on the cost."
        )
    which = "the typical" if v.status == "fail" else "the slowest 5% of"
    summary = (
        f"Single rows miss the {budget_ms:g} ms latency budget for {which} requests "
        f"({_percentiles(single)}); {batch_text}."
    )
    return summary, (
        "Try the ONNX and distilled variants (efficiency.quantization, "
        "efficiency.distillation), a smaller model, or a larger budget if the use allows it."
    )


def _percentiles(single: Timing) -> str:
    return (
        f"p50 {fmt_ms(single.p50_ms)}, p95 {fmt_ms(single.p95_ms)}, "
        f"p99 {fmt_ms(single.p99_ms)} over {single.reps} calls"
    )


def _findings(m: InferenceMeasured, v: InferenceVerdict, budget_ms: float) -> list[Finding]:
    """Single rows against the budget, and the batch size served (or the fastest)."""
    single, costed = m.single, v.recommended or m.fastest
    return [
        Finding(
            status=v.status,
            group="single rows",
            split="test",
            message=f"One row at a time: {_percentiles(single)} (budget {budget_ms:g} ms).",
            metrics={
                "p50_ms": single.p50_ms,
                "p95_ms": single.p95_ms,
                "p99_ms": single.p99_ms,
                "repetitions": single.reps,
            },
        ),
        Finding(
            status="pass" if v.recommended is not None else v.status,
            group=f"batch size {costed.batch_size}",
            split="test",
            message=(
                f"Batches of {costed.batch_size:,} rows: p95 {fmt_ms(costed.p95_ms)} per call, "
                f"{fmt_rate(costed.rows_per_s)}"
                + (
                    " (the fastest within the budget)."
                    if v.recommended is not None
                    else " (the fastest)."
                )
            ),
            metrics={
                "p95_ms": costed.p95_ms,
                "rows_per_s": costed.rows_per_s,
                "repetitions": costed.reps,
            },
        ),
    ]


def _details(
    m: InferenceMeasured,
    v: InferenceVerdict,
    budget_ms: float,
    instances: list[dict[str, Any]],
    cost: Mapping[str, float | None],
    cost_single: Mapping[str, float | None],
) -> dict[str, Any]:
    """Protocol, timings, memory, size, threads, costs and the two charts."""
    costed, rec = v.recommended or m.fastest, v.recommended
    return {
        "method": m.method,
        "rows_timed": m.n_rows,
        "single_row": m.single.to_dict(),
        "batches": [t.to_dict() for t in m.batches],
        "recommended_batch_size": None if rec is None else rec.batch_size,
        "latency_budget_ms": budget_ms,
        "timing": PROTOCOL.format(
            warm=m.single.warmup,
            single=0.4 * m.budget_s,
            each=m.each_s,
            budget=m.budget_s,
            full=FULL_BUDGET_ROWS,
            floor=MIN_BUDGET_SHARE,
        ),
        "memory": {
            "bytes": m.memory_bytes,
            "batch_size": m.batches[-1].batch_size,
            "method": "tracemalloc: the peak of what Python and NumPy allocate during one call "
            "on the batch; native buffers of libraries such as ONNX Runtime or LightGBM are "
            "not counted",
        },
        "model_size": {
            "bytes": m.size_bytes,
            "method": m.size_method,
            "text": fmt_bytes(m.size_bytes),
        },
        "threads": {
            "used_for_timing": m.threads,
            "why": "one worker per core, as the cost assumes; BLAS and OpenMP pools limited "
            "with threadpoolctl"
            if m.threads == 1
            else "an ONNX session loaded from a file runs on its own threads",
            **m.pools,
        },
        "cpu_cores": m.cores,
        "instances": instances,
        "cost": {
            name: {
                "usd_per_million": cost[name],
                "usd_per_million_single_row": cost_single[name],
                "batch_size": costed.batch_size,
            }
            for name in cost
        },
        "cost_assumption": COST_ASSUMPTION,
        "charts": _charts(m, budget_ms),
    }


def _charts(m: InferenceMeasured, budget_ms: float) -> list[dict[str, Any]]:
    return [
        bars_chart(
            "Throughput by batch size",
            "rows per second",
            [(f"batch {t.batch_size:,}", t.rows_per_s, "pass") for t in m.batches],
            unit="value",
        ),
        bars_chart(
            "Time per call by batch size (p95)",
            "milliseconds per call",
            [
                (f"batch {t.batch_size:,}", t.p95_ms, "pass" if t.p95_ms <= budget_ms else "warn")
                for t in m.batches
            ],
            unit="ms",
            threshold=budget_ms,
        ),
    ]
