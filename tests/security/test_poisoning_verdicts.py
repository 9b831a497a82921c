"""``security.poisoning`` verdicts (#14): poisoning lives in the training data only, so
a signal that the held-out data shows as well is the world, not tampering; identical
rows with different labels at the rate label noise gives are a data-quality note.

The decision functions in ``assay.security._poisoning_judge`` are data-free and tested
at their exact boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.security._poisoning_judge import (
    judge_conflicts,
    judge_flipped_slice,
    judge_influence,
    judge_pile_up,
    judge_train_only,
    judge_trigger,
)
from tests.conftest import fit_logreg, make_binary

from .privacy_helpers import run

CHECK = "security.poisoning"
TH = {
    "conflict_alpha": 0.01,
    "conflict_min_groups": 8,
    "conflict_warn": 0.005,
    "conflict_fail": 0.05,
    "trigger_absent_alpha": 0.01,
    "trigger_held_out_ratio": 0.25,
    "influence_min_rows": 8,
    "influence_alpha": 0.01,
    "cluster_slope": 0.25,
    "cluster_min_issues": 8,
    "cluster_min_rows": 30,
    "cluster_test_slope": 0.5,
    "cluster_train_only_alpha": 0.01,
    "alpha": 0.001,
}


def coarse(n: int, seed: int, digits: int = 0) -> pd.DataFrame:
    """Titanic-like: few coarse columns, so identical rows are common, and labels that
    the features explain only in part (identical rows often disagree, honestly)."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(
        {
            "cls": rng.choice(["1", "2", "3"], n),
            "sex": rng.choice(["m", "f"], n),
            "sibsp": rng.choice([0, 1, 2], n, p=[0.7, 0.2, 0.1]),
            "fare": np.round(rng.exponential(20, n), digits),
        }
    )
    logit = 1.5 * (df.sex == "f") - 0.8 * (df.cls == "3") + 0.01 * df.fare - 0.5
    df["y"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return df


def test_honest_conflicting_duplicates_are_a_data_quality_note_not_poisoning():
    df = coarse(1300, 0)
    train, test = df.iloc[:900].reset_index(drop=True), df.iloc[900:].reset_index(drop=True)
    r = run(CHECK, test, train, model=fit_logreg(train))
    notes = [f for f in r.findings if "identical features" in f.message]
    assert notes and r.metrics["conflicting_rows"] > 0
    assert all(f.status == "pass" for f in notes), notes[0].message
    assert r.status == "pass", r.summary
    assert notes[0].metrics["p_value"] > 0.001
    assert notes[0].metrics["expected_from_label_noise"] > 0


def test_planted_conflicting_copies_on_coarse_data_still_warn():
    df = coarse(1300, 1, digits=1)
    train, test = df.iloc[:900].reset_index(drop=True), df.iloc[900:].reset_index(drop=True)
    # Copies of rows the model is sure about, given the other label.
    sure = np.flatnonzero((train.sex == "f") & (train.cls != "3") & (train.y == 1))[:40]
    copies = train.iloc[sure].assign(y=0)
    poisoned = pd.concat([train, copies], ignore_index=True)
    r = run(CHECK, test, poisoned, model=fit_logreg(train))
    f = [f for f in r.findings if "identical features" in f.message]
    assert f and f[0].status in ("warn", "fail"), f and f[0].message
    assert set(range(900, 940)) <= set(f[0].rows)


def test_a_rare_value_that_recurs_in_held_out_data_is_not_named_a_trigger():
    """A rare, pure value the other columns do not explain, but present in test and
    current data at its training rate: its own evidence says it replicates."""
    rng = np.random.default_rng(5)
    n = 4000
    x = rng.normal(size=n)
    code = np.where(rng.random(n) < 0.01, "Z9", rng.choice(["a", "b", "c"], n))
    y = np.where(code == "Z9", 1, (x + rng.normal(size=n) > 1.5).astype(int))
    df = pd.DataFrame({"x": x, "code": code, "y": y})
    train, test = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    # The test labels of the rare value are noisy: the test does not confirm the tie.
    te = test.code == "Z9"
    test.loc[te, "y"] = rng.integers(0, 2, int(te.sum()))
    r = run(CHECK, test, train, model=fit_logreg(train))
    named = [f for f in r.findings if f.column == "code" and f.status != "pass"]
    assert not named, named[0].message
    assert not [f for f in r.findings if "backdoor" in f.message and f.status == "pass"]


def test_regression_noise_wider_in_one_segment_is_not_a_cluster_of_poisoned_labels():
    """Wages wider in one degree category, in train and test alike."""
    rng = np.random.default_rng(6)
    n = 3000
    x = rng.normal(size=n)
    degree = rng.choice(["none", "bachelor", "master", "phd"], n)
    scale = np.where(degree == "phd", 6.0, 0.7)
    df = pd.DataFrame({"x": x, "degree": degree, "y": 3 * x + rng.normal(size=n) * scale})
    train, test = df.iloc[:2000].reset_index(drop=True), df.iloc[2000:].reset_index(drop=True)
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(train[["x"]], train["y"])
    r = run(CHECK, test, train, model=_Only(model, ["x"]), task="regression")
    clusters = [f for f in r.findings if "cluster" in f.message and f.status != "pass"]
    assert not clusters, clusters[0].message


class _Only:
    """A fitted model that reads some columns of the frame it is given."""

    def __init__(self, model, cols):
        self.model, self.cols = model, cols

    def predict(self, X):
        return self.model.predict(X[self.cols])


@pytest.mark.parametrize(
    ("c", "expected", "share", "status"),
    [
        (0, 1.0, 0.0, "pass"),
        (4, 3.0, 0.017, "pass"),  # titanic: 4 groups where noise gives 3
        (40, 13.7, 0.052, "fail"),
        (40, 13.7, 0.0499, "warn"),
        (40, 13.7, 0.0049, "pass"),  # beyond noise, but too few rows to matter
        (40, 20.01, 0.01, "pass"),  # significant, but the excess is under 0.5% of rows
        (40, 20.0, 0.01, "warn"),
        (12, None, 0.02, "pass"),  # no probabilities: cannot tell noise from tampering
        (7, 0.1, 0.02, "pass"),  # titanic under GBM: 4 of 4 groups where 0.6 expected
        (8, 0.1, 0.02, "warn"),
    ],
)
def test_judge_conflicts_boundaries(c, expected, share, status):
    assert judge_conflicts(c, expected, share, TH)[0] == status


def test_judge_conflicts_alpha_boundary():
    from scipy.stats import poisson

    p = float(poisson.sf(9, 2.0))  # 10 conflicts where 2 are expected
    assert judge_conflicts(10, 2.0, 0.02, {**TH, "conflict_alpha": p})[0] == "pass"
    assert judge_conflicts(10, 2.0, 0.02, {**TH, "conflict_alpha": p * 1.0001})[0] == "warn"


@pytest.mark.parametrize(
    ("p", "held", "expected_h", "p_absent", "confirms", "status"),
    [
        (1e-9, 0, 12.0, 1e-6, False, "warn"),
        (1e-9, 3, 12.0, 0.001, False, "warn"),  # 3 <= 0.25 * 12
        (1e-9, 4, 12.0, 0.001, False, None),  # 4 > 0.25 * 12: it recurs
        (1e-9, 0, 12.0, 0.01, False, None),  # shortfall not beyond chance
        (1e-5, 0, 12.0, 1e-6, False, None),  # combined evidence not below the limit
        (1e-9, 11, 12.0, 0.4, True, "pass"),  # the test labels show the same tie
        (1e-9, None, 0.0, 1.0, False, "warn"),  # no held-out data to check
    ],
)
def test_judge_trigger_boundaries(p, held, expected_h, p_absent, confirms, status):
    assert judge_trigger(p, 1e-5, held, expected_h, p_absent, confirms, TH)[0] == status


def test_judge_train_only_is_an_exact_conditional_test():
    from scipy.stats import binom

    ok, p = judge_train_only(20, 2, 6.0, 3.0, 0.001)
    assert p == pytest.approx(float(binom.sf(19, 22, 6.0 / 9.0)))
    assert ok is (p < 0.001)
    assert judge_train_only(20, 10, 6.0, 3.0, 0.001)[0] is False  # as noisy in test
    assert judge_train_only(0, 0, 6.0, 3.0, 0.001) == (False, 1.0)


def test_one_extreme_influential_row_is_a_data_quality_note_not_poisoning():
    """One real extreme row (a price spike 50 SDs out, a 4.13-carat stone) pulls a
    linear fit hard and its label goes against the trend: worth a look, but one row
    is not an attack. It is named in a pass note, and the check passes."""
    df = make_binary(2400, seed=11)
    train, test = df.iloc[:1500].reset_index(drop=True), df.iloc[1500:].reset_index(drop=True)
    spike = train.iloc[:1].assign(x1=40.0, y=0)
    r = run(CHECK, test, pd.concat([train, spike], ignore_index=True))
    f = [f for f in r.findings if "Cook's distance" in f.message]
    assert f and f[0].status == "pass", f and f[0].message
    assert f[0].message.startswith("Data quality note") and set(f[0].rows) == {1500}
    assert f[0].metrics["held_out_rows_searched"] == 900
    assert r.status == "pass", r.summary
    assert r.metrics["influential_rows"] == 1
    assert "1 data-quality note names rows" in r.summary


def weak_region(seed: int, n: int = 3000, n_test: int = 700) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Labels that follow x1 five times more weakly in the 'west' zone, in train and
    held-out rows alike: a model that is weak there, not flipped labels."""
    rng = np.random.default_rng(seed)
    m = n + n_test
    x1, x2 = rng.normal(size=(2, m))
    zone = rng.choice(["north", "south", "east", "west"], m)
    beta = np.where(zone == "west", 0.4, 2.0)
    y = (beta * x1 + rng.logistic(size=m) > 0).astype(int)
    df = pd.DataFrame({"x1": x1, "x2": x2, "zone": zone, "y": y})
    return df.iloc[:n].reset_index(drop=True), df.iloc[n:].reset_index(drop=True)


def test_a_region_where_the_model_is_equally_weak_in_held_out_rows_is_not_flipped_labels():
    """The train cell's recalibration slope is flat (0.18); its 170 held-out rows, as
    weak in truth, land above 0.5 by chance, which passed the old hard threshold. The
    held-out cell must be steeper beyond chance, Bonferroni over the cells searched."""
    train, test = weak_region(2)
    r = run(CHECK, test, train, model=fit_logreg(train))
    f = [f for f in r.findings if "cluster" in f.message and f.status == "warn"]
    assert not f, f[0].message


def test_flipped_labels_in_one_zone_of_train_only_are_still_named():
    """The same data with 40% of the north zone's train labels flipped (held-out clean)."""
    train, test = weak_region(2)
    rng = np.random.default_rng(3)
    train = train.copy()
    north = np.flatnonzero(train.zone == "north")
    flip = rng.choice(north, int(0.4 * len(north)), replace=False)
    train.loc[flip, "y"] = 1 - train.loc[flip, "y"]
    r = run(CHECK, test, train, model=fit_logreg(train))
    f = [f for f in r.findings if "cluster" in f.message and f.status == "warn"]
    assert [x.column for x in f] == ["zone"] and "'north'" in f[0].message, r.summary
    assert f[0].metrics["p_train_only"] < 0.01 / f[0].metrics["cells_searched"]
    assert "training data only" in f[0].message


@pytest.mark.parametrize(
    ("k", "held", "status"),
    [
        (1, 0, "pass"),  # one extreme row: heavy tails
        (7, 0, "pass"),  # fewer than influence_min_rows
        (8, 0, "pass"),  # 0.7 ** 8 = 0.058: not train-only beyond chance
        (13, 0, "warn"),  # 0.7 ** 13 = 0.0097
        (25, 11, "pass"),  # as many in held-out rows as their share predicts
        (8, None, "warn"),  # no labelled held-out data: the count alone
        (7, None, "pass"),
    ],
)
def test_judge_influence_boundaries(k, held, status):
    assert judge_influence(k, held, 2800, 1200, TH)[0] == status


def test_judge_influence_p_is_the_exact_conditional_test():
    from scipy.stats import binom

    _, p, _ = judge_influence(13, 2, 2800, 1200, TH)
    assert p == pytest.approx(float(binom.sf(12, 15, 0.7)))


@pytest.mark.parametrize(
    ("slope", "p_flat", "against", "held", "held_slope", "p_steeper", "flipped"),
    [
        (0.1, 1e-9, 40, 120, 0.9, 9.9e-5, True),  # 9.9e-5 < 0.01 / 100
        (0.1, 1e-9, 40, 120, 0.9, 1e-4, False),  # not below 0.01 / 100
        (0.1, 1e-5, 40, 120, 0.9, 1e-8, False),  # flat only at 1e-5 >= 0.001 / 100
        (0.3, 1e-9, 40, 120, 0.9, 1e-8, False),  # slope above cluster_slope
        (-0.1, 1e-9, 40, 120, 0.9, 1e-8, False),  # reversed: misfit, not noise
        (0.1, 1e-9, 7, 120, 0.9, 1e-8, False),  # too few rows against the model
        (0.1, 1e-9, 40, 14, 0.9, 1e-8, False),  # too few held-out rows
        (0.1, 1e-9, 40, 120, 0.5, 1e-8, False),  # held-out as flat: misfit
        (0.1, 1e-9, 40, None, np.nan, 1.0, True),  # no labelled held-out data
    ],
)
def test_judge_flipped_slice_boundaries(
    slope, p_flat, against, held, held_slope, p_steeper, flipped
):
    got = judge_flipped_slice(slope, p_flat, against, held, held_slope, p_steeper, 100, TH)
    assert got[0] is flipped, got[1]


def test_pile_up_judge_needs_many_suspects_beyond_chance_and_a_reversed_binary_ranking():
    th = {"cluster_min_issues": 8, "cluster_ratio": 2.0}
    nan = float("nan")
    # 20 suspects where 4 are expected, beyond chance: a pile-up (regression/multiclass).
    assert judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, False, nan, th)
    # Too few suspects in the sample or the cell, under the ratio, or within chance.
    assert not judge_pile_up(7, 7, 1.0, 1e-8, 1e-4, False, nan, th)
    assert not judge_pile_up(40, 7, 1.0, 1e-8, 1e-4, False, nan, th)
    assert not judge_pile_up(40, 20, 11.0, 1e-8, 1e-4, False, nan, th)
    assert not judge_pile_up(40, 20, 4.0, 1e-3, 1e-4, False, nan, th)
    # Binary labels: only where the model's ranking is reversed (slope below 0).
    assert judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, True, -0.3, th)
    assert not judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, True, 0.4, th)
    assert not judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, True, nan, th)
