"""A hypothesis state machine that drives any process spec and checks the kernel's laws.

Why: the rules a host relies on (replay rebuilds a record exactly, the hash chain
verifies, terminal states stay terminal, a refused event changes nothing, time never
runs backwards) must hold for *every* process, including the host's own. Rather than
writing examples per process, :func:`process_state_machine` builds a
:class:`~hypothesis.stateful.RuleBasedStateMachine` that opens records, fires allowed,
disallowed, back-dated and naive-dated events and links records, and checks the laws of
:mod:`itsmcore.testing.laws` after every step::

    TestMyProcess = process_state_machine(MY_SPEC).TestCase
    TestMyProcess.settings = settings(max_examples=200, stateful_step_count=30, deadline=None)

What the rules assert, beyond the per-step and per-history laws:

- an event outside ``spec.allowed(record)`` (declared elsewhere, reserved or made up)
  raises ``InvalidTransition`` whose ``.state``, ``.event`` and ``.allowed`` match, and
  changes nothing;
- an allowed event either succeeds or is refused by ``GuardFailed``, ``Forbidden`` or
  ``ValidationError`` (the kit cannot read guards) and then changes nothing; it never
  raises ``InvalidTransition``, and an actor holding none of the roles the transitions
  ask for never gets through;
- an event dated before the record's last event, or at a naive datetime, is a
  ``ValidationError`` on ``$.at`` and changes nothing;
- linking two records adds a ``link`` event to both, in any state; only a duplicate is
  refused.

Rules have no preconditions: a rule with nothing to do does nothing. Hypothesis switches
rules off at random per run (swarm testing), and a run left with no enabled rule whose
precondition holds would be thrown away after all its steps.

Run ``pytest --hypothesis-show-statistics`` to see how often each event was accepted or
refused: a process whose guards refuse nearly everything is explored only shallowly;
pass ``field_overrides`` (and ``actors``) that satisfy its guards.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from typing import Any, ClassVar, Final, TypeAlias
from zoneinfo import ZoneInfo

import attrs
from hypothesis import event as statistic
from hypothesis import note
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from hypothesis.strategies import DataObject, SearchStrategy

from itsmcore.errors import Forbidden, GuardFailed, InvalidTransition, ItsmError, ValidationError
from itsmcore.machine import apply_link, apply_unlink
from itsmcore.records import Actor, Event, Link, Record, Step
from itsmcore.spec import ProcessSpec
from itsmcore.testing._draws import (
    ACTOR_IDS,
    BACK,
    GAPS,
    RUN,
    choice,
    disallowed_events,
    indices,
    subsets,
)
from itsmcore.testing.laws import (
    LawViolated,
    check_history,
    check_open,
    check_step,
    expect,
    same_link,
    snapshot,
)
from itsmcore.testing.strategies import (
    DEFAULT_ZONES,
    aware_datetimes,
    event_fields,
    open_fields,
    spec_roles,
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

#: Link kinds the machine uses by default (the pure layer accepts any kind).
DEFAULT_LINK_KINDS: Final = ("caused_by", "relates_to", "fixed_by")

_REFUSALS: Final = (GuardFailed, Forbidden, ValidationError)
_START_MIN: Final = datetime(2020, 1, 1, tzinfo=UTC)
_START_MAX: Final = datetime(2035, 1, 1, tzinfo=UTC)


@attrs.define(slots=True, eq=False)
class RecordHistory:
    """One record the machine drives: its latest version and every event so far.

    ``checked`` is how many events the history invariant has already verified.
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


class ProcessStateMachine(RuleBasedStateMachine):
    """Drives :attr:`spec` through the pure API and checks the laws.

    Configure a subclass with :func:`process_state_machine`. To drive another layer,
    override :meth:`do_open`, :meth:`do_fire`, :meth:`do_link` (each returns what the
    pure layer would, or raises what it raises) and :meth:`check_stored` (assert the
    layer holds exactly a history), as :mod:`itsmcore.testing.engine_stateful` does.
    """

    spec: ClassVar[ProcessSpec]
    actor_source: ClassVar[ActorSource | None] = None
    field_overrides: ClassVar[Mapping[str, FieldSource]] = {}
    max_records: ClassVar[int] = 3
    zones: ClassVar[tuple[tzinfo, ...]] = ()
    link_kinds: ClassVar[tuple[str, ...]] = DEFAULT_LINK_KINDS

    def __init__(self) -> None:
        super().__init__()
        if "spec" not in dir(type(self)) or not type(self).zones:
            raise InvalidArgument("build the machine with process_state_machine(spec)")
        self.histories: list[RecordHistory] = []
        self.now: datetime = _START_MIN
        self.opened = 0
        self.roles = spec_roles(self.spec)

    def may_open(self) -> bool:
        """Fewer than :attr:`max_records` records are still open (not terminal), and
        fewer than four times as many were opened in all."""
        live = sum(1 for h in self.histories if not self.spec.is_terminal(h.record.state))
        return live < self.max_records and len(self.histories) < 4 * self.max_records

    # -- the layer under test (the pure API by default) -------------------------------------

    def do_open(self, record_id: str, *, at: datetime, actor: Actor, fields: Any) -> Step:
        """Open a record."""
        return self.spec.open(record_id=record_id, at=at, actor=actor, fields=fields)

    def do_fire(
        self, record: Record, event: str, *, at: datetime, actor: Actor, fields: Any
    ) -> Step:
        """Fire ``event`` on ``record``."""
        return self.spec.fire(record, event, at=at, actor=actor, fields=fields)

    def do_link(
        self, source: Record, target: Record, link: Link, *, actor: Actor
    ) -> tuple[Step, Step]:
        """Record ``link`` on both records; the steps for ``source`` and ``target``."""
        return (
            apply_link(source, self.spec, link, actor=actor),
            apply_link(target, self.spec, link, actor=actor),
        )

    def do_unlink(
        self, source: Record, target: Record, link: Link, *, at: datetime, actor: Actor
    ) -> tuple[Step, Step]:
        """Remove ``link`` from both records; the steps for ``source`` and ``target``."""
        return (
            apply_unlink(source, self.spec, link, at=at, actor=actor),
            apply_unlink(target, self.spec, link, at=at, actor=actor),
        )

    def check_stored(self, history: RecordHistory) -> None:
        """Assert the layer holds exactly ``history`` (nothing to do for the pure layer:
        the history *is* what it returned)."""

    # -- drawing inputs ---------------------------------------------------------------------

    def pick(self, data: DataObject, histories: Sequence[RecordHistory]) -> RecordHistory:
        """One of ``histories``."""
        return histories[data.draw(indices(len(histories)), label="record")]

    def pick_live(self, data: DataObject) -> RecordHistory | None:
        """One of the records the spec still allows an event on, or ``None``."""
        live = [h for h in self.histories if self.spec.allowed(h.record)]
        return self.pick(data, live) if live else None

    def draw_allowed_firing(
        self, data: DataObject, history: RecordHistory
    ) -> tuple[str, datetime, Actor, dict[str, Any]]:
        """``(event, at, actor, fields)`` for firing an allowed event on ``history``'s
        record: the event (:meth:`draw_allowed_event`), the clock moved forward, an
        actor and fields for that event."""
        record = history.record
        event = self.draw_allowed_event(data, history)
        at = self.next_time(data)
        return (
            event,
            at,
            self.draw_actor(data, event, record),
            self.draw_fields(data, event, record),
        )

    def next_time(self, data: DataObject) -> datetime:
        """Move the clock forward by zero or more and return it in one of :attr:`zones`."""
        # The clock is kept in UTC: wall-clock arithmetic in a zone drops ``fold`` and
        # would move an instant in a DST fold by an hour.
        self.now = self.now + data.draw(GAPS, label="gap")
        return self.now.astimezone(data.draw(choice(self.zones), label="zone"))

    def draw_allowed_event(self, data: DataObject, history: RecordHistory) -> str:
        """An event allowed on ``history``'s record, chosen to explore deep.

        Events that can only end the record (every transition of it enters a terminal
        state, such as a ``cancel`` from anywhere) are drawn one time in eight, so that
        runs do not end most records early. But half of the time the event is one that
        can reach a state this record has never been in: one that keeps the record
        going if there is such, else one that ends it (a ``close`` once the work is
        done).
        """
        state = history.record.state
        allowed = self.spec.allowed(history.record)
        ending = tuple(e for e in allowed if self._only_ends(state, e))
        going = tuple(e for e in allowed if e not in ending)
        visited = {e.target for e in history.events}
        novel = tuple(e for e in going if self._targets(state, e) - visited) or tuple(
            e for e in ending if self._targets(state, e) - visited
        )
        if novel and data.draw(indices(2), label="somewhere new?") == 0:
            return data.draw(choice(novel), label="event")
        if ending and (not going or data.draw(indices(8), label="end it?") == 0):
            return data.draw(choice(ending), label="event")
        return data.draw(choice(going), label="event")

    def _targets(self, state: str, event: str) -> set[str]:
        return {
            state if t.target == "=" else t.target for t in transitions_for(self.spec, state, event)
        }

    def _only_ends(self, state: str, event: str) -> bool:
        return all(self.spec.is_terminal(target) for target in self._targets(state, event))

    def draw_actor(self, data: DataObject, event: str, record: Record | None) -> Actor:
        """An actor for ``event`` (``record`` is ``None`` when opening)."""
        source = type(self).actor_source
        if source is not None:
            strategy = source if isinstance(source, SearchStrategy) else source(event, record)
            return data.draw(strategy, label="actor")
        if record is None:
            needed = frozenset(self.spec.opening.roles if self.spec.opening else ())
        else:
            needed = frozenset(
                r for t in transitions_for(self.spec, record.state, event) for r in t.roles
            )
        options = (needed, self.roles, frozenset(), None) if self.roles else (needed,)
        roles = data.draw(choice(options), label="roles")
        if roles is None:
            roles = data.draw(subsets(tuple(sorted(self.roles))), label="roles")
        return Actor(data.draw(ACTOR_IDS, label="actor id"), roles=roles)

    def draw_fields(self, data: DataObject, event: str, record: Record | None) -> dict[str, Any]:
        """Fields for ``event``: generated, then the override for ``event`` merged over."""
        if record is None:
            fields = data.draw(open_fields(self.spec), label="fields")
        else:
            fields = data.draw(event_fields(self.spec, event, record), label="fields")
        override = type(self).field_overrides.get(event)
        if override is not None:
            strategy = override if isinstance(override, SearchStrategy) else override(record)
            fields.update(data.draw(strategy, label="override fields"))
        return fields

    # -- rules ------------------------------------------------------------------------------

    @initialize(data=st.data())
    def start(self, data: DataObject) -> None:
        """Start the clock at some instant (often near a DST transition) and open a first
        record, so that most rules are enabled from the first step."""
        start = data.draw(
            aware_datetimes(min_value=_START_MIN, max_value=_START_MAX, timezones=self.zones),
            label="start",
        )
        self.now = start.astimezone(UTC)
        self.open_record(data)

    @rule(data=st.data())
    def open_record(self, data: DataObject) -> None:
        """Open a record with generated fields; a refusal creates nothing."""
        if not self.may_open():
            return
        self.opened += 1
        record_id = f"{self.spec.id_prefix or self.spec.name.upper()}-{self.opened}"
        at = self.next_time(data)
        actor = self.draw_actor(data, "open", None)
        fields = self.draw_fields(data, "open", None)
        note(f"open {record_id} at {at.isoformat()} by {_who(actor)} fields={fields!r}")
        try:
            step = self.do_open(record_id, at=at, actor=actor, fields=fields)
        except _REFUSALS as exc:
            note(f"  refused: {type(exc).__name__}: {exc}")
            statistic(f"open refused: {type(exc).__name__}")
            return
        statistic("open accepted")
        check_open(self.spec, step, record_id=record_id, at=at, actor=actor)
        history = RecordHistory(step.record, [step.event])
        self.histories.append(history)
        self.check_stored(history)

    @rule(data=st.data())
    def fire_allowed_events(self, data: DataObject) -> None:
        """Fire one to five events the spec allows, in a row, on one record: each
        succeeds, or a guard, a role or a field check refuses it and nothing changes."""
        history = self.pick_live(data)
        if history is None:
            return
        for _ in range(data.draw(RUN, label="run")):
            if not self.spec.allowed(history.record):
                break
            self.fire_allowed_event(data, history)

    def fire_allowed_event(self, data: DataObject, history: RecordHistory) -> None:
        """Fire one allowed event on ``history``'s record and check the outcome."""
        record = history.record
        event, at, actor, fields = self.draw_allowed_firing(data, history)
        note(f"fire {event!r} on {history!r} at {at.isoformat()} by {_who(actor)} {fields!r}")
        before = snapshot(record)
        try:
            step = self.do_fire(record, event, at=at, actor=actor, fields=fields)
        except InvalidTransition as exc:
            raise LawViolated(
                f"an allowed event is not an InvalidTransition ({event!r} is in "
                f"spec.allowed() for {record.state!r}; got: {exc})"
            ) from exc
        except _REFUSALS as exc:
            note(f"  refused: {type(exc).__name__}: {exc}")
            statistic(f"{event} refused: {type(exc).__name__}")
            self.check_unchanged(history, before, "a refused event changes nothing")
            return
        statistic(f"{event} accepted")
        branches = transitions_for(self.spec, record.state, event)
        if branches and all(t.roles for t in branches):
            needed = sorted({r for t in branches for r in t.roles})
            expect(
                not actor.roles.isdisjoint(needed),
                f"an actor holding none of {needed} cannot {event!r}",
            )
        check_step(self.spec, record, step, event=event, at=at, actor=actor)
        history.advance(step)
        self.check_stored(history)

    @rule(data=st.data())
    def fire_refused_event(self, data: DataObject) -> None:
        """Fire what must be refused: an event not allowed now, an event dated before the
        record's last one, or one at a naive datetime (one rule, so that refusals do not
        crowd out the steps that move records forward)."""
        if not self.histories:
            return
        history = self.pick(data, self.histories)
        kind = data.draw(choice(("disallowed", "back-dated", "naive")), label="refusal")
        if kind == "disallowed":
            self.fire_disallowed_event(data, history)
        elif kind == "back-dated":
            self.fire_backdated_event(data, history)
        else:
            self.fire_with_naive_time(data, history)

    def fire_disallowed_event(self, data: DataObject, history: RecordHistory) -> None:
        """An event the spec does not allow now raises ``InvalidTransition`` naming the
        state, the event and exactly ``spec.allowed(record)``; nothing changes."""
        record = history.record
        allowed = self.spec.allowed(record)
        declared = tuple(e for e in self.spec.events() if e not in allowed)
        event = data.draw(disallowed_events(declared), label="event")
        while event in allowed:  # a made-up name that happens to be allowed
            event += "_"
        at = self.next_time(data)
        actor = self.draw_actor(data, event, record)
        note(f"fire disallowed {event!r} on {history!r} at {at.isoformat()}")
        before = snapshot(record)
        try:
            step = self.do_fire(record, event, at=at, actor=actor, fields={})
        except InvalidTransition as exc:
            expect(exc.state == record.state, "InvalidTransition.state is the record's state")
            expect(exc.event == event, "InvalidTransition.event is the event fired")
            expect(
                tuple(exc.allowed) == tuple(allowed),
                f"InvalidTransition.allowed equals spec.allowed(record) "
                f"({tuple(exc.allowed)!r} != {allowed!r})",
            )
        else:
            raise LawViolated(
                f"a disallowed event raises InvalidTransition ({event!r} from "
                f"{record.state!r} gave version {step.record.version})"
            )
        self.check_unchanged(history, before, "a disallowed event changes nothing")

    def fire_backdated_event(self, data: DataObject, history: RecordHistory) -> None:
        """An event dated before the record's last event is a ``ValidationError`` on
        ``$.at``, whatever the event; nothing changes."""
        record = history.record
        back = data.draw(BACK, label="back")
        zone = data.draw(choice(self.zones), label="zone")
        at = (record.updated_at.astimezone(UTC) - back).astimezone(zone)
        event = data.draw(choice((*self.spec.events(), "no_such_event")), label="event")
        actor = self.draw_actor(data, event, record)
        fields = self.draw_fields(data, event, record)
        note(f"fire {event!r} on {history!r} back-dated to {at.isoformat()}")
        self._expect_time_refused(history, event, at, actor, fields, "back-dated")

    def fire_with_naive_time(self, data: DataObject, history: RecordHistory) -> None:
        """A naive datetime is a ``ValidationError`` on ``$.at``, never a guess."""
        record = history.record
        event = data.draw(choice(self.spec.allowed(record) or self.spec.events()), label="event")
        actor = self.draw_actor(data, event, record)
        fields = self.draw_fields(data, event, record)
        at = self.now.replace(tzinfo=None)
        note(f"fire {event!r} on {history!r} at naive {at.isoformat()}")
        self._expect_time_refused(history, event, at, actor, fields, "naive")

    @rule(data=st.data())
    def link_records(self, data: DataObject) -> None:
        """Link two records (in any state): both get a ``link`` event that keeps their
        state; only a duplicate link is refused (``ValidationError``, nothing changes)."""
        if not self.link_kinds or len(self.histories) < 2:
            return
        source = self.pick(data, self.histories)
        target = self.pick(data, [h for h in self.histories if h is not source])
        kind = data.draw(choice(self.link_kinds), label="kind")
        at = self.next_time(data)
        actor = self.draw_actor(data, "link", None)
        link = Link(kind=kind, source=source.record.id, target=target.record.id, at=at)
        note(f"link {source!r} -{kind}-> {target!r} at {at.isoformat()}")
        duplicate = any(
            (x.kind, x.source, x.target) == (kind, link.source, link.target)
            for x in source.record.links
        )
        before = (snapshot(source.record), snapshot(target.record))
        try:
            first, second = self.do_link(source.record, target.record, link, actor=actor)
        except ValidationError as exc:
            note(f"  refused: {exc}")
            expect(duplicate, f"only a duplicate link is refused (got: {exc})")
            self.check_unchanged(source, before[0], "a refused link changes nothing")
            self.check_unchanged(target, before[1], "a refused link changes nothing")
            return
        expect(not duplicate, "a duplicate link is a ValidationError")
        for history, step in ((source, first), (target, second)):
            check_step(self.spec, history.record, step, event="link", at=at, actor=actor)
            expect(same_link(step.event.link, link), "a link event carries its link")
            expect(same_link(step.record.links[-1], link), "a link is kept on both records")
            history.advance(step)
            self.check_stored(history)

    @rule(data=st.data())
    def unlink_records(self, data: DataObject) -> None:
        """Remove a link between two records (in any state): both get an ``unlink``
        event that keeps their state, carries the link as it was added and drops it from
        their links. One time in four the link asked for is one they do not hold (another
        kind between the same ends): a ``ValidationError``, and nothing changes."""
        linked = [h for h in self.histories if h.record.links]
        if not linked:
            return
        history = self.pick(data, linked)
        links = history.record.links
        link = links[data.draw(indices(len(links)), label="link")]
        by_id = {h.record.id: h for h in self.histories}
        source, target = by_id[link.source], by_id[link.target]
        held = {x.key for x in source.record.links}
        absent = tuple(k for k in self.link_kinds if (k, link.source, link.target) not in held)
        if absent and data.draw(indices(4), label="a link they do not hold?") == 0:
            link = attrs.evolve(link, kind=data.draw(choice(absent), label="kind"))
        at = self.next_time(data)
        actor = self.draw_actor(data, "unlink", None)
        stored = next((x for x in source.record.links if x.key == link.key), None)
        note(f"unlink {source!r} -{link.kind}-> {target!r} at {at.isoformat()}")
        before = (snapshot(source.record), snapshot(target.record))
        try:
            first, second = self.do_unlink(source.record, target.record, link, at=at, actor=actor)
        except ValidationError as exc:
            note(f"  refused: {exc}")
            statistic("unlink refused")
            expect(stored is None, f"only a link the records do not hold is refused ({exc})")
            self.check_unchanged(source, before[0], "a refused unlink changes nothing")
            self.check_unchanged(target, before[1], "a refused unlink changes nothing")
            return
        statistic("unlink accepted")
        expect(stored is not None, "removing a link the records do not hold is refused")
        for side, step in ((source, first), (target, second)):
            check_step(self.spec, side.record, step, event="unlink", at=at, actor=actor)
            expect(step.event.link == stored, "an unlink event carries the link as added")
            side.advance(step)
            self.check_stored(side)

    # -- invariants -------------------------------------------------------------------------

    @invariant()
    def histories_obey_the_laws(self) -> None:
        """Check each record's whole history (those that changed since the last check)."""
        for history in self.histories:
            if history.checked != len(history.events):
                check_history(self.spec, history.record, history.events)
                history.checked = len(history.events)

    # -- shared checks ----------------------------------------------------------------------

    def check_unchanged(self, history: RecordHistory, before: tuple[Any, ...], law: str) -> None:
        """Assert ``history``'s record still matches ``before`` (a :func:`snapshot`), in
        the machine and in the layer under test."""
        expect(snapshot(history.record) == before, law)
        self.check_stored(history)

    def _expect_time_refused(
        self,
        history: RecordHistory,
        event: str,
        at: datetime,
        actor: Actor,
        fields: dict[str, Any],
        what: str,
    ) -> None:
        before = snapshot(history.record)
        try:
            step = self.do_fire(history.record, event, at=at, actor=actor, fields=fields)
        except ValidationError as exc:
            expect(
                any(path == "$.at" for path, _ in exc.errors),
                f"a {what} time is reported on '$.at' (got {exc.errors!r})",
            )
        except ItsmError as exc:
            raise LawViolated(
                f"a {what} time is a ValidationError (got {type(exc).__name__}: {exc})"
            ) from exc
        else:
            raise LawViolated(
                f"events never go back in time ({event!r} at {what} {at.isoformat()} was "
                f"applied after {history.record.updated_at.isoformat()}, giving version "
                f"{step.record.version})"
            )
        self.check_unchanged(history, before, f"a {what} event changes nothing")


def _who(actor: Actor) -> str:
    return f"{actor.id}{sorted(actor.roles)}"


def process_state_machine(
    spec: ProcessSpec,
    *,
    actors: ActorSource | None = None,
    field_overrides: Mapping[str, FieldSource] | None = None,
    max_records: int = 3,
    timezones: Sequence[str | tzinfo] = DEFAULT_ZONES,
    link_kinds: Sequence[str] = DEFAULT_LINK_KINDS,
    base: type[ProcessStateMachine] = ProcessStateMachine,
) -> type[ProcessStateMachine]:
    """A :class:`ProcessStateMachine` subclass that drives ``spec`` and checks the laws.

    - ``actors``: who acts, instead of the default (an id from a small pool, holding the
      roles the transition asks for, every role the spec names, none, or a random
      subset). A strategy, or a function of (event name, record or ``None`` on open).
    - ``field_overrides``: event name (``"open"`` for opening) → fields merged over the
      generated ones, so guards can be satisfied (a quorum, a second approver, a
      non-blank reason). A strategy, or a function of the record (``None`` on open).
    - ``max_records``: how many records may be open (not terminal) at once; a run
      opens at most four times as many in all.
    - ``timezones``: the zones event times are expressed in (the instants only move
      forward, by zero or more).
    - ``link_kinds``: the kinds used to link records (empty: never link).
    - ``base``: the machine class to configure (e.g. a subclass driving another layer).

    Use ``.TestCase`` with pytest or unittest and set ``.TestCase.settings``, or pass the
    class to :func:`hypothesis.stateful.run_state_machine_as_test`. Raises
    ``InvalidArgument`` for a bad option.
    """
    if not isinstance(spec, ProcessSpec):
        raise InvalidArgument(f"expected a ProcessSpec, got {type(spec).__name__}")
    if max_records < 1:
        raise InvalidArgument("max_records must be at least 1")
    zones = tuple(z if isinstance(z, tzinfo) else ZoneInfo(z) for z in timezones)
    if not zones:
        raise InvalidArgument("give at least one time zone")
    attributes: dict[str, Any] = {
        "spec": spec,
        "actor_source": actors,
        "field_overrides": dict(field_overrides or {}),
        "max_records": max_records,
        "zones": zones,
        "link_kinds": tuple(link_kinds),
        "__doc__": f"Drives the {spec.name!r} process (version {spec.version}).",
        "__module__": base.__module__,
    }
    name = "".join(part.title() for part in spec.name.split("_")) + base.__name__
    return type(name, (base,), attributes)
