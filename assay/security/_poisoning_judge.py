"""The verdicts of ``security.poisoning``: numbers in, status and reason out.

No data and no model here: the measuring code in :mod:`assay.security.poisoning`
computes the numbers, these functions decide, and the describing code writes the
sentence. Poisoning lives in the training data only, so a signal warns only when
the held-out data does NOT show the same thing (a pattern that holds equally there
is the world, not tampering).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assay.core.result import Status


def poisson_tail(observed: int, expected: float) -> float:
    """P(X >= observed) for X ~ Poisson(expected); a sum of independent Bernoulli
    draws is less spread than a Poisson of the same mean, so the tail is conservative."""
    from scipy.stats import poisson

    if observed <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    return float(poisson.sf(observed - 1, expected))


def judge_conflicts(
    conflicting: int, expected: float | None, share: float, th: Mapping[str, Any]
) -> tuple[Status, float, str]:
    """Conflicting duplicates: tampering, or the label noise the data has anyway?

    ``conflicting``: duplicate groups (same features) whose labels differ;
    ``expected``: how many would differ if each group's labels were independent draws
    from the out-of-fold class probabilities of its features (``None``: unknown);
    ``share``: the share of rows in conflicting groups. Warns when the conflicts exceed
    the expected number beyond chance (Poisson tail below ``conflict_alpha``), number
    at least ``conflict_min_groups`` (a handful of groups rests on how well calibrated
    the probabilities of those few rows are), AND the
    excess, ``share * (1 - expected / conflicting)``, holds at least ``conflict_warn``
    of the rows; fails when, in addition, ``share`` reaches ``conflict_fail``.
    Otherwise a pass: a data-quality note.

    Returns (status, p-value, reason).

    >>> judge_conflicts(4, 3.0, 0.017, {"conflict_alpha": 0.01, "conflict_min_groups": 8,
    ...     "conflict_warn": 0.005, "conflict_fail": 0.05})[0]
    'pass'
    """
    if conflicting == 0:
        return "pass", 1.0, "no conflicting duplicates"
    if expected is None:
        return "pass", 1.0, "no class probabilities to tell label noise from tampering"
    p = poisson_tail(conflicting, expected)
    if not p < float(th["conflict_alpha"]):
        return "pass", p, f"no more than label noise explains (p = {p:.2g})"
    if conflicting < int(th["conflict_min_groups"]):
        return (
            "pass",
            p,
            (
                f"{conflicting} groups, fewer than {th['conflict_min_groups']}: too few to tell "
                "tampering from over-confident class probabilities"
            ),
        )
    excess = share * max(0.0, 1.0 - expected / conflicting)
    if excess < float(th["conflict_warn"]) - 1e-12:
        return "pass", p, f"the excess over label noise is {excess:.2%} of the rows"
    status: Status = "fail" if share >= float(th["conflict_fail"]) else "warn"
    return status, p, f"{conflicting} conflicting groups where label noise gives {expected:.1f}"


def judge_trigger(
    p_combined: float,
    limit: float,
    held_out_rows: int | None,
    expected_held_out: float,
    p_absent: float,
    test_confirms: bool,
    th: Mapping[str, Any],
) -> tuple[Status | None, str]:
    """A rare pure pattern: backdoor trigger, real pattern, or nothing to say?

    Returns ``"warn"`` when the combined evidence is below ``limit`` AND, where there
    is held-out data, the pattern is short there beyond chance (``p_absent`` below
    ``trigger_absent_alpha``) and by a material factor (at most
    ``trigger_held_out_ratio`` of its expected count); ``"pass"`` (listed as a real
    pattern) when the labelled test data shows the same tie; ``None`` (not reported)
    otherwise: a trigger whose own evidence says it recurs is not named.

    >>> th = {"trigger_absent_alpha": 0.01, "trigger_held_out_ratio": 0.25}
    >>> judge_trigger(1e-9, 1e-5, 0, 12.0, 1e-6, False, th)[0]
    'warn'
    >>> judge_trigger(1e-9, 1e-5, 11, 12.0, 0.4, False, th)[0] is None
    True
    """
    if test_confirms:
        return "pass", "the labelled test data shows the same tie: a real pattern"
    if not p_combined < limit:
        return None, f"not significant (p = {p_combined:.3g} >= {limit:.3g})"
    if held_out_rows is None:
        return "warn", "no held-out data to check its absence"
    if not p_absent < float(th["trigger_absent_alpha"]):
        return None, f"recurs in the held-out data (p = {p_absent:.3g})"
    if held_out_rows > float(th["trigger_held_out_ratio"]) * expected_held_out:
        return None, f"{held_out_rows} held-out rows where {expected_held_out:.1f} expected"
    return "warn", "rare, pure, unexplained by the other columns, absent from held-out data"


def judge_train_only(
    train_hits: int,
    test_hits: int,
    train_expected: float,
    test_expected: float,
    limit: float,
) -> tuple[bool, float]:
    """Whether a cell's pile-up of suspects lives in the training data only.

    Given the cell's suspects in both splits, the train count is binomial with the
    train's share of what each split's size and overall rate predict (an exact
    conditional test). A cell as noisy in held-out data as in train is the world.

    >>> judge_train_only(20, 1, 5.0, 5.0, 0.001)[0]
    True
    >>> judge_train_only(20, 18, 5.0, 5.0, 0.001)[0]
    False
    """
    from scipy.stats import binom

    total = train_hits + test_hits
    if train_hits <= 0 or train_expected <= 0:
        return False, 1.0
    if test_expected <= 0:
        return False, 1.0
    share = train_expected / (train_expected + test_expected)
    p = float(binom.sf(train_hits - 1, total, share))
    return p < limit, p
