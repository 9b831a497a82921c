"""Read tables from CSV, Parquet, pandas or Polars into a Polars frame.

CSV delimiter and encoding are detected (a UTF-8 byte-order mark is accepted).

Example
-------
>>> import pandas as pd
>>> read_table(pd.DataFrame({"a": [1, 2]}), name="train").shape
(2, 1)
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from assay.errors import InputError

_SNIFF_BYTES = 64 * 1024


@dataclass(frozen=True)
class TableSource:
    """Where a table came from: a path with its file hash, or an in-memory frame."""

    name: str
    path: str | None
    kind: str  # csv | parquet | pandas | polars
    file_sha256: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    duplicate_columns: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None}
        out["duplicate_columns"] = list(self.duplicate_columns)
        return out


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _detect_encoding(head: bytes) -> str:
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start >= len(head) - 4:
            return "utf-8"
    try:  # Excel's CSV export on Windows, by far the most common non-UTF-8 case
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    return best.encoding if best is not None else "latin-1"


def _detect_delimiter(text: str) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = Counter({d: lines[0].count(d) for d in ",;\t|"})
        delim, n = counts.most_common(1)[0]
        return delim if n > 0 else ","


def _dedupe(names: list[str]) -> tuple[list[str], tuple[str, ...]]:
    """Rename repeated column names ``a, a`` to ``a, a__dup1``; return the repeated ones."""
    seen: Counter[str] = Counter()
    out = []
    for n in names:
        out.append(n if seen[n] == 0 else f"{n}__dup{seen[n]}")
        seen[n] += 1
    return out, tuple(n for n, k in seen.items() if k > 1)


def _read_csv(path: Path, name: str) -> tuple[pl.DataFrame, TableSource]:
    gz = path.suffix.lower() == ".gz"
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        else:
            with path.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES)
    except (OSError, EOFError) as exc:
        raise InputError(f"{name} file {path} could not be read ({exc})") from None
    if not head.strip():
        raise InputError(f"{name} file {path} is empty; give a CSV with a header row and data")
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(f"{name} file {path} is binary, not CSV text; give a CSV or Parquet file")
    encoding = _detect_encoding(head)
    text_head = head.decode(encoding, errors="replace")
    delimiter = _detect_delimiter(text_head)
    header_line = text_head.lstrip("\ufeff").splitlines()[0] if text_head.strip() else ""
    header = next(csv.reader([header_line], delimiter=delimiter), [])
    try:
        if encoding in ("utf-8", "utf-8-sig") and not gz:
            source: Any = path
        else:
            raw = gzip.decompress(path.read_bytes()) if gz else path.read_bytes()
            source = raw.decode(encoding, errors="replace").lstrip("\ufeff").encode("utf-8")
        df = pl.read_csv(
            source,
            separator=delimiter,
            infer_schema_length=10000,
            try_parse_dates=True,
            encoding="utf8-lossy",
        )
    except (pl.exceptions.PolarsError, OSError, ValueError, EOFError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{name} file {path} could not be read as CSV ({first}); "
            "check that it is a delimited text file with a header row"
        ) from None
    if df.columns and df.columns[0].startswith("\ufeff"):
        df = df.rename({df.columns[0]: df.columns[0].lstrip("\ufeff")})
    duplicates: tuple[str, ...] = ()
    if len(header) == df.width and len(set(header)) < len(header):
        names, duplicates = _dedupe([h.strip('"') for h in header])
        df.columns = names
    src = TableSource(
        name=name,
        path=str(path),
        kind="csv",
        file_sha256=_file_sha256(path),
        encoding=encoding,
        delimiter=delimiter,
        duplicate_columns=duplicates,
    )
    return df, src


def _read_parquet(path: Path, name: str) -> tuple[pl.DataFrame, TableSource]:
    try:
        df = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InputError(
            f"{name} file {path} could not be read as Parquet ({first}); "
            "check that the file is complete and really Parquet"
        ) from None
    src = TableSource(name=name, path=str(path), kind="parquet", file_sha256=_file_sha256(path))
    return df, src


def read_table(data: Any, *, name: str) -> tuple[pl.DataFrame, TableSource]:
    """Read ``data`` (a path, pandas or Polars frame) into a Polars frame.

    Parameters
    ----------
    data
        Path to a ``.csv``/``.tsv``/``.txt`` (optionally ``.gz``) or ``.parquet``
        file, or a pandas/Polars DataFrame.
    name
        Which input this is (``train``, ``test``, ``current``), used in errors.

    Returns
    -------
    frame, source
        The table and a record of where it came from.
    """
    if isinstance(data, pl.DataFrame):
        return data, TableSource(name=name, path=None, kind="polars")
    if isinstance(data, pl.LazyFrame):
        return read_table(data.collect(), name=name)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a core dependency
        pd = None
    if pd is not None and isinstance(data, pd.DataFrame):
        cols, duplicates = _dedupe([str(c) for c in data.columns])
        pdf = data.reset_index(drop=True)
        pdf.columns = cols
        try:
            df = pl.from_pandas(pdf)
        except Exception as exc:
            obj = pdf.select_dtypes(include="object").columns
            pdf = pdf.copy()
            for c in obj:
                pdf[c] = pdf[c].map(lambda v: None if v is None else str(v))
            try:
                df = pl.from_pandas(pdf)
            except Exception:
                raise InputError(f"{name} frame could not be converted ({exc})") from None
        return df, TableSource(name=name, path=None, kind="pandas", duplicate_columns=duplicates)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if not path.exists():
            raise InputError(f"{name} file {path} does not exist; check the path")
        if path.is_dir():
            raise InputError(f"{name} path {path} is a directory; give a CSV or Parquet file")
        suffixes = [s.lower() for s in path.suffixes]
        if ".parquet" in suffixes or ".pq" in suffixes:
            df, src = _read_parquet(path, name)
        else:
            with path.open("rb") as fh:
                magic = fh.read(4)
            if magic == b"PAR1":
                df, src = _read_parquet(path, name)
            else:
                df, src = _read_csv(path, name)
        if df.width == 0 or df.height == 0:
            raise InputError(
                f"{name} file {path} has no data rows; give a file with a header and rows"
            )
        return df, src
    raise InputError(
        f"{name} must be a file path, a pandas DataFrame or a Polars DataFrame, "
        f"not {type(data).__name__}"
    )
