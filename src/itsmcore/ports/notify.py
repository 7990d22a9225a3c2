"""Notification plugins that ship with itsmcore.

- :class:`LogNotifier` is a built-in plugin (registered in every engine): it logs each
  delivered notification's id, kind and record id to the ``itsmcore.notify`` logger at
  DEBUG. It never logs the payload, so no field value reaches a log.
- :class:`Inbox` collects delivered notifications in memory, once per id, the way an
  idempotent consumer should. Use it in tests, or read it as the reference for writing
  a real notifier (mail, chat, webhook).

Delivery is at least once (see ``itsmcore_notify``): a consumer must de-duplicate on
``Notification.id``.
"""

from __future__ import annotations

import logging
import threading

from itsmcore.ports.hookspecs import hookimpl
from itsmcore.ports.storage import Notification

__all__ = ["Inbox", "LogNotifier"]

_log = logging.getLogger("itsmcore.notify")


class LogNotifier:
    """Logs ``id``, ``kind`` and ``record_id`` of each notification (never the payload)."""

    @hookimpl(trylast=True)
    def itsmcore_notify(self, notification: Notification) -> None:
        _log.debug(
            "notification %s kind=%s record=%s",
            notification.id,
            notification.kind,
            notification.record_id,
        )


class Inbox:
    """A thread-safe, de-duplicating collector of delivered notifications.

    ``received`` holds each notification once, in first-delivery order; ``deliveries``
    counts every call, so ``deliveries - len(received)`` is the number of redeliveries.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, Notification] = {}
        self.deliveries = 0

    @hookimpl
    def itsmcore_notify(self, notification: Notification) -> None:
        with self._lock:
            self.deliveries += 1
            self._seen.setdefault(notification.id, notification)

    @property
    def received(self) -> list[Notification]:
        """Each delivered notification once, oldest first."""
        with self._lock:
            return list(self._seen.values())

    def ids(self) -> list[str]:
        """The ids of :attr:`received`."""
        with self._lock:
            return list(self._seen)

    def of_kind(self, kind: str) -> list[Notification]:
        """The received notifications of ``kind`` (``"event"``, ``"sla"``...)."""
        return [n for n in self.received if n.kind == kind]
