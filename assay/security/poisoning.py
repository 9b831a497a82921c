"""``security.poisoning``: signals that the training data was tampered with.

Four signals, each computed on the training data (the test data when there
is no training data):

1. **Conflicting duplicates** — rows with exactly the same features but
   different labels (classification). Found with one hash of each row's
   features, verified exactly, over every row; a warning only when more groups
   disagree than label noise (the out-of-fold class probabilities) explains,
   otherwise a data-quality note.
2. **Clusters of label issues** — one category or one decile of a feature
   whose labels the model's out-of-fold confidence no longer explains (the
   same cached model fits as ``data.label_issues``). Binary labels: an in-cell
   logistic recalibration of the model's logits (intercept and slope; a
   likelihood-ratio test of slope 1, Bonferroni-corrected over every cell)
   with a slope between 0 and ``cluster_slope``: labels flipped at random at
   any rate below one half flatten the model's confidence towards nothing,
   while a model that is merely wrong somewhere keeps (or reverses) its
   ranking. A model merely weak in a region is as flat on the labelled
   held-out rows there, so the same cell of those rows (under the same fold
   models) must follow the logits steeply, and the train labels must look like
   that curve with a share flipped, beyond chance (a likelihood-ratio test
   against one curve for both splits, Bonferroni over the cells). A pile-up
   of cleanlab suspects far beyond the model's uncertainty (a Poisson tail
   test) also warns; for binary labels only
   where the model's ranking is reversed there (labels set to one class
   against the model). Other tasks use the pile-up test alone (regression:
   outlying residuals).
3. **Trigger values** — a rare value of a feature, or a rare pair of values
   of two categorical features, whose rows almost all carry one label
   (regression: a target in its lowest or highest ``trigger_tail``) that the
   rest of the row does not explain. Two independent pieces of evidence are
   combined with Fisher's method and Bonferroni-corrected over the patterns:
   the label beyond what a linear-probability fit on the OTHER columns
   predicts for those rows (fitted on the rows without the pattern), and the
   pattern's shortfall in the held-out data (test and current rows), where a
   value of the population recurs at its training rate (an exact conditional
   binomial test). This is the shape of a backdoor: a planted value that
   switches the prediction and lives in the training data only. A rare value
   that merely marks rows the other columns already lean to that label (a
   top-coded income among the well-paid) is a real pattern and stays quiet.
   When the test data holds the same pattern with the same tie, it is listed
   without a warning.
4. **High-influence outliers** — rows far from the rest (high leverage) that
   also pull the fit (Cook's distance) towards a label the fit without them
   does not predict (the leave-one-out prediction, clipped to the label
   range, is on the other side; regression: an outlying leave-one-out
   residual), measured on a linear surrogate model of the labels, not on the
   user's model. Poisoning needs many rows and lives in the training data
   only: a warning needs ``influence_min_rows`` such rows and more than the
   labelled held-out rows, scored as if added to the fit, give beyond chance;
   a few extreme rows are a data-quality note (heavy tails). Single-row
   deletion is masked when many attack rows sit together, so this signal
   rarely warns on its own.

None of these proves tampering, and a careful attacker (clean-label
poisoning) can avoid all of them; natural data shows each of them sometimes.
They point at rows worth a look.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, register_check
from assay.core.result import Finding
from assay.data._common import overall_status, sort_findings
from assay.data._crossval import out_of_fold, split_for
from assay.security._poisoning.conflicts import conflicts
from assay.security._poisoning.influence import influence
from assay.security._poisoning.slices import Slices, label_clusters
from assay.security._poisoning.triggers import Triggers, triggers

if TYPE_CHECKING:
    from assay.core.context import AuditContext


_RECOMMENDATIONS = {
    "conflicts": "Inspect the conflicting duplicates: keep one label per identical row after "
    "checking the source, and find out how contradictory copies entered the data.",
    "triggers": "Trace where the rows with the named rare pattern came from (source, batch, "
    "time); if the pattern has no reason to decide the label, remove or relabel those rows "
    "and retrain.",
    "clusters": "Review the suspect labels in the named region first: a dense pocket of "
    "wrong labels is either a labelling fault or a targeted attack.",
    "influence": "Check the listed outliers against their source; a handful of extreme rows "
    "should not steer a model. Remove erroneous ones, or use a robust model.",
}


@dataclass(frozen=True)
class PoisoningParams:
    """Parameters of ``security.poisoning``."""

    conflict_warn: float = param(
        0.005,
        "Share of rows in conflicting duplicates, beyond label noise, that warns.",
        ge=0,
        le=1,
    )
    conflict_fail: float = param(
        0.05, "Share of rows in conflicting duplicates that, once warning, fails.", ge=0, le=1
    )
    conflict_alpha: float = param(
        0.01, "Significance level of conflicts beyond what label noise gives.", gt=0, lt=1
    )
    conflict_min_groups: int = param(8, "Conflicting duplicate groups needed to warn.", ge=1)
    trigger_absent_alpha: float = param(
        0.01, "Significance level of a trigger pattern's absence from held-out data.", gt=0, lt=1
    )
    trigger_held_out_ratio: float = param(
        0.25, "A trigger holds at most this fraction of its expected held-out rows.", ge=0, le=1
    )
    trigger_min_rows: int = param(8, "Fewest rows a trigger pattern is sought in.", ge=1)
    trigger_max_share: float = param(
        0.02, "Largest share of rows a (rare) trigger pattern may hold.", gt=0, le=1
    )
    trigger_purity: float = param(
        0.95,
        "Share of a pattern's rows with one label that makes it a trigger candidate.",
        ge=0,
        le=1,
    )
    trigger_tail: float = param(
        0.05,
        "Tails of a numeric target (each side) that count as its extreme labels.",
        gt=0,
        lt=0.5,
    )
    cluster_min_issues: int = param(
        8, "Rows against the model a region needs to count as flipped or piled up.", ge=1
    )
    cluster_ratio: float = param(
        2.0, "Suspect rows in a region, as a multiple of those expected, that pile up.", ge=1
    )
    cluster_slope: float = param(
        0.25, "Largest slope of labels on scores in a region whose labels look random.", ge=0
    )
    cluster_test_slope: float = param(
        0.5, "Slope the same region needs in held-out rows to call train's flipped.", ge=0
    )
    cluster_train_only_alpha: float = param(
        0.01,
        "Significance level of a region flipped in training but not held-out.",
        gt=0,
        lt=1,
    )
    cluster_min_rows: int = param(30, "Rows a region needs to be tested.", ge=2)
    alpha: float = param(
        0.001, "Significance level (Bonferroni) of the trigger and region searches.", gt=0, lt=1
    )
    cooks_warn: float = param(
        0.5, "Cook's distance above which an extreme row is influential.", gt=0
    )
    influence_min_rows: int = param(8, "Influential rows needed to warn.", ge=1)
    influence_alpha: float = param(
        0.01, "Significance level of influential rows in training beyond held-out.", gt=0, lt=1
    )
    z_max: float = param(
        4.0, "Robust z of a residual beyond which a row goes against the model.", gt=0
    )
    max_rows: int = param(5000, "Training rows sampled for the out-of-fold models.", ge=1)
    folds: int = param(5, "Cross-validation folds of the out-of-fold predictions.", ge=2)
    max_rows_patterns: int = param(
        200_000, "Rows searched for duplicates and trigger patterns.", ge=1
    )


@dataclass(frozen=True)
class PoisoningDetails(Details):
    """What ``security.poisoning`` keeps in its ``details`` (``report.json``)."""

    split: str
    patterns_tested: int
    pure_patterns_checked: int
    rows_searched_for_patterns: int
    out_of_fold: Mapping[str, Any]
    label_issue_signal: str
    influence_model: str
    limits: str


@register_check(
    "security.poisoning",
    area="security",
    title="Data poisoning signals",
    explanation=(
        "Looks for traces of tampering in the training data: identical rows with different "
        "labels, a region whose labels look randomized or set against the model, a rare "
        "value almost always paired with one label that the rest of the row does not "
        "explain and that the held-out data lacks (the shape of a backdoor trigger), and "
        "extreme rows that pull the model towards a label the other rows do not give them. "
        "These are signals, not proof: honest data can show them, and a "
        "careful attacker can avoid all of them. Each finding names the rows to inspect."
    ),
    standards=("MEASURE 2.7", "MAP 2.3"),
    severity="high",
    params=PoisoningParams,
    needs=("labels",),
    details=PoisoningDetails,
)
def poisoning(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Four poisoning signals; warn on any, fail when conflicting duplicates are common.

    Conflicting duplicates warn when more duplicate groups disagree than label
    noise explains (each group's labels drawn from its out-of-fold class
    probabilities; Poisson p below ``conflict_alpha``), at least
    ``conflict_min_groups`` groups disagree, and the excess holds at
    least ``conflict_warn`` of the rows, and fail when they also hold
    ``conflict_fail``; otherwise they are a data-quality note (pass). A trigger
    must be short in the held-out data beyond chance (``trigger_absent_alpha``)
    and to at most ``trigger_held_out_ratio`` of its expected count; one that
    recurs there is not named. Regression pile-ups of outlying residuals, and
    binary cells of flattened labels, warn only when the same cell of the
    labelled test data does not show the same (poisoning is train-only).
    A pattern (one rare value, or a rare pair of values
    of two coarse columns) held by ``trigger_min_rows`` to ``trigger_max_share``
    of the rows warns when at least ``trigger_purity`` of them carry one label
    (regression: a target in its lowest or highest ``trigger_tail``) and the
    Fisher combination of (a) a binomial test against the share the other
    columns predict for those rows and (b) the pattern's shortfall in the
    held-out data gives p below ``alpha`` / patterns tested; a test-data
    repeat of the tie makes it a listed pass. A category or decile of at
    least ``cluster_min_rows`` rows warns when its labels follow the model's
    confidence with a recalibration slope between 0 and ``cluster_slope``
    (likelihood-ratio p below ``alpha`` / cells tested) and, where the test split
    is labelled, the same cell there (under the same fold models) has at least
    ``cluster_min_rows`` // 2 rows, a slope above ``cluster_test_slope``, and the
    train labels look like that curve with a share flipped (likelihood ratio against
    one curve for both splits, p below ``cluster_train_only_alpha`` / cells tested):
    a region where the model is merely weak is as flat in held-out rows; or when it holds at
    least ``cluster_min_issues`` suspect labels, ``cluster_ratio`` times what
    the model's uncertainty predicts, with a Poisson p below ``alpha`` / cells
    tested (binary labels: only where that slope is negative). Rows with
    Cook's distance above ``cooks_warn``, leverage above twice the average and
    a label the leave-one-out fit does not predict (regression: a
    leave-one-out residual beyond ``z_max`` robust SDs) warn when there are at
    least ``influence_min_rows`` of them and, where the test split is labelled,
    more than its rows (scored the same way) give beyond chance (binomial p
    below ``influence_alpha``); otherwise they are a data-quality note (pass).
    Signals 2 and 4 use at most ``max_rows`` rows
    and the ``folds``-fold out-of-fold predictions shared with ``data.label_issues``;
    signals 1 and 3 search at most ``max_rows_patterns`` rows (identical rows are
    kept together).
    """
    split = split_for(ctx)
    oof = out_of_fold(ctx, max_rows=int(th["max_rows"]), n_folds=int(th["folds"]))
    dup = conflicts(ctx, split, th, oof if oof.split == split else None)
    trig = triggers(ctx, split, th)
    cleanlab_ok = ctx.task == "regression" or _has_cleanlab()
    slices = Slices()
    if cleanlab_ok and len(oof.classes) != 1:
        slices = label_clusters(ctx, oof, th)
    infl = influence(ctx, oof, th)
    findings = [
        *[("conflicts", f) for f in dup.findings],
        *[("triggers", f) for f in trig.findings],
        *[("clusters", f) for f in slices.findings],
        *[("influence", f) for f in infl.findings],
    ]
    ordered = sort_findings([f for _, f in findings])
    summary, recommendation = _summarize(findings, ordered, split)
    metrics = {
        "conflicting_rows": dup.rows,
        "conflicting_share": dup.share,
        "trigger_patterns": trig.triggers,
        "label_issue_clusters": slices.clusters,
        "influential_rows": infl.influential_rows,
        "max_cooks_distance": infl.max_cooks_distance,
    }
    return Outcome(
        status=overall_status(ordered),
        summary=summary,
        metrics=metrics,
        findings=ordered,
        recommendation=recommendation,
        details=_details(ctx, th, split, trig, oof.describe(), cleanlab_ok),
    )


def _has_cleanlab() -> bool:
    """Whether cleanlab (the ``labels`` extra) is installed; without it, classification
    skips the label-cluster signal and says so in the details."""
    try:
        import cleanlab  # noqa: F401
    except ImportError:
        return False
    return True


def _summarize(
    findings: list[tuple[str, Finding]], ordered: list[Finding], split: str
) -> tuple[str, str]:
    """(summary, recommendation): the first problem (fails first) and how many more,
    with each signal's advice; or the all-clear, naming the data-quality notes."""
    problems = [(k, f) for k, f in findings if f.status != "pass"]
    problems.sort(key=lambda kf: kf[1].status != "fail")
    if problems:
        summary = problems[0][1].message
        if len(problems) > 1:
            n = len(problems) - 1
            summary = summary.rstrip(".") + f"; {n} more signal{'s' if n > 1 else ''} found."
        kinds = list(dict.fromkeys(k for k, _ in problems))
        return summary, " ".join(_RECOMMENDATIONS[k] for k in kinds)
    summary = (
        f"No poisoning signal was found in the {split} data: no conflicting duplicates, "
        "rare trigger-like patterns, clusters of suspect labels or high-influence outliers."
    )
    notes = [f for f in ordered if f.message.startswith("Data quality note")]
    if notes:
        summary = (
            f"No poisoning signal was found in the {split} data; {len(notes)} data-quality "
            f"note{'s' if len(notes) > 1 else ''} name{'' if len(notes) > 1 else 's'} "
            "rows worth a look (conflicting duplicates or extreme rows at the rate honest "
            "data gives)."
        )
    recommendation = (
        "Nothing to fix. These checks cannot rule out subtle attacks; keep the data's "
        "provenance (fingerprints in report.json) and restrict who can write to it."
    )
    return summary, recommendation


def _details(
    ctx: AuditContext,
    th: Mapping[str, Any],
    split: str,
    trig: Triggers,
    model_note: Any,
    cleanlab_ok: bool,
) -> dict[str, Any]:
    """What was searched and how, for the report's details."""
    return {
        "split": split,
        "patterns_tested": trig.patterns_tested,
        "pure_patterns_checked": trig.pure_patterns,
        "rows_searched_for_patterns": min(ctx.frame(split).height, int(th["max_rows_patterns"])),
        "out_of_fold": model_note,
        "label_issue_signal": (
            "skipped: needs the optional package cleanlab: pip install 'assay[labels]'"
            if not cleanlab_ok
            else "cleanlab on out-of-fold predictions"
            if ctx.task != "regression"
            else "outlying out-of-fold residuals"
        ),
        "influence_model": "least squares on standardized numbers and one-hot categories "
        "(a linear surrogate, not your model)",
        "limits": "Signals, not proof: honest data can show them, and clean-label attacks "
        "may show none.",
    }
