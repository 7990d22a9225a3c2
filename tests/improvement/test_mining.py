"""Process mining over incident histories, against figures computed by hand."""

from __future__ import annotations

import contextlib
import io
import re
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.improvement.kpis import History
from itsmcore.improvement.mining import ProcessMap, TransitionStats, process_map
from itsmcore.sla.availability import Period

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))
SPEC = ic.catalog.get("incident")
OPEN = {"title": "VPN down", "caller": "dave", "impact": 2, "urgency": 2}
FIX = {"resolution_code": "fixed", "resolution_notes": "restarted"}


def m(minutes: float) -> timedelta:
    return timedelta(minutes=minutes)


def _history(
    rid: str, steps: list[tuple[str, float, dict[str, Any]]], start: datetime = T0
) -> History:
    """Open ``rid`` at ``start`` and fire ``(event, minutes after start, fields)``."""
    step = SPEC.open(record_id=rid, at=start, actor=AGENT, fields=OPEN)
    events = [step.event]
    for event, minutes, fields in steps:
        step = SPEC.fire(step.record, event, at=start + m(minutes), actor=AGENT, fields=fields)
        events.append(step.event)
    return History.of(step.record, events)


def _four() -> list[History]:
    bob, carol = {"assignee": "bob"}, {"assignee": "carol"}
    return [
        _history("INC-A", [("assign", 10, bob), ("start", 15, {}), ("resolve", 75, FIX),
                           ("close", 135, {})]),
        _history("INC-B", [("assign", 20, bob), ("assign", 25, carol), ("start", 30, {}),
                           ("resolve", 60, FIX), ("reopen", 90, {}), ("resolve", 120, FIX),
                           ("close", 180, {})]),
        _history("INC-C", [("cancel", 5, {"reason": "duplicate call"})]),
        _history("INC-D", [("assign", 5, bob)]),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def incident_map() -> ProcessMap:
    return process_map(_four())


def test_time_in_each_state_is_mean_p50_p90_of_completed_visits(incident_map: ProcessMap) -> None:
    v = incident_map.version("incident")
    new = v.state("new")
    assert (new.visits, new.records, new.completed) == (4, 4, 4)
    # completed visits 10, 20, 5, 5 min: nearest-rank p50 is the 2nd of 4, p90 the 4th
    assert (new.mean, new.p50, new.p90) == (m(10), m(5), m(20))
    assigned = v.state("assigned")  # INC-D is still assigned: a visit, not yet a duration
    assert (assigned.visits, assigned.completed, assigned.mean) == (3, 2, m(7.5))
    assert (assigned.p50, assigned.p90) == (m(5), m(10))
    in_progress = v.state("in_progress")  # 60, 30 and (after the reopen) 30 min
    assert (in_progress.visits, in_progress.records, in_progress.revisits) == (3, 2, 1)
    assert (in_progress.mean, in_progress.p50, in_progress.p90) == (m(40), m(30), m(60))
    closed = v.state("closed")
    assert (closed.visits, closed.completed, closed.p50) == (2, 0, None)
    assert [s.state for s in v.states] == [
        "new", "assigned", "in_progress", "resolved", "closed", "cancelled"]  # fmt: skip


def test_transitions_are_counted_with_the_median_time_in_their_source(
    incident_map: ProcessMap,
) -> None:
    v = incident_map.version("incident")
    assert v.transition(None, "open", "new") == TransitionStats(None, "open", "new", 4)
    assert v.transition("new", "assign", "assigned") == TransitionStats(
        "new", "assign", "assigned", 3, m(10), m(35) / 3
    )
    assert v.transition("assigned", "assign", "assigned").count == 1  # a self-transition
    assert v.transition("assigned", "assign", "assigned").p50 is None
    assert v.transition("in_progress", "resolve", "resolved").p50 == m(30)
    assert v.transition("resolved", "reopen", "in_progress").count == 1
    assert v.transition("resolved", "close", "closed").count == 2
    assert sum(t.count for t in v.transitions) == v.events == 4 + 4 + 7 + 1 + 1
    with pytest.raises(ic.NotFound):
        v.transition("new", "resolve", "resolved")


def test_link_and_unlink_events_are_relations_not_transitions() -> None:
    from itsmcore.machine import apply_link, apply_unlink

    plain = _history("INC-A", [("assign", 10, {"assignee": "bob"})])
    opened = SPEC.open(record_id="INC-A", at=T0, actor=AGENT, fields=OPEN)
    link = ic.Link("relates_to", "INC-A", "INC-Z", T0 + m(1))
    step = apply_link(opened.record, SPEC, link, actor=AGENT)
    events = [opened.event, step.event]
    step = apply_unlink(step.record, SPEC, link, at=T0 + m(2), actor=AGENT)
    events.append(step.event)
    step = SPEC.fire(step.record, "assign", at=T0 + m(10), actor=AGENT, fields={"assignee": "bob"})
    related = History.of(step.record, (*events, step.event))
    a, b = process_map([plain]).version("incident"), process_map([related]).version("incident")
    assert b.transitions == a.transitions
    assert b.events == a.events == 2


def test_rework_reopens_and_handoffs(incident_map: ProcessMap) -> None:
    v = incident_map.version("incident")
    assert (v.rework_records, v.rework_share) == (1, Fraction(1, 4))
    assert (v.reopens, v.reopened_records) == (1, 1)
    assert (v.handoffs, v.handoff_records) == (1, 1)  # bob → carol; the first assign is none
    assert v.state("resolved").revisits == 1


def test_the_happy_path_share_is_over_records_that_finished(incident_map: ProcessMap) -> None:
    v = incident_map.version("incident")
    assert v.path_population == 3  # INC-D is not finished
    assert {p.states for p in v.paths} == {
        ("new", "assigned", "in_progress", "resolved", "closed"),
        ("new", "assigned", "in_progress", "resolved", "in_progress", "resolved", "closed"),
        ("new", "cancelled"),
    }
    assert v.happy_path is not None
    assert v.happy_path.share == Fraction(1, 3)
    more = process_map([*_four(), *(_history(f"INC-{i}", [("cancel", 1, {"reason": "dup"})])
                                     for i in range(3))])  # fmt: skip
    happy = more.version("incident").happy_path
    assert happy is not None
    assert (happy.states, happy.count, happy.share) == (("new", "cancelled"), 4, Fraction(4, 6))


def test_a_state_always_passed_straight_through_is_flagged() -> None:
    quick = [
        _history(f"INC-{i}", [("assign", 3, {"assignee": "bob"}), ("start", 3, {}),
                              ("resolve", 40, FIX)])
        for i in range(3)
    ]  # fmt: skip
    assert process_map(quick).version("incident").pass_through == ("assigned",)
    slow = _history("INC-9", [("assign", 3, {"assignee": "bob"}), ("start", 9, {})])
    assert process_map([*quick, slow]).version("incident").pass_through == ()


def test_a_period_takes_records_opened_in_it_and_their_events_before_its_end() -> None:
    period = Period(T0, T0 + m(100))
    late = _history("INC-L", [("assign", 1, {"assignee": "bob"})], start=T0 + m(200))
    v = process_map([*_four(), late], period=period).version("incident")
    assert v.records == 4
    assert v.state("resolved").visits == 2  # A at 75, B at 60; B's second resolve is at 120
    assert v.state("resolved").completed == 1  # B reopened at 90; A is still resolved at 100
    with pytest.raises(ic.NotFound):
        v.state("closed")


def test_spec_versions_and_processes_are_mapped_apart() -> None:
    histories = _four()
    other = History("incident", histories[0].events, spec_version=2)
    change = History("change", histories[2].events)
    pm = process_map([*histories, other, change])
    assert [(v.process, v.spec_version, v.records) for v in pm.versions] == [
        ("change", 1, 1), ("incident", 1, 4), ("incident", 2, 1)]  # fmt: skip
    assert pm.version("incident").spec_version == 2
    assert pm.version("incident", 2).terminal == ("closed",)  # unknown spec: from the data
    with pytest.raises(ic.ValidationError):
        pm.to_mermaid()
    assert pm.to_mermaid("incident", 1).startswith("stateDiagram-v2\n")


def test_the_mermaid_diagram_has_counts_and_median_times_on_its_edges(
    incident_map: ProcessMap,
) -> None:
    text = incident_map.to_mermaid()
    assert text.splitlines()[0] == "stateDiagram-v2"
    assert "    [*] --> new : open · 4" in text
    assert "    new --> assigned : assign · 3 · p50 10m" in text
    assert "    in_progress --> resolved : resolve · 3 · p50 30m" in text
    assert "    resolved --> closed : resolve · 2" not in text
    assert "    in_progress : in_progress (3 visits, p50 30m)" in text
    assert "    closed --> [*]" in text
    assert "    cancelled --> [*]" in text


def test_bad_input_is_a_validation_error_with_paths() -> None:
    with pytest.raises(ic.ValidationError) as err:
        process_map([_four()[0], "INC-1"])  # type: ignore[list-item]
    assert err.value.errors[0][0] == "$.histories[1]"
    with pytest.raises(ic.ValidationError):
        process_map([], period=(T0, T0))  # type: ignore[arg-type]
    assert process_map([]).versions == ()


def test_the_diagram_in_the_docs_is_what_the_docs_code_draws() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "process-mining.md").read_text()
    demo = re.findall(r"^```python\n(.*?)^```", text, re.S | re.M)[1]
    namespace: dict[str, Any] = {}
    with contextlib.redirect_stdout(io.StringIO()):
        exec(compile(demo, "process-mining.md", "exec"), namespace)
    [diagram] = re.findall(r"^```mermaid\n(.*?)^```", text, re.S | re.M)
    assert namespace["pm"].to_mermaid() == diagram
