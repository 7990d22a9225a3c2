"""Helpers the report builders share: reading histories as of an instant, periods and
their labels, value formatting, control charts and the improvements table."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from itsmcore.improvement import spc
from itsmcore.improvement.kpis import History, KpiValue
from itsmcore.improvement.pdca import target_of, value_of
from itsmcore.improvement.report import Chart, Table, format_duration_text, xmr_note
from itsmcore.improvement.sources import KPI_UNITS, HistoryLog
from itsmcore.records import Event, fields_as_of
from itsmcore.sla.availability import Period

__all__ = [
    "fields_until",
    "first_event",
    "formatted",
    "improvements_table",
    "in_period",
    "label_of",
    "opened_in",
    "state_until",
    "trend_periods",
    "week_periods",
    "xmr_chart",
]

#: How many leading points of a report's XmR chart give its limits.
XMR_BASELINE: Final = 12
_WEEK: Final = timedelta(weeks=1)


# -- histories as of an instant ----------------------------------------------------------


def in_period(at: datetime, period: Period) -> bool:
    """``at`` lies in ``[start, end)``."""
    return period.start <= at < period.end


def first_event(history: History, name: str, end: datetime) -> Event | None:
    """The first event called ``name`` dated before ``end``."""
    return next((e for e in history.events if e.at < end and e.name == name), None)


def fields_until(history: History, end: datetime) -> dict[str, Any]:
    """The record's fields after its events dated before ``end``."""
    return fields_as_of(ev for ev in history.events if ev.at < end)


def opened_in(log: HistoryLog, process: str, period: Period, only: Mapping[str, Any]) -> int:
    """How many records of ``process`` were opened in ``period`` whose fields (at its
    end) match ``only``."""
    count = 0
    for h in log.histories(processes=[process], until=period.end):
        if in_period(h.events[0].at, period):
            fields = fields_until(h, period.end)
            count += all(fields.get(k) == v for k, v in only.items())
    return count


def state_until(history: History, end: datetime) -> str | None:
    """The record's state after its events dated before ``end`` (None: not opened yet)."""
    state = None
    for ev in history.events:
        if ev.at >= end:
            break
        state = ev.target
    return state


# -- periods -----------------------------------------------------------------------------


def _is_month(period: Period) -> bool:
    start = period.start
    if (start.day, start.hour, start.minute, start.second, start.microsecond) != (1, 0, 0, 0, 0):
        return False
    assert start.tzinfo is not None
    return Period.month(start.year, start.month, start.tzinfo).end == period.end


def trend_periods(period: Period, count: int) -> tuple[Period, ...]:
    """``count`` consecutive periods ending with ``period``: calendar months in its time
    zone when it is one, else periods of its length."""
    if _is_month(period):
        start = period.start
        assert start.tzinfo is not None
        index = start.year * 12 + start.month - 1
        return tuple(
            Period.month((index - k) // 12, (index - k) % 12 + 1, start.tzinfo)
            for k in reversed(range(count))
        )
    length = period.length
    start = period.start.astimezone(UTC)
    return tuple(
        Period(start - length * k, start - length * (k - 1)) for k in reversed(range(count))
    )


def week_periods(period: Period, count: int) -> tuple[Period, ...]:
    """The ``count`` weeks (7 × 24 h) ending at the period's end."""
    end = period.end.astimezone(UTC)
    zone = period.start.tzinfo
    return tuple(
        Period((end - _WEEK * (k + 1)).astimezone(zone), (end - _WEEK * k).astimezone(zone))
        for k in reversed(range(count))
    )


def label_of(period: Period, *, weekly: bool = False) -> str:
    """``2026-11`` for a calendar month, the start date for a week, else both dates."""
    if not weekly and _is_month(period):
        return f"{period.start.year:04d}-{period.start.month:02d}"
    start = period.start.date().isoformat()
    if weekly:
        return start
    end = (period.end - timedelta(microseconds=1)).astimezone(period.start.tzinfo).date()
    return f"{start} to {end.isoformat()}"


# -- values ------------------------------------------------------------------------------


def formatted(value: KpiValue | timedelta | None, *, digits: int = 1) -> str:
    """A KPI value (or a duration) with its unit, for a table cell."""
    if isinstance(value, timedelta):
        return format_duration_text(value)
    if value is None or value.value is None:
        return "no data"
    measured = value.value
    if isinstance(measured, timedelta):
        return format_duration_text(measured)
    if value.unit == "ratio":
        return f"{float(measured) * 100:.{digits}f} %"
    if value.unit == "percent":
        return f"{float(measured):+.1f} points" if value.name == "nps" else f"{measured:.1f} %"
    return str(measured)


def _in_unit(kpi: str, value: float | timedelta | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, timedelta):
        return format_duration_text(value)
    if KPI_UNITS.get(kpi) == "ratio":
        return f"{value * 100:.2f} %"
    return f"{value:g}"


# -- charts and tables -------------------------------------------------------------------


def xmr_chart(title: str, points: Sequence[tuple[str, float | None]], unit: str) -> Chart | str:
    """An XmR chart of the labelled values that have data, with limits from the first
    :data:`XMR_BASELINE` of them; a sentence instead when fewer than 2 have data."""
    kept = [(label, value) for label, value in points if value is not None]
    if len(kept) < 2:
        return f"{title}: fewer than 2 periods with data, so no control chart."
    values = [value for _, value in kept]
    chart = spc.xmr(values, baseline=min(XMR_BASELINE, len(values)))
    return Chart(
        "xmr",
        title,
        tuple(label for label, _ in kept),
        unit=unit,
        control=chart,
        note=xmr_note(chart, unit, "one point per week"),
    )


def improvements_table(log: HistoryLog, period: Period) -> Table:
    """Improvements open at the period's end or closed (or abandoned) during it, with
    their KPI, baseline, target and latest check, as of the period's end."""
    rows = []
    for h in log.histories(processes=["improvement"], until=period.end):
        state = state_until(h, period.end)
        spec = log.catalog.get(h.process, h.spec_version)
        if state is None:
            continue
        # When it ended: the event that entered the terminal state (a later ``link``
        # event keeps the state and must not make it look recently closed).
        if spec.is_terminal(state) and not in_period(
            next(e.at for e in h.events if spec.is_terminal(e.target)), period
        ):
            continue
        fields = fields_until(h, period.end)
        kpi = str(fields.get("kpi", ""))
        direction = fields.get("direction")
        target = target_of(fields)
        aim = (
            "–"
            if target is None
            else f"{'≤' if direction == 'lower' else '≥'} {_in_unit(kpi, target)}"
        )
        result = fields.get("attainment")
        check = "–" if result is None else f"{_in_unit(kpi, value_of(fields, 'result'))} ({result})"
        rows.append(
            (
                h.record_id,
                str(fields.get("title", "")),
                kpi or "–",
                f"{state} (cycle {fields.get('cycle', 1)})",
                _in_unit(kpi, value_of(fields, "baseline")),
                aim,
                check,
            )
        )
    columns = ("Id", "Title", "KPI", "State", "Baseline", "Target", "Last check")
    return Table(columns, tuple(rows))
