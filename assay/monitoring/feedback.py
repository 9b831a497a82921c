"""Feedback loops: when the model's own decisions decide which outcomes are observed.

A credit model that declines an applicant never learns whether they would have
repaid; retrained on the outcomes it let through, it stops learning about the
cases it rejects (selective labels; Lakkaraju et al. 2017, KDD). From decision
logs (per prediction: the model's score and decision, the decision taken, an
``explore`` flag for the slice decided without the model, the logged probability
of the decision taken) and the labels that arrived, this module measures:

- :func:`loop_shares` — the share of traffic whose label is observable only
  because the model approved it, the share never observable because the model
  declined it, and the share of the labels you would retrain on that the model
  chose;
- :func:`labelled_vs_scored` — per window, how far the *labelled* population has
  moved from the *scored* one (population stability index of the score, and a
  two-sample Kolmogorov-Smirnov test of labelled against unlabelled rows);
- :func:`ipw_estimate` — with an exploration slice, the model's performance on
  the part it never lets through, by inverse-propensity weighting (Horvitz &
  Thompson 1952; the self-normalized Hajek form), with a linearization interval;
- :func:`recommend_exploration` — the exploration share that estimates that
  performance to a chosen precision per window, and what it costs;
- :func:`feedback_loop` — all of it, with a plain-words finding.

Assumptions: exploration rows are chosen at random, independently of the case
(the ``explore`` flag is set before the model is consulted); their logged
propensity is the probability of the decision actually taken and is positive
wherever the target population lies (positivity); labels are observed for every
approved case (or missing at random given approval).

Example
-------
>>> import numpy as np
>>> v = np.array([1.0, 0.0, np.nan, 1.0])         # outcome, NaN where never observed
>>> p = np.array([0.5, 0.5, 0.5, 0.25])          # logged approval probabilities
>>> round(ipw_estimate(v, p)["estimate"], 3)      # the 0.25 row stands for 4 cases
0.75
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from scipy import stats

from assay.errors import InputError


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2))


def _bool(x: Any, name: str, n: int | None = None) -> np.ndarray:
    a = np.asarray(x)
    if a.dtype != bool:
        if not np.isin(a, (0, 1)).all():
            raise InputError(f"{name} must hold true/false (or 0/1) values")
        a = a.astype(bool)
    if n is not None and a.shape != (n,):
        raise InputError(f"{name} has {a.size} values, expected {n}")
    return a


def loop_shares(decision: Any, explore: Any, labelled: Any) -> dict[str, float | int]:
    """How much of the traffic, and of the labels, the model's own decisions select.

    ``decision`` is the decision taken (true: approved, so the outcome becomes
    observable), ``explore`` flags rows decided without the model, ``labelled``
    rows whose label arrived.

    >>> s = loop_shares([1, 1, 0, 0, 1], [0, 0, 0, 1, 1], [1, 1, 0, 0, 1])
    >>> s["observable_only_by_model"], s["never_observable"], s["labels_chosen_by_model"]
    (0.4, 0.2, 0.6666666666666666)
    """
    dec = _bool(decision, "decision")
    n = dec.size
    exp, lab = _bool(explore, "explore", n), _bool(labelled, "labelled", n)
    by_model = dec & ~exp
    return {
        "n": n,
        "labelled_share": float(lab.mean()) if n else 0.0,
        "observable_only_by_model": float(by_model.mean()) if n else 0.0,
        "never_observable": float((~dec & ~exp).mean()) if n else 0.0,
        "exploration_share": float(exp.mean()) if n else 0.0,
        "labels_chosen_by_model": float((lab & by_model).sum() / lab.sum()) if lab.any() else 0.0,
    }


def psi(reference: np.ndarray, current: np.ndarray, *, bins: int = 10) -> float:
    """Population stability index of ``current`` against ``reference`` on the
    reference's deciles (0.1: moderate shift, 0.25: large, by the usual rule).

    >>> x = np.linspace(0, 1, 1000)
    >>> psi(x, x) == 0.0, psi(x, x[x > 0.5]) > 1
    (True, True)
    """
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    r = np.bincount(np.searchsorted(edges, reference, side="right"), minlength=edges.size + 1)
    c = np.bincount(np.searchsorted(edges, current, side="right"), minlength=edges.size + 1)
    r = (r + 0.5) / (r.sum() + 0.5 * r.size)
    c = (c + 0.5) / (c.sum() + 0.5 * c.size)
    return float(np.sum((c - r) * np.log(c / r)))


def labelled_vs_scored(
    score: Any, labelled: Any, window: Any = None, *, min_rows: int = 30
) -> pl.DataFrame:
    """Per window: how far the labelled rows' scores are from all scored rows'.

    Columns: ``window``, ``n_scored``, ``n_labelled``, ``labelled_share``,
    ``psi`` (labelled against scored), ``ks`` and ``p`` (labelled against
    unlabelled rows, two-sample Kolmogorov-Smirnov), ``mean_scored``,
    ``mean_labelled``. Windows with fewer than ``min_rows`` labelled or
    unlabelled rows get nulls for the comparison.
    """
    s = np.asarray(score, dtype=np.float64)
    lab = _bool(labelled, "labelled", s.size)
    win = np.zeros(s.size, dtype=np.int64) if window is None else np.asarray(window)
    if win.shape != s.shape:
        raise InputError(f"window has {win.size} values, expected {s.size}")
    rows = []
    for w in sorted(set(win.tolist())):
        m = win == w
        sw, lw = s[m], lab[m]
        row: dict[str, Any] = {
            "window": w,
            "n_scored": int(m.sum()),
            "n_labelled": int(lw.sum()),
            "labelled_share": float(lw.mean()),
            "psi": None,
            "ks": None,
            "p": None,
            "mean_scored": float(sw.mean()),
            "mean_labelled": float(sw[lw].mean()) if lw.any() else None,
        }
        if lw.sum() >= min_rows and (~lw).sum() >= min_rows:
            row["psi"] = psi(sw, sw[lw])
            ks = stats.ks_2samp(sw[lw], sw[~lw], method="asymp")
            row["ks"], row["p"] = float(ks.statistic), float(ks.pvalue)
        rows.append(row)
    return pl.DataFrame(rows)


def ipw_estimate(
    values: Any, propensity: Any, *, confidence: float = 0.95
) -> dict[str, float | int | None]:
    """Inverse-propensity-weighted mean of ``values`` over a random sample of a population.

    ``values`` holds the per-row quantity (NaN where the outcome was not
    observed); ``propensity`` the logged probability that each row's outcome was
    observed (the probability of the decision taken, for the rows approved).
    The self-normalized (Hajek) estimate ``sum(v/p) / sum(1/p)`` over observed
    rows, scaled by the rows in the sample, with its linearization (sandwich)
    standard error; ``effective_n`` is Kish's effective sample size of the weights.
    """
    v = np.asarray(values, dtype=np.float64)
    p = np.asarray(propensity, dtype=np.float64)
    if v.shape != p.shape:
        raise InputError(f"propensity has {p.size} values, expected {v.size}")
    obs = np.isfinite(v)
    if obs.any() and (not np.isfinite(p[obs]).all() or (p[obs] <= 0).any() or (p[obs] > 1).any()):
        raise InputError("propensity must be in (0, 1] for every row with an observed outcome")
    n, k = v.size, int(obs.sum())
    out: dict[str, float | int | None] = {"n": n, "n_observed": k}
    if k < 2:
        out.update(estimate=None, low=None, high=None, se=None, effective_n=None)
        return out
    w = 1 / p[obs]
    vo = v[obs]
    est = float(np.sum(w * vo) / np.sum(w))
    # linearized Hajek variance over the n sampled rows (unobserved rows contribute 0)
    resid = np.zeros(n)
    resid[obs] = w * (vo - est)
    mean_w = np.sum(w) / n
    se = float(np.sqrt(np.sum((resid - resid.mean()) ** 2) / (n * (n - 1))) / mean_w)
    half = _z(confidence) * se
    # A share (0/1 values, such as accuracy) cannot leave [0, 1]: the normal interval is
    # clipped there (it ran to 1.05 on the demo's 17% declined cases).
    lo_b, hi_b = (0.0, 1.0) if np.isin(vo, (0.0, 1.0)).all() else (-np.inf, np.inf)
    out.update(
        estimate=est,
        low=float(max(est - half, lo_b)),
        high=float(min(est + half, hi_b)),
        se=se,
        effective_n=float(np.sum(w) ** 2 / np.sum(w**2)),
    )
    return out


def recommend_exploration(
    *,
    volume: int,
    unobserved_share: float,
    approve_probability: float,
    variance: float,
    half_width: float = 0.05,
    bad_rate: float | None = None,
    design_effect: float = 1.0,
    confidence: float = 0.95,
) -> dict[str, float | None]:
    """The exploration share that estimates performance on the unobserved part to
    ``+-half_width`` per window of ``volume`` predictions, and its cost.

    Observed outcomes needed in the unobserved part: ``(z sd / half_width)^2``
    times the ``design_effect`` of unequal weights (Kish's ``n sum w^2 / (sum w)^2``);
    each explored case lands there with probability ``unobserved_share`` and
    is approved with ``approve_probability``. The cost is the cases per window
    approved against the model's advice and, given ``bad_rate`` (the estimated
    rate of bad outcomes there), how many of them are expected to go bad.

    >>> r = recommend_exploration(volume=10_000, unobserved_share=0.25,
    ...                           approve_probability=0.5, variance=0.25, half_width=0.05)
    >>> round(r["share"], 3), round(r["approved_against_model"])
    (0.307, 384)
    """
    z = _z(confidence)
    needed = (z * np.sqrt(max(variance, 1e-12)) / half_width) ** 2 * max(design_effect, 1.0)
    per_case = unobserved_share * approve_probability
    share = float(min(1.0, needed / (volume * per_case))) if per_case > 0 else 1.0
    against = share * volume * per_case
    return {
        "share": share,
        "reachable": bool(per_case > 0 and needed <= volume * per_case),
        "needed_outcomes": float(needed),
        "explored_per_window": share * volume,
        "approved_against_model": against,
        "expected_bad_outcomes": None if bad_rate is None else against * bad_rate,
    }


@dataclass(frozen=True)
class FeedbackReport:
    """What :func:`feedback_loop` measured, and its plain-words finding."""

    shares: dict[str, float | int]
    drift: pl.DataFrame
    unobserved: dict[str, float | int | None]
    naive_unobserved: float | None
    recommendation: dict[str, float | None]
    finding: str
    metric: str
    details: dict[str, Any] = field(default_factory=dict)


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.0f}%"


def feedback_loop(
    *,
    score: Any,
    model_decision: Any,
    decision: Any,
    explore: Any,
    propensity: Any,
    label: Any,
    window: Any = None,
    metric: str = "accuracy",
    threshold: float = 0.5,
    half_width: float = 0.05,
    confidence: float = 0.95,
) -> FeedbackReport:
    """Feedback-loop measures from decision logs and labels (see the module notes).

    ``score`` is the model's probability of the bad outcome (label 1),
    ``model_decision`` what the model decided (true: approve), ``decision`` what
    was done, ``explore`` the exploration flag, ``propensity`` the logged
    probability of the decision taken, ``label`` the outcome (NaN when never
    observed). The unobserved part is the cases the model declines; ``metric``
    is the model's ``accuracy`` there (predicting label 1 when ``score >=
    threshold``), its ``brier`` score, or the ``bad_rate`` (mean label).
    """
    s = np.asarray(score, dtype=np.float64)
    y = np.asarray(label, dtype=np.float64)
    n = s.size
    mdec, dec = _bool(model_decision, "model_decision", n), _bool(decision, "decision", n)
    exp = _bool(explore, "explore", n)
    prop = np.asarray(propensity, dtype=np.float64)
    if y.shape != (n,) or prop.shape != (n,):
        raise InputError("label and propensity must have one value per prediction")
    if np.isfinite(y[~dec]).any():
        raise InputError(
            "label: a declined case has an outcome; labels must come only from approvals"
        )
    m = measure_loop(
        s,
        y,
        mdec,
        dec,
        exp,
        prop,
        window,
        metric=metric,
        threshold=threshold,
        half_width=half_width,
        confidence=confidence,
    )
    return FeedbackReport(
        shares=m.shares,
        drift=m.drift,
        unobserved=m.unobserved,
        naive_unobserved=m.naive_unobserved,
        recommendation=m.recommendation,
        finding=describe_loop(m, judge_loop(m)),
        metric=metric,
        details={"bad_rate_unobserved": m.bad_rate_unobserved, "windows": m.windows},
    )


@dataclass(frozen=True)
class LoopMeasured:
    """The numbers of one feedback-loop measurement (no verdict, no words)."""

    shares: dict[str, float | int]  # :func:`loop_shares`
    drift: pl.DataFrame  # :func:`labelled_vs_scored`, one row per window
    unobserved: dict[str, float | int | None]  # :func:`ipw_estimate` of the metric
    bad_rate_unobserved: dict[str, float | int | None]  # :func:`ipw_estimate` of the label
    naive_unobserved: float | None  # the metric over the labelled explored rows, unweighted
    recommendation: dict[str, float | None]  # :func:`recommend_exploration`
    metric: str
    half_width: float
    confidence: float

    @property
    def windows(self) -> int:
        return max(1, self.drift.height)


@dataclass(frozen=True)
class LoopVerdict:
    """What the finding says: windows where the labelled cases differ from the scored ones
    (Bonferroni over windows), whether the unobserved part's performance is known, and
    whether exploration can estimate it to ``half_width`` per window."""

    drifted_windows: int
    estimated: bool
    reachable: bool


def judge_loop(m: LoopMeasured, *, alpha: float = 0.05) -> LoopVerdict:
    """A window drifted when its Kolmogorov-Smirnov p value is at most ``alpha`` over the
    number of windows; the performance where the model declines is known once an explored
    case there has an outcome (an IPW estimate).

    >>> drift = pl.DataFrame({"p": [0.01, 0.03, None]}, schema={"p": pl.Float64})
    >>> m = LoopMeasured({}, drift, {"estimate": None}, {}, None, {"reachable": True},
    ...                  "accuracy", 0.05, 0.95)
    >>> judge_loop(m)
    LoopVerdict(drifted_windows=1, estimated=False, reachable=True)
    """
    p = pl.col("p")
    drifted = m.drift.filter(p.is_not_null() & (p <= alpha / m.windows)).height
    return LoopVerdict(
        drifted_windows=drifted,
        estimated=m.unobserved.get("estimate") is not None,
        reachable=bool(m.recommendation.get("reachable")),
    )


def _metric_values(s: np.ndarray, y: np.ndarray, metric: str, threshold: float) -> np.ndarray:
    """Per-row values of ``metric`` where the label is known (NaN elsewhere)."""
    labelled = np.isfinite(y)
    if metric == "accuracy":
        return np.where(labelled, ((s >= threshold) == (y == 1)).astype(float), np.nan)
    if metric == "brier":
        return np.where(labelled, (s - y) ** 2, np.nan)
    if metric == "bad_rate":
        return y.copy()
    raise InputError(f"metric must be accuracy, brier or bad_rate, not {metric!r}")


def measure_loop(
    s: np.ndarray,
    y: np.ndarray,
    mdec: np.ndarray,
    dec: np.ndarray,
    exp: np.ndarray,
    prop: np.ndarray,
    window: Any,
    *,
    metric: str,
    threshold: float,
    half_width: float,
    confidence: float,
) -> LoopMeasured:
    """Shares, per-window drift of the labelled cases, the IPW estimate where the model
    declines and the exploration that estimates it to ``half_width`` (checked arrays)."""
    n = s.size
    labelled = np.isfinite(y)
    v = _metric_values(s, y, metric, threshold)
    shares = loop_shares(dec, exp, labelled)
    drift = labelled_vs_scored(s, labelled, window)
    target = exp & ~mdec  # explored cases the model would have declined
    est = ipw_estimate(v[target], prop[target], confidence=confidence)
    bad = ipw_estimate(y[target], prop[target], confidence=confidence)
    naive_rows = v[target & labelled]
    windows = max(1, drift.height)
    approve_p = np.where(dec, prop, 1 - prop)[target]  # exploration's approval probability
    deff = 1.0
    n_obs, n_eff = est["n_observed"], est["effective_n"]
    if n_eff:
        assert n_obs is not None  # ipw_estimate always counts the observed rows
        deff = n_obs / n_eff
    rec = recommend_exploration(
        volume=n // windows,
        unobserved_share=float((~mdec).mean()),
        approve_probability=float(np.mean(approve_p)) if approve_p.size else 0.5,
        variance=float(np.nanvar(v[target])) if np.isfinite(v[target]).sum() > 1 else 0.25,
        half_width=half_width,
        bad_rate=bad["estimate"],
        design_effect=deff,
        confidence=confidence,
    )
    return LoopMeasured(
        shares=shares,
        drift=drift,
        unobserved=est,
        bad_rate_unobserved=bad,
        naive_unobserved=float(naive_rows.mean()) if naive_rows.size else None,
        recommendation=rec,
        metric=metric,
        half_width=half_width,
        confidence=confidence,
    )


def describe_loop(m: LoopMeasured, v: LoopVerdict) -> str:
    """The plain-words finding of :func:`feedback_loop`."""
    shares, est, rec = m.shares, m.unobserved, m.recommendation
    text = (
        "The model decides which outcomes are ever seen: "
        f"{_pct(shares['observable_only_by_model'])} of cases are approved by it and only "
        "their outcomes arrive, and the "
        f"{_pct(shares['never_observable'])} it declines are never observed; "
        f"{_pct(shares['labels_chosen_by_model'])} of the labels a retraining would use were "
        f"chosen by the model. "
    )
    if v.drifted_windows:
        text += (
            f"The labelled cases differ from the scored ones in {v.drifted_windows} of "
            f"{m.drift.height} windows (Kolmogorov-Smirnov, Bonferroni), so metrics measured on "
            "labels describe the approved cases, not the traffic. "
        )
    if v.estimated:
        text += (
            f"From the {est['n_observed']} explored cases it would have declined, its "
            f"{m.metric} there is {est['estimate']:.3f} ({m.confidence:.0%} interval "
            f"{est['low']:.3f} to {est['high']:.3f}, inverse-propensity weighted). "
        )
    else:
        text += (
            "No explored case the model would decline has an outcome yet, so its performance "
            "there is unknown. "
        )
    if v.reachable:
        text += (
            f"To estimate it to within {m.half_width:g} every window, decide "
            f"{_pct(rec['share'])} of traffic without the model: about "
            f"{rec['approved_against_model']:.0f} approvals per window against its advice"
        )
        if rec["expected_bad_outcomes"] is not None:
            text += f", of which about {rec['expected_bad_outcomes']:.0f} are expected to go bad"
        text += ". "
    else:
        volume = int(shares["n"]) // m.windows
        text += (
            f"Even deciding all of a window's {volume:,} cases without the model would not "
            f"estimate it to within {m.half_width:g} per window: pool windows, or accept a wider "
            "interval. "
        )
    text += "Without exploration, retraining learns only from the cases the model already approves."
    return text
