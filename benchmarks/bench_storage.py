"""Saves per second through ``Engine`` on SQLite, against raw ``sqlite3`` in the same run.

The baseline does by hand what one engine save needs from the database, on the same
schema shape and pragmas: read the record's JSON, bump its version, then in one
``BEGIN IMMEDIATE`` transaction re-check the version, insert the event's JSON and
update the record. The engine additionally validates the change, computes the event's
SHA-256 chain hash, authorizes it through the plugins and writes the outbox row in that
transaction (it fires on the snapshot it saved last: the save checks version and head).
Target: engine >= 0.7 x baseline. Both run with ``synchronous=FULL`` (durable, the
default) and ``NORMAL``. Two more loops show where the time goes: the baseline also
writing the outbox row (the same rows as the engine), and the adapter alone
(``append`` of prepared steps: encoding and SQL, no validation, hashing or plugins),
and a floor: the hash, the JSON and the SQL of one engine save written by hand, the
most any engine keeping this design's rows and chain could reach.

Also measured: contention, 8 processes (``spawn``) updating one record with
``expected_version`` and retrying on ``ConcurrencyError``; and 8 processes each
updating its own record.

PostgreSQL (when a server answers at ``--pg-dsn``, default ``$ITSMCORE_PG_DSN``): the
same engine saves against plain psycopg writing the same rows to the adapter's tables
(read, then one transaction: conditional update, event, outbox row, deadlines cleared),
with durable commits and with ``synchronous_commit=off``; the adapter alone (``load`` +
``append`` of prepared steps) against the same baseline; then 4 worker processes ticking
10,000 due incidents among 100,000 open ones, checking each signal is emitted once.

Run: ``python benchmarks/bench_storage.py [--saves N] [--rounds R]`` (about 40 s; with
PostgreSQL about 2 to 3 minutes more).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
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


def adapter_saves(path: Path, saves: int, synchronous: str) -> float:
    """Saves/s of the adapter alone: ``append`` of prepared steps with their outbox row
    (the database work of one engine save, encoding included, without the engine's
    validation, hashing and plugin calls)."""
    from itsmcore.ports.storage import Notification

    storage = SqliteStorage(path, synchronous=synchronous)
    first, *steps = _counter_steps(saves)
    storage.append([first])
    notes = [Notification(f"event:CNT-1:{s.record.version}", "event", "CNT-1", T0) for s in steps]
    start = time.perf_counter()
    for step, note in zip(steps, notes, strict=True):
        storage.append([step], outbox=[note])
    elapsed = time.perf_counter() - start
    storage.close()
    return saves / elapsed


def floor_saves(path: Path, saves: int, synchronous: str) -> float:
    """Saves/s of the least work an engine of this design does per save, written by
    hand: the event's SHA-256 over a sorted-key JSON form, the JSON of the record, the
    event and the notification, and the adapter's statements on its own tables (the
    version- and head-checked UPDATE, the event, the outbox row) in one transaction. No
    validation, no plugins, no record objects: the ceiling of the engine's ratio."""
    import hashlib

    storage = SqliteStorage(path, synchronous=synchronous)  # the adapter's schema
    first = COUNTER.open(record_id="CNT-1", at=T0, actor=WORKER, fields={"count": 0})
    storage.append([first])
    storage.close()
    conn = sqlite3.connect(path, isolation_level=None, timeout=5)
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    at, head, fields = T0.isoformat(), first.record.head, {"count": 0}
    actor = {"id": "worker", "roles": ["agent"]}
    start = time.perf_counter()
    for version in range(2, saves + 2):
        changes = {"count": fields["count"] + 1}
        form = {
            "actor": actor,
            "at": at,
            "changes": changes,
            "format": 1,
            "link": None,
            "name": "update",
            "prev_hash": head,
            "record_id": "CNT-1",
            "source": "counting",
            "target": "counting",
            "version": version,
        }
        canonical = json.dumps(form, sort_keys=True, separators=(",", ":"))
        new_head = hashlib.sha256(canonical.encode()).hexdigest()
        fields = {**fields, **changes}
        record = {"id": "CNT-1", "version": version, "fields": fields, "head": new_head}
        event = {**form, "hash": new_head}
        note = {"id": f"event:CNT-1:{version}", "kind": "event", "hash": new_head}
        conn.execute("BEGIN IMMEDIATE")
        cur = conn.execute(
            "UPDATE records SET version = ?, head = ?, data = ? "
            "WHERE id = 'CNT-1' AND version = ? AND head = ? AND state = 'counting'",
            (version, new_head, json.dumps(record), version - 1, head),
        )
        if cur.rowcount != 1:
            raise RuntimeError("lost the race")
        conn.execute("INSERT INTO events VALUES ('CNT-1', ?, ?)", (version, json.dumps(event)))
        conn.execute(
            "INSERT INTO outbox (id, record_id, data) VALUES (?, 'CNT-1', ?)",
            (note["id"], json.dumps(note)),
        )
        conn.execute("COMMIT")
        head = new_head
    elapsed = time.perf_counter() - start
    conn.close()
    return saves / elapsed


def baseline_saves(path: Path, saves: int, synchronous: str, *, outbox: bool = False) -> float:
    """Saves/s of the same optimistic update + event insert in raw ``sqlite3``; with
    ``outbox``, also the outbox row the engine writes in the same transaction (on a
    table shaped like the adapter's: rowid order and a unique id)."""
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
    conn.execute(
        "CREATE TABLE outbox (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, data TEXT)"
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
        if outbox:
            note = {"id": f"event:CNT-1:{version}", "kind": "event", "record_id": "CNT-1"}
            conn.execute(
                "INSERT INTO outbox (id, data) VALUES (?, ?)", (note["id"], json.dumps(note))
            )
        conn.execute(
            "UPDATE records SET version = ?, data = ? WHERE id = 'CNT-1'",
            (version, json.dumps(rec)),
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return saves / elapsed


def sqlite_saves(root: Path, sync: str, saves: int, rounds: int) -> None:
    """Print engine, adapter and raw saves/s for one ``synchronous`` mode.

    Each round runs the four loops back to back, so the ratio of a round compares runs
    a few seconds apart; the figure is the median of the rounds' ratios, with their
    range (on a shared virtual machine fsync latency alone moves a run by +-30 %)."""
    loops = {
        "raw": baseline_saves,
        "engine": engine_saves,
        "raw+outbox": lambda p, n, s: baseline_saves(p, n, s, outbox=True),
        "adapter": adapter_saves,
        "floor": floor_saves,
    }
    rates: dict[str, list[float]] = {name: [] for name in loops}
    for r in range(rounds):
        for name, run in loops.items():
            rates[name].append(run(root / f"{name}-{sync}-{r}.db", saves, sync))

    def ratio(name: str, base: str) -> str:
        each = sorted(a / b for a, b in zip(rates[name], rates[base], strict=True))
        return f"{statistics.median(each):.2f} ({each[0]:.2f}-{each[-1]:.2f})"

    med = {name: statistics.median(values) for name, values in rates.items()}
    print(
        f"synchronous={sync:<6} engine {med['engine']:6.0f} saves/s, raw sqlite3 "
        f"{med['raw']:6.0f} saves/s: ratio {ratio('engine', 'raw')} (target >= 0.70)\n"
        f"{'':20} raw with the outbox row {med['raw+outbox']:6.0f} saves/s: engine ratio "
        f"{ratio('engine', 'raw+outbox')}; adapter alone {med['adapter']:6.0f} saves/s, "
        f"ratio {ratio('adapter', 'raw')}\n"
        f"{'':20} floor (the engine's least work, by hand) {med['floor']:6.0f} saves/s, "
        f"ratio {ratio('floor', 'raw')}"
    )


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


# -- PostgreSQL (issue 10) ---------------------------------------------------------------------
# Runs when a server answers at --pg-dsn (default: $ITSMCORE_PG_DSN). Every measurement uses
# a throw-away schema, dropped afterwards.

PG_DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
PG_TICK_OPEN = 100_000  # open incidents in the tick measurement
PG_TICK_DUE = 10_000  # of which due at the tick


def _pg_url(dsn: str, **params: str) -> str:
    """``dsn`` (a postgresql:// URL) with more query parameters."""
    from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

    parts = urlsplit(dsn)
    query = urlencode([*parse_qsl(parts.query), *params.items()], quote_via=quote)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _pg_schema(tag: str) -> str:
    import uuid

    return f"itsmcore_bench_{tag}_{uuid.uuid4().hex[:8]}"


def _pg_drop(dsn: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def pg_engine_saves(dsn: str, saves: int) -> float:
    """Saves/s of ``Engine.fire`` read-modify-write updates of one record on PostgreSQL."""
    from itsmcore.adapters.postgres import PostgresStorage

    schema = _pg_schema("eng")
    engine = ic.Engine(PostgresStorage(dsn, schema=schema, pool_size=1), processes=[COUNTER])
    try:
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
        return saves / (time.perf_counter() - start)
    finally:
        engine.close()
        _pg_drop(dsn, schema)


def _counter_steps(saves: int) -> list[Any]:
    """The open step of counter ``CNT-1`` and ``saves`` update steps after it."""
    steps = [COUNTER.open(record_id="CNT-1", at=T0, actor=WORKER, fields={"count": 0})]
    for i in range(saves):
        steps.append(
            COUNTER.fire(steps[-1].record, "update", at=T0, actor=WORKER, fields={"count": i})
        )
    return steps


def pg_adapter_saves(dsn: str, saves: int) -> float:
    """Saves/s of the adapter alone: ``load``, then ``append`` of a prepared step with
    its outbox row (the database work of one engine save, without the engine's own)."""
    from itsmcore.adapters.postgres import PostgresStorage
    from itsmcore.ports.storage import Notification

    schema = _pg_schema("adp")
    storage = PostgresStorage(dsn, schema=schema, pool_size=1)
    try:
        first, *steps = _counter_steps(saves)
        storage.append([first])
        start = time.perf_counter()
        for step in steps:
            storage.load("CNT-1")
            note = Notification(f"event:CNT-1:{step.record.version}", "event", "CNT-1", T0)
            storage.append([step], outbox=[note], deadlines={"CNT-1": []})
        return saves / (time.perf_counter() - start)
    finally:
        storage.close()
        _pg_drop(dsn, schema)


def pg_baseline_saves(dsn: str, saves: int) -> float:
    """Saves/s of the same work in plain psycopg, on the adapter's tables, writing the
    same rows: read the record's JSON, then in one transaction update the record where
    its version is unchanged, insert the event and the outbox row, clear the record's
    deadlines. Rows are encoded in the loop, as the adapter does."""
    import psycopg

    from itsmcore.adapters.postgres import PostgresStorage
    from itsmcore.ports.storage import Notification
    from itsmcore.serialization import dump

    def text(obj: Any) -> str:
        return json.dumps(dump(obj), separators=(",", ":"))

    schema = _pg_schema("raw")
    s = f'"{schema}"'
    first, *steps = _counter_steps(saves)
    PostgresStorage(dsn, schema=schema, pool_size=1).close()  # the same tables and indexes
    conn = psycopg.connect(dsn, autocommit=True)
    try:
        conn.execute(
            f"INSERT INTO {s}.records VALUES ('CNT-1', 'counter', 'counting', 1, 0, %s, %s)",
            (json.dumps(dump(first.record)["fields"]), text(first.record)),
        )
        start = time.perf_counter()
        for step in steps:
            (data,) = conn.execute(f"SELECT data FROM {s}.records WHERE id = 'CNT-1'").fetchone()
            json.loads(data)
            rec, ev = step.record, step.event
            note = Notification(f"event:CNT-1:{rec.version}", "event", "CNT-1", T0)
            with conn.transaction():
                cur = conn.execute(
                    f"UPDATE {s}.records SET state = %s, version = %s, fields = %s::jsonb, "
                    "data = %s WHERE id = 'CNT-1' AND version = %s",
                    (
                        rec.state,
                        rec.version,
                        json.dumps(dump(rec)["fields"]),
                        text(rec),
                        rec.version - 1,
                    ),
                )
                if cur.rowcount != 1:
                    raise RuntimeError("lost the race")
                conn.execute(
                    f"INSERT INTO {s}.events VALUES ('CNT-1', %s, %s)", (ev.version, text(ev))
                )
                conn.execute(
                    f"INSERT INTO {s}.outbox (id, record_id, data) VALUES (%s, 'CNT-1', %s) "
                    "ON CONFLICT (id) DO NOTHING",
                    (note.id, text(note)),
                )
                conn.execute(f"DELETE FROM {s}.deadlines WHERE record_id = 'CNT-1'")
        return saves / (time.perf_counter() - start)
    finally:
        conn.execute(f"DROP SCHEMA IF EXISTS {s} CASCADE")
        conn.close()


def _pg_load_incidents(dsn: str, schema: str) -> float:
    """Open :data:`PG_TICK_OPEN` incidents, :data:`PG_TICK_DUE` of them due at 11:30 on
    Monday T0 (priority 3, opened 09:00: the 50 % response warning falls at 11:00), the
    rest opened a day later. Written as the engine writes them (snapshot, event, outbox
    row, deadlines from ``Engine.deadlines_for``), 500 per ``append``. Returns seconds."""
    from datetime import timedelta

    from itsmcore.adapters.postgres import PostgresStorage

    engine = ic.Engine(PostgresStorage(dsn, schema=schema, pool_size=1))
    spec = engine.catalog.get("incident")
    fields = {"title": "Mail down", "caller": "carol", "impact": 2, "urgency": 2}
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    started = time.perf_counter()
    for first in range(0, PG_TICK_OPEN, 500):
        steps = []
        for i in range(first, min(first + 500, PG_TICK_OPEN)):
            at = monday if i < PG_TICK_DUE else monday + timedelta(days=1)
            steps.append(spec.open(record_id=f"INC-{i:07d}", at=at, actor=WORKER, fields=fields))
        engine.storage.append(
            steps,
            outbox=[n for step in steps for n in engine.notifications_for(step)],
            deadlines={s.record.id: engine.deadlines_for(s.record, [s.event]) for s in steps},
        )
    engine.close()
    return time.perf_counter() - started


def _pg_tick_worker(dsn: str, schema: str, start: Any, out: Any) -> None:
    from datetime import timedelta

    from itsmcore.adapters.postgres import PostgresStorage

    engine = ic.Engine(PostgresStorage(dsn, schema=schema, pool_size=1))
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC) + timedelta(hours=2, minutes=30)
    start.wait()
    began = time.perf_counter()
    signals = engine.tick(now)
    out.put((time.perf_counter() - began, [str(getattr(s, "key", s)) for s in signals]))
    engine.close()


def pg_tick(dsn: str, workers: int) -> None:
    """``workers`` processes tick together over the loaded incidents; prints throughput
    and checks that each signal was emitted once."""
    import psycopg

    schema = _pg_schema("tick")
    try:
        load_s = _pg_load_incidents(dsn, schema)
        ctx = mp.get_context("spawn")
        start, out = ctx.Barrier(workers + 1), ctx.Queue()
        procs = [
            ctx.Process(target=_pg_tick_worker, args=(dsn, schema, start, out))
            for _ in range(workers)
        ]
        for p in procs:
            p.start()
        start.wait()
        began = time.perf_counter()
        results = [out.get() for _ in procs]
        elapsed = time.perf_counter() - began
        for p in procs:
            p.join()
        keys = [k for _, ks in results for k in ks]
        with psycopg.connect(dsn) as conn:
            (claimed,) = conn.execute(f'SELECT count(*) FROM "{schema}".claims').fetchone()
        once = len(keys) == len(set(keys)) == claimed
        records = len({k.split(":")[1] for k in keys})
        print(
            f"tick, {workers} workers over {PG_TICK_OPEN:,} open incidents "
            f"(loaded in {load_s:.0f} s): {records:,} due records and {len(keys):,} signals "
            f"in {elapsed:.1f} s = {records / elapsed:,.0f} records/s; "
            f"per worker {[len(ks) for _, ks in results]} signals; "
            f"each signal once: {'yes' if once else 'NO'}"
        )
    finally:
        _pg_drop(dsn, schema)


def pg_main(dsn: str, saves: int, rounds: int) -> None:
    """The PostgreSQL section: saves/s against raw psycopg (durable commits, then
    ``synchronous_commit=off``), then the 4-worker tick."""
    import psycopg

    try:
        psycopg.connect(dsn, connect_timeout=3).close()
    except psycopg.Error as exc:
        print(f"PostgreSQL section skipped: no server at {dsn!r} ({exc})".strip())
        return
    for label, url in (
        ("synchronous_commit=on ", dsn),
        ("synchronous_commit=off", _pg_url(dsn, options="-c synchronous_commit=off")),
    ):
        engine_rates, adapter_rates, base_rates = [], [], []
        for _ in range(rounds):  # interleaved, so a busy machine slows all three alike
            base_rates.append(pg_baseline_saves(url, saves))
            engine_rates.append(pg_engine_saves(url, saves))
            adapter_rates.append(pg_adapter_saves(url, saves))
        eng, base = statistics.median(engine_rates), statistics.median(base_rates)
        adapter = statistics.median(adapter_rates)
        print(
            f"PostgreSQL {label} engine {eng:8.0f} saves/s   raw psycopg {base:8.0f} "
            f"saves/s   ratio {eng / base:.2f} (target >= 0.70); adapter alone "
            f"{adapter:.0f} saves/s, ratio {adapter / base:.2f}"
        )
    pg_tick(_pg_url(dsn, options="-c synchronous_commit=off"), workers=4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=1000, help="saves per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (median is reported)")
    parser.add_argument(
        "--pg-dsn",
        default=os.environ.get("ITSMCORE_PG_DSN", PG_DEFAULT_DSN),
        help="PostgreSQL server for the PostgreSQL section (skipped when none answers)",
    )
    parser.add_argument("--pg-saves", type=int, default=300, help="saves per PostgreSQL run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for sync in ("FULL", "NORMAL"):
            sqlite_saves(root, sync, args.saves, args.rounds)
        for same in (True, False):
            rate, conflicts = contention(root / f"contend-{same}.db", 8, 250, same_record=same)
            label = "8 processes, one record " if same else "8 processes, own records"
            print(f"{label}: {rate:7.0f} saves/s, {conflicts} conflicts retried, 0 lost")
    pg_main(args.pg_dsn, args.pg_saves, args.rounds)


if __name__ == "__main__":
    main()
