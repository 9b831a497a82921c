"""The in-cell logistic recalibration tests behind the flipped-slice signal of
``security.poisoning``: numbers in, slope and p-values out (no data frames)."""

from __future__ import annotations

import warnings

import numpy as np


def logit_fit(Z: np.ndarray, offset: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Logistic regression of ``y`` on ``Z`` with an offset (Newton); (coefficients,
    log-likelihood)."""
    beta = np.zeros(Z.shape[1])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(25):
            eta = np.clip(Z @ beta + offset, -30, 30)
            p = 1.0 / (1.0 + np.exp(-eta))
            w = p * (1 - p) + 1e-9
            step = np.linalg.solve(
                Z.T @ (Z * w[:, None]) + 1e-8 * np.eye(Z.shape[1]), Z.T @ (y - p)
            )
            beta = beta + step
            if np.abs(step).max() < 1e-8:
                break
        eta = np.clip(Z @ beta + offset, -30, 30)
    return beta, float((y * eta - np.logaddexp(0.0, eta)).sum())


def recalibration(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """In-cell logistic recalibration ``logit P(y=1) = a + b * x`` of the model's logits ``x``.

    Returns (slope ``b``, p-value of the likelihood-ratio test of ``b`` against 1
    with the intercept free; 1.0 when ``b`` >= 1). A slope near 0 means the
    model's confidence says nothing about the labels there.
    """
    from scipy.stats import chi2

    ones = np.ones((len(x), 1))
    beta, ll_free = logit_fit(np.hstack([ones, x.reshape(-1, 1)]), np.zeros(len(x)), y)
    _, ll_one = logit_fit(ones, x, y)
    b = float(beta[1])
    if not np.isfinite(b) or b >= 1.0:
        return b, 1.0
    return b, float(chi2.sf(max(2.0 * (ll_free - ll_one), 0.0), 1))


def steeper_held_out(
    x_tr: np.ndarray, y_tr: np.ndarray, x_te: np.ndarray, y_te: np.ndarray
) -> tuple[float, float]:
    """(held-out recalibration slope, p-value that the cell's train labels are its
    held-out curve with a share of them flipped).

    Flipping a share ``f`` of labels at random turns the curve ``P(y=1) = s(a + b x)``
    into ``f + (1 - 2f) s(a + b x)``. One model of both splits' rows in the cell: the
    held-out rows follow ``s(a + b x)``, the train rows the same curve flipped at ``f``;
    the likelihood-ratio test of ``f = 0`` (one curve for both splits, as a model that
    is merely weak there gives) has a boundary null: p = chi2_1 tail / 2.
    """
    from scipy.optimize import minimize
    from scipy.stats import chi2

    held_slope = recalibration(x_te, y_te)[0] if len(x_te) else float("nan")
    x = np.concatenate([x_tr, x_te])
    y = np.concatenate([y_tr, y_te])
    is_tr = np.concatenate([np.ones(len(x_tr), bool), np.zeros(len(x_te), bool)])
    one = np.column_stack([np.ones(len(x)), x])
    beta0, ll_same = logit_fit(one, np.zeros(len(x)), y)

    def nll(theta: np.ndarray) -> float:
        a, b, f = theta
        q = 1.0 / (1.0 + np.exp(-np.clip(a + b * x, -30, 30)))
        q = np.where(is_tr, f + (1.0 - 2.0 * f) * q, q)
        q = np.clip(q, 1e-12, 1 - 1e-12)
        return float(-(y * np.log(q) + (1 - y) * np.log(1 - q)).sum())

    best = -ll_same
    bounds = [(None, None), (None, None), (0.0, 0.499)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f0 in (0.05, 0.2, 0.4):
            res = minimize(
                nll, np.array([beta0[0], beta0[1], f0]), method="L-BFGS-B", bounds=bounds
            )
            if np.isfinite(res.fun):
                best = min(best, float(res.fun))
    stat = max(2.0 * (-ll_same - best), 0.0)
    if not np.isfinite(held_slope):
        return held_slope, 1.0
    return float(held_slope), float(chi2.sf(stat, 1)) / 2.0 if stat > 0 else 1.0
