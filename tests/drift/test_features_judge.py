"""The verdict of ``drift.features``, judged from hand-built column comparisons (no data):
the share of drifting columns against ``drift_share_fail`` and their count against
``drifted_columns_warn``, at, under and over each; untested columns do not count."""

from __future__ import annotations

import pytest

from assay.core.registry import get_check
from assay.drift._univariate import ColumnDrift
from assay.drift.features import FeatureDrift, judge_feature_drift

TH = get_check("drift.features").thresholds  # drift_share_fail 0.5, drifted_columns_warn 1


def column(name: str, drifted: bool = False, tested: bool = True) -> ColumnDrift:
    return ColumnDrift(
        name=name,
        column=name,
        kind="numeric",
        method="wasserstein" if tested else "not_tested",
        reason="",
        fallback=False,
        n_reference=3000,
        n_current=2000,
        reference_missing=0.0,
        current_missing=0.0,
        statistic=0.3 if drifted else 0.02,
        threshold=0.1,
        drifted=drifted,
    )


def measured(drifted: int, steady: int, untested: int = 0) -> FeatureDrift:
    cols = (
        [column(f"d{i}", drifted=True) for i in range(drifted)]
        + [column(f"s{i}") for i in range(steady)]
        + [column(f"u{i}", tested=False) for i in range(untested)]
    )
    return FeatureDrift(
        columns=tuple(cols), reference="train", reference_rows=3000, current_rows=2000
    )


@pytest.mark.parametrize(
    ("drifted", "steady", "status"),
    [
        (0, 8, "pass"),
        (1, 7, "warn"),  # one drifting column warns
        (3, 5, "warn"),  # 37.5%: under half
        (4, 4, "fail"),  # half of the tested columns: at the dataset-drift level
        (7, 1, "fail"),
    ],
)
def test_share_and_count_of_drifting_columns(drifted, steady, status):
    assert judge_feature_drift(measured(drifted, steady), TH) == status


def test_untested_columns_do_not_count():
    m = measured(1, 1, untested=6)
    assert m.share == 0.5
    assert judge_feature_drift(m, TH) == "fail"
    assert judge_feature_drift(measured(0, 0, untested=3), TH) == "pass"


def test_thresholds_are_read_from_the_parameters():
    m = measured(2, 8)
    assert judge_feature_drift(m, {**TH, "drifted_columns_warn": 3}) == "pass"
    assert judge_feature_drift(m, {**TH, "drifted_columns_warn": 2}) == "warn"
    assert judge_feature_drift(m, {**TH, "drift_share_fail": 0.2}) == "fail"
    assert judge_feature_drift(m, {**TH, "drift_share_fail": 0.21}) == "warn"
