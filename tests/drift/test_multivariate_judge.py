"""The verdict of ``drift.multivariate``, judged from a hand-built domain-classifier
measurement (no data, no classifier): the low end of the held-out AUC's interval against
``auc_warn`` and ``auc_fail``, at, under and over each."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.core.registry import get_check
from assay.drift.multivariate import MultivariateDrift, judge_multivariate_drift

TH = get_check("drift.multivariate").thresholds  # auc_warn 0.55, auc_fail 0.7

M = MultivariateDrift(
    auc=0.5,
    auc_low=0.47,
    auc_high=0.53,
    reference="train",
    reference_rows=3000,
    current_rows=2000,
    reference_available=3000,
    current_available=2000,
)


@pytest.mark.parametrize(
    ("low", "status"),
    [(0.47, "pass"), (0.5499, "pass"), (0.55, "warn"), (0.6999, "warn"), (0.7, "fail")],
)
def test_the_low_end_of_the_interval_is_judged(low, status):
    assert judge_multivariate_drift(replace(M, auc=low + 0.05, auc_low=low), TH) == status


def test_a_high_auc_with_a_wide_interval_does_not_alarm():
    """Chance alone must not raise an alarm: 0.72 whose interval reaches down to 0.5."""
    assert judge_multivariate_drift(replace(M, auc=0.72, auc_low=0.5), TH) == "pass"


def test_without_an_interval_the_auc_itself_is_judged():
    m = replace(M, auc_low=None, auc_high=None)
    assert judge_multivariate_drift(replace(m, auc=0.75), TH) == "fail"
    assert judge_multivariate_drift(replace(m, auc=0.6), TH) == "warn"
    assert judge_multivariate_drift(replace(m, auc=0.52), TH) == "pass"


def test_thresholds_are_read_from_the_parameters():
    m = replace(M, auc=0.66, auc_low=0.62)
    assert judge_multivariate_drift(m, TH) == "warn"
    assert judge_multivariate_drift(m, {**TH, "auc_fail": 0.6}) == "fail"
    assert judge_multivariate_drift(m, {**TH, "auc_warn": 0.65, "auc_fail": 0.9}) == "pass"
