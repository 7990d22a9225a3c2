"""How the PostgreSQL adapter encodes rows and filters (private, pure).

- Records, events, notifications, deadlines and claims are stored as the JSON text of
  :func:`itsmcore.serialization.dump` (ASCII, so any Python ``str`` can be sent) and read
  back with ``load``: an exact round trip.
- A record's fields are also stored as ``jsonb`` for ``find``. PostgreSQL's ``jsonb``
  cannot hold ``U+0000`` nor lone surrogates, so those characters are replaced in the
  ``jsonb`` copy (never in the exact JSON); the same replacement is applied to filter
  values, and every SQL filter is a superset that ``find`` re-checks in Python.
- A filter value is compared in SQL only where ``jsonb`` equality agrees with Python's
  ``==``: strings, booleans (``True == 1``), integers of at most 53 bits and finite
  floats; anything else (dates, durations, lists, huge integers) is filtered in Python.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any, Final

from itsmcore._time import require_aware
from itsmcore.errors import ValidationError
from itsmcore.ports.storage import Claim, Deadline, Notification
from itsmcore.records import Event, Record
from itsmcore.serialization import dump

__all__ = ["encode", "field_condition", "fields_jsonb", "micros"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
_EXACT_FLOAT_INT: Final = 2**53


def micros(at: datetime, path: str = "$") -> int:
    """Microseconds since the epoch, exact (the sort key of an instant). Raises
    ``ValidationError`` for a naive datetime."""
    delta = require_aware(at, path) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _dumps(data: Any, *, ascii_only: bool) -> str:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only, allow_nan=False)


def encode(obj: Record | Event | Notification | Deadline | Claim) -> str:
    """The exact JSON text stored for ``obj``; ``ValidationError`` if it has no JSON form."""
    try:
        return _dumps(dump(obj), ascii_only=True)
    except ValueError as exc:
        raise ValidationError.single("$", f"cannot store {type(obj).__name__}: {exc}") from None


def _clean_text(text: str) -> str:
    return text.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _clean(value: Any) -> Any:
    """``value`` with every string made storable in ``jsonb`` (see the module docs)."""
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, dict):
        return {_clean_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def fields_jsonb(dumped_fields: Any) -> str:
    """The ``jsonb`` text of a record's dumped fields."""
    text = _dumps(dumped_fields, ascii_only=False)
    if "\\u0000" in text:
        return _dumps(_clean(dumped_fields), ascii_only=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _dumps(_clean(dumped_fields), ascii_only=False)
    return text


def _alternatives(value: Any) -> list[Any] | None:
    """The JSON values ``v`` with ``v == value`` in Python and in ``jsonb``, or ``None``."""
    if isinstance(value, bool):
        return [value, int(value)]
    if isinstance(value, int):
        if abs(value) > _EXACT_FLOAT_INT:
            return None
        return [value, bool(value)] if value in (0, 1) else [value]
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        if value.is_integer():
            return _alternatives(int(value)) if abs(value) <= _EXACT_FLOAT_INT else None
        return [value]
    if isinstance(value, str):
        return [_clean_text(value)]
    return None


def field_condition(key: str, value: Any) -> tuple[str, list[Any]] | None:
    """A SQL condition on column ``fields`` that holds for every record whose
    ``fields.get(key) == value`` (maybe for a few more), with its parameters; ``None``
    when the value is compared in Python only."""
    name = _clean_text(key)
    if value is None:  # an absent field equals None too
        return "coalesce(fields -> %s, 'null'::jsonb) = 'null'::jsonb", [name]
    options = _alternatives(value)
    if options is None:
        return None
    docs = [_dumps({name: option}, ascii_only=False) for option in options]
    sql = " OR ".join("fields @> %s::jsonb" for _ in docs)
    return (f"({sql})" if len(docs) > 1 else sql), list(docs)
