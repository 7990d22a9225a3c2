"""Storage adapters: implementations of :class:`itsmcore.ports.storage.Storage`.

- :class:`~itsmcore.adapters.memory.MemoryStorage`: in memory, the reference;
- :class:`~itsmcore.adapters.sqlite.SqliteStorage`: one SQLite file, the embedded
  default (imported on first use, so ``import itsmcore`` does not load ``sqlite3``);
- :class:`~itsmcore.adapters.postgres.PostgresStorage`: PostgreSQL for many workers on
  many hosts (``pip install 'itsmcore[postgres]'``; imported on first use);
- :func:`~itsmcore.adapters.url.storage_from_url`: an adapter from a URL
  (``memory://``, ``sqlite:///path.db`` or a plugin's scheme).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from itsmcore.adapters.memory import MemoryStorage

if TYPE_CHECKING:
    from itsmcore.adapters.postgres import PostgresStorage
    from itsmcore.adapters.sqlite import SqliteStorage
    from itsmcore.adapters.url import storage_from_url

__all__ = ["MemoryStorage", "PostgresStorage", "SqliteStorage", "storage_from_url"]


def __getattr__(name: str) -> Any:
    if name == "SqliteStorage":
        from itsmcore.adapters.sqlite import SqliteStorage

        return SqliteStorage
    if name == "PostgresStorage":
        from itsmcore.adapters.postgres import PostgresStorage

        return PostgresStorage
    if name == "storage_from_url":
        from itsmcore.adapters.url import storage_from_url

        return storage_from_url
    raise AttributeError(f"module 'itsmcore.adapters' has no attribute {name!r}")
