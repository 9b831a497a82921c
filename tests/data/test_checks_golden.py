"""The data checks pinned whole (#15 item 3: their long functions split into measuring,
judging and describing parts, and no number or word changed). One training and test
set with problems planted for each check (missing values, duplicate rows, a far
outlier, a constant column, a leaking column, test rows copied from train, a shifted
and an unseen category), and a clean regression; the golden files were written by the
code before the split. Regenerate with ``ASSAY_UPDATE_GOLDEN=1`` (tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from assay.testing import run_check
from tests.conftest import make_binary
from tests.golden import assert_golden

HERE = Path(__file__).parent / "fixtures"
CHECKS = (
    "data.integrity",
    "data.label_issues",
    "data.representativeness",
    "data.target_leakage",
    "data.train_test_overlap",
)


@pytest.fixture(scope="module")
def planted():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    rng = np.random.default_rng(5)
    for d in (train, test):
        d["leak"] = d["y"] + rng.normal(0, 0.05, len(d))
        d["const"] = 1
    train.loc[rng.choice(len(train), 100, replace=False), "x2"] = np.nan
    train.loc[:5, "x1"] = 80.0
    train = pd.concat([train, train.iloc[:30]], ignore_index=True)
    test = pd.concat([test.iloc[:600], train.iloc[100:400]], ignore_index=True)
    test.loc[test["colour"] == "green", "x2"] += 2.0
    test.loc[:40, "colour"] = "purple"
    return train, test


@pytest.fixture(scope="module")
def regression():
    rng = np.random.default_rng(3)
    x1, x2 = rng.normal(size=(2, 1600))
    g = rng.choice(["a", "b"], 1600)
    df = pd.DataFrame({"x1": x1, "x2": x2, "g": g, "y": 2 * x1 - x2 + rng.normal(0, 0.5, 1600)})
    return df.iloc[:1000].reset_index(drop=True), df.iloc[1000:].reset_index(drop=True)


@pytest.mark.parametrize("check", CHECKS)
def test_planted_problems_match_the_golden_files(check, planted):
    train, test = planted
    r = run_check(check, test, train, target="y", sensitive="colour", seed=0)
    assert r.status in ("pass", "warn", "fail")
    assert_golden(r, HERE / f"{check.split('.')[1]}_golden_planted.json")


@pytest.mark.parametrize("check", CHECKS)
def test_clean_regression_matches_the_golden_files(check, regression):
    train, test = regression
    r = run_check(check, test, train, target="y", task="regression", seed=0)
    assert r.status in ("pass", "warn", "fail")
    assert_golden(r, HERE / f"{check.split('.')[1]}_golden_regression.json")
