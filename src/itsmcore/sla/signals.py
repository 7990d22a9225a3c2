"""What ``Engine.tick`` emits: SLA warnings and breaches, and timer signals.

Why each signal has a key: a signal is emitted exactly once across every worker because
its key is claimed in storage (:meth:`~itsmcore.ports.storage.Storage.claim`) together
with its outbox notification, whose ``id`` is that same key. The keys are stable texts:

- ``sla:<record id>:<policy>:<clock>:<cycle>:<warning|breach>:<percent>``
  (e.g. ``sla:INC-000001:incident-default:resolution:1:warning:75``);
- ``timer:<record id>:<timer>:<due as YYYYMMDDTHHMMSS.ffffffZ>`` for a timer that only
  signals (a timer that fires an event is made exactly-once by the record's version
  check instead, and is reported with the version it produced).

The pure part of timers lives here too: :func:`timer_dues` says which of a spec's timed
rules are due for a record, and when.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import attrs

from itsmcore._time import format_duration
from itsmcore.errors import NoBusinessTime
from itsmcore.ports.storage import Claim, Notification
from itsmcore.records import Event, FieldMap
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.spec import ProcessSpec, TimerSpec

__all__ = ["DueTimer", "Signal", "SlaSignal", "TimerSignal", "timer_dues"]


def _stamp(value: datetime) -> str:
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}{u.month:02d}{u.day:02d}T{u.hour:02d}{u.minute:02d}{u.second:02d}"
        f".{u.microsecond:06d}Z"
    )


@attrs.frozen(slots=True)
class SlaSignal:
    """A warning or breach threshold of one clock cycle, crossed at ``due`` (UTC).

    ``kind`` is ``"warning"`` or ``"breach"``; ``threshold`` is the percent of the target
    (100 for the breach). ``policy_version``, ``policy_kind`` (``sla``/``ola``/``uc``)
    and ``target`` say which agreement was measured.
    """

    record_id: str
    policy: str
    clock: str
    cycle: int
    kind: str
    threshold: int
    due: datetime
    policy_version: int = 1
    policy_kind: str = "sla"
    target: timedelta | None = None

    @property
    def key(self) -> str:
        """The claim key (also the outbox notification id)."""
        return (
            f"sla:{self.record_id}:{self.policy}:{self.clock}:{self.cycle}:"
            f"{self.kind}:{self.threshold}"
        )

    def notification(self) -> Notification:
        """The outbox row (kind ``"sla"``) announcing this signal."""
        payload: dict[str, Any] = {
            "policy": self.policy,
            "policy_version": self.policy_version,
            "policy_kind": self.policy_kind,
            "clock": self.clock,
            "cycle": self.cycle,
            "kind": self.kind,
            "threshold": self.threshold,
            "due": self.due.astimezone(UTC).isoformat(),
        }
        if self.target is not None:
            payload["target"] = format_duration(self.target)
        return Notification(
            id=self.key, kind="sla", record_id=self.record_id, at=self.due, payload=payload
        )


@attrs.frozen(slots=True)
class TimerSignal:
    """A timed rule of a process spec that came due at ``due`` (UTC).

    For a timer that fires an event (``event`` set, e.g. incident ``auto_close`` firing
    ``close``), ``version`` is the record version that firing produced; for a timer that
    only signals (``event`` is ``None``), ``version`` is ``None`` and the signal went to
    the outbox as a ``"timer"`` notification. ``kind`` is always ``"timer"``.
    """

    record_id: str
    timer: str
    due: datetime
    event: str | None = None
    version: int | None = None
    kind: str = "timer"

    @property
    def key(self) -> str:
        """The claim key of a signal-only timer (also its outbox notification id)."""
        return f"timer:{self.record_id}:{self.timer}:{_stamp(self.due)}"

    def notification(self) -> Notification:
        """The outbox row (kind ``"timer"``) announcing a signal-only timer."""
        payload = {"timer": self.timer, "due": self.due.astimezone(UTC).isoformat()}
        return Notification(
            id=self.key, kind="timer", record_id=self.record_id, at=self.due, payload=payload
        )


#: What ``Engine.tick`` returns: SLA signals and timer signals, in order of ``due``.
Signal = SlaSignal | TimerSignal


def signal_order(signal: Signal) -> tuple[datetime, str, str, str, int, int]:
    """Sort key: by ``due``, then record, then what it is about."""
    if isinstance(signal, SlaSignal):
        return (
            signal.due,
            signal.record_id,
            signal.policy,
            signal.clock,
            signal.cycle,
            signal.threshold,
        )
    return (signal.due, signal.record_id, "", signal.timer, 0, 0)


def claim_of(signal: Signal) -> Claim:
    """The storage claim that makes ``signal`` exactly-once."""
    return Claim(key=signal.key, record_id=signal.record_id, at=signal.due)


@attrs.frozen(slots=True)
class DueTimer:
    """A timer of a record's spec and the instant (UTC) it is due."""

    timer: TimerSpec
    due: datetime

    def signal(self, record_id: str, version: int | None = None) -> TimerSignal:
        """The :class:`TimerSignal` reporting this timer."""
        return TimerSignal(
            record_id=record_id,
            timer=self.timer.name,
            due=self.due,
            event=self.timer.event,
            version=version,
        )


def _instant(value: Any, calendar: BusinessCalendar | None) -> datetime | None:
    """A field value as an instant: a datetime as is, a date at 00:00 in the timer's
    calendar zone (UTC without a calendar), anything else ``None``."""
    if isinstance(value, datetime):
        return value if value.utcoffset() is not None else None
    if isinstance(value, date):
        zone = calendar.tzinfo if calendar is not None else UTC
        return datetime.combine(value, time(0), tzinfo=zone)
    return None


def timer_dues(
    events: Sequence[Event],
    spec: ProcessSpec,
    calendars: Mapping[str, BusinessCalendar],
) -> list[DueTimer]:
    """The spec's timers that apply to the record's current stay in its state, with the
    instant each is due (past or future), in the spec's order.

    A timer applies while the record is in the timer's state. ``after`` counts from the
    event that entered the state (wall-clock, or business time on ``calendar``);
    ``at_field`` reads an instant from the record (a ``date`` is 00:00 in the calendar's
    zone, UTC without one). A timer whose event already happened at or after its due
    instant during this stay is done and not listed. A timer whose calendar has no
    business time left is never due.
    """
    if not events or not spec.timers:
        return []
    state = events[-1].target
    if all(timer.state != state for timer in spec.timers):
        return []
    fields = FieldMap()
    entry = 0
    for i, ev in enumerate(events):
        if ev.changes:
            fields = fields.updated(ev.changes)
        if ev.target == state and ev.source != state:
            entry = i
    entered = events[entry].at
    out: list[DueTimer] = []
    for timer in spec.timers:
        if timer.state != state:
            continue
        calendar = calendars.get(timer.calendar) if timer.calendar is not None else None
        due: datetime | None
        if timer.after is not None:
            if calendar is None:
                due = entered + timer.after
            else:
                try:
                    due = calendar.add(entered, timer.after)
                except NoBusinessTime:
                    continue
        else:
            due = _instant(fields.get(timer.at_field or ""), calendar)
        if due is None:
            continue
        due = due.astimezone(UTC)
        if timer.event is not None and any(
            ev.name == timer.event and ev.at >= due for ev in events[entry + 1 :]
        ):
            continue
        out.append(DueTimer(timer=timer, due=due))
    return out
