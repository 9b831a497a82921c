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
from typing import Any

import polars as pl

from assay.engine._columns import hash_sample
from assay.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class ParquetPart:
    """One row group of one Parquet file."""

    path: str
    row_group: int
    rows: int

    def load(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        import pyarrow.parquet as pq

        with pq.ParquetFile(self.path) as f:
            table = f.read_row_group(self.row_group, columns=list(columns) if columns else None)
        return pl.from_arrow(table)  # type: ignore[return-value]


def is_parquet_path(data: Any) -> bool:
    """Whether ``data`` names Parquet: a folder, a glob, or a ``.parquet`` file."""
    if not isinstance(data, (str, os.PathLike)):
        return False
    text = str(data)
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
    if any(ch in text for ch in "*?["):
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


def parquet_parts(spec: str | os.PathLike[str], *, name: str) -> list[ParquetPart]:
    """Every row group of the Parquet files named by ``spec``."""
    import pyarrow.parquet as pq

    parts = []
    for path in parquet_files(spec, name=name):
        try:
            with pq.ParquetFile(path) as f:
                meta = f.metadata
                parts += [
                    ParquetPart(path, i, meta.row_group(i).num_rows)
                    for i in range(meta.num_row_groups)
                ]
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
