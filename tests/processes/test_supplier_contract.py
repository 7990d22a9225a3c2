"""The supplier contract process, rule by rule, through the pure spec and the in-memory
engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.service_level_agreement import add_months
from itsmcore.service_rules import install

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
BUYER = ic.Actor("bea", roles=frozenset({"supplier_manager"}))
SPEC = ic.catalog.get("supplier_contract")
OPEN = {"title": "Mail hosting", "supplier": "Nimbus SA", "category": "underpinning"}
TERMS = {
    "supplier_manager": "bea",
    "start_date": date(2027, 1, 1),
    "end_date": date(2029, 12, 31),
    "obligations": "99.95 % mailbox availability; 4 h P1 response",
    "supported_slas": ("SLA-000001",),
}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="CON-1", at=T0, actor=BUYER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=BUYER, fields=fields).record


def _active(**extra: Any) -> ic.Record:
    return _fire(_open(), "activate", **{**TERMS, **extra})


def _reviewing() -> ic.Record:
    return _fire(_active(), "review")


def test_contract_walks_draft_active_review_renewed() -> None:
    rec = _fire(_reviewing(), "renew", renewed_as="CON-000002", review_notes="met all targets")
    assert rec.state == "renewed"
    assert SPEC.allowed(rec) == ()


def test_open_requires_title_and_supplier() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="CON-1", at=T0, actor=BUYER, fields={})
    assert {p for p, _ in err.value.errors} == {"$.fields.title", "$.fields.supplier"}


def test_activate_needs_manager_term_and_obligations() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "activate")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.supplier_manager",
        "$.fields.start_date",
        "$.fields.end_date",
        "$.fields.obligations",
    }


def test_the_term_must_end_after_it_starts() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _active(end_date=date(2026, 12, 31))
    assert err.value.guard == "supplier_contract.term"


def test_an_underpinning_contract_names_the_slas_it_supports() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _active(supported_slas=())
    assert err.value.guard == "supplier_contract.underpins"
    assert _fire(_open(category="consultancy"), "activate", **{**TERMS, "supported_slas": ()})


def test_an_active_underpinning_contract_keeps_at_least_one_sla() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_active(), "update", supported_slas=())
    rec = _fire(_active(), "update", supported_slas=("SLA-000001", "SLA-000007"))
    assert rec.get("supported_slas") == ("SLA-000001", "SLA-000007")


def test_review_is_due_at_the_earlier_of_a_year_and_the_notice_deadline() -> None:
    rec = _active()
    assert rec.get("review_due") == add_months(rec.updated_at, 12)
    short = _active(end_date=date(2027, 6, 30))
    assert short.get("review_due") == datetime(2027, 6, 30, tzinfo=UTC) - timedelta(days=90)


def test_notice_period_can_be_set_per_contract_or_by_option() -> None:
    rec = _active(end_date=date(2027, 6, 30), notice_period=timedelta(days=30))
    assert rec.get("review_due") == datetime(2027, 5, 31, tzinfo=UTC)
    spec = SPEC.with_options(notice_period="P60D", review_cadence="quarterly")
    step = spec.open(record_id="CON-2", at=T0, actor=BUYER, fields=OPEN)
    rec = spec.fire(step.record, "activate", at=T0, actor=BUYER, fields=TERMS).record
    assert rec.get("review_due") == add_months(T0, 3)


def test_a_past_notice_deadline_makes_the_review_due_now() -> None:
    rec = _active(start_date=date(2026, 1, 1), end_date=date(2026, 12, 31))
    assert rec.get("review_due") == rec.updated_at


def test_confirm_returns_a_reviewed_contract_to_active_and_reschedules() -> None:
    rec = _reviewing()
    with pytest.raises(ic.ValidationError):
        _fire(rec, "confirm")
    rec = _fire(rec, "confirm", review_notes="on target")
    assert rec.state == "active"
    assert rec.get("review_count") == 1
    assert rec.get("review_due") == add_months(rec.updated_at, 12)
    assert _fire(rec, "review").get("review_notes") is None


def test_a_contract_is_not_renewed_as_itself() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_reviewing(), "renew", renewed_as="CON-1", review_notes="x")
    assert err.value.guard == "supplier_contract.not_itself"


@pytest.mark.parametrize("make", [_open, _active, _reviewing])
def test_terminate_needs_a_reason(make: Any) -> None:
    with pytest.raises(ic.ValidationError):
        _fire(make(), "terminate")
    assert _fire(make(), "terminate", reason="supplier insolvent").state == "terminated"


def test_supplier_and_term_are_fixed_once_active() -> None:
    for name, value in (("supplier", "Other SA"), ("end_date", date(2030, 12, 31))):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(_active(), "update", **{name: value})
        assert "renew" in err.value.reason
    assert _fire(_open(), "update", supplier="Other SA").get("supplier") == "Other SA"


def test_no_review_event_moves_the_term_or_drops_the_supported_slas() -> None:
    later = {"end_date": date(2031, 12, 31)}
    for rec, event, extra in (
        (_active(), "review", later),
        (_reviewing(), "confirm", {"review_notes": "fine", **later}),
        (_reviewing(), "confirm", {"review_notes": "fine", "supported_slas": None}),
        (_reviewing(), "renew", {"review_notes": "fine", "renewed_as": "CON-2", **later}),
    ):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, event, **extra)
        assert err.value.guard == "supplier_contract.keeps_terms"


def test_update_cannot_clear_title_or_supplier() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "update", supplier=" ")


def test_the_review_due_timer_watches_active_contracts() -> None:
    (timer,) = SPEC.timers
    assert (timer.state, timer.at_field) == ("active", "review_due")


def test_engine_renewal_must_name_another_supplier_contract() -> None:
    engine = ic.Engine.in_memory()
    install(engine)
    old = engine.open("supplier_contract", at=T0, actor=BUYER, fields=OPEN)
    engine.fire(old.id, "activate", at=T0, actor=BUYER, fields=TERMS)
    engine.fire(old.id, "review", at=T0, actor=BUYER)
    svc = engine.open("service", at=T0, actor=BUYER, fields={"title": "Mail", "owner": "o"})
    with pytest.raises(ic.ValidationError) as err:
        engine.fire(
            old.id, "renew", at=T0, actor=BUYER, fields={"renewed_as": svc.id, "review_notes": "x"}
        )
    assert err.value.errors[0][0] == "$.fields.renewed_as"
    assert engine.get(old.id).state == "under_review"
    new = engine.open("supplier_contract", at=T0, actor=BUYER, fields=OPEN)
    done = engine.fire(
        old.id, "renew", at=T0, actor=BUYER, fields={"renewed_as": new.id, "review_notes": "x"}
    )
    assert done.state == "renewed"


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "supplier_contract.md"
    assert ic.catalog.get("supplier_contract").to_mermaid() in page.read_text(encoding="utf-8")
