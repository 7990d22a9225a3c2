"""JSON in, typed field values out: the glue between HTTP and a process spec.

JSON has no datetimes, dates or durations, so the desk reads them as ISO 8601 text
according to each field's declared type (``FieldSpec.type``). Everything else is left
to the spec, which validates it when the event is applied. Problems are reported the
way itsmcore reports them: a ``ValidationError`` with ``(path, message)`` pairs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

import itsmcore as ic


def _convert(kind: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value  # the spec reports a wrong type with the field's path
    if kind == "datetime":
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("give a UTC offset, e.g. 2026-11-26T09:00:00+01:00")
        return parsed
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "duration":
        return ic.load(timedelta, value)
    return value


def fields_from_json(spec: ic.ProcessSpec, data: Any) -> dict[str, Any]:
    """The fields of a request body's ``fields`` object, typed for ``spec``.

    Raises ``ValidationError`` when ``fields`` is not an object, names an unknown field
    or holds text that is not a valid datetime, date or ISO 8601 duration.
    """
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ic.ValidationError.single("$.fields", "must be a JSON object")
    declared = {f.name: f for f in spec.fields}
    out: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for name, value in data.items():
        field = declared.get(name)
        if field is None:
            errors.append((f"$.fields.{name}", f"unknown field of {spec.name!r}"))
            continue
        try:
            out[name] = _convert(field.type, value)
        except (ValueError, ic.ItsmError) as exc:
            errors.append((f"$.fields.{name}", f"not a valid {field.type}: {exc}"))
    if errors:
        raise ic.ValidationError(errors)
    return out
