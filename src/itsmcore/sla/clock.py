"""SLA clocks as pure functions of a record's events.

Why no stored counters: a clock's elapsed time, due instant and crossed thresholds are
recomputed from the events each time they are asked for, so a priority change, a new
policy version for new records, or a repaired history can never leave a running clock in
a wrong state. The same events, policy version, calendars and ``now`` always give the
same :class:`ClockStatus`.

How a clock reads the events (``clock`` is a :class:`~itsmcore.sla.policy.ClockSpec`):

1. Walking the events in version order, each event may cancel the current cycle, reset
   it (end it and begin the next at once), stop it, resume a stopped cycle, or begin a
   new cycle (a start when no cycle is running). The checks are made in that order and
   at most one applies per event.
2. While a cycle is neither stopped nor cancelled, it *runs* unless the record's state
   satisfies ``pause``. The running intervals are the cycle's *segments*.
3. Elapsed time is the business time of the segments on the clock's calendar, cut at
   ``now``. A threshold *p* % is crossed at the earliest instant the elapsed time
   reaches ``ceil(target × p / 100)`` (microseconds); the breach is the 100 % threshold,
   so a cycle stopped exactly at its due instant is breached.

The *as-of* rule: a status at ``now`` reads only the events dated at or before ``now``,
except the ``open`` event, which is always read; so ``now`` before the record was opened
gives zero elapsed time, never a negative one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import attrs

from itsmcore.errors import NoBusinessTime
from itsmcore.records import Event
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.policy import ClockSpec, SlaPolicy, Trigger
from itsmcore.spec import ProcessSpec

__all__ = [
    "ClockStatus",
    "ClockTrace",
    "Cycle",
    "clock_status",
    "crossing",
    "cycle_priority",
    "measure",
    "threshold_time",
    "trace",
]

_US = timedelta(microseconds=1)
_ZERO = timedelta(0)


@attrs.frozen(slots=True)
class ClockStatus:
    """The state of one clock of one policy on one record at one instant.

    - ``policy`` and ``clock`` are names; ``cycle`` counts from 1.
    - ``target`` is the business time allowed for the record's priority; ``elapsed`` the
      business time counted so far (it may exceed the target); ``remaining`` is
      ``max(target − elapsed, 0)``.
    - ``due`` is the instant (UTC) the target is or was reached if the clock keeps
      running; ``None`` while paused, stopped or cancelled.
    - ``paused``, ``stopped`` (the cycle ended: met or breached; also true when
      cancelled), ``breached`` (elapsed ≥ target), ``warnings`` (the warning percents
      crossed, ascending).
    - ``kind`` (``sla``/``ola``/``uc``), ``policy_version``, ``started`` (the cycle's
      start), ``cancelled``, ``priority`` and ``calendar`` say where the numbers came from.
    """

    policy: str
    clock: str
    cycle: int
    target: timedelta
    elapsed: timedelta
    remaining: timedelta
    due: datetime | None
    paused: bool
    stopped: bool
    breached: bool
    warnings: tuple[int, ...]
    kind: str = "sla"
    policy_version: int = 1
    started: datetime | None = None
    cancelled: bool = False
    priority: int | None = None
    calendar: str = ""


@attrs.frozen(slots=True)
class Cycle:
    """One cycle of a clock: from a start (or reset) to the next start, reset or the end.

    ``segments`` are the running intervals in order; the last one is open
    (``(start, None)``) while the clock runs. ``stopped_at`` and ``cancelled_at`` are set
    once the cycle stopped or was cancelled (a resume clears ``stopped_at``).
    ``start_priority`` is the priority right after the event that began the cycle.
    """

    number: int
    started: datetime
    segments: tuple[tuple[datetime, datetime | None], ...]
    stopped_at: datetime | None
    cancelled_at: datetime | None
    paused: bool
    start_priority: object

    @property
    def running(self) -> bool:
        """True while the clock counts time (not paused, stopped or cancelled)."""
        return bool(self.segments) and self.segments[-1][1] is None


@attrs.frozen(slots=True)
class ClockTrace:
    """The cycles of one clock over a history, and the record's priority after it."""

    cycles: tuple[Cycle, ...]
    priority: object


class _Open:
    """A cycle being built while walking the events (mutable, private)."""

    __slots__ = (
        "cancelled_at",
        "number",
        "paused",
        "run_from",
        "segments",
        "start_priority",
        "started",
        "stopped_at",
    )

    def __init__(self, number: int, started: datetime, start_priority: object) -> None:
        self.number = number
        self.started = started
        self.start_priority = start_priority
        self.segments: list[tuple[datetime, datetime | None]] = []
        self.run_from: datetime | None = None
        self.stopped_at: datetime | None = None
        self.cancelled_at: datetime | None = None
        self.paused = False

    @property
    def active(self) -> bool:
        return self.stopped_at is None and self.cancelled_at is None

    def halt(self, at: datetime) -> None:
        if self.run_from is not None:
            self.segments.append((self.run_from, at))
            self.run_from = None

    def frozen(self) -> Cycle:
        segments = list(self.segments)
        if self.run_from is not None:
            segments.append((self.run_from, None))
        return Cycle(
            number=self.number,
            started=self.started,
            segments=tuple(segments),
            stopped_at=self.stopped_at,
            cancelled_at=self.cancelled_at,
            paused=self.paused and self.active,
            start_priority=self.start_priority,
        )


@attrs.frozen(slots=True)
class _Edge:
    """One event seen as a move from ``source`` to ``target`` (private)."""

    event: str
    source: str | None
    source_category: str | None
    target: str
    target_category: str

    def fires(self, trigger: Trigger) -> bool:
        return bool(trigger) and trigger.fires(
            self.event, self.source, self.source_category, self.target, self.target_category
        )


def _category(spec: ProcessSpec, state: str | None) -> str | None:
    if state is None:
        return None
    found = spec.compiled.states.get(state)
    return found.category if found is not None else None


def trace(
    events: Sequence[Event],
    spec: ProcessSpec,
    clock: ClockSpec,
    *,
    priority_field: str = "priority",
    until: datetime | None = None,
) -> ClockTrace:
    """The cycles of ``clock`` over ``events`` (versions 1..n of one record).

    ``spec`` is the process spec the record was opened under (it gives state
    categories). With ``until``, only events dated at or before it are read, except the
    first (``open``) event, which is always read.
    """
    cycles: list[Cycle] = []
    cur: _Open | None = None
    state: str | None = None
    priority: object = None
    for i, ev in enumerate(events):
        if i and until is not None and ev.at > until:
            break
        source, state = state, ev.target
        if priority_field in ev.changes:
            priority = ev.changes[priority_field]
        src_cat, dst_cat = _category(spec, source), _category(spec, state)
        at = ev.at
        edge = _Edge(ev.name, source, src_cat, state, dst_cat or "")
        if cur is not None and cur.cancelled_at is None and edge.fires(clock.cancel):
            cur.halt(at)
            cur.cancelled_at = at
        elif cur is not None and cur.cancelled_at is None and edge.fires(clock.reset):
            cur.halt(at)
            if cur.stopped_at is None:
                cur.stopped_at = at
            cycles.append(cur.frozen())
            cur = _Open(cur.number + 1, at, priority)
        elif cur is not None and cur.active and edge.fires(clock.stop):
            cur.halt(at)
            cur.stopped_at = at
        elif cur is not None and cur.stopped_at is not None and cur.cancelled_at is None:
            if edge.fires(clock.resume):
                cur.stopped_at = None
            elif edge.fires(clock.start):
                cycles.append(cur.frozen())
                cur = _Open(cur.number + 1, at, priority)
        elif (cur is None or cur.cancelled_at is not None) and edge.fires(clock.start):
            if cur is not None:
                cycles.append(cur.frozen())
            cur = _Open(1 if cur is None else cur.number + 1, at, priority)
        if cur is not None and cur.active:
            cur.paused = clock.pause.holds(state, dst_cat)
            if cur.paused:
                cur.halt(at)
            elif cur.run_from is None:
                cur.run_from = at
    if cur is not None:
        cycles.append(cur.frozen())
    return ClockTrace(cycles=tuple(cycles), priority=priority)


def measure(cycle: Cycle, calendar: BusinessCalendar, now: datetime | None) -> timedelta:
    """The business time ``cycle`` has run up to ``now`` (all of it when ``None``; an open
    segment then counts nothing beyond its start)."""
    total = _ZERO
    for a, b in cycle.segments:
        end = b if b is not None else now
        if end is None:
            continue
        if now is not None and end > now:
            end = now
        if end > a:
            total += calendar.elapsed(a, end)
    return total


def crossing(cycle: Cycle, calendar: BusinessCalendar, need: timedelta) -> datetime | None:
    """The earliest instant (UTC) at which ``cycle`` has run ``need`` (> 0) of business
    time, assuming an open last segment runs on; ``None`` if it never does."""
    counted = _ZERO
    for a, b in cycle.segments:
        if b is None:
            try:
                return calendar.add(a, need - counted).astimezone(UTC)
            except NoBusinessTime:
                return None
        spent = calendar.elapsed(a, b)
        if counted + spent >= need:
            return calendar.add(a, need - counted).astimezone(UTC)
        counted += spent
    return None


def threshold_time(target: timedelta, percent: int) -> timedelta:
    """The business time at which ``percent`` % of ``target`` is reached, rounded up to
    the microsecond (so a warning is never early)."""
    total = target // _US
    return timedelta(microseconds=-((-total * percent) // 100))


def clock_status(
    policy: SlaPolicy,
    clock: ClockSpec,
    cycle: Cycle,
    *,
    priority: object,
    calendar: BusinessCalendar,
    now: datetime,
) -> ClockStatus | None:
    """The status of ``cycle`` at ``now``; ``None`` when ``priority`` has no target."""
    target = clock.target_for(priority)
    if target is None or not isinstance(priority, int | float):
        return None
    elapsed = measure(cycle, calendar, now)
    crossed = tuple(w for w in sorted(clock.warnings) if elapsed >= threshold_time(target, w))
    cancelled = cycle.cancelled_at is not None and cycle.cancelled_at <= now
    stopped = cancelled or (cycle.stopped_at is not None and cycle.stopped_at <= now)
    due = None
    if not stopped and not cycle.paused:
        due = crossing(cycle, calendar, target)
    return ClockStatus(
        policy=policy.name,
        clock=clock.name,
        cycle=cycle.number,
        target=target,
        elapsed=elapsed,
        remaining=max(target - elapsed, _ZERO),
        due=due,
        paused=cycle.paused and not stopped,
        stopped=stopped,
        breached=elapsed >= target,
        warnings=crossed,
        kind=policy.kind,
        policy_version=policy.version,
        started=cycle.started,
        cancelled=cancelled,
        priority=int(priority),
        calendar=clock.calendar_for(priority),
    )


def cycle_priority(policy: SlaPolicy, cycle: Cycle, current: object) -> object:
    """The priority whose target applies to ``cycle``: the current one when the policy is
    retroactive, else the one the cycle started with (the current one if it had none)."""
    if policy.retroactive or cycle.start_priority is None:
        return current
    return cycle.start_priority
