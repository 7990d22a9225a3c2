"""The audit finding process, rule by rule, through the pure spec and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AUDITOR = ic.Actor("aldo", roles=frozenset({"auditor"}))
OTHER_AUDITOR = ic.Actor("abby", roles=frozenset({"auditor"}))
FIXER = ic.Actor("fred", roles=frozenset({"engineer"}))
OPEN = {"title": "Access reviews not performed", "audit": "AUD-000001", "severity": "minor"}
SPEC = ic.catalog.get("audit_finding")
PLAN = {"owner": "fred", "corrective_action": "quarterly access review",
        "due_at": T0 + timedelta(days=30)}  # fmt: skip
DONE = {"implementation_notes": "first review done, evidence in ticket"}
CHECKED = {"verification_notes": "sampled 20 accounts, all reviewed"}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="FND-1", at=T0, actor=AUDITOR, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = AUDITOR, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _implemented(by: ic.Actor = FIXER) -> ic.Record:
    return _fire(_fire(_open(), "plan_action", **PLAN), "implement", actor=by, **DONE)


def test_finding_walks_open_planned_implemented_verified_closed() -> None:
    rec = _open()
    states = [rec.state]
    for event, actor, fields in (
        ("plan_action", AUDITOR, PLAN),
        ("implement", FIXER, DONE),
        ("verify", AUDITOR, CHECKED),
        ("close", AUDITOR, {}),
    ):
        rec = _fire(rec, event, actor=actor, **fields)
        states.append(rec.state)
    assert states == ["open", "action_planned", "implemented", "verified", "closed"]
    assert (rec.get("implemented_by"), rec.get("verified_by")) == ("fred", "aldo")


def test_plan_action_requires_owner_corrective_action_and_due_date() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "plan_action")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.owner", "$.fields.corrective_action", "$.fields.due_at"
    }  # fmt: skip


def test_a_finding_cannot_close_unverified() -> None:
    for rec in (_open(), _fire(_open(), "plan_action", **PLAN), _implemented()):
        assert "close" not in SPEC.allowed(rec)
        with pytest.raises(ic.InvalidTransition):
            _fire(rec, "close")


def test_implementer_is_the_actor_of_the_implement_event() -> None:
    rec = _implemented(by=FIXER)
    assert rec.get("implemented_by") == "fred"
    assert rec.get("implemented_at") == rec.updated_at


def test_implemented_by_cannot_be_set_by_the_caller() -> None:
    rec = _fire(_open(), "plan_action", **PLAN)
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "implement", actor=FIXER, implemented_by="someone_else", **DONE)
    assert err.value.errors[0][0] == "$.fields.implemented_by"


def test_verifier_must_not_be_the_implementer() -> None:
    rec = _implemented(by=AUDITOR)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "verify", actor=AUDITOR, **CHECKED)
    assert err.value.guard == "audit_finding.independent_verifier"
    assert _fire(rec, "verify", actor=OTHER_AUDITOR, **CHECKED).state == "verified"


def test_verify_needs_the_auditor_role() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_implemented(), "verify", actor=ic.Actor("manager"), **CHECKED)


def test_verify_requires_verification_notes() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_implemented(), "verify")


def test_reject_sends_the_action_back_and_counts_rework() -> None:
    rec = _fire(_implemented(), "reject", verification_notes="evidence missing")
    assert rec.state == "action_planned"
    assert rec.get("rework_count") == 1
    rec = _fire(rec, "implement", actor=ic.Actor("gina"), **DONE)
    assert rec.get("implemented_by") == "gina"


def test_withdraw_needs_the_auditor_role_and_a_reason_and_only_from_open() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_open(), "withdraw", actor=FIXER, reason="duplicate")
    assert _fire(_open(), "withdraw", reason="raised in error").state == "withdrawn"
    with pytest.raises(ic.InvalidTransition):
        _fire(_fire(_open(), "plan_action", **PLAN), "withdraw", reason="x")


def test_update_is_not_allowed_once_verified() -> None:
    rec = _fire(_implemented(), "verify", **CHECKED)
    with pytest.raises(ic.InvalidTransition):
        _fire(rec, "update", corrective_action="rewritten")


@pytest.mark.parametrize("event", ["record_improvement", "close"])
def test_what_was_verified_is_not_rewritten_afterwards(event: str) -> None:
    verified = _fire(_implemented(), "verify", **CHECKED)
    for change in ({"corrective_action": "nothing"}, {"verification_notes": "not checked"}):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(verified, event, improvement="IMP-000001", **change)
        assert err.value.guard == "audit_finding.verified_kept"
    assert _fire(verified, "record_improvement", improvement="IMP-1").get("improvement") == "IMP-1"


def test_overdue_timers_signal_at_due_at_while_not_implemented() -> None:
    timers = {t.name: (t.state, t.at_field, t.event) for t in SPEC.timers}
    assert timers == {
        "overdue": ("action_planned", "due_at", None),
        "overdue_unplanned": ("open", "due_at", None),
    }


# -- through the engine -----------------------------------------------------------------------


def test_engine_signals_an_overdue_finding_once_and_not_after_implementation() -> None:
    engine = ic.Engine.in_memory()
    late = engine.open("audit_finding", at=T0, actor=AUDITOR, fields=OPEN)
    late = engine.fire(late.id, "plan_action", at=T0, actor=AUDITOR, fields=PLAN)
    done = engine.open("audit_finding", at=T0, actor=AUDITOR, fields=OPEN)
    engine.fire(done.id, "plan_action", at=T0, actor=AUDITOR, fields=PLAN)
    engine.fire(done.id, "implement", at=T0 + timedelta(days=1), actor=FIXER, fields=DONE)
    signals = engine.tick(T0 + timedelta(days=31))
    assert [(s.record_id, getattr(s, "timer", None)) for s in signals] == [(late.id, "overdue")]
    assert engine.tick(T0 + timedelta(days=32)) == []


def test_engine_refuses_self_verification_and_stores_nothing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("audit_finding", at=T0, actor=AUDITOR, fields=OPEN)
    engine.fire(rec.id, "plan_action", at=T0, actor=AUDITOR, fields=PLAN)
    rec = engine.fire(rec.id, "implement", at=T0, actor=AUDITOR, fields=DONE)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "verify", at=T0, actor=AUDITOR, fields=CHECKED)
    with pytest.raises(ic.InvalidTransition):
        engine.fire(rec.id, "close", at=T0, actor=OTHER_AUDITOR)
    assert engine.get(rec.id) == rec
    assert len(engine.history(rec.id)) == rec.version
    rec = engine.fire(rec.id, "verify", at=T0, actor=OTHER_AUDITOR, fields=CHECKED)
    assert engine.fire(rec.id, "close", at=T0, actor=OTHER_AUDITOR).state == "closed"


def test_a_finding_records_the_improvement_it_became_through_the_engine() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("audit_finding", at=T0, actor=AUDITOR, fields=OPEN)
    follow = engine.open_follow_up(
        rec.id, "problem", at=T0, actor=AUDITOR, event="record_improvement",
        ref_field="improvement",
        fields={"title": "Access reviews keep lapsing", "impact": 3, "urgency": 3},
    )  # fmt: skip
    assert engine.get(rec.id).get("improvement") == follow.id
    assert engine.get(rec.id).state == "open"
    assert follow.linked("follow_up_of") == (rec.id,)


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "audit_finding.md"
    assert ic.catalog.get("audit_finding").to_mermaid() in page.read_text(encoding="utf-8")
