"""The itsmcore pytest plugin (entry point ``pytest11: itsmcore``).

Why a plugin: a host that runs :mod:`itsmcore.testing.contract` against its own
adapter gets our markers registered (so ``--strict-markers`` works) and a few fixtures,
without copying a ``conftest.py``. pytest loads it automatically once itsmcore is
installed; ``-p no:itsmcore`` turns it off.

Markers:

- ``itsmcore_contract``: a test of the shipped storage contract suite;
- ``itsmcore_multiprocess``: a proof that starts OS processes (slow-ish; deselect with
  ``-m "not itsmcore_multiprocess"`` when iterating).

Fixtures:

- ``itsmcore_memory_storage``: a fresh in-memory reference adapter;
- ``itsmcore_sqlite_path``: a path for a fresh SQLite database file in ``tmp_path``;
- ``itsmcore_sqlite_storage``: a fresh SQLite adapter at that path, closed afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from itsmcore.adapters.memory import MemoryStorage
    from itsmcore.adapters.sqlite import SqliteStorage

__all__ = [
    "itsmcore_memory_storage",
    "itsmcore_sqlite_path",
    "itsmcore_sqlite_storage",
    "pytest_configure",
]

MARKERS: tuple[tuple[str, str], ...] = (
    ("itsmcore_contract", "a test of the itsmcore storage contract suite"),
    ("itsmcore_multiprocess", "an itsmcore proof that starts several OS processes"),
)


def pytest_configure(config: pytest.Config) -> None:
    """Register the itsmcore markers."""
    for name, help_text in MARKERS:
        config.addinivalue_line("markers", f"{name}: {help_text}")


@pytest.fixture
def itsmcore_memory_storage() -> MemoryStorage:
    """A fresh in-memory reference adapter."""
    from itsmcore.adapters.memory import MemoryStorage

    return MemoryStorage()


@pytest.fixture
def itsmcore_sqlite_path(tmp_path: Path) -> Path:
    """A path for a fresh SQLite database (the file does not exist yet)."""
    return tmp_path / "itsmcore.sqlite3"


@pytest.fixture
def itsmcore_sqlite_storage(itsmcore_sqlite_path: Path) -> Iterator[SqliteStorage]:
    """A fresh SQLite adapter, closed after the test."""
    from itsmcore.adapters.sqlite import SqliteStorage

    storage = SqliteStorage(itsmcore_sqlite_path)
    try:
        yield storage
    finally:
        storage.close()
