"""Planted data for the clustering and anomaly tests (synthetic, generated here)."""

from __future__ import annotations

import numpy as np
import pandas as pd

CENTERS = np.array(
    [[0.0, 0.0, 0.0, 0.0], [20.0, 0.0, 0.0, 0.0], [0.0, 20.0, 0.0, 0.0], [0.0, 0.0, 20.0, 0.0]]
)
FEATURES = ["x0", "x1", "x2", "x3"]


def blobs(n: int, seed: int, *, split_first: bool = False) -> pd.DataFrame:
    """Four well-separated blobs; ``split_first`` makes blob 0 two blobs 7 apart."""
    rng = np.random.default_rng(seed)
    which = rng.integers(0, 4, n)
    X = CENTERS[which] + rng.normal(size=(n, 4))
    if split_first:
        half = rng.random(n) < 0.5
        X[(which == 0) & half, 3] += 3.5
        X[(which == 0) & ~half, 3] -= 3.5
    df = pd.DataFrame(X, columns=FEATURES)
    df["region"] = rng.choice(["north", "south"], n)
    return df


def uniform(n: int, seed: int, dims: int = 6) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, dims)), columns=[f"u{i}" for i in range(dims)])


def kmeans(df: pd.DataFrame, k: int, cols: list[str] | None = None):
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=3, random_state=0).fit(df[cols or FEATURES])


def transactions(n: int, seed: int, *, shift: float = 0.0, share: float = 0.03) -> pd.DataFrame:
    """Normal rows plus a planted share of anomalies (label 1); ``shift`` moves f2."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5))
    y = np.zeros(n, dtype=int)
    k = int(share * n)
    X[:k] += rng.normal(0, 5, (k, 5))
    y[:k] = 1
    X[:, 2] += shift
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(5)])
    df["label"] = y
    return df.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def isolation_forest(train: pd.DataFrame):
    from sklearn.ensemble import IsolationForest

    return IsolationForest(random_state=0, contamination=0.05).fit(train.drop(columns="label"))
