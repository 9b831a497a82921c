"""``data.label_issues``: rows whose label is probably wrong.

Classification uses cleanlab's confident learning (``cleanlab.filter.find_label_issues``)
on out-of-fold class probabilities: every row is predicted by a model that
never saw it (cross-validated clones of the user's model when it can be
refitted, a default gradient-boosting model otherwise; see
:mod:`assay.data._crossval`). A row is flagged when its given label is
unlikely under those probabilities, after cleanlab has estimated how often
each class is confused with each other one.

Confident learning also flags rows whose labels are merely hard to predict:
where the features do not settle the label, some "suspects" are honest hard
cases, often 5–20% of the rows of real tabular data. So when the test split is
labelled, the train share is judged against the test split's share under the
same fold models (rows they never saw either, each predicted by the model of
its fold, so both sides come from models fitted on as many rows): train labels that
disagree with the model significantly more often than the test labels do are
noisier. The same comparison, per category and numeric decile, names the slice
where suspect labels concentrate. Without that comparison the share alone is
judged against plain thresholds. Random label noise that is in both splits
cannot be told apart from honest hard cases by any of this; the explanation
says so.

Regression flags rows whose out-of-fold residual is an outlier: beyond
``z_max`` robust standard deviations (1.4826 × the median absolute deviation)
of the fold models' own residuals, so the line scales with how well the
target can be predicted at all. Heavy-tailed targets leave many such rows in
any split, so, as for classification, the test rows are scored by the same
fold models against the same line and train is judged against them.

The verdict is :func:`judge_suspects` (numbers in, status out): train's
suspect share against test's under the null "same rate" (one-sided
two-proportion z at least ``z_warn``, its p value in the metrics) and an
excess of at least ``excess_min``; the sentence says which way the
comparison went (more, about as many, fewer), with both shares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.data._common import capped_rows, pct
from assay.data._crossval import (
    OutOfFold,
    model_features,
    out_of_fold,
)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_MAX_TABLE = 50  # suspect rows listed in details
_MAX_CELL_VALUES = 30  # categories per column examined as cells (numeric: deciles beyond)
_MAX_CONCENTRATIONS = 3  # columns named where suspect labels concentrate


def _status(share: float, th: Mapping[str, Any]) -> Status:
    if share >= th["share_fail"]:
        return "fail"
    return "warn" if share >= th["share_warn"] else "pass"


def _cleanlab_issues(y: np.ndarray, proba: np.ndarray) -> np.ndarray:
    from cleanlab.filter import find_label_issues

    return np.asarray(find_label_issues(y, proba, n_jobs=1), dtype=bool)


def _label(v: Any) -> Any:
    return v if isinstance(v, (int, float, str)) else str(v)


def judge_suspects(
    k_train: int,
    n_train: int,
    k_test: int,
    n_test: int,
    *,
    z_warn: float,
    excess_min: float,
    share_fail: float,
) -> tuple[Status, str, float, float]:
    """``(status, direction, z, p)`` of train's suspect share against test's.

    ``direction`` is ``"more"`` when train's share exceeds test's with a one-sided
    two-proportion ``z >= z_warn`` and by at least ``excess_min``; ``"fewer"`` when
    test's exceeds train's with ``z <= -z_warn``; else ``"about as many"``.
    ``status`` is ``warn`` for ``"more"`` (``fail`` from ``share_fail``), else
    ``pass``; ``p`` is the one-sided p value of "train's rate is higher".

    >>> judge_suspects(224, 2000, 107, 1000, z_warn=2.33, excess_min=0.02, share_fail=0.3)[:2]
    ('pass', 'about as many')
    >>> judge_suspects(21, 5000, 231, 1500, z_warn=2.33, excess_min=0.02, share_fail=0.3)[:2]
    ('pass', 'fewer')
    """
    from scipy.stats import norm

    z = _z_two(float(k_train), n_train, float(k_test), n_test)
    p = float(norm.sf(z))
    share = k_train / n_train if n_train else 0.0
    excess = share - (k_test / n_test if n_test else 0.0)
    if z >= z_warn and excess >= excess_min:
        return ("fail" if share >= share_fail else "warn"), "more", z, p
    if z <= -z_warn:
        return "pass", "fewer", z, p
    return "pass", "about as many", z, p


def _z_two(k1: float, n1: int, k2: float, n2: int) -> float:
    """One-sided two-proportion z statistic (share 1 above share 2)."""
    if n1 == 0 or n2 == 0:
        return 0.0
    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return float((k1 / n1 - k2 / n2) / se) if se > 0 else 0.0


@dataclass(frozen=True)
class _Reference:
    """The test split seen through the same fold models: the honest comparison for train.

    Test rows are predicted by models that never saw them and were fitted on as
    many rows as those behind the out-of-fold train scores; if the train labels
    are no noisier than the test labels, both disagree with the models about as
    often.
    """

    frame: pl.DataFrame
    y: np.ndarray  # codes into the out-of-fold classes
    proba: np.ndarray  # columns in the out-of-fold classes' order
    issues: np.ndarray


def _reference(ctx: AuditContext, oof: OutOfFold) -> _Reference | None:
    """Suspects among the labelled test rows, each predicted by the fold model of its
    fold: models fitted on as many rows as those behind the train rows' scores."""
    y, p = oof.ref_y, oof.ref_proba
    if y is None or p is None or oof.ref_positions is None:
        return None
    if len(y) < 30 or len(np.unique(y)) < 2:
        return None
    return _Reference(ctx.frame("test")[oof.ref_positions], y, p, _cleanlab_issues(y, p))


def _cells(
    ctx: AuditContext, train: pl.DataFrame, test: pl.DataFrame
) -> list[tuple[str, str, np.ndarray, np.ndarray]]:
    """(column, readable cell, train mask, test mask) for each category and numeric decile."""
    out = []
    for col in model_features(ctx, train):
        kind = ctx.schema.types.get(col)
        if col not in test.columns or kind in ("identifier", "text", "datetime"):
            continue
        a, b = train.get_column(col), test.get_column(col)
        if kind == "numeric" and a.dtype.is_numeric() and a.n_unique() > _MAX_CELL_VALUES:
            va = a.cast(pl.Float64).to_numpy()
            vb = b.cast(pl.Float64).to_numpy()
            edges = np.unique(np.nanquantile(va, np.linspace(0.1, 0.9, 9)))
            ba, bb = np.searchsorted(edges, va, "right"), np.searchsorted(edges, vb, "right")
            for k in range(len(edges) + 1):
                lo = f"{edges[k - 1]:.4g} <= " if k > 0 else ""
                hi = f" < {edges[k]:.4g}" if k < len(edges) else ""
                out.append((col, f"{lo}{col}{hi}", ba == k, bb == k))
            continue
        sa = a.cast(pl.String).fill_null("(missing)").to_numpy()
        sb = b.cast(pl.String).fill_null("(missing)").to_numpy()
        values, counts = np.unique(sa, return_counts=True)
        for v in values[np.argsort(-counts, kind="stable")][:_MAX_CELL_VALUES]:
            out.append((col, f"{col} = {v}", sa == v, sb == v))
    return out


def _concentrations(
    ctx: AuditContext, oof: OutOfFold, ref: _Reference, th: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """Cells where the train labels fit the models far worse than the test labels do.

    Per cell (a category, or a decile of a numeric feature, holding at least
    ``cell_min_share`` of the rows): the mean out-of-fold ``1 − p(given label)``
    of the train labels minus the test labels' under the same fold models in
    that cell (a bounded score: log loss has a tail that makes the test too
    liberal), less that difference over the other rows (so labels noisier
    everywhere do not make every cell stand out); a one-sided z-test,
    Bonferroni-corrected over every cell at ``alpha``, with an effect-size floor
    ``cell_gap_min``. Flips concentrated in one slice show up here even when the
    models have partly learnt to expect them there.
    """
    from scipy.stats import norm

    assert oof.proba is not None  # out-of-fold results of a classification carry probabilities
    train = ctx.frame("train")[oof.positions]
    n = len(oof.y)
    loss_tr = 1.0 - oof.proba[np.arange(n), oof.y]
    loss_te = 1.0 - ref.proba[np.arange(len(ref.y)), ref.y]
    err_tr = np.argmax(oof.proba, axis=1) != oof.y
    err_te = np.argmax(ref.proba, axis=1) != ref.y
    min_rows = max(30, int(float(th["cell_min_share"]) * n))
    cells = [
        c
        for c in _cells(ctx, train, ref.frame)
        if c[2].sum() >= min_rows and c[3].sum() >= max(15, min_rows * len(ref.y) // (2 * n))
    ]
    if not cells:
        return []
    z_crit = float(norm.isf(float(th["alpha"]) / len(cells)))
    hits: list[dict[str, Any]] = []
    for col, desc, m_tr, m_te in cells:
        a, b = loss_tr[m_tr], loss_te[m_te]
        ra, rb = loss_tr[~m_tr], loss_te[~m_te]
        if len(ra) < 2 or len(rb) < 2:
            continue
        gap = float(a.mean() - b.mean()) - float(ra.mean() - rb.mean())
        se = float(np.sqrt(sum(v.var(ddof=1) / len(v) for v in (a, b, ra, rb))))
        z = gap / se if se > 0 else 0.0
        if z >= z_crit and gap >= float(th["cell_gap_min"]):
            hits.append(
                {
                    "column": col,
                    "cell": desc,
                    "gap": gap,
                    "train_error": float(err_tr[m_tr].mean()),
                    "test_error": float(err_te[m_te].mean()),
                    "train_rows": len(a),
                    "test_rows": len(b),
                    "z": z,
                    "z_critical": z_crit,
                    "q": min(1.0, len(cells) * float(norm.sf(z))),
                    "mask": m_tr,
                }
            )
    hits.sort(key=lambda h: -h["z"])
    best: dict[str, dict[str, Any]] = {}
    for h in hits:  # the strongest cell of each column
        best.setdefault(h["column"], h)
    return list(best.values())[:_MAX_CONCENTRATIONS]


def _compare(
    issues: np.ndarray, ref_issues: np.ndarray, th: Mapping[str, Any]
) -> tuple[Status, dict[str, Any]]:
    status, direction, z, p = judge_suspects(
        int(issues.sum()),
        len(issues),
        int(ref_issues.sum()),
        len(ref_issues),
        z_warn=float(th["z_warn"]),
        excess_min=float(th["excess_min"]),
        share_fail=float(th["share_fail"]),
    )
    return status, {
        "test_share": float(ref_issues.mean()),
        "test_issues": int(ref_issues.sum()),
        "z": z,
        "p": p,
        "test_rows": len(ref_issues),
        "direction": direction,
        "noisier": direction == "more",
    }


def _classification(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> dict[str, Any]:
    from cleanlab.rank import get_label_quality_scores

    y, proba = oof.y, oof.proba
    assert proba is not None  # out-of-fold results of a classification carry probabilities
    if len(oof.classes) < 2:
        raise SkipCheck(f"the {oof.split} data holds a single class")
    issues = _cleanlab_issues(y, proba)
    quality = np.asarray(get_label_quality_scores(y, proba), dtype=float)
    suggested = np.argmax(proba, axis=1)
    share = float(issues.mean())
    ref = _reference(ctx, oof)
    compared: dict[str, Any] = {}
    if ref is not None:
        status, compared = _compare(issues, ref.issues, th)
    else:
        status = _status(share, th)

    flagged = np.flatnonzero(issues)
    flagged = flagged[np.lexsort((oof.positions[flagged], quality[flagged]))]  # worst first
    classes = [_label(c) for c in oof.classes]
    table = [
        {
            "row": int(oof.positions[i]),
            "given": classes[y[i]],
            "suggested": classes[suggested[i]],
            "label_quality": float(quality[i]),
        }
        for i in flagged[:_MAX_TABLE]
    ]
    f_status: Status = "pass" if status == "pass" else status
    findings = _pair_findings(oof, flagged, suggested, quality, classes, f_status)
    concentrations = _concentrations(ctx, oof, ref, th) if ref is not None else []
    for h in concentrations:
        findings.insert(0, _concentration_finding(h, issues, quality, oof))
    if concentrations and status == "pass":
        status = "warn"
    chart = _class_chart(oof, classes, issues, ref, status)
    return {
        "status": status,
        "share": share,
        "n_issues": int(issues.sum()),
        "findings": findings,
        "table": table,
        "worst_rows": [int(oof.positions[i]) for i in flagged[:3]],
        "chart": chart,
        "method": "cleanlab.filter.find_label_issues (confident learning, prune_by_noise_rate)",
        "compared": compared,
        "concentrations": [{k: v for k, v in h.items() if k != "mask"} for h in concentrations],
    }


def _pair_findings(
    oof: OutOfFold,
    flagged: np.ndarray,
    suggested: np.ndarray,
    quality: np.ndarray,
    classes: list[str],
    f_status: Status,
) -> list[Finding]:
    """One finding per (given label, suggested label) pair of the flagged rows, the
    largest first."""
    y = oof.y
    findings = []
    pairs: dict[tuple[int, int], list[int]] = {}
    for i in flagged:
        pairs.setdefault((int(y[i]), int(suggested[i])), []).append(int(i))
    for (g, s), idx in sorted(pairs.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        idx_arr = np.asarray(idx)
        what = (
            f"look like '{classes[s]}'"
            if g != s
            else "have a doubtful label although the model agrees"
        )
        msg = (
            f"{len(idx):,} {oof.split} row(s) labelled '{classes[g]}' {what} "
            f"(median label quality {np.median(quality[idx_arr]):.2f})."
        )
        findings.append(
            Finding(
                f_status,
                msg,
                rows=capped_rows(oof.positions[idx_arr]),
                split=oof.split,
                group=f"{classes[g]} -> {classes[s]}",
                metrics={
                    "rows": len(idx),
                    "median_label_quality": float(np.median(quality[idx_arr])),
                },
            )
        )
    return findings


def _concentration_finding(
    h: Mapping[str, Any], issues: np.ndarray, quality: np.ndarray, oof: OutOfFold
) -> Finding:
    """A cell where the training labels disagree with the fold models beyond the test
    labels there (see :func:`_concentrations`), its suspect rows worst first."""
    in_cell = np.flatnonzero(h["mask"] & issues)
    in_cell = in_cell[np.argsort(quality[in_cell], kind="stable")]
    return Finding(
        "warn",
        f"Suspect labels concentrate where {h['cell']}: the training labels there "
        f"disagree with a model that never saw them on {pct(h['train_error'])} of "
        f"{h['train_rows']:,} rows, the test labels on {pct(h['test_error'])} of "
        f"{h['test_rows']:,}; their mean 1 − p(given label) exceeds the test labels' "
        f"by {h['gap']:.2f} more than elsewhere (z = {h['z']:.1f}, Bonferroni "
        f"line {h['z_critical']:.1f}).",
        column=h["column"],
        rows=capped_rows(oof.positions[in_cell]),
        split=oof.split,
        group=h["cell"],
        metrics={
            "train_error": h["train_error"],
            "test_error": h["test_error"],
            "train_rows": h["train_rows"],
            "test_rows": h["test_rows"],
            "gap": h["gap"],
            "z": h["z"],
        },
    )


def _class_chart(
    oof: OutOfFold,
    classes: list[str],
    issues: np.ndarray,
    ref: Any,
    status: Status,
) -> dict[str, Any]:
    """Share of rows flagged by given label (train beside test when compared)."""
    y = oof.y
    per_class = []
    side = f"{oof.split}, " if ref is not None else ""
    for k, c in enumerate(classes):
        in_class = y == k
        rate = float(issues[in_class].mean()) if in_class.any() else 0.0
        per_class.append(Bar(f"{side}labelled {c}", rate, status))
        if ref is not None and (ref.y == k).any():
            ref_rate = float(ref.issues[ref.y == k].mean())
            per_class.append(Bar(f"test, labelled {c}", ref_rate, "pass"))
    return BarChart(
        title="Share of rows flagged, by given label"
        + (" (train against test, same models)" if ref is not None else ""),
        x_label="share of rows with a suspect label",
        unit="share",
        items=per_class,
    ).to_dict()


def _regression(ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]) -> dict[str, Any]:
    assert oof.pred is not None  # out-of-fold results of a regression carry predictions
    resid = oof.y - oof.pred
    med = float(np.median(resid))
    mad = float(np.median(np.abs(resid - med))) * 1.4826
    if mad == 0:
        mad = float(np.std(resid)) or 1.0
    z = (resid - med) / mad
    z_max = float(th["z_max"])
    issues = np.abs(z) > z_max
    share = float(issues.mean())
    compared: dict[str, Any] = {}
    if oof.ref_pred is not None and oof.ref_y is not None and len(oof.ref_y) >= 30:
        # the test rows, scored by the same fold models against the same line
        ref_z = (np.asarray(oof.ref_y, dtype=float) - oof.ref_pred - med) / mad
        status, compared = _compare(issues, np.abs(ref_z) > z_max, th)
    else:
        status = _status(share, th)
    flagged = np.flatnonzero(issues)
    flagged = flagged[np.lexsort((oof.positions[flagged], -np.abs(z[flagged])))]
    table = [
        {
            "row": int(oof.positions[i]),
            "given": float(oof.y[i]),
            "predicted": float(oof.pred[i]),
            "residual_z": float(z[i]),
        }
        for i in flagged[:_MAX_TABLE]
    ]
    findings = []
    for sign, word in ((1, "far above"), (-1, "far below")):
        idx = flagged[np.sign(z[flagged]) == sign]
        if not len(idx):
            continue
        msg = (
            f"{len(idx):,} {oof.split} row(s) have a target {word} what a model trained "
            f"without them predicts (residual beyond {z_max:g} robust standard deviations)."
        )
        findings.append(
            Finding(
                "pass" if status == "pass" else status,
                msg,
                rows=capped_rows(oof.positions[idx]),
                split=oof.split,
                metrics={"rows": len(idx), "max_abs_residual_z": float(np.abs(z[idx]).max())},
            )
        )
    return {
        "status": status,
        "share": share,
        "n_issues": int(issues.sum()),
        "findings": findings,
        "table": table,
        "worst_rows": [int(oof.positions[i]) for i in flagged[:3]],
        "chart": None,
        "method": "robust z-score of out-of-fold residuals (median and MAD)",
        "compared": compared,
    }


def _comparison_words(compared: Mapping[str, Any], noun: str) -> str:
    """The comparison with test, in the direction it went, with both numbers."""
    test = (
        f", against {pct(compared['test_share'])} of {compared['test_rows']:,} test rows "
        f"under the same models (z = {compared['z']:.1f}, one-sided p = {compared['p']:.2g})"
    )
    if compared["direction"] == "more":
        return test + f": the training {noun} are noisier than the test {noun}."
    if compared["direction"] == "fewer":
        return (
            test + f": fewer in train than in test, so the training {noun} look no noisier "
            f"than the test {noun}."
        )
    return test + ", about as many: most look like honest hard cases."


def _rows_words(rows: list[int]) -> str:
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows)
    return f" The most suspect {'is row' if len(rows) == 1 else 'are rows'} {shown}."


_RECOMMENDATION = {
    "fail": "Review the listed rows (worst first, in details) against their source: correct "
    "wrong labels or drop the rows, then retrain. If the labels come from annotators, "
    "look for the annotator, batch or rule that produced most of them.",
    "warn": "Review a sample of the listed rows, worst first (details list them with the "
    "suggested label). If many are wrong, correct them and retrain; if they are right, "
    "the features do not settle the label for such rows, which is worth knowing too.",
    "pass": "Nothing to fix. Reviewing the few rows listed, worst first, is cheap if the "
    "labels were produced by hand.",
}


@dataclass(frozen=True)
class LabelIssuesParams:
    """Parameters of ``data.label_issues``."""

    share_warn: float = param(
        0.03,
        "Share of training rows with suspect labels at or above which it warns.",
        ge=0,
        le=1,
    )
    share_fail: float = param(
        0.3, "Share of training rows with suspect labels at or above which it fails.", ge=0, le=1
    )
    z_warn: float = param(
        2.33, "Two-proportion z by which train's suspect share must exceed test's to warn.", ge=0
    )
    excess_min: float = param(
        0.02, "Least excess of train's suspect share over test's that warns.", ge=0, le=1
    )
    alpha: float = param(
        0.01, "Significance level of the tests of a concentration of suspects.", gt=0, lt=1
    )
    cell_gap_min: float = param(
        0.05,
        "Least excess suspect share of a column value over the rest to be named.",
        ge=0,
        le=1,
    )
    cell_min_share: float = param(
        0.05,
        "Least share of rows (and at least 30) a column value needs to be tested.",
        ge=0,
        le=1,
    )
    z_max: float = param(
        4.0,
        "Robust z of an out-of-fold residual beyond which a regression label is suspect.",
        gt=0,
    )
    max_rows: int = param(5000, "Training rows sampled for the out-of-fold models.", ge=1)
    folds: int = param(5, "Cross-validation folds of the out-of-fold predictions.", ge=2)


@dataclass(frozen=True)
class LabelIssuesDetails(Details):
    """What ``data.label_issues`` keeps in its ``details`` (``report.json``)."""

    split: str
    rows_used: int
    rows_in_split: int
    sampled: bool
    folds: int
    model: str
    model_kind: str
    fallback_reason: str | None
    method: str
    compared_with: str | None
    concentrations: tuple[Any, ...]
    suspect_rows: tuple[Mapping[str, Any], ...]


@register_check(
    "data.label_issues",
    area="data",
    title="Label errors",
    explanation=(
        "Looks for rows whose label is probably wrong. Each row is predicted by a model "
        "that never saw it; rows whose given label that model finds very unlikely are "
        "suspects (cleanlab's confident learning; for regression, rows with an extreme "
        "error). Wrong labels teach the model mistakes and make its test scores "
        "unreliable. Some suspects are honest hard cases where the features do not settle "
        "the label, so the check compares the training labels with the test labels, which "
        "the model also never saw: it warns when the training labels disagree with the "
        "model clearly more often, overall or in one slice (named). The list is a place to "
        "start reviewing, not a verdict."
    ),
    standards=("MAP 2.3", "MEASURE 2.5"),
    severity="high",
    params=LabelIssuesParams,
    needs=("labels",),
    extras={"labels": ("binary", "multiclass")},  # regression needs no cleanlab
    details=LabelIssuesDetails,
)
def label_issues(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Flag suspect labels; judge the share of suspect rows.

    Classification on train with a labelled test split: it warns when the
    train share of suspects exceeds the test split's (under the same fold models)
    by at least ``excess_min`` with a one-sided two-proportion z of at least
    ``z_warn``, or when one cell (category or numeric decile holding at least
    ``cell_min_share`` of the rows) shows train labels fitting the model worse
    than that cell's test labels, beyond the same difference elsewhere, by at
    least ``cell_gap_min`` in mean ``1 − p(given label)`` (z-test, Bonferroni
    over the cells at ``alpha``). It fails when train is noisier and at least
    ``share_fail`` of its rows are suspects. Regression flags residuals beyond
    ``z_max`` robust standard deviations of the fold models' residuals, in train
    and in the labelled test rows alike, and is judged by the same comparison.
    Without a labelled test split it warns from ``share_warn`` of the rows
    checked and fails from ``share_fail``. It runs on train when given,
    else on test, on at most ``max_rows`` rows (a seeded, row-order-independent
    sample) with ``folds``-fold cross-validation.
    """
    oof = out_of_fold(ctx, max_rows=int(th["max_rows"]), n_folds=int(th["folds"]))
    if len(oof.positions) < 2 * int(th["folds"]):
        raise SkipCheck(f"the {oof.split} data has too few rows to cross-validate")
    res = _classification(ctx, oof, th) if ctx.task != "regression" else _regression(ctx, oof, th)
    n = len(oof.positions)
    status: Status = res["status"]
    where = f"{oof.split} rows"
    sample = f", a sample of the {oof.n_rows_split:,}" if oof.sampled else ""
    noun = "labels" if ctx.task != "regression" else "target values"
    compared = res.get("compared") or {}
    conc = res.get("concentrations") or []
    if res["n_issues"] == 0:
        summary = f"No suspect {noun} were found in {n:,} {where}{sample}."
    else:
        summary = (
            f"Suspect {noun} in {res['n_issues']:,} of {n:,} {where} ({pct(res['share'])}){sample}"
        )
        if compared:
            summary += _comparison_words(compared, noun)
        else:
            summary += "."
        if conc:
            summary += f" They concentrate where {conc[0]['cell']}."
        summary += _rows_words(res["worst_rows"])
    metrics = {
        "label_issue_share": res["share"],
        "label_issues": res["n_issues"],
        "rows_checked": n,
    }
    if compared:
        metrics["test_label_issue_share"] = compared["test_share"]
        metrics["excess_share"] = res["share"] - compared["test_share"]
        metrics["excess_z"] = compared["z"]
        metrics["excess_p_value"] = compared["p"]
    if conc:
        metrics["concentration_q"] = conc[0]["q"]
    details: dict[str, Any] = {
        **oof.describe(),
        "method": res["method"],
        "compared_with": (
            f"{compared['test_rows']:,} labelled test rows, each predicted by the fold model "
            "of its fold"
            if compared
            else None
        ),
        "concentrations": conc,
        "suspect_rows": res["table"],
        "charts": [res["chart"]] if res["chart"] is not None else [],
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=res["findings"],
        recommendation=_RECOMMENDATION[status],
        details=details,
    )
