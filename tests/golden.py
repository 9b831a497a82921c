"""Golden-file comparison of one check's whole result (issue #15: refactors change no number).

``assert_golden(result, path)`` compares ``result.to_dict()`` (without its run time)
with the JSON stored at ``path``: strings, statuses, row lists and keys exactly, floats
to a relative 1e-6 (summation order moves the last digits). When a change of numbers
is intended, rewrite the file with ``ASSAY_UPDATE_GOLDEN=1 pytest <the test>`` and
say why in the commit; the diff of the JSON shows what moved.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any


def _diff(want: Any, got: Any, where: str, out: list[str]) -> None:
    if isinstance(want, bool) or isinstance(got, bool):
        if want is not got:
            out.append(f"{where}: {want!r} != {got!r}")
    elif isinstance(want, (int, float)) and isinstance(got, (int, float)):
        if not math.isclose(want, got, rel_tol=1e-6, abs_tol=1e-12):
            out.append(f"{where}: {want!r} != {got!r}")
    elif isinstance(want, dict) and isinstance(got, dict):
        if want.keys() != got.keys():
            out.append(f"{where}: keys {sorted(want)} != {sorted(got)}")
            return
        for k in want:
            _diff(want[k], got[k], f"{where}.{k}", out)
    elif isinstance(want, list) and isinstance(got, list):
        if len(want) != len(got):
            out.append(f"{where}: {len(want)} items != {len(got)}")
            return
        for i, (a, b) in enumerate(zip(want, got, strict=True)):
            _diff(a, b, f"{where}[{i}]", out)
    elif want != got:
        out.append(f"{where}: {want!r} != {got!r}")


def run_case(check: str, case: dict[str, Any]) -> Any:
    """Run ``check`` on a golden case (``test``, ``train`` and any other audit options),
    with the golden files' seed and resample count."""
    from assay.testing import run_check

    kw = dict(case)
    return run_check(
        check, kw.pop("test"), kw.pop("train"), target="y", seed=0, n_bootstrap=50, **kw
    )


def assert_golden(result: Any, path: Path) -> None:
    """Fail with every difference between ``result`` and the golden file at ``path``."""
    got = json.loads(json.dumps(result.to_dict(), default=str))
    got.pop("duration_s", None)
    if os.environ.get("ASSAY_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    want = json.loads(path.read_text())
    out: list[str] = []
    _diff(want, got, result.id, out)
    assert not out, f"{len(out)} difference(s) from {path.name}:\n" + "\n".join(out[:20])


REPORT_UNSTABLE = ("created_at", "assay_version", "environment", "checks[*].duration_s")
"""Fields of a ``report.json`` that change from run to run or machine to machine (the
clock, the library's and its dependencies' versions, each check's run time), left out of
:func:`assert_golden_report`."""


def _without(report: dict[str, Any], unstable: tuple[str, ...]) -> dict[str, Any]:
    out = dict(report)
    for field in unstable:
        if field.startswith("checks[*]."):
            key = field.removeprefix("checks[*].")
            out["checks"] = [{k: v for k, v in c.items() if k != key} for c in out["checks"]]
        else:
            out.pop(field, None)
    return out


def report_differences(want: dict[str, Any], got: dict[str, Any]) -> list[str]:
    """Every difference between two ``report.json`` documents (after
    :data:`REPORT_UNSTABLE` is dropped), each naming its JSON path; checks are named by
    id (``checks[data.integrity].metrics.n_rows_test``), numbers compared as in
    :func:`assert_golden` (relative 1e-6, absolute 1e-12)."""
    want, got = _without(want, REPORT_UNSTABLE), _without(got, REPORT_UNSTABLE)
    out: list[str] = []
    if want.keys() != got.keys():
        out.append(f"report: keys {sorted(want)} != {sorted(got)}")
    want_checks = {c["id"]: c for c in want.pop("checks", [])}
    got_checks = {c["id"]: c for c in got.pop("checks", [])}
    if list(want_checks) != list(got_checks):
        out.append(f"checks: {list(want_checks)} != {list(got_checks)}")
    for cid in want_checks.keys() & got_checks.keys():
        _diff(want_checks[cid], got_checks[cid], f"checks[{cid}]", out)
    for key in want.keys() & got.keys():
        _diff(want[key], got[key], key, out)
    return sorted(out)


def assert_golden_report(report_json: Path, path: Path) -> None:
    """Fail with every difference between the ``report.json`` at ``report_json`` and the
    golden report at ``path`` (rewritten first when ``ASSAY_UPDATE_GOLDEN=1``)."""
    got = json.loads(report_json.read_text())
    if os.environ.get("ASSAY_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_without(got, REPORT_UNSTABLE), indent=1) + "\n")
    out = report_differences(json.loads(path.read_text()), got)
    assert not out, (
        f"{len(out)} difference(s) from {path.name} (if intended: make golden, and say why "
        "in the commit):\n" + "\n".join(out[:40])
    )
