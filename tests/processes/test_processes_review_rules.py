"""Rules of the incident and problem processes that must hold on every event, not only
on ``update``: derived priorities are recomputed whatever event carries impact or
urgency, and the incident's assignee changes only by ``assign``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.priority import DEFAULT_MATRIX

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AGENT = ic.Actor("alice", roles=frozenset({"agent", "problem_manager", "risk_owner"}))


def _walk(process: str, opening: dict[str, Any], *events: tuple[str, dict[str, Any]]) -> ic.Record:
    spec = ic.catalog.get(process)
    rec = spec.open(record_id="X-1", at=T0, actor=AGENT, fields=opening).record
    for name, fields in events:
        rec = spec.fire(rec, name, at=rec.updated_at + timedelta(minutes=1), actor=AGENT,
                        fields=fields).record  # fmt: skip
    return rec


def _consistent_or_refused(process: str, rec: ic.Record, event: str, **fields: Any) -> None:
    spec = ic.catalog.get(process)
    try:
        after = spec.fire(rec, event, at=rec.updated_at + timedelta(minutes=1), actor=AGENT,
                          fields=fields).record  # fmt: skip
    except (ic.GuardFailed, ic.ValidationError):
        return
    impact, urgency = after.get("impact"), after.get("urgency")
    assert after.get("priority") == DEFAULT_MATRIX.priority(impact, urgency)


_INCIDENT = {"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 1}
_SOLVED = {"resolution_code": "fixed", "resolution_notes": "restarted"}


@pytest.mark.parametrize("event", ["close", "cancel"])
def test_incident_priority_is_recomputed_by_every_event(event: str) -> None:
    rec = _walk(
        "incident",
        _INCIDENT,
        ("assign", {"assignee": "bob"}),
        ("start", {}),
        ("resolve", _SOLVED),
    )
    _consistent_or_refused("incident", rec, event, impact=3, urgency=3, reason="dup")


_PROBLEM = {"title": "Mail queue stalls", "impact": 1, "urgency": 1}


@pytest.mark.parametrize("event", ["close", "cancel"])
def test_problem_priority_is_recomputed_by_every_event(event: str) -> None:
    rec = _walk(
        "problem",
        _PROBLEM,
        ("investigate", {}),
        ("identify_root_cause", {"root_cause": "spool"}),
        ("start_fix", {}),
        ("resolve", {"resolution_code": "fix_applied", "corrective_action": "rotate"}),
    )
    _consistent_or_refused("problem", rec, event, impact=3, urgency=3, reason="dup")


@pytest.mark.parametrize(
    ("event", "fields"),
    [("start", {}), ("pend", {"pending_reason": "awaiting_caller"}), ("resolve", _SOLVED)],
)
def test_incident_assignee_changes_only_by_assign(event: str, fields: dict[str, Any]) -> None:
    rec = _walk("incident", _INCIDENT, ("assign", {"assignee": "bob"}))
    if event != "start":
        rec = _walk_on("incident", rec, ("start", {}))
    with pytest.raises(ic.GuardFailed) as err:
        _walk_on("incident", rec, (event, {**fields, "assignee": "eve"}))
    assert err.value.guard == "incident.assignee_via_assign"


def _walk_on(process: str, rec: ic.Record, *events: tuple[str, dict[str, Any]]) -> ic.Record:
    spec = ic.catalog.get(process)
    for name, fields in events:
        rec = spec.fire(rec, name, at=rec.updated_at + timedelta(minutes=1), actor=AGENT,
                        fields=fields).record  # fmt: skip
    return rec
