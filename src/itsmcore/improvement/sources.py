"""Where KPI histories come from, and what each KPI needs to be measured.

Why a separate module: the engine (``Engine.kpi``, ``Engine.measure_improvement``),
the PDCA measurements (:mod:`itsmcore.improvement.pdca`) and the reports
(:mod:`itsmcore.improvement.report`) all compute KPIs over stored histories. They share
three facts kept here:

- :class:`HistorySource`: anything that hands out histories, its catalog and its SLA
  rules. ``itsmcore.Engine`` is one (it reads its storage); :class:`HistoryLog` wraps a
  plain list of :class:`~itsmcore.improvement.kpis.History` (from any store, or built
  by hand in a test). The pure core never imports the engine: it only calls this
  protocol.
- :data:`KPI_UNITS`: the unit of each KPI's value (a duration, a ratio, a count or
  points), which says how a target is written.
- :func:`kpi_processes`: which processes' histories a KPI reads, so a source loads only
  those.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final, Protocol, runtime_checkable

from itsmcore._catalog import Catalog
from itsmcore._catalog import catalog as builtin_catalog
from itsmcore.improvement import kpis
from itsmcore.improvement.kpis import History, KpiValue
from itsmcore.sla.availability import Period
from itsmcore.sla.rules import SlaRules

__all__ = [
    "KPI_UNITS",
    "HistoryLog",
    "HistorySource",
    "as_number",
    "compute_kpi",
    "kpi_processes",
    "loaded",
    "source_of",
]

#: The unit of each KPI's ``value``: ``duration`` (a ``timedelta``), ``ratio`` (a
#: fraction in [0, 1], so 92 % is ``0.92``), ``count`` or ``percent`` (points, e.g. an
#: NPS of 25). A test keeps it equal to :func:`kpis.names`.
KPI_UNITS: Final[Mapping[str, str]] = {
    "mtta": "duration",
    "mttr": "duration",
    "mtrs": "duration",
    "mtbf": "duration",
    "backlog_age": "duration",
    "availability": "ratio",
    "sla_compliance": "ratio",
    "fcr": "ratio",
    "reopen_rate": "ratio",
    "change_success_rate": "ratio",
    "emergency_change_rate": "ratio",
    "changes_causing_incidents": "ratio",
    "csat": "ratio",
    "backlog": "count",
    "nps": "percent",
    "service_health": "percent",
}

_BY_PROCESS_OPTION: Final = frozenset(
    {"mtta", "mttr", "mtrs", "mtbf", "availability", "fcr", "reopen_rate", "backlog", "backlog_age"}
)
_WITH_CHANGES: Final = frozenset({"mtbf", "availability"})
_FIXED: Final[Mapping[str, str]] = {
    "change_success_rate": "change",
    "emergency_change_rate": "change",
    "csat": "feedback",
    "nps": "feedback",
}


def kpi_processes(name: str, options: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The processes whose histories KPI ``name`` reads with ``options``, or ``None``
    when it may read any (``sla_compliance`` follows every watched process and
    ``service_health`` combines other KPIs). Raises ``NotFound`` for an unknown KPI."""
    kpis.describe(name)  # NotFound, with a did-you-mean, for an unknown name
    if name in _WITH_CHANGES:  # planned outages come from the service's changes
        return tuple(dict.fromkeys((str(options.get("process", "incident")), "change")))
    if name == "changes_causing_incidents":  # which linked records are incidents
        kinds = options.get("incident_processes", kpis.INCIDENT_PROCESSES)
        return tuple(dict.fromkeys(("change", *kinds)))
    if name in _BY_PROCESS_OPTION:
        return (str(options.get("process", "incident")),)
    fixed = _FIXED.get(name)
    return (fixed,) if fixed is not None else None


@runtime_checkable
class HistorySource(Protocol):
    """What KPI computations need from a store: histories, a catalog (state categories)
    and SLA rules (``sla_compliance``). ``itsmcore.Engine`` implements it."""

    @property
    def catalog(self) -> Catalog:
        """The process specs the histories were recorded under."""
        ...

    @property
    def sla_rules(self) -> SlaRules:
        """The SLA policies and calendars."""
        ...

    def histories(
        self, *, processes: Iterable[str] | None = None, until: datetime | None = None
    ) -> list[History]:
        """The histories of the records of ``processes`` (all when ``None``) opened
        before ``until`` (all when ``None``)."""
        ...


class HistoryLog:
    """A :class:`HistorySource` over a fixed list of histories (from any store).

    ``catalog`` defaults to the built-in catalog and ``sla_rules`` to the default SLA
    policies; pass the host's own when its records were recorded under them.
    """

    __slots__ = ("_catalog", "_histories", "_rules")

    def __init__(
        self,
        histories: Iterable[History],
        *,
        catalog: Catalog | None = None,
        sla_rules: SlaRules | None = None,
    ) -> None:
        self._histories = tuple(h for h in histories if h.events)
        self._catalog = catalog if catalog is not None else builtin_catalog
        self._rules = sla_rules if sla_rules is not None else SlaRules()

    @property
    def catalog(self) -> Catalog:
        """The process specs the histories were recorded under."""
        return self._catalog

    @property
    def sla_rules(self) -> SlaRules:
        """The SLA policies and calendars."""
        return self._rules

    def histories(
        self, *, processes: Iterable[str] | None = None, until: datetime | None = None
    ) -> list[History]:
        """The histories of ``processes`` (all when ``None``) whose record was opened
        before ``until`` (all when ``None``), in the order given."""
        wanted = None if processes is None else frozenset(processes)
        return [
            h
            for h in self._histories
            if (wanted is None or h.process in wanted) and (until is None or h.events[0].at < until)
        ]


def source_of(source: HistorySource | Iterable[History]) -> HistorySource:
    """``source`` itself when it is a :class:`HistorySource` (an engine), else a
    :class:`HistoryLog` over the given histories."""
    if isinstance(source, HistorySource):
        return source
    return HistoryLog(source)


def compute_kpi(source: HistorySource, name: str, *, period: Period, **options: Any) -> KpiValue:
    """:func:`kpis.compute` over the histories ``source`` holds for ``name``.

    Only the processes the KPI reads and records opened before the period's end are
    loaded; the source's catalog and SLA rules are passed unless ``options`` gives
    ``catalog`` or ``rules``. Raises what :func:`kpis.compute` raises.
    """
    merged = {"catalog": source.catalog, "rules": source.sla_rules, **options}
    histories = source.histories(processes=kpi_processes(name, options), until=period.end)
    return kpis.compute(name, histories, period=period, **merged)


def loaded(
    source: HistorySource, processes: Iterable[str] | None, *, until: datetime | None = None
) -> HistoryLog:
    """The histories of ``processes`` (all when ``None``) that ``source`` holds before
    ``until``, read once into a :class:`HistoryLog` with the source's catalog and SLA
    rules, for computing many KPIs over one snapshot (e.g. one per week)."""
    if isinstance(source, HistoryLog) and processes is None and until is None:
        return source
    found = source.histories(processes=processes, until=until)
    return HistoryLog(found, catalog=source.catalog, sla_rules=source.sla_rules)


def as_number(value: float | timedelta | int | None) -> float | None:
    """A KPI value as a float for charts and SPC: durations in **hours**, everything
    else as it is (ratios stay fractions). ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, timedelta):
        return value / timedelta(hours=1)
    return float(value)
