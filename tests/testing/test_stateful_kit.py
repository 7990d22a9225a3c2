"""The stateful kit can fail: each deliberately broken layer is caught, naming the law.

A kit that never fails proves nothing, so every law the machines check is shown here to
catch a spec or engine that breaks it. Runs skip shrinking (``Phase.generate`` only) and
the example database, to stay fast and independent of earlier runs.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import InvalidArgument
from hypothesis.stateful import run_state_machine_as_test

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.testing import (
    LawViolated,
    ProcessStateMachine,
    check_history,
    engine_state_machine,
    process_state_machine,
)

INCIDENT = ic.catalog.get("incident")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
QUICK = settings(
    max_examples=60,
    stateful_step_count=20,
    deadline=None,
    database=None,
    phases=[Phase.generate],
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _law_broken_by(machine: type[ProcessStateMachine]) -> str:
    with pytest.raises(LawViolated) as caught:
        run_state_machine_as_test(machine, settings=QUICK)
    return caught.value.law


def _copy_as(cls: type[ic.ProcessSpec], spec: ic.ProcessSpec) -> ic.ProcessSpec:
    """The same spec, as an instance of the broken subclass ``cls``."""
    values = {a.alias: getattr(spec, a.name) for a in attrs.fields(ic.ProcessSpec) if a.init}
    return cls(**values)


class _ChainDropping(ic.ProcessSpec):
    """Every event after ``open`` claims to follow GENESIS: the chain is cut."""

    def fire(
        self,
        record: ic.Record,
        event: str,
        *,
        at: datetime,
        actor: ic.Actor,
        fields: Mapping[str, Any] | None = None,
    ) -> ic.Step:
        step = super().fire(record, event, at=at, actor=actor, fields=fields)
        cut = attrs.evolve(step.event, prev_hash=ic.GENESIS)
        return ic.Step(step.record, cut)


class _TimeTravelling(ic.ProcessSpec):
    """Quietly moves a back-dated event to the record's last time instead of refusing."""

    def fire(
        self,
        record: ic.Record,
        event: str,
        *,
        at: datetime,
        actor: ic.Actor,
        fields: Mapping[str, Any] | None = None,
    ) -> ic.Step:
        if at.tzinfo is not None and at < record.updated_at:
            at = record.updated_at
        return super().fire(record, event, at=at, actor=actor, fields=fields)


class _HidingUpdate(ic.ProcessSpec):
    """Claims ``update`` is never allowed, yet applies it."""

    def allowed(self, record: ic.Record) -> tuple[str, ...]:
        return tuple(e for e in super().allowed(record) if e != "update")


class _DirtyRefusal(ic.ProcessSpec):
    """Writes into the record before refusing an event."""

    def fire(
        self,
        record: ic.Record,
        event: str,
        *,
        at: datetime,
        actor: ic.Actor,
        fields: Mapping[str, Any] | None = None,
    ) -> ic.Step:
        try:
            return super().fire(record, event, at=at, actor=actor, fields=fields)
        except ic.InvalidTransition:
            record.fields._data["touched"] = True  # the breakage under test
            raise


def test_a_spec_that_cuts_the_hash_chain_is_caught() -> None:
    law = _law_broken_by(process_state_machine(_copy_as(_ChainDropping, INCIDENT)))
    assert "chain" in law


def test_a_spec_that_accepts_back_dated_events_is_caught() -> None:
    law = _law_broken_by(process_state_machine(_copy_as(_TimeTravelling, INCIDENT)))
    # Either the event was applied, or it was refused with the wrong error.
    assert law.startswith(("events never go back in time", "a back-dated time is"))


def test_a_spec_whose_allowed_events_lie_is_caught() -> None:
    law = _law_broken_by(process_state_machine(_copy_as(_HidingUpdate, INCIDENT)))
    # Either the hidden event was applied, or InvalidTransition disagreed with allowed().
    assert "InvalidTransition" in law


def test_a_refusal_that_changes_the_record_is_caught() -> None:
    law = _law_broken_by(process_state_machine(_copy_as(_DirtyRefusal, INCIDENT)))
    assert law == "a disallowed event changes nothing"


class _CarelessEngine(ic.Engine):
    """Ignores ``expected_version``: a stale writer overwrites a newer version."""

    def fire(
        self,
        record_id: str,
        event: str,
        *,
        at: datetime,
        actor: ic.Actor,
        fields: Mapping[str, Any] | None = None,
        expected_version: int | None = None,
    ) -> ic.Record:
        return super().fire(record_id, event, at=at, actor=actor, fields=fields)


class _ForgetfulStorage(MemoryStorage):
    """Keeps records but loses every event after the third."""

    def history(self, record_id: str) -> list[ic.Event]:
        return super().history(record_id)[:3]


def test_an_engine_that_ignores_expected_version_is_caught() -> None:
    machine = engine_state_machine(lambda: _CarelessEngine(MemoryStorage()), "incident")
    law = _law_broken_by(machine)
    assert law.startswith("a stale expected_version is a ConcurrencyError")


def test_a_storage_that_loses_events_is_caught() -> None:
    machine = engine_state_machine(lambda: ic.Engine(_ForgetfulStorage()), "incident")
    assert "event" in _law_broken_by(machine)


def _revivable(terminal: bool) -> ic.ProcessSpec:
    states = (
        ic.StateSpec("open", "open", initial=True),
        ic.StateSpec("closed", "closed", terminal=terminal),
        ic.StateSpec("gone", "cancelled", terminal=True),
    )
    transitions = [
        ic.TransitionSpec("close", ("open",), "closed"),
        ic.TransitionSpec("drop", ("open",), "gone"),
    ]
    if not terminal:
        transitions.append(ic.TransitionSpec("revive", ("closed",), "open"))
    return ic.ProcessSpec(name="door", version=1, states=states, transitions=transitions)


def test_leaving_a_terminal_state_breaks_the_terminal_law() -> None:
    loose, strict = _revivable(terminal=False), _revivable(terminal=True)
    alice = ic.Actor("alice")
    steps = [loose.open(record_id="D-1", at=T0, actor=alice)]
    for i, event in enumerate(("close", "revive")):
        record = steps[-1].record
        steps.append(loose.fire(record, event, at=T0 + timedelta(i), actor=alice))
    with pytest.raises(LawViolated) as caught:
        check_history(strict, steps[-1].record, [s.event for s in steps])
    assert caught.value.law.startswith("terminal state 'closed' stays terminal")


def test_check_history_accepts_a_lawful_history() -> None:
    alice = ic.Actor("alice")
    first = INCIDENT.open(
        record_id="INC-1",
        at=T0,
        actor=alice,
        fields={"title": "Mail down", "caller": "bob", "impact": 1, "urgency": 2},
    )
    second = INCIDENT.fire(first.record, "assign", at=T0, actor=alice, fields={"assignee": "c"})
    check_history(INCIDENT, second.record, [first.event, second.event])


def test_the_machine_needs_a_spec() -> None:
    with pytest.raises(InvalidArgument):
        run_state_machine_as_test(ProcessStateMachine, settings=QUICK)
    with pytest.raises(InvalidArgument):
        process_state_machine(INCIDENT, max_records=0)
    with pytest.raises(InvalidArgument):
        process_state_machine(INCIDENT, timezones=())


def test_the_machine_class_is_named_after_the_process() -> None:
    assert process_state_machine(INCIDENT).__name__ == "IncidentProcessStateMachine"
    machine = engine_state_machine(ic.Engine.in_memory, "incident")
    assert machine.__name__ == "IncidentEngineStateMachine"


def test_every_exported_name_resolves() -> None:
    import itsmcore.testing as kit

    for name in kit.__all__:
        assert getattr(kit, name) is not None
    with pytest.raises(AttributeError):
        kit.no_such_name  # noqa: B018


def test_importing_the_kit_needs_neither_hypothesis_nor_pytest() -> None:
    code = (
        "import sys; sys.modules['hypothesis'] = sys.modules['pytest'] = None\n"
        "import itsmcore.testing as kit\n"
        "try:\n"
        "    kit.process_state_machine\n"
        "except ImportError as exc:\n"
        "    print('hint:', exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install 'itsmcore[testing]'" in out


@pytest.mark.parametrize("name", ic.catalog.names())
def test_every_builtin_process_survives_a_short_run(name: str) -> None:
    """A smoke run per built-in (the processes' own tests explore them deeply)."""
    run_state_machine_as_test(
        process_state_machine(ic.catalog.get(name)),
        settings=settings(QUICK, max_examples=5, stateful_step_count=10),
    )
