"""``security.membership_inference``: can an attacker tell training rows from unseen rows?

Two attacks on the model's outputs, each scored on training rows (members)
against test rows (non-members), equal numbers of each:

- the loss-threshold attack (Yeom et al., 2018): a row whose label the model
  predicts with unusually high confidence is guessed to be a training row; its
  AUC and its advantage (the best true-positive rate minus false-positive rate
  over all thresholds) come with bootstrap intervals, computed for every
  resample at once;
- ART's ``MembershipInferenceBlackBox``: a random forest learns membership
  from the probability vector and the label on one half of the rows and is
  scored on the other half (classifiers with probabilities only).

The verdict (#14) is the pure :func:`judge_membership`: every model that fits
its data leaks a little membership signal, so only a clear and material leak
counts. The intervals are Bonferroni-adjusted for the two attacks; an attack
warns when its AUC or advantage interval lies wholly above the warn level and
fails when it lies wholly above the fail level. The p value (Mann-Whitney,
normal approximation, times the number of attacks) is that of "no signal".
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from assay.core.charts import IntervalChart, IntervalItem
from assay.core.context import AuditContext
from assay.core.details import Details
from assay.core.params import param
from assay.core.registry import Outcome, SkipCheck, register_check
from assay.core.result import Finding, Status
from assay.evaluation._bootstrap import Interval, bootstrap, make_intervals
from assay.evaluation._metrics import encode_labels
from assay.security._attack import import_art, split_order

CHECK_ID = "security.membership_inference"
_STREAM = 43
_ATTACKS = 2  # Bonferroni: the verdict takes the worse of two attacks


@dataclass(frozen=True)
class MembershipVerdict:
    """What :func:`judge_membership` decided, and the p value of "no signal"."""

    status: Status
    p: float


def judge_membership(
    auc: float | None,
    auc_low: float | None,
    advantage: float | None,
    advantage_low: float | None,
    n_members: int,
    n_nonmembers: int,
    th: Mapping[str, Any],
    *,
    m: int = _ATTACKS,
) -> MembershipVerdict:
    """Status of one attack from its AUC and advantage, with their (adjusted) lower bounds.

    ``fail`` when the AUC's lower bound is above ``auc_fail``, or the advantage is
    above ``advantage_fail`` with its lower bound above ``advantage_warn`` and the
    AUC's lower bound above ``auc_warn`` (clear on both summaries, and material);
    ``warn`` when either lower bound is above its warn level;
    ``pass`` otherwise. Without intervals the points decide. The p value is the one-sided
    Mann-Whitney test of AUC = 0.5 (normal approximation), times ``m``.

    >>> th = {"auc_warn": 0.6, "auc_fail": 0.7, "advantage_warn": 0.1, "advantage_fail": 0.3}
    >>> judge_membership(0.75, 0.71, 0.4, 0.25, 500, 500, th).status
    'fail'
    >>> judge_membership(0.66, 0.59, 0.29, 0.2, 150, 150, th).status
    'warn'
    """
    from scipy.stats import norm

    a = 0.5 if auc is None or not math.isfinite(auc) else auc
    d = 0.0 if advantage is None or not math.isfinite(advantage) else advantage
    a_low = a if auc_low is None else auc_low
    d_low = d if advantage_low is None else advantage_low
    p = 1.0
    if n_members > 0 and n_nonmembers > 0:
        se = math.sqrt((n_members + n_nonmembers + 1) / (12.0 * n_members * n_nonmembers))
        p = min(1.0, m * float(norm.sf((a - 0.5) / se)))
    # The advantage is a maximum over thresholds, its bootstrap interval wide and its point
    # biased upward on small samples (the best of many cut-offs): a material advantage (the
    # point) fails when the leak is clear on both summaries, its own lower bound above the
    # warn level and the AUC's lower bound above the AUC warn level.
    clear_advantage = (
        d > float(th["advantage_fail"])
        and d_low > float(th["advantage_warn"])
        and a_low > float(th["auc_warn"])
    )
    if a_low > float(th["auc_fail"]) or clear_advantage:
        return MembershipVerdict("fail", p)
    if a_low > float(th["auc_warn"]) or d_low > float(th["advantage_warn"]):
        return MembershipVerdict("warn", p)
    return MembershipVerdict("pass", p)


def attack_scores(ctx: AuditContext, split: str, rows: np.ndarray) -> np.ndarray:
    """Membership score of each row: higher means "looks like a training row".

    The probability the model gives the true class (``exp(-log loss)``) for a
    classifier with probabilities; 1 for a right and 0 for a wrong label
    otherwise; minus the squared error for a regression model.
    """
    y = ctx.labels(split)
    pred = ctx.predictions(split)
    assert y is not None
    y, labels = y[rows], np.asarray(pred.labels)[rows]
    if ctx.task == "regression":
        err = np.asarray(y, dtype=float) - np.asarray(labels, dtype=float)
        return -np.nan_to_num(err**2, nan=np.inf)
    codes = encode_labels(y, ctx.classes)
    if pred.proba is not None:
        proba = np.asarray(pred.proba, dtype=float)[rows]
        got = proba[np.arange(len(rows)), np.maximum(codes, 0)]
        return np.where(codes >= 0, np.nan_to_num(got, nan=0.0), 0.0)
    return (encode_labels(labels, ctx.classes) == codes).astype(float)


class AttackStats:
    """Attack AUC and advantage of ``score`` for ``member`` rows, under many row weightings.

    Scores are sorted once; each weighting sums weights per tied score and
    takes cumulative sums, so ties count half in the AUC as in scikit-learn.
    """

    def __init__(self, score: np.ndarray, member: np.ndarray) -> None:
        self.order = np.argsort(score, kind="stable")
        s = np.asarray(score)[self.order]
        self.member = np.asarray(member, dtype=float)[self.order]
        self.starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]]) if s.size else np.zeros(0, int)

    def __call__(self, counts: np.ndarray) -> dict[str, np.ndarray]:
        w = np.atleast_2d(np.asarray(counts, dtype=np.float64))[:, self.order]
        M = np.add.reduceat(w * self.member, self.starts, axis=1)
        N = np.add.reduceat(w * (1.0 - self.member), self.starts, axis=1)
        tm, tn = M.sum(axis=1), N.sum(axis=1)
        below_n = np.cumsum(N, axis=1) - N
        below_m = np.cumsum(M, axis=1) - M
        with np.errstate(divide="ignore", invalid="ignore"):
            auc = (M * (below_n + 0.5 * N)).sum(axis=1) / (tm * tn)
            tpr = (tm[:, None] - below_m) / tm[:, None]
            fpr = (tn[:, None] - below_n) / tn[:, None]
        adv = np.maximum(np.nanmax(tpr - fpr, axis=1), 0.0)
        return {"auc": auc, "advantage": adv}


def _intervals(ctx: AuditContext, score: np.ndarray, member: np.ndarray, stream: int):
    """AUC and advantage with intervals Bonferroni-adjusted for the two attacks."""
    s = ctx.settings
    plan = AttackStats(score, member)
    points = {k: float(v[0]) for k, v in plan(np.ones((1, score.size))).items()}
    samples = (
        bootstrap(plan, score.size, n_resamples=s.n_bootstrap, seed=s.seed, stream=stream)
        if s.n_bootstrap > 0
        else None
    )
    return make_intervals(points, samples, confidence=1 - (1 - s.confidence) / _ATTACKS)


def _art_attack(
    ctx: AuditContext, rows: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray] | None:
    """ART's black-box attack: trained on even, scored on odd positions of each split.

    Returns the attack's membership probability and the membership of the
    scored rows, or ``None`` when the model has no probabilities.
    """
    if ctx.task == "regression":
        return None
    preds = {sp: ctx.predictions(sp) for sp in ("train", "test")}
    if any(p.proba is None for p in preds.values()):
        return None
    (mi_mod, bb_mod) = import_art(
        "art.attacks.inference.membership_inference.black_box",
        "art.estimators.classification.blackbox",
    )
    k = len(ctx.classes)
    proba, labels = {}, {}
    for sp in ("train", "test"):
        r = rows[sp]
        proba[sp] = np.asarray(preds[sp].proba, dtype=np.float32)[r]
        y_sp = ctx.labels(sp)
        assert y_sp is not None  # the audit requires the target in train and test
        y = encode_labels(y_sp[r], ctx.classes)
        labels[sp] = np.maximum(y, 0)

    def no_queries(_x: np.ndarray) -> np.ndarray:  # the outputs are given; never asked
        raise RuntimeError("the membership attack uses precomputed predictions")

    estimator = bb_mod.BlackBoxClassifier(no_queries, input_shape=(1,), nb_classes=k)
    attack = mi_mod.MembershipInferenceBlackBox(
        estimator, input_type="prediction", attack_model_type="rf"
    )
    attack.attack_model.set_params(
        n_estimators=60, min_samples_leaf=5, random_state=ctx.settings.seed, n_jobs=1
    )
    tr, te = slice(0, None, 2), slice(1, None, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        attack.fit(
            x=None,
            y=labels["train"][tr],
            test_x=None,
            test_y=labels["test"][tr],
            pred=proba["train"][tr],
            test_pred=proba["test"][tr],
        )
        got = [
            np.asarray(
                attack.infer(None, labels[sp][te], pred=proba[sp][te], probabilities=True)
            ).reshape(-1)
            for sp in ("train", "test")
        ]
    member = np.r_[np.ones(got[0].size), np.zeros(got[1].size)]
    return np.r_[got[0], got[1]], member


def _verdict(iv: Mapping[str, Interval], member: np.ndarray, th: Mapping[str, Any]):
    n_in = int(np.sum(member))
    return judge_membership(
        iv["auc"].value,
        iv["auc"].low,
        iv["advantage"].value,
        iv["advantage"].low,
        n_in,
        int(member.size - n_in),
        th,
    )


def _ci(iv: Interval, conf: float) -> str:
    if iv.low is None or iv.high is None:
        return f"{iv.value:.2f}" if iv.value is not None else "n/a"
    return f"{iv.value:.2f} ({conf:.0%} CI {iv.low:.2f}–{iv.high:.2f})"


@dataclass(frozen=True)
class MembershipParams:
    """Parameters of ``security.membership_inference``."""

    auc_warn: float = param(0.6, "Attack AUC whose interval wholly above it warns.", ge=0.5, le=1)
    auc_fail: float = param(0.7, "Attack AUC whose interval wholly above it fails.", ge=0.5, le=1)
    advantage_warn: float = param(
        0.1, "Attack advantage (TPR − FPR) whose interval wholly above it warns.", ge=0, le=1
    )
    advantage_fail: float = param(
        0.3, "Attack advantage that, clear of advantage_warn and auc_warn, fails.", ge=0, le=1
    )
    max_rows: int = param(5000, "Rows drawn from each of train and test for the attacks.", ge=1)


@dataclass(frozen=True)
class MembershipInferenceDetails(Details):
    """What ``security.membership_inference`` keeps in its ``details`` (``report.json``)."""

    attacks: Mapping[str, Any]
    score: str
    rows_per_side: int
    rows_available: Mapping[str, Any]
    selection: str
    art_attack: str
    seed: int
    n_bootstrap: int
    confidence: float


@register_check(
    CHECK_ID,
    area="security",
    title="Membership inference",
    explanation=(
        "Whether someone who can query the model could tell if a given person's record was "
        "in its training data, a privacy leak in itself (being in a hospital's training set "
        "can reveal a diagnosis); models that fit their training rows much more tightly than "
        "new rows give this away through their confidence. Two attacks try to tell equal "
        "numbers of training and test rows apart: a threshold on the model's confidence in "
        "the true label, and ART's black-box attack, which learns membership from the "
        "model's outputs. An attack AUC of 0.5 means guessing; the advantage is the best "
        "share of training rows caught minus the share of new rows wrongly accused. Policy: "
        "every model that fits its data leaks a little, so an attack warns only when its "
        "interval (adjusted for the two attacks) lies wholly above the warn level, and fails "
        "the gate only when its AUC interval lies wholly above auc_fail or its advantage "
        "passes advantage_fail with its interval wholly above advantage_warn and the AUC "
        "interval wholly above auc_warn."
    ),
    standards=("MEASURE 2.10", "MEASURE 2.7"),
    severity="high",
    params=MembershipParams,
    needs=("model", "train"),
    details=MembershipInferenceDetails,
)
def membership_inference(ctx: AuditContext, th: Mapping[str, Any]) -> Outcome:
    """Loss-threshold and ART black-box membership attacks: AUC and advantage with intervals."""
    if not ctx.can_predict("train"):
        raise SkipCheck(
            "the model's outputs on the training rows are needed; pass the model itself or "
            "add the prediction columns to the training data"
        )
    s = ctx.settings
    conf = s.confidence
    n_each = min(ctx.frame("train").height, ctx.frame("test").height, int(th["max_rows"]))
    if n_each < 20:
        raise SkipCheck(f"only {n_each} rows per side; the attacks need at least 20")
    rows = {sp: split_order(ctx, sp)[:n_each] for sp in ("train", "test")}
    score = np.r_[
        attack_scores(ctx, "train", rows["train"]), attack_scores(ctx, "test", rows["test"])
    ]
    member = np.r_[np.ones(n_each), np.zeros(n_each)]
    loss = _intervals(ctx, score, member, _STREAM)
    attacks: dict[str, dict[str, Interval]] = {"loss_threshold": loss}
    members = {"loss_threshold": member}
    art = _art_attack(ctx, rows)
    if art is not None:
        attacks["art_black_box"] = _intervals(ctx, art[0], art[1], _STREAM + 1)
        members["art_black_box"] = art[1]

    names = {
        "loss_threshold": "confidence-threshold attack",
        "art_black_box": "ART black-box attack",
    }
    verdicts = {k: _verdict(v, members[k], th) for k, v in attacks.items()}
    statuses = {k: v.status for k, v in verdicts.items()}
    worst = max(attacks, key=lambda k: (attacks[k]["auc"].value or 0.0, k == "loss_threshold"))
    order = {"pass": 0, "warn": 1, "fail": 2}
    status: Status = max(statuses.values(), key=lambda x: order[x])

    # Where the leak is worst: the attack AUC within each class (classifiers).
    findings, group_items = _class_findings(ctx, rows, score, member, th)
    findings += _attack_findings(attacks, statuses, names, conf)
    worst_group = max(group_items, key=lambda g: g[1].value or 0.0)[0] if group_items else None
    w = attacks[worst]
    head = (
        f"The strongest attack ({names[worst]}) tells training rows from new rows with AUC "
        f"{_ci(w['auc'], conf)} and advantage {w['advantage'].value:.2f}"
    )
    where = f", most for rows with {worst_group}" if worst_group and status != "pass" else ""
    summary, rec = _summary(status, head, where)
    metrics = _metrics(attacks, w, verdicts[worst].p, n_each)
    items = [(f"{names[k]}", v["auc"]) for k, v in attacks.items()] + group_items
    details = _details(ctx, attacks, items, n_each)
    return Outcome(
        status=status,
        summary=summary,
        metrics=metrics,
        findings=findings,
        recommendation=rec,
        details=details,
    )


def _class_findings(
    ctx: AuditContext,
    rows: Mapping[str, np.ndarray],
    score: np.ndarray,
    member: np.ndarray,
    th: Mapping[str, Any],
) -> tuple[list[Finding], list[tuple[str, Interval]]]:
    """Where the leak is worst: the confidence-threshold attack within each class
    (classifiers; classes with at least 10 rows a side), with each class's AUC."""
    conf = ctx.settings.confidence
    n_each = len(rows["train"])
    findings: list[Finding] = []
    group_items: list[tuple[str, Interval]] = []
    target = ctx.target or "target"
    if ctx.task in ("binary", "multiclass"):
        y_train, y_test = ctx.labels("train"), ctx.labels("test")
        assert y_train is not None and y_test is not None  # the audit requires the target
        codes = np.r_[
            encode_labels(y_train[rows["train"]], ctx.classes),
            encode_labels(y_test[rows["test"]], ctx.classes),
        ]
        for j, c in enumerate(ctx.classes):
            sel = codes == j
            if sel[:n_each].sum() < 10 or sel[n_each:].sum() < 10:
                continue
            iv = _intervals(ctx, score[sel], member[sel], _STREAM + 2 + j)
            st = _verdict(iv, member[sel], th).status
            group = f"{target} = {c}"
            group_items.append((group, iv["auc"]))
            findings.append(
                Finding(
                    status=st,
                    message=(
                        f"Among rows labelled {c}, the confidence-threshold attack reaches AUC "
                        f"{_ci(iv['auc'], conf)} and advantage {iv['advantage'].value:.2f}."
                    ),
                    group=group,
                    metrics={
                        "auc": iv["auc"].value,
                        "auc_low": iv["auc"].low,
                        "auc_high": iv["auc"].high,
                        "advantage": iv["advantage"].value,
                    },
                )
            )
    return findings, group_items


def _attack_findings(
    attacks: Mapping[str, Mapping[str, Interval]],
    statuses: Mapping[str, Status],
    names: Mapping[str, str],
    conf: float,
) -> list[Finding]:
    """One finding per attack: its AUC and advantage with intervals."""
    findings: list[Finding] = []
    for k, v in attacks.items():
        findings.append(
            Finding(
                status=statuses[k],
                message=(
                    f"The {names[k]} tells training rows from test rows with AUC "
                    f"{_ci(v['auc'], conf)} and advantage {_ci(v['advantage'], conf)}."
                ),
                group="training rows vs test rows",
                metrics={
                    "auc": v["auc"].value,
                    "auc_low": v["auc"].low,
                    "auc_high": v["auc"].high,
                    "advantage": v["advantage"].value,
                    "advantage_low": v["advantage"].low,
                    "advantage_high": v["advantage"].high,
                },
            )
        )
    return findings


def _summary(status: Status, head: str, where: str) -> tuple[str, str]:
    """(summary, recommendation) for the verdict."""
    if status == "fail":
        summary = f"{head}{where}: the model reveals who was in its training data."
        rec = (
            "The model memorises its training rows. Regularise it (shallower trees, larger "
            "leaves, stronger penalty, early stopping), train on more data, return labels or "
            "rounded scores instead of raw probabilities, or train with differential privacy."
        )
    elif status == "warn":
        summary = f"{head}{where}: some membership signal leaks through the model's outputs."
        rec = (
            "Reduce the train/test confidence gap (more regularisation or data) and avoid "
            "exposing raw probabilities where membership is sensitive."
        )
    else:
        summary = f"{head}: an attacker can do little better than guessing."
        rec = "No action needed."
    return summary, rec


def _metrics(
    attacks: Mapping[str, Mapping[str, Interval]],
    w: Mapping[str, Interval],
    p_value: float | None,
    n_each: int,
) -> dict[str, float | int | None]:
    """The strongest attack's numbers, then every attack's."""
    metrics: dict[str, float | int | None] = {
        "attack_auc": w["auc"].value,
        "attack_auc_low": w["auc"].low,
        "attack_auc_high": w["auc"].high,
        "attack_advantage": w["advantage"].value,
        "rows_per_side": n_each,
        "p_value": p_value,
    }
    for k, v in attacks.items():
        prefix = "loss" if k == "loss_threshold" else "art"
        for m in ("auc", "advantage"):
            metrics[f"{prefix}_attack_{m}"] = v[m].value
            metrics[f"{prefix}_attack_{m}_low"] = v[m].low
            metrics[f"{prefix}_attack_{m}_high"] = v[m].high
    return metrics


def _details(
    ctx: AuditContext,
    attacks: Mapping[str, Mapping[str, Interval]],
    items: list[tuple[str, Interval]],
    n_each: int,
) -> dict[str, Any]:
    """The attacks' intervals, how rows were chosen and scored, and the AUC chart."""
    s = ctx.settings
    conf = s.confidence
    return {
        "attacks": {k: {m: iv.to_dict() for m, iv in v.items()} for k, v in attacks.items()},
        "score": (
            "probability of the true label"
            if ctx.task != "regression" and ctx.has_scores
            else "negative squared error"
            if ctx.task == "regression"
            else "whether the predicted label is right"
        ),
        "rows_per_side": n_each,
        "rows_available": {sp: ctx.frame(sp).height for sp in ("train", "test")},
        "selection": "equal numbers of train and test rows, chosen by a seeded hash of content",
        "art_attack": (
            "random forest on the probability vector and the label, fitted on half the rows "
            "and scored on the other half"
            if "art_black_box" in attacks
            else "not run: it needs class probabilities"
        ),
        "seed": s.seed,
        "n_bootstrap": s.n_bootstrap,
        "confidence": conf,
        "charts": [
            IntervalChart(
                title="Membership attack AUC (0.5 = guessing)",
                x_label="attack AUC",
                unit="value",
                items=[
                    IntervalItem(
                        lab,
                        iv.value,
                        iv.value if iv.low is None else iv.low,
                        iv.value if iv.high is None else iv.high,
                    )
                    for lab, iv in items
                    if iv.value is not None
                ],
            ).to_dict()
        ],
    }
