"""The desk's background worker: ``engine.tick`` then ``engine.deliver``, on a timer.

``tick`` emits each SLA warning and breach (and fires each due timer) exactly once,
even with several workers or ``flask tick`` runs at the same time, so running it from a
thread in every web process *and* from cron is safe. The worker keeps going when one
round fails (the store busy, a notifier down): the signals stay claimable or pending
and the next round picks them up.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import itsmcore as ic
from itsmcore.sla import SlaSignal, TimerSignal

_log = logging.getLogger("service_desk.worker")


class TickWorker:
    """Runs :meth:`run_once` every ``interval`` seconds in a daemon thread."""

    def __init__(
        self, engine: ic.Engine, clock: Callable[[], datetime], *, interval: float = 60.0
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> list[str]:
        """One round: tick at the clock's now, deliver the outbox; one line per signal."""
        lines = []
        for signal in self.engine.tick(self.clock()):
            if isinstance(signal, SlaSignal):
                lines.append(
                    f"{signal.record_id}: {signal.clock} {signal.kind} "
                    f"{signal.threshold}% (due {signal.due.isoformat()})"
                )
            elif isinstance(signal, TimerSignal):
                lines.append(f"{signal.record_id}: timer {signal.timer} fired")
            else:
                lines.append(f"{signal.record_id}: {type(signal).__name__}")
        delivered = self.engine.deliver()
        lines.append(f"delivered {delivered} notification(s)")
        return lines

    def start(self) -> None:
        """Start the daemon thread (once)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="itsmcore-tick", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except ic.ItsmError:
                _log.exception("tick failed; retrying in %s s", self.interval)
            self._stop.wait(self.interval)
