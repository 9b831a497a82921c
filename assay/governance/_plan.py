"""The remediation plan: what to do next, most important first.

Built from a report dict (``report.json``) alone: the failing, erroring and
warning checks, ordered by status (fail, then could not run, then warning),
strength of evidence (strong first, see :mod:`assay.core.evidence`), severity
(critical first) and effort (quick fixes first), each with its
recommendation, its worst findings and the command that re-runs it.

Example
-------
>>> report = {"checks": [
...     {"id": "data.integrity", "status": "warn", "severity": "high", "title": "Integrity"},
...     {"id": "evaluation.calibration", "status": "fail", "severity": "medium"},
... ]}
>>> [s["check_id"] for s in remediation_plan(report)]
['evaluation.calibration', 'data.integrity']
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from typing import Any

from assay.core.evidence import STRENGTH_ORDER, grade
from assay.governance._crosswalk import load_crosswalk

STATUS_ORDER = {"fail": 0, "error": 1, "warn": 2}
SEVERITY_ORDER = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
EFFORT_ORDER = {"low": 0, "medium": 1, "high": 2}
MAX_STEP_FINDINGS = 3


def _mapping(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def governance_of(report: Mapping[str, Any]) -> Mapping[str, Any]:
    """The report's ``governance`` block (under ``extra``, or top level), or ``{}``."""
    block = _mapping(_mapping(report.get("extra")).get("governance"))
    return block or _mapping(report.get("governance"))


def effort_of(report: Mapping[str, Any], check_id: str) -> str:
    """How much work fixing ``check_id`` usually takes: from the report, else the crosswalk."""
    entry = _mapping(_mapping(governance_of(report).get("checks")).get(check_id))
    effort = entry.get("effort")
    if effort in EFFORT_ORDER:
        return str(effort)
    known = load_crosswalk().entry(str(check_id))
    return known.effort if known is not None else "medium"


def rerun_command(report: Mapping[str, Any], check_id: str) -> str:
    """The ``assay audit`` command that re-runs one check on the same inputs.

    Paths, target, model and sensitive columns come from the report's
    ``inputs`` when they were files; otherwise ``…`` stands for the options
    used the first time.
    """
    inputs = _mapping(report.get("inputs"))
    args = ["assay", "audit"]
    complete = True
    for split in ("test", "train", "current"):
        src = _mapping(inputs.get(split))
        path = src.get("path")
        if isinstance(path, str) and path:
            args += [f"--{split}", path]
        elif src:
            complete = False
    target = _mapping(inputs.get("schema")).get("target")
    if isinstance(target, str) and target:
        args += ["--target", target]
    model = _mapping(inputs.get("model"))
    if model:
        if isinstance(model.get("path"), str) and model["path"]:
            args += ["--model", model["path"]]
        else:
            complete = False
    pred = _mapping(inputs.get("prediction_columns"))
    if isinstance(pred.get("prediction"), str):
        args += ["--prediction", pred["prediction"]]
    for s in pred.get("score") or []:
        args += ["--score", str(s)]
    sensitive = [str(s) for s in inputs.get("sensitive") or []]
    if sensitive:
        args += ["--sensitive", ",".join(sensitive)]
    if "--test" not in args:
        complete = False
    text = shlex.join([*args, "--check", str(check_id)])
    if not complete:
        text = text.replace("assay audit", "assay audit …", 1)
    return text


def _evidence(check: Mapping[str, Any]) -> dict[str, str] | None:
    """The check's evidence grade, recomputed from its metrics (an edited
    ``report.json`` cannot claim a grade its numbers do not support)."""
    metrics = check.get("metrics") if isinstance(check.get("metrics"), Mapping) else {}
    strength, basis = grade(metrics, str(check.get("status")))
    return None if strength is None else {"strength": strength, "basis": basis}


def remediation_plan(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The steps to take, most important first (see the module docstring).

    Each step holds ``check_id``, ``index`` (position in ``report["checks"]``),
    ``title``, ``status``, ``severity``, ``effort``, ``summary``,
    ``recommendation``, up to three ``findings`` (status and message, problems
    first), ``n_findings``, the ``rerun`` command and ``evidence`` (its strength and
    basis, or ``None``).
    """
    steps = []
    for i, c in enumerate(report.get("checks") or []):
        if not isinstance(c, Mapping) or c.get("status") not in STATUS_ORDER:
            continue
        cid = str(c.get("id") or f"check {i + 1}")
        findings = [f for f in c.get("findings") or [] if isinstance(f, Mapping)]
        problems = sorted(
            (f for f in findings if f.get("status") in STATUS_ORDER),
            key=lambda f: STATUS_ORDER[f["status"]],
        )
        severity = c.get("severity") if c.get("severity") in SEVERITY_ORDER else "medium"
        recommendation = c.get("recommendation") or ""
        if c.get("status") == "error" and not recommendation:
            recommendation = "Fix the input the check could not handle, or report the problem."
        steps.append(
            {
                "check_id": cid,
                "index": i,
                "title": str(c.get("title") or cid),
                "status": c["status"],
                "severity": severity,
                "effort": effort_of(report, cid),
                "summary": str(c.get("summary") or ""),
                "recommendation": str(recommendation),
                "findings": [
                    {"status": f["status"], "message": str(f.get("message") or "")}
                    for f in problems[:MAX_STEP_FINDINGS]
                ],
                "n_findings": len(problems),
                "rerun": rerun_command(report, cid),
                "evidence": _evidence(c),
            }
        )
    steps.sort(
        key=lambda s: (
            STATUS_ORDER[s["status"]],
            STRENGTH_ORDER.get((s["evidence"] or {}).get("strength"), 3),
            SEVERITY_ORDER[s["severity"]],
            EFFORT_ORDER.get(s["effort"], 1),
            s["index"],
        )
    )
    return steps
