"""The run loop every command shares: ``run(specs, context, progress)``.

``assay.audit`` (and ``assay bench``, which runs the efficiency checks through it)
and ``assay.drift.drift`` (:mod:`assay.core.drift_api`) each read their inputs into
an :class:`AuditContext` their own way, choose their checks, then hand both to
:func:`run`; one function, :func:`assay.core.audit.assemble`, builds the
:class:`~assay.core.audit_result.AuditResult` from what it returns.

:func:`run_check` turns one check into a result: a check that does not apply, or
lacks an input or an optional package, is ``skipped`` with the reason; one that
raises is an ``error`` result naming the exception and its ``file:line``, so one
failing check never stops the others.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict

from assay.core.context import AuditContext
from assay.core.registry import CheckSpec, SkipCheck
from assay.core.result import CheckResult, Severity

ProgressFn = Callable[[str, int, int], None]
"""Called as ``progress(check_id, done, total)`` before each check, and as
``progress("done", total, total)`` when all have run."""


def _skip_reason(spec: CheckSpec, ctx: AuditContext) -> str | None:
    if ctx.task not in spec.tasks:
        return f"does not apply to {ctx.task} tasks"
    for need in spec.needs:
        if need == "train" and not ctx.has("train"):
            return "no training data was given (pass train=... or --train)"
        if need == "current" and not ctx.has("current"):
            return "no current (production) data was given"
        if need == "model" and not ctx.can_predict("test"):
            return (
                "no model and no prediction columns were given "
                "(pass a model, or --prediction/--score columns)"
            )
        if need == "scores" and not ctx.has_scores:
            return (
                "no class probabilities are available (the model has no predict_proba, "
                "or no --score column was given)"
            )
    return spec.missing_extra(ctx.task)


class _Identity(TypedDict):
    """What every result of a check repeats from its registration."""

    id: str
    area: str
    title: str
    severity: Severity
    explanation: str
    standards: tuple[str, ...]
    thresholds: Mapping[str, Any]


def run_check(spec: CheckSpec, ctx: AuditContext) -> CheckResult:
    """Run one check, turning a skip or an exception into a result."""
    thresholds = {**spec.thresholds, **ctx.settings.thresholds.get(spec.id, {})}
    base: _Identity = {
        "id": spec.id,
        "area": spec.area,
        "title": spec.title,
        "severity": spec.severity,
        "explanation": spec.explanation,
        "standards": spec.standards,
        "thresholds": thresholds,
    }
    reason = _skip_reason(spec, ctx)
    start = time.perf_counter()
    if reason is None:
        try:
            out = spec.fn(ctx, thresholds)
        except SkipCheck as exc:
            reason = str(exc)
        except Exception as exc:
            tb = traceback.extract_tb(exc.__traceback__)
            where = f"{Path(tb[-1].filename).name}:{tb[-1].lineno}" if tb else ""
            return CheckResult(
                **base,
                status="error",
                summary=f"The check could not run: {type(exc).__name__}: {exc}",
                recommendation="This is a bug in Assay or an input it does not handle; "
                "please report it with report.json.",
                details={"exception": type(exc).__name__, "where": where},
                duration_s=time.perf_counter() - start,
            )
        else:
            return CheckResult(
                **base,
                status=out.status,
                summary=out.summary,
                metrics=dict(out.metrics),
                findings=tuple(out.findings),
                recommendation=out.recommendation,
                details=dict(out.details),
                duration_s=time.perf_counter() - start,
                units=dict(out.units),
            )
    return CheckResult(
        **base,
        status="skipped",
        summary=f"Skipped: {reason}.",
        duration_s=time.perf_counter() - start,
    )


def run(
    specs: Sequence[CheckSpec], ctx: AuditContext, progress: ProgressFn | None = None
) -> list[CheckResult]:
    """Run ``specs`` in order on ``ctx``, one result each (:func:`run_check`), telling
    ``progress`` before each check and once more (``"done"``) at the end.

    Examples
    --------
    >>> import polars as pl
    >>> from assay.core.context import AuditSettings
    >>> from assay.core.registry import get_check
    >>> from assay.io.readers import TableSource
    >>> from assay.io.schema import infer_schema
    >>> df = pl.DataFrame({"x": [1.0, 2.0, None, 4.0] * 10, "y": [0, 1] * 20})
    >>> ctx = AuditContext(
    ...     frames={"test": df},
    ...     sources={"test": TableSource(name="test", path=None, kind="polars")},
    ...     schema=infer_schema(df, target="y"),
    ...     settings=AuditSettings(),
    ... )
    >>> seen = []
    >>> results = run([get_check("data.integrity"), get_check("drift.features")], ctx,
    ...               lambda check, done, total: seen.append((check, done, total)))
    >>> [(r.id, r.status) for r in results]
    [('data.integrity', 'warn'), ('drift.features', 'skipped')]
    >>> seen
    [('data.integrity', 0, 2), ('drift.features', 1, 2), ('done', 2, 2)]
    """
    results: list[CheckResult] = []
    for i, spec in enumerate(specs):
        if progress is not None:
            progress(spec.id, i, len(specs))
        results.append(run_check(spec, ctx))
    if progress is not None:
        progress("done", len(specs), len(specs))
    return results


__all__ = ["ProgressFn", "run", "run_check"]
