"""Build a standard report (see ``report.py``): option checks, and the service-metrics
report; problem statistics and customer satisfaction have their own modules.

Every figure is a KPI from :mod:`itsmcore.improvement.kpis` or a count over the events
dated before the period's end; ``docs/reports.md`` defines each one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Final

from itsmcore.errors import NotFound, ValidationError, did_you_mean
from itsmcore.improvement._report_parts import (
    fields_until,
    formatted,
    improvements_table,
    label_of,
    opened_in,
    state_until,
    trend_periods,
    week_periods,
    xmr_chart,
)
from itsmcore.improvement._report_problems import problem_statistics
from itsmcore.improvement._report_satisfaction import customer_satisfaction
from itsmcore.improvement.kpis import History
from itsmcore.improvement.report import KINDS, Chart, Report, Section, Series, Table
from itsmcore.improvement.sources import (
    HistoryLog,
    HistorySource,
    as_number,
    compute_kpi,
    loaded,
    source_of,
)
from itsmcore.sla.availability import Period

__all__ = ["build"]

_INDICATORS: Final[tuple[tuple[str, str, dict[str, str]], ...]] = (
    ("Mean time to acknowledge (first assignment)", "mtta", {}),
    ("Mean time to resolve (first resolution)", "mttr", {}),
    ("Mean time to restore service (major incidents)", "mtrs", {}),
    ("First-contact resolution", "fcr", {}),
    ("Reopen rate", "reopen_rate", {}),
    ("SLA attainment, response clocks", "sla_compliance", {"clock": "response"}),
    ("SLA attainment, resolution clocks", "sla_compliance", {"clock": "resolution"}),
    ("Backlog at the period's end", "backlog", {}),
    ("Backlog age at the period's end (median)", "backlog_age", {}),
)
_AVAILABILITY: Final = (
    "Availability = (agreed service time − unplanned downtime) ÷ agreed service time; "
    "downtime comes from major incidents, from opening to first resolution. The budget "
    "is the downtime the target allows in the period."
)
_VARIATION: Final = (
    "A control chart separates routine variation from a real change: a point outside "
    "the limits, or a long run on one side of the centre, signals a change to look at."
)
_OPTIONS: Final[Mapping[str, frozenset[str]]] = {
    "service_metrics": frozenset(
        {"service", "months", "weeks", "availability_target", "mtta_target", "sla_target"}
    ),
    "problem_statistics": frozenset({"months", "weeks", "resolution_target"}),
    "customer_satisfaction": frozenset({"service", "months", "weeks", "csat_target"}),
}


def build(
    kind: str, source: HistorySource | Iterable[History], period: Period, **options: Any
) -> Report:
    """Build report ``kind`` over ``period`` from ``source`` (an engine or histories).

    Raises ``NotFound`` for an unknown kind and ``ValidationError`` for an unknown
    option, a non-period or a trend length below 2."""
    if kind not in KINDS:
        raise NotFound(f"unknown report {kind!r}{did_you_mean(kind, KINDS)}; known: {KINDS}")
    if not isinstance(period, Period):
        raise ValidationError.single("$.period", "expected an itsmcore.sla.Period")
    unknown = sorted(set(options) - _OPTIONS[kind])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[kind]))
        raise ValidationError.single("$.options", f"unknown {unknown}; {kind} takes {allowed}")
    for name, default in (("months", 6), ("weeks", 26)):
        value = options.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int) or not 2 <= value <= 520:
            raise ValidationError.single(f"$.{name}", "must be a whole number in 2..520")
    log = loaded(source_of(source), None, until=period.end)
    builder: Callable[..., Report] = _BUILDERS[kind]
    return builder(log, period, **options)


# -- service metrics ---------------------------------------------------------------------


def _service_metrics(
    log: HistoryLog,
    period: Period,
    *,
    service: str | None = None,
    months: int = 6,
    weeks: int = 26,
    availability_target: float = 0.999,
    mtta_target: timedelta | None = None,
    sla_target: float | None = None,
) -> Report:
    only = {"service": service} if service else {}
    trend = trend_periods(period, months)
    previous = trend[-2]
    rows = []
    for label, name, extra in _INDICATORS:
        now = compute_kpi(log, name, period=period, **only, **extra)
        before = compute_kpi(log, name, period=previous, **only, **extra)
        rows.append((label, name, formatted(now), formatted(before), str(now.sample_size)))
    indicators = Table(
        ("Indicator", "KPI", "This period", "Previous period", "Sample"), tuple(rows)
    )
    labels = tuple(label_of(p) for p in trend)

    def monthly(name: str, scale: float = 1, **extra: Any) -> tuple[float | None, ...]:
        values = [as_number(compute_kpi(log, name, period=p, **only, **extra).value) for p in trend]
        return tuple(None if v is None else v * scale for v in values)

    mtta = Chart(
        "trend",
        "Mean time to acknowledge, monthly",
        labels,
        (Series("MTTA", monthly("mtta", 60)),),
        unit="minutes",
        target=None if mtta_target is None else mtta_target / timedelta(minutes=1),
    )
    mttr = Chart(
        "trend",
        "Mean time to resolve, monthly",
        labels,
        (Series("MTTR", monthly("mttr")), Series("MTRS (major)", monthly("mtrs"))),
        unit="hours",
    )
    sla = Chart(
        "bars",
        "SLA attainment, monthly",
        labels,
        (
            Series("response", monthly("sla_compliance", 100, clock="response")),
            Series("resolution", monthly("sla_compliance", 100, clock="resolution")),
        ),
        unit="%",
        target=None if sla_target is None else sla_target * 100,
    )
    opened = Chart(
        "bars",
        "Incidents and problems opened, monthly",
        labels,
        (
            Series("incidents", tuple(float(opened_in(log, "incident", p, only)) for p in trend)),
            Series("problems", tuple(float(opened_in(log, "problem", p, {})) for p in trend)),
        ),
        unit="count",
    )
    weekly = week_periods(period, weeks)
    points = [as_number(compute_kpi(log, "mtta", period=w, **only).value) for w in weekly]
    control = xmr_chart(
        "Weekly mean time to acknowledge (XmR)",
        [
            (label_of(w, weekly=True), None if v is None else v * 60)
            for w, v in zip(weekly, points, strict=True)
        ],
        "minutes",
    )
    availability = _availability_table(log, period, service, availability_target)
    variation = (
        Section("Variation", (_VARIATION,), (), (control,))
        if isinstance(control, Chart)
        else Section("Variation", (control,))
    )
    sections = (
        Section(
            "Summary",
            (
                f"Incident KPIs{f' of service {service}' if service else ''} for the period "
                "against the previous one. Durations are wall-clock; ratios are exact "
                "shares of the sample shown.",
                _status(log, period, only),
            ),
            (indicators,),
        ),
        Section("Availability", (_AVAILABILITY,), (availability,)),
        Section("Trends", (), (), (mtta, mttr, sla, opened)),
        variation,
        Section(
            "Improvements",
            ("Improvement initiatives open at the period's end or closed during it.",),
            (improvements_table(log, period),),
        ),
    )
    title = f"Service metrics report{f' — {service}' if service else ''}, {label_of(period)}"
    return Report("service_metrics", title, period, sections)


def _availability_table(
    log: HistoryLog, period: Period, service: str | None, target: float
) -> Table:
    services = {service} if service else set()
    if not service:
        for h in log.histories(processes=["incident"], until=period.end):
            fields = fields_until(h, period.end)
            if fields.get("major") and fields.get("service"):
                services.add(fields["service"])
    rows = []
    for name in sorted(services):
        kpi = compute_kpi(log, "availability", period=period, service=name, target=target)
        agreed: timedelta = kpi.details["agreed_time"]
        budget = agreed * (1 - target)
        rows.append(
            (
                name,
                formatted(kpi, digits=3),
                formatted(kpi.details["downtime"]),
                str(kpi.sample_size),
                f"{target * 100:g} %",
                formatted(budget),
                "yes" if kpi.details["attained"] else "no",
            )
        )
    columns = ("Service", "Availability", "Downtime", "Outages", "Target", "Budget", "Attained")
    return Table(columns, tuple(rows))


def _status(log: HistoryLog, period: Period, only: Mapping[str, Any]) -> str:
    end = period.end
    open_incidents, major, problems = 0, [], 0
    for h in log.histories(processes=["incident", "problem"], until=end):
        state = state_until(h, end)
        category = log.catalog.get(h.process, h.spec_version).category(state) if state else None
        if category not in ("open", "paused"):
            continue
        fields = fields_until(h, end)
        if h.process == "problem":
            problems += 1
        elif all(fields.get(k) == v for k, v in only.items()):
            open_incidents += 1
            if fields.get("major"):
                major.append(h.record_id)
    majors = f" ({', '.join(major)})" if major else ""
    return (
        f"At the period's end: {open_incidents} incidents open, {len(major)} of them major"
        f"{majors}; {problems} problems open."
    )


_BUILDERS: Final[Mapping[str, Callable[..., Report]]] = {
    "service_metrics": _service_metrics,
    "problem_statistics": problem_statistics,
    "customer_satisfaction": customer_satisfaction,
}
