"""``Engine.tick`` cost against the number of open records, with the same work due.

Tick reads only the deadlines that are due (``Storage.due``), so its cost should follow
the number of signals due, not the number of open incidents. This builds two in-memory
engines, one with 10,000 and one with 100,000 open incidents whose deadlines all lie in
the future, adds the same 5 × 100 incidents that come due, then times five ticks on
each (every tick handles exactly 100 incidents and emits 400 response signals). It
prints the median tick time per size (CPU time of this process, and wall time) and the
ratio of the CPU medians. Target: ratio <= 2.

Every incident is opened through ``Engine.open``, so its deadlines are the real ones
from ``Engine.deadlines_for``.

Run: ``python benchmarks/bench_tick.py`` (about a minute; ``--quick`` for 1,000 and
10,000 records).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from datetime import UTC, datetime, timedelta

import itsmcore as ic

#: Monday 09:00 UTC: the business calendar opens.
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))
#: Five ticks, 15 min apart from 09:50 to 10:50. The bulk (priority 3, opened at 09:00)
#: first comes due at 11:00 (50 % of 4 business hours), so no bulk record is due at any.
TICKS = tuple(T0 + timedelta(minutes=50 + 15 * i) for i in range(5))
DUE_PER_TICK = 100


def _fields(impact: int, urgency: int) -> dict[str, object]:
    return {"title": "Mail down", "caller": "carol", "impact": impact, "urgency": urgency}


def build(open_records: int) -> tuple[ic.Engine, float]:
    """An engine with ``open_records`` quiet incidents and 5 × 100 that come due."""
    engine = ic.Engine.in_memory(auto_deliver=False)
    started = time.perf_counter()
    quiet = _fields(2, 2)  # priority 3: response 4 h, resolution 24 h, business hours
    for _ in range(open_records):
        engine.open("incident", at=T0, actor=AGENT, fields=quiet)
    urgent = _fields(1, 1)  # priority 1: response 20 min on 24x7
    for tick in TICKS:
        # Opened 24 min before the tick: 50/75/90/100 % of the response target fall
        # 14, 9, 6 and 4 min before it, after the previous tick; resolution 50 % is
        # 96 min after it, later than the last tick.
        for _ in range(DUE_PER_TICK):
            engine.open("incident", at=tick - timedelta(minutes=24), actor=AGENT, fields=urgent)
    return engine, time.perf_counter() - started


def time_ticks(engine: ic.Engine) -> tuple[list[float], list[float]]:
    """CPU and wall seconds per tick; checks that each tick emitted exactly the expected
    signals. CPU time (this process only) is what the ratio uses: it is not inflated by
    other processes competing for the machine."""
    cpu: list[float] = []
    wall: list[float] = []
    for tick in TICKS:
        gc.collect()
        started_cpu, started = time.process_time(), time.perf_counter()
        signals = engine.tick(tick)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
        records = {s.record_id for s in signals}
        if len(signals) != 4 * DUE_PER_TICK or len(records) != DUE_PER_TICK:
            raise SystemExit(f"tick at {tick} emitted {len(signals)} signals: wrong setup")
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 and 10,000 records")
    args = parser.parse_args()
    sizes = (1_000, 10_000) if args.quick else (10_000, 100_000)
    medians: list[float] = []
    for size in sizes:
        engine, build_s = build(size)
        cpu, wall = time_ticks(engine)
        median = statistics.median(cpu)
        medians.append(median)
        shown = ", ".join(f"{t * 1000:.1f}" for t in cpu)
        print(
            f"{size:>7,} open incidents (+{len(TICKS) * DUE_PER_TICK} due), built in "
            f"{build_s:.1f} s; tick of {DUE_PER_TICK} due records: median CPU "
            f"{median * 1000:.1f} ms (runs: {shown} ms), median wall "
            f"{statistics.median(wall) * 1000:.1f} ms"
        )
        del engine
        gc.collect()
    ratio = medians[1] / medians[0]
    verdict = "OK" if ratio <= 2 else "ABOVE TARGET"
    print(f"ratio {sizes[1]:,} / {sizes[0]:,}: {ratio:.2f} (target <= 2: {verdict})")


if __name__ == "__main__":
    main()
