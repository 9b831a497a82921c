"""One suite over every registered check (in the spirit of scikit-learn's
``metrics/tests/test_common.py``): each check runs in a full scenario, round-
trips through JSON, is deterministic, ignores row order, and is documented. The
contracts and comparisons are the public ones of :mod:`assay.testing`, which a
plugin's tests use the same way.

A new check that this scenario cannot run fails ``test_every_check_runs``: add
what it needs to the scenario rather than leaving it untested. Checks of the
unsupervised tasks (``clustering``, ``anomaly``) run in a scenario of their own
task; ``test_every_check_is_in_a_scenario`` fails for a check in none.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import assay
from assay.core.registry import AREAS, all_checks
from assay.testing import (
    assert_row_order_invariant,
    assert_same_result,
    parametrize_with_checks,
)

from .conftest import fit_logreg
from .unsupervised.helpers import blobs, isolation_forest, kmeans, transactions

ROOT = Path(__file__).resolve().parents[1]
CHECK_IDS = [s.id for s in all_checks()]
UNSUPERVISED = ("clustering", "anomaly")
# The scenarios each check runs in: the binary one when it declares a supervised task,
# and the scenario of each unsupervised task it declares (label-free checks run in all).
SCENARIOS_OF = {
    s.id: [
        t
        for t in ("binary", *UNSUPERVISED)
        if t in s.tasks or (t == "binary" and set(s.tasks) - set(UNSUPERVISED))
    ]
    for s in all_checks()
}
TASK_OF = {i: tasks[0] for i, tasks in SCENARIOS_OF.items()}
# 60 rows attacked (of 300 by default) keep security.adversarial to a second.
CONFIG = {
    "n_bootstrap": 60,
    "seed": 3,
    "enable": list(AREAS),
    "thresholds": {"security.adversarial": {"n_rows": 60}},
}
NONDETERMINISTIC = {s.id for s in all_checks() if not s.deterministic}


def reviewed_cases(n: int = 400, seed: int = 0):
    """A decisions table for monitoring.human_oversight: two reviewers who catch
    about half of the model's mistakes."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    pred = np.where(rng.random(n) < 0.85, y, 1 - y)
    decision = np.where(rng.random(n) < 0.5, y, pred)
    reviewer = np.where(np.arange(n) % 2 == 0, "r1", "r2")
    return pd.DataFrame(
        {
            "prediction": pred,
            "decision": decision,
            "label": y,
            "reviewer": reviewer,
            "seconds": rng.exponential(10, n),
        }
    )


DECISIONS = reviewed_cases()


def run(train, test, current, model, config=CONFIG, **kw):
    return assay.audit(
        train=train,
        test=test,
        current=current,
        target="y",
        model=model,
        config=config,
        decisions=DECISIONS,
        **kw,
    )


def clustering_data():
    train, test, current = blobs(600, seed=0), blobs(600, seed=1), blobs(600, seed=2)
    return train, test, current, kmeans(train, 4)


def anomaly_data():
    train, test = transactions(800, seed=1), transactions(600, seed=2)
    return train, test, transactions(600, seed=3), isolation_forest(train)


def run_unsupervised(task, *frames):
    """The clustering or anomaly scenario on ``frames`` (as the data functions give them)."""
    if task == "clustering":
        train, test, current, model = frames
        return assay.audit(
            train=train,
            test=test,
            current=current,
            model=model,
            task=task,
            sensitive="region",
            config=CONFIG,
        )
    train, test, current, model = frames
    config = {**CONFIG, "thresholds": {"anomaly.rate": {"contamination": 0.05}}}
    return assay.audit(
        train=train,
        test=test,
        current=current,
        model=model,
        target="label",
        task=task,
        config=config,
    )


SCENARIO_DATA = {"clustering": clustering_data, "anomaly": anomaly_data}


@pytest.fixture(scope="module")
def full(binary_data, binary_model):
    train, test, current = binary_data
    return run(train, test, current, binary_model, sensitive="colour")


@pytest.fixture(scope="module")
def unsupervised_full():
    return {t: run_unsupervised(t, *SCENARIO_DATA[t]()) for t in UNSUPERVISED}


@pytest.fixture(scope="module")
def results(full, unsupervised_full):
    return {"binary": full, **unsupervised_full}


def test_every_check_is_in_a_scenario(results):
    ran = {c.id for r in results.values() for c in r.checks}
    assert sorted(ran) == sorted(CHECK_IDS)


@pytest.mark.parametrize("task", ["binary", *UNSUPERVISED])
def test_every_check_runs(results, task):
    """Every registered check of the task ran (no skip, no error) in its full scenario."""
    by_id = {c.id: c for c in results[task].checks}
    assert sorted(by_id) == sorted(i for i in CHECK_IDS if task in SCENARIOS_OF[i])
    not_run = {i: c.summary for i, c in by_id.items() if c.status in ("skipped", "error")}
    assert not not_run, not_run


@parametrize_with_checks(CHECK_IDS)
def test_contract(results, check_id, contract):
    """JSON round trip and well-formed results (assay.testing.CONTRACTS), per check."""
    contract(results[TASK_OF[check_id]].check(check_id))


@pytest.mark.parametrize("task", ["binary", *UNSUPERVISED])
def test_deterministic(binary_data, binary_model, results, task):
    if task == "binary":
        train, test, current = binary_data
        again = run(train, test, current, binary_model, sensitive="colour")
    else:
        again = run_unsupervised(task, *SCENARIO_DATA[task]())
    for a, b in zip(results[task].checks, again.checks, strict=True):
        assert_same_result(a, b)  # timings: same metric names, different numbers


@pytest.mark.parametrize("task", ["binary", *UNSUPERVISED])
def test_row_order_invariance(binary_data, binary_model, results, task):
    """Shuffling rows changes no status and no point estimate (intervals may move a little)."""
    perm = np.random.default_rng(7)
    if task == "binary":
        shuffled = [d.iloc[perm.permutation(len(d))].reset_index(drop=True) for d in binary_data]
        again = run(*shuffled, binary_model, sensitive="colour")
    else:
        *frames, model = SCENARIO_DATA[task]()
        shuffled = [d.iloc[perm.permutation(len(d))].reset_index(drop=True) for d in frames]
        again = run_unsupervised(task, *shuffled, model)
    for a, b in zip(results[task].checks, again.checks, strict=True):
        assert_row_order_invariant(a, b)


def test_string_and_int_labels_agree(binary_data):
    train, test, current = binary_data
    to_str = lambda d: d.assign(y=np.where(d["y"] == 1, "yes", "no"))  # noqa: E731
    int_model = fit_logreg(train)
    str_model = fit_logreg(to_str(train))
    no_timing = {k: v for k, v in CONFIG.items() if k != "enable"}  # opt-in timings compare nothing
    a = run(train, test, current, int_model, config=no_timing)
    b = run(to_str(train), to_str(test), to_str(current), str_model, config=no_timing)
    for ca, cb in zip(a.checks, b.checks, strict=True):
        if ca.id in NONDETERMINISTIC:
            continue
        assert ca.status == cb.status, ca.id
        for k, v in ca.metrics.items():
            if v is not None and not k.endswith(("_low", "_high")):
                assert cb.metrics[k] == pytest.approx(v, rel=1e-6, abs=1e-9), (ca.id, k)


def test_catalogue_is_current():
    """docs/checks.md is generated from the registry and committed."""
    from assay.core.catalogue import render_catalogue

    committed = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    assert committed == render_catalogue(), "run `make catalogue` and commit docs/checks.md"
    for check_id in CHECK_IDS:
        assert f"### `{check_id}`" in committed


def test_unknown_check_lists_valid_ids():
    with pytest.raises(assay.UnknownCheckError) as info:
        assay.get_check("data.integrty")
    assert "data.integrity" in str(info.value)
