"""The one run loop (issue #15 item 4): ``assay.core.runner.run(specs, context, progress)``
runs checks in order with failure isolation, and ``assay.audit``, ``assay.drift.drift``
and ``assay bench`` (through ``assay.audit``) all run their checks through it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import polars as pl
import pytest

from assay.core import runner
from assay.core.context import AuditContext, AuditSettings
from assay.core.registry import Outcome, SkipCheck, get_check
from assay.io.readers import TableSource
from assay.io.schema import infer_schema


def _ctx(**settings) -> AuditContext:
    rng = np.random.default_rng(0)
    df = pl.DataFrame({"x": rng.normal(size=200), "y": rng.integers(0, 2, 200)})
    return AuditContext(
        frames={"test": df},
        sources={"test": TableSource(name="test", path=None, kind="polars")},
        schema=infer_schema(df, target="y"),
        settings=AuditSettings(**settings),
    )


def _broken(ctx, th):
    return {"rows": ctx.frame("test").height}["missing"]  # a KeyError, as a bug would be


def _skipping(ctx, th):
    raise SkipCheck("nothing to look at here")


def _passing(ctx, th):
    return Outcome(status="pass", summary=f"limit {th['limit']}", metrics={"limit": th["limit"]})


def test_runs_in_order_isolates_failures_and_reports_progress():
    base = get_check("data.integrity")
    specs = [
        replace(base, id="t.broken", fn=_broken),
        replace(base, id="t.skip", fn=_skipping),
        replace(base, id="t.pass", fn=_passing, thresholds={"limit": 1}),
        replace(base, id="t.train", fn=_passing, needs=("train",)),
    ]
    seen: list[tuple[str, int, int]] = []
    results = runner.run(
        specs, _ctx(thresholds={"t.pass": {"limit": 3}}), lambda *a: seen.append(a)
    )
    assert [r.id for r in results] == ["t.broken", "t.skip", "t.pass", "t.train"]
    broken, skipped, passed, no_train = results
    assert broken.status == "error" and broken.details["exception"] == "KeyError"
    assert broken.details["where"].startswith("test_runner.py:")
    assert skipped.status == "skipped" and skipped.summary == "Skipped: nothing to look at here."
    assert passed.status == "pass" and passed.metrics == {"limit": 3}  # the config wins
    assert no_train.status == "skipped" and "no training data" in no_train.summary
    ids = [("t.broken", 0), ("t.skip", 1), ("t.pass", 2), ("t.train", 3), ("done", 4)]
    assert seen == [(check, done, 4) for check, done in ids]


def test_no_specs_is_no_results_and_one_done():
    seen: list[tuple[str, int, int]] = []
    assert runner.run([], _ctx(), lambda *a: seen.append(a)) == []
    assert seen == [("done", 0, 0)]


@pytest.fixture
def calls(monkeypatch):
    """Every call of the shared loop: the ids of the checks it was given."""
    seen: list[list[str]] = []
    real = runner.run

    def spy(specs, ctx, progress=None):
        seen.append([s.id for s in specs])
        return real(specs, ctx, progress)

    monkeypatch.setattr(runner, "run", spy)
    return seen


def _frame(n: int, shift: float = 0.0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    x = rng.normal(size=n) + shift
    return pd.DataFrame({"x": x, "y": (x + rng.normal(size=n) > 0).astype(int)})


def test_audit_and_drift_run_their_checks_through_the_shared_loop(calls):
    import assay
    from assay.drift import drift

    ref, cur = _frame(300), _frame(300, shift=2.0)
    seen: list[str] = []
    r = assay.audit(
        test=ref,
        target="y",
        prediction="y",
        config={"include": ["data.integrity", "evaluation.performance"], "n_bootstrap": 20},
        progress=lambda check, done, total: seen.append(check),
    )
    assert calls == [["data.integrity", "evaluation.performance"]]
    assert [c.id for c in r.checks] == calls[0] and seen[-1] == "done"
    d = drift(ref, cur, config={"include": ["drift.features"], "n_bootstrap": 20})
    assert calls[1] == ["drift.features"]
    assert d.check("drift.features").status == "fail"  # the planted shift is caught


def test_bench_runs_its_checks_through_the_shared_loop(calls, tmp_path):
    """``assay bench`` (in process) runs the three efficiency checks through the loop."""
    import skops.io as sio

    from tests.cli.helpers import run_cli
    from tests.conftest import fit_logreg, make_binary

    df = make_binary(400, seed=3)
    df.to_csv(tmp_path / "data.csv", index=False)
    sio.dump(fit_logreg(df), tmp_path / "model.skops")
    (tmp_path / "assay.yaml").write_text(
        "thresholds:\n"
        "  efficiency.inference: {time_budget_s: 0.2}\n"
        "  efficiency.quantization: {time_budget_s: 0.2}\n"
    )
    proc = run_cli(
        "bench",
        "--model",
        tmp_path / "model.skops",
        "--data",
        tmp_path / "data.csv",
        "--target",
        "y",
        "--out",
        tmp_path / "out",
        "--trust-model",
        "--n-bootstrap",
        "20",
        cwd=tmp_path,
    )
    assert proc.returncode in (0, 1), proc.stderr
    assert calls == [["efficiency.inference", "efficiency.quantization", "efficiency.distillation"]]
