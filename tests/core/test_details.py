"""Typed details (#15 item 2): reading a check's ``details`` as its declared type, leniently
for old reports, strictly for tests, and writing back exactly what was read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from assay.core.details import Details, Record, details_from_dict, details_to_dict
from assay.core.result import CheckResult
from assay.errors import InputError


@dataclass(frozen=True)
class Row(Record):
    column: str
    share: float | None
    note: str = ""


@dataclass(frozen=True)
class SampleDetails(Details):
    rows: tuple[Row, ...]
    labels: Mapping[str, str]
    n: int
    method: str | None = None
    by_split: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


GOOD = {
    "rows": [{"column": "age", "share": 0.3}, {"column": "x", "share": None, "note": "n"}],
    "labels": {"roc_auc": "ROC-AUC"},
    "n": 3,
    "charts": [{"kind": "bars", "title": "t", "x_label": "x", "unit": "share", "items": []}],
}


def test_strict_read_gives_typed_fields_and_writes_back_exactly():
    d = details_from_dict(SampleDetails, GOOD, strict=True)
    assert d.rows[0] == Row("age", 0.3, absent=frozenset({"note"}))
    assert d.rows[1].note == "n" and d.labels["roc_auc"] == "ROC-AUC" and d.n == 3
    assert d.method is None and "method" in d.absent  # optional and absent: not written back
    assert details_to_dict(d) == GOOD
    assert json.loads(json.dumps(details_to_dict(d))) == GOOD


@pytest.mark.parametrize(
    ("planted", "message"),
    [
        ({"labels_renamed": GOOD["labels"]}, "details.labels: missing"),
        ({"surprise": 1}, "details.surprise: not declared by SampleDetails"),
        ({"n": "three"}, "details.n: must be a whole number, got 'three'"),
        ({"n": 2.5}, "details.n: must be a whole number"),
        ({"rows": [{"column": 3, "share": 0.1}]}, "details.rows[0].column: must be text"),
        ({"labels": {"a": 1}}, "details.labels.a: must be text, got 1"),
    ],
)
def test_strict_read_names_the_planted_defect(planted, message):
    bad = {**GOOD, **planted}
    if "labels_renamed" in planted:
        del bad["labels"]
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        details_from_dict(SampleDetails, bad, strict=True)


def test_lenient_read_keeps_what_it_cannot_type_and_writes_it_back():
    old = {"rows": [{"column": 3}], "labels": "none", "future_key": [1, 2]}
    d = details_from_dict(SampleDetails, old)
    assert d.labels == {} and d.n == 0  # defaults / empty values
    assert d.extra == {"labels": "none", "future_key": [1, 2]}
    assert d.rows[0].column == "" and d.rows[0].extra == {"column": 3}  # lenient all the way
    assert details_to_dict(d) == old
    assert details_to_dict(details_from_dict(SampleDetails, {})) == {}
    assert details_from_dict(SampleDetails, None).rows == ()


def test_explicit_null_and_int_for_float_survive():
    d = details_from_dict(SampleDetails, {**GOOD, "method": None}, strict=True)
    assert "method" not in d.absent and details_to_dict(d)["method"] is None
    row = details_from_dict(Row, {"column": "a", "share": 1}, strict=True)
    assert row.share == 1 and isinstance(details_to_dict(row)["share"], int)


def test_a_result_parses_its_details_once_per_type():
    r = CheckResult("x.y", "x", "t", "pass", "low", "S.", "E", details=GOOD)
    first = r.details_as(SampleDetails)
    assert r.details_as(SampleDetails) is first
    assert r.details_as(SampleDetails, strict=True).rows == first.rows
    assert CheckResult.from_dict(r.to_dict()).details_as(SampleDetails) == first


def test_registration_refuses_a_details_type_that_is_not_one():
    from assay.core.registry import register_check

    @dataclass(frozen=True)
    class Plain:  # a frozen dataclass, but not a Details
        n: int = 0

    for bad in (dict, Plain):
        with pytest.raises(ValueError, match="must be a frozen dataclass deriving from"):
            register_check(
                "data.not_registered",
                area="data",
                title="t",
                explanation="e",
                standards=("MEASURE 2.1",),
                details=bad,
            )
