"""Monitoring and event management: observations, threshold rules, alert formats, outages.

The pure part of monitoring (no engine, no storage, no clock):

* :class:`Observation`: one normalised alert or probe result; its ``key`` deduplicates;
* :class:`MonitoringPolicy`, :class:`AlertRule`, :class:`SeverityLevel`: how
  observations become incidents, as data;
* :class:`ThresholdRule` and :func:`evaluate`: threshold rules over metric samples;
* :func:`from_alertmanager` (Prometheus Alertmanager webhook, version 4) and
  :func:`from_nagios` (Nagios notification macros): real formats in;
* :func:`service_outages`: outage intervals from incident and change histories, for
  :func:`itsmcore.sla.availability.availability`.

The engine side is ``Engine.observe``, ``Engine.sample`` and ``Engine.outages``
(:mod:`itsmcore.monitoring_engine`). See ``docs/monitoring.md``.
"""

from __future__ import annotations

from itsmcore.monitoring.alertmanager import from_alertmanager
from itsmcore.monitoring.nagios import from_nagios
from itsmcore.monitoring.observation import MODES, STATUSES, Observation, labels_key
from itsmcore.monitoring.outages import (
    AUTHORISED_CHANGE_STATES,
    incident_outages,
    maintenance_windows,
    service_outages,
)
from itsmcore.monitoring.policy import (
    DEFAULT_SEVERITIES,
    AlertRule,
    MonitoringPolicy,
    SeverityLevel,
)
from itsmcore.monitoring.rules import (
    COMPARISONS,
    Evaluation,
    SeriesState,
    ThresholdRule,
    evaluate,
    evaluate_stream,
)
from itsmcore.monitoring.series import SERIES_SPEC, series_record_id

__all__ = [
    "AUTHORISED_CHANGE_STATES",
    "COMPARISONS",
    "DEFAULT_SEVERITIES",
    "MODES",
    "SERIES_SPEC",
    "STATUSES",
    "AlertRule",
    "Evaluation",
    "MonitoringPolicy",
    "Observation",
    "SeriesState",
    "SeverityLevel",
    "ThresholdRule",
    "evaluate",
    "evaluate_stream",
    "from_alertmanager",
    "from_nagios",
    "incident_outages",
    "labels_key",
    "maintenance_windows",
    "series_record_id",
    "service_outages",
]
