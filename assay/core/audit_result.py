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
from typing import Any

from assay.core.result import STATUSES, CheckResult, to_jsonable
from assay.errors import UnknownCheckError

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
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "assay_version": self.assay_version,
            "created_at": self.created_at,
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
            created_at=d["created_at"],
            assay_version=d["assay_version"],
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
        return write_outputs(self.to_dict(), out_dir)

    def _repr_html_(self) -> str:
        from assay.render.html import render_html

        return render_html(self.to_dict(), fragment=True)


def write_outputs(
    report: Mapping[str, Any], out_dir: str | Path, *, include_json: bool = True
) -> dict[str, Path]:
    """Render every output from a report dict and write them atomically.

    ``include_json=False`` rebuilds only the renderings (``assay report``).
    """
    from assay.render.datasheet import render_datasheet
    from assay.render.html import render_html
    from assay.render.junit import render_junit
    from assay.render.model_card import render_model_card

    rendered = {
        "report.json": json.dumps(report, indent=2, ensure_ascii=False, allow_nan=False),
        "report.html": render_html(report),
        "junit.xml": render_junit(report),
        "model_card.md": render_model_card(report),
        "datasheet.md": render_datasheet(report),
    }
    if not include_json:
        del rendered["report.json"]
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
