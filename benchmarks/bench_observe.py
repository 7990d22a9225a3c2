"""Observations per second through ``Engine.observe`` on SQLite, and process mining at scale.

1. ``Engine.sqlite`` observing a stream of Alertmanager-like firings over a set of keys
   (the first firing of a key opens an incident with a deterministic id; the others add
   to it with a version-checked save), against the raw ``sqlite3`` save baseline of
   ``benchmarks/bench_storage.py`` (``baseline_saves``: read, bump the version, insert
   the event and update the record in one transaction), measured in the same run.
   An observation does more than a save: it probes the key's generations (two reads),
   validates, hashes the event, computes the SLA deadlines and writes the outbox row.
   So a third figure separates the two: plain ``Engine.fire("update")`` saves of open
   incidents, the engine's own cost of the same save without the monitoring logic.
2. :func:`itsmcore.improvement.mining.process_map` over 100,000 incident histories
   built in memory with ``spec.open``/``spec.fire``: wall time, and the peak memory the
   call allocates (``tracemalloc``, in a second run).

Run: ``python benchmarks/bench_observe.py [--observations N] [--histories N]``
(about 1 to 2 minutes with the defaults).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import baseline_saves  # the storage benchmark's baseline

import itsmcore as ic
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.improvement.kpis import History
from itsmcore.improvement.mining import process_map
from itsmcore.monitoring import Observation

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AGENT = ic.Actor("agent", roles=frozenset({"agent"}))


def observe_rate(path: Path, observations: int, keys: int, synchronous: str) -> float:
    """Observations/s of ``Engine.observe`` over ``keys`` distinct firing keys."""
    engine = ic.Engine(SqliteStorage(path, synchronous=synchronous))
    stream = [
        Observation(
            source="alertmanager",
            key=f'HostDown{{instance="web-{i % keys}"}}',
            status="firing",
            at=T0 + timedelta(seconds=i),
            severity="critical",
            summary=f"web-{i % keys} is down",
            labels={"alertname": "HostDown", "instance": f"web-{i % keys}"},
        )
        for i in range(observations)
    ]
    start = time.perf_counter()
    for observation in stream:
        engine.observe(observation)
    elapsed = time.perf_counter() - start
    assert len(engine.find(process="incident")) == keys
    engine.close()
    return observations / elapsed


def incident_update_rate(path: Path, saves: int, keys: int, synchronous: str) -> float:
    """Saves/s of plain ``Engine.fire("update")`` on ``keys`` open incidents: what an
    observation's save costs without the monitoring logic (SLA deadlines included)."""
    engine = ic.Engine(SqliteStorage(path, synchronous=synchronous))
    fields = {"title": "web down", "caller": "monitoring", "impact": 1, "urgency": 1}
    ids = [engine.open("incident", at=T0, actor=AGENT, fields=fields).id for _ in range(keys)]
    start = time.perf_counter()
    for i in range(saves):
        engine.fire(ids[i % keys], "update", at=T0 + timedelta(seconds=i), actor=AGENT,
                    fields={"category": f"c{i}"})  # fmt: skip
    elapsed = time.perf_counter() - start
    engine.close()
    return saves / elapsed


class _Case:
    """One incident being built: its latest step, events and clock."""

    def __init__(self, spec: ic.ProcessSpec, rid: str, at: datetime) -> None:
        fields = {"title": "VPN down", "caller": "dave", "impact": 2, "urgency": 2}
        self.spec, self.at = spec, at
        self.step = spec.open(record_id=rid, at=at, actor=AGENT, fields=fields)
        self.events = [self.step.event]

    def fire(self, event: str, minutes: float, fields: dict[str, object] | None = None) -> None:
        self.at += timedelta(minutes=minutes)
        self.step = self.spec.fire(self.step.record, event, at=self.at, actor=AGENT,
                                   fields=fields)  # fmt: skip
        self.events.append(self.step.event)

    def history(self) -> History:
        return History.of(self.step.record, self.events)


def incident_histories(count: int, seed: int = 11) -> list[History]:
    """``count`` incident histories with the usual variety: reassignments, waits,
    reopenings, cancellations and some still open."""
    spec = ic.catalog.get("incident")
    rng = random.Random(seed)
    fix = {"resolution_code": "fixed", "resolution_notes": "restarted"}
    people = ("bob", "carol", "erin", "frank")
    out: list[History] = []
    for i in range(count):
        case = _Case(spec, f"INC-{i:06d}", T0 + timedelta(minutes=7 * i))
        roll = rng.random()
        if roll < 0.05:
            case.fire("cancel", rng.uniform(1, 30), {"reason": "duplicate"})
            out.append(case.history())
            continue
        case.fire("assign", rng.uniform(5, 60), {"assignee": rng.choice(people)})
        if rng.random() < 0.15:
            case.fire("assign", rng.uniform(10, 120), {"assignee": rng.choice(people)})
        case.fire("start", rng.uniform(1, 30))
        if rng.random() < 0.1:
            case.fire("pend", rng.uniform(5, 60), {"pending_reason": "awaiting_caller"})
            case.fire("resume", rng.uniform(30, 600))
        if roll >= 0.08:  # else: still in progress
            case.fire("resolve", rng.uniform(20, 480), fix)
            if rng.random() < 0.08:
                case.fire("reopen", rng.uniform(60, 1440))
                case.fire("resolve", rng.uniform(30, 240), fix)
            case.fire("close", rng.uniform(60, 2880))
        out.append(case.history())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--observations", type=int, default=1000)
    parser.add_argument("--keys", type=int, default=200)
    parser.add_argument("--histories", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        n, k = args.observations, args.keys
        for sync in ("FULL", "NORMAL"):
            obs, base, upd = [], [], []
            for r in range(args.rounds):
                base.append(baseline_saves(root / f"b-{sync}-{r}.db", n, sync))
                obs.append(observe_rate(root / f"o-{sync}-{r}.db", n, k, sync))
                upd.append(incident_update_rate(root / f"u-{sync}-{r}.db", n, k, sync))
            o, b, u = statistics.median(obs), statistics.median(base), statistics.median(upd)
            print(
                f"synchronous={sync:<6} observe {o:6.0f}/s | raw sqlite3 save {b:6.0f}/s "
                f"(ratio {o / b:.2f}) | Engine.fire incident update {u:6.0f}/s (ratio "
                f"{o / u:.2f})   [{n} observations, {k} keys]"
            )
    began = time.perf_counter()
    histories = incident_histories(args.histories)
    built = time.perf_counter() - began
    events = sum(len(h.events) for h in histories)
    began = time.perf_counter()
    pm = process_map(histories)
    took = time.perf_counter() - began
    tracemalloc.start()
    process_map(histories)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    v = pm.version("incident")
    happy = v.happy_path
    print(
        f"process_map: {len(histories)} histories, {events} events in {took:.2f} s "
        f"({events / took:,.0f} events/s); peak allocated {peak / 2**20:.1f} MiB "
        f"(built in {built:.1f} s)"
    )
    if happy is not None:
        print(
            f"  happy path {' → '.join(happy.states)}: {float(happy.share):.1%}; rework "
            f"{float(v.rework_share):.1%}; hand-offs {v.handoffs}; reopens {v.reopens}"
        )


if __name__ == "__main__":
    main()
