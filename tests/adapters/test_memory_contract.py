"""The in-memory reference adapter keeps the whole storage contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from itsmcore.adapters.memory import MemoryStorage
from itsmcore.ports.storage import Storage
from itsmcore.testing.contract import StorageContract


class TestMemoryStorage(StorageContract):
    capabilities = frozenset({"claims_in_append", "threads"})

    @pytest.fixture
    def make_storage(self) -> Callable[[], Storage]:
        return MemoryStorage

    def backdoor_event_versions(self, storage: Storage, record_id: str) -> list[int]:
        assert isinstance(storage, MemoryStorage)
        return [e.version for e in storage._events.get(record_id, [])]

    def backdoor_outbox_ids(self, storage: Storage) -> list[str]:
        assert isinstance(storage, MemoryStorage)
        return list(storage._outbox)
