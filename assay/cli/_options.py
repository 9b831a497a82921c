"""What the ``assay`` commands share: the consoles and exit codes, the options that
``audit``, ``drift`` and ``bench`` (and others) repeat, and the steps around a run
(the config file, the engine flags, the progress bar, the summary, the gate's exit).

An option used by more than one command is declared here once, as an ``Annotated``
type; a command gives it its default (``out_dir: OutDir = Path("assay-drift")``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress

    from assay.core.audit_result import AuditResult
    from assay.core.config import AuditConfig

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)

EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2
ENGINES = ("local", "dask")

# -- options more than one command takes ---------------------------------------------
OutDir = Annotated[Path, typer.Option("--out", help="Output directory.")]
ConfigFile = Annotated[
    Path | None, typer.Option(help="YAML config file (default: ./assay.yaml if present).")
]
FailOn = Annotated[str | None, typer.Option(help="Gate level: 'fail' (default) or 'warn'.")]
Seed = Annotated[int | None, typer.Option(help="Random seed (default 0).")]
NBootstrap = Annotated[
    int | None, typer.Option(help="Bootstrap resamples for intervals (default 500).")
]
Ignore = Annotated[list[str] | None, typer.Option(help="Columns to leave out, comma-separated.")]
Categorical = Annotated[
    list[str] | None, typer.Option(help="Columns to treat as categorical, comma-separated.")
]
TrustModel = Annotated[
    bool, typer.Option("--trust-model", help="Allow pickle/joblib models (runs their code).")
]
Scheduler = Annotated[
    str | None, typer.Option(help="Dask scheduler address (default: start a local cluster).")
]


# -- steps -----------------------------------------------------------------------------
def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2 (bad usage or unreadable input)."""
    err.print(f"error: {message}", soft_wrap=True, markup=False, highlight=False)
    raise typer.Exit(EXIT_USAGE)


def split_csv(values: list[str] | None) -> list[str]:
    """Repeated, comma-separated option values as one list of names."""
    items: list[str] = []
    for v in values or []:
        items.extend(x.strip() for x in v.split(",") if x.strip())
    return items


def check_engine(engine: str, scheduler: str | None) -> None:
    """``--engine`` is local or dask, and ``--scheduler`` goes with dask only."""
    if engine not in ENGINES:
        fail(f"--engine must be 'local' or 'dask', not {engine!r}")
    if scheduler and engine != "dask":
        fail("--scheduler needs --engine dask")


def warn_trust_model(model: Path | None, trust_model: bool) -> None:
    """Say that ``--trust-model`` lets the model file run code."""
    if model is not None and trust_model:
        err.print(f"[yellow]warning:[/] --trust-model: loading {model} may run code it contains")


def load_base_config(config: Path | None) -> AuditConfig:
    """The config file given, else ``./assay.yaml`` when present, else defaults."""
    from assay.core.config import AuditConfig

    if config is None and Path("assay.yaml").exists():
        config = Path("assay.yaml")
    return AuditConfig.from_file(config) if config is not None else AuditConfig()


def progress_bar() -> Progress:
    """The progress bar every long command shows on stderr (off when not a terminal)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    )


R = TypeVar("R")


def run_with_progress(run: Callable[..., R], first: str = "reading inputs", **kwargs: Any) -> R:
    """``run(progress=..., **kwargs)`` (``assay.audit``, ``assay.drift.drift``) under the
    progress bar, warnings silenced; the bar reads ``first`` until the checks start."""
    with warnings.catch_warnings(), progress_bar() as bar:
        warnings.simplefilter("ignore")
        task = bar.add_task(first, total=None)

        def progress(check_id: str, done: int, total: int) -> None:
            bar.update(task, description=check_id, completed=done, total=total)

        return run(progress=progress, **kwargs)


def print_summary(result: AuditResult, out_dir: Path | None, title: str = "Assay audit") -> None:
    """The checks as a table, the counts and the gate; where the report was written."""
    from rich.table import Table

    colours = {"pass": "green", "warn": "yellow", "fail": "red", "error": "magenta"}
    table = Table(title=title, show_lines=False, expand=False)
    table.add_column("check")
    table.add_column("status")
    table.add_column("summary", overflow="fold", max_width=90)
    for c in result.checks:
        col = colours.get(c.status, "dim" if c.status == "skipped" else "white")
        table.add_row(c.id, f"[{col}]{c.status}[/]", c.summary)
    out.print(table)
    counts = "  ".join(f"{k}: {v}" for k, v in result.summary().items() if v)
    gate = "[red]FAILED[/]" if result.gate_failed() else "[green]passed[/]"
    out.print(f"{counts}   gate ({result.fail_on}): {gate}")
    if out_dir is not None:
        out.print(f"Report written to [bold]{(out_dir / 'report.html').resolve()}[/]")


def exit_for(result: AuditResult) -> NoReturn:
    """Exit 1 when the result's gate failed, else 0."""
    raise typer.Exit(EXIT_GATE if result.gate_failed() else EXIT_OK)


@contextmanager
def usage_errors() -> Iterator[None]:
    """An :class:`~assay.errors.AssayError` raised inside becomes one line and exit 2."""
    from assay.errors import AssayError

    try:
        yield
    except AssayError as exc:
        fail(str(exc))
