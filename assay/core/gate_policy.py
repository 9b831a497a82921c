"""The gate policy: for every built-in check, what can fail the gate by default and
what only warns, and what kind of evidence stands behind an alarm.

One table a reviewer can read and sign (issue #14). ``kind`` says how an alarm is
kept honest:

- ``null``: the check tests a "no problem" hypothesis (no leak, no overlap beyond
  chance, perfect calibration, no poisoning...). Its rule holds a stated error rate by
  construction: a test against the right null, multiplicity controlled within the
  check, so on clean data it alarms in at most about 5% of audits.
- ``property``: the check measures a real property of the model (a fairness gap, an
  overfitting gap, a weak segment, membership leakage). Honest models have such
  properties; an alarm needs an effect that is both statistically clear and material,
  and it must replicate on held-out rows (``bench/verdicts`` measures replication).
- ``record``: the check records or measures (provenance, latency) and alarms on a
  stated limit (a user budget, an identical table), not on a statistical test.

``fails`` is what fails the gate (exit code 1) with default thresholds; ``warns`` is
what only warns. ``docs/checks.md`` renders this table; a test keeps it complete.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["null", "property", "record"]


@dataclass(frozen=True)
class GatePolicy:
    """What fails the gate and what only warns, for one check."""

    kind: Kind
    fails: str
    warns: str


POLICY: dict[str, GatePolicy] = {
    "data.integrity": GatePolicy(
        "record",
        "a column with no values at all, a column missing more than missing_fail, infinite values",
        "missing values above missing_warn, constant or mixed-type columns, duplicates, "
        "identifier-like features, code-like sentinels and physically impossible values",
    ),
    "data.label_issues": GatePolicy(
        "null",
        "train labels clearly noisier than test labels under the same fold models "
        "(one-sided z test) and at least share_fail of train rows suspect",
        "a clear excess below share_fail, or suspects concentrated in one slice beyond the "
        "test rows' (Bonferroni over cells)",
    ),
    "data.provenance": GatePolicy(
        "record",
        "the test set is the training set (identical fingerprints)",
        "current data identical to test or train data",
    ),
    "data.representativeness": GatePolicy(
        "null",
        "a share of unseen categories or out-of-range rows at or above its fail level",
        "out-of-range values improbable under a random split (exact p, Holm), material "
        "and far; shifted class balance; groups too small to measure",
    ),
    "data.target_leakage": GatePolicy(
        "null",
        "a column that alone predicts the target almost perfectly, or (classification) "
        "has a noisy label copy's shape: step-like, AUC clearly above 0.75, no honest "
        "within-class tie to another column (p, Bonferroni q stated)",
        "nothing else: a strong, smooth honest predictor passes",
    ),
    "data.train_test_overlap": GatePolicy(
        "null",
        "an excess of copied rows over the chance overlap that is improbable under that "
        "chance distribution and at least overlap_fail",
        "the same, between overlap_warn and overlap_fail",
    ),
    "evaluation.ablation": GatePolicy(
        "null",
        "never",
        "a feature whose shuffling clearly improves the model (harmful: Holm q <= alpha and "
        "interval below zero); unused features are information",
    ),
    "evaluation.baseline_comparison": GatePolicy(
        "null",
        "a model no better than the dummy baseline (its paired interval does not clear 0)",
        "a model clearly no better than the plain linear baseline (not for a linear model "
        "itself: like is compared with like)",
    ),
    "evaluation.calibration": GatePolicy(
        "null",
        "ECE above what perfect scores reach by chance (p < alpha) and a debiased ECE at "
        "or above ece_fail",
        "the same between ece_warn and ece_fail",
    ),
    "evaluation.overfitting": GatePolicy(
        "property",
        "a gap whose interval is above gap_fail when it hurts (on test no better than a "
        "dummy, or clearly worse than a plain linear model), or above gap_fail_alone",
        "a clear train/test gap that does not hurt",
    ),
    "evaluation.performance": GatePolicy(
        "record",
        "a metric below a floor the user states (min_metrics)",
        "an interval too wide to use (reaches chance, wider than the margin over chance, "
        "or wider than 0.15 on a 0-1 metric)",
    ),
    "evaluation.robustness": GatePolicy(
        "property",
        "a realistic perturbation's clear drop (Holm q <= alpha) of at least drop_fail "
        "that also takes skill_share_fail of the model's skill",
        "a clear, material drop below that; perturbations the data never shows only inform",
    ),
    "evaluation.uncertainty": GatePolicy(
        "property",
        "the overall coverage promise broken: coverage clearly (exact conformal null) and "
        "materially below the promised level",
        "one class or prediction range clearly and materially short of the promise (Holm)",
    ),
    "evaluation.weak_segments": GatePolicy(
        "property",
        "a discovered slice (false discovery rate controlled) whose judged gap is at "
        "least fail_effect",
        "a discovered slice with a material gap below fail_effect",
    ),
    "fairness.group_metrics": GatePolicy(
        "property",
        "an error-rate gap given the truth (equalized odds, accuracy; regression error "
        "relative to each group's spread) whose whole Bonferroni-adjusted interval lies "
        "beyond its fail level",
        "selection-rate gaps that mirror the labels' base rates (four-fifths, demographic "
        "parity), named with the base rates, unless fail_on_selection_rate",
    ),
    "drift.features": GatePolicy(
        "null",
        "at least drift_share_fail of the tested columns drifted",
        "drifted_columns_warn or more columns drifted",
    ),
    "drift.multivariate": GatePolicy(
        "null",
        "the domain classifier's AUC interval low end at or above auc_fail",
        "its low end at or above auc_warn",
    ),
    "drift.prediction": GatePolicy(
        "null",
        "the model's main output drifted",
        "other outputs drifted",
    ),
    "drift.target": GatePolicy(
        "null",
        "the target's distribution drifted",
        "nothing else",
    ),
    "monitoring.estimated_performance": GatePolicy(
        "property",
        "an estimated drop of at least fail_at whose whole interval lies below the reference",
        "an estimated drop of at least warn_at",
    ),
    "monitoring.human_oversight": GatePolicy(
        "null",
        "review as a whole adds no information: the pooled agreement gap (agree when the model "
        "is right minus when it is wrong) confidently below gap_min (one-sided test of "
        "gap >= gap_min, p <= alpha)",
        "a reviewer whose own gap is confidently below gap_min (Holm over the reviewers with "
        "min_right and min_wrong labelled cases), or final decisions clearly less accurate "
        "than the model alone",
    ),
    "security.adversarial": GatePolicy(
        "property",
        "an attack success rate clearly above success_warn (low end) and above success_fail",
        "a success rate clearly above success_warn",
    ),
    "security.attribute_inference": GatePolicy(
        "property",
        "a gain whose whole adjusted interval lies above the fail level while the model's "
        "own skill does not need the attribute (a leak that buys nothing)",
        "a clear gain above the warn level, or a fail-level gain from a model that relies "
        "on the attribute (by design; fail_when_relied fails it too)",
    ),
    "security.membership_inference": GatePolicy(
        "property",
        "an attack AUC interval wholly above auc_fail, or an advantage above "
        "advantage_fail with its interval wholly above advantage_warn (adjusted for the "
        "two attacks)",
        "an AUC or advantage interval wholly above its warn level",
    ),
    "security.pii": GatePolicy(
        "record",
        "a column whose share of direct identifiers (e-mail, phone, card, SSN...) reaches "
        "fail_share",
        "other personal data found",
    ),
    "security.poisoning": GatePolicy(
        "null",
        "conflicting duplicates beyond label noise at or above conflict_fail of rows",
        "conflicting duplicates beyond label noise, a train-only flipped-label region, a "
        "trigger value absent from held-out data, influence_min_rows or more train-only "
        "influential mislabelled rows",
    ),
    "efficiency.distillation": GatePolicy(
        "record", "never", "a student that loses the main metric beyond its budget"
    ),
    "efficiency.inference": GatePolicy(
        "record",
        "typical latency above the user's latency budget",
        "the slowest 5% above the budget",
    ),
    "efficiency.quantization": GatePolicy(
        "record", "never", "a converted model that disagrees or loses metric beyond its budget"
    ),
    "clustering.quality": GatePolicy(
        "null",
        "a silhouette no better than the same data with its structure removed (per-column "
        "permutation null, p > alpha): the clusters are an artefact",
        "better than the null by less than gap_warn",
    ),
    "clustering.stability": GatePolicy(
        "property",
        "a mean adjusted Rand index over bootstrap refits below ari_fail",
        "a cluster whose best-match Jaccard is below jaccard_warn (not a real cluster)",
    ),
    "clustering.sizes": GatePolicy("record", "never", "tiny clusters"),
    "clustering.profiles": GatePolicy(
        "record", "never", "a cluster no feature sets apart (effect size below distinct_d)"
    ),
    "clustering.fairness": GatePolicy(
        "property", "never", "a cluster made mostly of one sensitive group"
    ),
    "clustering.drift": GatePolicy(
        "null",
        "a cluster that vanished, appeared or split in the current data",
        "a cluster whose share or members changed clearly",
    ),
    "anomaly.rate": GatePolicy(
        "property",
        "never",
        "a flagged rate clearly (binomial test) and materially off the stated contamination",
    ),
    "anomaly.rate_drift": GatePolicy(
        "null",
        "a flagged rate that moved clearly (p <= alpha) by at least ratio_fail between "
        "reference and current",
        "moved clearly by at least ratio_warn",
    ),
    "anomaly.detection": GatePolicy(
        "property",
        "with known labels, a PR-AUC whose interval reaches the prevalence (no better than "
        "random flagging)",
        "recall at the flagged rate below recall_warn",
    ),
    "anomaly.drivers": GatePolicy(
        "record", "never", "one feature drives most flagged rows (dominant_share)"
    ),
}


def policy_for(check_id: str) -> GatePolicy | None:
    """The gate policy of ``check_id``, or ``None`` when none is written down."""
    return POLICY.get(check_id)
