"""Storage from a URL: the built-in schemes, and the entry point that asks the plugins.

Built-in schemes (served by :class:`BuiltinStorage`, a plugin registered in every
engine, called after the host's plugins so a plugin can take a scheme over):

- ``memory://``: a fresh :class:`~itsmcore.adapters.memory.MemoryStorage`;
- ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` (three slashes,
  then the path; as in SQLAlchemy): a :class:`~itsmcore.adapters.sqlite.SqliteStorage`.
  Query options: ``busy_timeout`` (seconds) and ``synchronous`` (``FULL``, ``NORMAL``,
  ``EXTRA``), e.g. ``sqlite:///itsm.db?busy_timeout=10&synchronous=NORMAL``.

- ``postgresql://user@host:5432/dbname`` (or ``postgres://``): a
  :class:`~itsmcore.adapters.postgres.PostgresStorage` (needs the ``postgres`` extra).
  Query options ``schema``, ``pool_size``, ``lock_timeout``, ``connect_timeout``,
  ``lease`` and ``notify`` go to the adapter, the others (``sslmode`` ...) to libpq.

Other schemes come from plugins implementing ``itsmcore_storage(url)``. An unknown
scheme or a malformed URL raises :class:`~itsmcore.errors.StorageError` saying what to
write instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, unquote, urlsplit

from itsmcore.errors import StorageError
from itsmcore.ports.hookspecs import hookimpl
from itsmcore.ports.storage import Storage

__all__ = ["BuiltinStorage", "sqlite_options", "storage_from_url"]

_SQLITE_OPTIONS = ("busy_timeout", "synchronous")


def sqlite_options(url: str) -> tuple[str, dict[str, str]]:
    """The file path and options of a ``sqlite:///`` URL (see the module docs)."""
    parts = urlsplit(url)
    if parts.netloc:
        raise StorageError(
            f"{url!r}: a sqlite URL has no host; write sqlite:///relative.db or "
            "sqlite:////absolute/path.db"
        )
    path = unquote(parts.path[1:]) if parts.path.startswith("/") else ""
    if not path:
        raise StorageError(
            f"{url!r} names no file; write sqlite:///relative.db or sqlite:////absolute.db "
            "(for a store in memory use memory://)"
        )
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(_SQLITE_OPTIONS))
    if unknown:
        raise StorageError(
            f"{url!r}: unknown option(s) {', '.join(unknown)}; known: {', '.join(_SQLITE_OPTIONS)}"
        )
    return path, options


def _sqlite(url: str) -> Storage:
    from itsmcore.adapters.sqlite import SqliteStorage

    path, options = sqlite_options(url)
    timeout = 5.0
    if "busy_timeout" in options:
        try:
            timeout = float(options["busy_timeout"])
        except ValueError:
            raise StorageError(f"{url!r}: busy_timeout is a number of seconds") from None
    return SqliteStorage(path, busy_timeout=timeout, synchronous=options.get("synchronous", "FULL"))


class BuiltinStorage:
    """The built-in plugin serving ``memory://``, ``sqlite:///`` and ``postgresql://`` URLs."""

    @hookimpl(trylast=True)
    def itsmcore_storage(self, url: str) -> Storage | None:
        scheme = url.split(":", 1)[0].lower()
        if scheme == "memory":
            if url.lower() not in ("memory:", "memory://"):
                raise StorageError(f"{url!r}: the memory scheme takes nothing; write memory://")
            from itsmcore.adapters.memory import MemoryStorage

            return MemoryStorage()
        if scheme == "sqlite":
            return _sqlite(url)
        if scheme in ("postgresql", "postgres"):
            from itsmcore.adapters.postgres import PostgresStorage

            return PostgresStorage.from_url(url)
        return None


def storage_from_url(url: str, *, plugins: Iterable[object] = ()) -> Storage:
    """The storage adapter for ``url``: built-in schemes, or the first of ``plugins``
    that implements ``itsmcore_storage`` for it. Raises ``StorageError``/``PluginError``."""
    from itsmcore.ports.plugins import PluginHost

    return PluginHost(plugins).storage(url)
