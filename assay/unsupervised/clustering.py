"""Clustering checks: is the structure real, is it stable, and how big is each cluster.

- ``clustering.quality``: silhouette, Davies-Bouldin and Calinski-Harabasz of
  the assignment, each against a null of the same data with the structure
  between columns removed (every column permuted on its own, the clustering
  refitted): "0.31" then means "0.31 where chance gives 0.12".
- ``clustering.stability``: the adjusted Rand index between the assignment and
  refits on bootstrap resamples, and per cluster the Jaccard of its best match
  in each refit (after Hennig's ``clusterboot``); a cluster under 0.6 is not
  reproducible.
- ``clustering.sizes``: each cluster's share with an interval, tiny clusters,
  the imbalance, and a 2-D PCA map of a sample for the report.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import (
    adjusted_rand_score,
    calinski_harabasz_score,
    davies_bouldin_score,
    silhouette_samples,
)
from sklearn.metrics.cluster import contingency_matrix

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.details.unsupervised import ClusterSizesDetails, Projection  # noqa: F401  (re-exported)
from assay.unsupervised import _inputs
from assay.unsupervised._refit import NOISE, Refitter, sorted_labels
from assay.unsupervised._stats import mean_interval, num, pct, percentile_range, wilson

_STANDARDS = ("MEASURE 2.3", "MEASURE 2.5")
_NULL_STREAM = 0xC1  # keeps each check's random stream apart
_STAB_STREAM = 0xC2
_MAP_STREAM = 0xC3


def _sample(n: int, cap: int, seed: int, stream: int) -> np.ndarray:
    """Sorted row indexes of a uniform sample of at most ``cap`` rows (all when fewer)."""
    if n <= cap:
        return np.arange(n)
    rng = np.random.default_rng([int(seed), stream])
    return np.sort(rng.choice(n, size=cap, replace=False))


def _refitter(ctx: AuditContext, X: np.ndarray, labels: np.ndarray) -> Refitter:
    model = _inputs.refit_model(ctx)
    frame = _inputs.model_frame(ctx, "test") if model is not None else None
    k = len([u for u in np.unique(labels) if u != NOISE])
    r = Refitter(model, frame, X, k, ctx.settings.seed)
    r.sources = _inputs.view(ctx, "test").source
    return r


def cluster_scores(X: np.ndarray, labels: np.ndarray) -> dict[str, float] | None:
    """Silhouette (mean, noise rows counted as 0), Davies-Bouldin and Calinski-Harabasz
    (noise rows left out) of ``labels`` on ``X``; ``None`` when fewer than two clusters
    remain.

    >>> X = np.array([[0.0], [0.1], [5.0], [5.1]])
    >>> round(cluster_scores(X, np.array(["a", "a", "b", "b"]))["silhouette"], 2)
    0.98
    """
    keep = labels != NOISE
    n = labels.size
    X, labels = X[keep], labels[keep]
    k = np.unique(labels).size
    if k < 2 or k >= labels.size:
        return None
    return {  # noise rows count as 0 (no cluster), so a procedure cannot gain by discarding
        "silhouette": float(silhouette_samples(X, labels).sum() / n),
        "davies_bouldin": float(davies_bouldin_score(X, labels)),
        "calinski_harabasz": float(calinski_harabasz_score(X, labels)),
    }


def judge_quality(m: Quality, th: Mapping[str, Any]) -> Status:
    """``fail`` when the silhouette is no better than the null (``p_value > alpha``);
    ``warn`` when better but by less than ``gap_warn``; else ``pass``.

    >>> m = Quality(0.31, 0.3, 0.32, 0.3, 0.28, 0.33, p_value=0.4, n_clusters=4, rows_measured=900)
    >>> judge_quality(m, {"alpha": 0.05, "gap_warn": 0.05})
    'fail'
    >>> m = Quality(0.6, 0.5, 0.7, 0.3, 0.28, 0.33, p_value=0.01, n_clusters=4, rows_measured=900)
    >>> judge_quality(m, {"alpha": 0.05, "gap_warn": 0.05})
    'pass'
    """
    if m.p_value > float(th["alpha"]):
        return "fail"
    return "warn" if m.gap < float(th["gap_warn"]) else "pass"


@dataclass(frozen=True)
class Quality:
    """What ``clustering.quality`` measures (numbers only, no verdict)."""

    silhouette: float
    silhouette_low: float
    silhouette_high: float
    silhouette_null: float
    """Mean silhouette of the refits on data with every column shuffled on its own."""
    silhouette_null_low: float
    silhouette_null_high: float
    p_value: float
    """Share of null silhouettes at least the observed one (Monte Carlo, +1 smoothed)."""
    n_clusters: int
    rows_measured: int
    other_scores: Mapping[str, float] = field(default_factory=dict)
    """Davies-Bouldin and Calinski-Harabasz, and their null means (``<name>_null``)."""
    null_procedure: str = ""

    @property
    def gap(self) -> float:
        """Silhouette gain over shuffled data."""
        return self.silhouette - self.silhouette_null


@dataclass(frozen=True)
class ClusterQualityParams:
    """Parameters of ``clustering.quality``."""

    alpha: float = param(
        0.05, "Significance level of the test against shuffled (structureless) data.", gt=0, lt=1
    )
    gap_warn: float = param(
        0.05, "Silhouette gain over shuffled data under which the clusters are weak.", ge=0
    )
    null_draws: int = param(24, "Clusterings of shuffled data the scores are compared with.", ge=1)
    sample_rows: int = param(2000, "Rows sampled for the scores.", ge=2)


@dataclass(frozen=True)
class ClusterQualityDetails(Details):
    """What ``clustering.quality`` keeps in its ``details`` (``report.json``)."""

    null_procedure: str


@register_check(
    "clustering.quality",
    area="clustering",
    title="Cluster quality against chance",
    explanation="Silhouette, Davies-Bouldin and Calinski-Harabasz scores say how compact and "
    "separated the clusters are, but any clustering of any data gets some score. Here each is "
    "compared with the same clustering procedure run again on the same data with every column "
    "shuffled on its own (each column keeps its values, the structure between them is gone). "
    "Clusters whose scores chance matches are an artefact of the algorithm, not groups in "
    "the data.",
    standards=_STANDARDS,
    severity="high",
    params=ClusterQualityParams,
    needs=("model",),
    tasks=("clustering",),
    details=ClusterQualityDetails,
)
def check_quality(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Cluster scores against shuffled data: measured (:func:`measure_quality`), judged
    (:func:`judge_quality`), described."""
    m = measure_quality(ctx, null_draws=int(th["null_draws"]), sample_rows=int(th["sample_rows"]))
    return _describe_quality(m, judge_quality(m, th), ctx.settings.confidence)


def measure_quality(ctx: AuditContext, *, null_draws: int, sample_rows: int) -> Quality:
    """The assignment's scores on a sample, and the same procedure's on shuffled data."""
    conf, seed = ctx.settings.confidence, ctx.settings.seed
    X = _inputs.view(ctx, "test").X
    labels = _inputs.clusters(ctx, "test")
    rows = _sample(X.shape[0], sample_rows, seed, _NULL_STREAM)
    obs = cluster_scores(X[rows], labels[rows])
    if obs is None:
        raise SkipCheck("the assignment has fewer than two clusters (besides noise)")
    keep = labels[rows] != NOISE
    s_i = np.zeros(rows.size)
    s_i[keep] = silhouette_samples(X[rows][keep], labels[rows][keep])
    s_lo, s_hi = mean_interval(s_i, draws=ctx.settings.n_bootstrap, seed=seed, confidence=conf)
    refit = _refitter(ctx, X, labels)
    rng = np.random.default_rng([int(seed), _NULL_STREAM, 1])
    null: dict[str, list[float]] = {k: [] for k in obs}
    for i in range(null_draws):
        Xp, lp = refit.fit_permuted(rows, rng, i)
        sc = cluster_scores(Xp, lp)
        null["silhouette"].append(0.0 if sc is None else sc["silhouette"])
        if sc is not None:
            null["davies_bouldin"].append(sc["davies_bouldin"])
            null["calinski_harabasz"].append(sc["calinski_harabasz"])
    sil_null = np.asarray(null["silhouette"])
    others: dict[str, float] = {}
    for name in ("davies_bouldin", "calinski_harabasz"):
        others[name] = obs[name]
        if null[name]:
            others[f"{name}_null"] = float(np.mean(null[name]))
    null_lo, null_hi = percentile_range(sil_null, conf)
    return Quality(
        silhouette=obs["silhouette"],
        silhouette_low=s_lo,
        silhouette_high=s_hi,
        silhouette_null=float(sil_null.mean()),
        silhouette_null_low=null_lo,
        silhouette_null_high=null_hi,
        p_value=float((1 + np.count_nonzero(sil_null >= obs["silhouette"])) / (1 + sil_null.size)),
        n_clusters=int(np.unique(labels[labels != NOISE]).size),
        rows_measured=int(rows.size),
        other_scores=others,
        null_procedure=refit.procedure + " on data with each column permuted",
    )


def _describe_quality(m: Quality, status: Status, conf: float) -> Outcome:
    """Summary, finding, recommendation and chart of a judged cluster quality."""
    null_text = (
        f"{num(m.silhouette_null)} (range {num(m.silhouette_null_low)}–"
        f"{num(m.silhouette_null_high)}) when every column is shuffled on its own"
    )
    head = (
        f"silhouette {num(m.silhouette)} ({conf:.0%} CI {num(m.silhouette_low)}–"
        f"{num(m.silhouette_high)}) against {null_text}; p = {m.p_value:.3f}"
    )
    if status == "fail":
        summary = f"The clusters are no better than chance: {head}."
        rec = (
            "Do not act on these segments: the same procedure finds equally good clusters in "
            "data with no structure. Try other features, scaling, or fewer clusters, and "
            "check that the data has groups at all."
        )
    elif status == "warn":
        summary = f"The clusters are only slightly better than chance: {head}."
        rec = "The structure is weak; treat the segments as soft tendencies, not groups."
    else:
        summary = f"The clusters are clearly better than chance: {head}."
        rec = ""
    metrics: dict[str, float | int | None] = {
        "silhouette": m.silhouette,
        "silhouette_low": m.silhouette_low,
        "silhouette_high": m.silhouette_high,
        "silhouette_null": m.silhouette_null,
        "silhouette_null_low": m.silhouette_null_low,
        "silhouette_null_high": m.silhouette_null_high,
        "silhouette_gap": m.gap,
        "p_value": m.p_value,
        "n_clusters": m.n_clusters,
        "rows_measured": m.rows_measured,
        **m.other_scores,
    }
    chart = IntervalChart(
        title="Silhouette: this clustering against shuffled data",
        x_label="silhouette (higher = better separated)",
        unit="value",
        items=[
            IntervalItem("this clustering", m.silhouette, m.silhouette_low, m.silhouette_high),
            IntervalItem(
                "shuffled data", m.silhouette_null, m.silhouette_null_low, m.silhouette_null_high
            ),
        ],
    )
    finding = Finding(
        status=status,
        message=summary,
        group="all clusters",
        metrics={"silhouette": m.silhouette, "p_value": m.p_value},
    )
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=[finding],
        recommendation=rec,
        details={"null_procedure": m.null_procedure, "charts": [chart.to_dict()]},
    )


def best_match_jaccard(base: np.ndarray, other: np.ndarray, names: list[str]) -> np.ndarray:
    """For each cluster in ``names`` (of ``base``), the Jaccard of its best match in ``other``.

    >>> best_match_jaccard(np.array(["a", "a", "b"]), np.array(["x", "x", "x"]), ["a", "b"])
    array([0.66666667, 0.33333333])
    """
    cm = contingency_matrix(base, other)
    base_names = np.unique(base).tolist()
    a = cm.sum(axis=1, keepdims=True)
    b = cm.sum(axis=0, keepdims=True)
    jac = cm / np.maximum(a + b - cm, 1)
    best = jac.max(axis=1)
    idx = {n: i for i, n in enumerate(base_names)}
    return np.array([best[idx[n]] if n in idx else 0.0 for n in names])


@dataclass(frozen=True)
class ClusterStabilityParams:
    """Parameters of ``clustering.stability``."""

    refits: int = param(20, "Bootstrap refits of the clustering.", ge=2)
    jaccard_warn: float = param(
        0.6, "Mean Jaccard overlap under which a cluster is unstable (warns).", ge=0, le=1
    )
    ari_fail: float = param(
        0.5, "Mean adjusted Rand index under which the whole clustering fails.", ge=-1, le=1
    )
    sample_rows: int = param(4000, "Rows sampled for the refits.", ge=2)


@dataclass(frozen=True)
class ClusterStabilityDetails(Details):
    """What ``clustering.stability`` keeps in its ``details`` (``report.json``)."""

    procedure: str
    per_cluster: Mapping[str, Any]


@register_check(
    "clustering.stability",
    area="clustering",
    title="Cluster stability under resampling",
    explanation="A real group is found again when the clustering is refitted on a slightly "
    "different sample of the same data. The clustering is refitted on bootstrap resamples; the "
    "adjusted Rand index says how much the whole assignment agrees with the original (1 = the "
    "same, 0 = chance), and for each cluster the Jaccard overlap with its best match in each "
    "refit says whether that cluster comes back (under 0.6 it usually does not).",
    standards=_STANDARDS,
    severity="high",
    params=ClusterStabilityParams,
    needs=("model",),
    tasks=("clustering",),
    details=ClusterStabilityDetails,
)
def check_stability(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Agreement of bootstrap refits with the assignment: measured
    (:func:`measure_stability`), judged (:func:`judge_stability`), described."""
    m = measure_stability(ctx, refits=int(th["refits"]), sample_rows=int(th["sample_rows"]))
    return _describe_stability(m, judge_stability(m, th), float(th["jaccard_warn"]))


@dataclass(frozen=True)
class Stability:
    """What ``clustering.stability`` measures (numbers only, no verdict)."""

    clusters: tuple[str, ...]
    jaccard: tuple[float, ...]
    """Per cluster, the mean over refits of the Jaccard of its best match."""
    jaccard_low: tuple[float, ...]
    jaccard_high: tuple[float, ...]
    ari_mean: float
    """Mean adjusted Rand index of the refits against the assignment."""
    ari_low: float
    ari_high: float
    refits: int
    rows_measured: int
    procedure: str = ""

    def unstable(self, jaccard_warn: float) -> list[str]:
        """The clusters whose mean best-match Jaccard is under ``jaccard_warn``."""
        return [c for c, j in zip(self.clusters, self.jaccard, strict=True) if j < jaccard_warn]


def measure_stability(ctx: AuditContext, *, refits: int, sample_rows: int) -> Stability:
    """Adjusted Rand index and per-cluster best-match Jaccard of refits on bootstrap samples."""
    conf, seed = ctx.settings.confidence, ctx.settings.seed
    if _inputs.refit_model(ctx) is None:
        raise SkipCheck(
            "stability needs a model to refit (a column of clusters cannot be refitted)"
        )
    X = _inputs.view(ctx, "test").X
    labels = _inputs.clusters(ctx, "test")
    rows = _sample(X.shape[0], sample_rows, seed, _STAB_STREAM)
    base = labels[rows]
    names = [n for n in sorted_labels(base) if n != NOISE]
    if len(names) < 2:
        raise SkipCheck("the assignment has fewer than two clusters (besides noise)")
    refit = _refitter(ctx, X, labels)
    rng = np.random.default_rng([int(seed), _STAB_STREAM, 1])
    aris, jacs = [], []
    for i in range(refits):
        boot = rows[rng.integers(0, rows.size, size=rows.size)]
        if refit.can_predict:
            eval_rows, b = rows, base
        else:
            eval_rows = np.unique(boot)
            b = labels[eval_rows]
        other = refit.fit_labels(boot, eval_rows, i)
        aris.append(adjusted_rand_score(b, other))
        jacs.append(best_match_jaccard(b, other, names))
    ari, jac = np.asarray(aris), np.vstack(jacs)
    ari_lo, ari_hi = percentile_range(ari, conf)
    return Stability(
        clusters=tuple(names),
        jaccard=tuple(float(j) for j in jac.mean(axis=0)),
        jaccard_low=tuple(float(j) for j in np.quantile(jac, (1 - conf) / 2, axis=0)),
        jaccard_high=tuple(float(j) for j in np.quantile(jac, 1 - (1 - conf) / 2, axis=0)),
        ari_mean=float(ari.mean()),
        ari_low=ari_lo,
        ari_high=ari_hi,
        refits=len(aris),
        rows_measured=int(rows.size),
        procedure=refit.procedure + " on bootstrap resamples",
    )


def judge_stability(m: Stability, th: Mapping[str, Any]) -> Status:
    """``fail`` when the mean adjusted Rand index is under ``ari_fail``; ``warn`` when a
    cluster's mean best-match Jaccard is under ``jaccard_warn``; else ``pass``.

    >>> m = Stability(("0", "1"), (0.9, 0.4), (0.8, 0.2), (1.0, 0.6), 0.7, 0.6, 0.8, 20, 900)
    >>> judge_stability(m, {"ari_fail": 0.5, "jaccard_warn": 0.6})
    'warn'
    """
    if m.ari_mean < float(th["ari_fail"]):
        return "fail"
    return "warn" if m.unstable(float(th["jaccard_warn"])) else "pass"


def _describe_stability(m: Stability, status: Status, warn_at: float) -> Outcome:
    """Summary, findings (one per cluster), recommendation and chart of a judged stability."""
    unstable, n = m.unstable(warn_at), len(m.clusters)
    per_cluster = {
        c: {"jaccard": j, "low": lo, "high": hi}
        for c, j, lo, hi in zip(m.clusters, m.jaccard, m.jaccard_low, m.jaccard_high, strict=True)
    }
    findings = []
    for c, v in per_cluster.items():
        st: Status = "warn" if c in unstable else "pass"
        word = "does not come back reliably" if st == "warn" else "comes back"
        findings.append(
            Finding(
                status=st,
                message=f"Cluster {c} {word} when refitted: best-match Jaccard {num(v['jaccard'])} "
                f"(range {num(v['low'])}–{num(v['high'])} over {m.refits} refits).",
                group=f"cluster {c}",
                metrics={
                    "jaccard": v["jaccard"],
                    "jaccard_low": v["low"],
                    "jaccard_high": v["high"],
                },
            )
        )
    ari_text = f"adjusted Rand index {num(m.ari_mean)} (range {num(m.ari_low)}–{num(m.ari_high)})"
    if status == "fail":
        summary = (
            f"The clustering is unstable: refitted on resampled data it agrees with itself "
            f"little ({ari_text}); {len(unstable)} of {n} clusters do not come back."
        )
        rec = (
            "These segments depend on the random start and the sample; do not build on them. "
            "Try fewer clusters, other features, or a method suited to the data's shape."
        )
    elif status == "warn":
        summary = (
            f"When the clustering is refitted, {len(unstable)} of {n} clusters do not "
            f"come back reliably (Jaccard under {warn_at:g}: {', '.join(unstable[:6])}); "
            f"overall {ari_text}."
        )
        rec = "Merge or drop the unstable clusters before acting on them."
    else:
        summary = (
            f"Every one of the {n} clusters comes back when refitted on resampled "
            f"data ({ari_text}; smallest Jaccard {num(min(m.jaccard))})."
        )
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "ari_mean": m.ari_mean,
            "ari_mean_low": m.ari_low,
            "ari_mean_high": m.ari_high,
            "jaccard_min": min(m.jaccard),
            "unstable_clusters": len(unstable),
            "n_clusters": n,
            "refits": m.refits,
            "rows_measured": m.rows_measured,
        },
        findings=findings,
        recommendation=rec,
        details={
            "procedure": m.procedure,
            "per_cluster": per_cluster,
            "charts": [_stability_chart(per_cluster, warn_at)],
        },
    )


def _stability_chart(per_cluster: Mapping[str, Mapping[str, float]], warn_at: float) -> dict:
    return IntervalChart(
        title="Stability per cluster (best-match Jaccard over refits)",
        x_label=f"Jaccard (under {warn_at:g} = not reproducible)",
        unit="value",
        items=[
            IntervalItem(label=f"cluster {c}", value=v["jaccard"], low=v["low"], high=v["high"])
            for c, v in per_cluster.items()
        ],
    ).to_dict()


def pca_map(X: np.ndarray, labels: np.ndarray, *, rows: int, seed: int) -> dict[str, Any]:
    """A 2-D PCA projection of a sample, rounded, for the report's map."""
    from sklearn.decomposition import PCA

    idx = _sample(X.shape[0], rows, seed, _MAP_STREAM)
    dims = min(2, X.shape[1])
    pca = PCA(n_components=dims, random_state=0).fit(X)
    pts = pca.transform(X[idx])
    if dims == 1:
        pts = np.column_stack([pts[:, 0], np.zeros(idx.size)])
    explained = [float(v) for v in pca.explained_variance_ratio_] + [0.0] * (2 - dims)
    return {
        "x": np.round(pts[:, 0], 3).tolist(),
        "y": np.round(pts[:, 1], 3).tolist(),
        "cluster": labels[idx].tolist(),
        "explained": [round(v, 4) for v in explained],
    }


@dataclass(frozen=True)
class ClusterSizesParams:
    """Parameters of ``clustering.sizes``."""

    tiny_share: float = param(0.01, "Share of rows under which a cluster is tiny.", ge=0, le=1)
    tiny_rows: int = param(20, "Rows under which a cluster is tiny.", ge=0)
    map_rows: int = param(400, "Rows drawn on the 2-D map.", ge=0)


@register_check(
    "clustering.sizes",
    area="clustering",
    title="Cluster sizes and tiny clusters",
    explanation="Each cluster's share of the rows, with an interval. A tiny cluster (a handful "
    "of rows) is usually outliers, not a segment worth a strategy; one giant cluster next to "
    "slivers means the clustering found little. The report also draws a 2-D map of a sample "
    "(principal components), coloured by cluster.",
    standards=("MEASURE 2.3", "MAP 2.3"),
    severity="medium",
    params=ClusterSizesParams,
    needs=("model",),
    tasks=("clustering",),
    details=ClusterSizesDetails,
)
def check_sizes(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    conf = ctx.settings.confidence
    X = _inputs.view(ctx, "test").X
    labels = _inputs.clusters(ctx, "test")
    n = labels.size
    names = sorted_labels(labels)
    counts = {c: int(np.count_nonzero(labels == c)) for c in names}
    tiny_share, tiny_rows = float(th["tiny_share"]), int(th["tiny_rows"])
    tiny = [
        c for c in names if c != NOISE and (counts[c] < tiny_rows or counts[c] / n < tiny_share)
    ]
    real = [c for c in names if c != NOISE]
    findings = []
    items = []
    for c in names:
        lo, hi = wilson(counts[c], n, conf)
        st: Status = "warn" if c in tiny else "pass"
        label = "noise (unassigned)" if c == NOISE else f"cluster {c}"
        findings.append(
            Finding(
                status=st,
                message=f"{label.capitalize()}: {counts[c]:,} rows, {pct(counts[c] / n)} "
                f"({conf:.0%} CI {pct(lo)}–{pct(hi)})" + (" — tiny." if st == "warn" else "."),
                group=label,
                metrics={
                    "rows": counts[c],
                    "share": counts[c] / n,
                    "share_low": lo,
                    "share_high": hi,
                },
            )
        )
        items.append(Bar(label, counts[c] / n, st))
    sizes = [counts[c] for c in real] or [0]
    ratio = max(sizes) / max(min(sizes), 1)
    status: Status = "warn" if tiny else "pass"
    noise_share = counts.get(NOISE, 0) / n
    if tiny:
        summary = (
            f"Of {len(real)} clusters, {len(tiny)} are tiny (under {tiny_rows} rows or "
            f"{pct(tiny_share)}): {', '.join(tiny[:6])}; the largest is {ratio:,.1f} times "
            "the smallest."
        )
        rec = "Look at the tiny clusters' rows: they are often outliers or data errors."
    else:
        summary = (
            f"The rows fall into {len(real)} clusters, from {pct(min(sizes) / n)} to "
            f"{pct(max(sizes) / n)} of the "
            f"{n:,} rows (largest {ratio:,.1f} times the smallest)"
            + (f"; {pct(noise_share)} of rows are unassigned noise." if NOISE in counts else ".")
        )
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={
            "n_clusters": len(real),
            "rows": n,
            "smallest_share": min(sizes) / n,
            "largest_share": max(sizes) / n,
            "size_ratio": ratio,
            "tiny_clusters": len(tiny),
            "noise_share": noise_share,
        },
        findings=findings,
        recommendation=rec,
        details={
            "sizes": counts,
            "projection": pca_map(X, labels, rows=int(th["map_rows"]), seed=ctx.settings.seed),
            "charts": [
                BarChart(
                    title="Cluster sizes",
                    x_label="share of rows",
                    unit="share",
                    items=items,
                ).to_dict()
            ],
        },
    )
