"""Column summaries computed once, and every drift statistic derived from them.

Two engines produce the same summaries (:mod:`assay.engine._summary`):

- :class:`LocalEngine` — Polars and NumPy over two in-memory tables, one
  vectorised pass per column (the default, and what ``assay.audit`` uses);
- :class:`~assay.engine._dask.DaskEngine` — the same per-chunk functions run
  on each partition of partitioned Parquet on a Dask cluster, merged in a
  tree (``pip install 'assay[dask]'``; imported only when asked for).

Statistics (:mod:`assay.engine._stats`) read summaries only, so both engines
give the same numbers up to the documented sketch tolerance.

Checks call :func:`engine_for`: they get the context's engine
(``AuditContext.engine``, which ``assay drift --engine dask`` and a Dask audit
set), otherwise a :class:`LocalEngine` over the audit's frames.

Example
-------
>>> import polars as pl
>>> eng = LocalEngine(pl.DataFrame({"c": ["a", "b"]}), pl.DataFrame({"c": ["a", "a"]}))
>>> r, c = eng.summarize([ColumnSpec("c", "c", "categorical")])["c"]
>>> round(compare_categorical(r, c).jensenshannon, 3)
0.465
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import polars as pl

from assay.engine._columns import ColumnSpec
from assay.engine._local import LocalEngine
from assay.engine._stats import (
    CategoricalComparison,
    NumericComparison,
    category_chart,
    compare_categorical,
    compare_numeric,
)
from assay.engine._summary import (
    LOW_CARDINALITY,
    CategoricalSummary,
    NumericSummary,
    Summary,
    numeric_as_categorical,
)

if TYPE_CHECKING:
    from assay.core.context import AuditContext


class Engine(Protocol):
    """What the drift checks ask of an engine."""

    name: str

    @property
    def rows(self) -> tuple[int, int]: ...

    def columns(self, side: str) -> list[str]: ...

    def summarize(self, specs: Any) -> dict[str, tuple[Summary, Summary]]: ...

    def sample(
        self, columns: Any, n: int, seed: int
    ) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]: ...


def engine_for(ctx: AuditContext, reference: str) -> Engine:
    """The context's engine (``ctx.engine``), or a :class:`LocalEngine` over the
    ``reference`` split and current."""
    if ctx.engine is not None:
        return ctx.engine
    return LocalEngine(ctx.frame(reference), ctx.frame("current"))


__all__ = [
    "LOW_CARDINALITY",
    "CategoricalComparison",
    "CategoricalSummary",
    "ColumnSpec",
    "Engine",
    "LocalEngine",
    "NumericComparison",
    "NumericSummary",
    "Summary",
    "category_chart",
    "compare_categorical",
    "compare_numeric",
    "engine_for",
    "numeric_as_categorical",
]
