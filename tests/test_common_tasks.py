"""The common suite over every check × task × input form (issue #15, item 7).

Every registered check runs on every task it declares in the registry (``tasks``:
binary, multiclass, regression, clustering, anomaly) and in each input form an
audit accepts: pandas frames and a model, the same as Polars frames, predictions
only (prediction/score columns, no model object) and no train split. Each result
keeps :data:`assay.testing.CONTRACTS` (strict JSON round trip, well formed, typed
charts with a unit, details that read strictly as the check's declared details type
and write back exactly) and is never an ``error``; a check that needs ``train`` skips
without it with the one uniform message, a check whose extra is missing with the
extra's. Polars and pandas give the same result (two independent runs with one
seed: determinism, and no form-dependent code path); shuffled rows change no
status nor point estimate. ``tests/test_common_checks.py`` keeps the richer
binary and unsupervised scenarios (opt-in timing checks, decisions, string labels).

Small tables (≤ 400 rows), 20 bootstrap draws and few null draws keep it quick;
one audit per (task, form), shared by all checks through a module-scoped cache.
"""

from __future__ import annotations

import dataclasses
import typing
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pytest

import assay
from assay.core.registry import all_checks, get_check
from assay.errors import InputError
from assay.testing import CONTRACTS, assert_row_order_invariant, assert_same_result

from .conftest import fit_logreg, make_binary
from .unsupervised.helpers import blobs, isolation_forest, kmeans, transactions

SUPERVISED = ("binary", "multiclass", "regression")
TASKS = (*SUPERVISED, "clustering", "anomaly")
FORMS = ("pandas", "polars", "predictions", "no_train")
# Opt-in checks measure time (efficiency.*): test_common_checks.py runs them once.
SPECS = [s for s in all_checks() if not s.opt_in]
CASES = [(s.id, t, f) for s in SPECS for t in s.tasks for f in FORMS]
NO_TRAIN = "Skipped: no training data was given (pass train=... or --train)."
CONFIG: dict[str, Any] = {
    "n_bootstrap": 20,
    "seed": 3,
    "thresholds": {
        "evaluation.calibration": {"null_draws": 20},
        "security.adversarial": {"n_rows": 40},
    },
}


def _features(n: int, seed: int) -> tuple[np.random.Generator, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "x1": rng.normal(size=n),
            "x2": rng.normal(size=n),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "noise": rng.normal(size=n),
        }
    )
    return rng, df


def make_multiclass(n: int, seed: int) -> pd.DataFrame:
    """Three classes from two informative features and the colour."""
    rng, df = _features(n, seed)
    red = (df["colour"] == "red").to_numpy() * 0.8
    logits = np.column_stack([1.5 * df["x1"], df["x2"] - 1.5 * df["x1"], red - df["x2"]])
    df["y"] = np.argmax(logits + rng.gumbel(size=logits.shape), axis=1)
    return df


def make_regression(n: int, seed: int) -> pd.DataFrame:
    rng, df = _features(n, seed)
    red = (df["colour"] == "red").to_numpy() * 0.8
    df["y"] = 2 * df["x1"] - df["x2"] + red + rng.normal(scale=0.5, size=n)
    return df


def fit_ridge(train: pd.DataFrame):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["colour"]),
            ("num", StandardScaler(), ["x1", "x2", "noise"]),
        ]
    )
    return Pipeline([("pre", pre), ("m", Ridge())]).fit(train.drop(columns="y"), train["y"])


def reviewed_cases(classes: int, n: int = 300, seed: int = 0) -> pd.DataFrame:
    """Decisions for monitoring.human_oversight: reviewers who catch half the mistakes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    pred = np.where(rng.random(n) < 0.85, y, (y + 1) % classes)
    return pd.DataFrame(
        {
            "prediction": pred,
            "decision": np.where(rng.random(n) < 0.5, y, pred),
            "label": y,
            "reviewer": np.where(np.arange(n) % 2 == 0, "r1", "r2"),
        }
    )


@cache
def task_data(task: str) -> tuple[list[pd.DataFrame], Any, dict[str, Any]]:
    """``([train, test, current], model, audit keywords)`` of a task, pandas form."""
    if task in SUPERVISED:
        make = {"binary": make_binary, "multiclass": make_multiclass}.get(task, make_regression)
        frames = [make(400, 1), make(300, 2), make(300, 3)]
        model = fit_ridge(frames[0]) if task == "regression" else fit_logreg(frames[0])
        kw: dict[str, Any] = {"target": "y", "sensitive": "colour"}
        if task != "regression":
            kw["decisions"] = reviewed_cases(2 if task == "binary" else 3)
        return frames, model, kw
    if task == "clustering":
        frames = [blobs(300, seed=0), blobs(300, seed=1), blobs(300, seed=2)]
        return frames, kmeans(frames[0], 4), {"sensitive": "region"}
    frames = [transactions(400, seed=1), transactions(300, seed=2), transactions(300, seed=3)]
    kw = {"target": "label", "thresholds": {"anomaly.rate": {"contamination": 0.05}}}
    return frames, isolation_forest(frames[0]), kw


def with_predictions(task: str, frames: list[pd.DataFrame], model: Any, target: str | None):
    """The frames with the model's outputs as columns, and the audit's column keywords."""
    out = []
    for d in frames:
        X = d.drop(columns=[c for c in (target,) if c in d.columns])
        d = d.copy()
        if task == "clustering":
            d["pred"] = model.predict(X[["x0", "x1", "x2", "x3"]])
        elif task == "anomaly":
            d["pred"] = (model.predict(X) == -1).astype(int)
            d["score"] = -model.decision_function(X)
        else:
            d["pred"] = model.predict(X)
        if task in ("binary", "multiclass"):
            proba = model.predict_proba(X)
            for i in range(proba.shape[1]):
                d[f"p{i}"] = proba[:, i]
        out.append(d)
    cols: dict[str, Any] = {"prediction": "pred"}
    if task == "binary":
        cols["score"] = "p1"
    elif task == "multiclass":
        cols["score"] = ["p0", "p1", "p2"]
    elif task == "anomaly":
        cols["score"] = "score"
    return out, cols


def run_scenario(
    task: str, form: str, *, shuffle: int | None = None, n_bootstrap: int = 20
) -> assay.AuditResult:
    frames, model, kw = task_data(task)
    kw = dict(kw)
    thresholds = {**CONFIG["thresholds"], **kw.pop("thresholds", {})}
    config = {**CONFIG, "thresholds": thresholds, "n_bootstrap": n_bootstrap}
    if shuffle is not None:
        rng = np.random.default_rng(shuffle)
        frames = [d.iloc[rng.permutation(len(d))].reset_index(drop=True) for d in frames]
    data: list[Any] = list(frames)
    if form == "predictions":
        data, cols = with_predictions(task, frames, model, kw.get("target"))
        kw.update(cols)
        model = None
    elif form == "polars":
        data = [pl.from_pandas(d) for d in frames]
        if "decisions" in kw:
            kw["decisions"] = pl.from_pandas(kw["decisions"])
    train, test, current = data
    if form == "no_train":
        train = None
    return assay.audit(
        train=train, test=test, current=current, model=model, task=task, config=config, **kw
    )


@pytest.fixture(scope="module")
def scenario():
    """``scenario(task, form)``: the audit of one (task, form), run once per module."""
    return cache(run_scenario)


def test_tasks_come_from_the_registry():
    """Every declared task is one this suite builds a scenario for (a new task fails here)."""
    declared = {t for s in all_checks() for t in s.tasks}
    assert declared <= set(TASKS), declared - set(TASKS)


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("task", TASKS)
def test_every_declared_check_runs(scenario, task, form):
    """Each check that declares the task is in the audit, with no ``error``; the ones that
    skip say why (the contracts check the wording)."""
    by_id = {c.id: c for c in scenario(task, form).checks}
    declared = [s.id for s in SPECS if task in s.tasks]
    assert sorted(i for i in declared if i not in by_id) == []
    errors = {i: by_id[i].summary for i in declared if by_id[i].status == "error"}
    assert not errors, errors


@pytest.mark.parametrize(
    ("check_id", "task", "form"), CASES, ids=[f"{i}-{t}-{f}" for i, t, f in CASES]
)
def test_contract(scenario, check_id, task, form):
    """JSON round trip, well formed, typed charts with units; never an ``error``; a skip
    for a missing input or extra in the one uniform message."""
    result = scenario(task, form).check(check_id)
    for contract in CONTRACTS:
        contract(result)
    assert result.status != "error", result.summary
    spec = get_check(check_id)
    missing_extra = spec.missing_extra(task)
    if form == "no_train" and "train" in spec.needs:
        assert result.summary == NO_TRAIN
    elif missing_extra is not None:
        assert result.summary == f"Skipped: {missing_extra}."
    if form in ("pandas", "polars") and missing_extra is None:
        # Given everything it can use, a check of the task runs; decisions are the only
        # input given for one check alone (human_oversight).
        assert result.status != "skipped", result.summary


@pytest.mark.parametrize("task", TASKS)
def test_polars_and_pandas_agree(scenario, task):
    """Two independent runs, one seed: Polars frames give what pandas frames give (the
    same result but the time taken; timing checks the same metric names)."""
    a, b = scenario(task, "pandas"), scenario(task, "polars")
    for ra, rb in zip(a.checks, b.checks, strict=True):
        assert_same_result(without_frame_kind(ra), without_frame_kind(rb))


@pytest.mark.parametrize("task", TASKS)
def test_predictions_only_is_deterministic(scenario, task):
    """Prediction and score columns (no model object) are another path: run it again."""
    again = run_scenario(task, "predictions")
    for a, b in zip(scenario(task, "predictions").checks, again.checks, strict=True):
        assert_same_result(a, b)


def without_frame_kind(result):
    """data.provenance records each input's kind (``pandas``/``polars``): the one
    difference the form may make."""
    files = result.details.get("files")
    if result.id != "data.provenance" or not isinstance(files, dict):
        return result
    files = {k: {n: v for n, v in f.items() if n != "kind"} for k, f in files.items()}
    return dataclasses.replace(result, details={**result.details, "files": files})


@pytest.mark.parametrize("task", ("multiclass", "regression"))
def test_row_order_invariance(scenario, task):
    """Shuffled rows change no status and no point estimate (binary, clustering and
    anomaly: tests/test_common_checks.py). Interval ends and p values are drawn over rows
    in their order: 20 draws move them by more than the contract's 0.03, so these two
    runs take 200."""
    first = run_scenario(task, "pandas", n_bootstrap=200)
    again = run_scenario(task, "pandas", shuffle=7, n_bootstrap=200)
    for a, b in zip(first.checks, again.checks, strict=True):
        assert_row_order_invariant(a, b)


def test_typed_charts_contract_catches_planted_defects(scenario):
    """check_typed_charts passes a real chart and fails one without a unit, one of no known
    kind and a metric unit outside the closed set."""
    from assay.testing import check_typed_charts

    result = scenario("regression", "pandas").check("evaluation.performance")
    charts = list(result.details["charts"])
    assert charts and all("unit" in c for c in charts)
    check_typed_charts(result)
    no_unit = {k: v for k, v in charts[0].items() if k != "unit"}
    for bad, message in (
        ({"charts": [no_unit]}, "has no unit"),
        ({"charts": [{**charts[0], "kind": "pie"}]}, "not a typed chart"),
    ):
        planted = dataclasses.replace(result, details={**result.details, **bad})
        with pytest.raises(AssertionError, match=message):
            check_typed_charts(planted)
    with pytest.raises(AssertionError, match="has unit 'percent'"):
        check_typed_charts(dataclasses.replace(result, units={"mae": "percent"}))


def test_every_builtin_check_declares_its_details_type():
    """Each built-in check registers the dataclass of its details (``details=``), so that
    check_typed_details (one of CONTRACTS) holds every case above to it."""
    from assay.core.details import Details

    undeclared = [s.id for s in all_checks() if s.details is None]
    assert undeclared == []
    assert all(issubclass(s.details, Details) for s in all_checks() if s.details)


def test_typed_details_contract_catches_a_renamed_field(scenario):
    """A check that renames a details key (``metric_labels`` -> ``labels``), drops one or
    writes another type fails check_typed_details naming the field; and a reader's copy of
    the details type with the field renamed no longer reads the check's real details, so a
    rename on either side cannot pass silently (the model card and the summary read
    ``PerformanceDetails.metric_labels`` as an attribute, which mypy checks)."""
    from assay.core.details import Details
    from assay.evaluation.performance import PerformanceDetails
    from assay.testing import check_typed_details

    result = scenario("binary", "pandas").check("evaluation.performance")
    check_typed_details(result)
    typed = result.details_as(PerformanceDetails, strict=True)
    assert typed.metric_labels["roc_auc"] == "ROC-AUC" and typed.main_metric in typed.metric_labels
    details = dict(result.details)
    renamed = {k: v for k, v in details.items() if k != "metric_labels"}
    for bad, message in (
        ({**renamed, "labels": details["metric_labels"]}, "metric_labels: missing"),
        ({**details, "n_bootstrap": "many"}, "n_bootstrap: must be a whole number"),
        ({**details, "metric_labels": {"roc_auc": 1}}, "metric_labels.roc_auc: must be text"),
    ):
        with pytest.raises(AssertionError, match=message):
            check_typed_details(dataclasses.replace(result, details=bad))

    hints = typing.get_type_hints(PerformanceDetails)
    fields = [
        (f.name if f.name != "metric_labels" else "labels", hints[f.name])
        for f in dataclasses.fields(PerformanceDetails)
        if f.name not in ("extra", "absent", "charts")
    ]
    copy = dataclasses.make_dataclass(
        "RenamedPerformanceDetails", fields, bases=(Details,), frozen=True
    )
    with pytest.raises(InputError, match="labels: missing"):
        result.details_as(copy, strict=True)
    assert result.details_as(copy).labels == {}  # the lenient reader is left with nothing
