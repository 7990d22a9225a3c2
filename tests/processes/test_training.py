"""The training enrollment process, rule by rule, through the pure spec and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
COORDINATOR = ic.Actor("tina", roles=frozenset({"training_coordinator"}))
TRAINEE = ic.Actor("paul")
OPEN = {"title": "Major incident handling", "person": "paul", "course": "MIM-101",
        "topic": "service_process", "method": "simulation_drill",
        "channel": "internal_sharing", "materials": ["KB-000012"]}  # fmt: skip
SPEC = ic.catalog.get("training_enrollment")


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="ENR-1", at=T0, actor=COORDINATOR, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = COORDINATOR, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _attended() -> ic.Record:
    return _fire(_fire(_open(), "enroll"), "attend")


def test_enrollment_walks_planned_enrolled_attended_assessed_certified() -> None:
    rec = _open()
    states = [rec.state]
    for event, fields in (
        ("enroll", {}),
        ("attend", {}),
        ("assess", {"result": "passed", "score": 87.5}),
        ("certify", {"certification": "CRT-000001"}),
    ):
        rec = _fire(rec, event, **fields)
        states.append(rec.state)
    assert states == ["planned", "enrolled", "attended", "assessed", "certified"]
    assert rec.get("assessed_by") == "tina"


def test_open_requires_title_person_and_course() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="ENR-1", at=T0, actor=COORDINATOR, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title", "$.fields.person", "$.fields.course"
    }  # fmt: skip


@pytest.mark.parametrize(
    ("field", "value"),
    [("topic", "cooking"), ("method", "lecture"), ("channel", "tv"), ("score", 101)],
)
def test_topic_method_channel_and_score_are_checked(field: str, value: Any) -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(**{field: value})
    assert err.value.errors[0][0] == f"$.fields.{field}"


def test_assess_requires_a_result() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_attended(), "assess")


def test_a_participant_cannot_assess_themselves() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_attended(), "assess", actor=TRAINEE, result="passed")
    assert err.value.guard == "training_enrollment.independent_assessor"


def test_the_participant_is_fixed_once_enrolled() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_attended(), "assess", actor=TRAINEE, person="someone_else", result="passed")
    assert err.value.guard == "training_enrollment.outcome_via_its_event"
    passed = _fire(_attended(), "assess", result="passed")
    with pytest.raises(ic.GuardFailed):
        _fire(passed, "update", person="someone_else")


def test_only_a_passed_participant_is_certified() -> None:
    rec = _fire(_attended(), "assess", result="failed")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "certify", certification="CRT-1")
    assert err.value.guard == "training_enrollment.passed"


def test_certify_cannot_overwrite_a_failed_result() -> None:
    rec = _fire(_attended(), "assess", result="failed")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "certify", certification="CRT-1", result="passed")
    assert err.value.guard == "training_enrollment.outcome_via_its_event"


def test_open_may_not_pre_set_the_result() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(result="passed")
    assert err.value.guard == "training_enrollment.outcome_via_its_event"


@pytest.mark.parametrize("event", ["enroll", "attend", "update"])
def test_no_other_event_may_pre_set_the_result(event: str) -> None:
    rec = _fire(_open(), "enroll") if event == "attend" else _open()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, event, result="passed")
    assert err.value.guard == "training_enrollment.outcome_via_its_event"


def test_a_failed_participant_retakes_and_attempts_are_counted() -> None:
    rec = _open()
    assert rec.get("attempts") == 1
    rec = _fire(_fire(_attended(), "assess", result="failed"), "retake")
    assert rec.state == "enrolled"
    assert rec.get("attempts") == 2
    assert rec.get("result") is None
    with pytest.raises(ic.GuardFailed):
        _fire(_fire(_attended(), "assess", result="passed"), "retake")


def test_complete_ends_an_assessed_enrollment_without_a_certificate() -> None:
    rec = _fire(_fire(_attended(), "assess", result="failed"), "complete")
    assert rec.state == "completed"
    assert SPEC.allowed(rec) == ()


def test_cancel_needs_a_reason_and_is_not_allowed_after_assessment() -> None:
    assert _fire(_open(), "cancel", reason="no-show").state == "cancelled"
    with pytest.raises(ic.InvalidTransition):
        _fire(_fire(_attended(), "assess", result="passed"), "cancel", reason="x")


# -- through the engine -----------------------------------------------------------------------


def test_engine_certifies_by_opening_the_linked_certification_atomically() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("training_enrollment", at=T0, actor=COORDINATOR, fields=OPEN)
    for event, fields in (("enroll", {}), ("attend", {}), ("assess", {"result": "passed"})):
        rec = engine.fire(rec.id, event, at=T0, actor=COORDINATOR, fields=fields)
    cert = engine.open_follow_up(
        rec.id, "certification", at=T0 + timedelta(days=1), actor=COORDINATOR,
        event="certify", ref_field="certification",
        fields={"title": "MIM practitioner", "person": "paul", "competency": "major_incident",
                "issued_at": T0 + timedelta(days=1), "enrollment": rec.id},
    )  # fmt: skip
    enrollment = engine.get(rec.id)
    assert enrollment.state == "certified"
    assert enrollment.get("certification") == cert.id
    assert cert.linked("follow_up_of") == (rec.id,)
    assert engine.get(cert.id) == cert


def test_engine_refuses_to_certify_a_failed_participant_and_opens_nothing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("training_enrollment", at=T0, actor=COORDINATOR, fields=OPEN)
    for event, fields in (("enroll", {}), ("attend", {}), ("assess", {"result": "failed"})):
        rec = engine.fire(rec.id, event, at=T0, actor=COORDINATOR, fields=fields)
    with pytest.raises(ic.GuardFailed):
        engine.open_follow_up(
            rec.id, "certification", at=T0, actor=COORDINATOR, event="certify",
            ref_field="certification",
            fields={"title": "x", "person": "paul", "competency": "c", "issued_at": T0},
        )  # fmt: skip
    assert engine.get(rec.id) == rec
    assert engine.find(process="certification") == []


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "training_enrollment.md"
    assert ic.catalog.get("training_enrollment").to_mermaid() in page.read_text(encoding="utf-8")
