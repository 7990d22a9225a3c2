"""The outbox: the notifications a step writes, and their at-least-once delivery.

Notifications are saved with the step that caused them (see :mod:`.commit`) and handed
to the ``itsmcore_notify`` hooks afterwards, oldest first; a notification is marked
delivered only once every hook returned.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from itsmcore.errors import ItsmError
from itsmcore.ports.plugins import PluginHost
from itsmcore.ports.storage import Notification, Storage
from itsmcore.records import Step

__all__ = ["deliver", "deliver_after_commit", "notifications_for"]

# The engine's logger: hosts filter on this name, whichever module logs.
_log = logging.getLogger("itsmcore.engine")


def notifications_for(step: Step) -> list[Notification]:
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


def deliver(storage: Storage, plugins: PluginHost, *, limit: int) -> int:
    """Deliver pending notifications in batches of ``limit`` (see
    :meth:`itsmcore.Engine.deliver`); returns how many were marked delivered. Raises
    ``PluginError`` when a notifier fails, after marking the ones before it."""
    total = 0
    seen: set[str] = set()
    while True:
        batch = [n for n in storage.pending(limit=limit) if n.id not in seen]
        if not batch:
            return total
        done: list[str] = []
        try:
            for note in batch:
                plugins.notify(note)
                done.append(note.id)
        finally:
            if done:
                storage.mark_delivered(done)
                seen.update(done)
                total += len(done)


def deliver_after_commit(deliver_now: Callable[[], int]) -> None:
    """Call ``deliver_now`` (the engine's :meth:`~itsmcore.Engine.deliver`) right after a
    commit (``auto_deliver``): the save already happened, so a failing notifier is
    logged and its notification stays pending, never raised."""
    try:
        deliver_now()
    except ItsmError as exc:
        _log.warning("notifications stay pending for Engine.deliver(): %s", exc)
