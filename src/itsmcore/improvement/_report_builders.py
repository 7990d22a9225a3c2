"""The three standard reports' figures, computed from histories (see ``report.py``).

Every figure is a KPI from :mod:`itsmcore.improvement.kpis` or a count over the events
dated before the period's end; ``docs/reports.md`` defines each one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from itsmcore.errors import NotFound, ValidationError, did_you_mean
from itsmcore.improvement import spc
from itsmcore.improvement._report_parts import (
    fields_until,
    first_event,
    formatted,
    improvements_table,
    in_period,
    label_of,
    state_until,
    trend_periods,
    week_periods,
    xmr_chart,
)
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
_UNFILTERED: Final = frozenset({"sla_compliance"})
_AVAILABILITY: Final = (
    "Availability = (agreed service time − unplanned downtime) ÷ agreed service time; "
    "downtime comes from major incidents, from opening to first resolution. The budget "
    "is the downtime the target allows in the period."
)
_VARIATION: Final = (
    "A control chart separates routine variation from a real change: a point outside "
    "the limits, or a long run on one side of the centre, signals a change to look at."
)
_AGES: Final = ((7, "under 7 days"), (30, "7 to 30 days"), (90, "30 to 90 days"))

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
        filters = {} if name in _UNFILTERED else only
        now = compute_kpi(log, name, period=period, **filters, **extra)
        before = compute_kpi(log, name, period=previous, **filters, **extra)
        rows.append((label, name, formatted(now), formatted(before), str(now.sample_size)))
    indicators = Table(
        ("Indicator", "KPI", "This period", "Previous period", "Sample"), tuple(rows)
    )
    labels = tuple(label_of(p) for p in trend)

    def monthly(name: str, scale: float = 1, **extra: Any) -> tuple[float | None, ...]:
        filters = {} if name in _UNFILTERED else only
        values = [
            as_number(compute_kpi(log, name, period=p, **filters, **extra).value) for p in trend
        ]
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
            Series("incidents", tuple(float(_opened(log, "incident", p, only)) for p in trend)),
            Series("problems", tuple(float(_opened(log, "problem", p, {})) for p in trend)),
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


def _opened(log: HistoryLog, process: str, period: Period, only: Mapping[str, Any]) -> int:
    count = 0
    for h in log.histories(processes=[process], until=period.end):
        if in_period(h.events[0].at, period):
            fields = fields_until(h, period.end)
            count += all(fields.get(k) == v for k, v in only.items())
    return count


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


# -- problem statistics ------------------------------------------------------------------


def _problem_statistics(
    log: HistoryLog,
    period: Period,
    *,
    months: int = 6,
    weeks: int = 26,
    resolution_target: timedelta | None = None,
) -> Report:
    end = period.end
    problems = log.histories(processes=["problem"], until=end)
    opened_now = [h for h in problems if in_period(h.events[0].at, period)]
    resolved = [h for h in problems if _first_in(h, "resolve", period)]
    closed = [h for h in problems if _first_in(h, "close", period)]
    trend = trend_periods(period, months)
    mttr = compute_kpi(log, "mttr", period=period, process="problem")
    before = compute_kpi(log, "mttr", period=trend[-2], process="problem")
    age = compute_kpi(log, "backlog_age", period=period, process="problem")
    backlog = compute_kpi(log, "backlog", period=period, process="problem")
    p90 = age.details.get("p90")
    summary = Table(
        ("Figure", "Value"),
        (
            ("Problems opened in the period", str(len(opened_now))),
            ("Problems first resolved in the period", str(len(resolved))),
            ("Problems closed in the period", str(len(closed))),
            ("Problems open at the period's end", formatted(backlog)),
            ("Mean resolution time (first resolve − open)", formatted(mttr)),
            ("Mean resolution time, previous period", formatted(before)),
            ("Age of open problems, median", formatted(age)),
            ("Age of open problems, 90th percentile", "–" if p90 is None else formatted(p90)),
        ),
    )
    states = Counter(s for h in problems if (s := state_until(h, end)) is not None)
    by_state = Table(("State at the period's end", "Problems"), _counted(states))
    fields_now = [fields_until(h, end) for h in opened_now]
    by_category = Table(
        ("Category (opened in the period)", "Problems"),
        _counted(Counter(str(f.get("category") or "uncategorised") for f in fields_now)),
    )
    by_priority = Table(
        ("Priority (opened in the period)", "Problems"),
        _counted(Counter(f"P{f.get('priority', '?')}" for f in fields_now)),
    )
    ageing = Counter(_age_band(end - h.events[0].at) for h in problems if _open_at(log, h, end))
    ages = Table(("Age of open problems", "Problems"), _counted(ageing, order=_age_order()))
    labels = tuple(label_of(p) for p in trend)
    flow = Chart(
        "bars",
        "Problems opened and resolved, monthly",
        labels,
        (
            Series("opened", tuple(float(_opened(log, "problem", p, {})) for p in trend)),
            Series(
                "resolved",
                tuple(float(sum(1 for h in problems if _first_in(h, "resolve", p))) for p in trend),
            ),
        ),
        unit="count",
    )
    resolution = Chart(
        "trend",
        "Mean problem resolution time, monthly",
        labels,
        (Series("mean resolution", tuple(_hours(log, p) for p in trend)),),
        unit="hours",
        target=None if resolution_target is None else resolution_target / timedelta(hours=1),
    )
    weekly = week_periods(period, weeks)
    control = xmr_chart(
        "Weekly mean problem resolution time (XmR)",
        [(label_of(w, weekly=True), _hours(log, w)) for w in weekly],
        "hours",
    )
    charts = (flow, resolution, *((control,) if isinstance(control, Chart) else ()))
    notes = () if isinstance(control, Chart) else (control,)
    sections = (
        Section("Summary", (), (summary,)),
        Section("Breakdown", (), (by_state, by_category, by_priority, ages)),
        Section("Trends and variation", notes, (), charts),
    )
    return Report("problem_statistics", f"Problem statistics, {label_of(period)}", period, sections)


def _first_in(h: History, name: str, period: Period) -> bool:
    found = first_event(h, name, period.end)
    return found is not None and in_period(found.at, period)


def _open_at(log: HistoryLog, h: History, end: datetime) -> bool:
    state = state_until(h, end)
    spec = log.catalog.get(h.process, h.spec_version)
    return state is not None and spec.category(state) in ("open", "paused")


def _hours(log: HistoryLog, period: Period) -> float | None:
    return as_number(compute_kpi(log, "mttr", period=period, process="problem").value)


def _age_band(age: timedelta) -> str:
    for days, label in _AGES:
        if age < timedelta(days=days):
            return label
    return "90 days or more"


def _age_order() -> tuple[str, ...]:
    return (*(label for _, label in _AGES), "90 days or more")


def _counted(
    counts: Counter[str], order: Sequence[str] | None = None
) -> tuple[tuple[str, str], ...]:
    keys = order if order is not None else sorted(counts)
    return tuple((k, str(counts.get(k, 0))) for k in keys)


# -- customer satisfaction ---------------------------------------------------------------


def _customer_satisfaction(
    log: HistoryLog,
    period: Period,
    *,
    service: str | None = None,
    months: int = 6,
    weeks: int = 26,
    csat_target: float | None = None,
) -> Report:
    only = {"service": service} if service else {}
    end = period.end
    surveys = [
        h
        for h in log.histories(processes=["feedback"], until=end)
        if all(fields_until(h, end).get(k) == v for k, v in only.items())
    ]
    sent = [h for h in surveys if in_period(h.events[0].at, period)]
    answered = [h for h in sent if first_event(h, "respond", end) is not None]
    responses = _responses(surveys, period)
    csat = compute_kpi(log, "csat", period=period, **only)
    nps = compute_kpi(log, "nps", period=period, **only)
    trend = trend_periods(period, months)
    before = compute_kpi(log, "csat", period=trend[-2], **only)
    low = [f for f in responses if f.get("follow_up_required")]
    rate = f"{len(answered) / len(sent) * 100:.1f} %" if sent else "no data"
    summary = Table(
        ("Figure", "Value"),
        (
            ("Surveys sent in the period", str(len(sent))),
            ("... of them answered by the period's end", f"{len(answered)} ({rate})"),
            ("Responses in the period", str(len(responses))),
            ("CSAT (share of scores 4–5)", formatted(csat)),
            ("CSAT, previous period", formatted(before)),
            ("Net Promoter Score", formatted(nps)),
            ("Low scores needing a follow-up", str(len(low))),
            ("... of them followed up by the period's end", str(_count(low, "follow_up"))),
            ("Responses with a comment", str(_count(responses, "comment"))),
        ),
    )  # fmt: skip
    scores = Counter(int(f["csat"]) for f in responses if isinstance(f.get("csat"), int))
    total = sum(scores.values())
    distribution = Table(
        ("CSAT score", "Responses", "Share"),
        tuple(
            (
                str(s),
                str(scores.get(s, 0)),
                f"{scores.get(s, 0) / total * 100:.1f} %" if total else "–",
            )
            for s in range(1, 6)
        ),
    )
    labels = tuple(label_of(p) for p in trend)
    bars = Chart(
        "bars",
        "CSAT score distribution, this period",
        tuple(str(s) for s in range(1, 6)),
        (Series("responses", tuple(float(scores.get(s, 0)) for s in range(1, 6))),),
        unit="count",
    )
    monthly = tuple(
        None if (v := compute_kpi(log, "csat", period=p, **only).value) is None else float(v) * 100  # type: ignore[arg-type]
        for p in trend
    )
    line = Chart(
        "trend",
        "CSAT, monthly",
        labels,
        (Series("CSAT", monthly),),
        unit="%",
        target=None if csat_target is None else csat_target * 100,
    )
    charts: list[Chart] = [bars, line]
    paragraphs: list[str] = []
    weekly = [(w, _responses(surveys, w)) for w in week_periods(period, weeks)]
    weekly = [(w, r) for w, r in weekly if r]
    if len(weekly) >= 2:
        unhappy = [sum(1 for f in r if f.get("csat", 5) <= 3) for _, r in weekly]
        chart = spc.p_chart(unhappy, [len(r) for _, r in weekly])
        signals = "; ".join(s.description for s in chart.signals[:3]) or "No signals"
        charts.append(
            Chart(
                "p",
                "Weekly share of dissatisfied responses, scores 1–3 (p-chart)",
                tuple(label_of(w, weekly=True) for w, _ in weekly),
                unit="share",
                control=chart,
                note=(
                    f"Centre {chart.center:.3f}; limits vary with each week's number of "
                    f"responses. {signals}."
                ),
            )
        )
    else:
        paragraphs.append("Fewer than 2 weeks with responses: no p-chart.")
    sections = (
        Section("Summary", (), (summary,)),
        Section("Scores", (), (distribution,)),
        Section("Trends and variation", tuple(paragraphs), (), tuple(charts)),
    )
    title = f"Customer satisfaction report{f' — {service}' if service else ''}, {label_of(period)}"
    return Report("customer_satisfaction", title, period, sections)


def _count(items: Sequence[Mapping[str, Any]], key: str) -> int:
    return sum(1 for f in items if f.get(key))


def _responses(surveys: Sequence[History], period: Period) -> list[dict[str, Any]]:
    """The fields (as of the period's end) of surveys answered in ``period``."""
    out = []
    for h in surveys:
        respond = first_event(h, "respond", period.end)
        if respond is not None and in_period(respond.at, period):
            out.append(fields_until(h, period.end))
    return out


_BUILDERS: Final[Mapping[str, Callable[..., Report]]] = {
    "service_metrics": _service_metrics,
    "problem_statistics": _problem_statistics,
    "customer_satisfaction": _customer_satisfaction,
}
