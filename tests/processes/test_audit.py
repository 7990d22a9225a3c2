"""The audit process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.audit import DEFAULT_CHECKLIST

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
PLANNER = ic.Actor("pia")
AUDITOR = ic.Actor("aldo", roles=frozenset({"auditor"}))
OPEN = {
    "title": "ISO 27001 internal audit 2026",
    "auditor_type": "internal",
    "scope": "Service desk and identity management",
    "criteria": ["ISO/IEC 27001:2022", "OBL-000001"],
    "auditee": "ida",
}
SPEC = ic.catalog.get("audit")
REPORT = {"report": "Two minor nonconformities in access reviews."}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="AUD-1", at=T0, actor=PLANNER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = AUDITOR, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _reporting() -> ic.Record:
    rec = _fire(_open(), "start_fieldwork", lead_auditor="aldo")
    return _fire(rec, "draft_report", **REPORT)


def test_audit_walks_planned_fieldwork_reporting_remediation_closed() -> None:
    rec = _reporting()
    rec = _fire(rec, "issue_report", conclusion="minor_nonconformities", finding_count=2)
    assert rec.state == "remediation"
    assert rec.get("report_issued_at") == rec.updated_at
    rec = _fire(rec, "close", closure_notes="both findings verified and closed")
    assert rec.state == "closed"
    assert [SPEC.category(s) for s in ("planned", "remediation", "closed")] == [
        "open", "resolved", "closed"
    ]  # fmt: skip


def test_an_audit_without_findings_closes_when_the_report_is_issued() -> None:
    rec = _fire(_reporting(), "issue_report", conclusion="conforming", finding_count=0)
    assert rec.state == "closed"


def test_open_requires_title_auditor_type_scope_and_criteria() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="AUD-1", at=T0, actor=PLANNER, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title", "$.fields.auditor_type", "$.fields.scope", "$.fields.criteria"
    }  # fmt: skip


def test_auditor_type_is_internal_or_third_party() -> None:
    assert _open(auditor_type="third_party").get("auditor_type") == "third_party"
    with pytest.raises(ic.ValidationError):
        _open(auditor_type="external")


def test_an_audit_names_at_least_one_criterion_and_a_scope() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(criteria=[])
    assert err.value.guard == "audit.scoped"
    with pytest.raises(ic.GuardFailed):
        _open(scope="   ")


def test_checklist_defaults_to_the_four_seed_areas() -> None:
    assert _open().get("checklist") == DEFAULT_CHECKLIST
    assert _open(checklist=["backups"]).get("checklist") == ("backups",)
    spec = SPEC.with_options(default_checklist=("a", "b"))
    rec = spec.open(record_id="AUD-1", at=T0, actor=PLANNER, fields=OPEN).record
    assert rec.get("checklist") == ("a", "b")


def test_lead_auditor_may_not_audit_their_own_area() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "start_fieldwork", lead_auditor="ida")
    assert err.value.guard == "audit.impartial"


def test_planner_may_not_lead_an_internal_audit_unless_allowed() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "start_fieldwork", lead_auditor="pia")
    spec = SPEC.with_options(planner_may_lead=True)
    rec = spec.open(record_id="AUD-1", at=T0, actor=PLANNER, fields=OPEN).record
    rec = spec.fire(rec, "start_fieldwork", at=T0, actor=PLANNER,
                    fields={"lead_auditor": "pia"}).record  # fmt: skip
    assert rec.state == "fieldwork"


def test_start_fieldwork_requires_a_lead_auditor() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "start_fieldwork")


def test_scope_and_criteria_are_fixed_once_fieldwork_starts() -> None:
    rec = _fire(_open(), "update", scope="Whole company")
    assert rec.get("scope") == "Whole company"
    rec = _fire(rec, "start_fieldwork", lead_auditor="aldo")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", criteria=["something else"])
    assert err.value.guard == "audit.scope_fixed"


def test_scope_and_impartiality_hold_on_every_event_after_planning() -> None:
    fieldwork = _fire(_open(), "start_fieldwork", lead_auditor="aldo")
    reporting = _reporting()
    issue = {"conclusion": "minor_nonconformities", "finding_count": 2}
    remediation = _fire(reporting, "issue_report", **issue)
    for rec, event, extra in (
        (fieldwork, "draft_report", REPORT),
        (reporting, "issue_report", issue),
        (remediation, "close", {"closure_notes": "all findings closed"}),
    ):
        for change, guard in (
            ({"scope": "Only the printers"}, "audit.scope_fixed"),
            ({"lead_auditor": "ida"}, "audit.impartial"),
        ):
            with pytest.raises(ic.GuardFailed) as err:
                _fire(rec, event, **extra, **change)
            assert err.value.guard == guard


def test_draft_report_requires_a_report() -> None:
    rec = _fire(_open(), "start_fieldwork", lead_auditor="aldo")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "draft_report")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "draft_report", report=" ")


def test_issue_report_requires_conclusion_and_finding_count() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_reporting(), "issue_report")
    assert {p for p, _ in err.value.errors} == {"$.fields.conclusion", "$.fields.finding_count"}


def test_close_from_remediation_requires_closure_notes() -> None:
    rec = _fire(_reporting(), "issue_report", conclusion="major_nonconformities", finding_count=1)
    with pytest.raises(ic.ValidationError):
        _fire(rec, "close")


def test_planned_window_must_end_after_it_starts() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(planned_start=T0 + timedelta(days=2), planned_end=T0 + timedelta(days=1))
    assert err.value.guard == "audit.window_valid"


def test_cancel_needs_a_reason_and_is_not_allowed_after_the_report() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "cancel", reason="")
    assert _fire(_open(), "cancel", reason="postponed to Q1").state == "cancelled"
    rec = _fire(_reporting(), "issue_report", conclusion="minor_nonconformities", finding_count=1)
    with pytest.raises(ic.InvalidTransition):
        _fire(rec, "cancel", reason="x")


def test_fieldwork_overdue_timer_signals_at_planned_end() -> None:
    timer = next(t for t in SPEC.timers if t.name == "fieldwork_overdue")
    assert (timer.state, timer.at_field, timer.event) == ("fieldwork", "planned_end", None)


# -- through the engine -----------------------------------------------------------------------


def test_engine_signals_fieldwork_overdue_once() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("audit", at=T0, actor=PLANNER,
                      fields={**OPEN, "planned_end": T0 + timedelta(days=5)})  # fmt: skip
    engine.fire(rec.id, "start_fieldwork", at=T0, actor=AUDITOR,
                fields={"lead_auditor": "aldo"})  # fmt: skip
    signals = engine.tick(T0 + timedelta(days=6))
    assert [(s.record_id, getattr(s, "timer", None)) for s in signals] == [
        (rec.id, "fieldwork_overdue")
    ]
    assert engine.tick(T0 + timedelta(days=7)) == []


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        ("start_fieldwork", {}, ic.ValidationError),
        ("start_fieldwork", {"lead_auditor": "ida"}, ic.GuardFailed),
        ("issue_report", {"conclusion": "conforming", "finding_count": 0},
         ic.InvalidTransition),
        ("update", {"auditor_type": "bogus"}, ic.ValidationError),
    ],
)  # fmt: skip
def test_engine_refusals_store_nothing(
    event: str, fields: dict[str, Any], error: type[Exception]
) -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("audit", at=T0, actor=PLANNER, fields=OPEN)
    with pytest.raises(error):
        engine.fire(rec.id, event, at=T0 + timedelta(minutes=5), actor=AUDITOR, fields=fields)
    assert engine.get(rec.id) == rec
    assert len(engine.history(rec.id)) == 1


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "audit.md"
    assert ic.catalog.get("audit").to_mermaid() in page.read_text(encoding="utf-8")
