"""Service levels: business calendars, SLA policies and clocks, availability.

- :class:`BusinessCalendar`: exact business time in an IANA zone
  (``docs/business-time.md``).
- :class:`SlaPolicy` / :class:`ClockSpec` / :class:`Trigger`: SLA, OLA and UC policies as
  data (:meth:`SlaPolicy.from_dict`); :class:`ClockStatus` is a clock's state at
  an instant, a pure function of a record's events; :class:`SlaRules` holds every policy
  version and the named calendars an engine applies (``docs/sla-policies.md``).
- :class:`SlaSignal` and :class:`TimerSignal`: what ``Engine.tick`` emits, exactly once.
- :data:`DEFAULT_POLICIES` and :data:`DEFAULT_CALENDARS`: the shipped defaults
  (``incident-default``; ``business`` = Mon-Fri 09:00-17:00 UTC, ``24x7``).
- :func:`availability` over :class:`Outage` and :class:`Period`: availability %,
  downtime, MTBF and MTRS (``docs/availability.md``).

Everything here is pure (time is an argument); ``itsmcore._engine.tick`` drives
the storage port, for ``Engine.tick``.
"""

from __future__ import annotations

from itsmcore.sla.availability import AvailabilityReport, Outage, Period, availability
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.clock import ClockStatus
from itsmcore.sla.defaults import (
    BUSINESS_HOURS,
    DEFAULT_CALENDARS,
    DEFAULT_POLICIES,
    INCIDENT_DEFAULT,
    ROUND_THE_CLOCK,
)
from itsmcore.sla.holidays import MissingExtra
from itsmcore.sla.policy import DEFAULT_WARNINGS, ClockSpec, SlaPolicy, Trigger
from itsmcore.sla.rules import SlaRules
from itsmcore.sla.signals import Signal, SlaSignal, TimerSignal

__all__ = [
    "BUSINESS_HOURS",
    "DEFAULT_CALENDARS",
    "DEFAULT_POLICIES",
    "DEFAULT_WARNINGS",
    "INCIDENT_DEFAULT",
    "ROUND_THE_CLOCK",
    "AvailabilityReport",
    "BusinessCalendar",
    "ClockSpec",
    "ClockStatus",
    "MissingExtra",
    "Outage",
    "Period",
    "Signal",
    "SlaPolicy",
    "SlaRules",
    "SlaSignal",
    "TimerSignal",
    "Trigger",
    "availability",
]
