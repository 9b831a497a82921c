"""``assay.drift.drift``: compare a current table with a reference, in process or on Dask.

It sits beside :mod:`assay.core.audit`, whose assembly of the
:class:`~assay.core.audit_result.AuditResult` it shares (:func:`~assay.core.audit.assemble`),
and runs its checks through the shared loop (:func:`assay.core.runner.run`). Only the
reading differs: two tables (kept on disk when they are Parquet, or split into Dask
partitions) instead of train/test/current and a model. ``assay.drift`` re-exports
:func:`drift` under its old name.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import polars as pl

from assay.core import runner
from assay.core.audit import as_list, assemble
from assay.core.audit_result import AuditResult
from assay.core.config import AuditConfig
from assay.core.context import AuditContext
from assay.core.registry import CheckSpec, all_checks, get_check
from assay.core.runner import ProgressFn
from assay.errors import ConfigError, InputError, SchemaError
from assay.io.readers import TableSource, read_table
from assay.io.schema import ColumnType, Schema, infer_column_type, infer_schema, suggest

ENGINES = ("local", "dask")
SCHEMA_ROWS = 50_000
"""Rows read (whole row groups) to infer column types with the Dask engine."""
SIDES = ("reference", "current")


@dataclass
class _Sides:
    """The two tables as the checks see them: a frame of each (whole, or its head when
    the rows stay on disk or on the cluster), their sources, and the engine that holds
    the rows (``None``: the frames themselves)."""

    frames: dict[str, pl.DataFrame]
    sources: dict[str, TableSource]
    engine: Any = None
    partitions: dict[str, int] = field(default_factory=dict)
    types: dict[str, ColumnType] = field(default_factory=dict)

    def rows(self) -> dict[str, int]:
        if self.engine is not None:
            return dict(zip(SIDES, self.engine.rows, strict=True))
        return {name: self.frames[name].height for name in SIDES}

    def columns(self, name: str) -> list[str]:
        if self.engine is not None:
            return list(self.engine.columns(name))
        return self.frames[name].columns


def _local_side(data: Any, name: str) -> tuple[Any, pl.DataFrame, TableSource]:
    """A table for the local engine, a frame of it for column types, and its source.

    Parquet (a file, a folder or a glob) stays on disk and is read a column at a
    time; CSV files and in-memory frames are read whole.
    """
    from assay.engine._parquet import ParquetTable, file_sha256, is_parquet_path

    if not is_parquet_path(data):
        df, src = read_table(data, name=name)
        return df, df, src
    table = ParquetTable(data, name=name)
    single = len(table.files) == 1 and Path(table.files[0]) == Path(str(data))
    src = TableSource(
        name=name,
        path=str(data),
        kind="parquet",
        file_sha256=file_sha256(table.files[0]) if single else None,
    )
    return table, table.head(SCHEMA_ROWS), src


def _dask_side(data: Any, name: str) -> tuple[list[Any], pl.DataFrame, TableSource]:
    """Partitions, a head for column types, and the source record of one table."""
    from assay.engine._dask import split_frame
    from assay.engine._parquet import is_parquet_path, parquet_head, parquet_parts

    if isinstance(data, (str, os.PathLike)):
        if Path(str(data)).exists() and not is_parquet_path(data):
            raise InputError(
                f"{name} file {data} is not Parquet; the dask engine reads Parquet (a file, a "
                "folder or a glob): convert it, or use the local engine"
            )
        parts = parquet_parts(data, name=name)
        head = parquet_head(parts, SCHEMA_ROWS)
        if sum(p.rows for p in parts) == 0:
            raise InputError(f"{name} Parquet data {data} has no rows")
        return parts, head, TableSource(name=name, path=str(data), kind="parquet")
    df, src = read_table(data, name=name)
    return split_frame(df), df, src


def _full_types(table: Any, columns: Iterable[str]) -> dict[str, ColumnType]:
    """Column types inferred from every value, one column read at a time."""
    return {c: infer_column_type(c, table.column(c).get_column(c)) for c in columns}


def _local_sides(reference: Any, current: Any) -> _Sides:
    from assay.engine import LocalEngine

    ref_table, ref_df, ref_src = _local_side(reference, "reference")
    cur_table, cur_df, cur_src = _local_side(current, "current")
    sides = _Sides(
        {"reference": ref_df, "current": cur_df}, {"reference": ref_src, "current": cur_src}
    )
    if ref_table is not ref_df or cur_table is not cur_df:
        # Parquet stays on disk: the checks use this engine, not the frames.
        sides.engine = LocalEngine(ref_table, cur_table)
        if ref_table is not ref_df:
            sides.types = _full_types(ref_table, ref_df.columns)
    return sides


@contextmanager
def _open_sides(reference: Any, current: Any, engine: str, scheduler: Any) -> Iterator[_Sides]:
    """The two tables, read for ``engine``; a Dask cluster started here is closed on exit."""
    if engine != "dask":
        yield _local_sides(reference, current)
        return
    from assay.engine._dask import DaskEngine, start_client

    ref_parts, ref_df, ref_src = _dask_side(reference, "reference")
    cur_parts, cur_df, cur_src = _dask_side(current, "current")
    client, close = start_client(scheduler)
    try:
        yield _Sides(
            {"reference": ref_df, "current": cur_df},
            {"reference": ref_src, "current": cur_src},
            engine=DaskEngine(ref_parts, cur_parts, client),
            partitions={"reference": len(ref_parts), "current": len(cur_parts)},
        )
    finally:
        close()


def _schema(sides: _Sides, cfg: AuditConfig) -> Schema:
    """The reference's schema (config overrides win over types read from every value);
    current must hold its feature columns."""
    overrides = cfg.type_overrides()
    schema = infer_schema(
        sides.frames["reference"],
        target=cfg.target,
        task=cfg.task,
        overrides={**sides.types, **overrides},
        ignore=cfg.ignore,
        prediction_columns=[c for c in [cfg.prediction, *cfg.score] if c],
        name="reference",
    )
    schema = replace(schema, overridden=tuple(overrides))
    cur_columns = sides.columns("current")
    missing = [c for c in schema.features if c not in cur_columns]
    if missing:
        hint = suggest(missing[0], cur_columns)
        raise SchemaError(
            f"current data lacks feature column(s) {', '.join(missing[:8])}; give it the "
            f"reference's columns or --ignore them.{hint}"
        )
    return schema


def _drift_checks(cfg: AuditConfig, task: str | None) -> list[CheckSpec]:
    """The drift checks, narrowed by the config's ``include``/``exclude`` (ids checked)."""
    for check_id in (*cfg.include, *cfg.exclude):
        get_check(check_id)  # an unknown id is an error that lists the valid ones
    specs = [s for s in all_checks() if s.area == "drift"]
    if cfg.include:
        specs = [s for s in specs if s.id in set(cfg.include)]
    specs = [s for s in specs if s.id not in set(cfg.exclude)]
    if task is None:  # drift needs no task: let the checks run without one
        # None joins the tasks: a task-less drift run.
        specs = [replace(s, tasks=(*s.tasks, None)) for s in specs]  # type: ignore[arg-type]
    return specs


def _context(sides: _Sides, cfg: AuditConfig) -> AuditContext:
    """The context the drift checks read: reference as ``test``, current as ``current``."""
    from assay.core.params import validate_thresholds

    schema = _schema(sides, cfg)
    validate_thresholds(cfg.thresholds)
    return AuditContext(
        frames={"test": sides.frames["reference"], "current": sides.frames["current"]},
        sources={"test": sides.sources["reference"], "current": sides.sources["current"]},
        schema=schema,
        settings=cfg.settings(),
        prediction_column=cfg.prediction,
        score_columns=tuple(cfg.score),
        engine=sides.engine,  # Parquet on disk or Dask partitions; None: the frames
    )


def _inputs(sides: _Sides, ctx: AuditContext) -> dict[str, Any]:
    """``report.json``'s ``inputs``: each table's source, rows, columns (and Dask
    partitions), the schema and the prediction columns."""
    rows = sides.rows()
    inputs: dict[str, Any] = {
        name: {
            **sides.sources[name].to_dict(),
            "rows": rows[name],
            "columns": len(sides.frames[name].columns),
            **({"partitions": sides.partitions[name]} if sides.partitions else {}),
        }
        for name in SIDES
    }
    inputs["schema"] = ctx.schema.to_dict()
    inputs["prediction_columns"] = {
        "prediction": ctx.prediction_column,
        "score": list(ctx.score_columns),
    }
    return inputs


def _versions(engine: str) -> dict[str, str]:
    """Python, platform and library versions, as ``assay.audit`` records them, read
    from package metadata so that nothing heavy is imported just to name it."""
    import platform
    import sys
    from importlib import metadata

    out = {"python": platform.python_version(), "platform": platform.platform()}
    dists = {
        "numpy": "numpy",
        "scipy": "scipy",
        "pandas": "pandas",
        "polars": "polars",
        "pyarrow": "pyarrow",
        "sklearn": "scikit-learn",
    }
    if engine == "dask":
        dists.update(dask="dask", distributed="distributed")
    for name, dist in dists.items():
        mod = sys.modules.get(name)
        version = getattr(mod, "__version__", None) if mod is not None else None
        if version is None:
            try:
                version = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
        out[name] = version
    return out


def drift(
    reference: Any,
    current: Any,
    *,
    target: str | None = None,
    prediction: str | None = None,
    score: str | Iterable[str] | None = None,
    config: AuditConfig | Mapping[str, Any] | str | Path | None = None,
    engine: Literal["local", "dask"] = "local",
    scheduler: Any = None,
    progress: ProgressFn | None = None,
) -> AuditResult:
    """Compare ``current`` with ``reference``: feature, prediction, target and
    multivariate drift.

    Parameters
    ----------
    reference, current
        pandas or Polars frames, or paths to CSV/Parquet files; a folder or a
        glob of Parquet files is read whole (local engine) or partition by
        partition (Dask engine).
    target
        Target column; ``drift.target`` compares it when current has it.
    prediction, score
        Prediction and score columns present in both tables
        (``drift.prediction``).
    config
        An :class:`~assay.AuditConfig`, a mapping or a YAML path (thresholds,
        column types, ``ignore``, ``seed``, ``fail_on``, checks to include or
        exclude).
    engine
        ``"local"`` (Polars and NumPy in this process) or ``"dask"``
        (mergeable per-partition summaries on a Dask cluster).
    scheduler
        With ``engine="dask"``: a scheduler address, a ``distributed.Client``,
        or ``None`` to start a ``LocalCluster`` for this call.
    progress
        Called as ``progress(check_id, done, total)``.

    Returns
    -------
    AuditResult
        The drift checks' results; ``result.save(out_dir)`` writes the report.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=500), "c": rng.choice(["a", "b"], 500)})
    >>> cur = ref.assign(x=ref["x"] + 1.0)
    >>> r = drift(ref, cur, config={"n_bootstrap": 50})
    >>> r.check("drift.features").findings[0].column
    'x'
    """
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    cfg = AuditConfig.resolve(config).merged(
        target=target, prediction=prediction, score=as_list(score)
    )
    with _open_sides(reference, current, engine, scheduler) as sides:
        ctx = _context(sides, cfg)
        specs = _drift_checks(cfg, ctx.schema.task)
        results = runner.run(specs, ctx, progress)
        inputs = _inputs(sides, ctx)
    return assemble(
        results,
        specs,
        ctx,
        inputs=inputs,
        engine=engine,
        environment=_versions(engine),
        fail_on=cfg.fail_on,
    )


__all__ = ["drift"]
