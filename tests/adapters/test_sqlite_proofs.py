"""Proofs that the SQLite adapter loses nothing: contention, crashes, exactly-once signals.

Each proof starts real OS processes (marked ``itsmcore_multiprocess``); sizes are the
issue's, kept fast enough for CI.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlite_workers as w

import itsmcore as ic
from itsmcore.adapters.sqlite import SqliteStorage

pytestmark = pytest.mark.itsmcore_multiprocess


def _run_all(ctx: Any, target: Any, argsets: list[tuple[Any, ...]]) -> list[Any]:
    """Start one process per argument tuple; return their results, failing on any error."""
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


def test_eight_processes_updating_one_record_lose_no_update(tmp_path: Path) -> None:
    path = str(tmp_path / "contention.db")
    engine = w.counter_engine(path)
    record = engine.open("counter", at=w.T0, actor=w.WORKER, fields={"count": 0})
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(8)
    results = _run_all(ctx, w.contend, [(path, record.id, 250, start)] * 8)
    final = engine.get(record.id)
    assert final.fields["count"] == 2000
    assert [e.version for e in engine.history(record.id)] == list(range(1, 2002))
    assert engine.verify().ok
    print(f"conflicts retried: {sum(c for c, _ in results)}, busy: {sum(b for _, b in results)}")
    engine.close()


def _audit(path: str) -> tuple[dict[str, int], set[str]]:
    """Check a crashed store; return each record's version and the outbox ids."""
    storage = SqliteStorage(path)
    assert storage.integrity_check() == []
    engine = ic.Engine(storage, processes=[w.COUNTER], plugins=[w.HmacSigner()])
    report = engine.verify()
    assert report.ok, report.broken
    with sqlite3.connect(path) as raw:
        events = raw.execute("SELECT record_id, version FROM events").fetchall()
        queued = "SELECT id FROM outbox UNION ALL SELECT id FROM outbox_delivered"
        outbox = {str(i) for (i,) in raw.execute(queued)}
        versions = dict(raw.execute("SELECT id, version FROM records").fetchall())
    for rid, version in versions.items():  # no partial event, no gap
        assert sorted(v for r, v in events if r == rid) == list(range(1, version + 1))
    assert outbox == {f"event:{rid}:{v}" for rid, v in events}  # outbox and events 1:1
    engine.close()
    return versions, outbox


def test_killing_the_writer_around_commits_loses_and_half_writes_nothing(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "crash.db")
    SqliteStorage(path).close()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["itsmcore", "itsmcore.adapters.sqlite", "sqlite_workers"])
    rng = random.Random(20261126)
    for run in range(50):
        receive, send = ctx.Pipe(duplex=False)
        # Even runs die just before a chosen statement around a commit, odd runs by
        # kill -9 from outside at a random time (possibly inside COMMIT itself).
        kill_before = w.KILL_POINTS[(run // 2) % len(w.KILL_POINTS)] if run % 2 == 0 else ""
        args = (path, run, kill_before, rng.randint(1, 4), send)
        child = ctx.Process(target=w.crash_while_writing, args=args)
        child.start()
        send.close()
        if not kill_before:
            time.sleep(rng.uniform(0.02, 0.2))
            os.kill(child.pid or 0, signal.SIGKILL)
        child.join(timeout=60)
        assert child.exitcode in (17, -signal.SIGKILL), child.exitcode
        committed: dict[str, int] = {}
        while receive.poll():
            try:
                rid, version = receive.recv()
            except EOFError:
                break
            committed[rid] = max(version, committed.get(rid, 0))
        versions, _ = _audit(path)
        for rid, version in committed.items():  # every save that returned is stored
            assert versions.get(rid, 0) >= version, (run, rid)


def test_a_worker_dying_while_opening_cadence_occurrences_loses_none(tmp_path: Path) -> None:
    """Kill the ticking worker just before each statement of an occurrence's open (the
    claim, the record, the event, the outbox row, the commit): a fresh worker's tick at
    the same instant then opens every occurrence, each exactly once."""
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["itsmcore", "itsmcore.adapters.sqlite", "sqlite_workers"])
    due = w.CADENCE_NOW - w.HOURLY.start
    expected = [
        w.HOURLY.start + timedelta(hours=h) for h in range(int(due / timedelta(hours=1)) + 1)
    ]
    for run, kill_before in enumerate(w.CADENCE_KILL_POINTS):
        path = str(tmp_path / f"cadence-{run}.db")
        SqliteStorage(path).close()
        nth = 3 + run  # some occurrences opened before the kill
        child = ctx.Process(target=w.crash_while_opening_occurrences, args=(path, kill_before, nth))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 17, (kill_before, child.exitcode)
        storage = SqliteStorage(path)
        assert storage.integrity_check() == []
        engine = ic.Engine(storage, cadences=[w.HOURLY])
        engine.tick(w.CADENCE_NOW)
        opened = sorted(
            r.fields["scheduled_for"] for r in engine.find(process="scheduled_activity")
        )
        assert opened == expected, kill_before
        notes = [n.id for n in storage.pending(limit=1000) if n.kind == "cadence"]
        assert len(notes) == len(set(notes)) == len(expected)  # one notification each
        assert engine.verify().ok
        engine.close()


def test_four_processes_ticking_the_same_breaches_emit_each_signal_once(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "tick.db")
    engine = ic.Engine(SqliteStorage(path, synchronous="NORMAL"))
    fields = {"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 1}
    for _ in range(1000):
        engine.open("incident", at=w.T0, actor=w.WORKER, fields=fields)
    now = w.T0 + timedelta(days=60)  # every clock of every incident is breached
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(4)
    emitted = [k for keys in _run_all(ctx, w.tick_worker, [(path, now, start)] * 4) for k in keys]
    assert len(emitted) == len(set(emitted))  # no signal returned twice, across workers
    with sqlite3.connect(path) as raw:
        claimed = {str(k) for (k,) in raw.execute("SELECT key FROM claims")}
        queued = [str(i) for (i,) in raw.execute("SELECT id FROM outbox WHERE id LIKE 'sla:%'")]
    assert set(emitted) == claimed == set(queued)
    assert len(queued) == len(set(queued))  # each signal stored once
    breaches = {k.split(":")[1] for k in emitted if ":breach:" in k}
    assert len(breaches) == 1000
    assert engine.tick(now) == []  # nothing is left to emit
    print(f"signals emitted once each: {len(emitted)}")
    engine.close()
