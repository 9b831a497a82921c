"""Shared fixtures: small synthetic data sets with known structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def make_binary(n: int = 1200, seed: int = 0, *, string_labels: bool = False) -> pd.DataFrame:
    """A clean binary task: two informative numeric features, one categorical."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    noise = rng.normal(size=n)
    logit = 1.5 * x1 - 1.0 * x2 + (colour == "red") * 0.8
    y = (logit + rng.logistic(size=n) > 0).astype(int)
    df = pd.DataFrame({"x1": x1, "x2": x2, "colour": colour, "noise": noise, "y": y})
    if string_labels:
        df["y"] = np.where(df["y"] == 1, "yes", "no")
    return df


def fit_logreg(train: pd.DataFrame, target: str = "y"):
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = train.drop(columns=target)
    cat = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) == "str"]
    num = [c for c in X.columns if c not in cat]
    pre = ColumnTransformer(
        [("cat", OneHotEncoder(handle_unknown="ignore"), cat), ("num", StandardScaler(), num)]
    )
    return Pipeline([("pre", pre), ("clf", LogisticRegression(max_iter=500))]).fit(X, train[target])


@pytest.fixture(scope="session")
def binary_data() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train, test, current) from the same clean distribution; current is labelled."""
    df = make_binary(3000, seed=1)
    train, test, current = df.iloc[:1500], df.iloc[1500:2400], df.iloc[2400:]
    return (
        train.reset_index(drop=True),
        test.reset_index(drop=True),
        current.reset_index(drop=True),
    )


@pytest.fixture(scope="session")
def binary_model(binary_data):
    return fit_logreg(binary_data[0])


@pytest.fixture(scope="module")
def dask_client():
    """A real Dask cluster, two worker processes (``distributed.LocalCluster``), for the
    test module that asks for it; closed after the module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()
