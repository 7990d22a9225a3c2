"""Proofs that the PostgreSQL adapter loses nothing: contention between processes,
exactly-once ticks across workers, and connections cut in the middle of a transaction.

The multi-process proofs (marked ``itsmcore_multiprocess``) use the same sizes as the
SQLite proofs; every store lives in a throw-away schema.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pg_support as pg
import psycopg
import pytest
import sqlite_workers as w

import itsmcore as ic
from itsmcore.adapters.postgres import PostgresStorage
from itsmcore.errors import StorageUnavailable
from itsmcore.testing._storage_data import note_for, opened, updated


@pytest.fixture
def schema() -> Iterator[str]:
    pg.require_server()
    with pg.schemas() as names:
        names.append(pg.new_name())
        yield names[0]


def _context() -> Any:
    """Workers fork from a server that imported itsmcore once (fast to start), never from
    this process (its connections and threads stay its own)."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["itsmcore", "itsmcore.adapters.postgres", "pg_support"])
    return ctx


def _run_all(target: Any, argsets: list[tuple[Any, ...]]) -> list[Any]:
    """One worker process per argument tuple; their results, failing on any error."""
    ctx = _context()
    queue = ctx.Queue()
    procs = [ctx.Process(target=w.report_result, args=(queue, target, *a)) for a in argsets]
    for p in procs:
        p.start()
    results = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [detail for status, detail in results if status != "ok"]
    assert errors == [], errors
    assert [p.exitcode for p in procs] == [0] * len(procs)
    return [detail for _, detail in results]


def _audit(schema: str) -> None:
    """No partial write: per record, events 1..version; events and outbox rows 1:1; the
    signed chains verify."""
    events = pg.raw(f'SELECT record_id, version FROM "{schema}".events')
    versions = dict(pg.raw(f'SELECT id, version FROM "{schema}".records'))
    outbox = {str(i) for (i,) in pg.raw(f'SELECT id FROM "{schema}".outbox')}
    for rid, version in versions.items():
        assert sorted(v for r, v in events if r == rid) == list(range(1, version + 1))
    assert outbox == {f"event:{rid}:{v}" for rid, v in events}
    engine = pg.counter_engine(schema)
    report = engine.verify()
    assert report.ok, report.broken
    engine.close()


# -- contention ----------------------------------------------------------------------------------


@pytest.mark.itsmcore_multiprocess
def test_eight_processes_updating_one_record_lose_no_update(schema: str) -> None:
    engine = pg.counter_engine(schema)
    record = engine.open("counter", at=w.T0, actor=w.WORKER, fields={"count": 0})
    start = _context().Barrier(8)
    results = _run_all(pg.contend, [(schema, record.id, 250, start)] * 8)
    assert engine.get(record.id).fields["count"] == 2000
    assert [e.version for e in engine.history(record.id)] == list(range(1, 2002))
    engine.close()
    _audit(schema)
    print(f"conflicts retried: {sum(c for c, _ in results)}, busy: {sum(b for _, b in results)}")


# -- exactly-once tick ---------------------------------------------------------------------------

FIELDS = {"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 1}


def _resolved(engine: ic.Engine) -> str:
    """An incident resolved at T0 + 1 h: its auto-close timer is due 7 days later."""
    rec = engine.open("incident", at=w.T0, actor=w.WORKER, fields=FIELDS)
    at = w.T0 + timedelta(hours=1)
    engine.fire(rec.id, "assign", at=at, actor=w.WORKER, fields={"assignee": "bob"})
    engine.fire(rec.id, "start", at=at, actor=w.WORKER)
    engine.fire(
        rec.id,
        "resolve",
        at=at,
        actor=w.WORKER,
        fields={"resolution_code": "fixed", "resolution_notes": "restarted"},
    )
    return rec.id


@pytest.mark.itsmcore_multiprocess
def test_four_workers_ticking_together_emit_each_signal_and_fire_each_timer_once(
    schema: str,
) -> None:
    engine = ic.Engine(pg.store(schema))
    for _ in range(1000):
        engine.open("incident", at=w.T0, actor=w.WORKER, fields=FIELDS)
    resolved = [_resolved(engine) for _ in range(50)]
    now = w.T0 + timedelta(days=60)  # every clock breached, every auto-close timer due
    start = _context().Barrier(4)
    shares = _run_all(pg.tick_worker, [(schema, now, start)] * 4)
    emitted = [key for share in shares for key in share]
    assert len(emitted) == len(set(emitted))  # nothing returned twice, across workers
    signals = {k for k in emitted if not k.startswith("fired:")}
    claimed = {str(k) for (k,) in pg.raw(f'SELECT key FROM "{schema}".claims')}
    queued = [
        str(i) for (i,) in pg.raw(f"SELECT id FROM \"{schema}\".outbox WHERE id LIKE 'sla:%'")
    ]
    assert signals == claimed == set(queued)
    assert len(queued) == len(set(queued))
    assert len({k.split(":")[1] for k in signals if ":breach:" in k}) == 1050
    fired = sorted(k.split(":")[1] for k in emitted if k.startswith("fired:"))
    assert fired == sorted(resolved)  # each auto-close fired by exactly one worker
    for rid in resolved:
        closes = [e for e in engine.history(rid) if e.name == "close"]
        assert len(closes) == 1
        assert engine.get(rid).state == "closed"
    assert engine.tick(now) == []  # nothing left to emit
    print(
        f"signals once each: {len(signals)}; timers fired once each: {len(fired)}; "
        f"per worker: {[len(s) for s in shares]}"
    )
    engine.close()


# -- connections cut mid-transaction -------------------------------------------------------------


def _wait_for_session(application: str, condition: str, timeout: float = 10.0) -> None:
    """Wait until a session of ``application`` matches the SQL ``condition``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = pg.raw(
            f"SELECT 1 FROM pg_stat_activity WHERE application_name = %s AND {condition}",
            (application,),
        )
        if rows:
            return
        time.sleep(0.01)
    raise AssertionError(f"no session of {application} with {condition}")


def _append_in_thread(
    store: PostgresStorage, *args: Any, **kw: Any
) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            store.append(*args, **kw)
        except BaseException as exc:  # inspected by the test
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, errors


def test_a_connection_cut_while_waiting_for_a_lock_is_retryable_and_writes_nothing(
    schema: str,
) -> None:
    app = pg.new_name("itsmcore_cut")
    store = pg.store(schema, application=app, lock_timeout=30)
    first = opened("CT-1", count=0)
    store.append([first], outbox=[note_for(first)])
    second = updated(first.record, count=1)
    with psycopg.connect(pg.DSN) as holder:  # holds the record's row lock
        holder.execute(f'SELECT 1 FROM "{schema}".records WHERE id = %s FOR UPDATE', ("CT-1",))
        thread, errors = _append_in_thread(store, [second], outbox=[note_for(second)])
        _wait_for_session(app, "wait_event_type = 'Lock'")
        assert pg.terminate(app) >= 1
        thread.join(timeout=30)
        holder.rollback()
    assert len(errors) == 1, errors
    assert isinstance(errors[0], StorageUnavailable)
    assert errors[0].retryable
    assert store.history("CT-1") == [first.event]  # nothing of the cut transaction
    assert store.pending() == [note_for(first)]
    store.append([second], outbox=[note_for(second)])  # the retry gets a new connection
    assert store.load("CT-1") == second.record
    store.close()


def test_a_connection_cut_during_commit_says_the_outcome_is_unknown(schema: str) -> None:
    app = pg.new_name("itsmcore_cut")
    store = pg.store(schema, application=app)
    first = opened("CT-1", count=0)
    store.append([first])
    # A deferred trigger makes COMMIT itself slow, so the cut lands inside it.
    pg.raw(
        f'CREATE FUNCTION "{schema}".slow_commit() RETURNS trigger LANGUAGE plpgsql '
        "AS $$ BEGIN PERFORM pg_sleep(10); RETURN NULL; END $$"
    )
    pg.raw(
        f'CREATE CONSTRAINT TRIGGER slow_commit AFTER INSERT ON "{schema}".events '
        f'DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "{schema}".slow_commit()'
    )
    second = updated(first.record, count=1)
    thread, errors = _append_in_thread(store, [second])
    _wait_for_session(app, "wait_event = 'PgSleep'")
    assert pg.terminate(app) >= 1
    thread.join(timeout=30)
    assert len(errors) == 1, errors
    assert isinstance(errors[0], StorageUnavailable)
    assert errors[0].outcome_unknown
    assert store.load("CT-1") == first.record  # this cut came before the commit finished
    store.close()


def test_connections_cut_at_random_while_saving_lose_no_acknowledged_save(schema: str) -> None:
    app = pg.new_name("itsmcore_cut")
    setup = pg.counter_engine(schema)
    ids = [setup.open("counter", at=w.T0, actor=w.WORKER, fields={"count": 0}).id for _ in range(3)]
    setup.close()
    acked: list[tuple[str, int, int]] = []  # (record, version, count) of each save that returned
    cuts = {"unavailable": 0, "unknown": 0}
    stop = threading.Event()
    lock = threading.Lock()

    engines = [pg.counter_engine(schema, application=app) for _ in range(3)]

    def writer(seed: int) -> None:
        engine = engines[seed]
        rng = random.Random(seed)
        while not stop.is_set():
            rid = rng.choice(ids)
            try:
                record = engine.get(rid)
                new = engine.fire(
                    rid,
                    "update",
                    at=w.T0,
                    actor=w.WORKER,
                    fields={"count": record.fields["count"] + 1},
                    expected_version=record.version,
                )
            except ic.ConcurrencyError:
                continue
            except StorageUnavailable as exc:  # typed and retryable: go round again
                with lock:
                    cuts["unknown" if exc.outcome_unknown else "unavailable"] += 1
                continue
            with lock:
                acked.append((rid, new.version, new.fields["count"]))
        engine.close()

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(3)]
    for t in threads:
        t.start()
    rng = random.Random(7)
    killed = 0
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        time.sleep(rng.uniform(0.005, 0.03))
        killed += pg.terminate(app)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    assert killed > 0
    assert cuts["unavailable"] + cuts["unknown"] > 0
    assert acked, "no save got through"
    engine = pg.counter_engine(schema)
    for rid, version, count in acked:  # every acknowledged save is stored, as written
        assert engine.history(rid)[version - 1].changes["count"] == count
    for rid in ids:  # a counter's value is its number of updates: none half-written
        record = engine.get(rid)
        assert record.fields["count"] == record.version - 1
    engine.close()
    _audit(schema)
    print(f"sessions cut: {killed}; errors {cuts}; acknowledged saves: {len(acked)}")
