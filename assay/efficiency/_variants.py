"""Model variants (the original, its ONNX forms, distilled students) measured alike.

Every variant is timed with the same protocol (:mod:`._timing`), scored on the
same test rows and bootstrap resamples as the original (a paired comparison,
:func:`assay.evaluation._bootstrap.paired_comparison`), sized, and costed on
the instance profiles (:mod:`._cost`). :func:`variant_rows` gives the table
``assay bench`` prints and the report shows.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart, Unit
from assay.core.context import AuditContext
from assay.core.registry import SkipCheck
from assay.efficiency._cost import costs, slug
from assay.efficiency._timing import (
    Runner,
    Timing,
    measure_batch,
    measure_latency,
    one_thread,
    scaled_budget,
    throughput_batch,
)
from assay.evaluation._bootstrap import Interval, SplitData, paired_comparison
from assay.evaluation._metrics import EvalData, encode_labels

NO_MODEL = (
    "timing needs the model itself, and only prediction columns were given "
    "(pass a model file or object)"
)


# -- inputs and runners ---------------------------------------------------------
def require_model(ctx: AuditContext) -> None:
    if ctx.model is None:
        raise SkipCheck(NO_MODEL)


def model_features(ctx: AuditContext, split: str, rows: np.ndarray | None) -> pl.DataFrame:
    """The feature columns the model takes, in its order, for ``rows`` of ``split``."""
    X = ctx.features(split)
    names = ctx.model.feature_names if ctx.model is not None else None
    if names is not None:
        X = X.select(names)
    return X if rows is None else X[rows]


def prediction_method(ctx: AuditContext, model: Any) -> str:
    """``predict_proba`` for classifiers that have it (what a scoring service calls)."""
    if ctx.task in ("binary", "multiclass") and hasattr(model, "predict_proba"):
        return "predict_proba"
    return "predict"


def python_runner(name: str, model: Any, X: Any, method: str) -> Runner:
    """Time ``model.<method>`` on slices of a pandas frame prepared in advance."""
    fn = getattr(model, method)
    return Runner(name, batch=lambda a, b: X.iloc[a:b], call=fn)


def onnx_runner(
    name: str, session: Any, feed: Mapping[str, np.ndarray], *, threads: int = 1
) -> Runner:
    """Time ``session.run`` on slices of an input feed prepared in advance."""
    return Runner(
        name,
        batch=lambda a, b: {k: v[a:b] for k, v in feed.items()},
        call=lambda f: session.run(None, f),
        threads=threads,
    )


def onnx_feed_from_polars(session: Any, X: pl.DataFrame) -> dict[str, np.ndarray]:
    """The input feed of an ONNX model loaded by Assay, built as its adapter builds it."""
    inputs = session.get_inputs()
    if len(inputs) == 1:
        return {inputs[0].name: X.select(pl.all().cast(pl.Float32)).to_numpy()}
    feed = {}
    for inp in inputs:
        col = X.get_column(inp.name)
        if "string" in inp.type:
            feed[inp.name] = col.cast(pl.String).fill_null("").to_numpy().reshape(-1, 1)
        elif "int" in inp.type:
            feed[inp.name] = col.fill_null(0).to_numpy().astype(np.int64).reshape(-1, 1)
        else:
            feed[inp.name] = col.cast(pl.Float32).to_numpy().reshape(-1, 1)
    return feed


def serialized_size(obj: Any) -> int | None:
    """Bytes of ``obj`` pickled in memory (``None`` when it cannot be pickled)."""
    try:
        return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        return None


# -- predictions ------------------------------------------------------------------
def align_proba(raw: Any, model_classes: Sequence[Any] | None, classes: Sequence[Any]) -> Any:
    """Probability columns re-ordered from the model's classes to the audit's."""
    raw = np.asarray(raw, dtype=np.float64)
    if raw.ndim == 1:
        raw = np.column_stack([1 - raw, raw])
    if model_classes is None:
        return raw
    out = np.zeros((raw.shape[0], len(classes)))
    for j, code in enumerate(encode_labels(np.asarray(list(model_classes), dtype=object), classes)):
        if code >= 0 and j < raw.shape[1]:
            out[:, code] = raw[:, j]
    return out


def eval_data(ctx: AuditContext, y: Any, labels: Any, proba: Any) -> EvalData:
    """Encode a variant's test predictions like the original's."""
    task = ctx.task or "regression"
    if task == "regression":
        return EvalData.from_arrays(task, y, np.asarray(labels, dtype=np.float64).ravel())
    return EvalData.from_arrays(
        task,
        y,
        np.asarray(labels).ravel(),
        proba,
        classes=ctx.classes,
        positive_class=ctx.positive_class,
    )


def agreement(reference: EvalData, other: EvalData, *, tolerance: float) -> float:
    """Share of rows where ``other`` predicts what ``reference`` does.

    For classes: the same predicted class. For regression: within
    ``tolerance`` × the standard deviation of the reference predictions.
    """
    if reference.n == 0:
        return float("nan")
    if reference.task == "regression":
        scale = float(np.std(reference.pred)) or 1.0
        return float(np.mean(np.abs(reference.pred - other.pred) <= tolerance * scale))
    return float(np.mean(reference.pred == other.pred))


def fidelity(reference: EvalData, other: EvalData) -> float:
    """Agreement on classes; R² of ``other`` against ``reference`` for regression."""
    if reference.task != "regression":
        return agreement(reference, other, tolerance=0.0)
    sst = float(np.sum((reference.pred - reference.pred.mean()) ** 2))
    sse = float(np.sum((reference.pred - other.pred) ** 2))
    return 1.0 - sse / sst if sst > 0 else (1.0 if sse == 0 else 0.0)


def max_score_difference(reference: EvalData, other: EvalData) -> float | None:
    """Largest absolute difference in class probabilities (or predicted values)."""
    if reference.task == "regression":
        return float(np.max(np.abs(reference.pred - other.pred), initial=0.0))
    if reference.proba is None or other.proba is None:
        return None
    return float(np.max(np.abs(reference.proba - other.proba), initial=0.0))


# -- one variant ------------------------------------------------------------------
@dataclass
class Variant:
    """A model variant: how to run it, what it predicted on test, what it measured."""

    key: str
    label: str
    runner: Runner
    data: EvalData
    size_bytes: int | None
    note: str = ""
    short: str = ""
    latency: Timing | None = None
    throughput: Timing | None = None
    agreement: float | None = None
    max_difference: float | None = None
    metric: Interval | None = None
    change: Interval | None = None
    cost: dict[str, float | None] = field(default_factory=dict)

    @property
    def rows_per_s(self) -> float | None:
        return None if self.throughput is None else self.throughput.rows_per_s

    @property
    def median_ms(self) -> float:
        """Median one-row latency, which :func:`measure` sets on every variant."""
        if self.latency is None:
            raise ValueError(f"{self.label} has not been timed")
        return self.latency.p50_ms

    @property
    def measured_metric(self) -> Interval:
        """The metric on test, which :func:`compare` sets on every variant."""
        if self.metric is None:
            raise ValueError(f"{self.label} has not been compared")
        return self.metric

    @property
    def measured_change(self) -> Interval:
        """The metric's change from the first variant, which :func:`compare` sets."""
        if self.change is None:
            raise ValueError(f"{self.label} has not been compared")
        return self.change

    @property
    def rows_per_s_per_thread(self) -> float | None:
        r = self.rows_per_s
        return None if r is None else r / self.runner.threads


def measure(variants: Sequence[Variant], *, n_rows: int, batch: int, budget_s: float) -> None:
    """Time every variant alike: one row at a time, then ``batch`` rows per call.

    Each variant gets an equal share of ``budget_s`` (40% single rows, 60% batches).
    """
    share = budget_s / max(1, len(variants))
    with one_thread():
        for v in variants:
            v.latency = measure_latency(v.runner, n_rows=n_rows, budget_s=0.4 * share, min_reps=10)
            v.throughput = measure_batch(v.runner, batch, n_rows=n_rows, budget_s=0.6 * share)


def compare(ctx: AuditContext, test: SplitData, variants: Sequence[Variant], metric: str) -> None:
    """Metric of each variant and its change from the first one, on paired resamples."""
    s = ctx.settings
    datas = {v.key: v.data for v in variants}
    ref = variants[0].key
    scores, diffs = paired_comparison(
        datas,
        metric,
        reference=ref,
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        stream=test.stream,
    )
    for v in variants:
        v.metric = scores[v.key]
        if v.key == ref:
            v.change = Interval(0.0, 0.0, 0.0)
        else:  # reference − variant, turned into variant − reference
            d = diffs[v.key]
            v.change = Interval(_neg(d.value), _neg(d.high), _neg(d.low))


def _neg(x: float | None) -> float | None:
    return None if x is None else 0.0 - x + 0.0  # no negative zero


def add_costs(variants: Sequence[Variant], instances: Sequence[Mapping[str, Any]]) -> None:
    for v in variants:
        v.cost = costs(v.rows_per_s, instances, v.runner.threads)


def measure_variants(
    ctx: AuditContext,
    test: SplitData,
    variants: Sequence[Variant],
    metric: str,
    *,
    n_rows: int,
    time_budget_s: float,
    instances: Sequence[Mapping[str, Any]],
) -> int:
    """Metric and its change (:func:`compare`), timing (:func:`measure`) within the
    budget scaled to ``n_rows``, and cost of every variant; returns the batch size
    throughput was timed at."""
    compare(ctx, test, variants, metric)
    batch = throughput_batch(n_rows)
    measure(variants, n_rows=n_rows, batch=batch, budget_s=scaled_budget(time_budget_s, n_rows))
    add_costs(variants, instances)
    return batch


# -- reporting ---------------------------------------------------------------------
def variant_metrics(v: Variant, *, agreement_name: str = "agreement") -> dict[str, Any]:
    """Flat metrics of one variant, keyed ``<variant>_<measure>``."""
    k = v.key
    out: dict[str, Any] = {
        f"{k}_latency_p50_ms": None if v.latency is None else v.latency.p50_ms,
        f"{k}_latency_p95_ms": None if v.latency is None else v.latency.p95_ms,
        f"{k}_latency_p99_ms": None if v.latency is None else v.latency.p99_ms,
        f"{k}_rows_per_s": v.rows_per_s,
        f"{k}_size_bytes": v.size_bytes,
        f"{k}_{agreement_name}": v.agreement,
        f"{k}_metric": None if v.metric is None else v.metric.value,
        f"{k}_metric_change": None if v.change is None else v.change.value,
        f"{k}_metric_change_low": None if v.change is None else v.change.low,
        f"{k}_metric_change_high": None if v.change is None else v.change.high,
    }
    for name, usd in v.cost.items():
        out[f"{k}_usd_per_million_{slug(name)}"] = usd
    return out


def variant_rows(variants: Sequence[Variant], metric: str) -> list[dict[str, Any]]:
    """One row per variant for the report and for ``assay bench``'s table."""
    rows = []
    for v in variants:
        lat, thr = v.latency, v.throughput
        rows.append(
            {
                "variant": v.key,
                "label": v.label,
                "short": v.short or v.label,
                "latency_p50_ms": None if lat is None else lat.p50_ms,
                "latency_p95_ms": None if lat is None else lat.p95_ms,
                "latency_p99_ms": None if lat is None else lat.p99_ms,
                "single_row_repetitions": None if lat is None else lat.reps,
                "rows_per_s": v.rows_per_s,
                "threads": v.runner.threads,
                "throughput_batch_size": None if thr is None else thr.batch_size,
                "throughput_repetitions": None if thr is None else thr.reps,
                "size_bytes": v.size_bytes,
                "agreement": v.agreement,
                "max_score_difference": v.max_difference,
                "metric_name": metric,
                "metric": None if v.metric is None else v.metric.value,
                "metric_low": None if v.metric is None else v.metric.low,
                "metric_high": None if v.metric is None else v.metric.high,
                "metric_change": None if v.change is None else v.change.value,
                "metric_change_low": None if v.change is None else v.change.low,
                "metric_change_high": None if v.change is None else v.change.high,
                "usd_per_million": dict(v.cost),
                "note": v.note,
            }
        )
    return rows


def bars_chart(
    title: str,
    x_label: str,
    items: Sequence[tuple[str, float | None, str]],
    *,
    unit: Unit,
    threshold: float | None = None,
) -> dict[str, Any]:
    """A ``bars`` chart (:class:`~assay.core.charts.BarChart`) as a dict; items without a
    value are left out."""
    return BarChart(
        title=title,
        x_label=x_label,
        unit=unit,
        items=[
            Bar(label, value, status)
            for label, value, status in items
            if value is not None and np.isfinite(value)
        ],
        threshold=threshold,
    ).to_dict()


def fmt_ms(ms: float | None) -> str:
    """``0.0123`` → ``'0.012 ms'``; ``1234.5`` → ``'1,234 ms'``."""
    if ms is None:
        return "n/a"
    if ms >= 100:
        return f"{ms:,.0f} ms"
    return f"{ms:.2g} ms" if ms < 1 else f"{ms:.3g} ms"


def fmt_rate(rows_per_s: float | None) -> str:
    """Rows per second, rounded to three significant figures."""
    if rows_per_s is None or not np.isfinite(rows_per_s):
        return "n/a"
    if rows_per_s >= 1000:
        return f"{float(f'{rows_per_s:.3g}'):,.0f} rows/s"
    return f"{rows_per_s:.3g} rows/s"


def change_text(metric: str, change: Interval, confidence: float, *, versus: str = "") -> str:
    """``'−0.013 (95% CI −0.015 to −0.011)'``, or ``'unchanged'`` for an exact zero.

    With ``versus``: ``'−0.013 against the model, 95% CI −0.015 to −0.011'``.
    """
    from assay.evaluation._common import ci_text, fmt

    if change.value == 0 and change.low in (0, None) and change.high in (0, None):
        return "unchanged"
    value = fmt(metric, change.value, signed=True)
    ci = ci_text(metric, change, confidence, signed=True)
    return f"{value} {versus}, {ci}" if versus else f"{value} ({ci})"


def fmt_times(ratio: float | None) -> str:
    """``231.4`` → ``'231×'``; ``1264.0`` → ``'1,264×'``; ``1.04`` → ``'1.04×'``."""
    if ratio is None or not np.isfinite(ratio):
        return "n/a"
    return f"{ratio:,.0f}×" if ratio >= 100 else f"{ratio:.3g}×"


def fmt_share(x: float | None) -> str:
    """``1.0`` → ``'100%'``; ``0.9987`` → ``'99.87%'``; ``0.912`` → ``'91.2%'``."""
    if x is None or not np.isfinite(x):
        return "n/a"
    if x == 1.0:
        return "100%"
    return f"{x:.2%}" if x >= 0.99 else f"{x:.1%}"


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "n/a"
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} B"
