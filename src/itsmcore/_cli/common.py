"""What every ``itsmcore`` command shares: opening a store, reading periods, instants,
durations and calendars from the command line, and formatting values for people.

Every problem with an argument or a file becomes a :class:`click.UsageError` or
:class:`click.ClickException` whose message fits on one line; the group turns it
(and any ``ItsmError``) into ``itsmcore: error: ...`` and a non-zero exit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Final
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

import itsmcore as ic
from itsmcore.loading import read_document
from itsmcore.sla import DEFAULT_CALENDARS, BusinessCalendar, Period

__all__ = [
    "engine_for",
    "format_duration",
    "format_kpi",
    "iso_duration",
    "parse_calendar",
    "parse_duration",
    "parse_instant",
    "parse_period",
    "period_label",
    "store_url",
    "zone",
]

_MONTH: Final = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER: Final = re.compile(r"^(\d{4})-Q([1-4])$", re.I)
_WEEK: Final = re.compile(r"^(\d{4})-W(\d{2})$", re.I)
_YEAR: Final = re.compile(r"^(\d{4})$")
_DAY: Final = re.compile(r"^\d{4}-\d{2}-\d{2}$")
PERIOD_HELP: Final = (
    "2026-11 (a month), 2026-Q4, 2026-W45, 2026, 2026-11-05 (a day) or START/END "
    "(dates or ISO datetimes, END excluded)"
)


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; a bad name is a usage error."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(
            f"{name!r} is not an IANA time zone (e.g. UTC, Europe/Berlin)", param_hint="--tz"
        ) from None


def store_url(db: str) -> str:
    """A storage URL from ``--db``: a URL as given, a plain path as ``sqlite:///``.

    A SQLite file must exist: reading commands never create an empty store.
    """
    if "://" in db:
        if db.lower().startswith("sqlite:///"):
            path = unquote(db.split("?", 1)[0][len("sqlite:///") :])
            if path and not Path(path).exists():
                raise click.BadParameter(f"no store at {path!r}", param_hint="--db")
        return db
    if not Path(db).exists():
        raise click.BadParameter(
            f"no store at {db!r} (run 'itsmcore demo' to make one)", param_hint="--db"
        )
    return f"sqlite:///{quote(str(Path(db)))}"


def engine_for(db: str, plugins: Sequence[str]) -> ic.Engine:
    """An engine over the store ``db`` names, with the entry-point plugins named."""
    return ic.Engine.from_url(store_url(db), entry_points=tuple(plugins))


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (YYYY-MM-DD)", param_hint="--period"
        ) from None


def _bound(text: str, tz: ZoneInfo) -> datetime:
    if _DAY.match(text):
        day = _date(text)
        return datetime(day.year, day.month, day.day, tzinfo=tz)
    return parse_instant(text, "--period", default_tz=tz)


def parse_period(text: str, tz: ZoneInfo) -> Period:
    """A period from its text (see :data:`PERIOD_HELP`), local to ``tz``."""
    text = text.strip()
    try:
        bounds = _period_bounds(text, tz)
        if bounds is not None:
            return Period(*bounds)
    except ic.ValidationError as exc:
        raise click.BadParameter(_first_problem(exc), param_hint="--period") from None
    except ValueError as exc:
        raise click.BadParameter(f"{text!r}: {exc}", param_hint="--period") from None
    raise click.BadParameter(
        f"{text!r} is not a period; write {PERIOD_HELP}", param_hint="--period"
    )


def _period_bounds(text: str, tz: ZoneInfo) -> tuple[datetime, datetime] | None:
    if "/" in text:
        first, _, last = text.partition("/")
        return _bound(first.strip(), tz), _bound(last.strip(), tz)
    if m := _MONTH.match(text):
        month = Period.month(int(m[1]), int(m[2]), tz)
        return month.start, month.end
    if m := _QUARTER.match(text):
        year, first_month = int(m[1]), 3 * int(m[2]) - 2
        start = datetime(year, first_month, 1, tzinfo=tz)
        if first_month == 10:
            return start, datetime(year + 1, 1, 1, tzinfo=tz)
        return start, datetime(year, first_month + 3, 1, tzinfo=tz)
    if m := _WEEK.match(text):
        monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        start = datetime(monday.year, monday.month, monday.day, tzinfo=tz)
        return start, start + timedelta(days=7)
    if m := _YEAR.match(text):
        year = int(m[1])
        return datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    if _DAY.match(text):
        start = _bound(text, tz)
        return start, start + timedelta(days=1)
    return None


def period_label(period: Period) -> str:
    """``2026-11-01 00:00 → 2026-12-01 00:00 UTC`` (end excluded)."""
    start, end = period.start, period.end
    tz = start.tzname() or ""
    return f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} {tz}".rstrip()


def _first_problem(exc: ic.ValidationError) -> str:
    return "; ".join(message for _, message in exc.errors) or str(exc)


def parse_instant(text: str, what: str, *, default_tz: ZoneInfo | None = None) -> datetime:
    """An aware datetime from ISO 8601 text. Without an offset, ``default_tz`` is used
    when given; otherwise a naive instant is an error (itsmcore never guesses a zone)."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 datetime (e.g. 2026-11-23T09:00+01:00)", param_hint=what
        ) from None
    if value.tzinfo is None:
        if default_tz is None:
            raise click.BadParameter(
                f"{text!r} has no UTC offset; write e.g. {text}+00:00 or {text}Z",
                param_hint=what,
            )
        value = value.replace(tzinfo=default_tz)
    return value


def parse_duration(text: str, what: str) -> timedelta:
    """A duration from ISO 8601 text (``PT8H``, ``P2DT4H30M``)."""
    try:
        return ic.load(timedelta, text.strip())
    except ic.ItsmError:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 duration (e.g. PT8H, PT1H30M, P2D)", param_hint=what
        ) from None


def parse_calendar(value: str) -> BusinessCalendar:
    """A calendar from ``--calendar``: a built-in name (``business``, ``24x7``) or a
    ``.toml``/``.json`` file in the :meth:`BusinessCalendar.from_dict` format."""
    if value in DEFAULT_CALENDARS:
        return DEFAULT_CALENDARS[value]
    if not Path(value).exists():
        known = ", ".join(DEFAULT_CALENDARS)
        raise click.BadParameter(
            f"{value!r} is neither a calendar file nor a built-in calendar ({known})",
            param_hint="--calendar",
        )
    try:
        return BusinessCalendar.from_dict(read_document(value, kind="calendar"))
    except ic.SpecError as exc:
        raise click.BadParameter("; ".join(exc.problems), param_hint="--calendar") from None
    except ic.ValidationError as exc:
        problems = "; ".join(f"{path}: {message}" for path, message in exc.errors)
        raise click.BadParameter(f"{value}: {problems}", param_hint="--calendar") from None


def format_duration(value: timedelta) -> str:
    """A duration for people: ``2 d 3 h 04 min``, ``41 min 07 s``, ``12.5 s``."""
    negative = value < timedelta(0)
    seconds = abs(value).total_seconds()
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h {minutes:02d} min"
    elif hours:
        text = f"{hours} h {minutes:02d} min"
    elif minutes:
        text = f"{minutes} min {secs:02d} s"
    else:
        text = f"{seconds:.1f} s"
    return f"-{text}" if negative else text


def iso_duration(value: timedelta) -> str:
    """ISO 8601 text of a non-negative duration, exact: ``PT5H``, ``P1DT2H0.5S``."""
    micros = value // timedelta(microseconds=1)
    days, micros = divmod(micros, 86_400_000_000)
    hours, micros = divmod(micros, 3_600_000_000)
    minutes, micros = divmod(micros, 60_000_000)
    seconds, micros = divmod(micros, 1_000_000)
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M")) if n)
    if seconds or micros:
        time += f"{seconds}.{micros:06d}".rstrip("0").rstrip(".") + "S"
    text = f"P{days}D" if days else "P"
    return text + (f"T{time}" if time else ("" if days else "T0S"))


def format_kpi(value: float | timedelta | int | None, unit: str) -> str:
    """A KPI value in its unit: a duration, a ratio as a percentage, a count, points."""
    if value is None:
        return "no data"
    if isinstance(value, timedelta):
        return format_duration(value)
    if unit == "ratio":
        return f"{100 * value:.2f} %"
    if unit == "count":
        return f"{int(value)}"
    if unit == "percent":
        return f"{value:+.1f}"
    return f"{value:g}"
