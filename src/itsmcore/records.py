"""Records, events, actors and links: the immutable values every process works on.

Why immutable: a transition is a pure function ``(record, event) -> (new record, Event)``.
Nothing can change a record behind the engine's back, and two threads can share one.

- :class:`Record` is one process instance (an incident, a change, ...) at one version.
- :class:`Event` is one audited, hash-chained transition of one record.
- :class:`Actor` is who did it (a person, a service account or :data:`SYSTEM`).
- :class:`Link` is a typed relation between two records (``caused_by``, ``affects``...).

Every datetime is timezone-aware; equal instants in different zones compare equal.
"""

from __future__ import annotations

from collections.abc import ItemsView, Iterable, Iterator, KeysView, Mapping, ValuesView
from datetime import datetime
from typing import Any, Final

import attrs

__all__ = [
    "SYSTEM",
    "Actor",
    "Event",
    "FieldMap",
    "Link",
    "Record",
    "Step",
    "apply_changes",
    "fields_as_of",
    "links_after",
]


class FieldMap(Mapping[str, Any]):
    """A read-only, hashable mapping of field names to values.

    Values are immutable: ``str``, ``int``, ``float``, ``bool``, ``datetime``, ``date``,
    tuples of those, or ``None``. A record's fields never change in place; a transition
    builds a new ``FieldMap``.
    """

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Mapping[str, Any] | None = None) -> None:
        self._data: dict[str, Any] = dict(data) if data else {}
        self._hash: int | None = None

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    # The views of the underlying dict (read-only, like the Mapping mixins' views), not
    # the generic ones: iterating a record's fields is on every save's path.
    def keys(self) -> KeysView[str]:
        return self._data.keys()

    def items(self) -> ItemsView[str, Any]:
        return self._data.items()

    def values(self) -> ValuesView[Any]:
        return self._data.values()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FieldMap):
            return self._data == other._data
        if isinstance(other, Mapping):
            return self._data == dict(other)
        return NotImplemented

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FieldMap({self._data!r})"

    def __reduce__(self) -> tuple[type[FieldMap], tuple[dict[str, Any]]]:
        return (FieldMap, (self._data,))

    def updated(self, changes: Mapping[str, Any]) -> FieldMap:
        """A new map with ``changes`` applied; a ``None`` value removes the field."""
        data = dict(self._data)
        apply_changes(data, changes)
        return FieldMap(data)

    def to_dict(self) -> dict[str, Any]:
        """A plain ``dict`` copy."""
        return dict(self._data)


def apply_changes(fields: dict[str, Any], changes: Mapping[str, Any]) -> None:
    """Apply an event's ``changes`` to ``fields`` in place: a value sets the field, ``None``
    clears it. The one rule by which events rebuild a record's fields."""
    for key, value in changes.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value


def fields_as_of(events: Iterable[Event]) -> dict[str, Any]:
    """The fields a record has after ``events`` (its history 1..n, or a prefix of it), as
    a plain ``dict``. Slice the history first to ask "as of" a version or an instant."""
    fields: dict[str, Any] = {}
    for event in events:
        apply_changes(fields, event.changes)
    return fields


def links_after(links: tuple[Link, ...], name: str, link: Link | None) -> tuple[Link, ...]:
    """The links a record has after an event named ``name`` carrying ``link``: a ``link``
    event adds its link, an ``unlink`` event removes the link with the same
    :attr:`Link.key`, any other event keeps them. The one rule by which events rebuild a
    record's links (the kernel, :func:`~itsmcore.replay` and hosts' projections)."""
    if link is None:
        return links
    if name == "unlink":
        return tuple(x for x in links if x.key != link.key)
    if name == "link":
        return (*links, link)
    return links


def _to_fieldmap(value: Mapping[str, Any] | None) -> FieldMap:
    if isinstance(value, FieldMap):
        return value
    return FieldMap(value)


def _to_roles(value: Any) -> frozenset[str]:
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(value)


@attrs.frozen(slots=True)
class Actor:
    """Who acts: an id and the roles the host granted (``frozenset``, default none).

    Roles are host data, never inferred: itsmcore only checks them (``cab_member``,
    ``security_officer`` ...).
    """

    id: str
    roles: frozenset[str] = attrs.field(default=frozenset(), converter=_to_roles)

    def has_role(self, *roles: str) -> bool:
        """True when the actor holds any of ``roles``."""
        return not self.roles.isdisjoint(roles)


#: The actor of automatic transitions (timers, SLA ticks, monitoring).
SYSTEM: Final = Actor("system", roles=frozenset({"system"}))


@attrs.frozen(slots=True)
class Link:
    """A typed relation from ``source`` to ``target`` (both record ids).

    ``kind`` is a relation name such as ``caused_by``, ``fixed_by``, ``affects``,
    ``depends_on``. The link is stored on both records: on the source as outgoing, on the
    target as incoming (see :attr:`Record.links`).
    """

    kind: str
    source: str
    target: str
    at: datetime

    def other(self, record_id: str) -> str:
        """The id at the other end of the link, seen from ``record_id``."""
        return self.target if record_id == self.source else self.source

    @property
    def key(self) -> tuple[str, str, str]:
        """``(kind, source, target)``: what makes a link the same link, whenever it was
        made. A record holds at most one link per key; ``unlink`` removes by key."""
        return (self.kind, self.source, self.target)


@attrs.frozen(slots=True)
class Event:
    """One audited transition of one record.

    ``changes`` maps field names to their new values (``None`` = cleared). ``source`` is
    ``None`` for the ``open`` event. ``prev_hash`` is the hash of the previous event of the
    same record (64 zeros for version 1) and ``hash`` is SHA-256 over the canonical form
    described in :mod:`itsmcore.chain`. ``link`` is set only on ``link`` events (the link
    added) and ``unlink`` events (the link removed, as it was added).
    """

    record_id: str
    version: int
    name: str
    source: str | None
    target: str
    at: datetime
    actor: Actor
    changes: FieldMap = attrs.field(factory=FieldMap, converter=_to_fieldmap)
    prev_hash: str = ""
    hash: str = ""
    link: Link | None = None


@attrs.frozen(slots=True)
class Record:
    """One process instance at one version.

    A record at version *n* has exactly *n* events, versions 1..n, the first being
    ``open``. ``head`` is the hash of its latest event (the next event's ``prev_hash``);
    ``opened_by`` is the id of the actor who opened it (used for segregation of duties).
    """

    id: str
    process: str
    spec_version: int
    state: str
    version: int
    fields: FieldMap = attrs.field(converter=_to_fieldmap)
    opened_at: datetime
    updated_at: datetime
    opened_by: str = ""
    head: str = ""
    links: tuple[Link, ...] = ()

    def get(self, name: str, default: Any = None) -> Any:
        """The value of field ``name``, or ``default`` when it is not set."""
        return self.fields.get(name, default)

    def linked(self, kind: str | None = None) -> tuple[str, ...]:
        """Ids of records linked to this one (either direction), optionally by ``kind``."""
        return tuple(
            link.other(self.id) for link in self.links if kind is None or link.kind == kind
        )


@attrs.frozen(slots=True)
class Step:
    """The result of a pure transition: the new record and the one event that made it."""

    record: Record
    event: Event
