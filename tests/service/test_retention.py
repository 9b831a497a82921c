"""Retention deletes old raw rows whole windows at a time and keeps window results
and alerts; ``Client.windows(wait=True)``, ``Client.alerts()`` and ``assay monitor
status`` against a real server."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.service.conftest import ADMIN, judge, prediction_records, reference_frame
from tests.service.test_scheduler import HOUR, _in

H = 1_700_000_000 // HOUR


def _register(c, name, auth):
    ref = reference_frame(300, seed=4)
    body = {"name": name, "target": "y", "prediction": "pred", "score": "score"}
    r = c.post("/api/v1/models", json={**body, "reference": ref.to_dict("records")}, headers=auth)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize(
    "settings_extra", [{"default_window": "1h", "retention": "2h"}], indirect=True
)
def test_retention_deletes_old_rows_by_whole_windows_and_keeps_results(client, auth):
    c = client
    for name in ("short", "long"):
        _register(c, name, auth)
        for k in range(4):  # four hours of 100 rows
            recs = _in(H + k, HOUR, prediction_records(100, start=100 * k, seed=k))
            r = c.post(f"/api/v1/models/{name}/predictions", json={"records": recs}, headers=auth)
            assert r.status_code == 200, r.text
    # a per-model override: "long" keeps 3 hours
    policy = {"window": "1h", "grace": "0s", "retention": "3h", "triggers": POLICY_TRIGGERS}
    assert c.put("/api/v1/models/long/policy", json=policy, headers=auth).status_code == 200
    now = (H + 4) * HOUR + 30 * 60  # every hour closed; "short"'s grace (5m) has passed
    judge(c, now=now)
    # the cut-off falls on a window boundary: whole hours go, the rest stays
    assert c.store.counts("short") == (200, 0)  # hours H+2, H+3 (now - 2h = H+2:30 -> H+2)
    assert c.store.counts("long") == (300, 0)  # hours H+1 .. H+3
    for name in ("short", "long"):  # every window result is kept
        ws = c.get(f"/api/v1/models/{name}/windows?size=1h", headers=auth).json()["windows"]
        assert [w["rows"] for w in ws] == [100] * 4 and all(w["stored"] for w in ws)
    judge(c, now=now + 60)  # the deleted rows are not "late data": nothing recomputed
    assert c.store.window_changes("short", "1h") == [] == c.store.window_changes("long", "1h")
    assert c.store.counts("short") == (200, 0)


POLICY_TRIGGERS = [{"metric": "drift_share", "op": ">", "value": 0.9}]


def test_settings_retention_names_the_field():
    from assay.errors import ConfigError
    from assay.service._config import parse_config

    assert parse_config({"retention": "90d"}, "x.yaml") == {"retention": "90d"}
    with pytest.raises(ConfigError, match="retention"):
        parse_config({"retention": 90}, "x.yaml")


def test_client_waits_for_judged_windows_and_cli_prints_status(server, tmp_path):
    from assay.service import Client

    url, _, _ = server  # a real server (its scheduler ticks every 5 s)
    with Client(url, ADMIN) as c:
        c.register_model("churn", reference_frame(), target="y", prediction="pred", score="score")
        import pandas as pd

        recs = prediction_records(300, seed=1) + prediction_records(
            300, start=300, shift=2.0, seed=2
        )  # 1_700_000_000 + 10 s steps: one day, closed long ago
        frame = pd.DataFrame(
            [
                {
                    "id": r["id"],
                    "timestamp": r["timestamp"],
                    **r["features"],
                    "prediction": r["prediction"],
                    "score": r["score"],
                }
                for r in recs
            ]
        )
        assert c.log_predictions("churn", frame) == 600
        doc = c.windows("churn", full=True)
        assert doc["size"] == "1d" and doc["scheduled"]
        got = c.windows("churn", wait=True, timeout=60)  # until the scheduler stored it
        assert [w["stored"] for w in got] == [True] and got[0]["rows"] == 600
        alerts = c.alerts("churn")
        assert [a["kind"] for a in alerts] == ["drift"] and alerts[0]["deliveries"] == []
    token = tmp_path / "token"
    token.write_text(ADMIN)
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    argv = [sys.executable, "-c", code, "monitor", "status", "churn", "--url", url]
    out = subprocess.run([*argv, "--token-file", str(token)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "windows of 1d (judged by the scheduler)" in out.stdout
    assert "stored" in out.stdout and "alerts: 1" in out.stdout and "drift:" in out.stdout
    bad = subprocess.run([*argv, "--token-file", str(tmp_path / "nope")], capture_output=True)
    assert bad.returncode == 2 and b"Traceback" not in bad.stderr
    missing = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "monitor",
            "status",
            "nope",
            "--url",
            url,
            "--token-file",
            str(token),
        ],
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2 and "404" in missing.stderr and "Traceback" not in missing.stderr
