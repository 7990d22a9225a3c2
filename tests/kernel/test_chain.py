"""The hash chain detects edited, dropped, reordered and inserted events."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import attrs
import pytest
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic


def _history(n: int = 5) -> tuple[ic.ProcessSpec, list[ic.Event]]:
    spec = ic.catalog.get("incident")
    step = spec.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    events = [step.event]
    for i in range(n - 1):
        step = spec.fire(
            step.record,
            "update",
            at=T0 + timedelta(minutes=i),
            actor=ALICE,
            fields={"description": f"note {i}"},
        )
        events.append(step.event)
    return spec, events


def test_an_untouched_chain_verifies_and_returns_the_head() -> None:
    _, events = _history()
    assert ic.verify_chain(events) == events[-1].hash


def test_the_first_prev_hash_is_genesis() -> None:
    _, events = _history()
    assert events[0].prev_hash == ic.GENESIS == "0" * 64


def test_an_edited_event_breaks_the_chain_at_its_version() -> None:
    _, events = _history()
    events[2] = attrs.evolve(events[2], changes={"description": "forged"})
    with pytest.raises(ic.ChainBroken) as err:
        ic.verify_chain(events)
    assert err.value.version == 3


def test_a_dropped_event_breaks_the_chain() -> None:
    _, events = _history()
    del events[2]
    with pytest.raises(ic.ChainBroken) as err:
        ic.verify_chain(events)
    assert err.value.version == 3


def test_reordered_events_break_the_chain() -> None:
    _, events = _history()
    events[1], events[2] = events[2], events[1]
    with pytest.raises(ic.ChainBroken) as err:
        ic.verify_chain(events)
    assert err.value.version == 2


def test_an_inserted_event_breaks_the_chain() -> None:
    _, events = _history()
    events.insert(2, events[1])
    with pytest.raises(ic.ChainBroken) as err:
        ic.verify_chain(events)
    assert err.value.version == 3


def test_a_rehashed_forgery_still_breaks_at_the_next_event() -> None:
    _, events = _history()
    forged = attrs.evolve(events[2], changes={"description": "forged"})
    forged = attrs.evolve(forged, hash=ic.event_hash(forged))
    events[2] = forged
    with pytest.raises(ic.ChainBroken) as err:
        ic.verify_chain(events)
    assert err.value.version == 4


def test_replay_rebuilds_the_record_exactly() -> None:
    spec, events = _history()
    record = ic.replay(spec, events)
    assert record.version == 5
    assert record.head == events[-1].hash
    assert record.fields["description"] == "note 3"


def test_replay_refuses_a_broken_chain() -> None:
    spec, events = _history()
    with pytest.raises(ic.ChainBroken):
        ic.replay(spec, events[1:])


def test_the_canonical_form_is_documented_json() -> None:
    """Recompute a hash by hand from the documented canonical form."""
    _, events = _history(1)
    ev = events[0]
    form = {
        "actor": {"id": "alice", "roles": ["agent"]},
        "at": "2026-11-26T09:00:00.000000Z",
        "changes": {
            "caller": "carol",
            "impact": 1,
            "priority": 2,
            "title": "Mail down",
            "urgency": 2,
        },
        "format": 1,
        "link": None,
        "name": "open",
        "prev_hash": "0" * 64,
        "record_id": "INC-1",
        "source": None,
        "target": "new",
        "version": 1,
    }
    text = json.dumps(form, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert hashlib.sha256(text.encode()).hexdigest() == ev.hash
