"""What each cluster is, and who is in it.

- ``clustering.profiles``: the few features whose values set each cluster
  apart from the other rows, as standardised mean differences (Cohen's d) with
  intervals, in words a non-engineer can act on ("much higher balance: mean
  1,520 against 830").
- ``clustering.fairness``: a cluster made mostly of one sensitive group (its
  share well above the group's share overall), and the association between
  the assignment and each sensitive attribute (Cramér's V, chi-square p).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.stats import holm
from assay.unsupervised import _inputs
from assay.unsupervised._refit import NOISE, sorted_labels
from assay.unsupervised._stats import cohen_d, effect_words, num, pct, wilson


def _value(v: float) -> str:
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.3g}".replace("-", "−")


def feature_phrases(
    view: _inputs.View,
    inside: np.ndarray,
    outside: np.ndarray,
    *,
    top: int,
    d_min: float,
    confidence: float,
) -> tuple[list[str], list[dict[str, Any]]]:
    """Plain phrases and rows for the ``top`` columns that set ``inside`` apart.

    A column counts when ``|d| >= d_min``; one-hot levels are phrased as shares.
    """
    eff = cohen_d(view.X[inside], view.X[outside], confidence)
    m_in, m_out = view.raw_means(inside), view.raw_means(outside)
    order = np.argsort(-np.abs(eff[0]), kind="stable")
    phrases, rows = [], []
    for j in order[:top]:
        d = float(eff[0, j])
        if abs(d) < d_min:
            break
        name = view.columns[j]
        if "=" in name and view.source[j] != name:
            col, level = name.split("=", 1)
            more = "more often" if d > 0 else "less often"
            phrases.append(f"{more} {col} = {level} ({pct(m_in[j])} against {pct(m_out[j])})")
        else:
            phrases.append(
                f"{effect_words(d)} {name} (mean {_value(m_in[j])} against "
                f"{_value(m_out[j])}; d = {num(d)})"
            )
        rows.append(
            {
                "feature": name,
                "d": d,
                "d_low": float(eff[1, j]),
                "d_high": float(eff[2, j]),
                "mean_inside": float(m_in[j]),
                "mean_outside": float(m_out[j]),
            }
        )
    return phrases, rows


@dataclass(frozen=True)
class ClusterProfilesParams:
    """Parameters of ``clustering.profiles``."""

    top_features: int = param(3, "Features named per cluster.", ge=1)
    d_min: float = param(0.2, "Cohen's d a feature needs to be named.", ge=0)
    distinct_d: float = param(
        0.5, "Largest Cohen's d under which a cluster is hard to tell apart (warns).", ge=0
    )


@dataclass(frozen=True)
class ClusterProfilesDetails(Details):
    """What ``clustering.profiles`` keeps in its ``details`` (``report.json``)."""

    profiles: Mapping[str, Any]


@register_check(
    "clustering.profiles",
    area="clustering",
    title="What defines each cluster",
    explanation="For each cluster, the few features whose average differs most from the rest "
    "of the rows, measured as a standardised difference (Cohen's d: 0.2 small, 0.5 medium, 0.8 "
    "large) with an interval. This is the description a person needs to name a segment and act "
    "on it; a cluster that no feature sets apart is hard to explain and to use.",
    standards=("MEASURE 2.9", "MAP 2.3"),
    severity="low",
    params=ClusterProfilesParams,
    needs=("model",),
    tasks=("clustering",),
    details=ClusterProfilesDetails,
)
def check_profiles(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """What sets each cluster apart; ``warn`` when a cluster has no feature with a
    Cohen's d of ``distinct_d``. Measured (:func:`measure_profiles`), judged
    (:func:`judge_profiles`), described."""
    m = measure_profiles(ctx, th)
    return _describe_profiles(m, judge_profiles(m, th), th)


@dataclass(frozen=True)
class ClusterProfile:
    """One cluster: its share of the rows and the features that set it apart most."""

    name: str
    share: float
    features: tuple[dict[str, Any], ...]
    """Up to ``top_features`` rows (feature, d with its interval, means inside and out)."""
    phrases: tuple[str, ...]

    @property
    def largest_d(self) -> float:
        return max((abs(r["d"]) for r in self.features), default=0.0)


@dataclass(frozen=True)
class Profiles:
    """What ``clustering.profiles`` measures: every cluster's profile (noise aside)."""

    clusters: tuple[ClusterProfile, ...]


def measure_profiles(ctx: AuditContext, th: Mapping[str, Any]) -> Profiles:
    """Each cluster against the other rows, feature by feature (Cohen's d)."""
    conf = ctx.settings.confidence
    v = _inputs.view(ctx, "test")
    labels = _inputs.clusters(ctx, "test")
    names = [c for c in sorted_labels(labels) if c != NOISE]
    if len(names) < 2:
        raise SkipCheck("the assignment has fewer than two clusters (besides noise)")
    out = []
    for c in names:
        inside = np.flatnonzero(labels == c)
        outside = np.flatnonzero(labels != c)
        phrases, rows = feature_phrases(
            v,
            inside,
            outside,
            top=int(th["top_features"]),
            d_min=float(th["d_min"]),
            confidence=conf,
        )
        share = inside.size / labels.size
        out.append(ClusterProfile(c, share, tuple(rows), tuple(phrases)))
    return Profiles(tuple(out))


def judge_profile(largest_d: float, th: Mapping[str, Any]) -> Status:
    """A cluster is distinct (``pass``) when some feature's |d| reaches ``distinct_d``,
    else ``warn``."""
    return "pass" if largest_d >= float(th["distinct_d"]) else "warn"


def judge_profiles(m: Profiles, th: Mapping[str, Any]) -> Status:
    """``warn`` when any cluster is not distinct (:func:`judge_profile`), else ``pass``."""
    vague = any(judge_profile(c.largest_d, th) == "warn" for c in m.clusters)
    return "warn" if vague else "pass"


def _describe_profiles(m: Profiles, status: Status, th: Mapping[str, Any]) -> Outcome:
    """A finding per cluster in plain words, the summary and the profiles."""
    findings, profiles, vague = [], {}, []
    for p in m.clusters:
        st = judge_profile(p.largest_d, th)
        if st == "warn":
            vague.append(p.name)
        what = "; ".join(p.phrases) if p.phrases else "no feature sets it apart"
        findings.append(
            Finding(
                status=st,
                message=f"Cluster {p.name} ({pct(p.share)} of rows): {what}.",
                group=f"cluster {p.name}",
                columns=tuple(r["feature"] for r in p.features) or None,
                metrics={"share": p.share, "largest_d": p.largest_d},
            )
        )
        profiles[p.name] = {"share": p.share, "features": list(p.features)}
    n = len(m.clusters)
    if vague:
        summary = (
            f"Of {n} clusters, {len(vague)} have no feature that clearly sets them "
            f"apart (no |d| of {float(th['distinct_d']):g} or more): {', '.join(vague[:6])}."
        )
        rec = "Clusters nobody can describe are hard to act on; consider merging them."
    else:
        summary = (
            f"Each of the {n} clusters is set apart by at least one feature "
            f"(|d| ≥ {float(th['distinct_d']):g}); see the findings for each in plain words."
        )
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={"n_clusters": n, "indistinct_clusters": len(vague)},
        findings=findings,
        recommendation=rec,
        details={"profiles": profiles},
    )


def cramers_v(table: np.ndarray) -> tuple[float, float]:
    """Cramér's V and the chi-square p of a contingency table.

    >>> v, p = cramers_v(np.array([[50, 0], [0, 50]]))
    >>> round(v, 2), p < 0.001
    (1.0, True)
    """
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    if min(table.shape) < 2:
        return 0.0, 1.0
    chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
    n = table.sum()
    v = np.sqrt(chi2 / (n * (min(table.shape) - 1)))
    return float(v), float(p)


@dataclass(frozen=True)
class ClusterFairnessParams:
    """Parameters of ``clustering.fairness``."""

    dominance: float = param(
        0.75, "Share of a cluster one sensitive group must hold to flag it.", ge=0, le=1
    )
    excess: float = param(
        0.2,
        "Excess of that share (interval's low end) over the group's overall share.",
        ge=0,
        le=1,
    )
    alpha: float = param(
        0.05, "Significance level of the cluster-attribute association test.", gt=0, lt=1
    )


@dataclass(frozen=True)
class ClusterFairnessDetails(Details):
    """What ``clustering.fairness`` keeps in its ``details`` (``report.json``)."""

    association: Mapping[str, Any]


@register_check(
    "clustering.fairness",
    area="clustering",
    title="Segments that are one sensitive group",
    explanation="When segments drive decisions (offers, prices, care pathways), a segment that "
    "is mostly one sex, age band or ethnicity turns a decision about the segment into a "
    "decision about that group. For each sensitive attribute, each cluster's share of each "
    "group is compared with the group's share overall; the association between clusters and "
    "the attribute is measured by Cramér's V with a chi-square test.",
    standards=("MEASURE 2.11", "MAP 2.3"),
    severity="high",
    params=ClusterFairnessParams,
    needs=("model",),
    tasks=("clustering",),
    details=ClusterFairnessDetails,
)
def check_fairness(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Clusters made mostly of one sensitive group; ``warn`` on any. Measured
    (:func:`measure_fairness`), judged (:func:`judge_fairness`), described."""
    m = measure_fairness(ctx)
    return _describe_fairness(m, judge_fairness(m, th), th)


@dataclass(frozen=True)
class Dominant:
    """The largest sensitive group of one cluster: its share there (with a Wilson
    interval) and its share of all rows."""

    column: str
    cluster: str
    group: Any
    share: float
    low: float
    high: float
    overall: float


@dataclass(frozen=True)
class ClusterFairness:
    """What ``clustering.fairness`` measures: per sensitive attribute the association
    with the clusters (Cramér's V, chi-square p, Holm q), and each cluster's largest group."""

    association: Mapping[str, Mapping[str, float]]
    dominant: tuple[Dominant, ...]
    confidence: float


def measure_fairness(ctx: AuditContext) -> ClusterFairness:
    """Cluster-by-group tables of every sensitive attribute."""
    conf = ctx.settings.confidence
    if not ctx.sensitive:
        raise SkipCheck("no sensitive column was given (pass sensitive=... or --sensitive)")
    labels = _inputs.clusters(ctx, "test")
    names = [c for c in sorted_labels(labels) if c != NOISE]
    n = labels.size
    assoc: dict[str, dict[str, float]] = {}
    dominant = []
    for col in ctx.sensitive:
        groups_of = _inputs.sensitive_values(ctx, "test", col)
        groups = sorted(np.unique(groups_of).tolist())
        table = np.array(
            [[np.count_nonzero((labels == c) & (groups_of == g)) for g in groups] for c in names]
        )
        v, p = cramers_v(table)
        assoc[col] = {"cramers_v": v, "p_value": p}
        overall = {g: np.count_nonzero(groups_of == g) / n for g in groups}
        for i, c in enumerate(names):
            size = int(table[i].sum())
            if size == 0:
                continue
            j = int(np.argmax(table[i]))
            g = groups[j]
            lo, hi = wilson(table[i, j], size, conf)
            dominant.append(Dominant(col, c, g, table[i, j] / size, lo, hi, overall[g]))
    q = holm([a["p_value"] for a in assoc.values()]).tolist() if assoc else []
    for a, qv in zip(assoc.values(), q, strict=True):
        a["q_value"] = qv
    return ClusterFairness(assoc, tuple(dominant), conf)


def judge_dominant(d: Dominant, th: Mapping[str, Any]) -> Status:
    """``warn`` when the group holds at least ``dominance`` of the cluster and the low end
    of its interval exceeds its overall share by ``excess``, else ``pass``."""
    dominates = d.share >= float(th["dominance"]) and d.low - d.overall >= float(th["excess"])
    return "warn" if dominates else "pass"


def judge_fairness(m: ClusterFairness, th: Mapping[str, Any]) -> Status:
    """``warn`` when any cluster is mostly one sensitive group (:func:`judge_dominant`)."""
    return "warn" if any(judge_dominant(d, th) == "warn" for d in m.dominant) else "pass"


def _describe_fairness(m: ClusterFairness, status: Status, th: Mapping[str, Any]) -> Outcome:
    """A finding per dominated cluster, the summary and the association table."""
    conf, assoc = m.confidence, m.association
    dominance, excess = float(th["dominance"]), float(th["excess"])
    flagged = [d for d in m.dominant if judge_dominant(d, th) == "warn"]
    findings = [
        Finding(
            status="warn",
            message=f"Cluster {d.cluster} is {pct(d.share)} {d.column} = {d.group} ({conf:.0%} "
            f"CI {pct(d.low)}–{pct(d.high)}), against {pct(d.overall)} of all rows.",
            column=d.column,
            group=f"cluster {d.cluster}",
            metrics={
                "share": d.share,
                "share_low": d.low,
                "share_high": d.high,
                "overall_share": d.overall,
            },
        )
        for d in flagged
    ]
    v_max = max(a["cramers_v"] for a in assoc.values())
    q_min = min((a["q_value"] for a in assoc.values()), default=1.0)
    strongest = max(assoc, key=lambda k: assoc[k]["cramers_v"])
    assoc_text = f"Cramér's V up to {num(v_max)} ({strongest}, q = {q_min:.3g})"
    if flagged:
        d = flagged[0]
        summary = (
            f"Some clusters are mostly one sensitive group ({len(flagged)}), e.g. cluster "
            f"{d.cluster} is mostly {d.column} = {d.group}; {assoc_text}."
        )
        rec = (
            "Check whether decisions made per segment would in effect treat this group "
            "differently; consider leaving proxies of the attribute out of the features."
        )
    else:
        summary = (
            f"No cluster is mostly one sensitive group (share ≥ {pct(dominance)} and "
            f"{pct(excess)} above overall); {assoc_text}."
        )
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={"dominated_clusters": len(flagged), "cramers_v_max": v_max, "q_value": q_min},
        findings=findings,
        recommendation=rec,
        details={"association": {k: dict(a) for k, a in assoc.items()}},
    )
