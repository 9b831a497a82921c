"""``data.train_test_overlap``: test (or current) rows that are copies of training rows.

A row overlaps when every compared feature equals that of some training row
(the target is left out; missing values compare equal). Rows are matched by a
exact 128-bit row-hash counts (:mod:`assay.engine._rowhash`): per chunk of rows
locally, per partition with a hash shuffle on Dask; no join of whole tables.

Some overlap is chance: a table with repeated feature rows, split at random,
puts copies on both sides. Under that null (train and the other split are one
table split at random), a group of ``g`` identical rows sends ``k ~ Bin(g, q)``
rows to the other split, ``q`` its share of the rows, and those ``k`` overlap
unless ``k = g``. :func:`chance_overlap` sums the mean and variance of that
count over the groups (from the same row-hash counts of train and the split);
:func:`overlap_p_value` is the normal tail with a continuity correction. The
verdict, :func:`judge_overlap`, alarms only when the overlap is improbable
under chance (Bonferroni over the splits compared) and the excess over the
expected overlap is material.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.data._common import comparable, join_names, overall_status, pct
from assay.engine._audit import audit_engine

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_ROW = "__assay_row__"
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


def chance_overlap(sizes: np.ndarray, q: float) -> tuple[float, float]:
    """Mean and variance of the overlap count when each row lands in the split w.p. ``q``.

    A group of ``g`` identical rows puts ``k ~ Bin(g, q)`` rows in the split;
    they overlap unless all ``g`` did: ``X = k 1[k < g]``, so
    ``E X = g q (1 - q^(g-1))`` and ``E X^2 = g q (1 - q) + g^2 q^2 - g^2 q^g``.
    Groups are independent (a binomial stand-in for the hypergeometric split,
    slightly wider, so conservative).

    >>> chance_overlap(np.array([2]), 0.5)
    (0.5, 0.25)
    """
    g = np.asarray(sizes, dtype=np.float64)
    if g.size == 0:
        return 0.0, 0.0
    qg = q**g
    mean = g * q * (1 - qg / q) if q > 0 else np.zeros_like(g)
    second = g * q * (1 - q) + g * g * q * q - g * g * qg
    return float(mean.sum()), float(np.maximum(second - mean * mean, 0.0).sum())


def overlap_p_value(observed: int, mean: float, var: float) -> float:
    """One-sided p value of ``observed`` overlapping rows against chance.

    Normal tail with a continuity correction: ``P(Z >= (observed - 0.5 - mean) / sd)``.

    >>> round(overlap_p_value(10, 10.0, 4.0), 4)
    0.5987
    """
    if var <= 0:
        return 1.0 if observed <= mean else 0.0
    z = (observed - 0.5 - mean) / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2))


def judge_overlap(
    excess: float, p_value: float, *, alpha: float, warn: float, fail: float
) -> Status:
    """Status from the overlap beyond chance (share of the split's rows) and its p value.

    ``warn`` when the overlap is improbable under chance (``p_value < alpha``)
    and the excess is material (``>= warn``); ``fail`` from ``fail``.

    >>> judge_overlap(0.03, 0.001, alpha=0.05, warn=0.005, fail=0.1)
    'warn'
    >>> judge_overlap(0.03, 0.2, alpha=0.05, warn=0.005, fail=0.1)
    'pass'
    """
    if not p_value < alpha:
        return "pass"
    return "fail" if excess >= fail else "warn" if excess >= warn else "pass"


@dataclass(frozen=True)
class OverlapParams:
    """Parameters of ``data.train_test_overlap``."""

    overlap_warn: float = param(
        0.005, "Share of a split's rows also in training, beyond chance, that warns.", ge=0, le=1
    )
    overlap_fail: float = param(
        0.1, "Share of a split's rows also in training, beyond chance, that fails.", ge=0, le=1
    )
    alpha: float = param(
        0.05, "Significance level of the test that the overlap exceeds chance.", gt=0, lt=1
    )


@dataclass(frozen=True)
class TrainTestOverlapDetails(Details):
    """What ``data.train_test_overlap`` keeps in its ``details`` (``report.json``)."""

    compared_columns: tuple[str, ...]
    left_out_columns: tuple[Any, ...]
    chance_share: float
    chance_model: str
    examples: tuple[Mapping[str, Any], ...]


@register_check(
    "data.train_test_overlap",
    area="data",
    title="Train/test overlap",
    explanation=(
        "Looks for test rows (and production rows, when given) that are exact copies of "
        "training rows, comparing every feature but the target. A model is rewarded for "
        "remembering rows it was trained on, so copied rows make the test score look "
        "better than the model will do on new data. Some repetition happens by chance "
        "when rows repeat; Assay computes how much overlap a random split of these rows "
        "gives and flags only an overlap that is both improbable under chance and material."
    ),
    standards=("MEASURE 2.1", "MEASURE 2.13"),
    severity="high",
    params=OverlapParams,
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    needs=("train",),
    details=TrainTestOverlapDetails,
)
def train_test_overlap(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Share of test/current rows whose features equal a training row's.

    The expected overlap and its variance come from the groups of identical
    rows in train and the split together (:func:`chance_overlap`). A split warns
    when its overlap is improbable under chance (q < ``alpha``, Bonferroni over
    the splits compared) and exceeds the expected overlap by at least
    ``overlap_warn`` (0.5% of its rows); it fails from ``overlap_fail`` (10%): a
    few copies barely move a metric, a tenth of the test set can move it by
    several points. ``chance_share`` (training rows that repeat another
    training row) is kept as a description of the data.
    """
    engine = audit_engine(ctx)
    n_train = engine.rows("train")
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
    splits = [split for split in ("test", "current") if ctx.has(split)]
    chance = 0.0
    for split in splits:
        cols = compared_columns(ctx, split)[0]
        result = engine.overlap(split, cols)
        if split == "test":
            chance = result.train_chance_rows / n_train if n_train else 0.0
            metrics["chance_share"] = chance
            metrics["n_columns_compared"] = len(columns)
        finding, split_metrics = _measure_split(
            split, result, engine.rows(split), n_train, th, len(splits)
        )
        metrics.update(split_metrics)
        if finding is None:
            continue
        findings.append(finding)
        examples += [
            {"split": split, "row": r, "train_row": t}
            for r, t in zip(result.rows[:_N_EXAMPLES], result.train_rows, strict=False)
        ]
    status = overall_status(findings)
    summary, recommendation = _summary(findings)
    details = {
        "compared_columns": columns,
        "left_out_columns": left_out,
        "chance_share": chance,
        "chance_model": (
            "each group of identical rows in train and the split together is split at "
            "random (binomial, the split's share of rows); the overlap's mean and variance "
            "give a one-sided normal p value with a continuity correction, Bonferroni over "
            "the splits compared"
        ),
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


def _measure_split(
    split: str, result: Any, n: int, n_train: int, th: Mapping[str, Any], n_splits: int
) -> tuple[Finding | None, dict[str, float | int | None]]:
    """One split's overlap against chance (Bonferroni over ``n_splits``), judged: its
    finding (None when no row overlaps) and its metrics."""
    overlap = result.stats.overlap_rows
    share = overlap / n if n else 0.0
    q_split = n / (n + n_train) if n + n_train else 0.0
    mean, var = chance_overlap(result.stats.sizes(), q_split)
    p_value = overlap_p_value(overlap, mean, var)
    q_value = min(1.0, p_value * n_splits)
    expected = mean / n if n else 0.0
    excess = share - expected
    metrics = {
        f"overlap_rows_{split}": overlap,
        f"overlap_share_{split}": share,
        f"overlap_excess_{split}": excess,
        f"overlap_expected_{split}": mean,
        f"overlap_{split}_p_value": p_value,
        f"overlap_{split}_q_value": q_value,
    }
    if not overlap:
        return None, metrics
    status: Status = judge_overlap(
        excess,
        q_value,
        alpha=float(th["alpha"]),
        warn=float(th["overlap_warn"]),
        fail=float(th["overlap_fail"]),
    )
    tail = (
        f"beyond the {mean:,.1f} a random split of these rows gives (p = {p_value:.2g})"
        if status != "pass"
        else f"within what a random split of these rows gives ({mean:,.1f} expected, "
        f"p = {p_value:.2g})"
    )
    msg = (
        f"{overlap:,} {split} row(s) ({pct(share)}) have exactly the features of a "
        f"training row, {tail}."
    )
    finding = Finding(
        status,
        msg,
        rows=result.rows,
        split=split,
        metrics={
            "overlap_rows": overlap,
            "overlap_share": share,
            "excess": excess,
            "expected_rows": mean,
            "p_value": p_value,
        },
    )
    return finding, metrics


def _summary(findings: list[Finding]) -> tuple[str, str]:
    """(summary, recommendation): the worst overlap, or none beyond chance, or none."""
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
    return summary, recommendation
