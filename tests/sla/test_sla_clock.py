"""Worked examples of the clock rules of issue 5, on the shipped ``incident-default``
policy (and small custom policies), plus property tests of the clock arithmetic."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sla_clock_support import MIN, T0, H, act, clock, histories
from sla_clock_support import open_incident as open_

import itsmcore as ic
from itsmcore.sla import INCIDENT_DEFAULT, SlaPolicy, SlaRules
from itsmcore.sla.defaults import INCIDENT_DEFAULT_DATA

# -- response ------------------------------------------------------------------------------


def test_response_stops_on_first_entering_in_progress() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id  # P1: 20 min on 24x7
    act(engine, rid, "assign", T0 + 5 * MIN)
    assert not clock(engine, rid, "response", T0 + 8 * MIN).stopped
    act(engine, rid, "start", T0 + 12 * MIN)
    act(engine, rid, "pend", T0 + 30 * MIN)
    act(engine, rid, "resume", T0 + 40 * MIN)
    status = clock(engine, rid, "response", T0 + 5 * H)
    assert status.stopped
    assert not status.breached
    assert (status.cycle, status.elapsed, status.due) == (1, 12 * MIN, None)
    assert status.warnings == (50,)  # 10 min reached, 15 min not


def test_warnings_are_crossed_at_50_75_90_percent_and_breach_at_100() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id  # response target 20 min
    tiny = timedelta(microseconds=1)
    assert clock(engine, rid, "response", T0 + 10 * MIN - tiny).warnings == ()
    assert clock(engine, rid, "response", T0 + 10 * MIN).warnings == (50,)
    assert clock(engine, rid, "response", T0 + 15 * MIN).warnings == (50, 75)
    assert clock(engine, rid, "response", T0 + 18 * MIN).warnings == (50, 75, 90)
    assert not clock(engine, rid, "response", T0 + 20 * MIN - tiny).breached
    at_due = clock(engine, rid, "response", T0 + 20 * MIN)
    assert at_due.breached
    assert at_due.remaining == timedelta(0)
    assert at_due.due == T0 + 20 * MIN


# -- resolution ----------------------------------------------------------------------------


def test_resolution_pauses_in_paused_states_and_due_is_none_while_paused() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 2).id  # P2: 8 h on 24x7
    act(engine, rid, "assign", T0)
    act(engine, rid, "start", T0 + 10 * MIN)
    act(engine, rid, "pend", T0 + H)
    paused = clock(engine, rid, "resolution", T0 + 2 * H)
    assert paused.paused
    assert paused.due is None
    assert paused.elapsed == H
    act(engine, rid, "resume", T0 + 3 * H)
    running = clock(engine, rid, "resolution", T0 + 4 * H)
    assert not running.paused
    assert running.elapsed == 2 * H  # 09:00-10:00 and 12:00-13:00
    assert running.due == T0 + 10 * H  # 6 h left from 13:00


def test_resolution_stops_on_entering_resolved() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 2).id
    act(engine, rid, "assign", T0)
    act(engine, rid, "start", T0)
    act(engine, rid, "resolve", T0 + 5 * H)
    for now in (T0 + 5 * H, T0 + 20 * H):
        status = clock(engine, rid, "resolution", now)
        assert status.stopped
        assert not status.breached
        assert status.due is None
        assert (status.elapsed, status.remaining) == (5 * H, 3 * H)


def test_reopen_resumes_the_resolution_clock_and_time_resolved_does_not_count() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id  # resolution 4 h on 24x7
    act(engine, rid, "assign", T0)
    act(engine, rid, "start", T0)
    act(engine, rid, "resolve", T0 + H)
    act(engine, rid, "reopen", T0 + 10 * H)
    status = clock(engine, rid, "resolution", T0 + 11 * H)
    assert status.cycle == 1
    assert not status.stopped
    assert status.elapsed == 2 * H  # 1 h before resolving, 1 h since reopening
    assert status.due == T0 + 13 * H


def test_cancel_ends_both_clocks_for_good() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id
    act(engine, rid, "cancel", T0 + 5 * MIN)
    for status in engine.sla(rid, T0 + 9 * H):
        assert status.cancelled
        assert status.stopped
        assert status.due is None
        assert status.elapsed == 5 * MIN
        assert not status.breached


# -- priority changes, calendars, time before the start -------------------------------------


def _reprioritised(engine: ic.Engine) -> str:
    """P3 opened Monday 09:00; response stopped at 09:25; pending 09:30-10:30; raised to
    P1 at 11:00."""
    rid = open_(engine, 3).id
    act(engine, rid, "assign", T0 + 10 * MIN)
    act(engine, rid, "start", T0 + 25 * MIN)
    act(engine, rid, "pend", T0 + 30 * MIN)
    act(engine, rid, "resume", T0 + 90 * MIN)
    act(engine, rid, "update", T0 + 2 * H, impact=1, urgency=1)
    return rid


def test_priority_change_recomputes_target_from_original_start_with_pauses_excluded() -> None:
    engine = ic.Engine.in_memory()
    rid = _reprioritised(engine)
    before = clock(engine, rid, "response", T0 + 110 * MIN)
    assert (before.priority, before.target, before.breached) == (3, 4 * H, False)
    now = T0 + 150 * MIN  # 11:30
    response = clock(engine, rid, "response", now)
    assert (response.priority, response.target, response.calendar) == (1, 20 * MIN, "24x7")
    assert response.elapsed == 25 * MIN
    assert response.breached
    resolution = clock(engine, rid, "resolution", now)
    assert resolution.target == 4 * H
    assert resolution.elapsed == 90 * MIN  # 09:00-09:30 and 10:30-11:30
    assert resolution.due == T0 + 5 * H  # 14:00


def test_non_retroactive_policy_keeps_the_target_the_cycle_started_with() -> None:
    fixed = attrs.evolve(INCIDENT_DEFAULT, name="incident-fixed", retroactive=False)
    engine = ic.Engine.in_memory(policies=[fixed])
    rid = _reprioritised(engine)
    response = clock(engine, rid, "response", T0 + 150 * MIN)
    assert (response.priority, response.target, response.calendar) == (3, 4 * H, "business")
    assert not response.breached


def test_now_earlier_than_the_clock_start_gives_zero_elapsed() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 2).id
    for status in engine.sla(rid, T0 - 3 * H):
        assert status.elapsed == timedelta(0)
        assert status.remaining == status.target
        assert status.due == T0 + status.target  # 24x7
        assert not status.breached
        assert status.warnings == ()


def test_business_calendar_counts_only_weekday_office_hours() -> None:
    engine = ic.Engine.in_memory()
    friday = T0 + timedelta(days=4, hours=7)  # Friday 16:00
    rid = open_(engine, 3, at=friday).id  # response 4 h on business hours
    saturday = clock(engine, rid, "response", friday + 20 * H)
    assert saturday.elapsed == H
    assert saturday.calendar == "business"
    assert saturday.due == friday + timedelta(days=2, hours=20)  # Monday 12:00


def test_host_replaces_a_calendar_by_name() -> None:
    evenings = ic.sla.BusinessCalendar.from_dict(
        {"timezone": "UTC", "week": {d: ["18:00-22:00"] for d in ("mon", "tue", "wed")}}
    )
    engine = ic.Engine.in_memory(calendars={"business": evenings})
    rid = open_(engine, 3).id
    status = clock(engine, rid, "response", T0 + 10 * H)  # Monday 19:00
    assert status.elapsed == H
    assert status.due == T0 + 13 * H  # 22:00: the 4 h are the whole evening


# -- cycles ----------------------------------------------------------------------------------


def _ola(**clock_data: Any) -> SlaPolicy:
    return SlaPolicy.from_dict(
        {
            "name": "desk-ola",
            "version": 1,
            "kind": "ola",
            "process": "incident",
            "clocks": [
                {"name": "work", "targets": {str(p): "PT1H" for p in range(1, 6)}} | clock_data
            ],
        }
    )


def test_each_start_after_a_stop_is_a_new_cycle() -> None:
    ola = _ola(start={"states": ["in_progress"]}, stop={"states": ["pending", "resolved"]})
    engine = ic.Engine.in_memory(policies=[INCIDENT_DEFAULT, ola])
    rid = open_(engine, 3).id
    assert [s.clock for s in engine.sla(rid, T0 + H)] == ["response", "resolution"]
    act(engine, rid, "assign", T0)
    act(engine, rid, "start", T0)
    act(engine, rid, "pend", T0 + 30 * MIN)
    first = clock(engine, rid, "work", T0 + H)
    assert (first.cycle, first.stopped, first.elapsed, first.kind) == (1, True, 30 * MIN, "ola")
    act(engine, rid, "resume", T0 + 2 * H)
    second = clock(engine, rid, "work", T0 + 150 * MIN)
    assert (second.cycle, second.stopped, second.elapsed) == (2, False, 30 * MIN)
    assert second.started == T0 + 2 * H


def test_reset_ends_the_cycle_and_begins_the_next_at_once() -> None:
    ola = _ola(stop={"states": ["in_progress"]}, reset={"events": ["assign"]})
    engine = ic.Engine.in_memory(policies=[ola])
    rid = open_(engine, 3).id
    act(engine, rid, "assign", T0 + 10 * MIN)
    act(engine, rid, "assign", T0 + 40 * MIN, assignee="dave")
    status = clock(engine, rid, "work", T0 + 50 * MIN)
    assert (status.cycle, status.elapsed, status.started) == (3, 10 * MIN, T0 + 40 * MIN)


# -- properties ------------------------------------------------------------------------------

_ROUND_THE_CLOCK = SlaPolicy.from_dict(
    {
        **INCIDENT_DEFAULT_DATA,
        "name": "incident-24x7",
        "clocks": [
            {k: v for k, v in c.items() if k != "calendars"} | {"calendar": "24x7"}
            for c in INCIDENT_DEFAULT_DATA["clocks"]
        ],
    }
)
_SPEC = ic.catalog.get("incident")


def _nows(events: Sequence[ic.Event]) -> st.SearchStrategy[datetime]:
    span = int((events[-1].at - T0).total_seconds()) + 3 * 86_400
    return st.integers(-86_400, span).map(lambda s: T0 + timedelta(seconds=s))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_elapsed_is_never_negative_and_never_exceeds_wall_time_on_24x7(data: st.DataObject) -> None:
    events = data.draw(histories())
    now = data.draw(_nows(events))
    rules = SlaRules([_ROUND_THE_CLOCK])
    for status in rules.statuses(events, _SPEC, now):
        assert timedelta(0) <= status.elapsed <= max(now - T0, timedelta(0))
        assert status.started is not None
        assert status.elapsed <= max(now - status.started, timedelta(0))
        assert status.remaining == max(status.target - status.elapsed, timedelta(0))
        assert status.breached == (status.elapsed >= status.target)
        if status.due is not None and not status.breached:
            assert status.due == now + status.remaining or now < status.started


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_status_is_a_pure_function_of_events_and_now(data: st.DataObject) -> None:
    events = data.draw(histories())
    now = data.draw(_nows(events))
    first = SlaRules().statuses(events, _SPEC, now)
    again = SlaRules().statuses(list(events), _SPEC, now)
    replayed = ic.replay(_SPEC, events)
    assert first == again
    # The engine, fed the same events, says the same.
    engine = ic.Engine.in_memory()
    record: ic.Record | None = None
    for ev in events:
        record = ic.replay(_SPEC, events[: ev.version])
        engine.storage.append([ic.Step(record=record, event=ev)])
    assert record == replayed
    assert engine.sla(replayed.id, now) == first


def test_policy_round_trip_does_not_change_any_status() -> None:
    engine = ic.Engine.in_memory(policies=[SlaPolicy.from_dict(INCIDENT_DEFAULT.to_dict())])
    reference = ic.Engine.in_memory()
    for e in (engine, reference):
        _reprioritised(e)
    rid = "INC-000001"
    assert engine.sla(rid, T0 + 3 * H) == reference.sla(rid, T0 + 3 * H)


@pytest.mark.parametrize("naive", [datetime(2026, 11, 23, 9, 0)])
def test_a_naive_now_is_a_validation_error(naive: datetime) -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 2).id
    with pytest.raises(ic.ValidationError):
        engine.sla(rid, naive)
    with pytest.raises(ic.ValidationError):
        engine.tick(naive)
