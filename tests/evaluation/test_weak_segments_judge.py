"""The verdict of ``evaluation.weak_segments``, judged from hand-built numbers (no data):
each segment's q-value against ``fdr``, its effect against the warning and failing gaps,
and its own materiality test, at, under and over each; the check fails when a segment
fails, warns on discoveries, and passes when the segments shown are only the worst found."""

from __future__ import annotations

import pytest

from assay.evaluation._segments_search import Plan
from assay.evaluation.segments import judge_weak_segments

# The defaults of a classifier judged on unexpected errors: warn_gap 0.05, fail_gap 0.15,
# fdr 0.05 (dyadic stand-ins where a value is compared at equality).
PLAN = Plan(
    warn_effect=0.0625,
    fail_effect=0.125,
    fdr=0.0625,
    min_effect=True,
    test_floor=0.03125,
    pair_floor=0.0625,
    pair_share=0.2,
)


@pytest.mark.parametrize(
    ("q", "effect", "material_p", "status"),
    [
        (0.01, 0.2, 0.0, "fail"),
        (0.01, 0.125, 0.0, "fail"),  # at fail_effect
        (0.01, 0.124, 0.0, "warn"),  # just under fail_effect
        (0.01, 0.0625, 0.0, "warn"),  # at warn_effect
        (0.01, 0.0624, 0.0, "pass"),  # just under warn_effect: not material
        (0.0625, 0.2, 0.0, "fail"),  # q at the rate: a discovery
        (0.0626, 0.2, 0.0, "pass"),  # q over the rate: not a discovery
        (0.01, 0.2, 0.0625, "fail"),  # materiality p at the rate
        (0.01, 0.2, 0.0626, "pass"),  # its interval does not clear the warning gap
    ],
)
def test_one_segment_at_under_and_over_each_threshold(q, effect, material_p, status):
    statuses, _ = judge_weak_segments([(q, effect, material_p)], PLAN, discovered=True)
    assert statuses == (status,)


def test_the_check_fails_when_one_segment_fails_and_warns_on_discoveries():
    warn, fail = (0.01, 0.1, 0.0), (0.01, 0.3, 0.0)
    assert judge_weak_segments([warn, fail], PLAN, True) == (("warn", "fail"), "fail")
    assert judge_weak_segments([warn, warn], PLAN, True) == (("warn", "warn"), "warn")


def test_the_worst_found_none_significant_pass():
    worst = [(0.3, 0.4, 0.5), (0.01, 0.3, 0.0)]  # not discoveries: shown on the chart only
    assert judge_weak_segments(worst, PLAN, discovered=False) == (("pass", "pass"), "pass")
    assert judge_weak_segments([], PLAN, discovered=False) == ((), "pass")


def test_thresholds_come_from_the_plan():
    seg = [(0.01, 0.1, 0.0)]
    strict = Plan(0.125, 0.25, 0.0625, True, 0.0625, 0.125, 0.2)
    assert judge_weak_segments(seg, PLAN, True)[1] == "warn"
    assert judge_weak_segments(seg, strict, True)[0] == ("pass",)
