"""The PostgreSQL test server, throw-away schemas, and child-process workers.

The server is ``ITSMCORE_PG_DSN`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
When it does not answer, the PostgreSQL tests skip with the reason, unless
``ITSMCORE_REQUIRE_PG=1`` (CI) makes them fail. Each store lives in its own random
schema, dropped afterwards, so parallel runs (``pytest -n 2``) and leftovers never meet.
Every connection a test opens carries an ``application_name`` unique to the test, so a
test that cuts connections (``pg_terminate_backend``) cuts only its own.
"""

from __future__ import annotations

import functools
import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import psycopg
import sqlite_workers as w

import itsmcore as ic
from itsmcore.adapters.postgres import PostgresStorage

DSN = os.environ.get("ITSMCORE_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRED = os.environ.get("ITSMCORE_REQUIRE_PG") == "1"


@functools.cache
def _server_problem() -> str | None:
    try:
        with psycopg.connect(DSN, connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"no PostgreSQL server answers at ITSMCORE_PG_DSN={DSN!r}: {exc}".strip()
    return None


def require_server() -> None:
    """Skip the calling test when no server answers; fail instead in CI."""
    import pytest  # not at the top: worker processes import this module and start fast

    problem = _server_problem()
    if problem is None:
        return
    if REQUIRED:
        pytest.fail(f"{problem} (ITSMCORE_REQUIRE_PG=1: PostgreSQL is required)")
    pytest.skip(problem)


def new_name(prefix: str = "itsmcore_test") -> str:
    """A fresh identifier (schema or application name), unique across parallel runs."""
    return f"{prefix}_{uuid.uuid4().hex[:16]}"


def url(**params: str) -> str:
    """:data:`DSN` with more libpq parameters (kept a URL when it is one)."""
    if "://" not in DSN:
        return psycopg.conninfo.make_conninfo(DSN, **params)
    parts = urlsplit(DSN)
    query = urlencode([*parse_qsl(parts.query), *params.items()], quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


#: Test stores skip the WAL flush at commit (``synchronous_commit=off``): a server crash
#: could lose the last commits, which no test makes; what the tests prove (versions,
#: atomicity, exactly-once, cut connections) does not depend on it, and it is faster.
FAST = "-c synchronous_commit=off"


def raw(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of one statement on a connection of its own (the back door)."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        cur = conn.execute(sql, params or None)
        return cur.fetchall() if cur.description is not None else []


def drop_schema(name: str) -> None:
    raw(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


@contextmanager
def schemas() -> Iterator[list[str]]:
    """Names appended to the yielded list are dropped on exit."""
    names: list[str] = []
    try:
        yield names
    finally:
        for name in names:
            drop_schema(name)


def store(schema: str, *, application: str | None = None, **options: Any) -> PostgresStorage:
    """An adapter on ``schema`` with a small pool (tests open many)."""
    options.setdefault("pool_size", 2)
    extra = {"application_name": application} if application else {}
    return PostgresStorage(url(options=FAST, **extra), schema=schema, **options)


def terminate(application: str) -> int:
    """End every session named ``application`` (from another connection); how many."""
    rows = raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = %s AND pid <> pg_backend_pid()",
        (application,),
    )
    return sum(1 for (done,) in rows if done)


# -- worker processes (importable by the forkserver; arguments are picklable) ---------------


def counter_engine(schema: str, **options: Any) -> ic.Engine:
    """An engine with the counter process over ``schema``, signing heads."""
    return ic.Engine(store(schema, **options), processes=[w.COUNTER], plugins=[w.HmacSigner()])


def increment(engine: ic.Engine, record_id: str, rng: random.Random) -> tuple[int, int]:
    """One read-modify-write save, retried on ``ConcurrencyError`` and ``StorageBusy``
    after a short random pause that grows with each retry (so eight writers do not all
    come back at once). Returns (conflicts, busy) seen before it succeeded."""
    conflicts = busy = 0
    while True:
        record = engine.get(record_id)
        try:
            engine.fire(
                record_id,
                "update",
                at=w.T0,
                actor=w.WORKER,
                fields={"count": record.fields["count"] + 1},
                expected_version=record.version,
            )
            return conflicts, busy
        except ic.ConcurrencyError:
            conflicts += 1
        except ic.StorageBusy:
            busy += 1
        time.sleep(rng.uniform(0, 0.003 * 2 ** min(conflicts + busy, 4)))


def contend(schema: str, record_id: str, saves: int, start: Any) -> tuple[int, int]:
    """``saves`` read-modify-write increments of one record, started together."""
    engine = counter_engine(schema, lock_timeout=30)
    rng = random.Random(os.getpid())
    start.wait()
    conflicts = busy = 0
    for _ in range(saves):
        c, b = increment(engine, record_id, rng)
        conflicts += c
        busy += b
    engine.close()
    return conflicts, busy


def tick_worker(schema: str, now: datetime, start: Any) -> list[str]:
    """One worker's ``tick(now)``: the keys of the signals it emitted (a fired timer as
    ``fired:<record>:<timer>``)."""
    engine = ic.Engine(store(schema, lock_timeout=30))
    start.wait()
    emitted = engine.tick(now)
    engine.close()
    out: list[str] = []
    for s in emitted:
        if getattr(s, "event", None) is not None:
            out.append(f"fired:{s.record_id}:{getattr(s, 'timer', '')}")
        else:
            out.append(w.signal_id(s))
    return out
