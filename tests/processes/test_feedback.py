"""The feedback process and its closed loop, through the pure spec and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.feedback import follow_up_fields

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
DESK = ic.Actor("dora", roles=frozenset({"agent"}))
CAROL = ic.Actor("carol")
OPEN = {"title": "How did we do on INC-000007?", "subject": "INC-000007",
        "respondent": "carol", "channel": "online_questionnaire"}  # fmt: skip
SPEC = ic.catalog.get("feedback")


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="FBK-1", at=T0, actor=DESK, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = DESK, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def test_feedback_walks_sent_responded_analysed_actioned_closed() -> None:
    rec = _open()
    states = [rec.state]
    for event, actor, fields in (
        ("respond", CAROL, {"csat": 4, "nps": 9}),
        ("analyse", DESK, {"analysis": "fast fix, polite agent"}),
        ("record_action", DESK, {"action_taken": "shared as good practice"}),
        ("close", DESK, {}),
    ):
        rec = _fire(rec, event, actor=actor, **fields)
        states.append(rec.state)
    assert states == ["sent", "responded", "analysed", "actioned", "closed"]


def test_open_requires_title_subject_and_respondent() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="FBK-1", at=T0, actor=DESK, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title", "$.fields.subject", "$.fields.respondent"
    }  # fmt: skip


def test_respond_requires_a_csat_score() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "respond", actor=CAROL)
    assert err.value.errors == (("$.fields.csat", "is required to respond"),)


@pytest.mark.parametrize(("field", "value"), [("csat", 0), ("csat", 6), ("nps", -1), ("nps", 11)])
def test_csat_is_1_to_5_and_nps_0_to_10(field: str, value: int) -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "respond", actor=CAROL, **{"csat": 3, field: value})
    assert err.value.errors[0][0] == f"$.fields.{field}"


def test_nps_is_optional() -> None:
    rec = _fire(_open(), "respond", actor=CAROL, csat=5)
    assert rec.get("nps") is None
    assert rec.get("responded_at") == rec.updated_at


@pytest.mark.parametrize(("csat", "required"), [(1, True), (2, True), (3, False), (5, False)])
def test_a_score_of_two_or_less_requires_a_follow_up(csat: int, required: bool) -> None:
    rec = _fire(_open(), "respond", actor=CAROL, csat=csat)
    assert rec.get("follow_up_required") is required


def test_the_follow_up_threshold_is_a_host_option() -> None:
    spec = SPEC.with_options(follow_up_threshold=3, nps_follow_up_threshold=6)
    rec = spec.open(record_id="FBK-1", at=T0, actor=DESK, fields=OPEN).record
    assert spec.fire(rec, "respond", at=T0, actor=CAROL,
                     fields={"csat": 3}).record.get("follow_up_required")  # fmt: skip
    low_nps = spec.fire(rec, "respond", at=T0, actor=CAROL, fields={"csat": 5, "nps": 6}).record
    assert low_nps.get("follow_up_required") is True


def test_low_scored_feedback_cannot_close_without_its_follow_up() -> None:
    rec = _fire(_open(), "respond", actor=CAROL, csat=1)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "close")
    assert err.value.guard == "feedback.loop_closed"
    rec = _fire(rec, "record_follow_up", follow_up="INC-000042")
    assert _fire(rec, "close").state == "closed"


def test_scores_are_given_only_by_respond() -> None:
    rec = _fire(_open(), "respond", actor=CAROL, csat=1)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", csat=5)
    assert err.value.guard == "feedback.scores_fixed"
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "update", csat=5)


def test_no_score_is_pre_set_on_open_or_given_on_expiry() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(csat=5)
    assert err.value.guard == "feedback.scores_fixed"
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "expire", csat=1)


def test_follow_up_required_is_derived_not_given() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "respond", actor=CAROL, csat=1, follow_up_required=False)


def test_expire_ends_an_unanswered_survey_and_its_timer_reads_expires_at() -> None:
    assert _fire(_open(), "expire").state == "expired"
    timer = next(t for t in SPEC.timers if t.name == "expire")
    assert (timer.state, timer.event, timer.at_field) == ("sent", "expire", "expires_at")
    with pytest.raises(ic.InvalidTransition):
        _fire(_fire(_open(), "respond", actor=CAROL, csat=3), "expire")


def test_default_follow_up_fields_fit_an_incident() -> None:
    rec = _fire(_open(comment="took three days"), "respond", actor=CAROL, csat=1)
    fields = follow_up_fields(rec, ic.catalog.get("incident"))
    assert fields["caller"] == "carol"
    assert fields["description"] == "took three days"
    assert "FBK-1" in fields["title"]
    assert "INC-000007" in fields["title"]
    opened = ic.catalog.get("incident").open(record_id="INC-1", at=T0, actor=DESK, fields=fields)
    assert opened.record.state == "new"


# -- through the engine -----------------------------------------------------------------------


def test_engine_opens_a_linked_follow_up_incident_for_a_low_score() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK, fields=OPEN)
    fb, incident = engine.respond_to_survey(
        fb.id, at=T0 + timedelta(days=1), actor=CAROL, fields={"csat": 2, "comment": "slow"}
    )
    assert incident is not None
    assert incident.process == "incident"
    assert incident.state == "new"
    assert fb.get("follow_up") == incident.id
    assert incident.linked("follow_up_of") == (fb.id,)
    assert fb.linked("follow_up_of") == (incident.id,)
    assert engine.get(fb.id) == fb
    assert engine.get(incident.id) == incident
    assert [e.name for e in engine.history(fb.id)] == [
        "open", "respond", "link", "record_follow_up"
    ]  # fmt: skip
    closed = engine.fire(fb.id, "close", at=T0 + timedelta(days=2), actor=DESK)
    assert closed.state == "closed"


def test_engine_opens_no_follow_up_for_a_good_score() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK, fields=OPEN)
    fb, follow = engine.respond_to_survey(fb.id, at=T0, actor=CAROL, fields={"csat": 5})
    assert follow is None
    assert fb.state == "responded"
    assert engine.find(process="incident") == []


def test_engine_follow_up_fields_and_process_can_be_chosen() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK, fields=OPEN)
    _, incident = engine.respond_to_survey(
        fb.id, at=T0, actor=CAROL, fields={"csat": 1},
        follow_up_fields={"impact": 2, "urgency": 1},
    )  # fmt: skip
    assert incident is not None
    assert (incident.get("impact"), incident.get("urgency")) == (2, 1)


def test_engine_refused_response_stores_nothing() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK, fields=OPEN)
    with pytest.raises(ic.ValidationError):
        engine.respond_to_survey(fb.id, at=T0, actor=CAROL, fields={"csat": 9})
    with pytest.raises(ic.ValidationError):
        # the follow-up incident's fields are refused: neither record is written
        engine.respond_to_survey(fb.id, at=T0, actor=CAROL, fields={"csat": 1},
                                 follow_up_fields={"impact": 7})  # fmt: skip
    assert engine.get(fb.id) == fb
    assert len(engine.history(fb.id)) == 1
    assert engine.find(process="incident") == []


def test_engine_stale_response_is_a_concurrency_error() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK, fields=OPEN)
    engine.fire(fb.id, "update", at=T0, actor=DESK, fields={"agent": "dan"})
    with pytest.raises(ic.ConcurrencyError):
        engine.respond_to_survey(fb.id, at=T0, actor=CAROL, fields={"csat": 1},
                                 expected_version=fb.version)  # fmt: skip
    assert engine.find(process="incident") == []


def test_engine_expires_an_unanswered_survey_at_expires_at() -> None:
    engine = ic.Engine.in_memory()
    fb = engine.open("feedback", at=T0, actor=DESK,
                     fields={**OPEN, "expires_at": T0 + timedelta(days=14)})  # fmt: skip
    engine.tick(T0 + timedelta(days=14))
    assert engine.get(fb.id).state == "expired"
    assert engine.history(fb.id)[-1].actor == ic.SYSTEM


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "feedback.md"
    assert ic.catalog.get("feedback").to_mermaid() in page.read_text(encoding="utf-8")
