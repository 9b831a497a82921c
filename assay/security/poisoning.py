"""``security.poisoning``: signals that the training data was tampered with.

Four signals, each computed on the training data (the test data when there
is no training data):

1. **Conflicting duplicates** — rows with exactly the same features but
   different labels (classification). Found with one hash of each row's
   features, verified exactly, over every row.
2. **Clusters of label issues** — the rows ``data.label_issues`` suspects
   (out-of-fold cleanlab for classification, outlying residuals for
   regression; the same cached model fits) concentrated in one category or
   one decile of a feature far beyond what the model's own uncertainty there
   predicts (a Poisson tail test, Bonferroni-corrected over every cell).
3. **Trigger values** — a rare value of a feature, or a rare pair of values
   of two categorical features, whose rows almost all carry one label that is
   not the usual one (a binomial tail test against that label's base rate,
   Bonferroni-corrected). This is the shape of a backdoor: a planted pattern
   that switches the prediction. When the test data holds the same value
   with the same label, it is more likely a genuine pattern and is listed
   without a warning.
4. **High-influence outliers** — rows far from the rest (high leverage) that
   also pull the fit (Cook's distance), measured on a linear surrogate model
   of the labels, not on the user's model.

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
from assay.core.result import Finding, Status
from assay.data._common import capped_rows, overall_status, pct, sort_findings
from assay.data._crossval import (
    OutOfFold,
    class_codes,
    model_features,
    out_of_fold,
    split_for,
)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_MAX_CATEGORIES = 50  # values of one feature examined as cluster cells
_PAIR_MAX_CARDINALITY = 30  # columns this coarse are paired for trigger pairs
_MAX_PAIR_COLUMNS = 15
_MAX_FINDINGS_PER_SIGNAL = 10


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
def _conflicts(
    ctx: AuditContext, split: str, th: Mapping[str, Any]
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
    groups = (
        sub.group_by(feats)
        .agg(
            pl.col("__y__").n_unique().alias("labels"),
            pl.col("__row__").sort().alias("rows"),
            pl.col("__y__").sort().alias("ys"),
        )
        .filter(pl.col("labels") > 1)
    )
    if groups.height == 0:
        return [], info
    rows_lists = groups.get_column("rows").to_list()
    ys = groups.get_column("ys").to_list()
    n_rows = sum(len(r) for r in rows_lists)
    share = n_rows / df.height
    info = {"conflicting_rows": n_rows, "conflicting_share": share, "groups": groups.height}
    if share >= th["conflict_fail"]:
        status: Status = "fail"
    elif share >= th["conflict_warn"]:
        status = "warn"
    else:
        status = "pass"
    all_rows = sorted(r for rl in rows_lists for r in rl)
    order = sorted(range(len(rows_lists)), key=lambda i: (-len(rows_lists[i]), rows_lists[i][0]))
    first = order[0]
    labels = sorted(set(ys[first]))
    msg = (
        f"Conflicting duplicates: {n_rows:,} {split} rows ({pct(share)}) in "
        f"{groups.height:,} group(s) have identical "
        f"features but different labels; the largest group, rows "
        f"{', '.join(str(r) for r in rows_lists[first][:6])}, carries labels "
        f"{', '.join(repr(x) for x in labels)}."
    )
    metrics = {"conflicting_share": share, "conflicting_rows": n_rows, "groups": groups.height}
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
    df: pl.DataFrame, cols: list[str], ctx: AuditContext
) -> list[tuple[str, str, np.ndarray]]:
    """(column, description, row mask) for each category and numeric decile."""
    from assay.security._pii_engine import for_display

    out = []
    for c in cols:
        s = df.get_column(c)
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
            for k in range(len(edges) - 1):
                mask = (b == k) & np.isfinite(x)
                out.append((c, f"{_fmt(edges[k])} to {_fmt(edges[k + 1])}", mask))
        else:
            vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
            uniq, counts = np.unique(vals, return_counts=True)
            top = uniq[np.lexsort((uniq, -counts))][:_MAX_CATEGORIES]
            for v in top:
                out.append((c, f"'{for_display(v)}'", vals == v))
    return out


def _clusters(
    ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    from scipy.stats import poisson

    issues, expected = _issues(oof, th)
    n_issues = int(issues.sum())
    info = {"label_issues": n_issues, "clusters": 0}
    if n_issues < int(th["cluster_min_issues"]):
        return [], info
    df = ctx.frame(oof.split)[oof.positions]
    cells = _cells(df, _usable(ctx, df), ctx)
    if not cells:
        return [], info
    scale = n_issues / max(expected.sum(), 1e-12)
    tested = []
    for col, desc, mask in cells:
        obs = int(issues[mask].sum())
        lam = float(expected[mask].sum() * scale)
        p = float(poisson.sf(obs - 1, lam)) if obs else 1.0
        tested.append((col, desc, mask, obs, lam, p))
    limit = float(th["alpha"]) / len(tested)
    hits = [
        t
        for t in tested
        if t[3] >= int(th["cluster_min_issues"])
        and t[3] >= th["cluster_ratio"] * t[4]
        and t[5] < limit
    ]
    hits.sort(key=lambda t: (t[5], t[0], t[1]))
    findings = []
    seen_cols: set[str] = set()
    for col, desc, mask, obs, lam, p in hits:
        if col in seen_cols:  # one finding per column: its most significant cell
            continue
        seen_cols.add(col)
        rows = oof.positions[mask & issues]
        msg = (
            f"Suspect labels cluster where '{col}' is {desc}: {obs} of {int(mask.sum())} "
            f"sampled {oof.split} rows there, where the model's uncertainty predicts about "
            f"{lam:.1f}."
        )
        findings.append(
            Finding(
                "warn",
                msg,
                column=col,
                rows=capped_rows(np.sort(rows)),
                split=oof.split,
                metrics={"suspect_rows": obs, "expected": lam, "p_value": p},
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


def _trigger_candidates(
    df: pl.DataFrame, cols: list[str], y: np.ndarray, n_classes: int, th: Mapping[str, Any]
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
            out.append({"columns": (c,), "values": (row[c],), **_purity(row, n_classes, base)})
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
                    {"columns": (a, b), "values": (row[a], row[b]), **_purity(row, n_classes, base)}
                )
    return out


def _purity(row: Mapping[str, Any], n_classes: int, base: np.ndarray) -> dict[str, Any]:
    from scipy.stats import binom

    counts = np.array([row[f"c{k}"] for k in range(n_classes)])
    top = int(np.argmax(counts))
    m = int(row["n"])
    k = int(counts[top])
    return {
        "rows": m,
        "label": top,
        "purity": k / m,
        "base_rate": float(base[top]),
        "p_value": float(binom.sf(k - 1, m, base[top])),
    }


def _describe_pattern(columns: tuple[str, ...], values: tuple[Any, ...]) -> str:
    from assay.security._pii_engine import for_display

    return " and ".join(f"'{c}' = '{for_display(v)}'" for c, v in zip(columns, values, strict=True))


def _mask_for(df: pl.DataFrame, columns: tuple[str, ...], values: tuple[Any, ...]) -> pl.Series:
    expr = pl.lit(True)
    for c, v in zip(columns, values, strict=True):
        expr = expr & (pl.col(c).cast(pl.String) == v)
    return df.select(expr.fill_null(False)).to_series()


def _triggers(
    ctx: AuditContext, split: str, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    info: dict[str, Any] = {"patterns_tested": 0, "triggers": 0}
    if ctx.task == "regression":
        return [], info
    df, positions = _pattern_rows(ctx, split, th)
    info["rows_searched"] = df.height
    cols = _usable(ctx, df)
    y = class_codes(df.get_column(ctx.target).to_numpy(), ctx.classes)
    n_classes = len(ctx.classes)
    cands = _trigger_candidates(df, cols, y, n_classes, th)
    info["patterns_tested"] = len(cands)
    if not cands:
        return [], info
    limit = float(th["alpha"]) / len(cands)
    hits = [c for c in cands if c["purity"] >= th["trigger_purity"] and c["p_value"] < limit]
    hits.sort(key=lambda c: (c["p_value"], c["columns"], c["values"]))
    other = "test" if split == "train" and ctx.has("test") else None
    findings = []
    for c in hits[:_MAX_FINDINGS_PER_SIGNAL]:
        label = ctx.classes[c["label"]]
        rows = positions[_mask_for(df, c["columns"], c["values"]).to_numpy()]
        pattern = _describe_pattern(c["columns"], c["values"])
        status: Status = "warn"
        tail = ""
        if other is not None and ctx.target in ctx.frame(other).columns:
            odf = ctx.frame(other)
            if all(col in odf.columns for col in c["columns"]):
                omask = _mask_for(odf, c["columns"], c["values"]).to_numpy()
                oy = class_codes(odf.get_column(ctx.target).to_numpy(), ctx.classes)[omask]
                if len(oy) >= int(th["trigger_min_rows"]):
                    same = float((oy == c["label"]).mean())
                    if same >= th["trigger_purity"] - 0.1:
                        status = "pass"
                        tail = (
                            f" The test data shows the same tie ({pct(same)} of its "
                            f"{len(oy)} such rows), so it is more likely a genuine pattern."
                        )
                    else:
                        tail = f" In the test data only {pct(same)} of such rows have that label."
                else:
                    tail = " The test data has (almost) no such rows."
        msg = (
            f"Rare pattern {pattern} appears in {c['rows']} {split} rows, "
            f"{pct(c['purity'])} labelled {label!r} (base rate {pct(c['base_rate'])}): "
            f"the shape of a backdoor trigger.{tail}"
        )
        findings.append(
            Finding(
                status,
                msg,
                columns=tuple(c["columns"]) if len(c["columns"]) > 1 else None,
                column=c["columns"][0] if len(c["columns"]) == 1 else None,
                rows=capped_rows(rows),
                split=split,
                metrics={"rows": c["rows"], "purity": c["purity"], "p_value": c["p_value"]},
            )
        )
    info["triggers"] = sum(1 for f in findings if f.status != "pass")
    return findings, info


# -- 4. high-influence outliers ---------------------------------------------------
def _design(df: pl.DataFrame, cols: list[str], ctx: AuditContext) -> np.ndarray:
    parts = [np.ones((df.height, 1))]
    for c in cols:
        s = df.get_column(c)
        t = ctx.schema.types.get(c)
        if s.dtype.is_temporal():
            s = s.to_physical()
        if (s.dtype.is_numeric() or s.dtype == pl.Boolean) and t != "categorical":
            x = s.cast(pl.Float64).to_numpy().astype(float, copy=True)
            x[~np.isfinite(x)] = np.nan
            mu, sd = np.nanmean(x), np.nanstd(x)
            if not np.isfinite(sd) or sd == 0:
                continue
            parts.append(np.nan_to_num((x - mu) / sd, nan=0.0).reshape(-1, 1))
        else:
            vals = s.cast(pl.String).fill_null("(missing)").to_numpy()
            uniq, counts = np.unique(vals, return_counts=True)
            top = uniq[np.lexsort((uniq, -counts))][:20]
            for v in top[1:]:  # the most frequent level is the reference
                parts.append((vals == v).astype(float).reshape(-1, 1))
    return np.hstack(parts)


def _influence(
    ctx: AuditContext, oof: OutOfFold, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, Any]]:
    df = ctx.frame(oof.split)[oof.positions]
    X = _design(df, _usable(ctx, df), ctx)
    n, p = X.shape
    info: dict[str, Any] = {"influential_rows": 0, "max_cooks_distance": None}
    if n <= p + 10:
        return [], info
    if oof.proba is not None:
        Y = np.eye(len(oof.classes))[oof.y]
    else:
        y = oof.y.astype(float)
        Y = ((y - y.mean()) / (y.std() or 1.0)).reshape(-1, 1)
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
    flagged = np.flatnonzero((cooks > th["cooks_warn"]) & (h > 2 * p / n))
    info["influential_rows"] = len(flagged)
    if not len(flagged):
        return [], info
    flagged = flagged[np.lexsort((oof.positions[flagged], -cooks[flagged]))]
    rows = oof.positions[flagged]
    msg = (
        f"Influential outliers: {len(flagged)} {oof.split} row(s) lie far from the others and "
        "pull a linear fit of "
        f"the labels strongly (Cook's distance up to {cooks.max():.2f}); the strongest are rows "
        f"{', '.join(str(r) for r in rows[:5])}."
    )
    finding = Finding(
        "warn",
        msg,
        rows=capped_rows(rows),
        split=oof.split,
        metrics={"rows": len(flagged), "max_cooks_distance": float(cooks.max())},
    )
    return [finding], info


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
        "labels, suspect labels packed into one region, a rare value almost always paired "
        "with one unusual label (the shape of a backdoor trigger), and extreme rows that "
        "pull the model. These are signals, not proof: honest data can show them, and a "
        "careful attacker can avoid all of them. Each finding names the rows to inspect."
    ),
    standards=("MEASURE 2.7", "MAP 2.3"),
    severity="high",
    thresholds={
        "conflict_warn": 0.005,
        "conflict_fail": 0.05,
        "trigger_min_rows": 8,
        "trigger_max_share": 0.02,
        "trigger_purity": 0.95,
        "cluster_min_issues": 8,
        "cluster_ratio": 2.0,
        "alpha": 0.001,
        "cooks_warn": 0.5,
        "z_max": 4.0,
        "max_rows": 5000,
        "folds": 5,
        "max_rows_patterns": 200_000,
    },
    needs=("labels",),
)
def poisoning(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Four poisoning signals; warn on any, fail when conflicting duplicates are common.

    Conflicting duplicates warn from ``conflict_warn`` of the rows and fail
    from ``conflict_fail``. A pattern (one rare value, or a rare pair of values
    of two coarse columns) held by ``trigger_min_rows`` to ``trigger_max_share``
    of the rows warns when at least ``trigger_purity`` of them carry one label
    and a binomial test against that label's base rate gives p below
    ``alpha`` / patterns tested. A category or decile holding at least
    ``cluster_min_issues`` suspect labels, ``cluster_ratio`` times what the
    model's uncertainty predicts, with a Poisson p below ``alpha`` / cells
    tested, warns. Rows with Cook's distance above ``cooks_warn`` and leverage
    above twice the average warn. Signals 2 and 4 use at most ``max_rows`` rows
    and the ``folds``-fold out-of-fold predictions shared with ``data.label_issues``;
    signals 1 and 3 search at most ``max_rows_patterns`` rows (identical rows are
    kept together).
    """
    split = split_for(ctx)
    findings: list[tuple[str, Finding]] = []
    conflict_f, conflict_info = _conflicts(ctx, split, th)
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
    oof = out_of_fold(ctx, max_rows=int(th["max_rows"]), n_folds=int(th["folds"]))
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
