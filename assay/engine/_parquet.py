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

import hashlib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import polars as pl

from assay.engine._columns import hash_sample
from assay.errors import InputError
from assay.io.parquet_data import (
    PARQUET_SUFFIXES,
    is_parquet_path,
    is_url,
    parquet_file,
    parquet_files,
    url_filesystem,
)

_parquet_file = parquet_file  # its name here before the file listing moved to assay.io


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
        self.columns: list[str] = self.parts[0].names()
        self._urls = any(is_url(f) for f in self.files)

    def column(self, name: str) -> pl.DataFrame:
        """All values of one column, as a one-column frame."""
        try:
            if self._urls:  # fsspec URLs: row groups through fsspec (Polars reads paths)
                return pl.concat([p.load([name]) for p in self.parts], how="vertical_relaxed")
            return pl.scan_parquet(self.files).select(name).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(
                f"column {name!r} of {self.name} {self.spec} could not be read ({first})"
            ) from None

    def head(self, rows: int) -> pl.DataFrame:
        """The first ``rows`` rows."""
        if self._urls:
            return parquet_head(self.parts, rows).head(rows)
        return pl.scan_parquet(self.files).head(rows).collect()

    def sample(self, columns: Sequence[str], n: int, seed: int) -> pl.DataFrame:
        """The ``n`` rows with the smallest content hash, one row group at a time."""
        kept: pl.DataFrame | None = None
        for part in self.parts:
            chunk = hash_sample(part.load(columns), n, seed)
            kept = chunk if kept is None else merge_samples([kept, chunk], n)
        assert kept is not None
        return kept


__all__ = [
    "PARQUET_SUFFIXES",
    "ParquetPart",
    "ParquetTable",
    "file_sha256",
    "is_parquet_path",
    "is_url",
    "merge_samples",
    "parquet_files",
    "parquet_head",
    "parquet_parts",
    "url_filesystem",
]
