"""Live champion / challenger: an always-valid confidence sequence for the difference.

As labels arrive for predictions both models made (shadow mode: the same ids;
or an A/B split analysed per pair of ids), each labelled row gives a paired,
bounded difference ``d = loss(champion) - loss(challenger)`` in ``[-1, 1]``
(positive: the challenger did better on that row) for a per-row metric:

- ``"brier"``: squared error of the positive-class probability (in ``[0, 1]``);
- ``"log_loss"``: log loss with probabilities clipped to ``[eps, 1 - eps]``,
  divided by ``-log(eps)`` so it lies in ``[0, 1]``;
- ``"accuracy"``: 1 for a wrong label, 0 for a right one.

ROC-AUC is not a mean of per-row terms (it compares pairs of rows), so it is not
monitored directly: a model better in AUC is, when both are calibrated, better
in Brier score and log loss per row, which this module tracks instead.

The mean difference is covered by the **hedged betting confidence sequence**
of Waudby-Smith & Ramdas (2024), *Estimating means of bounded random variables
by betting*, JRSS-B 86(1) 1-27 (arXiv:2010.09686), Theorem 3 with the
predictable plug-in bets of their eq. (26). With ``x = (d + 1) / 2`` in
``[0, 1]`` and a candidate mean ``m``:

    K+_t(m) = prod_i (1 + min(lam_i, c/m)       (x_i - m))
    K-_t(m) = prod_i (1 - min(lam_i, c/(1 - m)) (x_i - m))
    K_t(m)  = max(theta K+_t(m), (1 - theta) K-_t(m)),  theta = 1/2, c = 1/2
    lam_i   = sqrt(2 log(2/alpha) / (sigma2_{i-1} i log(1 + i)))

where ``sigma2_{i-1}`` is the regularized variance of the rows before row ``i``
(one pseudo-observation of variance 1/4 around mean 1/2). Under the null mean
``m``, ``theta K+ + (1 - theta) K-`` is a nonnegative martingale, so by Ville's
inequality ``P(exists t: K_t(m) >= 1/alpha) <= alpha``: the set
``{m : K_t(m) < 1/alpha}`` covers the true mean at *every* t at once, and it can
be checked after every row or batch, and stopped at any time, without inflating
false alarms. The running intersection over t is reported (also valid).

Assumptions: the rows arrive in an order that does not depend on their outcome
and the paired differences have a constant conditional mean (traffic from one
stable population; under drift the interval covers nothing in particular);
labels are the true outcomes.

Example
-------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> d = np.where(rng.random(4000) < 0.2, 1.0, 0.0) - np.where(rng.random(4000) < 0.1, 1.0, 0.0)
>>> cs = ConfidenceSequence(alpha=0.05).update(d)
>>> cs.decision, cs.lower > 0
('challenger_better', True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from assay.errors import InputError
from assay.monitoring.promote import Decision

Metric = Literal["brier", "log_loss", "accuracy"]
DecisionName = Literal["challenger_better", "champion_better", "continue"]
METRICS: tuple[str, ...] = ("brier", "log_loss", "accuracy")
LOG_LOSS_EPS = 1e-3


def paired_differences(
    y: Any, champion: Any, challenger: Any, *, metric: Metric = "brier"
) -> np.ndarray:
    """Per-row ``loss(champion) - loss(challenger)`` in ``[-1, 1]`` (positive: challenger better).

    ``y`` holds 0/1 outcomes; ``champion`` and ``challenger`` hold positive-class
    probabilities (``brier``, ``log_loss``) or predicted labels (``accuracy``).

    >>> paired_differences([1, 0], [0.6, 0.4], [0.9, 0.4]).round(2).tolist()
    [0.15, 0.0]
    >>> paired_differences([1, 0], [1, 1], [1, 0], metric="accuracy").tolist()
    [0.0, 1.0]
    """
    if metric not in METRICS:
        raise InputError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    y = np.asarray(y, dtype=np.float64)
    a, b = np.asarray(champion, dtype=np.float64), np.asarray(challenger, dtype=np.float64)
    if not (y.shape == a.shape == b.shape) or y.ndim != 1:
        raise InputError(
            f"y, champion and challenger must be 1-d and of one length, got shapes "
            f"{y.shape}, {a.shape}, {b.shape}"
        )
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("y must hold 0/1 outcomes (the positive class as 1)")
    if metric == "accuracy":
        return (a != y).astype(np.float64) - (b != y).astype(np.float64)
    both = np.concatenate([a, b])
    if not np.isfinite(both).all() or both.min() < 0 or both.max() > 1:
        raise InputError(f"{metric} needs probabilities in [0, 1] for both models")
    if metric == "brier":
        return (a - y) ** 2 - (b - y) ** 2

    def loss(p: np.ndarray) -> np.ndarray:
        p = np.clip(p, LOG_LOSS_EPS, 1 - LOG_LOSS_EPS)
        return -(y * np.log(p) + (1 - y) * np.log1p(-p)) / -np.log(LOG_LOSS_EPS)

    return loss(a) - loss(b)


@dataclass
class ConfidenceSequence:
    """Always-valid confidence sequence for the mean of paired differences in ``[-1, 1]``.

    Stateful in the river style: :meth:`update` with each batch (in arrival
    order) returns ``self``; read ``lower``, ``upper``, ``estimate``,
    ``decision`` and ``history`` at any time. ``grid`` candidate means are
    tracked for the interval (0: only the decision, which is exact at 0 and at
    ``-margin``, and much cheaper). ``margin`` (>= 0) lets the challenger win
    when it is *not worse* by more than ``margin``; 0 asks for strictly better.
    """

    alpha: float = 0.05
    grid: int = 1000
    margin: float = 0.0
    c: float = 0.5
    n: int = 0
    total: float = 0.0
    history: list[dict[str, float | int | str | None]] = field(default_factory=list)
    decided_at: int | None = None
    _sum_sq: float = 0.25  # one pseudo-observation of variance 1/4
    _mean_reg: float = 0.5
    _m: np.ndarray = field(init=False, repr=False)
    _log_plus: np.ndarray = field(init=False, repr=False)
    _log_minus: np.ndarray = field(init=False, repr=False)
    _lower: float = -1.0
    _upper: float = 1.0
    _decision: DecisionName = "continue"

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must be in (0, 1), not {self.alpha!r}")
        if not 0 <= self.margin < 1:
            raise InputError(f"margin must be in [0, 1), not {self.margin!r}")
        # candidate differences, dense near 0 where decisions are made (v**3 for v evenly
        # spaced in (-1, 1)), on the [0, 1] scale; the last two are exactly 0 and -margin
        v = np.linspace(-1, 1, self.grid + 2)[1:-1] if self.grid else np.empty(0)
        self._m = np.concatenate([(v**3 + 1) / 2, [0.5, (1 - self.margin) / 2]])
        self._log_plus = np.zeros(self._m.size)
        self._log_minus = np.zeros(self._m.size)

    # -- state ---------------------------------------------------------------
    @property
    def estimate(self) -> float | None:
        """Mean difference so far (challenger better when positive)."""
        return self.total / self.n if self.n else None

    @property
    def lower(self) -> float:
        return self._lower

    @property
    def upper(self) -> float:
        return self._upper

    @property
    def decision(self) -> DecisionName:
        """``challenger_better`` once ``-margin`` (0 by default) is excluded from below,
        ``champion_better`` once 0 is excluded from above, else ``continue``."""
        return self._decision

    # -- update --------------------------------------------------------------
    def update(self, d: Any) -> ConfidenceSequence:
        """Add a batch of paired differences (in ``[-1, 1]``, in arrival order)."""
        d = np.asarray(d, dtype=np.float64).ravel()
        if d.size == 0:
            return self
        if not np.isfinite(d).all() or d.min() < -1 or d.max() > 1:
            raise InputError("paired differences must be finite and within [-1, 1]")
        x = (d + 1) / 2
        t = self.n + np.arange(1, x.size + 1)  # index of each row in the whole stream
        # regularized running mean and variance of the rows *before* each row
        csum = self._mean_reg * (self.n + 1) + np.cumsum(x)
        mu = csum / (t + 1)
        sq = self._sum_sq + np.cumsum((x - mu) ** 2)
        sigma2_prev = np.concatenate([[self._sum_sq / (self.n + 1)], (sq / (t + 1))[:-1]])
        lam = np.sqrt(2 * np.log(2 / self.alpha) / (sigma2_prev * t * np.log1p(t)))
        m = self._m[None, :]
        lam_p = np.minimum(lam[:, None], self.c / np.maximum(m, 1e-12))
        lam_m = np.minimum(lam[:, None], self.c / np.maximum(1 - m, 1e-12))
        self._log_plus += np.log1p(lam_p * (x[:, None] - m)).sum(axis=0)
        self._log_minus += np.log1p(-lam_m * (x[:, None] - m)).sum(axis=0)
        self._mean_reg = float(mu[-1])
        self._sum_sq = float(sq[-1])
        self.n += x.size
        self.total += float(d.sum())
        self._refresh()
        return self

    def _refresh(self) -> None:
        log_k = np.maximum(self._log_plus, self._log_minus) + np.log(0.5)
        keep = log_k < np.log(1 / self.alpha)
        inner = keep[:-2]
        if self.grid and inner.any():
            # the nearest excluded candidates outside the kept ones bound the set
            # (conservatively: the boundary lies between them and the first kept one)
            d = self._m[:-2] * 2 - 1
            first, last = np.flatnonzero(inner)[[0, -1]]
            low = float(d[first - 1]) if first > 0 else -1.0
            high = float(d[last + 1]) if last + 1 < d.size else 1.0
            self._lower = max(self._lower, low)
            self._upper = min(self._upper, high)
        est = self.estimate or 0.0
        if self._decision == "continue":
            if not keep[-1] and est > -self.margin:
                self._decision, self.decided_at = "challenger_better", self.n
            elif not keep[-2] and est < 0:
                self._decision, self.decided_at = "champion_better", self.n
        if self._decision == "challenger_better" and self.grid:
            self._lower = max(self._lower, -self.margin)
        if self._decision == "champion_better" and self.grid:
            self._upper = min(self._upper, 0.0)
        self.history.append(
            {
                "n": self.n,
                "estimate": est,
                "lower": self._lower if self.grid else None,
                "upper": self._upper if self.grid else None,
                "decision": self._decision,
            }
        )


@dataclass(frozen=True)
class SequentialResult:
    """A live comparison: the running interval, the decision and when it was reached."""

    metric: str
    n: int
    estimate: float | None
    lower: float
    upper: float
    decision: DecisionName
    decided_at: int | None
    alpha: float
    margin: float
    history: tuple[Mapping[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "n": self.n,
            "estimate": self.estimate,
            "lower": self.lower,
            "upper": self.upper,
            "decision": self.decision,
            "decided_at": self.decided_at,
            "alpha": self.alpha,
            "margin": self.margin,
            "history": [dict(h) for h in self.history],
        }


def compare_sequential(
    y: Any,
    champion: Any,
    challenger: Any,
    *,
    metric: Metric = "log_loss",
    batch_size: int = 500,
    alpha: float = 0.05,
    margin: float = 0.0,
    stop_early: bool = True,
    grid: int = 1000,
) -> SequentialResult:
    """Feed paired labelled predictions batch by batch, checking after each batch.

    With ``stop_early`` the comparison stops at the first batch where the
    difference is clear (the rows after it are not used), as a live monitor
    would. See the module notes for the method and its assumptions.
    """
    if batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, not {batch_size!r}")
    d = paired_differences(y, champion, challenger, metric=metric)
    cs = ConfidenceSequence(alpha=alpha, grid=grid, margin=margin)
    for start in range(0, d.size, batch_size):
        cs.update(d[start : start + batch_size])
        if stop_early and cs.decision != "continue":
            break
    return SequentialResult(
        metric=metric,
        n=cs.n,
        estimate=cs.estimate,
        lower=cs.lower,
        upper=cs.upper,
        decision=cs.decision,
        decided_at=cs.decided_at,
        alpha=alpha,
        margin=margin,
        history=tuple(cs.history),
    )


def promotion_decision(result: SequentialResult, *, candidate_audit: Any = None) -> Decision:
    """Feed a live comparison to the promotion gate (:mod:`assay.monitoring.promote`).

    The challenger is promoted when the confidence sequence has decided for it
    (its whole interval above ``-margin``) and, when its audit is given
    (``candidate_audit``, an :class:`~assay.core.audit_result.AuditResult`), no
    check of that audit fails or errors, as for :func:`decide_promotion`.

    >>> r = SequentialResult("brier", 8000, 0.02, 0.004, 0.03, "challenger_better", 6000,
    ...                      0.05, 0.0)
    >>> promotion_decision(r).promote
    True
    """
    failed: tuple[str, ...] = ()
    if candidate_audit is not None:
        failed = tuple(c.id for c in candidate_audit.checks if c.status in ("fail", "error"))
    est = "n/a" if result.estimate is None else f"{result.estimate:+.4f}"
    interval = (
        f"{est} per row ({result.metric}; always-valid {1 - result.alpha:.0%} interval "
        f"{result.lower:+.4f} to {result.upper:+.4f} after {result.n:,} labels)"
    )
    reasons: list[str] = []
    if failed:
        reasons.append(f"the candidate fails the gate in: {', '.join(failed)}")
    if result.decision == "challenger_better":
        what = "better than" if result.margin == 0 else f"within {result.margin:g} of"
        reasons.append(
            f"the challenger is clearly {what} the champion: difference {interval}, decided "
            f"after {result.decided_at:,} labels"
        )
    elif result.decision == "champion_better":
        reasons.append(f"the champion is clearly better: difference {interval}")
    else:
        reasons.append(
            f"the difference is not yet clear: {interval}; keep collecting labels (the "
            "interval stays valid however often it is checked)"
        )
    promote = result.decision == "challenger_better" and not failed
    return Decision(
        promote,
        tuple(reasons),
        result.metric,
        champion={"labels": result.n},
        candidate={
            "difference": result.estimate,
            "difference_low": result.lower,
            "difference_high": result.upper,
        },
        failed_checks=failed,
    )
