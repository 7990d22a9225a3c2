"""The scheduled activity process and its findings, through the pure spec and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.scheduled_activity import ACTIVITY_KINDS

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OPS = ic.Actor("omar", roles=frozenset({"operator"}))
OPEN = {"title": "Monthly server room inspection", "activity_kind": "inspection",
        "subject": "CI-000004", "due_at": T0 + timedelta(days=2)}  # fmt: skip
SPEC = ic.catalog.get("scheduled_activity")


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="ACT-1", at=T0, actor=OPS, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=OPS, fields=fields).record


def _started(**extra: Any) -> ic.Record:
    return _fire(_open(**extra), "start", assignee="omar")


def test_activity_walks_scheduled_in_progress_done() -> None:
    rec = _open()
    started = _fire(rec, "start", assignee="omar")
    done = _fire(started, "complete", outcome="ok", results="all green")
    assert [rec.state, started.state, done.state] == ["scheduled", "in_progress", "done"]
    assert started.get("started_at") == started.updated_at
    assert done.get("completed_at") == done.updated_at


def test_every_seed_activity_kind_is_offered() -> None:
    assert set(ACTIVITY_KINDS) >= {
        "inspection", "preventive_maintenance", "update", "drill", "vulnerability_scan",
        "penetration_test", "control_evaluation", "review",
    }  # fmt: skip


def test_open_requires_title_and_activity_kind() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="ACT-1", at=T0, actor=OPS, fields={})
    assert {p for p, _ in err.value.errors} == {"$.fields.title", "$.fields.activity_kind"}


def test_start_requires_an_assignee() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "start")


def test_a_system_update_starts_only_under_a_change() -> None:
    rec = _open(activity_kind="update")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "start", assignee="omar")
    assert err.value.guard == "scheduled_activity.update_under_change"
    assert _fire(rec, "start", assignee="omar", change="CHG-000001").state == "in_progress"


def test_skip_needs_a_reason() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "skip", reason=" ")
    assert _fire(_open(), "skip", reason="site closed for holiday").state == "skipped"


def test_findings_need_a_recorded_follow_up_before_completion() -> None:
    rec = _started()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "complete", outcome="findings")
    assert err.value.guard == "scheduled_activity.findings_followed_up"
    rec = _fire(rec, "record_follow_up", follow_up="PRB-000003")
    rec = _fire(rec, "record_follow_up", follow_up="CHG-000009")
    assert rec.get("follow_ups") == ("PRB-000003", "CHG-000009")
    assert _fire(rec, "complete", outcome="findings").state == "done"


def test_recording_the_same_follow_up_twice_lists_it_once() -> None:
    rec = _fire(_started(), "record_follow_up", follow_up="PRB-000003")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "update", follow_up="PRB-000004")
    rec = _fire(rec, "record_follow_up", follow_up="PRB-000003")
    assert rec.get("follow_ups") == ("PRB-000003",)


def test_follow_ups_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_started(), "update", follow_ups=["INC-1"])


def test_a_drill_completes_with_its_measured_recovery_and_rto_met() -> None:
    rec = _started(activity_kind="drill", rto_target=timedelta(hours=4))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "complete", outcome="ok")
    assert err.value.guard == "scheduled_activity.completion_complete"
    done = _fire(rec, "complete", outcome="ok", measured_recovery=timedelta(hours=3))
    assert done.get("rto_met") is True


def test_a_drill_that_missed_its_rto_needs_a_follow_up() -> None:
    rec = _started(activity_kind="drill", rto_target=timedelta(hours=4))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "complete", outcome="ok", measured_recovery=timedelta(hours=5))
    assert "RTO" in err.value.reason
    rec = _fire(rec, "record_follow_up", follow_up="IMP-000001")
    done = _fire(rec, "complete", outcome="ok", measured_recovery=timedelta(hours=5))
    assert done.get("rto_met") is False


def test_an_ineffective_control_evaluation_opens_remediation() -> None:
    rec = _started(activity_kind="control_evaluation", subject="CTL-000002")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "complete", outcome="ok")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "complete", outcome="ok", effectiveness="ineffective")
    assert _fire(rec, "complete", outcome="ok", effectiveness="effective").state == "done"


def test_overdue_timers_signal_at_due_at_until_done() -> None:
    timers = {t.name: (t.state, t.at_field, t.event) for t in SPEC.timers}
    assert timers == {
        "overdue": ("scheduled", "due_at", None),
        "overdue_in_progress": ("in_progress", "due_at", None),
    }


# -- through the engine -----------------------------------------------------------------------


def test_engine_opens_a_linked_finding_and_records_it_atomically() -> None:
    engine = ic.Engine.in_memory()
    act = engine.open("scheduled_activity", at=T0, actor=OPS, fields=OPEN)
    act = engine.fire(act.id, "start", at=T0, actor=OPS, fields={"assignee": "omar"})
    problem = engine.open_follow_up(
        act.id, "problem", at=T0 + timedelta(hours=1), actor=OPS,
        fields={"title": "UPS battery degraded", "impact": 2, "urgency": 2},
    )  # fmt: skip
    act = engine.get(act.id)
    assert problem.process == "problem"
    assert act.get("follow_ups") == (problem.id,)
    assert problem.linked("follow_up_of") == (act.id,)
    done = engine.fire(act.id, "complete", at=T0 + timedelta(hours=2), actor=OPS,
                       fields={"outcome": "findings"})  # fmt: skip
    assert done.state == "done"


def test_engine_refused_finding_opens_nothing() -> None:
    engine = ic.Engine.in_memory()
    act = engine.open("scheduled_activity", at=T0, actor=OPS, fields=OPEN)
    with pytest.raises(ic.InvalidTransition):  # findings are raised while in progress
        engine.open_follow_up(act.id, "problem", at=T0, actor=OPS,
                              fields={"title": "x", "impact": 2, "urgency": 2})  # fmt: skip
    act = engine.fire(act.id, "start", at=T0, actor=OPS, fields={"assignee": "omar"})
    with pytest.raises(ic.ValidationError):
        engine.open_follow_up(act.id, "problem", at=T0, actor=OPS, fields={"title": "x"})
    with pytest.raises(ic.ValidationError):
        engine.open_follow_up(act.id, "problem", at=T0, actor=OPS, kind="caused_by",
                              fields={"title": "x", "impact": 2, "urgency": 2})  # fmt: skip
    assert engine.get(act.id) == act
    assert engine.find(process="problem") == []


def test_engine_signals_an_overdue_activity_once() -> None:
    engine = ic.Engine.in_memory()
    act = engine.open("scheduled_activity", at=T0, actor=OPS, fields=OPEN)
    signals = engine.tick(T0 + timedelta(days=3))
    assert [(s.record_id, getattr(s, "timer", None)) for s in signals] == [(act.id, "overdue")]
    assert engine.tick(T0 + timedelta(days=4)) == []


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "scheduled_activity.md"
    assert ic.catalog.get("scheduled_activity").to_mermaid() in page.read_text(encoding="utf-8")
