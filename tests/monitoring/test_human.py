"""monitoring.human_oversight and the automation-bias measures (assay.monitoring.human):
simulated reviewers with known behaviour, the audit and CLI wiring, and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import assay
from assay.core.config import AuditConfig
from assay.errors import ConfigError, SchemaError
from assay.monitoring.human import (
    agreement_gap,
    by_reviewer,
    loop_accuracy,
    normalize,
    override_rate,
    review_times,
    wilson,
)

from ..cli.helpers import run_cli_subprocess

ONLY = {"include": ["monitoring.human_oversight"]}


def simulate(kinds: dict[str, str], n_each: int = 500, *, seed: int = 0, accuracy: float = 0.8):
    """Decisions of reviewers of known kinds on a model of known accuracy.

    ``stamp``: agrees with the model whatever the truth (2 s to accept);
    ``random``: overrides 20% of cases at random (adds no information);
    ``careful``: picks the truth on 70% of cases, else follows the model (15 s);
    ``harmful``: overrides 30% of the cases where the model is right.
    """
    rng = np.random.default_rng(seed)
    frames = []
    for name, kind in kinds.items():
        y = rng.integers(0, 2, n_each)
        pred = np.where(rng.random(n_each) < accuracy, y, 1 - y)
        if kind == "stamp":
            dec, secs = pred.copy(), rng.exponential(2, n_each)
        elif kind == "random":
            dec, secs = (
                np.where(rng.random(n_each) < 0.2, 1 - pred, pred),
                rng.exponential(8, n_each),
            )
        elif kind == "careful":
            dec, secs = np.where(rng.random(n_each) < 0.7, y, pred), rng.exponential(15, n_each)
        elif kind == "harmful":
            flip = (pred == y) & (rng.random(n_each) < 0.3)
            dec, secs = np.where(flip, 1 - pred, pred), rng.exponential(10, n_each)
        else:  # pragma: no cover
            raise ValueError(kind)
        frames.append(
            pd.DataFrame(
                {"prediction": pred, "decision": dec, "label": y, "reviewer": name, "seconds": secs}
            )
        )
    return pd.concat(frames, ignore_index=True)


def labelled_test():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"x": rng.normal(size=200)})
    df["y"] = (df.x + rng.normal(size=200) > 0).astype(int)
    df["p"] = (df.x > 0).astype(int)
    return df


def oversight(table, **config):
    cfg = {**ONLY, **config}
    r = assay.audit(test=labelled_test(), target="y", prediction="p", decisions=table, config=cfg)
    return r.check("monitoring.human_oversight")


# -- the measures on known counts --------------------------------------------------


def test_normalize_makes_int_float_and_text_agree_and_marks_missing():
    assert normalize([1, 1.0, "1", None, float("nan"), "", " a "]).tolist() == [
        "1",
        "1",
        "1",
        None,
        None,
        None,
        "a",
    ]


def test_wilson_matches_the_textbook_value():
    low, high = wilson(8, 10, 0.95)  # Newcombe (1998) table I: 0.4902-0.9433
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)
    assert wilson(0, 0) == (None, None)


def test_agreement_gap_counts():
    # model right on 6 (agrees on 5), wrong on 4 (agrees on 1); one deferred, one unlabelled
    pred = [1] * 10 + [1, 1]
    label = [1] * 6 + [0] * 4 + [1, None]
    dec = [1, 1, 1, 1, 1, 0, 1, 0, 0, 0, "deferred", 1]
    g = agreement_gap(pred, dec, label)
    assert (g["n_model_right"], g["n_model_wrong"]) == (6, 4)
    assert g["agree_right"] == pytest.approx(5 / 6) and g["agree_wrong"] == pytest.approx(0.25)
    assert g["gap"] == pytest.approx(5 / 6 - 0.25)
    assert g["gap_low"] < g["gap"] < g["gap_high"]
    o = override_rate(pred, dec)
    assert (o["n_decisions"], o["n_deferred"]) == (12, 1)
    assert o["override_rate"] == pytest.approx(4 / 11)


def test_loop_accuracy_is_paired():
    pred = [1, 1, 1, 0, 0, 0]
    label = [1, 1, 0, 0, 1, 1]
    dec = [1, 0, 0, 0, 1, 0]  # one harmful override (2nd), two helpful (3rd, 5th)
    a = loop_accuracy(pred, dec, label)
    assert (a["helpful_overrides"], a["harmful_overrides"]) == (2, 1)
    assert a["model_accuracy"] == pytest.approx(3 / 6)
    assert a["human_accuracy"] == pytest.approx(4 / 6)
    assert a["accuracy_gain"] == pytest.approx(1 / 6)
    assert a["p_accuracy"] == pytest.approx(1.0)  # 2 vs 1 discordant: no evidence


def test_review_times_split_accepts_from_overrides():
    t = review_times([1, 1, 1, 1, 0], [1, 1, 1, 0, 1], [1.0, 2.0, 3.0, 20.0, 30.0])
    assert t["accept_seconds"] == 2.0 and t["override_seconds"] == 25.0
    assert t["accept_to_override_time"] == pytest.approx(2 / 25)


# -- simulations with known truth -------------------------------------------------


def test_rubber_stamper_and_random_overrider_are_flagged_informative_reviewer_is_not():
    rows = by_reviewer(
        *(
            simulate({"a": "careful", "b": "stamp", "c": "random", "d": "careful"}, seed=3)[c]
            for c in ("prediction", "decision", "label", "reviewer", "seconds")
        ),
    )
    flagged = {r["reviewer"] for r in rows if r["judged"] and r["q_no_information"] <= 0.05}
    assert flagged == {"b", "c"}
    careful = next(r for r in rows if r["reviewer"] == "a")
    assert careful["gap_low"] > 0.5  # agrees far more often when the model is right


def test_check_names_the_rubber_stamper_and_warns():
    c = oversight(simulate({"ann": "careful", "bob": "stamp", "cy": "careful"}, seed=5))
    assert c.status == "warn"
    assert c.details["flagged"] == ["bob"]
    assert [f.group for f in c.findings] == ["reviewer bob"]
    assert "does not depend on whether the model was right" in c.findings[0].message
    assert "Median time to accept" in c.findings[0].message  # short accept times are shown
    assert c.metrics["n_reviewers_flagged"] == 1 and c.metrics["gap_low"] > 0.2


def test_informative_team_passes():
    c = oversight(simulate({"ann": "careful", "cy": "careful"}, seed=6))
    assert c.status == "pass" and not c.findings
    assert c.metrics["human_accuracy"] > c.metrics["model_accuracy"]


def test_a_team_that_adds_no_information_fails():
    c = oversight(simulate({"bob": "stamp", "dan": "random"}, n_each=1000, seed=7))
    assert c.status == "fail"
    assert set(c.details["flagged"]) == {"bob", "dan"}


def test_harmful_overrides_warn():
    c = oversight(simulate({"eve": "harmful"}, seed=8))
    assert c.status in ("warn", "fail")
    assert any(f.group == "all reviewers" for f in c.findings)
    assert c.metrics["accuracy_gain_high"] < 0


def test_too_few_decisions_are_never_flagged():
    few = simulate({"bob": "stamp"}, n_each=40, seed=9)
    c = oversight(pd.concat([few, simulate({"ann": "careful"}, seed=9)], ignore_index=True))
    bob = next(r for r in c.details["reviewers"] if r["reviewer"] == "bob")
    assert not bob["judged"] and c.status == "pass"


def test_false_flag_rate_at_the_boundary_is_held():
    """A reviewer exactly at gap_min (0.1) is flagged in about alpha (5%) of replications:
    200 seeded replications, flag rate <= 0.09 (binomial 99% bound above 0.05)."""
    rng = np.random.default_rng(11)
    flags = 0
    for _ in range(200):
        n = 600
        y = rng.integers(0, 2, n)
        pred = np.where(rng.random(n) < 0.8, y, 1 - y)
        agree_p = np.where(pred == y, 0.9, 0.8)  # gap exactly 0.1
        dec = np.where(rng.random(n) < agree_p, pred, 1 - pred)
        g = agreement_gap(pred, dec, y, gap_min=0.1)
        flags += g["p_no_information"] <= 0.05
    assert flags / 200 <= 0.09


# -- wiring, config and bad input --------------------------------------------------


def test_without_decisions_the_check_is_skipped():
    r = assay.audit(test=labelled_test(), target="y", prediction="p", config=ONLY)
    c = r.check("monitoring.human_oversight")
    assert c.status == "skipped" and "--decisions" in c.summary


def test_column_names_from_config_and_unknown_roles_refused():
    d = simulate({"bob": "stamp", "ann": "careful"}, seed=4).rename(
        columns={"prediction": "model_out", "reviewer": "analyst"}
    )
    c = oversight(d, decisions={"prediction": "model_out", "reviewer": "analyst"})
    assert c.details["flagged"] == ["bob"]
    with pytest.raises(ConfigError, match=r"decisions\.reviwer: unknown column role; did you mean"):
        AuditConfig.from_mapping({"decisions": {"reviwer": "analyst"}})
    with pytest.raises(SchemaError, match="decisions has no prediction column 'prediction'"):
        oversight(d)


def test_cli_audit_with_decisions_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from assay.cli.main import app

    monkeypatch.chdir(tmp_path)
    labelled_test().to_csv("test.csv", index=False)
    d = simulate({"ann": "careful", "bob": "stamp"}, seed=2)
    d.rename(columns={"reviewer": "who"}).to_csv("decisions.csv", index=False)
    (tmp_path / "assay.yaml").write_text("decisions:\n  reviewer: who\n", encoding="utf-8")
    args = ["audit", "--test", "test.csv", "--target", "y", "--prediction", "p"]
    args += ["--decisions", "decisions.csv", "--check", "monitoring.human_oversight"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output  # a warning does not fail the gate
    report = json.loads((tmp_path / "assay-report" / "report.json").read_text())
    (check,) = report["checks"]
    assert check["status"] == "warn" and check["details"]["flagged"] == ["bob"]
    assert report["inputs"]["decisions"]["rows"] == len(d)
    assert "--decisions" in report["extra"]["invocation"]["args"]

    (tmp_path / "assay.yaml").write_text("decisions:\n  reviwer: who\n", encoding="utf-8")
    # the real command: exit 2, one line, no traceback
    bad = run_cli_subprocess(*args, cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert "did you mean 'reviewer'" in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    assert "assay.yaml" in bad.stderr


def test_decisions_without_a_label_column_or_with_text_seconds_are_refused():
    d = simulate({"ann": "careful"}, n_each=50)
    with pytest.raises(SchemaError, match="decisions has no label column 'label'"):
        oversight(d.drop(columns=["label"]))
    with pytest.raises(SchemaError, match=r"'seconds' .seconds. must hold numbers"):
        oversight(d.assign(seconds="quick"))
