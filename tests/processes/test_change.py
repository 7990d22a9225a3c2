"""The change process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.change import configured
from itsmcore.processes.change_rules import approval_log, change_freezes, check_options

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
REQUESTER = ic.Actor("alice", roles=frozenset({"agent"}))
BOB = ic.Actor("bob", roles=frozenset({"cab_member"}))
CAROL = ic.Actor("carol", roles=frozenset({"cab_member"}))
DAVE = ic.Actor("dave", roles=frozenset({"cab_member"}))
EVE = ic.Actor("eve", roles=frozenset({"agent"}))
SPEC = ic.catalog.get("change")

OPEN: dict[str, Any] = {
    "title": "Upgrade mail relay",
    "description": "Postfix 3.7 to 3.9 on MX1",
    "change_type": "normal",
    "reason": "CVE-2026-0001",
    "impact_scope": "outbound mail",
    "owner": "alice",
}
ASSESSMENT: dict[str, Any] = {
    "risk": "medium",
    "impact_assessment": "mail delayed up to 10 minutes",
    "backout_plan": "reinstall 3.7 package",
    "test_plan": "send test mail through staging relay",
}
START = datetime(2026, 12, 3, 22, 0, tzinfo=UTC)
WINDOW: dict[str, Any] = {"planned_start": START, "planned_end": START + timedelta(hours=2)}
FREEZE: dict[str, Any] = {
    "name": "year-end",
    "start": "2026-12-15T00:00:00Z",
    "end": "2027-01-05T00:00:00Z",
}
TEMPLATES = ("restart_web_server", "rotate_tls_certificate")


def _open(spec: ic.ProcessSpec = SPEC, **extra: Any) -> ic.Record:
    fields = {k: v for k, v in {**OPEN, **extra}.items() if v is not None}
    return spec.open(record_id="CHG-1", at=T0, actor=REQUESTER, fields=fields).record


def _fire(
    rec: ic.Record,
    event: str,
    actor: ic.Actor = REQUESTER,
    spec: ic.ProcessSpec = SPEC,
    **fields: Any,
) -> ic.Record:
    at = rec.updated_at + timedelta(minutes=1)
    return spec.fire(rec, event, at=at, actor=actor, fields=fields).record


def _authorizing(spec: ic.ProcessSpec = SPEC, **extra: Any) -> ic.Record:
    rec = _fire(_open(spec, **extra), "submit", spec=spec)
    return _fire(rec, "assess", spec=spec, **ASSESSMENT)


def _scheduled(spec: ic.ProcessSpec = SPEC, **extra: Any) -> ic.Record:
    rec = _fire(_authorizing(spec, **extra), "approve", BOB, spec)
    return _fire(rec, "approve", CAROL, spec)


def _reviewing(outcome: str = "successful", **extra: Any) -> ic.Record:
    rec = _fire(_scheduled(**extra), "schedule", **WINDOW)
    rec = _fire(rec, "implement", test_result="passed")
    return _fire(rec, "complete", outcome=outcome)


# -- the three paths --------------------------------------------------------------------------


def test_normal_change_walks_all_states_to_closed() -> None:
    rec = _open()
    seen = [rec.state]
    for event, actor, fields in (
        ("submit", REQUESTER, {}),
        ("assess", REQUESTER, ASSESSMENT),
        ("approve", BOB, {}),
        ("approve", CAROL, {}),
        ("schedule", REQUESTER, WINDOW),
        ("implement", REQUESTER, {"test_result": "passed"}),
        ("complete", REQUESTER, {"outcome": "successful"}),
        ("close", REQUESTER, {}),
    ):
        rec = _fire(rec, event, actor, **fields)
        seen.append(rec.state)
    assert seen == [
        "new",
        "assessing",
        "authorizing",
        "authorizing",
        "scheduled",
        "scheduled",
        "implementing",
        "reviewing",
        "closed",
    ]


def test_emergency_change_skips_assessing() -> None:
    rec = _open(change_type="emergency", risk="high", backout_plan="restore snapshot")
    rec = _fire(rec, "submit")
    assert rec.state == "authorizing"


def test_emergency_submit_requires_risk_and_backout_plan() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(change_type="emergency"), "submit")
    assert {p for p, _ in err.value.errors} == {"$.fields.risk", "$.fields.backout_plan"}


def test_emergency_change_needs_one_approval_by_default() -> None:
    rec = _fire(_open(change_type="emergency", risk="high", backout_plan="x"), "submit")
    rec = _fire(rec, "approve", BOB)
    assert rec.state == "scheduled"
    assert rec.get("approvals") == ("bob",)


def test_standard_change_goes_from_new_straight_to_scheduled() -> None:
    spec = SPEC.with_options(standard_templates=TEMPLATES)
    rec = _open(spec, change_type="standard", template="restart_web_server")
    rec = _fire(rec, "submit", spec=spec)
    assert rec.state == "scheduled"
    assert rec.get("approvals") is None


def test_standard_templates_may_be_a_table_keyed_by_name() -> None:
    spec = SPEC.with_options(standard_templates={"restart_web_server": {"risk": "low"}})
    rec = _open(spec, change_type="standard", template="restart_web_server")
    assert _fire(rec, "submit", spec=spec).state == "scheduled"


def test_unknown_standard_template_is_refused_with_a_suggestion() -> None:
    spec = SPEC.with_options(standard_templates=TEMPLATES)
    with pytest.raises(ic.GuardFailed) as err:
        _open(spec, change_type="standard", template="restart_webserver")
    assert err.value.guard == "change.standard_template"
    assert "did you mean 'restart_web_server'" in err.value.reason


def test_standard_change_without_a_template_is_refused() -> None:
    spec = SPEC.with_options(standard_templates=TEMPLATES)
    with pytest.raises(ic.GuardFailed) as err:
        _open(spec, change_type="standard")
    assert "restart_web_server" in err.value.reason


def test_standard_change_is_refused_while_no_templates_are_declared() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(change_type="standard", template="restart_web_server")
    assert "standard_templates" in err.value.reason


def test_unknown_change_type_is_a_validation_error() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(change_type="urgent")
    path, message = err.value.errors[0]
    assert path == "$.fields.change_type"
    assert "standard, normal, emergency" in message


def test_open_requires_title_description_and_change_type() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="CHG-1", at=T0, actor=REQUESTER, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title",
        "$.fields.description",
        "$.fields.change_type",
    }


# -- the change log (R3.3-05) and assessment (R3.3-02) ---------------------------------------


def test_submit_requires_reason_impact_scope_and_owner() -> None:
    rec = _open(reason=None, impact_scope=None, owner=None)
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "submit")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.reason",
        "$.fields.impact_scope",
        "$.fields.owner",
    }


def test_a_blank_change_log_field_is_refused() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(impact_scope="  "), "submit")
    assert err.value.guard == "change.change_log_complete"
    assert "impact_scope" in err.value.reason


def test_assess_requires_risk_impact_backout_and_test_plan() -> None:
    rec = _fire(_open(), "submit")
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "assess")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.risk",
        "$.fields.impact_assessment",
        "$.fields.backout_plan",
        "$.fields.test_plan",
    }


def test_risk_is_low_medium_or_high() -> None:
    rec = _fire(_open(), "submit")
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "assess", **{**ASSESSMENT, "risk": "severe"})
    assert err.value.errors[0][0] == "$.fields.risk"


def test_a_blank_backout_plan_is_refused() -> None:
    rec = _fire(_open(), "submit")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "assess", **{**ASSESSMENT, "backout_plan": ""})
    assert err.value.guard == "change.assessment_complete"


# -- approval ---------------------------------------------------------------------------------


def test_approval_needs_the_cab_member_role() -> None:
    with pytest.raises(ic.Forbidden) as err:
        _fire(_authorizing(), "approve", EVE)
    assert "cab_member" in str(err.value)


def test_rejection_needs_the_cab_member_role() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_authorizing(), "reject", EVE, rejection_reason="no")


def test_requester_cannot_approve_own_change() -> None:
    requester = ic.Actor("alice", roles=frozenset({"cab_member"}))
    rec = _authorizing()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", requester)
    assert err.value.guard == "change.not_requester"
    assert "segregation of duties" in err.value.reason


def test_requester_cannot_be_the_single_emergency_approver() -> None:
    requester = ic.Actor("alice", roles=frozenset({"cab_member"}))
    rec = _fire(_open(change_type="emergency", risk="high", backout_plan="x"), "submit")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", requester)
    assert "segregation of duties" in err.value.reason


def test_second_approval_by_the_same_approver_is_refused() -> None:
    rec = _fire(_authorizing(), "approve", BOB)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", BOB)
    assert err.value.guard == "change.first_approval"
    assert "already approved" in err.value.reason


def test_one_approval_short_of_quorum_keeps_the_change_authorizing() -> None:
    rec = _fire(_authorizing(), "approve", BOB)
    assert rec.state == "authorizing"
    assert rec.get("approvals") == ("bob",)


def test_quorum_of_distinct_approvers_schedules_a_normal_change() -> None:
    rec = _scheduled()
    assert rec.state == "scheduled"
    assert rec.get("approvals") == ("bob", "carol")


def test_normal_quorum_is_configurable() -> None:
    spec = SPEC.with_options(normal_quorum=3)
    rec = _fire(_authorizing(spec), "approve", BOB, spec)
    rec = _fire(rec, "approve", CAROL, spec)
    assert rec.state == "authorizing"
    assert _fire(rec, "approve", DAVE, spec).state == "scheduled"


def test_emergency_quorum_is_configurable() -> None:
    spec = SPEC.with_options(emergency_quorum=2)
    rec = _open(spec, change_type="emergency", risk="high", backout_plan="x")
    rec = _fire(_fire(rec, "submit", spec=spec), "approve", BOB, spec)
    assert rec.state == "authorizing"
    assert _fire(rec, "approve", CAROL, spec).state == "scheduled"


@pytest.mark.parametrize("bad", [0, -1, "2", True, 1.5])
def test_a_bad_quorum_option_is_a_spec_error(bad: object) -> None:
    spec = SPEC.with_options(normal_quorum=bad)
    with pytest.raises(ic.SpecError) as err:
        _fire(_authorizing(spec), "approve", BOB, spec)
    assert "normal_quorum" in str(err.value)


def test_reject_requires_a_reason_and_is_terminal() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_authorizing(), "reject", BOB)
    rec = _fire(_authorizing(), "reject", BOB, rejection_reason="no backout tested")
    assert rec.state == "rejected"
    assert SPEC.allowed(rec) == ()


def test_approval_log_names_who_approved_and_when() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("change", at=T0, actor=REQUESTER, fields=OPEN)
    engine.fire(rec.id, "submit", at=T0, actor=REQUESTER)
    engine.fire(rec.id, "assess", at=T0, actor=REQUESTER, fields=ASSESSMENT)
    engine.fire(rec.id, "approve", at=T0 + timedelta(hours=1), actor=BOB)
    engine.fire(rec.id, "approve", at=T0 + timedelta(hours=2), actor=CAROL)
    assert approval_log(engine.history(rec.id)) == (
        ("bob", T0 + timedelta(hours=1)),
        ("carol", T0 + timedelta(hours=2)),
    )


# -- scheduling and freezes -------------------------------------------------------------------


def test_schedule_replans_while_scheduled() -> None:
    rec = _fire(_scheduled(), "schedule", **WINDOW)
    later: dict[str, Any] = {
        "planned_start": START + timedelta(days=1),
        "planned_end": START + timedelta(days=1, hours=1),
    }
    rec = _fire(rec, "schedule", **later)
    assert rec.state == "scheduled"
    assert rec.get("planned_start") == later["planned_start"]


def test_schedule_requires_both_ends_of_the_window() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_scheduled(), "schedule", planned_start=START)
    assert err.value.errors == (("$.fields.planned_end", "is required to schedule"),)


def test_planned_end_must_be_after_planned_start() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_scheduled(), "schedule", planned_start=START, planned_end=START)
    assert err.value.guard == "change.window_valid"
    assert "after planned_start" in err.value.reason


def test_a_window_may_be_given_on_open() -> None:
    assert _open(**WINDOW).get("planned_end") == WINDOW["planned_end"]


def test_a_window_ending_before_it_starts_is_refused_on_open() -> None:
    with pytest.raises(ic.GuardFailed):
        _open(planned_start=START, planned_end=START - timedelta(hours=1))


def test_schedule_inside_a_change_freeze_is_refused_naming_the_freeze() -> None:
    spec = SPEC.with_options(change_freezes=[FREEZE])
    rec = _scheduled(spec)
    inside = datetime(2026, 12, 31, 22, 0, tzinfo=UTC)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(
            rec,
            "schedule",
            spec=spec,
            planned_start=inside,
            planned_end=inside + timedelta(hours=1),
        )
    assert err.value.guard == "change.window_valid"
    assert "'year-end'" in err.value.reason
    assert "outside the freeze" in err.value.reason


def test_a_window_overlapping_the_start_of_a_freeze_is_refused() -> None:
    spec = SPEC.with_options(change_freezes=[FREEZE])
    start = datetime(2026, 12, 14, 23, 0, tzinfo=UTC)
    with pytest.raises(ic.GuardFailed):
        _fire(
            _scheduled(spec),
            "schedule",
            spec=spec,
            planned_start=start,
            planned_end=start + timedelta(hours=2),
        )


def test_a_window_ending_as_the_freeze_begins_is_allowed() -> None:
    spec = SPEC.with_options(change_freezes=[FREEZE])
    start = datetime(2026, 12, 14, 22, 0, tzinfo=UTC)
    rec = _fire(
        _scheduled(spec),
        "schedule",
        spec=spec,
        planned_start=start,
        planned_end=start + timedelta(hours=2),
    )
    assert rec.get("planned_end") == datetime(2026, 12, 15, tzinfo=UTC)


def test_freezes_may_be_given_as_aware_datetimes() -> None:
    freeze: dict[str, Any] = {
        "name": "black friday",
        "start": START - timedelta(hours=1),
        "end": START + timedelta(hours=1),
    }
    spec = SPEC.with_options(change_freezes=[freeze])
    with pytest.raises(ic.GuardFailed) as err:
        _open(spec, **WINDOW)
    assert "'black friday'" in err.value.reason


def test_a_freeze_declared_after_scheduling_blocks_implementation() -> None:
    rec = _fire(_scheduled(), "schedule", **WINDOW)
    frozen = SPEC.with_options(
        change_freezes=[
            {"name": "incident freeze", "start": START, "end": START + timedelta(days=1)}
        ]
    )
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "implement", spec=frozen, test_result="passed")
    assert "'incident freeze'" in err.value.reason


def test_freeze_exempt_types_let_emergency_changes_through() -> None:
    freeze: dict[str, Any] = {"name": "year-end", "start": START, "end": START + timedelta(days=1)}
    spec = SPEC.with_options(change_freezes=[freeze], freeze_exempt_types=["emergency"])
    rec = _open(spec, change_type="emergency", risk="high", backout_plan="x", **WINDOW)
    assert rec.get("planned_start") == START
    with pytest.raises(ic.GuardFailed):
        _open(spec, **WINDOW)


@pytest.mark.parametrize(
    "freeze",
    [
        {"start": "2026-12-15T00:00:00Z", "end": "2027-01-05T00:00:00Z"},
        {"name": "x", "start": "2026-12-15T00:00:00", "end": "2027-01-05T00:00:00Z"},
        {"name": "x", "start": datetime(2026, 12, 15), "end": "2027-01-05T00:00:00Z"},
        {"name": "x", "start": "2027-01-05T00:00:00Z", "end": "2026-12-15T00:00:00Z"},
        {"name": "x", "start": "soon", "end": "2027-01-05T00:00:00Z"},
    ],
)
def test_a_malformed_freeze_is_a_spec_error(freeze: dict[str, Any]) -> None:
    with pytest.raises(ic.SpecError) as err:
        check_options({"change_freezes": [freeze]})
    assert "change_freezes[0]" in str(err.value)


def test_configured_checks_the_options_at_once() -> None:
    with pytest.raises(ic.SpecError) as err:
        configured(change_freezes=[{"name": "x", "start": "2026-12-15", "end": "soon"}])
    assert "change_freezes[0].start" in str(err.value)
    with pytest.raises(ic.SpecError):
        configured(standard_templates="restart_web_server")


def test_freezes_parse_iso_texts_to_aware_instants() -> None:
    (freeze,) = change_freezes({"change_freezes": [FREEZE]})
    assert freeze.start == datetime(2026, 12, 15, tzinfo=UTC)
    assert freeze.overlaps(freeze.end - timedelta(microseconds=1), freeze.end)
    assert not freeze.overlaps(freeze.end, freeze.end + timedelta(hours=1))


# -- implementation, review, close ------------------------------------------------------------


def test_implement_requires_a_window_and_a_test_result() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_scheduled(), "implement")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.planned_start",
        "$.fields.planned_end",
        "$.fields.test_result",
    }


def test_untested_change_cannot_be_implemented() -> None:
    rec = _fire(_scheduled(), "schedule", **WINDOW)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "implement", test_result="failed")
    assert err.value.guard == "change.tested"
    assert "untested" in err.value.reason


def test_implement_stamps_actual_start_and_complete_actual_end() -> None:
    rec = _fire(_scheduled(), "schedule", **WINDOW)
    rec = _fire(rec, "implement", test_result="passed")
    assert rec.get("actual_start") == rec.updated_at
    rec = _fire(rec, "complete", outcome="successful")
    assert rec.get("actual_end") == rec.updated_at


def test_complete_requires_the_outcome_with_it() -> None:
    rec = _fire(_scheduled(), "schedule", **WINDOW)
    rec = _fire(rec, "implement", test_result="passed")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "complete")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "complete", outcome="partial")


def test_a_successful_normal_change_closes_without_review_notes() -> None:
    assert _fire(_reviewing(), "close").state == "closed"


@pytest.mark.parametrize("outcome", ["successful_with_issues", "failed", "backed_out"])
def test_unsuccessful_change_needs_review_notes_to_close(outcome: str) -> None:
    rec = _reviewing(outcome)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "close")
    assert err.value.guard == "change.review_notes"
    assert _fire(rec, "close", review_notes="backout worked; root cause PRB-9").state == "closed"


def test_emergency_change_needs_review_notes_to_close() -> None:
    rec = _fire(_open(change_type="emergency", risk="high", backout_plan="x"), "submit")
    rec = _fire(_fire(rec, "approve", BOB), "schedule", **WINDOW)
    rec = _fire(_fire(rec, "implement", test_result="passed"), "complete", outcome="successful")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "close")
    assert "emergency" in err.value.reason


# -- cancel and update ------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["new", "assessing", "authorizing", "scheduled"])
def test_cancel_is_allowed_before_implementing(state: str) -> None:
    rec = {
        "new": _open,
        "authorizing": _authorizing,
        "scheduled": _scheduled,
        "assessing": lambda: _fire(_open(), "submit"),
    }[state]()
    assert rec.state == state
    rec = _fire(rec, "cancel", cancellation_reason="superseded by CHG-9")
    assert rec.state == "cancelled"


def test_cancel_is_not_allowed_once_implementing() -> None:
    rec = _fire(_fire(_scheduled(), "schedule", **WINDOW), "implement", test_result="passed")
    with pytest.raises(ic.InvalidTransition) as err:
        _fire(rec, "cancel", cancellation_reason="too late")
    assert err.value.allowed == ("complete",)


def test_cancel_requires_a_reason() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "cancel", cancellation_reason=" ")


def test_change_type_is_fixed_once_submitted() -> None:
    rec = _fire(_open(), "submit")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", change_type="emergency")
    assert err.value.guard == "change.fields_in_place"


def test_an_approval_cannot_switch_the_type_to_lower_its_quorum() -> None:
    rec = _fire(_authorizing(), "approve", BOB)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", CAROL, change_type="emergency")
    assert err.value.guard == "change.fields_in_place"
    assert "change_type" in err.value.reason


def test_an_approval_cannot_edit_the_assessment_it_approves() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_authorizing(), "approve", BOB, risk="low")
    assert "risk" in err.value.reason


def test_the_outcome_cannot_be_given_before_implementation() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_fire(_open(), "submit"), "assess", outcome="successful", **ASSESSMENT)


def test_review_notes_cannot_be_written_on_open() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(review_notes="went fine")
    assert "review_notes" in err.value.reason


def test_a_test_result_may_be_recorded_while_scheduled() -> None:
    rec = _fire(_scheduled(), "update", test_result="passed")
    assert rec.get("test_result") == "passed"


def test_a_test_result_cannot_be_rewritten_after_implementation() -> None:
    rec = _fire(_fire(_scheduled(), "schedule", **WINDOW), "implement", test_result="passed")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "complete", outcome="successful", test_result="failed")


def test_change_type_may_change_while_new() -> None:
    assert _fire(_open(), "update", change_type="emergency").get("change_type") == "emergency"


def test_the_approved_assessment_is_fixed_once_scheduled() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_scheduled(), "update", risk="low")
    assert "risk" in err.value.reason


def test_the_window_is_replanned_with_schedule_not_update() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_scheduled(), "update", **WINDOW)
    assert "schedule" in err.value.reason


def test_update_cannot_set_the_outcome() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "update", outcome="successful")


def test_approvals_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_authorizing(), "approve", BOB, approvals=("bob", "carol"))
    assert err.value.errors[0][0] == "$.fields.approvals"


# -- through the engine -----------------------------------------------------------------------


def _engine(**options: Any) -> ic.Engine:
    return ic.Engine.in_memory(processes=[configured(**options)])


def test_engine_walks_a_normal_change_and_replays_it() -> None:
    engine = _engine()
    rec = engine.open("change", at=T0, actor=REQUESTER, fields={**OPEN, **WINDOW})
    assert rec.id.startswith("CHG-")
    at = T0
    for event, actor, fields in (
        ("submit", REQUESTER, {}),
        ("assess", REQUESTER, ASSESSMENT),
        ("approve", BOB, {}),
        ("approve", CAROL, {}),
        ("implement", REQUESTER, {"test_result": "passed"}),
        ("complete", REQUESTER, {"outcome": "successful"}),
        ("close", REQUESTER, {}),
    ):
        at += timedelta(hours=1)
        rec = engine.fire(
            rec.id, event, at=at, actor=actor, fields=fields, expected_version=rec.version
        )
    assert rec.state == "closed"
    assert ic.replay(SPEC, engine.history(rec.id)) == engine.get(rec.id)


def test_engine_stores_nothing_for_an_unknown_change_type() -> None:
    engine = _engine()
    with pytest.raises(ic.ValidationError):
        engine.open("change", at=T0, actor=REQUESTER, fields={**OPEN, "change_type": "minor"})
    with pytest.raises(ic.GuardFailed):
        engine.open(
            "change",
            at=T0,
            actor=REQUESTER,
            fields={**OPEN, "change_type": "standard", "template": "reboot"},
        )
    assert engine.find(process="change") == []


def _engine_authorizing(engine: ic.Engine) -> ic.Record:
    rec = engine.open("change", at=T0, actor=REQUESTER, fields=OPEN)
    engine.fire(rec.id, "submit", at=T0, actor=REQUESTER)
    return engine.fire(rec.id, "assess", at=T0, actor=REQUESTER, fields=ASSESSMENT)


@pytest.mark.parametrize(
    ("actor", "error"),
    [
        (EVE, ic.Forbidden),
        (ic.Actor("alice", roles=frozenset({"cab_member"})), ic.GuardFailed),
        (BOB, ic.GuardFailed),
    ],
    ids=["without_role", "self_approval", "double_approval"],
)
def test_engine_refused_approvals_store_nothing(actor: ic.Actor, error: type[Exception]) -> None:
    engine = _engine()
    rec = engine.fire(_engine_authorizing(engine).id, "approve", at=T0, actor=BOB)
    with pytest.raises(error):
        engine.fire(rec.id, "approve", at=T0 + timedelta(hours=1), actor=actor)
    stored = engine.get(rec.id)
    assert stored.version == rec.version
    assert stored.get("approvals") == ("bob",)


def test_engine_stores_nothing_for_a_schedule_inside_a_freeze() -> None:
    engine = _engine(change_freezes=[FREEZE])
    rec = _engine_authorizing(engine)
    engine.fire(rec.id, "approve", at=T0, actor=BOB)
    rec = engine.fire(rec.id, "approve", at=T0, actor=CAROL)
    inside = datetime(2026, 12, 20, 22, 0, tzinfo=UTC)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(
            rec.id,
            "schedule",
            at=T0,
            actor=REQUESTER,
            fields={"planned_start": inside, "planned_end": inside + timedelta(hours=1)},
        )
    assert "year-end" in err.value.reason
    assert engine.get(rec.id).version == rec.version
    assert engine.get(rec.id).get("planned_start") is None


def test_engine_stores_nothing_for_an_untested_implementation() -> None:
    engine = _engine()
    rec = _engine_authorizing(engine)
    engine.fire(rec.id, "approve", at=T0, actor=BOB)
    engine.fire(rec.id, "approve", at=T0, actor=CAROL)
    rec = engine.fire(rec.id, "schedule", at=T0, actor=REQUESTER, fields=WINDOW)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "implement", at=T0, actor=REQUESTER, fields={"test_result": "failed"})
    with pytest.raises(ic.ValidationError):
        engine.fire(rec.id, "implement", at=T0, actor=REQUESTER)
    assert engine.get(rec.id).version == rec.version
    assert engine.get(rec.id).state == "scheduled"


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "change.md"
    assert ic.catalog.get("change").to_mermaid() in page.read_text(encoding="utf-8")
