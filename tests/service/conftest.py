"""Fixtures for the monitoring service: an in-process app and a real server."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
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


def _bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    hits = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return hits[-1] if hits else None


class ThrowawayPostgres:
    """A PostgreSQL server for the tests: initdb into a temporary directory, a Unix
    socket only; as the ``postgres`` user when run as root (PostgreSQL refuses
    root). Skips the test when the server binaries are not here."""

    def __init__(self) -> None:
        self.initdb, self.pg_ctl = _bin("initdb"), _bin("pg_ctl")
        if not (self.initdb and self.pg_ctl):
            pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl) on this machine")
        self.dir = tempfile.mkdtemp(prefix="assay-pg-")
        self.root = os.geteuid() == 0
        if self.root:
            shutil.chown(self.dir, "postgres")
        self.port = free_port()
        self._run(self.initdb, "-D", f"{self.dir}/data", "-A", "trust", "-U", "postgres")
        with open(f"{self.dir}/data/postgresql.conf", "a") as conf:
            conf.write(
                f"listen_addresses = ''\nunix_socket_directories = '{self.dir}'\n"
                f"port = {self.port}\nfsync = off\n"
            )
        self.start()
        self.url = f"postgresql://postgres@/postgres?host={self.dir}&port={self.port}"

    def _run(self, *argv: str) -> None:
        cmd = list(argv)
        if self.root:
            cmd = ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(cmd)]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(self.pg_ctl, "-D", f"{self.dir}/data", "-l", f"{self.dir}/log", "-w", "start")

    def stop(self) -> None:
        self._run(self.pg_ctl, "-D", f"{self.dir}/data", "-m", "fast", "-w", "stop")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


_SHARED_PG: list[ThrowawayPostgres] = []


def postgres_url() -> str:
    """The test server's URL from ``ASSAY_TEST_POSTGRES`` (``.ci/run`` sets it); else a
    throwaway server started for this test run when the PostgreSQL binaries are
    here; else skip."""
    pytest.importorskip("psycopg", reason="needs psycopg: pip install 'assay[postgres]'")
    url = os.environ.get("ASSAY_TEST_POSTGRES")
    if url:
        return _worker_database(url)
    if not _SHARED_PG:
        import atexit

        _SHARED_PG.append(ThrowawayPostgres())
        atexit.register(_SHARED_PG[0].close)
    return _SHARED_PG[0].url


def _worker_database(url: str) -> str:
    """``url`` itself in a serial run; under pytest-xdist, a database of this worker's own
    on that server (created once), since every test empties the store it is given."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/') or 'postgres'}_{worker}"
    with psycopg.connect(url, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def empty_database(url: str) -> None:
    """Every table gone, whatever state an earlier test (in whatever order a worker ran
    them) left the database in."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")


def fresh_store(backend: str, tmp_path: Path):
    """An empty, migrated store on ``backend`` (PostgreSQL: every table dropped first)."""
    from assay.service import open_store

    if backend == "sqlite":
        return open_store(f"sqlite:///{tmp_path / 'm.db'}")
    url = postgres_url()
    empty_database(url)  # opening migrates: a database an earlier test left half-migrated
    store = open_store(url)
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

    from assay.service import Settings, create_app

    store = fresh_store(backend, tmp_path)
    # no scheduler thread in process: a test ticks it by hand (judge), so it is exact
    options = {"admin_token": ADMIN, "max_body_bytes": 2_000_000, "evaluate_every_s": 0}
    settings = Settings(**{**options, **settings_extra})
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


def judge(client, now: float | None = None) -> int:
    """One tick of the in-process service's scheduler, then every queued action
    delivered; returns the new alerts."""
    new = client.app.state.scheduler.run_once(now)
    assert client.app.state.dispatcher.drain(30)
    return new


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    db: Path | str, port: int, config: Path | None = None, args: tuple[str, ...] = ()
) -> subprocess.Popen:
    """``assay serve`` in a child process (``db``: a SQLite file or a store URL; the
    operator's ``config`` file), waited for until /healthz answers."""
    env = {**os.environ, "ASSAY_TOKEN": ADMIN}
    code = "import sys; from assay.cli.main import main; sys.argv[0] = 'assay'; main()"
    url = db if isinstance(db, str) else f"sqlite:///{db}"
    argv = [sys.executable, "-c", code, "serve", "--store", url, "--port", str(port), *args]
    if config is not None:
        argv += ["--config", str(config)]
    proc = subprocess.Popen(
        argv,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    import httpx

    deadline = time.monotonic() + 90  # a loaded CI machine imports slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start in 90 s")


@pytest.fixture
def server(tmp_path, request):
    """A real server; ``indirect`` parametrization gives its configuration (a dict)."""
    import yaml

    config = None
    if getattr(request, "param", None):
        config = tmp_path / "assay-serve.yaml"
        config.write_text(yaml.safe_dump(request.param))
    port = free_port()
    proc = start_server(tmp_path / "server.db", port, config)
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
