"""The in-memory storage adapter: the reference implementation of the storage port.

Thread-safe (one lock around every operation), so it can back an engine shared by
threads and act as the oracle that other adapters are compared with. Nothing survives
the process.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from itsmcore.errors import ClaimTaken, ConcurrencyError, NotFound
from itsmcore.ports.storage import Claim, Deadline, Notification, SignedHead, heads_of
from itsmcore.records import Event, Record, Step

__all__ = ["MemoryStorage"]


class MemoryStorage:
    """A :class:`~itsmcore.ports.storage.Storage` kept in dictionaries."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[str, Record] = {}
        self._events: dict[str, list[Event]] = {}
        self._sequences: dict[str, int] = {}
        self._claims: dict[str, Claim] = {}
        self._outbox: dict[str, Notification] = {}
        self._delivered: set[str] = set()
        self._deadlines: dict[str, dict[str, tuple[Deadline, int]]] = {}
        # A min-heap of (due, record_id, key, token) with lazy deletion: replacing a
        # record's deadlines only forgets the old tokens; stale heap entries are dropped
        # when they reach the top, and the heap is rebuilt when they outnumber live ones.
        # So a replacement costs O(log n) and ``due`` O(k log n), whatever the store size.
        self._heap: list[tuple[datetime, str, str, int]] = []
        self._stale = 0
        self._tokens = itertools.count()
        self._heads: dict[str, SignedHead] = {}
        self._closed = False

    def __repr__(self) -> str:
        return f"MemoryStorage({len(self._records)} records)"

    # -- writes ------------------------------------------------------------------------

    def append(
        self,
        steps: Sequence[Step],
        *,
        outbox: Sequence[Notification] = (),
        deadlines: Mapping[str, Sequence[Deadline]] | None = None,
        signatures: Mapping[str, str] | None = None,
        claims: Sequence[Claim] = (),
    ) -> None:
        with self._lock:
            # Check everything first: the write below cannot fail half-way.
            pending: dict[str, int] = {}
            heads = heads_of(steps, signatures)
            latest: dict[str, int] = {}  # several steps of one record must follow each other
            for step in steps:
                rid, version = step.record.id, step.record.version
                if rid in latest and version != latest[rid] + 1:
                    raise ConcurrencyError(version - 1, latest[rid], rid)
                latest[rid] = version
            taken = [c.key for c in claims if c.key in self._claims]
            if taken:  # before the stored versions, as the SQL adapters check them
                raise ClaimTaken(taken)
            for step in steps:
                rec = step.record
                stored = pending.get(rec.id)
                if stored is None:
                    current = self._records.get(rec.id)
                    stored = current.version if current is not None else 0
                    if current is not None and current.head != step.event.prev_hash:
                        raise ConcurrencyError(rec.version - 1, stored, rec.id)
                if stored != rec.version - 1:
                    raise ConcurrencyError(rec.version - 1, stored, rec.id)
                pending[rec.id] = rec.version
            for c in claims:
                self._claims.setdefault(c.key, c)
            for step in steps:
                self._records[step.record.id] = step.record
                self._events.setdefault(step.record.id, []).append(step.event)
            for note in outbox:
                self._outbox.setdefault(note.id, note)
            for record_id, items in (deadlines or {}).items():
                self._replace_deadlines(record_id, items)
            for record_id, signature in (signatures or {}).items():
                ev = heads[record_id].event
                self._heads[record_id] = SignedHead(record_id, ev.version, ev.hash, signature)

    def claim(self, claims: Sequence[Claim], *, outbox: Sequence[Notification] = ()) -> list[Claim]:
        with self._lock:
            inserted: list[Claim] = []
            for c in claims:
                if c.key not in self._claims:
                    self._claims[c.key] = c
                    inserted.append(c)
            keys = {c.key for c in inserted}
            all_keys = {c.key for c in claims}
            for note in outbox:
                if note.id in all_keys and note.id not in keys:
                    continue
                self._outbox.setdefault(note.id, note)
            return inserted

    def claimed(self, keys: Sequence[str]) -> list[str]:
        """The keys among ``keys`` already claimed, in the order given (once each)."""
        with self._lock:
            return [k for k in dict.fromkeys(keys) if k in self._claims]

    def set_deadlines(self, record_id: str, deadlines: Sequence[Deadline]) -> None:
        with self._lock:
            self._replace_deadlines(record_id, deadlines)

    def _replace_deadlines(self, record_id: str, deadlines: Sequence[Deadline]) -> None:
        self._stale += len(self._deadlines.pop(record_id, {}))
        fresh: dict[str, tuple[Deadline, int]] = {}
        for d in deadlines:
            token = next(self._tokens)
            fresh[d.key] = (d, token)
            heapq.heappush(self._heap, (d.due, d.record_id, d.key, token))
        if fresh:
            self._deadlines[record_id] = fresh
        live = len(self._heap) - self._stale
        if self._stale > live + 1024:
            self._heap = [
                (d.due, d.record_id, d.key, token)
                for per in self._deadlines.values()
                for d, token in per.values()
            ]
            heapq.heapify(self._heap)
            self._stale = 0

    def _is_live(self, entry: tuple[datetime, str, str, int]) -> bool:
        current = self._deadlines.get(entry[1], {}).get(entry[2])
        return current is not None and current[1] == entry[3]

    def next_number(self, prefix: str) -> int:
        with self._lock:
            value = self._sequences.get(prefix, 0) + 1
            self._sequences[prefix] = value
            return value

    def mark_delivered(self, ids: Sequence[str]) -> None:
        with self._lock:
            self._delivered.update(i for i in ids if i in self._outbox)

    # -- reads -------------------------------------------------------------------------

    def load(self, record_id: str) -> Record:
        with self._lock:
            try:
                return self._records[record_id]
            except KeyError:
                raise NotFound(f"no record {record_id!r}") from None

    def history(self, record_id: str) -> list[Event]:
        with self._lock:
            try:
                return list(self._events[record_id])
            except KeyError:
                raise NotFound(f"no record {record_id!r}") from None

    def find(
        self,
        *,
        process: str | None = None,
        state: str | Sequence[str] | None = None,
        fields: Mapping[str, Any] | None = None,
        limit: int | None = None,
    ) -> list[Record]:
        states = {state} if isinstance(state, str) else set(state) if state is not None else None
        with self._lock:
            found = [
                r
                for r in self._records.values()
                if (process is None or r.process == process)
                and (states is None or r.state in states)
                and all(r.fields.get(k) == v for k, v in (fields or {}).items())
            ]
        found.sort(key=lambda r: (r.opened_at, r.id))
        return found[:limit] if limit is not None else found

    def signed_head(self, record_id: str) -> SignedHead | None:
        with self._lock:
            return self._heads.get(record_id)

    def record_ids(self) -> list[str]:
        with self._lock:
            return sorted(self._records)

    def due(self, now: datetime, *, limit: int = 1000) -> list[Deadline]:
        out: list[Deadline] = []
        with self._lock:
            heap = self._heap
            kept: list[tuple[datetime, str, str, int]] = []
            while heap and len(out) < limit and heap[0][0] <= now:
                entry = heapq.heappop(heap)
                if self._is_live(entry):
                    kept.append(entry)
                    out.append(self._deadlines[entry[1]][entry[2]][0])
                else:
                    self._stale -= 1
            for entry in kept:
                heapq.heappush(heap, entry)
        return out

    def pending(self, *, limit: int = 100) -> list[Notification]:
        with self._lock:
            items = [n for i, n in self._outbox.items() if i not in self._delivered]
        return items[:limit]

    def close(self) -> None:
        self._closed = True
