"""Small, shared checks on time values (private).

The domain never reads the clock and never guesses a time zone: every datetime that
enters it must be timezone-aware, and every duration a :class:`datetime.timedelta`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from itsmcore.errors import ValidationError

__all__ = ["require_aware", "require_timedelta", "to_utc_text"]


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
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
