"""The incident process, rule by rule, through the pure spec."""

from __future__ import annotations

from datetime import timedelta

import pytest
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic


def _open(spec: ic.ProcessSpec, **extra: object) -> ic.Record:
    return spec.open(record_id="INC-1", at=T0, actor=ALICE, fields={**OPEN_FIELDS, **extra}).record


def _walk(
    spec: ic.ProcessSpec, rec: ic.Record, *events: tuple[str, dict[str, object]]
) -> ic.Record:
    at = rec.updated_at
    for name, fields in events:
        at += timedelta(minutes=1)
        rec = spec.fire(rec, name, at=at, actor=ALICE, fields=fields).record
    return rec


def test_open_requires_title_impact_urgency_and_caller(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError) as err:
        incident.open(record_id="INC-1", at=T0, actor=ALICE, fields={})
    paths = {p for p, _ in err.value.errors}
    assert paths == {"$.fields.title", "$.fields.impact", "$.fields.urgency", "$.fields.caller"}


@pytest.mark.parametrize(
    ("impact", "urgency", "priority"),
    [
        (1, 1, 1),
        (1, 2, 2),
        (1, 3, 3),
        (2, 1, 2),
        (2, 2, 3),
        (2, 3, 4),
        (3, 1, 3),
        (3, 2, 4),
        (3, 3, 5),
    ],
)
def test_priority_is_derived_from_impact_and_urgency(
    incident: ic.ProcessSpec, impact: int, urgency: int, priority: int
) -> None:
    rec = _open(incident, impact=impact, urgency=urgency)
    assert rec.fields["priority"] == priority


def test_priority_is_recomputed_when_impact_changes(incident: ic.ProcessSpec) -> None:
    rec = _walk(incident, _open(incident), ("update", {"impact": 3}))
    assert rec.fields["priority"] == 4


def test_priority_cannot_be_set_by_the_caller(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(ic.ValidationError) as err:
        incident.fire(rec, "update", at=T0, actor=ALICE, fields={"priority": 1})
    assert err.value.errors[0][0] == "$.fields.priority"


def test_impact_outside_one_to_three_is_rejected(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError, match="at most 3"):
        _open(incident, impact=4)


def test_assign_requires_an_assignee(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError, match="required to assign"):
        incident.fire(_open(incident), "assign", at=T0, actor=ALICE)


def test_reassignment_to_someone_else_is_counted(incident: ic.ProcessSpec) -> None:
    rec = _walk(
        incident,
        _open(incident),
        ("assign", {"assignee": "bob"}),
        ("start", {}),
        ("assign", {"assignee": "eve"}),
        ("assign", {"assignee": "eve"}),
    )
    assert rec.state == "assigned"
    assert rec.fields["reassignments"] == 1


def test_update_cannot_change_the_assignee(incident: ic.ProcessSpec) -> None:
    rec = _walk(incident, _open(incident), ("assign", {"assignee": "bob"}))
    with pytest.raises(ic.GuardFailed) as err:
        incident.fire(
            rec, "update", at=T0 + timedelta(hours=1), actor=ALICE, fields={"assignee": "x"}
        )
    assert err.value.guard == "incident.assignee_via_assign"


def test_pend_requires_a_known_pending_reason(incident: ic.ProcessSpec) -> None:
    rec = _walk(incident, _open(incident), ("assign", {"assignee": "bob"}), ("start", {}))
    with pytest.raises(ic.ValidationError, match="required to pend"):
        incident.fire(rec, "pend", at=T0 + timedelta(hours=1), actor=ALICE)
    with pytest.raises(ic.ValidationError, match="awaiting_caller"):
        incident.fire(
            rec, "pend", at=T0 + timedelta(hours=1), actor=ALICE, fields={"pending_reason": "lunch"}
        )
    pended = incident.fire(
        rec,
        "pend",
        at=T0 + timedelta(hours=1),
        actor=ALICE,
        fields={"pending_reason": "awaiting_vendor"},
    ).record
    assert pended.state == "pending"
    assert incident.category(pended.state) == "paused"


def test_resolve_requires_code_and_notes(incident: ic.ProcessSpec) -> None:
    rec = _walk(incident, _open(incident), ("assign", {"assignee": "bob"}), ("start", {}))
    with pytest.raises(ic.ValidationError) as err:
        incident.fire(rec, "resolve", at=T0 + timedelta(hours=1), actor=ALICE)
    assert {p for p, _ in err.value.errors} == {
        "$.fields.resolution_code",
        "$.fields.resolution_notes",
    }


def test_resolve_from_pending_is_allowed(incident: ic.ProcessSpec) -> None:
    rec = _walk(
        incident,
        _open(incident),
        ("assign", {"assignee": "bob"}),
        ("start", {}),
        ("pend", {"pending_reason": "awaiting_caller"}),
        ("resolve", {"resolution_code": "fixed", "resolution_notes": "restarted"}),
    )
    assert rec.state == "resolved"


def test_reopen_counts_and_returns_to_in_progress(incident: ic.ProcessSpec) -> None:
    rec = _walk(
        incident,
        _open(incident),
        ("assign", {"assignee": "bob"}),
        ("start", {}),
        ("resolve", {"resolution_code": "fixed", "resolution_notes": "restarted"}),
        ("reopen", {}),
        ("resolve", {}),
        ("reopen", {}),
    )
    assert rec.state == "in_progress"
    assert rec.fields["reopen_count"] == 2


def test_cancel_requires_a_non_blank_reason(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(ic.ValidationError):
        incident.fire(rec, "cancel", at=T0, actor=ALICE)
    with pytest.raises(ic.GuardFailed, match="reason"):
        incident.fire(rec, "cancel", at=T0, actor=ALICE, fields={"reason": "   "})
    assert incident.fire(
        rec, "cancel", at=T0, actor=ALICE, fields={"reason": "dup"}
    ).record.state == ("cancelled")


@pytest.mark.parametrize("terminal", ["closed", "cancelled"])
def test_terminal_states_allow_no_events(incident: ic.ProcessSpec, terminal: str) -> None:
    rec = _open(incident)
    if terminal == "cancelled":
        rec = _walk(incident, rec, ("cancel", {"reason": "dup"}))
    else:
        rec = _walk(
            incident,
            rec,
            ("assign", {"assignee": "bob"}),
            ("start", {}),
            ("resolve", {"resolution_code": "fixed", "resolution_notes": "ok"}),
            ("close", {}),
        )
    assert incident.allowed(rec) == ()
    with pytest.raises(ic.InvalidTransition, match="terminal"):
        incident.fire(rec, "update", at=rec.updated_at, actor=ALICE, fields={"title": "x"})


def test_update_changes_fields_only(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    step = incident.fire(rec, "update", at=T0, actor=ALICE, fields={"description": "all users"})
    assert step.record.state == "new"
    assert dict(step.event.changes) == {"description": "all users"}


def test_unchanged_values_are_not_recorded_as_changes(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    step = incident.fire(rec, "update", at=T0, actor=ALICE, fields={"title": "Mail down"})
    assert dict(step.event.changes) == {}


def test_clearing_a_field_with_none_removes_it(incident: ic.ProcessSpec) -> None:
    rec = _walk(incident, _open(incident), ("update", {"category": "email"}))
    step = incident.fire(rec, "update", at=rec.updated_at, actor=ALICE, fields={"category": None})
    assert "category" not in step.record.fields
    assert dict(step.event.changes) == {"category": None}


def test_channel_accepts_the_seed_intake_channels(incident: ic.ProcessSpec) -> None:
    for channel in ("phone", "email", "chat", "self_service", "monitoring"):
        assert _open(incident, channel=channel).fields["channel"] == channel


def test_auto_close_timer_is_declared_for_resolved(incident: ic.ProcessSpec) -> None:
    (timer,) = incident.timers
    assert (timer.state, timer.event, timer.after) == ("resolved", "close", timedelta(days=7))
