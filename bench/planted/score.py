"""Run Assay on a case and score what it found against the ground truth.

A planted problem is *found* when the responsible check gives a warn/fail
finding that NAMES it: the planted column (drift, leak, PII, trigger, missing),
at least half of the planted rows among the rows it names (duplicates, flips,
conflicts), the slice's column (weak slice, flips in a slice) or the group
(group errors). *Extra names* are warn/fail findings of the responsible checks
that name something that was not planted.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from .planters import Case

# The checks responsible for each problem type.
DETECTORS: dict[str, tuple[str, ...]] = {
    "leaking_feature": ("data.target_leakage",),
    "train_test_duplicates": ("data.train_test_overlap",),
    "label_flips_random": ("data.label_issues",),
    "label_flips_slice": ("data.label_issues", "security.poisoning"),
    "drift_mean_shift": ("drift.features",),
    "drift_scale": ("drift.features",),
    "drift_category_frequency": ("drift.features",),
    "drift_new_category": ("drift.features",),
    "weak_slice": ("evaluation.weak_segments",),
    "group_errors": ("fairness.group_metrics",),
    "pii_column": ("security.pii",),
    "pii_in_text": ("security.pii",),
    "conflicting_duplicates": ("security.poisoning",),
    "backdoor_trigger": ("security.poisoning",),
    "missing_burst": ("data.integrity",),
}
ALL_DETECTORS = tuple(sorted({c for cs in DETECTORS.values() for c in cs}))


def fit_model(case: Case):
    """A plain scikit-learn pipeline: impute, one-hot, logistic/ridge regression."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    ds = case.dataset
    X = case.train.drop(columns=[case.target])
    cats = [c for c in ds.categorical if c in X.columns]
    nums = [c for c in X.columns if c not in cats and c in (*ds.numeric, "review_outcome")]
    pre = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(), StandardScaler()), nums),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=10),
                ),
                cats,
            ),
        ]
    )
    est = Ridge() if ds.task == "regression" else LogisticRegression(max_iter=500)
    return make_pipeline(pre, est).fit(X, case.train[case.target])


def run_assay(case: Case, checks: tuple[str, ...], n_bootstrap: int = 100):
    import assay

    t0 = time.perf_counter()
    model = fit_model(case)
    res = assay.audit(
        train=case.train,
        test=case.test,
        current=case.current,
        target=case.target,
        model=model,
        sensitive=case.sensitive or None,
        task=case.dataset.task,
        config={
            "include": list(checks),
            "n_bootstrap": n_bootstrap,
            "seed": case.seed,
            "categorical": [c for c in case.dataset.categorical if c in case.test.columns],
        },
    )
    return res, time.perf_counter() - t0


def flagged(res, checks) -> list[dict[str, Any]]:
    """warn/fail findings of ``checks`` (a check that warns/fails with no finding
    counts as one finding naming nothing)."""
    out = []
    for cid in checks:
        r = res.check(cid)
        if r.status == "error":
            out.append({"check": cid, "error": r.summary})
            continue
        fs = [f.to_dict() for f in r.findings if f.status in ("warn", "fail")]
        if not fs and r.status in ("warn", "fail"):
            fs = [{"status": r.status, "message": r.summary}]
        out += [{"check": cid, **f} for f in fs]
    return out


def names(f: dict[str, Any]) -> set[str]:
    cols = set(f.get("columns") or [])
    if f.get("column"):
        cols.add(f["column"])
    return cols


def judge(truth: dict[str, Any], flags: list[dict[str, Any]]) -> tuple[bool, int]:
    """(found and named, number of findings naming something not planted)."""
    found, extra = False, 0
    for f in flags:
        hit = False
        cols = names(f)
        if "segment_column" in truth:
            hit = truth["segment_column"] in cols or truth["segment_column"] in str(
                f.get("group", "")
            )
        elif "group" in truth:
            g = str(f.get("group") or "")
            hit = truth["group"] in g and (
                truth["group_column"] in g or truth["group_column"] in cols or not cols
            )
        elif "columns" in truth:
            hit = bool(cols & set(truth["columns"]))
        elif "rows" in truth:
            rows = set(f.get("rows") or [])
            planted = set(truth["rows"])
            hit = (
                f.get("split") in (None, truth["split"])
                and bool(rows)
                and (len(rows & planted) >= 0.5 * min(len(rows), len(planted)))
            )
        if "columns" in truth and "rows" in truth and not hit:
            rows = set(f.get("rows") or [])
            hit = bool(rows) and len(rows & set(truth["rows"])) >= 0.5 * min(
                len(rows), len(truth["rows"])
            )
        if "columns" in truth and len(truth["columns"]) > 1:
            pass
        found |= hit
        extra += not hit
    if "columns" in truth and len(truth["columns"]) > 1 and "rows" not in truth:
        named = set().union(*(names(f) for f in flags)) if flags else set()
        found = set(truth["columns"]) <= named  # drift: every planted column named
    return found, extra


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (max(0.0, c - h), min(1.0, c + h))
