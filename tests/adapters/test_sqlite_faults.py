"""Bad files and faults surface as typed errors that say what to do, and write nothing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import itsmcore as ic
from itsmcore.adapters import _sqlite_schema as schema
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.testing._storage_data import opened, updated


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {n for (n,) in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are my notes, not a database" * 20)
    with pytest.raises(ic.StorageError, match="not a SQLite database"):
        SqliteStorage(path)
    assert path.read_bytes() == b"these are my notes, not a database" * 20


def test_another_applications_database_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "crm.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY)")
    with pytest.raises(ic.StorageError, match="another application"):
        SqliteStorage(path)
    assert _tables(path) == {"customers"}
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_a_schema_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "itsm.db"
    SqliteStorage(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE itsmcore_schema SET version = 99")
    with pytest.raises(ic.StorageError, match=r"newer itsmcore.*Upgrade itsmcore"):
        SqliteStorage(path)


def test_an_older_schema_is_migrated_forward_keeping_its_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "itsm.db"
    store = SqliteStorage(path)
    store.append([opened("CT-1", team="ops")])
    store.close()
    later = schema.SCHEMA_VERSION + 1
    migrations = {**schema.MIGRATIONS, later: ("ALTER TABLE records ADD COLUMN archived INTEGER",)}
    monkeypatch.setattr(schema, "MIGRATIONS", migrations)
    monkeypatch.setattr(schema, "SCHEMA_VERSION", later)
    store = SqliteStorage(path)
    assert store.load("CT-1").fields["team"] == "ops"
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM itsmcore_schema").fetchone() == (later,)
        assert "archived" in {r[1] for r in raw.execute("PRAGMA table_info(records)")}


def test_a_corrupt_database_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "itsm.db"
    store = SqliteStorage(path)
    step = opened("CT-1", notes="x" * 20_000)
    store.append([step])
    store.close()
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xff" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    with pytest.raises(ic.StorageError, match="corrupt"):
        SqliteStorage(path).load("CT-1")


def test_a_lock_held_past_the_timeout_raises_storage_busy_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "itsm.db"
    store = SqliteStorage(path, busy_timeout=0.05)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(ic.StorageBusy, match="locked") as err:
            store.append([opened("CT-1")])
        assert err.value.retryable
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    with pytest.raises(ic.NotFound):
        store.load("CT-1")
    store.append([opened("CT-1")])  # retrying after the lock is gone works
    store.close()


def test_reads_go_on_while_another_connection_writes(tmp_path: Path) -> None:
    path = tmp_path / "itsm.db"
    store = SqliteStorage(path)
    first = opened("CT-1")
    store.append([first])
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        assert store.load("CT-1") == first.record
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    store.close()


def test_the_file_uses_wal_and_the_schema_version_table(tmp_path: Path) -> None:
    path = tmp_path / "itsm.db"
    SqliteStorage(path).close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert raw.execute("SELECT version FROM itsmcore_schema").fetchone() == (
            schema.SCHEMA_VERSION,
        )


@pytest.mark.parametrize(
    ("query", "index"),
    [
        (
            "SELECT data FROM records WHERE process = 'x' AND state IN ('a') "
            "ORDER BY opened_us, id",
            "records_process_state",
        ),
        (
            "SELECT data FROM deadlines WHERE due_us <= 5 ORDER BY due_us, record_id, key LIMIT 9",
            "deadlines_due",
        ),
        ("SELECT id FROM outbox WHERE id = 'event:CT-1:1'", "sqlite_autoindex_outbox_1"),
        ("SELECT 1 FROM outbox_delivered WHERE id = 'x'", "outbox_delivered"),
    ],
)
def test_queries_read_their_index(tmp_path: Path, query: str, index: str) -> None:
    path = tmp_path / "itsm.db"
    SqliteStorage(path).close()
    with sqlite3.connect(path) as raw:
        plan = " ".join(str(row[-1]) for row in raw.execute(f"EXPLAIN QUERY PLAN {query}"))
    assert index in plan


def test_a_memory_path_is_refused_with_the_alternative(tmp_path: Path) -> None:
    with pytest.raises(ic.StorageError, match="MemoryStorage"):
        SqliteStorage(":memory:")


def test_a_closed_store_says_to_open_a_new_one(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "itsm.db")
    store.close()
    with pytest.raises(ic.StorageError, match="closed"):
        store.load("CT-1")


def test_a_missing_directory_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(ic.StorageError, match="directory"):
        SqliteStorage(tmp_path / "no" / "such" / "dir" / "itsm.db")


def test_integrity_check_reports_a_sound_file(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "itsm.db")
    first = opened("CT-1")
    store.append([first, updated(first.record)])
    assert store.integrity_check() == []
    store.close()


def test_each_thread_gets_its_own_connection(tmp_path: Path) -> None:
    import threading

    store = SqliteStorage(tmp_path / "itsm.db")
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(store._connection()))
    thread.start()
    thread.join()
    assert seen[0] is not store._connection()
    store.close()
