"""The verdicts of ``security.poisoning``: numbers in, status and reason out.

No data and no model here: the measuring code in :mod:`assay.security._poisoning`
(one module per signal) computes the numbers, these functions decide, and the
describing code there writes the sentence. Poisoning lives in the training data
only, so a signal warns only when the held-out data does NOT show the same thing (a
pattern that holds equally there is the world, not tampering).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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


def judge_influence(
    train_rows: int,
    held_rows: int | None,
    n_train: int,
    n_held: int,
    th: Mapping[str, Any],
) -> tuple[Status, float, str]:
    """Influential outliers: an attack, or the heavy tails of honest data?

    ``train_rows``: train rows that are extreme, pull the linear surrogate strongly and
    carry a label the fit without them does not give; ``held_rows``: held-out rows
    (of ``n_held``) that would do the same if added to the fit (``None``: no labelled
    held-out data), beside ``n_train`` train rows searched. Poisoning needs many
    rows and lives in the training data only, so this warns when at least
    ``influence_min_rows`` train rows are influential AND, where labelled held-out
    data exists, the train count exceeds what the held-out rate predicts beyond
    chance (exact conditional binomial test, p below ``influence_alpha``); a handful
    of extreme rows, or as many as the held-out rows show, is a data-quality note.

    Returns (status, p-value of the train-only test, reason).

    >>> th = {"influence_min_rows": 8, "influence_alpha": 0.01}
    >>> judge_influence(1, 0, 2800, 1200, th)[0]
    'pass'
    >>> judge_influence(25, 0, 2800, 1200, th)[0]
    'warn'
    >>> judge_influence(25, 11, 2800, 1200, th)[0]
    'pass'
    """
    if train_rows <= 0:
        return "pass", 1.0, "no influential outliers"
    p = 1.0
    if held_rows is not None and n_held > 0:
        _, p = judge_train_only(train_rows, held_rows, float(n_train), float(n_held), 1.0)
    if train_rows < int(th["influence_min_rows"]):
        return (
            "pass",
            p,
            (
                f"{train_rows} row(s), fewer than {th['influence_min_rows']}: a few extreme "
                "rows are what heavy tails give, a data-quality matter, not an attack"
            ),
        )
    if held_rows is None or n_held <= 0:
        return "warn", p, "many influential rows; no labelled held-out data to compare"
    if not p < float(th["influence_alpha"]):
        return (
            "pass",
            p,
            (
                f"the held-out data has {held_rows} such row(s) of {n_held:,} (train-only "
                f"p = {p:.2g}): the data's own tails, not tampering"
            ),
        )
    return "warn", p, f"many, and train-only (p = {p:.2g})"


def judge_flipped_slice(
    slope: float,
    p_flat: float,
    against: int,
    held_rows: int | None,
    held_slope: float,
    p_steeper: float,
    cells: int,
    th: Mapping[str, Any],
) -> tuple[bool, str]:
    """A cell whose labels look randomized: flipped train labels, or a weak model?

    ``slope``/``p_flat``: the cell's in-train recalibration slope of the model's
    out-of-fold logits and the p-value of slope 1; ``against``: train rows there
    carrying the label the model finds less likely; ``held_rows``/``held_slope``: the
    labelled held-out rows in the same cell and their slope under the same fold
    models (``held_rows`` ``None``: no labelled held-out data); ``p_steeper``: the
    likelihood-ratio p-value that the train labels there are the held-out curve
    with a share flipped (against one curve for both splits); ``cells``: how many
    cells were searched (Bonferroni). Flips live in the training data only; a
    region where the model is simply weaker looks
    the same in held-out rows. True (flipped) when the train cell is flat (``p_flat``
    below ``alpha`` / ``cells``, slope between 0 and ``cluster_slope``), at least
    ``cluster_min_issues`` rows go against the model, and, where labelled held-out
    data exists, the held-out cell has at least ``cluster_min_rows // 2`` rows, a
    slope above ``cluster_test_slope``, and the train labels differ from it as
    flips do, beyond chance (``p_steeper`` below ``cluster_train_only_alpha`` /
    ``cells``).

    >>> th = {"cluster_slope": 0.25, "cluster_min_issues": 8, "cluster_min_rows": 30,
    ...       "cluster_test_slope": 0.5, "cluster_train_only_alpha": 0.01, "alpha": 0.001}
    >>> judge_flipped_slice(0.1, 1e-9, 40, 120, 0.9, 1e-8, 100, th)[0]
    True
    >>> judge_flipped_slice(0.2, 1e-9, 40, 120, 0.6, 0.01, 100, th)[0]
    False
    """
    cells = max(int(cells), 1)
    if not (p_flat < float(th["alpha"]) / cells and 0.0 <= slope <= float(th["cluster_slope"])):
        return False, "the labels follow the model there"
    if against < int(th["cluster_min_issues"]):
        return False, f"only {against} rows go against the model there"
    if held_rows is None:
        return True, "flat in train; no labelled held-out rows to compare"
    if held_rows < int(th["cluster_min_rows"]) // 2 or not np.isfinite(held_slope):
        return False, f"{held_rows} held-out rows there: too few to tell flips from misfit"
    if not held_slope > float(th["cluster_test_slope"]):
        return False, f"as flat in held-out rows (slope {held_slope:.2f}): the model's misfit"
    if not p_steeper < float(th["cluster_train_only_alpha"]) / cells:
        return False, (
            f"train labels not clearly flipped against held-out rows (slope {held_slope:.2f} vs "
            f"{slope:.2f}, p = {p_steeper:.2g})"
        )
    return True, f"flat in train only (held-out slope {held_slope:.2f}, p = {p_steeper:.2g})"


def judge_pile_up(
    issues: int,
    suspects: int,
    expected: float,
    p_value: float,
    limit: float,
    binary: bool,
    slope: float,
    th: Mapping[str, Any],
) -> bool:
    """A cell whose suspect labels pile up far beyond the model's uncertainty there?

    ``issues``: suspect labels in the whole sample; ``suspects``/``expected``: those in
    the cell and what the model's uncertainty predicts there (scaled to ``issues``);
    ``p_value``: their Poisson tail, compared with ``limit`` (``alpha`` / cells
    searched); ``slope``: the cell's recalibration slope (binary labels). True when
    the sample and the cell each hold at least ``cluster_min_issues`` suspects, the
    cell ``cluster_ratio`` times what is expected, beyond chance, and, for binary
    labels, the model's ranking is reversed there (labels set to one class against
    the model; otherwise the pile-up is the model's misfit). Whether the pile-up is
    in the training data only is :func:`judge_train_only`'s question.

    >>> th = {"cluster_min_issues": 8, "cluster_ratio": 2.0}
    >>> judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, False, float("nan"), th)
    True
    >>> judge_pile_up(40, 20, 4.0, 1e-8, 1e-4, True, 0.4, th)
    False
    """
    return bool(
        issues >= int(th["cluster_min_issues"])
        and suspects >= int(th["cluster_min_issues"])
        and suspects >= th["cluster_ratio"] * expected
        and p_value < limit
        and (not binary or (np.isfinite(slope) and slope < 0))
    )
