"""Performance, baselines, calibration and overfitting pinned whole (#15 item 3: their
describing parts moved out of the check functions and no number or word changed). One
binary model with a train/test gap, one regression; the golden files were written by
the code before the change. Regenerate with ``ASSAY_UPDATE_GOLDEN=1`` (tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fit_logreg, make_binary
from tests.golden import assert_golden, run_case

HERE = Path(__file__).parent / "fixtures"
CHECKS = (
    "evaluation.performance",
    "evaluation.baseline_comparison",
    "evaluation.calibration",
    "evaluation.overfitting",
)


@pytest.fixture(scope="module")
def binary():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    red = np.flatnonzero(test["colour"] == "red")[:150]
    test.loc[red, "y"] = 1 - test.loc[red, "y"]  # worse on test: a gap, and off scores
    return {"test": test, "train": train, "model": fit_logreg(train)}


@pytest.fixture(scope="module")
def regression():
    from sklearn.linear_model import LinearRegression

    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 1600))
    df = pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * x1 - x2 + rng.normal(0, 0.5, 1600)})
    train, test = df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)
    model = LinearRegression().fit(train[["x1", "x2"]], train["y"])
    return {"test": test, "train": train, "model": model, "task": "regression"}


@pytest.mark.parametrize("check", CHECKS)
def test_binary_results_match_the_golden_files(check, binary):
    r = run_case(check, binary)
    assert r.status in ("pass", "warn", "fail")
    assert_golden(r, HERE / f"{check.split('.')[1]}_golden_binary.json")


@pytest.mark.parametrize("check", [c for c in CHECKS if c != "evaluation.calibration"])
def test_regression_results_match_the_golden_files(check, regression):
    r = run_case(check, regression)
    assert r.status in ("pass", "warn", "fail")
    assert_golden(r, HERE / f"{check.split('.')[1]}_golden_regression.json")
