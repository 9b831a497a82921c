"""``clustering.drift``: have the segments moved between the reference (test)
data and current data?

Three things are compared, each with its own test and Holm's correction:

- the share of rows assigned to each cluster (two-proportion tests, Newcombe
  intervals for the change); a cluster whose share falls below a fifth of its
  reference share has vanished;
- each cluster's members, feature by feature (two-sample Kolmogorov-Smirnov on
  the standardised features): the model may still put rows in cluster 3, but
  cluster 3 no longer holds the same kind of rows;
- whether a cluster has split: along the direction that best cuts its current
  members in two, they form two groups (1-D 2-means silhouette) much more
  clearly than its reference members do along the same direction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from assay.core.charts import DistributionChart
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.stats import holm
from assay.unsupervised import _inputs
from assay.unsupervised._refit import NOISE, sorted_labels
from assay.unsupervised._stats import num, pct, two_share_test

_STREAM = 0xC4


def _two_means_1d(z: np.ndarray) -> float:
    """Silhouette of the best 2-means split of a line of values (exact: the split is a cut
    of the sorted values; about 0.6 for one Gaussian, near 1 for two far apart)."""
    z = np.sort(z)
    n = z.size
    c = np.cumsum(z)
    k = np.arange(1, n)
    left, right = c[:-1] / k, (c[-1] - c[:-1]) / (n - k)
    sse = (np.cumsum(z * z)[:-1] - k * left**2) + (
        (np.sum(z * z) - np.cumsum(z * z)[:-1]) - (n - k) * right**2
    )
    cut = int(np.argmin(sse)) + 1
    lab = np.r_[np.zeros(cut, dtype=int), np.ones(n - cut, dtype=int)]
    return float(silhouette_score(z.reshape(-1, 1), lab))


def split_scores(ref: np.ndarray, cur: np.ndarray, *, seed: int, rows: int = 1500) -> tuple:
    """How clearly a cluster's reference and current members form two groups.

    The direction is the one along which 2-means splits the current members;
    both sets are projected on it and scored by :func:`_two_means_1d`, so a split
    in one of twenty features is not drowned by the other nineteen.

    >>> rng = np.random.default_rng(0)
    >>> one = rng.normal(size=(400, 5))
    >>> two = one.copy(); two[:200, 0] += 4; two[200:, 0] -= 4
    >>> a, b = split_scores(one, two, seed=0)
    >>> b > 0.75 and b - a > 0.15
    True
    """
    if ref.shape[0] < 20 or cur.shape[0] < 20:
        return 0.0, 0.0
    rng = np.random.default_rng([int(seed), _STREAM])
    if cur.shape[0] > rows:
        cur = cur[np.sort(rng.choice(cur.shape[0], rows, replace=False))]
    if ref.shape[0] > rows:
        ref = ref[np.sort(rng.choice(ref.shape[0], rows, replace=False))]
    km = KMeans(n_clusters=2, n_init=3, random_state=int(seed)).fit(cur)
    u = km.cluster_centers_[1] - km.cluster_centers_[0]
    norm = float(np.linalg.norm(u))
    if norm == 0:
        return 0.0, 0.0
    u = u / norm
    return _two_means_1d(ref @ u), _two_means_1d(cur @ u)


@dataclass(frozen=True)
class ClusterDriftParams:
    """Parameters of ``clustering.drift``."""

    alpha: float = param(0.05, "Significance level of the share and feature tests.", gt=0, lt=1)
    share_warn: float = param(
        0.05, "Change of a cluster's share of the rows that, if clear, warns.", ge=0, le=1
    )
    ks_warn: float = param(
        0.15,
        "KS statistic of a feature within a cluster that, if clear, names it as moved.",
        ge=0,
        le=1,
    )
    split_silhouette: float = param(
        0.75,
        "Silhouette of a two-way split of a current cluster that makes it split.",
        ge=-1,
        le=1,
    )
    split_gain: float = param(
        0.15, "Gain of that silhouette over the reference's needed too.", ge=0
    )
    vanish_ratio: float = param(
        0.2,
        "Current share under this fraction of the reference share: the cluster vanished.",
        ge=0,
        le=1,
    )
    sample_rows: int = param(3000, "Rows sampled from each of reference and current.", ge=2)


@dataclass(frozen=True)
class ClusterDriftDetails(Details):
    """What ``clustering.drift`` keeps in its ``details`` (``report.json``)."""

    shares: tuple[Mapping[str, Any], ...]
    split_silhouette: Mapping[str, Any]


@register_check(
    "clustering.drift",
    area="clustering",
    title="Cluster drift between reference and current data",
    explanation="Segments built on last year's customers may not describe this year's. The "
    "share of rows in each cluster is compared between the reference (test) data and current "
    "data, each cluster's members are compared feature by feature (Kolmogorov-Smirnov), and a "
    "cluster whose current members form two separate groups is named as split. All tests are "
    "corrected for their number (Holm).",
    standards=("MEASURE 2.4", "MANAGE 4.1"),
    severity="high",
    params=ClusterDriftParams,
    needs=("model", "current"),
    tasks=("clustering",),
    details=ClusterDriftDetails,
)
def check_cluster_drift(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Shares, members and splits of the clusters, reference against current: measured
    (:func:`measure_cluster_drift`), judged (:func:`judge_cluster_drift`), described."""
    m = measure_cluster_drift(ctx, sample_rows=int(th["sample_rows"]))
    return _describe(m, judge_cluster_drift(m, th), ctx.settings.confidence)


@dataclass(frozen=True)
class ClusterDrift:
    """What ``clustering.drift`` measures (numbers only, no verdict). Every q value is
    Holm-corrected over all the share and feature tests together."""

    shares: tuple[dict[str, Any], ...]
    """Per cluster: cluster, reference and current share, change with its interval
    (change_low, change_high) and q_value."""
    ks: tuple[tuple[str, str, float, float], ...] = ()
    """(cluster, feature, KS statistic, q value) of every within-cluster feature test."""
    split: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    """Per cluster tested, the two-group silhouette of its reference and current members."""
    reference_rows: int = 0
    current_rows: int = 0
    q_min: float = 1.0


@dataclass(frozen=True)
class ClusterDriftVerdict:
    """The status of ``clustering.drift`` and its reasons."""

    status: Status
    share_changes: tuple[tuple[str, Status, str], ...] = ()
    """(cluster, status, what: has vanished, is new, grew, shrank) of each clear share change."""
    moved: Mapping[str, tuple[tuple[str, float, float], ...]] = field(default_factory=dict)
    """Per cluster, its moved features (feature, KS, q), largest KS first."""
    splits: tuple[str, ...] = ()


def measure_cluster_drift(ctx: AuditContext, *, sample_rows: int) -> ClusterDrift:
    """Share tests, within-cluster KS tests and split scores of every cluster."""
    conf, seed = ctx.settings.confidence, ctx.settings.seed
    ref_x, cur_x = _inputs.view(ctx, "test").X, _inputs.view(ctx, "current").X
    ref, cur = _inputs.clusters(ctx, "test"), _inputs.clusters(ctx, "current")
    columns = _inputs.view(ctx, "test").columns
    names = [c for c in sorted_labels(np.concatenate([ref, cur])) if c != NOISE]
    n_ref, n_cur = ref.size, cur.size
    share_rows, share_p = [], []
    for c in names:
        k1, k2 = int(np.count_nonzero(ref == c)), int(np.count_nonzero(cur == c))
        d, lo, hi, p = two_share_test(k1, n_ref, k2, n_cur, conf)
        share_rows.append(
            {
                "cluster": c,
                "reference": k1 / n_ref,
                "current": k2 / n_cur,
                "change": d,
                "change_low": lo,
                "change_high": hi,
            }
        )
        share_p.append(p)
    rng = np.random.default_rng([int(seed), _STREAM, 1])

    def members(X: np.ndarray, lab: np.ndarray, c: str) -> np.ndarray:
        rows = np.flatnonzero(lab == c)
        if rows.size > sample_rows:
            rows = np.sort(rng.choice(rows, sample_rows, replace=False))
        return X[rows]

    ks_keys, ks_stat, ks_p = [], [], []
    split = {}
    for c in names:
        a, b = members(ref_x, ref, c), members(cur_x, cur, c)
        if a.shape[0] < 10 or b.shape[0] < 10:
            continue
        res = stats.ks_2samp(a, b, axis=0)
        for j, col in enumerate(columns):
            ks_keys.append((c, col))
            ks_stat.append(float(res.statistic[j]))
            ks_p.append(float(res.pvalue[j]))
        split[c] = split_scores(a, b, seed=seed)
    q_all = holm(share_p + ks_p)
    for r, q in zip(share_rows, q_all[: len(share_p)], strict=True):
        r["q_value"] = float(q)
    ks_q = q_all[len(share_p) :]
    return ClusterDrift(
        shares=tuple(share_rows),
        ks=tuple(
            (c, col, s, float(q)) for (c, col), s, q in zip(ks_keys, ks_stat, ks_q, strict=True)
        ),
        split=split,
        reference_rows=n_ref,
        current_rows=n_cur,
        q_min=float(min(q_all)) if len(q_all) else 1.0,
    )


def judge_share(r: Mapping[str, Any], th: Mapping[str, Any]) -> tuple[Status, str]:
    """One cluster's share change (a row of :attr:`ClusterDrift.shares`): ``fail`` when it
    clearly (``q_value <= alpha``) vanished (under ``vanish_ratio`` of its reference share)
    or is new, ``warn`` when it clearly changed by at least ``share_warn``; with what
    happened ('has vanished', 'is new', 'grew', 'shrank'; '' when it passes).

    >>> th = {"alpha": 0.05, "vanish_ratio": 0.2, "share_warn": 0.05}
    >>> judge_share({"reference": 0.25, "current": 0.02, "change": -0.23, "q_value": 0.001}, th)
    ('fail', 'has vanished')
    """
    gone = r["reference"] > 0 and r["current"] < float(th["vanish_ratio"]) * r["reference"]
    new = r["reference"] == 0 and r["current"] > 0
    big = abs(r["change"]) >= float(th["share_warn"])
    if not (r["q_value"] <= float(th["alpha"]) and (gone or new or big)):
        return "pass", ""
    what = "has vanished" if gone else "is new" if new else "grew" if r["change"] > 0 else "shrank"
    return ("fail" if gone or new else "warn"), what


def judge_cluster_drift(m: ClusterDrift, th: Mapping[str, Any]) -> ClusterDriftVerdict:
    """``fail`` when a cluster vanished, is new or has split (its current members form two
    groups: two-group silhouette at least ``split_silhouette`` and ``split_gain`` above the
    reference's); ``warn`` when a cluster's share clearly changed by ``share_warn`` or its
    members moved (a feature's KS at least ``ks_warn`` with q <= ``alpha``)."""
    changes: list[tuple[str, Status, str]] = []
    for r in m.shares:
        st, what = judge_share(r, th)
        if st != "pass":
            changes.append((r["cluster"], st, what))
    moved: dict[str, list[tuple[str, float, float]]] = {}
    for c, col, s, q in m.ks:
        if q <= float(th["alpha"]) and s >= float(th["ks_warn"]):
            moved.setdefault(c, []).append((col, s, q))
    splits = tuple(
        c
        for c, (a, b) in m.split.items()
        if b >= float(th["split_silhouette"]) and b - a >= float(th["split_gain"])
    )
    levels = [st for _, st, _ in changes] + ["fail" if splits else "pass"]
    levels.append("warn" if moved else "pass")
    status: Status = "fail" if "fail" in levels else "warn" if "warn" in levels else "pass"
    return ClusterDriftVerdict(
        status=status,
        share_changes=tuple(changes),
        moved={c: tuple(sorted(cols, key=lambda t: -t[1])) for c, cols in moved.items()},
        splits=splits,
    )


def _describe(m: ClusterDrift, v: ClusterDriftVerdict, conf: float) -> Outcome:
    """Summary, findings, recommendation and chart of a judged cluster drift."""
    findings, named = _share_findings(m, v, conf)
    for c in [r["cluster"] for r in m.shares]:
        cols = v.moved.get(c, ())
        if c in v.splits:
            a, b = m.split[c]
            text = (
                f"Cluster {c} has split: its current members form two separate groups "
                f"(two-group silhouette {num(b)} along the split, reference {num(a)})"
            )
            st: Status = "fail"
            named.append(f"cluster {c} split")
        elif cols:
            text = f"Cluster {c}'s members have changed"
            st = "warn"
            named.append(f"cluster {c}'s members changed")
        else:
            continue
        if cols:
            text += "; most in " + ", ".join(
                f"{col} (KS {num(s)}, q = {q:.2g})" for col, s, q in cols[:3]
            )
        findings.append(
            Finding(
                status=st,
                message=text + ".",
                group=f"cluster {c}",
                columns=tuple(col for col, _, _ in cols[:3]) or None,
                metrics={
                    "max_ks": cols[0][1] if cols else 0.0,
                    "split_silhouette": m.split[c][1],
                    "reference_split_silhouette": m.split[c][0],
                },
            )
        )
    max_change = max((abs(r["change"]) for r in m.shares), default=0.0)
    if v.status == "pass":
        summary = (
            f"The clusters hold steady between reference and current data: shares change by "
            f"at most {pct(max_change)} and no cluster's members moved or split."
        )
        rec = ""
    else:
        summary = f"The clusters have drifted: {'; '.join(named[:4])}."
        rec = (
            "Refit the clustering on recent data and re-describe the segments before using "
            "them for decisions; the old segment definitions no longer match the population."
        )
    return Outcome(
        status=v.status,
        summary=summary,
        metrics={
            "max_share_change": max_change,
            "clusters_moved": len(v.moved),
            "clusters_split": len(v.splits),
            "q_value": m.q_min,
            "reference_rows": m.reference_rows,
            "current_rows": m.current_rows,
        },
        findings=findings,
        recommendation=rec,
        details={
            "shares": list(m.shares),
            "split_silhouette": {
                c: {"reference": a, "current": b} for c, (a, b) in m.split.items()
            },
            "charts": [
                DistributionChart(
                    title="Share of rows per cluster",
                    labels=[f"cluster {r['cluster']}" for r in m.shares],
                    series={
                        "reference": [r["reference"] for r in m.shares],
                        "current": [r["current"] for r in m.shares],
                    },
                    unit="share",
                ).to_dict()
            ],
        },
    )


def _share_findings(
    m: ClusterDrift, v: ClusterDriftVerdict, conf: float
) -> tuple[list[Finding], list[str]]:
    """A finding for each clear change of a cluster's share, and its short name."""
    rows = {r["cluster"]: r for r in m.shares}
    findings, named = [], []
    for c, st, what in v.share_changes:
        r, q = rows[c], rows[c]["q_value"]
        findings.append(
            Finding(
                status=st,
                message=f"Cluster {c} {what}: {pct(r['reference'])} of reference rows, "
                f"{pct(r['current'])} of current rows (change {conf:.0%} CI "
                f"{pct(r['change_low'])} to {pct(r['change_high'])}, q = {q:.2g}).",
                group=f"cluster {c}",
                metrics={
                    "reference_share": r["reference"],
                    "current_share": r["current"],
                    "q_value": q,
                },
            )
        )
        named.append(f"cluster {c} {what}")
    return findings, named
