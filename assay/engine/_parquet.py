"""Parquet tables read a column or a row group at a time.

A :class:`ParquetTable` is one table stored as Parquet (a file, a folder of
files or a glob). The local engine reads it one *column* at a time (a
column's summary needs all of its values, sorted, but never the other
columns), so two tables are never held in memory at once; the domain
classifier's sample is taken one *row group* at a time. The Dask engine uses
the same row groups (:class:`ParquetPart`) as its partitions.

Example
-------
>>> import polars as pl, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> pl.DataFrame({"x": [1.0, 2.0, 3.0]}).write_parquet(d / "t.parquet")
>>> t = ParquetTable(d / "t.parquet", name="reference")
>>> t.height, t.columns, t.column("x").get_column("x").to_list()
(3, ['x'], [1.0, 2.0, 3.0])
"""

from __future__ import annotations

import glob
import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import polars as pl

from assay.engine._columns import hash_sample
from assay.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class ParquetPart:
    """One row group of one Parquet file (a local path, or an fsspec URL)."""

    path: str
    row_group: int
    rows: int

    def load(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        cols = list(columns) if columns else None
        with _parquet_file(self.path, name="Parquet", where=" on a Dask worker") as f:
            table = f.read_row_group(self.row_group, columns=cols)
        return cast(pl.DataFrame, pl.from_arrow(table))  # an Arrow table gives a DataFrame

    def schema(self) -> dict[str, pl.DataType]:
        """Column names and Polars dtypes of the file."""
        if not is_url(self.path):
            return dict(pl.read_parquet_schema(self.path))
        with _parquet_file(self.path, name="Parquet") as f:
            empty = f.schema_arrow.empty_table()
        return dict(cast(pl.DataFrame, pl.from_arrow(empty)).schema)  # a table: a DataFrame

    def names(self) -> list[str]:
        with _parquet_file(self.path, name="Parquet") as f:
            return list(f.schema_arrow.names)


def is_url(text: Any) -> bool:
    """Whether ``text`` is an fsspec URL (``protocol://...``), ``file://`` included."""
    return isinstance(text, str) and "://" in text and text.split("://", 1)[0].isidentifier()


def url_filesystem(url: str, *, name: str) -> tuple[Any, str]:
    """The fsspec filesystem and path of ``url``; a one-line error naming the URL and the
    package to install when the protocol is unknown or its package is missing."""
    try:
        import fsspec
        from fsspec.registry import known_implementations
    except ImportError:
        raise InputError(f"{name} URL {url} needs fsspec to be read: pip install fsspec") from None
    protocol = url.split("://", 1)[0]
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError:
        impl = known_implementations.get(protocol, {})
        package = str(impl.get("class", protocol)).split(".")[0]
        raise InputError(
            f"{name} URL {url}: protocol {protocol!r} needs the {package} package, which "
            f"is not installed: pip install {package}"
        ) from None
    except ValueError as exc:
        if "Protocol not known" not in str(exc):
            raise
        raise InputError(
            f"{name} URL {url}: protocol {protocol!r} is not one fsspec knows; give a local "
            "path, or a URL of an fsspec filesystem (s3://, gs://, abfs://... with its "
            "package, such as s3fs, installed)"
        ) from None


class _parquet_file:
    """``pyarrow.parquet.ParquetFile`` of a local path or an fsspec URL, as a context."""

    def __init__(self, path: str, *, name: str, where: str = "") -> None:
        self.path, self.name, self.where = path, name, where
        self._fh: Any = None

    def __enter__(self) -> Any:
        import pyarrow.parquet as pq

        try:
            if is_url(self.path):
                fs, inner = url_filesystem(self.path, name=self.name)
                self._fh = fs.open(inner, "rb")
                self._pf = pq.ParquetFile(self._fh)
            else:
                self._pf = pq.ParquetFile(self.path)
        except FileNotFoundError:
            self.__exit__()
            raise InputError(
                f"{self.name} file {self.path} could not be found{self.where}; the workers "
                "must reach the data at that path or URL (a memory:// URL lives in one "
                "process: use a threads-only cluster, or shared storage)"
            ) from None
        except BaseException:
            self.__exit__()
            raise
        return self._pf

    def __exit__(self, *exc: Any) -> None:
        pf = getattr(self, "_pf", None)
        if pf is not None:
            pf.close()
        if self._fh is not None:
            self._fh.close()


def is_parquet_path(data: Any) -> bool:
    """Whether ``data`` names Parquet: a folder, a glob, or a ``.parquet`` file (a URL
    counts as Parquet; it is read as such, with an error if it is not)."""
    if not isinstance(data, (str, os.PathLike)):
        return False
    text = str(data)
    if is_url(text):
        return True
    if any(ch in text for ch in "*?[") or Path(text).is_dir():
        return True
    path = Path(text)
    if any(s.lower() in PARQUET_SUFFIXES for s in path.suffixes):
        return True
    if path.is_file():
        with path.open("rb") as fh:
            return fh.read(4) == b"PAR1"
    return False


def parquet_files(spec: str | os.PathLike[str], *, name: str) -> list[str]:
    """The Parquet files named by a file, a folder (searched recursively) or a glob."""
    text = str(spec)
    if is_url(text):
        files = _url_files(text, name=name)
    elif any(ch in text for ch in "*?["):
        files = sorted(glob.glob(text, recursive=True))
    elif Path(text).is_dir():
        files = sorted(
            str(p) for p in Path(text).rglob("*") if p.suffix.lower() in PARQUET_SUFFIXES
        )
    elif Path(text).exists():
        files = [text]
    else:
        raise InputError(f"{name} path {text} does not exist; check the path")
    if not files:
        raise InputError(
            f"{name} path {text} matches no Parquet file; give a file, a folder of "
            "*.parquet files or a glob such as 'data/*.parquet'"
        )
    return files


def _url_files(url: str, *, name: str) -> list[str]:
    """The Parquet files an fsspec URL names (a file, a folder searched recursively, or a
    glob), as URLs."""
    fs, path = url_filesystem(url, name=name)
    if any(ch in path for ch in "*?["):
        found = fs.glob(path)
    elif fs.isdir(path):
        found = [p for p in fs.find(path) if Path(p).suffix.lower() in PARQUET_SUFFIXES]
    elif fs.exists(path):
        found = [path]
    else:
        raise InputError(f"{name} URL {url} does not exist; check the URL")
    return sorted(fs.unstrip_protocol(p) for p in found)


def parquet_parts(spec: str | os.PathLike[str], *, name: str) -> list[ParquetPart]:
    """Every row group of the Parquet files named by ``spec`` (a path or an fsspec URL)."""
    parts = []
    for path in parquet_files(spec, name=name):
        try:
            with _parquet_file(path, name=name) as f:
                meta = f.metadata
                parts += [
                    ParquetPart(path, i, meta.row_group(i).num_rows)
                    for i in range(meta.num_row_groups)
                ]
        except InputError:
            raise
        except Exception as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(
                f"{name} file {path} could not be read as Parquet ({first}); check that "
                "the file is complete and really Parquet"
            ) from None
    return parts


def parquet_head(parts: Sequence[ParquetPart], rows: int) -> pl.DataFrame:
    """The first ``rows`` rows or more (whole row groups), for column types and dtypes."""
    frames, total = [], 0
    for p in parts:
        frames.append(p.load())
        total += frames[-1].height
        if total >= rows:
            break
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def merge_samples(frames: Iterable[pl.DataFrame], n: int) -> pl.DataFrame:
    """The ``n`` rows with the smallest ``__hash__`` among samples of several chunks."""
    both = pl.concat(list(frames), how="vertical_relaxed")
    return both.sort("__hash__", maintain_order=True).head(n)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ParquetTable:
    """A Parquet table the local engine reads a column (or a row group) at a time."""

    def __init__(self, spec: str | os.PathLike[str], *, name: str) -> None:
        self.spec = str(spec)
        self.name = name
        self.parts = parquet_parts(spec, name=name)
        self.files = sorted({p.path for p in self.parts})
        self.height = sum(p.rows for p in self.parts)
        if self.height == 0:
            raise InputError(f"{name} Parquet data {spec} has no rows")
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.files[0]) as f:
            self.columns: list[str] = list(f.schema_arrow.names)

    def column(self, name: str) -> pl.DataFrame:
        """All values of one column, as a one-column frame."""
        try:
            return pl.scan_parquet(self.files).select(name).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(
                f"column {name!r} of {self.name} {self.spec} could not be read ({first})"
            ) from None

    def head(self, rows: int) -> pl.DataFrame:
        """The first ``rows`` rows."""
        return pl.scan_parquet(self.files).head(rows).collect()

    def sample(self, columns: Sequence[str], n: int, seed: int) -> pl.DataFrame:
        """The ``n`` rows with the smallest content hash, one row group at a time."""
        kept: pl.DataFrame | None = None
        for part in self.parts:
            chunk = hash_sample(part.load(columns), n, seed)
            kept = chunk if kept is None else merge_samples([kept, chunk], n)
        assert kept is not None
        return kept
