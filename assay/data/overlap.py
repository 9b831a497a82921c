"""``data.train_test_overlap``: test (or current) rows that are copies of training rows.

A row overlaps when every compared feature equals that of some training row
(the target is left out; missing values compare equal). Rows are matched by a
Polars semi-join on the feature columns, so the cost is that of one hash join.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.data._common import capped_rows, comparable, join_names, overall_status, pct

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_ROW = "__assay_row__"
_TRAIN_ROW = "__assay_train_row__"
_N_EXAMPLES = 20


def compared_columns(ctx: AuditContext, split: str) -> tuple[list[str], list[str]]:
    """Feature columns compared between train and ``split``, and those left out.

    Identifier-typed columns are left out (a copied row with a fresh row id is
    still a copy) unless nothing else remains; Python-object columns cannot be
    compared.
    """
    train, other = ctx.frame("train"), ctx.frame(split)
    usable = [
        c
        for c in ctx.schema.features
        if c in train.columns
        and c in other.columns
        and pl.Object not in (train.schema[c], other.schema[c])
    ]
    ids = [c for c in usable if ctx.schema.types.get(c) == "identifier"]
    kept = [c for c in usable if c not in ids] or usable
    return kept, [c for c in ctx.schema.features if c not in kept]


def overlapping_rows(df: pl.DataFrame, train: pl.DataFrame, columns: list[str]) -> pl.Series:
    """Positions (0-based) of rows of ``df`` whose ``columns`` equal a row of ``train``.

    Examples
    --------
    >>> tr = pl.DataFrame({"a": [1, 2, None], "b": ["x", "y", None]})
    >>> te = pl.DataFrame({"a": [2, 3, None], "b": ["y", "y", None]})
    >>> overlapping_rows(te, tr, ["a", "b"]).to_list()
    [0, 2]
    """
    keys = comparable(train, columns, df).unique()
    probe = comparable(df, columns, train).with_row_index(_ROW)
    hits = probe.join(keys, on=columns, how="semi", nulls_equal=True)
    return hits.get_column(_ROW).sort()


def _examples(
    df: pl.DataFrame, train: pl.DataFrame, columns: list[str], rows: pl.Series, split: str
) -> list[dict[str, Any]]:
    """The first few overlapping rows with the training row each one copies."""
    head = rows.head(_N_EXAMPLES)
    probe = (
        comparable(df, columns, train)
        .with_row_index(_ROW)
        .filter(pl.col(_ROW).is_in(head.to_list()))
    )
    keys = comparable(train, columns, df).with_row_index(_TRAIN_ROW)
    pairs = (
        probe.join(keys, on=columns, how="inner", nulls_equal=True)
        .group_by(_ROW)
        .agg(pl.col(_TRAIN_ROW).min())
        .sort(_ROW)
    )
    return [
        {"split": split, "row": int(r), "train_row": int(t)}
        for r, t in pairs.select(_ROW, _TRAIN_ROW).iter_rows()
    ]


@register_check(
    "data.train_test_overlap",
    area="data",
    title="Train/test overlap",
    explanation=(
        "Looks for test rows (and production rows, when given) that are exact copies of "
        "training rows, comparing every feature but the target. A model is rewarded for "
        "remembering rows it was trained on, so copied rows make the test score look "
        "better than the model will do on new data. Some repetition happens by chance "
        "when features are few or coarse; Assay estimates that rate from the training data "
        "and flags only the overlap beyond it."
    ),
    standards=("MEASURE 2.1", "MEASURE 2.13"),
    severity="high",
    thresholds={"overlap_warn": 0.01, "overlap_fail": 0.1},
    needs=("train",),
)
def train_test_overlap(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Share of test/current rows whose features equal a training row's.

    The chance rate is the share of training rows whose features occur in
    another training row: under random splitting a new row matches the
    training set about that often. A split warns when its overlap exceeds the
    chance rate by more than ``overlap_warn`` (1% of its rows) and fails beyond
    ``overlap_fail`` (10%): a few copies barely move a metric, a tenth of the
    test set can move it by several points.
    """
    train = ctx.frame("train")
    metrics: dict[str, float | int | None] = {}
    findings: list[Finding] = []
    examples: list[dict[str, Any]] = []
    columns, left_out = compared_columns(ctx, "test")
    if not columns:
        return Outcome(
            status="pass",
            summary="There are no feature columns to compare between train and test.",
            metrics={"n_columns_compared": 0},
        )
    chance = float(train.select(columns).is_duplicated().mean() or 0.0) if train.height else 0.0
    metrics["chance_share"] = chance
    metrics["n_columns_compared"] = len(columns)
    for split in ("test", "current"):
        if not ctx.has(split):
            continue
        cols = compared_columns(ctx, split)[0]
        df = ctx.frame(split)
        rows = overlapping_rows(df, train, cols)
        share = rows.len() / df.height if df.height else 0.0
        excess = share - chance
        metrics[f"overlap_rows_{split}"] = rows.len()
        metrics[f"overlap_share_{split}"] = share
        metrics[f"overlap_excess_{split}"] = excess
        if not rows.len():
            continue
        status: Status = (
            "fail"
            if excess > th["overlap_fail"]
            else "warn"
            if excess > th["overlap_warn"]
            else "pass"
        )
        tail = (
            "beyond what chance gives for this data"
            if status != "pass"
            else f"within what chance gives for this data ({pct(chance)})"
        )
        msg = (
            f"{rows.len():,} {split} row(s) ({pct(share)}) have exactly the features of a "
            f"training row, {tail}."
        )
        findings.append(
            Finding(
                status,
                msg,
                rows=capped_rows(rows.to_numpy()),
                split=split,
                metrics={"overlap_rows": rows.len(), "overlap_share": share, "excess": excess},
            )
        )
        examples += _examples(df, train, cols, rows, split)

    status = overall_status(findings)
    bad = [f for f in findings if f.status != "pass"]
    if bad:
        worst = max(bad, key=lambda f: f.metrics["excess"] or 0)
        n, share = worst.metrics["overlap_rows"], worst.metrics["overlap_share"] or 0.0
        consequence = (
            "so scores measured on them overstate how the model does on new data"
            if worst.split == "test"
            else "so the production data is partly training data, not new data"
        )
        summary = (
            f"{n:,} {worst.split} rows ({pct(share)}) are copies of training rows, {consequence}."
        )
        recommendation = (
            "Remove the overlapping rows (the findings list their positions) and measure "
            "again. Split the data before any resampling or augmentation, and split by "
            "entity or by time when the same entity appears in several rows."
        )
    elif findings:
        summary = (
            "A few rows repeat training rows, no more than chance gives for features like these."
        )
        recommendation = "Nothing to fix."
    else:
        summary = "No test row is a copy of a training row."
        recommendation = "Nothing to fix."
    details = {
        "compared_columns": columns,
        "left_out_columns": left_out,
        "chance_share": chance,
        "examples": examples,
    }
    if left_out:
        details["note"] = f"Not compared: {join_names(left_out)} (identifiers or objects)."
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=recommendation,
        details=details,
    )
