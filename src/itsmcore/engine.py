"""The Engine: open / fire / link / query over a storage port.

Why a thin shell: the rules live in the pure specs; the engine only loads, applies,
saves and notifies, in that order, as one unit of work:

1. load the record through the storage port (and check ``expected_version``);
2. apply the pure transition (:meth:`ProcessSpec.fire`), which validates everything;
3. save the new record, its event, its outbox notifications and its deadlines in one
   atomic ``append`` that re-checks the version (a stale writer gets
   :class:`~itsmcore.errors.ConcurrencyError` and nothing is written);
4. after the commit, hand pending notifications to the notification hooks.

A failure at any step leaves the store as it was. The engine keeps no global state:
each instance has its own catalog copy, storage and plugins, so two engines in one
process never interfere. Time is always an argument (``at``/``now``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from itsmcore._time import require_aware
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.catalog import Catalog
from itsmcore.catalog import catalog as builtin_catalog
from itsmcore.chain import verify_chain
from itsmcore.errors import ChainBroken, ConcurrencyError, ValidationError
from itsmcore.machine import apply_link
from itsmcore.ports.storage import Deadline, Notification, Storage
from itsmcore.records import Actor, Event, Link, Record, Step
from itsmcore.relations import DEFAULT_LINK_RULES, ImpactedItem, LinkRules
from itsmcore.relations import impact as impact_of
from itsmcore.spec import ProcessSpec

__all__ = ["ChainReport", "Engine"]

_LINK_KIND_MAX = 64


@attrs.frozen(slots=True)
class ChainReport:
    """The result of :meth:`Engine.verify`: how many records and events were checked,
    and the ids of the records whose chain or head did not verify (with reasons)."""

    records: int
    events: int
    broken: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return not self.broken


class Engine:
    """An application service over a :class:`~itsmcore.ports.storage.Storage`.

    Build one with :meth:`in_memory`, :meth:`sqlite` or ``Engine(storage=...)``.
    ``processes`` adds (or adds versions of) process specs to this engine's own copy of
    the built-in catalog. ``link_rules`` are the link kinds :meth:`link` accepts
    (default :data:`~itsmcore.relations.DEFAULT_LINK_RULES`; extend it with
    ``DEFAULT_LINK_RULES.extended(LinkKind(...))``).
    """

    def __init__(
        self,
        storage: Storage,
        *,
        processes: Iterable[ProcessSpec] = (),
        catalog: Catalog | None = None,
        link_rules: LinkRules | None = None,
    ) -> None:
        self.storage: Storage = storage
        self.link_rules: LinkRules = link_rules if link_rules is not None else DEFAULT_LINK_RULES
        self.catalog: Catalog = (catalog or builtin_catalog).copy()
        for spec in processes:
            self.catalog.register(spec)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def in_memory(cls, **options: Any) -> Engine:
        """An engine over the thread-safe in-memory adapter (tests, demos, caches)."""
        return cls(MemoryStorage(), **options)

    @classmethod
    def sqlite(cls, path: str | Path, **options: Any) -> Engine:
        """An engine over the embedded SQLite adapter at ``path`` (created if absent)."""
        from itsmcore.adapters.sqlite import SqliteStorage

        return cls(SqliteStorage(path), **options)

    def close(self) -> None:
        """Close the storage adapter."""
        self.storage.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- commands --------------------------------------------------------------------------

    def spec_of(self, record: Record) -> ProcessSpec:
        """The spec version ``record`` was opened under."""
        return self.catalog.get(record.process, record.spec_version)

    def open(
        self,
        process: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        record_id: str | None = None,
    ) -> Record:
        """Open a record of ``process``; the id is assigned (``INC-000001``) unless given.

        Raises ``NotFound`` (unknown process), ``ValidationError``, ``Forbidden``,
        ``GuardFailed``, or ``ConcurrencyError`` when a given id already exists.
        """
        spec = self.catalog.get(process)
        given_id = record_id is not None
        for _attempt in range(1000):
            rid = record_id if record_id is not None else self._new_id(spec)
            step = spec.open(record_id=rid, at=at, actor=actor, fields=fields)
            try:
                self._commit(spec, [step])
            except ConcurrencyError:
                if given_id:
                    raise
                continue  # a host-chosen id took this number; take the next one
            return step.record
        raise ConcurrencyError(0, 1, "could not find a free record id")  # pragma: no cover

    def fire(
        self,
        record_id: str,
        event: str,
        *,
        at: datetime,
        actor: Actor,
        fields: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> Record:
        """Apply ``event`` to the stored record and save it.

        ``expected_version`` is the version the caller's decision was based on; if the
        store holds another, ``ConcurrencyError`` is raised and nothing is written.
        Raises what :meth:`ProcessSpec.fire` raises, and ``NotFound``.
        """
        record = self.storage.load(record_id)
        if expected_version is not None and record.version != expected_version:
            raise ConcurrencyError(expected_version, record.version, record_id)
        spec = self.spec_of(record)
        step = spec.fire(record, event, at=at, actor=actor, fields=fields)
        self._commit(spec, [step])
        return step.record

    def link(
        self,
        source_id: str,
        target_id: str,
        kind: str,
        *,
        at: datetime,
        actor: Actor,
    ) -> Link:
        """Link two records (``kind`` such as ``caused_by``); audited on both sides.

        Both records get a ``link`` event in one atomic save. ``kind`` must be in
        :attr:`link_rules` and allow the two records' processes; an inverse name
        (``fixes`` for ``fixed_by``) is stored as its canonical kind with the ends swapped,
        and the returned :class:`Link` is that canonical form. Raises ``NotFound`` when
        either record is missing and ``ValidationError`` for an unknown kind, a process
        pair the kind does not allow (naming the allowed ones), or a duplicate link.
        """
        if not isinstance(kind, str) or not kind.isidentifier() or len(kind) > _LINK_KIND_MAX:
            raise ValidationError.single("$.kind", "a link kind is a short identifier")
        at = require_aware(at, "$.at").astimezone(UTC)
        self.link_rules.kind(kind)  # an unknown kind fails before any load
        placed = self.link_rules.place(
            kind, self.storage.load(source_id), self.storage.load(target_id)
        )
        source, target = placed.source, placed.target
        link = Link(kind=placed.kind.name, source=source.id, target=target.id, at=at)
        steps = [
            apply_link(source, self.spec_of(source), link, actor=actor),
            apply_link(target, self.spec_of(target), link, actor=actor),
        ]
        self._commit(None, steps)
        return link

    def register(self, spec: ProcessSpec) -> None:
        """Add ``spec`` (a new process, or a new version of one) to this engine's catalog.

        New records get the latest version; records already open keep the version they
        were opened with. Registering different content under an existing name and
        version is a ``SpecError`` (give the new spec a higher version).
        """
        self.catalog.register(spec)

    # -- queries ---------------------------------------------------------------------------

    def impact(
        self,
        record_id: str,
        *,
        kinds: Iterable[str] | None = None,
        max_depth: int | None = None,
    ) -> tuple[ImpactedItem, ...]:
        """Everything that depends on ``record_id`` (usually a configuration item),
        transitively, each with the path of record ids from ``record_id`` to it.

        If A depends_on (or runs_on) B, ``impact(B)`` contains A with path ``(B, A)``; a
        whole depends on its parts (``part_of``); ``connected_to`` works both ways. See
        :func:`itsmcore.relations.impact`. Raises ``NotFound`` and ``ValidationError``.
        """
        return impact_of(
            record_id, self.storage.load, rules=self.link_rules, kinds=kinds, max_depth=max_depth
        )

    def get(self, record_id: str) -> Record:
        """The latest version of a record. Raises ``NotFound``."""
        return self.storage.load(record_id)

    def history(self, record_id: str) -> list[Event]:
        """The record's events, versions 1..n. Raises ``NotFound``."""
        return self.storage.history(record_id)

    def find(
        self,
        *,
        process: str | None = None,
        state: str | Sequence[str] | None = None,
        limit: int | None = None,
        **fields: Any,
    ) -> list[Record]:
        """Records by process, state(s) and exact field values, oldest first."""
        return self.storage.find(process=process, state=state, fields=fields, limit=limit)

    def verify(self) -> ChainReport:
        """Verify every record's hash chain and that its stored head matches."""
        broken: list[tuple[str, str]] = []
        total = 0
        ids = self.storage.record_ids()
        for rid in ids:
            events = self.storage.history(rid)
            total += len(events)
            try:
                head = verify_chain(events)
            except ChainBroken as exc:
                broken.append((rid, str(exc)))
                continue
            record = self.storage.load(rid)
            if head != record.head or len(events) != record.version:
                broken.append((rid, "the stored record does not match its last event"))
        return ChainReport(records=len(ids), events=total, broken=tuple(broken))

    # -- internals -------------------------------------------------------------------------

    def _new_id(self, spec: ProcessSpec) -> str:
        prefix = spec.id_prefix or spec.name.upper()
        return f"{prefix}-{self.storage.next_number(prefix):06d}"

    def notifications_for(self, step: Step) -> list[Notification]:
        """The outbox rows of one step: one ``event`` notification, stable id
        ``event:<record id>:<version>``."""
        ev = step.event
        payload = {
            "process": step.record.process,
            "event": ev.name,
            "version": ev.version,
            "source": ev.source,
            "target": ev.target,
            "actor": ev.actor.id,
            "hash": ev.hash,
        }
        return [
            Notification(
                id=f"event:{ev.record_id}:{ev.version}",
                kind="event",
                record_id=ev.record_id,
                at=ev.at,
                payload=payload,
            )
        ]

    def deadlines_for(self, record: Record) -> list[Deadline]:
        """The future instants at which ``tick`` must look at ``record`` again."""
        return []

    def _commit(self, spec: ProcessSpec | None, steps: Sequence[Step]) -> None:
        outbox = [n for step in steps for n in self.notifications_for(step)]
        deadlines = {step.record.id: self.deadlines_for(step.record) for step in steps}
        self.storage.append(steps, outbox=outbox, deadlines=deadlines)
