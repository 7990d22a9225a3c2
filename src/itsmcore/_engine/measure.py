"""Measurement from the stored histories: the histories KPIs are computed over, and
an improvement record's measured baseline or post-measurement.

Only events a record had when read count (``record.version``), so a measurement is
reproducible from the store; see ``docs/kpis.md`` and ``docs/pdca.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from itsmcore._time import require_aware
from itsmcore.errors import ConcurrencyError
from itsmcore.improvement.kpis import History
from itsmcore.improvement.pdca import measurement_for
from itsmcore.ports.storage import Storage
from itsmcore.records import Actor, Record

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = ["histories", "measure_improvement"]


def histories(
    storage: Storage, *, processes: Iterable[str] | None, until: datetime | None
) -> list[History]:
    """See :meth:`itsmcore.Engine.histories`."""
    if until is not None:
        until = require_aware(until, "$.until")
    names: list[str | None] = [None] if processes is None else list(dict.fromkeys(processes))
    out: list[History] = []
    for name in names:
        for record in storage.find(process=name):
            if until is None or record.opened_at < until:
                events = storage.history(record.id)[: record.version]
                out.append(History.of(record, events))
    return out


def measure_improvement(
    engine: Engine,
    record_id: str,
    *,
    at: datetime,
    actor: Actor,
    expected_version: int | None,
) -> Record:
    """See :meth:`itsmcore.Engine.measure_improvement`."""
    record = engine.storage.load(record_id)
    if expected_version is not None and record.version != expected_version:
        raise ConcurrencyError(expected_version, record.version, record_id)
    at = require_aware(at, "$.at")
    spec = engine.spec_of(record)
    event, measured = measurement_for(record, engine, at=at, options=spec.options)
    step = spec.fire(record, event, at=at, actor=actor, system_fields=measured)
    engine._commit([step])
    return step.record
