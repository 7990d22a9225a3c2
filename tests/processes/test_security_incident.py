"""The security incident process, rule by rule, through the pure spec and the engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from processes_b_support import LAYERS, Driver, paths

import itsmcore as ic
from itsmcore.processes import security_incident as si

SPEC = ic.catalog.get("security_incident")
HAL = ic.Actor("hal", roles=frozenset({"security_analyst"}))  # the handler
OTTO = ic.Actor("otto", roles=frozenset({"security_officer"}))
DETECTED = {"title": "Beaconing from finance laptop", "category": "malware"}
LESSONS = {"lessons_learned": "EDR alert was triaged late", "personal_data_involved": False}
REVIEWED = {
    **LESSONS,
    "root_cause": "Macro in a phishing attachment",
    "improvement_actions": ["Block Office macros from the internet"],
}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "processes" / "security_incident.md"


@pytest.fixture(params=LAYERS)
def drive(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)


def _recovering(drive: Driver, severity: int) -> ic.Record:
    rec = drive.open("security_incident", HAL, **DETECTED)
    return drive.walk(
        rec,
        HAL,
        ("analyse", {}),
        ("contain", {"severity": severity}),
        ("eradicate", {}),
        ("recover", {}),
    )


def _in_review(drive: Driver, severity: int = 2) -> ic.Record:
    return drive.fire(_recovering(drive, severity), "review", HAL)


# -- the phases ---------------------------------------------------------------------------


def test_incident_walks_detected_to_closed_through_every_phase(drive: Driver) -> None:
    rec = drive.open("security_incident", HAL, **DETECTED)
    states = [rec.state]
    for event, actor, fields in (
        ("analyse", HAL, {}),
        ("contain", HAL, {"severity": 1}),
        ("eradicate", HAL, {}),
        ("recover", HAL, {}),
        ("review", HAL, {}),
        ("close", OTTO, REVIEWED),
    ):
        rec = drive.fire(rec, event, actor, **fields)
        states.append(rec.state)
    assert states == [
        "detected",
        "analysing",
        "containing",
        "eradicating",
        "recovering",
        "post_incident_review",
        "closed",
    ]


def test_recovery_may_follow_containment_when_nothing_is_to_be_eradicated(
    drive: Driver,
) -> None:
    rec = drive.open("security_incident", HAL, **DETECTED)
    rec = drive.walk(rec, HAL, ("analyse", {}), ("contain", {"severity": 4}), ("recover", {}))
    assert rec.state == "recovering"


def test_opening_requires_a_title(drive: Driver) -> None:
    err = drive.open_refused(ic.ValidationError, "security_incident", HAL)
    assert paths(err) == {"$.fields.title"}


def test_severity_is_one_to_four(drive: Driver) -> None:
    for bad in (0, 5):
        err = drive.open_refused(
            ic.ValidationError, "security_incident", HAL, title="x", severity=bad
        )
        assert paths(err) == {"$.fields.severity"}


def test_an_incident_is_graded_before_it_leaves_analysis(drive: Driver) -> None:
    rec = drive.fire(drive.open("security_incident", HAL, title="Odd login"), "analyse", HAL)
    err = drive.refused(ic.ValidationError, rec, "contain", HAL)
    assert paths(err) == {"$.fields.severity", "$.fields.category"}


@pytest.mark.parametrize("state_events", [(), (("analyse", {}),)])
def test_dismiss_ends_a_false_positive_with_a_reason(
    drive: Driver, state_events: tuple[tuple[str, dict[str, Any]], ...]
) -> None:
    rec = drive.walk(drive.open("security_incident", HAL, **DETECTED), HAL, *state_events)
    drive.refused(ic.ValidationError, rec, "dismiss", HAL)
    rec = drive.fire(rec, "dismiss", HAL, reason="Red-team exercise, announced")
    assert rec.state == "false_positive"


def test_a_contained_incident_cannot_be_dismissed(drive: Driver) -> None:
    rec = _recovering(drive, 3)
    drive.refused(ic.InvalidTransition, rec, "dismiss", HAL, reason="nothing")


def test_severity_names_follow_the_four_grades() -> None:
    assert si.SEVERITY_NAMES == {
        1: "I especially major",
        2: "II major",
        3: "III larger",
        4: "IV general",
    }


# -- severity changes ---------------------------------------------------------------------


def test_anyone_may_raise_the_severity(drive: Driver) -> None:
    rec = _recovering(drive, 3)
    assert drive.fire(rec, "update", HAL, severity=1).get("severity") == 1


def test_only_a_security_officer_may_lower_the_severity(drive: Driver) -> None:
    rec = _recovering(drive, 2)
    err = drive.refused(ic.Forbidden, rec, "update", HAL, severity=3)
    assert err.by == "security_incident.severity_change"
    assert "II major" in str(err)
    assert drive.fire(rec, "update", OTTO, severity=3).get("severity") == 3


def test_the_downgrade_rule_holds_on_every_event(drive: Driver) -> None:
    rec = _recovering(drive, 2)
    drive.refused(ic.Forbidden, rec, "review", HAL, severity=4)


def test_severity_is_never_cleared(drive: Driver) -> None:
    rec = _recovering(drive, 2)
    drive.refused(ic.GuardFailed, rec, "update", OTTO, severity=None)


# -- closing ------------------------------------------------------------------------------


def test_only_a_security_officer_may_close(drive: Driver) -> None:
    err = drive.refused(ic.Forbidden, _in_review(drive), "close", HAL, **REVIEWED)
    assert "security_officer" in str(err)


def test_closing_requires_lessons_learned(drive: Driver) -> None:
    rec = _in_review(drive)
    fields = {k: v for k, v in REVIEWED.items() if k != "lessons_learned"}
    err = drive.refused(ic.ValidationError, rec, "close", OTTO, **fields)
    assert paths(err) == {"$.fields.lessons_learned"}
    err2 = drive.refused(ic.GuardFailed, rec, "close", OTTO, **fields, lessons_learned=" ")
    assert err2.guard == "security_incident.lessons_learned"


def test_closing_requires_a_personal_data_decision(drive: Driver) -> None:
    rec = _in_review(drive)
    fields = {k: v for k, v in REVIEWED.items() if k != "personal_data_involved"}
    err = drive.refused(ic.GuardFailed, rec, "close", OTTO, **fields)
    assert "personal_data_involved" in err.reason
    err2 = drive.refused(ic.GuardFailed, rec, "close", OTTO, **fields, personal_data_involved=True)
    assert "regulator_notified" in err2.reason
    rec = drive.fire(
        rec, "close", OTTO, **fields, personal_data_involved=True, regulator_notified=True
    )
    assert rec.state == "closed"


def test_a_reviewed_incident_closes_with_root_cause_and_actions(drive: Driver) -> None:
    rec = _in_review(drive)
    err = drive.refused(ic.ValidationError, rec, "close", OTTO, **LESSONS)
    assert paths(err) == {"$.fields.root_cause"}
    err2 = drive.refused(ic.GuardFailed, rec, "close", OTTO, **LESSONS, root_cause="phish")
    assert "improvement_actions" in err2.reason
    rec = drive.fire(
        rec, "close", OTTO, **LESSONS, root_cause="phish", no_actions_reason="Training done"
    )
    assert rec.state == "closed"


@pytest.mark.parametrize("severity", [3, 4])
def test_severity_three_and_four_may_close_without_a_review(drive: Driver, severity: int) -> None:
    rec = drive.fire(_recovering(drive, severity), "close", OTTO, **LESSONS)
    assert rec.state == "closed"
    assert "review" not in [e.name for e in drive.history(rec.id)]


@pytest.mark.parametrize("severity", [1, 2])
def test_severity_one_and_two_cannot_skip_the_post_incident_review(
    drive: Driver, severity: int
) -> None:
    err = drive.refused(ic.GuardFailed, _recovering(drive, severity), "close", OTTO, **LESSONS)
    assert err.guard == "security_incident.minor_only"
    assert "fire 'review'" in err.reason


def test_an_officer_may_downgrade_and_close_in_one_event(drive: Driver) -> None:
    rec = drive.fire(_recovering(drive, 2), "close", OTTO, **LESSONS, severity=3)
    assert rec.state == "closed"


def test_docs_page_shows_the_current_diagram() -> None:
    assert SPEC.to_mermaid() in DOCS.read_text(encoding="utf-8")
