"""The continuity plan process (RTO/RPO, tests, invocation by major or security
incidents), rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.service_level_agreement import add_months
from itsmcore.service_rules import install

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OWNER = ic.Actor("otto")
BCM = ic.Actor("bianca", roles=frozenset({"continuity_manager"}))
SPEC = ic.catalog.get("continuity_plan")
OPEN = {"title": "Mail DR plan", "service": "SVC-000001", "owner": "otto"}
OBJECTIVES = {
    "scenario": "loss of the primary data centre",
    "recovery_steps": "fail over to the secondary tenant; restore journals",
    "rto": timedelta(hours=4),
    "rpo": timedelta(minutes=15),
}
PASSED = {
    "test_recovery_time": timedelta(hours=3),
    "test_data_loss": timedelta(minutes=10),
    "test_notes": "fail-over drill, Saturday",
}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="BCP-1", at=T0, actor=OWNER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = BCM, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _approved() -> ic.Record:
    return _fire(_open(), "approve", **OBJECTIVES)


def _active() -> ic.Record:
    return _fire(_fire(_approved(), "test", **PASSED), "activate")


def _invoke(rec: ic.Record) -> ic.Record:
    return _fire(rec, "invoke", invoked_by="SEC-000001", invocation_reason="ransomware")


def test_plan_walks_draft_approved_tested_active_under_review() -> None:
    rec = _active()
    assert rec.state == "active"
    rec = _fire(rec, "review")
    assert rec.state == "under_review"
    rec = _fire(rec, "complete_review", review_notes="contacts updated")
    assert rec.state == "active"
    assert _fire(rec, "retire", reason="service retired").state == "retired"


def test_open_requires_title_service_and_owner() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="BCP-1", at=T0, actor=OWNER, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title",
        "$.fields.service",
        "$.fields.owner",
    }


def test_approve_needs_scenario_steps_rto_and_rpo() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "approve")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.scenario",
        "$.fields.recovery_steps",
        "$.fields.rto",
        "$.fields.rpo",
    }


def test_rto_and_rpo_must_be_longer_than_zero() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "approve", **{**OBJECTIVES, "rpo": timedelta(0)})
    assert err.value.guard == "continuity_plan.objectives"
    assert "rpo" in err.value.reason


def test_approve_needs_a_continuity_manager_who_does_not_own_the_plan() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_open(), "approve", actor=OWNER, **OBJECTIVES)
    owner_manager = ic.Actor("otto", roles=frozenset({"continuity_manager"}))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "approve", actor=owner_manager, **OBJECTIVES)
    assert err.value.guard == "continuity_plan.not_owner"
    rec = _approved()
    assert (rec.get("approved_by"), rec.get("approved_at")) == ("bianca", rec.updated_at)


def test_the_owner_cannot_approve_by_handing_the_plan_over_in_the_same_event() -> None:
    owner_manager = ic.Actor("otto", roles=frozenset({"continuity_manager"}))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "approve", actor=owner_manager, owner="olga", **OBJECTIVES)
    assert err.value.guard == "continuity_plan.not_owner"


def test_a_test_within_rto_and_rpo_proves_the_plan() -> None:
    rec = _fire(_approved(), "test", **PASSED)
    assert rec.state == "tested"
    assert rec.get("last_test_met_rto") is True
    assert rec.get("last_test_met_rpo") is True
    assert (rec.get("test_count"), rec.get("tests_failed")) == (1, 0)
    assert rec.get("last_tested_at") == rec.updated_at


@pytest.mark.parametrize(
    ("field", "value", "flag"),
    [
        ("test_recovery_time", timedelta(hours=5), "last_test_met_rto"),
        ("test_data_loss", timedelta(minutes=16), "last_test_met_rpo"),
    ],
)
def test_a_test_that_misses_an_objective_keeps_the_plan_approved(
    field: str, value: timedelta, flag: str
) -> None:
    rec = _fire(_approved(), "test", **{**PASSED, field: value})
    assert rec.state == "approved"
    assert rec.get(flag) is False
    assert (rec.get("test_count"), rec.get("tests_failed")) == (1, 1)


def test_a_test_exactly_at_the_rto_meets_it() -> None:
    rec = _fire(_approved(), "test", **{**PASSED, "test_recovery_time": timedelta(hours=4)})
    assert rec.state == "tested"


def test_each_test_records_its_own_results() -> None:
    rec = _fire(_active(), "test", **PASSED)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "test", test_notes="again")
    assert err.value.guard == "continuity_plan.fresh_test"


def test_activate_needs_a_proven_plan() -> None:
    failed = _fire(_approved(), "test", **{**PASSED, "test_recovery_time": timedelta(hours=9)})
    with pytest.raises(ic.InvalidTransition):
        _fire(failed, "activate")
    with pytest.raises(ic.Forbidden):
        _fire(_fire(_approved(), "test", **PASSED), "activate", actor=OWNER)


def test_a_later_failed_test_on_a_tested_plan_blocks_activation() -> None:
    rec = _fire(_approved(), "test", **PASSED)
    rec = _fire(rec, "test", **{**PASSED, "test_data_loss": timedelta(hours=1)})
    assert rec.state == "tested"
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "activate")
    assert err.value.guard == "continuity_plan.proven"


def test_activation_schedules_an_annual_review() -> None:
    rec = _active()
    assert rec.get("review_due") == add_months(rec.updated_at, 12)
    spec = SPEC.with_options(review_cadence="semi_annual")
    step = spec.open(record_id="BCP-2", at=T0, actor=OWNER, fields=OPEN)
    rec = spec.fire(step.record, "approve", at=T0, actor=BCM, fields=OBJECTIVES).record
    rec = spec.fire(rec, "test", at=T0, actor=BCM, fields=PASSED).record
    assert spec.fire(rec, "activate", at=T0, actor=BCM).record.get("review_due") == add_months(
        T0, 6
    )


def test_invocation_needs_the_invoking_record_and_a_reason() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_active(), "invoke")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.invoked_by",
        "$.fields.invocation_reason",
    }
    rec = _invoke(_active())
    assert rec.state == "invoked"
    assert rec.get("invocation_count") == 1


def test_stand_down_measures_the_recovery_against_the_rto_and_rpo() -> None:
    rec = _invoke(_active())
    rec = _fire(
        rec,
        "stand_down",
        achieved_recovery_time=timedelta(hours=6),
        achieved_data_loss=timedelta(minutes=5),
        recovery_notes="restored from journal",
    )
    assert rec.state == "active"
    assert rec.get("last_recovery_met_rto") is False
    assert rec.get("last_recovery_met_rpo") is True
    again = _invoke(rec)
    assert again.get("achieved_recovery_time") is None  # the next stand-down states its own


def test_an_invoked_plan_cannot_be_retired_mid_recovery() -> None:
    with pytest.raises(ic.InvalidTransition):
        _fire(_invoke(_active()), "retire", reason="x")


def test_objectives_change_only_by_revision_which_needs_approval_and_a_test_again() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_active(), "update", rto=timedelta(hours=8))
    assert "revise" in err.value.reason
    rec = _fire(_fire(_active(), "review"), "revise", reason="new site")
    assert rec.state == "draft"
    assert rec.get("approved_by") is None
    assert rec.get("last_test_met_rto") is None
    assert rec.get("revision") == 2
    assert _fire(rec, "update", rto=timedelta(hours=8)).get("rto") == timedelta(hours=8)


def test_a_test_is_measured_against_the_approved_objectives() -> None:
    slow = {**PASSED, "test_recovery_time": timedelta(hours=6)}
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_approved(), "test", rto=timedelta(hours=8), **slow)
    assert err.value.guard == "continuity_plan.keeps_objectives"
    assert _fire(_approved(), "test", **slow).get("last_test_met_rto") is False


def test_no_event_but_update_in_draft_moves_the_objectives() -> None:
    active = _active()
    invoked = _invoke(_active())
    cases = [
        (active, "review", {}),
        (active, "invoke", {"invoked_by": "SIR-000001", "invocation_reason": "ransomware"}),
        (_fire(_approved(), "test", **PASSED), "activate", {}),
        (_fire(active, "review"), "complete_review", {"review_notes": "fine"}),
        (invoked, "stand_down", {"achieved_recovery_time": timedelta(hours=3),
                                 "achieved_data_loss": timedelta(minutes=5),
                                 "recovery_notes": "ok"}),
    ]  # fmt: skip
    for rec, event, extra in cases:
        with pytest.raises(ic.GuardFailed):
            _fire(rec, event, rpo=timedelta(hours=2), **extra)


def test_update_cannot_clear_title_service_or_owner() -> None:
    for name in ("title", "service", "owner"):
        with pytest.raises(ic.ValidationError):  # required fields: refused by the kernel
            _fire(_open(), "update", **{name: None})
        with pytest.raises(ic.GuardFailed):
            _fire(_open(), "update", **{name: " "})


# -- through the engine: who may invoke a plan --------------------------------------------------


def _engine_with_plan() -> tuple[ic.Engine, str]:
    engine = ic.Engine.in_memory()
    install(engine)
    svc = engine.open("service", at=T0, actor=OWNER, fields={"title": "Mail", "owner": "otto"})
    plan = engine.open("continuity_plan", at=T0, actor=OWNER, fields={**OPEN, "service": svc.id})
    for name, fields in (("approve", OBJECTIVES), ("test", PASSED), ("activate", {})):
        engine.fire(plan.id, name, at=T0, actor=BCM, fields=fields)
    return engine, plan.id


_INCIDENT = {"title": "DC down", "caller": "noc", "impact": 1, "urgency": 1}


def test_a_major_incident_invokes_a_plan() -> None:
    engine, plan = _engine_with_plan()
    inc = engine.open("incident", at=T0, actor=OWNER, fields={**_INCIDENT, "major": True})
    fields = {"invoked_by": inc.id, "invocation_reason": "DC down"}
    assert engine.fire(plan, "invoke", at=T0, actor=BCM, fields=fields).state == "invoked"


def test_an_ordinary_incident_cannot_invoke_a_plan() -> None:
    engine, plan = _engine_with_plan()
    inc = engine.open("incident", at=T0, actor=OWNER, fields=_INCIDENT)
    fields = {"invoked_by": inc.id, "invocation_reason": "DC down"}
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(plan, "invoke", at=T0, actor=BCM, fields=fields)
    assert err.value.guard == "service_rules.invoked_by_major"
    assert engine.get(plan).state == "active"


def test_an_unknown_invoker_is_bad_input() -> None:
    engine, plan = _engine_with_plan()
    fields = {"invoked_by": "INC-999999", "invocation_reason": "x"}
    with pytest.raises(ic.ValidationError) as err:
        engine.fire(plan, "invoke", at=T0, actor=BCM, fields=fields)
    assert err.value.errors[0][0] == "$.fields.invoked_by"


def test_a_plan_protects_a_service_record() -> None:
    engine, _ = _engine_with_plan()
    with pytest.raises(ic.ValidationError) as err:
        engine.open("continuity_plan", at=T0, actor=OWNER, fields={**OPEN, "service": "SVC-9"})
    assert err.value.errors[0][0] == "$.fields.service"


def test_a_security_incident_invokes_a_plan() -> None:
    engine, plan = _engine_with_plan()
    sec = engine.open("security_incident", at=T0, actor=OWNER, fields={"title": "Ransomware"})
    fields = {"invoked_by": sec.id, "invocation_reason": "encrypted file shares"}
    rec = engine.fire(plan, "invoke", at=T0, actor=BCM, fields=fields)
    assert (rec.state, rec.get("invoked_by")) == ("invoked", sec.id)


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "continuity_plan.md"
    assert ic.catalog.get("continuity_plan").to_mermaid() in page.read_text(encoding="utf-8")
