"""Child-process workers for the SQLite proofs (imported by spawned / forked children).

``COUNTER`` is a tiny process whose ``update`` self-transition sets an int field, so a
read-modify-write loop shows any lost update as a wrong final count.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import sqlite3
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import itsmcore as ic
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.ports.hookspecs import hookimpl

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WORKER = ic.Actor("worker", roles=frozenset({"agent"}))

COUNTER = ic.ProcessSpec(
    name="counter",
    version=1,
    id_prefix="CNT",
    states=(
        ic.StateSpec("counting", "open", initial=True),
        ic.StateSpec("stopped", "closed", terminal=True),
    ),
    fields=(ic.FieldSpec("count", "int"),),
    opening=ic.TransitionSpec("open", (), "counting"),
    transitions=(
        ic.TransitionSpec("update", ("counting",), "="),
        ic.TransitionSpec("stop", ("counting",), "stopped"),
    ),
)


class HmacSigner:
    """Signs chain heads with a fixed HMAC key (test key, never a real one)."""

    key = b"proof-key"

    @hookimpl
    def itsmcore_sign(self, head: str) -> str:
        return hmac.new(self.key, head.encode(), hashlib.sha256).hexdigest()


def counter_engine(path: str, **storage_options: Any) -> ic.Engine:
    """An engine with the counter process over ``path``, signing heads."""
    storage = SqliteStorage(path, **storage_options)
    return ic.Engine(storage, processes=[COUNTER], plugins=[HmacSigner()])


def increment(engine: ic.Engine, record_id: str) -> tuple[int, int]:
    """One read-modify-write save, retried on ``ConcurrencyError`` and ``StorageBusy``.

    Returns (conflicts, busy) seen before it succeeded. Any other error propagates.
    """
    conflicts = busy = 0
    while True:
        record = engine.get(record_id)
        try:
            engine.fire(
                record_id,
                "update",
                at=T0,
                actor=WORKER,
                fields={"count": record.fields["count"] + 1},
                expected_version=record.version,
            )
            return conflicts, busy
        except ic.ConcurrencyError:
            conflicts += 1
        except ic.StorageBusy:
            busy += 1


def contend(path: str, record_id: str, saves: int, start: Any) -> tuple[int, int]:
    """``saves`` increments of one record, starting together with the other workers."""
    engine = counter_engine(path, synchronous="NORMAL", busy_timeout=30)
    start.wait()
    conflicts = busy = 0
    for _ in range(saves):
        c, b = increment(engine, record_id)
        conflicts += c
        busy += b
    engine.close()
    return conflicts, busy


#: The statements a writer is killed just before, in turn: inside the save's transaction
#: (before its inserts, before COMMIT), right after the commit (the delivery's read),
#: and inside the delivery's own transaction (before marking delivered, before COMMIT).
KILL_POINTS = (
    "BEGIN IMMEDIATE",
    "INSERT INTO events",
    "UPDATE records",
    "INSERT OR IGNORE INTO outbox",
    "INSERT INTO heads",
    "COMMIT",
    "SELECT data FROM outbox",
    "INSERT OR IGNORE INTO outbox_delivered",
    "DELETE FROM outbox",
)


def dying_storage(path: str, kill_before: str, nth: int) -> SqliteStorage:
    """A store on ``path`` whose process ``os._exit(17)``s just before the ``nth``
    statement starting with ``kill_before`` (never, for ``kill_before == ""``)."""
    seen = 0

    def trace(sql: str) -> None:
        nonlocal seen
        if kill_before and sql.lstrip().startswith(kill_before):
            seen += 1
            if seen >= nth:
                os._exit(17)

    def prepare(conn: sqlite3.Connection) -> None:
        conn.set_trace_callback(trace)

    return SqliteStorage(path, synchronous="NORMAL", prepare_connection=prepare)


def crash_while_writing(
    path: str, seed: int, kill_before: str, nth: int, report: Connection
) -> None:
    """Write counters until just before the ``nth`` statement starting with
    ``kill_before``, then ``os._exit`` there (``kill_before == ""``: until killed from
    outside). After each save returns, the committed (record id, version) is sent on
    ``report`` (a pipe write is synchronous, so what the parent received was committed).
    """
    rng = random.Random(seed)
    storage = dying_storage(path, kill_before, nth)
    engine = ic.Engine(storage, processes=[COUNTER], plugins=[HmacSigner()], auto_deliver=True)
    record = engine.open("counter", at=T0, actor=WORKER, fields={"count": 0})
    report.send((record.id, record.version))
    while True:
        if rng.random() < 0.2:
            record = engine.open("counter", at=T0, actor=WORKER, fields={"count": 0})
        else:
            record = engine.fire(
                record.id,
                "update",
                at=T0 + timedelta(seconds=record.version),
                actor=WORKER,
                fields={"count": record.fields["count"] + 1},
            )
        report.send((record.id, record.version))


#: An hourly cadence from T0: a tick at ``CADENCE_NOW`` has 24 occurrences due.
HOURLY = ic.Cadence(
    name="hourly-check",
    rule="FREQ=HOURLY",
    start=T0 + timedelta(minutes=30),
    timezone="UTC",
    process="scheduled_activity",
    fields={"title": "Hourly check", "activity_kind": "inspection"},
)
CADENCE_NOW = T0 + timedelta(days=1)

#: The statements of opening one occurrence, in order, to die just before one of them.
CADENCE_KILL_POINTS: tuple[str, ...] = (
    "INSERT OR IGNORE INTO claims",
    "INSERT INTO records",
    "INSERT INTO events",
    "INSERT OR IGNORE INTO outbox",
    "COMMIT",
)


def crash_while_opening_occurrences(path: str, kill_before: str, nth: int) -> None:
    """Tick :data:`HOURLY` at :data:`CADENCE_NOW` and ``os._exit`` just before the
    ``nth`` statement starting with ``kill_before``."""
    ic.Engine(dying_storage(path, kill_before, nth), cadences=[HOURLY]).tick(CADENCE_NOW)
    os._exit(0)


def tick_worker(path: str, now: datetime, start: Any) -> list[str]:
    """One worker's ``tick(now)`` over ``path``: the keys of the signals it emitted."""
    engine = ic.Engine(SqliteStorage(path, synchronous="NORMAL", busy_timeout=30))
    start.wait()
    emitted = engine.tick(now)
    engine.close()
    return [signal_id(s) for s in emitted]


def signal_id(signal: Any) -> str:
    """A signal's exactly-once key (its claim key)."""
    key = getattr(signal, "key", None)
    return str(key) if key is not None else repr(signal)


def report_result(queue: Any, fn: Any, *args: Any) -> None:
    """Run ``fn(*args)`` and put ("ok", result) or ("error", description) on ``queue``."""
    try:
        queue.put(("ok", fn(*args)))
    except BaseException as exc:  # reported to the parent, which fails the test
        queue.put(("error", f"{type(exc).__module__}.{type(exc).__name__}: {exc}"))
