"""The Engine over the in-memory adapter: open, fire, link, queries, concurrency."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic


@pytest.fixture
def engine() -> ic.Engine:
    return ic.Engine.in_memory()


def test_open_assigns_sequential_ids_with_the_process_prefix(engine: ic.Engine) -> None:
    a = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    b = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    assert (a.id, b.id) == ("INC-000001", "INC-000002")


def test_open_keeps_a_given_id(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS, record_id="MY-1")
    assert engine.get("MY-1") == rec


def test_opening_an_existing_id_is_a_concurrency_error(engine: ic.Engine) -> None:
    engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS, record_id="MY-1")
    with pytest.raises(ic.ConcurrencyError):
        engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS, record_id="MY-1")


def test_generated_ids_skip_ids_taken_by_the_host(engine: ic.Engine) -> None:
    engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS, record_id="INC-000001")
    assert engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS).id == "INC-000002"


def test_unknown_process_is_not_found(engine: ic.Engine) -> None:
    with pytest.raises(ic.NotFound, match="did you mean 'incident'"):
        engine.open("incidents", at=T0, actor=ALICE, fields=OPEN_FIELDS)


def test_unknown_record_is_not_found(engine: ic.Engine) -> None:
    with pytest.raises(ic.NotFound):
        engine.fire("INC-404", "assign", at=T0, actor=ALICE)
    with pytest.raises(ic.NotFound):
        engine.history("INC-404")


def test_stale_expected_version_raises_and_writes_nothing(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    with pytest.raises(ic.ConcurrencyError) as err:
        engine.fire(rec.id, "start", at=T0, actor=ALICE, expected_version=1)
    assert (err.value.expected, err.value.actual) == (1, 2)
    assert engine.get(rec.id).version == 2
    assert len(engine.history(rec.id)) == 2


def test_a_failed_transition_stores_nothing(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    for event, fields in (("resolve", {}), ("assign", {}), ("update", {"impact": 9})):
        with pytest.raises(ic.ItsmError):
            engine.fire(rec.id, event, at=T0, actor=ALICE, fields=fields)
    assert engine.get(rec.id) == rec
    assert engine.storage.pending(limit=100)[-1].id == f"event:{rec.id}:1"


def test_history_rebuilds_the_stored_record(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    spec = engine.catalog.get("incident")
    assert ic.replay(spec, engine.history(rec.id)) == engine.get(rec.id)


def test_find_filters_by_process_state_and_fields(engine: ic.Engine) -> None:
    a = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    b = engine.open("incident", at=T0, actor=ALICE, fields={**OPEN_FIELDS, "impact": 3})
    engine.fire(b.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    assert [r.id for r in engine.find(process="incident", state="new")] == [a.id]
    assert [r.id for r in engine.find(impact=3)] == [b.id]
    assert [r.id for r in engine.find(state=["new", "assigned"])] == [a.id, b.id]


def test_link_is_audited_on_both_records(engine: ic.Engine) -> None:
    a = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    b = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    link = engine.link(a.id, b.id, "duplicate_of", at=T0 + timedelta(minutes=1), actor=ALICE)
    for rid in (a.id, b.id):
        assert engine.get(rid).links == (link,)
        assert engine.history(rid)[-1].name == "link"
    assert engine.get(a.id).linked("duplicate_of") == (b.id,)
    assert engine.verify().ok


def test_linking_a_missing_record_is_not_found_and_writes_nothing(engine: ic.Engine) -> None:
    a = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    with pytest.raises(ic.NotFound):
        engine.link(a.id, "PRB-404", "caused_by", at=T0, actor=ALICE)
    assert engine.get(a.id).version == 1


def test_a_duplicate_link_is_refused(engine: ic.Engine) -> None:
    a = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    b = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.link(a.id, b.id, "duplicate_of", at=T0, actor=ALICE)
    with pytest.raises(ic.ValidationError, match="already exists"):
        engine.link(a.id, b.id, "duplicate_of", at=T0, actor=ALICE)


def test_every_transition_queues_one_notification_with_a_stable_id(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    ids = [n.id for n in engine.storage.pending(limit=10) if n.record_id == rec.id]
    assert ids == [f"event:{rec.id}:1", f"event:{rec.id}:2"]


def test_verify_detects_a_tampered_store(engine: ic.Engine) -> None:
    import attrs

    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    storage = engine.storage
    assert isinstance(storage, ic.adapters.memory.MemoryStorage)
    events = storage._events[rec.id]
    events[1] = attrs.evolve(events[1], changes={"assignee": "mallory"})
    report = engine.verify()
    assert not report.ok
    assert report.broken[0][0] == rec.id


def test_two_engines_do_not_share_state() -> None:
    one, two = ic.Engine.in_memory(), ic.Engine.in_memory()
    one.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    assert two.find() == []
    assert one.catalog is not two.catalog


def test_concurrent_writers_lose_no_update() -> None:
    """Threads doing read-modify-write with expected_version: every update lands once."""
    engine = ic.Engine.in_memory()
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    per_thread, threads = 50, 4

    def work(n: int) -> None:
        done = 0
        while done < per_thread:
            current = engine.get(rec.id)
            try:
                engine.fire(
                    rec.id,
                    "update",
                    at=T0,
                    actor=ALICE,
                    fields={"description": f"{n}-{done}"},
                    expected_version=current.version,
                )
            except ic.ConcurrencyError:
                continue
            done += 1

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert engine.get(rec.id).version == 1 + per_thread * threads
    assert [e.version for e in engine.history(rec.id)] == list(range(1, 2 + per_thread * threads))
    ic.verify_chain(engine.history(rec.id))


def test_deadlines_stay_right_when_another_worker_wrote_in_between() -> None:
    """Each engine caches the histories it saved; another worker's save must not make
    it compute deadlines from a stale history."""
    from itsmcore.adapters.memory import MemoryStorage

    shared = MemoryStorage()
    one, two = ic.Engine(shared), ic.Engine(shared)
    rec = one.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)  # priority 2, 24x7
    one.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    # Another worker lowers the priority to 4: the targets move to the business calendar.
    two.fire(rec.id, "update", at=T0, actor=ALICE, fields={"impact": 3})
    one.fire(rec.id, "update", at=T0, actor=ALICE, fields={"description": "x"})
    expected = one.deadlines_for(one.get(rec.id), one.history(rec.id))
    stored = shared.due(T0 + timedelta(days=3650))
    assert sorted((d.key, d.due) for d in stored) == sorted((d.key, d.due) for d in expected)


def test_fields_as_of_a_history_prefix_rebuild_that_version(engine: ic.Engine) -> None:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    engine.fire(rec.id, "update", at=T0, actor=ALICE, fields={"category": "mail"})
    engine.fire(rec.id, "update", at=T0, actor=ALICE, fields={"category": None})
    history = engine.history(rec.id)
    assert ic.fields_as_of(history[:2])["category"] == "mail"
    assert ic.fields_as_of(history) == dict(engine.get(rec.id).fields)
