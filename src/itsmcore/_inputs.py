"""Checks of caller input shared by the kernel's operations: actors, instants, and one
field value against its :class:`~itsmcore.FieldSpec`.

Why a module of its own: opening, firing, linking and unlinking all check the same
things the same way, and a check appends ``(path, message)`` to an error list instead of
raising, so one call reports every problem of its input at once.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from itsmcore._time import require_aware
from itsmcore.errors import ValidationError, did_you_mean
from itsmcore.records import Actor

if TYPE_CHECKING:
    from itsmcore.spec import FieldSpec

__all__ = ["check_actor", "check_time", "coerce_value", "encodable"]


def check_actor(actor: Any, errors: list[tuple[str, str]]) -> None:
    if not isinstance(actor, Actor) or not isinstance(actor.id, str) or not actor.id:
        errors.append(("$.actor", "expected an itsmcore.Actor with a non-empty id"))
    elif not encodable(actor.id) or not all(
        isinstance(r, str) and encodable(r) for r in actor.roles
    ):
        errors.append(("$.actor", "ids and roles must be valid Unicode text"))


def encodable(text: str) -> bool:
    """False for strings that UTF-8 cannot encode (lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_time(at: Any, errors: list[tuple[str, str]]) -> datetime:
    """Check ``at`` and return it in UTC (the event log is kept in UTC, so equal
    instants are equal values whatever zone the caller used)."""
    try:
        return require_aware(at, "$.at").astimezone(UTC)
    except ValidationError as exc:
        errors.extend(exc.errors)
        return at  # type: ignore[no-any-return]


def coerce_value(fspec: FieldSpec, value: Any) -> tuple[str | None, Any]:
    """Check one value against its field spec; return (problem, coerced value)."""
    kind = fspec.type
    if kind in ("str", "text", "ref"):
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}", None
        if kind != "text" and len(value) > 10_000:
            return "is longer than 10,000 characters", None
        if not encodable(value):
            return "is not valid Unicode text (lone surrogate)", None
        return None, value
    if kind == "enum":
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}", None
        if value not in fspec.choices:
            hint = did_you_mean(value, fspec.choices)
            return f"{value!r} is not one of {', '.join(fspec.choices)}{hint}", None
        return None, value
    if kind == "bool":
        if not isinstance(value, bool):
            return f"expected true or false, got {type(value).__name__}", None
        return None, value
    if kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {type(value).__name__}", None
        if kind == "int" and not isinstance(value, int):
            return "expected a whole number", None
        if isinstance(value, float) and not math.isfinite(value):
            return "must be a finite number", None
        if fspec.minimum is not None and value < fspec.minimum:
            return f"must be at least {_num(fspec.minimum)}", None
        if fspec.maximum is not None and value > fspec.maximum:
            return f"must be at most {_num(fspec.maximum)}", None
        return None, float(value) if kind == "float" else value
    if kind == "datetime":
        if not isinstance(value, datetime):
            return f"expected a datetime, got {type(value).__name__}", None
        if value.tzinfo is None or value.utcoffset() is None:
            return "naive datetime: attach a time zone", None
        return None, value.astimezone(UTC)
    if kind == "date":
        if isinstance(value, datetime) or not isinstance(value, date):
            return f"expected a date, got {type(value).__name__}", None
        return None, value
    if kind == "duration":
        if not isinstance(value, timedelta):
            return f"expected a timedelta, got {type(value).__name__}", None
        return None, value
    if kind == "list":
        if isinstance(value, str) or not isinstance(value, list | tuple):
            return f"expected a list of strings, got {type(value).__name__}", None
        items = tuple(value)
        for i, item in enumerate(items):
            if not isinstance(item, str) or not encodable(item):
                return f"item {i} must be a string of valid Unicode text", None
            if fspec.choices and item not in fspec.choices:
                return f"item {i} {item!r} is not one of {', '.join(fspec.choices)}", None
        return None, items
    return f"unsupported field type {kind!r}", None  # pragma: no cover - checked by spec


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)
