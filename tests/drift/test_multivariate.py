"""``drift.multivariate``: a change no single column shows is caught and its features named."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from assay.drift import drift

CONFIG = {"include": ["drift.features", "drift.multivariate"], "n_bootstrap": 100}


def tables(n: int, correlated: bool, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=n)
    b = 0.95 * a + np.sqrt(1 - 0.95**2) * rng.normal(size=n) if correlated else rng.normal(size=n)
    return pd.DataFrame(
        {"a": a, "b": b, "noise": rng.normal(size=n), "group": rng.choice(["u", "v", "w"], n)}
    )


@pytest.fixture(scope="module")
def joint_change():
    return drift(tables(3000, False, 1), tables(2000, True, 2), config=CONFIG)


def test_joint_change_is_caught_and_named(joint_change):
    mv = joint_change.check("drift.multivariate")
    assert mv.status == "fail", mv.summary
    assert mv.metrics["auc_low"] >= 0.7
    [f] = mv.findings
    assert set(f.columns[:2]) == {"a", "b"}
    assert "'a'" in mv.summary and "'b'" in mv.summary
    kinds = [c["kind"] for c in mv.details["charts"]]
    assert kinds == ["intervals", "bars"]
    # No single column moved: the univariate check stays quiet.
    assert joint_change.check("drift.features").status == "pass"


def test_clean_data_passes():
    r = drift(tables(3000, False, 3), tables(2000, False, 4), config=CONFIG)
    mv = r.check("drift.multivariate")
    assert mv.status == "pass", mv.summary
    assert mv.metrics["auc_low"] < 0.55


def test_sampling_is_stated_and_order_free():
    ref, cur = tables(3000, False, 5), tables(2000, True, 6)
    cfg = {**CONFIG, "thresholds": {"drift.multivariate": {"max_rows": 800}}}
    a = drift(ref, cur, config=cfg).check("drift.multivariate")
    b = drift(ref.sample(frac=1, random_state=3), cur[::-1], config=cfg).check("drift.multivariate")
    rows = a.details["rows_used"]
    assert rows["sampled"] and rows["reference"] == rows["current"] == 800
    assert rows["reference_available"] == 3000
    assert "sample of 800 of 3,000" in a.summary
    assert a.metrics == b.metrics
