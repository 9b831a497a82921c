"""``fairness.group_metrics`` pinned whole (#15 item 3: the gap measurements became a
class, the outcome's findings, summary, details and charts their own functions, and no
number or word changed). A binary model whose errors are planted in one group, and a
regression by group; the golden files were written by the code before the change.
Regenerate with ``ASSAY_UPDATE_GOLDEN=1`` (tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from assay.testing import run_check
from tests.conftest import fit_logreg, make_binary
from tests.golden import assert_golden

CHECK = "fairness.group_metrics"
HERE = Path(__file__).parent / "fixtures"


def test_errors_planted_in_one_group_match_the_golden_result():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    red = np.flatnonzero(test["colour"] == "red")
    test.loc[red[: len(red) // 3], "y"] = 1 - test.loc[red[: len(red) // 3], "y"]
    r = run_check(
        CHECK,
        test,
        train,
        model=fit_logreg(train),
        target="y",
        sensitive="colour",
        seed=0,
        n_bootstrap=50,
    )
    assert r.status == "fail" and r.findings[0].group == "colour=red"
    assert_golden(r, HERE / "group_metrics_golden_binary.json")


def test_regression_by_group_matches_the_golden_result():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 1600))
    g = rng.choice(["a", "b", "c"], 1600)
    noise = rng.normal(0, 0.5, 1600) * np.where(g == "c", 3.0, 1.0)
    df = pd.DataFrame({"x1": x1, "x2": x2, "g": g, "y": 2 * x1 - x2 + noise})
    train, test = df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)
    model = LinearRegression().fit(train[["x1", "x2"]], train["y"])
    r = run_check(
        CHECK,
        test,
        train,
        model=model,
        target="y",
        sensitive="g",
        task="regression",
        seed=0,
        n_bootstrap=50,
    )
    assert r.status in ("warn", "fail")
    assert_golden(r, HERE / "group_metrics_golden_regression.json")
