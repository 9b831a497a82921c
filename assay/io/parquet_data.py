"""Parquet data named by a path, a folder, a glob or an fsspec URL, in the io layer.

Both audit engines read the same inputs: the local engine through
:func:`assay.io.readers.read_table` (which calls :func:`read_parquet_data` for a
folder, a glob or a URL), the Dask engine row group by row group
(:mod:`assay.engine._parquet`, which lists the files with :func:`parquet_files`).

- a folder is searched recursively for ``*.parquet`` / ``*.pq`` files, read in
  sorted path order (so a partitioned dataset ``year=2024/part-0.parquet``...
  reads as one table; the partition keys in the folder names are not added as
  columns);
- a glob (``data/*.parquet``, ``data/**/*.parquet``) matches files, sorted;
- an fsspec URL (``file://``, ``memory://``, ``s3://`` with s3fs installed...)
  is a file, a folder or a glob on that filesystem.

Example
-------
>>> import polars as pl, tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> for i in range(2):
...     pl.DataFrame({"x": [i, i]}).write_parquet(d / f"part-{i}.parquet")
>>> read_parquet_data(str(d / "*.parquet"), name="test").get_column("x").to_list()
[0, 0, 1, 1]
"""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Any, cast

import polars as pl

from assay.errors import InputError

PARQUET_SUFFIXES = (".parquet", ".pq")


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


class parquet_file:
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


def is_parquet_dataset(data: Any) -> bool:
    """Whether ``data`` names Parquet that is not one local file: an fsspec URL, a glob or
    a folder (what :func:`read_parquet_data` reads). An existing local file is never one
    (``data[1].csv`` is that file, not a glob)."""
    if not isinstance(data, (str, os.PathLike)):
        return False
    text = str(data)
    if is_url(text):
        return True
    if Path(text).is_file():
        return False
    return any(ch in text for ch in "*?[") or Path(text).is_dir()


def read_parquet_data(spec: str | os.PathLike[str], *, name: str) -> pl.DataFrame:
    """Every row of the Parquet files ``spec`` names (:func:`parquet_files`), in order, as
    one frame; a one-line :class:`InputError` naming the file for an unreadable file, or
    for files whose columns do not line up."""
    frames = []
    for path in parquet_files(spec, name=name):
        try:
            with parquet_file(path, name=name) as f:
                frames.append(cast(pl.DataFrame, pl.from_arrow(f.read())))
        except InputError:
            raise
        except Exception as exc:
            raise InputError(
                f"{name} file {path} could not be read as Parquet ({_first(exc)}); check "
                "that the file is complete and really Parquet"
            ) from None
    try:
        return pl.concat(frames, how="vertical_relaxed")
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise InputError(
            f"{name} Parquet data {spec}: its files do not have the same columns "
            f"({_first(exc)}); give files of one table"
        ) from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


__all__ = [
    "PARQUET_SUFFIXES",
    "is_parquet_dataset",
    "is_parquet_path",
    "is_url",
    "parquet_file",
    "parquet_files",
    "read_parquet_data",
    "url_filesystem",
]
