"""The workbench API (#18): POST /api/v1/audits -> 202, the job runs in the server's
runner thread, GET shows its state and links; bad inputs are refused with a 4xx
naming the field, before anything is queued."""

from __future__ import annotations

import io
import json
import pickle
import socket
import time
import zipfile

import numpy as np
import pandas as pd
import pytest

from tests.service.conftest import ADMIN, free_port, start_server

pytest.importorskip("openpyxl", reason="needs the workbench extra: pip install 'assay[workbench]'")


def frame(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    sex = rng.choice(["Female", "Male"], size=n)
    p = 1 / (1 + np.exp(-(1.5 * x + (colour == "red"))))
    y = np.where(rng.random(n) < p, "yes", "no")
    return pd.DataFrame({"x": x, "colour": colour, "sex": sex, "row_id": range(n), "y": y})


def csv_bytes(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False).encode()


def post(client, auth, files: dict, spec: dict | str):
    parts = {k: (name, data, "application/octet-stream") for k, (name, data) in files.items()}
    body = spec if isinstance(spec, str) else json.dumps(spec)
    return client.post("/api/v1/audits", headers=auth, files=parts, data={"spec": body})


def wait_done(client, auth, audit_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    seen = set()
    while True:
        r = client.get(f"/api/v1/audits/{audit_id}", headers=auth)
        assert r.status_code == 200, r.text
        view = r.json()
        seen.add(view["state"])
        if view["state"] not in ("queued", "running"):
            view["seen"] = seen
            return view
        assert time.monotonic() < deadline, view
        time.sleep(0.1)


FAST = {"n_bootstrap": 50}


@pytest.fixture
def keys(tmp_path):
    pytest.importorskip("cryptography")
    from assay.governance import generate_keypair

    return generate_keypair(tmp_path / "keys", "workbench")


@pytest.fixture
def settings_extra(keys) -> dict:
    """The operator's signing key for the evidence packs."""
    return {"workbench": {"signing_key": str(keys[0])}}


def test_one_file_split_reference_model_report_pack_and_decision(client, auth, keys):
    from assay.governance import verify_pack

    df = frame()
    spec = {"target": "y", "model": "reference", "sensitive": ["sex"], "ignore": ["row_id"], **FAST}
    r = post(client, auth, {"data": ("loans.csv", csv_bytes(df))}, spec)
    assert r.status_code == 202, r.text
    audit_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/audits/{audit_id}"
    view = wait_done(client, auth, audit_id)
    assert view["state"] == "done", view
    assert set(view["links"]) == {
        "report.json",
        "report.html",
        "model_card.md",
        "datasheet.md",
        "junit.xml",
        "evidence.zip",
    }
    report = client.get(view["links"]["report.json"], headers=auth).json()
    wb = report["extra"]["workbench"]
    assert wb["reference_model"] is True and "Assay reference model" in wb["model_source"]
    split = wb["split"]
    assert split["method"] == "stratified by target" and split["seed"] == 0
    assert split["train_rows"] + split["test_rows"] == 400 and split["test_rows"] == 120
    assert wb["files"]["data"]["name"] == "loans.csv"
    ids = {c["id"] for c in report["checks"]}
    assert "fairness.group_metrics" in ids  # the sensitive column chosen was used
    card = client.get(view["links"]["model_card.md"], headers=auth).text
    assert "Assay reference model (not your model)" in card
    html = client.get(view["links"]["report.html"], headers=auth)
    assert html.headers["content-type"].startswith("text/html") and "<h1>" in html.text
    # a person's decision on the first next step is recorded and carried into report.json
    from assay.governance._plan import remediation_plan

    first = remediation_plan(report)[0]["check_id"]
    bad = client.post(
        f"/api/v1/audits/{audit_id}/decisions",
        headers=auth,
        json={"check_id": first, "decision": "ignore it", "who": "Ana"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["details"]["field"] == "decision"
    ok = client.post(
        f"/api/v1/audits/{audit_id}/decisions",
        headers=auth,
        json={"check_id": first, "decision": "accepted_risk", "comment": "known", "who": "Ana"},
    )
    assert ok.status_code == 201, ok.text
    again = client.get(view["links"]["report.json"], headers=auth).json()
    (d,) = again["extra"]["workbench"]["decisions"]
    assert (d["check_id"], d["decision"], d["who"], d["comment"]) == (
        first,
        "accepted_risk",
        "Ana",
        "known",
    )
    assert client.get(f"/api/v1/audits/{audit_id}", headers=auth).json()["decisions"][0]["who"]
    pack = client.get(view["links"]["evidence.zip"], headers=auth)
    path = client.app.state.workbench.config.root / "pack-copy.zip"
    path.write_bytes(pack.content)
    result = verify_pack(path, public_key=keys[1], require_signature=True)
    assert result.ok and result.signed and result.key_checked, result.problems
    with zipfile.ZipFile(io.BytesIO(pack.content)) as z:
        packed = json.loads(z.read("report.json"))
    assert packed["extra"]["workbench"]["decisions"][0]["decision"] == "accepted_risk"
    # the uploaded file is gone once the audit ended (keep_uploads is off)
    assert not list((client.app.state.workbench.config.root / "uploads").iterdir())


def test_train_test_files_with_a_skops_model(client, auth):
    sio = pytest.importorskip("skops.io")
    from sklearn.linear_model import LogisticRegression

    train, test = frame(300, 1), frame(200, 2)
    model = LogisticRegression().fit(train[["x"]], train["y"])
    buf = sio.dumps(model)
    files = {
        "train": ("train.csv", csv_bytes(train[["x", "y"]])),
        "test": ("test.csv", csv_bytes(test[["x", "y"]])),
        "model": ("model.skops", buf),
    }
    r = post(client, auth, files, {"target": "y", **FAST})
    assert r.status_code == 202, r.text
    view = wait_done(client, auth, r.json()["id"])
    assert view["state"] == "done", view
    report = client.get(view["links"]["report.json"], headers=auth).json()
    wb = report["extra"]["workbench"]
    assert wb["split"] is None and wb["model_source"].startswith("uploaded file 'model.skops'")
    perf = next(c for c in report["checks"] if c["id"] == "evaluation.performance")
    assert perf["status"] != "skipped"


def test_a_pickle_is_never_loaded_whatever_the_token(client, auth, tmp_path):
    from sklearn.linear_model import LogisticRegression

    df = frame(200)
    blob = pickle.dumps(LogisticRegression().fit(df[["x"]], df["y"]))
    data = {"data": ("d.csv", csv_bytes(df[["x", "y"]]))}
    for name in ("model.pkl", "model.joblib", "model.skops", "model.onnx"):
        r = post(client, auth, {**data, "model": (name, blob)}, {"target": "y"})
        assert r.status_code == 422, (name, r.text)
        err = r.json()["error"]
        assert err["details"]["field"] == "model", err
    uploads = client.app.state.workbench.config.root / "uploads"
    assert not list(uploads.iterdir())  # refused files are deleted
    assert client.get("/api/v1/audits", headers=auth).json()["audits"] == []


def _xlsx(rows: list[list], formula_at: str | None = None) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    if formula_at:
        ws[formula_at] = '=HYPERLINK("http://example.invalid",1)'
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_bad_inputs_get_a_clear_4xx_naming_the_field(client, auth):
    df = frame(200)
    cases = [
        ({"data": ("empty.csv", b"")}, {"target": "y"}, 422, "data", "is empty"),
        ({"data": ("one.csv", b"y\n1\n0\n1\n")}, {"target": "y"}, 422, "data", "one column"),
        (
            {"data": ("d.csv", csv_bytes(df.assign(y="yes")))},
            {"target": "y"},
            422,
            "spec.target",
            "1 distinct value",
        ),
        (
            {"data": ("d.csv", csv_bytes(df))},
            {"target": "yy"},
            422,
            "spec.target",
            "did you mean 'y'",
        ),
        (
            {"data": ("d.csv", csv_bytes(df))},
            {"target": "y", "sensitiv": []},
            422,
            "spec.sensitiv",
            "did you mean 'sensitive'",
        ),
        ({"data": ("d.txt", csv_bytes(df))}, {"target": "y"}, 422, "data", "not CSV"),
        (
            {"data": ("s.xlsx", _xlsx([["x", "y"], [1, "a"], [2, "b"]], formula_at="A3"))},
            {"target": "y"},
            422,
            "data",
            "cell Sheet!A3 holds a formula",
        ),
        (
            {"data": ("d.csv", csv_bytes(df)), "test": ("t.csv", csv_bytes(df))},
            {"target": "y"},
            422,
            "data",
            "not both",
        ),
    ]
    for files, spec, status, field, words in cases:
        r = post(client, auth, files, spec)
        assert r.status_code == status, (files.keys(), r.text)
        err = r.json()["error"]
        assert err["details"]["field"] == field and words in err["message"], err
    r = post(client, auth, {"data": ("d.csv", csv_bytes(df))}, "{not json")
    assert r.status_code == 422 and "spec" in r.json()["error"]["message"]
    # the same data as a clean .xlsx is accepted
    rows = [list(df.columns), *df.astype(object).values.tolist()]
    r = post(client, auth, {"data": ("d.xlsx", _xlsx(rows))}, {"target": "y", **FAST})
    assert r.status_code == 202, r.text
    assert client.app.state.store.cancel_audit(r.json()["id"]) in ("cancelled", "running")


def test_wrong_token_other_owner_and_cancel(client, auth):
    from assay.service._auth import create_token

    df = frame(200)
    data = {"data": ("d.csv", csv_bytes(df))}
    r = post(client, {"Authorization": "Bearer nope"}, data, {"target": "y"})
    assert r.status_code == 401
    reader = {"Authorization": f"Bearer {create_token(client.store, 'read')}"}
    assert post(client, reader, data, {"target": "y"}).status_code == 403
    writer = {"Authorization": f"Bearer {create_token(client.store, 'write')}"}
    runner = client.app.state.workbench.runner
    runner.stop()  # nothing runs: the audits stay queued for this test
    r = post(client, writer, data, {"target": "y", "model": "reference"})
    assert r.status_code == 202, r.text
    audit_id = r.json()["id"]
    other = {"Authorization": f"Bearer {create_token(client.store, 'write')}"}
    assert client.get(f"/api/v1/audits/{audit_id}", headers=other).status_code == 404
    assert client.get(f"/api/v1/audits/{audit_id}/report.json", headers=other).status_code == 404
    assert client.get("/api/v1/audits", headers=other).json()["audits"] == []
    assert client.get(f"/api/v1/audits/{audit_id}", headers=auth).status_code == 200  # admin
    assert client.get(f"/api/v1/audits/{audit_id}", headers=writer).json()["state"] == "queued"
    # cancelled before it starts
    r = client.post(f"/api/v1/audits/{audit_id}/cancel", headers=writer)
    assert r.json()["state"] == "cancelled"
    # cancelled while it runs: the runner stops at its next check
    from assay.service._workbench_jobs import run_job

    r = post(client, writer, data, {"target": "y", "model": "reference", **FAST})
    job = client.store.claim_audit("test")
    assert job.id == r.json()["id"] and job.state == "running"
    assert client.post(f"/api/v1/audits/{job.id}/cancel", headers=writer).json()["state"] == (
        "running"
    )
    run_job(client.store, job, client.app.state.workbench.config)
    view = client.get(f"/api/v1/audits/{job.id}", headers=writer).json()
    assert view["state"] == "cancelled" and "links" not in view


def test_an_oversized_upload_is_refused_before_its_body_is_sent(tmp_path):
    port = free_port()
    proc = start_server(tmp_path / "s.db", port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            head = (
                "POST /api/v1/audits HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"Authorization: Bearer {ADMIN}\r\n"
                "Content-Type: multipart/form-data; boundary=b\r\n"
                f"Content-Length: {2 * 1024**3}\r\n\r\n"
            )
            s.sendall(head.encode())  # and not one byte of the 2 GiB body
            answer = b""
            while chunk := s.recv(65536):  # the server answers and closes
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 413"), answer[:200]
        assert "payload_too_large" in answer
    finally:
        proc.terminate()
        proc.wait(10)
