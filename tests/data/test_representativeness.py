"""data.representativeness: unseen categories, out-of-range values, class balance,
small groups and a population reference are found and named; matching data is quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.errors import ConfigError

from .helpers import by_column, clean_binary, run

CHECK = "data.representativeness"


@pytest.fixture(scope="module")
def splits():
    df = clean_binary(3000, seed=3)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:2400].reset_index(drop=True)
    current = df.iloc[2400:].drop(columns="y").reset_index(drop=True)
    return train, test, current


def test_matching_data_passes(splits):
    train, test, current = splits
    r = run(CHECK, test, train, current, sensitive=["colour"])
    assert r.status == "pass", r.summary
    assert r.metrics["max_unseen_category_share"] == 0
    assert r.metrics["class_share_shift"] < 0.1
    assert r.metrics["smallest_group_rows_test"] > 100
    assert set(r.details["class_balance"]) == {"train", "test"}


def test_unseen_category_and_out_of_range_values_in_current_are_named(splits):
    train, test, current = splits
    current = current.copy()
    current.loc[:29, "colour"] = "purple"  # 5% of 600 rows
    current.loc[100:159, "x1"] = 50.0  # 10%
    r = run(CHECK, test, train, current)
    unseen = by_column(r, "colour", "current")
    assert len(unseen) == 1 and unseen[0].status == "warn"
    assert "'purple'" in unseen[0].message and unseen[0].metrics["unseen_rows"] == 30
    out = by_column(r, "x1", "current")
    assert out[0].status == "fail" and "up to 50" in out[0].message
    assert out[0].metrics["out_of_range_share"] == pytest.approx(0.1)
    assert r.status == "fail" and "'x1'" in r.summary
    assert by_column(r, "colour", "test") == []  # test is unaffected


def test_class_balance_shift_is_found(splits):
    train, test, _ = splits
    positives = test[test["y"] == 1]
    shifted = pd.concat([positives, test[test["y"] == 0].iloc[:60]], ignore_index=True)
    r = run(CHECK, shifted, train)
    f = [f for f in r.findings if f.group and f.group.startswith("y=")]
    assert f and f[0].status in ("warn", "fail") and "class balance shifts" in f[0].message
    assert r.metrics["class_share_shift"] > 0.2
    assert r.details["charts"][0]["kind"] == "distribution"


def test_rare_class_in_training_warns(splits):
    train, test, _ = splits
    rare = pd.concat([train[train["y"] == 0], train[train["y"] == 1].iloc[:8]], ignore_index=True)
    r = run(CHECK, test, rare)
    assert any(f.group == "y=1" and f.split == "train" for f in r.findings)


def test_small_sensitive_group_is_named(splits):
    train, test, _ = splits
    test = test.copy()
    test.loc[:9, "colour"] = "teal"  # 10 rows in test, none in train
    r = run(CHECK, test, train, sensitive=["colour"])
    small = [f for f in r.findings if f.group == "colour=teal"]
    assert {f.split for f in small} == {"test", "train"}
    assert r.metrics["smallest_group_rows_test"] == 10


def test_population_reference_flags_under_representation(splits):
    train, test, _ = splits
    population = {"colour": {"red": 0.4, "green": 0.2, "blue": 0.2, "grey": 0.2}}
    r = run(CHECK, test, train, thresholds={CHECK: {"population": population}})
    groups = {f.group for f in r.findings if f.group}
    assert "colour=red" in groups  # about 25% observed against 40% expected
    assert r.metrics["population_max_deviation"] > 0.1
    assert {row["category"] for row in r.details["population"]} == set(population["colour"])
    close = {"colour": {"red": 0.25, "green": 0.25, "blue": 0.25, "grey": 0.25}}
    quiet = run(CHECK, test, train, thresholds={CHECK: {"population": close}})
    assert not [f for f in quiet.findings if f.group and f.group.startswith("colour=")]


def test_a_malformed_population_reference_is_refused_when_the_config_is_read(splits):
    # declared as {column: {category: share}} (RepresentativenessParams): refused up front
    train, test, _ = splits
    with pytest.raises(ConfigError, match=r"population\.colour: must be a mapping of numbers"):
        run(CHECK, test, train, thresholds={CHECK: {"population": {"colour": ["red"]}}})


def test_regression_has_no_class_balance():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=600), "y": rng.normal(size=600)})
    r = run(CHECK, df.iloc[400:], df.iloc[:400], task="regression")
    assert r.metrics["class_share_shift"] is None and r.details["class_balance"] == {}


def test_row_order_does_not_matter(splits):
    train, test, current = splits
    current = current.assign(x2=np.where(np.arange(len(current)) < 30, 99.0, current["x2"]))
    perm = np.random.default_rng(2).permutation(len(current))
    a = run(CHECK, test, train, current)
    b = run(CHECK, test, train, current.iloc[perm].reset_index(drop=True))
    assert a.metrics == b.metrics and a.status == b.status


def test_identifier_like_columns_are_skipped_and_personal_values_masked(splits):
    train, test, _ = splits
    train = train.assign(phone=[f"(212) 555-{k:04d}" for k in range(len(train))])
    test = test.assign(phone=[f"(212) 556-{k:04d}" for k in range(len(test))])
    test.loc[:19, "colour"] = "+1 212 555 0199"  # an unseen category that is a phone number
    r = run(CHECK, test, train)
    assert r.details["identifier_like_columns_skipped"] == ["phone"]
    assert by_column(r, "phone") == []
    f = by_column(r, "colour", "test")[0]
    assert "555 0199" not in f.message and "+1 *** *** **99" in f.message
    assert "(212) 55" not in str(r.to_dict())
