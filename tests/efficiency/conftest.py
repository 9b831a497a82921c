"""Small models and data for the efficiency checks (all made here, in memory)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

import assay.efficiency  # noqa: F401  (registers the checks)
from assay.core.audit import build_context, run_check
from assay.core.config import AuditConfig
from assay.core.registry import get_check

from ..conftest import make_binary

EFFICIENCY_IDS = ("efficiency.inference", "efficiency.quantization", "efficiency.distillation")
FAST = {"time_budget_s": 0.4}
"""A short timing budget: the tests check what is measured, not how precisely."""
GENEROUS = {"latency_budget_ms": 10_000}
"""On a busy machine a 6 ms call can take 30 times longer: only the planted slow
models are judged against a tight latency budget."""


def run(model, train, test, check_ids=EFFICIENCY_IDS, *, target="y", thresholds=None, **cfg):
    """Run efficiency checks on one context; ``{check_id: CheckResult}``."""
    th = {cid: dict(FAST) for cid in check_ids}
    if "efficiency.inference" in th:
        th["efficiency.inference"].update(GENEROUS)
    for cid, extra in (thresholds or {}).items():
        th[cid] = {**th.get(cid, {}), **extra}
    config = AuditConfig(target=target, n_bootstrap=40, seed=0, thresholds=th, **cfg)
    ctx = build_context(
        train=train, test=test, current=None, model=model, config=config, trust_model=False
    )
    return {cid: run_check(get_check(cid), ctx) for cid in check_ids}


def pipeline(estimator, categorical=("colour",), numeric=("x1", "x2", "noise")):
    """One-hot categories and scaled numbers into ``estimator`` (not fitted)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    pre = ColumnTransformer(
        [
            ("cat", OneHotEncoder(handle_unknown="ignore"), list(categorical)),
            ("num", StandardScaler(), list(numeric)),
        ]
    )
    return Pipeline([("pre", pre), ("clf", estimator)])


def fit(estimator, train, target="y"):
    return estimator.fit(train.drop(columns=target), train[target])


@pytest.fixture(scope="session")
def small():
    """(train, test): the clean binary task of the common suite, smaller."""
    df = make_binary(1100, seed=4)
    return df.iloc[:700].reset_index(drop=True), df.iloc[700:].reset_index(drop=True)


@pytest.fixture(scope="session")
def logreg(small):
    from sklearn.linear_model import LogisticRegression

    return fit(pipeline(LogisticRegression(max_iter=500)), small[0])


class SlowModel:
    """A scikit-learn-like model that sleeps ``delay`` seconds per call (a planted slow model)."""

    def __init__(self, inner, delay: float) -> None:
        self.inner, self.delay = inner, delay
        self.classes_ = inner.classes_

    def predict(self, X):
        time.sleep(self.delay)
        return self.inner.predict(X)

    def predict_proba(self, X):
        time.sleep(self.delay)
        return self.inner.predict_proba(X)


class HungryModel(SlowModel):
    """Allocates ``megabytes`` of NumPy memory per call (a planted memory hog)."""

    def __init__(self, inner, megabytes: int) -> None:
        super().__init__(inner, 0.0)
        self.megabytes = megabytes

    def predict_proba(self, X):
        scratch = np.ones(self.megabytes * 1_000_000 // 8)
        return self.inner.predict_proba(X) + 0 * scratch[0]


class Inverted(SlowModel):
    """Predicts the opposite class, confidently: a teacher that is always wrong."""

    def __init__(self, inner) -> None:
        super().__init__(inner, 0.0)

    def predict(self, X):
        return 1 - self.inner.predict(X)

    def predict_proba(self, X):
        return self.inner.predict_proba(X)[:, ::-1]


def offset_data(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A signal riding on a huge offset: ``x = 1e8 + s``, the label set by ``s``.

    In float64 a scaled linear model reads ``s`` exactly; float32 (what an ONNX
    export computes in) spaces its numbers 8 apart near 1e8, so ``s`` is lost.
    """
    rng = np.random.default_rng(seed)
    s = rng.normal(scale=2.0, size=n)
    y = (s + rng.logistic(scale=0.3, size=n) > 0).astype(int)
    df = pd.DataFrame({"x": 1e8 + s, "y": y})
    return df.iloc[: n // 2].reset_index(drop=True), df.iloc[n // 2 :].reset_index(drop=True)
