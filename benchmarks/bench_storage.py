"""Saves per second through ``Engine`` on SQLite, against raw ``sqlite3`` in the same run.

The baseline does by hand what one engine save needs from the database, on the same
schema shape and pragmas: read the record's JSON, bump its version, then in one
``BEGIN IMMEDIATE`` transaction re-check the version, insert the event's JSON and
update the record. The engine additionally validates the change, computes the event's
SHA-256 chain hash, and writes the outbox row and the deadlines in that transaction.
Target: engine >= 0.7 x baseline. Both run with ``synchronous=FULL`` (durable, the
default) and ``NORMAL``.

Also measured: contention, 8 processes (``spawn``) updating one record with
``expected_version`` and retrying on ``ConcurrencyError``; and 8 processes each
updating its own record.

Run: ``python benchmarks/bench_storage.py [--saves N]`` (about 30 s).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import itsmcore as ic
from itsmcore.adapters.sqlite import SqliteStorage

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
    fields=(ic.FieldSpec("count", "int"), ic.FieldSpec("note", "str")),
    opening=ic.TransitionSpec("open", (), "counting"),
    transitions=(
        ic.TransitionSpec("update", ("counting",), "="),
        ic.TransitionSpec("stop", ("counting",), "stopped"),
    ),
)


def engine_saves(path: Path, saves: int, synchronous: str) -> float:
    """Saves/s of ``Engine.fire`` read-modify-write updates of one record."""
    engine = ic.Engine(SqliteStorage(path, synchronous=synchronous), processes=[COUNTER])
    rec = engine.open("counter", at=T0, actor=WORKER, fields={"count": 0, "note": "x"})
    start = time.perf_counter()
    for _ in range(saves):  # like the baseline: read, decide, save with the version read
        rec = engine.fire(
            rec.id,
            "update",
            at=T0,
            actor=WORKER,
            fields={"count": rec.fields["count"] + 1},
            expected_version=rec.version,
        )
    elapsed = time.perf_counter() - start
    engine.close()
    return saves / elapsed


def baseline_saves(path: Path, saves: int, synchronous: str) -> float:
    """Saves/s of the same optimistic update + event insert in raw ``sqlite3``."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute(
        "CREATE TABLE records (id TEXT PRIMARY KEY, process TEXT, state TEXT, "
        "version INTEGER, opened_us INTEGER, data TEXT)"
    )
    conn.execute(
        "CREATE TABLE events (record_id TEXT, version INTEGER, data TEXT, "
        "PRIMARY KEY (record_id, version))"
    )
    record: dict[str, Any] = {
        "id": "CNT-1",
        "process": "counter",
        "state": "counting",
        "version": 1,
        "fields": {"count": 0, "note": "x"},
        "opened_at": T0.isoformat(),
        "updated_at": T0.isoformat(),
    }
    conn.execute(
        "INSERT INTO records VALUES ('CNT-1', 'counter', 'counting', 1, 0, ?)",
        (json.dumps(record),),
    )
    start = time.perf_counter()
    for _ in range(saves):
        (data,) = conn.execute("SELECT data FROM records WHERE id = 'CNT-1'").fetchone()
        rec = json.loads(data)
        version = rec["version"] + 1
        rec["fields"]["count"] += 1
        rec["version"] = version
        event = {
            "record_id": "CNT-1",
            "version": version,
            "name": "update",
            "at": T0.isoformat(),
            "actor": {"id": "worker", "roles": ["agent"]},
            "changes": {"count": rec["fields"]["count"]},
        }
        conn.execute("BEGIN IMMEDIATE")
        (stored,) = conn.execute("SELECT version FROM records WHERE id = 'CNT-1'").fetchone()
        if stored != version - 1:
            raise RuntimeError("lost the race")
        conn.execute("INSERT INTO events VALUES ('CNT-1', ?, ?)", (version, json.dumps(event)))
        conn.execute(
            "UPDATE records SET version = ?, data = ? WHERE id = 'CNT-1'",
            (version, json.dumps(rec)),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return saves / elapsed


def _contender(path: str, record_id: str, saves: int, start: Any, out: Any) -> None:
    engine = ic.Engine(
        SqliteStorage(path, synchronous="NORMAL", busy_timeout=30), processes=[COUNTER]
    )
    conflicts = 0
    start.wait()
    for _ in range(saves):
        while True:
            rec = engine.get(record_id)
            try:
                engine.fire(
                    record_id,
                    "update",
                    at=T0,
                    actor=WORKER,
                    fields={"count": rec.fields["count"] + 1},
                    expected_version=rec.version,
                )
                break
            except ic.ConcurrencyError:
                conflicts += 1
    engine.close()
    out.put(conflicts)


def contention(path: Path, workers: int, saves: int, *, same_record: bool) -> tuple[float, int]:
    """(saves/s over all workers, conflicts retried) for ``workers`` processes."""
    engine = ic.Engine(SqliteStorage(path, synchronous="NORMAL"), processes=[COUNTER])
    ids = [
        engine.open("counter", at=T0, actor=WORKER, fields={"count": 0}).id
        for _ in range(1 if same_record else workers)
    ]
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(workers + 1), ctx.Queue()
    procs = [
        ctx.Process(target=_contender, args=(str(path), ids[i % len(ids)], saves, start, out))
        for i in range(workers)
    ]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    conflicts = sum(out.get() for _ in procs)
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    total = sum(engine.get(i).fields["count"] for i in ids)
    assert total == workers * saves, total  # no lost update
    assert engine.verify().ok
    engine.close()
    return workers * saves / elapsed, conflicts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000, help="saves per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median is reported)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for sync in ("FULL", "NORMAL"):
            engine_rates, base_rates = [], []
            for r in range(args.rounds):
                base_rates.append(baseline_saves(root / f"base-{sync}-{r}.db", args.saves, sync))
                engine_rates.append(engine_saves(root / f"eng-{sync}-{r}.db", args.saves, sync))
            eng, base = statistics.median(engine_rates), statistics.median(base_rates)
            print(
                f"synchronous={sync:<6} engine {eng:8.0f} saves/s   raw sqlite3 {base:8.0f} "
                f"saves/s   ratio {eng / base:.2f} (target >= 0.70)"
            )
        for same in (True, False):
            rate, conflicts = contention(root / f"contend-{same}.db", 8, 250, same_record=same)
            label = "8 processes, one record " if same else "8 processes, own records"
            print(f"{label}: {rate:7.0f} saves/s, {conflicts} conflicts retried, 0 lost")


if __name__ == "__main__":
    main()
