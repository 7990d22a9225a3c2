"""Shared fixtures of the SLA policy, clock and tick tests: a Monday 09:00 UTC start,
incidents of a given priority, and the events that move them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

import itsmcore as ic
from itsmcore.sla import ClockStatus

#: Monday 23 November 2026, 09:00 UTC: the business calendar opens.
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))

#: (impact, urgency) giving each priority under the default matrix.
IMPACT_URGENCY = {1: (1, 1), 2: (1, 2), 3: (2, 2), 4: (2, 3), 5: (3, 3)}

#: The fields each incident event needs.
EVENT_FIELDS: Mapping[str, Mapping[str, Any]] = {
    "assign": {"assignee": "bob"},
    "start": {},
    "pend": {"pending_reason": "awaiting_caller"},
    "resume": {},
    "resolve": {"resolution_code": "fixed", "resolution_notes": "restarted the service"},
    "reopen": {},
    "close": {},
    "cancel": {"reason": "opened twice"},
}


def incident_fields(priority: int, **extra: Any) -> dict[str, Any]:
    impact, urgency = IMPACT_URGENCY[priority]
    return {"title": "Mail down", "caller": "carol", "impact": impact, "urgency": urgency, **extra}


def open_incident(engine: ic.Engine, priority: int, at: datetime = T0, **extra: Any) -> ic.Record:
    return engine.open("incident", at=at, actor=AGENT, fields=incident_fields(priority, **extra))


def act(engine: ic.Engine, record_id: str, event: str, at: datetime, **fields: Any) -> ic.Record:
    given = {**EVENT_FIELDS.get(event, {}), **fields}
    return engine.fire(record_id, event, at=at, actor=AGENT, fields=given)


def clock(engine: ic.Engine, record_id: str, name: str, now: datetime) -> ClockStatus:
    """The status of clock ``name`` (of any policy) at ``now``; fails if absent."""
    found = [s for s in engine.sla(record_id, now) if s.clock == name]
    assert len(found) == 1, found
    return found[0]


_SPEC = ic.catalog.get("incident")
_MOVES = (*EVENT_FIELDS, "update")


@st.composite
def histories(draw: st.DrawFn) -> list[ic.Event]:
    """A random but valid incident history: up to 12 moves, 0-10 h apart."""
    step = _SPEC.open(
        record_id="INC-P",
        at=T0,
        actor=AGENT,
        fields=incident_fields(draw(st.integers(1, 5))),
    )
    events = [step.event]
    record = step.record
    for _ in range(draw(st.integers(0, 12))):
        move = draw(st.sampled_from(_MOVES))
        gap = timedelta(minutes=draw(st.integers(0, 600)))
        fields: dict[str, Any] = dict(EVENT_FIELDS.get(move, {}))
        if move == "update":
            fields = {"impact": draw(st.integers(1, 3)), "urgency": draw(st.integers(1, 3))}
        try:
            step = _SPEC.fire(record, move, at=record.updated_at + gap, actor=AGENT, fields=fields)
        except ic.ItsmError:
            continue
        events.append(step.event)
        record = step.record
    return events
