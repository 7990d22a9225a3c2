"""Snapshots of records one engine recently saved or loaded (private).

Why: a read-modify-write loop (``rec = engine.fire(rec.id, ..., expected_version=
rec.version)``) would otherwise load and decode the record it has just written. The
engine fires on the cached snapshot instead and lets the save check it: every adapter
accepts a step only if it extends the stored record's version *and* head hash
(:mod:`itsmcore.ports.storage`, guarantee 2), so a stale snapshot (another worker saved
since) can never be written over, it only fails the save, and the engine then loads the
record and tries again. An entry never needs invalidating for correctness.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from itsmcore.records import Record

__all__ = ["RecordCache"]


class RecordCache:
    """A small, thread-safe LRU of ``record id -> latest known snapshot``; ``size`` 0
    keeps nothing."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._entries: OrderedDict[str, Record] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, record_id: str) -> Record | None:
        """The snapshot last seen of ``record_id``, or ``None``."""
        with self._lock:
            record = self._entries.get(record_id)
            if record is not None:
                self._entries.move_to_end(record_id)
            return record

    def put(self, record: Record) -> None:
        """Remember ``record`` (just loaded or saved: what the store holds now)."""
        if not self._size:
            return
        with self._lock:
            self._entries[record.id] = record
            self._entries.move_to_end(record.id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)

    def discard(self, record_id: str) -> None:
        """Forget ``record_id`` (its snapshot proved stale)."""
        with self._lock:
            self._entries.pop(record_id, None)
