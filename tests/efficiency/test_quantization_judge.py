"""``efficiency.quantization``'s verdict (:func:`judge_quantization`) on variants built by
hand: an ONNX variant warns when it predicts as the original on fewer than
``agreement_min`` of the test rows or its main metric drops by more than
``max_metric_drop``; the check takes the worst variant; an int8 variant that could not
be made is no alarm. No model, no conversion: each case runs in microseconds."""

from __future__ import annotations

import time

from assay.efficiency._timing import Runner
from assay.efficiency._variants import Variant
from assay.efficiency.quantization import QuantizationMeasured, judge_quantization
from assay.evaluation._bootstrap import Interval, SplitData
from assay.evaluation._metrics import EvalData

DATA = EvalData.from_arrays("binary", [0, 1, 1, 0], [0, 1, 0, 0], classes=[0, 1])
TH = {"agreement_min": 0.99, "max_metric_drop": 0.01}


def variant(key: str, agreement: float | None, change: float | None) -> Variant:
    v = Variant(key, key, Runner(key, batch=lambda a, b: None, call=lambda x: None), DATA, None)
    v.agreement = agreement
    v.change = None if change is None else Interval(change, change - 0.01, change + 0.01)
    return v


def measured(*onnx: Variant) -> QuantizationMeasured:
    variants = (variant("original", 1.0, 0.0), *onnx)
    reason = None if len(variants) == 3 else "no operator dynamic quantization applies to"
    test = SplitData("test", DATA, None, DATA.n)
    return QuantizationMeasured("accuracy", variants, reason, "one tensor", 64, test)


def judge(m: QuantizationMeasured):
    return judge_quantization(m, **TH)


def test_faithful_variants_pass():
    v = judge(measured(variant("onnx_float32", 1.0, 0.0), variant("onnx_int8", 0.995, -0.004)))
    assert v.status == "pass"
    assert dict(v.variants) == {"onnx_float32": "pass", "onnx_int8": "pass"}


def test_agreement_at_agreement_min_passes_and_below_warns():
    assert judge(measured(variant("onnx_float32", 0.99, 0.0))).status == "pass"
    assert judge(measured(variant("onnx_float32", 0.9899, 0.0))).status == "warn"
    assert judge(measured(variant("onnx_float32", None, 0.0))).status == "warn"  # not measured


def test_a_metric_drop_beyond_max_metric_drop_warns():
    assert judge(measured(variant("onnx_float32", 1.0, -0.01))).status == "pass"
    assert judge(measured(variant("onnx_float32", 1.0, -0.0101))).status == "warn"
    assert judge(measured(variant("onnx_float32", 1.0, +0.05))).status == "pass"  # better
    assert judge(measured(variant("onnx_float32", 1.0, None))).status == "pass"  # no metric


def test_the_worst_variant_decides_and_each_is_named():
    v = judge(measured(variant("onnx_float32", 1.0, 0.0), variant("onnx_int8", 0.93, -0.03)))
    assert v.status == "warn"
    assert dict(v.variants) == {"onnx_float32": "pass", "onnx_int8": "warn"}


def test_an_int8_variant_not_made_is_no_alarm():
    m = measured(variant("onnx_float32", 1.0, 0.0))
    assert not m.int8_made
    assert judge(m).status == "pass"
    assert dict(judge(m).variants) == {"onnx_float32": "pass"}


def test_judging_takes_microseconds():
    m = measured(variant("onnx_float32", 0.995, -0.002), variant("onnx_int8", 0.97, -0.02))
    start = time.perf_counter()
    for _ in range(1000):
        judge(m)
    assert (time.perf_counter() - start) / 1000 < 1e-3  # a few us; generous for busy CI
