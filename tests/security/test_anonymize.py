"""Anonymization: the library function and ``assay anonymize`` round-trip to a copy
in which a re-scan finds no personal data; look-alike columns are left alone."""

from __future__ import annotations

import polars as pl
import pytest

from assay.errors import ConfigError, SchemaError
from assay.security.anonymize import anonymize, verify
from tests.cli.helpers import run_cli_subprocess

from .privacy_helpers import people

SALT = "a-long-secret-salt-for-tests"


@pytest.fixture(scope="module")
def table() -> pl.DataFrame:
    return pl.from_pandas(people(300, seed=1))


@pytest.fixture(scope="module")
def replaced(table):
    return anonymize(table, operator="replace")


def test_before_anonymization_the_scan_finds_pii(table):
    found = {(r.column, r.entity) for r in verify(table)}
    assert {("email", "EMAIL_ADDRESS"), ("phone", "PHONE_NUMBER"), ("card", "CREDIT_CARD")} <= found
    assert ("notes", "EMAIL_ADDRESS") in found


def test_round_trip_leaves_nothing(replaced):
    assert verify(replaced.frame, replaced) == []
    assert verify(replaced.frame) == []  # also without the memo of clean values


def test_pii_columns_are_replaced_whole_and_free_text_in_place(table, replaced):
    actions = {a.column: a for a in replaced.actions}
    for col in ("email", "phone", "card", "dob"):
        assert actions[col].mode == "whole", col
    assert actions["email"].reason.startswith("e-mail addresses in 100%")
    assert actions["dob"].reason == "named like a date of birth"
    assert set(replaced.frame.get_column("email").unique()) == {"<EMAIL_ADDRESS>"}
    notes = actions["notes"]
    assert notes.mode == "spans" and set(notes.entities) == {"EMAIL_ADDRESS", "PHONE_NUMBER"}
    assert notes.rows_changed == 30  # 10% of 300 rows mention an address or a number
    before = table.get_column("notes").to_list()
    after = replaced.frame.get_column("notes").to_list()
    assert after[0] == "wrote from <EMAIL_ADDRESS> about a refund"
    assert after[1] == before[1]  # text without personal data is untouched
    for col in ("order_ref", "bad_card", "version", "account_id", "sku", "gender", "x", "y"):
        assert col not in actions, col
        assert replaced.frame.get_column(col).equals(table.get_column(col)), col


@pytest.mark.parametrize("operator", ["mask", "hash", "redact"])
def test_every_operator_round_trips(table, operator):
    res = anonymize(table, operator=operator, salt=SALT if operator == "hash" else None)
    assert verify(res.frame, res) == []
    email = res.frame.get_column("email").to_list()
    if operator == "mask":
        assert set(email[0]) == {"*"}
    if operator == "redact":
        assert email[0] == ""
    if operator == "hash":
        assert len(email[0]) == 64 and email[0] != email[1]


def test_salted_hashes_keep_joins(table):
    a = anonymize(table.head(100), operator="hash", salt=SALT).frame
    b = anonymize(table.slice(50, 100), operator="hash", salt=SALT).frame
    joined = a.join(b, on="email", how="inner")
    assert joined.height == 50
    other = anonymize(table.head(100), operator="hash", salt=SALT + "!").frame
    assert a.get_column("email")[0] != other.get_column("email")[0]
    unsalted = anonymize(table.head(10), operator="hash")
    assert unsalted.salt_generated


def test_explicit_columns_are_replaced_whole_and_only_they(table):
    res = anonymize(table, columns=["sku", "notes"], operator="replace")
    assert {a.column for a in res.actions} == {"sku", "notes"}
    assert all(a.mode == "whole" for a in res.actions)
    assert set(res.frame.get_column("notes").unique()) == {"<EMAIL_ADDRESS>"}
    left = {(r.column, r.entity) for r in verify(res.frame, res)}
    assert ("email", "EMAIL_ADDRESS") in left  # not asked for, so it remains


def test_bad_arguments(table):
    with pytest.raises(SchemaError, match=r"'emial'.*Did you mean 'email'"):
        anonymize(table, columns=["emial"])
    with pytest.raises(ConfigError, match="at least 16 bytes"):
        anonymize(table, operator="hash", salt="short")
    with pytest.raises(ConfigError, match="operator must be one of"):
        anonymize(table, operator="scramble")  # type: ignore[arg-type]


# -- the command ------------------------------------------------------------------
def invoke(*args):
    """Run ``assay`` in-process (the real command once, below, in a subprocess)."""
    from typer.testing import CliRunner

    from assay.cli.main import app

    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory, table):
    path = tmp_path_factory.mktemp("anon") / "people.csv"
    table.write_csv(path)
    return path


def test_cli_round_trip(csv_path):
    out = csv_path.parent / "clean.csv"
    proc = run_cli_subprocess(  # anonymize through the installed script
        "anonymize", "--input", csv_path, "--out", out, "--operator", "hash", "--salt", SALT
    )
    assert proc.returncode == 0, proc.stderr
    assert "found no personal data" in proc.stdout
    assert verify(pl.read_csv(out)) == []
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(".")] == []  # no temp left
    original = pl.read_csv(csv_path)
    assert pl.read_csv(out).get_column("order_ref").equals(original.get_column("order_ref"))


def test_cli_parquet_and_aliases(csv_path):
    out = csv_path.parent / "clean.parquet"
    proc = invoke("anonymize", "--in", csv_path, "--out", out, "--method", "mask")
    assert proc.exit_code == 0, proc.output
    assert pl.read_parquet(out).get_column("email")[0].startswith("***")


def test_cli_exit_1_when_pii_remains(csv_path):
    out = csv_path.parent / "partial.csv"
    proc = invoke("anonymize", "--input", csv_path, "--out", out, "--columns", "dob,sku")
    assert proc.exit_code == 1
    assert "remaining: column 'email'" in proc.stderr
    assert "customer" not in proc.stderr  # remaining values are shown masked


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--operator", "scramble"], "--operator must be one of"),
        (["--columns", "nope"], "column 'nope' is not in the data"),
        (["--operator", "hash", "--salt", "short"], "at least 16 bytes"),
    ],
)
def test_cli_bad_usage_exits_2_with_one_line(csv_path, args, message):
    out = csv_path.parent / "bad.csv"
    proc = invoke("anonymize", "--input", csv_path, "--out", out, *args)
    assert proc.exit_code == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_refuses_bad_paths(csv_path):
    proc = invoke("anonymize", "--input", csv_path, "--out", csv_path)
    assert proc.exit_code == 2 and "must differ" in proc.stderr
    missing = csv_path.parent / "missing.csv"
    proc = invoke("anonymize", "--input", missing, "--out", csv_path.parent / "o.csv")
    assert proc.exit_code == 2 and "does not exist" in proc.stderr
    proc = invoke("anonymize", "--input", csv_path, "--out", csv_path.parent / "o.txt")
    assert proc.exit_code == 2 and ".csv or .parquet" in proc.stderr
