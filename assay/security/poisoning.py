"""``security.poisoning``: signals that the training data was tampered with.

Four signals, each computed on the training data (the test data when there
is no training data):

1. **Conflicting duplicates** — rows with exactly the same features but
   different labels (classification). Found with one hash of each row's
   features, verified exactly, over every row; a warning only when more groups
   disagree than label noise (the out-of-fold class probabilities) explains,
   otherwise a data-quality note.
2. **Clusters of label issues** — one category or one decile of a feature
   whose labels the model's out-of-fold confidence no longer explains (the
   same cached model fits as ``data.label_issues``). Binary labels: an in-cell
   logistic recalibration of the model's logits (intercept and slope; a
   likelihood-ratio test of slope 1, Bonferroni-corrected over every cell)
   with a slope between 0 and ``cluster_slope``: labels flipped at random at
   any rate below one half flatten the model's confidence towards nothing,
   while a model that is merely wrong somewhere keeps (or reverses) its
   ranking. A model merely weak in a region is as flat on the labelled
   held-out rows there, so the same cell of those rows (under the same fold
   models) must follow the logits steeply, and the train labels must look like
   that curve with a share flipped, beyond chance (a likelihood-ratio test
   against one curve for both splits, Bonferroni over the cells). A pile-up
   of cleanlab suspects far beyond the model's uncertainty (a Poisson tail
   test) also warns; for binary labels only
   where the model's ranking is reversed there (labels set to one class
   against the model). Other tasks use the pile-up test alone (regression:
   outlying residuals).
3. **Trigger values** — a rare value of a feature, or a rare pair of values
   of two categorical features, whose rows almost all carry one label
   (regression: a target in its lowest or highest ``trigger_tail``) that the
   rest of the row does not explain. Two independent pieces of evidence are
   combined with Fisher's method and Bonferroni-corrected over the patterns:
   the label beyond what a linear-probability fit on the OTHER columns
   predicts for those rows (fitted on the rows without the pattern), and the
   pattern's shortfall in the held-out data (test and current rows), where a
   value of the population recurs at its training rate (an exact conditional
   binomial test). This is the shape of a backdoor: a planted value that
   switches the prediction and lives in the training data only. A rare value
   that merely marks rows the other columns already lean to that label (a
   top-coded income among the well-paid) is a real pattern and stays quiet.
   When the test data holds the same pattern with the same tie, it is listed
   without a warning.
4. **High-influence outliers** — rows far from the rest (high leverage) that
   also pull the fit (Cook's distance) towards a label the fit without them
   does not predict (the leave-one-out prediction, clipped to the label
   range, is on the other side; regression: an outlying leave-one-out
   residual), measured on a linear surrogate model of the labels, not on the
   user's model. Poisoning needs many rows and lives in the training data
   only: a warning needs ``influence_min_rows`` such rows and more than the
   labelled held-out rows, scored as if added to the fit, give beyond chance;
   a few extreme rows are a data-quality note (heavy tails). Single-row
   deletion is masked when many attack rows sit together, so this signal
   rarely warns on its own.

None of these proves tampering, and a careful attacker (clean-label
poisoning) can avoid all of them; natural data shows each of them sometimes.
They point at rows worth a look.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.registry import Outcome, register_check
from assay.core.result import Finding
from assay.data._common import capped_rows, overall_status, pct, sort_findings
from assay.data._crossval import (
    OutOfFold,
    class_codes,
    model_features,
    out_of_fold,
    split_for,
)
from assay.security._poisoning_judge import (
    judge_conflicts,
    judge_flipped_slice,
    judge_influence,
    judge_train_only,
    judge_trigger,
)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_MAX_CATEGORIES = 50  # values of one feature examined as cluster cells
_PAIR_MAX_CARDINALITY = 30  # columns this coarse are paired for trigger pairs
_MAX_PAIR_COLUMNS = 15
_MAX_FINDINGS_PER_SIGNAL = 10
_MAX_TRIGGER_TESTS = 50  # pure patterns tested against the other columns


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _usable(ctx: AuditContext, df: pl.DataFrame) -> list[str]:
    """Model features that can carry a pattern (not identifiers or free text)."""
    return [
        c
        for c in model_features(ctx, df)
        if ctx.schema.types.get(c) not in ("identifier", "text") and df.schema[c] != pl.Object
    ]


def _pattern_rows(
    ctx: AuditContext, split: str, th: Mapping[str, Any]
) -> tuple[pl.DataFrame, np.ndarray]:
    """The rows searched for duplicates and trigger patterns, with their positions.

    All rows up to ``max_rows_patterns``; beyond, the rows with the smallest seeded
    hash of their features, so identical rows are kept or left out together (and
    the sample does not depend on row order).
    """
    df = ctx.frame(split)
    limit = int(th["max_rows_patterns"])
    if df.height <= limit:
        return df, np.arange(df.height)
    feats = [c for c in model_features(ctx, df) if df.schema[c] != pl.Object]
    keys = df.select(feats).hash_rows(seed=ctx.settings.seed).to_numpy()
    keep = np.sort(np.argsort(keys, kind="stable")[:limit])
    return df[keep], keep


# -- 1. conflicting duplicates --------------------------------------------------
def _noise_conflicts(
    oof: OutOfFold | None, group_rows: list[list[int]]
) -> tuple[float | None, int]:
    """How many of the duplicate groups would carry different labels if each group's
    labels were independent draws from its out-of-fold class probabilities (groups
    with no row in the out-of-fold sample are left out), and how many were used.

    Rows with identical features share a fold (folds follow the feature hash), so no
    row's probability comes from a model that saw its duplicate's label."""
    if oof is None or oof.proba is None:
        return None, 0
    where = {int(r): i for i, r in enumerate(oof.positions)}
    expected, used = 0.0, 0
    for rows in group_rows:
        idx = [where[r] for r in rows if r in where]
        if not idx:
            continue
        p = oof.proba[idx].mean(axis=0)
        expected += 1.0 - float((p ** len(rows)).sum())
        used += 1
    return expected, used


def _conflicts(
    ctx: AuditContext, split: str, th: Mapping[str, Any], oof: OutOfFold | None = None
) -> tuple[list[Finding], dict[str, Any]]:
    df, positions = _pattern_rows(ctx, split, th)
    feats = [c for c in model_features(ctx, df) if df.schema[c] != pl.Object]
    info: dict[str, Any] = {"conflicting_rows": 0, "conflicting_share": 0.0, "groups": 0}
    if ctx.task == "regression" or not feats or df.height < 2:
        return [], info
    keyed = df.select(feats).with_columns(
        pl.Series("__y__", df.get_column(ctx.target).cast(pl.String)),
        pl.Series("__row__", positions),
    )
    dup = df.select(feats).hash_rows(seed=ctx.settings.seed).is_duplicated()
    sub = keyed.filter(dup)
    if sub.height == 0:
        return [], info
    all_groups = sub.group_by(feats).agg(
        pl.col("__y__").n_unique().alias("labels"),
        pl.col("__row__").sort().alias("rows"),
        pl.col("__y__").sort().alias("ys"),
    )
    groups = all_groups.filter(pl.col("labels") > 1).sort(pl.col("rows").list.first())
    if groups.height == 0:
        return [], info
    rows_lists = groups.get_column("rows").to_list()
    ys = groups.get_column("ys").to_list()
    n_rows = sum(len(r) for r in rows_lists)
    share = n_rows / df.height
    # Compare the conflicting groups with what label noise gives the duplicate groups
    # (those with a row in the out-of-fold sample): honest data with coarse features has
    # identical rows with different labels, a data-quality note, not tampering.
    all_rows = all_groups.get_column("rows").to_list()
    expected, used = _noise_conflicts(oof, all_rows)
    if oof is not None and used:
        where = set(oof.positions.tolist())
        observed = sum(1 for r in rows_lists if any(x in where for x in r))
    else:
        observed = groups.height
    status, p_value, reason = judge_conflicts(observed, expected, share, th)
    info = {
        "conflicting_rows": n_rows,
        "conflicting_share": share,
        "groups": groups.height,
        "status": status,
    }
    all_rows = sorted(r for rl in rows_lists for r in rl)
    order = sorted(range(len(rows_lists)), key=lambda i: (-len(rows_lists[i]), rows_lists[i][0]))
    first = order[0]
    labels = sorted(set(ys[first]))
    noise = (
        f" Label noise would give about {expected:.1f} of the {used:,} duplicate groups "
        f"examined different labels; {observed} have them (p = {p_value:.2g})."
        if expected is not None and used
        else ""
    )
    lead = "Conflicting duplicates" if status != "pass" else "Data quality note"
    tail = "" if status != "pass" else f" A data-quality matter, not a sign of tampering: {reason}."
    msg = (
        f"{lead}: {n_rows:,} {split} rows ({pct(share)}) in "
        f"{groups.height:,} group(s) have identical "
        f"features but different labels; the largest group, rows "
        f"{', '.join(str(r) for r in rows_lists[first][:6])}, carries labels "
        f"{', '.join(repr(x) for x in labels)}.{noise}{tail}"
    )
    metrics = {
        "conflicting_share": share,
        "conflicting_rows": n_rows,
        "groups": groups.height,
        "conflicting_groups_examined": observed,
        "expected_from_label_noise": expected,
        "ratio": observed / expected if expected else None,
        "p_value": p_value,
    }
    finding = Finding(status, msg, rows=capped_rows(all_rows), split=split, metrics=metrics)
    return [finding], info


# -- 2. clusters of label issues ------------------------------------------------
def _issues(oof: OutOfFold, th: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(suspect rows, expected suspicion per row) on the out-of-fold sample."""
    if oof.proba is not None:
        from cleanlab.filter import find_label_issues

        issues = np.asarray(find_label_issues(oof.y, oof.proba, n_jobs=1), dtype=bool)
        expected = 1.0 - oof.proba.max(axis=1)  # where the model itself is unsure
    else:
        resid = oof.y - oof.pred
        med = float(np.median(resid))
        mad = float(np.median(np.abs(resid - med))) * 1.4826 or float(np.std(resid)) or 1.0
        issues = np.abs((resid - med) / mad) > float(th["z_max"])
        expected = np.ones(len(resid))
    return issues, expected


def _cells(
    df: pl.DataFrame, cols: list[str], ctx: AuditContext, other: pl.DataFrame | None = None
) -> list[tuple[str, str, np.ndarray, np.ndarray | None]]:
    """(column, description, row mask, mask of the same cell in ``other``) for each
    category and numeric decile of ``df`` (the cells are defined on ``df`` alone)."""
    from assay.security._pii_engine import for_display

    out: list[tuple[str, str, np.ndarray, np.ndarray | None]] = []
    for c in cols:
        s = df.get_column(c)
        o = other.get_column(c) if other is not None and c in other.columns else None
        t = ctx.schema.types.get(c)
        if t == "numeric" and (s.dtype.is_numeric()):
            x = s.cast(pl.Float64).to_numpy()
            finite = x[np.isfinite(x)]
            if finite.size < 20:
                continue
            edges = np.unique(np.quantile(finite, np.linspace(0, 1, 11)))
            if len(edges) < 3:
                continue
            b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
            xo = bo = None
            if o is not None and o.dtype.is_numeric():
                xo = o.cast(pl.Float64).to_numpy()
                bo = np.clip(np.searchsorted(edges, xo, side="right") - 1, 0, len(edges) - 2)
            for k in range(len(edges) - 1):
                mask = (b == k) & np.isfinite(x)
                m_o = None if xo is None else (bo == k) & np.isfinite(xo)
                out.append((c, f"{_fmt(edges[k])} to {_fmt(edges[k + 1])}", mask, m_o))
        else:
            vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
            vo = None if o is None else o.cast(pl.String).fill_null("(missing)").to_numpy()
            uniq, counts = np.unique(vals, return_counts=True)
            top = uniq[np.lexsort((uniq, -counts))][:_MAX_CATEGORIES]
            for v in top:
                out.append((c, f"'{for_display(v)}'", vals == v, None if vo is None else vo == v))
    return out


def _test_outliers(
    ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]
) -> tuple[pl.DataFrame, np.ndarray] | None:
    """(test frame, outlying-residual flag per test row) under the user's model, for a
    regression whose test split is labelled: the held-out counterpart of the train
    rows' outlying out-of-fold residuals, on the test residuals' own robust scale."""
    if oof.split != "train" or not ctx.has("test") or not ctx.has_predictions:
        return None
    y = ctx.labels("test")
    if y is None:
        return None
    try:
        pred = np.asarray(ctx.predictions("test").labels, dtype=float)
        y = np.asarray(y, dtype=float)
    except (TypeError, ValueError):
        return None
    resid = y - pred
    ok = np.isfinite(resid)
    if ok.sum() < 20:
        return None
    med = float(np.median(resid[ok]))
    mad = float(np.median(np.abs(resid[ok] - med))) * 1.4826 or float(np.std(resid[ok])) or 1.0
    flag = np.zeros(len(resid), dtype=bool)
    flag[ok] = np.abs((resid[ok] - med) / mad) > float(th["z_max"])
    return ctx.frame("test"), flag


def _test_logits(
    ctx: AuditContext, oof: OutOfFold
) -> tuple[pl.DataFrame, np.ndarray, np.ndarray] | None:
    """(test frame, logits for the second class, labels as 0/1) of the labelled test
    rows, each predicted by the fold model of its fold (fitted on as many rows as
    the models behind the train rows' logits), when the labels are binary."""
    if oof.ref_proba is None or oof.ref_y is None or oof.ref_positions is None:
        return None
    if len(oof.classes) != 2:
        return None
    q = np.clip(oof.ref_proba[:, 1], 1e-6, 1 - 1e-6)
    y1 = (oof.ref_y == 1).astype(float)
    return ctx.frame("test")[oof.ref_positions], np.log(q / (1 - q)), y1


def _logit_fit(Z: np.ndarray, offset: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
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


def _recalibration(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """In-cell logistic recalibration ``logit P(y=1) = a + b * x`` of the model's logits ``x``.

    Returns (slope ``b``, p-value of the likelihood-ratio test of ``b`` against 1
    with the intercept free; 1.0 when ``b`` >= 1). A slope near 0 means the
    model's confidence says nothing about the labels there.
    """
    from scipy.stats import chi2

    ones = np.ones((len(x), 1))
    beta, ll_free = _logit_fit(np.hstack([ones, x.reshape(-1, 1)]), np.zeros(len(x)), y)
    _, ll_one = _logit_fit(ones, x, y)
    b = float(beta[1])
    if not np.isfinite(b) or b >= 1.0:
        return b, 1.0
    return b, float(chi2.sf(max(2.0 * (ll_free - ll_one), 0.0), 1))


def _steeper_held_out(
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

    held_slope = _recalibration(x_te, y_te)[0] if len(x_te) else float("nan")
    x = np.concatenate([x_tr, x_te])
    y = np.concatenate([y_tr, y_te])
    is_tr = np.concatenate([np.ones(len(x_tr), bool), np.zeros(len(x_te), bool)])
    one = np.column_stack([np.ones(len(x)), x])
    beta0, ll_same = _logit_fit(one, np.zeros(len(x)), y)

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


def _clusters(
    ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    from scipy.stats import poisson

    issues, expected = _issues(oof, th)
    n_issues = int(issues.sum())
    info = {"label_issues": n_issues, "clusters": 0}
    df = ctx.frame(oof.split)[oof.positions]
    ref = _test_logits(ctx, oof)
    held = _test_outliers(ctx, oof, th) if oof.proba is None else None
    other = ref[0] if ref is not None else held[0] if held is not None else None
    cells = _cells(df, _usable(ctx, df), ctx, other=other)
    if not cells:
        return [], info
    binary = oof.proba is not None and oof.proba.shape[1] == 2
    if binary:
        q = np.clip(oof.proba[:, 1], 1e-6, 1 - 1e-6)
        logit = np.log(q / (1 - q))
        y1 = (oof.y == 1).astype(float)
    scale = n_issues / max(expected.sum(), 1e-12)
    tested = []
    for col, desc, mask, m_te in cells:
        obs = int(issues[mask].sum())
        lam = float(expected[mask].sum() * scale)
        p = float(poisson.sf(obs - 1, lam)) if obs else 1.0
        slope, p_slope = np.nan, 1.0
        if binary and mask.sum() >= int(th["cluster_min_rows"]) and 0 < y1[mask].sum() < mask.sum():
            slope, p_slope = _recalibration(logit[mask], y1[mask])
        tested.append((col, desc, mask, m_te, obs, lam, p, slope, p_slope))
    limit = float(th["alpha"]) / len(tested)
    hits = []
    for t in tested:
        col, desc, mask, m_te, obs, lam, p, slope, p_slope = t
        # Labels randomized in a region (flips at any rate below one half) flatten
        # the model's confidence there towards nothing: a recalibration slope near 0.
        # A reversed ranking (slope < 0) is a model that is wrong there, not noise.
        # A model that is merely weak in a region is as flat on the held-out labels
        # there (which nobody tampered with); flips live in train only, so the same
        # cell of the labelled held-out rows, under the same fold models, must be
        # steeper beyond chance (Bonferroni over every cell searched).
        randomized, held_slope, p_steeper = False, np.nan, 1.0
        if binary and np.isfinite(slope):
            against_n = int((mask & (np.abs(y1 - oof.proba[:, 1]) > 0.5)).sum())
            held_n: int | None = None
            if ref is not None:
                held_n = 0 if m_te is None else int(m_te.sum())
                flat = p_slope < limit and 0.0 <= slope <= th["cluster_slope"]
                y_te = ref[2][m_te] if m_te is not None else None
                if flat and y_te is not None and 0 < y_te.sum() < len(y_te):
                    held_slope, p_steeper = _steeper_held_out(
                        logit[mask], y1[mask], ref[1][m_te], y_te
                    )
            randomized, _why = judge_flipped_slice(
                slope, p_slope, against_n, held_n, held_slope, p_steeper, len(tested), th
            )
        # Labels set to one class in a region pile up as suspects far beyond the
        # model's uncertainty there; for a binary model they also reverse its ranking
        # there (otherwise the pile-up is the model's misfit, not the labels).
        piled = (
            n_issues >= int(th["cluster_min_issues"])
            and obs >= int(th["cluster_min_issues"])
            and obs >= th["cluster_ratio"] * lam
            and p < limit
            and (not binary or (np.isfinite(slope) and slope < 0))
        )
        # Regression: outlying residuals piled up in a cell are poisoning only when the
        # same cell of the held-out test data, under the model, is not as noisy (noise
        # that grows in one segment, wider wages or prices, is the world).
        if piled and held is not None and m_te is not None:
            te_rate = float(held[1].mean()) if held[1].size else 0.0
            tr_rate = n_issues / max(len(issues), 1)
            piled, _p_train_only = judge_train_only(
                obs,
                int(held[1][m_te].sum()),
                float(mask.sum()) * tr_rate,
                float(m_te.sum()) * te_rate,
                limit,
            )
        if randomized or piled:
            p_hit = min(p_slope if randomized else 1.0, p if piled else 1.0)
            hits.append((p_hit, randomized, (*t, held_slope, p_steeper)))
    hits.sort(key=lambda h: (h[0], h[2][0], h[2][1]))
    findings = []
    seen_cols: set[str] = set()
    for _p_hit, randomized, t in hits:
        col, desc, mask, m_te, obs, lam, p, slope, p_slope, held_slope, p_steeper = t
        if col in seen_cols:  # one finding per column: its most significant cell
            continue
        seen_cols.add(col)
        m = int(mask.sum())
        if randomized:
            against = mask & (np.abs(y1 - oof.proba[:, 1]) > 0.5)
            rows = oof.positions[against]
            msg = (
                f"Suspect labels cluster where '{col}' is {desc}: there the labels of the "
                f"{m} sampled {oof.split} rows follow the model's confidence at "
                f"{max(slope, 0):.2f} of its strength elsewhere (recalibration slope; 1 = as "
                f"elsewhere), as if many were flipped; {int(against.sum())} carry the label "
                "the model finds less likely."
            )
            if np.isfinite(held_slope):
                msg += (
                    f" The {int(m_te.sum())} held-out rows of the same cell follow it at "
                    f"{held_slope:.2f} (train labels as if flipped: p = {p_steeper:.2g}, over "
                    f"{len(tested)} cells searched): the flatness is in the training data only."
                )
            metrics = {
                "rows": m,
                "slope": slope,
                "p_value": p_slope,
                "held_out_slope": None if not np.isfinite(held_slope) else held_slope,
                "p_train_only": p_steeper,
                "cells_searched": len(tested),
            }
        else:
            rows = oof.positions[mask & issues]
            msg = (
                f"Suspect labels cluster where '{col}' is {desc}: {obs} of {m} sampled "
                f"{oof.split} rows there, where the model's uncertainty predicts about "
                f"{lam:.1f}."
            )
            metrics = {"suspect_rows": obs, "expected": lam, "p_value": p}
        findings.append(
            Finding(
                "warn",
                msg,
                column=col,
                rows=capped_rows(np.sort(rows)),
                split=oof.split,
                metrics=metrics,
            )
        )
    info["clusters"] = len(findings)
    return findings[:_MAX_FINDINGS_PER_SIGNAL], info


# -- 3. trigger values ------------------------------------------------------------
def _label_table(df: pl.DataFrame, keys: list[str], y: np.ndarray, n_classes: int) -> pl.DataFrame:
    """Rows per key value(s) and per class (columns ``c0``, ``c1``...)."""
    frame = df.select(keys).with_columns(pl.Series("__y__", y))
    return frame.group_by(keys).agg(
        pl.len().alias("n"),
        *[(pl.col("__y__") == k).sum().alias(f"c{k}") for k in range(n_classes)],
    )


def _trigger_labels(
    ctx: AuditContext, df: pl.DataFrame, th: Mapping[str, Any]
) -> tuple[np.ndarray, list[str], tuple[int, ...]] | None:
    """(label code per row, words for each code, codes a trigger may point to).

    Classification: the classes. Regression: the target's lowest and highest
    ``trigger_tail`` share (codes 0 and 2) against the middle (code 1), since a
    backdoor on a regression target pushes it to an extreme.
    """
    if ctx.task != "regression":
        y = class_codes(df.get_column(ctx.target).to_numpy(), ctx.classes)
        if (y < 0).any():
            return None
        words = [repr(c) for c in ctx.classes]
        return y, words, tuple(range(len(ctx.classes)))
    t = df.get_column(ctx.target).cast(pl.Float64, strict=False).to_numpy()
    finite = t[np.isfinite(t)]
    if finite.size < 20:
        return None
    tail = float(th["trigger_tail"])
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    if hi <= lo:
        return None
    y = np.where(t >= hi, 2, np.where(t <= lo, 0, 1))
    y[~np.isfinite(t)] = 1
    words = [
        f"in the lowest {pct(tail)} of '{ctx.target}' (<= {_fmt(float(lo))})",
        "in the middle",
        f"in the top {pct(tail)} of '{ctx.target}' (>= {_fmt(float(hi))})",
    ]
    return y.astype(np.int64), words, (0, 2)


def _trigger_candidates(
    df: pl.DataFrame,
    cols: list[str],
    y: np.ndarray,
    n_classes: int,
    allowed: tuple[int, ...],
    th: Mapping[str, Any],
) -> list[dict[str, Any]]:
    n = df.height
    max_rows = max(int(th["trigger_min_rows"]), int(th["trigger_max_share"] * n))
    base = np.bincount(y, minlength=n_classes) / n
    out = []
    singles: dict[str, set[str]] = {}
    coarse = []
    for c in cols:
        tab = _label_table(df.with_columns(pl.col(c).cast(pl.String)), [c], y, n_classes)
        if tab.height <= _PAIR_MAX_CARDINALITY:
            coarse.append(c)
        rare = tab.filter(pl.col("n").is_between(int(th["trigger_min_rows"]), max_rows))
        singles[c] = set(rare.get_column(c).drop_nulls().to_list())
        for row in rare.iter_rows(named=True):
            if row[c] is None:
                continue
            out.append(
                {"columns": (c,), "values": (row[c],), **_purity(row, n_classes, base, allowed)}
            )
    coarse = coarse[:_MAX_PAIR_COLUMNS]
    for i, a in enumerate(coarse):
        for b in coarse[i + 1 :]:
            sub = df.select(pl.col(a).cast(pl.String), pl.col(b).cast(pl.String))
            tab = _label_table(sub, [a, b], y, n_classes)
            rare = tab.filter(pl.col("n").is_between(int(th["trigger_min_rows"]), max_rows))
            for row in rare.iter_rows(named=True):
                if row[a] is None or row[b] is None:
                    continue
                if row[a] in singles[a] or row[b] in singles[b]:
                    continue  # a rare value on its own is tested on its own
                out.append(
                    {
                        "columns": (a, b),
                        "values": (row[a], row[b]),
                        **_purity(row, n_classes, base, allowed),
                    }
                )
    return out


def _purity(
    row: Mapping[str, Any], n_classes: int, base: np.ndarray, allowed: tuple[int, ...]
) -> dict[str, Any]:
    from scipy.stats import binom

    counts = np.array([row[f"c{k}"] for k in range(n_classes)])
    top = max(allowed, key=lambda k: (counts[k], -k))
    m = int(row["n"])
    k = int(counts[top])
    return {
        "rows": m,
        "label": top,
        "hits": k,
        "purity": k / m,
        "base_rate": float(base[top]),
        "p_value": float(binom.sf(k - 1, m, base[top])),
    }


def _describe_pattern(columns: tuple[str, ...], values: tuple[Any, ...]) -> str:
    from assay.security._pii_engine import for_display

    return " and ".join(f"'{c}' = '{for_display(v)}'" for c, v in zip(columns, values, strict=True))


def _mask_for(df: pl.DataFrame, columns: tuple[str, ...], values: tuple[Any, ...]) -> pl.Series:
    """Rows holding the pattern; numbers compare as numbers (``7`` matches ``7.0``)."""
    expr = pl.lit(True)
    for c, v in zip(columns, values, strict=True):
        if c not in df.columns:
            return pl.Series(np.zeros(df.height, dtype=bool))
        num = None
        if df.schema[c].is_numeric():
            try:
                num = float(v)
            except (TypeError, ValueError):
                num = None
        if num is not None:
            expr = expr & (pl.col(c).cast(pl.Float64) == num)
        else:
            expr = expr & (pl.col(c).cast(pl.String) == v)
    return df.select(expr.fill_null(False)).to_series()


class _OtherColumns:
    """Least-squares (linear probability) fits of a label on all columns but some.

    ``X'X`` and ``X'z`` are computed once; a pattern's rows are taken out by
    subtraction, so each pattern costs one small solve.
    """

    def __init__(self, X: np.ndarray, owners: list[str | None], y: np.ndarray, n_codes: int):
        self.X, self.owners = X, owners
        self.G = X.T @ X
        self.Z = np.eye(n_codes)[y]
        self.XZ = X.T @ self.Z

    def share(self, columns: tuple[str, ...], mask: np.ndarray, label: int) -> float:
        """Share of the pattern's rows that the OTHER columns predict to carry ``label``.

        Fitted on the rows outside the pattern, averaged (clipped to [0, 1]) over
        the rows inside it.
        """
        keep = np.array([o not in columns for o in self.owners])
        Xm = self.X[mask][:, keep]
        G = self.G[np.ix_(keep, keep)] - Xm.T @ Xm
        b = self.XZ[keep, label] - Xm.T @ self.Z[mask, label]
        n_out = len(mask) - int(mask.sum())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ridge = 1e-6 * max(n_out, 1) * np.eye(len(b))
            beta = np.linalg.lstsq(G + ridge, b, rcond=None)[0]
        return float(np.clip(Xm @ beta, 0.0, 1.0).mean())


def _held_out(ctx: AuditContext, split: str) -> list[pl.DataFrame]:
    """The other splits' tables (test, current), where a real pattern should recur."""
    return [ctx.frame(s) for s in ("test", "current") if s != split and ctx.has(s)]


def _test_confirms(
    ctx: AuditContext, c: Mapping[str, Any], test: pl.DataFrame, th: Mapping[str, Any]
) -> tuple[bool, str]:
    """Whether the labelled test rows with the pattern show the same tie, and in words."""
    from scipy.stats import binom

    omask = _mask_for(test, c["columns"], c["values"]).to_numpy()
    olab = _trigger_labels(ctx, test, th) if omask.any() else None
    if olab is None:
        return False, " The test data has no such labelled rows."
    oy = olab[0][omask]
    k = int((oy == c["label"]).sum())
    same = k / len(oy)
    p_test = float(binom.sf(k - 1, len(oy), c["base_rate"]))
    if same >= th["trigger_purity"] - 0.1 and p_test < 0.05:
        return True, (
            f" The test data shows the same tie ({pct(same)} of its {len(oy)} such rows), "
            "so it is more likely a genuine pattern."
        )
    return False, f" In the test data only {pct(same)} of its {len(oy)} such rows are."


def _triggers(
    ctx: AuditContext, split: str, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    from scipy.stats import binom, chi2

    info: dict[str, Any] = {"patterns_tested": 0, "triggers": 0}
    df, positions = _pattern_rows(ctx, split, th)
    info["rows_searched"] = df.height
    labels = _trigger_labels(ctx, df, th)
    if labels is None:
        return [], info
    y, words, allowed = labels
    cols = _usable(ctx, df)
    cands = _trigger_candidates(df, cols, y, len(words), allowed, th)
    info["patterns_tested"] = len(cands)
    if not cands:
        return [], info
    limit = float(th["alpha"]) / len(cands)
    pure = [c for c in cands if c["purity"] >= th["trigger_purity"] and c["p_value"] < 0.05]
    pure.sort(key=lambda c: (c["p_value"], c["columns"], c["values"]))
    pure = pure[:_MAX_TRIGGER_TESTS]
    others = _held_out(ctx, split)
    n_other = sum(o.height for o in others)
    model = _OtherColumns(*_design(df, cols, ctx)[:2], y, len(words)) if pure else None
    hits = []
    for c in pure:
        mask = _mask_for(df, c["columns"], c["values"]).to_numpy()
        c["mask"] = mask
        # (a) The label beyond what the rest of each row predicts: a rare value
        # marking rows the other columns already lean to that label (a top-coded
        # income among the well-paid) is a real pattern, not a switch.
        expected = model.share(c["columns"], mask, c["label"]) if model is not None else 0.0
        c["expected_share"] = expected
        p_beyond = float(binom.sf(c["hits"] - 1, c["rows"], min(max(expected, 1e-3), 1 - 1e-9)))
        # (b) A value of the population recurs in the held-out data at the training
        # rate; a planted one lives in the training data only (exact conditional
        # test of two rates: the held-out count given the total).
        p_absent, c["held_out_rows"] = 1.0, None
        if n_other:
            h = sum(int(_mask_for(o, c["columns"], c["values"]).sum()) for o in others)
            c["held_out_rows"] = h
            p_absent = float(binom.cdf(h, c["rows"] + h, n_other / (n_other + df.height)))
            stat = -2.0 * (np.log(max(p_beyond, 1e-300)) + np.log(max(p_absent, 1e-300)))
            c["p_combined"] = float(chi2.sf(stat, 4))  # Fisher's method
        else:
            c["p_combined"] = p_beyond
        c["p_beyond"], c["p_absent"] = p_beyond, p_absent
        if c["p_combined"] < limit:
            hits.append(c)
    hits.sort(key=lambda c: (c["p_combined"], c["columns"], c["values"]))
    info["pure_patterns"] = len(pure)
    test = ctx.frame("test") if split == "train" and ctx.has("test") else None
    findings = []
    for c in hits:
        if len(findings) >= _MAX_FINDINGS_PER_SIGNAL:
            break
        seen = tail = ""
        expected_h = c["rows"] * n_other / df.height
        if c["held_out_rows"] is not None:
            seen = (
                f" The held-out data ({n_other:,} rows) has {c['held_out_rows']} such rows "
                f"where its size predicts about {expected_h:.1f}."
            )
        genuine = False
        if test is not None and ctx.target in test.columns:
            genuine, tail = _test_confirms(ctx, c, test, th)
        # A trigger lives in the training data only: one whose held-out rows recur at
        # the training rate is not named (its own evidence says it is the world).
        status, _why = judge_trigger(
            c["p_combined"], limit, c["held_out_rows"], expected_h, c["p_absent"], genuine, th
        )
        if status is None:
            continue
        kind = "with the target" if ctx.task == "regression" else "labelled"
        shape = (
            "the shape of a backdoor trigger"
            if status != "pass"
            else "a real pattern, not a trigger"
        )
        msg = (
            f"Rare pattern {_describe_pattern(c['columns'], c['values'])} appears in "
            f"{c['rows']} {split} rows, {pct(c['purity'])} {kind} {words[c['label']]} (base "
            f"rate {pct(c['base_rate'])}), while their other columns predict about "
            f"{pct(c['expected_share'])}: {shape}.{seen}{tail}"
        )
        findings.append(
            Finding(
                status,
                msg,
                columns=tuple(c["columns"]) if len(c["columns"]) > 1 else None,
                column=c["columns"][0] if len(c["columns"]) == 1 else None,
                rows=capped_rows(positions[c["mask"]]),
                split=split,
                metrics={
                    "rows": c["rows"],
                    "purity": c["purity"],
                    "expected_share": c["expected_share"],
                    "held_out_rows": c["held_out_rows"],
                    "expected_held_out_rows": expected_h
                    if c["held_out_rows"] is not None
                    else None,
                    "p_value": c["p_combined"],
                    "p_absent_from_held_out": c["p_absent"],
                },
            )
        )
    info["triggers"] = sum(1 for f in findings if f.status != "pass")
    return findings, info


# -- 4. high-influence outliers ---------------------------------------------------
def _design(
    df: pl.DataFrame, cols: list[str], ctx: AuditContext, other: pl.DataFrame | None = None
) -> tuple[np.ndarray, list[str | None], np.ndarray | None]:
    """Intercept, standardized numbers and one-hot top-20 categories; the column of each;
    and ``other`` encoded the same way (``df``'s means, scales and categories)."""
    parts = [np.ones((df.height, 1))]
    o_parts = [np.ones((other.height, 1))] if other is not None else []
    owners: list[str | None] = [None]
    for c in cols:
        s = df.get_column(c)
        o = other.get_column(c) if other is not None and c in other.columns else None
        t = ctx.schema.types.get(c)
        if s.dtype.is_temporal():
            s = s.to_physical()
            o = o.to_physical() if o is not None and o.dtype.is_temporal() else o
        if (s.dtype.is_numeric() or s.dtype == pl.Boolean) and t != "categorical":
            x = s.cast(pl.Float64).to_numpy().astype(float, copy=True)
            x[~np.isfinite(x)] = np.nan
            mu, sd = np.nanmean(x), np.nanstd(x)
            if not np.isfinite(sd) or sd == 0:
                continue
            parts.append(np.nan_to_num((x - mu) / sd, nan=0.0).reshape(-1, 1))
            owners.append(c)
            if other is not None:
                xo = np.full(other.height, np.nan)
                if o is not None:
                    xo = o.cast(pl.Float64, strict=False).to_numpy().astype(float, copy=True)
                    xo[~np.isfinite(xo)] = np.nan
                o_parts.append(np.nan_to_num((xo - mu) / sd, nan=0.0).reshape(-1, 1))
        else:
            vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
            uniq, counts = np.unique(vals, return_counts=True)
            top = uniq[np.lexsort((uniq, -counts))][:20]
            vo = None
            if other is not None and o is not None:
                vo = o.cast(pl.String).fill_null("(missing)").to_numpy()
            for v in top[1:]:  # the most frequent level is the reference
                parts.append((vals == v).astype(float).reshape(-1, 1))
                owners.append(c)
                if other is not None:
                    hot = np.zeros(other.height) if vo is None else (vo == v).astype(float)
                    o_parts.append(hot.reshape(-1, 1))
    return np.hstack(parts), owners, np.hstack(o_parts) if other is not None else None


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


def _influence(
    ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    df = ctx.frame(oof.split)[oof.positions]
    held = _held_out_labels(ctx, oof)
    X, _, X_te = _design(df, _usable(ctx, df), ctx, other=held[0] if held else None)
    n, p = X.shape
    info: dict[str, Any] = {"influential_rows": 0, "max_cooks_distance": None}
    if n <= p + 10:
        return [], info
    if oof.proba is not None:
        Y = np.eye(len(oof.classes))[oof.y]
        Y_te = np.eye(len(oof.classes))[held[1]] if held else None
    else:
        y = oof.y.astype(float)
        mu, sd = y.mean(), (y.std() or 1.0)
        Y = ((y - mu) / sd).reshape(-1, 1)
        Y_te = ((held[1] - mu) / sd).reshape(-1, 1) if held else None
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
        return [], info
    cooks = (E**2).sum(axis=1) / (p * s2 * Y.shape[1]) * h / (1 - h) ** 2
    info["max_cooks_distance"] = float(cooks.max())
    # What the fit WITHOUT each row predicts for it (the leave-one-out residual
    # e / (1 - h)). An extreme row whose label that fit already predicts only
    # steers the model where the data already points; a poisoning row pulls it
    # towards a label the rest of the data does not give it.
    loo = Y - E / (1 - h)[:, None]
    classify = oof.proba is not None
    flagged = np.flatnonzero(_influential(Y, loo, cooks, h, p, n, th, classify=classify))
    # The held-out rows scored the same way, as if each were added to the fit: its
    # leverage there is h0 / (1 + h0) and its Cook's distance e0^2 h / (p s2), with
    # e0 its residual under the train fit (which is its leave-one-out residual).
    held_n, held_hits = None, None
    if X_te is not None and Y_te is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            h0 = np.einsum("ij,jk,ik->i", X_te, A_inv, X_te)
            E0 = Y_te - X_te @ B
        h_te = np.clip(h0 / (1 + h0), 0.0, 0.999)
        cooks_te = (E0**2).sum(axis=1) / (p * s2 * Y.shape[1]) * h_te
        loo_te = Y_te - E0
        held_n = len(Y_te)
        hits_te = _influential(
            Y_te, loo_te, cooks_te, h_te, p, n, th, classify=classify, ref=Y - loo
        )
        held_hits = int(hits_te.sum())
    info["influential_rows"] = len(flagged)
    if not len(flagged):
        return [], info
    status, p_train_only, reason = judge_influence(len(flagged), held_hits, n, held_n or 0, th)
    info["status"] = status
    flagged = flagged[np.lexsort((oof.positions[flagged], -cooks[flagged]))]
    rows = oof.positions[flagged]
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
        f"{lead}: {len(flagged)} {oof.split} row(s) lie far from the others and "
        "pull a linear fit of "
        f"the labels strongly (Cook's distance up to {cooks.max():.2f}); the strongest are rows "
        f"{', '.join(str(r) for r in rows[:5])}.{seen}{tail}"
    )
    finding = Finding(
        status,
        msg,
        rows=capped_rows(rows),
        split=oof.split,
        metrics={
            "rows": len(flagged),
            "max_cooks_distance": float(cooks.max()),
            "held_out_rows": held_hits,
            "held_out_rows_searched": held_n,
            "p_train_only": p_train_only,
        },
    )
    return [finding], info


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


_RECOMMENDATIONS = {
    "conflicts": "Inspect the conflicting duplicates: keep one label per identical row after "
    "checking the source, and find out how contradictory copies entered the data.",
    "triggers": "Trace where the rows with the named rare pattern came from (source, batch, "
    "time); if the pattern has no reason to decide the label, remove or relabel those rows "
    "and retrain.",
    "clusters": "Review the suspect labels in the named region first: a dense pocket of "
    "wrong labels is either a labelling fault or a targeted attack.",
    "influence": "Check the listed outliers against their source; a handful of extreme rows "
    "should not steer a model. Remove erroneous ones, or use a robust model.",
}


@register_check(
    "security.poisoning",
    area="security",
    title="Data poisoning signals",
    explanation=(
        "Looks for traces of tampering in the training data: identical rows with different "
        "labels, a region whose labels look randomized or set against the model, a rare "
        "value almost always paired with one label that the rest of the row does not "
        "explain and that the held-out data lacks (the shape of a backdoor trigger), and "
        "extreme rows that pull the model towards a label the other rows do not give them. "
        "These are signals, not proof: honest data can show them, and a "
        "careful attacker can avoid all of them. Each finding names the rows to inspect."
    ),
    standards=("MEASURE 2.7", "MAP 2.3"),
    severity="high",
    thresholds={
        "conflict_warn": 0.005,
        "conflict_fail": 0.05,
        "conflict_alpha": 0.01,
        "conflict_min_groups": 8,
        "trigger_absent_alpha": 0.01,
        "trigger_held_out_ratio": 0.25,
        "trigger_min_rows": 8,
        "trigger_max_share": 0.02,
        "trigger_purity": 0.95,
        "trigger_tail": 0.05,
        "cluster_min_issues": 8,
        "cluster_ratio": 2.0,
        "cluster_slope": 0.25,
        "cluster_test_slope": 0.5,
        "cluster_train_only_alpha": 0.01,
        "cluster_min_rows": 30,
        "alpha": 0.001,
        "cooks_warn": 0.5,
        "influence_min_rows": 8,
        "influence_alpha": 0.01,
        "z_max": 4.0,
        "max_rows": 5000,
        "folds": 5,
        "max_rows_patterns": 200_000,
    },
    needs=("labels",),
)
def poisoning(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Four poisoning signals; warn on any, fail when conflicting duplicates are common.

    Conflicting duplicates warn when more duplicate groups disagree than label
    noise explains (each group's labels drawn from its out-of-fold class
    probabilities; Poisson p below ``conflict_alpha``), at least
    ``conflict_min_groups`` groups disagree, and the excess holds at
    least ``conflict_warn`` of the rows, and fail when they also hold
    ``conflict_fail``; otherwise they are a data-quality note (pass). A trigger
    must be short in the held-out data beyond chance (``trigger_absent_alpha``)
    and to at most ``trigger_held_out_ratio`` of its expected count; one that
    recurs there is not named. Regression pile-ups of outlying residuals, and
    binary cells of flattened labels, warn only when the same cell of the
    labelled test data does not show the same (poisoning is train-only).
    A pattern (one rare value, or a rare pair of values
    of two coarse columns) held by ``trigger_min_rows`` to ``trigger_max_share``
    of the rows warns when at least ``trigger_purity`` of them carry one label
    (regression: a target in its lowest or highest ``trigger_tail``) and the
    Fisher combination of (a) a binomial test against the share the other
    columns predict for those rows and (b) the pattern's shortfall in the
    held-out data gives p below ``alpha`` / patterns tested; a test-data
    repeat of the tie makes it a listed pass. A category or decile of at
    least ``cluster_min_rows`` rows warns when its labels follow the model's
    confidence with a recalibration slope between 0 and ``cluster_slope``
    (likelihood-ratio p below ``alpha`` / cells tested) and, where the test split
    is labelled, the same cell there (under the same fold models) has at least
    ``cluster_min_rows`` // 2 rows, a slope above ``cluster_test_slope``, and the
    train labels look like that curve with a share flipped (likelihood ratio against
    one curve for both splits, p below ``cluster_train_only_alpha`` / cells tested):
    a region where the model is merely weak is as flat in held-out rows; or when it holds at
    least ``cluster_min_issues`` suspect labels, ``cluster_ratio`` times what
    the model's uncertainty predicts, with a Poisson p below ``alpha`` / cells
    tested (binary labels: only where that slope is negative). Rows with
    Cook's distance above ``cooks_warn``, leverage above twice the average and
    a label the leave-one-out fit does not predict (regression: a
    leave-one-out residual beyond ``z_max`` robust SDs) warn when there are at
    least ``influence_min_rows`` of them and, where the test split is labelled,
    more than its rows (scored the same way) give beyond chance (binomial p
    below ``influence_alpha``); otherwise they are a data-quality note (pass).
    Signals 2 and 4 use at most ``max_rows`` rows
    and the ``folds``-fold out-of-fold predictions shared with ``data.label_issues``;
    signals 1 and 3 search at most ``max_rows_patterns`` rows (identical rows are
    kept together).
    """
    split = split_for(ctx)
    findings: list[tuple[str, Finding]] = []
    oof = out_of_fold(ctx, max_rows=int(th["max_rows"]), n_folds=int(th["folds"]))
    conflict_f, conflict_info = _conflicts(ctx, split, th, oof if oof.split == split else None)
    findings += [("conflicts", f) for f in conflict_f]
    trigger_f, trigger_info = _triggers(ctx, split, th)
    findings += [("triggers", f) for f in trigger_f]

    model_note = None
    cluster_info: dict[str, Any] = {"label_issues": None, "clusters": 0}
    influence_info: dict[str, Any] = {"influential_rows": 0, "max_cooks_distance": None}
    cleanlab_ok = True
    if ctx.task != "regression":
        try:
            import cleanlab  # noqa: F401
        except ImportError:
            cleanlab_ok = False
    model_note = oof.describe()
    if cleanlab_ok and len(oof.classes) != 1:
        cluster_f, cluster_info = _clusters(ctx, oof, th)
        findings += [("clusters", f) for f in cluster_f]
    influence_f, influence_info = _influence(ctx, oof, th)
    findings += [("influence", f) for f in influence_f]

    ordered = sort_findings([f for _, f in findings])
    status = overall_status(ordered)
    problems = [(k, f) for k, f in findings if f.status != "pass"]
    problems.sort(key=lambda kf: kf[1].status != "fail")
    if problems:
        summary = problems[0][1].message
        if len(problems) > 1:
            n = len(problems) - 1
            summary = summary.rstrip(".") + f"; {n} more signal{'s' if n > 1 else ''} found."
        kinds = list(dict.fromkeys(k for k, _ in problems))
        recommendation = " ".join(_RECOMMENDATIONS[k] for k in kinds)
    else:
        summary = (
            f"No poisoning signal was found in the {split} data: no conflicting duplicates, "
            "rare trigger-like patterns, clusters of suspect labels or high-influence outliers."
        )
        notes = [f for f in ordered if f.message.startswith("Data quality note")]
        if notes:
            summary = (
                f"No poisoning signal was found in the {split} data; {len(notes)} data-quality "
                f"note{'s' if len(notes) > 1 else ''} name{'' if len(notes) > 1 else 's'} "
                "rows worth a look (conflicting duplicates or extreme rows at the rate honest "
                "data gives)."
            )
        recommendation = (
            "Nothing to fix. These checks cannot rule out subtle attacks; keep the data's "
            "provenance (fingerprints in report.json) and restrict who can write to it."
        )
    metrics = {
        "conflicting_rows": conflict_info["conflicting_rows"],
        "conflicting_share": conflict_info["conflicting_share"],
        "trigger_patterns": trigger_info["triggers"],
        "label_issue_clusters": cluster_info["clusters"],
        "influential_rows": influence_info["influential_rows"],
        "max_cooks_distance": influence_info["max_cooks_distance"],
    }
    details = {
        "split": split,
        "patterns_tested": trigger_info["patterns_tested"],
        "pure_patterns_checked": trigger_info.get("pure_patterns", 0),
        "rows_searched_for_patterns": min(ctx.frame(split).height, int(th["max_rows_patterns"])),
        "out_of_fold": model_note,
        "label_issue_signal": (
            "skipped: needs the optional package cleanlab: pip install 'assay[labels]'"
            if not cleanlab_ok
            else "cleanlab on out-of-fold predictions"
            if ctx.task != "regression"
            else "outlying out-of-fold residuals"
        ),
        "influence_model": "least squares on standardized numbers and one-hot categories "
        "(a linear surrogate, not your model)",
        "limits": "Signals, not proof: honest data can show them, and clean-label attacks "
        "may show none.",
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=ordered,
        recommendation=recommendation,
        details=details,
    )
