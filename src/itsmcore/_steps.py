"""Building steps, the relation events and replay: how an event becomes a record.

Every operation of the kernel ends in :func:`build_step`, which hashes the event into the
record's chain and derives the new record from the old one; :func:`replay` is the same
derivation read back from a stored history. ``link`` and ``unlink`` are the kernel's own
events (reserved names, allowed in every state): they change a record's links, never
its state or fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from itsmcore._inputs import check_actor, check_time
from itsmcore._time import to_utc_text
from itsmcore.chain import GENESIS, canonical_bytes, verify_chain
from itsmcore.errors import ValidationError
from itsmcore.records import Actor, Event, FieldMap, Link, Record, Step, links_after

if TYPE_CHECKING:
    from itsmcore.spec import ProcessSpec

__all__ = ["apply_link", "apply_unlink", "build_step", "replay"]


def build_step(
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
    check_actor(actor, errors)
    at = check_time(link.at, errors)
    if record.id not in (link.source, link.target):
        errors.append(("$.link", f"the link does not involve record {record.id!r}"))
    if link.source == link.target:
        errors.append(("$.link", "a record cannot be linked to itself"))
    if not errors and link.at < record.updated_at:
        errors.append(("$.at", "is before the record's last event; events never go back"))
    if any(x.key == link.key for x in record.links):
        errors.append(("$.link", f"{link.kind} {link.source} -> {link.target} already exists"))
    if errors:
        raise ValidationError(errors)
    if at is not link.at:
        link = attrs.evolve(link, at=at)
    return _relation_step(record, spec, "link", link, at=link.at, actor=actor)


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
    check_actor(actor, errors)
    at = check_time(at, errors)
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
    return _relation_step(record, spec, "unlink", stored, at=at, actor=actor)


def _relation_step(
    record: Record, spec: ProcessSpec, name: str, link: Link, *, at: datetime, actor: Actor
) -> Step:
    """The ``link`` or ``unlink`` step: same state, no field change, ``link`` carried."""
    return build_step(
        record=record,
        spec=spec,
        record_id=record.id,
        name=name,
        source=record.state,
        target=record.state,
        at=at,
        actor=actor,
        changes={},
        link=link,
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
