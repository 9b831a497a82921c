"""Fixtures for the monitoring service: an in-process app and a real server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("fastapi", reason="needs the service extra: pip install 'assay[service]'")

ADMIN = "test-admin-token"


def reference_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = 1 / (1 + np.exp(-(1.5 * x + (colour == "red"))))
    y = (rng.random(n) < score).astype(int)
    return pd.DataFrame(
        {"x": x, "colour": colour, "score": score, "pred": (score > 0.5) * 1, "y": y}
    )


def prediction_records(n: int, *, start: int = 0, shift: float = 0.0, seed: int = 1) -> list[dict]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n) + shift
    colour = rng.choice(["red", "green", "blue"], size=n)
    score = 1 / (1 + np.exp(-(1.5 * x + (colour == "red"))))
    return [
        {
            "id": f"r{start + i}",
            "timestamp": 1_700_000_000 + (start + i) * 10,
            "features": {"x": float(x[i]), "colour": str(colour[i])},
            "prediction": int(score[i] > 0.5),
            "score": float(score[i]),
        }
        for i in range(n)
    ]


@pytest.fixture
def auth():
    return {"Authorization": f"Bearer {ADMIN}"}


BACKENDS = ["sqlite", "postgres"]


def postgres_url() -> str:
    """The test server's URL from ``ASSAY_TEST_POSTGRES``, or skip (``.ci/run`` sets it)."""
    url = os.environ.get("ASSAY_TEST_POSTGRES")
    if not url:
        pytest.skip("no PostgreSQL server: set ASSAY_TEST_POSTGRES=postgresql://... to run")
    pytest.importorskip("psycopg", reason="needs psycopg: pip install 'assay[postgres]'")
    return url


def fresh_store(backend: str, tmp_path: Path):
    """An empty, migrated store on ``backend`` (PostgreSQL: every table dropped first)."""
    from assay.monitor import open_store

    if backend == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'm.db'}")
    store = open_store(postgres_url())
    store._drop_all()
    store.migrate()
    return store


@pytest.fixture
def backend() -> str:
    """The store behind ``client``; a test module overrides it to run on both backends."""
    return "sqlite"


@pytest.fixture
def settings_extra(request) -> dict:
    """More ``Settings`` fields for ``client`` (the operator's configuration); a test
    sets them with ``@pytest.mark.parametrize("settings_extra", [...], indirect=True)``
    or a module overrides this fixture."""
    return dict(getattr(request, "param", {}) or {})


@pytest.fixture
def client(tmp_path, backend, settings_extra):
    from fastapi.testclient import TestClient

    from assay.monitor import Settings, create_app

    store = fresh_store(backend, tmp_path)
    settings = Settings(admin_token=ADMIN, max_body_bytes=2_000_000, **settings_extra)
    app = create_app(settings, store)
    with TestClient(app) as c:
        c.store = store
        yield c
    store.close()


@pytest.fixture
def registered(client, auth):
    ref = reference_frame()
    r = client.post(
        "/api/v1/models",
        json={
            "name": "churn",
            "target": "y",
            "prediction": "pred",
            "score": "score",
            "reference": ref.to_dict("records"),
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    return client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, port: int) -> subprocess.Popen:
    """``assay serve`` in a child process, waited for until /healthz answers."""
    env = {**os.environ, "ASSAY_TOKEN": ADMIN}
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "serve", "--store", f"sqlite:///{db}", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start in 30 s")


@pytest.fixture
def server(tmp_path):
    port = free_port()
    proc = start_server(tmp_path / "server.db", port)
    yield f"http://127.0.0.1:{port}", proc, tmp_path / "server.db"
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def fuzz_api(app, headers: dict, max_examples: int) -> tuple[list[str], list[int]]:
    """Schemathesis over every operation of ``app``'s OpenAPI schema with ``headers``:
    the requests that got a server error, and every status code seen."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, given, settings

    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    seen: list[int] = []
    operations = [r.ok() for r in schema.get_all_operations()]
    assert len(operations) >= 10
    for op in operations:

        @settings(
            max_examples=max_examples,
            deadline=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        @given(case=op.as_strategy())
        def run(case):
            resp = case.call(headers=headers)
            seen.append(resp.status_code)
            if resp.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {resp.status_code}")

        run()
    return failures, seen
