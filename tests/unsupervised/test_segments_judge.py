"""The verdicts of ``clustering.profiles`` and ``clustering.fairness``, judged from
hand-built numbers (no data): a cluster with no feature reaching ``distinct_d`` warns; a
cluster whose largest sensitive group holds ``dominance`` of it, with the low end of its
interval ``excess`` above the group's overall share, warns. At, under and over each."""

from __future__ import annotations

import pytest

from assay.core.registry import get_check
from assay.unsupervised.segments import (
    ClusterFairness,
    ClusterProfile,
    Dominant,
    Profiles,
    judge_dominant,
    judge_fairness,
    judge_profile,
    judge_profiles,
)

PROFILES = get_check("clustering.profiles").thresholds  # distinct_d 0.5
FAIRNESS = get_check("clustering.fairness").thresholds  # dominance 0.75, excess 0.2


def profile(name: str, *ds: float) -> ClusterProfile:
    rows = tuple({"feature": f"x{i}", "d": d} for i, d in enumerate(ds))
    return ClusterProfile(name, 0.5, rows, tuple(f"x{i}" for i in range(len(ds))))


@pytest.mark.parametrize(
    ("d", "status"), [(0.2, "warn"), (0.4999, "warn"), (0.5, "pass"), (1.3, "pass")]
)
def test_a_cluster_is_distinct_from_distinct_d(d, status):
    assert judge_profile(d, PROFILES) == status
    assert judge_profile(d, {**PROFILES, "distinct_d": 2.0}) == "warn"


def test_the_largest_absolute_d_counts():
    assert profile("0", 0.1, -0.8, 0.3).largest_d == 0.8
    assert profile("0").largest_d == 0.0  # no feature named


def test_one_vague_cluster_warns():
    distinct = profile("0", 0.9)
    assert judge_profiles(Profiles((distinct, profile("1", -0.6))), PROFILES) == "pass"
    assert judge_profiles(Profiles((distinct, profile("1", 0.3))), PROFILES) == "warn"
    assert judge_profiles(Profiles((distinct, profile("1"))), PROFILES) == "warn"


def dominant(share: float, low: float, overall: float) -> Dominant:
    return Dominant("sex", "0", "F", share, low, min(1.0, share + 0.05), overall)


TH = {**FAIRNESS, "dominance": 0.75, "excess": 0.25}  # dyadic: exact at equality


@pytest.mark.parametrize(
    ("share", "low", "overall", "status"),
    [
        (0.75, 0.75, 0.5, "warn"),  # at dominance, low end exactly excess above overall
        (0.7499, 0.75, 0.5, "pass"),  # just under dominance
        (0.9, 0.7499, 0.5, "pass"),  # low end just under excess above overall
        (0.9, 0.8, 0.5, "warn"),
        (0.95, 0.9, 0.7, "pass"),  # a majority group overall: no excess
    ],
)
def test_a_dominated_cluster_at_under_and_over(share, low, overall, status):
    assert judge_dominant(dominant(share, low, overall), TH) == status


def test_any_dominated_cluster_warns():
    assoc = {"sex": {"cramers_v": 0.4, "p_value": 0.001, "q_value": 0.001}}
    calm = dominant(0.6, 0.55, 0.5)
    assert judge_fairness(ClusterFairness(assoc, (calm, calm), 0.95), FAIRNESS) == "pass"
    hot = dominant(0.95, 0.9, 0.5)
    assert judge_fairness(ClusterFairness(assoc, (calm, hot), 0.95), FAIRNESS) == "warn"
    assert judge_fairness(ClusterFairness(assoc, (), 0.95), FAIRNESS) == "pass"
