"""The SQLite storage adapter: the embedded default (``Engine.sqlite(path)``, ``sqlite:///``).

Why these choices:

- stdlib ``sqlite3`` in autocommit mode (``isolation_level=None``) with an explicit
  ``BEGIN IMMEDIATE`` per write: the write lock is taken up front, so two writers never
  both read a version and then both fail to upgrade their lock (no SQLITE_BUSY
  half-way through a transaction);
- WAL journal: readers never block the writer nor each other; ``synchronous=FULL`` by
  default (a committed event survives power loss; ``NORMAL`` survives process crashes
  only and is faster);
- ``busy_timeout`` (seconds): a writer waits that long for the lock, then gets the
  retryable :class:`~itsmcore.errors.StorageBusy`, never a raw ``sqlite3`` error;
- the version check rides on the write: a record's UPDATE matches only the stored row
  at the expected version and chain head (``records.head``), inside the write lock;
  events keyed ``PRIMARY KEY (record_id, version)`` are a second line of defence;
- the outbox holds pending rows only, oldest first by rowid (delivered ids move to
  ``outbox_delivered``): a save adds one row and one unique-index entry, no more;
- records, events, notifications, deadlines and claims are stored as the JSON of
  :func:`itsmcore.serialization.dump` and read back with ``load``: an exact round trip;
  ``find`` filters on fields with ``json_extract`` and uses the index on
  ``(process, state)``; ``due`` reads the index on ``due`` (O(log n + k)).

Safe from many processes on one host (each opens its own adapter) and from many threads
(one connection per thread). Not for network file systems (SQLite's WAL needs shared
memory). The schema is versioned and migrated forward (:mod:`._sqlite_schema`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, TypeVar

from itsmcore._codec import (
    decode_event,
    decode_record,
    encode_deadline,
    encode_event,
    encode_notification,
    encode_record,
)
from itsmcore.adapters._sqlite_schema import (
    check_header,
    describe,
    ensure_schema,
    read_schema_version,
    translate,
)
from itsmcore.errors import ClaimTaken, ConcurrencyError, NotFound, StorageError, ValidationError
from itsmcore.ports.storage import Claim, Deadline, Notification, SignedHead, heads_of
from itsmcore.records import Event, Record, Step
from itsmcore.serialization import dump, load

__all__ = ["SqliteStorage"]

T = TypeVar("T")
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_SYNC_MODES: Final = ("FULL", "NORMAL", "EXTRA")
_INT64: Final = (-(2**63), 2**63 - 1)
_NO_SQL: Final = object()


def _micros(at: datetime) -> int:
    """Microseconds since the epoch, exact (the sort key of an instant)."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _encode(obj: Record | Event | Notification | Deadline | Claim) -> str:
    """The stored JSON text: the text of ``json.dumps(dump(obj))``, written by hand on the
    save path (:mod:`itsmcore._codec`) because cattrs costs more there than the SQL."""
    try:
        if isinstance(obj, Record):
            return encode_record(obj)
        if isinstance(obj, Event):
            return encode_event(obj)
        if isinstance(obj, Notification):
            return encode_notification(obj)
        if isinstance(obj, Deadline):
            return encode_deadline(obj)
        return json.dumps(dump(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        raise ValidationError.single("$", f"cannot store {type(obj).__name__}: {exc}") from None


def _sql_value(value: Any) -> Any:
    """The SQL parameter to compare with ``json_extract``, or ``_NO_SQL`` (filter in Python).

    Text with a NUL is filtered in Python: SQLite's JSON functions end text at a NUL.
    """
    if isinstance(value, str):
        return _NO_SQL if "\x00" in value else value
    if isinstance(value, bool | float) or value is None:
        return value
    if isinstance(value, int) and _INT64[0] <= value <= _INT64[1]:
        return value
    return _NO_SQL


#: Insert one outbox row unless its id is queued or was delivered already (an id is
#: stored once, ever); parameters ``(id, record_id, data, id)``.
_OUTBOX_INSERT: Final = (
    "INSERT OR IGNORE INTO outbox (id, record_id, data) SELECT ?, ?, ? "
    "WHERE NOT EXISTS (SELECT 1 FROM outbox_delivered WHERE id = ?)"
)


def _record_row(first: Step, last: Record) -> tuple[str, tuple[Any, ...], int]:
    """The statement that writes ``last`` (a record after an append's steps) where
    ``first`` is its first step in the append: ``(sql, params, expected version)``.

    The version and chain checks ride on the write: the UPDATE matches only the stored
    row at the expected version, head *and* state (so a step computed from a snapshot
    the store does not hold never forks the chain); a new record's INSERT fails on an
    existing id. Only the columns that change are set: SQLite then leaves the indexes
    of the others alone. Raises ``ValueError`` for a value JSON cannot hold.
    """
    expected, data = first.record.version - 1, encode_record(last)
    if expected == 0:
        sql = (
            "INSERT INTO records (id, process, state, version, opened_us, head, data) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        opened_us = _micros(last.opened_at)
        return sql, (last.id, last.process, last.state, last.version, opened_us, last.head, data), 0
    where = (last.id, expected, first.event.prev_hash, first.event.source)
    if first.event.source == last.state:
        sql = (
            "UPDATE records SET version = ?, head = ?, data = ? "
            "WHERE id = ? AND version = ? AND head = ? AND state = ?"
        )
        return sql, (last.version, last.head, data, *where), expected
    sql = (
        "UPDATE records SET state = ?, version = ?, head = ?, data = ? "
        "WHERE id = ? AND version = ? AND head = ? AND state = ?"
    )
    return sql, (last.state, last.version, last.head, data, *where), expected


def _rollback(conn: sqlite3.Connection) -> None:
    """Roll back the open transaction, if SQLite has not already (after an I/O error)."""
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")


class SqliteStorage:
    """A :class:`~itsmcore.ports.storage.Storage` in one SQLite file (created if absent).

    ``busy_timeout`` is in seconds. ``synchronous`` is ``"FULL"`` (default), ``"NORMAL"``
    or ``"EXTRA"``. ``prepare_connection`` is called with each new connection (register
    SQL functions, extra pragmas). Raises :class:`~itsmcore.errors.StorageError` for a
    foreign, corrupt or newer-schema file, leaving it untouched.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        busy_timeout: float = 5.0,
        synchronous: str = "FULL",
        prepare_connection: Callable[[sqlite3.Connection], None] | None = None,
    ) -> None:
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            raise StorageError(
                f"SqliteStorage needs a file path, got {str(path)!r}; for a store in memory "
                "use itsmcore.adapters.memory.MemoryStorage (memory://)"
            )
        if synchronous.upper() not in _SYNC_MODES:
            raise StorageError(f"synchronous must be one of {', '.join(_SYNC_MODES)}")
        if not busy_timeout >= 0:
            raise StorageError("busy_timeout is a number of seconds >= 0")
        self.path = Path(path)
        self.busy_timeout = float(busy_timeout)
        self.synchronous = synchronous.upper()
        self._prepare = prepare_connection
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._migrated = False
        self._closed = False
        self._connection()  # open now, so a bad file fails here

    def __repr__(self) -> str:
        return f"SqliteStorage({str(self.path)!r})"

    # -- connections -----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise StorageError(f"{self!r} is closed; open a new adapter")
        if os.getpid() != self._pid:  # forked: never share a connection with the parent
            self._pid = os.getpid()
            self._local = threading.local()
            self._connections = []
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _open(self) -> sqlite3.Connection:
        check_header(self.path)
        with translate(self.path, self.busy_timeout):
            conn = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout,
                isolation_level=None,
                check_same_thread=False,
            )
            try:
                if not self._migrated:
                    # Refuse foreign / newer files before switching their journal mode.
                    read_schema_version(conn, self.path)
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StorageError(
                        f"{self.path} cannot use WAL journaling (got {mode!r}); put the "
                        "database on a local file system"
                    )
                conn.execute(f"PRAGMA synchronous = {self.synchronous}")
                if not self._migrated:
                    ensure_schema(conn, self.path)
                    self._migrated = True
                if self._prepare is not None:
                    self._prepare(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: ``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on error."""
        conn = self._connection()
        with translate(self.path, self.busy_timeout):
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    # SQLite may have rolled back already (e.g. after an I/O error).
                    with suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        conn = self._connection()
        with translate(self.path, self.busy_timeout):
            return conn.execute(sql, params).fetchall()

    def _decode(self, cls: type[T], text: str, where: str) -> T:
        try:
            if cls is Record:
                return decode_record(text)  # type: ignore[return-value]
            if cls is Event:
                return decode_event(text)  # type: ignore[return-value]
            return load(cls, json.loads(text))
        except (ValueError, ValidationError) as exc:
            raise StorageError(
                f"{self.path}: stored {where} cannot be read ({exc}); the file was edited "
                "outside itsmcore: restore it from a backup"
            ) from None

    # -- writes ----------------------------------------------------------------------------

    def append(
        self,
        steps: Sequence[Step],
        *,
        outbox: Sequence[Notification] = (),
        deadlines: Mapping[str, Sequence[Deadline]] | None = None,
        signatures: Mapping[str, str] | None = None,
        claims: Sequence[Claim] = (),
    ) -> None:
        heads = heads_of(steps, signatures)
        # The first step of each record says what the stored row must be: the version
        # and head it extends (a new record: none) and the state it leaves.
        first: dict[str, Step] = {}
        latest: dict[str, int] = {}  # several steps of one record must follow each other
        for step in steps:
            rid, version = step.record.id, step.record.version
            first.setdefault(rid, step)
            if rid in latest and version != latest[rid] + 1:
                raise ConcurrencyError(version - 1, latest[rid], rid)
            latest[rid] = version
        # Encode before taking the lock: the transaction holds it only for SQL.
        try:
            record_rows = [(rid, *_record_row(first[rid], s.record)) for rid, s in heads.items()]
            event_rows = [
                (s.event.record_id, s.event.version, encode_event(s.event)) for s in steps
            ]
            outbox_rows = [(n.id, n.record_id, encode_notification(n), n.id) for n in outbox]
            firsts: dict[str, Claim] = {}
            for c in claims:  # a key given twice is one claim
                firsts.setdefault(c.key, c)
            claim_rows = [(c.key, c.record_id, _encode(c)) for c in firsts.values()]
        except ValueError as exc:
            raise ValidationError.single("$", f"cannot store a value: {exc}") from None
        deadline_rows = {
            rid: [(rid, d.key, _micros(d.due), _encode(d)) for d in {d.key: d for d in ds}.values()]
            for rid, ds in (deadlines or {}).items()
        }
        head_rows = [
            (rid, heads[rid].event.version, heads[rid].event.hash, sig)
            for rid, sig in (signatures or {}).items()
        ]
        conn = self._connection()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if claim_rows:  # first: a claim taken elsewhere means the work is done
                    taken = [
                        row[0]
                        for row in claim_rows
                        if conn.execute(
                            "INSERT OR IGNORE INTO claims (key, record_id, data) VALUES (?, ?, ?)",
                            row,
                        ).rowcount
                        != 1
                    ]
                    if taken:
                        raise ClaimTaken(taken)
                for rid, sql, params, expected in record_rows:
                    try:
                        written = conn.execute(sql, params).rowcount == 1
                    except sqlite3.IntegrityError:  # a new record's id is taken
                        written = False
                    if not written:
                        row = conn.execute(
                            "SELECT version FROM records WHERE id = ?", (rid,)
                        ).fetchone()
                        raise ConcurrencyError(expected, int(row[0]) if row else 0, rid)
                try:
                    conn.executemany(
                        "INSERT INTO events (record_id, version, data) VALUES (?, ?, ?)",
                        event_rows,
                    )
                except sqlite3.IntegrityError:
                    raise StorageError(
                        f"{self.path}: the events table already holds a version the records "
                        "table does not know; the file was edited outside itsmcore: restore "
                        "it from a backup"
                    ) from None
                if outbox_rows:
                    conn.executemany(_OUTBOX_INSERT, outbox_rows)
                for rid, rows in deadline_rows.items():
                    conn.execute("DELETE FROM deadlines WHERE record_id = ?", (rid,))
                    if rows:
                        conn.executemany(
                            "INSERT INTO deadlines (record_id, key, due_us, data) "
                            "VALUES (?, ?, ?, ?)",
                            rows,
                        )
                if head_rows:
                    conn.executemany(
                        "INSERT INTO heads (record_id, version, head, signature) "
                        "VALUES (?, ?, ?, ?) ON CONFLICT (record_id) DO UPDATE SET "
                        "version = excluded.version, head = excluded.head, "
                        "signature = excluded.signature",
                        head_rows,
                    )
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise
        except sqlite3.Error as exc:
            raise describe(exc, self.path, self.busy_timeout) from exc

    def claim(self, claims: Sequence[Claim], *, outbox: Sequence[Notification] = ()) -> list[Claim]:
        rows = [(c, _encode(c)) for c in claims]
        notes = [(n, _encode(n)) for n in outbox]
        inserted: list[Claim] = []
        with self._write() as conn:
            for c, data in rows:
                cur = conn.execute(
                    "INSERT OR IGNORE INTO claims (key, record_id, data) VALUES (?, ?, ?)",
                    (c.key, c.record_id, data),
                )
                if cur.rowcount == 1:
                    inserted.append(c)
            won = {c.key for c in inserted}
            asked = {c.key for c in claims}
            conn.executemany(
                _OUTBOX_INSERT,
                [
                    (n.id, n.record_id, data, n.id)
                    for n, data in notes
                    if n.id in won or n.id not in asked
                ],
            )
        return inserted

    def claimed(self, keys: Sequence[str]) -> list[str]:
        """The keys among ``keys`` already claimed, in the order given (once each)."""
        asked = list(dict.fromkeys(keys))
        if not asked:
            return []
        taken: set[str] = set()
        for i in range(0, len(asked), 500):  # well under SQLite's bound on parameters
            chunk = asked[i : i + 500]
            marks = ", ".join("?" * len(chunk))
            rows = self._read(f"SELECT key FROM claims WHERE key IN ({marks})", chunk)
            taken.update(str(k) for (k,) in rows)
        return [k for k in asked if k in taken]

    def set_deadlines(self, record_id: str, deadlines: Sequence[Deadline]) -> None:
        fresh = {d.key: d for d in deadlines}
        rows = [(record_id, d.key, _micros(d.due), _encode(d)) for d in fresh.values()]
        with self._write() as conn:
            conn.execute("DELETE FROM deadlines WHERE record_id = ?", (record_id,))
            conn.executemany(
                "INSERT INTO deadlines (record_id, key, due_us, data) VALUES (?, ?, ?, ?)", rows
            )

    def next_number(self, prefix: str) -> int:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO sequences (prefix, value) VALUES (?, 1) "
                "ON CONFLICT (prefix) DO UPDATE SET value = value + 1",
                (prefix,),
            )
            (value,) = conn.execute(
                "SELECT value FROM sequences WHERE prefix = ?", (prefix,)
            ).fetchone()
        return int(value)

    def mark_delivered(self, ids: Sequence[str]) -> None:
        if not ids:
            return
        rows = [(i,) for i in ids]
        with self._write() as conn:
            # Keep the id (it is never queued again), drop the pending row.
            conn.executemany(
                "INSERT OR IGNORE INTO outbox_delivered (id) SELECT id FROM outbox WHERE id = ?",
                rows,
            )
            conn.executemany("DELETE FROM outbox WHERE id = ?", rows)

    # -- reads -----------------------------------------------------------------------------

    def load(self, record_id: str) -> Record:
        rows = self._read("SELECT data FROM records WHERE id = ?", (record_id,))
        if not rows:
            raise NotFound(f"no record {record_id!r}")
        return self._decode(Record, rows[0][0], f"record {record_id!r}")

    def history(self, record_id: str) -> list[Event]:
        rows = self._read(
            "SELECT data FROM events WHERE record_id = ? ORDER BY version", (record_id,)
        )
        if not rows:
            raise NotFound(f"no record {record_id!r}")
        return [self._decode(Event, data, f"event of {record_id!r}") for (data,) in rows]

    def find(
        self,
        *,
        process: str | None = None,
        state: str | Sequence[str] | None = None,
        fields: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        where: list[str] = []
        params: list[Any] = []
        if process is not None:
            where.append("process = ?")
            params.append(process)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            if not states:
                return []
            where.append(f"state IN ({', '.join('?' * len(states))})")
            params.extend(states)
        exact = True  # every filter is in SQL, so LIMIT can go to SQL too
        for key, value in (fields or {}).items():
            sql = _sql_value(value)
            if sql is _NO_SQL or '"' in key or "\\" in key:
                exact = False
            elif sql is None:
                where.append("json_extract(data, ?) IS NULL")
                params.append(f'$.fields."{key}"')
            else:
                where.append("json_extract(data, ?) = ?")
                params.extend((f'$.fields."{key}"', sql))
        query = "SELECT data FROM records"
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY opened_us, id"
        if limit is not None and exact:
            query += " LIMIT ?"
            params.append(limit)
        found = [self._decode(Record, data, "record") for (data,) in self._read(query, params)]
        if fields:  # re-check in Python: exact equality, as the reference adapter does
            found = [r for r in found if all(r.fields.get(k) == v for k, v in fields.items())]
        return found[:limit] if limit is not None else found

    def record_ids(self) -> list[str]:
        return [rid for (rid,) in self._read("SELECT id FROM records ORDER BY id")]

    def due(self, now: datetime, *, limit: int = 1000) -> list[Deadline]:
        rows = self._read(
            "SELECT data FROM deadlines WHERE due_us <= ? ORDER BY due_us, record_id, key LIMIT ?",
            (_micros(now), limit),
        )
        return [self._decode(Deadline, data, "deadline") for (data,) in rows]

    def pending(self, *, limit: int = 100) -> list[Notification]:
        rows = self._read("SELECT data FROM outbox ORDER BY seq LIMIT ?", (limit,))
        return [self._decode(Notification, data, "notification") for (data,) in rows]

    def signed_head(self, record_id: str) -> SignedHead | None:
        rows = self._read(
            "SELECT version, head, signature FROM heads WHERE record_id = ?", (record_id,)
        )
        if not rows:
            return None
        version, head, signature = rows[0]
        return SignedHead(record_id, int(version), str(head), str(signature))

    # -- maintenance -----------------------------------------------------------------------

    def integrity_check(self) -> list[str]:
        """SQLite's ``PRAGMA integrity_check``: an empty list when the file is sound."""
        problems = [str(msg) for (msg,) in self._read("PRAGMA integrity_check")]
        return [] if problems == ["ok"] else problems

    def close(self) -> None:
        """Close every connection this adapter opened; idempotent."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()
        self._local = threading.local()
