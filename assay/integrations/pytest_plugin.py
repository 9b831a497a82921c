"""The pytest plug-in: audit a model inside a test and fail the test when the gate fails.

Registered through the ``pytest11`` entry point, so installing Assay is enough::

    def test_model_is_fit_to_ship(assay_audit):
        result = assay_audit(train=train, test=test, target="y", model=model)
        result.assert_gate()

``assay_audit(...)`` takes the arguments of :func:`assay.audit` and returns an
:class:`AuditOutcome`: the :class:`~assay.AuditResult` (``outcome.result``;
its attributes are also reachable on the outcome) plus :meth:`AuditOutcome.assert_gate`,
which fails the test with the report's first next steps (from
:func:`assay.governance.remediation_plan`) as the message.

``pytest --assay-report DIR`` keeps every audit's reports (``report.json``,
``report.html``, ``junit.xml``, model card, datasheet) under
``DIR/<test id>/``; the failure message names the folder.

This module imports nothing heavy at import time: pytest loads it in every
session of a project that has Assay installed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult

__all__ = ["MAX_STEPS", "AuditOutcome", "assay_audit"]

MAX_STEPS = 3
"""Next steps quoted in a failure message (the rest are counted)."""
_MAX_TEXT = 400
_KEY = pytest.StashKey[Path | None]()


class AuditOutcome:
    """One audit run in a test: its result, where its reports went, and the gate assertion.

    Attribute access falls through to the :class:`~assay.AuditResult`
    (``outcome.check("evaluation.performance")``, ``outcome.summary()``).
    """

    def __init__(self, result: AuditResult, report_dir: Path | None = None) -> None:
        self.result = result
        self.report_dir = report_dir

    def __getattr__(self, name: str) -> Any:
        return getattr(self.result, name)

    def __repr__(self) -> str:
        counts = {k: v for k, v in self.result.summary().items() if v}
        return f"<AuditOutcome {counts} gate_failed={self.result.gate_failed()}>"

    def failure_message(self, fail_on: str | None = None, *, max_steps: int = MAX_STEPS) -> str:
        """What :meth:`assert_gate` says: the gate, the counts and the first next steps."""
        from assay.governance import remediation_plan
        from assay.render._format import shorten

        level = fail_on or self.result.fail_on
        counts = self.result.summary()
        lines = [
            f"Assay quality gate failed (fails on {level}): {counts['fail']} failed, "
            f"{counts['error']} could not run, {counts['warn']} warning(s) "
            f"of {len(self.result.checks)} checks."
        ]
        bad = {"fail", "error"} | ({"warn"} if level == "warn" else set())
        plan = [s for s in remediation_plan(self.result.to_dict()) if s["status"] in bad]
        lines.append("Next steps, most important first:")
        for n, s in enumerate(plan[:max_steps], 1):
            lines.append(
                f"{n}. {s['check_id']} ({s['status']}): {shorten(s['summary'], _MAX_TEXT)}"
            )
            said = s["summary"].strip()
            for f in s["findings"]:
                if f["message"] and not said.startswith(f["message"].strip().rstrip(".")):
                    lines.append(f"   - {shorten(f['message'], _MAX_TEXT)}")
            if s["recommendation"]:
                lines.append(f"   What to do: {shorten(s['recommendation'], _MAX_TEXT)}")
            if not s["rerun"].startswith("assay audit …"):
                lines.append(f"   Run it again: {s['rerun']}")
        if len(plan) > max_steps:
            lines.append(f"... and {len(plan) - max_steps} more step(s) in the report.")
        if self.report_dir is not None:
            lines.append(f"Reports: {self.report_dir}")
        else:
            lines.append("Keep the full report with: pytest --assay-report DIR")
        return "\n".join(lines)

    def assert_gate(self, fail_on: str | None = None, *, max_steps: int = MAX_STEPS) -> None:
        """Fail the test when a check fails the gate (``fail``/``error``, or also ``warn``).

        Parameters
        ----------
        fail_on
            ``"fail"`` or ``"warn"``; default: the audit's own ``fail_on``.
        max_steps
            How many next steps the failure message quotes.
        """
        if fail_on not in (None, "fail", "warn"):
            raise ValueError(f"fail_on must be 'fail' or 'warn', not {fail_on!r}")
        __tracebackhide__ = True
        if self.result.gate_failed(fail_on):
            pytest.fail(self.failure_message(fail_on, max_steps=max_steps), pytrace=False)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("assay", "Assay model audits")
    group.addoption(
        "--assay-report",
        metavar="DIR",
        default=None,
        help="Keep the report of every assay_audit under DIR/<test id>/.",
    )


def pytest_configure(config: pytest.Config) -> None:
    value = config.getoption("--assay-report", default=None)
    config.stash[_KEY] = Path(value).resolve() if value else None


def _folder_name(nodeid: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("._")
    return name[:150] or "test"


@pytest.fixture
def assay_audit(request: pytest.FixtureRequest) -> Callable[..., AuditOutcome]:
    """Run :func:`assay.audit` in a test: ``assay_audit(test=..., target=..., model=...)``.

    Returns an :class:`AuditOutcome`; call ``.assert_gate()`` on it. With
    ``--assay-report DIR`` its reports are written under ``DIR/<test id>/``
    (``-2``, ``-3``... for further audits in the same test).
    """
    root = request.config.stash.get(_KEY, None)
    runs = 0

    def run(*args: Any, **kwargs: Any) -> AuditOutcome:
        nonlocal runs
        import warnings

        import assay

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = assay.audit(*args, **kwargs)
        runs += 1
        folder = None
        if root is not None:
            suffix = "" if runs == 1 else f"-{runs}"
            folder = root / f"{_folder_name(request.node.nodeid)}{suffix}"
            result.save(folder)
        return AuditOutcome(result, folder)

    return run
