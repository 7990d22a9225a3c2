"""Compile a spec into one shared transition table, and apply events purely.

Why ``transitions`` and how: each spec is compiled once into a
``transitions.Machine(model=None, auto_transitions=False)``. No model is ever attached
(so no ``to_<state>()`` jumps and no shared model list), and every guard is handed to it
as a callable from our registry; a string reaching ``resolve_callable`` is refused. The
machine is the validated transition table: the per-(state, event) lookup used at run
time is read from it once, at compile time.

The operations are pure: time is an argument, nothing is read from the clock or the
disk, and a failure raises before anything is built.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import attrs
from transitions import Machine

from itsmcore._time import require_aware, to_utc_text
from itsmcore.chain import GENESIS, canonical_bytes, verify_chain
from itsmcore.errors import (
    Forbidden,
    GuardFailed,
    InvalidTransition,
    SpecError,
    ValidationError,
    did_you_mean,
)
from itsmcore.records import Actor, Event, FieldMap, Link, Record, Step, links_after
from itsmcore.registry import Context, EffectFn, GuardFn

if TYPE_CHECKING:
    from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["CompiledProcess", "apply_link", "apply_unlink", "compile_spec", "replay"]


class _Table(Machine):
    """A ``Machine`` that accepts only callables: strings are never resolved."""

    @staticmethod
    def resolve_callable(func: Any, event_data: Any) -> Any:
        if isinstance(func, str):
            raise SpecError("?", [f"refusing to resolve {func!r}: only registered callables"])
        return func


@attrs.frozen(slots=True)
class _Branch:
    """One compiled transition from one source state."""

    spec: TransitionSpec
    target: str
    conditions: tuple[tuple[str, GuardFn], ...]
    guards: tuple[tuple[str, GuardFn], ...]
    effects: tuple[tuple[str, EffectFn], ...]


def _always(_: object) -> bool:
    return True


class CompiledProcess:
    """The run-time form of a :class:`~itsmcore.spec.ProcessSpec`."""

    __slots__ = (
        "_allowed",
        "_opening",
        "_set_by",
        "_table",
        "event_names",
        "fields",
        "initial",
        "machine",
        "spec",
        "states",
    )

    def __init__(self, spec: ProcessSpec) -> None:
        from itsmcore.spec import TransitionSpec, expand_sources, raise_if_invalid

        registry = spec.registry
        raise_if_invalid(spec, registry)
        self.spec = spec
        self.states: dict[str, StateSpec] = {s.name: s for s in spec.states}
        self.fields: dict[str, FieldSpec] = {f.name: f for f in spec.fields}
        self._set_by: dict[str, tuple[str, ...]] = {
            f.name: f.set_by for f in spec.fields if f.set_by
        }
        self.initial: str = next(s.name for s in spec.states if s.initial)
        names: list[str] = []
        for t in spec.transitions:
            if t.event not in names:
                names.append(t.event)
        self.event_names: tuple[str, ...] = tuple(names)

        def resolve(t: TransitionSpec, target: str) -> _Branch:
            return _Branch(
                spec=t,
                target=target,
                conditions=tuple((n, registry.guards[n]) for n in t.conditions),
                guards=tuple((n, registry.guards[n]) for n in t.guards),
                effects=tuple((n, registry.effects[n]) for n in t.effects),
            )

        # Build the transitions machine: one entry per concrete (source, event).
        machine = _Table(
            model=None,
            states=[s.name for s in spec.states],
            initial=self.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        order: dict[tuple[str, str], list[_Branch]] = {}
        for t in spec.transitions:
            for src in expand_sources(spec, t.sources):
                target = src if t.target == "=" else t.target
                branch = resolve(t, target)
                machine.add_transition(
                    trigger=t.event,
                    source=src,
                    dest=target,
                    conditions=list[Any](fn for _, fn in branch.conditions) or [_always],
                )
                order.setdefault((src, t.event), []).append(branch)
        self.machine = machine
        # Read the validated table back from the machine, in its order (one pass over
        # its events: ``get_triggers`` per state would scan them all for each state).
        declared: dict[str, set[str]] = {}
        for trigger, ev in machine.events.items():
            for src, transitions in ev.transitions.items():
                if transitions:
                    declared.setdefault(src, set()).add(trigger)
        table: dict[tuple[str, str], tuple[_Branch, ...]] = {}
        allowed: dict[str, tuple[str, ...]] = {}
        for state in self.states:
            here = declared.get(state, set())
            triggers = [e for e in self.event_names if e in here]
            allowed[state] = tuple(triggers)
            for event in triggers:
                compiled = machine.get_transitions(trigger=event, source=state)
                ours = order[(state, event)]
                if [c.dest for c in compiled] != [b.target for b in ours]:
                    raise SpecError(spec.name, [f"transition table mismatch at {state}/{event}"])
                table[(state, event)] = tuple(ours)
        self._table = table
        self._allowed = allowed
        opening = spec.opening or TransitionSpec(event="open", sources=(), target=self.initial)
        self._opening = resolve(opening, opening.target)
        # A timer's fields reach its event as a caller's would: a value the event would
        # refuse must fail here, not on every tick for ever.
        problems: list[str] = []
        for timer in spec.timers:
            errors: list[tuple[str, str]] = []
            self.validate_fields(timer.fields, errors)
            problems.extend(
                f"timer {timer.name!r}: field {path.removeprefix('$.fields.')!r} {message}"
                for path, message in errors
            )
        if problems:
            raise SpecError(spec.name, problems)

    # -- queries ---------------------------------------------------------------------------

    def allowed(self, state: str) -> tuple[str, ...]:
        """Events declared from ``state`` (before conditions, roles and guards)."""
        return self._allowed.get(state, ())

    # -- validation ------------------------------------------------------------------------

    def validate_fields(self, given: Any, errors: list[tuple[str, str]]) -> dict[str, Any]:
        """Coerce and check caller-given fields; append ``(path, message)`` problems.

        Callers may set any declared field except derived ones, and may clear (``None``)
        any field that is not required on open."""
        return self._validate(given, errors, system=False)

    def validate_system_fields(self, given: Any, errors: list[tuple[str, str]]) -> dict[str, Any]:
        """Coerce and check values the *engine* computed for derived fields (see
        :meth:`ProcessSpec.fire`); append ``(path, message)`` problems. Only fields the
        spec declares ``derived`` may be given this way."""
        return self._validate(given, errors, system=True)

    def _check_set_by(
        self, event: str, given: Mapping[str, Any], errors: list[tuple[str, str]]
    ) -> None:
        """Refuse fields whose :attr:`FieldSpec.set_by` does not name ``event``."""
        if not self._set_by:
            return
        for name in given:
            allowed = self._set_by.get(name)
            if allowed and event not in allowed:
                errors.append(
                    (f"$.fields.{name}", f"is set only by {', '.join(allowed)}, not by {event}")
                )

    def _validate(
        self, given: Any, errors: list[tuple[str, str]], *, system: bool
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if not given:
            return out
        root = "$.system_fields" if system else "$.fields"
        if not isinstance(given, Mapping):
            errors.append((root, "expected a mapping of field names to values"))
            return out
        for name, value in given.items():
            path = f"{root}.{name}"
            fspec = self.fields.get(name)
            if fspec is None:
                hint = did_you_mean(str(name), self.fields)
                errors.append((path, f"unknown field for process {self.spec.name!r}{hint}"))
                continue
            if fspec.derived != system:
                errors.append(
                    (path, "is not a derived field; system fields set derived fields only")
                    if system
                    else (path, "is computed by the process and cannot be set")
                )
                continue
            if value is None:
                if fspec.required:
                    errors.append((path, "is required and cannot be cleared"))
                else:
                    out[name] = None
                continue
            problem, coerced = _coerce(fspec, value)
            if problem:
                errors.append((path, problem))
            else:
                out[name] = coerced
        return out

    # -- operations ------------------------------------------------------------------------

    def open(
        self,
        *,
        record_id: str,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None,
    ) -> Step:
        errors: list[tuple[str, str]] = []
        if (
            not isinstance(record_id, str)
            or not record_id
            or len(record_id) > 200
            or not _encodable(record_id)
        ):
            errors.append(("$.record_id", "must be a non-empty string of at most 200 chars"))
        _check_actor(actor, errors)
        at = _check_time(at, errors)
        changes = self.validate_fields(fields, errors)
        self._check_set_by("open", changes, errors)
        if errors:
            raise ValidationError(errors)
        branch = self._opening
        for fspec in self.spec.fields:
            if fspec.required and changes.get(fspec.name) is None:
                errors.append((f"$.fields.{fspec.name}", "is required to open the record"))
        for name in branch.spec.requires:
            if changes.get(name) is None and not self.fields[name].required:
                errors.append((f"$.fields.{name}", "is required to open the record"))
        if errors:
            raise ValidationError(errors)
        changes = {k: v for k, v in changes.items() if v is not None}
        changes, _ = self._run(branch, None, "open", None, actor, at, changes, FieldMap())
        return _build(
            record=None,
            spec=self.spec,
            record_id=record_id,
            name="open",
            source=None,
            target=branch.target,
            at=at,
            actor=actor,
            changes=changes,
        )

    def fire(
        self,
        record: Record,
        event: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None,
        system_fields: Mapping[str, Any] | None = None,
    ) -> Step:
        errors: list[tuple[str, str]] = []
        if not isinstance(record, Record):
            raise ValidationError.single("$.record", "expected a Record")
        if record.process != self.spec.name or record.spec_version != self.spec.version:
            raise ValidationError.single(
                "$.record",
                f"record {record.id!r} belongs to {record.process!r} version "
                f"{record.spec_version}; this spec is {self.spec.name!r} version "
                f"{self.spec.version} (use catalog.get(name, version=...))",
            )
        _check_actor(actor, errors)
        at = _check_time(at, errors)
        if not errors and at < record.updated_at:
            errors.append(
                (
                    "$.at",
                    f"{at.isoformat()} is before the record's last event at "
                    f"{record.updated_at.isoformat()}; events never go back in time",
                )
            )
        branches = self._table.get((record.state, event))
        if branches is None:
            if errors:
                raise ValidationError(errors)
            raise InvalidTransition(
                record.state, str(event), self.allowed(record.state), self.spec.name
            )
        given = self.validate_fields(fields, errors)
        self._check_set_by(event, given, errors)
        given.update(self.validate_system_fields(system_fields, errors))
        if errors:
            raise ValidationError(errors)
        current = record.fields
        merged = current.updated(given)
        # Choose the branch: the first whose conditions all pass.
        chosen: _Branch | None = None
        failed: list[tuple[str, str]] = []
        for branch in branches:
            if not branch.conditions:
                chosen = branch
                break
            ctx = Context(
                spec=self.spec,
                record=record,
                event=event,
                source=record.state,
                target=branch.target,
                actor=actor,
                at=at,
                changes=given,
                fields=merged,
            )
            reason = _first_failure(branch.conditions, ctx)
            if reason is None:
                chosen = branch
                break
            failed.append(reason)
        if chosen is None:
            names = ", ".join(n for n, _ in failed)
            reasons = "; ".join(r for _, r in failed)
            raise GuardFailed(names, reasons)
        for name in chosen.spec.requires:
            if merged.get(name) is None:
                errors.append((f"$.fields.{name}", f"is required to {event}"))
        if errors:
            raise ValidationError(errors)
        changes, final = self._run(chosen, record, event, record.state, actor, at, given, merged)
        # Keep only real changes: the event says what changed.
        delta = {
            k: v
            for k, v in changes.items()
            if (v is None and k in current) or (v is not None and current.get(k) != v)
        }
        return _build(
            record=record,
            spec=self.spec,
            record_id=record.id,
            name=event,
            source=record.state,
            target=chosen.target,
            at=at,
            actor=actor,
            changes=delta,
            fields=final,
        )

    def _checked_effect(self, name: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """An effect's changes, checked like caller input (derived fields allowed).

        An effect is code, so a bad value is a bug in the process, reported as a
        ``SpecError`` naming the effect, never half-applied."""
        out: dict[str, Any] = {}
        problems: list[str] = []
        for key, value in extra.items():
            fspec = self.fields.get(key)
            if fspec is None:
                problems.append(f"unknown field {key!r}")
                continue
            if value is None:
                out[key] = None
                continue
            problem, coerced = _coerce(fspec, value)
            if problem:
                problems.append(f"{key!r}: {problem}")
            else:
                out[key] = coerced
        if problems:
            raise _effect_problem(self.spec.name, name, problems)
        return out

    def _run(
        self,
        branch: _Branch,
        record: Record | None,
        event: str,
        source: str | None,
        actor: Actor,
        at: datetime,
        changes: dict[str, Any],
        merged: FieldMap,
    ) -> tuple[dict[str, Any], FieldMap]:
        """Roles, guards, then effects; returns the final changes and the fields they give."""
        roles = branch.spec.roles
        if roles and not actor.has_role(*roles):
            raise Forbidden(
                f"{event!r} on {self.spec.name!r} needs one of the roles "
                f"{', '.join(roles)}; actor {actor.id!r} has "
                f"{', '.join(sorted(actor.roles)) or 'none'}",
                by=f"{self.spec.name}.roles",
                actor=actor.id,
                event=event,
            )
        if record is None:
            merged = merged.updated(changes)
        if not branch.guards and not branch.effects:
            return changes, merged
        ctx = Context(
            spec=self.spec,
            record=record,
            event=event,
            source=source,
            target=branch.target,
            actor=actor,
            at=at,
            changes=changes,
            fields=merged,
        )
        failure = _first_failure(branch.guards, ctx)
        if failure is not None:
            raise GuardFailed(*failure)
        if not branch.effects:
            return changes, merged
        changes = dict(changes)
        for name, effect in branch.effects:
            extra = effect(ctx)
            if extra:
                extra = self._checked_effect(name, extra)
                changes.update(extra)
                merged = merged.updated(extra)
                ctx = attrs.evolve(ctx, changes=dict(changes), fields=merged)
        return changes, merged


def _effect_problem(spec_name: str, effect: str, problems: list[str]) -> SpecError:
    return SpecError(spec_name, [f"effect {effect!r} returned {p}" for p in problems])


def compile_spec(spec: ProcessSpec) -> CompiledProcess:
    """Check and compile ``spec`` (raises :class:`SpecError` listing every problem)."""
    return CompiledProcess(spec)


def _first_failure(checks: Iterable[tuple[str, GuardFn]], ctx: Context) -> tuple[str, str] | None:
    for name, fn in checks:
        reason = fn(ctx)
        if reason is not None:
            return name, reason
    return None


def _check_actor(actor: Any, errors: list[tuple[str, str]]) -> None:
    if not isinstance(actor, Actor) or not isinstance(actor.id, str) or not actor.id:
        errors.append(("$.actor", "expected an itsmcore.Actor with a non-empty id"))
    elif not _encodable(actor.id) or not all(
        isinstance(r, str) and _encodable(r) for r in actor.roles
    ):
        errors.append(("$.actor", "ids and roles must be valid Unicode text"))


def _encodable(text: str) -> bool:
    """False for strings that UTF-8 cannot encode (lone surrogates)."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_time(at: Any, errors: list[tuple[str, str]]) -> datetime:
    """Check ``at`` and return it in UTC (the event log is kept in UTC, so equal
    instants are equal values whatever zone the caller used)."""
    try:
        return require_aware(at, "$.at").astimezone(UTC)
    except ValidationError as exc:
        errors.extend(exc.errors)
        return at  # type: ignore[no-any-return]


def _coerce(fspec: FieldSpec, value: Any) -> tuple[str | None, Any]:
    """Check one value against its field spec; return (problem, coerced value)."""
    kind = fspec.type
    if kind in ("str", "text", "ref"):
        if not isinstance(value, str):
            return f"expected a string, got {type(value).__name__}", None
        if kind != "text" and len(value) > 10_000:
            return "is longer than 10,000 characters", None
        if not _encodable(value):
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
            if not isinstance(item, str) or not _encodable(item):
                return f"item {i} must be a string of valid Unicode text", None
            if fspec.choices and item not in fspec.choices:
                return f"item {i} {item!r} is not one of {', '.join(fspec.choices)}", None
        return None, items
    return f"unsupported field type {kind!r}", None  # pragma: no cover - checked by spec


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _build(
    *,
    record: Record | None,
    spec: ProcessSpec,
    record_id: str,
    name: str,
    source: str | None,
    target: str,
    at: datetime,
    actor: Actor,
    changes: Mapping[str, Any],
    link: Link | None = None,
    fields: FieldMap | None = None,
) -> Step:
    version = 1 if record is None else record.version + 1
    prev = GENESIS if record is None else record.head
    digest = hashlib.sha256(
        canonical_bytes(
            record_id=record_id,
            version=version,
            name=name,
            source=source,
            target=target,
            at_text=to_utc_text(at),
            actor=actor,
            changes=changes,
            prev_hash=prev,
            link=link,
        )
    ).hexdigest()
    fmap = FieldMap(changes)
    event = Event(
        record_id=record_id,
        version=version,
        name=name,
        source=source,
        target=target,
        at=at,
        actor=actor,
        changes=fmap,
        prev_hash=prev,
        hash=digest,
        link=link,
    )
    if record is None:
        new = Record(
            id=record_id,
            process=spec.name,
            spec_version=spec.version,
            state=target,
            version=1,
            fields=FieldMap({k: v for k, v in changes.items() if v is not None}),
            opened_at=at,
            updated_at=at,
            opened_by=actor.id,
            head=digest,
            links=(),
        )
    else:
        new = Record(
            id=record.id,
            process=record.process,
            spec_version=record.spec_version,
            state=target,
            version=version,
            fields=fields
            if fields is not None
            else (record.fields.updated(changes) if changes else record.fields),
            opened_at=record.opened_at,
            updated_at=at,
            opened_by=record.opened_by,
            head=digest,
            links=links_after(record.links, name, link),
        )
    return Step(record=new, event=event)


def apply_link(record: Record, spec: ProcessSpec, link: Link, *, actor: Actor) -> Step:
    """Record ``link`` on ``record`` as a ``link`` event at ``link.at`` (any state).

    Raises ``ValidationError`` when the link is already there, is not about this record,
    or is dated before the record's last event.
    """
    errors: list[tuple[str, str]] = []
    _check_actor(actor, errors)
    at = _check_time(link.at, errors)
    if record.id not in (link.source, link.target):
        errors.append(("$.link", f"the link does not involve record {record.id!r}"))
    if link.source == link.target:
        errors.append(("$.link", "a record cannot be linked to itself"))
    if not errors and link.at < record.updated_at:
        errors.append(("$.at", "is before the record's last event; events never go back"))
    same = (link.kind, link.source, link.target)
    if any((x.kind, x.source, x.target) == same for x in record.links):
        errors.append(("$.link", f"{link.kind} {link.source} -> {link.target} already exists"))
    if errors:
        raise ValidationError(errors)
    if at is not link.at:
        link = attrs.evolve(link, at=at)
    return _build(
        record=record,
        spec=spec,
        record_id=record.id,
        name="link",
        source=record.state,
        target=record.state,
        at=link.at,
        actor=actor,
        changes={},
        link=link,
    )


def apply_unlink(
    record: Record, spec: ProcessSpec, link: Link, *, at: datetime, actor: Actor
) -> Step:
    """Remove ``link`` from ``record`` as an ``unlink`` event at ``at`` (any state).

    The link is found by :attr:`~itsmcore.Link.key` (kind and ends; its ``at`` is not
    compared); the event carries the link as it was added, so the history says which
    relation ended and since when it stood. Raises ``ValidationError`` when the record
    holds no such link, for a bad actor or time, or when ``at`` is before the record's
    last event.
    """
    errors: list[tuple[str, str]] = []
    _check_actor(actor, errors)
    at = _check_time(at, errors)
    if not isinstance(link, Link):
        raise ValidationError.single("$.link", "expected a Link")
    stored = next((x for x in record.links if x.key == link.key), None)
    if stored is None:
        errors.append(
            ("$.link", f"{record.id} has no {link.kind} link {link.source} -> {link.target}")
        )
    if not errors and at < record.updated_at:
        errors.append(("$.at", "is before the record's last event; events never go back"))
    if errors or stored is None:
        raise ValidationError(errors)
    return _build(
        record=record,
        spec=spec,
        record_id=record.id,
        name="unlink",
        source=record.state,
        target=record.state,
        at=at,
        actor=actor,
        changes={},
        link=stored,
    )


def replay(spec: ProcessSpec, events: Sequence[Event]) -> Record:
    """Rebuild a record from its complete history (versions 1..n), exactly.

    Verifies the hash chain first (``ChainBroken``), then the invariants the chain
    alone does not prove (anyone can recompute SHA-256): every state the events reach
    exists in ``spec``, each event leaves the state the previous one reached, and no
    event is dated before the one before it (``ValidationError`` otherwise). Events are
    facts: guards are not re-run.
    """
    if not events:
        raise ValidationError.single("$.events", "a history needs at least its open event")
    verify_chain(events)
    record: Record | None = None
    for i, ev in enumerate(events):
        if ev.target not in spec.compiled.states:
            raise ValidationError.single(
                f"$.events[{i}].target", f"state {ev.target!r} is not in {spec.name!r}"
            )
        if record is None:
            record = Record(
                id=ev.record_id,
                process=spec.name,
                spec_version=spec.version,
                state=ev.target,
                version=1,
                fields=FieldMap({k: v for k, v in ev.changes.items() if v is not None}),
                opened_at=ev.at,
                updated_at=ev.at,
                opened_by=ev.actor.id,
                head=ev.hash,
            )
            continue
        if ev.source != record.state:
            raise ValidationError.single(
                f"$.events[{i}].source",
                f"leaves {ev.source!r} but the record was in {record.state!r}",
            )
        if ev.at < record.updated_at:
            raise ValidationError.single(
                f"$.events[{i}].at", "is before the previous event; events never go back"
            )
        record = Record(
            id=record.id,
            process=record.process,
            spec_version=record.spec_version,
            state=ev.target,
            version=ev.version,
            fields=record.fields.updated(ev.changes) if ev.changes else record.fields,
            opened_at=record.opened_at,
            updated_at=ev.at,
            opened_by=record.opened_by,
            head=ev.hash,
            links=links_after(record.links, ev.name, ev.link),
        )
    assert record is not None
    return record
