"""The desk's notification plugin: what a host plugs into ``itsmcore_notify``.

A real desk would send mail or post to a chat; this one writes each notification to a
mailbox (a thread-safe list) and the log. Delivery is at least once, so it
de-duplicates on the stable ``notification.id``.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import itsmcore as ic
from itsmcore.ports import hookimpl

_log = logging.getLogger("service_desk.notify")


class DeskNotifier:
    """Receives every delivered notification once (events, SLA warnings and breaches)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self.mailbox: list[dict[str, Any]] = []

    @hookimpl
    def itsmcore_notify(self, notification: ic.Notification) -> None:
        with self._lock:
            if notification.id in self._seen:
                return  # a redelivery: already handled
            self._seen.add(notification.id)
            message = {
                "id": notification.id,
                "kind": notification.kind,
                "record_id": notification.record_id,
                "at": notification.at.isoformat(),
                "payload": dict(notification.payload),
            }
            self.mailbox.append(message)
        _log.info("notify %s %s", notification.kind, notification.id)

    def messages(self, kind: str | None = None) -> list[dict[str, Any]]:
        """The messages received so far (of ``kind`` when given), oldest first."""
        with self._lock:
            return [m for m in self.mailbox if kind is None or m["kind"] == kind]
