"""Outages from incidents and changes, and availability following from them."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta
from fractions import Fraction

import monitoring_workers as w
import pytest

import itsmcore as ic
from itsmcore.monitoring import (
    AlertRule,
    MonitoringPolicy,
    from_alertmanager,
    incident_outages,
    service_outages,
)
from itsmcore.sla.availability import Outage, Period, availability

T0 = w.T0
SVC = "SVC-000001"
AGENT = w.AGENT
CAB = ic.Actor("carol", roles=frozenset({"cab_member"}))
DAY = Period(T0 - timedelta(hours=9), T0 + timedelta(hours=15))  # 2026-11-26 UTC


def _major(engine: ic.Engine, at: datetime, *, major: bool = True, service: str = SVC) -> str:
    record = engine.open("incident", at=at, actor=AGENT, fields={
        "title": "mail down", "caller": "dave", "impact": 1, "urgency": 1,
        "service": service, "major": major})  # fmt: skip
    return record.id


def _resolve(engine: ic.Engine, rid: str, at: datetime) -> None:
    engine.fire(rid, "assign", at=at, actor=AGENT, fields={"assignee": "bob"})
    engine.fire(rid, "start", at=at, actor=AGENT)
    engine.fire(rid, "resolve", at=at, actor=AGENT,
                fields={"resolution_code": "fixed", "resolution_notes": "restarted"})  # fmt: skip


def _change(
    engine: ic.Engine,
    start: datetime,
    end: datetime,
    *,
    service: str = SVC,
    actual: tuple[datetime, datetime] | None = None,
    cancel: bool = False,
) -> str:
    at = start - timedelta(days=2)
    rec = engine.open("change", at=at, actor=AGENT, fields={
        "title": "patch", "description": "kernel patch", "change_type": "emergency",
        "service": service, "planned_start": start, "planned_end": end,
        "reason": "CVE", "impact_scope": "mail", "owner": "bob", "risk": "low",
        "backout_plan": "reboot old kernel", "test_result": "passed"})  # fmt: skip
    if cancel:
        engine.fire(rec.id, "cancel", at=at, actor=AGENT, fields={"cancellation_reason": "no"})
        return rec.id
    engine.fire(rec.id, "submit", at=at, actor=AGENT)
    engine.fire(rec.id, "approve", at=at, actor=CAB)
    if actual is not None:
        engine.fire(rec.id, "implement", at=actual[0], actor=AGENT)
        engine.fire(rec.id, "complete", at=actual[1], actor=AGENT,
                    fields={"outcome": "successful"})  # fmt: skip
    return rec.id


def test_a_major_incident_is_an_outage_from_opening_to_resolution() -> None:
    engine = ic.Engine.in_memory()
    rid = _major(engine, T0)
    _resolve(engine, rid, T0 + timedelta(minutes=30))
    _resolve(engine, _major(engine, T0, major=False), T0 + timedelta(hours=2))  # not major
    _major(engine, T0, service="SVC-000002")  # another service
    assert engine.outages(SVC, DAY) == [Outage(SVC, T0, T0 + timedelta(minutes=30), id=rid)]


def test_an_unresolved_outage_is_ongoing_and_later_events_do_not_change_a_past_period() -> None:
    engine = ic.Engine.in_memory()
    rid = _major(engine, T0)
    assert engine.outages(SVC, DAY) == [Outage(SVC, T0, None, id=rid)]
    _resolve(engine, rid, DAY.end + timedelta(hours=1))  # resolved the next day
    assert engine.outages(SVC, DAY) == [Outage(SVC, T0, None, id=rid)]
    report = availability(engine.outages(SVC, DAY), DAY, service=SVC)
    assert report.downtime == DAY.end - T0


def test_an_availability_rule_outage_ends_when_its_condition_clears_and_restarts_on_refire() -> (
    None
):
    policy = MonitoringPolicy(rules=[AlertRule("down", {"alertname": "HostDown"}, outage=True)])
    engine = ic.Engine.in_memory(monitoring=policy)
    record = engine.observe(w.firing(service=SVC))
    assert record is not None
    engine.observe(w.cleared(at=T0 + timedelta(minutes=10), service=SVC))
    engine.observe(w.firing(at=T0 + timedelta(minutes=40), service=SVC))
    assert engine.get(record.id).state == "new"  # no auto-resolve: the incident stays open
    assert engine.outages(SVC, DAY) == [
        Outage(SVC, T0, T0 + timedelta(minutes=10), id=record.id),
        Outage(SVC, T0 + timedelta(minutes=40), None, id=record.id),
    ]


def test_a_monitoring_incident_without_an_availability_rule_is_no_outage() -> None:
    engine = ic.Engine.in_memory()  # default rule: outage=False
    engine.observe(w.firing(service=SVC))
    assert engine.outages(SVC, DAY) == []


def test_authorised_changes_of_the_service_are_planned_outages() -> None:
    engine = ic.Engine.in_memory()
    planned = _change(engine, T0 + timedelta(hours=2), T0 + timedelta(hours=3))
    done = _change(engine, T0 + timedelta(hours=5), T0 + timedelta(hours=6),
                   actual=(T0 + timedelta(hours=5, minutes=10),
                           T0 + timedelta(hours=5, minutes=50)))  # fmt: skip
    _change(engine, T0 + timedelta(hours=7), T0 + timedelta(hours=8), cancel=True)
    _change(engine, T0 + timedelta(hours=7), T0 + timedelta(hours=8), service="SVC-000002")
    assert engine.outages(SVC, DAY) == [
        Outage(SVC, T0 + timedelta(hours=2), T0 + timedelta(hours=3), planned=True, id=planned),
        Outage(SVC, T0 + timedelta(hours=5, minutes=10), T0 + timedelta(hours=5, minutes=50),
               planned=True, id=done),
    ]  # fmt: skip


def test_outages_outside_the_period_are_left_out() -> None:
    engine = ic.Engine.in_memory()
    before = _major(engine, DAY.start - timedelta(hours=3))
    _resolve(engine, before, DAY.start - timedelta(hours=2))
    _change(engine, DAY.end + timedelta(hours=1), DAY.end + timedelta(hours=2))
    assert engine.outages(SVC, DAY) == []


def test_an_alertmanager_webhook_gives_deduplicated_incidents_outages_and_availability() -> None:
    policy = MonitoringPolicy(
        rules=[AlertRule("host_down", {"alertname": "HostDown"}, auto_resolve=True, outage=True)]
    )
    engine = ic.Engine.in_memory(monitoring=policy)
    window = _change(engine, T0 + timedelta(hours=10), T0 + timedelta(hours=12))
    for _delivery in range(2):
        for observation in from_alertmanager(w.ALERTMANAGER_BODY):
            engine.observe(observation)
    body = copy.deepcopy(w.ALERTMANAGER_BODY)
    body["status"] = "resolved"
    body["alerts"][0]["status"] = "resolved"
    body["alerts"][0]["endsAt"] = "2026-11-26T09:43:12.123456Z"
    for observation in from_alertmanager(body):
        engine.observe(observation)
    [incident] = engine.find(process="incident")
    assert incident.state == "resolved"
    assert incident.get("alert_count") == 2
    start = T0 + timedelta(microseconds=123456)
    end = T0 + timedelta(minutes=43, seconds=12, microseconds=123456)
    outages = engine.outages(SVC, DAY)
    assert outages == [
        Outage(SVC, start, end, id=incident.id),
        Outage(SVC, T0 + timedelta(hours=10), T0 + timedelta(hours=12), planned=True, id=window),
    ]
    report = availability(outages, DAY, service=SVC, target="99.9%")
    agreed = timedelta(hours=22)  # 24 h minus the 2 h maintenance window
    assert report.agreed_time == agreed
    assert report.downtime == timedelta(minutes=43, seconds=12)
    assert report.availability == Fraction(
        (agreed - timedelta(minutes=43, seconds=12)) // timedelta(microseconds=1),
        agreed // timedelta(microseconds=1),
    )
    assert report.attained is False


def test_the_pure_functions_reject_what_is_not_a_history() -> None:
    with pytest.raises(ic.ValidationError) as err:
        incident_outages([object()], SVC)  # type: ignore[list-item]
    assert err.value.errors[0][0] == "$.histories[0]"
    with pytest.raises(ic.ValidationError):
        service_outages([], "")
