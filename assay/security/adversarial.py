"""``security.adversarial``: can a small, deliberate change to an input flip the decision?

The attack is ART's HopSkipJump (a decision-based black-box evasion attack)
run through ART's ``BlackBoxClassifier`` on the model's ``predict``. It works
in a standardized space: each attacked feature is divided by its robust
spread on the test data (the standard deviation inside Tukey's far fences, see
:func:`~assay.evaluation.robustness.robust_scale`: one sentinel such as ``666``
in a 0/1 column cannot set it), so a perturbation of ``0.1`` is "a tenth of a
standard deviation" and the budgets are L∞ balls in those units (no feature
moves by more than the budget). Only numeric features are perturbed, so
categorical values always stay in their domain.

Each row's attack starts from the nearest point with another decision on a
grid of random directions and radii (one batched model call), runs a capped
number of HopSkipJump iterations, and ends with a batched bisection back to
the decision boundary (HopSkipJump's last step moves away from it); the
nearer of the start and ART's result is kept, so the reported change is an
upper bound on the smallest one.

ART attacks one row at a time and asks the model about one point per step,
which on a scikit-learn pipeline costs milliseconds per question. To stay
fast, each row's attack runs in its own thread and the threads take turns in
a fixed order (:class:`~assay.security._attack.Lockstep`): the questions of one round go to the
model as one batch, and because only one thread runs at a time, ART's use of
NumPy's global random state happens in the same order on every run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.core.charts import IntervalChart, IntervalItem, Unit
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status, worst_status
from assay.errors import ConfigError
from assay.evaluation._bootstrap import bootstrap, make_intervals
from assay.security._evasion import (
    INIT_DIRECTIONS,
    INIT_RADII,
    MAX_ASKS_PER_ROW,
    Model,
    build_space,
    run_attacks,
)

CHECK_ID = "security.adversarial"
_STREAM = 41


@dataclass(frozen=True)
class _Variant:
    """One threat model: which features the attacker may change."""

    name: str
    label: str
    features: tuple[str, ...]
    fixed_categorical: tuple[str, ...]


def _weighted_median(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Median of ``values`` under each row of resample ``counts`` (inf allowed)."""
    order = np.argsort(values, kind="stable")
    v = values[order]
    c = np.asarray(counts, dtype=np.float64)[:, order]
    cum = np.cumsum(c, axis=1)
    half = cum[:, -1:] / 2.0
    idx = (cum < half).sum(axis=1)
    idx = np.minimum(idx, len(v) - 1)
    return v[idx]


def _variant_stats(
    dist: np.ndarray, budgets: list[float], budget: float, ctx: AuditContext
) -> dict[str, Any]:
    s = ctx.settings
    n = dist.size

    def stat(counts: np.ndarray) -> dict[str, np.ndarray]:
        w = np.asarray(counts, dtype=np.float64)
        tot = w.sum(axis=1)
        out = {f"b{j}": w @ (dist <= b).astype(float) / tot for j, b in enumerate(budgets)}
        out["median"] = _weighted_median(dist, w)
        return out

    points = {k: float(v[0]) for k, v in stat(np.ones((1, n))).items()}
    samples = (
        bootstrap(stat, n, n_resamples=s.n_bootstrap, seed=s.seed, stream=_STREAM)
        if s.n_bootstrap > 0
        else None
    )
    ivs = make_intervals(points, samples, confidence=s.confidence)
    med = ivs["median"]
    judged = budgets.index(budget)
    return {
        "budgets": [{"budget_std": b, **ivs[f"b{j}"].to_dict()} for j, b in enumerate(budgets)],
        "success": ivs[f"b{judged}"],
        "median": med,
    }


def _mutable(th: Mapping[str, Any], ctx: AuditContext) -> list[str]:
    raw = th.get("mutable") or []
    if isinstance(raw, str):
        raw = [raw]
    names = [str(c) for c in raw]
    unknown = [c for c in names if c not in ctx.schema.features]
    if unknown:
        raise ConfigError(
            f"thresholds {CHECK_ID}.mutable names column(s) {', '.join(unknown)} that are not "
            f"model features; known features: {', '.join(ctx.schema.features[:12])}"
        )
    return names


def judge_adversarial(
    rate: float | None, low: float | None, params: Mapping[str, Any]
) -> tuple[Status, str]:
    """Status from the attack's success rate within the budget and its interval's low end.

    Pure: numbers in, verdict out. Warns when the success rate is clearly above
    ``success_warn`` (the interval's low end is; the point estimate when there is no
    interval); fails when, in addition, the point estimate is above ``success_fail``.

    Examples
    --------
    >>> th = {"success_warn": 0.25, "success_fail": 0.5}
    >>> judge_adversarial(0.4, 0.2, th)[0], judge_adversarial(0.6, 0.3, th)[0]
    ('pass', 'fail')
    """
    if rate is None:
        return "pass", "no success rate"
    floor = rate if low is None else low
    warn, fail = float(params["success_warn"]), float(params["success_fail"])
    if floor <= warn:
        return "pass", f"the success rate is not clearly above {warn:g} (low end {floor:.3g})"
    if rate > fail:
        return "fail", f"clearly above {warn:g} and above {fail:g}"
    return "warn", f"clearly above {warn:g}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.0%}"


def _std_text(x: float | None) -> str:
    if x is None or not np.isfinite(x):
        return "more than the search reached"
    return f"{x:.2g} std"


@dataclass(frozen=True)
class AdversarialParams:
    """Parameters of ``security.adversarial``."""

    budgets: list[float] = param(
        [0.05, 0.1, 0.25, 0.5],
        "Change budgets reported, in robust spreads of a feature (largest change of any one).",
        gt=0,
    )
    budget: float = param(0.1, "The budget whose success rate is judged.", gt=0)
    success_warn: float = param(
        0.25, "Success rate whose interval's low end above it warns.", ge=0, le=1
    )
    success_fail: float = param(
        0.5, "Success rate above which, once warning, it fails.", ge=0, le=1
    )
    n_rows: int = param(300, "Test rows attacked.", ge=1)
    confirm_margin: float = param(
        0.05,
        "When a warning's interval clears success_warn by less than this, more rows are "
        "attacked before judging (0: never).",
        ge=0,
        le=1,
    )
    confirm_rows: int = param(
        300, "Extra test rows attacked when a warning is that near the line (0: none).", ge=0
    )
    max_iter: int = param(4, "HopSkipJump iterations per row.", ge=1)
    init_eval: int = param(20, "HopSkipJump initial evaluations (capped by max_eval).", ge=1)
    max_eval: int = param(60, "HopSkipJump most evaluations per gradient estimate.", ge=1)
    mutable: list[str] | str = param(
        [], "Numeric features the attacker may change (empty: all of them)."
    )


@dataclass(frozen=True)
class AdversarialDetails(Details):
    """What ``security.adversarial`` keeps in its ``details`` (``report.json``)."""

    threat_model: str
    attack: str
    attack_limits: Mapping[str, Any]
    sample: Mapping[str, Any]
    clip_std: tuple[float, ...]
    variants: tuple[Mapping[str, Any], ...]
    seed: int
    n_bootstrap: int
    confidence: float
    model_calls: int
    model_queries: int


@register_check(
    CHECK_ID,
    area="security",
    title="Adversarial robustness (black-box evasion)",
    explanation=(
        "Whether a small, deliberate change to an input can flip the model's decision. "
        "Threat model: an attacker who sees only the model's decisions (no internals, no "
        "training data) and may nudge the numeric features of a record (all of them, or only "
        "those listed as mutable), while categorical values stay as they are. On a stated "
        "sample of test rows, ART's HopSkipJump attack looks for the smallest change that "
        "flips each decision, measured as the largest change of any one feature in units of "
        "its robust spread (a standard deviation no extreme code such as 999 can inflate); the "
        "check reports how often a change within each budget succeeds, and warns only when "
        "that rate is clearly (the low end of its interval) above success_warn. The attack's "
        "effort is capped, so a determined attacker can do at least this well."
    ),
    standards=("MEASURE 2.7", "MEASURE 2.6"),
    severity="medium",
    params=AdversarialParams,
    needs=("model",),
    tasks=("binary", "multiclass"),
    extras=("security",),
    details=AdversarialDetails,
)
def adversarial(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Success rate of HopSkipJump within each budget, and the median minimal perturbation."""
    if ctx.model is None:
        raise SkipCheck(
            "the attack queries the model itself; prediction columns cannot be attacked"
        )
    budgets = sorted({float(b) for b in th["budgets"]} | {float(th["budget"])})
    budget = float(th["budget"])
    mutable = _mutable(th, ctx)
    n_rows = int(th["n_rows"])
    run, confirmed = _sampled_attack(ctx, th, budgets, mutable)
    space, n_complete, runnable = run.space, run.n_complete, run.runnable
    cols, dist, best, run_stats = run.cols, run.dist, run.best, run.run_stats
    mutable_numeric = run.mutable_numeric

    findings: list[Finding] = []
    metrics: dict[str, float | int | None] = {
        "rows_attacked": len(space.rows),
        "budget_std": budget,
        "model_queries": run_stats["queries"],
        "model_calls": run_stats["model_calls"],
    }
    details_variants: list[dict[str, Any]] = []
    statuses: list[Status] = []
    chart_items: list[dict[str, Any]] = []
    head_sentence = ""
    for vi, v in enumerate(runnable):
        vr = _variant_result(vi, v, dist, best, space, cols[vi], budgets, budget, ctx, th)
        statuses.append(vr["status"])
        metrics.update(vr["metrics"])
        findings.append(vr["finding"])
        details_variants.append(vr["detail"])
        chart_items += vr["chart_items"]
        if vi == 0:
            head_sentence = vr["head"]
    if mutable and not mutable_numeric:
        findings.append(
            Finding(
                status="pass",
                message="None of the mutable columns is numeric, so the mutable-only attack "
                "has nothing to change (categorical values are kept in their domain).",
                columns=tuple(mutable),
            )
        )
    status = worst_status(statuses)
    if len(runnable) > 1:
        mv = metrics.get("mutable_success_rate")
        head_sentence += f" ({_pct(mv)} when only the mutable features may change)"
    summary = head_sentence + "."
    if confirmed:
        summary += (
            f" The first {n_rows} rows left the rate within {float(th['confirm_margin']):g} of "
            f"the {float(th['success_warn']):g} line, so {len(space.rows) - n_rows} more were "
            "attacked before judging."
        )
    details = _details(ctx, th, space, n_complete, details_variants, run_stats, chart_items)
    details["sample"]["first_rows"] = n_rows if confirmed else None
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=_recommendation(status),
        details=details,
        units={k: u for k in metrics for n, u in _UNITS.items() if k in (n, f"mutable_{n}")},
    )


@dataclass(frozen=True)
class _Run:
    """One attack on a sample of test rows: the space, the variants run and the results."""

    space: Any
    n_complete: int
    runnable: list[_Variant]
    mutable_numeric: tuple[str, ...]
    cols: list[np.ndarray]
    dist: np.ndarray
    best: list[Any]
    run_stats: dict[str, int]


def _recommendation(status: Status) -> str:
    if status == "pass":
        return (
            "No action needed at this budget. If inputs can be manipulated in your setting, "
            "rerun with the features a user really controls listed as mutable."
        )
    return (
        "Decisions flip under small changes: do not let inputs the applicant controls "
        "decide alone; validate or cap those features, smooth the model (regularise, "
        "monotonic constraints, fewer features), or train with perturbed copies; and "
        "rerun with the mutable features that matter."
    )


def _sampled_attack(
    ctx: AuditContext, th: Mapping[str, Any], budgets: list[float], mutable: list[str]
) -> tuple[_Run, bool]:
    """The attack on ``n_rows`` test rows, or, when its verdict sits near the line
    (:func:`needs_more_rows`), on ``n_rows + confirm_rows``; and whether it was extended."""
    n_rows, extra = int(th["n_rows"]), int(th["confirm_rows"])
    run = _attack(ctx, th, n_rows, mutable)
    if extra > 0 and run.n_complete > n_rows and _near_the_line(run, budgets, ctx, th):
        return _attack(ctx, th, n_rows + extra, mutable), True
    return run, False


def _attack(ctx: AuditContext, th: Mapping[str, Any], n_rows: int, mutable: list[str]) -> _Run:
    """Attack the first ``n_rows`` complete test rows (in the seeded content order, so a
    larger sample contains the smaller one) under every threat model."""
    space, n_complete = build_space(ctx, n_rows)
    variants, mutable_numeric = _variants(ctx, space.numeric, mutable)
    runnable = [v for v in variants if v.features]
    cols = [np.array([space.numeric.index(c) for c in v.features]) for v in runnable]
    model = Model(ctx, space)
    from threadpoolctl import threadpool_limits

    # Many small model calls: one thread each avoids OpenMP threads fighting for cores.
    with threadpool_limits(1):
        dist, _labels, best, run_stats = run_attacks(ctx, model, cols, th)
    return _Run(space, n_complete, runnable, mutable_numeric, cols, dist, best, run_stats)


def _near_the_line(
    run: _Run, budgets: list[float], ctx: AuditContext, th: Mapping[str, Any]
) -> bool:
    """Whether some threat model warns (or fails) with its interval's low end within
    ``confirm_margin`` of ``success_warn``: a verdict a fresh sample would as likely
    overturn as keep, so more rows are attacked before judging. Passes are never
    re-examined, so the extra rows can only take alarms away (the error rate on a model
    at the line stays at most the interval's)."""
    for vi in range(len(run.runnable)):
        succ = _variant_stats(run.dist[vi], budgets, float(th["budget"]), ctx)["success"]
        if needs_more_rows(succ.value, succ.low, th):
            return True
    return False


def needs_more_rows(rate: float | None, low: float | None, params: Mapping[str, Any]) -> bool:
    """Whether a verdict sits so near the line that more rows should be attacked first: it
    warns or fails, but the low end of its interval clears ``success_warn`` by no more than
    ``confirm_margin``. Pure: numbers in, decision out.

    Examples
    --------
    >>> th = {"success_warn": 0.25, "success_fail": 0.5, "confirm_margin": 0.05}
    >>> needs_more_rows(0.31, 0.26, th), needs_more_rows(0.40, 0.345, th)
    (True, False)
    >>> needs_more_rows(0.24, 0.19, th)  # a pass is never re-examined
    False
    """
    status, _ = judge_adversarial(rate, low, params)
    floor = rate if low is None else low
    line = float(params["success_warn"]) + float(params["confirm_margin"])
    return status != "pass" and floor is not None and floor <= line


_UNITS: dict[str, Unit] = {
    "success_rate": "share",
    "success_rate_low": "share",
    "success_rate_high": "share",
    "budget_std": "std",
    "median_min_perturbation_std": "std",
}
"""Success rates are shares (as in the chart); budgets and perturbations are in
standard deviations of each feature."""


def _variants(
    ctx: AuditContext, numeric: tuple[str, ...], mutable: Any
) -> tuple[list[_Variant], tuple[str, ...]]:
    """The attacks to run: on every numeric feature, and (when mutable features are
    named) on the numeric mutable ones; with the mutable numeric features."""
    variants = [
        _Variant(
            "all_numeric",
            "every numeric feature",
            numeric,
            tuple(c for c in ctx.schema.features if c not in numeric),
        )
    ]
    mutable_numeric = tuple(c for c in numeric if c in mutable)
    if mutable:
        variants.append(
            _Variant(
                "mutable",
                "the mutable features only",
                mutable_numeric,
                tuple(c for c in ctx.schema.features if c not in mutable_numeric),
            )
        )
    return variants, mutable_numeric


def _variant_result(
    vi: int,
    v: _Variant,
    dist: np.ndarray,
    best: list[Any],
    space: Any,
    cols: np.ndarray,
    budgets: list[float],
    budget: float,
    ctx: AuditContext,
    th: Mapping[str, Any],
) -> dict[str, Any]:
    """One attack variant judged and described: its status, metrics, finding, details,
    chart items and the summary's sentence."""
    d = dist[vi]
    st = _variant_stats(d, budgets, budget, ctx)
    succ = st["success"]
    status, _reason = judge_adversarial(succ.value, succ.low, th)
    flipped = np.flatnonzero(d <= budget)
    anywhere = np.flatnonzero(np.isfinite(d))
    movers = _movers(anywhere, best[vi * len(space.rows) :], space, cols, v)
    top = movers.most_common(1)[0][0] if movers else None
    prefix = "" if v.name == "all_numeric" else "mutable_"
    med = st["median"]
    metrics = {
        f"{prefix}success_rate": succ.value,
        f"{prefix}success_rate_low": succ.low,
        f"{prefix}success_rate_high": succ.high,
        f"{prefix}median_min_perturbation_std": (med.value if med.value is not None else None),
        f"{prefix}rows_flipped_anywhere": int(anywhere.size),
    }
    n_rows = len(space.rows)
    msg = (
        f"Changing {v.label} by at most {budget:g} std flips the decision of "
        f"{flipped.size} of {n_rows} sampled test rows ({_pct(succ.value)}); the median "
        f"smallest change found is {_std_text(med.value)}"
        + (f", most often in '{top}'." if top else ".")
    )
    finding = Finding(
        status=status,
        message=msg,
        columns=tuple(v.features),
        rows=tuple(int(r) for r in space.rows[flipped]) if flipped.size else None,
        split="test" if flipped.size else None,
        column=None,
        metrics={
            "success_rate": succ.value,
            "median_min_perturbation_std": med.value,
            "rows_attacked": n_rows,
        },
    )
    detail = {
        "variant": v.name,
        "perturbed_features": list(v.features),
        "fixed_features": list(v.fixed_categorical),
        "budgets": st["budgets"],
        "median_min_perturbation_std": med.to_dict(),
        "feature_moved_most": dict(movers.most_common()),
    }
    head = (
        f"Within {budget:g} std per feature, the attack flips {_pct(succ.value)} of "
        f"{n_rows} sampled test rows; the median smallest change is "
        f"{_std_text(med.value)}" + (f", mostly in '{top}'" if top else "")
    )
    return {
        "status": status,
        "metrics": metrics,
        "finding": finding,
        "detail": detail,
        "chart_items": [_chart_item(v, row) for row in st["budgets"]],
        "head": head,
    }


def _movers(
    anywhere: np.ndarray, best: list[Any], space: Any, cols: np.ndarray, v: _Variant
) -> Counter[str]:
    """Which feature carries the largest change in each successful example (``best``:
    the variant's adversarial examples, row by row)."""
    movers: Counter[str] = Counter()
    for i in anywhere:
        p = best[i]
        if p is None:
            continue
        delta = np.abs(p - space.z32[i, cols])
        movers[v.features[int(np.argmax(delta))]] += 1
    return movers


def _chart_item(v: _Variant, row: Mapping[str, Any]) -> dict[str, Any]:
    """One budget's success rate with its interval, for the chart."""
    return {
        "label": (
            f"≤ {row['budget_std']:g} std"
            if v.name == "all_numeric"
            else f"mutable ≤ {row['budget_std']:g} std"
        ),
        "value": row["value"],
        "low": row["value"] if row["low"] is None else row["low"],
        "high": row["value"] if row["high"] is None else row["high"],
    }


def _details(
    ctx: AuditContext,
    th: Mapping[str, Any],
    space: Any,
    n_complete: int,
    details_variants: list[dict[str, Any]],
    run_stats: Mapping[str, Any],
    chart_items: list[dict[str, Any]],
) -> dict[str, Any]:
    """The threat model, the attack's limits, the sample and each variant's results."""
    return {
        "threat_model": (
            "black box (decisions only); numeric features perturbed in units of their test "
            "robust spread (standard deviation inside Tukey's far fences), L∞ (largest "
            "single-feature change); categorical values kept"
        ),
        "attack": "ART HopSkipJump, untargeted, norm=inf, started from the nearest flip on a "
        "grid of random directions",
        "attack_limits": {
            "max_iter": int(th["max_iter"]),
            "init_eval": int(th["init_eval"]),
            "max_eval": int(th["max_eval"]),
            "start_directions": INIT_DIRECTIONS,
            "start_radii_std": list(INIT_RADII),
            "max_asks_per_row": MAX_ASKS_PER_ROW,
            "rows_capped": int(run_stats.get("rows_capped", 0)),
        },
        "sample": {
            "rows": len(space.rows),
            "rows_with_complete_numeric_features": n_complete,
            "rows_available": ctx.frame("test").height,
            "selection": "rows ordered by a seeded hash of their content; when a warning's "
            "interval clears success_warn by less than confirm_margin on the first n_rows "
            "rows, confirm_rows more are attacked and all are judged (first_rows: how many "
            "there were at first, null when no more were needed)",
        },
        "clip_std": list(space.clip),
        "variants": details_variants,
        "seed": ctx.settings.seed,
        "n_bootstrap": ctx.settings.n_bootstrap,
        "confidence": ctx.settings.confidence,
        "model_calls": run_stats["model_calls"],
        "model_queries": run_stats["queries"],
        "charts": [
            IntervalChart(
                title="Share of sampled rows whose decision flips within each budget",
                x_label="attack success rate",
                unit="share",
                items=[IntervalItem(**i) for i in chart_items],
            ).to_dict()
        ],
    }
