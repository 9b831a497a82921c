"""The result of an audit: every check's result plus what went in.

``AuditResult.to_dict()`` is exactly what ``report.json`` holds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from assay.core.result import STATUSES, CheckResult, to_jsonable
from assay.errors import ConfigError, UnknownCheckError

REPORT_SCHEMA_VERSION = "1.0"
OUTPUT_FILES = ("report.json", "report.html", "junit.xml", "model_card.md", "datasheet.md")


@dataclass(frozen=True)
class AuditResult:
    """All check results of one audit, with its inputs and settings."""

    checks: tuple[CheckResult, ...]
    inputs: Mapping[str, Any]
    settings: Mapping[str, Any]
    environment: Mapping[str, Any]
    created_at: str
    assay_version: str
    fail_on: str = "fail"
    extra: Mapping[str, Any] = field(default_factory=dict)
    schema_version: ClassVar[str] = REPORT_SCHEMA_VERSION
    """The version of the ``report.json`` shape this result writes."""

    # -- access --------------------------------------------------------------
    def check(self, check_id: str) -> CheckResult:
        """The result of check ``check_id``."""
        for c in self.checks:
            if c.id == check_id:
                return c
        raise UnknownCheckError(
            f"no result for check {check_id!r} in this audit; results: "
            + ", ".join(c.id for c in self.checks)
        )

    def summary(self) -> dict[str, int]:
        """Counts of results by status (every status present, zero included)."""
        counts = Counter(c.status for c in self.checks)
        return {s: counts.get(s, 0) for s in STATUSES}

    def gate_failed(self, fail_on: str | None = None) -> bool:
        """Whether any check fails the gate (``fail``/``error``, or also ``warn``)."""
        level = fail_on or self.fail_on
        bad = {"fail", "error"} | ({"warn"} if level == "warn" else set())
        return any(c.status in bad for c in self.checks)

    # -- serialisation -------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Exactly the content of ``report.json``."""
        # Both are always set by an audit; a trimmed report.json read back (the golden
        # report) lacks them and is written back without them.
        stamp = {"assay_version": self.assay_version, "created_at": self.created_at}
        return {
            "schema_version": self.schema_version,
            **{k: v for k, v in stamp.items() if v},
            "inputs": to_jsonable(dict(self.inputs)),
            "settings": to_jsonable(dict(self.settings)),
            "environment": to_jsonable(dict(self.environment)),
            "checks": [c.to_dict() for c in self.checks],
            "summary": {**self.summary(), "total": len(self.checks)},
            "gate": {"fail_on": self.fail_on, "failed": self.gate_failed()},
            **({"extra": to_jsonable(dict(self.extra))} if self.extra else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AuditResult:
        return cls(
            checks=tuple(CheckResult.from_dict(c) for c in d["checks"]),
            inputs=dict(d.get("inputs", {})),
            settings=dict(d.get("settings", {})),
            environment=dict(d.get("environment", {})),
            created_at=d.get("created_at") or "",
            assay_version=d.get("assay_version") or "",
            fail_on=d.get("gate", {}).get("fail_on", "fail"),
            extra=dict(d.get("extra", {})),
        )

    def to_frame(self) -> Any:
        """One row per check (pandas DataFrame) for notebooks."""
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "id": c.id,
                    "status": c.status,
                    "severity": c.severity,
                    "summary": c.summary,
                    "findings": len(c.findings),
                }
                for c in self.checks
            ]
        )

    def save(self, out_dir: str | Path) -> dict[str, Path]:
        """Write ``report.json``, ``report.html`` and ``junit.xml`` into ``out_dir``.

        Every file is rendered in memory first and then moved into place, so a
        failure leaves no partial report behind.
        """
        return write_outputs(self, out_dir)

    def _repr_html_(self) -> str:
        from assay.render.html import render_html

        return render_html(self, fragment=True)


def parse_report(report: Mapping[str, Any], *, where: str = "report.json") -> AuditResult:
    """``report`` (the content of ``report.json``) as an :class:`AuditResult`, or a one-line
    :class:`~assay.errors.ConfigError` naming the field that is missing or malformed."""
    try:
        return AuditResult.from_dict(report)
    except KeyError as exc:
        raise ConfigError(
            f"{where}: field {exc.args[0]!r} is missing; rebuild the report with assay audit"
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConfigError(
            f"{where} is not an Assay report ({exc}); rebuild it with assay audit"
        ) from None


def write_outputs(
    result: AuditResult | Mapping[str, Any], out_dir: str | Path, *, include_json: bool = True
) -> dict[str, Path]:
    """Render every output of an audit and write them atomically.

    ``result`` is an :class:`AuditResult`; a report dict (``report.json`` loaded) is parsed
    once with :meth:`AuditResult.from_dict` and written back as it was given. Each file of
    :data:`assay.render.RENDERERS` is rendered from the parsed result (from the dict as it
    is when it does not parse: the renderers never raise on odd fields).
    ``include_json=False`` rebuilds only the renderings (``assay report``).
    """
    from assay.render import RENDERERS

    source: AuditResult | Mapping[str, Any] = result
    if isinstance(result, AuditResult):
        report_json = result.to_json()
    else:
        report_json = json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False)
        try:
            source = parse_report(result)
        except ConfigError:
            # A hand-edited report.json (a check without its severity...): the renderers
            # read it as it is, showing what is missing as "—" (assay report never refuses).
            source = result
    rendered = {"report.json": report_json} if include_json else {}
    rendered.update((name, render(source)) for name, render in RENDERERS.items())
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    tmp_paths: list[str] = []
    umask = os.umask(0)
    os.umask(umask)
    try:
        for name, text in rendered.items():
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out)
            tmp_paths.append(tmp)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, 0o666 & ~umask)
        for tmp, name in zip(tmp_paths, rendered, strict=True):
            os.replace(tmp, out / name)
            written[name] = out / name
    finally:
        for tmp in tmp_paths:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return written
