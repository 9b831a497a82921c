"""Audit a model in your test suite with Assay's pytest plug-in.

Installing Assay registers the plug-in (``pytest11`` entry point): the
``assay_audit`` fixture runs :func:`assay.audit` and ``assert_gate()`` fails the
test with the audit's first next steps when a check fails. Run::

    pytest examples/test_model_with_assay.py --assay-report assay-reports

and open ``assay-reports/<test id>/report.html``. The data is scikit-learn's
bundled breast-cancer table (no download).
"""

from __future__ import annotations

import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

# A few checks keep the example quick; leave "include" out to run them all.
CHECKS = ["evaluation.performance", "evaluation.baseline_comparison", "data.target_leakage"]


@pytest.fixture(scope="module")
def split():
    frame = load_breast_cancer(as_frame=True).frame
    return train_test_split(frame, test_size=0.3, random_state=0, stratify=frame["target"])


@pytest.fixture(scope="module")
def model(split):
    train, _ = split
    X, y = train.drop(columns="target"), train["target"]
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(X, y)


def test_model_passes_the_assay_gate(assay_audit, split, model):
    train, test = split
    result = assay_audit(
        train=train,
        test=test,
        target="target",
        model=model,
        config={"include": CHECKS, "n_bootstrap": 200},
    )
    result.assert_gate()  # fails with the first next steps when a check fails
    perf = result.check("evaluation.performance")
    assert perf.metrics["roc_auc_low"] > 0.9  # the lower end of its 95% interval
