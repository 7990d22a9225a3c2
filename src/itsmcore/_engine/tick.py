"""The tick: emit what is due, exactly once, over the storage port.

Why here (with the engine, not in :mod:`itsmcore.sla`): it drives the storage port,
and the SLA package stays pure. It never reads the clock (``now`` is an argument), never imports an
adapter or the engine, and every decision it makes is one of the pure answers of
:class:`~itsmcore.sla.rules.SlaRules`. The engine hands it the storage port, the spec of
a record, and a function that fires a timer's event through the engine's normal path.

One tick, for the records whose deadlines are due (``Storage.due(now)``; never all open
records):

1. Timers that fire an event are fired first, earliest first, by the system actor at
   their due instant (or the record's last event, if later), with the version the
   decision was based on. A :class:`~itsmcore.errors.ConcurrencyError` means another
   worker or a user got there first: reload and decide again, so a timer never fires
   twice. A timer whose event is refused (a guard, an authorization hook) is kept due
   and retried on the next tick.
2. The SLA warnings and breaches crossed by ``now`` and the signal-only timers due by
   ``now`` are claimed in one ``Storage.claim`` call, in order of ``due``, each with its
   outbox notification (``id`` = claim key); only the claims this call inserted are
   returned, so with several workers each signal is returned by exactly one of them.
3. The record's deadlines are recomputed: only those after ``now`` when the history is
   the one the signals were read from, else all of them (so a change made meanwhile is
   looked at again by the next tick). If the record changed while they were being
   written, they are written again from the new history.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Final, Protocol

import attrs

from itsmcore._time import require_aware
from itsmcore.errors import ConcurrencyError, ItsmError, NotFound
from itsmcore.ports.storage import Claim, Deadline, Notification, Storage
from itsmcore.records import Event, Record
from itsmcore.sla.rules import SlaRules
from itsmcore.sla.signals import Signal, TimerSignal, claim_of, signal_order
from itsmcore.spec import ProcessSpec, TimerSpec

__all__ = ["TimerFiring", "run_tick"]

#: How many records one ``Storage.due`` call asks for.
BATCH: Final = 500
#: A bound on the timer events one record may fire in one tick (a safety net).
MAX_FIRES: Final = 16
#: A bound on re-reading a record that keeps changing while its deadlines are written.
MAX_REFRESH: Final = 8


class TimerFiring(Protocol):
    """Fires ``timer``'s event on ``record`` at ``at`` as the system actor, with
    ``expected_version=record.version``; returns the new record. Raises what
    ``Engine.fire`` raises."""

    def __call__(self, record: Record, timer: TimerSpec, at: datetime) -> Record: ...


@attrs.define
class _Visit:
    """What one record contributed to a tick (private)."""

    record_id: str
    fresh: bool  # no event after ``now``: deadlines due by ``now`` can be dropped
    # The record as the visit last read it (its deadlines are first written from it).
    snapshot: tuple[Record, list[Event], ProcessSpec]
    fired: list[TimerSignal] = attrs.field(factory=list)
    candidates: list[Signal] = attrs.field(factory=list)
    kept: list[Deadline] = attrs.field(factory=list)


def run_tick(
    storage: Storage,
    rules: SlaRules,
    spec_of: Callable[[Record], ProcessSpec],
    fire: TimerFiring,
    now: datetime,
    *,
    batch: int = BATCH,
) -> list[Signal]:
    """Handle every deadline due by ``now`` and return the signals this call emitted
    (SLA signals it claimed, signal-only timers it claimed, timers whose event it
    fired), in order of ``due``. Raises ``ValidationError`` for a naive ``now``."""
    now = require_aware(now, "$.now").astimezone(UTC)
    emitted: list[Signal] = []
    handled: set[str] = set()
    limit = batch
    while True:
        items = storage.due(now, limit=limit)
        fresh = [rid for rid in dict.fromkeys(d.record_id for d in items) if rid not in handled]
        if not fresh:
            if len(items) < limit:
                break
            limit *= 2  # the first ``limit`` are records kept due (refused timers)
            continue
        emitted.extend(_tick_records(storage, rules, spec_of, fire, now, fresh))
        handled.update(fresh)
        if len(items) < limit:
            break
    emitted.sort(key=signal_order)
    return emitted


def _tick_records(
    storage: Storage,
    rules: SlaRules,
    spec_of: Callable[[Record], ProcessSpec],
    fire: TimerFiring,
    now: datetime,
    record_ids: Sequence[str],
) -> list[Signal]:
    visits: list[_Visit] = []
    for rid in record_ids:
        try:
            visits.append(_visit(storage, rules, spec_of, fire, now, rid))
        except NotFound:
            storage.set_deadlines(rid, [])
    candidates = sorted((s for v in visits for s in v.candidates), key=signal_order)
    claims: list[Claim] = [claim_of(s) for s in candidates]
    outbox: list[Notification] = [s.notification() for s in candidates]
    won = {c.key for c in storage.claim(claims, outbox=outbox)} if claims else set()
    out: list[Signal] = [s for s in candidates if s.key in won]
    for visit in visits:
        out.extend(visit.fired)
        _refresh(storage, rules, spec_of, now, visit)
    return out


def _load(
    storage: Storage, spec_of: Callable[[Record], ProcessSpec], rid: str
) -> tuple[Record, list[Event], ProcessSpec]:
    record = storage.load(rid)
    events = storage.history(rid)[: record.version]
    return record, events, spec_of(record)


def _visit(
    storage: Storage,
    rules: SlaRules,
    spec_of: Callable[[Record], ProcessSpec],
    fire: TimerFiring,
    now: datetime,
    rid: str,
) -> _Visit:
    refused: set[str] = set()
    fired: list[TimerSignal] = []
    record, events, spec = _load(storage, spec_of, rid)
    for _ in range(MAX_FIRES):
        due = [
            t
            for t in rules.timers(events, spec)
            if t.timer.event is not None and t.due <= now and t.timer.name not in refused
        ]
        if not due:
            break
        first = min(due, key=lambda t: t.due)
        try:
            new = fire(record, first.timer, max(first.due, record.updated_at))
        except ConcurrencyError:
            pass  # someone else changed the record: reload and decide again
        except ItsmError:
            refused.add(first.timer.name)
        else:
            fired.append(first.signal(rid, new.version))
        record, events, spec = _load(storage, spec_of, rid)
    visit = _Visit(
        record_id=rid,
        fresh=events[-1].at <= now,
        snapshot=(record, events, spec),
    )
    visit.fired = fired
    visit.candidates.extend(rules.signals(rid, events, spec, now))
    for t in rules.timers(events, spec):
        if t.due > now:
            continue
        if t.timer.event is None:
            visit.candidates.append(t.signal(rid))
        else:  # refused, or still contended after MAX_FIRES: keep it due for next time
            visit.kept.append(Deadline(record_id=rid, key=f"timer:{t.timer.name}", due=t.due))
    return visit


def _refresh(
    storage: Storage,
    rules: SlaRules,
    spec_of: Callable[[Record], ProcessSpec],
    now: datetime,
    visit: _Visit,
) -> None:
    """Write the record's next deadlines, again if the record changed meanwhile.

    The first write uses the record as the visit read it (no second read); the check
    after each write catches a change made since, and the next attempt reloads."""
    for attempt in range(MAX_REFRESH):
        if attempt == 0:
            record, events, spec = visit.snapshot
        else:
            try:
                record, events, spec = _load(storage, spec_of, visit.record_id)
            except NotFound:
                storage.set_deadlines(visit.record_id, [])
                return
        unchanged = attempt == 0 and visit.fresh
        deadlines = rules.deadlines(visit.record_id, events, spec, after=now if unchanged else None)
        kept = {d.key for d in deadlines}
        deadlines.extend(d for d in visit.kept if d.key not in kept)
        storage.set_deadlines(visit.record_id, deadlines)
        if storage.load(visit.record_id).version == record.version:
            return
