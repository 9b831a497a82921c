"""The verdicts of ``drift.prediction`` and ``drift.target``, judged from hand-built series
comparisons (no data): the main series drifting fails, another one drifting warns. Each
series' own verdict (its statistic against ``wasserstein``, ``jensenshannon`` or
``p_value``) is measured by :func:`assay.drift._univariate.assess`; the judge reads it."""

from __future__ import annotations

import pytest

from assay.drift._common import SeriesDrift
from assay.drift._univariate import ColumnDrift
from assay.drift.prediction import judge_prediction_drift
from assay.drift.target import judge_target_drift


def series(name: str, drifted: bool = False, tested: bool = True) -> ColumnDrift:
    return ColumnDrift(
        name=name,
        column=name,
        kind="numeric",
        method="wasserstein" if tested else "not_tested",
        reason="" if tested else "too few values",
        fallback=False,
        n_reference=3000,
        n_current=2000,
        reference_missing=0.0,
        current_missing=0.0,
        statistic=0.3 if drifted else 0.02,
        threshold=0.1,
        drifted=drifted,
    )


def measured(*cols: ColumnDrift, main: str) -> SeriesDrift:
    return SeriesDrift(
        series=cols,
        main=main,
        reference="train",
        reference_rows=3000,
        current_rows=2000,
        details={"engine": "local"},
    )


@pytest.mark.parametrize(
    ("score", "label", "status"),
    [
        (False, False, "pass"),
        (False, True, "warn"),  # only the predicted class moved: the score says more
        (True, False, "fail"),  # the main series (a binary classifier's score) moved
        (True, True, "fail"),
    ],
)
def test_prediction_drift_main_series_fails_another_warns(score, label, status):
    m = measured(series("predicted class", label), series("score P(1)", score), main="score P(1)")
    assert judge_prediction_drift(m) == status


def test_prediction_drift_counts_only_drifted_series():
    m = measured(
        series("predicted class"),
        series("score P(a)", tested=False),
        series("score P(b)"),
        main="predicted class",
    )
    assert judge_prediction_drift(m) == "pass"
    m = measured(
        series("predicted class"),
        series("score P(a)"),
        series("score P(b)", drifted=True),
        main="predicted class",
    )
    assert judge_prediction_drift(m) == "warn"


@pytest.mark.parametrize(("drifted", "status"), [(False, "pass"), (True, "fail")])
def test_target_drift_fails_when_the_target_drifts(drifted, status):
    assert judge_target_drift(measured(series("y", drifted), main="y")) == status


def test_an_untested_target_passes():
    assert judge_target_drift(measured(series("y", tested=False), main="y")) == "pass"
