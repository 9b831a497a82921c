"""``monitoring.estimated_performance``'s verdict (:func:`judge_estimation`) on numbers
built by hand: the drop of each estimated metric against ``drop_warn`` and ``drop_fail``,
fail only with the whole interval below the reference, and the judged metric chosen by
the ``metric`` parameter. No data, no model: each case runs in microseconds."""

from __future__ import annotations

import time

from assay.monitoring._cbpe import ESTIMATED_METRICS
from assay.monitoring.estimation import Estimated, judge_estimation

WARN, FAIL = 0.03, 0.05


def measured(ref: float = 0.85, **drops: float | None) -> Estimated:
    """Every metric at ``ref`` on the reference; estimated ``ref - drop`` (default no
    drop), its interval +-0.02 around the estimate."""
    metrics: dict[str, float | None] = {}
    for name in ESTIMATED_METRICS:
        drop = drops.get(name, 0.0)
        est = None if drop is None else ref - drop
        metrics[f"reference_{name}"] = ref
        metrics[f"estimated_{name}"] = est
        metrics[f"estimated_{name}_low"] = None if est is None else est - 0.02
        metrics[f"estimated_{name}_high"] = None if est is None else est + 0.02
        metrics[f"estimated_{name}_drop"] = drop
    return Estimated("test", metrics, "isotonic", 1000, 800, False, "", False)


def status(m: Estimated, metric: str = "accuracy") -> str:
    return judge_estimation(m, metric=metric, warn_at=WARN, fail_at=FAIL).status


def test_clean_numbers_pass():
    assert status(measured()) == "pass"
    assert status(measured(accuracy=-0.04)) == "pass"  # better than the reference
    v = judge_estimation(measured(), metric="accuracy", warn_at=WARN, fail_at=FAIL)
    assert set(v.statuses.values()) == {"pass"}


def test_warn_from_drop_warn_inclusive():
    assert status(measured(accuracy=0.0299)) == "pass"
    assert status(measured(accuracy=WARN)) == "warn"
    assert status(measured(accuracy=0.0499)) == "warn"


def test_fail_from_drop_fail_with_the_interval_below_the_reference():
    assert status(measured(accuracy=FAIL)) == "fail"  # high = ref - 0.03 < ref
    assert status(measured(accuracy=0.2)) == "fail"


def test_a_large_drop_whose_interval_reaches_the_reference_only_warns():
    m = measured(accuracy=0.06)
    wide = dict(m.metrics, estimated_accuracy_high=0.85)  # high == reference: not below
    assert status(Estimated("test", wide, "isotonic", 1000, 800, False, "", False)) == "warn"
    wider = dict(m.metrics, estimated_accuracy_high=0.9)
    assert status(Estimated("test", wider, "isotonic", 1000, 800, False, "", False)) == "warn"


def test_the_judged_metric_is_the_parameter_and_others_are_listed():
    m = measured(recall=0.1, f1=0.035)
    assert status(m, "accuracy") == "pass"
    assert status(m, "recall") == "fail"
    assert status(m, "f1") == "warn"
    v = judge_estimation(m, metric="accuracy", warn_at=WARN, fail_at=FAIL)
    assert {k: s for k, s in v.statuses.items() if s != "pass"} == {"recall": "fail", "f1": "warn"}


def test_a_metric_that_cannot_be_estimated_passes():
    assert status(measured(roc_auc=None), "roc_auc") == "pass"


def test_judging_takes_microseconds():
    m = measured(accuracy=0.04)
    start = time.perf_counter()
    for _ in range(1000):
        judge_estimation(m, metric="accuracy", warn_at=WARN, fail_at=FAIL)
    assert (time.perf_counter() - start) / 1000 < 1e-3  # about 5 us; generous for busy CI
