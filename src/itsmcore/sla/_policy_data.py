"""SLA policies ⇄ plain data (private; the public entry points are
:meth:`SlaPolicy.from_dict` and :meth:`SlaPolicy.to_dict`; files are read outside the
pure core, e.g. ``SlaPolicy.from_dict(itsmcore.loading.read_document(path))``).

Every problem of a document is collected with its path (``$.clocks[1].targets.3``)
before one :class:`~itsmcore.errors.SpecError` is raised, so a user fixes a file in one
pass. Durations are ISO 8601 text (``"PT4H"``) or whole seconds; priorities are table
keys (``"1"`` or ``1``); ``effective_from`` is an aware datetime or ISO 8601 text with
an offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final

from itsmcore._time import format_duration, parse_duration
from itsmcore.errors import SpecError, ValidationError
from itsmcore.sla.policy import ClockSpec, SlaPolicy, Trigger

__all__ = ["POLICY_FORMAT", "policy_from_dict", "policy_to_dict"]

#: The plain-data format version this module reads and writes.
POLICY_FORMAT: Final = 1

_POLICY_KEYS: Final = frozenset(
    {
        "format",
        "name",
        "version",
        "kind",
        "process",
        "when",
        "clocks",
        "retroactive",
        "priority_field",
        "effective_from",
        "title",
        "description",
    }
)
_CLOCK_KEYS: Final = frozenset(
    {
        "name",
        "targets",
        "calendar",
        "calendars",
        "start",
        "pause",
        "stop",
        "resume",
        "cancel",
        "reset",
        "warnings",
        "description",
    }
)
_TRIGGERS: Final = ("start", "pause", "stop", "resume", "cancel", "reset")
_TRIGGER_KEYS: Final = frozenset({"events", "states", "categories"})
_SCALARS: Final = (str, int, float, bool)


class _Reader:
    """Collects the problems of one policy document, each with its path."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def table(self, value: Any, path: str, keys: frozenset[str] | None = None) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "expected a table/object")
            return {}
        for key in value:
            if keys is not None and key not in keys:
                self.fail(f"{path}.{key}", f"unknown key; allowed: {', '.join(sorted(keys))}")
        return value

    def text(self, value: Any, path: str, default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            self.fail(path, "expected a string")
            return ""
        return value

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.fail(path, "expected a list of strings")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if isinstance(item, str):
                out.append(item)
            else:
                self.fail(f"{path}[{i}]", "expected a string")
        return tuple(out)

    def priority(self, key: Any, path: str) -> int | None:
        if isinstance(key, int) and not isinstance(key, bool):
            return key
        if isinstance(key, str) and key.strip().lstrip("-").isdigit():
            return int(key)
        self.fail(path, f'priority {key!r} must be an integer (e.g. "1")')
        return None

    def duration(self, value: Any, path: str) -> timedelta | None:
        try:
            return parse_duration(value, path)
        except ValidationError as exc:
            for p, msg in exc.errors:
                self.fail(p, msg)
            return None


def _trigger(r: _Reader, value: Any, path: str) -> Trigger | None:
    if value is None:
        return None
    m = r.table(value, path, _TRIGGER_KEYS)
    return Trigger(
        events=r.strings(m.get("events"), f"{path}.events"),
        states=r.strings(m.get("states"), f"{path}.states"),
        categories=r.strings(m.get("categories"), f"{path}.categories"),
    )


def _clock(r: _Reader, value: Any, path: str) -> ClockSpec:
    m = r.table(value, path, _CLOCK_KEYS)
    targets: dict[int, timedelta] = {}
    for key, item in r.table(m.get("targets", {}), f"{path}.targets").items():
        p = r.priority(key, f"{path}.targets.{key}")
        d = r.duration(item, f"{path}.targets.{key}")
        if p is not None and d is not None:
            targets[p] = d
    calendars: dict[int, str] = {}
    for key, item in r.table(m.get("calendars", {}), f"{path}.calendars").items():
        p = r.priority(key, f"{path}.calendars.{key}")
        name = r.text(item, f"{path}.calendars.{key}")
        if p is not None and name:
            calendars[p] = name
    warnings: list[int] = []
    raw = m.get("warnings")
    if raw is not None:
        if isinstance(raw, list | tuple):
            for i, w in enumerate(raw):
                if isinstance(w, bool) or not isinstance(w, int):
                    r.fail(f"{path}.warnings[{i}]", "expected a whole percent, e.g. 75")
                else:
                    warnings.append(w)
        else:
            r.fail(f"{path}.warnings", "expected a list of percents, e.g. [50, 75, 90]")
    triggers = {name: _trigger(r, m.get(name), f"{path}.{name}") for name in _TRIGGERS}
    options: dict[str, Any] = {k: v for k, v in triggers.items() if v is not None}
    if raw is not None:
        options["warnings"] = tuple(warnings)
    return ClockSpec(
        name=r.text(m.get("name"), f"{path}.name"),
        targets=targets,
        calendar=r.text(m.get("calendar"), f"{path}.calendar", "24x7"),
        calendars=calendars,
        description=r.text(m.get("description"), f"{path}.description", ""),
        **options,
    )


def _when(r: _Reader, value: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, item in r.table(value if value is not None else {}, "$.when").items():
        path = f"$.when.{key}"
        if isinstance(item, list | tuple):
            if not item or not all(isinstance(x, _SCALARS) for x in item):
                r.fail(path, "expected a non-empty list of strings, numbers or booleans")
                continue
            out[str(key)] = tuple(item)
        elif isinstance(item, _SCALARS):
            out[str(key)] = item
        else:
            r.fail(path, "expected a string, number, boolean or a list of them")
    return out


def _effective(r: _Reader, value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            r.fail("$.effective_from", "expected ISO 8601 text, e.g. '2026-07-01T00:00:00Z'")
            return None
    if not isinstance(value, datetime) or value.utcoffset() is None:
        r.fail("$.effective_from", "expected a datetime with a UTC offset (e.g. ...T00:00:00Z)")
        return None
    return value


def policy_from_dict(data: Mapping[str, Any]) -> SlaPolicy:
    """Build a :class:`SlaPolicy` from plain data; one ``SpecError`` lists every problem."""
    name = str(data.get("name", "?")) if isinstance(data, Mapping) else "?"
    r = _Reader()
    doc = r.table(data, "$", _POLICY_KEYS)
    fmt = doc.get("format", POLICY_FORMAT)
    if fmt != POLICY_FORMAT:
        r.fail("$.format", f"unsupported format {fmt!r}; this version reads {POLICY_FORMAT}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.fail("$.version", "expected a positive integer")
        version = 1
    retro = doc.get("retroactive", True)
    if not isinstance(retro, bool):
        r.fail("$.retroactive", "expected true or false")
        retro = True
    raw_clocks = doc.get("clocks")
    if not isinstance(raw_clocks, list | tuple) or not raw_clocks:
        r.fail("$.clocks", "expected a non-empty list of clocks")
        raw_clocks = []
    clocks = [_clock(r, item, f"$.clocks[{i}]") for i, item in enumerate(raw_clocks)]
    when = _when(r, doc.get("when"))
    effective = _effective(r, doc.get("effective_from"))
    fields = {
        "name": r.text(doc.get("name"), "$.name"),
        "process": r.text(doc.get("process"), "$.process"),
        "kind": r.text(doc.get("kind"), "$.kind", "sla"),
        "priority_field": r.text(doc.get("priority_field"), "$.priority_field", "priority"),
        "title": r.text(doc.get("title"), "$.title", ""),
        "description": r.text(doc.get("description"), "$.description", ""),
    }
    if r.errors:
        for i, clock in enumerate(clocks):  # report the clocks' own problems too
            raw = raw_clocks[i] if isinstance(raw_clocks[i], Mapping) else {}
            given_targets = bool(raw.get("targets"))
            r.errors.extend(
                p
                for p in clock.problems(f"$.clocks[{i}]")
                if not (given_targets and "at least one target" in p)
            )
        raise SpecError(name, r.errors)
    return SlaPolicy(
        version=version,
        clocks=tuple(clocks),
        when=when,
        retroactive=retro,
        effective_from=effective,
        **fields,
    )


def _clock_dict(clock: ClockSpec) -> dict[str, Any]:
    defaults = ClockSpec(name=clock.name, targets=clock.targets)
    out: dict[str, Any] = {
        "name": clock.name,
        "targets": {str(p): format_duration(d) for p, d in clock.targets},
        "calendar": clock.calendar,
    }
    if clock.calendars:
        out["calendars"] = {str(p): name for p, name in clock.calendars}
    for label in _TRIGGERS:
        trigger: Trigger = getattr(clock, label)
        if trigger != getattr(defaults, label):
            out[label] = trigger.to_dict()
    out["warnings"] = list(clock.warnings)
    if clock.description:
        out["description"] = clock.description
    return out


def policy_to_dict(policy: SlaPolicy) -> dict[str, Any]:
    """The plain-data form of ``policy``, read back by :func:`policy_from_dict`."""
    doc: dict[str, Any] = {
        "format": POLICY_FORMAT,
        "name": policy.name,
        "version": policy.version,
        "kind": policy.kind,
        "process": policy.process,
    }
    if policy.title:
        doc["title"] = policy.title
    if policy.description:
        doc["description"] = policy.description
    if policy.effective_from is not None:
        doc["effective_from"] = policy.effective_from.isoformat()
    if policy.when:
        doc["when"] = {k: list(v) if isinstance(v, tuple) else v for k, v in policy.when.items()}
    doc["retroactive"] = policy.retroactive
    if policy.priority_field != "priority":
        doc["priority_field"] = policy.priority_field
    doc["clocks"] = [_clock_dict(c) for c in policy.clocks]
    return doc
