"""data.target_leakage verdicts (issue #14): a strong honest predictor is not a leak;
a noisy copy of the label is named. The decision is ``judge_leakage`` (numbers in,
verdict out), tested at its boundaries; the audits below run on synthetic data shaped
like the real cases that raised false alarms or were missed."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from assay.data import leakage

from .helpers import run

CHECK = "data.target_leakage"
TH = {
    "auc_fail": 0.98,
    "auc_certain": 0.995,
    "r2_fail": 0.95,
    "auc_leak_min": 0.8,
    "auc_null": 0.75,
    "step_share_min": 0.88,
    "dependence_max": 0.1,
    "tie_alpha": 0.001,
    "alpha": 0.05,
}


def _fit(train: pd.DataFrame, regression: bool = False):
    from sklearn.linear_model import LinearRegression, LogisticRegression

    est = LinearRegression() if regression else LogisticRegression(max_iter=1000)
    return est.fit(train.drop(columns="y"), train["y"])


def _audit(df: pd.DataFrame, regression: bool = False, with_model: bool = True):
    train, test = df.iloc[: len(df) * 2 // 3], df.iloc[len(df) * 2 // 3 :]
    return run(CHECK, test, train=train, model=_fit(train, regression) if with_model else None)


# -- the judge, at its boundaries ---------------------------------------------------


def _j(score, step=1.0, dep=0.0, q=1e-9, task="binary", **th):
    return leakage.judge_leakage(score, step, dep, q, task, {**TH, **th})


def test_judge_near_perfect_fails_in_every_task():
    assert _j(0.98)[0] == "fail" and _j(0.9799, step=0.5)[0] == "pass"
    assert _j(0.98, task="multiclass")[0] == "fail"
    assert _j(0.95, task="regression")[0] == "fail"
    assert _j(0.95, dep=0.5, task="regression")[0] == "fail"  # no classes: no dependence


def test_judge_near_perfect_measurement_tied_to_its_siblings_needs_certainty():
    """Breast cancer: 'worst perimeter' reaches AUC 0.98 on 400 rows, tied (ρ ~0.98
    within class) to 'worst radius' and 'worst area'."""
    assert _j(0.98, dep=0.1)[0] == "fail"
    assert _j(0.98, dep=0.1001, step=0.8)[0] == "pass"
    assert _j(0.9949, dep=0.98, step=0.8)[0] == "pass"
    assert _j(0.995, dep=0.98, step=0.8)[0] == "fail"
    assert _j(0.9499, task="regression")[0] == "pass"


def test_judge_step_like_independent_copy_of_a_binary_label_fails():
    status, reason = _j(0.8, step=0.88, dep=0.1, q=0.049)
    assert status == "fail" and "copy of the target" in reason
    assert _j(0.7999)[0] == "pass"  # not material
    assert _j(0.9, step=0.8799)[0] == "pass"  # rises smoothly: an honest predictor's shape
    assert _j(0.9, dep=0.1001)[0] == "pass"  # tied to other columns within each class
    assert _j(0.9, q=0.05)[0] == "pass"  # not clearly above auc_null
    assert _j(0.9, dep=math.nan)[0] == "fail"  # no other column to compare with


def test_judge_strength_alone_is_no_alarm_and_regression_has_no_step_rule():
    assert _j(0.97, step=0.84, dep=0.6)[0] == "pass"  # a tumour's worst concave points
    assert _j(0.95, task="multiclass")[0] == "fail"  # a class code with noise
    assert _j(0.95, step=0.8, task="multiclass")[0] == "pass"
    assert _j(0.9, task="regression")[0] == "pass"
    assert _j(math.nan)[0] == "pass"


# -- audits on data shaped like the reported cases ----------------------------------


def test_dominant_honest_feature_passes():
    """y ~ Bernoulli(sigmoid(3x)): x alone reaches AUC ~0.92 and carries nearly all of the
    model's skill (like a card balance for default); it rises smoothly, so it is no leak."""
    rng = np.random.default_rng(1)
    n = 4500
    x = rng.normal(size=(n, 3))
    y = (rng.random(n) < expit(3 * x[:, 0] + 0.3 * x[:, 1])).astype(int)
    df = pd.DataFrame({"balance": x[:, 0], "income": x[:, 1], "age": x[:, 2], "y": y})
    r = _audit(df)
    assert r.status == "pass", r.summary
    assert r.metrics["max_feature_score"] > 0.9
    assert r.metrics["max_feature_score"] >= r.metrics["model_score"] - 0.03


@pytest.mark.parametrize(
    ("slope", "noise", "n", "least"), [(4, 0.3, 3000, 0.9), (10, 0.2, 600, 0.98)]
)
def test_many_strong_correlated_honest_features_pass(slope, noise, n, least):
    """Like breast cancer: a latent severity measured by ten noisy columns, each AUC
    ~0.9+ (or, on 400 training rows, up to ~0.98: 'almost perfect', yet tied to the
    other measurements within each class)."""
    rng = np.random.default_rng(2)
    z = rng.normal(size=n)
    y = (rng.random(n) < expit(slope * z)).astype(int)
    cols = {f"m{i}": z + rng.normal(0, noise, n) for i in range(10)}
    r = _audit(pd.DataFrame({**cols, "y": y}))
    assert r.status == "pass", r.summary
    assert r.metrics["max_feature_score"] >= least


def test_carat_like_regression_driver_passes():
    """y = a * carat^1.7 * lognormal noise: carat alone reaches R² ~0.87."""
    rng = np.random.default_rng(3)
    n = 3000
    carat = rng.gamma(4, 0.2, n)
    y = 4000 * carat**1.7 * rng.lognormal(0, 0.25, n)
    df = pd.DataFrame(
        {
            "carat": carat,
            "x": carat ** (1 / 3) + rng.normal(0, 0.02, n),
            "depth": rng.normal(size=n),
        }
    ).assign(y=y)
    r = _audit(df, regression=True)
    assert r.status == "pass", r.summary
    assert 0.8 < r.metrics["max_feature_score"] < 0.95


@pytest.fixture(scope="module")
def noisy_copy_frame() -> pd.DataFrame:
    """An honest model at AUC ~0.95 and a copy of the label with 11% of it flipped
    (AUC ~0.89 alone)."""
    rng = np.random.default_rng(4)
    n = 4500
    z = rng.normal(size=(n, 4))
    y = (rng.random(n) < expit(z @ np.array([3.5, 2.2, 1.3, 0.8]))).astype(int)
    leak = np.where(rng.random(n) < 0.11, 1 - y, y) + rng.normal(0, 0.05, n)
    return pd.DataFrame({**{f"f{i}": z[:, i] for i in range(4)}, "review_outcome": leak, "y": y})


def test_noisy_label_copy_next_to_a_strong_honest_model_is_named(noisy_copy_frame):
    r = _audit(noisy_copy_frame)
    assert r.status in ("warn", "fail"), r.summary
    assert [f.column for f in r.findings] == ["review_outcome"]
    m = r.findings[0].metrics
    assert 0.85 < m["score"] < 0.92
    assert m["step_share"] >= 0.88 and m["within_class_dependence"] <= 0.1
    assert m["q_value"] < 0.001


def test_noisy_label_copy_is_named_without_a_model(noisy_copy_frame):
    r = _audit(noisy_copy_frame, with_model=False)
    assert [f.column for f in r.findings] == ["review_outcome"]


def test_multiclass_noisy_code_is_named_and_honest_features_pass():
    """A three-class label written as a code with 15% of it wrong (macro AUC ~0.89)
    fails; honest correlated measurements of the class (macro AUC ~0.85-0.9) pass."""
    rng = np.random.default_rng(8)
    n = 3000
    y = rng.choice(["low", "mid", "high"], n)
    level = (y == "mid") * 1.0 + (y == "high") * 2.0
    size = level + rng.normal(0, 0.6, n)
    df = pd.DataFrame(
        {
            "size": size,
            "weight": size + rng.normal(0, 0.4, n),
            "code": np.where(rng.random(n) < 0.15, rng.choice(["low", "mid", "high"], n), y),
            "y": y,
        }
    )
    r = run(CHECK, df.iloc[2000:], train=df.iloc[:2000])
    assert [f.column for f in r.findings] == ["code"], r.summary
    scores = {s["feature"]: s for s in r.details["scores"]}
    assert scores["size"]["score"] > 0.85 and scores["size"]["status"] == "pass"


def test_label_copy_among_many_small_sample_columns_is_named():
    """Breast cancer's size (400 training rows, 30 columns): chance alone ties a label
    copy to some column at |ρ| ~0.1-0.2 within a class; only clear ties exonerate."""
    rng = np.random.default_rng(9)
    n = 570
    z = rng.normal(size=n)
    y = (rng.random(n) < expit(6 * z)).astype(int)
    cols = {f"m{i}": z + rng.normal(0, 0.5 + 0.1 * i, n) for i in range(30)}
    copy = np.where(rng.random(n) < 0.05, 1 - y, y) + rng.normal(0, 0.05, n)
    r = _audit(pd.DataFrame({**cols, "review_outcome": copy, "y": y}), with_model=False)
    assert [f.column for f in r.findings] == ["review_outcome"], r.summary
