"""The service level agreement process, rule by rule, through the pure spec and the
in-memory engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.service_level_agreement import (
    Indicator,
    add_months,
    parse_indicator,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
SLM = ic.Actor("sally", roles=frozenset({"service_level_manager"}))
CLERK = ic.Actor("kim")
SPEC = ic.catalog.get("service_level_agreement")
OPEN = {"title": "Mail SLA, Lyon", "kind": "sla", "service": "SVC-000001"}
ELEMENTS = {
    "goals": "mail is there when Lyon works",
    "indicators": ("availability >= 99.9 %", "first response p1 <= 20 min"),
    "delivery_mode": "cloud, 24x7",
    "responsible_party": "Messaging team",
    "customer_signatory": "Lyon site director",
    "valid_from": date(2026, 12, 1),
}
POLICY = {"sla_policy": "mail-lyon", "sla_policy_version": 1}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="SLA-1", at=T0, actor=CLERK, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = SLM, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _approved() -> ic.Record:
    rec = _fire(_open(), "negotiate", counterparty="Lyon office")
    return _fire(rec, "approve", **ELEMENTS)


def _active() -> ic.Record:
    return _fire(_approved(), "activate", **POLICY)


def test_sla_walks_draft_to_active_and_through_a_review() -> None:
    rec = _active()
    assert rec.state == "active"
    rec = _fire(rec, "review")
    rec = _fire(rec, "complete_review", review_outcome="confirmed", review_notes="all met")
    assert rec.state == "active"
    rec = _fire(_fire(rec, "review"), "retire", reason="superseded", superseded_by="SLA-000002")
    assert rec.state == "retired"


def test_open_requires_title_kind_and_service() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="SLA-1", at=T0, actor=CLERK, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title",
        "$.fields.kind",
        "$.fields.service",
    }


@pytest.mark.parametrize("kind", ["sla", "ola", "uc"])
def test_kind_is_sla_ola_or_uc(kind: str) -> None:
    assert _open(kind=kind).get("kind") == kind


def test_an_unknown_kind_is_bad_input() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(kind="contract")
    assert err.value.errors[0][0] == "$.fields.kind"


def test_approve_needs_the_four_elements_signatory_and_validity() -> None:
    rec = _fire(_open(), "negotiate", counterparty="Lyon")
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "approve")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.goals",
        "$.fields.indicators",
        "$.fields.delivery_mode",
        "$.fields.responsible_party",
        "$.fields.customer_signatory",
        "$.fields.valid_from",
    }


def test_approve_needs_the_service_level_manager() -> None:
    rec = _fire(_open(), "negotiate", counterparty="Lyon")
    with pytest.raises(ic.Forbidden):
        _fire(rec, "approve", actor=CLERK, **ELEMENTS)


def test_approval_records_who_agreed_and_when() -> None:
    rec = _approved()
    assert rec.get("approved_by") == "sally"
    assert rec.get("approved_at") == rec.updated_at
    assert rec.get("customer_signatory") == "Lyon site director"


def test_every_indicator_states_a_metric_and_a_numeric_target() -> None:
    rec = _fire(_open(), "negotiate", counterparty="Lyon")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", **{**ELEMENTS, "indicators": ("fast answers",)})
    assert err.value.guard == "service_level_agreement.indicators"
    assert "metric comparator value" in err.value.reason


def test_parse_indicator_reads_metric_comparator_value_unit() -> None:
    assert parse_indicator("availability >= 99.9 %") == Indicator("availability", ">=", 99.9, "%")
    assert parse_indicator("latency p95<5 s") == Indicator("latency p95", "<", 5.0, "s")
    assert parse_indicator("csat >= 92%").met_by(92.0)
    assert not parse_indicator("first response <= 20 min").met_by(21.0)
    with pytest.raises(ic.ValidationError):
        parse_indicator(">= 5")


def test_valid_until_must_follow_valid_from() -> None:
    rec = _fire(_open(), "negotiate", counterparty="Lyon")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", **{**ELEMENTS, "valid_until": date(2026, 11, 1)})
    assert err.value.guard == "service_level_agreement.validity"


def test_an_expired_agreement_cannot_be_activated() -> None:
    rec = _fire(_open(), "negotiate", counterparty="Lyon")
    rec = _fire(rec, "approve", **{**ELEMENTS, "valid_until": date(2026, 12, 31)})
    late = datetime(2027, 1, 5, tzinfo=UTC)
    with pytest.raises(ic.GuardFailed) as err:
        SPEC.fire(rec, "activate", at=late, actor=SLM, fields=POLICY)
    assert "expired" in err.value.reason


def test_activation_names_the_sla_policy_and_version_it_puts_in_force() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_approved(), "activate")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.sla_policy",
        "$.fields.sla_policy_version",
    }
    with pytest.raises(ic.GuardFailed):
        _fire(_approved(), "activate", sla_policy="Mail Lyon!", sla_policy_version=1)
    rec = _active()
    assert (rec.get("sla_policy"), rec.get("sla_policy_version")) == ("mail-lyon", 1)


def test_the_policy_changes_only_at_a_review_and_never_goes_back() -> None:
    rec = _active()
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "update", sla_policy_version=2)
    rec = _fire(rec, "review")
    outcome = {"review_outcome": "policy_changed", "review_notes": "P1 target tightened"}
    rec = _fire(rec, "complete_review", sla_policy_version=3, **outcome)
    assert rec.get("sla_policy_version") == 3
    rec = _fire(rec, "review")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "complete_review", sla_policy_version=2, **outcome)
    assert "never back" in err.value.reason


def test_review_is_due_monthly_by_default() -> None:
    rec = _active()
    assert rec.get("review_due") == add_months(rec.get("activated_at"), 1)
    rec = _fire(
        _fire(rec, "review"), "complete_review", review_outcome="confirmed", review_notes="ok"
    )
    assert rec.get("review_due") == add_months(rec.updated_at, 1)
    assert rec.get("review_count") == 1
    assert rec.get("last_reviewed_at") == rec.updated_at


def test_review_cadence_can_be_quarterly_per_agreement_or_by_option() -> None:
    rec = _fire(
        _fire(_open(review_cadence="quarterly"), "negotiate", counterparty="x"),
        "approve",
        **ELEMENTS,
    )
    rec = _fire(rec, "activate", **POLICY)
    assert rec.get("review_due") == add_months(rec.updated_at, 3)
    spec = SPEC.with_options(review_cadence="annual")
    step = spec.open(record_id="SLA-2", at=T0, actor=CLERK, fields=OPEN)
    rec = spec.fire(step.record, "negotiate", at=T0, actor=SLM, fields={"counterparty": "x"}).record
    rec = spec.fire(rec, "approve", at=T0, actor=SLM, fields=ELEMENTS).record
    rec = spec.fire(rec, "activate", at=T0, actor=SLM, fields=POLICY).record
    assert rec.get("review_due") == datetime(2027, 11, 26, 9, 0, tzinfo=UTC)


def test_a_bad_review_cadence_option_is_a_spec_error() -> None:
    spec = SPEC.with_options(review_cadence="fortnightly")
    rec = spec.open(record_id="SLA-2", at=T0, actor=CLERK, fields=OPEN).record
    rec = spec.fire(rec, "negotiate", at=T0, actor=SLM, fields={"counterparty": "x"}).record
    rec = spec.fire(rec, "approve", at=T0, actor=SLM, fields=ELEMENTS).record
    with pytest.raises(ic.SpecError):
        spec.fire(rec, "activate", at=T0, actor=SLM, fields=POLICY)


def test_add_months_clamps_to_the_end_of_the_month() -> None:
    assert add_months(datetime(2027, 1, 31, tzinfo=UTC), 1) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2028, 1, 31, tzinfo=UTC), 1) == datetime(2028, 2, 29, tzinfo=UTC)
    assert add_months(datetime(2026, 11, 30, tzinfo=UTC), 3) == datetime(2027, 2, 28, tzinfo=UTC)
    assert add_months(datetime(2026, 12, 15, tzinfo=UTC), 12) == datetime(2027, 12, 15, tzinfo=UTC)


def test_the_review_due_timer_watches_active_agreements() -> None:
    (timer,) = SPEC.timers
    assert (timer.name, timer.state, timer.at_field, timer.event) == (
        "review_due",
        "active",
        "review_due",
        None,
    )


def test_agreed_content_changes_only_by_renegotiation() -> None:
    rec = _active()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", goals="new goals")
    assert "renegotiate" in err.value.reason
    rec = _fire(_fire(rec, "review"), "renegotiate", reason="new site hours")
    assert rec.state == "negotiating"
    assert rec.get("approved_by") is None
    assert _fire(rec, "update", goals="new goals").get("goals") == "new goals"


def test_retire_only_after_a_review_and_with_a_reason() -> None:
    with pytest.raises(ic.InvalidTransition):
        _fire(_active(), "retire", reason="x")
    with pytest.raises(ic.ValidationError):
        _fire(_fire(_active(), "review"), "retire")


def test_abandon_ends_a_draft_or_negotiation() -> None:
    assert _fire(_open(), "abandon", reason="customer left").state == "abandoned"
    with pytest.raises(ic.InvalidTransition):
        _fire(_approved(), "abandon", reason="x")


def test_update_cannot_clear_title_kind_or_service() -> None:
    for name in ("title", "kind", "service"):
        with pytest.raises(ic.ValidationError):  # required fields: refused by the kernel
            _fire(_open(), "update", **{name: None})
    for name in ("title", "service"):
        with pytest.raises(ic.GuardFailed):
            _fire(_open(), "update", **{name: " "})


def test_engine_stores_an_sla_and_refuses_bad_input_without_storing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("service_level_agreement", at=T0, actor=CLERK, fields=OPEN)
    engine.fire(rec.id, "negotiate", at=T0, actor=SLM, fields={"counterparty": "Lyon"})
    bad = {**ELEMENTS, "indicators": ("quick",)}
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "approve", at=T0, actor=SLM, fields=bad)
    assert engine.get(rec.id).state == "negotiating"
    engine.fire(rec.id, "approve", at=T0, actor=SLM, fields=ELEMENTS)
    stored = engine.fire(rec.id, "activate", at=T0, actor=SLM, fields=POLICY)
    assert engine.find(process="service_level_agreement", state="active") == [stored]


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "service_level_agreement.md"
    assert ic.catalog.get("service_level_agreement").to_mermaid() in page.read_text(
        encoding="utf-8"
    )


def test_policy_version_may_be_set_in_draft_after_the_policy_name() -> None:
    rec = _open(sla_policy="mail-lyon")
    rec = _fire(rec, "update", actor=CLERK, sla_policy_version=1)
    assert rec.get("sla_policy_version") == 1


def test_agreed_content_changes_only_by_renegotiate_on_every_event() -> None:
    active = _active()
    review = _fire(active, "review")
    done = {"review_outcome": "confirmed", "review_notes": "all met"}
    for rec, event, extra in (
        (_approved(), "activate", POLICY),
        (active, "review", {}),
        (review, "complete_review", done),
        (review, "retire", {"reason": "superseded"}),
    ):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, event, goals="whatever suits us", **extra)
        assert err.value.guard == "service_level_agreement.keeps_agreement"


def test_the_policy_in_force_changes_only_at_complete_review() -> None:
    active = _active()
    with pytest.raises(ic.GuardFailed):
        _fire(active, "review", sla_policy_version=2)
    review = _fire(active, "review")
    done = {"review_outcome": "confirmed", "review_notes": "all met"}
    assert (
        _fire(review, "complete_review", sla_policy_version=2, **done).get("sla_policy_version")
        == 2
    )
