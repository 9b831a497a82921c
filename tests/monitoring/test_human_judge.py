"""``monitoring.human_oversight``'s verdict (:func:`judge_oversight`) on numbers built by
hand: the pooled test fails the check at ``alpha``, a judged reviewer whose Holm q is at
most ``alpha`` is flagged (warn), overrides that clearly cost accuracy warn, and clean
numbers pass. No decisions table: each case runs in microseconds."""

from __future__ import annotations

import time
from typing import Any

from assay.monitoring.human import Oversight, judge_oversight

ALPHA = 0.05


def reviewer(name: str, q: float | None, *, judged: bool = True) -> dict[str, Any]:
    return {"reviewer": name, "judged": judged, "q_no_information": q if judged else None}


def measured(
    p: float | None = 0.6, gain_high: float | None = 0.04, reviewers: tuple = ()
) -> Oversight:
    pooled = {"p_no_information": p, "accuracy_gain_high": gain_high, "gap": 0.4}
    return Oversight({"prediction": "prediction"}, pooled, list(reviewers))


def test_clean_numbers_pass():
    v = judge_oversight(measured(reviewers=(reviewer("a", 0.9), reviewer("b", 0.5))), alpha=ALPHA)
    assert (v.status, v.flagged, v.harmful_overrides) == ("pass", (), False)


def test_the_pooled_test_fails_at_alpha():
    assert judge_oversight(measured(p=ALPHA), alpha=ALPHA).status == "fail"
    assert judge_oversight(measured(p=0.001), alpha=ALPHA).status == "fail"
    assert judge_oversight(measured(p=0.0501), alpha=ALPHA).status == "pass"
    assert judge_oversight(measured(p=None), alpha=ALPHA).status == "pass"  # nothing labelled


def test_a_judged_reviewer_at_alpha_is_flagged():
    v = judge_oversight(measured(reviewers=(reviewer("a", 0.9), reviewer("b", ALPHA))), alpha=ALPHA)
    assert (v.status, v.flagged) == ("warn", ("b",))
    v = judge_oversight(measured(reviewers=(reviewer("b", 0.0501),)), alpha=ALPHA)
    assert (v.status, v.flagged) == ("pass", ())


def test_a_reviewer_with_too_few_cases_is_never_flagged():
    v = judge_oversight(measured(reviewers=(reviewer("few", 0.0, judged=False),)), alpha=ALPHA)
    assert (v.status, v.flagged) == ("pass", ())


def test_overrides_that_clearly_cost_accuracy_warn():
    v = judge_oversight(measured(gain_high=-0.001), alpha=ALPHA)
    assert (v.status, v.harmful_overrides) == ("warn", True)
    v = judge_oversight(measured(gain_high=0.0), alpha=ALPHA)  # the interval reaches 0
    assert (v.status, v.harmful_overrides) == ("pass", False)


def test_the_pooled_failure_outranks_flagged_reviewers():
    m = measured(p=0.01, gain_high=-0.1, reviewers=(reviewer("a", 0.01),))
    v = judge_oversight(m, alpha=ALPHA)
    assert (v.status, v.flagged, v.harmful_overrides) == ("fail", ("a",), True)


def test_judging_takes_microseconds():
    m = measured(reviewers=tuple(reviewer(str(i), 0.5) for i in range(5)))
    start = time.perf_counter()
    for _ in range(1000):
        judge_oversight(m, alpha=ALPHA)
    assert (time.perf_counter() - start) / 1000 < 1e-3  # a few us; generous for busy CI
