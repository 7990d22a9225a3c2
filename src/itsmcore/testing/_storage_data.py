"""Records, steps and notifications for the storage contract suite (private).

The suite needs real, hash-chained steps to append, so it builds them with a small
process of its own, ``contract_ticket``, whose fields cover every field type a store
must round-trip exactly (text, numbers, flags, instants, dates, durations, lists).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Final

from itsmcore.ports.storage import Claim, Deadline, Notification
from itsmcore.records import Actor, Record, Step
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "ACTOR",
    "T0",
    "TICKET",
    "claim",
    "deadline",
    "every_type_fields",
    "finish",
    "note_for",
    "opened",
    "updated",
]

#: The instant the suite's records are opened at (UTC).
T0: Final = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
#: The actor of the suite's steps.
ACTOR: Final = Actor("contract", roles=frozenset({"agent", "tester"}))

#: A small process with a field of every type.
TICKET: Final = ProcessSpec(
    name="contract_ticket",
    version=1,
    title="Contract ticket",
    id_prefix="CT",
    states=(
        StateSpec("open", "open", initial=True),
        StateSpec("waiting", "paused"),
        StateSpec("done", "closed", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str"),
        FieldSpec("team", "str"),
        FieldSpec("count", "int"),
        FieldSpec("ratio", "float"),
        FieldSpec("urgent", "bool"),
        FieldSpec("seen_at", "datetime"),
        FieldSpec("due_on", "date"),
        FieldSpec("effort", "duration"),
        FieldSpec("tags", "list"),
        FieldSpec("notes", "text"),
    ),
    opening=TransitionSpec("open", (), "open"),
    transitions=(
        TransitionSpec("update", ("open", "waiting"), "="),
        TransitionSpec("wait", ("open",), "waiting"),
        TransitionSpec("resume", ("waiting",), "open"),
        TransitionSpec("finish", ("open", "waiting"), "done"),
    ),
)


def every_type_fields() -> dict[str, Any]:
    """Field values of every type, with a non-UTC instant and non-ASCII text."""
    return {
        "title": "Mail down — ünïcode ✓",
        "team": "ops",
        "count": 2**40,
        "ratio": 0.1,
        "urgent": True,
        "seen_at": datetime(2026, 3, 29, 1, 30, 0, 123456, tzinfo=timezone(timedelta(hours=5))),
        "due_on": date(2026, 12, 24),
        "effort": timedelta(hours=3, microseconds=7),
        "tags": ("a", "b"),
        "notes": 'line 1\nline 2 "quoted" \\ backslash',
    }


def opened(record_id: str, *, at: datetime = T0, **fields: Any) -> Step:
    """The ``open`` step of a ticket (version 1)."""
    return TICKET.open(record_id=record_id, at=at, actor=ACTOR, fields=fields)


def updated(record: Record, *, at: datetime | None = None, **fields: Any) -> Step:
    """An ``update`` step of ``record`` (the next version), one minute after it by default."""
    when = at if at is not None else record.updated_at + timedelta(minutes=1)
    return TICKET.fire(record, "update", at=when, actor=ACTOR, fields=fields)


def finish(record: Record) -> Step:
    """The ``finish`` step of ``record`` (into the terminal state ``done``)."""
    return TICKET.fire(record, "finish", at=record.updated_at, actor=ACTOR)


def note_for(step: Step, *, kind: str = "event") -> Notification:
    """The notification of a step, with the engine's stable id form."""
    ev = step.event
    return Notification(
        id=f"{kind}:{ev.record_id}:{ev.version}",
        kind=kind,
        record_id=ev.record_id,
        at=ev.at,
        payload={"event": ev.name, "version": ev.version},
    )


def deadline(record_id: str, key: str, minutes: int) -> Deadline:
    """A deadline ``minutes`` after :data:`T0`."""
    return Deadline(record_id, key, T0 + timedelta(minutes=minutes))


def claim(key: str, record_id: str = "CT-1") -> Claim:
    """A claim of ``key`` at :data:`T0`."""
    return Claim(key, record_id, T0)
