"""Signal 4 of ``security.poisoning``: high-influence outliers, rows far from the rest
(high leverage) that pull a linear surrogate fit of the labels (Cook's distance)
towards a label the fit without them does not predict; the labelled held-out rows,
scored as if added to the fit, say how many such rows honest data gives."""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.result import Finding, Status
from assay.data._common import capped_rows
from assay.data._crossval import OutOfFold, class_codes
from assay.security._poisoning.common import design, usable
from assay.security._poisoning_judge import judge_influence

if TYPE_CHECKING:
    from assay.core.context import AuditContext


@dataclass(frozen=True)
class Influence:
    """The signal's findings (at most one) and its numbers for the check's metrics."""

    findings: list[Finding] = field(default_factory=list)
    influential_rows: int = 0
    max_cooks_distance: float | None = None


@dataclass(frozen=True)
class _Fit:
    """The least-squares surrogate fit and each row's influence on it."""

    A_inv: np.ndarray  # inverse of the ridge-regularized X'X
    B: np.ndarray  # coefficients, one column per label column
    Y: np.ndarray  # labels (one-hot classes, or the standardized target)
    loo: np.ndarray  # each row's leave-one-out prediction
    cooks: np.ndarray  # Cook's distance per row
    h: np.ndarray  # leverage per row
    s2: float  # residual variance
    p: int  # columns of the design


def influence(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> Influence:
    """Influential outliers in the out-of-fold sample: measured, judged, described."""
    df = ctx.frame(oof.split)[oof.positions]
    held = _held_out_labels(ctx, oof)
    X, _, X_te = design(df, usable(ctx, df), ctx, other=held[0] if held else None)
    n, p = X.shape
    if n <= p + 10:
        return Influence()
    if oof.proba is not None:
        Y = np.eye(len(oof.classes))[oof.y]
        Y_te = np.eye(len(oof.classes))[held[1]] if held else None
    else:
        y = oof.y.astype(float)
        mu, sd = y.mean(), (y.std() or 1.0)
        Y = ((y - mu) / sd).reshape(-1, 1)
        Y_te = ((held[1] - mu) / sd).reshape(-1, 1) if held else None
    fit = _fit(X, Y)
    if fit is None:
        return Influence()
    classify = oof.proba is not None
    flagged = np.flatnonzero(
        _influential(Y, fit.loo, fit.cooks, fit.h, p, n, th, classify=classify)
    )
    held_n, held_hits = None, None
    if X_te is not None and Y_te is not None:
        held_n, held_hits = len(Y_te), _held_out_hits(fit, X_te, Y_te, n, th, classify)
    max_cooks = float(fit.cooks.max())
    if not len(flagged):
        return Influence([], 0, max_cooks)
    status, p_train_only, reason = judge_influence(len(flagged), held_hits, n, held_n or 0, th)
    flagged = flagged[np.lexsort((oof.positions[flagged], -fit.cooks[flagged]))]
    rows = oof.positions[flagged]
    held_out = (held_hits, held_n, p_train_only)
    finding = _describe(status, reason, rows, max_cooks, held_out, oof.split)
    return Influence([finding], len(flagged), max_cooks)


def _fit(X: np.ndarray, Y: np.ndarray) -> _Fit | None:
    """Ridge-stabilized least squares of ``Y`` on ``X`` with each row's leverage, Cook's
    distance and leave-one-out prediction (None when the fit leaves no residual)."""
    n, p = X.shape
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        A = X.T @ X + 1e-6 * n * np.eye(p)
        A_inv = np.linalg.pinv(A)
        B = A_inv @ X.T @ Y
        E = Y - X @ B
        h = np.einsum("ij,jk,ik->i", X, A_inv, X)
    h = np.clip(h, 0.0, 0.999)
    s2 = float((E**2).sum() / max((n - p) * Y.shape[1], 1))
    if s2 <= 0:
        return None
    cooks = (E**2).sum(axis=1) / (p * s2 * Y.shape[1]) * h / (1 - h) ** 2
    # What the fit WITHOUT each row predicts for it (the leave-one-out residual
    # e / (1 - h)). An extreme row whose label that fit already predicts only
    # steers the model where the data already points; a poisoning row pulls it
    # towards a label the rest of the data does not give it.
    loo = Y - E / (1 - h)[:, None]
    return _Fit(A_inv, B, Y, loo, cooks, h, s2, p)


def _held_out_hits(
    fit: _Fit, X_te: np.ndarray, Y_te: np.ndarray, n: int, th: Mapping[str, Any], classify: bool
) -> int:
    """Held-out rows that would be influential outliers if each were added to the fit:
    its leverage there is h0 / (1 + h0) and its Cook's distance e0^2 h / (p s2), with
    e0 its residual under the train fit (which is its leave-one-out residual)."""
    p = fit.p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h0 = np.einsum("ij,jk,ik->i", X_te, fit.A_inv, X_te)
        E0 = Y_te - X_te @ fit.B
    h_te = np.clip(h0 / (1 + h0), 0.0, 0.999)
    cooks_te = (E0**2).sum(axis=1) / (p * fit.s2 * fit.Y.shape[1]) * h_te
    loo_te = Y_te - E0
    ref = fit.Y - fit.loo
    hits_te = _influential(Y_te, loo_te, cooks_te, h_te, p, n, th, classify=classify, ref=ref)
    return int(hits_te.sum())


def _describe(
    status: Status,
    reason: str,
    rows: np.ndarray,
    max_cooks: float,
    held_out: tuple[int | None, int | None, float],
    split: str,
) -> Finding:
    held_hits, held_n, p_train_only = held_out
    lead = "Influential outliers" if status != "pass" else "Data quality note"
    seen = (
        f" The {held_n:,} labelled held-out rows have {held_hits} that would do the same."
        if held_n is not None
        else ""
    )
    tail = (
        f" Not a sign of tampering: {reason}."
        if status == "pass"
        else " Poisoning needs many rows, and these are in the training data only."
    )
    msg = (
        f"{lead}: {len(rows)} {split} row(s) lie far from the others and "
        "pull a linear fit of "
        f"the labels strongly (Cook's distance up to {max_cooks:.2f}); the strongest are rows "
        f"{', '.join(str(r) for r in rows[:5])}.{seen}{tail}"
    )
    return Finding(
        status,
        msg,
        rows=capped_rows(rows),
        split=split,
        metrics={
            "rows": len(rows),
            "max_cooks_distance": max_cooks,
            "held_out_rows": held_hits,
            "held_out_rows_searched": held_n,
            "p_train_only": p_train_only,
        },
    )


def _held_out_labels(ctx: AuditContext, oof: OutOfFold) -> tuple[pl.DataFrame, np.ndarray] | None:
    """(labelled test rows, their labels coded as the train sample's) for the
    held-out side of the influence signal; classification keeps the rows whose
    class the train sample holds."""
    if oof.split != "train" or not ctx.has("test"):
        return None
    test = ctx.frame("test")
    if ctx.target not in test.columns:
        return None
    raw = test.get_column(ctx.target).to_numpy()
    if oof.proba is not None:
        y = class_codes(raw, oof.classes)
        keep = y >= 0
    else:
        try:
            y = np.asarray(raw, dtype=float)
        except (TypeError, ValueError):
            return None
        keep = np.isfinite(y)
    if keep.sum() < 20:
        return None
    return test.filter(pl.Series(keep)), y[keep]


def _influential(
    Y: np.ndarray,
    loo: np.ndarray,
    cooks: np.ndarray,
    h: np.ndarray,
    p: int,
    n: int,
    th: Mapping[str, Any],
    *,
    classify: bool,
    ref: np.ndarray | None = None,
) -> np.ndarray:
    """Rows with Cook's distance above ``cooks_warn``, leverage above twice the average,
    and a label the fit without them does not give (classification: the clipped
    leave-one-out prediction on the other side; regression: a leave-one-out residual
    beyond ``z_max`` robust SDs of ``ref``'s, the train rows' own, when given)."""
    if classify:
        against = np.abs(Y - np.clip(loo, 0.0, 1.0)).max(axis=1) > 0.5
    else:
        r = (Y - loo)[:, 0]
        base = r if ref is None else ref[:, 0]
        med = float(np.median(base))
        mad = float(np.median(np.abs(base - med))) * 1.4826 or float(np.std(base)) or 1.0
        against = np.abs((r - med) / mad) > float(th["z_max"])
    return (cooks > th["cooks_warn"]) & (h > 2 * p / n) & against
