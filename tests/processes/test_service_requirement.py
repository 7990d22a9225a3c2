"""The service requirement process (SMART, feasibility, priority matrix), rule by rule,
through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.service_requirement import SMART_CRITERIA, smart_gaps

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ANALYST = ic.Actor("ana")
OWNER = ic.Actor("omar")
APPROVER = ic.Actor("abe")
SPEC = ic.catalog.get("service_requirement")
OPEN = {"title": "Fast first response", "statement": "Answer P1 calls within 20 minutes"}
SMART = {
    "metric": "first response p1",
    "comparator": "<=",
    "target_value": 20.0,
    "unit": "min",
    "service": "SVC-000001",
    "due_date": date(2027, 3, 31),
    "owner": "omar",
}
FEASIBLE = {"feasibility": "feasible", "feasibility_notes": "staffed 24x7 since Q3"}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="SRQ-1", at=T0, actor=ANALYST, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = ANALYST, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _analysed() -> ic.Record:
    return _fire(_open(**SMART), "analyse")


def _approved() -> ic.Record:
    rec = _fire(_fire(_analysed(), "accept_ownership", actor=OWNER), "update", **FEASIBLE)
    return _fire(rec, "approve", actor=APPROVER)


def test_requirement_walks_draft_analysed_approved_delivered() -> None:
    rec = _fire(_approved(), "deliver", delivery_evidence="P1 median 12 min in January")
    assert rec.state == "delivered"
    assert SPEC.allowed(rec) == ()


def test_open_requires_title_and_a_specific_statement() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="SRQ-1", at=T0, actor=ANALYST, fields={})
    assert {p for p, _ in err.value.errors} == {"$.fields.title", "$.fields.statement"}
    with pytest.raises(ic.GuardFailed):
        _open(statement="   ")


def test_smart_gaps_names_each_missing_criterion() -> None:
    assert smart_gaps({}) == SMART_CRITERIA
    assert smart_gaps({**OPEN, **SMART, "owner_accepted": True}) == ()
    assert smart_gaps({**OPEN, **SMART, "owner_accepted": True, "target_value": None}) == (
        "measurable",
    )
    assert smart_gaps({**OPEN, **SMART, "service": None, "goal": "cut churn"}) == ("achievable",)


def test_the_record_keeps_its_smart_gaps_current() -> None:
    rec = _open()
    assert rec.get("smart_gaps") == ("measurable", "achievable", "relevant", "time_bound")
    rec = _fire(rec, "update", **SMART)
    assert rec.get("smart_gaps") == ("achievable",)
    rec = _fire(rec, "accept_ownership", actor=OWNER)
    assert rec.get("smart_gaps") is None


@pytest.mark.parametrize(
    ("missing", "criterion"),
    [
        ("metric", "measurable"),
        ("target_value", "measurable"),
        ("service", "relevant"),
        ("due_date", "time_bound"),
    ],
)
def test_analyse_needs_specific_measurable_relevant_time_bound(
    missing: str, criterion: str
) -> None:
    rec = _open(**{k: v for k, v in SMART.items() if k != missing})
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "analyse")
    assert err.value.guard == "service_requirement.smart_except_achievable"
    assert criterion in err.value.reason


def test_a_goal_makes_a_requirement_relevant_without_a_service() -> None:
    rec = _open(**{**SMART, "service": None, "goal": "retain key accounts"})
    assert _fire(rec, "analyse").state == "analysed"


def test_only_the_owner_can_accept_ownership() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_analysed(), "accept_ownership", actor=APPROVER)
    assert "omar" in err.value.reason
    assert _fire(_analysed(), "accept_ownership", actor=OWNER).get("owner_accepted") is True


def test_a_new_owner_must_accept_again() -> None:
    rec = _fire(_analysed(), "accept_ownership", actor=OWNER)
    rec = _fire(rec, "update", owner="olga")
    assert rec.get("owner_accepted") is None
    assert "achievable" in rec.get("smart_gaps")


def test_approve_needs_all_five_smart_criteria() -> None:
    rec = _fire(_analysed(), "update", **FEASIBLE)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", actor=APPROVER)
    assert err.value.guard == "service_requirement.smart"
    assert "achievable" in err.value.reason


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "feasibility assessment"),
        ({"feasibility": "not_feasible", "feasibility_notes": "no budget"}, "not feasible"),
        ({"feasibility": "feasible_with_conditions"}, "feasibility_notes"),
    ],
)
def test_approve_needs_a_feasible_assessment(fields: dict[str, Any], expected: str) -> None:
    rec = _fire(_analysed(), "accept_ownership", actor=OWNER)
    if fields:
        rec = _fire(rec, "update", **fields)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", actor=APPROVER)
    assert err.value.guard == "service_requirement.feasible"
    assert expected in err.value.reason


def test_whoever_opened_a_requirement_cannot_approve_it() -> None:
    rec = _fire(_fire(_analysed(), "accept_ownership", actor=OWNER), "update", **FEASIBLE)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", actor=ANALYST)
    assert err.value.guard == "service_requirement.not_opener"


def test_approval_records_who_and_when() -> None:
    rec = _approved()
    assert rec.get("approved_by") == "abe"
    assert rec.get("approved_at") == rec.updated_at


def test_priority_comes_from_business_value_and_urgency() -> None:
    for value in (1, 2, 3):
        for urgency in (1, 2, 3):
            rec = _open(business_value=value, urgency=urgency)
            assert rec.get("priority") == ic.DEFAULT_MATRIX.priority(value, urgency)
    assert _open(business_value=1).get("priority") is None


def test_host_requirement_priority_matrix_is_used() -> None:
    matrix = {"impacts": [1, 2, 3], "urgencies": [1, 2, 3], "priorities": [[1, 1, 2]] * 3}
    spec = SPEC.with_options(priority_matrix=matrix)
    fields = {**OPEN, "business_value": 3, "urgency": 3}
    assert (
        spec.open(record_id="SRQ-1", at=T0, actor=ANALYST, fields=fields).record.get("priority")
        == 2
    )


def test_revise_reopens_an_approved_requirement_as_a_new_revision() -> None:
    rec = _approved()
    assert rec.get("revision") == 1
    rec = _fire(rec, "revise", reason="customer feedback FBK-3", revision_trigger="FBK-000003")
    assert rec.state == "analysed"
    assert rec.get("revision") == 2
    assert rec.get("approved_by") is None


def test_an_approved_requirement_is_not_updated_in_place() -> None:
    with pytest.raises(ic.InvalidTransition) as err:
        _fire(_approved(), "update", target_value=10.0)
    assert "revise" in err.value.allowed


def test_reject_and_withdraw_need_a_reason() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_analysed(), "reject", reason=" ")
    assert _fire(_analysed(), "reject", reason="out of scope").state == "rejected"
    assert _fire(_open(), "withdraw", reason="merged into SRQ-2").state == "withdrawn"


def test_deliver_needs_evidence() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_approved(), "deliver")


def test_update_cannot_clear_the_statement() -> None:
    with pytest.raises(ic.ValidationError):  # a required field: refused by the kernel
        _fire(_open(), "update", statement=None)
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "update", statement="  ")


def test_unknown_kind_is_bad_input_naming_the_choices() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(kind="nonfunctional")
    path, message = err.value.errors[0]
    assert path == "$.fields.kind"
    assert "non_functional" in message


def test_engine_stores_a_requirement_and_refuses_bad_input_without_storing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("service_requirement", at=T0, actor=ANALYST, fields={**OPEN, **SMART})
    with pytest.raises(ic.InvalidTransition):
        engine.fire(rec.id, "approve", at=T0, actor=APPROVER)  # not analysed yet
    rec = engine.fire(rec.id, "analyse", at=T0, actor=ANALYST)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "approve", at=T0, actor=APPROVER)
    assert engine.get(rec.id).version == 2
    assert ic.replay(SPEC, engine.history(rec.id)) == engine.get(rec.id)


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "service_requirement.md"
    assert ic.catalog.get("service_requirement").to_mermaid() in page.read_text(encoding="utf-8")


def test_approve_baselines_exactly_what_was_analysed() -> None:
    rec = _fire(_fire(_analysed(), "accept_ownership", actor=OWNER), "update", **FEASIBLE)
    for change in ({"owner": "someone_else"}, {"target_value": 60.0}):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, "approve", actor=APPROVER, **change)
        assert err.value.guard == "service_requirement.baseline_kept"


def test_deliver_cannot_rewrite_the_approved_baseline() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_approved(), "deliver", delivery_evidence="met", target_value=60.0)
    assert err.value.guard == "service_requirement.baseline_kept"
