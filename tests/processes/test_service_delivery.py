"""The service delivery process (the seed's five stages), rule by rule, through the pure
spec and the in-memory engine with the service rules installed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.service_delivery import (
    DEFAULT_EXIT_CRITERIA,
    STAGES,
    exit_criteria_of,
    with_exit_criteria,
)
from itsmcore.service_rules import install

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
MANAGER = ic.Actor("dora", roles=frozenset({"delivery_manager"}))
CUSTOMER = ic.Actor("cleo", roles=frozenset({"customer_representative"}))
SPEC = ic.catalog.get("service_delivery")
OPEN = {"title": "Mail for the Lyon office", "service": "SVC-000001", "customer": "Lyon"}
AGREED = {
    "agreed_scope": "120 mailboxes",
    "delivery_mode": "cloud",
    "committed_date": date(2027, 1, 15),
    "customer_contact": "cleo",
    "customer_agreed_at": T0,
}
STAGE_FIELDS: dict[str, dict[str, Any]] = {
    "design": {"requirements_summary": "120 users, shared calendars", "sla": "SLA-000001"},
    "allocate_resources": {"design_summary": "tenant per site", "delivery_mode": "cloud"},
    "implement": {"resource_plan": "2 engineers, 3 weeks", "resources_covered": True, **AGREED},
    "submit_for_acceptance": {"implementation_notes": "migrated 120 mailboxes"},
}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="DLV-1", at=T0, actor=MANAGER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = MANAGER, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _walk(rec: ic.Record, *events: str) -> ic.Record:
    for name in events:
        rec = _fire(rec, name, **STAGE_FIELDS[name])
    return rec


def _in_acceptance() -> ic.Record:
    return _walk(_open(), "design", "allocate_resources", "implement", "submit_for_acceptance")


def test_delivery_walks_the_five_stages() -> None:
    rec = _in_acceptance()
    rec = _fire(rec, "accept", actor=CUSTOMER, verification_notes="checked against SD-7")
    assert rec.state == "accepted"
    assert [s.state for s in STAGES] == [
        "requirements_collection",
        "solution_design",
        "resource_allocation",
        "implementation",
        "acceptance",
    ]


def test_open_requires_title_service_and_customer() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="DLV-1", at=T0, actor=MANAGER, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title",
        "$.fields.service",
        "$.fields.customer",
    }


@pytest.mark.parametrize("index", range(len(STAGES)))
def test_each_stage_names_its_accountable_role(index: int) -> None:
    rec = _open()
    events = ["design", "allocate_resources", "implement", "submit_for_acceptance"][:index]
    rec = _walk(rec, *events)
    assert rec.state == STAGES[index].state
    assert rec.get("accountable_role") == STAGES[index].role


def test_leaving_a_stage_needs_its_role_or_the_delivery_manager() -> None:
    architect = ic.Actor("ari", roles=frozenset({"solution_architect"}))
    slm = ic.Actor("sam", roles=frozenset({"service_level_manager"}))
    with pytest.raises(ic.Forbidden):
        _fire(_open(), "design", actor=architect, **STAGE_FIELDS["design"])
    assert _fire(_open(), "design", actor=slm, **STAGE_FIELDS["design"]).state == "solution_design"


def test_only_the_customer_representative_accepts() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_in_acceptance(), "accept", verification_notes="ok")


@pytest.mark.parametrize("event", ["design", "allocate_resources", "submit_for_acceptance"])
def test_exit_criteria_are_checked_on_leaving_each_stage(event: str) -> None:
    order = ["design", "allocate_resources", "implement", "submit_for_acceptance"]
    rec = _walk(_open(), *order[: order.index(event)])
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, event)
    assert err.value.guard == "service_delivery.exit_criteria"
    for name in DEFAULT_EXIT_CRITERIA[rec.state]:
        assert name in err.value.reason


def test_acceptance_needs_a_verification_against_the_standard() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_in_acceptance(), "accept", actor=CUSTOMER, verification_notes="  ")
    assert "verification_notes" in err.value.reason


def test_implementation_needs_the_customers_agreement() -> None:
    rec = _walk(_open(), "design", "allocate_resources")
    fields = {**STAGE_FIELDS["implement"]}
    del fields["customer_agreed_at"]
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "implement", **fields)
    assert err.value.errors == (("$.fields.customer_agreed_at", "is required to implement"),)


def test_customer_agreement_cannot_be_dated_after_implementation_starts() -> None:
    rec = _walk(_open(), "design", "allocate_resources")
    fields = {**STAGE_FIELDS["implement"], "customer_agreed_at": T0 + timedelta(days=30)}
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "implement", **fields)
    assert err.value.guard == "service_delivery.ready_to_implement"


def test_implementation_needs_a_resource_assessment_that_covers_the_plan() -> None:
    rec = _walk(_open(), "design", "allocate_resources")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "implement", **{**STAGE_FIELDS["implement"], "resources_covered": False})
    assert "resources_covered" in err.value.reason


def test_rejected_acceptance_goes_back_to_implementation_for_rework() -> None:
    rec = _in_acceptance()
    rec = _fire(rec, "update", verification_notes="calendars missing")
    rec = _fire(rec, "reject", actor=CUSTOMER, rework_reason="calendars not migrated")
    assert rec.state == "implementation"
    assert rec.get("rework_count") == 1
    assert rec.get("verification_notes") is None
    assert rec.get("accountable_role") == "delivery_manager"


def test_reject_requires_a_rework_reason() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_in_acceptance(), "reject", actor=CUSTOMER)


def test_acceptance_asks_for_a_satisfaction_survey() -> None:
    rec = _fire(_in_acceptance(), "accept", actor=CUSTOMER, verification_notes="ok")
    assert rec.get("survey_due") is True
    assert rec.get("accepted_by") == "cleo"
    assert rec.get("accepted_at") == rec.updated_at


def test_survey_due_cannot_be_set_by_a_caller() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "update", survey_due=True)
    assert err.value.errors[0][0] == "$.fields.survey_due"


@pytest.mark.parametrize("steps", [0, 2, 4])
def test_cancel_from_any_stage_requires_a_reason(steps: int) -> None:
    order = ["design", "allocate_resources", "implement", "submit_for_acceptance"]
    rec = _walk(_open(), *order[:steps])
    with pytest.raises(ic.ValidationError):
        _fire(rec, "cancel")
    assert _fire(rec, "cancel", reason="customer withdrew").state == "cancelled"


def test_update_cannot_clear_what_a_passed_stage_required() -> None:
    rec = _walk(_open(), "design", "allocate_resources", "implement")
    for name in ("sla", "design_summary", "agreed_scope", "customer_agreed_at"):
        with pytest.raises(ic.GuardFailed):
            _fire(rec, "update", **{name: None})


def test_the_service_is_fixed_after_requirements_collection() -> None:
    assert _fire(_open(), "update", service="SVC-000002").get("service") == "SVC-000002"
    rec = _walk(_open(), "design")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "update", service="SVC-000002")


def test_no_stage_event_moves_the_service_or_blanks_the_agreement() -> None:
    designed = _walk(_open(), "design")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(designed, "allocate_resources", service="SVC-000002",
              **STAGE_FIELDS["allocate_resources"])  # fmt: skip
    assert err.value.guard == "service_delivery.keeps_agreed"
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_in_acceptance(), "accept", actor=CUSTOMER, agreed_scope=" ",
              verification_notes="checked against SD-7")  # fmt: skip
    assert err.value.guard == "service_delivery.keeps_agreed"


def test_host_exit_criteria_replace_a_stages_defaults() -> None:
    spec = with_exit_criteria({"solution_design": ["design_summary", "delivery_mode"]})
    assert exit_criteria_of(spec)["solution_design"] == ("design_summary", "delivery_mode")
    rec = spec.open(record_id="DLV-1", at=T0, actor=MANAGER, fields=OPEN).record
    rec = spec.fire(rec, "design", at=T0, actor=MANAGER, fields=STAGE_FIELDS["design"]).record
    with pytest.raises(ic.GuardFailed) as err:
        spec.fire(rec, "allocate_resources", at=T0, actor=MANAGER, fields={"design_summary": "x"})
    assert "delivery_mode" in err.value.reason


def test_exit_criteria_naming_unknown_stages_or_fields_are_refused() -> None:
    with pytest.raises(ic.SpecError) as err:
        with_exit_criteria({"coding": ["x"], "acceptance": ["no_such_field"]})
    assert len(err.value.problems) == 2


# -- through the engine, with the service rules -----------------------------------------------


def _engine_with_service(state_events: list[tuple[str, dict[str, Any]]]) -> tuple[ic.Engine, str]:
    engine = ic.Engine.in_memory()
    install(engine)
    owner = ic.Actor("olga", roles=frozenset({"service_owner"}))
    svc = engine.open("service", at=T0, actor=owner, fields={"title": "Mail", "owner": "olga"})
    for name, fields in state_events:
        engine.fire(svc.id, name, at=T0, actor=owner, fields=fields)
    return engine, svc.id


_LIVE = [
    ("design", {"service_goals": "g", "strategy": "s", "requirements": ("SRQ-1",)}),
    ("transition", {"scope": "s", "delivery_standards": "d"}),
    ("go_live", {"slas": ("SLA-1",)}),
]


def test_engine_opens_a_delivery_of_a_live_service() -> None:
    engine, svc = _engine_with_service(_LIVE)
    rec = engine.open("service_delivery", at=T0, actor=MANAGER, fields={**OPEN, "service": svc})
    assert rec.state == "requirements_collection"


def test_a_retiring_service_takes_no_new_deliveries() -> None:
    retire = ("retire", {"retirement_reason": "old", "retirement_date": date(2026, 11, 26)})
    engine, svc = _engine_with_service([*_LIVE, retire])
    with pytest.raises(ic.GuardFailed) as err:
        engine.open("service_delivery", at=T0, actor=MANAGER, fields={**OPEN, "service": svc})
    assert err.value.guard == "service_rules.service_takes_deliveries"
    assert engine.find(process="service_delivery") == []


def test_a_withdrawn_service_takes_no_new_deliveries() -> None:
    engine, svc = _engine_with_service([("withdraw", {"reason": "no case"})])
    with pytest.raises(ic.GuardFailed):
        engine.open("service_delivery", at=T0, actor=MANAGER, fields={**OPEN, "service": svc})


def test_moving_a_delivery_to_a_retired_service_is_refused() -> None:
    engine, live = _engine_with_service(_LIVE)
    rec = engine.open("service_delivery", at=T0, actor=MANAGER, fields={**OPEN, "service": live})
    gone = engine.open("service", at=T0, actor=MANAGER, fields={"title": "Fax", "owner": "x"})
    engine.fire(gone.id, "withdraw", at=T0, actor=MANAGER, fields={"reason": "obsolete"})
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "update", at=T0, actor=MANAGER, fields={"service": gone.id})
    assert engine.get(rec.id).get("service") == live


def test_a_delivery_of_an_unknown_service_is_bad_input_and_stores_nothing() -> None:
    engine, _ = _engine_with_service([])
    with pytest.raises(ic.ValidationError) as err:
        engine.open(
            "service_delivery", at=T0, actor=MANAGER, fields={**OPEN, "service": "SVC-999999"}
        )
    assert err.value.errors[0][0] == "$.fields.service"
    assert engine.find(process="service_delivery") == []


def test_the_sla_of_a_delivery_must_be_an_sla_record() -> None:
    engine, svc = _engine_with_service(_LIVE)
    fields = {**OPEN, "service": svc, "sla": svc}
    with pytest.raises(ic.ValidationError) as err:
        engine.open("service_delivery", at=T0, actor=MANAGER, fields=fields)
    assert err.value.errors[0][0] == "$.fields.sla"
    assert "service_level_agreement" in err.value.errors[0][1]


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "service_delivery.md"
    assert ic.catalog.get("service_delivery").to_mermaid() in page.read_text(encoding="utf-8")
