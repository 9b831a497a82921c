"""assay.testing: run_check on planted and clean data, the contracts catching planted
defects, the two comparisons, and parametrize_with_checks as a plugin's tests use it."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import assay
from assay.testing import (
    CONTRACTS,
    assert_row_order_invariant,
    assert_same_result,
    check_json_round_trip,
    check_well_formed,
    parametrize_with_checks,
    run_check,
)

ROOT = Path(__file__).resolve().parents[1]


def table(missing: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    x = rng.normal(size=400)
    if missing:
        x[::3] = np.nan  # a third of the rows
    return pd.DataFrame({"x": x, "z": rng.normal(size=400), "y": rng.integers(0, 2, 400)})


@pytest.fixture(scope="module")
def planted():
    return run_check("data.integrity", table(missing=True), target="y")


def test_run_check_catches_planted_missing_values_and_passes_clean_data(planted):
    assert planted.id == "data.integrity" and planted.status in ("warn", "fail")
    assert any(f.column == "x" for f in planted.findings)
    clean = run_check("data.integrity", table(missing=False), target="y")
    assert clean.status == "pass" and not [f for f in clean.findings if f.column == "x"]


def test_run_check_thresholds_are_the_checks_own():
    lenient = {"data.integrity": {"missing_warn": 0.5, "missing_fail": 0.9}}
    r = run_check("data.integrity", table(missing=True), target="y", thresholds=lenient)
    assert not [f for f in r.findings if f.column == "x" and f.status != "pass"]
    assert r.thresholds["missing_warn"] == 0.5


def test_run_check_unknown_id_says_did_you_mean():
    with pytest.raises(assay.UnknownCheckError, match=r"Did you mean 'data\.integrity'"):
        run_check("data.integrty", table(missing=False), target="y")


def test_contracts_hold_for_a_real_result(planted):
    for contract in CONTRACTS:
        contract(planted)


@pytest.mark.parametrize(
    ("change", "contract", "message"),
    [
        # a p value stored as text: graded as no evidence, as a number after the trip
        (
            {"status": "warn", "metrics": {"p_value": "0.001"}},
            check_json_round_trip,
            "JSON round trip changed it",
        ),
        ({"metrics": {"share": float("inf")}}, check_well_formed, "metric share"),
        ({"summary": "lower case, no full stop"}, check_well_formed, "summary"),
        ({"standards": ("NIST 1",)}, check_well_formed, "standards"),
        ({"status": "skipped", "summary": "Nothing to do."}, check_well_formed, "Nothing"),
    ],
)
def test_contracts_catch_planted_defects(planted, change, contract, message):
    with pytest.raises(AssertionError, match=message):
        contract(dataclasses.replace(planted, **change))


def test_assert_same_result(planted):
    assert_same_result(planted, dataclasses.replace(planted, duration_s=99.0))
    metrics = {**planted.metrics, "n_rows": 1}
    with pytest.raises(AssertionError):
        assert_same_result(planted, dataclasses.replace(planted, metrics=metrics))


def test_assert_row_order_invariant(planted):
    r = dataclasses.replace(planted, metrics={"share": 0.30, "share_low": 0.20, "p_value": 0.04})
    moved_interval = dataclasses.replace(
        r, metrics={"share": 0.30, "share_low": 0.205, "p_value": 0.041}
    )
    assert_row_order_invariant(r, moved_interval)  # resampled numbers may move a little
    moved_point = dataclasses.replace(r, metrics={**r.metrics, "share": 0.301})
    with pytest.raises(AssertionError):
        assert_row_order_invariant(r, moved_point)
    with pytest.raises(AssertionError):
        assert_row_order_invariant(r, dataclasses.replace(r, status="fail"))


def test_parametrize_with_checks_cases():
    mark = parametrize_with_checks(["data.integrity", "evaluation.performance"])
    names, cases = mark.args
    assert names == ("check_id", "contract")
    assert len(cases) == 2 * len(CONTRACTS)
    assert "data.integrity-check_json_round_trip" in mark.kwargs["ids"]
    everything = parametrize_with_checks()
    assert len(everything.args[1]) == len(assay.list_checks()) * len(CONTRACTS)
    with pytest.raises(assay.UnknownCheckError):
        parametrize_with_checks(["data.integrty"])


PLUGIN_TESTS = """
import pandas as pd
from assay.testing import parametrize_with_checks, run_check

DF = pd.DataFrame({"a": range(120), "y": [0, 1] * 60})
TH = {"example.row_count": {"min_rows": 500}}


@parametrize_with_checks(["example.row_count"])
def test_contract(check_id, contract):
    contract(run_check(check_id, DF, target="y", prediction="y"))


def test_warns_below_min_rows():
    assert run_check("example.row_count", DF, target="y", prediction="y").status == "pass"
    r = run_check("example.row_count", DF, target="y", prediction="y", thresholds=TH)
    assert r.status == "warn"
"""


def test_a_plugin_tests_its_check_with_it(tmp_path):
    (tmp_path / "test_plugin.py").write_text(PLUGIN_TESTS, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests" / "fixtures" / "plugins" / "good")}
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", "."],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"{len(CONTRACTS) + 1} passed" in out.stdout
