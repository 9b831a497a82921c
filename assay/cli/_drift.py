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
import warnings
from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add the ``drift`` command to the ``assay`` app."""
    app.command("drift")(drift)


def _print_result(result: Any, out_dir: Path) -> None:
    from rich.table import Table

    from assay.cli.main import out

    colours = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}
    table = Table(title="Assay drift", show_lines=False, expand=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("summary", overflow="fold", max_width=90)
    for c in result.checks:
        col = colours.get(c.status, "dim")
        table.add_row(c.id, f"[{col}]{c.status}[/]", c.summary)
    out.print(table)
    counts = "  ".join(f"{k}: {v}" for k, v in result.summary().items() if v)
    gate = "[red]FAILED[/]" if result.gate_failed() else "[green]passed[/]"
    out.print(f"{counts}   gate ({result.fail_on}): {gate}")
    out.print(f"Report written to [bold]{(out_dir / 'report.html').resolve()}[/]")


def drift(
    reference: Annotated[
        str,
        typer.Option(help="Reference data: CSV or Parquet file, or a folder/glob of Parquet."),
    ],
    current: Annotated[
        str,
        typer.Option(help="Current (production) data: CSV or Parquet file, or a folder/glob."),
    ],
    target: Annotated[
        str | None, typer.Option(help="Target column (compared when current has it).")
    ] = None,
    prediction: Annotated[
        str | None, typer.Option(help="Column holding predictions, in both tables.")
    ] = None,
    score: Annotated[
        list[str] | None,
        typer.Option(help="Score (probability) column, in both tables; repeat per class."),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("assay-drift"),
    engine: Annotated[
        str, typer.Option(help="'local' (in process, default) or 'dask' (a Dask cluster).")
    ] = "local",
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address (default: start a local cluster)."),
    ] = None,
    fail_on: Annotated[
        str | None, typer.Option(help="Gate level: 'fail' (default) or 'warn'.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config file (default: ./assay.yaml if present).")
    ] = None,
    ignore: Annotated[
        list[str] | None, typer.Option(help="Columns to leave out, comma-separated.")
    ] = None,
    categorical: Annotated[
        list[str] | None, typer.Option(help="Columns to treat as categorical, comma-separated.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Random seed (default 0).")] = None,
    n_bootstrap: Annotated[
        int | None, typer.Option(help="Bootstrap resamples for intervals (default 500).")
    ] = None,
) -> None:
    """Compare current data with a reference: feature, prediction, target and multivariate
    drift; write report.json, report.html and junit.xml."""
    from assay.cli.main import (
        EXIT_GATE,
        EXIT_OK,
        _fail,
        _split_csv,
        load_base_config,
        progress_bar,
    )
    from assay.drift import drift as run_drift
    from assay.errors import AssayError
    from assay.io.paths import check_output_dir

    if engine not in ("local", "dask"):
        _fail(f"--engine must be 'local' or 'dask', not {engine!r}")
    if scheduler and engine != "dask":
        _fail("--scheduler needs --engine dask")
    try:
        check_output_dir(out_dir, option="--out")
        base = load_base_config(config)
        cfg = base.merged(
            target=target,
            prediction=prediction,
            score=_split_csv(score),
            ignore=_split_csv(ignore) + base.ignore,
            categorical=_split_csv(categorical) + base.categorical,
            seed=seed,
            n_bootstrap=n_bootstrap,
            fail_on=fail_on,
        )
        logging.getLogger("distributed").setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            progress_bar() as bar,
        ):
            warnings.simplefilter("ignore")
            first = "starting a Dask cluster" if engine == "dask" else "reading inputs"
            task = bar.add_task(first, total=None)

            def progress(check_id: str, done: int, total: int) -> None:
                bar.update(task, description=check_id, completed=done, total=total)

            result = run_drift(
                reference,
                current,
                config=cfg,
                engine=engine,  # type: ignore[arg-type]  # "local" or "dask", checked above
                scheduler=scheduler,
                progress=progress,
            )
        result.save(out_dir)
    except AssayError as exc:
        _fail(str(exc))
    _print_result(result, out_dir)
    raise typer.Exit(EXIT_GATE if result.gate_failed() else EXIT_OK)
