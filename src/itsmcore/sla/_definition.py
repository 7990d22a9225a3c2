"""The definition of a business calendar as plain data, and its validation (private).

A calendar is defined by an IANA time zone, weekly windows per weekday and windows per
date (overrides). This module turns the plain-data form (``from_dict``) into a canonical,
immutable :class:`CalendarDefinition`, collecting *every* problem with its path
(``$.week.mon[0]``) before raising one :class:`~itsmcore.errors.ValidationError`.

The canonical form keeps what the user wrote (which days were given, the windows in their
order, ``"00:00-24:00"`` and ``"00:00-00:00"`` apart), so ``to_dict`` round-trips exactly;
meaning (merging overlaps, overnight spill) is the timeline's business.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import attrs

from itsmcore.errors import ValidationError, did_you_mean

__all__ = [
    "DAYS",
    "CalendarDefinition",
    "load_zone",
    "merge_overrides",
    "parse_definition",
    "parse_override_date",
    "parse_overrides",
    "parse_windows",
    "window_minutes",
]

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys in ``datetime.weekday()`` order (Monday is 0)."""

_TOP_KEYS = ("timezone", "week", "overrides")
_WINDOW = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WINDOW_HINT = "write windows as 'HH:MM-HH:MM', e.g. '09:00-17:00' ('24:00' ends a day)"

Errors = list[tuple[str, str]]
DayWindows = tuple[tuple[str, tuple[str, ...]], ...]


@attrs.frozen
class CalendarDefinition:
    """A validated calendar definition in canonical form.

    ``week`` holds the weekdays that were given, in Monday-to-Sunday order; ``overrides``
    holds ISO dates in ascending order. Windows are canonical ``"HH:MM-HH:MM"`` texts.
    """

    timezone: str
    week: DayWindows
    overrides: DayWindows

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form (fresh lists, safe to mutate)."""
        return {
            "timezone": self.timezone,
            "week": {day: list(windows) for day, windows in self.week},
            "overrides": {when: list(windows) for when, windows in self.overrides},
        }


def window_minutes(text: str) -> tuple[int, int]:
    """Start and end of a *valid* window text, in minutes after midnight (end may be 1440)."""
    match = _WINDOW.fullmatch(text)
    if match is None:  # pragma: no cover - callers pass validated texts only
        raise ValueError(text)
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def _window_problem(text: str) -> str | None:
    """Why ``text`` is not a window, or ``None`` when it is one."""
    match = _WINDOW.fullmatch(text)
    if match is None:
        return f"{text!r} is not a window: {_WINDOW_HINT}"
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23:
        return f"{text!r} starts at hour {h1}: a window starts at 00:00-23:59; {_WINDOW_HINT}"
    if m1 > 59 or m2 > 59:
        return f"{text!r} has minutes over 59; {_WINDOW_HINT}"
    if h2 > 24 or (h2 == 24 and m2 != 0):
        return f"{text!r} ends after 24:00; {_WINDOW_HINT}"
    return None


def parse_windows(value: Any, path: str, errors: Errors) -> tuple[str, ...]:
    """Validate a list of window texts; append problems to ``errors``."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        errors.append((path, f"expected a list of windows such as ['09:00-17:00'], got {value!r}"))
        return ()
    texts: list[str] = []
    for index, item in enumerate(value):
        if not isinstance(item, str):
            errors.append((f"{path}[{index}]", f"expected a window text, got {item!r}"))
            continue
        problem = _window_problem(item)
        if problem is not None:
            errors.append((f"{path}[{index}]", problem))
        else:
            texts.append(item)
    return tuple(texts)


def parse_override_date(key: Any, path: str, errors: Errors) -> str | None:
    """Validate one override key (``"YYYY-MM-DD"`` or a :class:`datetime.date`)."""
    if isinstance(key, date) and not hasattr(key, "hour"):
        return key.isoformat()
    if not isinstance(key, str) or _DATE.fullmatch(key) is None:
        errors.append((path, f"{key!r} is not a date: write dates as 'YYYY-MM-DD'"))
        return None
    try:
        date.fromisoformat(key)
    except ValueError:
        errors.append((path, f"{key!r} is not a date that exists in the calendar"))
        return None
    return key


def parse_overrides(value: Any, path: str, errors: Errors) -> DayWindows:
    """Validate an overrides mapping ``{date: [windows]}``; return it sorted by date."""
    if not isinstance(value, Mapping):
        errors.append((path, f"expected a mapping of 'YYYY-MM-DD' to windows, got {value!r}"))
        return ()
    found: dict[str, tuple[str, ...]] = {}
    for key, windows in value.items():
        key_path = f"{path}.{key.isoformat() if isinstance(key, date) else key}"
        when = parse_override_date(key, key_path, errors)
        texts = parse_windows(windows, key_path, errors)
        if when is None:
            continue
        if when in found:
            errors.append((key_path, f"date {when} is given twice"))
            continue
        found[when] = texts
    return tuple(sorted(found.items()))


def _parse_week(value: Any, errors: Errors) -> DayWindows:
    if not isinstance(value, Mapping):
        errors.append(("$.week", f"expected a mapping of weekday to windows, got {value!r}"))
        return ()
    found: dict[str, tuple[str, ...]] = {}
    for key, windows in value.items():
        if key not in DAYS:
            hint = did_you_mean(str(key).lower(), DAYS)
            errors.append(
                (f"$.week.{key}", f"unknown weekday {key!r}{hint}; use one of {', '.join(DAYS)}")
            )
            continue
        found[key] = parse_windows(windows, f"$.week.{key}", errors)
    return tuple((day, found[day]) for day in DAYS if day in found)


def load_zone(name: Any, path: str, errors: Errors) -> ZoneInfo | None:
    """Load an IANA zone, appending a problem (with a spelling hint) when it is unknown."""
    if not isinstance(name, str):
        errors.append(
            (path, f"expected an IANA time zone name such as 'Europe/Berlin', got {name!r}")
        )
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        # Only on this error path do we list the zones, to suggest a spelling.
        hint = did_you_mean(name, available_timezones())
        errors.append((path, f"unknown time zone {name!r}{hint}; use an IANA name"))
        return None


def parse_definition(data: Any) -> tuple[CalendarDefinition, ZoneInfo]:
    """Validate the plain-data form; raise one ``ValidationError`` listing every problem."""
    if not isinstance(data, Mapping):
        raise ValidationError.single(
            "$", f"expected a mapping with 'timezone', 'week' and 'overrides', got {data!r}"
        )
    errors: Errors = []
    for key in data:
        if key not in _TOP_KEYS:
            hint = did_you_mean(str(key), _TOP_KEYS)
            errors.append((f"$.{key}", f"unknown key {key!r}{hint}"))
    zone: ZoneInfo | None = None
    if "timezone" not in data:
        errors.append(("$.timezone", "required: an IANA time zone name such as 'Europe/Berlin'"))
    else:
        zone = load_zone(data["timezone"], "$.timezone", errors)
    week = _parse_week(data.get("week", {}), errors)
    overrides = parse_overrides(data.get("overrides", {}), "$.overrides", errors)
    if errors or zone is None:
        raise ValidationError(errors)
    return CalendarDefinition(timezone=data["timezone"], week=week, overrides=overrides), zone


def merge_overrides(
    base: DayWindows, extra: Iterable[tuple[str, tuple[str, ...]]], *, replace: bool
) -> DayWindows:
    """``base`` with the ``extra`` dates added.

    With ``replace`` an extra date replaces the same date in ``base``; without it the
    date already in ``base`` keeps its windows (a hand-made decision wins over a table).
    """
    found = dict(base)
    for when, windows in extra:
        if replace:
            found[when] = windows
        else:
            found.setdefault(when, windows)
    return tuple(sorted(found.items()))
