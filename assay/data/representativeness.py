"""``data.representativeness``: does the evaluated and served data look like training?

Test data and current (production) data are compared with the training data:

- categories that never occur in training (the model has never seen them);
- numeric values outside the training range (the model extrapolates there).
  Under a random split some test values always fall a little outside: the
  chance that k given test rows all lie above every training value is
  C(n_test, k) / C(n_train + n_test, k), whatever the distribution. So a range
  finding warns only when its count is improbable under that exchangeability
  null (exact p per side, Holm over the columns and splits), the share is
  material (``range_warn``) and the rows lie far beyond the range (median
  excess at least ``range_far`` robust standard deviations of train); otherwise
  it is named as information (:func:`judge_out_of_range`);
- the class balance of the labels and how far it shifts between train and test;
- the size of each group of every sensitive attribute (a group too small in a
  split gives unreliable fairness and performance numbers for it). A numeric
  attribute with many values is binned exactly as ``fairness.group_metrics``
  bins it (:func:`assay.evaluation._depth.numeric_groups`, its ``numeric_bins``
  and ``max_categories``, cut points from the test rows it measures), so both
  name the same groups;
- optionally, a population reference from the configuration: the expected
  share of each category (census marginals, customer base), compared with the
  shares in train and test::

      thresholds:
        data.representativeness:
          population:
            sex: {Female: 0.51, Male: 0.49}

Everything is counted with vectorized Polars expressions; no sampling.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from assay.core.charts import Bar, BarChart, DistributionChart
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding, Status
from assay.data._common import and_join, excluded_columns, overall_status, pct, sort_findings
from assay.details.data import ClassShare, GroupShare, RepresentativenessDetails  # noqa: F401  (re-exported)

if TYPE_CHECKING:
    from assay.core.context import AuditContext

_SHOW_VALUES = 5
_MAX_CATEGORIES = 100  # population / group tables list at most this many values


def _level(share: float, warn: float, fail: float) -> Status:
    if share >= fail:
        return "fail"
    return "warn" if share >= warn else "pass"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _as_text(s: pl.Series) -> pl.Series:
    if s.dtype == pl.Object:
        return pl.Series(s.name, [None if v is None else str(v) for v in s.to_list()], pl.String)
    return s.cast(pl.String)


def _shares(s: pl.Series) -> dict[str, tuple[int, float]]:
    """{value: (rows, share)} of a column's present values, as text, largest first."""
    s = _as_text(s).drop_nulls()
    if s.len() == 0:
        return {}
    vc = s.value_counts(sort=True)
    name = vc.columns[0]
    total = s.len()
    rows = sorted(
        zip(vc.get_column(name).to_list(), vc.get_column("count").to_list(), strict=True),
        key=lambda kv: (-kv[1], kv[0]),
    )
    return {str(v): (int(n), n / total) for v, n in rows}


# -- unseen categories and out-of-range values ------------------------------------
def _unseen(
    col: str, train: pl.Series, other: pl.Series, split: str, th: Mapping[str, Any]
) -> tuple[Finding | None, dict[str, Any]]:
    seen = _as_text(train).drop_nulls().unique()
    vals = _as_text(other)
    present = vals.is_not_null()
    new = present & ~vals.is_in(seen.implode()).fill_null(False)
    n_new = int(new.sum())
    share = n_new / other.len() if other.len() else 0.0
    row = {"column": col, "split": split, "unseen_rows": n_new, "unseen_share": share}
    if not n_new:
        return None, row
    from assay.core.masking import for_display

    counts = _shares(vals.filter(new))
    shown = ", ".join(f"'{for_display(v)}'" for v in list(counts)[:_SHOW_VALUES])
    extra = len(counts) - _SHOW_VALUES
    shown += f" and {extra:,} more" if extra > 0 else ""
    row["values"] = [for_display(v) for v in list(counts)[:_SHOW_VALUES]]
    status = _level(share, th["unseen_warn"], th["unseen_fail"])
    msg = (
        f"Column '{col}' in {split} holds {len(counts):,} categor"
        f"{'y' if len(counts) == 1 else 'ies'} never seen in training ({shown}), "
        f"in {n_new:,} rows ({pct(share)})."
    )
    metrics = {"unseen_share": share, "unseen_rows": n_new, "unseen_categories": len(counts)}
    return Finding(status, msg, column=col, split=split, metrics=metrics), row


def exceed_p(k: int, n_other: int, n_train: int) -> float:
    """P(at least ``k`` of ``n_other`` rows lie beyond every one of ``n_train`` rows on
    one side) when all rows are exchangeable (a random split): the top ``k`` of the
    pooled rows must all be from the other split. Exact, distribution-free; ties make
    it conservative.

    >>> round(exceed_p(1, 1200, 2800), 3)
    0.3
    >>> exceed_p(0, 10, 10)
    1.0
    """
    if k <= 0:
        return 1.0
    if k > n_other:
        return 0.0
    i = np.arange(k, dtype=np.float64)
    return float(np.exp(np.sum(np.log(n_other - i) - np.log(n_other + n_train - i))))


def judge_out_of_range(
    share: float, q_value: float, excess: float, th: Mapping[str, Any]
) -> Status:
    """Status of one column's out-of-range rows: numbers in, verdict out.

    ``warn`` (``fail`` from ``range_fail``) only when the rows beyond the training
    range are improbable under a random split (``q_value <= alpha``), material
    (``share >= range_warn``) and far (median excess ``>= range_far`` robust
    standard deviations); otherwise ``pass`` (named as information).

    >>> th = {"alpha": 0.05, "range_warn": 0.01, "range_fail": 0.1, "range_far": 0.25}
    >>> judge_out_of_range(0.0133, 0.4, 0.08, th)  # 4 ages a year beyond, clean split
    'pass'
    >>> judge_out_of_range(0.1, 1e-9, 30.0, th)
    'fail'
    """
    if q_value > float(th["alpha"]) or excess < float(th["range_far"]):
        return "pass"
    return _level(share, float(th["range_warn"]), float(th["range_fail"]))


def _robust_scale(x: np.ndarray) -> float:
    """1.4826 × MAD, else IQR / 1.349, else the standard deviation (0 when constant)."""
    med = float(np.median(x))
    mad = 1.4826 * float(np.median(np.abs(x - med)))
    if mad > 0:
        return mad
    q1, q3 = np.quantile(x, [0.25, 0.75])
    if q3 > q1:
        return float(q3 - q1) / 1.349
    return float(np.std(x))


def _out_of_range(
    col: str, train: pl.Series, other: pl.Series, split: str
) -> dict[str, Any] | None:
    """The numbers of one column's out-of-range rows (no verdict yet: Holm needs them all)."""
    tr = train.cast(pl.Float64, strict=False)
    tr = tr.filter(tr.is_finite())
    if tr.len() == 0:
        return None
    t = tr.to_numpy()
    lo, hi = float(t.min()), float(t.max())
    x = other.cast(pl.Float64, strict=False).to_numpy()
    x = x[np.isfinite(x)]
    below, above = x < lo, x > hi
    n_below, n_above = int(below.sum()), int(above.sum())
    n_out = n_below + n_above
    share = n_out / other.len() if other.len() else 0.0
    scale = _robust_scale(t)
    dist = np.concatenate([lo - x[below], x[above] - hi])
    if not n_out:
        excess = 0.0
    elif scale > 0:
        excess = float(np.median(dist)) / scale
    else:
        excess = float("inf")
    p_side = min(exceed_p(n_above, len(x), len(t)), exceed_p(n_below, len(x), len(t)))
    return {
        "column": col,
        "split": split,
        "train_min": lo,
        "train_max": hi,
        "out_of_range_rows": n_out,
        "out_of_range_share": share,
        "rows_above": n_above,
        "rows_below": n_below,
        "max_above": float(x[above].max()) if n_above else None,
        "min_below": float(x[below].min()) if n_below else None,
        "excess_robust_sd": excess,
        "p_value": min(1.0, 2 * p_side),  # Bonferroni over the two sides
    }


def _range_findings(rows: list[dict[str, Any]], th: Mapping[str, Any]) -> list[Finding]:
    """Holm over every (column, split) compared, then a verdict and a sentence each."""
    from assay.stats import holm

    q = holm([r["p_value"] for r in rows])
    out = []
    for r, qv in zip(rows, q.tolist(), strict=True):
        r["q_value"] = float(qv)
        status = judge_out_of_range(
            r["out_of_range_share"], r["q_value"], r["excess_robust_sd"], th
        )
        r["status"] = status
        if not r["out_of_range_rows"]:
            continue
        parts = []
        if r["rows_above"]:
            parts.append(f"up to {_fmt(r['max_above'])}")
        if r["rows_below"]:
            parts.append(f"down to {_fmt(r['min_below'])}")
        msg = (
            f"Column '{r['column']}' in {r['split']} is outside the training range "
            f"{_fmt(r['train_min'])} to {_fmt(r['train_max'])} in {r['out_of_range_rows']:,} "
            f"rows ({pct(r['out_of_range_share'])}; values {' and '.join(parts)}; median "
            f"{r['excess_robust_sd']:.2g} robust SD beyond"
        )
        if status == "pass":
            msg += (
                f"). For information: a random split leaves about this many (q = "
                f"{r['q_value']:.2g}), or they lie too close to the range to matter."
            )
        else:
            msg += f"; q = {r['q_value']:.2g} under a random split)."
        metrics = {
            "out_of_range_share": r["out_of_range_share"],
            "rows_above": r["rows_above"],
            "rows_below": r["rows_below"],
            "excess_robust_sd": r["excess_robust_sd"],
            "q_value": r["q_value"],
        }
        out.append(Finding(status, msg, column=r["column"], split=r["split"], metrics=metrics))
    return out


def _identifier_like(train: pl.DataFrame, columns: list[str]) -> list[str]:
    """Categorical columns with a different value in most training rows: every new row
    brings an unseen value, so counting them says nothing (and their values may be
    personal data)."""
    if not columns or train.height == 0:
        return []
    uniques = train.select(pl.col(c).n_unique() for c in columns).row(0)
    limit = max(_MAX_CATEGORIES, 0.5 * train.height)
    return [c for c, n in zip(columns, uniques, strict=True) if n > limit]


# -- labels, groups, population ---------------------------------------------------
def _class_balance(
    ctx: AuditContext, th: Mapping[str, Any]
) -> tuple[list[Finding], dict[str, dict[str, dict[str, float]]], float | None, dict | None]:
    """Findings, {split: {class: {rows, share}}}, the largest share shift, a chart."""
    findings: list[Finding] = []
    balance: dict[str, dict[str, dict[str, float]]] = {}
    if ctx.task not in ("binary", "multiclass"):
        return findings, balance, None, None
    classes = [str(c) for c in ctx.classes]
    for split in ("train", "test"):
        if not ctx.has(split) or ctx.target not in ctx.frame(split).columns:
            continue
        got = _shares(ctx.frame(split).get_column(ctx.target))
        balance[split] = {
            c: {"rows": got.get(c, (0, 0.0))[0], "share": got.get(c, (0, 0.0))[1]} for c in classes
        }
    train = balance.get("train", {})
    for c in classes:
        share = train.get(c, {}).get("share")
        if share is not None and share < th["min_class_share"]:
            msg = (
                f"Class '{c}' is only {pct(share)} of the training rows "
                f"({int(train[c]['rows']):,}); the model sees few examples of it."
            )
            findings.append(
                Finding(
                    "warn", msg, group=f"{ctx.target}={c}", split="train", metrics={"share": share}
                )
            )
    shift = None
    chart = None
    if "train" in balance and "test" in balance:
        diffs = {c: balance["test"][c]["share"] - balance["train"][c]["share"] for c in classes}
        worst = max(classes, key=lambda c: (abs(diffs[c]), c))
        shift = abs(diffs[worst])
        n_tr = sum(int(v["rows"]) for v in balance["train"].values())
        n_te = sum(int(v["rows"]) for v in balance["test"].values())
        p = share_shift_p(
            balance["train"][worst]["share"], n_tr, balance["test"][worst]["share"], n_te
        )
        q = min(1.0, p * max(len(classes) - (len(classes) == 2), 1))  # Bonferroni, classes
        status = judge_class_shift(shift, q, th)
        if status != "pass":
            msg = (
                f"The class balance shifts between train and test: class '{worst}' is "
                f"{pct(balance['train'][worst]['share'])} of train but "
                f"{pct(balance['test'][worst]['share'])} of test (q = {q:.2g} under a "
                "random split)."
            )
            findings.append(
                Finding(
                    status,
                    msg,
                    group=f"{ctx.target}={worst}",
                    metrics={"share_shift": shift, "q_value": q},
                )
            )
        chart = DistributionChart(
            title="Class balance: train (reference) and test (current)",
            labels=classes,
            series={
                "reference": [balance["train"][c]["share"] for c in classes],
                "current": [balance["test"][c]["share"] for c in classes],
            },
            unit="share",
        ).to_dict()
    return findings, balance, shift, chart


def share_shift_p(share_a: float, n_a: int, share_b: float, n_b: int) -> float:
    """Two-sided p value of two shares differing by chance (pooled two-proportion z).

    >>> round(share_shift_p(0.288, 124, 0.434, 53), 3)
    0.059
    """
    from scipy.stats import norm

    if n_a == 0 or n_b == 0:
        return 1.0
    pooled = (share_a * n_a + share_b * n_b) / (n_a + n_b)
    se = float(np.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b)))
    if se == 0:
        return 1.0 if share_a == share_b else 0.0
    return float(2 * norm.sf(abs(share_a - share_b) / se))


def judge_class_shift(shift: float, q_value: float, th: Mapping[str, Any]) -> Status:
    """A class-share shift warns from ``class_shift_warn`` and fails from
    ``class_shift_fail``, only when a random split would rarely give it (``q_value <=
    alpha``, Bonferroni over the classes).

    >>> th = {"alpha": 0.05, "class_shift_warn": 0.1, "class_shift_fail": 0.25}
    >>> judge_class_shift(0.146, 0.11, th), judge_class_shift(0.3, 0.001, th)
    ('pass', 'fail')
    """
    if q_value > float(th["alpha"]):
        return "pass"
    return _level(shift, float(th["class_shift_warn"]), float(th["class_shift_fail"]))


def _groups(
    ctx: AuditContext, th: Mapping[str, Any]
) -> tuple[list[Finding], list[dict[str, Any]], int | None]:
    """Findings about small sensitive groups, the table of group sizes, the smallest size."""
    findings: list[Finding] = []
    table: list[dict[str, Any]] = []
    smallest: int | None = None
    min_size = int(th["min_group_size"])
    for col in ctx.sensitive:
        splits = [s for s in ("train", "test", "current") if ctx.has(s) and col in ctx.frame(s)]
        binned = _numeric_groups(ctx, col, splits)
        if binned is not None:
            per_split, groups = binned
        else:
            per_split = {s: _shares(ctx.frame(s).get_column(col)) for s in splits}
            groups = sorted({g for counts in per_split.values() for g in counts})
        rare_share = float(th["rare_share"])
        for g in groups[:_MAX_CATEGORIES]:
            name = g if binned is not None else f"{col}={g}"
            said = f"'{g}'" if binned is not None else f"{col}='{g}'"
            # Rare in every split (under min_group_size rows and rare_share of rows in each):
            # train and deployment agree, so it is no representativeness gap, only a group
            # too rare to measure anywhere: information. (California's ISLAND: 5 of 20,640.)
            everywhere = all(
                c.get(g, (0, 0.0))[0] < min_size and c.get(g, (0, 0.0))[1] < rare_share
                for c in per_split.values()
            )
            for split, counts in per_split.items():
                rows, share = counts.get(g, (0, 0.0))
                table.append(
                    {"column": col, "group": g, "split": split, "rows": rows, "share": share}
                )
                if split == "test":
                    smallest = rows if smallest is None else min(smallest, rows)
                if rows >= min_size:
                    continue
                if rows == 0:
                    msg = (
                        f"Group {said} is absent from {split}, though it occurs in "
                        f"{and_join([s for s, c in per_split.items() if c.get(g, (0,))[0]])}."
                    )
                else:
                    msg = (
                        f"Group {said} has only {rows:,} rows in {split} (fewer than "
                        f"{min_size}); numbers measured on it there are unreliable."
                    )
                if everywhere:
                    msg += (
                        f" It is under {rare_share:.0%} of every split, so training and use "
                        "agree: reported for information."
                    )
                findings.append(
                    Finding(
                        "pass" if everywhere else "warn",
                        msg,
                        group=name,
                        split=split,
                        metrics={"rows": rows},
                    )
                )
    return findings, table, smallest


def _numeric_groups(
    ctx: AuditContext, col: str, splits: list[str]
) -> tuple[dict[str, dict[str, tuple[int, float]]], list[str]] | None:
    """Group sizes of a numeric sensitive attribute binned as fairness bins it, or ``None``
    when fairness would treat its values as categories.

    Same parameters (``fairness.group_metrics``'s ``numeric_bins`` and
    ``max_categories``, as configured), same cut points (from the sample of test rows
    fairness measures; train when there is no test), same names (``age < 28``)."""
    from assay.core.registry import get_check
    from assay.evaluation._depth import numeric_groups, sample_positions

    fid = "fairness.group_metrics"
    fth = {**get_check(fid).thresholds, **ctx.settings.thresholds.get(fid, {})}
    base = "test" if "test" in splits else splits[0] if splits else None
    if base is None:
        return None
    ref = ctx.frame(base).get_column(col)
    if base == "test":
        ref = ref.gather(sample_positions(ctx, ctx.settings.max_rows_model_checks))
    if not ref.dtype.is_numeric() or ref.n_unique() <= int(fth["max_categories"]):
        return None
    edges, names = numeric_groups(ref.cast(pl.Float64).to_numpy(), int(fth["numeric_bins"]))
    labels = [f"{col} {n}" for n in names]
    per_split: dict[str, dict[str, tuple[int, float]]] = {}
    for split in splits:
        v = ctx.frame(split).get_column(col).cast(pl.Float64, strict=False).to_numpy()
        v = v[np.isfinite(v)]
        counts = np.bincount(np.searchsorted(edges, v, side="right"), minlength=len(names))
        per_split[split] = {
            lab: (int(k), float(k) / max(len(v), 1)) for lab, k in zip(labels, counts, strict=True)
        }
    return per_split, labels


def _population(
    ctx: AuditContext, th: Mapping[str, Any]
) -> tuple[list[Finding], list[dict[str, Any]], float | None]:
    """Compare observed shares with a user-given population reference."""
    reference = th.get("population") or {}
    findings: list[Finding] = []
    table: list[dict[str, Any]] = []
    worst: float | None = None
    if not isinstance(reference, Mapping):
        msg = (
            "The population reference must map column names to {category: expected share}; "
            f"got {type(reference).__name__}."
        )
        return [Finding("warn", msg, group="population")], table, None
    tol = float(th["population_tolerance"])
    for col, expected in reference.items():
        if not isinstance(expected, Mapping) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in expected.values()
        ):
            msg = f"The population reference for '{col}' must map each category to a share."
            findings.append(Finding("warn", msg, column=str(col)))
            continue
        for split in ("train", "test"):
            if not ctx.has(split) or col not in ctx.frame(split).columns:
                if split == "train" or not ctx.has(split):
                    msg = f"Column '{col}' of the population reference is not in {split}."
                    findings.append(Finding("warn", msg, column=str(col), split=split))
                continue
            got = _shares(ctx.frame(split).get_column(col))
            for value, exp in list(expected.items())[:_MAX_CATEGORIES]:
                obs = got.get(str(value), (0, 0.0))[1]
                diff = obs - float(exp)
                worst = abs(diff) if worst is None else max(worst, abs(diff))
                table.append(
                    {
                        "column": str(col),
                        "category": str(value),
                        "split": split,
                        "expected_share": float(exp),
                        "observed_share": obs,
                    }
                )
                if abs(diff) > tol:
                    word = "over" if diff > 0 else "under"
                    msg = (
                        f"{col}='{value}' is {word}-represented in {split}: {pct(obs)} of rows "
                        f"against {pct(float(exp))} in the population reference."
                    )
                    findings.append(
                        Finding(
                            "warn",
                            msg,
                            group=f"{col}={value}",
                            split=split,
                            metrics={"observed_share": obs, "expected_share": float(exp)},
                        )
                    )
    return findings, table, worst


_RECOMMENDATIONS = {
    "unseen": "For categories never seen in training, collect labelled examples of them and "
    "retrain, or map them deliberately to a known category; until then expect the model to "
    "treat them as an average row.",
    "range": "For values outside the training range, check whether they are errors (units, "
    "sentinels such as 999) or real; if real, add such rows to training before trusting "
    "predictions on them.",
    "classes": "Compare how train and test were sampled: a shifted class balance changes "
    "precision and calibration, and a tiny class is learned poorly.",
    "groups": "Collect more rows for small groups, or report their numbers with wide "
    "intervals and do not draw conclusions from them.",
    "population": "Re-weight or re-sample the data towards the population, or state in the "
    "model card which population the model was built for.",
}


@dataclass(frozen=True)
class RepresentativenessParams:
    """Parameters of ``data.representativeness``."""

    unseen_warn: float = param(
        0.01,
        "Share of test or current rows with a category unseen in training that warns.",
        ge=0,
        le=1,
    )
    unseen_fail: float = param(
        0.1,
        "Share of test or current rows with a category unseen in training that fails.",
        ge=0,
        le=1,
    )
    range_warn: float = param(
        0.01, "Share of a column's rows beyond the training range that warns.", ge=0, le=1
    )
    range_fail: float = param(
        0.1, "Share of a column's rows beyond the training range that fails.", ge=0, le=1
    )
    range_far: float = param(
        0.25,
        "Least median distance beyond the training range, in robust SDs, that can alarm.",
        ge=0,
    )
    alpha: float = param(0.05, "Significance level of the coverage tests.", gt=0, lt=1)
    class_shift_warn: float = param(
        0.1, "Shift of the class shares between train and test from which it warns.", ge=0, le=1
    )
    class_shift_fail: float = param(
        0.25,
        "Shift of the class shares between train and test from which it fails.",
        ge=0,
        le=1,
    )
    min_class_share: float = param(
        0.02, "Share of training rows under which a class is named as rare.", ge=0, le=1
    )
    min_group_size: int = param(
        30, "Rows under which a sensitive group is too small to judge.", ge=1
    )
    rare_share: float = param(
        0.01,
        "A group rare (under this share) in every split is no gap, only a note.",
        ge=0,
        le=1,
    )
    population_tolerance: float = param(
        0.05,
        "Gap between a group's observed and expected population share that warns.",
        ge=0,
        le=1,
    )
    population: dict[str, dict[str, float]] = param(
        {}, "Expected population shares: {column: {category: share}}."
    )


@register_check(
    "data.representativeness",
    area="data",
    title="Representativeness",
    explanation=(
        "Checks that the data the model is tested on and used on looks like the data it "
        "learned from: categories it never saw, numbers outside the range it learned, a "
        "class balance that shifts, and groups of people too small to measure. Optionally "
        "it compares the data with population shares you provide. A model is only "
        "reliable for the kinds of rows it was trained on."
    ),
    standards=("MAP 2.3", "MEASURE 2.11"),
    severity="medium",
    params=RepresentativenessParams,
    needs=("train",),
    tasks=("binary", "multiclass", "regression", "clustering", "anomaly"),  # needs no labels
    details=RepresentativenessDetails,
)
def representativeness(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Compare test and current data with train, and the data with a population.

    Unseen categories warn from ``unseen_warn`` of a split's rows and fail
    from ``unseen_fail``. Out-of-range values warn from ``range_warn`` and fail
    from ``range_fail`` only when their count is improbable under a random
    split (exact p, Holm over columns and splits, at most ``alpha``) and they
    lie a median ``range_far`` robust standard deviations beyond the range;
    otherwise they are information. A class-share shift between train and test warns from
    ``class_shift_warn`` and fails from ``class_shift_fail`` when a random
    split would rarely give it (two-proportion z, Bonferroni over the classes,
    at most ``alpha``); a class below
    ``min_class_share`` of train warns. A sensitive group with fewer than
    ``min_group_size`` rows in a split warns, unless it is that small and under
    ``rare_share`` of every split (rare everywhere: information); a category whose
    share differs from the ``population`` reference by more than
    ``population_tolerance`` warns.
    """
    train = ctx.frame("train")
    skip = excluded_columns(ctx) | {ctx.target}
    others = [s for s in ("test", "current") if ctx.has(s)]
    found: list[tuple[str, Finding]] = []
    columns = [c for c in ctx.schema.features if c not in skip and c in train.columns]
    busy = _identifier_like(train, [c for c in columns if ctx.schema.types.get(c) == "categorical"])
    unseen_found, unseen_table, range_table = _coverage(ctx, train, columns, others, busy, th)
    found += [("unseen", f) for f in unseen_found]
    found += [("range", f) for f in _range_findings(range_table, th)]
    class_findings, balance, shift, chart = _class_balance(ctx, th)
    found += [("classes", f) for f in class_findings]
    group_findings, group_table, smallest = _groups(ctx, th)
    found += [("groups", f) for f in group_findings]
    pop_findings, pop_table, pop_worst = _population(ctx, th)
    found += [("population", f) for f in pop_findings]

    findings = sort_findings([f for _, f in found])
    status = overall_status(findings)
    problems = [(k, f) for k, f in found if f.status != "pass"]
    problems.sort(
        key=lambda kf: (kf[1].status != "fail", -float(next(iter(kf[1].metrics.values()), 0) or 0))
    )
    summary, recommendation = _summary(ctx, problems, others, shift)

    unseen_max = max((r["unseen_share"] for r in unseen_table), default=0.0)
    range_max = max((r["out_of_range_share"] for r in range_table), default=0.0)
    metrics: dict[str, float | int | None] = {
        "max_unseen_category_share": unseen_max,
        "max_out_of_range_share": range_max,
        "columns_with_unseen_categories": len(
            {f.column for k, f in found if k == "unseen" and f.status != "pass"}
        ),
        "columns_out_of_range": len(
            {f.column for k, f in found if k == "range" and f.status != "pass"}
        ),
        "class_share_shift": shift,
        "smallest_group_rows_test": smallest,
        "population_max_deviation": pop_worst,
    }
    bars = _coverage_chart(unseen_table, range_table, th)
    charts = [c for c in (chart, bars) if c is not None]
    details = {
        "compared": ["train", *others],
        "identifier_like_columns_skipped": busy,
        "class_balance": balance,
        "sensitive_groups": group_table,
        "unseen_categories": [r for r in unseen_table if r["unseen_rows"]],
        "out_of_range": [r for r in range_table if r["out_of_range_rows"]],
        "population": pop_table,
        "charts": charts,
    }
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=recommendation,
        details=details,
    )


def _coverage(
    ctx: AuditContext,
    train: pl.DataFrame,
    columns: list[str],
    others: list[str],
    busy: list[str],
    th: Mapping[str, Any],
) -> tuple[list[Finding], list[dict[str, Any]], list[dict[str, Any]]]:
    """Unseen categories (findings and table) and out-of-range values (table) of each
    column in each split beside train; identifier-like columns (``busy``) are skipped."""
    found: list[Finding] = []
    unseen_table: list[dict[str, Any]] = []
    range_table: list[dict[str, Any]] = []
    for col in columns:
        ctype = ctx.schema.types.get(col)
        for split in others:
            df = ctx.frame(split)
            if col not in df.columns:
                continue
            if ctype in ("categorical", "boolean"):
                if col in busy:
                    continue
                f, row = _unseen(col, train.get_column(col), df.get_column(col), split, th)
                unseen_table.append(row)
                if f is not None:
                    found.append(f)
            elif ctype == "numeric":
                in_range = _out_of_range(col, train.get_column(col), df.get_column(col), split)
                if in_range is not None:
                    range_table.append(in_range)
    return found, unseen_table, range_table


def _summary(
    ctx: AuditContext, problems: list[tuple[str, Finding]], others: list[str], shift: Any
) -> tuple[str, str]:
    """(summary, recommendation): the worst problem and how many more, or the all-clear."""
    if problems:
        summary = problems[0][1].message
        if len(problems) > 1:
            n = len(problems) - 1
            summary = summary.rstrip(".") + f"; {n} more finding{'s' if n > 1 else ''}."
        kinds = list(dict.fromkeys(k for k, _ in problems))
        recommendation = " ".join(_RECOMMENDATIONS[k] for k in kinds)
    else:
        compared = and_join(others)
        summary = (
            f"The {compared} data look like the training data: no unseen categories or "
            "out-of-range values above the thresholds"
            + (", a stable class balance" if shift is not None else "")
            + (", and every sensitive group large enough." if ctx.sensitive else ".")
        )
        recommendation = "Nothing to fix."

    return summary, recommendation


def _coverage_chart(
    unseen_table: list[dict[str, Any]], range_table: list[dict[str, Any]], th: Mapping[str, Any]
) -> dict[str, Any] | None:
    """Bars of the rows train does not cover, per column and split (the 25 largest)."""
    bar_items = [
        {
            "label": f"{r['column']} ({r['split']})",
            "value": r.get("unseen_share", r.get("out_of_range_share", 0.0)),
            "status": r["status"]
            if "status" in r
            else _level(r.get("unseen_share", 0.0), th["unseen_warn"], th["unseen_fail"]),
        }
        for r in [*unseen_table, *range_table]
        if r.get("unseen_share", r.get("out_of_range_share", 0.0)) > 0
    ]
    if bar_items:
        bar_items.sort(key=lambda i: (-i["value"], i["label"]))
        return BarChart(
            title="Rows the training data does not cover",
            x_label="share of rows with an unseen category or an out-of-range value",
            unit="share",
            items=[Bar(**i) for i in bar_items[:25]],
            threshold=th["range_warn"],
        ).to_dict()
    return None
