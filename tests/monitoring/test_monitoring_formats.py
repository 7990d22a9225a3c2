"""Real alert formats in: Prometheus Alertmanager webhooks (v4) and Nagios macros."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import monitoring_workers as w
import pytest

import itsmcore as ic
from itsmcore.monitoring import from_alertmanager, from_nagios

BODY = w.ALERTMANAGER_BODY


def test_an_alertmanager_body_becomes_one_observation_per_alert() -> None:
    firing, resolved = from_alertmanager(BODY)
    assert firing.source == "alertmanager"
    assert firing.status == "firing"
    assert firing.at == datetime(2026, 11, 26, 9, 0, 0, 123456, tzinfo=UTC)  # ns truncated
    assert firing.severity == "critical"
    assert firing.summary == "web-1 is unreachable"
    assert firing.key == (
        'HostDown{ci="CI-000001",instance="web-1:9100",job="node",'
        'service="SVC-000001",severity="critical"}'
    )
    assert firing.labels["service"] == "SVC-000001"
    assert firing.mode == "passive"
    assert resolved.status == "resolved"
    assert resolved.at == datetime(2026, 11, 26, 9, 30, tzinfo=UTC)  # endsAt
    assert resolved.summary == "disk above 90 %"


def test_the_key_does_not_depend_on_label_order() -> None:
    body = copy.deepcopy(BODY)
    labels = body["alerts"][0]["labels"]
    body["alerts"][0]["labels"] = dict(reversed(list(labels.items())))
    assert from_alertmanager(body)[0].key == from_alertmanager(BODY)[0].key


def _errors(payload: Any) -> set[str]:
    with pytest.raises(ic.ValidationError) as err:
        from_alertmanager(payload)
    return {path for path, _ in err.value.errors}


def test_bad_alertmanager_bodies_name_every_problem_with_its_path() -> None:
    assert _errors([]) == {"$"}
    assert _errors({"version": "3"}) == {"$.version", "$.alerts"}
    body = copy.deepcopy(BODY)
    body["alerts"][0]["status"] = "pending"
    body["alerts"][0]["startsAt"] = "yesterday"
    del body["alerts"][1]["labels"]["alertname"]
    body["alerts"][1]["endsAt"] = "0001-01-01T00:00:00Z"
    body["alerts"].append("not an alert")
    assert _errors(body) == {
        "$.alerts[0].status",
        "$.alerts[0].startsAt",
        "$.alerts[1].labels.alertname",
        "$.alerts[1].endsAt",
        "$.alerts[2]",
    }
    body = copy.deepcopy(BODY)
    body["alerts"][0]["labels"]["port"] = 9100
    assert _errors(body) == {"$.alerts[0].labels.port"}


def test_an_alertmanager_webhook_becomes_deduplicated_incidents() -> None:
    engine = ic.Engine.in_memory()
    for _delivery in range(3):  # Alertmanager repeats unresolved alerts
        for observation in from_alertmanager(BODY):
            engine.observe(observation)
    [incident] = engine.find(process="incident")  # the resolved DiskFull opened nothing
    assert incident.get("alert_count") == 3
    assert incident.get("service") == "SVC-000001"


NAGIOS_PROBLEM = {
    "NAGIOS_NOTIFICATIONTYPE": "PROBLEM",
    "NAGIOS_HOSTNAME": "web-1",
    "NAGIOS_SERVICEDESC": "HTTP",
    "NAGIOS_SERVICESTATE": "CRITICAL",
    "NAGIOS_SERVICEOUTPUT": "HTTP CRITICAL - Socket timeout after 10 seconds",
    "NAGIOS_TIMET": "1795683600",
}


def test_a_nagios_problem_and_recovery_are_a_firing_and_a_clearing_of_one_key() -> None:
    problem = from_nagios(NAGIOS_PROBLEM, labels={"service": "SVC-000001"})
    recovery = from_nagios({**NAGIOS_PROBLEM, "NAGIOS_NOTIFICATIONTYPE": "RECOVERY",
                            "NAGIOS_SERVICESTATE": "OK", "NAGIOS_TIMET": "1795684200"})  # fmt: skip
    assert problem is not None
    assert recovery is not None
    assert problem.key == recovery.key == 'nagios{check="HTTP",host="web-1"}'
    assert (problem.status, recovery.status) == ("firing", "resolved")
    assert problem.at == datetime.fromtimestamp(1795683600, UTC)
    assert problem.severity == "critical"
    assert problem.mode == "active"  # Nagios checks are probes
    assert problem.labels["service"] == "SVC-000001"
    assert problem.summary.startswith("HTTP CRITICAL")


def test_nagios_host_notifications_and_non_condition_types() -> None:
    host = from_nagios({"NOTIFICATIONTYPE": "PROBLEM", "HOSTNAME": "db-1",
                        "HOSTSTATE": "DOWN", "TIMET": "1795683600"})  # fmt: skip
    assert host is not None
    assert host.key == 'nagios{host="db-1"}'
    assert host.summary == "db-1 is DOWN"
    assert from_nagios({**NAGIOS_PROBLEM, "NAGIOS_NOTIFICATIONTYPE": "ACKNOWLEDGEMENT"}) is None


def test_bad_nagios_macros_name_every_problem() -> None:
    with pytest.raises(ic.ValidationError) as err:
        from_nagios({"NAGIOS_SERVICEDESC": "HTTP", "NAGIOS_SERVICESTATE": "PURPLE"})
    assert {p for p, _ in err.value.errors} == {
        "$.NOTIFICATIONTYPE",
        "$.HOSTNAME",
        "$.SERVICESTATE",
        "$.TIMET",
    }
