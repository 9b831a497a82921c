"""``assay promote``: audit a champion and a candidate model on the same labeled
data and promote the candidate only if it passes the gates and is not worse
beyond the interval (:mod:`assay.monitoring.promote`).

Writes ``decision.json`` and both audits (``champion/``, ``candidate/``) under
``--out``. Exit codes: 0 promote, 1 keep the champion, 2 bad usage or
unreadable input.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``promote`` command to the ``assay`` app."""
    app.command("promote")(promote)


def promote(
    candidate: Annotated[Path, typer.Option(help="The candidate model file.")],
    model_file: Annotated[
        Path | None,
        typer.Option("--model-file", help="The champion model (.skops, .onnx, pickle)."),
    ] = None,
    data: Annotated[Path | None, typer.Option(help="Labeled recent data (CSV or Parquet).")] = None,
    target: Annotated[str | None, typer.Option(help="Target column.")] = None,
    store: Annotated[
        str | None,
        typer.Option(
            help="A monitoring store (sqlite:///... or postgresql://...): audit on "
            "its most recent labeled window against the stored champion."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="The model's name in --store.")] = None,
    window: Annotated[str, typer.Option(help="Window size with --store (1h, 1d, Nrows).")] = "1d",
    trust_model: Annotated[
        bool, typer.Option("--trust-model", help="Allow pickle/joblib models (runs their code).")
    ] = False,
    metric: Annotated[
        str | None, typer.Option(help="Metric to compare (default: the main metric).")
    ] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config file (same gates).")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="Output directory.")] = Path(
        "assay-promote"
    ),
) -> None:
    """Promote CANDIDATE over the champion only if it passes the same gates and is not
    worse beyond the interval on the same labeled data."""
    from assay.cli._options import EXIT_GATE, err, out
    from assay.cli._options import fail as _fail
    from assay.errors import AssayError
    from assay.monitoring.promote import promote as run_promotion

    if store is not None:
        _promote_in_store(store, model, candidate, window, metric, config)
        return
    if model_file is None or data is None or target is None:
        _fail("give --model-file, --data and --target, or --store and --model")
    for flag, path in (("--model-file", model_file), ("--candidate", candidate), ("--data", data)):
        if not path.exists():
            _fail(f"{flag}: {str(path)!r} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with err.status("auditing champion and candidate", spinner="dots"):
                decision = run_promotion(
                    model_file,
                    candidate,
                    data,
                    target=target,
                    config=config,
                    metric=metric,
                    trust_model=trust_model,
                )
    except AssayError as exc:
        _fail(str(exc))
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, result in (
        ("champion", decision.champion_result),
        ("candidate", decision.candidate_result),
    ):
        if result is not None:
            result.save(out_dir / name)
    tmp = out_dir / "decision.json.tmp"
    tmp.write_text(json.dumps(decision.to_dict(), indent=2), encoding="utf-8")
    os.replace(tmp, out_dir / "decision.json")
    verdict = "[green]PROMOTE[/]" if decision.promote else "[red]KEEP THE CHAMPION[/]"
    out.print(f"{verdict}: " + "; ".join(decision.reasons), soft_wrap=True)
    for who in ("champion", "candidate"):
        iv = getattr(decision, who)
        if iv:
            out.print(
                f"  {who}: {decision.metric} {iv.get('value')} [{iv.get('low')}, {iv.get('high')}]"
            )
    out.print(f"Decision written to [bold]{(out_dir / 'decision.json').resolve()}[/]")
    if not decision.promote:
        raise typer.Exit(EXIT_GATE)


def _promote_in_store(
    url: str,
    name: str | None,
    candidate: Path,
    window: str,
    metric: str | None,
    config: Path | None,
) -> None:
    """``--store`` mode: the service's promotion (same gates, model history kept)."""
    from assay.cli._options import EXIT_GATE, err, out
    from assay.cli._options import fail as _fail

    if not name:
        _fail("--store needs --model NAME")
    if not candidate.is_file():
        _fail(f"--candidate: {str(candidate)!r} does not exist")
    if candidate.suffix.lower() not in (".skops", ".onnx"):
        _fail("--candidate must be a .skops or .onnx file with --store (pickles are never loaded)")
    from assay.errors import AssayError
    from assay.service._app import ApiError
    from assay.service._store import open_store
    from assay.service._trigger_routes import _promote

    cfg = None
    if config is not None:
        import yaml

        cfg = yaml.safe_load(config.read_text(encoding="utf-8"))
    try:
        st = open_store(url)
        try:
            record = st.get_model(name)
            if record is None:
                _fail(f"--model: no model named {name!r} in the store")
            with err.status("auditing champion and candidate", spinner="dots"):
                doc = _promote(
                    st, record, candidate.name, candidate.read_bytes(), window, metric, cfg
                )
        finally:
            st.close()
    except ApiError as exc:
        _fail(str(exc.detail))
        return
    except AssayError as exc:
        _fail(str(exc))
        return
    verdict = "[green]PROMOTE[/]" if doc["promote"] else "[red]KEEP THE CHAMPION[/]"
    out.print(f"{verdict} (version {doc['version']}): " + "; ".join(doc["reasons"]), soft_wrap=True)
    if not doc["promote"]:
        raise typer.Exit(EXIT_GATE)
