"""The SQLite adapter keeps the whole storage contract, read back through raw SQL."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.ports.storage import Storage
from itsmcore.testing.contract import StorageContract


def _raw(storage: Storage, sql: str, *params: object) -> list[tuple[object, ...]]:
    assert isinstance(storage, SqliteStorage)
    with sqlite3.connect(storage.path) as conn:
        return conn.execute(sql, params).fetchall()


class TestSqliteStorage(StorageContract):
    capabilities = frozenset({"claims_in_append", "reopen", "shared", "threads"})

    @pytest.fixture
    def make_storage(self, tmp_path: Path) -> Callable[[], Storage]:
        numbers = itertools.count()
        return lambda: SqliteStorage(tmp_path / f"store{next(numbers)}.db", synchronous="NORMAL")

    def reopen(self, storage: Storage) -> Storage:
        assert isinstance(storage, SqliteStorage)
        return SqliteStorage(storage.path)

    def backdoor_event_versions(self, storage: Storage, record_id: str) -> list[int]:
        rows = _raw(storage, "SELECT version FROM events WHERE record_id = ? ORDER BY 1", record_id)
        return [int(v) for (v,) in rows]  # type: ignore[call-overload]

    def backdoor_outbox_ids(self, storage: Storage) -> list[str]:
        return [str(i) for (i,) in _raw(storage, "SELECT id FROM outbox ORDER BY seq")]
