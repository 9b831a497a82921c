"""Signal 2 of ``security.poisoning``: clusters of label issues, a category or decile
of a feature whose labels the model's out-of-fold confidence no longer explains.

Binary labels: an in-cell logistic recalibration of the out-of-fold logits whose
slope is flat (labels flipped at random), flat in the training data only (the same
cell of the labelled held-out rows follows the logits). Every task: a pile-up of
cleanlab suspects (regression: outlying residuals) beyond the model's uncertainty,
for binary labels only where the model's ranking is reversed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.result import Finding
from assay.data._common import capped_rows
from assay.data._crossval import OutOfFold
from assay.security._poisoning.common import MAX_FINDINGS_PER_SIGNAL, fmt, usable
from assay.security._poisoning.recalibration import recalibration, steeper_held_out
from assay.security._poisoning_judge import judge_flipped_slice, judge_pile_up, judge_train_only

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_MAX_CATEGORIES = 50  # values of one feature examined as cluster cells


@dataclass(frozen=True)
class Slices:
    """The signal's findings (at most ten) and how many columns hold a cluster."""

    findings: list[Finding] = field(default_factory=list)
    clusters: int = 0


@dataclass
class _Cell:
    column: str
    desc: str  # the cell in words ("'blue'", "1.2 to 3.4")
    mask: np.ndarray  # its rows in the out-of-fold sample
    mask_test: np.ndarray | None  # the same cell in the held-out rows
    suspects: int  # suspect labels in the cell
    expected: float  # suspects the model's uncertainty predicts there
    p_pile: float  # Poisson tail of ``suspects``
    slope: float = np.nan  # in-cell recalibration slope (binary labels)
    p_slope: float = 1.0  # likelihood-ratio p of slope 1
    held_slope: float = np.nan  # the held-out cell's slope, when measured
    p_steeper: float = 1.0  # p that train labels are the held-out curve flipped


@dataclass(frozen=True)
class _Labels:
    """The out-of-fold sample's labels as the cells are judged against them."""

    oof: OutOfFold
    issues: np.ndarray  # suspect label per row
    n_issues: int
    binary: bool
    logit: np.ndarray | None  # out-of-fold logit of the second class (binary)
    y1: np.ndarray | None  # labels as 0/1 (binary)
    ref: tuple[pl.DataFrame, np.ndarray, np.ndarray] | None  # held-out logits, labels
    held: tuple[pl.DataFrame, np.ndarray] | None  # held-out outlying residuals (regression)

    def binary_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(logit, y1, proba)`` of a binary task, which label_clusters sets together."""
        logit, y1, proba = self.logit, self.y1, self.oof.proba
        assert logit is not None and y1 is not None and proba is not None
        return logit, y1, proba


def label_clusters(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> Slices:
    """Cells whose labels look flipped or piled up: measured, judged, described."""
    issues, expected = _issues(oof, th)
    df = ctx.frame(oof.split)[oof.positions]
    ref = _test_logits(ctx, oof)
    held = _test_outliers(ctx, oof, th) if oof.proba is None else None
    other = ref[0] if ref is not None else held[0] if held is not None else None
    cells = _cells(df, usable(ctx, df), ctx, other=other)
    if not cells:
        return Slices()
    binary = oof.proba is not None and oof.proba.shape[1] == 2
    logit = y1 = None
    if binary and oof.proba is not None:  # binary implies probabilities
        q = np.clip(oof.proba[:, 1], 1e-6, 1 - 1e-6)
        logit = np.log(q / (1 - q))
        y1 = (oof.y == 1).astype(float)
    lab = _Labels(oof, issues, int(issues.sum()), binary, logit, y1, ref, held)
    tested = _measure_cells(cells, lab, expected, th)
    limit = float(th["alpha"]) / len(tested)
    hits = []
    for cell in tested:
        randomized = _flipped(cell, lab, limit, len(tested), th)
        piled = _piled_up(cell, lab, limit, th)
        if randomized or piled:
            p_hit = min(cell.p_slope if randomized else 1.0, cell.p_pile if piled else 1.0)
            hits.append((p_hit, randomized, cell))
    hits.sort(key=lambda h: (h[0], h[2].column, h[2].desc))
    findings = []
    seen_cols: set[str] = set()
    for _p_hit, randomized, cell in hits:
        if cell.column in seen_cols:  # one finding per column: its most significant cell
            continue
        seen_cols.add(cell.column)
        findings.append(_describe(cell, randomized, lab, len(tested)))
    return Slices(findings[:MAX_FINDINGS_PER_SIGNAL], len(findings))


def _measure_cells(
    cells: list[tuple[str, str, np.ndarray, np.ndarray | None]],
    lab: _Labels,
    expected: np.ndarray,
    th: Mapping[str, Any],
) -> list[_Cell]:
    """Each cell's suspects against the model's uncertainty, and its recalibration slope."""
    from scipy.stats import poisson

    scale = lab.n_issues / max(expected.sum(), 1e-12)
    tested = []
    for col, desc, mask, m_te in cells:
        obs = int(lab.issues[mask].sum())
        lam = float(expected[mask].sum() * scale)
        p = float(poisson.sf(obs - 1, lam)) if obs else 1.0
        cell = _Cell(col, desc, mask, m_te, obs, lam, p)
        if lab.binary and mask.sum() >= int(th["cluster_min_rows"]):
            logit, y1_all, _ = lab.binary_arrays()
            y1 = y1_all[mask]
            if 0 < y1.sum() < mask.sum():
                cell.slope, cell.p_slope = recalibration(logit[mask], y1)
        tested.append(cell)
    return tested


def _flipped(cell: _Cell, lab: _Labels, limit: float, n_cells: int, th: Mapping[str, Any]) -> bool:
    """Whether the cell's labels look randomized in the training data only.

    Labels randomized in a region (flips at any rate below one half) flatten the
    model's confidence there towards nothing: a recalibration slope near 0. A
    reversed ranking (slope < 0) is a model that is wrong there, not noise. A model
    that is merely weak in a region is as flat on the held-out labels there (which
    nobody tampered with); flips live in train only, so the same cell of the labelled
    held-out rows, under the same fold models, must be steeper beyond chance
    (Bonferroni over every cell searched). Sets the cell's held-out slope.
    """
    if not lab.binary or not np.isfinite(cell.slope):
        return False
    mask, m_te = cell.mask, cell.mask_test
    logit, y1, proba = lab.binary_arrays()
    against_n = int((mask & (np.abs(y1 - proba[:, 1]) > 0.5)).sum())
    held_n: int | None = None
    if lab.ref is not None:
        held_n = 0 if m_te is None else int(m_te.sum())
        flat = cell.p_slope < limit and 0.0 <= cell.slope <= th["cluster_slope"]
        y_te = lab.ref[2][m_te] if m_te is not None else None
        if flat and m_te is not None and y_te is not None and 0 < y_te.sum() < len(y_te):
            cell.held_slope, cell.p_steeper = steeper_held_out(
                logit[mask], y1[mask], lab.ref[1][m_te], y_te
            )
    randomized, _why = judge_flipped_slice(
        cell.slope, cell.p_slope, against_n, held_n, cell.held_slope, cell.p_steeper, n_cells, th
    )
    return randomized


def _piled_up(cell: _Cell, lab: _Labels, limit: float, th: Mapping[str, Any]) -> bool:
    """Whether suspects pile up in the cell, in the training data only.

    Labels set to one class in a region pile up as suspects far beyond the model's
    uncertainty there; for a binary model they also reverse its ranking there
    (otherwise the pile-up is the model's misfit, not the labels). Regression:
    outlying residuals piled up in a cell are poisoning only when the same cell of
    the held-out test data, under the model, is not as noisy (noise that grows in one
    segment, wider wages or prices, is the world).
    """
    piled = judge_pile_up(
        lab.n_issues, cell.suspects, cell.expected, cell.p_pile, limit, lab.binary, cell.slope, th
    )
    if piled and lab.held is not None and cell.mask_test is not None:
        flags = lab.held[1]
        te_rate = float(flags.mean()) if flags.size else 0.0
        tr_rate = lab.n_issues / max(len(lab.issues), 1)
        piled, _p_train_only = judge_train_only(
            cell.suspects,
            int(flags[cell.mask_test].sum()),
            float(cell.mask.sum()) * tr_rate,
            float(cell.mask_test.sum()) * te_rate,
            limit,
        )
    return piled


def _describe(cell: _Cell, randomized: bool, lab: _Labels, n_cells: int) -> Finding:
    oof, col, desc, mask = lab.oof, cell.column, cell.desc, cell.mask
    m = int(mask.sum())
    if randomized:  # only a binary task's cells are randomized
        _, y1, proba = lab.binary_arrays()
        against = mask & (np.abs(y1 - proba[:, 1]) > 0.5)
        rows = oof.positions[against]
        msg = (
            f"Suspect labels cluster where '{col}' is {desc}: there the labels of the "
            f"{m} sampled {oof.split} rows follow the model's confidence at "
            f"{max(cell.slope, 0):.2f} of its strength elsewhere (recalibration slope; 1 = as "
            f"elsewhere), as if many were flipped; {int(against.sum())} carry the label "
            "the model finds less likely."
        )
        if np.isfinite(cell.held_slope) and cell.mask_test is not None:  # set together
            msg += (
                f" The {int(cell.mask_test.sum())} held-out rows of the same cell follow it at "
                f"{cell.held_slope:.2f} (train labels as if flipped: p = {cell.p_steeper:.2g}, "
                f"over {n_cells} cells searched): the flatness is in the training data only."
            )
        metrics = {
            "rows": m,
            "slope": cell.slope,
            "p_value": cell.p_slope,
            "held_out_slope": None if not np.isfinite(cell.held_slope) else cell.held_slope,
            "p_train_only": cell.p_steeper,
            "cells_searched": n_cells,
        }
    else:
        rows = oof.positions[mask & lab.issues]
        msg = (
            f"Suspect labels cluster where '{col}' is {desc}: {cell.suspects} of {m} sampled "
            f"{oof.split} rows there, where the model's uncertainty predicts about "
            f"{cell.expected:.1f}."
        )
        metrics = {"suspect_rows": cell.suspects, "expected": cell.expected, "p_value": cell.p_pile}
    rows = capped_rows(np.sort(rows))
    return Finding("warn", msg, column=col, rows=rows, split=oof.split, metrics=metrics)


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
    out: list[tuple[str, str, np.ndarray, np.ndarray | None]] = []
    for c in cols:
        s = df.get_column(c)
        o = other.get_column(c) if other is not None and c in other.columns else None
        if ctx.schema.types.get(c) == "numeric" and (s.dtype.is_numeric()):
            out += _decile_cells(c, s, o)
        else:
            out += _category_cells(c, s, o)
    return out


def _decile_cells(
    c: str, s: pl.Series, o: pl.Series | None
) -> list[tuple[str, str, np.ndarray, np.ndarray | None]]:
    """The deciles of a numeric column (none when it has under 20 finite values or
    fewer than two distinct deciles), and the same ranges of ``o``."""
    x = s.cast(pl.Float64).to_numpy()
    finite = x[np.isfinite(x)]
    if finite.size < 20:
        return []
    edges = np.unique(np.quantile(finite, np.linspace(0, 1, 11)))
    if len(edges) < 3:
        return []
    b = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    xo = bo = None
    if o is not None and o.dtype.is_numeric():
        xo = o.cast(pl.Float64).to_numpy()
        bo = np.clip(np.searchsorted(edges, xo, side="right") - 1, 0, len(edges) - 2)
    out: list[tuple[str, str, np.ndarray, np.ndarray | None]] = []
    for k in range(len(edges) - 1):
        mask = (b == k) & np.isfinite(x)
        m_o = None if xo is None else (bo == k) & np.isfinite(xo)
        out.append((c, f"{fmt(edges[k])} to {fmt(edges[k + 1])}", mask, m_o))
    return out


def _category_cells(
    c: str, s: pl.Series, o: pl.Series | None
) -> list[tuple[str, str, np.ndarray, np.ndarray | None]]:
    """The most frequent values of a column (missing values as one), and those of ``o``."""
    from assay.security._pii_engine import for_display

    vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
    vo = None if o is None else o.cast(pl.String).fill_null("(missing)").to_numpy()
    uniq, counts = np.unique(vals, return_counts=True)
    top = uniq[np.lexsort((uniq, -counts))][:_MAX_CATEGORIES]
    return [(c, f"'{for_display(v)}'", vals == v, None if vo is None else vo == v) for v in top]


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
