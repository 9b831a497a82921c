"""``evaluation.weak_segments``: automatic discovery of slices where the model is worse.

Every feature becomes a few readable conditions: numeric columns are cut at
rounded quantiles (``age < 25``, ``25 <= age < 38``, ``age >= 52``; each cut kept
with the precision its neighbouring quantiles need, so ``-121.9 <= longitude < -120``
rather than a single cut at -120), other columns give one condition per frequent value
(``workclass = Private``), and missing values their own (``age is missing``). Segments
are those conditions and every pair of them on two different columns (a lattice of
depth two, as SliceLine searches). Counts and error sums for all of them come from one
``bincount`` per column pair, so the search is vectorized.

Each segment large enough is tested against the rest of the rows (a one-sided
Welch test of the per-row loss; for a classifier, whose errors are 0/1, with the
segment's variance bounded under the null rather than observed), and the
Benjamini–Hochberg procedure keeps the false discovery rate at the stated level in two
families that share it: single conditions (``1 - pair_fdr_share`` of the rate), and pairs
(the rest), so thousands of pairs do not dilute a single condition's evidence. A pair is
tested as adding to its single conditions: its p-value is the largest of its test against
the other rows and its tests against the rest of each single condition's rows; and it
gives way to a significant single condition that holds nearly the same rows (Jaccard
overlap at least ``same_rows``) unless it is materially worse.

For a classifier judged on unexpected errors (the default) the tests are minimum-effect
tests, spent hierarchically. A single condition is a discovery when the data show it is
worse than overall by more than ``test_gap_share`` (one half) of the warning gap, not
merely worse (among thousands of segments, the most extreme gaps are inflated by
selection; on a fresh sample they shrink); it is material when its own test, unadjusted,
shows it worse by more than the whole warning gap, in its judged and in its plain errors
(its one-sided interval lies above the gap). A pair, one of thousands, is a discovery only
against the whole warning gap. (Measured on the planted benchmark and the clean-audit
harness: a null at the whole gap for single conditions missed German credit's planted
slice, 85 of 300 rows judged 0.19 worse, p 7.5e-4 but q 0.07; a null of "no worse", or
half the gap without the materiality test, alarmed on more honest models, and those
alarms replicated less often.) Among the discoveries
that are worse by at least the warning gap, those with the strongest
evidence (the largest Welch statistic, which weighs the gap by the segment's size) are
reported first, each only if it is still worse once the rows of segments already
reported are set aside (so a segment and its parent are not both reported for the same
rows), and a pair only if it is clearly worse than each of its two single conditions.

By default (``judge: unexpected``) a segment is judged on the errors the model's own
output did not expect. For a classifier with class scores the per-row loss is the
misclassification minus the error the score expected (one minus the probability of the
predicted class): near the decision boundary every model errs often and says so, and
that is not a weak segment; a slice where the model is confidently wrong is. For a
regressor it is the absolute error divided by the mean absolute error of the rows whose
prediction lies in the same decile: absolute errors grow with the predicted value, and a
slice of expensive houses is not weak for that alone. The segment must be worse by the
warning gap both plainly and in those judged errors. ``judge: raw`` judges plain
misclassification or absolute error. Either way the reported metric is the segment's
plain accuracy (or MAE) with a bootstrap interval.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Status
from assay.errors import ConfigError
from assay.evaluation._bootstrap import Interval, metric_intervals
from assay.evaluation._depth import eval_data, sample_positions
from assay.evaluation._segments_columns import Column, columns
from assay.evaluation._segments_describe import Searched, Shown, describe
from assay.evaluation._segments_judge import judge_pair, judge_segment
from assay.evaluation._segments_search import (
    Candidate,
    Losses,
    Plan,
    choose,
    losses,
    members,
    predicate,
    search,
)
from assay.io.models import Prediction

__all__ = ["judge_pair", "judge_segment", "judge_weak_segments", "weak_segments"]

CHECK_ID = "evaluation.weak_segments"
_MAX_SCAN = 300
"""Significant segments examined, worst first, when choosing which to report."""


@dataclass(frozen=True)
class WeakSegmentsParams:
    """Parameters of ``evaluation.weak_segments``."""

    n_bins: int = param(5, "Quantile bins a numeric feature is cut into.", ge=2)
    max_categories: int = param(
        10, "Most frequent categories of a feature searched (the rest are pooled).", ge=1
    )
    min_size: int = param(30, "Rows a segment needs to be tested.", ge=1)
    min_share: float = param(
        0.01,
        "Share of the test rows a segment needs (with min_size, the larger wins).",
        ge=0,
        le=1,
    )
    fdr: float = param(
        0.05, "False-discovery rate of the segment search (Benjamini–Hochberg).", gt=0, lt=1
    )
    pair_fdr_share: float = param(
        0.2, "Share of the false-discovery rate spent on two-condition segments.", ge=0, le=1
    )
    same_rows: float = param(
        0.8, "Overlap of rows above which a segment repeats one already named.", ge=0, le=1
    )
    test_gap_share: float = param(
        0.5, "Share of the warning gap a single condition is tested against.", ge=0, le=1
    )
    judge: Literal["unexpected", "raw"] = param(
        "unexpected",
        "unexpected: errors the scores did not expect (or against similar predictions); "
        "raw: plain errors.",
    )
    warn_gap: float = param(
        0.05, "A classifier segment's error above overall by this much warns.", ge=0
    )
    fail_gap: float = param(
        0.15, "A classifier segment's error above overall by this much fails.", ge=0
    )
    warn_ratio: float = param(
        1.25, "A regression segment's error ratio to overall from which it warns.", ge=1
    )
    fail_ratio: float = param(
        1.5, "A regression segment's error ratio to overall from which it fails.", ge=1
    )
    pairs: bool = param(True, "Also search segments of two conditions.")
    max_pair_columns: int = param(30, "Columns whose conditions are paired.", ge=0)
    max_segments: int = param(5, "Weak segments reported.", ge=1)


@dataclass(frozen=True)
class WeakSegmentsDetails(Details):
    """What ``evaluation.weak_segments`` keeps in its ``details`` (``report.json``)."""

    metric: str
    judged_on: str
    overall_error: float
    segments: tuple[Mapping[str, Any], ...]
    worst_segments_not_significant: tuple[Mapping[str, Any], ...]
    columns_searched: tuple[str, ...]
    conditions_per_column: Mapping[str, Any]
    test: str
    false_discovery_control: str
    n_rows: int
    n_rows_available: int
    sampled: bool
    seed: int
    n_bootstrap: int
    confidence: float


@register_check(
    CHECK_ID,
    area="evaluation",
    title="Weak segments",
    explanation=(
        "An overall score can hide a part of the population where the model does much worse. "
        "This check searches every slice described by one or two feature conditions (such as "
        "'age < 25 and workclass = Private') for one whose error is clearly higher than "
        "elsewhere, keeps only slices large enough to matter, and controls the share of false "
        "discoveries among the many slices it tests. Each weak slice is named with its size, "
        "its metric with a confidence interval, and its gap to the overall metric. For a "
        "classifier with scores, a slice is judged on the errors its own scores did not "
        "expect, so the region near the decision boundary, where any model is unsure, is not "
        "blamed; for a regressor, a slice is compared with rows given similar predictions, "
        "since absolute errors grow with the predicted value."
    ),
    standards=("MEASURE 2.3", "MEASURE 2.5", "MEASURE 2.11"),
    severity="medium",
    params=WeakSegmentsParams,
    needs=("model",),
    details=WeakSegmentsDetails,
)
def weak_segments(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """The worst significant segments of one or two conditions, with intervals.
    Measured (:func:`measure_weak_segments`), judged (:func:`judge_weak_segments`, each
    segment by :func:`judge_segment`), described (:mod:`._segments_describe`)."""
    m = measure_weak_segments(ctx, th)
    evidence = [(seg.q, seg.effect, seg.cand.p_material) for seg in m.segments]
    statuses, status = judge_weak_segments(evidence, m.searched.plan, m.discovered)
    shown = [
        Shown(seg.cand, seg.q, seg.idx, seg.interval, seg.effect, st)
        for seg, st in zip(m.segments, statuses, strict=True)
    ]
    return describe(m.searched, shown, m.discovered, status, ctx.settings, th)


@dataclass(frozen=True)
class Segment:
    """A segment shown: its candidate (conditions, size, tests), q-value, rows (positions
    within the sample), metric with a bootstrap interval, and effect."""

    cand: Candidate
    q: float
    idx: np.ndarray
    interval: Interval
    effect: float


@dataclass(frozen=True)
class WeakSegments:
    """What ``evaluation.weak_segments`` measures: the search and the segments to show,
    the discoveries when there are some (``discovered``), else the worst found."""

    searched: Searched
    segments: tuple[Segment, ...]
    discovered: bool


def measure_weak_segments(ctx: AuditContext, th: Mapping[str, Any]) -> WeakSegments:
    """Search the segments of the (sampled) test rows, choose the discoveries to report
    (or, with none, the worst found) and measure their metric with an interval."""
    y_all = ctx.labels("test")
    if y_all is None:
        raise SkipCheck("the test data has no target column")
    if th["judge"] not in ("unexpected", "raw"):
        raise ConfigError(
            f"thresholds.{CHECK_ID}.judge must be 'unexpected' or 'raw', not {th['judge']!r}"
        )
    pos = sample_positions(ctx, ctx.settings.max_rows_model_checks)
    full = ctx.predictions("test")
    pred = Prediction(
        labels=np.asarray(full.labels)[pos], proba=None if full.proba is None else full.proba[pos]
    )
    data = eval_data(ctx, y_all[pos], pred)
    regression = ctx.task == "regression"
    lo = losses(data, str(th["judge"]), regression)
    min_size = max(int(th["min_size"]), math.ceil(float(th["min_share"]) * data.n))
    cols = columns(ctx, ctx.frame("test")[pos], th)
    if not cols:
        raise SkipCheck("no numeric, categorical or boolean column to describe segments with")
    plan = _plan(th, lo)
    bernoulli = not regression
    cands, _, qvals = search(
        cols, lo.loss, lo.raw, th, min_size, plan.floors, bernoulli, plan.material
    )
    chosen = _discoveries(cols, cands, qvals, lo, plan, th)
    # With nothing to report, the chart shows the worst segments found, none significant.
    shown = chosen or _worst_found(cols, cands, qvals, lo, th)
    metric = "mae" if regression else "accuracy"
    overall_iv = _interval(ctx, data, np.arange(data.n), metric)
    segments = []
    for cand, q, mask in shown:
        idx = np.flatnonzero(mask)  # positions within the sample, in canonical order
        iv = _interval(ctx, data, idx, metric)
        segments.append(Segment(cand, q, idx, iv, lo.effect(cand.mean, cand.raw_mean)))
    searched = Searched(
        cols, lo, plan, metric, pos, int(y_all.shape[0]), min_size, cands, qvals, overall_iv
    )
    return WeakSegments(searched, tuple(segments), bool(chosen))


def judge_weak_segments(
    evidence: Sequence[tuple[float, float, float]], plan: Plan, discovered: bool
) -> tuple[tuple[Status, ...], Status]:
    """Each segment's verdict and the check's, from numbers alone.

    ``evidence``: per segment shown, its q-value, effect and ``material_p``
    (:func:`judge_segment`); ``plan``: the false discovery rate and the warning and
    failing effects; ``discovered``: whether the segments are discoveries (else they are
    the worst found, none significant, and all pass). With discoveries the check fails
    when one of them fails, and otherwise warns: each was chosen as clearly worse.
    """
    if not discovered:
        return tuple("pass" for _ in evidence), "pass"
    statuses = tuple(
        judge_segment(
            q,
            e,
            fdr=plan.fdr,
            warn_effect=plan.warn_effect,
            fail_effect=plan.fail_effect,
            material_p=p,
        )[0]
        for q, e, p in evidence
    )
    status: Status = "pass"
    if statuses:
        status = "fail" if "fail" in statuses else "warn"
    return statuses, status


def _plan(th: Mapping[str, Any], lo: Losses) -> Plan:
    """The tests' floors from the thresholds.

    With ``judge: unexpected`` a classifier's segments are tested hierarchically. A single
    condition is a discovery when it is worse than overall by more than test_gap_share of
    the warning gap (BH), and material when its own test shows it worse by more than the
    whole gap (unadjusted: its one-sided interval lies above the gap). A pair, one of
    thousands, must be a discovery against the whole gap (BH) and beat its parents. The
    same minimum-effect test on a ratio of mean absolute errors (heavy-tailed) has too
    little power, so a regression segment, like any segment with ``judge: raw`` (the
    plain search), is tested against "no worse" and judged material on its estimate.
    """
    warn_e, fail_e = _effect_limits(th, lo.regression)
    min_effect = lo.unexpected and not lo.regression
    pair_floor = warn_e if min_effect else 0.0
    test_floor = warn_e * _share(th, "test_gap_share") if min_effect else 0.0
    pair_share = float(th["pair_fdr_share"])
    return Plan(warn_e, fail_e, float(th["fdr"]), min_effect, test_floor, pair_floor, pair_share)


def _discoveries(
    cols: list[Column],
    cands: list[Candidate],
    qvals: np.ndarray,
    lo: Losses,
    plan: Plan,
    th: Mapping[str, Any],
) -> list[tuple[Candidate, float, np.ndarray]]:
    """The segments to report: discoveries clearly worse by the warning gap (a pair also
    than its single conditions), strongest evidence first, chosen among overlaps."""
    fdr, warn_e = plan.fdr, plan.warn_effect

    def clearly_worse(c: Candidate) -> bool:
        e = lo.effect(c.mean, c.raw_mean)
        if len(c.cols) == 1:
            return e >= warn_e and c.p_material <= fdr
        parents = tuple(lo.effect(*m) for m in c.parents)
        keep, _ = judge_pair(e, parents, 0.0, None, margin=warn_e / 2)
        return e >= warn_e and keep

    significant = [
        (c, float(q)) for c, q in zip(cands, qvals, strict=True) if q <= fdr and clearly_worse(c)
    ]
    # Strongest evidence first: the Welch statistic weighs the gap by the segment's size,
    # so a large clearly-worse slice comes before a tiny extreme corner of it.
    significant.sort(key=lambda cq: (-cq[0].z, -cq[0].n, predicate(cols, cq[0])))
    return choose(
        cols,
        significant[:_MAX_SCAN],
        lo.loss,
        lo.raw,
        lo.effect,
        warn_e,
        fdr,
        th,
        plan.floors,
        not lo.regression,
    )


def _worst_found(
    cols: list[Column],
    cands: list[Candidate],
    qvals: np.ndarray,
    lo: Losses,
    th: Mapping[str, Any],
) -> list[tuple[Candidate, float, np.ndarray]]:
    """The single conditions with the largest effect, none significant, for the chart."""
    singles = ((c, q) for c, q in zip(cands, qvals, strict=True) if len(c.cols) == 1)
    worst = sorted(
        singles,
        key=lambda cq: (-lo.effect(cq[0].mean, cq[0].raw_mean), -cq[0].n, predicate(cols, cq[0])),
    )[: int(th["max_segments"])]
    return [(c, float(q), members(cols, c)) for c, q in worst]


def _share(th: Mapping[str, Any], key: str) -> float:
    try:
        v = float(th[key])
    except (TypeError, ValueError):
        v = math.nan
    if not 0.0 <= v <= 1.0:
        raise ConfigError(
            f"thresholds.{CHECK_ID}.{key} must be a number from 0 to 1, not {th[key]!r}"
        )
    return v


def _effect_limits(th: Mapping[str, Any], regression: bool) -> tuple[float, float]:
    try:
        if regression:
            return float(th["warn_ratio"]) - 1.0, float(th["fail_ratio"]) - 1.0
        return float(th["warn_gap"]), float(th["fail_gap"])
    except (TypeError, ValueError):
        raise ConfigError(
            f"thresholds.{CHECK_ID}: warn_gap, fail_gap, warn_ratio and fail_ratio must be numbers"
        ) from None


def _interval(ctx: AuditContext, data: Any, idx: np.ndarray, metric: str) -> Interval:
    from assay.evaluation._metrics import EvalData

    s = ctx.settings
    sub = EvalData(data.task, data.y[idx], data.pred[idx], None, data.n_classes, data.positive)
    return metric_intervals(
        sub,
        [metric],
        n_resamples=s.n_bootstrap,
        seed=s.seed,
        confidence=s.confidence,
    )[metric]
