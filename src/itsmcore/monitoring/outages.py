"""Outage intervals of a service, derived from incident and change histories.

Why derived: an outage is not a record of its own. The service is down while an
incident says so, and planned maintenance is the window of an authorised change; both
are already audited events, so the intervals are recomputed from them (and are
reproducible for a past period: only events before ``until`` are read). The results
feed :func:`itsmcore.sla.availability.availability`.

**Unplanned outages** (:func:`incident_outages`): an incident of the service counts
when it is ``major`` or flagged ``outage`` (an availability rule set the flag when it
fired, or an agent did), judged on its fields as of ``until``. The service is *down*
while that incident is in an ``open`` or ``paused`` state **and** its monitored
condition, if it has one (``alert_status``), has not cleared. So an outage starts at the
opening (or at a re-firing or reopening) and ends at the first of: the condition
clearing, the incident's resolution, its cancellation. An incident without an end yet
gives an ongoing outage (``end=None``).

**Planned outages** (:func:`maintenance_windows`): each change of the service that was
authorised (its state is one of ``authorised_states``) or has started
(``actual_start``) is a planned window from ``actual_start`` (else ``planned_start``)
to ``actual_end`` (else ``planned_end``; ongoing when a change started after its
planned end and has not ended). Rejected and cancelled changes count for nothing.

:func:`service_outages` gives both, ordered by start. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from itsmcore._catalog import Catalog
from itsmcore._catalog import catalog as builtin_catalog
from itsmcore.errors import ValidationError
from itsmcore.improvement.kpis import History
from itsmcore.records import Event, fields_as_of
from itsmcore.sla.availability import Outage

__all__ = [
    "AUTHORISED_CHANGE_STATES",
    "incident_outages",
    "maintenance_windows",
    "service_outages",
]

#: Change states that mean the window was authorised (the built-in change process).
AUTHORISED_CHANGE_STATES: Final = ("scheduled", "implementing", "reviewing", "closed")
_DOWN_CATEGORIES: Final = frozenset({"open", "paused"})


def _cut(history: History, until: datetime | None) -> tuple[Event, ...]:
    if until is None:
        return history.events
    return tuple(e for e in history.events if e.at < until)


def _check(histories: Iterable[object], service: object) -> list[History]:
    if not isinstance(service, str) or not service:
        raise ValidationError.single("$.service", "name the service (its record id)")
    out: list[History] = []
    errors = []
    for index, item in enumerate(histories):
        if isinstance(item, History):
            out.append(item)
        else:
            errors.append((f"$.histories[{index}]", f"expected a History, got {type(item)}"))
    if errors:
        raise ValidationError(errors)
    return out


def incident_outages(
    histories: Iterable[History],
    service: str,
    *,
    until: datetime | None = None,
    process: str = "incident",
    catalog: Catalog | None = None,
) -> list[Outage]:
    """The unplanned outages of ``service`` from the ``process`` histories among
    ``histories`` (see the module docstring), each with the incident's id. State
    categories come from ``catalog`` (default: the built-in one). Raises
    ``ValidationError`` for an item that is not a History and ``NotFound`` for a spec
    version the catalog lacks."""
    specs = catalog or builtin_catalog
    out: list[Outage] = []
    for history in _check(histories, service):
        if history.process != process:
            continue
        events = _cut(history, until)
        if not events:
            continue
        final = fields_as_of(events)
        if final.get("service") != service or not (final.get("major") or final.get("outage")):
            continue
        spec = specs.get(history.process, history.spec_version)
        start: datetime | None = None
        alert: object = None
        for event in events:
            if "alert_status" in event.changes:
                alert = event.changes["alert_status"]
            down = spec.category(event.target) in _DOWN_CATEGORIES and alert != "resolved"
            if down and start is None:
                start = event.at
            elif not down and start is not None:
                out.append(Outage(service, start, event.at, id=history.record_id))
                start = None
        if start is not None:
            out.append(Outage(service, start, None, id=history.record_id))
    return out


def maintenance_windows(
    histories: Iterable[History],
    service: str,
    *,
    until: datetime | None = None,
    process: str = "change",
    authorised_states: Sequence[str] = AUTHORISED_CHANGE_STATES,
) -> list[Outage]:
    """The planned outages of ``service`` from the ``process`` (change) histories among
    ``histories`` (see the module docstring), each with the change's id."""
    out: list[Outage] = []
    for history in _check(histories, service):
        if history.process != process:
            continue
        events = _cut(history, until)
        if not events:
            continue
        fields = fields_as_of(events)
        if fields.get("service") != service:
            continue
        actual_start = fields.get("actual_start")
        if actual_start is None and events[-1].target not in authorised_states:
            continue
        start = actual_start or fields.get("planned_start")
        if not isinstance(start, datetime):
            continue
        end = fields.get("actual_end")
        if end is None:
            planned_end = fields.get("planned_end")
            end = (
                planned_end if isinstance(planned_end, datetime) and planned_end >= start else None
            )
        out.append(Outage(service, start, end, planned=True, id=history.record_id))
    return out


def service_outages(
    histories: Iterable[History],
    service: str,
    *,
    until: datetime | None = None,
    catalog: Catalog | None = None,
) -> list[Outage]:
    """Unplanned (incidents) and planned (changes) outages of ``service``, ordered by
    start then id. Raises what :func:`incident_outages` raises."""
    items = list(histories)
    found = [
        *incident_outages(items, service, until=until, catalog=catalog),
        *maintenance_windows(items, service, until=until),
    ]
    return sorted(found, key=lambda o: (o.start, o.id))
