"""Attacks on the service's privilege model, replayed: a write token must not run
commands, widen the SSRF guard, redirect alerts or probe the server's environment."""

from __future__ import annotations

import sys

import pytest
import yaml

from tests.service import conftest as _monitor
from tests.service.conftest import prediction_records

# the service fixtures, reused (tests/service/conftest.py is not a conftest here)
auth = _monitor.auth
backend = _monitor.backend
client = _monitor.client
registered = _monitor.registered
settings_extra = _monitor.settings_extra

POLICY_URL = "/api/v1/models/churn/policy"
TRIGGER = [{"metric": "drift_share", "op": ">", "value": 0.3}]


@pytest.fixture
def write_auth(registered):
    from assay.service._auth import create_token

    return {"Authorization": f"Bearer {create_token(registered.store, 'write')}"}


@pytest.fixture
def read_auth(registered):
    from assay.service._auth import create_token

    return {"Authorization": f"Bearer {create_token(registered.store, 'read')}"}


def _fire(client, auth, read_auth):
    """Drifted traffic, the scheduler's tick (it runs the policy), then a read token's
    look at the windows."""
    clean = prediction_records(300, seed=1)
    shifted = prediction_records(300, start=300, shift=2.0, seed=2)
    r = client.post(
        "/api/v1/models/churn/predictions", json={"records": clean + shifted}, headers=auth
    )
    assert r.status_code == 200, r.text
    _monitor.judge(client)  # delivers what it queued too
    return client.get("/api/v1/models/churn/windows", headers=read_auth).json()


def _field(r) -> str:
    return r.json()["error"]["details"][0]["field"]


def test_write_token_cannot_set_a_command(registered, write_auth, read_auth, auth, tmp_path):
    """The critical hole: ``["/bin/sh","-c","id > marker"]`` ran as the server's user."""
    marker = tmp_path / "marker"
    argv = ["/bin/sh", "-c", f"id > {marker}"]
    for token in (write_auth, auth):  # not even an admin may run commands over HTTP
        body = {"triggers": TRIGGER, "actions": {"command": {"argv": argv}}}
        r = registered.put(POLICY_URL, json=body, headers=token)
        assert r.status_code == 422, r.text
        assert _field(r) == "actions.command"
        assert "configuration file" in r.json()["error"]["message"]
        yaml_body = yaml.safe_dump({"triggers": TRIGGER, "actions": {"command": argv}})
        r = registered.put(
            POLICY_URL, content=yaml_body, headers={**token, "Content-Type": "application/yaml"}
        )
        assert r.status_code == 422 and _field(r) == "actions.command"
    ws = _fire(registered, write_auth, read_auth)
    assert any(w["alerts"] for w in ws["windows"])  # the default policy fired ...
    assert not marker.exists()  # ... and ran nothing


def test_command_in_a_policy_stored_by_an_older_version_never_runs(
    registered, write_auth, read_auth, tmp_path
):
    marker = tmp_path / "marker"
    argv = ["/bin/sh", "-c", f"id > {marker}"]
    policy = {"triggers": TRIGGER, "actions": {"command": {"argv": argv}}}
    registered.store.put_policy("churn", yaml.safe_dump(policy))
    ws = _fire(registered, write_auth, read_auth)
    assert any(w["alerts"] for w in ws["windows"])
    assert not marker.exists()
    actions = registered.get(POLICY_URL, headers=read_auth).json()["actions"]
    assert all(not a["action"].startswith("command") for a in actions)


def test_write_token_cannot_switch_the_ssrf_guard_off(registered, write_auth, auth):
    for token in (write_auth, auth):
        hook = {"url": "https://93.184.216.34/hook", "allow_private": True}
        r = registered.put(
            POLICY_URL, json={"triggers": TRIGGER, "actions": {"webhook": hook}}, headers=token
        )
        assert r.status_code == 422 and _field(r) == "actions.webhook[0].allow_private"


@pytest.mark.parametrize(
    "url",
    [
        "http://100.100.100.200/latest/meta-data",  # carrier-grade NAT: passed is_private
        "http://100.64.0.1/x",
        "http://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.0.0.5/x",
        "http://[::1]/x",
        "http://[::ffff:10.0.0.5]/x",
    ],
)
def test_non_public_destination_refused_when_saved(registered, auth, url):
    body = {"triggers": TRIGGER, "actions": {"webhook": {"url": url}}}
    r = registered.put(POLICY_URL, json=body, headers=auth)
    assert r.status_code == 422, r.text
    assert _field(r) == "actions.webhook[0].url"
    assert "not a public internet address" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "settings_extra", [{"webhook_allow_networks": ("10.20.0.0/16",)}], indirect=True
)
def test_only_the_operator_widens_the_guard(registered, auth):
    ok = {"triggers": TRIGGER, "actions": {"webhook": {"url": "http://10.20.1.1/hook"}}}
    assert registered.put(POLICY_URL, json=ok, headers=auth).status_code == 200
    other = {"triggers": TRIGGER, "actions": {"webhook": {"url": "http://10.21.1.1/hook"}}}
    assert registered.put(POLICY_URL, json=other, headers=auth).status_code == 422
    metadata = {"triggers": TRIGGER, "actions": {"webhook": {"url": "http://100.100.100.200/"}}}
    assert registered.put(POLICY_URL, json=metadata, headers=auth).status_code == 422


def test_changing_a_destination_needs_admin(registered, write_auth, auth):
    first = {"triggers": TRIGGER, "actions": {"webhook": {"url": "https://93.184.216.34/a"}}}
    r = registered.put(POLICY_URL, json=first, headers=write_auth)
    assert r.status_code == 403 and "admin" in r.json()["error"]["message"]
    assert registered.put(POLICY_URL, json=first, headers=auth).status_code == 200
    # a write token may retune the triggers while the destinations stay as they are
    tuned = {**first, "triggers": [{"metric": "drift_share", "op": ">", "value": 0.5}]}
    assert registered.put(POLICY_URL, json=tuned, headers=write_auth).status_code == 200
    moved = {"triggers": TRIGGER, "actions": {"webhook": {"url": "https://93.184.216.35/b"}}}
    assert registered.put(POLICY_URL, json=moved, headers=write_auth).status_code == 403
    got = registered.get(POLICY_URL, headers=write_auth).json()["policy"]
    assert got["actions"]["webhook"]["url"] == "https://93.184.216.34/a"
    assert got["triggers"][0]["value"] == 0.5


def test_secret_env_cannot_probe_the_environment(registered, auth, monkeypatch):
    """A write token learned whether any variable existed (422 only when absent)."""
    monkeypatch.setenv("PRESENT_VAR_XYZ", "1")
    answers = []
    for name in ("PRESENT_VAR_XYZ", "ABSENT_VAR_XYZ", "HOME"):
        hook = {"url": "https://93.184.216.34/a", "secret_env": name}
        r = registered.put(
            POLICY_URL, json={"triggers": TRIGGER, "actions": {"webhook": hook}}, headers=auth
        )
        assert r.status_code == 422 and _field(r) == "actions.webhook[0].secret_env"
        answers.append(r.json()["error"]["message"].replace(name, "NAME"))
    assert len(set(answers)) == 1  # the same answer whether or not the variable exists
    monkeypatch.setenv("ASSAY_WEBHOOK_SECRET_CHURN", "s3cret")
    hook = {"url": "https://93.184.216.34/a", "secret_env": "ASSAY_WEBHOOK_SECRET_CHURN"}
    r = registered.put(
        POLICY_URL, json={"triggers": TRIGGER, "actions": {"webhook": hook}}, headers=auth
    )
    assert r.status_code == 200 and "s3cret" not in r.text


def test_webhook_timeouts_and_attempts_are_bounded(registered, auth):
    for key, value in (("timeout_s", 3600), ("max_attempts", 1000)):
        hook = {"url": "https://93.184.216.34/a", key: value}
        r = registered.put(
            POLICY_URL, json={"triggers": TRIGGER, "actions": {"webhook": hook}}, headers=auth
        )
        assert r.status_code == 422 and _field(r) == f"actions.webhook[0].{key}"


def test_read_token_cannot_write_a_policy(registered, read_auth):
    r = registered.put(POLICY_URL, json={"triggers": TRIGGER}, headers=read_auth)
    assert r.status_code == 403


def test_server_config_file(tmp_path):
    from assay.errors import ConfigError
    from assay.service._config import load_config

    good = tmp_path / "serve.yaml"
    good.write_text(
        "commands:\n  churn:\n    - argv: [python, retrain.py]\n      timeout_s: 60\n"
        "webhook_allow_networks: [10.20.0.0/16]\nmax_windows: 12\n"
    )
    cfg = load_config(good)
    assert cfg["commands"]["churn"][0].argv == ("python", "retrain.py")
    assert str(cfg["webhook_allow_networks"][0]) == "10.20.0.0/16" and cfg["max_windows"] == 12
    for text, needle in (
        ("max_windws: 3\n", "did you mean 'max_windows'"),
        ("admin_token: x\n", "unknown setting 'admin_token'"),
        ("commands:\n  churn: {argv: rm -rf /}\n", "commands.churn[0].argv"),
        ("webhook_allow_networks: [nope]\n", "webhook_allow_networks[0]"),
        ("max_windows: -1\n", "max_windows"),
    ):
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ConfigError, match=needle.replace("[", r"\[").replace("]", r"\]")):
            load_config(bad)


def test_serve_with_a_bad_config_is_a_one_line_error(tmp_path):
    import subprocess

    bad = tmp_path / "serve.yaml"
    bad.write_text("comands: {}\n")
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "serve", "--config", str(bad), "--port", "1"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "did you mean 'commands'" in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_admin_revokes_a_token_over_the_api(registered, auth, write_auth):
    token = write_auth["Authorization"].split()[1]
    assert registered.get("/api/v1/models", headers=write_auth).status_code == 200
    r = registered.post("/api/v1/tokens/revoke", json={"token": token}, headers=write_auth)
    assert r.status_code == 403  # only an admin revokes
    r = registered.post("/api/v1/tokens/revoke", json={"token": token}, headers=auth)
    assert r.status_code == 200 and r.json() == {"revoked": True}
    assert registered.get("/api/v1/models", headers=write_auth).status_code == 401
    r = registered.post("/api/v1/tokens/revoke", json={"token": token}, headers=auth)
    assert r.status_code == 404


def test_token_revoke_cli(tmp_path):
    import subprocess

    from assay.service import open_store
    from assay.service._auth import create_token, token_scope

    url = f"sqlite:///{tmp_path / 's.db'}"
    store = open_store(url)
    token = create_token(store, "write")
    store.close()
    (tmp_path / "tok").write_text(token)
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    argv = [sys.executable, "-c", code, "token", "revoke", "--store", url]
    proc = subprocess.run([*argv, "--token-file", str(tmp_path / "tok")], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    store = open_store(url)
    assert token_scope(store, token) is None
    store.close()
    proc = subprocess.run([*argv, "--token-file", str(tmp_path / "tok")], capture_output=True)
    assert proc.returncode == 2 and b"nothing revoked" in proc.stderr
