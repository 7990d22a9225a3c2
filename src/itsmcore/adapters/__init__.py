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

from typing import TYPE_CHECKING, Final

from itsmcore._lazy import lazy_exports

if TYPE_CHECKING:
    from itsmcore.adapters.memory import MemoryStorage
    from itsmcore.adapters.postgres import PostgresStorage
    from itsmcore.adapters.sqlite import SqliteStorage
    from itsmcore.adapters.url import storage_from_url

__all__ = ["MemoryStorage", "PostgresStorage", "SqliteStorage", "storage_from_url"]

_EXPORTS: Final[dict[str, str]] = {
    "MemoryStorage": "itsmcore.adapters.memory",
    "PostgresStorage": "itsmcore.adapters.postgres",
    "SqliteStorage": "itsmcore.adapters.sqlite",
    "storage_from_url": "itsmcore.adapters.url",
}

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
