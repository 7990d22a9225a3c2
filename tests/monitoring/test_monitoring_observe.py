"""Engine.observe: observations become deduplicated incidents (examples per rule)."""

from __future__ import annotations

import threading
from datetime import timedelta

import monitoring_workers as w
import pytest

import itsmcore as ic
from itsmcore.monitoring import AlertRule, MonitoringPolicy, Observation, SeverityLevel
from itsmcore.monitoring_engine import current_incident, incident_base_id

T0 = w.T0


@pytest.fixture
def engine() -> ic.Engine:
    return ic.Engine.in_memory(monitoring=w.POLICY)


def _incidents(engine: ic.Engine) -> list[ic.Record]:
    return engine.find(process="incident")


def _ci(engine: ic.Engine) -> ic.Record:
    return engine.open(
        "configuration_item",
        at=T0 - timedelta(days=1),
        actor=w.AGENT,
        fields={"title": "web-1", "ci_type": "server", "owner": "ops"},
    )


def test_first_firing_opens_a_monitoring_incident_with_mapped_priority(engine: ic.Engine) -> None:
    record = engine.observe(w.firing(service="SVC-1"))
    assert record is not None
    assert record.process == "incident"
    assert record.state == "new"
    assert record.opened_at == T0
    assert record.opened_by == "system"
    assert record.get("channel") == "monitoring"
    assert (record.get("impact"), record.get("urgency"), record.get("priority")) == (1, 1, 1)
    assert record.get("service") == "SVC-1"
    assert record.get("alert_key") == 'HostDown{instance="web-1"}'
    assert (record.get("alert_status"), record.get("alert_count")) == ("firing", 1)
    assert record.get("alert_last_seen") == T0
    assert record.get("outage") is True  # the host_down rule is an availability rule


def test_repeated_firings_add_to_the_open_incident_never_a_second(engine: ic.Engine) -> None:
    first = engine.observe(w.firing())
    for minutes in (1, 2, 3):
        again = engine.observe(w.firing(at=T0 + timedelta(minutes=minutes)))
        assert again is not None
        assert first is not None
        assert again.id == first.id
    [only] = _incidents(engine)
    assert only.get("alert_count") == 4
    assert only.get("alert_last_seen") == T0 + timedelta(minutes=3)


def test_a_late_repeat_never_moves_last_seen_back_or_the_history_back_in_time(
    engine: ic.Engine,
) -> None:
    record = engine.observe(w.firing())
    assert record is not None
    engine.fire(record.id, "assign", at=T0 + timedelta(minutes=10), actor=w.AGENT,
                fields={"assignee": "bob"})  # fmt: skip
    late = engine.observe(w.firing(at=T0 + timedelta(minutes=5)))  # e.g. a resend
    assert late is not None
    assert late.get("alert_last_seen") == T0 + timedelta(minutes=5)
    assert late.updated_at == T0 + timedelta(minutes=10)
    stale = engine.observe(w.firing(at=T0 + timedelta(minutes=1)))
    assert stale is not None
    assert stale.get("alert_last_seen") == T0 + timedelta(minutes=5)
    assert stale.get("alert_count") == 3


def test_different_keys_open_different_incidents(engine: ic.Engine) -> None:
    a = engine.observe(w.firing('HostDown{instance="web-1"}'))
    b = engine.observe(w.firing('HostDown{instance="web-2"}'))
    assert a is not None
    assert b is not None
    assert a.id != b.id
    assert len(_incidents(engine)) == 2


def test_clearing_records_the_time_and_auto_resolves_through_allowed_transitions(
    engine: ic.Engine,
) -> None:
    opened = engine.observe(w.firing())
    assert opened is not None
    done = engine.observe(w.cleared(at=T0 + timedelta(minutes=20)))
    assert done is not None
    assert done.id == opened.id
    assert done.state == "resolved"
    assert done.get("alert_status") == "resolved"
    assert done.get("alert_cleared_at") == T0 + timedelta(minutes=20)
    assert done.get("resolution_code") == "fixed"
    names = [(e.name, e.actor.id) for e in engine.history(done.id)]
    # new cannot resolve: the walk assigns to the rule's resolver and starts work first
    assert names == [
        ("open", "system"),
        ("update", "system"),
        ("assign", "system"),
        ("start", "system"),
        ("resolve", "system"),
    ]
    assert done.get("assignee") == "system"


def test_auto_resolve_from_in_progress_fires_resolve_directly(engine: ic.Engine) -> None:
    opened = engine.observe(w.firing())
    assert opened is not None
    at = T0 + timedelta(minutes=2)
    engine.fire(opened.id, "assign", at=at, actor=w.AGENT, fields={"assignee": "bob"})
    engine.fire(opened.id, "start", at=at, actor=w.AGENT)
    done = engine.observe(w.cleared(at=T0 + timedelta(minutes=9)))
    assert done is not None
    assert done.state == "resolved"
    assert done.get("assignee") == "bob"
    assert [e.name for e in engine.history(done.id)][-2:] == ["update", "resolve"]


def test_clearing_without_auto_resolve_only_records_the_clearing(engine: ic.Engine) -> None:
    opened = engine.observe(w.firing('DiskFull{host="db"}', alertname="DiskFull"))
    assert opened is not None
    assert opened.get("group") == "storage"
    after = engine.observe(w.cleared('DiskFull{host="db"}', T0 + timedelta(hours=1),
                                     alertname="DiskFull"))  # fmt: skip
    assert after is not None
    assert after.state == "new"
    assert after.get("alert_status") == "resolved"
    assert after.get("alert_cleared_at") == T0 + timedelta(hours=1)


def test_auto_resolve_without_resolver_records_the_clearing_only_when_it_cannot_resolve() -> None:
    policy = MonitoringPolicy(rules=[AlertRule("any", auto_resolve=True, resolver=None)])
    engine = ic.Engine.in_memory(monitoring=policy)
    engine.observe(w.firing())
    after = engine.observe(w.cleared(at=T0 + timedelta(minutes=1)))
    assert after is not None
    assert after.state == "new"
    assert after.get("alert_status") == "resolved"


def test_a_repeated_clearing_changes_nothing(engine: ic.Engine) -> None:
    engine.observe(w.firing('DiskFull{host="db"}', alertname="DiskFull"))
    once = engine.observe(w.cleared('DiskFull{host="db"}', alertname="DiskFull"))
    twice = engine.observe(w.cleared('DiskFull{host="db"}', alertname="DiskFull"))
    assert once is not None
    assert twice is not None
    assert twice.version == once.version


def test_clearing_a_key_with_no_open_incident_returns_none(engine: ic.Engine) -> None:
    assert engine.observe(w.cleared()) is None
    assert _incidents(engine) == []


def test_refiring_after_the_clearing_reopens_the_resolved_incident(engine: ic.Engine) -> None:
    engine.observe(w.firing())
    engine.observe(w.cleared(at=T0 + timedelta(minutes=5)))
    again = engine.observe(w.firing(at=T0 + timedelta(minutes=8)))
    assert again is not None
    assert again.state == "in_progress"
    assert again.get("reopen_count") == 1
    assert again.get("alert_count") == 2
    assert again.get("alert_status") == "firing"
    assert again.get("alert_cleared_at") is None
    assert len(_incidents(engine)) == 1


def test_a_key_that_fires_after_its_incident_was_closed_opens_a_new_one(
    engine: ic.Engine,
) -> None:
    first = engine.observe(w.firing())
    assert first is not None
    engine.observe(w.cleared(at=T0 + timedelta(minutes=5)))
    engine.fire(first.id, "close", at=T0 + timedelta(hours=1), actor=w.AGENT)
    second = engine.observe(w.firing(at=T0 + timedelta(hours=2)))
    assert second is not None
    assert second.id != first.id
    assert first.id.endswith("-1")
    assert second.id.endswith("-2")
    assert second.get("alert_count") == 1
    third = engine.observe(w.firing(at=T0 + timedelta(hours=3)))
    assert third is not None
    assert third.id == second.id


def test_the_current_generation_is_found_among_many(engine: ic.Engine) -> None:
    for generation in range(1, 8):
        record = engine.observe(w.firing(at=T0 + timedelta(hours=generation)))
        assert record is not None
        assert record.id.endswith(f"-{generation}")
        engine.fire(record.id, "cancel", at=T0 + timedelta(hours=generation, minutes=1),
                    actor=w.AGENT, fields={"reason": "test"})  # fmt: skip
    spec = engine.catalog.get("incident")
    number, latest = current_incident(engine.storage, incident_base_id(spec, w.firing().key))
    assert number == 7
    assert latest is not None
    assert latest.state == "cancelled"


def test_informational_severities_open_nothing(engine: ic.Engine) -> None:
    assert engine.observe(w.firing(severity="info")) is None
    assert _incidents(engine) == []


def test_severity_mapping_is_data_with_a_fallback_for_unknown_names() -> None:
    policy = MonitoringPolicy(severities={"page": SeverityLevel(1, 2), "ticket": None},
                              unknown_severity="page")  # fmt: skip
    engine = ic.Engine.in_memory(monitoring=policy)
    record = engine.observe(w.firing(severity="whatever"))
    assert record is not None
    assert (record.get("impact"), record.get("urgency")) == (1, 2)
    strict = ic.Engine.in_memory(monitoring=MonitoringPolicy(unknown_severity=None))
    with pytest.raises(ic.ValidationError) as err:
        strict.observe(w.firing(severity="whatever"))
    assert err.value.errors[0][0] == "$.severity"


def test_the_incident_is_linked_to_the_ci_its_label_names_when_it_exists(
    engine: ic.Engine,
) -> None:
    ci = _ci(engine)
    record = engine.observe(w.firing(ci=ci.id))
    assert record is not None
    assert record.get("ci") == ci.id
    assert record.linked("affects") == (ci.id,)
    assert engine.get(ci.id).linked("affects") == (record.id,)
    ghost = engine.observe(w.firing('HostDown{instance="x"}', ci="CI-999999"))
    assert ghost is not None
    assert ghost.get("ci") is None
    assert ghost.links == ()


def test_rule_fields_that_the_incident_does_not_have_are_a_validation_error() -> None:
    policy = MonitoringPolicy(rules=[AlertRule("bad", fields={"colour": "red"})])
    engine = ic.Engine.in_memory(monitoring=policy)
    with pytest.raises(ic.ValidationError) as err:
        engine.observe(w.firing())
    assert "$.fields.colour" in {p for p, _ in err.value.errors}
    assert _incidents(engine) == []


def test_threads_observing_one_key_open_exactly_one_incident() -> None:
    engine = ic.Engine.in_memory(monitoring=w.POLICY)
    start = threading.Barrier(8)
    ids: list[str] = []

    def run() -> None:
        start.wait()
        for i in range(5):
            record = engine.observe(w.firing(at=T0 + timedelta(seconds=i)))
            assert record is not None
            ids.append(record.id)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    [only] = _incidents(engine)
    assert set(ids) == {only.id}
    assert only.get("alert_count") == 40
    assert engine.verify().ok


def test_observe_rejects_what_is_not_an_observation(engine: ic.Engine) -> None:
    with pytest.raises(ic.ValidationError):
        engine.observe({"key": "x"})  # type: ignore[arg-type]


def test_observation_round_trips_through_plain_data() -> None:
    obs = Observation("probe", "http{url=\"/\"}", "firing", T0, "high", "slow", {"ci": "CI-1"},
                      value=3.5, mode="active")  # fmt: skip
    assert Observation.from_dict(obs.to_dict()) == obs
    with pytest.raises(ic.ValidationError) as err:
        Observation.from_dict({**obs.to_dict(), "colour": "red"})
    assert err.value.errors[0][0] == "$.colour"
