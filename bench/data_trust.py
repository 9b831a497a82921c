"""Benchmark: ``data.label_issues``, ``data.representativeness`` and ``security.poisoning``
on a large table (run by hand).

Train and test of N rows each, 10 numeric and 4 categorical features, a binary
target with 5% flipped labels in train. Each configuration runs the three
checks through ``assay.audit`` in this process: once with a scikit-learn
pipeline (logistic regression) that the checks refit by cross-validation, once
without a model (the default gradient-boosting model). Out-of-fold predictions
are computed once and shared by the two checks that need them.

Usage: ``.venv/bin/python bench/data_trust.py [ROWS]``
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd

IDS = ["data.label_issues", "data.representativeness", "security.poisoning"]


def make(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 10))
    cats = {f"c{k}": rng.choice([f"v{j}" for j in range(3 + 4 * k)], n) for k in range(4)}
    logit = X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + (cats["c0"] == "v0") * 0.8
    y = (logit + 0.3 * rng.logistic(size=n) > 0).astype(int)
    df = pd.DataFrame(X, columns=[f"x{k}" for k in range(10)]).assign(**cats, y=y)
    return df


def main() -> None:
    import assay
    import assay.security  # registers the security checks
    from tests.conftest import fit_logreg

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    train, test = make(n, 0), make(n, 1)
    flip = np.random.default_rng(2).random(n) < 0.05
    train.loc[flip, "y"] = 1 - train.loc[flip, "y"]
    for label, model in (("user model (LR pipeline)", fit_logreg(train)), ("no model", None)):
        start, cpu = time.perf_counter(), time.process_time()
        result = assay.audit(
            train=train, test=test, target="y", model=model, config={"include": IDS}
        )
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        times = ", ".join(f"{c.id} {c.duration_s:.2f}s" for c in result.checks)
        print(f"rows={n:,} {label}: audit {wall:.2f}s wall, {cpu:.2f}s cpu ({times})")
        li = result.check("data.label_issues")
        print(f"  label issues: {li.summary} [{li.details['model']}]")


if __name__ == "__main__":
    main()
