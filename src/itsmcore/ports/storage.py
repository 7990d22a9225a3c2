"""The storage port: what an adapter must do for the :class:`~itsmcore.engine.Engine`.

Why this shape: every write the engine makes is one call to :meth:`Storage.append`,
one transaction that checks versions (optimistic concurrency keyed by
``(record_id, version)``), writes the new record snapshots and their events, queues the
notifications (transactional outbox) and replaces the records' deadlines. So an adapter
can never half-write a transition, and notifications are never lost nor sent for a
rolled-back change.

Guarantees every adapter gives (checked by :mod:`itsmcore.testing.contract`):

1. ``append`` is atomic: all steps, outbox rows and deadlines, or nothing.
2. A step whose record is at version *v* is accepted only if the stored version is
   *v − 1* (0 = absent) and, for a stored record, its event's ``prev_hash`` is the
   stored record's ``head`` (a step always extends the stored chain, so a change
   computed from a snapshot the store does not hold can never fork it); otherwise
   :class:`~itsmcore.errors.ConcurrencyError` with the expected and actual versions,
   and nothing is written.
3. ``load`` returns what was appended, equal field by field; ``history`` the events in
   version order.
4. ``claim`` inserts unique keys and returns exactly the ones this call inserted, even
   with concurrent callers (the basis of exactly-once SLA signals and timers).
5. Outbox rows are returned by ``pending`` until ``mark_delivered``; ids are stable.
6. Datetimes come back as aware datetimes at the same instant.
7. A signature given for a record's new head (``append(signatures=...)``) is stored in
   the same transaction and returned by ``signed_head`` until the next append of that
   record replaces it.

One optional capability, ``claims_in_append`` (:func:`appends_claims` tells): an
``append`` that takes ``claims=``, inserted in the same transaction as the steps (a key
already taken refuses the whole append with :class:`~itsmcore.errors.ClaimTaken`,
nothing written), and ``claimed(keys)``, the keys among ``keys`` already taken, in the
order given. The engine uses it to open a cadence occurrence and claim it at once, so a
worker that dies mid-way never leaves an occurrence claimed but not opened (and reads
``claimed`` first, so the occurrences other workers have are not tried). The shipped
adapters have it; an adapter without it still works (the engine claims first and opens
after, with that window).

Queries take keyword-only filters.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

import attrs

from itsmcore.errors import ValidationError
from itsmcore.records import Event, FieldMap, Record, Step

__all__ = [
    "Claim",
    "Deadline",
    "Notification",
    "SignedHead",
    "Storage",
    "appends_claims",
    "heads_of",
]


def _fieldmap(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


@attrs.frozen(slots=True)
class Notification:
    """One message for the notification hooks, stored in the outbox with the change
    that caused it and delivered after commit, at least once.

    ``id`` is stable across redeliveries (use it to de-duplicate); ``kind`` is
    ``"event"`` (a transition), ``"sla"`` (an SLA warning or breach), ``"timer"`` or a
    host-defined kind; ``payload`` is JSON-safe plain data.
    """

    id: str
    kind: str
    record_id: str
    at: datetime
    payload: FieldMap = attrs.field(factory=FieldMap, converter=_fieldmap)


@attrs.frozen(slots=True)
class Deadline:
    """A future instant at which ``Engine.tick`` must look at a record again.

    ``key`` names what is due (an SLA threshold, a timer). Each ``append`` replaces the
    deadlines of the records it writes, so the set of deadlines is always derived from
    the latest version; ``tick`` reads only those due, never every open record.
    """

    record_id: str
    key: str
    due: datetime


@attrs.frozen(slots=True)
class Claim:
    """A unique key claimed once across all workers (e.g. ``sla:INC-1:…:breach``)."""

    key: str
    record_id: str
    at: datetime


@attrs.frozen(slots=True)
class SignedHead:
    """The signature over one record's chain head (the hash of its latest event).

    Written by :meth:`Storage.append` together with the event it signs, so a truncated
    or rewritten tail no longer matches a signature only the signer can make (see the
    ``itsmcore_sign`` hook). ``version`` is the version of the signed event.
    """

    record_id: str
    version: int
    head: str
    signature: str


@runtime_checkable
class Storage(Protocol):
    """The storage port. Adapters: ``itsmcore.adapters.memory`` (reference),
    ``itsmcore.adapters.sqlite`` (embedded default) and ``itsmcore.adapters.postgres``."""

    def append(
        self,
        steps: Sequence[Step],
        *,
        outbox: Sequence[Notification] = (),
        deadlines: Mapping[str, Sequence[Deadline]] | None = None,
        signatures: Mapping[str, str] | None = None,
    ) -> None:
        """Atomically write ``steps`` (version-checked), ``outbox`` rows, replace the
        deadlines of each record id in ``deadlines``, and store ``signatures`` (record id
        → signature over that record's new head, i.e. its last event in ``steps``).

        Raises ``ConcurrencyError`` (stale version), ``ValidationError`` (a signature for
        a record not in ``steps``)."""
        ...

    def signed_head(self, record_id: str) -> SignedHead | None:
        """The latest stored head signature of a record, or ``None`` if it has none."""
        ...

    def load(self, record_id: str) -> Record:
        """The latest stored record. Raises ``NotFound``."""
        ...

    def history(self, record_id: str) -> list[Event]:
        """The record's events, versions 1..n in order. Raises ``NotFound``."""
        ...

    def find(
        self,
        *,
        process: str | None = None,
        state: str | Sequence[str] | None = None,
        fields: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        """Records matching every filter, ordered by ``(opened_at, id)``. ``fields``
        matches exact values of top-level fields."""
        ...

    def record_ids(self) -> list[str]:
        """Every stored record id, sorted."""
        ...

    def next_number(self, prefix: str) -> int:
        """The next value (1, 2, ...) of the sequence named ``prefix``; never repeats."""
        ...

    def claim(self, claims: Sequence[Claim], *, outbox: Sequence[Notification] = ()) -> list[Claim]:
        """Insert the claims whose keys are new and return exactly those (input order);
        the outbox rows of the inserted claims are written in the same transaction
        (a notification whose ``id`` equals a claim key is written only if that claim
        was inserted)."""
        ...

    def due(self, now: datetime, *, limit: int = 1000) -> list[Deadline]:
        """Deadlines with ``due <= now``, earliest first."""
        ...

    def set_deadlines(self, record_id: str, deadlines: Sequence[Deadline]) -> None:
        """Replace the deadlines of one record (used by ``tick`` after it handled them)."""
        ...

    def pending(self, *, limit: int = 100) -> list[Notification]:
        """Undelivered outbox rows, oldest first."""
        ...

    def mark_delivered(self, ids: Sequence[str]) -> None:
        """Mark outbox rows delivered (unknown ids are ignored)."""
        ...

    def close(self) -> None:
        """Release resources; idempotent."""
        ...


def appends_claims(storage: object) -> bool:
    """Whether ``storage`` has the ``claims_in_append`` capability (see the module
    docs): an ``append`` that takes ``claims=`` and a ``claimed`` method. Read from the
    method's signature, once per engine; the contract suite checks that an adapter
    that has them declares the capability, and keeps it."""
    append = getattr(storage, "append", None)
    if append is None or not callable(getattr(storage, "claimed", None)):
        return False
    try:
        return "claims" in inspect.signature(append).parameters
    except (TypeError, ValueError):  # a callable without a signature: assume not
        return False


def heads_of(steps: Sequence[Step], signatures: Mapping[str, str] | None) -> dict[str, Step]:
    """The last step of each record in an ``append``, after the checks every adapter
    makes on its arguments: each step's record and event agree (same id and version),
    and signatures name only records this append writes, with a non-empty text.

    Adapters call this first, so a malformed append is refused the same way everywhere
    (``ValidationError``) before anything is written.
    """
    heads: dict[str, Step] = {}
    for step in steps:
        rec, ev = step.record, step.event
        if rec.id != ev.record_id or rec.version != ev.version:
            raise ValidationError.single("$.steps", "record and event disagree")
        heads[rec.id] = step
    for record_id, signature in (signatures or {}).items():
        if record_id not in heads or not isinstance(signature, str) or not signature:
            raise ValidationError.single(
                f"$.signatures.{record_id}",
                "sign only the records written by this append, with a non-empty str",
            )
    return heads
