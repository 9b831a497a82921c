"""``evaluation.uncertainty``: conformal prediction sets and intervals.

Split conformal prediction, written out here (MAPIE is not used; the
arithmetic is a few lines). The test rows are split, in a seeded order that
does not depend on the input row order, into a *calibration* half and an
*evaluation* half.

- Classification: the score of a row is ``1 − p̂(true class)`` (the "LAC"
  score). The sets are *class-conditional* (Mondrian): each class with at
  least ``min_group_size`` calibration rows gets its own threshold, so the
  promise holds within every class, not only on average; classes with fewer
  rows share one threshold (the marginal one when every class is small). With
  ``n`` calibration scores in a group, the threshold for level ``1 − α`` is
  the ``⌈(n + 1)(1 − α)⌉``-th smallest score (the class is always in the set
  when that rank exceeds ``n``). The set of a row holds every class ``c`` with
  ``1 − p̂(c) ≤`` the threshold of ``c``'s group.
- Regression: the score is ``|y − ŷ|``, conformalised separately within bins
  of the prediction level (bin edges are quantiles of the calibration
  predictions, up to four bins of at least ``min_group_size`` calibration
  rows): the interval ``ŷ ± threshold(bin of ŷ)`` is wider where the model is
  less sure, and the promise holds within every bin.

If the rows are exchangeable, the sets (intervals) of every group hold the
true value with probability at least ``1 − α``; more exactly, the number of
the ``m`` evaluation rows of a group that are covered follows a
beta-binomial law with parameters ``(m, k, n + 1 − k)`` (``k`` the rank
above). The check measures coverage on the evaluation half, per group and
overall, and tests it against that law (one-sided; the overall law is the
convolution of the groups'); the p values of all groups and levels are
adjusted together (Holm). A group warns, and the overall coverage fails, only
when the shortfall is both clear (q below ``alpha``) and material (more than
``conditional_gap_warn`` below the promise).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np

from assay.core.charts import Bar, BarChart, IntervalChart, IntervalItem, Unit
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._depth import eval_data, sample_positions, wilson
from assay.io.models import Prediction
from assay.stats import holm

CHECK_ID = "evaluation.uncertainty"
MAX_BINS = 4
"""Most prediction-level bins a regression's intervals are conformalised in."""
_TOL = 1e-9


# -- arithmetic and the decision (numbers in, verdict out) --------------------------
def conformal_threshold(scores: np.ndarray, level: float) -> float:
    """The split-conformal threshold: the ``⌈(n+1)·level⌉``-th smallest score.

    >>> conformal_threshold(np.arange(1.0, 11.0), 0.8)
    9.0
    >>> conformal_threshold(np.arange(1.0, 11.0), 0.95)
    inf
    """
    n = scores.size
    k = _rank(n, level)
    if n == 0 or k > n:
        return math.inf
    return float(np.sort(scores)[k - 1])


def _rank(n: int, level: float) -> int:
    # The small tolerance keeps (n + 1)·level = an integer from rounding up.
    return math.ceil((n + 1) * level - _TOL)


def _null_pmf(rows: int, n_calibration: int, level: float) -> np.ndarray:
    """Law of the number of ``rows`` exchangeable rows that a threshold set on
    ``n_calibration`` scores covers (beta-binomial; all covered when no finite threshold)."""
    from scipy.stats import betabinom

    k = _rank(n_calibration, level)
    if n_calibration == 0 or k > n_calibration:
        pmf = np.zeros(rows + 1)
        pmf[-1] = 1.0
        return pmf
    return betabinom.pmf(np.arange(rows + 1), rows, k, n_calibration + 1 - k)


def coverage_p_value(covered: int, rows: int, level: float, n_calibration: int) -> float:
    """One-sided p value of covering only ``covered`` of ``rows`` held-out rows with a
    split-conformal threshold set on ``n_calibration`` exchangeable scores.

    >>> round(coverage_p_value(80, 100, 0.9, 99), 4)
    0.0231
    """
    if rows <= 0:
        return 1.0
    return float(min(1.0, _null_pmf(rows, n_calibration, level)[: covered + 1].sum()))


def overall_p_value(covered: int, groups: Sequence[tuple[int, int]], level: float) -> float:
    """One-sided p value of ``covered`` rows in all, when each group ``(rows, n_calibration)``
    has its own threshold: the null law of the total is the convolution of the groups'."""
    pmf = np.ones(1)
    for rows, n_cal in groups:
        pmf = np.convolve(pmf, _null_pmf(rows, n_cal, level))
    return float(min(1.0, pmf[: covered + 1].sum()))


def q_text(q: float) -> str:
    """``'q = 0.0003'`` or ``'q < 0.0001'``."""
    return f"q = {q:.2g}" if q >= 1e-4 else "q < 0.0001"


def judge_coverage(
    coverage: float,
    rows: int,
    level: float,
    q: float,
    *,
    alpha: float,
    gap: float,
    min_rows: int,
) -> tuple[Status, str]:
    """Verdict on one coverage: ``warn`` when it falls short of ``level`` both clearly
    (``q`` below ``alpha``) and materially (by more than ``gap``), on at least ``min_rows``.

    >>> judge_coverage(0.70, 200, 0.9, 0.0003, alpha=0.05, gap=0.05, min_rows=30)[0]
    'warn'
    >>> judge_coverage(0.87, 200, 0.9, 0.01, alpha=0.05, gap=0.05, min_rows=30)[0]
    'pass'
    """
    if rows < min_rows:
        return "pass", f"not judged: {rows} rows, fewer than {min_rows}"
    short = level - coverage
    points = f"{short * 100:.1f} points"
    if short <= gap + _TOL:
        if short <= 0:
            return "pass", "at or above the promise"
        return "pass", f"{points} below the promise, within the {gap:.0%} tolerated"
    if q < alpha:
        return "warn", f"{points} below the promise, beyond chance ({q_text(q)})"
    return "pass", f"{points} below the promise, but within chance ({q_text(q)})"


# -- measuring ----------------------------------------------------------------------
def class_groups(cal_counts: np.ndarray, min_group: int) -> np.ndarray:
    """Group of each class: its own when it has ``min_group`` calibration rows, else one
    shared group of the smaller classes.

    >>> class_groups(np.array([300, 12, 80, 5]), 30).tolist()
    [0, 2, 1, 2]
    """
    own = cal_counts >= min_group
    out = np.full(cal_counts.size, int(own.sum()), dtype=np.int64)
    out[own] = np.arange(int(own.sum()))
    return out


def level_bins(pred_cal: np.ndarray, min_group: int, max_bins: int = MAX_BINS) -> np.ndarray:
    """Edges of up to ``max_bins`` bins of the calibration predictions (quantiles), each
    with at least ``min_group`` rows where there are enough (small bins merged)."""
    n_bins = max(1, min(max_bins, pred_cal.size // max(1, min_group)))
    edges = np.unique(np.quantile(pred_cal, np.linspace(0, 1, n_bins + 1)[1:-1]))
    while edges.size:
        counts = np.bincount(
            np.searchsorted(edges, pred_cal, side="right"), minlength=edges.size + 1
        )
        j = int(np.argmin(counts))
        if counts[j] >= min_group:
            break
        if j == 0:
            drop = 0
        elif j == edges.size:
            drop = edges.size - 1
        else:
            drop = j - 1 if counts[j - 1] <= counts[j + 1] else j
        edges = np.delete(edges, drop)
    return edges


def _key(level: float) -> str:
    return f"{level * 100:g}".replace(".", "_")


def _classification(
    proba: np.ndarray,
    y: np.ndarray,
    cal: np.ndarray,
    ev: np.ndarray,
    level: float,
    group_of_class: np.ndarray,
) -> dict[str, Any]:
    n_groups = int(group_of_class.max()) + 1
    scores = 1.0 - proba[cal, y[cal]]
    g_cal = group_of_class[y[cal]]
    q = np.array([conformal_threshold(scores[g_cal == g], level) for g in range(n_groups)])
    sets = (1.0 - proba[ev]) <= q[group_of_class][None, :] + 1e-12
    covered = sets[np.arange(ev.size), y[ev]]
    size = sets.sum(axis=1)
    return {
        "covered": covered,
        "group": group_of_class[y[ev]],
        "n_cal": np.bincount(g_cal, minlength=n_groups),
        "thresholds": q,
        "set_size": float(size.mean()),
        "singleton_share": float((size == 1).mean()),
        "empty_share": float((size == 0).mean()),
    }


def _regression(
    pred: np.ndarray,
    y: np.ndarray,
    cal: np.ndarray,
    ev: np.ndarray,
    level: float,
    edges: np.ndarray,
) -> dict[str, Any]:
    n_groups = edges.size + 1
    b_cal = np.searchsorted(edges, pred[cal], side="right")
    b_ev = np.searchsorted(edges, pred[ev], side="right")
    res = np.abs(y[cal] - pred[cal])
    q = np.array([conformal_threshold(res[b_cal == b], level) for b in range(n_groups)])
    half = q[b_ev]
    covered = np.abs(y[ev] - pred[ev]) <= half
    width = float(2 * half.mean()) if np.isfinite(half).all() else None
    # The same construction without the model: intervals around the mean target.
    q0 = conformal_threshold(np.abs(y[cal] - y[cal].mean()), level)
    ratio = None if width is None or not q0 or math.isinf(q0) else width / (2 * q0)
    return {
        "covered": covered,
        "group": b_ev,
        "n_cal": np.bincount(b_cal, minlength=n_groups),
        "thresholds": q,
        "width": width,
        "width_ratio": ratio,
    }


# -- the check ----------------------------------------------------------------------
class _Judge(TypedDict):
    """The keyword arguments of :func:`judge_coverage` after the numbers."""

    alpha: float
    gap: float
    min_rows: int


@dataclass(frozen=True)
class UncertaintyParams:
    """Parameters of ``evaluation.uncertainty``."""

    levels: list[float] = param(
        [0.9, 0.95], "Promised coverage levels of the prediction sets.", gt=0, lt=1
    )
    calibration_share: float = param(
        0.5, "Share of the test rows that calibrate the sets (the rest check them).", gt=0, lt=1
    )
    conditional_gap_warn: float = param(
        0.05,
        "Shortfall of a class's (or range's) coverage under the promise that warns.",
        ge=0,
        le=1,
    )
    alpha: float = param(0.05, "Significance level of the coverage-shortfall test.", gt=0, lt=1)
    min_group_size: int = param(30, "Rows a class or range needs to be judged.", ge=1)
    min_rows: int = param(40, "Test rows needed to run the check at all.", ge=2)


@dataclass(frozen=True)
class UncertaintyDetails(Details):
    """What ``evaluation.uncertainty`` keeps in its ``details`` (``report.json``)."""

    method: str
    implementation: str
    levels: tuple[Mapping[str, Any], ...]
    conditional_by: str
    test: str
    n_calibration: int
    n_evaluation: int
    n_rows_available: int
    split: str
    coverage_interval: str
    seed: int
    confidence: float


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Uncertainty (conformal prediction)",
    explanation=(
        "How sure the model's predictions are, in a form anyone can use: instead of one "
        "answer, a set of classes (or an interval of values) that contains the truth 90% or "
        "95% of the time, in every class (or every range of predicted values), not only on "
        "average. Half of the test rows calibrate these sets (class-conditional split "
        "conformal prediction; intervals wider where the model is less sure); the other half "
        "check that they really cover the truth that often. Small sets mean a confident, "
        "useful model; coverage clearly and materially below the promise means the two "
        "halves of the test data are not alike, so the promise cannot be trusted."
    ),
    standards=("MEASURE 2.5", "MEASURE 2.6"),
    severity="medium",
    params=UncertaintyParams,
    needs=("model",),
    details=UncertaintyDetails,
)
def uncertainty(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Conformal sets (classification) or intervals (regression) at each level."""
    s = ctx.settings
    conf = s.confidence
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    regression = ctx.task == "regression"
    full = ctx.predictions("test")
    if not regression and full.proba is None:
        raise SkipCheck(
            "conformal prediction sets need class probabilities (a model with predict_proba, "
            "or --score columns)"
        )
    pos = sample_positions(ctx, s.max_rows_model_checks)
    n = pos.size
    if n < int(th["min_rows"]):
        raise SkipCheck(
            f"only {n} labelled test rows; conformal calibration needs {th['min_rows']}"
        )
    pred = Prediction(
        labels=np.asarray(full.labels)[pos], proba=None if full.proba is None else full.proba[pos]
    )
    data = eval_data(ctx, y_all[pos], pred)
    n_cal = round(n * float(th["calibration_share"]))
    n_cal = min(max(n_cal, 1), n - 1)
    cal, ev = np.arange(n_cal), np.arange(n_cal, n)
    levels = sorted(float(v) for v in th["levels"])
    min_group = int(th["min_group_size"])
    judge = _Judge(
        alpha=float(th["alpha"]), gap=float(th["conditional_gap_warn"]), min_rows=min_group
    )

    # The groups calibrated (and judged) separately.
    edges, group_of_class, group_names, note = _groups(ctx, data, cal, regression, min_group)

    per_level: list[dict[str, Any]] = []
    tests: list[dict[str, Any]] = []  # every judged coverage, for one Holm adjustment
    for lv in levels:
        if regression:
            assert edges is not None  # _groups bins a regression's predictions
            r = _regression(data.pred, data.y, cal, ev, lv, edges)
        else:
            # Classes need probabilities (checked above) and _groups groups them.
            assert data.proba is not None and group_of_class is not None
            r = _classification(data.proba, data.y, cal, ev, lv, group_of_class)
        per_level.append(
            _level_row(r, lv, group_names, ev.size, min_group, conf, tests, regression)
        )

    for t, q in zip(tests, holm(np.array([t["p_value"] for t in tests])), strict=True):
        t["q_value"] = float(q)
        t["status"], t["reason"] = judge_coverage(
            t["coverage"], t["rows"], t["level"], float(q), **judge
        )
    findings = _findings(per_level, regression)
    status = _settle(per_level, min_group)

    summary, rec = _words(status, per_level, regression, findings)
    metrics = _metrics(per_level, tests, regression, int(cal.size), int(ev.size))
    sizes = (int(cal.size), int(ev.size), int(y_all.shape[0]))
    details = _details(per_level, tests, regression, note, judge, sizes, s, th)
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
        units=_units(metrics),
    )


def _units(metrics: Mapping[str, Any]) -> dict[str, Unit]:
    """Coverages are shares (as in the charts), set sizes counts, shortfalls points."""
    units: dict[str, Unit] = {}
    for k in metrics:
        if k.startswith(("coverage_", "worst_", "singleton_share_")):
            units[k] = "share"
        elif k.startswith("set_size_"):
            units[k] = "count"
        elif k == "max_shortfall":
            units[k] = "points"
    return units


def _groups(
    ctx: AuditContext, data: Any, cal: np.ndarray, regression: bool, min_group: int
) -> tuple[np.ndarray | None, np.ndarray | None, list[str], str]:
    """The groups calibrated and judged separately: bins of the predicted value
    (regression) or classes, small classes pooled; with their names and a note."""
    edges = None
    if regression:
        edges = level_bins(data.pred[cal], min_group)
        bounds = [-np.inf, *edges.tolist(), np.inf]
        group_names = [_range_text(bounds[i], bounds[i + 1]) for i in range(edges.size + 1)]
        group_of_class = None
        note = (
            f"intervals conformalised within {len(group_names)} bin(s) of the predicted value"
            if len(group_names) > 1
            else f"one marginal interval: fewer than {2 * min_group} calibration rows to bin"
        )
    else:
        counts = np.bincount(data.y[cal], minlength=len(ctx.classes))
        group_of_class = class_groups(counts, min_group)
        group_names = _class_group_names(ctx.classes, group_of_class, counts, min_group)
        pooled = int((counts < min_group).sum())
        note = (
            "a threshold per class"
            if pooled == 0
            else (
                f"one marginal threshold: every class has fewer than {min_group} calibration rows"
                if pooled == len(ctx.classes)
                else f"a threshold per class; {pooled} class(es) with fewer than "
                f"{min_group} calibration rows share one"
            )
        )

    return edges, group_of_class, group_names, note


def _level_row(
    r: dict[str, Any],
    lv: float,
    group_names: list[str],
    n_ev: int,
    min_group: int,
    conf: float,
    tests: list[dict[str, Any]],
    regression: bool,
) -> dict[str, Any]:
    """One level's coverage, overall and per group, with Wilson intervals and exact p
    values; the groups large enough to judge (and the overall row) join ``tests``."""
    covered, group, n_cal_g, q_g = (
        r.pop("covered"),
        r.pop("group"),
        r.pop("n_cal"),
        r.pop("thresholds"),
    )
    k = int(covered.sum())
    low, high = wilson(k, n_ev, conf)
    sizes = []
    parts: list[dict[str, Any]] = []
    for g, name in enumerate(group_names):
        sel = group == g
        m, kg = int(sel.sum()), int(covered[sel].sum())
        sizes.append((m, int(n_cal_g[g])))
        if m == 0:
            continue
        lo_g, hi_g = wilson(kg, m, conf)
        part = {
            "part": name,
            "level": lv,
            "rows": m,
            "calibration_rows": int(n_cal_g[g]),
            "coverage": kg / m,
            "coverage_low": lo_g,
            "coverage_high": hi_g,
            "shortfall": lv - kg / m,
            "p_value": coverage_p_value(kg, m, lv, int(n_cal_g[g])),
            "judged": m >= min_group,
        }
        if regression:
            part["width"] = None if math.isinf(q_g[g]) else float(2 * q_g[g])
        parts.append(part)
        if part["judged"]:
            tests.append(part)
    row: dict[str, Any] = {
        "level": lv,
        "coverage": k / n_ev,
        "coverage_low": low,
        "coverage_high": high,
        "shortfall": lv - k / n_ev,
        "p_value": overall_p_value(k, sizes, lv),
        "rows": int(n_ev),
        "judged": n_ev >= min_group,
        **r,
        "parts": parts,
    }
    if row["judged"]:
        tests.append(row)
    judged_parts = [p for p in parts if p["judged"]]
    row["worst_part"] = min(judged_parts, key=lambda p: p["coverage"]) if judged_parts else None
    return row


def _settle(per_level: list[dict[str, Any]], min_group: int) -> Status:
    """Each level's final status (a broken overall promise fails; a group short of it
    warns) and the check's; groups not judged say why."""
    status: Status = "pass"
    for row in per_level:
        row.setdefault("q_value", None)
        row.setdefault("status", "pass")
        if row["status"] == "warn":
            row["status"] = "fail"  # the overall promise is broken
        for p in row["parts"]:
            p.setdefault("q_value", None)
            p.setdefault("status", "pass")
            p.setdefault("reason", f"not judged: {p['rows']} rows, fewer than {min_group}")
        if row["status"] == "pass" and any(p["status"] == "warn" for p in row["parts"]):
            row["status"] = "warn"
        status = _worse(status, row["status"])

    return status


def _metrics(
    per_level: list[dict[str, Any]],
    tests: list[dict[str, Any]],
    regression: bool,
    n_cal: int,
    n_ev: int,
) -> dict[str, float | int | None]:
    """Coverage, size and the worst group per level; the evidence of the verdict."""
    metrics: dict[str, float | int | None] = {}
    for row in per_level:
        k = _key(row["level"])
        metrics[f"coverage_{k}"] = row["coverage"]
        metrics[f"coverage_{k}_low"] = row["coverage_low"]
        metrics[f"coverage_{k}_high"] = row["coverage_high"]
        if regression:
            metrics[f"width_{k}"] = row["width"]
            metrics[f"width_ratio_{k}"] = row["width_ratio"]
        else:
            metrics[f"set_size_{k}"] = row["set_size"]
            metrics[f"singleton_share_{k}"] = row["singleton_share"]
        wp = row["worst_part"]
        metrics[f"worst_{'bin' if regression else 'class'}_coverage_{k}"] = (
            wp["coverage"] if wp else None
        )
    alarmed = [t for t in tests if t["status"] != "pass"]
    evidence = alarmed or tests
    metrics["p_value"] = min((t["p_value"] for t in evidence), default=None)
    metrics["q_value"] = min((t["q_value"] for t in evidence), default=None)
    metrics["max_shortfall"] = max((t["shortfall"] for t in tests), default=None)
    metrics["n_calibration"] = n_cal
    metrics["n_evaluation"] = n_ev
    return metrics


def _details(
    per_level: list[dict[str, Any]],
    tests: list[dict[str, Any]],
    regression: bool,
    note: str,
    judge: _Judge,
    sizes: tuple[int, int, int],
    s: Any,
    th: Mapping[str, Any],
) -> dict[str, Any]:
    """The method, every level's table, the test and the split (``sizes``: calibration,
    evaluation and available rows)."""
    n_cal, n_ev, n_available = sizes
    return {
        "method": (
            "split conformal prediction, class-conditional (Mondrian); score 1 − p̂(true "
            f"class) (LAC); {note}"
            if not regression
            else "split conformal prediction, conditional on the predicted value's bin "
            f"(normalised by bin); score |y − ŷ|, interval ŷ ± threshold of the bin; {note}"
        ),
        "implementation": "the split-conformal arithmetic is written out in Assay "
        "(MAPIE is not used)",
        "levels": per_level,
        "conditional_by": "predicted value" if regression else "class",
        "test": "one-sided exact test of the coverage of each group against its "
        "beta-binomial law under exchangeability (overall: their convolution); Holm "
        f"adjustment over all {len(tests)} groups and levels; alarm when q < {judge['alpha']:g} "
        f"and the shortfall exceeds {judge['gap']:.0%}",
        "n_calibration": n_cal,
        "n_evaluation": n_ev,
        "n_rows_available": n_available,
        "split": "calibration and evaluation halves of test, in a seeded order that does not "
        "depend on the input row order",
        "coverage_interval": "Wilson score interval",
        "seed": s.seed,
        "confidence": s.confidence,
        "charts": _charts(per_level, regression, s.confidence, th),
    }


# -- describing ---------------------------------------------------------------------
def _class_group_names(
    classes: Sequence[Any], group_of_class: np.ndarray, counts: np.ndarray, min_group: int
) -> list[str]:
    names = []
    for g in range(int(group_of_class.max()) + 1):
        members = [c for c, gc in zip(classes, group_of_class, strict=True) if gc == g]
        if len(members) == 1:
            names.append(f"class {members[0]!r}")
        elif len(members) == len(classes):
            names.append("all classes")
        else:
            shown = ", ".join(repr(c) for c in members[:5])
            more = f" and {len(members) - 5} more" if len(members) > 5 else ""
            names.append(f"classes {shown}{more} (pooled)")
    return names


def _findings(per_level: list[dict[str, Any]], regression: bool) -> list[Finding]:
    kind = "intervals" if regression else "prediction sets"
    out: list[tuple[int, float, Finding]] = []
    for row in per_level:
        lv = row["level"]
        for p in row["parts"]:
            if p.get("status") != "warn":
                continue
            where = "where" if regression else "of"
            out.append(
                (
                    1,
                    p["q_value"],
                    Finding(
                        status="warn",
                        group=p["part"],
                        split="test",
                        message=(
                            f"The {lv:.0%} {kind} cover only {p['coverage']:.1%} of the "
                            f"evaluation rows {where} {p['part']} ({p['rows']:,} rows), "
                            f"against {lv:.0%} promised: {p['reason']}."
                        ),
                        metrics=_finding_metrics(lv, p),
                    ),
                )
            )
        if row.get("status") == "warn":  # the overall test, before it is named fail
            out.append(
                (
                    0,
                    row["q_value"],
                    Finding(
                        status="fail",
                        group="all evaluation rows",
                        split="test",
                        message=(
                            f"The {lv:.0%} {kind} cover only {row['coverage']:.1%} of the "
                            f"{row['rows']:,} evaluation rows: {row['reason']}; the two halves "
                            "of test are not alike (not exchangeable)."
                        ),
                        metrics=_finding_metrics(lv, row),
                    ),
                )
            )
    out.sort(key=lambda t: (t[0], t[1]))
    return [f for _, _, f in out]


def _finding_metrics(level: float, t: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "level": level,
        "coverage": t["coverage"],
        "coverage_low": t["coverage_low"],
        "coverage_high": t["coverage_high"],
        "shortfall": t["shortfall"],
        "rows": t["rows"],
        "p_value": t["p_value"],
        "q_value": t["q_value"],
    }


def _worse(a: Status, b: Status) -> Status:
    rank = {"pass": 0, "warn": 1, "fail": 2}
    return a if rank[a] >= rank[b] else b


def _range_text(lo: float, hi: float) -> str:
    if np.isinf(lo) and np.isinf(hi):
        return "all predictions"
    if np.isinf(lo):
        return f"prediction < {hi:.4g}"
    if np.isinf(hi):
        return f"prediction >= {lo:.4g}"
    return f"{lo:.4g} <= prediction < {hi:.4g}"


def _words(
    status: Status, per_level: list[dict[str, Any]], regression: bool, findings: list[Finding]
) -> tuple[str, str]:
    def one(row: Mapping[str, Any]) -> str:
        if regression:
            width = "unbounded" if row["width"] is None else f"{row['width']:.4g}"
            return f"{row['coverage']:.1%} covered with intervals {width} wide on average"
        return f"{row['coverage']:.1%} covered with {row['set_size']:.2f} classes per set"

    parts = "; ".join(f"at {row['level']:.0%}, {one(row)}" for row in per_level)
    kind = "intervals" if regression else "prediction sets"
    by = "range of predicted values" if regression else "class"
    if status == "pass":
        summary = (
            f"Conformal {kind} keep their promise on held-out test rows, overall and in each "
            f"{by}: {parts}."
        )
        rec = (
            f"Use these {kind} to communicate uncertainty, and recalibrate them on recent "
            "labelled data when production drifts."
        )
        return summary, rec
    f = findings[0]
    summary = f"{f.message[:-1]}; overall, {parts}."
    rec = (
        "The calibration and evaluation halves of test behave differently, so no conformal "
        "promise calibrated on one part of this data holds on another: check whether the "
        "test data mixes periods, sources or populations (drift within test), and calibrate "
        "on data like the data the model will see."
    )
    return summary, rec


def _charts(
    per_level: list[dict[str, Any]], regression: bool, conf: float, th: Mapping[str, Any]
) -> list[dict[str, Any]]:
    charts: list[dict[str, Any]] = [
        IntervalChart(
            title=f"Empirical coverage of the conformal {'intervals' if regression else 'sets'}"
            f" on held-out rows ({conf:.0%} Wilson intervals)",
            x_label="share of rows covered",
            unit="share",
            items=[
                IntervalItem(
                    f"promised {row['level']:.0%}",
                    row["coverage"],
                    row["coverage_low"],
                    row["coverage_high"],
                )
                for row in per_level
            ],
        ).to_dict()
    ]
    first = per_level[0] if per_level else None
    if first is not None and first["parts"]:
        charts.append(
            BarChart(
                title=f"Coverage of the {first['level']:.0%} "
                f"{'intervals by predicted value' if regression else 'sets by true class'}",
                x_label="share of rows covered",
                unit="share",
                items=[Bar(p["part"], p["coverage"], p["status"]) for p in first["parts"]],
                threshold=first["level"],
            ).to_dict()
        )
    if not regression:
        charts.append(
            BarChart(
                title="Average number of classes in a prediction set",
                x_label="classes per set",
                unit="count",
                items=[Bar(f"{row['level']:.0%} sets", row["set_size"]) for row in per_level],
            ).to_dict()
        )
    return charts
