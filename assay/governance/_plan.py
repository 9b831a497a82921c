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


# The ``assay audit`` options a recorded invocation may hold, and whether each
# takes a value. Anything else in a (possibly edited) report.json is dropped.
AUDIT_VALUE_OPTIONS = frozenset(
    {
        "--test",
        "--target",
        "--train",
        "--model",
        "--prediction",
        "--score",
        "--sensitive",
        "--current",
        "--decisions",
        "--out",
        "--fail-on",
        "--config",
        "--task",
        "--categorical",
        "--ignore",
        "--check",
        "--skip",
        "--enable",
        "--seed",
        "--n-bootstrap",
        "--engine",
        "--scheduler",
    }
)
AUDIT_FLAG_OPTIONS = frozenset({"--trust-model", "--efficiency"})
# Options that choose which checks run or where the report goes: a rerun of one
# check replaces them with ``--check ID``.
_NOT_REPEATED = frozenset({"--out", "--check", "--skip", "--enable", "--efficiency"})


def audit_invocation(options: Mapping[str, Any]) -> list[str]:
    """The argv of an ``assay audit`` run (after ``assay audit``) from its parsed options.

    ``options`` maps option names (``"--test"``) to their values: a path or
    string, a list for repeatable options, ``True`` for a flag, ``None`` or
    ``False`` or ``[]`` when not given. The result is what ``report.json``
    records under ``extra.invocation.args``; it holds the options only, no
    environment variable and nothing read from the config file.

    >>> audit_invocation({"--test": "t.csv", "--trust-model": True, "--score": ["p"]})
    ['--test', 't.csv', '--trust-model', '--score', 'p']
    """
    args: list[str] = []
    for name, value in options.items():
        if name in AUDIT_FLAG_OPTIONS:
            if value is True:
                args.append(name)
        elif name in AUDIT_VALUE_OPTIONS:
            values = value if isinstance(value, (list, tuple)) else [value]
            for v in values:
                if v is not None and v is not False and str(v) != "":
                    args += [name, str(v)]
    return args


def _recorded_args(report: Mapping[str, Any]) -> list[str] | None:
    """The options of the recorded invocation, known options only; ``None`` if none."""
    inv = _mapping(_mapping(report.get("extra")).get("invocation"))
    raw = inv.get("args")
    if inv.get("command") != "audit" or not isinstance(raw, list):
        return None
    if not all(isinstance(a, str) for a in raw):
        return None
    args: list[str] = []
    i = 0
    while i < len(raw):
        name = raw[i]
        if name in AUDIT_FLAG_OPTIONS:
            if name not in _NOT_REPEATED:
                args.append(name)
            i += 1
        elif name in AUDIT_VALUE_OPTIONS and i + 1 < len(raw):
            if name not in _NOT_REPEATED:
                args += [name, raw[i + 1]]
            i += 2
        else:
            return None  # not something assay wrote: fall back to the inputs
    return args if "--test" in args else None


def _needs_trust(model: Mapping[str, Any]) -> bool:
    """Whether loading the model again needs ``--trust-model`` (the audit had it)."""
    return model.get("trusted") is True or model.get("kind") in ("joblib", "pickle")


def _args_from_inputs(report: Mapping[str, Any]) -> tuple[list[str], bool]:
    """Options rebuilt from ``inputs`` and ``settings`` (an audit run from Python)."""
    inputs = _mapping(report.get("inputs"))
    args: list[str] = []
    complete = True
    for split in ("test", "train", "current", "decisions"):
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
            if _needs_trust(model):
                args.append("--trust-model")
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
    settings = _mapping(report.get("settings"))
    for key, option, default in (("seed", "--seed", 0), ("n_bootstrap", "--n-bootstrap", 500)):
        value = settings.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value != default:
            args += [option, str(value)]
    if settings.get("thresholds"):
        complete = False  # thresholds come only from a config file
    if "--test" not in args:
        complete = False
    return args, complete


def rerun_command(report: Mapping[str, Any], check_id: str) -> str:
    """The ``assay audit`` command that re-runs one check as the audit ran it.

    When ``report.json`` records the command line the audit was run with
    (``extra.invocation``, written by ``assay audit``), the command repeats
    every option of it (data, model, ``--trust-model``, ``--sensitive``,
    ``--task``, ``--config``...) except the check selection and ``--out``, and
    adds ``--check ID``. Otherwise (an audit run from Python) paths, target,
    model, prediction and sensitive columns come from the report's ``inputs``;
    where something was not a file, ``…`` stands for the options used the first
    time. Every word is quoted for a POSIX shell (:func:`shlex.join`).

    >>> report = {"extra": {"invocation": {"command": "audit",
    ...     "args": ["--test", "my data.csv", "--target", "y", "--trust-model"]}}}
    >>> rerun_command(report, "data.integrity")
    "assay audit --test 'my data.csv' --target y --trust-model --check data.integrity"
    """
    recorded = _recorded_args(report)
    if recorded is not None:
        args, complete = recorded, True
    else:
        args, complete = _args_from_inputs(report)
    text = shlex.join(["assay", "audit", *args, "--check", str(check_id)])
    if not complete:
        text = text.replace("assay audit", "assay audit …", 1)
    return text


def _evidence(check: Mapping[str, Any]) -> dict[str, str] | None:
    """The check's evidence grade, recomputed from its metrics (an edited
    ``report.json`` cannot claim a grade its numbers do not support)."""
    strength, basis = grade(_mapping(check.get("metrics")), str(check.get("status")))
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
