"""The shipped contract suite cannot be hollowed out, and its pytest plugin works."""

from __future__ import annotations

from pathlib import Path

import pytest

from itsmcore.adapters.memory import MemoryStorage
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.testing.contract import StorageContract


def test_overriding_a_contract_test_is_refused_when_the_class_is_made() -> None:
    with pytest.raises(TypeError, match="cannot be replaced"):

        class Hollow(StorageContract):  # pragma: no cover - never instantiated
            def test_a_stale_step_overwrites_nothing(self) -> None:
                assert True


def test_overriding_a_contract_test_through_a_mixin_is_refused() -> None:
    class Shortcuts:
        def test_a_stale_step_overwrites_nothing(self) -> None:
            assert True

    with pytest.raises(TypeError, match="cannot be replaced"):

        class Hollow(Shortcuts, StorageContract):  # pragma: no cover - never instantiated
            pass


def test_an_unknown_capability_is_refused_with_a_suggestion() -> None:
    with pytest.raises(TypeError, match="did you mean 'threads'"):

        class Typo(StorageContract):  # pragma: no cover - never instantiated
            capabilities = frozenset({"thread"})


def test_helpers_and_fixtures_may_be_overridden() -> None:
    class Fine(StorageContract):
        capabilities = frozenset({"threads"})

        def backdoor_outbox_ids(self, storage: object) -> list[str]:
            return []

    assert Fine.capabilities == {"threads"}


def test_the_pytest_plugin_provides_fresh_stores(
    itsmcore_memory_storage: MemoryStorage,
    itsmcore_sqlite_storage: SqliteStorage,
    itsmcore_sqlite_path: Path,
) -> None:
    assert itsmcore_memory_storage.record_ids() == []
    assert itsmcore_sqlite_storage.record_ids() == []
    assert itsmcore_sqlite_storage.path == itsmcore_sqlite_path


def test_the_pytest_plugin_registers_the_markers(pytestconfig: pytest.Config) -> None:
    markers = "\n".join(pytestconfig.getini("markers"))
    assert "itsmcore_contract:" in markers
    assert "itsmcore_multiprocess:" in markers
