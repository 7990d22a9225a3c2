"""Process specs as plain data: states, transitions, fields, timers.

Why data: a process is declared, not coded. A spec can be loaded from TOML or JSON
(:func:`itsmcore.load_spec`), diffed, versioned and drawn. Behaviour that must be code
(guards, conditions, effects) is a small named function in a :class:`~itsmcore.registry.
Registry`; a spec only names it, and loading never imports or evaluates anything.

A spec is checked when it is built (see :func:`check_spec`) and raises
:class:`~itsmcore.errors.SpecError` listing every problem. The pure operations
(:meth:`ProcessSpec.open`, :meth:`ProcessSpec.fire`, :meth:`ProcessSpec.allowed`) are in
:mod:`itsmcore.machine`; the methods here delegate to it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final

import attrs

from itsmcore.errors import SpecError
from itsmcore.records import Actor, FieldMap, Record, Step
from itsmcore.registry import BUILTINS, Registry

if TYPE_CHECKING:
    from itsmcore.machine import CompiledProcess

__all__ = [
    "FIELD_TYPES",
    "STATE_CATEGORIES",
    "FieldSpec",
    "ProcessSpec",
    "StateSpec",
    "TimerSpec",
    "TransitionSpec",
    "check_spec",
]

#: State categories that SLA policies and KPIs read.
#: ``open`` work in progress; ``paused`` waiting (SLA clocks may pause); ``resolved`` work
#: done, awaiting confirmation; ``active`` a long-lived item in service (a live CI, a
#: published article); ``closed`` and ``cancelled`` finished.
STATE_CATEGORIES: Final = frozenset({"open", "paused", "resolved", "active", "closed", "cancelled"})

#: Field types. ``text`` is a long ``str``; ``list`` is a tuple of ``str`` (each in
#: ``choices`` when given); ``ref`` is a record id; ``duration`` a ``timedelta``.
FIELD_TYPES: Final = frozenset(
    {"str", "text", "int", "float", "bool", "datetime", "date", "duration", "enum", "list", "ref"}
)

#: Event names the kernel reserves: ``open`` (creation), ``link`` and ``unlink`` (a
#: relation added or removed).
RESERVED_EVENTS: Final = frozenset({"open", "link", "unlink"})

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_SELF: Final = "="


def _tuple(value: Any) -> tuple[Any, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _states(value: Iterable[StateSpec]) -> tuple[StateSpec, ...]:
    return tuple(value)


def _transitions(value: Iterable[TransitionSpec]) -> tuple[TransitionSpec, ...]:
    return tuple(value)


def _fields(value: Iterable[FieldSpec]) -> tuple[FieldSpec, ...]:
    return tuple(value)


def _timers(value: Iterable[TimerSpec]) -> tuple[TimerSpec, ...]:
    return tuple(value)


def _frozen_map(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


@attrs.frozen(slots=True)
class FieldSpec:
    """One field of a process.

    ``required`` means required when the record is opened; transitions name the fields
    they require in :attr:`TransitionSpec.requires`. ``derived`` fields are computed by the
    spec's effects (e.g. ``priority``) and never accepted from a caller. ``minimum`` and
    ``maximum`` bound ``int``/``float`` values (inclusive).

    ``set_by`` names the only events (``"open"`` for the opening) that may carry the
    field; empty means any event. Without it any event can carry any field, so a rule
    guarded on one event could be skipped by setting the field with another: declare
    ``set_by`` for fields whose changes a rule watches (an assignee changed only by
    ``assign``, a score given only by ``respond``).
    """

    name: str
    type: str = "str"
    required: bool = False
    choices: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    derived: bool = False
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""
    set_by: tuple[str, ...] = attrs.field(default=(), converter=_tuple)


@attrs.frozen(slots=True)
class StateSpec:
    """One state: its name, category (:data:`STATE_CATEGORIES`), and whether it is the
    initial state or a terminal one (no transitions out)."""

    name: str
    category: str = "open"
    initial: bool = False
    terminal: bool = False
    description: str = ""


@attrs.frozen(slots=True)
class TransitionSpec:
    """One transition: ``event`` from any of ``sources`` to ``target``.

    - ``sources`` may be ``("*",)``: every non-terminal state.
    - ``target`` ``"="`` means stay in the source state (a self-transition).
    - ``conditions`` choose between transitions of the same event and source: they are
      tried in declaration order and the first whose conditions all pass is taken.
    - ``roles``: the actor must hold one of them, else :class:`~itsmcore.errors.Forbidden`.
    - ``requires``: fields that must be set after the caller's changes.
    - ``guards``: rules that must pass, else :class:`~itsmcore.errors.GuardFailed`.
    - ``effects``: computed changes (derived fields, counters), applied in order.
    """

    event: str
    sources: tuple[str, ...] = attrs.field(converter=_tuple)
    target: str
    conditions: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    guards: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    effects: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    roles: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    requires: tuple[str, ...] = attrs.field(default=(), converter=_tuple)
    description: str = ""


@attrs.frozen(slots=True)
class TimerSpec:
    """A timed rule, fired by ``Engine.tick``: while a record is in ``state``, at
    ``after`` past its entry into that state (or at the datetime in field ``at_field``),
    fire ``event`` as the system actor, or, when ``event`` is ``None``, emit a signal
    named ``name``. ``after`` is wall-clock unless ``calendar`` names a business calendar.
    """

    name: str
    state: str
    event: str | None = None
    after: timedelta | None = None
    at_field: str | None = None
    calendar: str | None = None
    fields: FieldMap = attrs.field(factory=FieldMap, converter=_frozen_map)


@attrs.frozen(slots=True, eq=False)
class ProcessSpec:
    """A process: its states, transitions, fields, timers and options, at one version.

    Build one directly, from data (:func:`itsmcore.load_spec`), or take a built-in from
    :data:`itsmcore.catalog`. Building compiles and checks it; a bad spec raises
    :class:`SpecError` listing every problem.

    ``options`` are host-tunable parameters read by guards and effects (quorums, change
    freezes...): :meth:`with_options` returns a configured copy. ``id_prefix`` is used by
    the engine to number records (``INC-000001``).
    """

    name: str
    version: int
    states: tuple[StateSpec, ...] = attrs.field(converter=_states)
    transitions: tuple[TransitionSpec, ...] = attrs.field(converter=_transitions)
    fields: tuple[FieldSpec, ...] = attrs.field(default=(), converter=_fields)
    opening: TransitionSpec | None = None
    timers: tuple[TimerSpec, ...] = attrs.field(default=(), converter=_timers)
    options: FieldMap = attrs.field(factory=FieldMap, converter=_frozen_map)
    title: str = ""
    description: str = ""
    id_prefix: str = ""
    registry: Registry = attrs.field(default=BUILTINS, repr=False)
    _compiled: CompiledProcess = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        from itsmcore.machine import compile_spec

        object.__setattr__(self, "_compiled", compile_spec(self))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ProcessSpec):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash((self.name, self.version))

    def _key(self) -> tuple[Any, ...]:
        return (
            self.name,
            self.version,
            self.states,
            self.transitions,
            self.fields,
            self.opening,
            self.timers,
            self.options,
            self.title,
            self.description,
            self.id_prefix,
        )

    # -- lookups -------------------------------------------------------------------------

    @property
    def compiled(self) -> CompiledProcess:
        """The compiled transition table (see :mod:`itsmcore.machine`)."""
        return self._compiled

    @property
    def initial(self) -> str:
        """The name of the initial state."""
        return self._compiled.initial

    def state(self, name: str) -> StateSpec:
        """The :class:`StateSpec` called ``name`` (``KeyError`` if unknown)."""
        return self._compiled.states[name]

    def field(self, name: str) -> FieldSpec:
        """The :class:`FieldSpec` called ``name`` (``KeyError`` if unknown)."""
        return self._compiled.fields[name]

    def category(self, state: str) -> str:
        """The category of ``state``."""
        return self._compiled.states[state].category

    def is_terminal(self, state: str) -> bool:
        """True when ``state`` is terminal (no transitions out)."""
        return self._compiled.states[state].terminal

    def events(self) -> tuple[str, ...]:
        """Every event name the spec declares, in declaration order."""
        return self._compiled.event_names

    def with_options(self, **options: Any) -> ProcessSpec:
        """A copy with ``options`` merged over the current ones (same name and version)."""
        merged = dict(self.options)
        merged.update(options)
        return attrs.evolve(self, options=FieldMap(merged))

    # -- the pure operations (see itsmcore.machine) ----------------------------------------

    def open(
        self,
        *,
        record_id: str,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
    ) -> Step:
        """Open a new record (version 1) in the initial state.

        Raises ``ValidationError`` (bad or missing fields, naive ``at``), ``Forbidden``
        (the opening needs a role the actor lacks) or ``GuardFailed``.
        """
        return self._compiled.open(record_id=record_id, at=at, actor=actor, fields=fields)

    def fire(
        self,
        record: Record,
        event: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        system_fields: Mapping[str, Any] | None = None,
    ) -> Step:
        """Apply ``event`` to ``record`` at ``at`` and return the new record and its Event.

        Pure: nothing is stored. Raises ``InvalidTransition`` (event not allowed in the
        current state), ``ValidationError`` (bad fields, naive ``at``, ``at`` before the
        record's last event, a record of another process or spec version), ``Forbidden``
        (a role is missing) or ``GuardFailed``.

        ``system_fields`` are values of *derived* fields that the caller computed from
        data outside the record (e.g. a KPI baseline the engine measured from stored
        histories; see ``Engine.measure_improvement``). They are validated like fields,
        join the event's changes before guards and effects run, and are recorded in the
        event like any change. Only derived fields may be given (else
        ``ValidationError`` on ``$.system_fields.<name>``). ``Engine.fire`` never passes
        them, so a host's users cannot type a derived value in; the pure layer trusts
        its caller.
        """
        return self._compiled.fire(
            record, event, at=at, actor=actor, fields=fields, system_fields=system_fields
        )

    def allowed(self, record: Record) -> tuple[str, ...]:
        """The events declared from the record's current state (before guards)."""
        return self._compiled.allowed(record.state)

    def to_mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the spec."""
        from itsmcore.diagram import to_mermaid

        return to_mermaid(self)


def check_spec(spec: ProcessSpec, registry: Registry) -> list[str]:
    """Every static problem of ``spec``, as messages naming the offending ids.

    Checks: valid names; exactly one initial state; known state categories; unique
    state, field and timer names; transitions from and to known states; no transition
    out of a terminal state; every state reachable from the initial state; no
    non-terminal dead end; a terminal state reachable from every state; known field
    types, choices for enums; ``requires`` naming known fields; guard, condition and
    effect names known to the registry; timers on known states and allowed events,
    ``at_field`` naming a datetime or date field, timer ``fields`` naming settable fields.
    """
    problems: list[str] = []
    if not _NAME.match(spec.name):
        problems.append(f"process name {spec.name!r} must be lower_snake_case")
    if isinstance(spec.version, bool) or not isinstance(spec.version, int) or spec.version < 1:
        problems.append(f"version must be a positive integer, got {spec.version!r}")
    names = [s.name for s in spec.states]
    state_set = set(names)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"duplicate states: {', '.join(dupes)}")
    if not names:
        problems.append("a process needs at least one state")
    initial = [s.name for s in spec.states if s.initial]
    if len(initial) != 1:
        problems.append(
            f"exactly one initial state is needed, found {len(initial)}: {', '.join(initial)}"
        )
    for s in spec.states:
        if not _NAME.match(s.name):
            problems.append(f"state name {s.name!r} must be lower_snake_case")
        if s.category not in STATE_CATEGORIES:
            problems.append(
                f"state {s.name!r} has unknown category {s.category!r}; "
                f"use one of {', '.join(sorted(STATE_CATEGORIES))}"
            )
    terminal = {s.name for s in spec.states if s.terminal}
    if names and not terminal:
        problems.append("a process needs at least one terminal state")

    field_names = [f.name for f in spec.fields]
    field_set = set(field_names)
    fdupes = sorted({n for n in field_names if field_names.count(n) > 1})
    if fdupes:
        problems.append(f"duplicate fields: {', '.join(fdupes)}")
    for f in spec.fields:
        if not _NAME.match(f.name):
            problems.append(f"field name {f.name!r} must be lower_snake_case")
        if f.type not in FIELD_TYPES:
            problems.append(
                f"field {f.name!r} has unknown type {f.type!r}; "
                f"use one of {', '.join(sorted(FIELD_TYPES))}"
            )
        if f.type == "enum" and not f.choices:
            problems.append(f"enum field {f.name!r} needs choices")
        if f.required and f.derived:
            problems.append(f"field {f.name!r} cannot be both required and derived")
        if f.set_by and f.derived:
            problems.append(f"field {f.name!r} is derived: no event sets it, drop set_by")
        declared_events = {t.event for t in spec.transitions} | {"open"}
        for event in f.set_by:
            if event not in declared_events:
                problems.append(f"field {f.name!r}: set_by names unknown event {event!r}")
        if f.required and f.set_by and "open" not in f.set_by:
            problems.append(f"field {f.name!r} is required on open: set_by must include 'open'")

    all_transitions: list[TransitionSpec] = list(spec.transitions)
    if spec.opening is not None:
        all_transitions.append(spec.opening)
        if spec.opening.event != "open":
            problems.append("the opening transition's event must be 'open'")
        if spec.opening.target not in state_set:
            problems.append(f"opening targets unknown state {spec.opening.target!r}")
    for t in spec.transitions:
        where = f"transition {t.event!r}"
        if not _NAME.match(t.event):
            problems.append(f"{where}: event name must be lower_snake_case")
        if t.event in RESERVED_EVENTS:
            problems.append(f"{where}: the event name is reserved by the kernel")
        if not t.sources:
            problems.append(f"{where}: needs at least one source state")
        for src in t.sources:
            if src != "*" and src not in state_set:
                problems.append(f"{where}: unknown source state {src!r}")
            if src in terminal:
                problems.append(f"{where}: leaves terminal state {src!r}")
        if t.target != _SELF and t.target not in state_set:
            problems.append(f"{where}: unknown target state {t.target!r}")
    for t in all_transitions:
        where = f"transition {t.event!r}"
        for name in t.requires:
            if name not in field_set:
                problems.append(f"{where}: requires unknown field {name!r}")
        for kind, names_, table in (
            ("guard", t.guards, registry.guards),
            ("condition", t.conditions, registry.guards),
            ("effect", t.effects, registry.effects),
        ):
            for name in names_:
                if not isinstance(name, str) or name not in table:
                    problems.append(f"{where}: unknown {kind} {name!r} (not in the registry)")

    # Graph checks on the expanded edges.
    edges: dict[str, set[str]] = {n: set() for n in state_set}
    non_terminal = [n for n in names if n not in terminal]
    for t in spec.transitions:
        sources = non_terminal if "*" in t.sources else [s for s in t.sources if s in state_set]
        for src in sources:
            target = src if t.target == _SELF else t.target
            if target in state_set:
                edges[src].add(target)
    if len(initial) == 1 and initial[0] in state_set:
        seen = _closure([initial[0]], edges)
        unreachable = [n for n in names if n not in seen]
        if unreachable:
            problems.append(f"unreachable states: {', '.join(unreachable)}")
    dead = [n for n in non_terminal if not (edges[n] - {n})]
    if dead:
        problems.append(f"non-terminal dead ends (no way out): {', '.join(dead)}")
    if terminal:
        reverse: dict[str, set[str]] = {n: set() for n in state_set}
        for src, targets in edges.items():
            for dst in targets:
                reverse[dst].add(src)
        can_finish = _closure(terminal, reverse)
        stuck = [n for n in names if n not in can_finish]
        if stuck:
            problems.append(f"no terminal state reachable from: {', '.join(stuck)}")

    by_field = {f.name: f for f in spec.fields}
    timer_names = [tm.name for tm in spec.timers]
    tdupes = sorted({n for n in timer_names if timer_names.count(n) > 1})
    if tdupes:
        problems.append(f"duplicate timers: {', '.join(tdupes)}")
    for tm in spec.timers:
        where = f"timer {tm.name!r}"
        if tm.state not in state_set:
            problems.append(f"{where}: unknown state {tm.state!r}")
        if (tm.after is None) == (tm.at_field is None):
            problems.append(f"{where}: give exactly one of 'after' and 'at_field'")
        if tm.after is not None and tm.after < timedelta(0):
            problems.append(f"{where}: 'after' must not be negative")
        if tm.at_field is not None and tm.at_field not in field_set:
            problems.append(f"{where}: unknown field {tm.at_field!r}")
        elif tm.at_field is not None and by_field[tm.at_field].type not in ("datetime", "date"):
            problems.append(
                f"{where}: field {tm.at_field!r} is a {by_field[tm.at_field].type}; "
                "'at_field' must name a datetime or date field"
            )
        if tm.fields and tm.event is None:
            problems.append(
                f"{where}: 'fields' are set by the event fired, so only a timer "
                "that fires an event may give them"
            )
        for fname in tm.fields:
            if fname not in field_set:
                problems.append(f"{where}: unknown field {fname!r} in 'fields'")
            elif by_field[fname].derived:
                problems.append(
                    f"{where}: field {fname!r} is derived (computed by effects); "
                    "a timer cannot set it"
                )
        if tm.event is not None:
            fires = any(
                t.event == tm.event and ("*" in t.sources or tm.state in t.sources)
                for t in spec.transitions
            )
            if not fires:
                problems.append(f"{where}: event {tm.event!r} is not allowed in {tm.state!r}")
    return problems


def _closure(starts: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    """Every state reachable from ``starts`` along ``edges`` (the starts included)."""
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in edges[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def raise_if_invalid(spec: ProcessSpec, registry: Registry) -> None:
    """Raise one :class:`SpecError` listing every problem :func:`check_spec` finds."""
    problems = check_spec(spec, registry)
    if problems:
        raise SpecError(spec.name, problems)


def expand_sources(spec: ProcessSpec, sources: Sequence[str]) -> list[str]:
    """The concrete source states of a transition (``*`` = every non-terminal state)."""
    if "*" in sources:
        return [s.name for s in spec.states if not s.terminal]
    return list(sources)
