"""``drift.features``: planted drift found by name, clean data quiet, every edge case."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from assay.drift import drift
from assay.drift._univariate import adjust
from assay.errors import ConfigError

from ..conftest import make_binary
from .helpers import PLANTED, planted_tables, run

FEATURES = {"include": ["drift.features"]}


def features(ref, cur, **cfg):
    return drift(ref, cur, config={**FEATURES, **cfg}).check("drift.features")


def rows_by_column(check):
    return {r["column"]: r for r in check.details["columns"]}


def test_planted_drift_is_found_by_name_on_large_tables():
    ref, cur = planted_tables(3000, 2000)
    check = features(ref, cur)
    assert drifted_columns_of(check) == set(PLANTED)
    assert check.status == "warn"  # 4 of 9 columns: below the 50% fail line
    assert check.metrics["drift_share"] == pytest.approx(4 / 9)
    rows = rows_by_column(check)
    assert rows["shifted"]["method"] == "wasserstein"
    assert rows["reweighted"]["method"] == "jensenshannon"
    assert all(rows[c]["psi"] is not None for c in rows)
    top = check.findings[0]
    assert {"statistic", "threshold", "psi"} <= set(top.metrics)
    assert "Wasserstein" in top.message or "Jensen" in top.message
    kinds = [c["kind"] for c in check.details["charts"]]
    assert kinds[0] == "bars" and kinds.count("distribution") == 4
    titles = " ".join(c["title"] for c in check.details["charts"][1:])
    assert all(col in titles for col in PLANTED)


def drifted_columns_of(check):
    return {f.column for f in check.findings if f.status in ("warn", "fail")}


def test_planted_drift_is_found_by_tests_on_small_tables():
    ref, cur = planted_tables(800, 500, seed=2)
    check = features(ref, cur)
    assert drifted_columns_of(check) == set(PLANTED)
    rows = rows_by_column(check)
    assert rows["shifted"]["method"] == "ks"
    assert rows["reweighted"]["method"] == "chi_square"
    assert rows["flag"]["method"] == "z_test"
    assert rows["count"]["method"] == "ks"  # poisson(4): more than 5 distinct values
    assert all(r["p_value_adjusted"] is not None for r in rows.values())


def test_clean_data_does_not_drift():
    ref = planted_tables(3000, 1, seed=1)[0]
    cur = planted_tables(2000, 1, seed=2)[0]
    check = features(ref, cur)
    assert check.status == "pass", check.summary
    assert check.summary.startswith("No column drifted")
    small = features(ref.iloc[:700], cur.iloc[:400])
    assert small.status == "pass", small.summary


def test_most_columns_drifting_fails():
    ref, cur = planted_tables(3000, 2000)
    keep = ["steady", *PLANTED]
    check = features(ref[keep], cur[keep])
    assert check.status == "fail" and check.metrics["drift_share"] == pytest.approx(0.8)
    assert all(f.status == "fail" for f in check.findings)


def test_small_current_falls_back_to_a_test_and_says_so():
    ref, cur = planted_tables(5000, 300, seed=4)
    rows = rows_by_column(features(ref, cur))
    assert rows["shifted"]["method"] == "ks" and rows["shifted"]["fallback"]
    assert "fallback" in rows["shifted"]["method_reason"]
    assert rows["shifted"]["drifted"]


def test_unseen_categories_are_named():
    ref, cur = planted_tables(3000, 2000)
    check = features(ref, cur)
    [f] = [f for f in check.findings if f.column == "new_codes"]
    assert "unseen in reference" in f.message and "'X'" in f.message
    row = rows_by_column(check)["new_codes"]
    assert row["unseen_categories"] == 2 and row["unseen_share"] == pytest.approx(0.2, abs=0.03)


def test_column_empty_in_current_is_reported():
    ref, cur = planted_tables(2000, 1500)
    cur = cur.assign(steady=np.nan)
    check = features(ref, cur)
    [f] = [f for f in check.findings if f.column == "steady"]
    assert f.status in ("warn", "fail")
    assert "every value is missing in current" in f.message
    assert rows_by_column(check)["steady"]["method"] == "all_missing"


def test_constant_columns():
    rng = np.random.default_rng(0)
    ref = pd.DataFrame({"same": np.full(1500, 3.0), "moved": np.full(1500, 1.0)})
    ref["noise"] = rng.normal(size=1500)
    cur = pd.DataFrame({"same": np.full(1200, 3.0), "moved": np.full(1200, 2.0)})
    cur["noise"] = rng.normal(size=1200)
    check = features(ref, cur)
    rows = rows_by_column(check)
    assert not rows["same"]["drifted"] and rows["same"]["statistic"] == 0
    assert rows["moved"]["drifted"]  # a constant that changed its value
    assert rows["same"]["type"] == "numeric (few values)"


def test_tiny_samples_are_not_tested_and_exact_tests_used():
    ref, cur = planted_tables(2000, 3)
    check = features(ref, cur)
    assert check.status == "pass"
    assert check.metrics["tested_columns"] == 0
    assert all("too few values" in f.message for f in check.findings)
    # A dozen rows: the binary column falls back to Fisher's exact test, KS is exact.
    rows = rows_by_column(features(*planted_tables(300, 12, seed=3)))
    assert rows["flag"]["method"] == "fisher_exact" and rows["flag"]["fallback"]
    assert "exact p-value" in rows["shifted"]["method_reason"]


def test_datetime_columns_are_compared_by_parts():
    rng = np.random.default_rng(1)
    start = dt.datetime(2024, 1, 1)
    ref_times = [start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 24 * 300, 3000)]
    weekend = [
        t for t in (start + dt.timedelta(hours=int(h)) for h in range(24 * 400)) if t.weekday() >= 5
    ]
    cur_times = [
        weekend[int(i)] + dt.timedelta(days=400) for i in rng.integers(0, len(weekend), 2000)
    ]
    ref = pd.DataFrame({"when": ref_times, "x": rng.normal(size=3000)})
    cur = pd.DataFrame({"when": cur_times, "x": rng.normal(size=2000)})
    check = features(ref, cur)
    rows = rows_by_column(check)
    assert rows["when (weekday)"]["drifted"]
    assert not rows["when (hour)"]["drifted"]
    assert [s["column"] for s in check.details["skipped_columns"]] == ["when"]
    assert "always move forward" in check.details["skipped_columns"][0]["reason"]
    assert drifted_columns_of(check) == {"when"}


def test_identifiers_and_text_are_skipped_with_a_reason():
    rng = np.random.default_rng(2)
    n = 1200
    ref = pd.DataFrame({"customer_id": [f"c{i}" for i in range(n)], "x": rng.normal(size=n)})
    cur = pd.DataFrame({"customer_id": [f"d{i}" for i in range(n)], "x": rng.normal(size=n)})
    check = features(ref, cur)
    assert check.status == "pass"
    [skipped] = check.details["skipped_columns"]
    assert skipped["column"] == "customer_id" and "identifier" in skipped["reason"]


def test_multiple_testing_corrections():
    p = [0.01, 0.02, 0.03, 0.5]
    assert adjust(p, "none") == p
    assert adjust(p, "bonferroni") == pytest.approx([0.04, 0.08, 0.12, 1.0])
    assert adjust(p, "bh") == pytest.approx([0.04, 0.04, 0.04, 0.5])
    ref, cur = planted_tables(600, 400, seed=5)
    loose = features(ref, cur, thresholds={"drift.features": {"correction": "none"}})
    strict = features(ref, cur, thresholds={"drift.features": {"correction": "bonferroni"}})
    assert loose.metrics["drifted_columns"] >= strict.metrics["drifted_columns"] >= 4
    # an unknown correction is refused when the configuration is read (one line, exit 2)
    with pytest.raises(ConfigError, match=r"drift.features.correction: must be one of 'bh'"):
        features(ref, cur, thresholds={"drift.features": {"correction": "holm"}})


def test_in_an_audit_the_reference_is_train_else_test(binary_data):
    train, test, current = binary_data
    shifted = current.assign(x1=current["x1"] + 1.0)
    with_train = run("drift.features", train=train, test=test, current=shifted)
    assert with_train.details["reference"] == "train"
    assert "train" in with_train.details["reference_choice"]
    assert drifted_columns_of(with_train) == {"x1"}
    assert "from train (1,500 rows)" in with_train.summary
    test_only = run("drift.features", test=test, current=shifted)
    assert test_only.details["reference"] == "test"
    assert "no training data" in test_only.details["reference_choice"]
    assert run("drift.features", test=test).status == "skipped"


def test_row_order_does_not_matter():
    ref, cur = planted_tables(1500, 900, seed=6)
    a = features(ref, cur)
    b = features(ref.sample(frac=1, random_state=1), cur.sample(frac=1, random_state=2))
    assert a.to_dict()["findings"] == b.to_dict()["findings"]
    assert a.metrics == b.metrics


def test_same_answer_from_the_audit_and_drift(binary_data):
    train, test, _ = binary_data
    cur = make_binary(600, seed=9).drop(columns="y")
    via_audit = run("drift.features", train=train, test=test, current=cur)
    direct = drift(train.drop(columns="y"), cur, config=FEATURES).check("drift.features")
    assert via_audit.metrics == direct.metrics
