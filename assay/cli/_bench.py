"""``assay bench``: how fast and how costly is the model, and what would its ONNX,
int8 and distilled variants change?

Runs only the efficiency checks (``efficiency.inference``,
``efficiency.quantization``, ``efficiency.distillation``) and writes the same
outputs as ``assay audit`` (``report.json``, ``report.html``, ``junit.xml``).
Exit codes as ``assay audit``: 0, 1 when a gate fails, 2 on bad input.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from assay.cli._options import (
    NBootstrap,
    OutDir,
    Seed,
    TrustModel,
    err,
    exit_for,
    fail,
    load_base_config,
    out,
    print_summary,
    run_with_progress,
    usage_errors,
    warn_trust_model,
)

if TYPE_CHECKING:
    from assay.core.config import AuditConfig

EFFICIENCY_CHECKS = (
    "efficiency.inference",
    "efficiency.quantization",
    "efficiency.distillation",
)


def register(app: typer.Typer) -> None:
    """Add the ``bench`` command to the ``assay`` app."""
    app.command("bench")(bench)


_Model = Annotated[
    Path, typer.Option(help="Model file: .skops or .onnx (pickle needs --trust-model).")
]
_Data = Annotated[
    Path, typer.Option(help="Test data (CSV or Parquet) to time and score the model on.")
]
_Target = Annotated[
    str | None,
    typer.Option(help="Target column (default: the one data column the model does not take)."),
]
_Train = Annotated[
    Path | None,
    typer.Option(help="Training data (CSV or Parquet): needed to distil smaller students."),
]
_LatencyBudget = Annotated[
    float | None,
    typer.Option(help="Latency budget per call in ms (default 100) for the batch size advice."),
]
_Config = Annotated[
    Path | None,
    typer.Option(help="YAML config: thresholds and instance profiles (default ./assay.yaml)."),
]


def bench(
    model: _Model,
    data: _Data,
    target: _Target = None,
    train: _Train = None,
    out_dir: OutDir = Path("assay-bench"),
    trust_model: TrustModel = False,
    latency_budget_ms: _LatencyBudget = None,
    config: _Config = None,
    seed: Seed = None,
    n_bootstrap: NBootstrap = None,
) -> None:
    """Time the model one row at a time and in batches, convert and quantize it, distil
    it, and price a million predictions; write report.json, report.html and junit.xml."""
    import assay
    from assay.io.paths import check_output_dir

    if latency_budget_ms is not None and not latency_budget_ms > 0:
        fail(f"--latency-budget-ms must be a positive number of ms, not {latency_budget_ms}")
    with usage_errors():
        check_output_dir(out_dir, option="--out")
        cfg = _bench_config(config, target, latency_budget_ms, seed, n_bootstrap)
        if cfg.target is None:
            guessed = _guess_target(model, data, trust_model)
            err.print(
                f"using {guessed!r} as the target: the one data column the model does not take"
            )
            cfg = cfg.merged(target=guessed)
        warn_trust_model(model, trust_model)
        result = run_with_progress(
            assay.audit, train=train, test=data, model=model, config=cfg, trust_model=trust_model
        )
        result.save(out_dir)
    print_summary(result, out_dir=None)
    print_tables(result)
    out.print(f"Report written to [bold]{(out_dir / 'report.html').resolve()}[/]")
    exit_for(result)


def _bench_config(
    config: Path | None,
    target: str | None,
    latency_budget_ms: float | None,
    seed: int | None,
    n_bootstrap: int | None,
) -> AuditConfig:
    """The config file's settings, the efficiency checks only, the latency budget given."""
    base = load_base_config(config)
    thresholds = {k: dict(v) for k, v in base.thresholds.items()}
    if latency_budget_ms is not None:
        thresholds.setdefault("efficiency.inference", {})["latency_budget_ms"] = float(
            latency_budget_ms
        )
    return base.merged(
        target=target,
        include=list(EFFICIENCY_CHECKS),
        thresholds=thresholds,
        seed=seed,
        n_bootstrap=n_bootstrap,
    )


def _guess_target(model: Path, data: Path, trust_model: bool) -> str:
    """The one column of ``data`` the model does not take, or a usage error."""
    from assay.errors import InputError
    from assay.io.models import load_model
    from assay.io.readers import read_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        names = load_model(model, trust_model=trust_model).feature_names
    frame, _ = read_table(data, name="data")
    extra = [c for c in frame.columns if names is not None and c not in set(names)]
    if names is None or len(extra) != 1:
        found = f" (candidates: {', '.join(extra[:8])})" if extra else ""
        raise InputError(
            f"--target is required: the target column of {data} could not be told from the "
            f"model's inputs{found}"
        )
    return extra[0]


# -- tables --------------------------------------------------------------------------
def _num(value: Any, spec: str) -> str:
    return "–" if value is None else format(value, spec)


def print_tables(result: Any) -> None:
    """The efficiency figures as tables on stdout (from the results alone)."""
    from rich.table import Table

    from assay.efficiency._cost import fmt_usd
    from assay.efficiency._variants import fmt_bytes

    by_id = {c.id: c for c in result.checks}
    inf = by_id.get("efficiency.inference")
    if inf is not None and inf.status not in ("skipped", "error"):
        d, m = inf.details, inf.metrics
        t = Table(title="Inference by batch size (one thread)", expand=False)
        for col in ("batch size", "calls", "p50 ms", "p95 ms", "rows/s"):
            t.add_column(col, justify="right")
        single = d["single_row"]
        t.add_row(
            "1 (single rows)",
            str(single["repetitions"]),
            _num(single["p50_ms"], ".3g"),
            _num(single["p95_ms"], ".3g"),
            _num(single["rows_per_s"], ",.0f"),
        )
        for b in d["batches"]:
            mark = " ★" if b["batch_size"] == d.get("recommended_batch_size") else ""
            t.add_row(
                f"{b['batch_size']:,}{mark}",
                str(b["repetitions"]),
                _num(b["p50_ms"], ".3g"),
                _num(b["p95_ms"], ".3g"),
                _num(b["rows_per_s"], ",.0f"),
            )
        out.print(t)
        costs = "; ".join(
            f"{name}: {fmt_usd(c['usd_per_million'])} per million "
            f"(one row at a time {fmt_usd(c['usd_per_million_single_row'])})"
            for name, c in d["cost"].items()
        )
        out.print(
            f"p99 one row {_num(m.get('latency_p99_ms'), '.3g')} ms; ★ recommended batch for "
            f"the {d['latency_budget_ms']:g} ms budget; model size "
            f"{d['model_size']['text']}; peak memory {fmt_bytes(m.get('peak_memory_bytes'))} "
            f"(tracemalloc). Cost: {costs}.",
            soft_wrap=True,
        )
    for cid, title, agree in (
        ("efficiency.quantization", "ONNX variants", "agreement"),
        ("efficiency.distillation", "Distilled students", "fidelity"),
    ):
        c = by_id.get(cid)
        if c is None or c.status in ("skipped", "error"):
            continue
        rows = c.details.get("variants", [])
        if not rows:
            continue
        metric = rows[0]["metric_name"]
        instances = list(rows[0]["usd_per_million"])
        t = Table(title=f"{title} (one thread)", expand=False)
        t.add_column("variant")
        for col in ("p50 ms", "rows/s", "size", agree, f"Δ {metric} [CI]"):
            t.add_column(col, justify="right", no_wrap=col.startswith("Δ"))
        for name in instances:
            t.add_column(f"$ per million, {name}", justify="right")
        for r in rows:
            change = _num(r["metric_change"], "+.3f")
            if r["metric_change_low"] is not None and r["metric_change_high"] is not None:
                change += f" [{r['metric_change_low']:+.3f}, {r['metric_change_high']:+.3f}]"
            t.add_row(
                r.get("short") or r["label"],
                _num(r["latency_p50_ms"], ".3g"),
                _num(r["rows_per_s"], ",.0f"),
                fmt_bytes(r["size_bytes"]),
                _num(r["agreement"], ".2%"),
                change,
                *(fmt_usd(r["usd_per_million"][n]) for n in instances),
            )
        out.print(t)
