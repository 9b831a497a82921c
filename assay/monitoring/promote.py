"""Champion / challenger: promote a retrained model only when it has earned it.

Both models are audited with the same checks on the same labeled window; the
candidate is promoted when

1. it passes the gates: no check of its audit is ``fail`` or ``error``; and
2. its main metric is not worse than the champion's *beyond the interval*:
   the candidate's estimate is not below the low end of the champion's
   confidence interval (for a lower-is-better metric such as log loss: not
   above its high end). Both come from ``evaluation.performance`` (``x``,
   ``x_low``, ``x_high``).

Example
-------
>>> from assay.core.result import CheckResult
>>> from assay.core.audit_result import AuditResult
>>> def result(auc, low, high, status="pass"):
...     perf = CheckResult(id="evaluation.performance", area="evaluation", title="t",
...                        status=status, severity="high", summary="s", explanation="e",
...                        metrics={"roc_auc": auc, "roc_auc_low": low, "roc_auc_high": high},
...                        details={"main_metric": "roc_auc"})
...     return AuditResult((perf,), {}, {}, {}, "", "")
>>> decide_promotion(result(0.80, 0.78, 0.82), result(0.85, 0.83, 0.87)).promote
True
>>> decide_promotion(result(0.80, 0.78, 0.82), result(0.70, 0.68, 0.72)).promote
False
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assay.core.audit_result import AuditResult
from assay.errors import UnknownCheckError
from assay.evaluation._metrics import LOWER_IS_BETTER
from assay.evaluation.performance import PerformanceDetails

PERFORMANCE = "evaluation.performance"


@dataclass(frozen=True)
class Decision:
    """Whether to promote the candidate, and why."""

    promote: bool
    reasons: tuple[str, ...]
    metric: str | None = None
    champion: Mapping[str, float | None] = field(default_factory=dict)
    candidate: Mapping[str, float | None] = field(default_factory=dict)
    failed_checks: tuple[str, ...] = ()
    champion_result: AuditResult | None = field(default=None, repr=False, compare=False)
    candidate_result: AuditResult | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "promote": self.promote,
            "reasons": list(self.reasons),
            "metric": self.metric,
            "champion": dict(self.champion),
            "candidate": dict(self.candidate),
            "failed_checks": list(self.failed_checks),
        }


def _interval(result: AuditResult, metric: str | None) -> dict[str, float | None]:
    if metric is None:  # no metric named and no main metric recorded
        return {"value": None, "low": None, "high": None}
    m = result.check(PERFORMANCE).metrics
    return {"value": m.get(metric), "low": m.get(f"{metric}_low"), "high": m.get(f"{metric}_high")}


def decide_promotion(
    champion: AuditResult, candidate: AuditResult, *, metric: str | None = None
) -> Decision:
    """Decide whether ``candidate`` replaces ``champion`` (see the module notes).

    Parameters
    ----------
    champion, candidate
        Audits of both models on the same labeled data with the same config.
    metric
        The metric to compare (a key of ``evaluation.performance`` metrics);
        default the main metric the performance check reports.
    """
    failed = tuple(c.id for c in candidate.checks if c.status in ("fail", "error"))
    try:
        perf_cand = candidate.check(PERFORMANCE)
        champion.check(PERFORMANCE)
    except UnknownCheckError:
        return Decision(
            False, (f"both audits must include {PERFORMANCE} to compare the models",), None
        )
    name = metric or perf_cand.details_as(PerformanceDetails).main_metric or None
    cand, champ = _interval(candidate, name), _interval(champion, name)
    reasons: list[str] = []
    if failed:
        reasons.append(f"the candidate fails the gate in: {', '.join(failed)}")
    if cand["value"] is None or champ["value"] is None:
        reasons.append(f"{name} is not available for both models")
        return Decision(False, tuple(reasons), name, champ, cand, failed)
    lower_better = name in LOWER_IS_BETTER
    bound = champ["high"] if lower_better else champ["low"]
    bound = champ["value"] if bound is None else bound
    worse = cand["value"] > bound if lower_better else cand["value"] < bound
    if worse:
        side = "above the high" if lower_better else "below the low"
        reasons.append(
            f"the candidate's {name} {cand['value']:.4g} is {side} end of the champion's "
            f"interval ({champ['value']:.4g}, interval {champ['low']}–{champ['high']})"
        )
    promote = not failed and not worse
    if promote:
        reasons.append(
            f"the candidate passes every gate and its {name} {cand['value']:.4g} is not worse "
            f"than the champion's {champ['value']:.4g} beyond its interval"
        )
    return Decision(promote, tuple(reasons), name, champ, cand, failed)


def promote(
    champion_model: Any,
    candidate_model: Any,
    window_df: Any,
    *,
    target: str,
    config: Any = None,
    metric: str | None = None,
    trust_model: bool = False,
) -> Decision:
    """Audit both models on the same labeled window and decide.

    ``champion_model`` and ``candidate_model`` are fitted estimators or model
    files (``.skops``, ``.onnx``; pickles with ``trust_model``); ``window_df``
    a frame or CSV/Parquet path with the target. The returned decision carries
    both audits (``champion_result``, ``candidate_result``).
    """
    import assay

    results = [
        assay.audit(
            test=str(window_df) if isinstance(window_df, Path) else window_df,
            target=target,
            model=model,
            config=config,
            trust_model=trust_model,
        )
        for model in (champion_model, candidate_model)
    ]
    d = decide_promotion(results[0], results[1], metric=metric)
    return Decision(
        d.promote,
        d.reasons,
        d.metric,
        d.champion,
        d.candidate,
        d.failed_checks,
        champion_result=results[0],
        candidate_result=results[1],
    )
