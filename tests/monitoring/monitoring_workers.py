"""Helpers the monitoring tests share, importable by ``spawn`` worker processes."""

from __future__ import annotations

import json
import traceback
from datetime import UTC, datetime, timedelta
from typing import Any

import itsmcore as ic
from itsmcore.monitoring import AlertRule, MonitoringPolicy, Observation, ThresholdRule

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))

POLICY = MonitoringPolicy(
    rules=[
        AlertRule("host_down", {"alertname": "HostDown"}, auto_resolve=True, outage=True),
        AlertRule("disk", {"alertname": "DiskFull"}, fields={"group": "storage"}),
    ],
    thresholds=[
        ThresholdRule(
            "latency_high",
            "latency_seconds",
            ">",
            5.0,
            for_=timedelta(minutes=5),
            severity="high",
            auto_resolve=True,
        ),
    ],
)


def firing(
    key: str = 'HostDown{instance="web-1"}', at: datetime = T0, **labels: str
) -> Observation:
    """A firing observation of ``key`` (alertname HostDown unless labels say otherwise)."""
    return Observation(
        source="test",
        key=key,
        status="firing",
        at=at,
        severity=labels.pop("severity", "critical"),
        summary="web-1 is down",
        labels={"alertname": "HostDown", **labels},
    )


def cleared(
    key: str = 'HostDown{instance="web-1"}', at: datetime = T0, **labels: str
) -> Observation:
    """The clearing of ``key``."""
    return Observation(
        source="test",
        key=key,
        status="resolved",
        at=at,
        severity=labels.pop("severity", "critical"),
        labels={"alertname": "HostDown", **labels},
    )


def observe_once(path: str, start: Any, queue: Any) -> None:
    """Worker: wait at the barrier, observe one firing on the SQLite store, report."""
    try:
        with ic.Engine.sqlite(path, monitoring=POLICY) as engine:
            start.wait(timeout=60)
            record = engine.observe(firing(at=T0 + timedelta(seconds=1)))
            queue.put(("ok", None if record is None else record.id))
    except BaseException:  # report everything to the parent
        queue.put(("error", traceback.format_exc()))


# A body as Alertmanager 0.27 POSTs it (two alerts of one group, one resolved).
ALERTMANAGER_BODY = json.loads(
    """
{
  "receiver": "itsm",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {"alertname": "HostDown", "instance": "web-1:9100", "job": "node",
                 "severity": "critical", "service": "SVC-000001", "ci": "CI-000001"},
      "annotations": {"summary": "web-1 is unreachable", "description": "no scrape for 2m"},
      "startsAt": "2026-11-26T09:00:00.123456789Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus:9090/graph?g0.expr=up+%3D%3D+0",
      "fingerprint": "c5c9a4a8a5f6d7e1"
    },
    {
      "status": "resolved",
      "labels": {"alertname": "DiskFull", "instance": "db-1:9100", "severity": "warning"},
      "annotations": {"description": "disk above 90 %"},
      "startsAt": "2026-11-26T08:00:00Z",
      "endsAt": "2026-11-26T10:30:00+01:00",
      "generatorURL": "http://prometheus:9090/graph",
      "fingerprint": "0b1c2d3e4f5a6b7c"
    }
  ],
  "groupLabels": {"alertname": "HostDown"},
  "commonLabels": {},
  "commonAnnotations": {},
  "externalURL": "http://alertmanager:9093",
  "version": "4",
  "groupKey": "{}:{alertname=\\"HostDown\\"}",
  "truncatedAlerts": 0
}
"""
)
