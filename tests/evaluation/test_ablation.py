"""``evaluation.ablation``: a feature the model ignores is named unused; configured groups
are shuffled and refitted together; clean models pass."""

from __future__ import annotations

import pytest

from .depth_helpers import frame, logistic, run_one

CHECK = "evaluation.ablation"


@pytest.fixture(scope="module")
def data():
    return frame(2500, 0), frame(1500, 1)


@pytest.fixture(scope="module")
def ignoring(data):
    """The pipeline is given 'f' (and 'group') but drops them: they are ignored."""
    train, test = data
    model = logistic(train, columns=("a", "b", "c"))
    return run_one(
        CHECK, train, test, model, n_bootstrap=100, thresholds={"groups": {"ab": ["a", "b"]}}
    )


def test_ignored_feature_is_named_unused(ignoring):
    r = ignoring
    # Unused features are named as information, not a warning (issue 14: "unused"
    # warned on 25 of 36 clean audits of honest models; it is advice, not a defect).
    assert r.status == "pass", r.summary
    unused = {f.column: f for f in r.findings if f.column is not None}
    assert set(unused) == {"f", "group"}
    assert "the model ignores it" in unused["f"].message
    assert "'f'" in r.summary or "'group'" in r.summary
    assert r.metrics["n_unused"] == 2
    rows = {row["feature"]: row for row in r.details["features"]}
    assert rows["f"]["verdict"] == "ignored" and rows["f"]["importance"] == 0
    assert rows["a"]["verdict"] == "used"
    assert (
        rows["a"]["importance_low"] > 0 and rows["a"]["importance_high"] > rows["a"]["importance"]
    )


def test_drop_column_refit_and_groups(ignoring):
    r = ignoring
    assert r.metrics["refit_done"] == 1
    dropped = {row["dropped"]: row for row in r.details["drop_column"]}
    # The top features (a, then b, then c) and the configured group are refitted without.
    assert {"a", "group ab"} <= set(dropped)
    assert dropped["group ab"]["drop"] > dropped["a"]["drop"] > 0
    assert dropped["a"]["drop_low"] > 0
    group = [f for f in r.findings if f.group == "ab"]
    assert group and group[0].columns == ("a", "b") and "refitted without it" in group[0].message
    kinds = [c["kind"] for c in r.details["charts"]]
    assert kinds == ["bars", "intervals", "intervals"]


def test_clean_model_passes(data):
    train, test = data
    model = logistic(train.drop(columns="group"))
    r = run_one(CHECK, train.drop(columns="group"), test.drop(columns="group"), model)
    assert r.status == "pass", r.summary
    assert r.summary.startswith("Every feature contributes; the most important is 'a'")


def test_unknown_group_column_is_a_clear_error(data):
    train, test = data
    model = logistic(train)
    r = run_one(CHECK, train, test, model, thresholds={"groups": {"x": ["nope"]}})
    assert r.status == "error" and "groups.x" in r.summary and "nope" in r.summary


def test_model_that_cannot_be_refitted_is_said_so(data):
    train, test = data
    inner = logistic(train)

    class Opaque:
        classes_ = inner.classes_
        feature_names_in_ = inner.feature_names_in_

        def predict(self, X):
            return inner.predict(X)

        def predict_proba(self, X):
            return inner.predict_proba(X)

    r = run_one(CHECK, train, test, Opaque(), n_bootstrap=30)
    assert r.metrics["refit_done"] == 0
    assert "not a scikit-learn estimator" in r.details["drop_column_note"]
