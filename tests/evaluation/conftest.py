"""Data with planted problems (and without) for the evaluation checks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import assay

EVAL_IDS = [
    "evaluation.performance",
    "evaluation.calibration",
    "evaluation.baseline_comparison",
    "evaluation.overfitting",
]
FEATURES = ["a", "b", "c"]


def make_frame(
    n: int, seed: int, *, kind: str = "linear", noise: float = 0.0, labels: str = "str"
) -> pd.DataFrame:
    """Two numeric features and one categorical; a binary target.

    ``kind="linear"``: a logistic model is right. ``kind="nonlinear"``: the
    signal is symmetric in ``a`` and an interaction, which no linear model can
    use. ``noise`` flips that share of labels.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(["u", "v", "w"], n)}
    )
    if kind == "linear":
        logit = 1.5 * df.a - df.b + (df.c == "u")
    else:
        logit = 2 * (np.abs(df.a) - 0.8) + 1.5 * df.a * df.b
    y = rng.random(n) < 1 / (1 + np.exp(-logit))
    y = np.where(rng.random(n) < noise, ~y, y)
    df["label"] = np.where(y, "good", "bad") if labels == "str" else y.astype(int)
    return df


def encode(X: pd.DataFrame) -> pd.DataFrame:
    return pd.get_dummies(X[FEATURES], columns=["c"], dtype=float)


class Wrapped:
    """A fitted estimator behind the one-hot encoding (a stand-in for a user's pipeline)."""

    def __init__(self, est: Any, columns: pd.Index) -> None:
        self.est, self.columns = est, columns
        if hasattr(est, "classes_"):
            self.classes_ = est.classes_

    def _X(self, X: pd.DataFrame) -> pd.DataFrame:
        return encode(X).reindex(columns=self.columns, fill_value=0.0)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        return self.est.predict(self._X(X))

    def predict_proba(self, X: pd.DataFrame) -> np.ndarray:
        return self.est.predict_proba(self._X(X))


def fit(est: Any, train: pd.DataFrame, target: str = "label") -> Wrapped:
    X = encode(train)
    return Wrapped(est.fit(X, train[target]), X.columns)


def run(
    train: Any, test: Any, model: Any = None, *, n_bootstrap: int = 200, **kw: Any
) -> assay.AuditResult:
    config = {"include": EVAL_IDS, "n_bootstrap": n_bootstrap, "seed": 0}
    config.update(kw.pop("config", {}))
    return assay.audit(train=train, test=test, target="label", model=model, config=config, **kw)


@pytest.fixture(scope="session")
def linear_data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_frame(3000, 0), make_frame(2000, 1)


@pytest.fixture(scope="session")
def logistic(linear_data):
    from sklearn.linear_model import LogisticRegression

    return fit(LogisticRegression(), linear_data[0])
