"""Report dicts built by hand for the renderer tests (and the sample screenshots).

``build_report()`` gives a realistic audit: every status, every chart kind,
many findings and a check whose strings are hostile (script tags, attribute
breakers, characters illegal in XML). ``hostile=False`` leaves the hostile
strings out, for a clean sample page.
"""

from __future__ import annotations

from typing import Any

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = (SCRIPT, IMG)


def _check(cid: str, status: str, summary: str, **kw: Any) -> dict[str, Any]:
    area = cid.split(".", 1)[0]
    out = {
        "id": cid,
        "area": area,
        "title": kw.pop("title", cid.split(".", 1)[1].replace("_", " ").capitalize()),
        "status": status,
        "severity": kw.pop("severity", "medium"),
        "summary": summary,
        "explanation": kw.pop("explanation", "What this check looks at, in plain words."),
        "metrics": kw.pop("metrics", {}),
        "findings": kw.pop("findings", []),
        "recommendation": kw.pop("recommendation", ""),
        "standards": kw.pop("standards", ["MEASURE 2.1"]),
        "thresholds": kw.pop("thresholds", {}),
        "details": kw.pop("details", {}),
        "duration_s": kw.pop("duration_s", 0.0123),
    }
    assert not kw, kw
    return out


def _checks(hostile: bool) -> list[dict[str, Any]]:
    bad_col = SCRIPT if hostile else "referral_code"
    bad_col2 = IMG if hostile else "notes"
    missing_items = [
        {"label": "income", "value": 0.31, "status": "fail"},
        {"label": "employment_length_years", "value": 0.12, "status": "warn"},
        {"label": bad_col, "value": 0.08, "status": "warn"},
        {"label": "age", "value": 0.004, "status": "pass"},
        {"label": "region", "value": 0.0, "status": "pass"},
    ]
    label_findings = [
        {
            "status": "warn",
            "message": f"Row {i * 7} is labelled 1 but looks like class 0 to the model.",
            "rows": [i * 7],
            "split": "train",
            "metrics": {"label_quality": 0.02 + i / 1000},
        }
        for i in range(137)
    ]
    return [
        _check(
            "data.integrity",
            "fail",
            "3 columns have missing values; income is missing in 31% of test rows.",
            title="Data integrity",
            severity="high",
            explanation="Missing, constant or mixed-type columns make a model's results less "
            "trustworthy: the model saw something different from what it will be given.",
            metrics={
                "columns_checked": 24,
                "columns_with_missing": 3,
                "max_missing_share": 0.31,
                "duplicate_rows": 1204,
            },
            findings=[
                {
                    "status": "fail",
                    "message": "31% of values are missing.",
                    "column": "income",
                    "split": "test",
                    "metrics": {"missing_share": 0.31},
                },
                {
                    "status": "warn",
                    "message": "12% of values are missing.",
                    "column": "employment_length_years",
                    "split": "test",
                    "metrics": {"missing_share": 0.12},
                },
                {
                    "status": "warn",
                    "message": f"8% missing in {bad_col}.",
                    "column": bad_col,
                    "split": "test",
                    "metrics": {"missing_share": 0.08},
                },
            ],
            recommendation="Find out why income is missing before trusting the model: impute it "
            "with a documented rule, or collect it.",
            standards=["MEASURE 2.1", "MAP 2.3"],
            thresholds={"missing_warn": 0.05, "missing_fail": 0.2},
            details={
                "charts": [
                    {
                        "kind": "bars",
                        "title": "Missing values by column",
                        "x_label": "Missing share",
                        "items": missing_items,
                        "threshold": 0.2,
                    }
                ]
            },
        ),
        _check(
            "data.target_leakage",
            "fail",
            "One column predicts the target almost perfectly: it probably leaks the answer.",
            title="Target leakage",
            severity="critical",
            metrics={"max_single_feature_auc": 0.993},
            findings=[
                {
                    "status": "fail",
                    "message": f"{bad_col2} alone reaches ROC AUC 0.993 on the target.",
                    "column": bad_col2,
                    "metrics": {"roc_auc": 0.993},
                }
            ],
            recommendation="Remove the column, or prove it is known at prediction time.",
            standards=["MEASURE 2.3"],
            thresholds={"auc_fail": 0.95},
        ),
        _check(
            "data.duplicates",
            "warn",
            "37 test rows also appear in the training data.",
            title="Train/test overlap",
            metrics={"overlap_rows": 37, "overlap_share": 0.0074},
            findings=[
                {
                    "status": "warn",
                    "message": "Rows present in both train and test.",
                    "rows": list(range(100, 137)),
                    "split": "test",
                    "metrics": {"rows": 37},
                }
            ],
            recommendation="Drop the overlapping rows from the test set and re-run the audit.",
        ),
        _check(
            "data.label_errors",
            "warn",
            "137 training labels look wrong (2.7% of rows).",
            title="Label errors",
            findings=label_findings,
            metrics={"suspect_labels": 137, "suspect_share": 0.027},
            recommendation="Review the listed rows by hand; fix or drop mislabelled ones.",
        ),
        _check(
            "data.representativeness",
            "pass",
            "The test data covers the training population well.",
            title="Representativeness",
            metrics={"psi_max": 0.04},
            details={
                "charts": [
                    {
                        "kind": "distribution",
                        "title": "Region: train vs test",
                        "labels": ["north", "south", "east", "west", bad_col],
                        "series": {
                            "reference": [0.30, 0.25, 0.2, 0.2, 0.05],
                            "current": [0.28, 0.27, 0.21, 0.18, 0.06],
                        },
                    }
                ]
            },
        ),
        _check(
            "data.provenance",
            "pass",
            "Every input has a content fingerprint.",
            title="Provenance",
            details={
                "fingerprints": {"train": "sha256:" + "ab" * 32, "test": "sha256:" + "cd" * 32}
            },
        ),
        _check(
            "evaluation.performance",
            "pass",
            "Accuracy is 0.912 (95% interval 0.897 – 0.926) on 5,000 test rows.",
            title="Model performance",
            severity="high",
            metrics={
                "accuracy": 0.9123,
                "accuracy_low": 0.8971,
                "accuracy_high": 0.9262,
                "roc_auc": 0.9561,
                "roc_auc_low": 0.9432,
                "roc_auc_high": 0.9671,
                "f1": 0.8711,
                "log_loss": 0.2412,
                "n_rows": 5000,
                "brier": None,
            },
            details={
                "charts": [
                    {
                        "kind": "intervals",
                        "title": "Metrics with 95% intervals",
                        "x_label": "score",
                        "items": [
                            {"label": "accuracy", "value": 0.9123, "low": 0.8971, "high": 0.9262},
                            {"label": "ROC AUC", "value": 0.9561, "low": 0.9432, "high": 0.9671},
                            {"label": "F1", "value": 0.8711, "low": 0.851, "high": 0.889},
                        ],
                    }
                ]
            },
            standards=["MEASURE 2.3", "MEASURE 2.5"],
        ),
        _check(
            "evaluation.calibration",
            "warn",
            "Predicted probabilities are too confident above 0.7 (ECE 0.061).",
            title="Calibration",
            metrics={"ece": 0.0612},
            thresholds={"ece_warn": 0.05, "ece_fail": 0.15},
            recommendation="Calibrate the model (isotonic or Platt scaling) on held-out data.",
            details={
                "charts": [
                    {
                        "kind": "reliability",
                        "title": "Reliability diagram",
                        "bins": [
                            {"mean_predicted": 0.05, "observed": 0.04, "count": 1800},
                            {"mean_predicted": 0.15, "observed": 0.13, "count": 700},
                            {"mean_predicted": 0.35, "observed": 0.33, "count": 420},
                            {"mean_predicted": 0.55, "observed": 0.50, "count": 380},
                            {"mean_predicted": 0.75, "observed": 0.62, "count": 520},
                            {"mean_predicted": 0.93, "observed": 0.81, "count": 1180},
                        ],
                    }
                ]
            },
        ),
        _check(
            "evaluation.baseline",
            "pass",
            "The model beats the best simple baseline by 0.31.",
            title="Baseline comparison",
            metrics={"model_accuracy": 0.9123, "baseline_accuracy": 0.6011},
            details={
                "charts": [
                    {
                        "kind": "bars",
                        "title": "Accuracy against baselines",
                        "x_label": "accuracy",
                        "threshold": None,
                        "items": [
                            {"label": "model", "value": 0.9123, "status": "pass"},
                            {"label": "most frequent class", "value": 0.6011},
                            {"label": "stratified random", "value": 0.5204},
                        ],
                    },
                    {"kind": "pie", "title": "unknown kind is skipped"},
                ]
            },
        ),
        _check(
            "evaluation.overfitting",
            "error",
            "The check could not run: ValueError: could not convert string to float: 'n/a'",
            title="Overfitting (train/test gap)",
            recommendation="This is a bug in Assay or an input it does not handle; please "
            "report it with report.json.",
            details={"exception": "ValueError", "where": "overfitting.py:88"},
        ),
        _check(
            "evaluation.slices",
            "warn",
            "Two segments perform clearly worse than the whole.",
            title="Weak segments",
            findings=[
                {
                    "status": "warn",
                    "message": "Accuracy 0.71 against 0.91 overall.",
                    "group": "region = east & age < 25",
                    "metrics": {"accuracy": 0.71, "rows": 212},
                },
                {
                    "status": "warn",
                    "message": "Accuracy 0.78 against 0.91 overall.",
                    "columns": ["income", "employment_length_years"],
                    "metrics": {},
                },
            ],
            recommendation="Collect more data for these segments, or document the limitation.",
        ),
        _check(
            "drift.features",
            "skipped",
            "Skipped: no current (production) data was given.",
            title="Feature drift",
            explanation="",
            standards=[],
        ),
        _check(
            "fairness.groups",
            "skipped",
            "Skipped: no sensitive column was given (pass --sensitive COL).",
            title="Group fairness",
            standards=["MEASURE 2.11"],
        ),
    ]


def build_report(*, hostile: bool = True) -> dict[str, Any]:
    """A complete report dict, in the shape of ``AuditResult.to_dict()``."""
    checks = _checks(hostile)
    if hostile:
        checks.append(
            _check(
                "security.pii",
                "fail",
                f"Found personal data in column {SCRIPT}.\x00\x1b",
                title=f"PII {IMG}",
                severity="high",
                explanation=f"{SCRIPT} explanation",
                recommendation=f"Remove {IMG}",
                metrics={SCRIPT: 1, "ok": 2},
                findings=[
                    {
                        "status": "fail",
                        "message": f"{SCRIPT} {IMG}",
                        "column": SCRIPT,
                        "columns": [IMG, SCRIPT],
                        "group": IMG,
                        "split": SCRIPT,
                        "metrics": {IMG: 0.5},
                    }
                ],
                standards=[SCRIPT],
                thresholds={IMG: SCRIPT},
                details={
                    IMG: SCRIPT,
                    "table": [{SCRIPT: IMG}],
                    "charts": [
                        {
                            "kind": "bars",
                            "title": SCRIPT,
                            "x_label": IMG,
                            "items": [{"label": SCRIPT, "value": 1, "status": IMG}],
                        },
                        {
                            "kind": "distribution",
                            "title": IMG,
                            "labels": [IMG],
                            "series": {SCRIPT: [0.5], IMG: [0.4]},
                        },
                        {
                            "kind": "intervals",
                            "title": IMG,
                            "x_label": SCRIPT,
                            "items": [{"label": IMG, "value": 1, "low": 0, "high": 2}],
                        },
                    ],
                },
            )
        )
    counts = {
        s: sum(c["status"] == s for c in checks)
        for s in ("pass", "warn", "fail", "error", "skipped")
    }
    test_path = f"/data/{SCRIPT}.csv" if hostile else "/data/loans_test.csv"
    return {
        "schema_version": "1.0",
        "assay_version": "0.1.0",
        "created_at": "2025-05-02T14:03:11+00:00",
        "inputs": {
            "train": {
                "name": "train",
                "path": "/data/loans_train.csv",
                "kind": "csv",
                "rows": 20000,
                "columns": 24,
                "file_sha256": "9f" * 32,
                "fingerprint": "sha256:" + "ab" * 32,
            },
            "test": {
                "name": "test",
                "path": test_path,
                "kind": "csv",
                "rows": 5000,
                "columns": 24,
                "file_sha256": "3e" * 32,
            },
            "schema": {
                "types": {"age": "numeric"},
                "target": "defaulted",
                "task": "binary",
                "features": [
                    "age",
                    "income",
                    "region",
                    "employment_length_years",
                    *(f"feature_{i}" for i in range(19)),
                    SCRIPT if hostile else "notes",
                ],
                "classes": [0, 1],
            },
            "model": {
                "kind": "skops",
                "path": "/models/loans.skops",
                "class": "sklearn.ensemble._hist_gradient_boosting.gradient_boosting."
                "HistGradientBoostingClassifier",
                "has_predict_proba": True,
            },
            "prediction_columns": {"prediction": None, "score": []},
            "sensitive": [IMG] if hostile else [],
        },
        "settings": {
            "seed": 0,
            "n_bootstrap": 500,
            "confidence": 0.95,
            "max_rows_model_checks": 200000,
            "positive_label": None,
            "thresholds": {},
        },
        "environment": {
            "python": "3.11.7",
            "numpy": "1.26.4",
            "scipy": "1.13.0",
            "pandas": "2.2.2",
            "polars": "1.6.0",
            "sklearn": "1.5.1",
            "platform": SCRIPT if hostile else "Linux-6.1-x86_64",
        },
        "checks": checks,
        "summary": {**counts, "total": len(checks)},
        "gate": {"fail_on": "fail", "failed": counts["fail"] + counts["error"] > 0},
    }
