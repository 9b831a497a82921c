"""Data and models for the in-depth evaluation and fairness checks, with planted problems
at known places."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import assay
from assay.testing import run_check


def frame(n: int, seed: int, *, task: str = "binary", fragile: bool = False) -> pd.DataFrame:
    """Numeric ``a``, ``b``, ``f``, a categorical ``c``, a sensitive ``group`` that the
    models below do not use, and a target.

    ``fragile=True``: the target follows ``sin(6 f)``, a pattern that a flexible model
    learns and that small noise on ``f`` destroys.
    """
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "a": rng.normal(size=n),
            "b": rng.normal(size=n),
            "f": rng.normal(size=n),
            "c": rng.choice(["u", "v", "w"], n),
            "group": rng.choice(["g1", "g2", "g3"], n),
        }
    )
    if task == "regression":
        df["y"] = 3 * df.a - 2 * df.b + (df.c == "u") * 1.5 + rng.normal(scale=0.5, size=n)
        return df
    if fragile:
        logit = 4 * np.sin(6 * df.f) + 0.3 * df.a
    else:
        logit = 1.5 * df.a - df.b + 0.8 * df.f + (df.c == "u") * 0.8
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def pipeline(estimator: Any, columns: list[str], categorical: list[str] = ()) -> Any:
    """A scikit-learn pipeline over ``columns`` only (other columns are dropped: ignored)."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    num = [c for c in columns if c not in categorical]
    parts = [("num", StandardScaler(), num)]
    if categorical:
        parts.append(("cat", OneHotEncoder(handle_unknown="ignore"), list(categorical)))
    return Pipeline([("pre", ColumnTransformer(parts, remainder="drop")), ("est", estimator)])


def logistic(train: pd.DataFrame, columns=("a", "b", "f", "c")) -> Any:
    from sklearn.linear_model import LogisticRegression

    cat = [c for c in columns if c == "c"]
    model = pipeline(LogisticRegression(max_iter=500), list(columns), cat)
    return model.fit(train.drop(columns="y"), train["y"])


def run_one(
    check_id: str,
    train: Any,
    test: Any,
    model: Any = None,
    *,
    n_bootstrap: int = 100,
    thresholds: dict[str, Any] | None = None,
    **kw: Any,
) -> assay.CheckResult:
    """Run one check through ``assay.audit`` (:func:`assay.testing.run_check`), seed 0;
    ``thresholds`` are this check's, ``kw`` further arguments of ``assay.audit``."""
    th = {check_id: thresholds} if thresholds else {}
    return run_check(
        check_id,
        test,
        train,
        model=model,
        target="y",
        n_bootstrap=n_bootstrap,
        seed=0,
        thresholds=th,
        **kw,
    )
