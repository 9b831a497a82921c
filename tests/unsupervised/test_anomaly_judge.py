"""The verdicts of the anomaly checks, judged from hand-built measurements (no data, no
model): each threshold is tried at, just under and just over its value."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.core.registry import get_check
from assay.unsupervised.anomaly import (
    Detection,
    Drivers,
    RateDrift,
    judge_detection,
    judge_drivers,
    judge_rate_drift,
)

RATE_DRIFT = get_check("anomaly.rate_drift").thresholds  # alpha 0.05, ratio 1.5 / 2
DETECTION = get_check("anomaly.detection").thresholds  # recall_warn 0.5
DRIVERS = get_check("anomaly.drivers").thresholds  # dominant_share 0.5


def rate_drift(ratio: float, p_value: float = 1e-6) -> RateDrift:
    return RateDrift(
        reference_rate=0.05,
        current_rate=0.05 * ratio,
        change=0.05 * (ratio - 1),
        change_low=0.0,
        change_high=0.1,
        p_value=p_value,
        ratio=ratio,
    )


@pytest.mark.parametrize(
    ("ratio", "status"),
    [
        (1.0, "pass"),
        (1.49, "pass"),
        (1.5, "warn"),
        (1.99, "warn"),
        (2.0, "fail"),
        (6.0, "fail"),
        # fewer flags count the same way: half the rate is a two-fold change
        (1 / 1.49, "pass"),
        (1 / 1.5, "warn"),
        (0.5, "fail"),
    ],
)
def test_rate_drift_ratio_thresholds(ratio, status):
    assert judge_rate_drift(rate_drift(ratio), RATE_DRIFT) == status


def test_rate_drift_needs_a_clear_change():
    """A tripled rate that chance explains (p above alpha) passes; at alpha it alarms."""
    assert judge_rate_drift(rate_drift(3.0, p_value=0.0501), RATE_DRIFT) == "pass"
    assert judge_rate_drift(rate_drift(3.0, p_value=0.05), RATE_DRIFT) == "fail"
    assert judge_rate_drift(rate_drift(1.5, p_value=0.05), RATE_DRIFT) == "warn"


def test_rate_drift_thresholds_are_read_from_the_parameters():
    stricter = {**RATE_DRIFT, "ratio_warn": 1.2, "ratio_fail": 1.4}
    assert judge_rate_drift(rate_drift(1.3), stricter) == "warn"
    assert judge_rate_drift(rate_drift(1.3), RATE_DRIFT) == "pass"


GOOD_DETECTOR = Detection(
    pr_auc=0.8,
    pr_auc_low=0.7,
    pr_auc_high=0.9,
    prevalence=0.03,
    recall=0.9,
    recall_low=0.8,
    recall_high=0.95,
    precision=0.6,
    precision_low=0.5,
    precision_high=0.7,
    caught=41,
    flagged=68,
    anomalies=45,
    rows=1500,
)


def test_detection_a_good_detector_passes():
    assert judge_detection(GOOD_DETECTOR, DETECTION) == "pass"


@pytest.mark.parametrize(
    ("pr_auc_low", "status"),
    [(0.03, "fail"), (0.0, "fail"), (0.0301, "pass")],
)
def test_detection_fails_when_not_clearly_above_random(pr_auc_low, status):
    """Random flagging gets a PR-AUC equal to the prevalence (0.03): the interval's low
    end must be above it."""
    m = replace(GOOD_DETECTOR, pr_auc_low=pr_auc_low)
    assert judge_detection(m, DETECTION) == status


@pytest.mark.parametrize(("recall", "status"), [(0.5, "pass"), (0.499, "warn"), (0.0, "warn")])
def test_detection_warns_under_the_recall_level(recall, status):
    assert judge_detection(replace(GOOD_DETECTOR, recall=recall), DETECTION) == status


def test_detection_no_better_than_random_fails_even_with_high_recall():
    m = replace(GOOD_DETECTOR, pr_auc=0.04, pr_auc_low=0.02, recall=1.0)
    assert judge_detection(m, DETECTION) == "fail"


@pytest.mark.parametrize(
    ("top_share", "n_features", "status"),
    [
        (0.2, 5, "pass"),
        (0.49, 5, "pass"),
        (0.5, 5, "warn"),  # half of the flagged rows are most extreme in one column
        (1.0, 3, "warn"),
        (1.0, 2, "pass"),  # with two features one of them always holds half: not a signal
    ],
)
def test_drivers_warn_on_one_dominant_feature(top_share, n_features, status):
    m = Drivers(flagged=60, top_feature="f0", top_share=top_share, n_features=n_features)
    assert judge_drivers(m, DRIVERS) == status


def test_drivers_dominant_share_is_read_from_the_parameters():
    m = Drivers(flagged=60, top_feature="f0", top_share=0.4, n_features=5)
    assert judge_drivers(m, {**DRIVERS, "dominant_share": 0.4}) == "warn"
    assert judge_drivers(m, DRIVERS) == "pass"
