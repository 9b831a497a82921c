"""``efficiency.distillation``'s verdict (:func:`judge_distillation`) on students built by
hand: a student keeps the teacher's quality with fidelity >= ``fidelity_min`` and a metric
change >= ``-max_metric_drop``; the best trade-off is the fastest such student when it is
clearly faster (SPEEDUP_MIN), else the most faithful; it is recommended (warn) from
``speedup_warn`` times the teacher's throughput. No model, no fitting, no clock: each
case runs in microseconds."""

from __future__ import annotations

import time

import numpy as np

from assay.efficiency._timing import Runner, Timing
from assay.efficiency._variants import Variant
from assay.efficiency.distillation import (
    SPEEDUP_MIN,
    DistillationMeasured,
    judge_distillation,
)
from assay.evaluation._bootstrap import Interval, SplitData
from assay.evaluation._metrics import EvalData

DATA = EvalData.from_arrays("binary", [0, 1, 1, 0], [0, 1, 0, 0], classes=[0, 1])
TH = {"fidelity_min": 0.95, "max_metric_drop": 0.01, "speedup_warn": 3.0}


def variant(key: str, fidelity: float, change: float | None, speed: float) -> Variant:
    """A variant scoring ``speed`` times the teacher's 1,000 rows per second."""
    runner = Runner(key, batch=lambda a, b: None, call=lambda x: None)
    v = Variant(key, key, runner, DATA, 1_000)
    v.agreement = fidelity
    v.change = None if change is None else Interval(change, change - 0.01, change + 0.01)
    v.throughput = Timing(64, np.full(5, 0.064 / speed), 1)
    return v


def measured(*students: Variant) -> DistillationMeasured:
    teacher = variant("teacher", 1.0, 0.0, 1.0)
    return DistillationMeasured(
        task="binary",
        main="roc_auc",
        variants=(teacher, *students),
        batch=64,
        test=SplitData("test", DATA, None, DATA.n),
        n_train=1_000,
        train_sampled=False,
        features={"numeric": ["x"], "categorical": [], "left_out": []},
        fit_seconds={},
        failed={},
    )


def judge(m: DistillationMeasured, **kw: float):
    return judge_distillation(m, **{**TH, **kw})


def test_a_faithful_student_much_faster_is_recommended():
    v = judge(measured(variant("tree", 0.97, -0.005, 10.0), variant("linear", 0.99, 0.0, 4.0)))
    assert (v.status, v.best, v.faster) == ("warn", "tree", True)
    assert v.good == ("tree", "linear")
    assert abs(v.speedup - 10.0) < 1e-9


def test_the_warning_starts_at_speedup_warn():
    assert judge(measured(variant("tree", 0.97, 0.0, 3.0))).status == "warn"
    v = judge(measured(variant("tree", 0.97, 0.0, 2.99)))
    assert (v.status, v.best, v.faster) == ("pass", "tree", True)  # named, not recommended


def test_a_faithful_student_that_is_not_clearly_faster_passes():
    v = judge(
        measured(variant("tree", 0.96, 0.0, SPEEDUP_MIN * 0.99), variant("lin", 0.99, 0.0, 1.0))
    )
    assert (v.status, v.faster) == ("pass", False)
    assert v.best == "lin"  # not faster: the most faithful is the trade-off
    assert judge(measured(variant("tree", 0.96, 0.0, SPEEDUP_MIN))).faster


def test_fidelity_and_metric_drop_decide_who_keeps_the_quality():
    assert judge(measured(variant("tree", 0.95, -0.01, 10.0))).good == ("tree",)  # both at the line
    assert judge(measured(variant("tree", 0.9499, 0.0, 10.0))).good == ()
    assert judge(measured(variant("tree", 1.0, -0.0101, 10.0))).good == ()
    assert judge(measured(variant("tree", 1.0, None, 10.0))).good == ()  # no metric: not shown


def test_no_faithful_student_passes_without_a_best():
    v = judge(measured(variant("tree", 0.8, -0.05, 50.0), variant("linear", 0.9, 0.0, 20.0)))
    assert (v.status, v.good, v.best, v.speedup) == ("pass", (), None, None)


def test_judging_takes_microseconds():
    m = measured(variant("tree", 0.97, -0.005, 10.0), variant("linear", 0.99, 0.0, 4.0))
    start = time.perf_counter()
    for _ in range(200):
        judge(m)
    assert (time.perf_counter() - start) / 200 < 1e-3  # tens of us (NumPy medians)
