"""The in-process engine: Polars and NumPy over two tables.

Each numeric column is sorted once per table (NumPy's vectorised sort); the
first-pass summary, the edges and the second-pass counts all come from that
sorted array, one column at a time so that only one sorted copy is held.
Categorical columns are one Polars ``value_counts`` each. No Python loop
runs over rows. A table is a Polars frame in memory, or a
:class:`~assay.engine._parquet.ParquetTable` read one column at a time (so
the two tables are never in memory together).

Example
-------
>>> import polars as pl
>>> ref = pl.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})
>>> cur = pl.DataFrame({"x": [2.0, 3.0, 4.0, 5.0]})
>>> eng = LocalEngine(ref, cur)
>>> r, c = eng.summarize([ColumnSpec("x", "x", "numeric")])["x"]
>>> r.n, c.n, int(c.le[-1])
(4, 4, 4)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from assay.engine._columns import ColumnSpec, category_counts, hash_sample, numeric_values
from assay.engine._parquet import ParquetTable
from assay.engine._summary import Summary, edges_for, finite_sorted, numeric_partial, with_counts

Table = pl.DataFrame | ParquetTable


def _column(table: Table, name: str) -> pl.DataFrame:
    return table.column(name) if isinstance(table, ParquetTable) else table


class LocalEngine:
    """Summaries of a reference and a current table, in this process."""

    name = "local"

    def __init__(self, reference: Table, current: Table) -> None:
        self.reference = reference
        self.current = current

    @property
    def rows(self) -> tuple[int, int]:
        return self.reference.height, self.current.height

    def columns(self, side: str) -> list[str]:
        return list((self.reference if side == "reference" else self.current).columns)

    def summarize(self, specs: Sequence[ColumnSpec]) -> dict[str, tuple[Summary, Summary]]:
        """``{name: (reference summary, current summary)}``, numeric ones counted on edges."""
        out: dict[str, tuple[Summary, Summary]] = {}
        for spec in specs:
            ref, cur = _column(self.reference, spec.column), _column(self.current, spec.column)
            if spec.kind == "categorical":
                out[spec.name] = (category_counts(ref, spec), category_counts(cur, spec))
                continue
            r_sorted, r_missing = finite_sorted(numeric_values(ref, spec))
            c_sorted, c_missing = finite_sorted(numeric_values(cur, spec))
            r = replace(numeric_partial(r_sorted, presorted=True), n_missing=r_missing)
            c = replace(numeric_partial(c_sorted, presorted=True), n_missing=c_missing)
            edges = edges_for(r, c)
            out[spec.name] = (with_counts(r, r_sorted, edges), with_counts(c, c_sorted, edges))
        return out

    def sample(
        self, columns: Sequence[str], n: int, seed: int
    ) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]:
        """Up to ``n`` rows of each table (content-hash order, see :func:`hash_sample`),
        and the row counts they were drawn from."""
        ref, cur = (
            t.sample(columns, n, seed)
            if isinstance(t, ParquetTable)
            else hash_sample(t.select(columns), n, seed)
            for t in (self.reference, self.current)
        )
        return ref, cur, self.rows
