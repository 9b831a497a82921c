"""Time the five in-depth checks on a 50,000-row, 30-feature test set.

Usage::

    .venv/bin/python bench/eval_depth.py                    # 50k rows, gradient boosting
    .venv/bin/python bench/eval_depth.py --rows 50000 --model logreg

Data: 30 features (22 numeric, some with missing values; 8 categorical
strings with 2–12 categories, two of them, ``sex`` and ``race``, given as
sensitive attributes), a binary target; train and test each of ``--rows``
rows. The model (a scikit-learn pipeline: ordinal-encoded categories and a
HistGradientBoostingClassifier, or one-hot and logistic regression) is fitted
before the clock starts. The audit runs only ``evaluation.robustness``,
``evaluation.weak_segments``, ``evaluation.ablation``,
``evaluation.uncertainty`` and ``fairness.group_metrics`` with the default
settings (500 bootstrap resamples) and reports each check's own time, their
sum, the audit's wall time (which adds reading the frames and predicting on
train and test once) and the peak resident memory. Target: the five checks
together under 60 s.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time

CHECKS = [
    "evaluation.robustness",
    "evaluation.weak_segments",
    "evaluation.ablation",
    "evaluation.uncertainty",
    "fairness.group_metrics",
]


def make_frame(n: int, seed: int):
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    cols = {}
    for i in range(22):
        x = rng.normal(size=n) * (1 + i % 4)
        if i % 6 == 0:
            x[rng.random(n) < 0.03] = np.nan
        cols[f"num_{i}"] = x
    sizes = [2, 5, 3, 4, 6, 8, 10, 12]
    names = ["sex", "race", "cat_2", "cat_3", "cat_4", "cat_5", "cat_6", "cat_7"]
    for name, k in zip(names, sizes, strict=True):
        p = np.linspace(1, 2, k)
        cols[name] = rng.choice([f"{name}_{j}" for j in range(k)], n, p=p / p.sum())
    df = pd.DataFrame(cols)
    x0 = np.nan_to_num(df["num_0"].to_numpy())
    logit = (
        0.8 * x0
        - 0.4 * df["num_1"]
        + 0.3 * df["num_2"] * (df["cat_2"] == "cat_2_0")
        + 0.5 * np.sin(df["num_3"])
        + 0.6 * (df["race"] == "race_1")
        - 0.3 * (df["sex"] == "sex_0")
    )
    df["target"] = (logit + rng.logistic(size=n) > 0).astype(int)
    return df


def fit_model(train, kind: str):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    X = train.drop(columns="target")
    cat = [c for c in X.columns if X[c].dtype == object or str(X[c].dtype) in ("str", "string")]
    num = [c for c in X.columns if c not in cat]
    if kind == "hgb":
        enc = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1)
        pre = ColumnTransformer([("cat", enc, cat), ("num", "passthrough", num)])
        est = HistGradientBoostingClassifier(max_iter=100, random_state=0)
    else:
        num_pipe = make_pipeline(SimpleImputer(), StandardScaler())
        pre = ColumnTransformer(
            [("cat", OneHotEncoder(handle_unknown="ignore"), cat), ("num", num_pipe, num)]
        )
        est = LogisticRegression(max_iter=1000)
    return Pipeline([("pre", pre), ("clf", est)]).fit(X, train["target"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--model", choices=["hgb", "logreg"], default="hgb")
    ap.add_argument("--n-bootstrap", type=int, default=500)
    args = ap.parse_args()

    import numpy as np
    import sklearn

    import assay

    train = make_frame(args.rows, seed=0)
    test = make_frame(args.rows, seed=1)
    t0 = time.perf_counter()
    model = fit_model(train, args.model)
    fit_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = assay.audit(
        train=train,
        test=test,
        target="target",
        model=model,
        sensitive=["sex", "race"],
        config={"include": CHECKS, "n_bootstrap": args.n_bootstrap, "seed": 0},
    )
    wall = time.perf_counter() - t0
    checks = {
        c.id: {"status": c.status, "seconds": round(c.duration_s or 0, 2)} for c in result.checks
    }
    print(
        json.dumps(
            {
                "rows": args.rows,
                "features": test.shape[1] - 1,
                "model": args.model,
                "n_bootstrap": args.n_bootstrap,
                "model_fit_s": round(fit_s, 1),
                "checks": checks,
                "checks_total_s": round(sum(c["seconds"] for c in checks.values()), 2),
                "audit_wall_s": round(wall, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "python": platform.python_version(),
                "numpy": np.__version__,
                "sklearn": sklearn.__version__,
            },
            indent=1,
        )
    )
    for c in result.checks:
        print(f"{c.id}: {c.status}: {c.summary}")


if __name__ == "__main__":
    main()
