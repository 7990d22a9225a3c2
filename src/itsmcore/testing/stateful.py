"""A hypothesis state machine that drives any process spec and checks the kernel's laws.

Why: the rules a host relies on (replay rebuilds a record exactly, the hash chain
verifies, terminal states stay terminal, a refused event changes nothing, time never
runs backwards) must hold for *every* process, including the host's own. Rather than
writing examples per process, :func:`process_state_machine` builds a
:class:`~hypothesis.stateful.RuleBasedStateMachine` that opens records, fires allowed,
disallowed, back-dated and naive-dated events and links records, and checks the laws
after every step::

    TestMyProcess = process_state_machine(MY_SPEC).TestCase
    TestMyProcess.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)

The laws checked (each failure message names the law):

- a record at version *n* has exactly *n* events, versions 1..n, the first ``open``;
- ``replay(spec, events)`` equals the record, and ``verify_chain(events)`` returns its
  head;
- each event continues the previous one (source = previous target, ``prev_hash`` =
  previous hash), reaches a target the spec declares for that event, and lists only
  real field changes;
- event times never go backwards; an event dated before the record's last one, or a
  naive datetime, is a ``ValidationError`` on ``$.at`` that changes nothing;
- a terminal state stays terminal (only ``link`` events follow, in the same state);
- an event outside ``spec.allowed(record)`` raises ``InvalidTransition`` whose
  ``.state``, ``.event`` and ``.allowed`` match, and changes nothing;
- an allowed event either succeeds or is refused by ``GuardFailed``, ``Forbidden`` or
  ``ValidationError`` (the kit cannot read guards) and then changes nothing; it never
  raises ``InvalidTransition``, and an actor holding none of the roles the transitions
  ask for never gets through.

Run ``pytest --hypothesis-show-statistics`` to see how often guards refused events: a
process whose guards refuse nearly everything is explored only shallowly; pass
``field_overrides`` (and ``actors``) that satisfy its guards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from itertools import pairwise
from typing import Any, ClassVar, Final, TypeAlias
from zoneinfo import ZoneInfo

import attrs
from hypothesis import event as statistic
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from hypothesis.strategies import DataObject, SearchStrategy

from itsmcore.chain import GENESIS, verify_chain
from itsmcore.errors import (
    ChainBroken,
    Forbidden,
    GuardFailed,
    InvalidTransition,
    ItsmError,
    ValidationError,
)
from itsmcore.machine import apply_link, replay
from itsmcore.records import Actor, Event, Link, Record, Step
from itsmcore.spec import ProcessSpec
from itsmcore.testing.strategies import (
    DEFAULT_ACTOR_IDS,
    DEFAULT_ZONES,
    aware_datetimes,
    event_fields,
    open_fields,
    spec_roles,
    time_gaps,
    transitions_for,
)

__all__ = [
    "ActorSource",
    "FieldSource",
    "ProcessStateMachine",
    "RecordHistory",
    "process_state_machine",
]

#: Fields for one event: a strategy, or a function of the record (``None`` when
#: opening) returning one. The drawn mapping is merged over the generated fields.
FieldSource: TypeAlias = (
    SearchStrategy[Mapping[str, Any]] | Callable[[Record | None], SearchStrategy[Mapping[str, Any]]]
)
#: Actors: a strategy, or a function of (event name, record or ``None``) returning one.
ActorSource: TypeAlias = (
    SearchStrategy[Actor] | Callable[[str, Record | None], SearchStrategy[Actor]]
)

_REJECTIONS: Final = (GuardFailed, Forbidden, ValidationError)
_LINK_KINDS: Final = ("caused_by", "relates_to", "fixed_by")
_MADE_UP_EVENTS: Final = ("open", "link", "no_such_event", "Assign", "")
_START_MIN: Final = datetime(2020, 1, 1, tzinfo=UTC)
_START_MAX: Final = datetime(2035, 1, 1, tzinfo=UTC)


@attrs.define(slots=True)
class RecordHistory:
    """One record the machine drives: its latest version and every event so far.

    ``checked`` is the number of events the history invariant has already verified.
    """

    record: Record
    events: list[Event]
    checked: int = 0

    def advance(self, step: Step) -> None:
        """Take the new version produced by ``step``."""
        self.record = step.record
        self.events.append(step.event)

    def __repr__(self) -> str:
        r = self.record
        return f"<{r.id} v{r.version} {r.state}>"


def _snapshot(record: Record) -> tuple[Any, ...]:
    """Everything about a record that a refused event must leave alone."""
    return (
        record.id,
        record.state,
        record.version,
        record.head,
        record.updated_at,
        record.fields.to_dict(),
        record.links,
    )


class ProcessStateMachine(RuleBasedStateMachine):
    """Drives :attr:`spec` through the pure API. Configure a subclass with
    :func:`process_state_machine`; subclasses may override :meth:`do_open`,
    :meth:`do_fire`, :meth:`do_link` and :meth:`check_stored` to drive another layer
    (see :mod:`itsmcore.testing.engine_stateful`)."""

    spec: ClassVar[ProcessSpec]
    actor_source: ClassVar[ActorSource | None] = None
    field_overrides: ClassVar[Mapping[str, FieldSource]] = {}
    max_records: ClassVar[int] = 3
    zones: ClassVar[tuple[tzinfo, ...]] = ()
    links: ClassVar[bool] = True

    def __init__(self) -> None:
        super().__init__()
        if not hasattr(type(self), "spec"):
            raise InvalidArgument("use process_state_machine(spec) to configure the machine")
        self.histories: list[RecordHistory] = []
        self.now: datetime = _START_MIN
        self.opened = 0
        self.roles = spec_roles(self.spec)

    # -- hooks a subclass may override -----------------------------------------------------

    def do_open(self, record_id: str, *, at: datetime, actor: Actor, fields: Any) -> Step:
        """Open a record; the pure layer by default."""
        return self.spec.open(record_id=record_id, at=at, actor=actor, fields=fields)

    def do_fire(
        self, record: Record, event: str, *, at: datetime, actor: Actor, fields: Any
    ) -> Step:
        """Fire ``event`` on ``record``; the pure layer by default."""
        return self.spec.fire(record, event, at=at, actor=actor, fields=fields)

    def do_link(
        self, source: Record, target: Record, link: Link, *, actor: Actor
    ) -> tuple[Step, Step]:
        """Record ``link`` on both records; the pure layer by default."""
        return (
            apply_link(source, self.spec, link, actor=actor),
            apply_link(target, self.spec, link, actor=actor),
        )

    def check_stored(self, history: RecordHistory) -> None:
        """Check that the layer under test holds exactly ``history`` (nothing to do for
        the pure layer: the history *is* what it produced)."""

    # -- drawing inputs --------------------------------------------------------------------

    def _next_time(self, data: DataObject) -> datetime:
        self.now = self.now + data.draw(time_gaps(), label="gap")
        zone = data.draw(st.sampled_from(self.zones), label="zone")
        return self.now.astimezone(zone)

    def _actor(self, data: DataObject, event: str, record: Record | None) -> Actor:
        source = type(self).actor_source
        if source is not None:
            strategy = source if isinstance(source, SearchStrategy) else source(event, record)
            return data.draw(strategy, label="actor")
        needed: set[str] = set()
        if record is None:
            if self.spec.opening is not None:
                needed.update(self.spec.opening.roles)
        else:
            for t in transitions_for(self.spec, record.state, event):
                needed.update(t.roles)
        options: list[frozenset[str]] = [frozenset(needed), self.roles, frozenset()]
        roles = data.draw(st.sampled_from(options), label="roles")
        if self.roles:
            subset = st.frozensets(st.sampled_from(sorted(self.roles)))
            roles = data.draw(st.one_of(st.just(roles), subset), label="roles")
        actor_id = data.draw(st.sampled_from(DEFAULT_ACTOR_IDS), label="actor id")
        return Actor(actor_id, roles=roles)

    def _fields(self, data: DataObject, event: str, record: Record | None) -> dict[str, Any]:
        if record is None:
            fields = data.draw(open_fields(self.spec), label="fields")
        else:
            fields = data.draw(event_fields(self.spec, event, record), label="fields")
        override = type(self).field_overrides.get(event)
        if override is not None:
            strategy = override if isinstance(override, SearchStrategy) else override(record)
            fields.update(data.draw(strategy, label="override fields"))
        return fields

    # -- rules -----------------------------------------------------------------------------

    @initialize(data=st.data())
    def choose_start(self, data: DataObject) -> None:
        """Start the clock at some instant (often near a DST transition)."""
        self.now = data.draw(
            aware_datetimes(min_value=_START_MIN, max_value=_START_MAX, timezones=self.zones),
            label="start",
        )

    @precondition(lambda self: len(self.histories) < self.max_records)
    @rule(data=st.data())
    def open_record(self, data: DataObject) -> None:
        """Open a record with generated fields; a refusal creates nothing."""
        self.opened += 1
        record_id = f"{self.spec.id_prefix or self.spec.name.upper()}-{self.opened}"
        at = self._next_time(data)
        actor = self._actor(data, "open", None)
        fields = self._fields(data, "open", None)
        note(f"open {record_id} at {at.isoformat()} by {_who(actor)} fields={fields!r}")
        try:
            step = self.do_open(record_id, at=at, actor=actor, fields=fields)
        except _REJECTIONS as exc:
            note(f"  refused: {type(exc).__name__}: {exc}")
            statistic(f"open refused: {type(exc).__name__}")
            return
        self._check_open(step, record_id=record_id, at=at, actor=actor)
        statistic("open accepted")
        history = RecordHistory(step.record, [step.event])
        self.histories.append(history)
        self.check_stored(history)

    @precondition(lambda self: any(self.spec.allowed(h.record) for h in self.histories))
    @rule(data=st.data())
    def fire_allowed_event(self, data: DataObject) -> None:
        """Fire an event the spec allows now; it succeeds or is refused by a guard, a
        role or a field check, and a refusal changes nothing."""
        live = [h for h in self.histories if self.spec.allowed(h.record)]
        history = data.draw(st.sampled_from(live), label="record")
        record = history.record
        allowed = self.spec.allowed(record)
        event = data.draw(st.sampled_from(allowed), label="event")
        at = self._next_time(data)
        actor = self._actor(data, event, record)
        fields = self._fields(data, event, record)
        note(
            f"fire {event!r} on {history!r} at {at.isoformat()} by {_who(actor)} fields={fields!r}"
        )
        before = _snapshot(record)
        try:
            step = self.do_fire(record, event, at=at, actor=actor, fields=fields)
        except InvalidTransition as exc:
            raise AssertionError(
                f"law 'allowed events are accepted': {event!r} is in spec.allowed() for "
                f"state {record.state!r} but fire raised InvalidTransition: {exc}"
            ) from exc
        except _REJECTIONS as exc:
            note(f"  refused: {type(exc).__name__}: {exc}")
            statistic(f"{event} refused: {type(exc).__name__}")
            self._check_unchanged(history, before, "a refused event changes nothing")
            return
        statistic(f"{event} accepted")
        self._check_roles(record, event, actor)
        self._check_fire(history, step, event=event, at=at, actor=actor)
        history.advance(step)
        self.check_stored(history)

    @precondition(lambda self: bool(self.histories))
    @rule(data=st.data())
    def fire_disallowed_event(self, data: DataObject) -> None:
        """Fire an event the spec does not allow now: ``InvalidTransition`` naming the
        state, the event and exactly ``spec.allowed(record)``; nothing changes."""
        history = data.draw(st.sampled_from(self.histories), label="record")
        record = history.record
        allowed = self.spec.allowed(record)
        declared = [e for e in self.spec.events() if e not in allowed]
        names: list[SearchStrategy[str]] = [st.sampled_from(_MADE_UP_EVENTS)]
        if declared:
            names.insert(0, st.sampled_from(declared))
        names.append(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True))
        event = data.draw(st.one_of(names).filter(lambda e: e not in allowed), label="event")
        at = self._next_time(data)
        actor = self._actor(data, event, record)
        note(f"fire disallowed {event!r} on {history!r} at {at.isoformat()}")
        before = _snapshot(record)
        try:
            step = self.do_fire(record, event, at=at, actor=actor, fields={})
        except InvalidTransition as exc:
            _expect(exc.state == record.state, "InvalidTransition.state is the record's state")
            _expect(exc.event == event, "InvalidTransition.event is the event fired")
            _expect(
                tuple(exc.allowed) == tuple(allowed),
                f"InvalidTransition.allowed == spec.allowed(record): {exc.allowed!r} "
                f"!= {allowed!r}",
            )
        else:
            raise AssertionError(
                f"law 'disallowed events raise InvalidTransition': {event!r} from "
                f"{record.state!r} was applied, giving version {step.record.version}"
            )
        self._check_unchanged(history, before, "a disallowed event changes nothing")

    @precondition(lambda self: bool(self.histories))
    @rule(data=st.data())
    def fire_backdated_event(self, data: DataObject) -> None:
        """An event dated before the record's last event is a ``ValidationError`` on
        ``$.at``, whatever the event; nothing changes."""
        history = data.draw(st.sampled_from(self.histories), label="record")
        record = history.record
        back = data.draw(
            st.integers(1, 30 * 86_400 * 1_000_000).map(lambda us: timedelta(microseconds=us)),
            label="back",
        )
        zone = data.draw(st.sampled_from(self.zones), label="zone")
        at = (record.updated_at - back).astimezone(zone)
        events = [*self.spec.events(), "no_such_event"]
        event = data.draw(st.sampled_from(events), label="event")
        actor = self._actor(data, event, record)
        fields = self._fields(data, event, record)
        note(f"fire {event!r} on {history!r} back-dated to {at.isoformat()}")
        self._expect_time_refused(history, event, at, actor, fields, "back-dated")

    @precondition(lambda self: bool(self.histories))
    @rule(data=st.data())
    def fire_with_naive_time(self, data: DataObject) -> None:
        """A naive datetime is a ``ValidationError`` on ``$.at``, never a guess."""
        history = data.draw(st.sampled_from(self.histories), label="record")
        record = history.record
        allowed = self.spec.allowed(record) or self.spec.events()
        event = data.draw(st.sampled_from(allowed), label="event")
        actor = self._actor(data, event, record)
        fields = self._fields(data, event, record)
        at = self.now.replace(tzinfo=None)
        note(f"fire {event!r} on {history!r} at naive {at.isoformat()}")
        self._expect_time_refused(history, event, at, actor, fields, "naive")

    @precondition(lambda self: self.links and len(self.histories) >= 2)
    @rule(data=st.data())
    def link_records(self, data: DataObject) -> None:
        """Link two records (in any state); both get a ``link`` event that keeps their
        state, and a duplicate link is a ``ValidationError`` that changes nothing."""
        source, target = data.draw(
            st.permutations(self.histories).map(lambda hs: (hs[0], hs[1])), label="records"
        )
        kind = data.draw(st.sampled_from(_LINK_KINDS), label="kind")
        at = self._next_time(data)
        actor = self._actor(data, "link", None)
        link = Link(kind=kind, source=source.record.id, target=target.record.id, at=at)
        note(f"link {source!r} -{kind}-> {target!r} at {at.isoformat()}")
        duplicate = any(
            (x.kind, x.source, x.target) == (kind, link.source, link.target)
            for x in source.record.links
        )
        before = (_snapshot(source.record), _snapshot(target.record))
        try:
            first, second = self.do_link(source.record, target.record, link, actor=actor)
        except ValidationError as exc:
            _expect(duplicate, f"only a duplicate link is refused, got: {exc}")
            self._check_unchanged(source, before[0], "a refused link changes nothing")
            self._check_unchanged(target, before[1], "a refused link changes nothing")
            return
        _expect(not duplicate, "a duplicate link is a ValidationError")
        for history, step in ((source, first), (target, second)):
            self._check_fire(history, step, event="link", at=at, actor=actor)
            _expect(step.event.link == link, "a link event carries its link")
            _expect(step.record.links[-1] == link, "a link is kept on both records")
            history.advance(step)
            self.check_stored(history)

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def histories_obey_the_laws(self) -> None:
        """Check each record's history (only the records that changed since last time)."""
        for history in self.histories:
            if history.checked != len(history.events):
                self._check_history(history)
                history.checked = len(history.events)

    # -- checks ----------------------------------------------------------------------------

    def _expect_time_refused(
        self,
        history: RecordHistory,
        event: str,
        at: datetime,
        actor: Actor,
        fields: dict[str, Any],
        what: str,
    ) -> None:
        before = _snapshot(history.record)
        try:
            step = self.do_fire(history.record, event, at=at, actor=actor, fields=fields)
        except ValidationError as exc:
            _expect(
                any(path == "$.at" for path, _ in exc.errors),
                f"a {what} time is reported on '$.at', got {exc.errors!r}",
            )
        except ItsmError as exc:
            raise AssertionError(
                f"law 'a {what} time is a ValidationError': got {type(exc).__name__}: {exc}"
            ) from exc
        else:
            raise AssertionError(
                f"law 'events never go back in time': {event!r} at {what} {at.isoformat()} "
                f"was applied after {history.record.updated_at.isoformat()} "
                f"(version {step.record.version})"
            )
        self._check_unchanged(history, before, f"a {what} event changes nothing")

    def _check_unchanged(self, history: RecordHistory, before: tuple[Any, ...], law: str) -> None:
        _expect(_snapshot(history.record) == before, law)
        self.check_stored(history)

    def _check_roles(self, record: Record, event: str, actor: Actor) -> None:
        branches = transitions_for(self.spec, record.state, event)
        if branches and all(t.roles for t in branches):
            needed = {r for t in branches for r in t.roles}
            _expect(
                not actor.roles.isdisjoint(needed),
                f"an actor without any of the roles {sorted(needed)} cannot {event!r}",
            )

    def _check_open(self, step: Step, *, record_id: str, at: datetime, actor: Actor) -> None:
        rec, ev = step.record, step.event
        target = self.spec.opening.target if self.spec.opening is not None else self.spec.initial
        _expect(ev.name == "open" and ev.version == 1, "the first event is 'open', version 1")
        _expect(ev.source is None and ev.target == target, "open enters the opening target")
        _expect(ev.prev_hash == GENESIS, "the first event's prev_hash is GENESIS")
        _expect(rec.id == record_id and ev.record_id == record_id, "open keeps the given id")
        _expect(rec.process == self.spec.name, "a record names its process")
        _expect(rec.spec_version == self.spec.version, "a record names its spec version")
        _expect(ev.at == at and rec.opened_at == at and rec.updated_at == at, "open is at 'at'")
        _expect(ev.actor == actor and rec.opened_by == actor.id, "open records its actor")
        for f in self.spec.fields:
            if f.required:
                _expect(rec.get(f.name) is not None, f"required field {f.name!r} is set")

    def _check_fire(
        self, history: RecordHistory, step: Step, *, event: str, at: datetime, actor: Actor
    ) -> None:
        old, new, ev = history.record, step.record, step.event
        _expect(ev.record_id == old.id and new.id == old.id, "an event keeps the record id")
        _expect(ev.version == old.version + 1 == new.version, "each event adds one version")
        _expect(ev.name == event, "the event is named after what was fired")
        _expect(ev.source == old.state and ev.target == new.state, "source/target are states")
        _expect(ev.prev_hash == old.head and new.head == ev.hash, "each event extends the chain")
        _expect(ev.at == at and new.updated_at == at, "an event happens at 'at'")
        _expect(ev.actor == actor, "an event records its actor")
        _expect(new.opened_at == old.opened_at, "opened_at never changes")
        _expect(new.opened_by == old.opened_by, "opened_by never changes")
        _expect(new.fields == old.fields.updated(ev.changes), "fields = old fields + changes")
        for name, value in ev.changes.items():
            real = name in old.fields if value is None else old.get(name) != value
            _expect(real, f"an event lists only real changes ({name!r})")
        if event == "link":
            _expect(new.state == old.state, "a link keeps the state")
            return
        targets = {
            old.state if t.target == "=" else t.target
            for t in transitions_for(self.spec, old.state, event)
        }
        _expect(
            new.state in targets,
            f"{event!r} from {old.state!r} reaches a declared target {sorted(targets)}, "
            f"not {new.state!r}",
        )

    def _check_history(self, history: RecordHistory) -> None:
        rec, events = history.record, history.events
        _expect(rec.version == len(events), "version equals the number of events")
        _expect(
            [e.version for e in events] == list(range(1, len(events) + 1)),
            "event versions are 1..n",
        )
        _expect(events[0].name == "open", "the first event is 'open'")
        try:
            head = verify_chain(events)
        except ChainBroken as exc:
            raise AssertionError(f"law 'the chain verifies': {exc}") from exc
        _expect(head == rec.head, "the chain's head is the record's head")
        _expect(replay(self.spec, events) == rec, "replay equals the record")
        _expect(
            all(a.at <= b.at for a, b in pairwise(events)),
            "event times never go backwards",
        )
        _expect(rec.opened_at == events[0].at, "opened_at is the open event's time")
        _expect(rec.updated_at == events[-1].at, "updated_at is the last event's time")
        _expect(rec.state == events[-1].target, "the state is the last event's target")
        for prev, ev in pairwise(events):
            _expect(ev.source == prev.target, "each event starts where the last one ended")
        for i, ev in enumerate(events):
            if self.spec.is_terminal(ev.target):
                for later in events[i + 1 :]:
                    _expect(
                        later.name == "link" and later.target == ev.target,
                        f"terminal state {ev.target!r} stays terminal (then {later.name!r} "
                        f"to {later.target!r})",
                    )
                _expect(self.spec.allowed(rec) == (), "a terminal state allows no event")
                break


def _expect(condition: bool, law: str) -> None:
    if not condition:
        raise AssertionError(f"law violated: {law}")


def _who(actor: Actor) -> str:
    return f"{actor.id}{sorted(actor.roles)}"


def process_state_machine(
    spec: ProcessSpec,
    *,
    actors: ActorSource | None = None,
    field_overrides: Mapping[str, FieldSource] | None = None,
    max_records: int = 3,
    timezones: tuple[str | tzinfo, ...] = DEFAULT_ZONES,
    links: bool = True,
) -> type[ProcessStateMachine]:
    """A :class:`ProcessStateMachine` subclass that drives ``spec`` and checks the laws.

    - ``actors``: who acts, instead of the default (ids from a small pool holding the
      roles the transition asks for, every role the spec names, no role, or a random
      subset). A strategy, or a function of (event name, record or ``None`` on open).
    - ``field_overrides``: event name (``"open"`` for opening) → fields merged over the
      generated ones, so guards can be satisfied (a quorum, a second approver, a
      non-blank reason). A strategy, or a function of the record (``None`` on open).
    - ``max_records``: how many records one run opens at most.
    - ``timezones``: the zones event times are expressed in (instants only ever move
      forward, by zero or more).
    - ``links``: also link records to each other (``link`` events).

    Use ``.TestCase`` for pytest/unittest and set ``.TestCase.settings``, or call
    :func:`hypothesis.stateful.run_state_machine_as_test` with the class.
    """
    if not isinstance(spec, ProcessSpec):
        raise InvalidArgument(f"expected a ProcessSpec, got {type(spec).__name__}")
    if max_records < 1:
        raise InvalidArgument("max_records must be at least 1")
    if not timezones:
        raise InvalidArgument("give at least one time zone")
    attributes: dict[str, Any] = {
        "spec": spec,
        "actor_source": actors,
        "field_overrides": dict(field_overrides or {}),
        "max_records": max_records,
        "zones": tuple(z if isinstance(z, tzinfo) else ZoneInfo(z) for z in timezones),
        "links": links,
        "__doc__": f"Drives the {spec.name!r} process (version {spec.version}).",
        "__module__": ProcessStateMachine.__module__,
    }
    name = "".join(part.title() for part in spec.name.split("_")) + "StateMachine"
    return type(name, (ProcessStateMachine,), attributes)
