"""Compile a spec into one shared transition table, and apply events purely.

Why ``transitions`` and how: each spec is compiled once into a
``transitions.Machine(model=None, auto_transitions=False)``. No model is ever attached
(so no ``to_<state>()`` jumps and no shared model list), and every guard is handed to it
as a callable from our registry; a string reaching ``resolve_callable`` is refused. The
machine is the validated transition table: the per-(state, event) lookup used at run
time is read from it once, at compile time.

The operations are pure: time is an argument, nothing is read from the clock or the
disk, and a failure raises before anything is built. Input checks live in
:mod:`itsmcore._inputs`; building the step, the relation events (``apply_link``,
``apply_unlink``) and :func:`replay` in :mod:`itsmcore._steps` (exported from here).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs
from transitions import Machine

from itsmcore._inputs import check_actor, check_time, coerce_value, encodable
from itsmcore._steps import apply_link, apply_unlink, build_step, replay
from itsmcore.errors import (
    Forbidden,
    GuardFailed,
    InvalidTransition,
    SpecError,
    ValidationError,
    did_you_mean,
)
from itsmcore.records import Actor, FieldMap, Record, Step
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
            problem, coerced = coerce_value(fspec, value)
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
            or not encodable(record_id)
        ):
            errors.append(("$.record_id", "must be a non-empty string of at most 200 chars"))
        check_actor(actor, errors)
        at = check_time(at, errors)
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
        return build_step(
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
        check_actor(actor, errors)
        at = check_time(at, errors)
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
        return build_step(
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
            problem, coerced = coerce_value(fspec, value)
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
