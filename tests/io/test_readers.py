from __future__ import annotations

import gzip

import pandas as pd
import polars as pl
import pytest

from assay.errors import InputError
from assay.io.readers import read_table


def test_csv_semicolon_bom_and_duplicate_header(tmp_path):
    p = tmp_path / "data.csv"
    p.write_bytes("\ufeffa;b;a\n1;2;3\n4;5;6\n".encode())
    df, src = read_table(p, name="test")
    assert df.columns == ["a", "b", "a__dup1"]
    assert src.delimiter == ";" and src.encoding == "utf-8-sig"
    assert src.duplicate_columns == ("a",)
    assert len(src.file_sha256) == 64


def test_csv_tab_latin1(tmp_path):
    p = tmp_path / "data.tsv"
    p.write_bytes("x\tname\n1\tJos\xe9\n2\tZo\xeb\n".encode("latin-1"))
    df, src = read_table(p, name="test")
    assert df.get_column("name").to_list() == ["José", "Zoë"]
    assert src.delimiter == "\t"


def test_csv_gzip(tmp_path):
    p = tmp_path / "data.csv.gz"
    p.write_bytes(gzip.compress(b"a|b\n1|x\n2|y\n"))
    df, _ = read_table(p, name="train")
    assert df.shape == (2, 2) and df.columns == ["a", "b"]


def test_parquet_and_frames(tmp_path):
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    p = tmp_path / "data.parquet"
    frame.write_parquet(p)
    assert read_table(p, name="test")[0].equals(frame)
    assert read_table(frame, name="test")[1].kind == "polars"
    got, src = read_table(frame.to_pandas(), name="test")
    assert src.kind == "pandas" and got.shape == (2, 2)


def test_pandas_duplicate_columns_recorded():
    pdf = pd.DataFrame([[1, 2]], columns=["a", "a"])
    df, src = read_table(pdf, name="test")
    assert df.columns == ["a", "a__dup1"] and src.duplicate_columns == ("a",)


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"a,b\n", "no data rows"), (b"PAR1\x00\x00garbage", "Parquet")],
)
def test_unreadable_files(tmp_path, content, message):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message) as info:
        read_table(p, name="test")
    assert str(p) in str(info.value)


def test_missing_file_and_wrong_type(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv", name="test")
    with pytest.raises(InputError, match="must be a file path"):
        read_table(42, name="test")
