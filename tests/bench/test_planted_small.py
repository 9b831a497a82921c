"""Small planted-problem benchmark (regression guard), bundled Adult demo data only.

The full benchmark is bench/planted (real datasets, peers); see docs/benchmarks.md.
Floors are what the full run measured on Adult for these problem types.
"""

from __future__ import annotations

import sys
from importlib import resources
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from planted.datasets import load_adult_frame
from planted.planters import make_case
from planted.score import DETECTORS, flagged, judge, run_assay

PROBLEMS = (
    "leaking_feature",
    "train_test_duplicates",
    "label_flips_random",
    "label_flips_slice",
    "weak_slice",
    "backdoor_trigger",
    "drift_mean_shift",
    "drift_new_category",
    "pii_column",
    "conflicting_duplicates",
    "missing_burst",
)
SEEDS = (0, 1)
RECALL_FLOOR = 1.0  # measured: 1.00 on Adult (both seeds) for every problem above
CLEAN_CEILING = (
    0.5  # measured: seed 0 drift.features flags relationship (BH p=0.021) on a random split
)


@pytest.fixture(scope="module")
def adult():
    path = resources.files("assay.demo") / "data" / "adult.csv.gz"
    with resources.as_file(path) as p:
        return load_adult_frame(pd.read_csv(p))


@pytest.mark.parametrize("problem", PROBLEMS)
def test_planted_problem_is_found_and_named(adult, problem):
    found = []
    for seed in SEEDS:
        case = make_case(adult, problem, seed, sizes=(1500, 700, 700))
        res, _ = run_assay(case, DETECTORS[problem], n_bootstrap=50)
        found.append(judge(case.truth, flagged(res, DETECTORS[problem]))[0])
    assert sum(found) / len(found) >= RECALL_FLOOR, (problem, found)


def test_clean_controls_stay_quiet(adult):
    # Every responsible check of the problems above (measured quiet on both seeds but
    # for the drift alarm noted at CLEAN_CEILING). fairness.group_metrics is not among
    # them: on Adult it rightly reports the real sex gap in error rates.
    checks = tuple(sorted({c for p in PROBLEMS for c in DETECTORS[p]}))
    alarms = []
    for seed in SEEDS:
        case = make_case(adult, "clean", seed, sizes=(1500, 700, 700))
        res, _ = run_assay(case, checks, n_bootstrap=50)
        alarms.append(bool(flagged(res, checks)))
    assert sum(alarms) / len(alarms) <= CLEAN_CEILING, alarms
