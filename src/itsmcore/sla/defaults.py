"""The SLA defaults itsmcore ships: two calendars and the ``incident-default`` policy.

These numbers are itsmcore's own choice (the seed gives none). A host replaces a
calendar by name (``Engine.in_memory(calendars={"business": my_calendar})``) and the
policies as a whole (``Engine.in_memory(policies=[...])``; pass
``[*DEFAULT_POLICIES, mine]`` to keep the default).

``incident-default`` (version 1, kind ``sla``, process ``incident``, any incident):

| priority | response | resolution | calendar |
|---|---|---|---|
| 1 | 20 min | 4 h | ``24x7`` |
| 2 | 1 h | 8 h | ``24x7`` |
| 3 | 4 h | 24 h | ``business`` |
| 4 | 8 h | 40 h | ``business`` |
| 5 | 16 h | 80 h | ``business`` |

- ``response`` starts when the incident is opened and stops when it first enters
  ``in_progress`` or ``resolved``; it is cancelled when the incident is cancelled.
- ``resolution`` starts when the incident is opened, pauses in ``paused``-category
  states (``pending``), stops on entering ``resolved``, resumes on ``reopen`` (time spent
  resolved does not count) and is cancelled when the incident is cancelled.
- Warnings at 50 %, 75 % and 90 %; breach at 100 %. Priority changes are retroactive.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.policy import SlaPolicy

__all__ = [
    "BUSINESS_HOURS",
    "DEFAULT_CALENDARS",
    "DEFAULT_POLICIES",
    "INCIDENT_DEFAULT",
    "ROUND_THE_CLOCK",
]

#: ``business``: Monday to Friday, 09:00-17:00 UTC, no holidays.
BUSINESS_HOURS: Final = BusinessCalendar.from_dict(
    {
        "timezone": "UTC",
        "week": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    }
)
#: ``24x7``: every instant counts.
ROUND_THE_CLOCK: Final = BusinessCalendar.always("UTC")

#: The calendars every engine knows unless the host replaces them by name.
DEFAULT_CALENDARS: Final[Mapping[str, BusinessCalendar]] = MappingProxyType(
    {"24x7": ROUND_THE_CLOCK, "business": BUSINESS_HOURS}
)

_BY_PRIORITY: Final = {"1": "24x7", "2": "24x7", "3": "business", "4": "business", "5": "business"}

#: The plain-data form of ``incident-default`` (the same format hosts load from files).
INCIDENT_DEFAULT_DATA: Final[Mapping[str, Any]] = MappingProxyType(
    {
        "name": "incident-default",
        "version": 1,
        "kind": "sla",
        "process": "incident",
        "title": "Incident response and resolution",
        "retroactive": True,
        "clocks": [
            {
                "name": "response",
                "targets": {"1": "PT20M", "2": "PT1H", "3": "PT4H", "4": "PT8H", "5": "PT16H"},
                "calendar": "business",
                "calendars": {k: v for k, v in _BY_PRIORITY.items() if v != "business"},
                "start": {"events": ["open"]},
                "stop": {"states": ["in_progress", "resolved"]},
                "cancel": {"states": ["cancelled"]},
                "warnings": [50, 75, 90],
            },
            {
                "name": "resolution",
                "targets": {"1": "PT4H", "2": "PT8H", "3": "PT24H", "4": "PT40H", "5": "PT80H"},
                "calendar": "business",
                "calendars": {k: v for k, v in _BY_PRIORITY.items() if v != "business"},
                "start": {"events": ["open"]},
                "pause": {"categories": ["paused"]},
                "stop": {"states": ["resolved"]},
                "resume": {"events": ["reopen"]},
                "cancel": {"states": ["cancelled"]},
                "warnings": [50, 75, 90],
            },
        ],
    }
)

#: The default incident policy (see the module docstring for its numbers).
INCIDENT_DEFAULT: Final = SlaPolicy.from_dict(INCIDENT_DEFAULT_DATA)

#: The policies every engine applies unless the host passes ``policies=``.
DEFAULT_POLICIES: Final[tuple[SlaPolicy, ...]] = (INCIDENT_DEFAULT,)
