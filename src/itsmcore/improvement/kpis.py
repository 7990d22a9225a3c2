"""Key performance indicators, computed exactly from event histories.

Why from histories: a KPI is a claim about what happened, so it is computed from the
audited events and nothing else. A host can feed histories from any store (the engine's
``Engine.kpi`` does it from its storage), and anyone can recompute each number by hand
from the formula in ``docs/kpis.md``.

Rules shared by every KPI:

- A period is half-open, ``[start, end)``. Only events **before the period's end** are
  read, so a KPI for a past period is reproducible: later events never change it.
- Durations are wall-clock (real elapsed time) unless a business ``calendar`` is passed,
  then they are measured in its business time. Means of durations are exact to the
  microsecond (``timedelta`` division).
- Ratios carry their exact ``numerator`` and ``denominator``; ``value`` is the float.
- An empty population gives ``value=None`` and ``sample_size=0``, never a division error.

:func:`compute` takes the KPI name; :func:`names` lists them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any, Final, Protocol

import attrs

from itsmcore._catalog import Catalog
from itsmcore._catalog import catalog as builtin_catalog
from itsmcore.errors import NotFound, ValidationError, did_you_mean
from itsmcore.records import Event, FieldMap, Link, Record, fields_as_of, links_after
from itsmcore.sla.availability import Outage, Period, availability
from itsmcore.sla.clock import measure

__all__ = [
    "History",
    "KpiValue",
    "compute",
    "describe",
    "names",
]

_ZERO = timedelta(0)
#: The processes whose records count as incidents for ``changes_causing_incidents``.
INCIDENT_PROCESSES: Final = ("incident", "security_incident")


class _Elapsed(Protocol):
    def elapsed(self, a: datetime, b: datetime) -> timedelta: ...


def _events(value: Iterable[Event]) -> tuple[Event, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class History:
    """One record's events (versions 1..n) with the process they belong to."""

    process: str
    events: tuple[Event, ...] = attrs.field(converter=_events)
    spec_version: int = 1

    @classmethod
    def of(cls, record: Record, events: Iterable[Event]) -> History:
        """The history of ``record`` from its events."""
        return cls(record.process, tuple(events), record.spec_version)

    @property
    def record_id(self) -> str:
        """The id of the record (empty for an empty history)."""
        return self.events[0].record_id if self.events else ""


def _details(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


@attrs.frozen(slots=True)
class KpiValue:
    """One KPI over one period.

    ``unit`` is ``"duration"`` (``value`` is a ``timedelta``), ``"ratio"`` (``value`` in
    [0, 1]), ``"count"``, ``"percent"`` (``value`` in percentage points, e.g. NPS or the
    health index) or ``"percentile"`` durations for backlog age. ``numerator`` and
    ``denominator`` give the exact computation (a total duration and a count for a mean;
    two counts for a ratio). ``details`` carries extra figures (e.g. ``p90``).
    """

    name: str
    value: float | timedelta | int | None
    unit: str
    numerator: timedelta | int | Fraction | None
    denominator: int | None
    sample_size: int
    period: Period | None = None
    details: FieldMap = attrs.field(factory=FieldMap, converter=_details)


# -- helpers over histories -------------------------------------------------------------


def _until(history: History, end: datetime) -> tuple[Event, ...]:
    """The events strictly before ``end`` (the reproducibility rule)."""
    return tuple(e for e in history.events if e.at < end)


def _first(events: Sequence[Event], name: str) -> Event | None:
    return next((e for e in events if e.name == name), None)


def _fields_at(events: Sequence[Event], version: int | None = None) -> dict[str, Any]:
    return fields_as_of(e for e in events if version is None or e.version <= version)


def _in(at: datetime, period: Period) -> bool:
    return period.start <= at < period.end


def _span(a: datetime, b: datetime, calendar: _Elapsed | None) -> timedelta:
    return calendar.elapsed(a, b) if calendar is not None else b - a


def _mean(name: str, period: Period, spans: list[timedelta]) -> KpiValue:
    if not spans:
        return KpiValue(name, None, "duration", _ZERO, 0, 0, period)
    total = sum(spans, _ZERO)
    return KpiValue(name, total / len(spans), "duration", total, len(spans), len(spans), period)


def _ratio(name: str, period: Period, hits: int, total: int, **details: Any) -> KpiValue:
    if total == 0:
        return KpiValue(name, None, "ratio", 0, 0, 0, period, details)
    return KpiValue(name, hits / total, "ratio", hits, total, total, period, details)


def _of(histories: Iterable[History], process: str, period: Period) -> list[tuple[Event, ...]]:
    out = []
    for h in histories:
        if h.process == process:
            events = _until(h, period.end)
            if events:
                out.append(events)
    return out


def _select(events: Sequence[Event], options: Mapping[str, Any]) -> bool:
    """Apply the ``service`` / ``major`` / ``where`` filters to a record's fields."""
    fields = _fields_at(events)
    service = options.get("service")
    if service is not None and fields.get("service") != service:
        return False
    if options.get("major") and not fields.get("major"):
        return False
    where = options.get("where") or {}
    return all(fields.get(k) == v for k, v in where.items())


# -- the KPIs ---------------------------------------------------------------------------


def _mtta(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    spans = []
    for events in _of(hs, opts.get("process", "incident"), period):
        opened = events[0]
        assigned = _first(events, "assign")
        if _in(opened.at, period) and assigned is not None and _select(events, opts):
            spans.append(_span(opened.at, assigned.at, opts.get("calendar")))
    return _mean("mtta", period, spans)


def _resolution(name: str, major: bool) -> Callable[..., KpiValue]:
    def kpi(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
        spans = []
        for events in _of(hs, opts.get("process", "incident"), period):
            resolved = _first(events, "resolve")
            if resolved is None or not _in(resolved.at, period):
                continue
            if not _select(events, {**opts, "major": major or opts.get("major")}):
                continue
            spans.append(_span(events[0].at, resolved.at, opts.get("calendar")))
        return _mean(name, period, spans)

    return kpi


def _first_resolved(
    hs: Iterable[History], period: Period, opts: Mapping[str, Any]
) -> list[tuple[tuple[Event, ...], Event]]:
    out = []
    for events in _of(hs, opts.get("process", "incident"), period):
        resolved = _first(events, "resolve")
        if resolved is not None and _in(resolved.at, period) and _select(events, opts):
            out.append((events, resolved))
    return out


def _fcr(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    population = _first_resolved(hs, period, opts)
    hits = 0
    for events, resolved in population:
        reassigned = _fields_at(events, resolved.version).get("reassignments", 0) > 0
        reopened = any(e.name == "reopen" for e in events)
        hits += not reassigned and not reopened
    return _ratio("fcr", period, hits, len(population))


def _reopen_rate(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    population = _first_resolved(hs, period, opts)
    hits = sum(any(e.name == "reopen" for e in events) for events, _ in population)
    return _ratio("reopen_rate", period, hits, len(population))


def _completed_changes(
    hs: Iterable[History], period: Period, opts: Mapping[str, Any]
) -> list[tuple[tuple[Event, ...], Event]]:
    out = []
    for events in _of(hs, "change", period):
        done = _first(events, "complete")
        if done is not None and _in(done.at, period) and _select(events, opts):
            out.append((events, done))
    return out


def _change_success(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    population = _completed_changes(hs, period, opts)
    hits = sum(
        _fields_at(events, done.version).get("outcome") == "successful"
        for events, done in population
    )
    return _ratio("change_success_rate", period, hits, len(population))


def _emergency_rate(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    opened = [ev for ev in _of(hs, "change", period) if _in(ev[0].at, period) and _select(ev, opts)]
    hits = sum(_fields_at(ev).get("change_type") == "emergency" for ev in opened)
    return _ratio("emergency_change_rate", period, hits, len(opened))


def _changes_causing(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    hs = list(hs)
    population = _completed_changes(hs, period, opts)
    kind = opts.get("link_kind", "caused_by")
    # Only incidents count as caused (a problem caused_by a change is not an incident).
    kinds = set(opts.get("incident_processes", INCIDENT_PROCESSES))
    incidents = {h.record_id for h in hs if h.process in kinds}
    hits = 0
    for events, _ in population:
        rid = events[0].record_id
        # The links standing at the period's end: one removed (unlink) does not count.
        standing: tuple[Link, ...] = ()
        for e in events:
            standing = links_after(standing, e.name, e.link)
        hits += any(x.kind == kind and x.target == rid and x.source in incidents for x in standing)
    return _ratio("changes_causing_incidents", period, hits, len(population))


def _open_at_end(
    hs: Iterable[History], period: Period, opts: Mapping[str, Any]
) -> list[tuple[Event, ...]]:
    cat: Catalog = opts.get("catalog") or builtin_catalog
    process = opts.get("process", "incident")
    open_categories = set(opts.get("categories", ("open", "paused")))
    out = []
    for h in hs:
        if h.process != process:
            continue
        events = _until(h, period.end)
        if not events or not _select(events, opts):
            continue
        spec = cat.get(h.process, h.spec_version)
        if spec.category(events[-1].target) in open_categories:
            out.append(events)
    return out


def _backlog(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    count = len(_open_at_end(hs, period, opts))
    return KpiValue("backlog", count, "count", count, None, count, period)


def _percentile(sorted_values: Sequence[timedelta], q: Fraction) -> timedelta:
    """Nearest-rank percentile: the smallest value with at least q of the data at or
    below it (no interpolation, so the answer is always an observed age)."""
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[rank - 1]


def _backlog_age(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    ages = sorted(period.end - events[0].at for events in _open_at_end(hs, period, opts))
    if not ages:
        return KpiValue("backlog_age", None, "duration", None, 0, 0, period)
    median = _percentile(ages, Fraction(1, 2))
    p90 = _percentile(ages, Fraction(9, 10))
    return KpiValue(
        "backlog_age", median, "duration", None, len(ages), len(ages), period, {"p90": p90}
    )


def _responses(
    hs: Iterable[History], period: Period, opts: Mapping[str, Any], key: str
) -> list[int]:
    out = []
    for events in _of(hs, "feedback", period):
        respond = _first(events, "respond")
        if respond is None or not _in(respond.at, period) or not _select(events, opts):
            continue
        score = _fields_at(events, respond.version).get(key)
        if isinstance(score, int):
            out.append(score)
    return out


def _csat(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    scores = _responses(hs, period, opts, "csat")
    return _ratio("csat", period, sum(s >= 4 for s in scores), len(scores))


def _nps(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    scores = _responses(hs, period, opts, "nps")
    if not scores:
        return KpiValue("nps", None, "percent", 0, 0, 0, period)
    net = sum(s >= 9 for s in scores) - sum(s <= 6 for s in scores)
    exact = Fraction(net * 100, len(scores))
    return KpiValue("nps", float(exact), "percent", exact, len(scores), len(scores), period)


def _outages(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> list[Outage]:
    """The service's outages as :func:`itsmcore.monitoring.service_outages` derives
    them (the same intervals ``Engine.outages`` reports): unplanned from its major or
    outage-flagged incidents, planned from its authorised changes."""
    from itsmcore.monitoring.outages import service_outages  # it imports History from here

    service = opts.get("service")
    if service is None:
        raise ValidationError.single("$.service", "availability and mtbf need service=...")
    return service_outages(list(hs), service, until=period.end, catalog=opts.get("catalog"))


def _availability(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    report = availability(
        _outages(hs, period, opts),
        period,
        service=opts["service"],
        calendar=opts.get("calendar"),
        target=opts.get("target"),
    )
    return KpiValue(
        "availability",
        float(report.availability),
        "ratio",
        report.availability,
        None,
        report.outage_count,
        period,
        {
            "downtime": report.downtime,
            "agreed_time": report.agreed_time,
            "attained": report.attained,
        },
    )


def _mtbf(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    report = availability(
        _outages(hs, period, opts), period, service=opts["service"], calendar=opts.get("calendar")
    )
    uptime = report.agreed_time - report.downtime
    if report.outage_count == 0:
        return KpiValue("mtbf", None, "duration", uptime, 0, 0, period)
    return KpiValue(
        "mtbf", report.mtbf, "duration", uptime, report.outage_count, report.outage_count, period
    )


def _sla_compliance(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    rules = opts.get("rules")
    if rules is None:
        raise ValidationError.single("$.rules", "sla_compliance needs rules=SlaRules(...)")
    cat: Catalog = opts.get("catalog") or builtin_catalog
    want_policy, want_clock = opts.get("policy"), opts.get("clock")
    hits = total = 0
    for h in hs:
        events = _until(h, period.end)
        if not events or not rules.watches(cat.get(h.process, h.spec_version)):
            continue
        if not _select(events, opts):
            continue
        spec = cat.get(h.process, h.spec_version)
        for policy, clock, cycle, target, calendar in rules._cycles(events, spec, period.end):
            if want_policy is not None and policy.name != want_policy:
                continue
            if want_clock is not None and clock.name != want_clock:
                continue
            stopped = cycle.stopped_at
            if stopped is None or not _in(stopped, period):
                continue
            total += 1
            hits += measure(cycle, calendar, stopped) < target
    return _ratio("sla_compliance", period, hits, total)


def _health(hs: Iterable[History], period: Period, opts: Mapping[str, Any]) -> KpiValue:
    """Weighted mean attainment of KPIs against targets, in percent (see docs/kpis.md)."""
    items = opts.get("targets")
    if not items:
        raise ValidationError.single("$.targets", "service_health needs targets=[...]")
    hs = list(hs)
    weighted = Fraction(0)
    weights = Fraction(0)
    parts: dict[str, Any] = {}
    scored = 0
    for i, item in enumerate(items):
        name, target = item.get("kpi"), item.get("target")
        direction, weight = item.get("direction", "higher"), Fraction(str(item.get("weight", 1)))
        if (
            direction not in ("higher", "lower")
            or weight <= 0
            or not isinstance(target, int | float | Fraction | timedelta)
            or _as_fraction(target) <= 0
        ):
            raise ValidationError.single(
                f"$.targets[{i}]", "need kpi, a positive target, direction higher|lower, weight>0"
            )
        extra = {k: v for k, v in item.items() if k not in {"kpi", "target", "direction", "weight"}}
        kpi = compute(name, hs, period=period, **{**opts, **extra, "targets": None})
        if kpi.value is None:
            continue
        if isinstance(kpi.value, timedelta) != isinstance(target, timedelta):
            raise ValidationError.single(
                f"$.targets[{i}].target",
                f"{name} is {'a duration' if isinstance(kpi.value, timedelta) else 'a number'}: "
                "give a timedelta target for a duration KPI and a number otherwise",
            )
        value = _as_fraction(kpi.value)
        goal = _as_fraction(target)
        if direction == "higher":
            score = min(Fraction(1), max(Fraction(0), value / goal))
        else:
            score = Fraction(1) if value <= goal else goal / value
        weighted += weight * score
        weights += weight
        scored += 1
        parts[name if name not in parts else f"{name}[{i}]"] = float(score)
    if weights == 0:
        return KpiValue("service_health", None, "percent", None, 0, 0, period)
    exact = weighted * 100 / weights
    return KpiValue("service_health", float(exact), "percent", exact, scored, scored, period, parts)


def _as_fraction(value: Any) -> Fraction:
    if isinstance(value, timedelta):
        return Fraction((value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds)
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


_Kpi = Callable[[Iterable[History], Period, Mapping[str, Any]], KpiValue]

_KPIS: Final[dict[str, tuple[_Kpi, str]]] = {
    "mtta": (
        _mtta,
        "mean of (first assign − open) over incidents opened in the period that were assigned",
    ),
    "mttr": (
        _resolution("mttr", False),
        "mean of (first resolve − open) over incidents first resolved in the period",
    ),
    "mtrs": (_resolution("mtrs", True), "mttr over major incidents only"),
    "mtbf": (
        _mtbf,
        "(agreed time − downtime) / outages for a service, outages being its major or "
        "outage-flagged incidents while open (planned change windows are not agreed time)",
    ),
    "availability": (
        _availability,
        "availability of a service from its major or outage-flagged incidents, "
        "its authorised changes' windows taken out of the agreed time",
    ),
    "sla_compliance": (
        _sla_compliance,
        "clock cycles stopped in the period without breaching ÷ all that stopped in the period",
    ),
    "fcr": (
        _fcr,
        "incidents first resolved in the period with no reassignment and no "
        "reopen ÷ incidents first resolved in the period",
    ),
    "reopen_rate": (
        _reopen_rate,
        "reopened ÷ resolved, among incidents first resolved in the period",
    ),
    "change_success_rate": (
        _change_success,
        "completed changes with outcome successful ÷ changes completed in the period",
    ),
    "emergency_change_rate": (_emergency_rate, "emergency changes ÷ changes opened in the period"),
    "changes_causing_incidents": (
        _changes_causing,
        "changes completed in the period that "
        "an incident links as caused_by ÷ "
        "changes completed in the period",
    ),
    "backlog": (_backlog, "records open (open or paused category) at the period's end"),
    "backlog_age": (_backlog_age, "median (and p90) age of the backlog at the period's end"),
    "csat": (_csat, "responses scoring 4–5 ÷ responses in the period"),
    "nps": (_nps, "% of responses 9–10 − % of responses 0–6, in points"),
    "service_health": (_health, "weighted mean attainment of KPIs against targets"),
}


def names() -> tuple[str, ...]:
    """The KPI names :func:`compute` knows, sorted."""
    return tuple(sorted(_KPIS))


def describe(name: str) -> str:
    """The one-line definition of a KPI."""
    return _KPIS[_known(name)][1]


def _known(name: str) -> str:
    if name not in _KPIS:
        raise NotFound(
            f"unknown KPI {name!r}{did_you_mean(name, _KPIS)}; known: {', '.join(names())}"
        )
    return name


def compute(name: str, histories: Iterable[History], *, period: Period, **options: Any) -> KpiValue:
    """Compute KPI ``name`` over ``histories`` for ``period``.

    Options (each KPI reads the ones it needs): ``calendar`` (business time for
    durations), ``service``, ``major``, ``where`` (exact field filters), ``process``
    (default ``incident``), ``catalog`` (for state categories), ``rules``
    (:class:`~itsmcore.sla.SlaRules`, for ``sla_compliance``), ``policy``/``clock``,
    ``target`` (availability), ``targets`` (service health).

    Raises ``NotFound`` for an unknown KPI and ``ValidationError`` for a missing option.
    """
    if not isinstance(period, Period):
        raise ValidationError.single("$.period", "expected an itsmcore.sla.Period")
    fn = _KPIS[_known(name)][0]
    return fn(histories, period, options)
