"""The store: migrations, idempotent writes, SQLite pragmas; PostgreSQL when reachable."""

from __future__ import annotations

import os

import pytest

from assay.monitor import ModelRecord, open_store
from assay.monitor._store import MIGRATIONS


def _model(name: str = "m") -> ModelRecord:
    return ModelRecord(name, 0.0, "binary", "y", None, None, {"features": ["x"]}, b"PAR1")


def _exercise(store) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    assert store.create_model(_model()) is True
    assert store.create_model(_model()) is False
    rows = [(f"r{i}", float(i), '{"x": 1}', "1", 0.5) for i in range(10)]
    assert store.insert_predictions("m", rows) == 10
    assert store.insert_predictions("m", [*rows[5:], ("r10", 10.0, "{}", "0", None)]) == 1
    store.insert_labels("m", [("r1", "1"), ("r1", "0")])
    assert store.counts("m") == (11, 1)
    loaded = store.load_predictions("m")
    assert [r[0] for r in loaded][:3] == ["r0", "r1", "r2"] and loaded[1][5] == "0"
    store.add_alert("m", "drift", "w1", "msg", "{}")
    assert store.has_alert("m", "drift", "w1") and store.list_alerts("m")[0]["kind"] == "drift"


def test_sqlite_store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    _exercise(store)
    assert store._read("PRAGMA journal_mode")[0][0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()
    again = open_store(str(tmp_path / "a.db"))  # migrations are not re-applied
    assert again.counts("m") == (11, 1)
    again.close()


def test_bad_store_url():
    from assay.errors import ConfigError

    with pytest.raises(ConfigError, match="not supported"):
        open_store("mysql://x")


def test_postgres_store():
    url = os.environ.get("ASSAY_TEST_POSTGRES")
    if not url:
        pytest.skip("no PostgreSQL server: set ASSAY_TEST_POSTGRES=postgresql://... to run")
    pytest.importorskip("psycopg", reason="needs psycopg: pip install 'assay[postgres]'")
    store = open_store(url)
    try:
        store._drop_all()
        store.migrate()
        _exercise(store)
    finally:
        store.close()
