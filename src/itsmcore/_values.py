"""The JSON form of field values (private; shared by the hash chain and serialization).

Field values are JSON scalars, tuples of them, or one of three tagged types:

- ``datetime`` -> ``{"$datetime": "2026-11-26T09:00:00.000000Z"}`` (UTC, microseconds);
- ``date`` -> ``{"$date": "2026-11-26"}``;
- ``timedelta`` -> ``{"$timedelta": <whole microseconds>}``.

The tags make stored events self-describing: a store can load them without the spec,
and a string that merely looks like a date stays a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final

from itsmcore._time import to_utc_text
from itsmcore.errors import ValidationError

__all__ = ["decode_value", "encode_fields", "encode_value", "parse_utc_text"]

_DT = "$datetime"
_DATE = "$date"
_TD = "$timedelta"


def encode_value(value: Any) -> Any:
    """The JSON form of one field value (see the module docstring)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return {_DT: to_utc_text(value)}
    if isinstance(value, date):
        return {_DATE: value.isoformat()}
    if isinstance(value, timedelta):
        return {_TD: (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds}
    if isinstance(value, tuple | list):
        return [encode_value(v) for v in value]
    raise TypeError(f"cannot encode field value of type {type(value).__name__}")


_PLAIN: Final = frozenset((str, int, float, bool, type(None)))


def encode_fields(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON form of a mapping of field values."""
    # JSON scalars are their own form: skip the call for them (every save encodes fields).
    return {k: v if type(v) in _PLAIN else encode_value(v) for k, v in fields.items()}


def parse_utc_text(text: str, path: str = "$") -> datetime:
    """Parse an ISO 8601 instant with an offset (``Z`` allowed) into an aware datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationError.single(path, f"not an ISO 8601 datetime: {text!r}") from None
    if parsed.tzinfo is None:
        raise ValidationError.single(path, f"datetime without an offset: {text!r}")
    return parsed.astimezone(UTC) if parsed.utcoffset() == timedelta(0) else parsed


def decode_value(value: Any, path: str = "$") -> Any:
    """Rebuild a field value from its JSON form; lists become tuples."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return tuple(decode_value(v, f"{path}[{i}]") for i, v in enumerate(value))
    if isinstance(value, dict) and len(value) == 1:
        ((tag, inner),) = value.items()
        if tag == _DT and isinstance(inner, str):
            return parse_utc_text(inner, path)
        if tag == _DATE and isinstance(inner, str):
            try:
                return date.fromisoformat(inner)
            except ValueError:
                raise ValidationError.single(path, f"not an ISO date: {inner!r}") from None
        if tag == _TD and isinstance(inner, int) and not isinstance(inner, bool):
            return timedelta(microseconds=inner)
    raise ValidationError.single(path, f"not a field value: {value!r}")
