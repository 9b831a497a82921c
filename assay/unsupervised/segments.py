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
    conf = ctx.settings.confidence
    v = _inputs.view(ctx, "test")
    labels = _inputs.clusters(ctx, "test")
    names = [c for c in sorted_labels(labels) if c != NOISE]
    if len(names) < 2:
        raise SkipCheck("the assignment has fewer than two clusters (besides noise)")
    findings, profiles, vague = [], {}, []
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
        best = max((abs(r["d"]) for r in rows), default=0.0)
        st: Status = "pass" if best >= float(th["distinct_d"]) else "warn"
        if st == "warn":
            vague.append(c)
        share = inside.size / labels.size
        what = "; ".join(phrases) if phrases else "no feature sets it apart"
        findings.append(
            Finding(
                status=st,
                message=f"Cluster {c} ({pct(share)} of rows): {what}.",
                group=f"cluster {c}",
                columns=tuple(r["feature"] for r in rows) or None,
                metrics={"share": share, "largest_d": best},
            )
        )
        profiles[c] = {"share": share, "features": rows}
    status: Status = "warn" if vague else "pass"
    if vague:
        summary = (
            f"Of {len(names)} clusters, {len(vague)} have no feature that clearly sets them "
            f"apart (no |d| of {float(th['distinct_d']):g} or more): {', '.join(vague[:6])}."
        )
        rec = "Clusters nobody can describe are hard to act on; consider merging them."
    else:
        summary = (
            f"Each of the {len(names)} clusters is set apart by at least one feature "
            f"(|d| ≥ {float(th['distinct_d']):g}); see the findings for each in plain words."
        )
        rec = ""
    return Outcome(
        status=status,
        summary=summary,
        metrics={"n_clusters": len(names), "indistinct_clusters": len(vague)},
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
    conf = ctx.settings.confidence
    if not ctx.sensitive:
        raise SkipCheck("no sensitive column was given (pass sensitive=... or --sensitive)")
    labels = _inputs.clusters(ctx, "test")
    names = [c for c in sorted_labels(labels) if c != NOISE]
    n = labels.size
    dominance, excess = float(th["dominance"]), float(th["excess"])
    findings, assoc, flagged = [], {}, []
    pvals = []
    for col in ctx.sensitive:
        groups_of = _inputs.sensitive_values(ctx, "test", col)
        groups = sorted(np.unique(groups_of).tolist())
        table = np.array(
            [[np.count_nonzero((labels == c) & (groups_of == g)) for g in groups] for c in names]
        )
        v, p = cramers_v(table)
        assoc[col] = {"cramers_v": v, "p_value": p}
        pvals.append(p)
        overall = {g: np.count_nonzero(groups_of == g) / n for g in groups}
        for i, c in enumerate(names):
            size = int(table[i].sum())
            if size == 0:
                continue
            j = int(np.argmax(table[i]))
            g = groups[j]
            share = table[i, j] / size
            lo, hi = wilson(table[i, j], size, conf)
            if share >= dominance and lo - overall[g] >= excess:
                flagged.append((col, c, g))
                findings.append(
                    Finding(
                        status="warn",
                        message=f"Cluster {c} is {pct(share)} {col} = {g} ({conf:.0%} CI "
                        f"{pct(lo)}–{pct(hi)}), against {pct(overall[g])} of all rows.",
                        column=col,
                        group=f"cluster {c}",
                        metrics={
                            "share": share,
                            "share_low": lo,
                            "share_high": hi,
                            "overall_share": overall[g],
                        },
                    )
                )
    q = holm(pvals).tolist() if pvals else []
    for a, qv in zip(assoc.values(), q, strict=True):
        a["q_value"] = qv
    v_max = max(a["cramers_v"] for a in assoc.values())
    q_min = min(q) if q else 1.0
    status: Status = "warn" if flagged else "pass"
    strongest = max(assoc, key=lambda k: assoc[k]["cramers_v"])
    assoc_text = f"Cramér's V up to {num(v_max)} ({strongest}, q = {q_min:.3g})"
    if flagged:
        col, c, g = flagged[0]
        summary = (
            f"Some clusters are mostly one sensitive group ({len(flagged)}), e.g. cluster {c} is "
            f"mostly {col} = {g}; {assoc_text}."
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
        details={"association": assoc},
    )
