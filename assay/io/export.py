"""CSV exports that are safe to open in a spreadsheet.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
is read by Excel, LibreOffice and Google Sheets as a formula, and a formula can
run commands or send data away (CSV or "formula" injection). Column names and
category values come from users, so every text cell written here is
neutralized: such a cell gets a leading apostrophe, which spreadsheets show as
text and do not evaluate. Numbers stay numbers (``-3`` is written as ``-3``).

Example
-------
>>> neutralize_cell("=HYPERLINK(\\"http://x\\")")
'\\'=HYPERLINK("http://x")'
>>> neutralize_cell("-3"), neutralize_cell(-3), neutralize_cell("income")
("'-3", -3, 'income')
"""

from __future__ import annotations

import csv
import io
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FORMULA_PREFIXES", "csv_text", "neutralize_cell", "neutralize_frame", "write_csv"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet treat a cell as a formula."""

_LOOKALIKE_CHARS = {"＝": "=", "＋": "+", "－": "-", "＠": "@"}
_LOOKALIKES = str.maketrans(_LOOKALIKE_CHARS)
# The same first characters as one regex class, for whole columns at once.
_FORMULA_START = "^[" + re.escape("".join(FORMULA_PREFIXES) + "".join(_LOOKALIKE_CHARS)) + "]"


def neutralize_cell(value: Any) -> Any:
    """``value`` with a leading apostrophe when it is text a spreadsheet would evaluate.

    Full-width look-alikes (``＝``, ``＋``, ``－``, ``＠``), which some spreadsheets
    accept as formula starts, are treated the same way; other values are returned
    unchanged.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str) or not value:
        return value
    if value[0].translate(_LOOKALIKES) in FORMULA_PREFIXES:
        return "'" + value
    return value


def neutralize_frame(frame: Any) -> Any:
    """A polars DataFrame with :func:`neutralize_cell` applied to every text cell and name.

    The vectorized form of :func:`neutralize_cell` (the same first characters,
    from the same constants), for a frame about to be written with polars'
    own CSV writer: text and categorical columns get the apostrophe where a
    spreadsheet would evaluate the cell, column names too; numbers, dates and
    nulls are unchanged.

    >>> import polars as pl
    >>> out = neutralize_frame(pl.DataFrame({"=a": ["=1+1", "x", None], "n": [-3, 1, 2]}))
    >>> out.columns, out.get_column("'=a").to_list(), out.get_column("n").to_list()
    (["'=a", 'n'], ["'=1+1", 'x', None], [-3, 1, 2])
    """
    import polars as pl

    text_types = (pl.String, pl.Categorical, pl.Enum)
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, text_types) or dtype in text_types:
            text = col.cast(pl.String)
            col = pl.when(text.str.contains(_FORMULA_START)).then("'" + text).otherwise(text)
        exprs.append(col.alias(neutralize_cell(name)))
    return frame.select(exprs)


def _rows(data: Any) -> tuple[list[str], Iterable[Sequence[Any]]]:
    """Header and rows of a polars/pandas frame, a list of mappings, or (header, rows)."""
    if hasattr(data, "iter_rows") and hasattr(data, "columns"):  # polars
        return [str(c) for c in data.columns], data.iter_rows()
    if hasattr(data, "itertuples") and hasattr(data, "columns"):  # pandas
        return [str(c) for c in data.columns], data.itertuples(index=False, name=None)
    if isinstance(data, tuple) and len(data) == 2:
        names, rows = data
        return [str(c) for c in names], rows
    records = list(data)
    header: list[str] = []
    for r in records:
        if not isinstance(r, Mapping):
            raise TypeError("rows must be mappings, a DataFrame, or a (header, rows) pair")
        for k in r:
            if str(k) not in header:
                header.append(str(k))
    return header, ([r.get(k) for k in header] for r in records)


def _write(fh: Any, data: Any) -> None:
    header, rows = _rows(data)
    # RFC 4180 line ends: a CR or LF inside a cell is then always quoted, never a new row.
    writer = csv.writer(fh, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([neutralize_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if v is None else neutralize_cell(v) for v in row])


def csv_text(data: Any) -> str:
    """``data`` as CSV text with every text cell (header included) neutralized.

    ``data`` is a polars or pandas DataFrame, a list of mappings, or a
    ``(header, rows)`` pair.

    >>> csv_text([{"column": "=1+1", "share": 0.5}]).splitlines()
    ['column,share', "'=1+1,0.5"]
    """
    buf = io.StringIO()
    _write(buf, data)
    return buf.getvalue()


def write_csv(data: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``data`` (see :func:`csv_text`) to ``path`` atomically, as UTF-8 CSV.

    The file appears complete or not at all (written to a temporary file in the
    same folder, then renamed).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            _write(fh, data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
