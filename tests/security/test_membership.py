"""``security.membership_inference``: overfit models are caught, regularised ones pass."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.core.audit import build_context, run_check
from assay.core.config import AuditConfig
from assay.core.registry import get_check
from assay.security.membership import AttackStats

from ..conftest import fit_logreg, make_binary

pytest.importorskip("art")

CHECK = "security.membership_inference"


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    df = make_binary(2000, seed=4)  # labels are noisy: memorising them is visible
    return df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)


def _pipe(estimator):
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = make_column_transformer(
        (OneHotEncoder(), ["colour"]), (StandardScaler(), ["x1", "x2", "noise"])
    )
    return make_pipeline(pre, estimator)


def _run(train, test, model, target="y", **kw):
    cfg = AuditConfig(target=target, n_bootstrap=200, seed=3, **kw)
    ctx = build_context(train=train, test=test, current=None, model=model, config=cfg,
                        trust_model=False)  # fmt: skip
    return run_check(get_check(CHECK), ctx)


def test_regularised_logistic_regression_passes(data):
    train, test = data
    r = _run(train, test, fit_logreg(train))
    assert r.status == "pass", r.summary
    assert abs(r.metrics["loss_attack_auc"] - 0.5) < 0.05
    assert r.metrics["art_attack_auc"] is not None
    assert r.metrics["loss_attack_auc_low"] <= 0.5 + 0.02


@pytest.mark.parametrize("kind", ["1-nn", "tree"])
def test_overfit_models_fail(data, kind):
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.tree import DecisionTreeClassifier

    train, test = data
    est = KNeighborsClassifier(1) if kind == "1-nn" else DecisionTreeClassifier(random_state=0)
    model = _pipe(est).fit(train.drop(columns="y"), train["y"])
    r = _run(train, test, model)
    assert r.status == "fail", r.summary
    assert r.metrics["loss_attack_advantage"] > 0.3
    assert r.metrics["attack_auc_low"] > 0.55
    assert "reveals who was in its training data" in r.summary
    groups = {f.group for f in r.findings}
    assert {"y = 0", "y = 1", "training rows vs test rows"} <= groups
    assert r.details["charts"][0]["kind"] == "intervals"


def test_attack_statistics_match_scikit_learn():
    from sklearn.metrics import roc_auc_score, roc_curve

    rng = np.random.default_rng(0)
    score = np.round(rng.normal(size=400), 1)  # many ties
    member = rng.integers(0, 2, 400)
    got = AttackStats(score, member)(np.ones((1, 400)))
    assert got["auc"][0] == pytest.approx(roc_auc_score(member, score))
    fpr, tpr, _ = roc_curve(member, score)
    assert got["advantage"][0] == pytest.approx(max(0.0, float(np.max(tpr - fpr))))
    w = rng.integers(0, 3, size=(5, 400))
    many = AttackStats(score, member)(w)
    for b in range(5):
        assert many["auc"][b] == pytest.approx(roc_auc_score(member, score, sample_weight=w[b]))


def test_regression_overfit_tree_fails_and_ridge_passes():
    from sklearn.linear_model import Ridge
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=1200), "b": rng.normal(size=1200)})
    X["t"] = X["a"] * 2 + rng.normal(size=1200)
    tr, te = X.iloc[:600], X.iloc[600:].reset_index(drop=True)
    tree = DecisionTreeRegressor(random_state=0).fit(tr[["a", "b"]], tr["t"])
    ridge = Ridge().fit(tr[["a", "b"]], tr["t"])
    bad = _run(tr, te, tree, target="t")
    good = _run(tr, te, ridge, target="t")
    assert bad.status == "fail", bad.summary
    assert good.status == "pass", good.summary
    assert "art_attack_auc" not in bad.metrics  # ART's attack needs class probabilities


def test_needs_training_data(data):
    _, test = data
    cfg = AuditConfig(target="y", n_bootstrap=0)
    ctx = build_context(train=None, test=test, current=None, model=fit_logreg(test),
                        config=cfg, trust_model=False)  # fmt: skip
    r = run_check(get_check(CHECK), ctx)
    assert r.status == "skipped" and "training data" in r.summary
