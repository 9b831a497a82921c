"""``efficiency.distillation``: students fitted to the teacher, judged against it."""

from __future__ import annotations

import numpy as np
import pytest

from .conftest import Inverted, fit, pipeline, run

ID = "efficiency.distillation"
STUDENTS = ("student_tree", "student_linear", "student_boosted")


def test_linear_teacher_is_imitated_by_the_linear_student(logreg, small):
    r = run(logreg, *small, [ID])[ID]
    assert r.status in ("pass", "warn"), r.summary
    m = r.metrics
    assert m["students_trained"] == 3
    assert m["student_linear_fidelity"] >= 0.97
    assert m["teacher_fidelity"] == 1.0
    for key in STUDENTS:
        assert 0 <= m[f"{key}_fidelity"] <= 1
        assert m[f"{key}_rows_per_s"] > 0 and m[f"{key}_size_bytes"] > 0
        assert m[f"{key}_metric_change_low"] <= m[f"{key}_metric_change_high"]
        assert m[f"{key}_usd_per_million_edge_device_example"] > 0
    assert r.details["best"] is not None  # at least the linear student keeps the quality
    assert r.details["best_label"] in r.summary
    assert {f.group for f in r.findings} == {v["label"] for v in r.details["variants"][1:]}
    assert r.details["trained_on"].startswith("the model's predictions for 700 training rows")
    kinds = [c["kind"] for c in r.details["charts"]]
    assert kinds == ["bars", "intervals", "bars", "bars"]


def test_fidelity_is_measured_against_the_teacher_not_the_labels(logreg, small):
    """A teacher that is always wrong: students copy it faithfully, and score as badly."""
    r = run(Inverted(logreg), *small, [ID])[ID]
    m = r.metrics
    assert m["teacher_metric"] < 0.3  # ROC-AUC of an inverted model
    assert m["student_linear_fidelity"] >= 0.95
    assert m["student_linear_metric"] < 0.3  # faithful to the teacher, wrong like it
    test = small[1]
    truth = test["y"].to_numpy()
    teacher_pred = 1 - logreg.predict(test.drop(columns="y"))
    assert np.mean(teacher_pred == truth) < 0.3  # agreement with the labels is low


def test_overkill_teacher_warns_and_names_the_cheaper_student(small):
    """A large forest on a linear problem: a tiny linear student does as well, far faster."""
    from sklearn.ensemble import RandomForestClassifier

    # 500 trees: a teacher ~10× slower than its students, so 3× holds on a loaded CI machine
    forest = RandomForestClassifier(n_estimators=500, min_samples_leaf=3, random_state=0)
    r = run(fit(pipeline(forest), small[0]), *small, [ID], thresholds={ID: {"fidelity_min": 0.9}})
    r = r[ID]
    assert r.status == "warn", r.summary
    assert r.summary.startswith("The best trade-off is the ")
    assert r.metrics["best_speedup"] >= 3
    best = next(f for f in r.findings if f.status == "warn")
    assert best.group == r.details["best_label"] and "best trade-off" in best.message
    assert r.metrics[f"{r.details['best']}_size_bytes"] < r.metrics["teacher_size_bytes"]


def test_students_of_lightgbm_and_regression_teachers(small):
    lightgbm = pytest.importorskip("lightgbm")
    from sklearn.ensemble import GradientBoostingRegressor

    train, test = small
    lgbm = fit(pipeline(lightgbm.LGBMClassifier(n_estimators=40, verbose=-1)), train)
    r = run(lgbm, train, test, [ID])[ID]
    assert r.status in ("pass", "warn") and r.metrics["student_boosted_fidelity"] > 0.85
    reg_train, reg_test = (d.assign(y=np.sin(d["x1"]) + d["x2"]) for d in small)
    gbr = fit(pipeline(GradientBoostingRegressor(n_estimators=40)), reg_train)
    r = run(gbr, reg_train, reg_test, [ID], task="regression")[ID]
    assert r.status in ("pass", "warn"), r.summary
    assert r.details["fidelity"].startswith("R²")
    assert r.metrics["student_boosted_fidelity"] > 0.8  # R² against the teacher
    assert "R² against the teacher" in r.findings[0].message


def test_without_train_it_is_skipped(logreg, small):
    r = run(logreg, None, small[1], [ID])[ID]
    assert r.status == "skipped" and "no training data" in r.summary
