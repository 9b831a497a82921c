"""``assay anonymize``: write a de-identified copy of a table and prove it is clean.

The copy is written atomically (a temporary file in the output directory,
then renamed), read back from disk and scanned again; the command exits 1 when
that scan still finds personal data, 0 when it finds none, and 2 on bad usage
or unreadable input.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from assay.cli._options import (
    EXIT_GATE,
    EXIT_OK,
    err,
    fail,
    out,
    progress_bar,
    split_csv,
    usage_errors,
)

if TYPE_CHECKING:
    from assay.security.anonymize import Operator

_WRITERS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


def _format_of(path: Path) -> str | None:
    name = path.name.lower()
    for suffix, kind in _WRITERS.items():
        if name.endswith(suffix):
            return kind
    return None


def write_atomically(frame, path: Path) -> None:
    """Write ``frame`` as CSV or Parquet (by suffix) via a temporary file and a rename."""
    kind = _format_of(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if kind == "parquet":
            frame.write_parquet(tmp)
        else:  # formula cells (=cmd|...) get an apostrophe, as in every CSV Assay writes
            from assay.io.export import neutralize_frame

            neutralize_frame(frame).write_csv(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_written(path: Path):
    """Read back the copy just written, with the separator it was written with.

    Not through the delimiter sniffer: neutralized cells (``'=cmd|' /C calc'!A0``)
    look like quoted fields to it, and it can guess the wrong separator.
    """
    import polars as pl

    if _format_of(path) == "parquet":
        return pl.read_parquet(path)
    return pl.read_csv(path, separator=",", infer_schema_length=10000, try_parse_dates=True)


def register(app: typer.Typer) -> None:
    """Add the ``anonymize`` command to ``app``."""
    app.command("anonymize")(anonymize_cmd)


_Input = Annotated[
    Path, typer.Option("--input", "--in", help="Table to de-identify (CSV or Parquet).")
]
_Out = Annotated[Path, typer.Option("--out", help="Where to write the copy (.csv or .parquet).")]
_Columns = Annotated[
    list[str] | None,
    typer.Option(
        help="De-identify exactly these columns, every value (comma-separated). "
        "Default: the columns where personal data is found."
    ),
]
_Operator = Annotated[
    str,
    typer.Option(
        "--operator",
        "--method",
        help="replace (<EMAIL_ADDRESS>), mask (****), hash (salted SHA-256, "
        "keeps joins) or redact (removed).",
    ),
]
_Salt = Annotated[
    str | None,
    typer.Option(
        envvar="ASSAY_ANONYMIZE_SALT",
        help="Salt for --operator hash (16+ characters; the same salt keeps joins "
        "across files). Default: a random one.",
    ),
]


def anonymize_cmd(
    input_path: _Input,
    out_path: _Out,
    columns: _Columns = None,
    operator: _Operator = "replace",
    salt: _Salt = None,
) -> None:
    """Write a de-identified copy of a table, then re-scan it to prove nothing remains."""
    from assay.io.paths import check_output_file
    from assay.security.anonymize import OPERATORS

    if operator not in OPERATORS:
        fail(f"--operator must be one of {', '.join(OPERATORS)}, not {operator!r}")
    if _format_of(out_path) is None:
        fail(f"--out {out_path} must end in .csv or .parquet")
    if out_path.exists() and out_path.resolve() == input_path.resolve():
        fail("--out must differ from --input; the original is never overwritten")
    with usage_errors():
        check_output_file(out_path, option="--out")
    with usage_errors():
        result, written, remaining = _anonymize_file(
            input_path, out_path, split_csv(columns), cast("Operator", operator), salt
        )
    _print_actions(result, operator)
    out.print(f"Wrote {out_path.resolve()}")
    if result.salt_generated:
        err.print(
            "note: hashed with a random salt; hashes match within this file only "
            "(pass --salt to match across files)",
            soft_wrap=True,
        )
    if remaining:
        for r in remaining:
            err.print(
                f"remaining: column {r.column!r}: {r.values} value(s) still hold "
                f"{r.entity} (e.g. {r.example})",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        out.print("[red]Re-scan of the copy found personal data.[/]")
        raise typer.Exit(EXIT_GATE)
    out.print(
        f"[green]Re-scan of the copy found no personal data[/] "
        f"({len(written.columns)} columns, {written.height:,} rows)."
    )
    raise typer.Exit(EXIT_OK)


def _anonymize_file(
    input_path: Path, out_path: Path, wanted: list[str], operator: Operator, salt: str | None
) -> tuple[Any, Any, list[Any]]:
    """De-identify the table, write the copy atomically, read it back and scan it again:
    the result, the copy as read back and what the re-scan still finds."""
    from assay.io.readers import read_table
    from assay.security.anonymize import anonymize, verify

    frame, _source = read_table(input_path, name="input")
    with progress_bar() as bar:
        task = bar.add_task("scanning", total=None)

        def progress(column: str, done: int, total: int) -> None:
            bar.update(task, description=column, completed=done, total=total)

        result = anonymize(
            frame, columns=wanted or None, operator=operator, salt=salt, progress=progress
        )
        write_atomically(result.frame, out_path)
        bar.update(task, description="re-scanning the copy")
        written = read_written(out_path)
        remaining = verify(written, result)
    return result, written, remaining


def _print_actions(result: Any, operator: str) -> None:
    """What was changed, column by column (or that nothing was found)."""
    from rich.table import Table

    table = Table(title=f"assay anonymize ({operator})", show_lines=False, expand=False)
    table.add_column("column")
    table.add_column("how")
    table.add_column("why", overflow="fold", max_width=48)
    table.add_column("values", justify="right")
    table.add_column("rows", justify="right")
    for a in result.actions:
        how = "every value" if a.mode == "whole" else "the personal data inside"
        table.add_row(a.column, how, a.reason, f"{a.values_changed:,}", f"{a.rows_changed:,}")
    if result.actions:
        out.print(table)
    else:
        out.print(f"No personal data found in {len(result.columns_scanned)} column(s).")
