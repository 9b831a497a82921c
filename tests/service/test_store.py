"""The store: migrations, idempotent writes, SQLite pragmas; the same behaviour on
PostgreSQL when ``ASSAY_TEST_POSTGRES`` names a server (``.ci/run`` starts one)."""

from __future__ import annotations

import threading

import pytest

from assay.service import ModelRecord, open_store
from assay.service._store import MIGRATIONS
from tests.service.conftest import BACKENDS, fresh_store, postgres_url


def _model(name: str = "m") -> ModelRecord:
    return ModelRecord(name, 0.0, "binary", "y", None, None, {"features": ["x"]}, b"PAR1\x00\xff")


@pytest.fixture(params=BACKENDS)
def store(request, tmp_path):
    s = fresh_store(request.param, tmp_path)
    yield s
    s.close()


def _reopen(store, tmp_path):
    store.close()
    if store.dialect == "sqlite":
        return open_store(str(tmp_path / "m.db"))
    return open_store(postgres_url())


def test_models_are_created_once_and_read_back(store):
    assert store.schema_version() == len(MIGRATIONS)
    assert store.create_model(_model()) is True
    assert store.create_model(_model()) is False
    got = store.get_model("m")
    assert got == _model() and isinstance(got.reference, bytes)
    assert store.get_model("nope") is None
    assert [m.name for m in store.list_models()] == ["m"]


def test_resent_ids_are_not_stored_twice_and_new_rows_are_counted(store):
    store.create_model(_model())
    rows = [(f"r{i}", float(i), '{"x": 1}', "1", 0.5) for i in range(10)]
    assert store.insert_predictions("m", rows) == 10
    assert store.insert_predictions("m", rows) == 0
    assert store.insert_predictions("m", [*rows[5:], ("r10", 10.0, "{}", "0", None)]) == 1
    assert store.insert_predictions("m", []) == 0
    assert store.counts("m") == (11, 0)
    # a resent id keeps its first version
    assert store.load_predictions("m")[3][1:5] == (3.0, '{"x": 1}', "1", 0.5)


def test_labels_are_joined_by_id_and_a_resent_label_overwrites(store):
    store.create_model(_model())
    store.create_model(_model("other"))
    rows = [(f"r{i}", float(10 - i), "{}", "1", None) for i in range(5)]
    store.insert_predictions("m", rows)
    store.insert_predictions("other", rows)
    assert store.insert_labels("m", [("r1", "1"), ("r3", "0"), ("r1", "0")]) == 3
    assert store.insert_labels("other", [("r1", "1")]) == 1
    assert store.counts("m") == (5, 2) and store.counts("other") == (5, 1)
    loaded = store.load_predictions("m")
    assert [r[0] for r in loaded] == ["r4", "r3", "r2", "r1", "r0"]  # time order
    assert {r[0]: r[5] for r in loaded} == {
        "r0": None,
        "r1": "0",
        "r2": None,
        "r3": "0",
        "r4": None,
    }
    assert [r[0] for r in store.load_predictions("m", since=8.0)] == ["r2", "r1", "r0"]
    assert store.load_predictions("other")[3][5] == "1"


def test_migrations_are_versioned_and_rerunnable(store, tmp_path):
    store.create_model(_model())
    store.insert_predictions("m", [("r0", 0.0, "{}", "1", 0.5)])
    assert store.migrate() == len(MIGRATIONS)  # a second run applies nothing
    versions = store._read("SELECT version FROM schema_migrations ORDER BY version")
    assert [v[0] for v in versions] == [m[0] for m in MIGRATIONS]
    again = _reopen(store, tmp_path)  # opening migrates again: no error, data kept
    try:
        assert again.schema_version() == len(MIGRATIONS) and again.counts("m") == (1, 0)
        n = again._read("SELECT COUNT(*) FROM schema_migrations")[0][0]
        assert int(n) == len(MIGRATIONS)
    finally:
        again.close()


def test_services_starting_at_once_migrate_once(store, tmp_path):
    """Several processes opening an empty database together: one migrates, the
    others wait and find the schema in place (no "table already exists")."""
    url = postgres_url() if store.dialect == "postgres" else f"sqlite:///{tmp_path / 'race.db'}"
    if store.dialect == "postgres":
        store._drop_all()
    errors: list[BaseException] = []
    opened = []

    def start() -> None:
        try:
            opened.append(open_store(url))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in opened:
        s.close()
    assert errors == []
    check = open_store(url)
    try:
        n = check._read("SELECT COUNT(*) FROM schema_migrations")[0][0]
        assert int(n) == len(MIGRATIONS) == check.schema_version()
    finally:
        check.close()


def test_tokens_alerts_policies_outbox_and_history(store):
    store.create_model(_model())
    store.add_token("t1", "h1", "read", "ci")
    store.add_token("t1", "h2", "admin", None)
    assert store.get_token("t1") == ("h2", "admin") and store.get_token("t2") is None
    store.add_alert("m", "drift", "w1", "msg", '{"a": 1}')
    assert store.has_alert("m", "drift", "w1") and not store.has_alert("m", "drift", "w2")
    assert store.list_alerts("m")[0]["details"] == {"a": 1}
    assert store.get_policy("m") is None
    store.put_policy("m", "rules: []")
    assert store.get_policy("m") == ("rules: []", "{}")
    alerts = [("a1", "drift", "w1", "msg", "{}")]
    actions = [("a1", "webhook", '{"u": 1}')]
    assert store.record_policy_run("m", '{"s": 1}', alerts, actions) == 1
    assert store.record_policy_run("m", '{"s": 2}', alerts, actions) == 0  # idempotent
    assert store.get_policy("m") == ("rules: []", '{"s": 2}')
    pending = store.pending_actions()
    assert len(pending) == 1 and pending[0][1:5] == ("m", "a1", "webhook", '{"u": 1}')
    store.finish_action(pending[0][0], "done", None)
    assert store.pending_actions() == []
    assert store.list_actions("m")[0]["status"] == "done"
    assert store.champion("m") is None
    v1 = store.add_model_version("m", "a.skops", b"\x00A", "champion", "{}")
    v2 = store.add_model_version("m", "b.skops", b"\x00B", "rejected", '{"why": "worse"}')
    assert v2 > v1 and store.champion("m") == ("a.skops", b"\x00A")
    assert [h["role"] for h in store.model_history("m")] == ["champion", "rejected"]


def test_sqlite_pragmas(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    assert store._read("PRAGMA journal_mode")[0][0] == "wal"
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    store.close()


def test_bad_store_url():
    from assay.errors import ConfigError

    with pytest.raises(ConfigError, match="not supported"):
        open_store("mysql://x")


def test_a_batch_for_an_unregistered_model_is_refused_whole(store):
    """SQLite refuses it by its foreign key, PostgreSQL by the once-per-batch check
    that replaced the per-row foreign-key trigger (migration 9): nothing is stored."""
    store.create_model(_model())
    rows = [(f"r{i}", 1.7e9 + i, "{}", "1", 0.5) for i in range(3)]
    with pytest.raises(Exception, match=r"model|FOREIGN KEY"):
        store.insert_predictions("ghost", rows)
    assert store.load_predictions("ghost") == [] and store.counts("ghost") == (0, 0)
    assert store.insert_predictions("m", rows) == 3  # the writer is usable afterwards
    if store.dialect == "postgres":  # no per-row trigger left on predictions
        found = store._read(
            "SELECT COUNT(*) FROM pg_constraint WHERE conrelid = 'predictions'::regclass "
            "AND contype = 'f'"
        )
        assert found[0][0] == 0
