"""The standards crosswalk: which NIST AI RMF subcategories and ISO/IEC 42001
Annex A controls each check gives evidence for.

The mapping is reference data shipped with the package (``crosswalk.yaml``).
:func:`governance_record` turns it into the ``governance`` block that an audit
writes into ``report.json`` (under ``extra``), so that the report, and every
document rebuilt from it, carries the crosswalk that was current when the
audit ran.

Example
-------
>>> cw = load_crosswalk()
>>> "MEASURE 2.5" in cw.entry("evaluation.performance").nist
True
>>> cw.subcategories["MEASURE 2.11"].function
'MEASURE'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, NoReturn

Effort = Literal["low", "medium", "high"]
EFFORTS: tuple[Effort, ...] = ("low", "medium", "high")
FUNCTIONS = ("GOVERN", "MAP", "MEASURE", "MANAGE")
NIST_ID = re.compile(r"^(GOVERN|MAP|MEASURE|MANAGE) (\d+)\.(\d+)$")
ISO_ID = re.compile(r"^A\.(\d+)(\.\d+){1,2}$")


@dataclass(frozen=True)
class Subcategory:
    """One NIST AI RMF subcategory, described in our own words."""

    id: str
    function: str
    topic: str
    question: str
    helped_by: str | None = None


@dataclass(frozen=True)
class Control:
    """One ISO/IEC 42001:2023 Annex A control (its topic in our own words)."""

    id: str
    topic: str


@dataclass(frozen=True)
class CheckEntry:
    """What one check gives evidence for, and how much work a fix usually takes."""

    check_id: str
    nist: tuple[str, ...]
    iso_42001: tuple[str, ...]
    effort: Effort


@dataclass(frozen=True)
class Crosswalk:
    """The whole crosswalk: frameworks, their items and the per-check entries."""

    version: int
    frameworks: Mapping[str, Any]
    subcategories: Mapping[str, Subcategory]
    controls: Mapping[str, Control]
    checks: Mapping[str, CheckEntry]

    def entry(self, check_id: str) -> CheckEntry | None:
        """The entry of ``check_id``, or ``None`` when the crosswalk lacks it."""
        return self.checks.get(check_id)

    def covering(self, subcategory: str) -> list[str]:
        """Every check (in the crosswalk) that gives evidence for ``subcategory``."""
        return sorted(c for c, e in self.checks.items() if subcategory in e.nist)

    def organizational(self) -> list[str]:
        """Subcategories that are work for people: every GOVERN one (about the
        organization, whatever evidence a check adds) and any no check maps to."""
        covered = {s for e in self.checks.values() for s in e.nist}
        return [
            s
            for s, sub in self.subcategories.items()
            if sub.function == "GOVERN" or s not in covered
        ]


def nist_sort_key(sub_id: str) -> tuple[int, int, int]:
    """GOVERN before MAP before MEASURE before MANAGE, then numerically (2.9 < 2.10)."""
    m = NIST_ID.match(sub_id)
    if m is None:
        return (9, 0, 0)
    return (FUNCTIONS.index(m.group(1)), int(m.group(2)), int(m.group(3)))


def iso_sort_key(control_id: str) -> tuple[int, ...]:
    """A.2.2 < A.6.1.2 < A.10.4 (numerically)."""
    return tuple(int(p) for p in control_id[2:].split(".") if p.isdigit())


def _fail(msg: str) -> NoReturn:
    raise ValueError(f"crosswalk.yaml: {msg}")


def parse_crosswalk(data: Mapping[str, Any]) -> Crosswalk:
    """Validate the loaded YAML and build a :class:`Crosswalk` (errors name the entry)."""
    subs: dict[str, Subcategory] = {}
    for sid, item in dict(data.get("nist_ai_rmf") or {}).items():
        m = NIST_ID.match(str(sid))
        if m is None or not isinstance(item, Mapping):
            _fail(f"NIST AI RMF subcategory {sid!r} is not like 'MEASURE 2.5' with a mapping")
        if not item.get("topic") or not item.get("question"):
            _fail(f"NIST AI RMF subcategory {sid!r} needs a topic and a question")
        subs[sid] = Subcategory(
            id=sid,
            function=m.group(1),
            topic=str(item["topic"]),
            question=str(item["question"]),
            helped_by=item.get("helped_by"),
        )
    controls: dict[str, Control] = {}
    for cid, item in dict(data.get("iso_42001") or {}).items():
        if not ISO_ID.match(str(cid)) or not isinstance(item, Mapping) or not item.get("topic"):
            _fail(f"ISO/IEC 42001 control {cid!r} is not like 'A.6.2.4' with a topic")
        controls[cid] = Control(id=cid, topic=str(item["topic"]))
    checks: dict[str, CheckEntry] = {}
    for check_id, item in dict(data.get("checks") or {}).items():
        if not isinstance(item, Mapping):
            _fail(f"check {check_id!r} must map to nist, iso_42001 and effort")
        nist = tuple(item.get("nist") or ())
        iso = tuple(item.get("iso_42001") or ())
        effort = item.get("effort", "medium")
        unknown = [s for s in nist if s not in subs] + [c for c in iso if c not in controls]
        if unknown:
            _fail(f"check {check_id!r} names unknown ids {', '.join(map(str, unknown))}")
        if not nist:
            _fail(f"check {check_id!r} lists no NIST AI RMF subcategory")
        if effort not in EFFORTS:
            _fail(f"check {check_id!r}: effort must be one of {', '.join(EFFORTS)}")
        checks[check_id] = CheckEntry(check_id, nist, iso, effort)
    return Crosswalk(
        version=int(data.get("version", 1)),
        frameworks=dict(data.get("frameworks") or {}),
        subcategories=dict(sorted(subs.items(), key=lambda kv: nist_sort_key(kv[0]))),
        controls=dict(sorted(controls.items(), key=lambda kv: iso_sort_key(kv[0]))),
        checks=checks,
    )


@lru_cache(maxsize=1)
def load_crosswalk() -> Crosswalk:
    """The crosswalk shipped with Assay (read once, then cached)."""
    import yaml

    text = resources.files("assay.governance").joinpath("crosswalk.yaml").read_text("utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # safe either way; C is 6x faster
    return parse_crosswalk(yaml.load(text, Loader=loader))


def governance_record(
    check_ids: Iterable[str], owner: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The ``governance`` block of ``report.json`` for an audit that ran ``check_ids``.

    It holds the crosswalk entries of those checks, every NIST AI RMF
    subcategory (with the checks of this audit that give evidence for it, and
    the other checks that could) and the ISO/IEC 42001 controls they support,
    so that renderers need nothing but the report. ``owner`` holds the model
    card's owner fields (intended use, owners, licence...) when given.

    Examples
    --------
    >>> rec = governance_record(["evaluation.performance"])
    >>> rec["nist_ai_rmf"]["MEASURE 2.5"]["checks"]
    ['evaluation.performance']
    >>> rec["nist_ai_rmf"]["GOVERN 1.3"]["for_people"]
    True
    """
    cw = load_crosswalk()
    ran = list(dict.fromkeys(check_ids))
    entries = {}
    for cid in ran:
        e = cw.entry(cid)
        if e is not None:
            entries[cid] = {
                "nist": list(e.nist),
                "iso_42001": list(e.iso_42001),
                "effort": e.effort,
            }
    nist: dict[str, Any] = {}
    people = set(cw.organizational())
    for sid, sub in cw.subcategories.items():
        here = [c for c in ran if sid in entries.get(c, {}).get("nist", ())]
        could = [c for c in cw.covering(sid) if c not in here]
        item: dict[str, Any] = {
            "function": sub.function,
            "topic": sub.topic,
            "question": sub.question,
            "coverable": bool(here or could),
            "for_people": sid in people,
            "checks": here,
            "other_checks": could,
        }
        if sub.helped_by:
            item["helped_by"] = sub.helped_by
        nist[sid] = item
    iso = {
        cid: {
            "topic": ctl.topic,
            "checks": [c for c in ran if cid in entries.get(c, {}).get("iso_42001", ())],
        }
        for cid, ctl in cw.controls.items()
    }
    record: dict[str, Any] = {
        "crosswalk_version": cw.version,
        "frameworks": {
            k: {"name": v.get("name"), "document": v.get("document")}
            for k, v in cw.frameworks.items()
            if isinstance(v, Mapping)
        },
        "nist_functions": dict(cw.frameworks.get("nist_ai_rmf", {}).get("functions", {})),
        "checks": entries,
        "unmapped_checks": [c for c in ran if c not in entries],
        "nist_ai_rmf": nist,
        "iso_42001": iso,
    }
    if owner:
        record["owner"] = dict(owner)
    return record
