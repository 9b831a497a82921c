"""Champion / challenger in the service: a .skops or .onnx upload audited on the most
recent labeled window; pickles refused; the model history kept."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.service.conftest import BACKENDS, prediction_records, reference_frame


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """These tests run on SQLite, and on PostgreSQL when ASSAY_TEST_POSTGRES is set."""
    return request.param


URL = "/api/v1/models/churn/promote"


def _model(tmp_path, name: str, *, noise: bool = False):
    pytest.importorskip("skops")
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    ref = reference_frame(600)
    y = ref["y"].to_numpy()
    if noise:  # a candidate trained on shuffled labels: no better than chance
        y = np.random.default_rng(5).permutation(y)
    pipe = make_pipeline(
        ColumnTransformer(
            [("c", OneHotEncoder(handle_unknown="ignore"), ["colour"])], remainder="passthrough"
        ),
        LogisticRegression(),
    )
    pipe.fit(ref[["x", "colour"]], y)
    path = tmp_path / name
    sio.dump(pipe, path)
    return path


def _labeled(client, auth):
    recs = prediction_records(400, seed=3)
    assert (
        client.post(
            "/api/v1/models/churn/predictions", json={"records": recs}, headers=auth
        ).status_code
        == 200
    )
    rng = np.random.default_rng(4)
    labels = [{"id": r["id"], "label": int(rng.random() < r["score"])} for r in recs]
    assert (
        client.post(
            "/api/v1/models/churn/labels", json={"records": labels}, headers=auth
        ).status_code
        == 200
    )


# the synthetic data has one informative feature, which the leakage check rightly
# flags; the promotion gates here are the model's.
CONFIG = '{"exclude": ["data.target_leakage"]}'


def _upload(client, auth, path, **form):
    form.setdefault("config", CONFIG)
    with open(path, "rb") as fh:
        return client.post(
            URL, files={"candidate": (path.name, fh.read())}, data=form, headers=auth
        )


def test_promote_keeps_history_and_refuses_worse_candidate(registered, auth, tmp_path):
    good = _model(tmp_path, "good.skops")
    assert _upload(registered, auth, good).status_code == 409  # no labeled window yet
    _labeled(registered, auth)
    first = _upload(registered, auth, good)
    assert first.status_code == 200, first.text
    assert first.json()["promote"] is True, first.json()["reasons"]
    assert first.json()["window"]["rows"] == 400
    worse = _upload(registered, auth, _model(tmp_path, "noise.skops", noise=True))
    body = worse.json()
    assert worse.status_code == 200, worse.text
    assert body["promote"] is False and body["reasons"]
    history = registered.get("/api/v1/models/churn/history", headers=auth).json()["history"]
    assert [(h["filename"], h["role"]) for h in history] == [
        ("good.skops", "champion"),
        ("noise.skops", "rejected"),
    ]


def test_promote_never_loads_pickle(registered, auth, tmp_path):
    canary = tmp_path / "canary"

    class Evil:
        def __reduce__(self):
            return (open, (str(canary), "w"))

    for name in ("evil.pkl", "evil.joblib"):
        path = tmp_path / name
        path.write_bytes(pickle.dumps(Evil()))
        r = _upload(registered, auth, path)
        assert r.status_code == 415 and r.json()["error"]["details"][0]["field"] == "candidate"
    disguised = tmp_path / "evil.skops"  # a pickle under a .skops name is refused too
    disguised.write_bytes(pickle.dumps(Evil()))
    _labeled(registered, auth)
    r = _upload(registered, auth, disguised)
    assert r.status_code == 422, r.text
    assert not canary.exists()
    read_only = {"Authorization": "Bearer nope"}
    assert _upload(registered, read_only, disguised).status_code == 401


def test_cli_promote_against_a_store(registered, auth, tmp_path):
    from typer.testing import CliRunner

    from assay.cli.main import app

    _labeled(registered, auth)
    store = registered.store
    url = store.url if store.dialect == "postgres" else f"sqlite:///{store.path}"
    good = _model(tmp_path, "good.skops")
    cfg = tmp_path / "gates.yaml"
    cfg.write_text("exclude: [data.target_leakage]\n")
    args = ["promote", "--store", url, "--model", "churn", "--candidate", str(good)]
    r = CliRunner().invoke(app, [*args, "--config", str(cfg)])
    assert r.exit_code == 0, r.output
    assert "PROMOTE" in r.output
    pkl = tmp_path / "m.pkl"
    pkl.write_bytes(b"x")
    r = CliRunner().invoke(
        app, ["promote", "--store", url, "--model", "churn", "--candidate", str(pkl)]
    )
    assert r.exit_code == 2
    history = registered.get("/api/v1/models/churn/history", headers=auth).json()["history"]
    assert [h["role"] for h in history] == ["champion"]
