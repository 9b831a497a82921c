"""Metric kernels against scikit-learn: point estimates to 1e-9, with ties,
string labels, mismatched dtypes and sample weights."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm

from assay.evaluation._metrics import (
    EvalData,
    MetricPlan,
    available_metrics,
    compute_metrics,
    encode_labels,
    equal_mass_bins,
    expected_calibration_error,
)
from assay.evaluation._ranking import RankPlan, average_precision, roc_auc

TOL = 1e-9


def _binary(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.choice(["no", "yes"], n)
    s = np.round(np.clip(rng.random(n) + 0.25 * (y == "yes"), 0, 1), 1)  # heavy ties
    proba = np.column_stack([1 - s, s])
    pred = np.where(s >= 0.5, "yes", "no")
    return y, pred, proba, rng.integers(0, 4, n).astype(float)


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_string_labels_match_sklearn(weighted):
    y, pred, proba, w = _binary()
    sw = w if weighted else None
    s, yb = proba[:, 1], y == "yes"
    data = EvalData.from_arrays(
        "binary", y, pred, proba, classes=["no", "yes"], positive_class="yes"
    )
    got = compute_metrics(data, sample_weight=sw)
    expected = {
        "accuracy": skm.accuracy_score(y, pred, sample_weight=sw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, pred, sample_weight=sw),
        "precision": skm.precision_score(y, pred, pos_label="yes", sample_weight=sw),
        "recall": skm.recall_score(y, pred, pos_label="yes", sample_weight=sw),
        "f1": skm.f1_score(y, pred, pos_label="yes", sample_weight=sw),
        "roc_auc": skm.roc_auc_score(yb, s, sample_weight=sw),
        "pr_auc": skm.average_precision_score(yb, s, sample_weight=sw),
        "log_loss": skm.log_loss(y, proba, labels=["no", "yes"], sample_weight=sw),
        "brier": skm.brier_score_loss(yb, s, sample_weight=sw),
    }
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=TOL), name


def test_positive_class_is_respected():
    y, pred, proba, _ = _binary()
    data = EvalData.from_arrays(
        "binary", y, pred, proba, classes=["no", "yes"], positive_class="no"
    )
    got = compute_metrics(data, ["precision", "recall", "roc_auc", "pr_auc", "brier"])
    yn = y == "no"
    assert got["precision"] == pytest.approx(skm.precision_score(y, pred, pos_label="no"))
    assert got["recall"] == pytest.approx(skm.recall_score(y, pred, pos_label="no"))
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(yn, proba[:, 0]), abs=TOL)
    assert got["pr_auc"] == pytest.approx(skm.average_precision_score(yn, proba[:, 0]), abs=TOL)
    assert got["brier"] == pytest.approx(skm.brier_score_loss(yn, proba[:, 0]), abs=TOL)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_matches_sklearn(weighted):
    rng = np.random.default_rng(1)
    n, k = 1200, 4
    y = rng.integers(0, k, n)
    p = np.round(rng.dirichlet(np.ones(k), n) + 0.3 * np.eye(k)[y], 1) + 0.01
    p /= p.sum(1, keepdims=True)
    pred = np.argmax(p, 1).astype(float)  # the model answers in floats, labels are ints
    sw = rng.integers(0, 3, n).astype(float) if weighted else None
    data = EvalData.from_arrays("multiclass", y, pred, p, classes=list(range(k)))
    got = compute_metrics(data, sample_weight=sw)
    ip = pred.astype(int)
    expected = {
        "accuracy": skm.accuracy_score(y, ip, sample_weight=sw),
        "balanced_accuracy": skm.balanced_accuracy_score(y, ip, sample_weight=sw),
        "precision": skm.precision_score(y, ip, average="macro", sample_weight=sw),
        "recall": skm.recall_score(y, ip, average="macro", sample_weight=sw),
        "f1": skm.f1_score(y, ip, average="macro", sample_weight=sw),
        "roc_auc": skm.roc_auc_score(y, p, multi_class="ovr", sample_weight=sw),
        "pr_auc": skm.average_precision_score(y, p, sample_weight=sw),
        "log_loss": skm.log_loss(y, p, sample_weight=sw),
        "brier": skm.brier_score_loss(y, p, sample_weight=sw),
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=TOL), name


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_matches_sklearn(weighted):
    rng = np.random.default_rng(2)
    y = rng.normal(1000, 50, 2000)  # a large mean: R² must not lose precision
    yhat = y + rng.normal(0, 20, y.size)
    sw = rng.random(y.size) if weighted else None
    got = compute_metrics(EvalData.from_arrays("regression", y, yhat), sample_weight=sw)
    expected = {
        "mae": skm.mean_absolute_error(y, yhat, sample_weight=sw),
        "rmse": skm.root_mean_squared_error(y, yhat, sample_weight=sw),
        "r2": skm.r2_score(y, yhat, sample_weight=sw),
        "mape": skm.mean_absolute_percentage_error(y, yhat, sample_weight=sw),
    }
    for name, value in expected.items():
        assert got[name] == pytest.approx(value, abs=TOL, rel=TOL), name


def test_mape_left_out_when_a_target_is_near_zero():
    y = np.array([0.0, 1.0, 2.0, 3.0])
    assert "mape" not in available_metrics(EvalData.from_arrays("regression", y, y + 1))
    assert "mape" in available_metrics(EvalData.from_arrays("regression", y + 1, y))
    assert "mape" in available_metrics(EvalData.from_arrays("regression", -y - 1, y))
    both_signs = np.array([-2.0, -1.0, 1.0, 2.0])
    assert "mape" not in available_metrics(EvalData.from_arrays("regression", both_signs, y))


@pytest.mark.parametrize("decimals", [0, 1, 2, 6])
def test_rank_metrics_with_ties_and_weights(decimals):
    rng = np.random.default_rng(decimals)
    y = rng.random(3000) < 0.3
    s = np.round(rng.random(3000) + 0.3 * y, decimals)
    w = rng.integers(0, 5, 3000).astype(float)
    for sw in (None, w):
        assert roc_auc(y, s, sample_weight=sw) == pytest.approx(
            skm.roc_auc_score(y, s, sample_weight=sw), abs=TOL
        )
        assert average_precision(y, s, sample_weight=sw) == pytest.approx(
            skm.average_precision_score(y, s, sample_weight=sw), abs=TOL
        )


def test_constant_scores_give_half_auc_and_prevalence_ap():
    y = np.array([0, 1, 1, 0, 1])
    assert roc_auc(y, np.full(5, 0.7)) == 0.5
    assert average_precision(y, np.full(5, 0.7)) == pytest.approx(0.6)


def test_integer_counts_and_float_weights_agree():
    """Bootstrap counts take an exact integer path; it must equal the float path."""
    rng = np.random.default_rng(3)
    y = rng.random(800) < 0.4
    s = np.round(rng.random(800), 2)
    counts = rng.multinomial(800, np.full(800, 1 / 800), size=25).astype(np.uint8)
    plan = RankPlan(y, s)
    auc_i, ap_i = plan(counts)
    auc_f, ap_f = plan(counts.astype(float))
    np.testing.assert_allclose(auc_i, auc_f, atol=1e-12)
    np.testing.assert_allclose(ap_i, ap_f, atol=1e-12)
    for b in range(3):
        idx = np.repeat(np.arange(800), counts[b])
        assert auc_i[b] == pytest.approx(skm.roc_auc_score(y[idx], s[idx]), abs=TOL)
        assert ap_i[b] == pytest.approx(skm.average_precision_score(y[idx], s[idx]), abs=TOL)


def test_many_weightings_at_once_equal_one_at_a_time():
    y, pred, proba, _ = _binary(400)
    data = EvalData.from_arrays(
        "binary", y, pred, proba, classes=["no", "yes"], positive_class="yes"
    )
    W = np.random.default_rng(4).integers(0, 3, (6, 400))
    batch = MetricPlan(data)(W)
    for b in range(6):
        one = compute_metrics(data, sample_weight=W[b].astype(float))
        for name, value in one.items():
            assert batch[name][b] == pytest.approx(value, abs=TOL), name


def test_encode_labels_is_robust_to_dtypes():
    assert encode_labels(np.array([1.0, 0.0, 2.0]), [0, 1]).tolist() == [1, 0, -1]
    assert encode_labels(np.array([True, False]), [0, 1]).tolist() == [1, 0]
    assert encode_labels(np.array([1, 0]), [False, True]).tolist() == [1, 0]
    assert encode_labels(np.array(["1", "0"]), [0, 1]).tolist() == [1, 0]
    assert encode_labels(np.array(["yes", "maybe"], dtype=object), ["no", "yes"]).tolist() == [
        1,
        -1,
    ]
    assert encode_labels(np.array([3, 1], dtype=np.int32), np.array([1, 3])).tolist() == [1, 0]


def test_unknown_predicted_class_counts_as_wrong():
    data = EvalData.from_arrays(
        "multiclass", ["a", "b", "c"], ["a", "z", "c"], classes=["a", "b", "c"]
    )
    assert compute_metrics(data, ["accuracy"])["accuracy"] == pytest.approx(2 / 3)


def test_missing_scores_are_refused():
    proba = np.array([[0.2, 0.8], [np.nan, np.nan]])
    with pytest.raises(ValueError, match="missing"):
        EvalData.from_arrays("binary", [0, 1], [1, 1], proba, classes=[0, 1])


def test_ece_matches_a_direct_computation():
    rng = np.random.default_rng(5)
    p = rng.random(1000)
    y = (rng.random(1000) < p**2).astype(float)
    bins = equal_mass_bins(p, n_bins=10)
    assert np.bincount(bins).tolist() == [100] * 10
    direct = sum(
        (bins == b).mean() * abs(p[bins == b].mean() - y[bins == b].mean()) for b in range(10)
    )
    assert expected_calibration_error(y, p, n_bins=10) == pytest.approx(direct, abs=TOL)
    assert expected_calibration_error(p > 0.5, np.where(p > 0.5, 1.0, 0.0)) == 0.0


def test_equal_mass_bins_keep_ties_together():
    p = np.array([0.1] * 50 + [0.9] * 50 + [0.5] * 10)
    bins = equal_mass_bins(p, n_bins=10)
    for value in (0.1, 0.5, 0.9):
        assert len(set(bins[p == value])) == 1
