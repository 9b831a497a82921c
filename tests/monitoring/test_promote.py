"""Champion / challenger decisions and the ``assay promote`` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from assay.cli.main import app
from assay.core.audit_result import AuditResult
from assay.core.result import CheckResult
from assay.monitoring.promote import decide_promotion, promote

from ..conftest import fit_logreg, make_binary

CFG = {"n_bootstrap": 100, "seed": 0, "include": ["evaluation.performance"]}


def result(value, low, high, *, metric="roc_auc", extra=()):
    perf = CheckResult(
        id="evaluation.performance",
        area="evaluation",
        title="Performance",
        status="pass",
        severity="high",
        summary="s",
        explanation="e",
        metrics={metric: value, f"{metric}_low": low, f"{metric}_high": high},
        details={"main_metric": metric},
    )
    return AuditResult((perf, *extra), {}, {}, {}, "", "")


def failing(check_id="data.integrity"):
    return CheckResult(
        id=check_id,
        area="data",
        title="t",
        status="fail",
        severity="high",
        summary="s",
        explanation="e",
    )


def test_better_candidate_is_promoted():
    d = decide_promotion(result(0.80, 0.78, 0.82), result(0.84, 0.82, 0.86))
    assert d.promote and d.metric == "roc_auc"
    # within the champion's interval counts as not worse
    assert decide_promotion(result(0.80, 0.78, 0.82), result(0.79, 0.77, 0.81)).promote


def test_worse_candidate_is_kept_out():
    d = decide_promotion(result(0.80, 0.78, 0.82), result(0.74, 0.72, 0.76))
    assert not d.promote and "below the low end" in d.reasons[0]
    assert json.loads(json.dumps(d.to_dict()))["promote"] is False


def test_lower_is_better_metric():
    champ = result(0.30, 0.28, 0.32, metric="log_loss")
    assert decide_promotion(champ, result(0.29, 0.27, 0.31, metric="log_loss")).promote
    assert not decide_promotion(champ, result(0.40, 0.38, 0.42, metric="log_loss")).promote


def test_candidate_failing_a_gate_is_kept_out():
    d = decide_promotion(result(0.80, 0.78, 0.82), result(0.90, 0.88, 0.92, extra=(failing(),)))
    assert not d.promote and d.failed_checks == ("data.integrity",)
    assert "data.integrity" in d.reasons[0]


@pytest.fixture(scope="module")
def models():
    train = make_binary(1500, seed=2)
    good = fit_logreg(train)
    noisy = train.assign(y=np.random.default_rng(0).permutation(train["y"].to_numpy()))
    bad = fit_logreg(noisy)
    return good, bad, make_binary(800, seed=3)


def test_promote_audits_both_on_the_same_window(models):
    good, bad, window = models
    up = promote(bad, good, window, target="y", config=CFG)
    assert up.promote, up.reasons
    assert up.candidate["value"] > up.champion["value"]
    assert up.candidate_result.check("evaluation.performance").status != "skipped"
    down = promote(good, bad, window, target="y", config=CFG)
    assert not down.promote


def test_promote_cli(models, tmp_path):
    import joblib

    good, bad, window = models
    joblib.dump(good, tmp_path / "good.joblib")
    joblib.dump(bad, tmp_path / "bad.joblib")
    window.to_csv(tmp_path / "window.csv", index=False)
    (tmp_path / "assay.yaml").write_text(json.dumps(CFG))
    base = ["promote", "--data", str(tmp_path / "window.csv"), "--target", "y", "--trust-model"]
    base += ["--config", str(tmp_path / "assay.yaml")]
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            *base,
            "--model-file",
            str(tmp_path / "bad.joblib"),
            "--candidate",
            str(tmp_path / "good.joblib"),
            "--out",
            str(tmp_path / "up"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "up" / "decision.json").read_text())["promote"] is True
    assert (tmp_path / "up" / "candidate" / "report.json").exists()
    res = runner.invoke(
        app,
        [
            *base,
            "--model-file",
            str(tmp_path / "good.joblib"),
            "--candidate",
            str(tmp_path / "bad.joblib"),
            "--out",
            str(tmp_path / "down"),
        ],
    )
    assert res.exit_code == 1, res.output
    # a pickle without --trust-model is refused with exit 2
    res = runner.invoke(
        app,
        [
            "promote",
            "--data",
            str(tmp_path / "window.csv"),
            "--target",
            "y",
            "--model-file",
            str(tmp_path / "good.joblib"),
            "--candidate",
            str(tmp_path / "bad.joblib"),
            "--out",
            str(tmp_path / "x"),
        ],
    )
    assert res.exit_code == 2
