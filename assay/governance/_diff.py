"""Compare two audits: which checks changed status, which metrics truly moved.

A metric "moved" when it has a confidence interval in both reports (metrics
``x`` with ``x_low`` and ``x_high``) and each audit's value lies outside the
other audit's interval: a change larger than the uncertainty of either
measurement. Metrics without intervals are not compared (their changes may be
noise). Changed inputs (data fingerprints, the model) are listed too, so that
a reader knows what differed between the two runs.

Example
-------
>>> old = {"checks": [{"id": "a.b", "status": "pass", "metrics": {}}]}
>>> new = {"checks": [{"id": "a.b", "status": "fail", "metrics": {}}]}
>>> d = diff_reports(old, new)
>>> d["status_changes"][0]["direction"]
'worse'
>>> diff_reports(old, old) == empty_diff()
True
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

_RANK = {"pass": 0, "skipped": 0, "warn": 1, "fail": 2, "error": 2}
_INPUT_FIELDS = ("fingerprint", "file_sha256", "rows", "columns", "path")
_MODEL_FIELDS = ("class", "kind", "path")


def empty_diff() -> dict[str, list[Any]]:
    """A diff with nothing in it."""
    return {"status_changes": [], "metric_changes": [], "input_changes": []}


def is_empty(diff: Mapping[str, Any]) -> bool:
    """Whether two reports showed no difference."""
    return not any(diff.get(k) for k in empty_diff())


def _checks(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        str(c.get("id")): c
        for c in report.get("checks") or []
        if isinstance(c, Mapping) and c.get("id") is not None
    }


def _mapping(v: Any) -> Mapping[str, Any]:
    return v if isinstance(v, Mapping) else {}


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _direction(old: str | None, new: str | None) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    if new == "skipped":
        return "not run"
    if _RANK.get(new, 2) > _RANK.get(old, 0):
        return "worse"
    if old != "skipped" and _RANK.get(new, 2) < _RANK.get(old, 0):
        return "better"
    return "changed"


def _moved(metrics_old: Mapping[str, Any], metrics_new: Mapping[str, Any]) -> list[dict]:
    out = []
    for k in metrics_old:
        if k.endswith(("_low", "_high")) or k not in metrics_new:
            continue
        vals = [
            _num(m.get(name))
            for m in (metrics_old, metrics_new)
            for name in (k, f"{k}_low", f"{k}_high")
        ]
        nums = [v for v in vals if v is not None]
        if len(nums) != len(vals):
            continue
        o, olo, ohi, n, nlo, nhi = nums
        outside_old = n < olo or n > ohi
        outside_new = o < nlo or o > nhi
        if outside_old and outside_new:
            out.append(
                {
                    "metric": k,
                    "old": o,
                    "old_low": olo,
                    "old_high": ohi,
                    "new": n,
                    "new_low": nlo,
                    "new_high": nhi,
                    "change": n - o,
                }
            )
    return out


def _input_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[dict[str, Any]]:
    a = _mapping(old.get("inputs"))
    b = _mapping(new.get("inputs"))
    out: list[dict[str, Any]] = []
    for name in ("train", "test", "current"):
        x = a.get(name) if isinstance(a.get(name), Mapping) else None
        y = b.get(name) if isinstance(b.get(name), Mapping) else None
        if x is None and y is None:
            continue
        if x is None or y is None:
            out.append(
                {"input": name, "field": "present", "old": x is not None, "new": y is not None}
            )
            continue
        for f in _INPUT_FIELDS:
            if x.get(f) != y.get(f):
                out.append({"input": name, "field": f, "old": x.get(f), "new": y.get(f)})
    ma = _mapping(a.get("model"))
    mb = _mapping(b.get("model"))
    for f in _MODEL_FIELDS:
        if ma.get(f) != mb.get(f):
            out.append({"input": "model", "field": f, "old": ma.get(f), "new": mb.get(f)})
    return out


def diff_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, list[Any]]:
    """What changed from ``old`` to ``new`` (two ``report.json`` dicts).

    Returns
    -------
    dict
        ``status_changes``: ``check_id``, ``title``, ``old``, ``new`` and
        ``direction`` (worse, better, changed, added, removed, not run);
        ``metric_changes``: ``check_id``, ``metric``, both values and
        intervals, ``change``; ``input_changes``: ``input``, ``field``,
        ``old``, ``new``. All empty when the two reports agree.
    """
    a, b = _checks(old), _checks(new)
    out = empty_diff()
    for cid in [*a, *(c for c in b if c not in a)]:
        sa = a[cid].get("status") if cid in a else None
        sb = b[cid].get("status") if cid in b else None
        if sa != sb:
            title = (b.get(cid) or a.get(cid) or {}).get("title") or cid
            out["status_changes"].append(
                {
                    "check_id": cid,
                    "title": title,
                    "old": sa,
                    "new": sb,
                    "direction": _direction(sa, sb),
                }
            )
        if cid in a and cid in b:
            for m in _moved(_mapping(a[cid].get("metrics")), _mapping(b[cid].get("metrics"))):
                out["metric_changes"].append({"check_id": cid, **m})
    out["input_changes"] = _input_changes(old, new)
    return out


def regressions(diff: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The status changes for the worse (what makes ``assay diff`` exit 1)."""
    return [s for s in diff.get("status_changes", []) if s.get("direction") == "worse"]
