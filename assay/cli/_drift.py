"""``assay drift``: has current (production) data moved away from a reference?

Runs the drift checks only (``drift.features``, ``drift.prediction``,
``drift.target``, ``drift.multivariate``) and writes the same outputs as
``assay audit`` (``report.json``, ``report.html``, ``junit.xml``). With
``--engine dask`` the statistics are computed on a Dask cluster (a new
``LocalCluster``, or ``--scheduler ADDRESS``) from per-partition summaries of
Parquet data (a file, a folder or a glob). Exit codes as ``assay audit``: 0,
1 when a gate fails, 2 on bad usage or unreadable input.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from assay.cli._options import (
    Categorical,
    ConfigFile,
    FailOn,
    Ignore,
    NBootstrap,
    OutDir,
    Scheduler,
    Seed,
    check_engine,
    exit_for,
    load_base_config,
    print_summary,
    run_with_progress,
    split_csv,
    usage_errors,
)


def register(app: typer.Typer) -> None:
    """Add the ``drift`` command to the ``assay`` app."""
    app.command("drift")(drift)


_Reference = Annotated[
    str, typer.Option(help="Reference data: CSV or Parquet file, or a folder/glob of Parquet.")
]
_Current = Annotated[
    str, typer.Option(help="Current (production) data: CSV or Parquet file, or a folder/glob.")
]
_Target = Annotated[str | None, typer.Option(help="Target column (compared when current has it).")]
_Prediction = Annotated[
    str | None, typer.Option(help="Column holding predictions, in both tables.")
]
_Score = Annotated[
    list[str] | None,
    typer.Option(help="Score (probability) column, in both tables; repeat per class."),
]
_Engine = Annotated[
    str, typer.Option(help="'local' (in process, default) or 'dask' (a Dask cluster).")
]


def drift(
    reference: _Reference,
    current: _Current,
    target: _Target = None,
    prediction: _Prediction = None,
    score: _Score = None,
    out_dir: OutDir = Path("assay-drift"),
    engine: _Engine = "local",
    scheduler: Scheduler = None,
    fail_on: FailOn = None,
    config: ConfigFile = None,
    ignore: Ignore = None,
    categorical: Categorical = None,
    seed: Seed = None,
    n_bootstrap: NBootstrap = None,
) -> None:
    """Compare current data with a reference: feature, prediction, target and multivariate
    drift; write report.json, report.html and junit.xml."""
    from assay.drift import drift as run_drift
    from assay.io.paths import check_output_dir

    check_engine(engine, scheduler)
    with usage_errors():
        check_output_dir(out_dir, option="--out")
        base = load_base_config(config)
        cfg = base.merged(
            target=target,
            prediction=prediction,
            score=split_csv(score),
            ignore=split_csv(ignore) + base.ignore,
            categorical=split_csv(categorical) + base.categorical,
            seed=seed,
            n_bootstrap=n_bootstrap,
            fail_on=fail_on,
        )
        logging.getLogger("distributed").setLevel(logging.ERROR)
        result = run_with_progress(
            run_drift,
            "starting a Dask cluster" if engine == "dask" else "reading inputs",
            reference=reference,
            current=current,
            config=cfg,
            engine=engine,
            scheduler=scheduler,
        )
        result.save(out_dir)
    print_summary(result, out_dir, title="Assay drift")
    exit_for(result)
