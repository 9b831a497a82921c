"""The verdict of ``security.pii``, judged from hand-built scans (no data, no Presidio): a
kind of data that identifies a person on its own fails a column from ``fail_share`` of a
split's rows (at, under and over it), any other kind warns; columns named like a direct
identifier warn, like a quasi-identifier or sensitive attribute pass (listed), and a
column name holding personal data warns."""

from __future__ import annotations

import pytest

from assay.core.registry import get_check
from assay.security.pii import ColumnScan, PiiMeasured, judge_column, judge_pii

TH = get_check("security.pii").thresholds  # fail_share 0.5


def scan(column: str, **kinds: tuple[bool, float]) -> ColumnScan:
    """``EMAIL_ADDRESS=(direct, share in test)`` for each kind found in ``column``."""
    entities = {
        kind: {
            "rows": {"train": 0.0, "test": share * 200},
            "share": {"train": 0.0, "test": share},
            "example": "j***@example.com",
            "distinct_values": 3,
            "estimated": False,
        }
        for kind, (_, share) in kinds.items()
    }
    return ColumnScan(
        column=column,
        splits=("train", "test"),
        entities=entities,
        direct={kind: direct for kind, (direct, _) in kinds.items()},
        values_analyzed=10,
        sampled=False,
        dismissed={},
    )


def measured(
    *columns: ColumnScan,
    hints: tuple[tuple[str, str, str, str], ...] = (),
    names_with_pii: tuple[tuple[str, tuple[str, ...]], ...] = (),
) -> PiiMeasured:
    return PiiMeasured(
        splits=("train", "test"),
        scanned=tuple(c.column for c in columns),
        all_columns=tuple(c.column for c in columns) + tuple(h[0] for h in hints),
        columns=columns,
        hints=hints,
        names_with_pii=names_with_pii,
        max_values=500,
    )


@pytest.mark.parametrize(
    ("direct", "share", "status"),
    [
        (True, 0.25, "warn"),
        (True, 0.4999, "warn"),  # just under fail_share
        (True, 0.5, "fail"),  # at fail_share
        (True, 1.0, "fail"),
        (False, 1.0, "warn"),  # an IP address everywhere does not identify a person alone
    ],
)
def test_a_column_fails_from_fail_share_of_a_direct_identifier(direct, share, status):
    assert judge_column(scan("c", KIND=(direct, share)), TH) == status


def test_the_largest_share_of_any_split_counts_and_the_threshold_is_a_parameter():
    c = scan("c", IP_ADDRESS=(False, 0.9), EMAIL_ADDRESS=(True, 0.3))
    assert judge_column(c, TH) == "warn"
    assert judge_column(c, {**TH, "fail_share": 0.3}) == "fail"
    assert judge_column(c, {**TH, "fail_share": 0.31}) == "warn"


def test_clean_data_passes():
    assert judge_pii(measured(scan("city"), scan("notes")), TH) == "pass"


def test_the_worst_column_decides():
    m = measured(scan("a", IP_ADDRESS=(False, 0.1)), scan("b", EMAIL_ADDRESS=(True, 0.8)))
    assert judge_pii(m, TH) == "fail"
    m = measured(scan("a", IP_ADDRESS=(False, 0.1)), scan("b"))
    assert judge_pii(m, TH) == "warn"


def test_name_hints():
    quasi = ("zip_code", "QUASI_IDENTIFIER", "a postal code", "pass")
    direct = ("last_name", "PERSON", "a person's name", "warn")
    assert judge_pii(measured(scan("city"), hints=(quasi,)), TH) == "pass"
    assert judge_pii(measured(scan("city"), hints=(quasi, direct)), TH) == "warn"


def test_a_hint_the_value_scan_speaks_for_is_not_judged_by_name():
    # an e-mail column scanned and clean: its name does not warn
    email = ("email", "EMAIL_ADDRESS", "an e-mail address", "warn")
    assert judge_pii(measured(scan("email"), hints=(email,)), TH) == "pass"
    # a column whose values were found to hold personal data is judged by its values
    name = ("name", "PERSON", "a person's name", "warn")
    m = measured(scan("name", EMAIL_ADDRESS=(True, 0.9)), hints=(name,))
    assert m.named == ()
    assert judge_pii(m, TH) == "fail"


def test_a_column_name_holding_personal_data_warns():
    m = measured(scan("city"), names_with_pii=(("j***@example.com", ("EMAIL_ADDRESS",)),))
    assert judge_pii(m, TH) == "warn"
