"""security.poisoning: planted conflicting duplicates, a trigger value, a cluster of
flipped labels and influential outliers are found and named; clean data is quiet."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import fit_logreg, make_binary

from .privacy_helpers import run

CHECK = "security.poisoning"


@pytest.fixture(scope="module")
def clean():
    df = make_binary(2400, seed=11)
    return df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)


def rows_of(result) -> set[int]:
    return {r for f in result.findings for r in (f.rows or ())}


def test_clean_data_is_quiet(clean):
    train, test = clean
    r = run(CHECK, test, train, model=fit_logreg(train))
    assert r.status == "pass", r.summary
    assert r.metrics["conflicting_rows"] == 0 and r.metrics["trigger_patterns"] == 0
    assert r.metrics["label_issue_clusters"] == 0 and r.metrics["influential_rows"] == 0
    assert "not proof" in r.details["limits"]


def test_conflicting_duplicates_are_named(clean):
    train, test = clean
    copies = train.iloc[:40].assign(y=lambda d: 1 - d["y"])
    poisoned = pd.concat([train, copies], ignore_index=True)
    r = run(CHECK, test, poisoned)
    f = [f for f in r.findings if "identical features" in f.message]
    assert f and f[0].status == "fail"  # 80 of 1,540 rows: above 5%
    assert set(f[0].rows) == set(range(40)) | set(range(1500, 1540))
    assert r.metrics["conflicting_rows"] == 80
    assert f[0].metrics["p_value"] < 1e-6 and f[0].metrics["ratio"] >= 2
    # 5 conflicting pairs where label noise gives about 1.5 (p = 0.02): a data-quality
    # note naming the rows, not a poisoning warning (#14; this asserted a warn before).
    few = run(CHECK, test, pd.concat([train, copies.iloc[:5]], ignore_index=True))
    note = [f for f in few.findings if "identical features" in f.message]
    assert few.status == "pass" and note and note[0].status == "pass"
    assert note[0].message.startswith("Data quality note")


def test_a_trigger_value_is_named(clean):
    train, test = clean
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(np.flatnonzero(train["y"] == 0), 25, replace=False))
    poisoned = train.copy()
    poisoned.loc[rows, "noise"] = 7.77
    poisoned.loc[rows, "y"] = 1
    r = run(CHECK, test, poisoned)
    f = [f for f in r.findings if "backdoor" in f.message]
    assert len(f) == 1 and f[0].status == "warn"
    assert f[0].column == "noise" and "7.77" in f[0].message
    assert set(f[0].rows) == set(rows.tolist())
    assert r.status == "warn" and "noise" in r.summary


def test_a_pattern_also_seen_in_test_is_listed_without_a_warning(clean):
    train, test = clean
    rng = np.random.default_rng(1)
    train, test = train.copy(), test.copy()
    tr_rows = rng.choice(len(train), 20, replace=False)
    te_rows = rng.choice(len(test), 12, replace=False)
    train.loc[tr_rows, ["colour", "y"]] = ["violet", 1]
    test.loc[te_rows, ["colour", "y"]] = ["violet", 1]
    r = run(CHECK, test, train)
    f = [f for f in r.findings if f.column == "colour" and "Rare pattern" in f.message]
    assert f and f[0].status == "pass" and "genuine pattern" in f[0].message
    assert "not a trigger" in f[0].message and "backdoor" not in f[0].message


def test_a_rare_pair_of_common_values_is_a_trigger():
    rng = np.random.default_rng(2)
    n = 2000
    a = rng.choice(["a1", "a2", "a3", "a4"], n)
    b = rng.choice(["b1", "b2", "b3", "b4"], n)
    x = rng.normal(size=n)
    y = (x + rng.normal(size=n) > 0).astype(int)
    # The combination a4 & b4 is made rare, then always labelled 1.
    both = np.flatnonzero((a == "a4") & (b == "b4"))
    b[both[20:]] = "b1"
    y[both[:20]] = 1
    df = pd.DataFrame({"a": a, "b": b, "x": x, "y": y})
    r = run(CHECK, df.iloc[:300], df)
    f = [f for f in r.findings if f.columns == ("a", "b")]
    assert f and "'a' = 'a4' and 'b' = 'b4'" in f[0].message
    assert set(f[0].rows) == set(both[:20].tolist())


def test_a_cluster_of_flipped_labels_is_named(clean):
    train, test = clean
    poisoned = train.copy()
    region = np.flatnonzero((poisoned["colour"] == "red") & (poisoned["x1"] > 1.2))
    poisoned.loc[region, "y"] = 0  # the model confidently expects 1 there
    r = run(CHECK, test, poisoned, model=fit_logreg(train))
    f = [f for f in r.findings if "cluster" in f.message]
    assert f, r.summary
    assert {x.column for x in f} & {"x1", "colour"}
    flagged = set().union(*(set(x.rows) for x in f))
    assert len(flagged & set(region.tolist())) >= 0.5 * len(flagged)


def test_influential_outliers_are_named(clean):
    train, test = clean
    outliers = train.iloc[:4].assign(x1=40.0, y=0)
    poisoned = pd.concat([train, outliers], ignore_index=True)
    r = run(CHECK, test, poisoned)
    f = [f for f in r.findings if "Cook's distance" in f.message]
    assert f and set(f[0].rows) == {1500, 1501, 1502, 1503}
    assert r.metrics["max_cooks_distance"] > 0.5


def test_regression_runs_and_clean_data_passes():
    rng = np.random.default_rng(3)
    n = 1000
    x1, x2 = rng.normal(size=(2, n))
    df = pd.DataFrame({"x1": x1, "x2": x2, "y": 2 * x1 - x2 + rng.normal(scale=0.3, size=n)})
    r = run(CHECK, df.iloc[:200], df, task="regression")
    assert r.status == "pass" and r.metrics["conflicting_rows"] == 0


def test_row_order_does_not_change_the_signals(clean):
    train, test = clean
    rng = np.random.default_rng(4)
    poisoned = pd.concat(
        [train, train.iloc[:10].assign(y=lambda d: 1 - d["y"]), train.iloc[:3].assign(x1=40.0)],
        ignore_index=True,
    )
    rows = rng.choice(len(train), 20, replace=False)
    poisoned.loc[rows, ["noise", "y"]] = [5.5, 1]
    a = run(CHECK, test, poisoned)
    b = run(CHECK, test, poisoned.iloc[rng.permutation(len(poisoned))].reset_index(drop=True))
    assert a.status == b.status == "warn"
    assert a.metrics == b.metrics


def test_pattern_search_on_a_stated_sample_keeps_duplicates_together(clean):
    train, test = clean
    copies = train.iloc[:40].assign(y=lambda d: 1 - d["y"])
    poisoned = pd.concat([train, copies], ignore_index=True)
    r = run(CHECK, test, poisoned, thresholds={CHECK: {"max_rows_patterns": 800}})
    assert r.details["rows_searched_for_patterns"] == 800
    f = [f for f in r.findings if "identical features" in f.message]
    rows = set(f[0].rows)
    assert rows and all((r + 1500 in rows) for r in rows if r < 40)  # pairs stay whole


def test_random_flips_in_one_category_are_named(clean):
    train, test = clean
    rng = np.random.default_rng(5)
    poisoned = train.copy()
    blue = np.flatnonzero(poisoned["colour"] == "blue")
    flip = rng.choice(blue, int(0.4 * len(blue)), replace=False)
    poisoned.loc[flip, "y"] = 1 - poisoned.loc[flip, "y"]
    r = run(CHECK, test, poisoned, model=fit_logreg(poisoned))
    f = [f for f in r.findings if "cluster" in f.message and f.status == "warn"]
    assert [x.column for x in f] == ["colour"], r.summary
    assert "'blue'" in f[0].message and f[0].metrics["slope"] < 0.25
    assert set(f[0].rows) <= set(blue.tolist())


def test_a_rare_value_the_other_columns_explain_is_not_a_trigger():
    # A top-coded value held only by rows the other columns already call 1
    # (like a capped capital gain among the well-paid): a real pattern, quiet.
    rng = np.random.default_rng(6)
    n = 3000
    x1, x2 = rng.normal(size=(2, n))
    y = (3 * x1 + rng.logistic(size=n) > 0).astype(int)
    gain = np.where(x1 > 2.2, 99999.0, np.round(rng.exponential(500, n), 0))
    df = pd.DataFrame({"x1": x1, "x2": x2, "gain": gain, "y": y})
    capped = gain[:2000] == 99999
    assert 8 <= capped.sum() <= 40 and y[:2000][capped].all()
    r = run(CHECK, df.iloc[2000:], df.iloc[:2000])
    assert not [f for f in r.findings if f.column == "gain"], r.summary
    assert r.metrics["trigger_patterns"] == 0


def test_a_trigger_in_a_small_training_set_is_named_from_its_absence_in_held_out_data():
    df = make_binary(1000, seed=12)
    train, test = df.iloc[:500].reset_index(drop=True), df.iloc[500:].reset_index(drop=True)
    rows = np.random.default_rng(7).choice(500, 10, replace=False)
    train.loc[rows, "x2"] = 25.77
    train.loc[rows, "y"] = 1
    r = run(CHECK, test, train)
    f = [f for f in r.findings if f.column == "x2" and "backdoor" in f.message]
    assert f and f[0].status == "warn" and set(f[0].rows) == set(rows.tolist())
    assert "has 0 such rows" in f[0].message


def test_a_regression_trigger_pushing_the_target_to_its_maximum_is_named():
    rng = np.random.default_rng(8)
    n = 2000
    x1, x2, x3 = rng.normal(size=(3, n))
    target = 2 * x1 - x2 + rng.normal(scale=0.5, size=n)
    df = pd.DataFrame({"x1": x1, "x2": x2, "x3": x3, "y": target})
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    rows = rng.choice(1500, 22, replace=False)
    train.loc[rows, "x3"] = 31.77
    train.loc[rows, "y"] = train["y"].max()
    r = run(CHECK, test, train, task="regression")
    f = [f for f in r.findings if "backdoor" in f.message]
    assert [x.column for x in f] == ["x3"] and f[0].status == "warn"
    assert "top 5%" in f[0].message and set(f[0].rows) == set(rows.tolist())
    clean = run(CHECK, test, df.iloc[:1500], task="regression")
    assert clean.status == "pass", clean.summary


def test_extreme_rows_whose_labels_follow_the_trend_are_not_influential_outliers(clean):
    train, test = clean
    extreme = train.iloc[:4].assign(x1=40.0, y=1)  # far out, but labelled as the trend says
    r = run(CHECK, test, pd.concat([train, extreme], ignore_index=True))
    assert r.metrics["influential_rows"] == 0, r.summary


def test_a_region_as_noisy_in_test_as_in_train_is_misfit_not_flips():
    """Labels that follow the features only loosely in one region, in train and test
    alike (40% noise in both: the model misfits there, nobody tampered with train),
    give the flat out-of-fold slope of flipped labels; the test labels are as flat
    there, so no cluster is reported. With the same train and clean test labels in
    that region, the cluster is reported and named."""
    rng = np.random.default_rng(8)
    n = 4500
    x1, x2 = rng.normal(size=(2, n))
    zone = rng.choice(["north", "south", "east", "west"], n)
    y = (2 * x1 + rng.logistic(size=n) > 0).astype(int)
    noisy = np.where((zone == "west") & (rng.random(n) < 0.4), 1 - y, y)
    df = pd.DataFrame({"x1": x1, "x2": x2, "zone": zone, "y": noisy})
    train, test = df.iloc[:3000].reset_index(drop=True), df.iloc[3000:].reset_index(drop=True)
    r = run(CHECK, test, train, model=fit_logreg(train))
    assert not [f for f in r.findings if "cluster" in f.message and f.status == "warn"], r.summary
    test_clean = test.assign(y=y[3000:])
    r = run(CHECK, test_clean, train, model=fit_logreg(train))
    f = [f for f in r.findings if "cluster" in f.message and f.status == "warn"]
    assert [x.column for x in f] == ["zone"], r.summary
    assert "'west'" in f[0].message
