"""``monitoring.human_oversight``: does human review of the model's outputs add
information, or does it rubber-stamp them (automation bias)?

From a decisions table (one row per reviewed case: the model's ``prediction``,
the human ``decision``, the true ``label`` where known, the ``reviewer`` and the
``seconds`` taken) this module measures, per reviewer with enough labelled
decisions and in aggregate:

- the **override rate** (Wilson interval) and the deferral rate (an empty
  decision, or ``deferred``);
- **agreement with the model when it is right and when it is wrong**, and their
  difference, the *automation-bias gap* ``P(agree | right) - P(agree | wrong)``
  (Agresti-Caffo interval). A reviewer who adds no information agrees equally
  often either way: gap 0. A reviewer is flagged when the gap is confidently
  *below* ``gap_min`` (one-sided test of ``gap >= gap_min``, Holm over the
  reviewers judged), so a reviewer with too few decisions is never flagged for
  lack of evidence;
- the **accuracy of the human-in-the-loop decision vs the model alone**, paired
  on the same cases (helpful and harmful overrides, Agresti-Min interval, exact
  McNemar p);
- **review time** when accepting vs overriding (medians with distribution-free
  intervals, Mann-Whitney p): rubber-stamping shows as very short accept times.

References: Agresti & Caffo (2000), *Am. Stat.* 54(4) 280-288; Agresti & Min
(2005), *Stat. Med.* 24(5) 729-740; Holm (1979), *Scand. J. Stat.* 6 65-70;
Parasuraman & Manzey (2010), *Human Factors* 52(3) 381-410 (automation bias).

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> y = rng.integers(0, 2, 600)
>>> pred = np.where(rng.random(600) < 0.8, y, 1 - y)
>>> stamp = pred.copy()                       # agrees whatever the truth
>>> round(agreement_gap(pred, stamp, y)["gap"], 3)
0.0
>>> careful = np.where(rng.random(600) < 0.9, y, pred)   # mostly picks the truth
>>> agreement_gap(pred, careful, y)["gap"] > 0.5
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import Interval
from assay.evaluation._common import intervals_chart
from assay.stats import holm

CHECK_ID = "monitoring.human_oversight"
DEFERRED = frozenset({"deferred", "defer", "deferral"})
ROLES = ("prediction", "decision", "label", "reviewer", "seconds")


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def normalize(values: Any) -> np.ndarray:
    """Values as comparable text (``1``, ``1.0`` and ``"1"`` agree); missing -> ``None``.

    >>> normalize([1, 1.0, "1", None, float("nan"), " yes "]).tolist()
    ['1', '1', '1', None, None, 'yes']
    """
    out: list[str | None] = []
    for v in np.asarray(values, dtype=object).ravel():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append(None)
        elif isinstance(v, (float, np.floating)) and float(v).is_integer():
            out.append(str(int(v)))
        else:
            s = str(v).strip()
            out.append(s if s and s.lower() not in ("nan", "null", "none") else None)
    return np.asarray(out, dtype=object)


def _known(values: np.ndarray) -> np.ndarray:
    return np.array([v is not None for v in values], dtype=bool)


def _decided(decision: np.ndarray) -> np.ndarray:
    """Cases with a decision that is not a deferral."""
    return np.array([d is not None and d.lower() not in DEFERRED for d in decision], dtype=bool)


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float | None, float | None]:
    """Wilson score interval of a proportion ``k / n``.

    >>> [round(x, 3) for x in wilson(8, 10)]
    [0.49, 0.943]
    """
    if n <= 0:
        return None, None
    z = _z(confidence)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def agreement_gap(
    prediction: Any,
    decision: Any,
    label: Any,
    *,
    confidence: float = 0.95,
    gap_min: float = 0.1,
) -> dict[str, float | int | None]:
    """Agreement with the model when it is right vs when it is wrong.

    Rows with a missing label or decision (deferred) are left out. ``gap`` is
    ``agree_right - agree_wrong`` with an Agresti-Caffo interval (add one
    agreement and one override to each group); ``p_no_information`` is the
    one-sided p value of ``gap >= gap_min`` (small: the reviewer's agreement
    does not depend on whether the model was right), ``p_informative`` that of
    ``gap <= 0``.
    """
    pred, dec, y = normalize(prediction), normalize(decision), normalize(label)
    ok = _decided(dec) & _known(pred) & _known(y)
    pred, dec, y = pred[ok], dec[ok], y[ok]
    right = pred == y
    agree = dec == pred
    n1, n0 = int(right.sum()), int((~right).sum())
    x1, x0 = int(agree[right].sum()), int(agree[~right].sum())
    out: dict[str, float | int | None] = {
        "n_labelled": n1 + n0,
        "n_model_right": n1,
        "n_model_wrong": n0,
        "agree_right": x1 / n1 if n1 else None,
        "agree_wrong": x0 / n0 if n0 else None,
    }
    out["agree_right_low"], out["agree_right_high"] = wilson(x1, n1, confidence)
    out["agree_wrong_low"], out["agree_wrong_high"] = wilson(x0, n0, confidence)
    if not (n1 and n0):
        out.update(gap=None, gap_low=None, gap_high=None, p_no_information=None)
        out["p_informative"] = None
        return out
    a1, a0 = (x1 + 1) / (n1 + 2), (x0 + 1) / (n0 + 2)
    se = float(np.sqrt(a1 * (1 - a1) / (n1 + 2) + a0 * (1 - a0) / (n0 + 2)))
    z = _z(confidence)
    out["gap"] = x1 / n1 - x0 / n0
    out["gap_low"] = max(-1.0, a1 - a0 - z * se)
    out["gap_high"] = min(1.0, a1 - a0 + z * se)
    out["p_no_information"] = float(stats.norm.cdf((a1 - a0 - gap_min) / se))
    out["p_informative"] = float(stats.norm.sf((a1 - a0) / se))
    return out


def override_rate(
    prediction: Any, decision: Any, *, confidence: float = 0.95
) -> dict[str, float | int | None]:
    """Share of decided cases where the human chose other than the model, and of deferrals."""
    pred, dec = normalize(prediction), normalize(decision)
    deferred = ~_decided(dec)
    decided = ~deferred & _known(pred)
    k = int((dec[decided] != pred[decided]).sum())
    n = int(decided.sum())
    low, high = wilson(k, n, confidence)
    total = len(dec)
    return {
        "n_decisions": total,
        "n_deferred": int(deferred.sum()),
        "deferral_rate": float(deferred.mean()) if total else None,
        "override_rate": k / n if n else None,
        "override_rate_low": low,
        "override_rate_high": high,
    }


def loop_accuracy(
    prediction: Any, decision: Any, label: Any, *, confidence: float = 0.95
) -> dict[str, float | int | None]:
    """Accuracy of the human-in-the-loop decision against the model alone, paired.

    On labelled, decided cases: ``helpful`` overrides (human right, model wrong),
    ``harmful`` ones (human wrong, model right); the difference
    ``human - model`` with the Agresti-Min interval (0.5 added to each cell of
    the paired table) and the exact two-sided McNemar p value.
    """
    pred, dec, y = normalize(prediction), normalize(decision), normalize(label)
    ok = _decided(dec) & _known(pred) & _known(y)
    m_ok, h_ok = pred[ok] == y[ok], dec[ok] == y[ok]
    n = int(ok.sum())
    b, c = int((h_ok & ~m_ok).sum()), int((~h_ok & m_ok).sum())
    out: dict[str, float | int | None] = {
        "n_paired": n,
        "model_accuracy": float(m_ok.mean()) if n else None,
        "human_accuracy": float(h_ok.mean()) if n else None,
        "helpful_overrides": b,
        "harmful_overrides": c,
    }
    if not n:
        out.update(accuracy_gain=None, accuracy_gain_low=None, accuracy_gain_high=None)
        out["p_accuracy"] = None
        return out
    both, neither = int((h_ok & m_ok).sum()), int((~h_ok & ~m_ok).sum())
    cells = np.array([both, b, c, neither], dtype=float) + 0.5
    nn = cells.sum()
    d = (cells[1] - cells[2]) / nn
    var = ((cells[1] + cells[2]) / nn - d * d) / nn
    half = _z(confidence) * float(np.sqrt(max(var, 0.0)))
    out["accuracy_gain"] = (b - c) / n
    out["accuracy_gain_low"] = max(-1.0, d - half)
    out["accuracy_gain_high"] = min(1.0, d + half)
    out["p_accuracy"] = float(stats.binomtest(b, b + c).pvalue) if b + c else 1.0
    return out


def _median_interval(x: np.ndarray, confidence: float) -> tuple[float | None, float | None]:
    """Distribution-free interval of a median from order statistics (binomial)."""
    n = x.size
    if n < 2:
        return None, None
    xs = np.sort(x)
    lo = int(stats.binom.ppf((1 - confidence) / 2, n, 0.5))
    hi = int(stats.binom.isf((1 - confidence) / 2, n, 0.5))
    return float(xs[max(lo - 1, 0)]), float(xs[min(hi, n - 1)])


def review_times(
    prediction: Any, decision: Any, seconds: Any, *, confidence: float = 0.95
) -> dict[str, float | int | None]:
    """Median seconds when accepting and when overriding, and the Mann-Whitney p value."""
    pred, dec = normalize(prediction), normalize(decision)
    secs = np.asarray(seconds, dtype=np.float64)
    ok = np.isfinite(secs) & _decided(dec) & _known(pred)
    accept = secs[ok & (dec == pred)]
    override = secs[ok & (dec != pred)]
    out: dict[str, float | int | None] = {"n_timed": int(ok.sum())}
    for name, x in (("accept", accept), ("override", override)):
        out[f"{name}_seconds"] = float(np.median(x)) if x.size else None
        out[f"{name}_seconds_low"], out[f"{name}_seconds_high"] = _median_interval(x, confidence)
    a, o = out["accept_seconds"], out["override_seconds"]
    out["accept_to_override_time"] = a / o if a is not None and o else None
    if accept.size and override.size:
        out["p_time"] = float(stats.mannwhitneyu(accept, override).pvalue)
    else:
        out["p_time"] = None
    return out


def oversight_summary(
    prediction: Any,
    decision: Any,
    label: Any,
    seconds: Any = None,
    *,
    confidence: float = 0.95,
    gap_min: float = 0.1,
) -> dict[str, float | int | None]:
    """All the measures above for one group of decisions, in one flat mapping."""
    out = override_rate(prediction, decision, confidence=confidence)
    out.update(agreement_gap(prediction, decision, label, confidence=confidence, gap_min=gap_min))
    out.update(loop_accuracy(prediction, decision, label, confidence=confidence))
    if seconds is not None:
        out.update(review_times(prediction, decision, seconds, confidence=confidence))
    return out


def by_reviewer(
    prediction: Any,
    decision: Any,
    label: Any,
    reviewer: Any,
    seconds: Any = None,
    *,
    confidence: float = 0.95,
    gap_min: float = 0.1,
    min_right: int = 20,
    min_wrong: int = 10,
) -> list[dict[str, Any]]:
    """:func:`oversight_summary` per reviewer, sorted by reviewer id.

    A reviewer is *judged* with at least ``min_right`` labelled cases where the
    model was right and ``min_wrong`` where it was wrong; ``q_no_information``
    is the Holm-adjusted ``p_no_information`` over the judged reviewers.
    """
    who = normalize(reviewer)
    who = np.where(who == None, "(none)", who)  # noqa: E711 - elementwise
    pred_all, dec_all, label_all = (
        np.asarray(c, dtype=object) for c in (prediction, decision, label)
    )
    secs = None if seconds is None else np.asarray(seconds, dtype=np.float64)
    rows: list[dict[str, Any]] = []
    for r in sorted(set(who.tolist())):
        m = who == r
        s = oversight_summary(
            pred_all[m],
            dec_all[m],
            label_all[m],
            None if secs is None else secs[m],
            confidence=confidence,
            gap_min=gap_min,
        )
        judged = (s["n_model_right"] or 0) >= min_right and (s["n_model_wrong"] or 0) >= min_wrong
        rows.append({"reviewer": r, "judged": bool(judged), **s, "q_no_information": None})
    judged_rows = [r for r in rows if r["judged"]]
    q = holm([r["p_no_information"] for r in judged_rows])
    for r, qi in zip(judged_rows, q, strict=True):
        r["q_no_information"] = float(qi)
    return rows


def judge(
    aggregate_p: float | None,
    flagged: Sequence[str],
    gain_high: float | None,
    *,
    alpha: float,
) -> Status:
    """``fail`` when review as a whole adds no information (pooled gap confidently
    below ``gap_min``); ``warn`` for a flagged reviewer, or human-in-the-loop
    decisions clearly less accurate than the model alone; else ``pass``.

    >>> judge(0.001, [], None, alpha=0.05), judge(0.4, ["r2"], 0.1, alpha=0.05)
    ('fail', 'warn')
    >>> judge(0.4, [], -0.01, alpha=0.05), judge(0.4, [], 0.02, alpha=0.05)
    ('warn', 'pass')
    """
    if aggregate_p is not None and aggregate_p <= alpha:
        return "fail"
    if flagged or (gain_high is not None and gain_high < 0):
        return "warn"
    return "pass"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def _secs(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1f} s"


def _reviewer_finding(r: Mapping[str, Any], others_accept: float | None) -> Finding:
    times = ""
    if r.get("accept_seconds") is not None:
        times = f" Median time to accept: {_secs(r['accept_seconds'])}"
        if r.get("override_seconds") is not None:
            times += f" ({_secs(r['override_seconds'])} to override)"
        if others_accept is not None:
            times += f", against {_secs(others_accept)} for the other reviewers"
        times += "."
    return Finding(
        status="warn",
        group=f"reviewer {r['reviewer']}",
        metrics={
            k: r[k]
            for k in (
                "gap",
                "gap_low",
                "gap_high",
                "agree_right",
                "agree_wrong",
                "q_no_information",
            )
        },
        message=(
            f"Reviewer {r['reviewer']} agreed with the model on {_pct(r['agree_right'])} of the "
            f"{r['n_model_right']} labelled cases where it was right and on "
            f"{_pct(r['agree_wrong'])} of the {r['n_model_wrong']} where it was wrong (gap "
            f"{r['gap']:+.2f}, interval {r['gap_low']:+.2f} to {r['gap_high']:+.2f}, Holm q "
            f"{r['q_no_information']:.2g}): their agreement does not depend on whether the model "
            f"was right, so their review is not catching its mistakes.{times}"
        ),
    )


@dataclass(frozen=True)
class HumanOversightParams:
    """Parameters of ``monitoring.human_oversight``."""

    gap_min: float = param(
        0.1,
        "Least gap in agreement (model right vs wrong) for a reviewer to add information.",
        ge=0,
        le=1,
    )
    alpha: float = param(0.05, "Significance level of the agreement-gap test.", gt=0, lt=1)
    min_right: int = param(20, "Cases the model got right a reviewer needs to be judged.", ge=1)
    min_wrong: int = param(10, "Cases the model got wrong a reviewer needs to be judged.", ge=1)


@dataclass(frozen=True)
class HumanOversightDetails(Details):
    """What ``monitoring.human_oversight`` keeps in its ``details`` (``report.json``)."""

    columns: Mapping[str, Any]
    reviewers: tuple[Mapping[str, Any], ...]
    flagged: tuple[Any, ...]
    method: str
    confidence: float


@register_check(
    CHECK_ID,
    area="monitoring",
    title="Human oversight (automation bias)",
    explanation=(
        "Where people review the model's outputs before acting, the review is a safeguard "
        "only if they catch the model's mistakes. From a table of reviewed cases (the model's "
        "prediction, the human decision, the truth where known, who decided and how long it "
        "took) this check measures how often each reviewer agrees with the model when it is "
        "right and when it is wrong. A reviewer who adds no information agrees equally often "
        "either way (automation bias, rubber-stamping); one who adds information overrides the "
        "model much more often when it is wrong. It also compares the accuracy of the final "
        "human decisions with the model's own, and the time taken to accept and to override."
    ),
    standards=("GOVERN 3.2", "MAP 3.5", "MEASURE 2.8"),
    severity="high",
    params=HumanOversightParams,
    tasks=("binary", "multiclass"),
    details=HumanOversightDetails,
)
def human_oversight(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Automation-bias measures from the decisions table, per reviewer and pooled."""
    m = _measure(ctx, th)
    verdict = judge_oversight(m, alpha=float(th["alpha"]))
    summary, rec = _summary(m, verdict)
    judged = [r for r in m.reviewers if r["judged"]]
    metrics = {k: v for k, v in m.pooled.items() if v is None or isinstance(v, (int, float))}
    metrics.update(
        n_reviewers=len(m.reviewers),
        n_reviewers_judged=len(judged),
        n_reviewers_flagged=len(verdict.flagged),
    )
    return Outcome(
        status=verdict.status,
        summary=summary,
        metrics=metrics,
        findings=_findings(m, verdict),
        recommendation=rec,
        details=_details(m, verdict, th, ctx.settings.confidence),
    )


@dataclass(frozen=True)
class Oversight:
    """The numbers of one oversight measurement (no verdict, no words)."""

    columns: Mapping[str, str]  # role -> column of the decisions table
    pooled: Mapping[str, Any]  # :func:`oversight_summary` over every decision
    reviewers: Sequence[Mapping[str, Any]]  # :func:`by_reviewer` rows, Holm q set


@dataclass(frozen=True)
class OversightVerdict:
    """The status, the reviewers flagged and whether overrides clearly cost accuracy."""

    status: Status
    flagged: tuple[str, ...]
    harmful_overrides: bool


def judge_oversight(m: Oversight, *, alpha: float) -> OversightVerdict:
    """A reviewer is flagged when judged and their Holm q of "gap >= gap_min" is at most
    ``alpha``; the status is :func:`judge` of the pooled p value, the flagged reviewers
    and the high end of the human-minus-model accuracy interval.

    >>> m = Oversight({}, {"p_no_information": 0.3, "accuracy_gain_high": 0.02},
    ...               [{"reviewer": "r1", "judged": True, "q_no_information": 0.01}])
    >>> judge_oversight(m, alpha=0.05)
    OversightVerdict(status='warn', flagged=('r1',), harmful_overrides=False)
    """
    flagged = tuple(
        str(r["reviewer"])
        for r in m.reviewers
        if r["judged"] and r["q_no_information"] is not None and r["q_no_information"] <= alpha
    )
    gain_high = m.pooled.get("accuracy_gain_high")
    status = judge(m.pooled.get("p_no_information"), flagged, gain_high, alpha=alpha)
    return OversightVerdict(status, flagged, gain_high is not None and gain_high < 0)


def _measure(ctx: AuditContext, th: Mapping[str, Any]) -> Oversight:
    """The pooled measures and those of each reviewer, from the decisions table."""
    df = getattr(ctx, "decisions", None)
    if df is None:
        raise SkipCheck("no decisions table was given (pass decisions=... or --decisions PATH)")
    names = {role: ctx.decision_columns.get(role, role) for role in ROLES}
    col = {role: df.get_column(c).to_numpy() for role, c in names.items() if c in df.columns}
    secs = col.get("seconds")
    conf, gap_min = ctx.settings.confidence, float(th["gap_min"])
    pooled = oversight_summary(
        col["prediction"], col["decision"], col["label"], secs, confidence=conf, gap_min=gap_min
    )
    reviewers = by_reviewer(
        col["prediction"],
        col["decision"],
        col["label"],
        col.get("reviewer", np.full(df.height, "(all)", dtype=object)),
        secs,
        confidence=conf,
        gap_min=gap_min,
        min_right=int(th["min_right"]),
        min_wrong=int(th["min_wrong"]),
    )
    return Oversight(columns=names, pooled=pooled, reviewers=reviewers)


def _flagged_rows(m: Oversight, v: OversightVerdict) -> list[Mapping[str, Any]]:
    return [r for r in m.reviewers if str(r["reviewer"]) in v.flagged]


def _findings(m: Oversight, v: OversightVerdict) -> list[Finding]:
    """One finding per flagged reviewer (their accept time against the other judged
    reviewers'), and one when overrides clearly cost accuracy."""
    findings: list[Finding] = []
    for r in _flagged_rows(m, v):
        rest = [x for x in m.reviewers if x["reviewer"] != r["reviewer"] and x["judged"]]
        rest_accept = [x["accept_seconds"] for x in rest if x.get("accept_seconds") is not None]
        findings.append(
            _reviewer_finding(r, float(np.median(rest_accept)) if rest_accept else None)
        )
    agg = m.pooled
    if agg["gap"] is not None and v.harmful_overrides:
        findings.append(
            Finding(
                status="warn",
                group="all reviewers",
                metrics={
                    k: agg[k]
                    for k in (
                        "accuracy_gain",
                        "accuracy_gain_low",
                        "accuracy_gain_high",
                        "p_accuracy",
                    )
                },
                message=(
                    f"{agg['harmful_overrides']} overrides turned a right model output into "
                    f"a wrong decision and {agg['helpful_overrides']} did the reverse."
                ),
            )
        )
    return findings


def _summary(m: Oversight, v: OversightVerdict) -> tuple[str, str]:
    """(summary, recommendation): overrides, agreement when right and wrong, accuracy of
    the final decisions, and what was flagged."""
    agg = m.pooled
    head = (
        f"Across {agg['n_decisions']:,} reviewed cases ({agg['n_labelled']:,} labelled) "
        f"reviewers overrode the model {_pct(agg['override_rate'])} of the time"
    )
    if agg["gap"] is None:
        summary = head + "; no labelled case shows the model both right and wrong, so automation "
        summary += "bias cannot be measured yet."
        return summary, (
            "Record the true outcome of reviewed cases (the label column) to measure oversight."
        )
    summary = (
        f"{head}; they agreed with it on {_pct(agg['agree_right'])} of the cases where it was "
        f"right and {_pct(agg['agree_wrong'])} where it was wrong (gap {agg['gap']:+.2f}, "
        f"interval {agg['gap_low']:+.2f} to {agg['gap_high']:+.2f}). Final decisions were "
        f"{_pct(agg['human_accuracy'])} accurate against {_pct(agg['model_accuracy'])} for "
        f"the model alone."
    )
    if v.status == "fail":
        summary += " Review as a whole does not depend on whether the model was right."
    elif v.flagged:
        n_judged = sum(1 for r in m.reviewers if r["judged"])
        summary += (
            f" {len(v.flagged)} of {n_judged} reviewers judged agree regardless of whether "
            f"the model was right: {', '.join(v.flagged)}."
        )
    if v.harmful_overrides:
        summary += " Overrides make the final decisions clearly less accurate than the model."
    rec = (
        "Review is catching the model's mistakes; keep measuring it as labels arrive."
        if v.status == "pass"
        else "Human review is not acting as a safeguard where flagged: check workload and "
        "incentives (very short accept times point to rubber-stamping), show reviewers the "
        "model's uncertainty instead of only its answer, seed known-wrong cases to audit "
        "attention, and retrain or re-brief the reviewers named."
    )
    return summary, rec


def _details(
    m: Oversight, v: OversightVerdict, th: Mapping[str, Any], conf: float
) -> dict[str, Any]:
    """Columns, per-reviewer rows, the method and the chart of gaps."""
    agg, gap_min, alpha = m.pooled, float(th["gap_min"]), float(th["alpha"])
    items = [
        (f"reviewer {r['reviewer']}", Interval(r["gap"], r["gap_low"], r["gap_high"]))
        for r in m.reviewers
        if r["judged"]
    ]
    if agg["gap"] is not None:
        items.append(("all reviewers", Interval(agg["gap"], agg["gap_low"], agg["gap_high"])))
    return {
        "columns": m.columns,
        "reviewers": m.reviewers,
        "flagged": [r["reviewer"] for r in _flagged_rows(m, v)],
        "method": (
            "gap = P(agree | model right) - P(agree | model wrong) on labelled, decided cases, "
            "Agresti-Caffo interval; a reviewer is flagged when the one-sided test of gap >= "
            f"gap_min ({gap_min:g}) rejects at Holm q <= alpha ({alpha:g}) over the reviewers "
            f"judged (at least {th['min_right']} right and {th['min_wrong']} wrong model outputs "
            "labelled); the pooled test fails the check. Human vs model accuracy: paired, "
            "Agresti-Min interval, exact McNemar p. Review times: medians with order-statistic "
            "intervals, Mann-Whitney p."
        ),
        "confidence": conf,
        "charts": [intervals_chart("Automation-bias gap (0 = adds no information)", "gap", items)],
    }
