"""Holidays from well-kept sources, as dates a calendar turns into overrides.

We never keep a holiday table of our own: public holidays come from the ``holidays``
package (extra ``itsmcore[holidays]``) and organisation calendars from iCalendar files
(extra ``itsmcore[ical]``). Both packages are imported lazily, inside the functions, so
``itsmcore.sla`` imports without them; a missing one raises :class:`MissingExtra` with the
``pip install`` line. Use them through :meth:`BusinessCalendar.with_holidays` and
:meth:`BusinessCalendar.with_ical`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from itsmcore.errors import ItsmError, ValidationError, did_you_mean
from itsmcore.sla._definition import DAYS, DayWindows, parse_windows

__all__ = ["MissingExtra", "holiday_overrides", "ical_closed_dates", "public_holiday_dates"]


class MissingExtra(ItsmError, ImportError):
    """An optional dependency is not installed; ``extra`` names the pip extra to add."""

    def __init__(self, package: str, extra: str) -> None:
        self.package = package
        self.extra = extra
        super().__init__(
            f"this needs the optional package {package!r}: pip install 'itsmcore[{extra}]'",
            name=package,
        )

    def __reduce__(self) -> tuple[type[MissingExtra], tuple[str, str]]:
        return (type(self), (self.package, self.extra))  # picklable across process pools


def _years(years: Any, path: str = "$.years") -> frozenset[int]:
    """Validate ``years`` (an int or an iterable of ints in 1..9999, not empty)."""
    values = [years] if isinstance(years, int) else years
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValidationError.single(path, f"expected a year or years, got {years!r}")
    found: set[int] = set()
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9999:
            raise ValidationError.single(path, f"{value!r} is not a year between 1 and 9999")
        found.add(value)
    if not found:
        raise ValidationError.single(path, "no years given; pass e.g. years=range(2026, 2028)")
    return frozenset(found)


def public_holiday_dates(
    country: str, subdiv: str | None = None, *, years: int | Iterable[int], observed: bool = True
) -> tuple[list[date], list[date]]:
    """The public holidays and the make-up working days of a country, in ``years``.

    Returns ``(closed, working)``, both sorted: ``closed`` are the holidays (with their
    observed-on dates when ``observed``), ``working`` the weekend dates the country
    declares working days (e.g. China's 调休 days). Raises ``ValidationError`` for an
    unknown country or subdivision and :class:`MissingExtra` without ``holidays``.
    """
    try:
        import holidays
    except ImportError as exc:
        raise MissingExtra("holidays", "holidays") from exc
    wanted = _years(years)
    supported: dict[str, list[str]] = holidays.list_supported_countries()
    if not isinstance(country, str) or country not in supported:
        hint = did_you_mean(str(country).upper(), supported)
        raise ValidationError.single(
            "$.country", f"unknown country {country!r}{hint}; use an ISO 3166 code like 'DE'"
        )
    if subdiv is not None and not isinstance(subdiv, str):
        raise ValidationError.single("$.subdiv", f"expected a subdivision code, got {subdiv!r}")
    try:
        table = holidays.country_holidays(
            country, subdiv=subdiv, years=sorted(wanted), observed=observed
        )
    except NotImplementedError as exc:
        choices = supported[country]
        hint = did_you_mean(str(subdiv), choices)
        listed = ", ".join(choices) if choices else "none"
        raise ValidationError.single(
            "$.subdiv", f"unknown subdivision {subdiv!r} of {country}{hint}; known: {listed}"
        ) from exc
    closed = sorted(day for day in table if day.year in wanted)
    working = sorted(day for day in table.weekend_workdays if day.year in wanted)
    return closed, working


def holiday_overrides(
    week: DayWindows,
    country: str,
    subdiv: str | None = None,
    *,
    years: int | Iterable[int],
    observed: bool = True,
    makeup_windows: Sequence[str] | None = None,
) -> list[tuple[str, tuple[str, ...]]]:
    """The overrides a calendar with weekly windows ``week`` gets from a country's table.

    Each holiday closes its date (``[]``). Each make-up working day gets
    ``makeup_windows`` (default: the Monday windows of ``week``), but only when the
    weekly pattern has that weekday closed. Raises ``ValidationError`` (paths
    ``$.country``, ``$.subdiv``, ``$.years``, ``$.makeup_windows``).
    """
    weekly = dict(week)
    if makeup_windows is None:
        makeup = weekly.get("mon", ())
    else:
        errors: list[tuple[str, str]] = []
        makeup = parse_windows(makeup_windows, "$.makeup_windows", errors)
        if errors:
            raise ValidationError(errors)
    closed, working = public_holiday_dates(country, subdiv, years=years, observed=observed)
    extra: list[tuple[str, tuple[str, ...]]] = [(day.isoformat(), ()) for day in closed]
    for day in working:
        if weekly.get(DAYS[day.weekday()]):
            continue  # already a working weekday in this calendar
        if not makeup:
            raise ValidationError.single(
                "$.makeup_windows",
                f"{day.isoformat()} is a make-up working day but this calendar has no "
                "Monday windows to copy; pass makeup_windows=['09:00-17:00']",
            )
        extra.append((day.isoformat(), makeup))
    return extra


def _read(source: Any) -> bytes:
    if isinstance(source, bytes | bytearray):
        return bytes(source)
    if isinstance(source, str) and source.lstrip().startswith("BEGIN:"):
        return source.encode("utf-8")
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise ValidationError.single(
                "$.source", f"cannot read iCalendar file {str(path)!r}: {reason}"
            ) from exc
    raise ValidationError.single(
        "$.source", f"expected iCalendar bytes or text, or a path, got {type(source).__name__}"
    )


def _dates(prop: Any) -> list[date]:
    """The dates in an EXDATE/RDATE property (one or several lines)."""
    out: list[date] = []
    for line in prop if isinstance(prop, list) else [prop]:
        for item in getattr(line, "dts", []):
            value = item.dt
            out.append(value.date() if isinstance(value, datetime) else value)
    return out


def _value(event: Any, name: str) -> Any:
    """The Python value of a date/duration property, or ``None`` when absent."""
    prop = event.get(name)
    return None if prop is None else getattr(prop, "dt", None)


def _occurrences(event: Any, start: date, wanted: frozenset[int] | None, where: str) -> list[date]:
    """The start dates of an all-day event, its recurrences expanded within ``wanted``."""
    if "RRULE" not in event:
        return [start]
    if wanted is None:
        raise ValidationError.single(
            "$.years", f"{where} recurs (RRULE); pass years=... to expand it within"
        )
    from dateutil.rrule import rrulestr  # icalendar depends on python-dateutil

    rule_text = event["RRULE"].to_ical().decode("ascii")
    try:
        rule = rrulestr(rule_text, dtstart=datetime.combine(start, time()))
        stops = rule.between(
            datetime(min(wanted), 1, 1), datetime(max(wanted), 12, 31, 23, 59), inc=True
        )
    except (ValueError, TypeError) as exc:
        raise ValidationError.single("$.source", f"{where} has a bad RRULE: {exc}") from exc
    found = {stop.date() for stop in stops}
    found.update(_dates(event.get("RDATE", [])))
    found.difference_update(_dates(event.get("EXDATE", [])))
    return sorted(found)


def ical_closed_dates(
    source: bytes | str | os.PathLike[str], *, years: int | Iterable[int] | None = None
) -> list[date]:
    """Every date covered by an all-day VEVENT in an iCalendar, sorted.

    ``source`` is the content (bytes, or text starting with ``BEGIN:``) or a path. An
    event covers DTSTART up to DTEND exclusive (or DTSTART + DURATION; one day when
    neither is given). Timed and cancelled events are skipped. With ``years`` only dates
    in those years are returned; recurring events need it. Raises ``ValidationError``
    for a file that cannot be read or parsed, and :class:`MissingExtra` without
    ``icalendar``.
    """
    try:
        import icalendar
    except ImportError as exc:
        raise MissingExtra("icalendar", "ical") from exc
    wanted = None if years is None else _years(years)
    data = _read(source)
    try:
        parsed = icalendar.Calendar.from_ical(data)
    except ValueError as exc:
        raise ValidationError.single("$.source", f"not a valid iCalendar file: {exc}") from exc
    found: set[date] = set()
    events: list[Any] = list(parsed.walk("VEVENT"))
    for index, event in enumerate(events):
        where = f"event {index} ({str(event.get('SUMMARY', 'no summary'))!r})"
        if str(event.get("STATUS", "")).upper() == "CANCELLED":
            continue
        start = _value(event, "DTSTART")
        if start is None:
            raise ValidationError.single("$.source", f"{where} has no DTSTART")
        if isinstance(start, datetime) or not isinstance(start, date):
            continue  # a timed event does not close a whole day
        end = _value(event, "DTEND")
        duration = _value(event, "DURATION")
        days = 1
        if isinstance(end, date):
            end_day = end.date() if isinstance(end, datetime) else end
            days = max(1, (end_day - start).days)
        elif isinstance(duration, timedelta):
            days = max(1, duration.days)
        for first in _occurrences(event, start, wanted, where):
            for k in range(days):
                day = first + timedelta(days=k)
                if wanted is None or day.year in wanted:
                    found.add(day)
    return sorted(found)
