"""The verdicts of ``clustering.quality`` and ``clustering.stability``, judged from
hand-built measurements (no data, no refits): each threshold at, under and over it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from assay.core.registry import get_check
from assay.unsupervised.clustering import Quality, Stability, judge_quality, judge_stability

QUALITY = get_check("clustering.quality").thresholds  # alpha 0.05, gap_warn 0.05
STABILITY = get_check("clustering.stability").thresholds  # ari_fail 0.5, jaccard_warn 0.6

CLEAR = Quality(
    silhouette=0.625,
    silhouette_low=0.6,
    silhouette_high=0.65,
    silhouette_null=0.25,
    silhouette_null_low=0.2,
    silhouette_null_high=0.3,
    p_value=1 / 25,
    n_clusters=4,
    rows_measured=900,
)


def test_quality_clear_structure_passes():
    assert CLEAR.gap == 0.375
    assert judge_quality(CLEAR, QUALITY) == "pass"


@pytest.mark.parametrize(("p_value", "status"), [(0.05, "pass"), (0.0501, "fail"), (1.0, "fail")])
def test_quality_fails_when_chance_matches_the_silhouette(p_value, status):
    """Shuffled data reaching the silhouette more often than alpha: an artefact."""
    assert judge_quality(replace(CLEAR, p_value=p_value), QUALITY) == status


@pytest.mark.parametrize(
    ("silhouette", "status"),
    [(0.3125, "pass"), (0.3, "warn"), (0.26, "warn")],  # null 0.25; gap_warn 0.0625 below
)
def test_quality_warns_on_a_small_gain_over_chance(silhouette, status):
    th = {**QUALITY, "gap_warn": 0.0625}
    assert judge_quality(replace(CLEAR, silhouette=silhouette), th) == status


def test_quality_gap_at_the_default_level():
    at = replace(CLEAR, silhouette=0.3, silhouette_null=0.25)
    th = {**QUALITY, "gap_warn": at.gap}  # exactly at the level: not under it
    assert judge_quality(at, th) == "pass"
    assert judge_quality(replace(at, silhouette=0.299), th) == "warn"


def stability(ari: float, *jaccard: float) -> Stability:
    names = tuple(str(i) for i in range(len(jaccard)))
    return Stability(
        clusters=names,
        jaccard=jaccard,
        jaccard_low=tuple(j - 0.05 for j in jaccard),
        jaccard_high=tuple(min(j + 0.05, 1.0) for j in jaccard),
        ari_mean=ari,
        ari_low=ari - 0.05,
        ari_high=ari + 0.05,
        refits=20,
        rows_measured=900,
    )


def test_stability_every_cluster_coming_back_passes():
    assert judge_stability(stability(0.95, 0.98, 0.97, 0.9), STABILITY) == "pass"


@pytest.mark.parametrize(("jaccard", "status"), [(0.6, "pass"), (0.599, "warn"), (0.1, "warn")])
def test_stability_warns_on_a_cluster_that_does_not_come_back(jaccard, status):
    m = stability(0.9, 0.98, jaccard, 0.95)
    assert judge_stability(m, STABILITY) == status
    assert m.unstable(0.6) == ([] if status == "pass" else ["1"])


@pytest.mark.parametrize(("ari", "status"), [(0.5, "pass"), (0.499, "fail"), (0.0, "fail")])
def test_stability_fails_when_the_whole_assignment_disagrees(ari, status):
    assert judge_stability(stability(ari, 0.9, 0.9), STABILITY) == status


def test_stability_fail_outranks_unstable_clusters():
    assert judge_stability(stability(0.3, 0.2, 0.9), STABILITY) == "fail"
    assert judge_stability(stability(0.3, 0.2, 0.9), {**STABILITY, "ari_fail": 0.2}) == "warn"
