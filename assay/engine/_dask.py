"""The Dask engine: the same summaries, computed per partition on a cluster.

Each partition (one Parquet row group, or one scattered chunk of an
in-memory frame) is read on a worker and reduced to small summaries
(:mod:`assay.engine._columns`); summaries are merged in a tree of fan-in
:data:`FAN_IN`, so no worker ever holds more than one partition of rows plus
a few summaries. Numeric columns take two passes: the first gives the
sketches that fix the edges, the second the counts on those edges.

The statistics then come from exactly the same functions as the local
engine's. They agree with it exactly on categorical columns and on numeric
columns with at most 2,000 distinct values; on other numeric columns the
edges come from merged quantile sketches instead of one exact sort, which
moves the statistics by a bin's share at most (tested: Wasserstein within
2% + 0.002, KS within 0.002, PSI within 0.005, verdicts identical).

``dask[distributed]`` is an optional extra (``pip install 'assay[dask]'``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl

from assay.engine._columns import ColumnSpec, first_pass, hash_sample, second_pass
from assay.engine._parquet import ParquetPart, merge_samples
from assay.engine._summary import (
    NumericSummary,
    Summary,
    add_counts,
    edges_for,
    merge,
)
from assay.errors import InputError, MissingExtraError

FAN_IN = 8
"""Summaries merged by one task of the reduction tree."""

CHUNK_ROWS = 250_000
"""Rows per partition when an in-memory frame is sent to the cluster."""


def _need_dask() -> None:
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise MissingExtraError("dask[distributed]", "dask", "the dask engine") from None


def _load(part: Any, columns: Sequence[str]) -> pl.DataFrame:
    if isinstance(part, ParquetPart):
        return part.load(columns)
    return part.select(list(columns))


# -- tasks (run on workers) --------------------------------------------------------------


def _task_first(part: Any, specs: Sequence[ColumnSpec]) -> tuple[int, dict[str, Summary]]:
    df = _load(part, sorted({s.column for s in specs}))
    return df.height, first_pass(df, specs)


def _task_merge_first(*items: tuple[int, dict[str, Summary]]) -> tuple[int, dict[str, Summary]]:
    rows = sum(i[0] for i in items)
    out = dict(items[0][1])
    for _, d in items[1:]:
        for k, v in d.items():
            out[k] = merge(out[k], v)
    return rows, out


def _task_second(
    part: Any, specs: Sequence[ColumnSpec], edges: dict[str, np.ndarray]
) -> dict[str, NumericSummary]:
    df = _load(part, sorted({s.column for s in specs if s.name in edges}))
    return second_pass(df, specs, edges)


def _task_merge_second(*items: dict[str, NumericSummary]) -> dict[str, list[NumericSummary]]:
    out: dict[str, list[NumericSummary]] = {}
    for d in items:
        for k, v in d.items():
            out.setdefault(k, []).extend(v if isinstance(v, list) else [v])
    return {k: [add_counts(v[0], v)] if len(v) > 1 else v for k, v in out.items()}


def _task_sample(part: Any, columns: Sequence[str], n: int, seed: int) -> pl.DataFrame:
    return hash_sample(_load(part, columns), n, seed)


def _task_merge_sample(n: int, *frames: pl.DataFrame) -> pl.DataFrame:
    return merge_samples(frames, n)


def _tree(leaves: list[Any], merge_fn: Any, *, prefix: tuple = ()) -> Any:
    import dask

    level = leaves
    while len(level) > 1:
        level = [
            dask.delayed(merge_fn, pure=True)(*prefix, *level[i : i + FAN_IN])
            for i in range(0, len(level), FAN_IN)
        ]
    return level[0]


# -- the engine ------------------------------------------------------------------------


class DaskEngine:
    """Summaries of a reference and a current table partitioned on a Dask cluster.

    Parameters
    ----------
    reference, current
        Lists of partitions: :class:`ParquetPart` (see :func:`parquet_parts`)
        or Polars frames (chunks of an in-memory table; they are scattered).
    client
        A ``distributed.Client``.
    """

    name = "dask"

    def __init__(self, reference: Sequence[Any], current: Sequence[Any], client: Any) -> None:
        _need_dask()
        if not reference or not current:
            raise InputError("the dask engine needs at least one partition of each table")
        self.client = client
        self._parts = {
            "reference": self._scatter(reference),
            "current": self._scatter(current),
        }
        self._rows = (self._count(reference), self._count(current))
        self._columns = {
            "reference": self._names(reference[0]),
            "current": self._names(current[0]),
        }
        self.partitions = (len(reference), len(current))

    def _scatter(self, parts: Sequence[Any]) -> list[Any]:
        frames = [p for p in parts if isinstance(p, pl.DataFrame)]
        if not frames:
            return list(parts)
        futures = iter(self.client.scatter(frames))
        return [next(futures) if isinstance(p, pl.DataFrame) else p for p in parts]

    @staticmethod
    def _count(parts: Sequence[Any]) -> int:
        return sum(p.rows if isinstance(p, ParquetPart) else p.height for p in parts)

    @staticmethod
    def _names(part: Any) -> list[str]:
        if isinstance(part, ParquetPart):
            return part.names()
        return list(part.columns)

    @property
    def rows(self) -> tuple[int, int]:
        return self._rows

    def columns(self, side: str) -> list[str]:
        return list(self._columns[side])

    def _compute(self, *objs: Any) -> list[Any]:
        futures = self.client.compute(list(objs))
        return self.client.gather(futures)

    def summarize(self, specs: Sequence[ColumnSpec]) -> dict[str, tuple[Summary, Summary]]:
        """``{name: (reference summary, current summary)}``, as :class:`LocalEngine`'s."""
        import dask

        specs = list(specs)
        if not specs:
            return {}
        first = []
        for side in ("reference", "current"):
            leaves = [dask.delayed(_task_first, pure=True)(p, specs) for p in self._parts[side]]
            first.append(_tree(leaves, _task_merge_first))
        (_, ref), (_, cur) = self._compute(*first)
        edges = {
            s.name: edges_for(ref[s.name], cur[s.name])
            for s in specs
            if s.kind == "numeric" and ref[s.name].n and cur[s.name].n
        }
        if edges:
            second = []
            for side in ("reference", "current"):
                leaves = [
                    dask.delayed(_task_second, pure=True)(p, specs, edges)
                    for p in self._parts[side]
                ]
                second.append(_tree(leaves, _task_merge_second))
            ref_counts, cur_counts = self._compute(*second)
            for name in edges:
                ref[name] = add_counts(ref[name], _as_list(ref_counts[name]))
                cur[name] = add_counts(cur[name], _as_list(cur_counts[name]))
        return {s.name: (ref[s.name], cur[s.name]) for s in specs}

    def sample(
        self, columns: Sequence[str], n: int, seed: int
    ) -> tuple[pl.DataFrame, pl.DataFrame, tuple[int, int]]:
        """Up to ``n`` rows of each table: the smallest content hashes, as the local engine's."""
        import dask

        out = []
        for side in ("reference", "current"):
            leaves = [
                dask.delayed(_task_sample, pure=True)(p, list(columns), n, seed)
                for p in self._parts[side]
            ]
            out.append(_tree(leaves, _task_merge_sample, prefix=(n,)))
        ref, cur = self._compute(*out)
        return ref, cur, self.rows


def _as_list(v: Any) -> list[NumericSummary]:
    return v if isinstance(v, list) else [v]


def split_frame(df: pl.DataFrame, rows: int = CHUNK_ROWS) -> list[pl.DataFrame]:
    """An in-memory frame as partitions of ``rows`` rows."""
    if df.height == 0:
        return [df]
    return [df.slice(i, rows) for i in range(0, df.height, rows)]


def start_client(scheduler: Any = None) -> tuple[Any, Callable[[], None]]:
    """A ``distributed.Client`` and a function that releases what was started.

    ``scheduler`` is an address (``tcp://host:8786``), a ``Client`` (used and
    left open), or ``None`` to start a ``LocalCluster`` of worker processes
    (one thread each) that the release function shuts down.
    """
    _need_dask()
    from distributed import Client, LocalCluster

    if scheduler is not None and not isinstance(scheduler, str):
        return scheduler, lambda: None
    if scheduler:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"could not connect to the Dask scheduler at {scheduler} ({exc}); "
                "check the address, or omit --scheduler to start a local cluster"
            ) from None
        return client, client.close
    cluster = LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None)
    client = Client(cluster)

    def close() -> None:
        client.close()
        cluster.close()

    return client, close
