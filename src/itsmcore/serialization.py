"""Records, events and specs ⇄ JSON-safe plain data, through our own cattrs converter.

Why our own converter: cattrs' global converter is shared by every library in the
process; we never register on it. :func:`make_converter` builds a fresh one and
:func:`configure_converter` layers our rules onto a host's converter. The rules:

- datetimes ⇄ ISO 8601 text with an offset; a naive or offset-less value is refused;
- field values use the tagged JSON form of the hash chain (``{"$datetime": ...}``,
  ``{"$date": ...}``, ``{"$timedelta": microseconds}``, tuples as lists), so a store can
  load an event without knowing its spec;
- actor roles ⇄ sorted lists; durations in specs ⇄ ISO 8601 duration text (``"PT4H"``);
- unknown keys are refused (``forbid_extra_keys``);
- every failure is one :class:`~itsmcore.errors.ValidationError` whose ``errors`` list
  the paths (``$.events[2].at``) and what was wrong.

``FORMAT_VERSION`` stamps serialized documents; loaders accept it and older versions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final, TypeVar

import cattrs
from cattrs.errors import BaseValidationError
from cattrs.v import transform_error

from itsmcore._time import format_duration, parse_duration
from itsmcore._values import decode_value, encode_fields, parse_utc_text
from itsmcore.errors import SpecError, ValidationError
from itsmcore.ports.storage import Claim, Deadline, Notification
from itsmcore.records import Actor, Event, FieldMap, Link, Record
from itsmcore.registry import BUILTINS, EffectFn, GuardFn, Registry
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "FORMAT_VERSION",
    "configure_converter",
    "dump",
    "load",
    "make_converter",
    "spec_from_dict",
    "spec_to_dict",
]

#: Version of the plain-data format written by this module.
FORMAT_VERSION: Final = 1

T = TypeVar("T")


def _dt_unstructure(value: datetime) -> str:
    return value.isoformat()


def _dt_structure(value: Any, _: type) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 datetime string, got {type(value).__name__}")
    return parse_utc_text(value)


def _fieldmap_structure(value: Any, _: type) -> FieldMap:
    if not isinstance(value, Mapping):
        raise ValueError("expected a mapping of field names to values")
    return FieldMap({str(k): decode_value(v, f"$.{k}") for k, v in value.items()})


def _roles_structure(value: Any, _: type) -> frozenset[str]:
    if isinstance(value, str) or not isinstance(value, list | tuple | set | frozenset):
        raise ValueError("roles must be a list of strings")
    if not all(isinstance(r, str) for r in value):
        raise ValueError("roles must be strings")
    return frozenset(value)


def _is_str_frozenset(cl: Any) -> bool:
    return cl is frozenset or cl == frozenset[str]


def _td_structure(value: Any, _: type) -> timedelta:
    return parse_duration(value)


def configure_converter(converter: cattrs.Converter) -> cattrs.Converter:
    """Layer itsmcore's rules (see the module docstring) onto ``converter``; returns it."""
    converter.register_unstructure_hook(datetime, _dt_unstructure)
    converter.register_structure_hook(datetime, _dt_structure)
    converter.register_unstructure_hook(timedelta, format_duration)
    converter.register_structure_hook(timedelta, _td_structure)
    converter.register_unstructure_hook(FieldMap, encode_fields)
    converter.register_structure_hook(FieldMap, _fieldmap_structure)
    converter.register_unstructure_hook_func(_is_str_frozenset, sorted)
    converter.register_structure_hook_func(_is_str_frozenset, _roles_structure)
    return converter


def make_converter() -> cattrs.Converter:
    """A new converter with itsmcore's rules and ``forbid_extra_keys``."""
    return configure_converter(cattrs.Converter(forbid_extra_keys=True))


_CONVERTER: Final = make_converter()

_TYPES: Final[dict[str, type[Any]]] = {
    "record": Record,
    "event": Event,
    "actor": Actor,
    "link": Link,
    "notification": Notification,
    "deadline": Deadline,
    "claim": Claim,
}


def dump(obj: Record | Event | Actor | Link | Notification | Deadline | Claim) -> dict[str, Any]:
    """The JSON-safe plain-data form of a record, event or other value."""
    data: dict[str, Any] = _CONVERTER.unstructure(obj)
    return data


def load(cls: type[T], data: Any) -> T:
    """Rebuild a ``cls`` instance from :func:`dump` output.

    Raises ``ValidationError`` listing each bad path (unknown keys, wrong types, naive
    datetimes).
    """
    try:
        return _CONVERTER.structure(data, cls)
    except BaseValidationError as exc:
        messages = transform_error(exc, format_exception=_describe)
        raise ValidationError([_split(msg) for msg in messages]) from None
    except ValidationError:
        raise
    except (ValueError, TypeError, KeyError) as exc:
        raise ValidationError.single("$", str(exc)) from None


def _describe(exc: BaseException, type_: type | None) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(msg for _, msg in exc.errors)
    if isinstance(exc, KeyError):
        return "required field missing"
    name = getattr(type_, "__name__", str(type_))
    return f"invalid value for {name}: {exc}"


def _split(message: str) -> tuple[str, str]:
    text, _, path = message.rpartition(" @ ")
    return (path or "$", text or message)


# -- specs ---------------------------------------------------------------------------------

_SPEC_KEYS: Final = frozenset(
    {
        "name",
        "version",
        "title",
        "description",
        "id_prefix",
        "states",
        "transitions",
        "fields",
        "timers",
        "options",
        "format",
    }
)
_STATE_KEYS: Final = frozenset({"name", "category", "initial", "terminal", "description"})
_TRANSITION_KEYS: Final = frozenset(
    {
        "event",
        "sources",
        "target",
        "guards",
        "conditions",
        "effects",
        "roles",
        "requires",
        "description",
    }
)
_FIELD_KEYS: Final = frozenset(
    {
        "name",
        "type",
        "required",
        "choices",
        "derived",
        "minimum",
        "maximum",
        "description",
        "set_by",
    }
)
_TIMER_KEYS: Final = frozenset(
    {"name", "state", "event", "after", "at_field", "calendar", "fields"}
)


class _Reader:
    """Collects every problem of a spec document with its path."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    def mapping(self, value: Any, path: str, keys: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "expected a table/object")
            return {}
        for key in value:
            if key not in keys:
                self.fail(f"{path}.{key}", f"unknown key; allowed: {', '.join(sorted(keys))}")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.fail(path, "expected a list")
            return []
        return list(value)

    def text(self, value: Any, path: str, default: str | None = None) -> str:
        if value is None and default is not None:
            return default
        if not isinstance(value, str):
            self.fail(path, "expected a string")
            return ""
        return value

    def optional_text(self, value: Any, path: str) -> str | None:
        if value is not None and not isinstance(value, str):
            self.fail(path, "expected a string")
            return None
        return value

    def names(self, value: Any, path: str) -> tuple[str, ...]:
        out: list[str] = []
        for i, item in enumerate(self.items(value, path)):
            if not isinstance(item, str):
                self.fail(f"{path}[{i}]", "expected a string")
            elif ("." in item and item.count(".") > 1) or "/" in item or ":" in item:
                self.fail(f"{path}[{i}]", f"{item!r} is not a registered name (no paths)")
            else:
                out.append(item)
        return tuple(out)

    def flag(self, value: Any, path: str) -> bool:
        if value is None:
            return False
        if not isinstance(value, bool):
            self.fail(path, "expected true or false")
            return False
        return value


def _timer_fields(r: _Reader, value: Any, path: str) -> FieldMap:
    if value is None:
        return FieldMap()
    if not isinstance(value, Mapping):
        r.fail(path, "expected a table/object")
        return FieldMap()
    out: dict[str, Any] = {}
    for key, item in value.items():
        try:
            out[str(key)] = decode_value(item, f"{path}.{key}")
        except ValidationError as exc:
            for p, msg in exc.errors:
                r.fail(p, msg)
    return FieldMap(out)


def spec_from_dict(
    data: Mapping[str, Any],
    *,
    guards: Mapping[str, GuardFn] | None = None,
    effects: Mapping[str, EffectFn] | None = None,
    registry: Registry | None = None,
) -> ProcessSpec:
    """Build a :class:`ProcessSpec` from plain data (the format in the docs).

    Guards, conditions and effects are looked up by name in ``registry`` (default the
    built-ins) extended with ``guards`` and ``effects``; nothing is imported or evaluated.
    Every problem, structural or graph, is reported in one :class:`SpecError`.
    """
    name = str(data.get("name", "?")) if isinstance(data, Mapping) else "?"
    r = _Reader(name)
    doc = r.mapping(data, "$", _SPEC_KEYS)
    fmt = doc.get("format", FORMAT_VERSION)
    if fmt != FORMAT_VERSION:
        r.fail("$.format", f"unsupported format {fmt!r}; this version reads {FORMAT_VERSION}")
    version = doc.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        r.fail("$.version", "expected a positive integer")
        version = 1
    states = []
    for i, item in enumerate(r.items(doc.get("states"), "$.states")):
        p = f"$.states[{i}]"
        m = r.mapping(item, p, _STATE_KEYS)
        states.append(
            StateSpec(
                name=r.text(m.get("name"), f"{p}.name"),
                category=r.text(m.get("category"), f"{p}.category", "open"),
                initial=r.flag(m.get("initial"), f"{p}.initial"),
                terminal=r.flag(m.get("terminal"), f"{p}.terminal"),
                description=r.text(m.get("description"), f"{p}.description", ""),
            )
        )
    transitions = []
    opening: TransitionSpec | None = None
    for i, item in enumerate(r.items(doc.get("transitions"), "$.transitions")):
        p = f"$.transitions[{i}]"
        m = r.mapping(item, p, _TRANSITION_KEYS)
        t = TransitionSpec(
            event=r.text(m.get("event"), f"{p}.event"),
            sources=r.names(m.get("sources"), f"{p}.sources"),
            target=r.text(m.get("target"), f"{p}.target"),
            guards=r.names(m.get("guards"), f"{p}.guards"),
            conditions=r.names(m.get("conditions"), f"{p}.conditions"),
            effects=r.names(m.get("effects"), f"{p}.effects"),
            roles=r.names(m.get("roles"), f"{p}.roles"),
            requires=r.names(m.get("requires"), f"{p}.requires"),
            description=r.text(m.get("description"), f"{p}.description", ""),
        )
        if t.event == "open":
            if opening is not None:
                r.fail(f"{p}.event", "the opening transition ('open') is given twice")
            opening = t
        else:
            transitions.append(t)
    fields = []
    for i, item in enumerate(r.items(doc.get("fields"), "$.fields")):
        p = f"$.fields[{i}]"
        m = r.mapping(item, p, _FIELD_KEYS)
        bounds: list[float | None] = []
        for key in ("minimum", "maximum"):
            v = m.get(key)
            if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)):
                r.fail(f"{p}.{key}", "expected a number")
                v = None
            bounds.append(v)
        fields.append(
            FieldSpec(
                name=r.text(m.get("name"), f"{p}.name"),
                type=r.text(m.get("type"), f"{p}.type", "str"),
                required=r.flag(m.get("required"), f"{p}.required"),
                choices=r.names(m.get("choices"), f"{p}.choices"),
                derived=r.flag(m.get("derived"), f"{p}.derived"),
                minimum=bounds[0],
                maximum=bounds[1],
                description=r.text(m.get("description"), f"{p}.description", ""),
                set_by=r.names(m.get("set_by"), f"{p}.set_by"),
            )
        )
    timers = []
    for i, item in enumerate(r.items(doc.get("timers"), "$.timers")):
        p = f"$.timers[{i}]"
        m = r.mapping(item, p, _TIMER_KEYS)
        after = None
        if m.get("after") is not None:
            try:
                after = parse_duration(m["after"], f"{p}.after")
            except ValidationError as exc:
                for path, msg in exc.errors:
                    r.fail(path, msg)
        timers.append(
            TimerSpec(
                name=r.text(m.get("name"), f"{p}.name"),
                state=r.text(m.get("state"), f"{p}.state"),
                event=r.optional_text(m.get("event"), f"{p}.event"),
                after=after,
                at_field=r.optional_text(m.get("at_field"), f"{p}.at_field"),
                calendar=r.optional_text(m.get("calendar"), f"{p}.calendar"),
                fields=_timer_fields(r, m.get("fields"), f"{p}.fields"),
            )
        )
    options = doc.get("options") or {}
    if not isinstance(options, Mapping):
        r.fail("$.options", "expected a table/object")
        options = {}
    texts = {  # read before the check below, so a bad value is reported, not dropped
        "name": r.text(doc.get("name"), "$.name"),
        "title": r.text(doc.get("title"), "$.title", ""),
        "description": r.text(doc.get("description"), "$.description", ""),
        "id_prefix": r.text(doc.get("id_prefix"), "$.id_prefix", ""),
    }
    if r.errors:
        raise SpecError(name, r.errors)
    base = registry or BUILTINS
    if guards or effects:
        base = base.extended(guards, effects)
    return ProcessSpec(
        **texts,
        version=version,
        states=tuple(states),
        transitions=tuple(transitions),
        fields=tuple(fields),
        opening=opening,
        timers=tuple(timers),
        options=FieldMap(options),
        registry=base,
    )


def spec_to_dict(spec: ProcessSpec) -> dict[str, Any]:
    """The plain-data form of ``spec`` (read back by :func:`spec_from_dict`).

    Options must be plain data (numbers, strings, lists, tables) to round-trip.
    """

    def transition(t: TransitionSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"event": t.event, "sources": list(t.sources), "target": t.target}
        for key in ("guards", "conditions", "effects", "roles", "requires"):
            value = getattr(t, key)
            if value:
                out[key] = list(value)
        if t.description:
            out["description"] = t.description
        return out

    def state(s: StateSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"name": s.name, "category": s.category}
        if s.initial:
            out["initial"] = True
        if s.terminal:
            out["terminal"] = True
        if s.description:
            out["description"] = s.description
        return out

    def field(f: FieldSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"name": f.name, "type": f.type}
        if f.required:
            out["required"] = True
        if f.choices:
            out["choices"] = list(f.choices)
        if f.derived:
            out["derived"] = True
        if f.minimum is not None:
            out["minimum"] = f.minimum
        if f.maximum is not None:
            out["maximum"] = f.maximum
        if f.description:
            out["description"] = f.description
        if f.set_by:
            out["set_by"] = list(f.set_by)
        return out

    def timer(t: TimerSpec) -> dict[str, Any]:
        out: dict[str, Any] = {"name": t.name, "state": t.state}
        if t.event is not None:
            out["event"] = t.event
        if t.after is not None:
            out["after"] = format_duration(t.after)
        if t.at_field is not None:
            out["at_field"] = t.at_field
        if t.calendar is not None:
            out["calendar"] = t.calendar
        if t.fields:
            out["fields"] = encode_fields(t.fields)
        return out

    doc: dict[str, Any] = {"format": FORMAT_VERSION, "name": spec.name, "version": spec.version}
    for key in ("title", "description", "id_prefix"):
        if getattr(spec, key):
            doc[key] = getattr(spec, key)
    doc["states"] = [state(s) for s in spec.states]
    transitions = [transition(t) for t in spec.transitions]
    if spec.opening is not None:
        transitions.insert(0, transition(spec.opening))
    doc["transitions"] = transitions
    doc["fields"] = [field(f) for f in spec.fields]
    if spec.timers:
        doc["timers"] = [timer(t) for t in spec.timers]
    if spec.options:
        doc["options"] = dict(spec.options)
    return doc
