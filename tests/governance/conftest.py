"""Report dicts for the governance tests: one built by hand (fast, every status),
one from a real audit of a small model (the card must copy its numbers)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from assay.governance import governance_record


def _check(cid: str, status: str, severity: str = "medium", **kw: Any) -> dict[str, Any]:
    return {
        "id": cid,
        "area": cid.split(".", 1)[0],
        "title": kw.pop("title", cid.split(".", 1)[1].replace("_", " ").capitalize()),
        "status": status,
        "severity": severity,
        "summary": kw.pop("summary", f"Summary of {cid}."),
        "explanation": "What this check looks at, in plain words for a newcomer.",
        "metrics": kw.pop("metrics", {}),
        "findings": kw.pop("findings", []),
        "recommendation": kw.pop("recommendation", f"Fix {cid}."),
        "standards": kw.pop("standards", ["MEASURE 2.1"]),
        "thresholds": {},
        "details": kw.pop("details", {}),
        "duration_s": 0.01,
    }


def _performance_details() -> dict[str, Any]:
    """``evaluation.performance``'s details built as its declared type, not written by hand:
    renaming a field the model card reads (``metric_labels``, ``main_metric``) fails here
    instead of leaving this fixture on the old shape (#15 item 2)."""
    from assay.evaluation.performance import PerformanceDetails

    return PerformanceDetails(
        main_metric="roc_auc",
        metric_labels={"roc_auc": "ROC-AUC"},
        intervals={},
        main_interval_width=0.02,
        interval_too_wide=False,
        precision={},
        limits=(),
        n_bootstrap=200,
        seed=0,
        confidence=0.95,
        n_rows={"test": 1000},
        sampled=False,
    ).to_dict()


def make_report() -> dict[str, Any]:
    checks = [
        _check(
            "data.integrity",
            "warn",
            "high",
            findings=[
                {
                    "status": "warn",
                    "message": "Column 'age' is 12% missing.",
                    "column": "age",
                    "metrics": {},
                },
            ],
        ),
        _check("data.target_leakage", "fail", "critical"),
        _check("data.provenance", "pass"),
        _check("evaluation.calibration", "fail", "medium"),
        _check("evaluation.overfitting", "error", "medium", recommendation=""),
        _check(
            "evaluation.performance",
            "pass",
            "high",
            metrics={
                "accuracy": 0.91234567,
                "accuracy_low": 0.9,
                "accuracy_high": 0.925,
                "roc_auc": 0.95,
                "roc_auc_low": 0.94,
                "roc_auc_high": 0.96,
                "train_accuracy": 0.95,
                "train_accuracy_low": 0.94,
                "train_accuracy_high": 0.96,
            },
            details=_performance_details(),
        ),
        _check(
            "fairness.group_metrics",
            "warn",
            "high",
            findings=[
                {
                    "status": "warn",
                    "message": "Group b is selected less often.",
                    "group": "colour=b",
                    "metrics": {"ratio": 0.7},
                }
            ],
            details={
                "sets": [
                    {
                        "attributes": ["colour"],
                        "groups": [
                            {
                                "group": "colour=a",
                                "count": 500.0,
                                "selection_rate": 0.4,
                                "selection_rate_low": 0.35,
                                "selection_rate_high": 0.45,
                            },
                            {
                                "group": "colour=b",
                                "count": 400.0,
                                "selection_rate": 0.28,
                                "selection_rate_low": 0.24,
                                "selection_rate_high": 0.33,
                            },
                        ],
                    }
                ]
            },
        ),
        _check("drift.features", "skipped", summary="Skipped: no current (production) data."),
    ]
    return {
        "schema_version": "1.0",
        "assay_version": "0.1.0",
        "created_at": "2026-01-02T03:04:05+00:00",
        "inputs": {
            "train": {
                "path": "/data/train.csv",
                "kind": "csv",
                "rows": 1500,
                "columns": 5,
                "file_sha256": "ab" * 32,
                "fingerprint": "sha256:" + "cd" * 32,
            },
            "test": {
                "path": "/data/test.csv",
                "kind": "csv",
                "rows": 900,
                "columns": 5,
                "fingerprint": "sha256:" + "ef" * 32,
            },
            "schema": {
                "task": "binary",
                "target": "y",
                "classes": [0, 1],
                "features": ["x1", "x2", "colour"],
            },
            "model": {
                "kind": "skops",
                "path": "/models/m.skops",
                "class": "sklearn.pipeline.Pipeline",
            },
            "prediction_columns": {"prediction": None, "score": []},
            "sensitive": ["colour"],
        },
        "settings": {"seed": 0, "n_bootstrap": 200, "confidence": 0.95},
        "environment": {"python": "3.11"},
        "checks": checks,
        "summary": {"pass": 2, "warn": 2, "fail": 2, "error": 1, "skipped": 1, "total": 8},
        "gate": {"fail_on": "fail", "failed": True},
        "extra": {"governance": governance_record([c["id"] for c in checks])},
    }


@pytest.fixture
def report() -> dict[str, Any]:
    return copy.deepcopy(make_report())


@pytest.fixture(scope="session")
def audited(binary_data, binary_model) -> dict[str, Any]:
    """A real report: a small audit of the shared logistic-regression scenario."""
    import assay

    train, test, _ = binary_data
    result = assay.audit(
        train=train,
        test=test,
        target="y",
        model=binary_model,
        sensitive="colour",
        config={
            "n_bootstrap": 40,
            "include": ["evaluation.performance", "data.integrity", "data.provenance"],
        },
    )
    return result.to_dict()
