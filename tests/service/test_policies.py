"""Trigger policies in the service: stored per model, evaluated over windows, their
webhook and command actions delivered in the background."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import sys
import threading
from typing import ClassVar

import pytest

from tests.service.conftest import BACKENDS, judge, prediction_records


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """These tests run on SQLite, and on PostgreSQL when ASSAY_TEST_POSTGRES is set."""
    return request.param


POLICY_URL = "/api/v1/models/churn/policy"
SECRET = "webhook-shared-secret-xyz"


class _Receiver(http.server.BaseHTTPRequestHandler):
    got: ClassVar[list] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).got.append((dict(self.headers), body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    handler = type("Receiver", (_Receiver,), {"got": []})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{srv.server_address[1]}/hook", handler.got
    srv.shutdown()
    srv.server_close()


def _drifting(client, auth):
    clean = prediction_records(300, seed=1)
    shifted = prediction_records(300, start=300, shift=2.0, seed=2)
    r = client.post(
        "/api/v1/models/churn/predictions", json={"records": clean + shifted}, headers=auth
    )
    assert r.status_code == 200, r.text


def test_policy_put_get_validates_and_redacts(registered, auth):
    yaml_body = (
        "name: retrain\n"
        "triggers:\n  - metric: drift_share\n    op: '>'\n    value: 0.3\n"
        "actions:\n  webhook:\n    url: https://hooks.example.com/x\n"
        f"    secret: {SECRET}\n"
    )
    r = registered.put(
        POLICY_URL, content=yaml_body, headers={**auth, "Content-Type": "application/yaml"}
    )
    assert r.status_code == 200, r.text
    assert SECRET not in r.text
    got = registered.get(POLICY_URL, headers=auth).json()
    assert got["policy"]["name"] == "retrain" and got["default"] is False
    assert got["policy"]["actions"]["webhook"]["secret"] == "***" and SECRET not in json.dumps(got)
    bad = registered.put(
        POLICY_URL,
        json={"triggers": [{"metric": "drift_share", "op": "!=", "value": 1}]},
        headers=auth,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["details"][0]["field"] == "triggers[0].op"
    bad = registered.put(POLICY_URL, json={"triggers": [], "colour": 1}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "policy"
    bad = registered.put(
        POLICY_URL, content=b"triggers: [", headers={**auth, "Content-Type": "application/yaml"}
    )
    assert bad.status_code == 422
    assert registered.put(POLICY_URL, json={"triggers": []}).status_code == 401
    assert registered.get("/api/v1/models/nope/policy", headers=auth).status_code == 404


@pytest.mark.parametrize("settings_extra", [{"default_window": "300rows"}], indirect=True)
def test_default_policy_alerts_on_drift_once(registered, auth):
    _drifting(registered, auth)
    assert [judge(registered), judge(registered)] == [1, 0]
    for _ in range(2):
        ws = registered.get("/api/v1/models/churn/windows?size=300rows", headers=auth).json()
    assert [w["alerts"] for w in ws["windows"]] == [[], ["drift"]]
    alerts = registered.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert len(alerts) == 1


COPY = "import sys, pathlib; pathlib.Path(sys.argv[1]).write_text(sys.stdin.read())"


@pytest.fixture
def settings_extra(request, tmp_path):
    """``operator``: the server's configuration runs a command on churn's alerts and
    lets webhooks reach loopback (where the test receiver listens); the default
    policy is judged on 300-row windows. A dict param: those settings."""
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        return param
    if param != "operator":
        return {}
    from assay.monitoring.policy import CommandAction
    from assay.monitoring.webhook import parse_networks

    argv = (sys.executable, "-c", COPY, str(tmp_path / "alert.json"))
    return {
        "commands": {"churn": (CommandAction(argv, 30),)},
        "webhook_allow_networks": parse_networks(["127.0.0.0/8"]),
        "default_window": "300rows",
    }


@pytest.mark.parametrize("settings_extra", ["operator"], indirect=True)
def test_policy_fires_signed_webhook_and_operator_command(registered, auth, receiver, tmp_path):
    url, got = receiver
    marker = tmp_path / "alert.json"
    policy = {
        "name": "retrain",
        "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3, "name": "drift-high"}],
        "actions": {"webhook": {"url": url, "secret": SECRET}},
    }
    assert registered.put(POLICY_URL, json=policy, headers=auth).status_code == 200
    _drifting(registered, auth)
    assert [judge(registered), judge(registered)] == [1, 0]  # the second tick: nothing new
    ws = registered.get("/api/v1/models/churn/windows?size=300rows", headers=auth).json()
    assert [w["alerts"] for w in ws["windows"]] == [[], ["drift-high"]]
    assert len(got) == 1
    headers, body = got[0]
    expected = hmac.new(
        SECRET.encode(),
        headers["X-Assay-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Assay-Signature"] == "sha256=" + expected
    alert = json.loads(body)
    assert alert["model"] == "churn" and alert["metric"] == "drift_share" and alert["value"] > 0.3
    assert headers["X-Assay-Delivery"] == alert["id"]
    assert len(headers["Idempotency-Key"]) == 32
    assert json.loads(marker.read_text())["id"] == alert["id"]
    actions = registered.get(POLICY_URL, headers=auth).json()["actions"]
    assert sorted(a["action"] for a in actions) == ["command:0", "webhook:0"]
    assert {a["status"] for a in actions} == {"done"}
    stored = registered.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert len(stored) == 1 and stored[0]["details"]["id"] == alert["id"]


@pytest.mark.parametrize("settings_extra", ["operator"], indirect=True)
def test_operator_command_runs_on_the_default_policy_too(registered, auth, tmp_path):
    _drifting(registered, auth)
    judge(registered)
    assert json.loads((tmp_path / "alert.json").read_text())["model"] == "churn"
    alerts = registered.get("/api/v1/models/churn/alerts", headers=auth).json()["alerts"]
    assert [a["kind"] for a in alerts] == ["drift"]


def test_private_destination_is_refused_when_saved(registered, auth, receiver):
    url, _got = receiver
    policy = {
        "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3}],
        "actions": {"webhook": {"url": url, "secret": SECRET}},
    }
    r = registered.put(POLICY_URL, json=policy, headers=auth)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["details"][0]["field"] == "actions.webhook[0].url"
    assert "127.0.0.1" in r.json()["error"]["message"] and SECRET not in r.text


def test_private_destination_stored_earlier_is_refused_at_delivery(registered, auth, receiver):
    """A policy stored by an older version (allow_private and all) never reaches loopback."""
    import yaml

    url, got = receiver
    policy = {
        "window": "300rows",
        "triggers": [{"metric": "drift_share", "op": ">", "value": 0.3}],
        "actions": {"webhook": {"url": url, "secret": SECRET, "allow_private": True}},
    }
    registered.store.put_policy("churn", yaml.safe_dump(policy))
    _drifting(registered, auth)
    judge(registered)
    assert got == []
    (action,) = registered.get(POLICY_URL, headers=auth).json()["actions"]
    assert action["status"] == "failed" and "not a public internet address" in action["error"]
    assert SECRET not in action["error"]


def test_estimated_accuracy_drop_is_a_policy_metric():
    from assay.service._policies import window_metrics

    w = {
        "rows": 10,
        "drift_share": 0.5,
        "drift_status": "fail",
        "drifted_columns": ["x"],
        "prediction_drift": {"psi": 0.2},
        "estimated_performance": {"estimated_accuracy_drop": 0.07, "reference_accuracy": 0.9},
        "realized_performance": {"labeled_rows": 5, "accuracy": 0.8},
    }
    m = window_metrics(w)
    assert m["estimated_accuracy_drop"] == 0.07 and m["drift_failed"] == 1.0
    assert m["prediction_drift_psi"] == 0.2 and m["drifted_columns"] == 1.0
    assert m["realized_accuracy_drop"] == pytest.approx(0.1)
