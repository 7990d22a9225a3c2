"""The process state machine driven through an :class:`~itsmcore.Engine` and its storage.

Why: the pure layer is the oracle. Every open, fire and link goes both to the pure spec
and to the engine (over whatever storage the factory gives it); they must agree exactly
(the same record and event, or the same error type), and after every step
``engine.get`` and ``engine.history`` must hold exactly the machine's history. So a
storage adapter or an engine change that loses, reorders or alters an event, or saves a
refused one, fails with the step that did it. On top of the process laws it checks
that a stale ``expected_version`` is a ``ConcurrencyError`` and that an unknown record
is ``NotFound``, both changing nothing.

An authorization plugin may refuse what the pure layer accepts: a ``Forbidden`` from
the engine alone counts as a refusal (nothing may change); any other disagreement fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any, ClassVar, TypeVar, cast

from hypothesis import note
from hypothesis import strategies as st
from hypothesis.stateful import rule
from hypothesis.strategies import DataObject

from itsmcore.engine import Engine
from itsmcore.errors import ConcurrencyError, Forbidden, ItsmError, NotFound
from itsmcore.machine import apply_link, apply_unlink
from itsmcore.records import Actor, Link, Record, Step
from itsmcore.testing._draws import choice, indices
from itsmcore.testing.laws import LawViolated, expect, snapshot
from itsmcore.testing.stateful import (
    ActorSource,
    FieldSource,
    ProcessStateMachine,
    RecordHistory,
    process_state_machine,
)
from itsmcore.testing.strategies import DEFAULT_ZONES

__all__ = ["EngineStateMachine", "engine_state_machine"]

_T = TypeVar("_T")


class EngineStateMachine(ProcessStateMachine):
    """Drives an engine beside the pure layer; configure with
    :func:`engine_state_machine`."""

    engine_factory: ClassVar[Callable[[], Engine]]

    def __init__(self) -> None:
        super().__init__()
        self.engine = type(self).engine_factory()

    def teardown(self) -> None:
        """Close the engine (and its storage)."""
        self.engine.close()

    # -- the layer under test ---------------------------------------------------------------

    def _agree(self, what: str, pure: Callable[[], _T], engine: Callable[[], Any]) -> _T:
        """Run ``pure`` then ``engine``; both succeed or both raise the same error type
        (a ``Forbidden`` from the engine alone is a plugin's refusal)."""
        try:
            expected = pure()
        except ItsmError as exc:
            try:
                engine()
            except ItsmError as got:
                expect(
                    type(got) is type(exc),
                    f"the engine refuses {what} as the pure layer does "
                    f"({type(got).__name__} != {type(exc).__name__}: {got})",
                )
            else:
                raise LawViolated(
                    f"the engine refuses {what} as the pure layer does (pure: "
                    f"{type(exc).__name__}: {exc}; the engine accepted it)"
                ) from exc
            raise
        try:
            engine()
        except Forbidden:
            raise
        except ItsmError as got:
            raise LawViolated(
                f"the engine accepts {what} as the pure layer does (engine: "
                f"{type(got).__name__}: {got})"
            ) from got
        return expected

    def do_open(self, record_id: str, *, at: datetime, actor: Actor, fields: Any) -> Step:
        """Open through the engine, compared with the pure ``spec.open``."""
        step = self._agree(
            f"open {record_id}",
            lambda: self.spec.open(record_id=record_id, at=at, actor=actor, fields=fields),
            lambda: self.engine.open(
                self.spec.name, record_id=record_id, at=at, actor=actor, fields=fields
            ),
        )
        self._expect_saved(step)
        return step

    def do_fire(
        self, record: Record, event: str, *, at: datetime, actor: Actor, fields: Any
    ) -> Step:
        """Fire through the engine (with ``expected_version``), compared with the pure
        ``spec.fire``."""
        step = self._agree(
            f"{event!r} on {record.id} v{record.version}",
            lambda: self.spec.fire(record, event, at=at, actor=actor, fields=fields),
            lambda: self.engine.fire(
                record.id,
                event,
                at=at,
                actor=actor,
                fields=fields,
                expected_version=record.version,
            ),
        )
        self._expect_saved(step)
        return step

    def do_link(
        self, source: Record, target: Record, link: Link, *, actor: Actor
    ) -> tuple[Step, Step]:
        """Link through the engine, compared with the pure ``apply_link`` on both."""
        steps = self._agree(
            f"link {link.kind} {link.source} -> {link.target}",
            lambda: (
                apply_link(source, self.spec, link, actor=actor),
                apply_link(target, self.spec, link, actor=actor),
            ),
            lambda: self.engine.link(link.source, link.target, link.kind, at=link.at, actor=actor),
        )
        for step in steps:
            self._expect_saved(step)
        return steps

    def do_unlink(
        self, source: Record, target: Record, link: Link, *, at: datetime, actor: Actor
    ) -> tuple[Step, Step]:
        """Unlink through the engine, compared with the pure ``apply_unlink`` on both."""
        steps = self._agree(
            f"unlink {link.kind} {link.source} -> {link.target}",
            lambda: (
                apply_unlink(source, self.spec, link, at=at, actor=actor),
                apply_unlink(target, self.spec, link, at=at, actor=actor),
            ),
            lambda: self.engine.unlink(link.source, link.target, link.kind, at=at, actor=actor),
        )
        for step in steps:
            self._expect_saved(step)
        return steps

    def _expect_saved(self, step: Step) -> None:
        rid = step.record.id
        expect(self.engine.get(rid) == step.record, "the engine saved the pure layer's record")
        expect(
            self.engine.history(rid)[-1] == step.event,
            "the engine saved the pure layer's event last",
        )

    def check_stored(self, history: RecordHistory) -> None:
        """``engine.get`` and ``engine.history`` hold exactly the machine's history."""
        rid = history.record.id
        expect(self.engine.get(rid) == history.record, "engine.get returns the latest record")
        stored = self.engine.history(rid)
        expect(
            stored == history.events,
            f"engine.history returns every event in order ({len(stored)} stored, "
            f"{len(history.events)} expected)",
        )

    # -- engine-only rules ------------------------------------------------------------------

    @rule(data=st.data())
    def fire_with_stale_version(self, data: DataObject) -> None:
        """A stale ``expected_version`` is a ``ConcurrencyError`` naming both versions;
        nothing changes."""
        changed = [h for h in self.histories if h.record.version > 1]
        if not changed:
            return
        history = self.pick(data, changed)
        record = history.record
        stale = 1 + data.draw(indices(record.version - 1), label="stale version")
        event = data.draw(choice(self.spec.events()), label="event")
        at = self.next_time(data)
        note(f"fire {event!r} on {history!r} expecting stale version {stale}")
        before = snapshot(record)
        try:
            self.engine.fire(
                record.id,
                event,
                at=at,
                actor=self.draw_actor(data, event, record),
                fields={},
                expected_version=stale,
            )
        except ConcurrencyError as exc:
            expect(
                (exc.expected, exc.actual) == (stale, record.version),
                "ConcurrencyError names the expected and the stored version",
            )
        except ItsmError as exc:
            raise LawViolated(
                f"a stale expected_version is a ConcurrencyError (got {type(exc).__name__})"
            ) from exc
        else:
            raise LawViolated("a stale expected_version is a ConcurrencyError")
        self.check_unchanged(history, before, "a stale write changes nothing")

    @rule(data=st.data())
    def another_worker_fires(self, data: DataObject) -> None:
        """Another engine over the same store saves an allowed event: this engine's
        snapshot of the record is now stale, and its next save on it must build on the
        stored version (never fork the chain)."""
        history = self.pick_live(data)
        if history is None:
            return
        record = history.record
        event, at, actor, fields = self.draw_allowed_firing(data, history)
        note(f"another worker fires {event!r} on {history!r}")
        try:
            step = self.spec.fire(record, event, at=at, actor=actor, fields=fields)
        except ItsmError:
            return  # refused by the process: the other worker writes nothing
        saved = self.other_worker().fire(
            record.id, event, at=at, actor=actor, fields=fields, expected_version=record.version
        )
        expect(saved == step.record, "another worker saves the pure layer's record")
        history.advance(step)
        # Read the store itself: this engine's get() would refresh its snapshot.
        store = self.engine.storage
        expect(store.load(record.id) == step.record, "the store holds the other's save")
        expect(store.history(record.id) == history.events, "the store holds every event")

    @rule(data=st.data())
    def fire_without_expected_version(self, data: DataObject) -> None:
        """Without ``expected_version`` the engine fires on the stored record, whatever
        snapshot it holds: the outcome is the pure layer's on the stored record."""
        history = self.pick_live(data)
        if history is None:
            return
        record = history.record
        event, at, actor, fields = self.draw_allowed_firing(data, history)
        note(f"fire {event!r} on {history!r} without expected_version")
        before = snapshot(record)
        try:
            step = self._agree(
                f"{event!r} on {record.id} (stored v{record.version}, no expected_version)",
                lambda: self.spec.fire(record, event, at=at, actor=actor, fields=fields),
                lambda: self.engine.fire(record.id, event, at=at, actor=actor, fields=fields),
            )
        except ItsmError:  # refused by both layers (or by a plugin): nothing changes
            self.check_unchanged(history, before, "a refused event changes nothing")
            return
        self._expect_saved(step)
        history.advance(step)
        self.check_stored(history)

    def other_worker(self) -> Engine:
        """A second engine over this engine's store (its own snapshots, no plugins)."""
        other: Engine | None = getattr(self, "_other", None)
        if other is None:
            engine = self.engine
            other = Engine(engine.storage, catalog=engine.catalog, link_rules=engine.link_rules)
            self._other = other
        return other

    @rule(data=st.data())
    def fire_on_unknown_record(self, data: DataObject) -> None:
        """Firing on a record that does not exist is ``NotFound``."""
        event = data.draw(choice(self.spec.events()), label="event")
        at = self.next_time(data)
        try:
            self.engine.fire("NO-SUCH-RECORD", event, at=at, actor=Actor("alice"), fields={})
        except NotFound:
            pass
        else:
            raise LawViolated("firing on an unknown record is NotFound")


def _link_kinds(engine: Engine, process: str) -> tuple[str, ...]:
    """Canonical, non-symmetric kinds the engine allows between two ``process`` records
    (so that, as in the pure layer, only a duplicate is refused)."""
    return tuple(
        kind.name
        for kind in engine.link_rules
        if not kind.symmetric and kind.allows(process, process)
    )


def engine_state_machine(
    engine_factory: Callable[[], Engine],
    process: str,
    *,
    actors: ActorSource | None = None,
    field_overrides: Mapping[str, FieldSource] | None = None,
    max_records: int = 3,
    timezones: Sequence[str | tzinfo] = DEFAULT_ZONES,
) -> type[EngineStateMachine]:
    """An :class:`EngineStateMachine` for ``process`` on engines from ``engine_factory``.

    ``engine_factory`` is called once now (to read the spec and link rules, then closed)
    and once per example; each engine must start empty (e.g. ``Engine.in_memory`` or
    ``lambda: Engine.sqlite(tmp_dir / f"{uuid4()}.db")``). The other options are those of
    :func:`~itsmcore.testing.stateful.process_state_machine`. Raises ``NotFound`` for an
    unknown process.
    """
    probe = engine_factory()
    try:
        spec = probe.catalog.get(process)
        kinds = _link_kinds(probe, process)
    finally:
        probe.close()
    base = type(
        EngineStateMachine.__name__,
        (EngineStateMachine,),
        {"engine_factory": engine_factory, "__module__": EngineStateMachine.__module__},
    )
    machine = process_state_machine(
        spec,
        actors=actors,
        field_overrides=field_overrides,
        max_records=max_records,
        timezones=timezones,
        link_kinds=kinds,
        base=base,
    )
    return cast("type[EngineStateMachine]", machine)
