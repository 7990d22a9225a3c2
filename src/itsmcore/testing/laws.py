"""The kernel's laws as plain checks, usable in any test (and by the stateful machines).

Why separate from the machines: a host's example-based test, or a storage adapter's
test, can assert the same laws on a history it built itself, with the same messages::

    check_history(spec, engine.get(rid), engine.history(rid))

Each check raises :class:`LawViolated` (an ``AssertionError``) whose ``law`` says which
rule broke. Datetimes are compared as instants: under PEP 495 an aware datetime in a DST
fold never ``==`` one in another zone, so a plain ``==`` would report false failures.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

from itsmcore.chain import GENESIS, verify_chain
from itsmcore.errors import ChainBroken
from itsmcore.machine import replay
from itsmcore.records import Actor, Event, FieldMap, Link, Record, Step
from itsmcore.spec import ProcessSpec
from itsmcore.testing.strategies import transitions_for

__all__ = [
    "LawViolated",
    "check_history",
    "check_open",
    "check_step",
    "expect",
    "same_instant",
    "same_link",
    "snapshot",
]


class LawViolated(AssertionError):
    """A law of the kernel does not hold; ``law`` names it."""

    def __init__(self, law: str) -> None:
        self.law = law
        super().__init__(f"law violated: {law}")


def expect(condition: bool, law: str) -> None:
    """Raise :class:`LawViolated` naming ``law`` unless ``condition`` holds."""
    if not condition:
        raise LawViolated(law)


def same_instant(first: datetime, *others: datetime) -> bool:
    """True when every datetime is the same instant as ``first`` (zones may differ)."""
    utc = first.astimezone(UTC)
    return all(other.astimezone(UTC) == utc for other in others)


def same_link(found: Link | None, expected: Link) -> bool:
    """True when ``found`` is ``expected`` (same kind, ends and instant)."""
    return (
        found is not None
        and (found.kind, found.source, found.target)
        == (expected.kind, expected.source, expected.target)
        and same_instant(found.at, expected.at)
    )


def snapshot(record: Record) -> tuple[Any, ...]:
    """Everything about ``record`` that a refused event must leave alone (compare two
    snapshots with ``==``)."""
    return (
        record.id,
        record.state,
        record.version,
        record.head,
        record.updated_at.astimezone(UTC),
        record.fields.to_dict(),
        record.links,
    )


def check_open(
    spec: ProcessSpec, step: Step, *, record_id: str, at: datetime, actor: Actor
) -> None:
    """The laws of an ``open`` step: version 1, event ``open`` from no state into the
    opening target, ``prev_hash`` is :data:`~itsmcore.GENESIS`, the given id, process,
    spec version, time and actor are kept, and every required field is set."""
    rec, ev = step.record, step.event
    target = spec.opening.target if spec.opening is not None else spec.initial
    expect(ev.name == "open" and ev.version == 1, "the first event is 'open', version 1")
    expect(ev.source is None and ev.target == target, "open enters the opening target")
    expect(rec.state == target and rec.version == 1, "an opened record is version 1")
    expect(ev.prev_hash == GENESIS and rec.head == ev.hash, "the first event follows GENESIS")
    expect(rec.id == record_id and ev.record_id == record_id, "open keeps the given id")
    expect(rec.process == spec.name, "a record names its process")
    expect(rec.spec_version == spec.version, "a record names its spec version")
    expect(same_instant(ev.at, at, rec.opened_at, rec.updated_at), "open happens at 'at'")
    expect(ev.actor == actor and rec.opened_by == actor.id, "open records its actor")
    expect(rec.fields == FieldMap().updated(ev.changes), "open sets the fields it lists")
    for f in spec.fields:
        if f.required:
            expect(rec.get(f.name) is not None, f"required field {f.name!r} is set on open")


def check_step(
    spec: ProcessSpec,
    before: Record,
    step: Step,
    *,
    event: str,
    at: datetime,
    actor: Actor,
) -> None:
    """The laws of one step from ``before``: one more version, the event named
    ``event`` from the old state to a target the spec declares for it (``link`` and
    ``unlink`` keep the state and add or remove their link; no other event touches
    links), the chain extended, time and actor kept, the new fields are the old ones
    plus the event's changes, and the changes list only real changes."""
    new, ev = step.record, step.event
    expect(ev.record_id == before.id and new.id == before.id, "an event keeps the record id")
    expect(ev.version == before.version + 1 == new.version, "each event adds one version")
    expect(ev.name == event, "the event is named after what was fired")
    expect(ev.source == before.state and ev.target == new.state, "source/target are states")
    expect(ev.prev_hash == before.head and new.head == ev.hash, "each event extends the chain")
    expect(same_instant(ev.at, at, new.updated_at), "an event happens at 'at'")
    expect(ev.actor == actor, "an event records its actor")
    expect(same_instant(new.opened_at, before.opened_at), "opened_at never changes")
    expect(new.opened_by == before.opened_by, "opened_by never changes")
    expect(new.fields == before.fields.updated(ev.changes), "fields = old fields + changes")
    for name, value in ev.changes.items():
        real = name in before.fields if value is None else before.get(name) != value
        expect(real, f"an event lists only real changes ({name!r})")
    if event in ("link", "unlink"):
        expect(new.state == before.state, f"{event} keeps the state")
        expect(ev.link is not None, f"{event} carries its link")
        assert ev.link is not None
        if event == "link":
            expect(new.links == (*before.links, ev.link), "link adds its link")
        else:
            others = [x for x in before.links if x.key != ev.link.key]
            expect(len(others) == len(before.links) - 1, "unlink removes a link the record had")
            expect(new.links == tuple(others), "unlink removes its link and keeps the others")
        return
    expect(ev.link is None and new.links == before.links, "only link and unlink touch links")
    targets = {
        before.state if t.target == "=" else t.target
        for t in transitions_for(spec, before.state, event)
    }
    expect(
        new.state in targets,
        f"{event!r} from {before.state!r} reaches a declared target {sorted(targets)}, "
        f"not {new.state!r}",
    )


def check_history(spec: ProcessSpec, record: Record, events: Sequence[Event]) -> None:
    """The laws of a whole history: version = number of events (1..n, the first
    ``open``); the chain verifies and ends at the record's head; replay equals the
    record; times never go backwards; each event starts where the last ended; a terminal
    state stays terminal (only ``link`` and ``unlink`` events follow)."""
    expect(bool(events), "a record has at least its open event")
    expect(record.version == len(events), "version equals the number of events")
    expect(
        [e.version for e in events] == list(range(1, len(events) + 1)),
        "event versions are 1..n",
    )
    expect(events[0].name == "open", "the first event is 'open'")
    try:
        head = verify_chain(events)
    except ChainBroken as exc:
        raise LawViolated(f"the chain verifies ({exc})") from exc
    expect(head == record.head, "the chain's head is the record's head")
    expect(replay(spec, events) == record, "replay equals the record")
    expect(
        all(a.at.astimezone(UTC) <= b.at.astimezone(UTC) for a, b in pairwise(events)),
        "event times never go backwards",
    )
    expect(same_instant(record.opened_at, events[0].at), "opened_at is the open event's time")
    expect(same_instant(record.updated_at, events[-1].at), "updated_at is the last event's")
    expect(record.state == events[-1].target, "the state is the last event's target")
    for prev, ev in pairwise(events):
        expect(ev.source == prev.target, "each event starts where the last one ended")
    for i, ev in enumerate(events):
        if spec.is_terminal(ev.target):
            for later in events[i + 1 :]:
                expect(
                    later.name in ("link", "unlink") and later.target == ev.target,
                    f"terminal state {ev.target!r} stays terminal (then {later.name!r} "
                    f"to {later.target!r})",
                )
            expect(spec.allowed(record) == (), "a terminal state allows no event")
            break
