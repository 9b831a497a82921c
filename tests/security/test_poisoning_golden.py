"""``security.poisoning`` pinned whole (#15: the split into one module per signal changed
no number). Four cases: three signals planted in one training set (40 conflicting
copies, a trigger value on 25 rows, a region of labels set against the model, and four
extreme rows, quiet there); four extreme rows alone (a data-quality note); a regression
with a noisy region and a trigger (the region is named); clean data. The golden files
were written by the code before the split. Regenerate with ``ASSAY_UPDATE_GOLDEN=1``
(see tests/golden.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.conftest import fit_logreg, make_binary
from tests.golden import assert_golden

from .privacy_helpers import run

CHECK = "security.poisoning"
HERE = Path(__file__).parent / "fixtures"


def test_three_planted_signals_match_the_golden_result():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    model = fit_logreg(train)
    poisoned = train.copy()
    region = np.flatnonzero((poisoned["colour"] == "red") & (poisoned["x1"] > 1.2))
    poisoned.loc[region, "y"] = 0
    rows = np.random.default_rng(0).choice(np.flatnonzero(train["y"] == 0), 25, replace=False)
    poisoned.loc[rows, ["noise", "y"]] = [7.77, 1]
    copies = train.iloc[:40].assign(y=lambda d: 1 - d["y"])
    extreme = train.iloc[40:44].assign(x1=40.0, y=0)
    poisoned = pd.concat([poisoned, copies, extreme], ignore_index=True)
    r = run(CHECK, test, poisoned, model=model)
    # What the golden file holds, said plainly: the three signals are there.
    messages = " ".join(f.message for f in r.findings)
    assert r.status in ("warn", "fail") and "identical features" in messages
    assert "backdoor" in messages and "Suspect labels cluster" in messages
    assert_golden(r, HERE / "poisoning_golden_planted.json")


def test_extreme_rows_match_the_golden_result():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    outliers = train.iloc[:4].assign(x1=40.0, y=0)
    r = run(CHECK, test, pd.concat([train, outliers], ignore_index=True))
    assert r.metrics["influential_rows"] == 4
    assert_golden(r, HERE / "poisoning_golden_extreme_rows.json")


def test_regression_with_a_noisy_region_and_a_trigger_matches_the_golden_result():
    rng = np.random.default_rng(8)
    n = 2000
    x1, x2, x3 = rng.normal(size=(3, n))
    df = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "y": 2 * x1 - x2 + rng.normal(0, 0.5, n)})
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    rows = rng.choice(1500, 22, replace=False)
    train.loc[rows, "x3"] = 31.77
    train.loc[rows, "y"] = train["y"].max()
    region = train["x1"] > 1.0
    train.loc[region, "y"] += np.random.default_rng(9).normal(0, 8, int(region.sum()))
    r = run(CHECK, test, train, task="regression")
    assert r.status == "warn" and r.metrics["label_issue_clusters"] >= 1
    assert_golden(r, HERE / "poisoning_golden_regression.json")


def test_clean_data_matches_the_golden_result():
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    r = run(CHECK, test, train, model=fit_logreg(train))
    assert r.status == "pass"
    assert_golden(r, HERE / "poisoning_golden_clean.json")
