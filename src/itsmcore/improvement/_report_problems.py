"""The problem-statistics report (R4.5-01): counts, breakdowns, ageing and the mean
resolution time, with its trend and control chart. See ``docs/reports.md``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Final

from itsmcore.improvement._report_parts import (
    fields_until,
    first_event,
    formatted,
    in_period,
    label_of,
    opened_in,
    state_until,
    trend_periods,
    week_periods,
    xmr_chart,
)
from itsmcore.improvement.kpis import History
from itsmcore.improvement.report import Chart, Report, Section, Series, Table
from itsmcore.improvement.sources import HistoryLog, as_number, compute_kpi
from itsmcore.sla.availability import Period

__all__ = ["problem_statistics"]

_AGES: Final = ((7, "under 7 days"), (30, "7 to 30 days"), (90, "30 to 90 days"))


def problem_statistics(
    log: HistoryLog,
    period: Period,
    *,
    months: int = 6,
    weeks: int = 26,
    resolution_target: timedelta | None = None,
) -> Report:
    """Problem statistics over ``period`` from ``log`` (options as in ``Report``)."""
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
            Series("opened", tuple(float(opened_in(log, "problem", p, {})) for p in trend)),
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
