"""``efficiency.quantization``: ONNX export and int8 on real small models."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import SlowModel, fit, offset_data, pipeline, run

pytest.importorskip("onnxruntime")
pytest.importorskip("skl2onnx")
ID = "efficiency.quantization"


def test_logistic_regression_converts_faithfully(logreg, small):
    r = run(logreg, *small, [ID])[ID]
    assert r.status == "pass", r.summary
    m = r.metrics
    assert m["onnx_float32_agreement"] == 1.0
    assert abs(m["onnx_float32_metric_change"]) < 1e-6
    assert m["onnx_float32_metric_change_low"] <= 0 <= m["onnx_float32_metric_change_high"]
    assert m["int8_applies"] == 0 and "onnx_int8_agreement" not in m
    assert "int8 quantization does not apply" in r.summary
    int8 = next(f for f in r.findings if f.group == "ONNX int8 (dynamic)")
    assert "LinearClassifier" in int8.message
    assert r.details["variants"][1]["max_score_difference"] < 1e-5
    for key in ("original", "onnx_float32"):
        assert m[f"{key}_latency_p50_ms"] > 0 and m[f"{key}_rows_per_s"] > 0
        assert m[f"{key}_size_bytes"] > 0
        assert m[f"{key}_usd_per_million_cloud_cpu_example"] > 0
    assert [c["kind"] for c in r.details["charts"]] == ["bars", "bars", "bars", "intervals"]


def test_neural_network_is_quantized_within_tolerance(small):
    from sklearn.neural_network import MLPClassifier

    mlp = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=0)
    r = run(fit(pipeline(mlp), small[0]), *small, [ID])[ID]
    m = r.metrics
    assert m["int8_applies"] == 1
    assert m["onnx_float32_agreement"] == 1.0
    assert m["onnx_int8_agreement"] >= 0.97  # int8 weights move a few borderline rows at most
    assert abs(m["onnx_int8_metric_change"]) < 0.02
    assert 0 < r.details["variants"][2]["max_score_difference"] < 0.1
    assert "int8 quantization agrees on" in r.summary


def test_random_forest_and_lightgbm_convert(small):
    lightgbm = pytest.importorskip("lightgbm")
    pytest.importorskip("onnxmltools")
    from sklearn.ensemble import RandomForestClassifier

    for est in (
        RandomForestClassifier(n_estimators=20, max_depth=6, random_state=0),
        lightgbm.LGBMClassifier(n_estimators=30, verbose=-1),
    ):
        r = run(fit(pipeline(est), small[0]), *small, [ID])[ID]
        assert r.status == "pass", (type(est).__name__, r.summary)
        assert r.metrics["onnx_float32_agreement"] >= 0.995
        assert r.metrics["int8_applies"] == 0  # tree ensembles have nothing to quantize


def test_numeric_hist_gradient_boosting_converts(small):
    from sklearn.ensemble import HistGradientBoostingClassifier

    est = HistGradientBoostingClassifier(max_iter=20, random_state=0)
    model = fit(pipeline(est), small[0])
    r = run(model, *small, [ID])[ID]
    assert r.status == "pass", r.summary
    assert r.metrics["onnx_float32_agreement"] >= 0.995


def test_float32_export_that_changes_predictions_warns_and_names_it():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = offset_data(1200, seed=0)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(train[["x"]], train["y"])
    assert (model.predict(test[["x"]]) == test["y"]).mean() > 0.85
    r = run(model, train, test, [ID])[ID]
    assert r.status == "warn", r.summary
    bad = next(f for f in r.findings if f.group == "ONNX float32")
    assert bad.status == "warn" and bad.metrics["agreement"] < 0.9
    assert bad.metrics["metric_change_high"] < 0  # clearly worse, interval and all
    assert r.summary.startswith("The ONNX export of the model predicts differently on")
    assert "Do not deploy ONNX float32" in r.recommendation


def test_custom_python_model_is_skipped_with_the_reason(logreg, small):
    r = run(SlowModel(logreg, 0.0), *small, [ID])[ID]
    assert r.status == "skipped"
    assert "could not be converted to ONNX" in r.summary and "SlowModel" in r.summary


def test_categorical_hist_gradient_boosting_is_skipped_with_the_reason(small):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OrdinalEncoder

    pre = ColumnTransformer(
        [("cat", OrdinalEncoder(), ["colour"]), ("num", "passthrough", ["x1", "x2", "noise"])]
    )
    est = HistGradientBoostingClassifier(max_iter=10, categorical_features=[0])
    model = fit(Pipeline([("pre", pre), ("clf", est)]), small[0])
    r = run(model, *small, [ID])[ID]
    assert r.status == "skipped" and "categorical splits" in r.summary


def test_regression_model_converts(small):
    from sklearn.linear_model import Ridge

    train, test = (d.assign(y=d["x1"] * 2 + d["x2"]) for d in small)
    r = run(fit(pipeline(Ridge()), train), train, test, [ID], task="regression")[ID]
    assert r.status == "pass", r.summary
    assert r.metrics["onnx_float32_agreement"] == 1.0
    assert np.isfinite(r.metrics["onnx_float32_metric"])
