"""``assay`` command line: audit, report, demo, checks.

Exit codes: 0 no gate failed, 1 a gate failed, 2 bad usage or unreadable input
(one line on stderr, no traceback, nothing written).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assay.cli._options import (
    EXIT_OK,
    EXIT_USAGE,
    Categorical,
    ConfigFile,
    FailOn,
    Ignore,
    NBootstrap,
    OutDir,
    Scheduler,
    Seed,
    TrustModel,
    check_engine,
    err,
    exit_for,
    load_base_config,
    out,
    print_summary,
    run_with_progress,
    split_csv,
    usage_errors,
    warn_trust_model,
)
from assay.cli._options import fail as _fail
from assay.errors import AssayError
from assay.io.paths import check_output_dir

if TYPE_CHECKING:
    from assay.core.audit_result import AuditResult
    from assay.core.config import AuditConfig

app = typer.Typer(
    name="assay",
    help="Evidence for a machine-learning model: performance with intervals, data trust, "
    "and a report anyone can read.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def load_report_json(path: Path) -> dict:
    """A report.json read back from disk, or a one-line usage error (exit 2).

    Nesting is bounded (:data:`assay.io._safejson.MAX_JSON_DEPTH`) so an edited
    file cannot crash the parser; a file without a ``checks`` list is refused.
    """
    from assay.io._safejson import loads_bounded

    if not path.is_file():
        _fail(f"report file {path} does not exist; check the path")
    try:
        data = loads_bounded(path.read_bytes(), where=f"report file {path}")
    except AssayError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"report file {path} could not be read ({exc.strerror or exc})")
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        _fail(f"report file {path} is not an Assay report (no 'checks' list)")
    return data


def _run_audit(**kwargs: Any) -> AuditResult:
    """Run an audit with a rich progress bar on stderr (warnings silenced)."""
    import assay

    return run_with_progress(assay.audit, **kwargs)


# -- assay audit: its own options (the shared ones are in assay.cli._options) ----------
# Data paths stay text: Path() would fold an fsspec URL's "://" (--engine dask).
_Test = Annotated[str, typer.Option(help="Test data (CSV or Parquet) with the target.")]
_Target = Annotated[str | None, typer.Option(help="Target column.")]
_Train = Annotated[str | None, typer.Option(help="Training data (CSV or Parquet).")]
_Model = Annotated[
    Path | None,
    typer.Option(
        help="Model: .skops, .onnx, XGBoost .json/.ubj, LightGBM .txt, CatBoost .cbm, an "
        "MLflow model directory or models:/ runs:/ URI (pickle needs --trust-model)."
    ),
]
_Prediction = Annotated[
    str | None, typer.Option(help="Column holding predictions (when there is no model).")
]
_Score = Annotated[
    list[str] | None,
    typer.Option(help="Column with the positive-class probability; repeat per class."),
]
_Sensitive = Annotated[
    list[str] | None, typer.Option(help="Sensitive attribute column(s), comma-separated.")
]
_Current = Annotated[str | None, typer.Option(help="Unlabeled production data.")]
_Decisions = Annotated[
    Path | None,
    typer.Option(
        help="Reviewed cases (CSV or Parquet) for monitoring.human_oversight: columns "
        "prediction, decision, label, reviewer, seconds (rename under 'decisions:' in "
        "assay.yaml)."
    ),
]
_Task = Annotated[
    str | None,
    typer.Option(
        help="binary, multiclass or regression (default: inferred); clustering (clusters "
        "from the model or --prediction) or anomaly (scores from the model or --score, "
        "flags from --prediction, known anomalies as --target)."
    ),
]
_Check = Annotated[list[str] | None, typer.Option(help="Run only these check ids (repeatable).")]
_Skip = Annotated[list[str] | None, typer.Option(help="Skip these check ids.")]
_Enable = Annotated[
    list[str] | None,
    typer.Option(help="Turn on opt-in checks by area or id (e.g. efficiency)."),
]
_Efficiency = Annotated[
    bool, typer.Option("--efficiency", help="Add the (slower) efficiency checks.")
]
_Engine = Annotated[
    str,
    typer.Option(
        help="'local' (in process, default) or 'dask': data checks and drift from "
        "per-partition summaries of Parquet (a file, a folder or a glob) on a Dask "
        "cluster, the other checks on a seeded sample."
    ),
]


@app.command()
def audit(
    test: _Test,
    target: _Target = None,
    train: _Train = None,
    model: _Model = None,
    trust_model: TrustModel = False,
    prediction: _Prediction = None,
    score: _Score = None,
    sensitive: _Sensitive = None,
    current: _Current = None,
    decisions: _Decisions = None,
    out_dir: OutDir = Path("assay-report"),
    fail_on: FailOn = None,
    config: ConfigFile = None,
    task: _Task = None,
    categorical: Categorical = None,
    ignore: Ignore = None,
    check: _Check = None,
    skip: _Skip = None,
    enable: _Enable = None,
    efficiency: _Efficiency = False,
    seed: Seed = None,
    n_bootstrap: NBootstrap = None,
    engine: _Engine = "local",
    scheduler: Scheduler = None,
) -> None:
    """Audit a model and its data; write report.json, report.html and junit.xml."""
    options = dict(locals())
    check_engine(engine, scheduler)
    with usage_errors():
        check_output_dir(out_dir, option="--out")
        cfg = _audit_config(options)
        if cfg.target is None and cfg.task not in ("clustering", "anomaly"):
            _fail("--target is required (or 'target:' in the config file)")
        warn_trust_model(model, trust_model)
        result = _run_audit(
            train=train,
            test=test,
            current=current,
            model=model,
            config=cfg,
            trust_model=trust_model,
            decisions=decisions,
            **({"engine": engine, "scheduler": scheduler} if engine == "dask" else {}),
        )
        result = _with_invocation(result, _invocation_options(options))
        result.save(out_dir)
    print_summary(result, out_dir)
    exit_for(result)


def _audit_config(o: dict[str, Any]) -> AuditConfig:
    """The config file's settings with ``assay audit``'s options over them; list
    options (columns, areas) add to the file's lists."""
    base = load_base_config(o["config"])
    return base.merged(
        target=o["target"],
        task=o["task"],
        prediction=o["prediction"],
        score=split_csv(o["score"]),
        sensitive=split_csv(o["sensitive"]),
        categorical=split_csv(o["categorical"]) + base.categorical,
        ignore=split_csv(o["ignore"]) + base.ignore,
        include=list(o["check"] or []),
        exclude=list(o["skip"] or []),
        enable=split_csv(o["enable"]) + (["efficiency"] if o["efficiency"] else []) + base.enable,
        seed=o["seed"],
        n_bootstrap=o["n_bootstrap"],
        fail_on=o["fail_on"],
    )


def _invocation_options(o: dict[str, Any]) -> dict[str, Any]:
    """``{"--test": value, ...}`` as given (in the order report.json records them, for
    reruns), with the config file actually read and the engine only when not local."""
    config = o["config"]
    if config is None and Path("assay.yaml").exists():
        config = Path("assay.yaml")
    return {
        "--test": o["test"],
        "--train": o["train"],
        "--current": o["current"],
        "--decisions": o["decisions"],
        "--target": o["target"],
        "--model": o["model"],
        "--trust-model": o["trust_model"],
        "--task": o["task"],
        "--prediction": o["prediction"],
        "--score": o["score"],
        "--sensitive": o["sensitive"],
        "--categorical": o["categorical"],
        "--ignore": o["ignore"],
        "--config": config,
        "--fail-on": o["fail_on"],
        "--seed": o["seed"],
        "--n-bootstrap": o["n_bootstrap"],
        "--check": o["check"],
        "--skip": o["skip"],
        "--enable": o["enable"],
        "--efficiency": o["efficiency"],
        "--engine": o["engine"] if o["engine"] != "local" else None,
        "--scheduler": o["scheduler"],
        "--out": o["out_dir"],
    }


def _with_invocation(result: AuditResult, options: dict) -> AuditResult:
    """The result with the options it was run with in ``extra.invocation`` (for reruns)."""
    from dataclasses import replace

    from assay.governance._plan import audit_invocation

    invocation = {"command": "audit", "args": audit_invocation(options)}
    return replace(result, extra={**result.extra, "invocation": invocation})


@app.command()
def report(
    report_json: Annotated[Path, typer.Argument(help="A report.json written by assay.")],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Directory (default: next to the JSON).")
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="'files' (default): rebuild the files; 'summary': print a short Markdown "
            "summary for a CI job page or pull-request comment.",
        ),
    ] = "files",
) -> None:
    """Rebuild report.html, junit.xml, the model card and datasheet from a report.json.

    With --format summary, print a short Markdown summary instead (for $GITHUB_STEP_SUMMARY
    or a pull-request comment); nothing is written.
    """
    from assay.core.audit_result import write_outputs

    if fmt not in ("files", "summary"):
        _fail(f"--format must be 'files' or 'summary', not {fmt!r}")
    data = load_report_json(report_json)
    if fmt == "summary":
        from assay.render.summary import render_summary

        try:
            text = render_summary(data)
        except Exception as exc:
            _fail(
                f"report file {report_json} could not be summarised ({type(exc).__name__}: {exc})"
            )
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    target_dir = out_dir or report_json.parent
    try:
        check_output_dir(target_dir, option="--out")
    except AssayError as exc:
        _fail(str(exc))
    try:
        write_outputs(data, target_dir, include_json=False)
    except Exception as exc:
        _fail(f"report file {report_json} could not be rendered ({type(exc).__name__}: {exc})")
    out.print(f"Report written to [bold]{(target_dir / 'report.html').resolve()}[/]")


@app.command()
def demo(
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path("assay-demo"),
    n_bootstrap: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 500,
    stream: Annotated[
        bool,
        typer.Option(
            help="Then replay a drifting production stream through the monitoring service, "
            "retrain and promote a challenger (monitoring.html)."
        ),
    ] = True,
    task: Annotated[
        str,
        typer.Option(
            help="binary (the income classifier), clustering (customer segments) or anomaly "
            "(unusual records), all on the bundled UCI Adult data."
        ),
    ] = "binary",
) -> None:
    """Train a model on the bundled UCI Adult data, audit it, write the report."""
    from assay.demo import run_demo

    if task != "binary":
        _demo_unsupervised(task, out_dir, n_bootstrap)
        return
    try:
        check_output_dir(out_dir, option="--out")
        with err.status("training the demo model on UCI Adult (48,842 rows)"):
            train, test, model = run_demo.prepare()
        result = _run_audit(
            train=train,
            test=test,
            model=model,
            config={**run_demo.DEMO_CONFIG, "n_bootstrap": n_bootstrap},
        )
        result.save(out_dir)
        run_demo.save_artifacts(out_dir, model)
        evidence = run_demo.write_evidence(out_dir)
        monitoring: list[str] = []
        if stream:
            from assay.demo.stream import demo_lines

            with err.status("replaying a production stream into the monitoring service") as st:
                monitoring = demo_lines(out_dir, model, train, test, progress=st.update)
    except AssayError as exc:
        _fail(str(exc))
    print_summary(result, out_dir)
    out.print(evidence, soft_wrap=True, markup=False, highlight=False)
    for line in monitoring:
        out.print(line, soft_wrap=True, markup=False, highlight=False)


def _demo_unsupervised(task: str, out_dir: Path, n_bootstrap: int) -> None:
    """``assay demo --task clustering|anomaly``: fit, audit, save, pack the evidence."""
    from assay.demo import run_demo
    from assay.demo import unsupervised as demo

    if task not in demo.TASKS:
        _fail(f"--task must be binary, {', '.join(demo.TASKS)}; got {task!r}")
    try:
        check_output_dir(out_dir, option="--out")
        with err.status(f"fitting the {task} demo model on UCI Adult"):
            frames, model = demo.prepare(task)
        result = _run_audit(**frames, model=model, config=demo.config(task, n_bootstrap))
        result.save(out_dir)
        run_demo.save_artifacts(out_dir, model)
        evidence = run_demo.write_evidence(out_dir)
    except AssayError as exc:
        _fail(str(exc))
    out.print(demo.describe(task), soft_wrap=True, markup=False, highlight=False)
    print_summary(result, out_dir)
    out.print(evidence, soft_wrap=True, markup=False, highlight=False)


@app.command("checks")
def list_checks_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List every registered check with its area, standards and thresholds."""
    from assay.core.registry import all_checks

    specs = all_checks()
    if as_json:
        out.print_json(
            json.dumps(
                [
                    {
                        "id": s.id,
                        "area": s.area,
                        "title": s.title,
                        "needs": list(s.needs),
                        "standards": list(s.standards),
                        "thresholds": dict(s.thresholds),
                    }
                    for s in specs
                ]
            )
        )
        return
    for s in specs:
        out.print(f"[bold]{s.id}[/]  {s.title}  [dim]{', '.join(s.standards)}[/]")


@app.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of assay.yaml, with every check's parameters (for editors)."""
    from assay.core.config_schema import render_schema

    sys.stdout.write(render_schema())


@app.callback(invoke_without_command=True)
def _root(
    version: Annotated[bool, typer.Option("--version", help="Print the version.")] = False,
) -> None:
    if version:
        from assay._version import __version__

        out.print(f"assay {__version__}")
        raise typer.Exit(EXIT_OK)


# Commands of other lifecycle areas live in their own modules, each with a
# ``register(app)`` function; they import their heavy dependencies lazily.
_COMMAND_MODULES = (
    "assay.cli._drift",
    "assay.cli._bench",
    "assay.cli._anonymize",
    "assay.cli._serve",
    "assay.cli._governance",
    "assay.cli._security",
    "assay.cli._promote",
)


def _register_commands() -> None:
    import importlib

    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue  # not built yet
            raise
        module.register(app)


_register_commands()


def main() -> None:
    """Entry point: run the app; usage and unexpected errors become one line."""
    try:
        rc = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted")
        sys.exit(130)
    except Exception as exc:
        if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):
            # Typer's usage errors: missing option, bad value, unknown flag.
            ctx = getattr(exc, "ctx", None)
            if not exc.format_message().strip():  # no arguments: help was shown
                if ctx is not None:
                    out.print(ctx.get_help())
                sys.exit(EXIT_USAGE)
            hint = f" (see: {ctx.command_path} --help)" if ctx is not None else ""
            err.print(f"error: {exc.format_message()}{hint}", soft_wrap=True, markup=False)
            sys.exit(EXIT_USAGE)
        if os.environ.get("ASSAY_DEBUG"):
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc} "
            "(set ASSAY_DEBUG=1 for the traceback and please report it)",
            soft_wrap=True,
            markup=False,
        )
        sys.exit(EXIT_USAGE)
    sys.exit(rc if isinstance(rc, int) else EXIT_OK)


if __name__ == "__main__":  # pragma: no cover
    main()
