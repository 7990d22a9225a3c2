"""The SQLite adapter's schema, its forward migrations, and driver-error translation (private).

Schema versions are stamped in table ``itsmcore_schema`` (one row). Opening a file:

1. a file that does not start with the SQLite header is refused (a foreign or corrupt
   file), before SQLite touches it;
2. a SQLite file with tables but no ``itsmcore_schema`` belongs to another application
   and is refused, unchanged (not even its journal mode is switched);
3. a schema newer than this code is refused: upgrade itsmcore;
4. older schemas are migrated forward, in one ``BEGIN IMMEDIATE`` transaction, by the
   statements of each later version in :data:`MIGRATIONS`; concurrent openers wait on
   the write lock and re-read the version inside it, so a migration runs once.

Every ``sqlite3.Error`` becomes a :class:`~itsmcore.errors.StorageError` here and only
here (:func:`translate`); a lock held past the timeout becomes the retryable
:class:`~itsmcore.errors.StorageBusy`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from itsmcore.errors import StorageBusy, StorageError

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "check_header",
    "describe",
    "ensure_schema",
    "read_schema_version",
    "translate",
]

#: The schema version this code writes.
SCHEMA_VERSION: Final = 2

_APPLICATION: Final = "itsmcore"
_HEADER: Final = b"SQLite format 3\x00"

#: Statements that take a schema from version ``n - 1`` to ``n``, by ``n``. Never edit a
#: released entry: add the next version instead.
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        """CREATE TABLE itsmcore_schema (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            version INTEGER NOT NULL,
            application TEXT NOT NULL
        )""",
        # The latest snapshot of each record; ``data`` is serialization.dump(record).
        """CREATE TABLE records (
            id TEXT PRIMARY KEY,
            process TEXT NOT NULL,
            state TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            opened_us INTEGER NOT NULL,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX records_process_state ON records (process, state)",
        "CREATE INDEX records_opened ON records (opened_us, id)",
        # The key is the optimistic lock: one event per (record, version), ever.
        """CREATE TABLE events (
            record_id TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            data TEXT NOT NULL,
            PRIMARY KEY (record_id, version)
        ) WITHOUT ROWID""",
        "CREATE TABLE sequences (prefix TEXT PRIMARY KEY, value INTEGER NOT NULL)",
        """CREATE TABLE claims (
            key TEXT PRIMARY KEY,
            record_id TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        # ``seq`` orders pending rows oldest first (rows are never deleted, so the rowid
        # only grows); ``id`` is the stable notification id.
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            record_id TEXT NOT NULL,
            data TEXT NOT NULL,
            delivered INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX outbox_pending ON outbox (seq) WHERE delivered = 0",
        """CREATE TABLE deadlines (
            record_id TEXT NOT NULL,
            key TEXT NOT NULL,
            due_us INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (record_id, key)
        )""",
        # due() reads this index from its start: O(log n + k).
        "CREATE INDEX deadlines_due ON deadlines (due_us, record_id, key)",
        """CREATE TABLE heads (
            record_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            head TEXT NOT NULL,
            signature TEXT NOT NULL
        )""",
    ),
    # Version 2: fewer pages written per save, and appends checked against the chain.
    2: (
        # Each record's head hash in its own column, so a save can require that its
        # step extends the stored chain (``WHERE head = ?``) without parsing the JSON.
        "ALTER TABLE records ADD COLUMN head TEXT NOT NULL DEFAULT ''",
        "UPDATE records SET head = coalesce(json_extract(data, '$.head'), '')",
        # The outbox keeps pending rows only, oldest first by rowid, so it needs no
        # index on ``delivered``: a save writes two b-trees for its notification (the
        # table and the unique id) instead of three. Delivered ids move to
        # ``outbox_delivered``, which an insert checks, so an id is still stored once.
        """CREATE TABLE outbox_v2 (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            record_id TEXT NOT NULL,
            data TEXT NOT NULL
        )""",
        "INSERT INTO outbox_v2 (seq, id, record_id, data) "
        "SELECT seq, id, record_id, data FROM outbox WHERE delivered = 0",
        "CREATE TABLE outbox_delivered (id TEXT PRIMARY KEY) WITHOUT ROWID",
        "INSERT INTO outbox_delivered (id) SELECT id FROM outbox WHERE delivered <> 0",
        "DROP TABLE outbox",
        "ALTER TABLE outbox_v2 RENAME TO outbox",
    ),
}

# Primary SQLite result codes (https://sqlite.org/rescode.html).
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26


def describe(exc: sqlite3.Error, path: Path, timeout: float) -> StorageError:
    """The :class:`StorageError` (or :class:`StorageBusy`) that says what to do about ``exc``."""
    code = getattr(exc, "sqlite_errorcode", None)
    primary = code & 0xFF if isinstance(code, int) else None
    text = str(exc)
    where = str(path)
    if primary in (_BUSY, _LOCKED) or "locked" in text:
        return StorageBusy(
            f"{where} stayed locked by another writer for more than {timeout:g} s; nothing "
            "was written. Retry, or raise busy_timeout if writers hold the lock that long"
        )
    if primary in (_CORRUPT, _NOTADB) or "not a database" in text or "malformed" in text:
        return StorageError(
            f"{where} is corrupt or not a SQLite database ({text}); restore it from a "
            "backup, or point itsmcore at another file"
        )
    if primary == _READONLY:
        return StorageError(f"{where} is read-only ({text}); check the file's permissions")
    if primary == _CANTOPEN:
        return StorageError(
            f"cannot open {where} ({text}); check that its directory exists and is writable"
        )
    if primary == _FULL:
        return StorageError(f"the disk holding {where} is full; nothing was written. Free space")
    if primary == _IOERR:
        return StorageError(f"I/O error on {where} ({text}); check the disk, then retry")
    return StorageError(f"SQLite error on {where}: {text}")


@contextmanager
def translate(path: Path, timeout: float) -> Iterator[None]:
    """Re-raise any ``sqlite3.Error`` inside the block as a :class:`StorageError`."""
    try:
        yield
    except sqlite3.Error as exc:
        raise describe(exc, path, timeout) from exc


def check_header(path: Path) -> None:
    """Refuse an existing, non-empty file that is not a SQLite database."""
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(f"cannot read {str(path)!r}: {exc.strerror}") from None
    if head and head != _HEADER:
        raise StorageError(
            f"{str(path)!r} is not a SQLite database (it starts with other bytes); "
            "point itsmcore at a new file or at one it created"
        )


def read_schema_version(conn: sqlite3.Connection, path: Path) -> int:
    """The file's schema version (0 = empty); refuses foreign and newer databases."""
    tables = {
        name
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith("sqlite_")
    }
    if not tables:
        return 0
    if "itsmcore_schema" not in tables:
        listed = ", ".join(sorted(tables)[:5])
        raise StorageError(
            f"{str(path)!r} belongs to another application (tables: {listed}); point "
            "itsmcore at a new file"
        )
    row = conn.execute("SELECT version, application FROM itsmcore_schema WHERE id = 1").fetchone()
    if row is None or row[1] != _APPLICATION:
        raise StorageError(f"{str(path)!r} has a damaged itsmcore_schema table; restore a backup")
    version = int(row[0])
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"{str(path)!r} has schema version {version}, written by a newer itsmcore; this "
            f"version reads up to {SCHEMA_VERSION}. Upgrade itsmcore"
        )
    return version


def ensure_schema(conn: sqlite3.Connection, path: Path) -> int:
    """Migrate the file to :data:`SCHEMA_VERSION` (one transaction); return the old version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        version = read_schema_version(conn, path)
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
        if version < SCHEMA_VERSION:
            conn.execute(
                "INSERT INTO itsmcore_schema (id, version, application) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                (SCHEMA_VERSION, _APPLICATION),
            )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return version
