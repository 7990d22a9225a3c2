"""The problem process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ANALYST = ic.Actor("pat", roles=frozenset({"problem_manager"}))
OPEN = {"title": "Mail queue stalls nightly", "impact": 2, "urgency": 2}
SPEC = ic.catalog.get("problem")


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="PRB-1", at=T0, actor=ANALYST, fields={**OPEN, **extra}).record


def _walk(rec: ic.Record, *events: tuple[str, dict[str, Any]]) -> ic.Record:
    at = rec.updated_at
    for name, fields in events:
        at += timedelta(minutes=1)
        rec = SPEC.fire(rec, name, at=at, actor=ANALYST, fields=fields).record
    return rec


def _fire(rec: ic.Record, event: str, **fields: Any) -> ic.Record:
    return SPEC.fire(
        rec, event, at=rec.updated_at + timedelta(minutes=1), actor=ANALYST, fields=fields
    ).record


_ROOT = ("identify_root_cause", {"root_cause": "disk fills with spool files"})
_FIX = {"resolution_code": "fix_applied", "corrective_action": "rotate spool daily"}


def _root_cause_known() -> ic.Record:
    return _walk(_open(), ("investigate", {}), _ROOT)


def _resolved() -> ic.Record:
    return _walk(_root_cause_known(), ("start_fix", {}), ("resolve", _FIX))


# -- the lifecycle ----------------------------------------------------------------------------


def test_problem_walks_new_investigating_root_cause_fix_resolved_closed() -> None:
    rec = _open()
    states = [rec.state]
    for name, fields in (
        ("investigate", {}),
        _ROOT,
        ("start_fix", {}),
        ("resolve", _FIX),
        ("close", {"resolution_effect": "verified_fixed"}),
    ):
        rec = _fire(rec, name, **fields)
        states.append(rec.state)
    assert states == [
        "new",
        "investigating",
        "root_cause_known",
        "fix_in_progress",
        "resolved",
        "closed",
    ]
    assert rec.version == 6


def test_open_requires_title_impact_and_urgency() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="PRB-1", at=T0, actor=ANALYST, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title",
        "$.fields.impact",
        "$.fields.urgency",
    }


def test_priority_comes_from_the_incident_matrix() -> None:
    incident = ic.catalog.get("incident")
    for impact in (1, 2, 3):
        for urgency in (1, 2, 3):
            fields = {**OPEN, "impact": impact, "urgency": urgency}
            inc = incident.open(
                record_id="INC-1", at=T0, actor=ANALYST, fields={**fields, "caller": "carol"}
            ).record
            assert _open(impact=impact, urgency=urgency).get("priority") == inc.get("priority")


def test_priority_is_recomputed_when_impact_changes() -> None:
    rec = _fire(_open(impact=3, urgency=3), "update", impact=1)
    assert rec.get("priority") == ic.DEFAULT_MATRIX.priority(1, 3)


def test_host_priority_matrix_option_is_used() -> None:
    flat = {
        "impacts": [1, 2, 3],
        "urgencies": [1, 2, 3],
        "priorities": [[4, 4, 4], [4, 4, 4], [4, 4, 4]],
    }
    spec = SPEC.with_options(priority_matrix=flat)
    rec = spec.open(
        record_id="PRB-1", at=T0, actor=ANALYST, fields={**OPEN, "impact": 1, "urgency": 1}
    ).record
    assert rec.get("priority") == 4


def test_priority_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(priority=1)
    assert err.value.errors[0][0] == "$.fields.priority"


# -- root cause -------------------------------------------------------------------------------


def test_identify_root_cause_requires_root_cause() -> None:
    rec = _walk(_open(), ("investigate", {}))
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "identify_root_cause")
    assert err.value.errors == (("$.fields.root_cause", "is required to identify_root_cause"),)


def test_a_blank_root_cause_is_refused() -> None:
    rec = _walk(_open(), ("investigate", {}))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "identify_root_cause", root_cause="   ")
    assert err.value.guard == "problem.root_cause_given"
    assert "root_cause" in err.value.reason


def test_root_cause_cannot_be_identified_before_investigating() -> None:
    with pytest.raises(ic.InvalidTransition) as err:
        _fire(_open(), "identify_root_cause", root_cause="x")
    assert err.value.state == "new"
    assert "investigate" in err.value.allowed


# -- resolve ----------------------------------------------------------------------------------


def test_resolve_requires_resolution_code_and_corrective_action() -> None:
    rec = _walk(_root_cause_known(), ("start_fix", {}))
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "resolve")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.resolution_code",
        "$.fields.corrective_action",
    }


def test_resolution_code_must_be_fix_applied_or_risk_accepted() -> None:
    rec = _walk(_root_cause_known(), ("start_fix", {}))
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "resolve", resolution_code="fixed", corrective_action="x")
    path, message = err.value.errors[0]
    assert path == "$.fields.resolution_code"
    assert "fix_applied" in message
    assert "risk_accepted" in message


def test_a_blank_corrective_action_is_refused() -> None:
    rec = _walk(_root_cause_known(), ("start_fix", {}))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "resolve", resolution_code="fix_applied", corrective_action=" ")
    assert err.value.guard == "problem.corrective_action_given"


def test_risk_accepted_resolves_straight_from_root_cause_known() -> None:
    rec = _fire(
        _root_cause_known(),
        "resolve",
        resolution_code="risk_accepted",
        corrective_action="monitor queue depth",
    )
    assert rec.state == "resolved"


def test_fix_applied_cannot_resolve_from_root_cause_known() -> None:
    rec = _root_cause_known()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "resolve", **_FIX)
    assert err.value.guard == "problem.risk_accepted_only"
    assert "start_fix" in err.value.reason


def test_risk_accepted_may_also_resolve_from_fix_in_progress() -> None:
    rec = _walk(_root_cause_known(), ("start_fix", {}))
    rec = _fire(rec, "resolve", resolution_code="risk_accepted", corrective_action="monitor")
    assert rec.state == "resolved"


# -- close, reanalyze, cancel, update ---------------------------------------------------------


def test_an_ineffective_resolution_cannot_close() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_resolved(), "close", resolution_effect="ineffective")
    assert err.value.guard == "problem.effect_not_ineffective"
    assert "reanalyze" in err.value.reason


def test_reanalyze_takes_a_resolved_problem_back_to_investigating() -> None:
    rec = _fire(_resolved(), "reanalyze", reason="recurred on 2 Dec")
    assert rec.state == "investigating"
    assert rec.get("reanalysis_count") == 1
    assert rec.get("resolution_code") is None
    assert rec.get("root_cause") == "disk fills with spool files"


def test_reanalyze_requires_a_reason() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_resolved(), "reanalyze")
    with pytest.raises(ic.GuardFailed):
        _fire(_resolved(), "reanalyze", reason="  ")


def test_a_reanalysed_problem_states_a_fresh_resolution_code() -> None:
    rec = _walk(_fire(_resolved(), "reanalyze", reason="recurred"), _ROOT, ("start_fix", {}))
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "resolve", corrective_action="bigger disk")
    assert err.value.errors[0][0] == "$.fields.resolution_code"


def test_reanalysis_is_counted_each_time() -> None:
    rec = _fire(_resolved(), "reanalyze", reason="once")
    rec = _walk(rec, _ROOT, ("start_fix", {}), ("resolve", _FIX), ("reanalyze", {"reason": "2"}))
    assert rec.get("reanalysis_count") == 2


@pytest.mark.parametrize("state_events", [0, 1, 2, 3, 4])
def test_cancel_is_allowed_from_every_open_state(state_events: int) -> None:
    steps = [("investigate", {}), _ROOT, ("start_fix", {}), ("resolve", _FIX)][:state_events]
    rec = _fire(_walk(_open(), *steps), "cancel", reason="duplicate of PRB-7")
    assert rec.state == "cancelled"


def test_cancel_requires_a_reason() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "cancel")


def test_update_cannot_clear_the_root_cause_once_known() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_root_cause_known(), "update", root_cause=None)
    assert err.value.guard == "problem.keeps_required"
    assert "root_cause" in err.value.reason


@pytest.mark.parametrize("event", ["start_fix", "resolve"])
def test_no_event_clears_the_root_cause_once_known(event: str) -> None:
    fields = {"resolution_code": "risk_accepted", "corrective_action": "accept"}
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_root_cause_known(), event, root_cause=None, **(fields if event == "resolve" else {}))
    assert err.value.guard == "problem.keeps_required"


def test_update_cannot_clear_the_title() -> None:
    with pytest.raises(ic.ValidationError, match="cannot be cleared"):
        _fire(_open(), "update", title=None)


def test_resolution_code_is_given_only_with_resolve() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "investigate", resolution_code="risk_accepted")
    assert err.value.guard == "problem.resolution_in_place"
    with pytest.raises(ic.GuardFailed):
        _open(resolution_code="fix_applied")


def test_resolution_effect_is_given_once_resolved() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_root_cause_known(), "update", resolution_effect="verified_fixed")
    rec = _fire(_resolved(), "update", resolution_effect="not_verified")
    assert rec.get("resolution_effect") == "not_verified"


def test_closed_problem_is_terminal() -> None:
    rec = _fire(_resolved(), "close")
    assert SPEC.allowed(rec) == ()
    with pytest.raises(ic.InvalidTransition):
        _fire(rec, "reanalyze", reason="late")


# -- through the engine -----------------------------------------------------------------------


def test_engine_walks_a_problem_and_replays_it() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("problem", at=T0, actor=ANALYST, fields=OPEN)
    assert rec.id.startswith("PRB-")
    at = T0
    for name, fields in (
        ("investigate", {}),
        _ROOT,
        ("resolve", {"resolution_code": "risk_accepted", "corrective_action": "monitor"}),
        ("close", {}),
    ):
        at += timedelta(hours=1)
        rec = engine.fire(rec.id, name, at=at, actor=ANALYST, fields=fields)
    assert rec.state == "closed"
    assert ic.replay(SPEC, engine.history(rec.id)) == engine.get(rec.id)


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        ("identify_root_cause", {}, ic.ValidationError),
        ("identify_root_cause", {"root_cause": ""}, ic.GuardFailed),
        ("resolve", _FIX, ic.GuardFailed),
        ("start_fix", {"impact": 9}, ic.ValidationError),
        ("close", {}, ic.InvalidTransition),
    ],
)
def test_engine_refusals_store_nothing(
    event: str, fields: dict[str, Any], error: type[Exception]
) -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("problem", at=T0, actor=ANALYST, fields=OPEN)
    rec = engine.fire(rec.id, "investigate", at=T0, actor=ANALYST)
    if event != "identify_root_cause":
        rec = engine.fire(
            rec.id, "identify_root_cause", at=T0, actor=ANALYST, fields={"root_cause": "spool"}
        )
    with pytest.raises(error):
        engine.fire(rec.id, event, at=T0 + timedelta(minutes=5), actor=ANALYST, fields=fields)
    assert engine.get(rec.id).version == rec.version
    assert len(engine.history(rec.id)) == rec.version


def test_engine_links_incidents_to_their_problem() -> None:
    engine = ic.Engine.in_memory()
    prb = engine.open("problem", at=T0, actor=ANALYST, fields=OPEN)
    inc = engine.open(
        "incident",
        at=T0,
        actor=ANALYST,
        fields={"title": "Mail slow", "impact": 2, "urgency": 2, "caller": "c"},
    )
    engine.link(inc.id, prb.id, "caused_by", at=T0, actor=ANALYST)
    assert engine.get(prb.id).linked("caused_by") == (inc.id,)


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "problem.md"
    assert ic.catalog.get("problem").to_mermaid() in page.read_text(encoding="utf-8")
