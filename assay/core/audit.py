"""``assay.audit``: prepare the context, select and run checks, collect results."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from assay._version import __version__
from assay.core import runner
from assay.core.audit_result import AuditResult
from assay.core.config import AuditConfig, decision_columns
from assay.core.context import AuditContext
from assay.core.environment import library_versions as library_versions  # re-exported
from assay.core.registry import CheckSpec, all_checks, get_check
from assay.core.result import CheckResult, Finding
from assay.core.runner import ProgressFn, run_check
from assay.errors import ConfigError, InputError, ModelError, SchemaError
from assay.io.models import ModelAdapter, load_model, wrap_model
from assay.io.readers import read_table
from assay.io.schema import UNSUPERVISED_TASKS, Schema, check_target, infer_schema, suggest


def as_list(v: str | Iterable[str] | None) -> list[str]:
    """``None`` as no names, one name as a list of one, names as a list."""
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def _order_scores(score_cols: list[str], classes: list[Any], task: str | None) -> list[str]:
    """Order multiclass score columns by class, matching a class suffix when present."""
    if task != "multiclass" or len(score_cols) <= 1:
        return score_cols
    if len(score_cols) != len(classes):
        raise SchemaError(
            f"{len(score_cols)} score column(s) given for {len(classes)} classes; "
            "give one --score column per class"
        )
    by_suffix: list[str] = []
    for c in classes:
        match = [s for s in score_cols if s.endswith(str(c))]
        if len(match) != 1:
            return score_cols  # fall back to the order given (sorted class order)
        by_suffix.append(match[0])
    return by_suffix


def _align_columns(frames: dict[str, pl.DataFrame], target: str | None, extra: set[str]) -> None:
    """Train and test must share their feature columns; current must contain them."""
    if "train" not in frames:
        return
    skip = {target, *extra}
    train_cols = [c for c in frames["train"].columns if c not in skip]
    test_cols = [c for c in frames["test"].columns if c not in skip]
    only_train = [c for c in train_cols if c not in test_cols]
    only_test = [c for c in test_cols if c not in train_cols]
    if only_train or only_test:
        parts = []
        if only_train:
            parts.append(f"only in train: {', '.join(only_train[:8])}")
        if only_test:
            parts.append(f"only in test: {', '.join(only_test[:8])}")
        raise SchemaError(
            f"train and test have different columns ({'; '.join(parts)}); "
            "give both the same feature columns or --ignore the extra ones"
        )


def _read_decisions(data: Any, config: AuditConfig) -> tuple[pl.DataFrame, Any, dict[str, str]]:
    """The decisions table, with its prediction, decision and label columns present and
    its seconds column (when present) numeric."""
    df, source = read_table(data, name="decisions")
    cols = decision_columns(config.decisions)
    for role in ("prediction", "decision", "label", "reviewer", "seconds"):
        c = cols[role]
        named = role in (config.decisions or {})
        if c not in df.columns and (named or role in ("prediction", "decision", "label")):
            raise SchemaError(
                f"decisions has no {role} column {c!r}.{suggest(c, df.columns)} Name it under "
                f"'decisions: {{{role}: COLUMN}}' in assay.yaml"
            )
    if cols["seconds"] in df.columns:
        try:
            df = df.with_columns(pl.col(cols["seconds"]).cast(pl.Float64, strict=True))
        except pl.exceptions.PolarsError:
            raise SchemaError(
                f"decisions column {cols['seconds']!r} (seconds) must hold numbers"
            ) from None
    return df, source, cols


def _read_inputs(
    train: Any, test: Any, current: Any, decisions: Any, config: AuditConfig
) -> tuple[dict[str, pl.DataFrame], dict[str, Any], pl.DataFrame | None, dict[str, str]]:
    """The frames and their sources, and the decisions table with its column roles."""
    if test is None:
        raise InputError("test data is required: pass test=... (or --test PATH)")
    if config.target is None and config.task not in UNSUPERVISED_TASKS:
        raise InputError("target is required: pass target=... (or --target COL)")
    frames: dict[str, pl.DataFrame] = {}
    sources = {}
    for name, data in (("train", train), ("test", test), ("current", current)):
        if data is None:
            continue
        frames[name], sources[name] = read_table(data, name=name)
    decisions_frame: pl.DataFrame | None = None
    decision_cols: dict[str, str] = {}
    if decisions is not None:
        decisions_frame, sources["decisions"], decision_cols = _read_decisions(decisions, config)
    return frames, sources, decisions_frame, decision_cols


def _test_schema(
    frames: dict[str, pl.DataFrame], config: AuditConfig, pred_cols: list[str]
) -> Schema:
    """The schema inferred from test, once its prediction and sensitive columns are found."""
    test_cols = frames["test"].columns
    for c in pred_cols:
        if c not in test_cols:
            raise SchemaError(f"prediction column {c!r} is not in test.{suggest(c, test_cols)}")
    for c in config.sensitive:
        if c not in test_cols:
            raise SchemaError(f"sensitive column {c!r} is not in test.{suggest(c, test_cols)}")
    return infer_schema(
        frames["test"],
        target=config.target,
        task=config.task,
        overrides=config.type_overrides(),
        ignore=config.ignore,
        prediction_columns=pred_cols,
        name="test",
    )


def _with_train_classes(schema: Schema, train: pl.DataFrame, target: str) -> Schema:
    """The target in train follows test's rules; its classes join test's."""
    from dataclasses import replace

    if target not in train.columns:
        raise InputError(
            f"target column {target!r} is not in train.{suggest(target, train.columns)}"
        )
    check_target(  # the same rules for the target in train (NaN, one class)
        train, target, task=schema.task, column_type=schema.types[target], name="train"
    )
    if schema.task not in ("binary", "multiclass"):
        return schema
    train_classes = set(train.get_column(target).unique().to_list())
    merged = sorted(train_classes | set(schema.classes), key=lambda v: (str(type(v)), v))
    if schema.task == "binary" and len(merged) > 2:
        raise InputError(
            f"target column {target!r} has {len(merged)} distinct values across "
            "train and test; a binary task has two"
        )
    return replace(schema, classes=tuple(merged))


def _adapter(
    model: Any, config: AuditConfig, trust_model: bool, test: pl.DataFrame
) -> ModelAdapter | None:
    """The model wrapped (loaded first when it is a path); its features must be in test."""
    if model is None:
        return None
    adapter: ModelAdapter
    if isinstance(model, (str, Path)):
        adapter = load_model(model, trust_model=trust_model, task=config.task)
    elif config.task in UNSUPERVISED_TASKS:  # clusterers and detectors need not have predict
        from assay.unsupervised._inputs import check_unsupervised_model

        check_unsupervised_model(model, str(config.task))
        adapter = model if isinstance(model, ModelAdapter) else ModelAdapter(model, kind="python")
    else:
        adapter = wrap_model(model)
    names = adapter.feature_names
    if names is not None:
        missing = [n for n in names if n not in test.columns]
        if missing:
            raise ModelError(
                f"the model expects feature column(s) {', '.join(missing[:8])} "
                "that test does not have"
            )
        # The model's own feature list is what it uses: everything else is
        # not a model feature (but remains in the data checks' view).
    return adapter


def build_context(
    *,
    train: Any,
    test: Any,
    current: Any,
    model: Any,
    config: AuditConfig,
    trust_model: bool,
    decisions: Any = None,
) -> AuditContext:
    """Read inputs, infer the schema, wrap the model; raise on unusable input."""
    frames, sources, decisions_frame, decision_cols = _read_inputs(
        train, test, current, decisions, config
    )
    pred_cols = [c for c in [config.prediction, *config.score] if c]
    schema = _test_schema(frames, config, pred_cols)
    if "train" in frames and config.target is not None:
        schema = _with_train_classes(schema, frames["train"], config.target)
    _align_columns(frames, config.target, set(pred_cols) | set(config.ignore))
    if "current" in frames:
        missing = [c for c in schema.features if c not in frames["current"].columns]
        if missing:
            raise SchemaError(
                f"current data lacks feature column(s) {', '.join(missing[:8])}; "
                "give it the same feature columns as test"
            )
    adapter = _adapter(model, config, trust_model, frames["test"])
    score_cols = _order_scores(list(config.score), list(schema.classes), schema.task)
    if schema.task == "binary" and len(score_cols) > 1:
        raise SchemaError(
            "a binary task takes one --score column (the positive-class probability), "
            f"got {len(score_cols)}"
        )
    ctx = AuditContext(
        frames=frames,
        sources=sources,
        schema=schema,
        settings=config.settings(),
        model=adapter,
        prediction_column=config.prediction,
        score_columns=tuple(score_cols),
        sensitive=tuple(config.sensitive),
        decisions=decisions_frame,
        decision_columns=decision_cols,
    )
    # Predict now: a model that cannot predict is unusable input, not a check error.
    if config.task in UNSUPERVISED_TASKS:
        from assay.unsupervised._inputs import prepare

        prepare(ctx)
    elif ctx.model is not None:
        for split in ("test", "train"):
            if ctx.has(split):
                ctx.predictions(split)
    return ctx


def select_checks(config: AuditConfig) -> list[CheckSpec]:
    """The checks an audit runs: ``include`` if given, else every default check
    plus opt-in checks enabled by id or area; minus ``exclude``."""
    from assay.core.params import validate_thresholds
    from assay.core.registry import AREAS

    validate_thresholds(config.thresholds)
    specs = all_checks()
    for name in config.enable:
        if name not in AREAS:
            get_check(name)  # unknown ids are an error
    if config.include:
        specs = [get_check(i) for i in config.include]
    else:
        enabled = set(config.enable)
        specs = [s for s in specs if not s.opt_in or s.id in enabled or s.area in enabled]
    for i in config.exclude:
        get_check(i)  # unknown ids are an error
    if not config.include:  # checks of other kinds of task are left out, not skipped
        if config.task in UNSUPERVISED_TASKS:
            specs = [s for s in specs if config.task in s.tasks]
        else:
            specs = [s for s in specs if not set(s.tasks) <= set(UNSUPERVISED_TASKS)]
    return [s for s in specs if s.id not in set(config.exclude)]


def audit(
    train: Any = None,
    test: Any = None,
    target: str | None = None,
    model: Any = None,
    prediction: str | None = None,
    score: str | Iterable[str] | None = None,
    sensitive: str | Iterable[str] | None = None,
    current: Any = None,
    config: AuditConfig | Mapping[str, Any] | str | Path | None = None,
    *,
    task: str | None = None,
    trust_model: bool = False,
    progress: ProgressFn | None = None,
    engine: str = "local",
    scheduler: Any = None,
    decisions: Any = None,
) -> AuditResult:
    """Audit a model (or its predictions) and the data it was tested on.

    Parameters
    ----------
    train, test, current
        pandas or Polars DataFrames, or paths to CSV/Parquet files. ``test`` is required;
        ``train`` enables baseline, overfitting, overlap checks; ``current`` is unlabeled
        production data.
    target
        Name of the target column.
    model
        A fitted scikit-learn-compatible estimator, or a path to a ``.skops``
        / ``.onnx`` file (pickle/joblib only with ``trust_model=True``).
    prediction, score
        Column(s) holding predictions when there is no model: ``prediction`` the predicted
        label/value, ``score`` the positive-class probability (one per class, in class
        order, for multiclass).
    sensitive
        Column(s) with sensitive attributes (used by fairness checks).
    config
        An :class:`AuditConfig`, a mapping of its fields, or a YAML path.
        Keyword arguments win over the config.
    task
        ``"binary"``, ``"multiclass"`` or ``"regression"``; inferred if omitted.
    progress
        Called as ``progress(check_id, done, total)`` while checks run.
    engine
        ``"local"`` (default) or ``"dask"``: the data checks and drift from per-partition
        summaries of Parquet data (a file, a folder or a glob) on a Dask cluster, the other
        checks on a stated, seeded sample of at most ``max_rows_model_checks`` rows (see
        :mod:`assay.engine._audit_dask`).
    scheduler
        With ``engine="dask"``: a scheduler address, a ``distributed.Client``,
        or ``None`` to start a ``LocalCluster`` for this call.
    decisions
        Reviewed cases for ``monitoring.human_oversight`` (a frame or CSV/Parquet path): one
        row per case with the model's ``prediction``, the human ``decision``, the true
        ``label`` where known, and optionally ``reviewer`` and ``seconds`` (other names
        under ``decisions:`` in the config).

    Returns
    -------
    AuditResult

    Examples
    --------
    >>> import pandas as pd
    >>> from sklearn.linear_model import LogisticRegression
    >>> df = pd.DataFrame({"x": range(40), "y": [0, 1] * 20})
    >>> m = LogisticRegression().fit(df[["x"]], df["y"])
    >>> r = audit(train=df, test=df, target="y", model=m, config={"n_bootstrap": 20})
    >>> r.check("evaluation.performance").status in {"pass", "warn", "fail"}
    True
    """
    cfg = _merged(config, target, task, prediction, score, sensitive)
    specs = select_checks(cfg)
    if engine not in ("local", "dask"):
        raise ConfigError(f"engine must be 'local' or 'dask', not {engine!r}")
    data = {"train": train, "test": test, "current": current, "decisions": decisions}
    run = _dask_audit if engine == "dask" else _local_audit
    return run(specs, data, cfg, model, trust_model, scheduler, progress)


def _merged(
    config: AuditConfig | Mapping[str, Any] | str | Path | None,
    target: str | None,
    task: str | None,
    prediction: str | None,
    score: str | Iterable[str] | None,
    sensitive: str | Iterable[str] | None,
) -> AuditConfig:
    """The config given, with ``assay.audit``'s keyword arguments over it."""
    return AuditConfig.resolve(config).merged(
        target=target,
        task=task,
        prediction=prediction,
        score=as_list(score),
        sensitive=as_list(sensitive),
    )


def _local_audit(
    specs: list[CheckSpec],
    data: dict[str, Any],
    cfg: AuditConfig,
    model: Any,
    trust_model: bool,
    scheduler: Any,
    progress: ProgressFn | None,
) -> AuditResult:
    """An audit in this process: every row read, every check run here."""
    ctx = build_context(**data, model=model, config=cfg, trust_model=trust_model)
    results = runner.run(specs, ctx, progress)
    return _result(ctx, results, specs, cfg, {name: df.height for name, df in ctx.frames.items()})


def _dask_audit(
    specs: list[CheckSpec],
    data: dict[str, Any],
    cfg: AuditConfig,
    model: Any,
    trust_model: bool,
    scheduler: Any,
    progress: ProgressFn | None,
) -> AuditResult:
    """A Dask audit: the context from seeded samples, the data checks and drift from
    every row on the workers (:mod:`assay.engine._audit_dask`)."""
    from assay.engine._audit_dask import DaskAudit

    tables = {name: data[name] for name in ("train", "test", "current")}
    run = DaskAudit(
        tables, scheduler=scheduler, seed=cfg.seed, sample_rows=cfg.max_rows_model_checks
    )
    try:
        s = run.samples
        ctx = build_context(
            train=s.get("train"),
            test=s.get("test"),
            current=s.get("current"),
            model=model,
            config=cfg,
            trust_model=trust_model,
            decisions=data["decisions"],
        )
        ctx.sources.update(run.sources)
        run.use_predictions(ctx, model, trust_model)  # every row, on the workers
        run.attach(ctx, "train" if ctx.has("train") else "test")
        results = [run.note_sample(r, ctx) for r in runner.run(specs, ctx, progress)]
        rows = {name: run.engine.rows(name) for name in ctx.frames}
        extra_engine = run.describe(run.outcomes(ctx, model, trust_model), ctx)
    finally:
        run.close()
    return _result(ctx, results, specs, cfg, rows, engine="dask", extra_engine=extra_engine)


def _result(
    ctx: AuditContext,
    results: list[CheckResult],
    specs: list[CheckSpec],
    cfg: AuditConfig,
    rows: dict[str, int],
    *,
    engine: str | None = None,
    extra_engine: Mapping[str, Any] | None = None,
) -> AuditResult:
    """An audit's result: :func:`assemble` with the audit's inputs, its environment and
    the governance record (and the Dask engine's account of the run)."""
    return assemble(
        results,
        specs,
        ctx,
        inputs=_inputs(ctx, rows, results, cfg),
        engine=engine,
        environment=library_versions(),
        fail_on=cfg.fail_on,
        extra={
            "governance": _governance(results, cfg),
            **({"engine": extra_engine} if extra_engine is not None else {}),
        },
    )


def _inputs(
    ctx: AuditContext, rows: dict[str, int], results: list[CheckResult], cfg: AuditConfig
) -> dict[str, Any]:
    """``report.json``'s ``inputs``: each table's source, rows, columns and fingerprint
    (from ``data.provenance``), the schema, model, prediction and sensitive columns,
    and the decisions table."""
    inputs: dict[str, Any] = {
        name: {**ctx.sources[name].to_dict(), "rows": rows[name], "columns": df.width}
        for name, df in ctx.frames.items()
    }
    inputs["schema"] = ctx.schema.to_dict()
    inputs["model"] = ctx.model.describe() if ctx.model is not None else None
    inputs["prediction_columns"] = {
        "prediction": ctx.prediction_column,
        "score": list(ctx.score_columns),
    }
    inputs["sensitive"] = list(cfg.sensitive)
    if ctx.decisions is not None:
        inputs["decisions"] = {
            **ctx.sources["decisions"].to_dict(),
            "rows": ctx.decisions.height,
            "columns": ctx.decisions.width,
            "roles": dict(ctx.decision_columns),
        }
    prov = next((r for r in results if r.id == "data.provenance" and r.status != "error"), None)
    if prov is not None:
        for name, fp in prov.details.get("fingerprints", {}).items():
            if name in inputs:
                inputs[name]["fingerprint"] = fp
    return inputs


def assemble(
    results: Sequence[CheckResult],
    specs: Sequence[CheckSpec],
    ctx: AuditContext,
    *,
    inputs: Mapping[str, Any],
    environment: Mapping[str, str],
    fail_on: str,
    engine: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> AuditResult:
    """The :class:`AuditResult` of a run of ``specs`` on ``ctx`` (one assembly for
    ``assay.audit``, ``assay.drift.drift`` and ``assay bench``): the results in run
    order, the inputs as read, the settings with the engine (when named) and the
    checks run, the environment, the time and version, the gate level."""
    return AuditResult(
        checks=tuple(results),
        inputs=dict(inputs),
        settings={
            **ctx.settings.to_dict(),
            **({"engine": engine} if engine is not None else {}),
            "checks": [s.id for s in specs],
        },
        environment=dict(environment),
        created_at=_dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat(),
        assay_version=__version__,
        fail_on=fail_on,
        extra=dict(extra or {}),
    )


def _governance(results: list[CheckResult], cfg: AuditConfig) -> dict[str, Any]:
    """The standards crosswalk of the checks that ran, and the model card's owner fields."""
    from assay.governance import governance_record, owner_fields

    owner = owner_fields(getattr(cfg, "model_card", None), source="model_card")
    return governance_record([r.id for r in results], owner or None)


__all__ = ["Finding", "assemble", "audit", "build_context", "run_check"]
