"""Small, shared checks on time values (private).

The domain never reads the clock and never guesses a time zone: every datetime that
enters it must be timezone-aware, and every duration a :class:`datetime.timedelta`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from itsmcore.errors import ValidationError

__all__ = [
    "format_duration",
    "parse_duration",
    "require_aware",
    "require_timedelta",
    "to_utc_text",
]


def require_aware(value: Any, path: str = "$") -> datetime:
    """Return ``value`` if it is a timezone-aware datetime, else raise ``ValidationError``.

    A naive datetime is rejected, never interpreted in some local zone.
    """
    if not isinstance(value, datetime):
        raise ValidationError.single(
            path, f"expected a timezone-aware datetime, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError.single(
            path,
            "naive datetime: attach a time zone (e.g. tzinfo=timezone.utc or a ZoneInfo)",
        )
    return value


def require_timedelta(value: Any, path: str = "$") -> timedelta:
    """Return ``value`` if it is a :class:`timedelta`, else raise ``ValidationError``."""
    if not isinstance(value, timedelta):
        raise ValidationError.single(
            path, f"expected a datetime.timedelta, got {type(value).__name__}"
        )
    return value


def to_utc_text(value: datetime) -> str:
    """The canonical text of an aware instant: UTC, microseconds, ``Z`` suffix.

    Example: ``2026-11-26T09:00:00.000000Z``. Used by the event hash, so it never changes.
    """
    u = value.astimezone(UTC)
    return (
        f"{u.year:04d}-{u.month:02d}-{u.day:02d}T"
        f"{u.hour:02d}:{u.minute:02d}:{u.second:02d}.{u.microsecond:06d}Z"
    )


_DURATION = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)(?:\.(?P<f>\d{1,6}))?S)?)?$"
)


def parse_duration(value: Any, path: str = "$") -> timedelta:
    """Read a duration from plain data, exactly.

    Accepts a :class:`timedelta`, a whole number of seconds (``int``), or an ISO 8601
    duration string with weeks, days, hours, minutes and seconds (``"P7D"``, ``"PT4H"``,
    ``"PT1H30M"``, ``"PT0.25S"``; years and months are refused: their length varies).
    Negative durations are a ``ValidationError``.
    """
    if isinstance(value, timedelta):
        result = value
    elif isinstance(value, int) and not isinstance(value, bool):
        result = timedelta(seconds=value)
    elif isinstance(value, str):
        text = value.strip().upper()
        match = _DURATION.match(text)
        if not match or text == "P" or text.endswith("T"):  # a designator needs a number
            raise ValidationError.single(
                path,
                f"not an ISO 8601 duration: {value!r} (e.g. 'PT4H', 'P7D', 'PT1H30M')",
            )
        parts = {k: int(v) for k, v in match.groupdict().items() if v and k != "f"}
        micro = int((match.group("f") or "0").ljust(6, "0"))
        result = timedelta(
            weeks=parts.get("w", 0),
            days=parts.get("d", 0),
            hours=parts.get("h", 0),
            minutes=parts.get("m", 0),
            seconds=parts.get("s", 0),
            microseconds=micro,
        )
    else:
        raise ValidationError.single(
            path, f"expected an ISO 8601 duration string or whole seconds, got {value!r}"
        )
    if result < timedelta(0):
        raise ValidationError.single(path, "a duration must not be negative")
    return result


def format_duration(value: timedelta) -> str:
    """The ISO 8601 text of a non-negative duration, exact to the microsecond
    (``timedelta(hours=4)`` → ``"PT4H"``; zero → ``"PT0S"``)."""
    total = (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    if total < 0:
        raise ValueError("negative duration")
    seconds, micro = divmod(total, 1_000_000)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    out = "P" + (f"{days}D" if days else "")
    clock = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if micro:
        clock += f"{secs}.{micro:06d}".rstrip("0") + "S"
    elif secs:
        clock += f"{secs}S"
    if clock:
        out += "T" + clock
    return out if out != "P" else "PT0S"
