"""The audit on a Dask cluster: data-check summaries per partition, merged in a tree.

:class:`DaskAuditEngine` answers the data checks' questions (column profiles,
duplicate rows, train/test overlap, fingerprints, row positions) with the
same per-chunk functions as the local engine, run on each partition (a
Parquet row group) on the workers; summaries are merged in a tree of fan-in
:data:`~assay.engine._dask.FAN_IN`. Row-hash counts are shuffled into
:func:`buckets_for` buckets by key (about one per 2M rows, at most
:data:`~assay.engine._rowhash.BUCKETS`), each bucket merged and reduced on
its own, so no process holds the keys of a large table.

What the audit runs on the cluster, and what on a sample:

- ``data.integrity``, ``data.train_test_overlap``, ``data.provenance``: every
  row, from merged summaries. They agree with the local engine exactly while
  a column has at most :data:`~assay.engine._profile.PROFILE_CAP` distinct
  values; beyond it distinct counts are lower bounds, the most frequent
  value's count is low by at most ``rows / (cap + 1)`` and the sentinel
  rules read quartiles from a quantile sketch (rank error 1/8192).
- drift checks: every row, through :class:`~assay.engine._dask.DaskEngine`.
- predictions of a model file Assay loads (loaded on each worker with the
  audit's task) or prediction columns: every row, predicted per partition on
  the workers, summarised as label counts, confusion counts and a score
  histogram (reported in ``extra.engine``).
- ``fairness.group_metrics`` of a classifier so predicted: every row, from
  :class:`~assay.engine._groups.GroupCounts` (rows per group, truth and
  prediction) merged over the partitions; the check computes its metrics and
  a bootstrap of the counts from them (:mod:`assay.fairness._counts`). Of a
  regression so predicted: every row, from :class:`~assay.engine._groups.GroupSums`
  (per group: rows, sums of errors, absolute and squared errors, predictions,
  targets and their products), with a Gaussian Poisson bootstrap of the sums.
- every other check (metrics with intervals, leakage, robustness,
  attacks, label issues...): on a sample of at most ``max_rows_model_checks``
  rows per split — the rows with the smallest content hash (Polars
  ``hash_rows`` with the audit's seed), kept in their original order. The
  choice depends on the rows' content and the seed only, not on how the data
  is partitioned; a table that fits is taken whole.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from assay.engine._audit import (
    DuplicateResult,
    OverlapResult,
    ValueRequest,
    cast_plan,
    first_rows,
    overlap_result,
    value_positions,
)
from assay.engine._dask import _need_dask, _tree, split_frame, start_client
from assay.engine._fingerprint import FingerprintSummary, fingerprint_summary, merge_fingerprints
from assay.engine._groups import (
    GroupCounts,
    Grouping,
    GroupSums,
    TextCounts,
    group_counts,
    group_labels,
    group_sums,
    merge_group_counts,
    merge_group_sums,
    merge_text_counts,
    text_counts,
)
from assay.engine._outcomes import OutcomeSummary, merge_outcomes, outcome_summary
from assay.engine._parquet import ParquetPart, is_parquet_path, parquet_parts
from assay.engine._profile import PROFILE_CAP, ColumnProfileSummary, merge_profiles, profile_frame
from assay.engine._rowhash import (
    BUCKETS,
    LISTED,
    RowHashCounts,
    chance_rows,
    duplicate_candidates,
    duplicate_rows,
    first_positions,
    hash_counts,
    merge_counts,
    merge_overlap,
    overlap_stats,
    positions,
    prepare,
    split_buckets,
)
from assay.errors import InputError
from assay.io.readers import TableSource, read_table

BUCKET_ROWS = 2_000_000
"""Rows per hash-shuffle bucket aimed at (each bucket's keys are merged in one task)."""

# -- tasks (run on workers) -------------------------------------------------------------


def _load(part: Any, columns: Sequence[str] | None) -> pl.DataFrame:
    if isinstance(part, ParquetPart):
        return part.load(columns)
    return part if columns is None else part.select(list(columns))


def _t_profile(part: Any, columns: Sequence[str], cap: int) -> dict[str, ColumnProfileSummary]:
    return profile_frame(_load(part, columns), cap=cap)


def _t_merge_profiles(cap: int, *items: dict[str, ColumnProfileSummary]):
    out = dict(items[0])
    for d in items[1:]:
        for k, v in d.items():
            out[k] = merge_profiles(out[k], v, cap=cap)
    return out


def _t_values(part: Any, requests: Sequence[ValueRequest], offset: int) -> list[np.ndarray]:
    cols = sorted({r[0] for r in requests})
    return value_positions(_load(part, cols), requests, offset=offset)


def _t_counts(
    part: Any, columns: Sequence[str], plan, offset: int, buckets: int
) -> list[RowHashCounts]:
    c = hash_counts(prepare(_load(part, columns), plan), offset=offset)
    return split_buckets(c, buckets)


def _t_bucket(parts: list[RowHashCounts], i: int) -> RowHashCounts:
    return parts[i]


def _t_merge_counts(*items: RowHashCounts) -> RowHashCounts:
    out = items[0]
    for c in items[1:]:
        out = merge_counts(out, c)
    return out


def _t_dups(c: RowHashCounts) -> tuple[int, pl.DataFrame]:
    return duplicate_rows(c), duplicate_candidates(c)


def _t_overlap(train: RowHashCounts, other: RowHashCounts):
    return overlap_stats(train, other), chance_rows(train)


def _t_positions(part, columns, plan, candidates, offset: int, skip_first: bool) -> pl.DataFrame:
    df = prepare(_load(part, columns), plan)
    return positions(df, candidates, offset=offset, skip_first=skip_first, limit=LISTED)


def _t_fingerprint(part: Any, columns: Sequence[str] | None) -> FingerprintSummary:
    return fingerprint_summary(_load(part, columns))


def _t_merge_fingerprints(*items: FingerprintSummary) -> FingerprintSummary:
    out = items[0]
    for f in items[1:]:
        out = merge_fingerprints(out, f)
    return out


def _t_sample(part: Any, n: int, seed: int, offset: int) -> pl.DataFrame:
    df = _load(part, None)
    h = df.hash_rows(seed=seed)
    rows = pl.Series("__row__", np.arange(offset, offset + df.height, dtype=np.int64))
    out = df.with_columns(h.alias("__hash__"), rows)
    return out.sort(["__hash__", "__row__"]).head(n)


def _t_merge_sample(n: int, *frames: pl.DataFrame) -> pl.DataFrame:
    both = pl.concat(list(frames), how="vertical_relaxed")
    return both.sort(["__hash__", "__row__"]).head(n)


@functools.lru_cache(maxsize=4)
def _worker_model(path: str, trust: bool, task: str | None) -> Any:
    from assay.io.models import load_model

    return load_model(path, trust_model=trust, task=task)


def _predict(df: pl.DataFrame, spec: Mapping[str, Any]) -> tuple[np.ndarray, Any, Any]:
    """True labels, predicted labels (regression: values) and positive-class scores
    (binary) of one partition: from the model file (loaded once per worker, with the
    audit's task) or the columns."""
    classes = list(spec["classes"])
    labels = df.get_column(spec["target"]).to_numpy()
    score = None
    if spec.get("task") == "regression":
        if spec.get("model") is not None:
            model = _worker_model(spec["model"], spec["trust"], "regression")
            return labels, model.predict(df.select(spec["features"]), None).labels, None
        return labels, df.get_column(spec["prediction"]).to_numpy(), None
    if spec.get("model") is not None:
        model = _worker_model(spec["model"], spec["trust"], spec.get("task"))
        pred = model.predict(df.select(spec["features"]), classes)
        predicted, proba = pred.labels, pred.proba
        if proba is not None and len(classes) == 2:
            score = np.asarray(proba)[:, spec["positive_index"]]
    else:
        predicted = df.get_column(spec["prediction"]).to_numpy() if spec["prediction"] else None
        if spec["score"] and len(classes) == 2:
            score = df.get_column(spec["score"]).cast(pl.Float64).to_numpy()
            if spec["positive_index"] == 0:
                score = 1 - score
        if predicted is None and score is not None:
            predicted = np.asarray(classes, dtype=object)[(score >= 0.5).astype(int)]
    return labels, predicted, score


def _t_outcomes(part: Any, spec: Mapping[str, Any]) -> OutcomeSummary:
    labels, predicted, score = _predict(_load(part, None), spec)
    return outcome_summary(labels, predicted, score, classes=list(spec["classes"]))


def _t_text(part: Any, column: str) -> TextCounts:
    return text_counts(_load(part, [column]).get_column(column))


def _t_merge_text(*items: TextCounts) -> TextCounts:
    return functools.reduce(merge_text_counts, items)


def _t_groups(part: Any, spec: Mapping[str, Any], groupings: Sequence[Grouping]) -> GroupCounts:
    df = _load(part, None)
    labels, predicted, _ = _predict(df, spec)
    return group_counts({g.column: group_labels(df, g) for g in groupings}, labels, predicted)


def _t_merge_groups(*items: GroupCounts) -> GroupCounts:
    return functools.reduce(merge_group_counts, items)


def _t_sums(part: Any, spec: Mapping[str, Any], groupings: Sequence[Grouping]) -> GroupSums:
    df = _load(part, None)
    labels, predicted, _ = _predict(df, spec)
    return group_sums({g.column: group_labels(df, g) for g in groupings}, labels, predicted)


def _t_merge_sums(*items: GroupSums) -> GroupSums:
    return functools.reduce(merge_group_sums, items)


def _t_merge_outcomes(*items: OutcomeSummary) -> OutcomeSummary:
    out = items[0]
    for o in items[1:]:
        out = merge_outcomes(out, o)
    return out


# -- the engine ---------------------------------------------------------------------------


class DaskAuditEngine:
    """The data checks' summaries of partitioned tables, computed on a Dask cluster.

    Parameters
    ----------
    parts
        ``{split: [partitions]}``: :class:`ParquetPart` row groups, or Polars
        frames (chunks of an in-memory table, scattered to the workers).
    client
        A ``distributed.Client``.
    cap
        Distinct values a column profile counts exactly.
    """

    name = "dask"

    def __init__(self, parts: Mapping[str, Sequence[Any]], client: Any, *, cap: int = PROFILE_CAP):
        _need_dask()
        self.client = client
        self.cap = cap
        self._parts: dict[str, list[Any]] = {}
        self._offsets: dict[str, list[int]] = {}
        self._rows: dict[str, int] = {}
        self._dtypes: dict[str, dict[str, pl.DataType]] = {}
        for split, ps in parts.items():
            sizes = [p.rows if isinstance(p, ParquetPart) else p.height for p in ps]
            self._offsets[split] = [int(x) for x in np.cumsum([0, *sizes[:-1]])]
            self._rows[split] = int(sum(sizes))
            self._dtypes[split] = _schema(ps[0])
            frames = [p for p in ps if isinstance(p, pl.DataFrame)]
            futures = iter(client.scatter(frames)) if frames else iter(())
            self._parts[split] = [next(futures) if isinstance(p, pl.DataFrame) else p for p in ps]
        self.partitions = {s: len(p) for s, p in self._parts.items()}
        self._profiles: dict[tuple[str, tuple[str, ...]], dict[str, ColumnProfileSummary]] = {}
        self.spec: dict[str, Any] | None = None
        """How the workers get labels and predictions (:meth:`DaskAudit.use_predictions`);
        ``None``: no full-data predictions (an in-memory model, or no classifier)."""

    def _compute(self, *objs: Any) -> list[Any]:
        return self.client.gather(self.client.compute(list(objs)))

    def _leaves(self, split: str, fn: Callable, *args: Any) -> list[Any]:
        import dask

        return [dask.delayed(fn, pure=True)(p, *args) for p in self._parts[split]]

    def rows(self, split: str) -> int:
        return self._rows[split]

    def dtypes(self, split: str) -> Mapping[str, pl.DataType]:
        return dict(self._dtypes[split])

    def profiles(self, split: str, columns: Sequence[str]) -> Iterator[ColumnProfileSummary]:
        key = (split, tuple(columns))
        if key not in self._profiles:
            leaves = self._leaves(split, _t_profile, list(columns), self.cap)
            (merged,) = self._compute(_tree(leaves, _t_merge_profiles, prefix=(self.cap,)))
            self._profiles[key] = merged
        for c in columns:
            yield self._profiles[key][c]

    def value_rows(self, split: str, requests: Sequence[ValueRequest]) -> list[tuple[int, ...]]:
        if not requests:
            return []
        import dask

        tasks = [
            dask.delayed(_t_values, pure=True)(p, list(requests), o)
            for p, o in zip(self._parts[split], self._offsets[split], strict=True)
        ]
        return first_rows(self._compute(*tasks), len(requests))

    def _bucket_trees(self, split: str, columns: Sequence[str], plan, buckets: int) -> list[Any]:
        import dask

        leaves = [
            dask.delayed(_t_counts, pure=True)(p, list(columns), plan, o, buckets)
            for p, o in zip(self._parts[split], self._offsets[split], strict=True)
        ]
        return [
            _tree([dask.delayed(_t_bucket, pure=True)(leaf, b) for leaf in leaves], _t_merge_counts)
            for b in range(buckets)
        ]

    def _positions(self, split, columns, plan, candidates, skip_first) -> pl.DataFrame:
        import dask

        tasks = [
            dask.delayed(_t_positions, pure=True)(p, list(columns), plan, candidates, o, skip_first)
            for p, o in zip(self._parts[split], self._offsets[split], strict=True)
        ]
        return first_positions(self._compute(*tasks))

    def duplicates(self, split: str, columns: Sequence[str]) -> DuplicateResult:
        import dask

        cols = [c for c in columns if self._dtypes[split][c] != pl.Object]
        if not cols or self.rows(split) < 2:
            return DuplicateResult(0, ())
        trees = self._bucket_trees(split, cols, None, buckets_for(self.rows(split)))
        found = self._compute(*[dask.delayed(_t_dups, pure=True)(t) for t in trees])
        count = sum(f[0] for f in found)
        cand = pl.concat([f[1] for f in found]).sort("second").head(LISTED)
        if cand.height == 0:  # no repeated row: nothing to list
            return DuplicateResult(0, ())
        rows = self._positions(split, cols, None, cand, True).get_column("row")
        return DuplicateResult(count, tuple(int(r) for r in rows))

    def overlap(self, split: str, columns: Sequence[str]) -> OverlapResult:
        import dask

        plan = cast_plan(self._dtypes["train"], self._dtypes[split], columns)
        buckets = buckets_for(max(self.rows("train"), self.rows(split)))
        train = self._bucket_trees("train", columns, plan, buckets)
        other = self._bucket_trees(split, columns, plan, buckets)
        found = self._compute(
            *[dask.delayed(_t_overlap, pure=True)(t, o) for t, o in zip(train, other, strict=True)]
        )
        stats = merge_overlap([f[0] for f in found])
        chance = sum(f[1] for f in found)
        if stats.candidates.height == 0:  # no overlap: nothing to list
            return OverlapResult(stats, (), (), chance)
        listed = self._positions(split, columns, plan, stats.candidates, False)
        return overlap_result(stats, chance, listed)

    def fingerprint(self, split: str, columns: Sequence[str] | None = None) -> str:
        leaves = self._leaves(split, _t_fingerprint, None if columns is None else list(columns))
        (merged,) = self._compute(_tree(leaves, _t_merge_fingerprints))
        return merged.digest()

    def sample(self, split: str, n: int, seed: int) -> pl.DataFrame:
        """At most ``n`` rows: the smallest content hashes, in their original order."""
        import dask

        leaves = [
            dask.delayed(_t_sample, pure=True)(p, n, seed, o)
            for p, o in zip(self._parts[split], self._offsets[split], strict=True)
        ]
        (kept,) = self._compute(_tree(leaves, _t_merge_sample, prefix=(n,)))
        return kept.sort("__row__").drop("__hash__", "__row__")

    def outcomes(self, split: str, spec: Mapping[str, Any]) -> OutcomeSummary:
        """Label, confusion and score summaries of every row (predicted on the workers)."""
        leaves = self._leaves(split, _t_outcomes, dict(spec))
        (merged,) = self._compute(_tree(leaves, _t_merge_outcomes))
        return merged

    def text_counts(self, split: str, column: str) -> TextCounts:
        """Rows per value of ``column`` read as text (:mod:`assay.engine._groups`)."""
        (merged,) = self._compute(_tree(self._leaves(split, _t_text, column), _t_merge_text))
        return merged

    def group_counts(self, split: str, groupings: Sequence[Grouping]) -> GroupCounts | None:
        """Rows per (group of each sensitive column, truth, prediction), every row of
        ``split`` predicted on the workers; ``None`` without full-data predictions."""
        if self.spec is None or self.spec["task"] == "regression":
            return None
        leaves = self._leaves(split, _t_groups, dict(self.spec), list(groupings))
        (merged,) = self._compute(_tree(leaves, _t_merge_groups))
        return merged

    def group_sums(self, split: str, groupings: Sequence[Grouping]) -> GroupSums | None:
        """A regression's per-group sums (:class:`~assay.engine._groups.GroupSums`), every
        row of ``split`` predicted on the workers; ``None`` without full-data predictions."""
        if self.spec is None or self.spec["task"] != "regression":
            return None
        leaves = self._leaves(split, _t_sums, dict(self.spec), list(groupings))
        (merged,) = self._compute(_tree(leaves, _t_merge_sums))
        return merged


def buckets_for(rows: int) -> int:
    """Hash-shuffle buckets for a table of ``rows`` rows: a power of two, about one per
    :data:`BUCKET_ROWS` rows, at most :data:`~assay.engine._rowhash.BUCKETS`."""
    want = max(1, -(-rows // BUCKET_ROWS))
    return min(BUCKETS, 1 << (want - 1).bit_length())


def _schema(part: Any) -> dict[str, pl.DataType]:
    if isinstance(part, ParquetPart):
        return part.schema()
    return dict(part.schema)


# -- preparing an audit -----------------------------------------------------------------------


def _partitions(data: Any, name: str) -> tuple[list[Any], TableSource]:
    if isinstance(data, (str, os.PathLike)):
        if Path(str(data)).exists() and not is_parquet_path(data):
            raise InputError(
                f"{name} file {data} is not Parquet; the dask engine reads Parquet (a file, a "
                "folder or a glob): convert it, or use the local engine"
            )
        parts = parquet_parts(data, name=name)
        if sum(p.rows for p in parts) == 0:
            raise InputError(f"{name} Parquet data {data} has no rows")
        return parts, TableSource(name=name, path=str(data), kind="parquet")
    df, src = read_table(data, name=name)
    return split_frame(df), src


class DaskAudit:
    """One audit's cluster, partitions, samples and engines (see the module docstring)."""

    def __init__(self, inputs: Mapping[str, Any], *, scheduler: Any, seed: int, sample_rows: int):
        parts, self.sources = {}, {}
        for name, data in inputs.items():
            if data is not None:
                parts[name], self.sources[name] = _partitions(data, name)
        self.client, self._close = start_client(scheduler)
        try:
            self.engine = DaskAuditEngine(parts, self.client)
            self.sample_rows = sample_rows
            self.seed = seed
            self.samples = {s: self.engine.sample(s, sample_rows, seed) for s in parts}
        except BaseException:
            self.close()
            raise
        self._raw_parts = parts

    def close(self) -> None:
        self._close()

    def attach(self, ctx: Any, reference: str) -> None:
        """Put the audit engine, and the drift engine (``reference`` against current), on
        ``ctx`` (``data_engine`` and ``engine``): the checks read every row through them."""
        ctx.data_engine = self.engine
        if "current" in self._raw_parts:
            from assay.engine._dask import DaskEngine

            ctx.engine = DaskEngine(
                self._raw_parts[reference], self._raw_parts["current"], self.client
            )

    def use_predictions(self, ctx: Any, model: Any, trust_model: bool) -> None:
        """Let the workers predict every row (:attr:`DaskAuditEngine.spec`) when the task
        is a classification or a regression, the model is a file Assay loads (loaded on
        each worker with the audit's task, as the local path loads it) or predictions are
        columns."""
        self.engine.spec = self._spec(ctx, model, trust_model)

    def _spec(self, ctx: Any, model: Any, trust_model: bool) -> dict[str, Any] | None:
        if ctx.task not in ("binary", "multiclass", "regression") or ctx.target is None:
            return None
        is_file = isinstance(model, (str, os.PathLike))
        if model is not None and not is_file:
            return None
        if model is None and ctx.prediction_column is None and not ctx.score_columns:
            return None
        if ctx.task == "regression" and model is None and ctx.prediction_column is None:
            return None
        classes = list(ctx.classes) if ctx.task != "regression" else []
        features = None
        if is_file:
            names = ctx.model.feature_names if ctx.model is not None else None
            features = list(names) if names else list(ctx.schema.features)
        return {
            "classes": classes,
            "target": ctx.target,
            "task": ctx.task,
            "model": str(model) if is_file else None,
            "trust": trust_model,
            "features": features,
            "prediction": ctx.prediction_column,
            "score": ctx.score_columns[0] if len(ctx.score_columns) == 1 else None,
            "positive_index": classes.index(ctx.positive_class) if len(classes) == 2 else None,
        }

    def outcomes(self, ctx: Any, model: Any, trust_model: bool) -> dict[str, OutcomeSummary]:
        """Label, confusion and score summaries of every labelled row of train and test,
        when the workers can predict them (:meth:`use_predictions`); ``{}`` otherwise
        (an in-memory model runs on the sample only)."""
        spec = self.engine.spec
        if spec is None:
            spec = self.engine.spec = self._spec(ctx, model, trust_model)
        if spec is None or spec["task"] == "regression":  # label summaries: classification
            return {}
        return {
            s: self.engine.outcomes(s, spec)
            for s in ("test", "train")
            if s in self.samples and ctx.target in self.engine.dtypes(s)
        }

    def full_data_checks(self, ctx: Any) -> list[str]:
        """The checks that read every row (the others read the sample)."""
        ids = ["data.integrity", "data.train_test_overlap", "data.provenance"]
        if "current" in self.samples:
            ids += ["drift.features", "drift.target", "drift.multivariate"]
            if ctx.model is None:  # prediction columns are summarised like features
                ids.append("drift.prediction")
        if self.engine.spec is not None and ctx.sensitive:  # group counts of every row
            ids.append("fairness.group_metrics")
        return ids

    def note_sample(self, result: Any, ctx: Any) -> Any:
        """``result`` with the sample it was computed on in its details (checks that ran
        on the sample only; skipped checks and full-data checks are returned as they are)."""
        from dataclasses import replace

        if result.status == "skipped" or result.id in self.full_data_checks(ctx):
            return result
        sample = {
            "rows": {s: df.height for s, df in self.samples.items()},
            "of_rows": {s: self.engine.rows(s) for s in self.samples},
            "seed": self.seed,
            "how": "smallest content hashes (Polars hash_rows with the seed), original order",
        }
        return replace(result, details={**result.details, "engine_sample": sample})

    def describe(self, outcomes: Mapping[str, OutcomeSummary], ctx: Any) -> dict[str, Any]:
        """What ran where, for ``AuditResult.extra["engine"]``."""
        return {
            "name": "dask",
            "partitions": dict(self.engine.partitions),
            "rows": {s: self.engine.rows(s) for s in self.samples},
            "sample": {
                "rows": {s: df.height for s in self.samples for df in [self.samples[s]]},
                "max_rows": self.sample_rows,
                "seed": self.seed,
                "how": "the rows with the smallest content hash (Polars hash_rows with the "
                "seed), in their original order; independent of partitioning",
            },
            "full_data_checks": self.full_data_checks(ctx),
            "profile_cap": self.engine.cap,
            "predictions": {s: o.to_dict() for s, o in outcomes.items()},
        }


__all__ = ["DaskAudit", "DaskAuditEngine"]
