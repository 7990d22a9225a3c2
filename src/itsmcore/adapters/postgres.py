"""The PostgreSQL storage adapter: many worker processes on many hosts
(``Engine.postgres(dsn)``, ``postgresql://``). Needs ``pip install 'itsmcore[postgres]'``.

Why these choices:

- psycopg 3 with a :mod:`psycopg_pool` connection pool per adapter (threads share it),
  connections in autocommit mode: a read is one round trip (:mod:`._postgres_session`).
  psycopg is imported on first use, so the core imports without it.
- The optimistic save is one statement pair per record in one transaction at READ
  COMMITTED: a conditional write of the record's snapshot (``UPDATE ... WHERE version =
  expected AND head = prev_hash`` of its first step, so a step always extends the stored
  chain; or ``INSERT ... ON CONFLICT DO NOTHING`` for a new record) that aborts the
  transaction unless it hit its row, and the insert of its events, keyed ``PRIMARY KEY
  (record_id, version)``. A concurrent writer of the same record waits on the row lock,
  then finds the version changed: ``ConcurrencyError``. The whole save (outbox rows,
  deadlines, head signature included) is one call of the schema's ``append_steps``
  function (:mod:`._postgres_schema`, :mod:`._postgres_sql`): one round trip, one
  transaction, row locks never held across a round trip; records are locked in id
  order, so multi-record saves cannot deadlock.
- ``lock_timeout`` (seconds) bounds every wait for a row lock, then the retryable
  :class:`~itsmcore.errors.StorageBusy`; a lost connection is the retryable
  :class:`~itsmcore.errors.StorageUnavailable`. Driver errors are translated in one
  place (:mod:`._postgres_schema`). Reads retry once on a dead pooled connection; a
  save whose connection broke is looked up, and returns normally if it landed.
- Work is shared between workers with leases: ``due`` and ``pending`` pick rows with
  ``FOR UPDATE SKIP LOCKED`` and lease them to this adapter for ``lease`` seconds, so
  other adapters (workers) skip them while this one handles them; this adapter still
  sees its own. Correctness never rests on a lease: ``claim`` (a unique key) makes each
  SLA signal exactly once and the version check each timed transition, so an expired
  lease costs repeated work, never a duplicate. ``lease=None`` turns sharing off.
- ``append`` and ``claim`` send ``NOTIFY itsmcore_outbox`` (payload: the schema) when
  they queue a notification; :meth:`PostgresStorage.wait_for_notifications` wakes a
  deliverer.
- All tables live in one schema (``schema=``, default ``itsmcore``), created and
  migrated forward on open (:mod:`._postgres_schema`); records, events, notifications,
  deadlines and claims are the exact JSON of :mod:`itsmcore.serialization`
  (:mod:`._postgres_rows`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from itsmcore.adapters._postgres_rows import encode, field_condition, fields_jsonb, micros
from itsmcore.adapters._postgres_schema import quote_schema
from itsmcore.adapters._postgres_session import Connections
from itsmcore.adapters._postgres_sql import STALE, UNIQUE_VIOLATION, Statements
from itsmcore.errors import (
    ClaimTaken,
    ConcurrencyError,
    ItsmError,
    NotFound,
    StorageError,
    StorageUnavailable,
    ValidationError,
)
from itsmcore.ports.storage import Claim, Deadline, Notification, SignedHead, heads_of
from itsmcore.records import Event, Record, Step
from itsmcore.serialization import dump, load

__all__ = ["OPTIONS", "PostgresStorage", "postgres_options"]

T = TypeVar("T")
#: The adapter's own options (keywords of :class:`PostgresStorage`, URL query parameters).
OPTIONS: Final = ("schema", "pool_size", "lock_timeout", "connect_timeout", "lease", "notify")


def postgres_options(url: str) -> tuple[str, dict[str, Any]]:
    """Split a ``postgresql://`` URL into the libpq DSN and this adapter's options.

    Options (query parameters, removed from the DSN): ``schema``, ``pool_size``,
    ``lock_timeout``, ``connect_timeout`` (seconds), ``lease`` (seconds, ``none`` for no
    sharing) and ``notify`` (``true``/``false``); every other parameter (``sslmode``,
    ``application_name`` ...) is left for libpq. Raises ``StorageError`` for a bad value.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("postgresql", "postgres"):
        raise StorageError(f"{parts.scheme}: is not postgresql://; write postgresql://user@host/db")
    ours: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in OPTIONS:
            rest.append((key, value))
            continue
        try:
            if key == "schema":
                ours[key] = value
            elif key == "pool_size":
                ours[key] = int(value)
            elif key == "notify":
                if value.lower() not in ("true", "false", "1", "0"):
                    raise ValueError(value)
                ours[key] = value.lower() in ("true", "1")
            elif key == "lease" and value.lower() in ("none", "off", ""):
                ours[key] = None
            else:
                ours[key] = float(value)
        except ValueError:
            raise StorageError(
                f"option {key}={value!r} is not valid; {key} is "
                + (
                    "a whole number"
                    if key == "pool_size"
                    else "true or false"
                    if key == "notify"
                    else "a name"
                    if key == "schema"
                    else "a number of seconds"
                )
            ) from None
    query = urlencode(rest, quote_via=quote)  # libpq reads %20 as a space, not '+'
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    return dsn, ours


class PostgresStorage:
    """A :class:`~itsmcore.ports.storage.Storage` in one PostgreSQL schema (created if absent).

    ``dsn`` is a libpq connection string or ``postgresql://`` URL. ``schema`` names the
    schema holding the tables. ``pool_size`` is the most connections this adapter opens
    (one per thread using it at once). ``lock_timeout`` and ``connect_timeout`` are in
    seconds. ``lease`` (seconds, or ``None``) is how long rows returned by ``due`` and
    ``pending`` are kept from other adapters. ``notify`` sends ``NOTIFY itsmcore_outbox``
    when notifications are queued.

    Raises :class:`~itsmcore.errors.StorageError` for a schema of another application or
    of a newer itsmcore (left untouched), bad credentials or options, and
    :class:`~itsmcore.errors.StorageUnavailable` when the server does not answer.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "itsmcore",
        pool_size: int = 4,
        lock_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        lease: float | None = 60.0,
        notify: bool = True,
    ) -> None:
        quoted = quote_schema(schema)
        if not isinstance(pool_size, int) or pool_size < 1:
            raise StorageError("pool_size is a whole number of connections >= 1")
        if not lock_timeout >= 0 or not connect_timeout > 0:
            raise StorageError("lock_timeout (>= 0) and connect_timeout (> 0) are seconds")
        if lease is not None and not lease > 0:
            raise StorageError("lease is a number of seconds > 0, or None to share no work")
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.lock_timeout = float(lock_timeout)
        self.connect_timeout = float(connect_timeout)
        self.lease = None if lease is None else float(lease)
        self.notify = bool(notify)
        self._sql = Statements(quoted)
        self._db = Connections(
            dsn,
            schema=schema,
            pool_size=pool_size,
            lock_timeout=self.lock_timeout,
            connect_timeout=self.connect_timeout,
        )
        self._where = self._db.where

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresStorage:
        """The adapter for a ``postgresql://`` URL whose query may carry the adapter's
        options (:func:`postgres_options`), or for a libpq ``key=value`` string; keyword
        ``options`` override the URL's."""
        if "://" not in url:
            return cls(url, **options)
        dsn, given = postgres_options(url)
        return cls(dsn, **{**given, **options})

    def __repr__(self) -> str:
        return f"PostgresStorage({self._where!r})"

    def _decode(self, cls: type[T], text: str, where: str) -> T:
        try:
            return load(cls, json.loads(text))
        except (ValueError, ValidationError) as exc:
            raise StorageError(
                f"{self._where}: stored {where} cannot be read ({exc}); the table was edited "
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
        # Per record, what its first step extends: the version, and the head (prev_hash)
        # a stored record must have; later steps of a record are chained by the caller.
        expected: dict[str, int] = {}
        extends: dict[str, str] = {}
        for step in steps:
            rid = step.record.id
            if rid not in expected:
                expected[rid] = step.record.version - 1
                extends[rid] = step.event.prev_hash
        if _first_conflict(steps, expected) is not None:  # out of order: nothing to send
            raise self._conflict(steps, expected, stale=False)
        order = sorted(heads)  # one lock order for every writer: no deadlock
        rows = [self._record_row(heads[rid].record) for rid in order]
        process, state, version, opened, fields, data = ([row[i] for row in rows] for i in range(6))
        signed = list(signatures or ())
        params: list[Any] = [
            *(order, process, state, version, [expected[rid] for rid in order]),
            [extends[rid] for rid in order],
            [heads[rid].record.head for rid in order],
            *(opened, fields, data),
            [s.event.record_id for s in steps],
            [s.event.version for s in steps],
            [encode(s.event) for s in steps],
            *([n.id for n in outbox], [n.record_id for n in outbox], [encode(n) for n in outbox]),
            self.schema if self.notify else None,
            list(deadlines or ()),
            *self._deadline_columns(deadlines or {}),
            signed,
            [heads[rid].event.version for rid in signed],
            [heads[rid].event.hash for rid in signed],
            [(signatures or {})[rid] for rid in signed],
        ]
        claim_rows = self._claim_rows(_first_claims(claims))
        try:
            with self._db.checkout(writing=True) as conn:
                if not claims:  # one statement: its own transaction
                    conn.execute(self._sql.append, params)
                else:  # the claims first, in the same transaction: taken means done
                    with conn.transaction():
                        won = conn.execute(self._sql.claim_only, claim_rows).fetchall()
                        taken = sorted(set(claim_rows[0]) - {str(k) for (k,) in won})
                        if taken:
                            raise ClaimTaken(taken)
                        conn.execute(self._sql.append, params)
        except StorageUnavailable:
            if steps and self._landed(steps[-1].event):
                return  # the connection broke after the commit: the save is stored
            raise
        except StorageError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate in (STALE, UNIQUE_VIOLATION):
                raise self._conflict(steps, expected, stale=sqlstate == STALE) from None
            raise

    def _conflict(
        self, steps: Sequence[Step], expected: Mapping[str, int], *, stale: bool
    ) -> ItsmError:
        """Why an append was refused: the ``ConcurrencyError`` of its first step that
        does not follow the stored version or head (as the reference adapter reports
        it)."""
        found = self._db.read(self._sql.versions, (list(expected),))
        stored = dict.fromkeys(expected, 0) | {str(r): int(v) for r, v, _ in found}
        conflict = _first_conflict(steps, stored, {str(r): str(h) for r, _, h in found})
        if conflict is not None:
            return conflict
        if stale:  # refused, though versions and heads read now follow: a writer raced
            rid = steps[0].record.id
            return ConcurrencyError(steps[0].record.version - 1, stored[rid], rid)
        return StorageError(
            f"{self._where}: the events table already holds a version the records table "
            "does not know; it was edited outside itsmcore: restore a backup"
        )

    def _landed(self, event: Event) -> bool:
        """Whether ``event`` is stored exactly (after a connection lost mid-write)."""
        try:
            rows = self._db.read(self._sql.event, (event.record_id, event.version))
        except StorageError:
            return False
        return bool(rows) and rows[0][0] == encode(event)

    @staticmethod
    def _claim_rows(first: Mapping[str, Claim]) -> list[list[str]]:
        """The columns (keys, record ids, data) of the claims ``first`` (the first claim
        of each key), in key order (one lock order for every worker: no deadlock)."""
        keys = sorted(first)
        return [keys, [first[k].record_id for k in keys], [encode(first[k]) for k in keys]]

    def claim(self, claims: Sequence[Claim], *, outbox: Sequence[Notification] = ()) -> list[Claim]:
        first = _first_claims(claims)
        rows = self._claim_rows(first)
        keys = rows[0]
        notes = [[n.id for n in outbox], [n.record_id for n in outbox], [encode(n) for n in outbox]]
        notify = self.schema if self.notify else None
        with self._db.checkout(writing=True) as conn:  # one statement: its own transaction
            row = conn.execute(self._sql.claim, (*rows, *notes, keys, notify)).fetchone()
        won = {str(k) for k in (row[0] if row is not None else None) or ()}
        return [c for c in first.values() if c.key in won]

    def claimed(self, keys: Sequence[str]) -> list[str]:
        """The keys among ``keys`` already claimed, in the order given (once each)."""
        asked = list(dict.fromkeys(keys))
        if not asked:
            return []
        taken = {str(k) for (k,) in self._db.read(self._sql.claimed, (asked,))}
        return [k for k in asked if k in taken]

    def set_deadlines(self, record_id: str, deadlines: Sequence[Deadline]) -> None:
        _, keys, dues, data = self._deadline_columns({record_id: deadlines})
        with self._db.checkout(writing=True) as conn:
            conn.execute(self._sql.replace_deadlines, (record_id, keys, dues, data))

    def next_number(self, prefix: str) -> int:
        with self._db.checkout(writing=True) as conn:
            row = conn.execute(self._sql.next_number, (prefix,)).fetchone()
        assert row is not None
        return int(row[0])

    def mark_delivered(self, ids: Sequence[str]) -> None:
        if ids:
            with self._db.checkout(writing=True) as conn:
                conn.execute(self._sql.mark_delivered, (list(ids),))

    # -- reads -----------------------------------------------------------------------------

    def load(self, record_id: str) -> Record:
        rows = self._db.read(self._sql.load, (record_id,))
        if not rows:
            raise NotFound(f"no record {record_id!r}")
        return self._decode(Record, rows[0][0], f"record {record_id!r}")

    def history(self, record_id: str) -> list[Event]:
        rows = self._db.read(self._sql.history, (record_id,))
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
            where.append("process = %s")
            params.append(process)
        if state is not None:
            states = [state] if isinstance(state, str) else list(state)
            if not states:
                return []
            where.append("state = ANY(%s)")
            params.append(states)
        in_python = False
        for key, value in (fields or {}).items():
            condition = field_condition(key, value)
            if condition is None:
                in_python = True
            else:
                where.append(condition[0])
                params.extend(condition[1])
        query = self._sql.find
        if where:
            query += " WHERE " + " AND ".join(where)
        query += " ORDER BY opened_us, id"

        def fetch(bound: int | None) -> tuple[int, list[Record]]:
            rows = self._db.read(
                query + (" LIMIT %s" if bound is not None else ""),
                [*params, bound] if bound is not None else params,
            )
            found = [self._decode(Record, data, "record") for (data,) in rows]
            if fields:  # SQL finds a superset; equality is Python's, as in the reference
                found = [r for r in found if all(r.fields.get(k) == v for k, v in fields.items())]
            return len(rows), found

        bound = limit if limit is not None and not in_python else None
        fetched, found = fetch(bound)
        if bound is not None and fetched == bound and len(found) < bound:
            fetched, found = fetch(None)  # the superset filled the limit: read it all
        return found[:limit] if limit is not None else found

    def record_ids(self) -> list[str]:
        return [str(rid) for (rid,) in self._db.read(self._sql.record_ids)]

    def due(self, now: datetime, *, limit: int = 1000) -> list[Deadline]:
        at = micros(now, "$.now")
        if self.lease is None:
            rows = self._db.read(self._sql.due, (at, limit))
        else:  # lease the rows: other workers skip them (SKIP LOCKED, then the lease)
            owner = self._db.owner
            rows = self._db.read(self._sql.lease_due, (owner, self.lease, at, owner, limit))
            rows.sort(key=lambda row: (row[0], row[1], row[2]))
        return [self._decode(Deadline, row[-1], "deadline") for row in rows]

    def pending(self, *, limit: int = 100) -> list[Notification]:
        if self.lease is None:
            rows = self._db.read(self._sql.pending, (limit,))
        else:
            owner = self._db.owner
            rows = self._db.read(self._sql.lease_pending, (owner, self.lease, owner, limit))
            rows.sort(key=lambda row: int(row[0]))
        return [self._decode(Notification, row[-1], "notification") for row in rows]

    def signed_head(self, record_id: str) -> SignedHead | None:
        rows = self._db.read(self._sql.signed_head, (record_id,))
        if not rows:
            return None
        version, head, signature = rows[0]
        return SignedHead(record_id, int(version), str(head), str(signature))

    # -- notifications ---------------------------------------------------------------------

    def wait_for_notifications(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a ``NOTIFY`` saying this store queued
        notifications; True when one came (or when this call started listening, so
        rows queued before it are not missed), False on timeout. A deliverer loops
        ``engine.deliver(); storage.wait_for_notifications(30)``. Thread-safe; raises
        ``StorageUnavailable`` when the listening connection is lost (the next call
        listens again)."""
        return self._db.wait_for_notify(timeout)

    # -- helpers ---------------------------------------------------------------------------

    def _record_row(self, record: Record) -> tuple[str, str, int, int, str, str]:
        """A record's columns: process, state, version, opened_us, fields, data."""
        data = dump(record)
        try:
            text = json.dumps(data, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        except ValueError as exc:
            raise ValidationError.single("$", f"cannot store Record: {exc}") from None
        fields = fields_jsonb(data["fields"])
        return (
            record.process,
            record.state,
            record.version,
            micros(record.opened_at),
            fields,
            text,
        )

    def _deadline_columns(
        self, deadlines: Mapping[str, Sequence[Deadline]]
    ) -> tuple[list[str], list[str], list[int], list[str]]:
        """Record ids, keys, due instants (µs) and JSON of the deadlines, one per key of
        each record (the last one given wins, as in the reference adapter)."""
        columns: tuple[list[str], list[str], list[int], list[str]] = ([], [], [], [])
        for rid, items in deadlines.items():
            for d in {d.key: d for d in items}.values():
                columns[0].append(rid)
                columns[1].append(d.key)
                columns[2].append(micros(d.due))
                columns[3].append(encode(d))
        return columns

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        """Hand this adapter's leases back, close its connections; idempotent."""
        if self._db.closed:
            return
        owner = self._db.owner
        self._db.close([(self._sql.release_due, (owner,)), (self._sql.release_pending, (owner,))])


def _first_conflict(
    steps: Sequence[Step], stored: Mapping[str, int], heads: Mapping[str, str] | None = None
) -> ConcurrencyError | None:
    """The error the first out-of-order step raises, given each record's stored version
    and, when known, the head of each stored record (which the record's first step must
    extend). A step refused for its head reports the stored version as the actual one,
    as a version mismatch does: ``expected == actual`` says the chain differs."""
    current = dict(stored)
    unchecked = dict(heads or {})
    for step in steps:
        rid, version = step.record.id, step.record.version
        head = unchecked.pop(rid, None)
        forked = head is not None and head != step.event.prev_hash
        if forked or current[rid] != version - 1:
            return ConcurrencyError(version - 1, current[rid], rid)
        current[rid] = version
    return None


def _first_claims(claims: Sequence[Claim]) -> dict[str, Claim]:
    """The first claim of each key, in input order (a key given twice is one claim)."""
    first: dict[str, Claim] = {}
    for c in claims:
        first.setdefault(c.key, c)
    return first
