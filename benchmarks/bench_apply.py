"""Throughput of the pure transition, against a plain-Python baseline in the same run.

``spec.fire(record, "update", ...)`` on an incident is compared with a baseline that does
the same essential work by hand: a dict lookup of the transition, a copy of the fields
with the change, ``attrs.evolve`` of a frozen record, and building the event with its
SHA-256 over canonical JSON. Target: itsmcore >= 0.5 x the baseline.

Also prints the memory per stored record (tracemalloc) for 100,000 incidents in the
in-memory adapter.

Run: ``python benchmarks/bench_apply.py`` (about 20 s).
"""

from __future__ import annotations

import gc
import hashlib
import json
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
OPEN = {"title": "Mail down", "impact": 2, "urgency": 2, "caller": "carol"}


@attrs.frozen(slots=True)
class _PlainRecord:
    id: str
    state: str
    version: int
    fields: dict[str, Any]
    updated_at: datetime
    head: str


@attrs.frozen(slots=True)
class _PlainEvent:
    record_id: str
    version: int
    name: str
    source: str
    target: str
    at: datetime
    actor: str
    changes: dict[str, Any]
    prev_hash: str
    hash: str


_TABLE = {("new", "update"): "new"}


def _baseline_fire(rec: _PlainRecord, event: str, at: datetime, changes: dict[str, Any]) -> Any:
    target = _TABLE[(rec.state, event)]
    fields = dict(rec.fields)
    fields.update(changes)
    form = {
        "actor": {"id": "alice", "roles": ["agent"]},
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "changes": changes,
        "name": event,
        "prev_hash": rec.head,
        "record_id": rec.id,
        "source": rec.state,
        "target": target,
        "version": rec.version + 1,
    }
    digest = hashlib.sha256(
        json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()
    ev = _PlainEvent(
        rec.id, rec.version + 1, event, rec.state, target, at, "alice", changes, rec.head, digest
    )
    return attrs.evolve(rec, version=rec.version + 1, fields=fields, updated_at=at, head=digest), ev


def _rate(fn: Callable[[int], None], n: int, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        fn(n)
        best = min(best, time.perf_counter() - start)
    return n / best


def main() -> None:
    spec = ic.catalog.get("incident")
    record = spec.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN).record
    plain = _PlainRecord("INC-1", "new", 1, dict(record.fields), T0, record.head)
    at = T0 + timedelta(minutes=1)
    n = 20_000

    def ours(count: int) -> None:
        for i in range(count):
            spec.fire(record, "update", at=at, actor=ALICE, fields={"description": f"note {i}"})

    def baseline(count: int) -> None:
        for i in range(count):
            _baseline_fire(plain, "update", at, {"description": f"note {i}"})

    base_rate = _rate(baseline, n)
    our_rate = _rate(ours, n)
    print(f"baseline (plain python)   : {base_rate:12,.0f} transitions/s")
    print(f"itsmcore spec.fire(update): {our_rate:12,.0f} transitions/s")
    ratio = our_rate / base_rate
    verdict = "ok" if ratio >= 0.5 else "MISSED"
    print(f"ratio itsmcore/baseline   : {ratio:.2f}  (target >= 0.50: {verdict})")

    # Memory per stored record: 100,000 open incidents in the in-memory adapter.
    count = 100_000
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    storage = MemoryStorage()
    for i in range(count):
        storage.append([spec.open(record_id=f"INC-{i:06d}", at=T0, actor=ALICE, fields=OPEN)])
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(
        f"memory per stored incident: {(after - before) / count:,.0f} bytes "
        f"(record + open event, {count:,} incidents, in-memory adapter)"
    )
    assert len(storage.record_ids()) == count


if __name__ == "__main__":
    main()
