"""Read tables from CSV, Parquet, pandas or Polars into a Polars frame.

CSV delimiter and encoding are detected (a UTF-8 byte-order mark is accepted).

Hostile or accidental giants are refused before they are parsed:

- a gzip-compressed CSV is decompressed in chunks and refused the moment it
  passes :data:`MAX_DECOMPRESSED_BYTES` (2 GiB; raise it with the environment
  variable ``ASSAY_MAX_INPUT_BYTES``, a number of bytes), so a small
  "decompression bomb" never expands in memory;
- a table with more than :data:`MAX_COLUMNS` columns (10,000) is refused from
  its CSV header or its Parquet metadata, before the body is read.

Compressed or non-UTF-8 CSV is streamed into a temporary UTF-8 file that the
parser reads (and that is deleted afterwards), never held whole in memory.

Example
-------
>>> import pandas as pd
>>> read_table(pd.DataFrame({"a": [1, 2]}), name="train").shape
(2, 1)
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from assay.errors import InputError

_SNIFF_BYTES = 64 * 1024
_CHUNK_BYTES = 1 << 20

MAX_DECOMPRESSED_BYTES = 2 * 1024**3
"""Most bytes a compressed CSV may expand to (default 2 GiB); the environment
variable :data:`MAX_INPUT_BYTES_ENV` overrides it."""

MAX_INPUT_BYTES_ENV = "ASSAY_MAX_INPUT_BYTES"
"""Environment variable that sets the decompression cap in bytes (e.g. ``8589934592``)."""

MAX_COLUMNS = 10_000
"""Most columns a CSV or Parquet file may have (default 10,000), checked on the
header or the Parquet metadata before the data is read."""


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


def max_decompressed_bytes() -> int:
    """The decompression cap: ``ASSAY_MAX_INPUT_BYTES`` if set, else :data:`MAX_DECOMPRESSED_BYTES`.

    Raises
    ------
    InputError
        When the environment variable is not a positive whole number.
    """
    raw = os.environ.get(MAX_INPUT_BYTES_ENV, "").strip()
    if not raw:
        return MAX_DECOMPRESSED_BYTES
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise InputError(
            f"{MAX_INPUT_BYTES_ENV}={raw!r} is not a positive whole number of bytes; "
            "unset it or give e.g. 4294967296 for 4 GiB"
        )
    return value


def _fmt_bytes(n: int) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n} bytes"


def _chunks(path: Path, name: str, *, gz: bool) -> Iterator[bytes]:
    """The file's bytes (decompressed when ``gz``) in chunks; a bomb stops at the cap."""
    cap = max_decompressed_bytes() if gz else None
    total = 0
    try:
        with gzip.open(path, "rb") if gz else path.open("rb") as fh:
            while chunk := fh.read(_CHUNK_BYTES):
                total += len(chunk)
                if cap is not None and total > cap:
                    raise InputError(
                        f"{name} file {path} decompresses to more than {_fmt_bytes(cap)} "
                        f"(the cap, {cap} bytes); if the file is genuine, raise the cap with "
                        f"{MAX_INPUT_BYTES_ENV}=<bytes>"
                    )
                yield chunk
    except (OSError, EOFError, zlib.error) as exc:
        raise InputError(f"{name} file {path} could not be read ({exc})") from None


def _too_many_columns(name: str, path: Path, count: int) -> InputError:
    return InputError(
        f"{name} file {path} has {count:,} columns, more than the {MAX_COLUMNS:,} Assay reads; "
        "keep only the columns the model and the checks need"
    )


def _count_header_columns(path: Path, name: str, *, gz: bool, encoding: str, delim: str) -> int:
    """Columns in the first CSV record, read in chunks (quoted delimiters not counted)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    special = re.compile(f'["\n{re.escape(delim)}]')
    count, in_quotes = 1, False
    for chunk in _chunks(path, name, gz=gz):
        text = decoder.decode(chunk)
        if not in_quotes and '"' not in text:  # fast path: the usual unquoted header
            end = text.find("\n")
            count += text.count(delim, 0, None if end < 0 else end)
            if end >= 0:
                return count
            continue
        for match in special.finditer(text):
            ch = match.group()
            if ch == '"':
                in_quotes = not in_quotes
            elif in_quotes:
                continue
            elif ch == "\n":
                return count
            else:
                count += 1
    return count


def _to_utf8_file(path: Path, name: str, *, gz: bool, encoding: str) -> Path:
    """Stream the (decompressed, transcoded) CSV into a temporary UTF-8 file; return its path."""
    transcode = encoding not in ("utf-8", "utf-8-sig")
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    fd, tmp = tempfile.mkstemp(prefix="assay-input-", suffix=".csv")
    try:
        with os.fdopen(fd, "wb") as out:
            started = False
            for chunk in _chunks(path, name, gz=gz):
                if not transcode:
                    out.write(chunk)
                    continue
                text = decoder.decode(chunk)
                if not started and text:
                    text, started = text.lstrip("\ufeff"), True
                out.write(text.encode("utf-8"))
            if transcode:
                out.write(decoder.decode(b"", final=True).encode("utf-8"))
    except BaseException:
        os.unlink(tmp)
        raise
    return Path(tmp)


def _read_csv(path: Path, name: str) -> tuple[pl.DataFrame, TableSource]:
    gz = path.suffix.lower() == ".gz"
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
        else:
            with path.open("rb") as fh:
                head = fh.read(_SNIFF_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
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
    n_columns = _count_header_columns(path, name, gz=gz, encoding=encoding, delim=delimiter)
    if n_columns > MAX_COLUMNS:
        raise _too_many_columns(name, path, n_columns)
    direct = encoding in ("utf-8", "utf-8-sig") and not gz
    staged = None if direct else _to_utf8_file(path, name, gz=gz, encoding=encoding)
    try:
        df = pl.read_csv(
            path if staged is None else staged,
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
    finally:
        if staged is not None:
            staged.unlink(missing_ok=True)
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
        n_columns = len(pl.read_parquet_schema(path))
        if n_columns > MAX_COLUMNS:
            raise _too_many_columns(name, path, n_columns)
        df = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError, ValueError) as exc:
        if isinstance(exc, InputError):
            raise
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
        file; Parquet as a folder, a glob or an fsspec URL
        (:mod:`assay.io.parquet_data`); or a pandas/Polars DataFrame.
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
    import pandas as pd  # a core dependency, imported here to keep `import assay` light

    if isinstance(data, pd.DataFrame):
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
        from assay.io.parquet_data import is_parquet_dataset, read_parquet_data

        if is_parquet_dataset(data):  # a folder, a glob or an fsspec URL, as the Dask engine
            df = read_parquet_data(data, name=name)
            if df.width > MAX_COLUMNS:
                raise _too_many_columns(name, Path(str(data)), df.width)
            if df.width == 0 or df.height == 0:
                raise InputError(f"{name} Parquet data {data} has no rows; check the path")
            return df, TableSource(name=name, path=str(data), kind="parquet")
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
