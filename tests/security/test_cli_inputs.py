"""Bounded CLI inputs: gzip bombs, huge headers and unusable output paths are refused up front.

Each attack runs the real ``assay`` command (one line on stderr, exit 2, no
traceback, nothing written) or, where a cap must be lowered inside the
process, :func:`assay.io.readers.read_table` directly.
"""

from __future__ import annotations

import gzip
import tracemalloc
import zipfile

import polars as pl
import pytest

from assay.errors import InputError
from assay.io import readers
from assay.io.paths import OutputPathError, check_output_dir, check_output_file
from assay.io.readers import MAX_INPUT_BYTES_ENV, read_table

from ..cli.helpers import run_cli

BOMB_ROWS = 5_000_000  # "1,2\n" rows: 20 MB decompressed, about 20 KB on disk


def assert_one_line_error(proc, *needles: str) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "internal error" not in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


@pytest.fixture()
def bomb(tmp_path):
    p = tmp_path / "bomb.csv.gz"
    p.write_bytes(gzip.compress(b"a,b\n" + b"1,2\n" * BOMB_ROWS, 9))
    assert p.stat().st_size < 100_000
    return p


@pytest.fixture()
def csv_files(tmp_path, binary_data):
    train, test, _ = binary_data
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_csv(tmp_path / "test.csv", index=False)
    return tmp_path


# -- 1. decompression bombs ---------------------------------------------------------
def test_gzip_bomb_is_refused_by_the_cli(bomb, tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_INPUT_BYTES_ENV, str(1_000_000))
    out = tmp_path / "out"
    proc = run_cli("audit", "--test", bomb, "--target", "b", "--out", out)
    assert_one_line_error(proc, str(bomb), "1000000 bytes", MAX_INPUT_BYTES_ENV)
    assert not out.exists()


def test_gzip_bomb_stops_at_the_cap_without_holding_it(bomb, monkeypatch):
    """Streamed: refusing a 20 MB expansion allocates a few MB, not the whole of it."""
    monkeypatch.setattr(readers, "MAX_DECOMPRESSED_BYTES", 4_000_000)
    monkeypatch.delenv(MAX_INPUT_BYTES_ENV, raising=False)
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="decompresses to more than") as info:
            read_table(bomb, name="test")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value) and str(bomb) in str(info.value)
    assert peak < 8_000_000, peak


def test_normal_gzip_still_reads_under_a_low_cap(tmp_path, monkeypatch):
    monkeypatch.setenv(MAX_INPUT_BYTES_ENV, "1000000")
    p = tmp_path / "ok.csv.gz"
    p.write_bytes(gzip.compress(b"a,b\n" + b"1,x\n2,y\n" * 1000))
    df, src = read_table(p, name="train")
    assert df.shape == (2000, 2) and df.columns == ["a", "b"] and src.kind == "csv"


def test_latin1_gzip_is_transcoded_while_streaming(tmp_path):
    p = tmp_path / "l1.csv.gz"
    p.write_bytes(gzip.compress("x;name\n1;Jos\xe9\n2;Zo\xeb\n".encode("latin-1")))
    df, src = read_table(p, name="train")
    assert df.get_column("name").to_list() == ["José", "Zoë"] and src.encoding == "cp1252"


def test_bad_cap_setting_is_one_line(tmp_path, monkeypatch):
    p = tmp_path / "ok.csv.gz"
    p.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    monkeypatch.setenv(MAX_INPUT_BYTES_ENV, "lots")
    with pytest.raises(InputError, match=f"{MAX_INPUT_BYTES_ENV}='lots' is not a positive"):
        read_table(p, name="train")


# -- 2. too many columns ------------------------------------------------------------
def test_wide_csv_header_is_refused_by_the_cli(tmp_path):
    p = tmp_path / "wide.csv"
    n = readers.MAX_COLUMNS + 1
    p.write_text(",".join(f"c{i}" for i in range(n)) + "\n" + ",".join(["1"] * n) + "\n")
    out = tmp_path / "out"
    proc = run_cli("audit", "--test", p, "--target", "c0", "--out", out)
    assert_one_line_error(proc, str(p), f"{n:,} columns", f"{readers.MAX_COLUMNS:,}")
    assert not out.exists()


def test_wide_header_is_counted_before_the_body_is_parsed(tmp_path, monkeypatch):
    """A header longer than the 64 KB sniff, names quoted: counted in full, body untouched."""
    monkeypatch.setattr(readers, "MAX_COLUMNS", 2000)

    def no_parse(*args, **kwargs):
        raise AssertionError("the body was parsed")

    monkeypatch.setattr(readers.pl, "read_csv", no_parse)
    names = [f'"col,{i:03d}{"x" * 60}"' for i in range(2001)]
    p = tmp_path / "wide.csv.gz"
    p.write_bytes(gzip.compress((",".join(names) + "\n1\n").encode()))
    with pytest.raises(InputError, match="has 2,001 columns, more than the 2,000"):
        read_table(p, name="train")


def test_quoted_delimiters_and_cap_edge_stay_accepted(tmp_path, monkeypatch):
    monkeypatch.setattr(readers, "MAX_COLUMNS", 3)
    p = tmp_path / "ok.csv"
    p.write_text('"a,b",c,"d\ne"\n1,2,3\n')
    df, _ = read_table(p, name="train")
    assert df.width == 3


def test_wide_parquet_is_refused_from_its_metadata(tmp_path, monkeypatch):
    p = tmp_path / "wide.parquet"
    pl.DataFrame({f"c{i}": [i] for i in range(6)}).write_parquet(p)
    monkeypatch.setattr(readers, "MAX_COLUMNS", 5)

    def no_read(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setattr(readers.pl, "read_parquet", no_read)
    with pytest.raises(InputError, match=r"wide\.parquet has 6 columns, more than the 5"):
        read_table(p, name="test")
    monkeypatch.undo()  # the default cap and the real reader: the same file reads
    assert read_table(p, name="test")[0].width == 6


# -- 3. output paths checked before any work ----------------------------------------
def test_audit_out_an_existing_file(csv_files):
    blocker = csv_files / "report-here"
    blocker.write_text("precious")
    # A missing model would fail the audit itself; the --out check must come first.
    proc = run_cli(
        "audit",
        "--test",
        csv_files / "test.csv",
        "--target",
        "y",
        "--model",
        csv_files / "no-such-model.skops",
        "--out",
        blocker,
    )
    assert_one_line_error(proc, f"--out {blocker}", "existing file, not a folder")
    assert blocker.read_text() == "precious"


def test_audit_out_under_a_file(csv_files):
    blocker = csv_files / "plain"
    blocker.write_text("x")
    out = blocker / "sub" / "out"
    proc = run_cli("audit", "--test", csv_files / "test.csv", "--target", "y", "--out", out)
    assert_one_line_error(proc, str(out), f"{blocker} is a file")


@pytest.mark.parametrize("command", ["drift", "bench", "report"])
def test_other_commands_refuse_a_file_as_out(command, csv_files):
    blocker = csv_files / "blocker"
    blocker.write_text("x")
    if command == "drift":
        args = ["--reference", csv_files / "train.csv", "--current", csv_files / "test.csv"]
    elif command == "bench":
        args = ["--model", csv_files / "no-such.skops", "--data", csv_files / "test.csv"]
    else:
        report = csv_files / "report.json"
        report.write_text('{"checks": []}')
        args = [report]
    proc = run_cli(command, *args, "--out", blocker)
    assert_one_line_error(proc, f"--out {blocker}", "existing file")


def test_pack_and_card_and_anonymize_output_paths(csv_files):
    audit_dir = csv_files / "run"
    audit_dir.mkdir()
    (audit_dir / "report.json").write_text('{"checks": [], "inputs": {}}')
    blocker = csv_files / "blocker"
    blocker.write_text("x")

    proc = run_cli("pack", audit_dir, "-o", audit_dir)  # a folder, not a zip
    assert_one_line_error(proc, f"-o {audit_dir}", "is a folder")
    proc = run_cli("pack", audit_dir, "-o", blocker / "e.zip")
    assert_one_line_error(proc, f"{blocker} is a file")
    proc = run_cli("card", audit_dir / "report.json", "-o", blocker / "card.md")
    assert_one_line_error(proc, f"{blocker} is a file")
    (csv_files / "copy.csv").mkdir()
    proc = run_cli("anonymize", "--input", csv_files / "test.csv", "--out", csv_files / "copy.csv")
    assert_one_line_error(proc, f"--out {csv_files / 'copy.csv'}", "is a folder")
    assert sorted(p.name for p in audit_dir.iterdir()) == ["report.json"]

    ok = run_cli("pack", audit_dir, "-o", csv_files / "new" / "e.zip")  # clean: accepted
    assert ok.returncode == 0, ok.stderr
    assert zipfile.is_zipfile(csv_files / "new" / "e.zip")


def test_read_only_parent_is_refused_and_nothing_created(tmp_path, monkeypatch):
    """Run as root, chmod would not bite; the check asks os.access, so stub it."""
    import assay.io.paths as paths

    target = tmp_path / "a" / "b"
    monkeypatch.setattr(paths.os, "access", lambda p, mode: False)
    with pytest.raises(OutputPathError, match=f"folder {tmp_path} is not writable"):
        check_output_dir(target)
    with pytest.raises(OutputPathError, match="is not writable"):
        check_output_file(tmp_path / "e.zip", option="-o")
    assert not (tmp_path / "a").exists()


def test_usable_output_paths_are_accepted_and_not_created(tmp_path):
    assert check_output_dir(tmp_path / "x" / "y") == tmp_path / "x" / "y"
    assert check_output_dir(tmp_path) == tmp_path
    assert check_output_file(tmp_path / "z" / "e.zip", option="-o").name == "e.zip"
    assert check_output_file(tmp_path, option="-o", allow_dir=True) == tmp_path
    assert list(tmp_path.iterdir()) == []
