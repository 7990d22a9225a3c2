"""Recent event histories of records one engine wrote (private).

Why: the deadlines of an SLA-watched record are computed from its whole history, so
without a cache every save would re-read that history from storage. An entry is used
only when it ends exactly where the new event starts (same length and its last hash is
the new event's ``prev_hash``), so another worker's writes are never missed: a stale
entry is simply ignored and the history is read from storage.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from itsmcore.records import Event

__all__ = ["HistoryCache"]


class HistoryCache:
    """A small, thread-safe LRU of ``record id -> events 1..n``."""

    __slots__ = ("_entries", "_lock", "_size")

    def __init__(self, size: int = 4096) -> None:
        self._entries: OrderedDict[str, tuple[Event, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def before(self, event: Event) -> tuple[Event, ...] | None:
        """The cached events 1..``event.version - 1`` of ``event``'s record, if the cache
        holds exactly those (else ``None``)."""
        with self._lock:
            events = self._entries.get(event.record_id)
            if events is None:
                return None
            self._entries.move_to_end(event.record_id)
        if len(events) != event.version - 1 or (events and events[-1].hash != event.prev_hash):
            return None
        return events

    def put(self, record_id: str, events: tuple[Event, ...]) -> None:
        """Remember ``events`` (a record's history 1..n, as committed)."""
        with self._lock:
            self._entries[record_id] = events
            self._entries.move_to_end(record_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
