"""``drift.multivariate``: can a classifier tell current rows from reference rows?

A domain classifier (scikit-learn's ``HistGradientBoostingClassifier``) learns
to predict whether a row comes from current (1) or reference (0). On rows it
did not learn from, an ROC-AUC near 0.5 means the two tables cannot be told
apart; near 1, they are different populations, even when every column taken
alone looks the same (a change in how columns relate to each other).

Sampling is stated and reproducible: at most ``max_rows`` rows of each table,
those with the smallest content hash (so the sample does not depend on row
order or, with the Dask engine, on partitioning); of these, rows whose hash
falls in the lowest ``holdout`` share are held out for the AUC and its
bootstrap interval (:mod:`assay.evaluation._bootstrap`); the first
``importance_rows`` of them (in hash order) give the permutation importance
of each feature (the drop in held-out AUC when that feature is shuffled). A
feature is named when that drop is at least ``importance_min`` and more than
twice the spread of its repeats.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.drift._common import (
    engine_name,
    feature_specs,
    reference_choice,
    reference_name,
    reference_split,
    rows_text,
)
from assay.engine import ColumnSpec, engine_for
from assay.engine._columns import WEEKDAYS

if TYPE_CHECKING:
    from assay.core.context import AuditContext

CHECK_ID = "drift.multivariate"
MAX_CATEGORIES = 250
"""Categories per column given to the classifier; rarer ones share one code."""
BOOTSTRAP_STREAM = 11
MAX_ITER = 60
LEARNING_RATE = 0.15


def _encode(
    ref: pl.DataFrame, cur: pl.DataFrame, specs: Sequence[ColumnSpec]
) -> tuple[np.ndarray, np.ndarray]:
    """Features as a float matrix (categories as codes) and the categorical mask."""
    both = pl.concat([ref.drop("__hash__"), cur.drop("__hash__")], how="vertical_relaxed")
    cols, mask = [], []
    for spec in specs:
        s = both.get_column(spec.column)
        if spec.part == "weekday":
            s = s.dt.weekday().replace_strict(WEEKDAYS, return_dtype=pl.String, default=None)
        elif spec.part == "hour":
            s = s.dt.hour().cast(pl.String)
        if spec.kind == "numeric":
            a = s.cast(pl.Float64, strict=False).to_numpy().astype(np.float64, copy=True)
            a[~np.isfinite(a)] = np.nan
            cols.append(a)
            mask.append(False)
            continue
        s = s.cast(pl.String)
        vc = s.drop_nulls().value_counts(name="n")
        vc = vc.sort(["n", s.name], descending=[True, False]).head(MAX_CATEGORIES)
        keep = vc.get_column(s.name).sort()
        codes = pl.DataFrame({s.name: keep, "code": np.arange(keep.len(), dtype=np.float64)})
        mapped = pl.DataFrame({s.name: s}).join(codes, on=s.name, how="left", nulls_equal=False)
        a = mapped.get_column("code").to_numpy().astype(np.float64, copy=True)
        other = s.is_not_null().to_numpy() & np.isnan(a)
        a[other] = float(keep.len())
        cols.append(a)
        mask.append(True)
    return np.column_stack(cols), np.array(mask)


def _auc_interval(ctx: AuditContext, y: np.ndarray, p: np.ndarray):
    from assay.evaluation._bootstrap import metric_intervals
    from assay.evaluation._metrics import EvalData

    data = EvalData.from_arrays(
        "binary",
        y,
        (p >= 0.5).astype(int),
        np.column_stack([1 - p, p]),
        classes=[0, 1],
        positive_class=1,
    )
    s = ctx.settings
    return metric_intervals(
        data,
        ["roc_auc"],
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
        stream=BOOTSTRAP_STREAM,
    )["roc_auc"]


@dataclass(frozen=True)
class MultivariateDriftParams:
    """Parameters of ``drift.multivariate``."""

    auc_warn: float = param(
        0.55,
        "Classifier AUC (reference vs current) whose interval's low end warns.",
        ge=0.5,
        le=1,
    )
    auc_fail: float = param(
        0.7,
        "Classifier AUC (reference vs current) whose interval's low end fails.",
        ge=0.5,
        le=1,
    )
    max_rows: int = param(10_000, "Rows sampled from each of reference and current.", ge=1)
    holdout: float = param(
        0.3, "Share of the rows held out to score the domain classifier.", gt=0, lt=1
    )
    min_rows: int = param(50, "Rows reference and current each need to be compared.", ge=1)
    top_features: int = param(5, "Most telling features named.", ge=0)
    importance_min: float = param(
        0.005, "Permutation importance (AUC drop) a feature needs to be named.", ge=0
    )
    importance_rows: int = param(2000, "Held-out rows used for the permutation importances.", ge=1)
    importance_repeats: int = param(3, "Shuffles per feature of the importances.", ge=1)


@dataclass(frozen=True)
class MultivariateDriftDetails(Details):
    """What ``drift.multivariate`` keeps in its ``details`` (``report.json``)."""

    reference: str
    reference_choice: str
    engine: str
    classifier: str
    rows_used: Mapping[str, Any]
    n_bootstrap: int
    confidence: float
    importance: tuple[Mapping[str, Any], ...]
    skipped_columns: tuple[Any, ...]


@register_check(
    CHECK_ID,
    area="drift",
    title="Multivariate drift (domain classifier)",
    explanation=(
        "Trains a classifier to tell current rows from reference rows and measures, on rows it "
        "did not learn from, how well it succeeds (ROC-AUC: 0.5 means the tables cannot be told "
        "apart, 1 that they are entirely different). It catches changes that no single column "
        "shows, such as two columns that used to move together and no longer do, and names the "
        "features that give current data away. The status is judged on the lower end of the "
        "AUC's confidence interval, so that chance alone does not raise an alarm."
    ),
    standards=("MEASURE 2.4", "MANAGE 4.1"),
    severity="medium",
    params=MultivariateDriftParams,
    needs=("current",),
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=MultivariateDriftDetails,
)
def multivariate_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Domain-classifier drift; ``fail``/``warn`` when the lower bound of the held-out
    AUC's interval reaches ``auc_fail``/``auc_warn``. Measured
    (:func:`measure_multivariate_drift`), judged (:func:`judge_multivariate_drift`),
    described."""
    m = measure_multivariate_drift(ctx, th)
    status = judge_multivariate_drift(m, th)
    return _describe(m, status, th, ctx.settings.confidence, ctx.settings.n_bootstrap)


@dataclass(frozen=True)
class MultivariateDrift:
    """What ``drift.multivariate`` measures (numbers only, no verdict)."""

    auc: float
    """Held-out ROC-AUC of the domain classifier (0.5: the tables cannot be told apart)."""
    auc_low: float | None
    auc_high: float | None
    reference: str
    reference_rows: int
    """Rows of the reference used (after sampling); ``reference_available`` before."""
    current_rows: int
    reference_available: int
    current_available: int
    holdout_rows: int = 0
    importance_rows: int = 0
    features: int = 0
    importance: tuple[dict[str, Any], ...] = ()
    """Every feature's permutation importance (feature, importance, std), largest first."""
    telling: tuple[tuple[str, str, float], ...] = ()
    """(feature, column, importance) of the features that give current away, largest first."""
    skipped: tuple[dict[str, str], ...] = ()
    reference_choice: str = ""
    engine: str = "local"
    seed: int = 0

    @property
    def clear_low(self) -> float:
        """The low end of the AUC's interval (the AUC itself without an interval)."""
        return self.auc_low if self.auc_low is not None else self.auc

    @property
    def sampled(self) -> bool:
        return (
            self.reference_rows < self.reference_available
            or self.current_rows < self.current_available
        )


def judge_multivariate_drift(m: MultivariateDrift, th: Mapping[str, Any]) -> Status:
    """``fail`` when the low end of the AUC's interval reaches ``auc_fail``, ``warn`` when
    it reaches ``auc_warn``; else ``pass``."""
    if m.clear_low >= th["auc_fail"]:
        return "fail"
    return "warn" if m.clear_low >= th["auc_warn"] else "pass"


def measure_multivariate_drift(ctx: AuditContext, th: Mapping[str, Any]) -> MultivariateDrift:
    """Sample both tables, train the domain classifier, score it on held-out rows and
    rank the features by permutation importance."""
    split = reference_split(ctx)
    ref_name = reference_name(ctx)
    engine = engine_for(ctx, split)
    current_columns = set(engine.columns("current"))
    columns = [c for c in ctx.schema.features if c in current_columns]
    specs, skipped = feature_specs(columns, ctx.schema.types, ctx.frame(split))
    if not specs:
        raise SkipCheck("no feature column can be given to the domain classifier")
    ref, cur, (n_ref, n_cur) = engine.sample(
        sorted({s.column for s in specs}), int(th["max_rows"]), ctx.settings.seed
    )
    if min(ref.height, cur.height) < th["min_rows"]:
        raise SkipCheck(
            f"too few rows for a domain classifier ({ref.height:,} in {ref_name}, "
            f"{cur.height:,} in current; at least {th['min_rows']} each)"
        )
    X, cat_mask = _encode(ref, cur, specs)
    y = np.concatenate([np.zeros(ref.height, dtype=int), np.ones(cur.height, dtype=int)])
    h = np.concatenate(
        [ref.get_column("__hash__").to_numpy(), cur.get_column("__hash__").to_numpy()]
    )
    hold = (h % np.uint64(10_000)).astype(np.int64) < int(th["holdout"] * 10_000)
    if len(set(y[hold])) < 2 or len(set(y[~hold])) < 2:
        raise SkipCheck("the held-out rows do not contain both tables")
    p, imp, probe = _fit(X, y, h, hold, cat_mask, ctx.settings.seed, th)
    iv = _auc_interval(ctx, y[hold], p)
    mean, std = imp.importances_mean, imp.importances_std
    order = sorted(range(len(specs)), key=lambda k: (-mean[k], specs[k].name))
    # A feature "gives current away" when shuffling it costs a clear share of AUC,
    # beyond the spread of its own repeats.
    telling = [
        (specs[k].name, specs[k].column, float(mean[k]))
        for k in order[: int(th["top_features"])]
        if mean[k] >= th["importance_min"] and mean[k] > 2 * std[k]
    ]
    auc = float(iv.value) if iv.value is not None else 0.5
    return MultivariateDrift(
        auc=auc,
        auc_low=iv.low,
        auc_high=iv.high,
        reference=ref_name,
        reference_rows=ref.height,
        current_rows=cur.height,
        reference_available=n_ref,
        current_available=n_cur,
        holdout_rows=int(hold.sum()),
        importance_rows=int(probe.size),
        features=len(specs),
        importance=tuple(
            {"feature": specs[k].name, "importance": float(mean[k]), "std": float(std[k])}
            for k in order
        ),
        telling=tuple(telling),
        skipped=tuple(skipped),
        reference_choice=reference_choice(ctx),
        engine=engine_name(ctx),
        seed=ctx.settings.seed,
    )


def _fit(
    X: np.ndarray,
    y: np.ndarray,
    h: np.ndarray,
    hold: np.ndarray,
    cat_mask: np.ndarray,
    seed: int,
    th: Mapping[str, Any],
) -> tuple[np.ndarray, Any, np.ndarray]:
    """The domain classifier's held-out scores, its permutation importances and the
    held-out rows they were measured on."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.inspection import permutation_importance
    from threadpoolctl import threadpool_limits

    clf = HistGradientBoostingClassifier(
        max_iter=MAX_ITER,
        learning_rate=LEARNING_RATE,
        categorical_features=cat_mask if cat_mask.any() else None,
        early_stopping=False,
        random_state=seed,
    )
    # One OpenMP thread: on a sample this size threads gain little, and on a busy
    # machine OpenMP's spinning threads can make a fit a hundred times slower.
    with threadpool_limits(limits=1, user_api="openmp"):
        clf.fit(X[~hold], y[~hold])
        p = clf.predict_proba(X[hold])[:, 1]
        # Importance on the first held-out rows in hash order (both tables mixed),
        # to bound its cost.
        held = np.flatnonzero(hold)
        probe = held[np.argsort(h[held], kind="stable")][: int(th["importance_rows"])]
        if len(set(y[probe])) < 2:
            probe = held
        imp = permutation_importance(
            clf,
            X[probe],
            y[probe],
            scoring="roc_auc",
            n_repeats=int(th["importance_repeats"]),
            random_state=seed,
        )
    return p, imp, probe


def _summary(m: MultivariateDrift, status: Status, th: Mapping[str, Any], conf: float) -> str:
    """One sentence: how well current can be told from the reference, on which rows."""
    ref_name, auc, low = m.reference, m.auc, m.clear_low
    ci = f"{conf:.0%} CI {low:.2f}–{m.auc_high:.2f}" if m.auc_high is not None else "no interval"
    used = (
        f"on a sample of {m.reference_rows:,} of {m.reference_available:,} {ref_name} rows "
        f"and {m.current_rows:,} of {m.current_available:,} current rows"
        if m.sampled
        else f"on {rows_text(m.reference_available)} of {ref_name} and "
        f"{rows_text(m.current_available)} of current"
    )
    if status == "pass":
        return (
            f"Current cannot be reliably told apart from {ref_name}: a classifier reaches "
            f"ROC-AUC {auc:.2f} ({ci}) on held-out rows, {used}."
        )
    names = ", ".join(f"'{name}'" for name, _, _ in m.telling[:3])
    line = th["auc_fail"] if status == "fail" else th["auc_warn"]
    return (
        f"A classifier tells current from {ref_name} with ROC-AUC {auc:.2f} ({ci}; lower "
        f"bound at or above {line}), {used}"
        + (f"; {names} give current away most." if names else ".")
    )


_RECOMMENDATION = {
    "fail": (
        "Current data is a different population from the reference. Look at the features "
        "named here and in drift.features, find the cause, and evaluate the model on recent "
        "labelled data before trusting its predictions."
    ),
    "warn": (
        "Current data can be told apart from the reference: check the named features "
        "for a real change or a pipeline fault, and watch the model's performance."
    ),
    "pass": "Nothing to do now; repeat the comparison on new production data.",
}


def _findings(m: MultivariateDrift, status: Status) -> list[Finding]:
    """The features that give current away, as one finding (none when no feature does)."""
    if not m.telling:
        return []
    names = ", ".join(f"'{name}'" for name, _, _ in m.telling[:3])
    more = f" and {len(m.telling) - 3} more" if len(m.telling) > 3 else ""
    return [
        Finding(
            status=status,
            message=(
                f"The features that separate current from {m.reference} most are {names}"
                f"{more} (held-out AUC drop when each is shuffled)."
            ),
            columns=tuple(dict.fromkeys(column for _, column, _ in m.telling)),
            split="current",
            metrics={f"importance_{name}": value for name, _, value in m.telling},
        )
    ]


def _charts(m: MultivariateDrift, status: Status) -> list[dict[str, Any]]:
    """The AUC with its interval, and the features' importances (at most 15)."""
    high = m.auc_high if m.auc_high is not None else m.auc
    charts: list[dict[str, Any]] = [
        IntervalChart(
            title="Domain classifier ROC-AUC on held-out rows (0.5: indistinguishable)",
            x_label="ROC-AUC",
            unit="value",
            items=[IntervalItem("current vs " + m.reference, m.auc, m.clear_low, high)],
        ).to_dict()
    ]
    named = {name for name, _, _ in m.telling}
    bars = [
        Bar(
            r["feature"],
            max(r["importance"], 0.0),
            "warn" if r["feature"] in named and status != "pass" else "pass",
        )
        for r in m.importance
    ][:15]
    if bars:
        charts.append(
            BarChart(
                title="What gives current data away: drop in held-out AUC when shuffled",
                x_label="permutation importance (AUC drop)",
                unit="value",
                items=bars,
            ).to_dict()
        )
    return charts


def _describe(
    m: MultivariateDrift, status: Status, th: Mapping[str, Any], conf: float, n_bootstrap: int
) -> Outcome:
    """Summary, finding, recommendation, charts and details of a judged domain classifier."""
    return Outcome(
        status=status,
        summary=_summary(m, status, th, conf),
        metrics={
            "auc": m.auc,
            "auc_low": m.auc_low,
            "auc_high": m.auc_high,
            "reference_rows_used": m.reference_rows,
            "current_rows_used": m.current_rows,
            "holdout_rows": m.holdout_rows,
            "features": m.features,
        },
        findings=_findings(m, status),
        recommendation=_RECOMMENDATION[status],
        details={
            "reference": m.reference,
            "reference_choice": m.reference_choice,
            "engine": m.engine,
            "classifier": f"HistGradientBoostingClassifier(max_iter={MAX_ITER}, "
            f"learning_rate={LEARNING_RATE}, early_stopping=False, random_state={m.seed})",
            "rows_used": {
                "reference": m.reference_rows,
                "current": m.current_rows,
                "reference_available": m.reference_available,
                "current_available": m.current_available,
                "sampled": m.sampled,
                "sampling": f"the {int(th['max_rows']):,} rows of each table with the smallest "
                "content hash; rows whose hash falls in the lowest "
                f"{th['holdout']:.0%} are held out; permutation importance on the first "
                f"{int(th['importance_rows']):,} held-out rows",
                "holdout": m.holdout_rows,
                "importance_rows": m.importance_rows,
            },
            "n_bootstrap": n_bootstrap,
            "confidence": conf,
            "importance": [dict(r) for r in m.importance],
            "skipped_columns": list(m.skipped),
            "charts": _charts(m, status),
        },
    )
