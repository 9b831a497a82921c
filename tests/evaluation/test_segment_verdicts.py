"""``evaluation.weak_segments`` verdicts (#14): single conditions are tested in their own
family (pairs do not dilute them), the test of a classifier's errors uses the variance
under its null, and a pair gives way to the single condition that explains its rows.

The decision functions are data-free and tested at their exact boundaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.evaluation.segments import judge_pair, judge_segment

from .depth_helpers import run_one

CHECK = "evaluation.weak_segments"


def islands(n: int, seed: int, *, wrong: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, object]:
    """A strong model (about 0.98 accurate) and a test table with an 'island' column whose
    rarest value has about 50 test rows, ``wrong`` of them given the label the model does
    not predict; ten noise columns give the search many candidate segments."""
    from sklearn.linear_model import LogisticRegression

    from .depth_helpers import pipeline

    def table(m: int, s: int) -> pd.DataFrame:
        rng = np.random.default_rng(s)
        df = pd.DataFrame({"a": rng.normal(size=m)})
        df["island"] = rng.choice(["Biscoe", "Dream", "Torgersen"], m, p=[0.45, 0.45, 0.10])
        for j in range(10):
            df[f"noise{j}"] = rng.normal(size=m)
        df["y"] = (rng.random(m) < 1 / (1 + np.exp(-20 * df.a))).astype(int)
        return df

    train, test = table(3000, seed), table(n, seed + 1000)
    model = pipeline(LogisticRegression(max_iter=500), ["a"])
    model.fit(train.drop(columns="y"), train["y"])
    if wrong:
        pred = model.predict(test.drop(columns="y"))
        rows = np.flatnonzero((test.island == "Torgersen").to_numpy() & (pred == test.y))
        flip = np.random.default_rng(seed).choice(rows, wrong, replace=False)
        y = test.y.to_numpy().copy()
        y[flip] = 1 - y[flip]
        test = test.assign(y=y)
    return train, test, model


def test_fifteen_wrong_labels_of_fifty_in_one_island_are_named():
    train, test, model = islands(500, 1, wrong=15)
    r = run_one(CHECK, train, test, model, n_bootstrap=30)
    assert r.status in ("warn", "fail"), r.summary
    first = r.findings[0]
    assert first.group == "island = Torgersen", [f.group for f in r.findings]
    assert first.metrics["q_value"] < 0.05
    assert r.metrics["n_segments_tested"] > 100


def test_clean_islands_are_quiet_in_at_least_95_percent_of_seeds():
    alarms = []
    for seed in range(20):
        train, test, model = islands(500, seed + 1)
        r = run_one(CHECK, train, test, model, n_bootstrap=10)
        alarms.append(r.status != "pass")
    assert sum(alarms) <= 1, alarms


def test_a_slice_on_one_column_is_named_by_that_column_not_by_a_proxy_pair():
    """Labels wrong in one island; two noisy proxies of that island ('p' and 'q') pick
    out nearly the same rows. The single condition is reported, not the proxy pair."""
    train, test, model = islands(1500, 3, wrong=45)
    rng = np.random.default_rng(9)
    t = (test.island == "Torgersen").to_numpy()
    test = test.assign(
        p=np.where(t | (rng.random(len(test)) < 0.03), "x", "z"),
        q=np.where(t | (rng.random(len(test)) < 0.03), "x", "z"),
    )
    train = train.assign(p="z", q="z")
    r = run_one(CHECK, train, test, model, n_bootstrap=30)
    assert r.status in ("warn", "fail"), r.summary
    groups = [f.group for f in r.findings]
    assert groups[0] in ("island = Torgersen", "p = x", "q = x"), groups
    assert not any(" and " in g for g in groups), groups


@pytest.mark.parametrize(
    ("q", "effect", "expected"),
    [
        (0.049, 0.05, "warn"),
        (0.05, 0.05, "warn"),
        (0.0501, 0.30, "pass"),
        (0.001, 0.0499, "pass"),
        (0.001, 0.15, "fail"),
        (0.001, 0.1499, "warn"),
    ],
)
def test_judge_segment_boundaries(q, effect, expected):
    status, reason = judge_segment(q, effect, fdr=0.05, warn_effect=0.05, fail_effect=0.15)
    assert status == expected
    assert reason


@pytest.mark.parametrize(
    ("pair", "parents", "overlap", "single_effect", "expected"),
    [
        # worse than both parents by half the warning gap: the pair adds
        (0.30, (0.10, 0.275), 0.5, None, True),
        (0.30, (0.10, 0.2751), 0.5, None, False),
        # mostly the rows of a single condition and not materially worse: the single wins
        (0.30, (0.0, 0.0), 0.8, 0.276, False),
        (0.30, (0.0, 0.0), 0.79, 0.276, True),
        (0.30, (0.0, 0.0), 0.8, 0.275, True),
    ],
)
def test_judge_pair_boundaries(pair, parents, overlap, single_effect, expected):
    keep, reason = judge_pair(pair, parents, overlap, single_effect, margin=0.025, same_rows=0.8)
    assert keep is expected, reason
