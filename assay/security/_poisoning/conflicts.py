"""Signal 1 of ``security.poisoning``: conflicting duplicates, rows with exactly the
same features but different labels (classification), compared with what label noise
(the out-of-fold class probabilities) gives the duplicate groups."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl

from assay.core.result import Finding, Status
from assay.data._common import capped_rows, pct
from assay.data._crossval import OutOfFold, model_features
from assay.security._poisoning.common import pattern_rows
from assay.security._poisoning_judge import judge_conflicts

if TYPE_CHECKING:
    from assay.core.context import AuditContext


@dataclass(frozen=True)
class Conflicts:
    """The signal's findings (at most one) and its numbers for the check's metrics."""

    findings: list[Finding] = field(default_factory=list)
    rows: int = 0
    share: float = 0.0
    groups: int = 0


@dataclass(frozen=True)
class _Measured:
    rows: list[list[int]]  # row positions of each conflicting group, first row first
    labels: list[list[str]]  # each group's labels
    share: float  # of the rows searched held by conflicting groups
    expected: float | None  # conflicting groups label noise gives (None: unknown)
    used: int  # duplicate groups behind ``expected``
    observed: int  # conflicting groups among those


def conflicts(
    ctx: AuditContext, split: str, th: Mapping[str, Any], oof: OutOfFold | None = None
) -> Conflicts:
    """Conflicting duplicates in ``split``: measured, judged, described."""
    m = _measure(ctx, split, th, oof)
    if m is None:
        return Conflicts()
    status, p_value, reason = judge_conflicts(m.observed, m.expected, m.share, th)
    n_rows = sum(len(r) for r in m.rows)
    finding = _describe(m, status, p_value, reason, split)
    return Conflicts([finding], rows=n_rows, share=m.share, groups=len(m.rows))


def noise_conflicts(oof: OutOfFold | None, group_rows: list[list[int]]) -> tuple[float | None, int]:
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


def _measure(
    ctx: AuditContext, split: str, th: Mapping[str, Any], oof: OutOfFold | None
) -> _Measured | None:
    """The duplicate groups whose labels differ, and what label noise gives (None: none)."""
    df, positions = pattern_rows(ctx, split, th)
    feats = [c for c in model_features(ctx, df) if df.schema[c] != pl.Object]
    if ctx.task == "regression" or not feats or df.height < 2:
        return None
    keyed = df.select(feats).with_columns(
        pl.Series("__y__", df.get_column(ctx.target_column).cast(pl.String)),
        pl.Series("__row__", positions),
    )
    dup = df.select(feats).hash_rows(seed=ctx.settings.seed).is_duplicated()
    sub = keyed.filter(dup)
    if sub.height == 0:
        return None
    all_groups = sub.group_by(feats).agg(
        pl.col("__y__").n_unique().alias("labels"),
        pl.col("__row__").sort().alias("rows"),
        pl.col("__y__").sort().alias("ys"),
    )
    groups = all_groups.filter(pl.col("labels") > 1).sort(pl.col("rows").list.first())
    if groups.height == 0:
        return None
    rows_lists = groups.get_column("rows").to_list()
    # Compare the conflicting groups with what label noise gives the duplicate groups
    # (those with a row in the out-of-fold sample): honest data with coarse features has
    # identical rows with different labels, a data-quality note, not tampering.
    expected, used = noise_conflicts(oof, all_groups.get_column("rows").to_list())
    if oof is not None and used:
        where = set(oof.positions.tolist())
        observed = sum(1 for r in rows_lists if any(x in where for x in r))
    else:
        observed = groups.height
    share = sum(len(r) for r in rows_lists) / df.height
    ys = groups.get_column("ys").to_list()
    return _Measured(rows_lists, ys, share, expected, used, observed)


def _describe(m: _Measured, status: Status, p_value: float, reason: str, split: str) -> Finding:
    n_rows = sum(len(r) for r in m.rows)
    all_rows = sorted(r for rl in m.rows for r in rl)
    order = sorted(range(len(m.rows)), key=lambda i: (-len(m.rows[i]), m.rows[i][0]))
    first = order[0]
    labels = sorted(set(m.labels[first]))
    noise = (
        f" Label noise would give about {m.expected:.1f} of the {m.used:,} duplicate groups "
        f"examined different labels; {m.observed} have them (p = {p_value:.2g})."
        if m.expected is not None and m.used
        else ""
    )
    lead = "Conflicting duplicates" if status != "pass" else "Data quality note"
    tail = "" if status != "pass" else f" A data-quality matter, not a sign of tampering: {reason}."
    msg = (
        f"{lead}: {n_rows:,} {split} rows ({pct(m.share)}) in "
        f"{len(m.rows):,} group(s) have identical "
        f"features but different labels; the largest group, rows "
        f"{', '.join(str(r) for r in m.rows[first][:6])}, carries labels "
        f"{', '.join(repr(x) for x in labels)}.{noise}{tail}"
    )
    metrics = {
        "conflicting_share": m.share,
        "conflicting_rows": n_rows,
        "groups": len(m.rows),
        "conflicting_groups_examined": m.observed,
        "expected_from_label_noise": m.expected,
        "ratio": m.observed / m.expected if m.expected else None,
        "p_value": p_value,
    }
    return Finding(status, msg, rows=capped_rows(all_rows), split=split, metrics=metrics)
