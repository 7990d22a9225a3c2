"""One driver for the part-B process tests: the same rule through the pure spec
(``spec.open``/``spec.fire``) and through ``ic.Engine.in_memory()``.

A test takes the ``drive`` fixture (declared in each test module, parametrized over
both layers) and never needs to know which layer it runs on. ``refused`` and
``open_refused`` check the rule's error *and* that nothing was stored.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LAYERS = ("pure", "engine")
E = TypeVar("E", bound=BaseException)


class Driver:
    """Opens and fires records on one layer, one minute apart by default."""

    def __init__(self, layer: str, *specs: ic.ProcessSpec) -> None:
        self.layer = layer
        self.now = T0
        self.specs = {s.name: s for s in specs}
        self.engine = ic.Engine.in_memory(processes=specs) if layer == "engine" else None
        self.records: dict[str, ic.Record] = {}
        self.events: dict[str, list[ic.Event]] = {}
        self._count = 0

    def spec(self, process: str) -> ic.ProcessSpec:
        return self.specs.get(process) or ic.catalog.get(process)

    def _at(self, at: datetime | None, minutes: float) -> datetime:
        if at is None:
            self.now = self.now + timedelta(minutes=minutes)
            return self.now
        self.now = max(self.now, at)
        return at

    def open(
        self,
        process: str,
        actor: ic.Actor,
        *,
        at: datetime | None = None,
        minutes: float = 1,
        **fields: Any,
    ) -> ic.Record:
        when = self._at(at, minutes)
        if self.engine is not None:
            return self.engine.open(process, at=when, actor=actor, fields=fields)
        spec = self.spec(process)
        self._count += 1
        rid = f"{spec.id_prefix}-{self._count}"
        step = spec.open(record_id=rid, at=when, actor=actor, fields=fields)
        self.records[rid] = step.record
        self.events[rid] = [step.event]
        return step.record

    def fire(
        self,
        record: ic.Record | str,
        event: str,
        actor: ic.Actor,
        *,
        at: datetime | None = None,
        minutes: float = 1,
        **fields: Any,
    ) -> ic.Record:
        rid = record if isinstance(record, str) else record.id
        when = self._at(at, minutes)
        if self.engine is not None:
            return self.engine.fire(rid, event, at=when, actor=actor, fields=fields)
        current = self.records[rid]
        step = self.spec(current.process).fire(current, event, at=when, actor=actor, fields=fields)
        self.records[rid] = step.record
        self.events[rid].append(step.event)
        return step.record

    def walk(
        self, record: ic.Record, actor: ic.Actor, *steps: tuple[str, dict[str, Any]]
    ) -> ic.Record:
        for event, fields in steps:
            record = self.fire(record, event, actor, **fields)
        return record

    def get(self, record_id: str) -> ic.Record:
        if self.engine is not None:
            return self.engine.get(record_id)
        return self.records[record_id]

    def history(self, record_id: str) -> list[ic.Event]:
        if self.engine is not None:
            return self.engine.history(record_id)
        return list(self.events[record_id])

    def count(self, process: str) -> int:
        if self.engine is not None:
            return len(self.engine.find(process=process))
        return sum(1 for r in self.records.values() if r.process == process)

    def refused(
        self,
        error: type[E],
        record: ic.Record | str,
        event: str,
        actor: ic.Actor,
        **fields: Any,
    ) -> E:
        """Fire, expect ``error``, and check that the record and its history are as
        they were."""
        rid = record if isinstance(record, str) else record.id
        before, history = self.get(rid), self.history(rid)
        with pytest.raises(error) as info:
            self.fire(rid, event, actor, **fields)
        assert self.get(rid) == before, "a refused event stores nothing"
        assert self.history(rid) == history, "a refused event adds no event"
        return info.value

    def open_refused(self, error: type[E], process: str, actor: ic.Actor, **fields: Any) -> E:
        """Open, expect ``error``, and check that no record was stored."""
        before = self.count(process)
        with pytest.raises(error) as info:
            self.open(process, actor, **fields)
        assert self.count(process) == before, "a refused open stores nothing"
        return info.value


def paths(error: ic.ValidationError) -> set[str]:
    """The paths a ``ValidationError`` names."""
    return {path for path, _ in error.errors}
