"""Engine.fire on the snapshot it last saw: never stale, never a double save.

Two engines over one store play two workers: each keeps its own snapshots, the store
decides (every save must extend the stored version and head).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
WORKER = ic.Actor("worker", roles=frozenset({"agent"}))
TASK = ic.ProcessSpec(
    name="task",
    version=1,
    id_prefix="TSK",
    states=(
        ic.StateSpec("todo", "open", initial=True),
        ic.StateSpec("doing", "open"),
        ic.StateSpec("done", "closed", terminal=True),
    ),
    fields=(ic.FieldSpec("count", "int"), ic.FieldSpec("note", "str")),
    opening=ic.TransitionSpec("open", (), "todo"),
    transitions=(
        ic.TransitionSpec("update", ("todo", "doing"), "="),
        ic.TransitionSpec("start", ("todo",), "doing"),
        ic.TransitionSpec("finish", ("doing",), "done"),
    ),
)


def _workers(**options: Any) -> tuple[ic.Engine, ic.Engine]:
    store = MemoryStorage()
    return ic.Engine(store, processes=[TASK], **options), ic.Engine(
        store, processes=[TASK], **options
    )


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_a_fire_after_another_worker_saved_extends_the_stored_record() -> None:
    a, b = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={"count": 0})
    a.fire(rec.id, "update", at=_at(1), actor=WORKER, fields={"count": 1})
    b.fire(rec.id, "update", at=_at(2), actor=WORKER, fields={"note": "from b"})
    done = a.fire(rec.id, "update", at=_at(3), actor=WORKER, fields={"count": 2})
    assert (done.version, dict(done.fields)) == (4, {"count": 2, "note": "from b"})
    assert a.verify().ok


def test_a_cached_version_behind_the_store_raises_with_expected_version() -> None:
    a, b = _workers()
    rec = a.fire(
        a.open("task", at=T0, actor=WORKER, fields={}).id, "update", at=_at(1), actor=WORKER
    )
    b.fire(rec.id, "update", at=_at(2), actor=WORKER, fields={"count": 7})
    with pytest.raises(ic.ConcurrencyError) as err:
        a.fire(rec.id, "update", at=_at(3), actor=WORKER, expected_version=rec.version)
    assert (err.value.expected, err.value.actual) == (2, 3)
    assert a.get(rec.id).fields["count"] == 7


def test_a_refusal_on_a_stale_snapshot_is_rechecked_on_the_stored_record() -> None:
    a, b = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={})
    b.fire(rec.id, "start", at=_at(1), actor=WORKER)  # a still holds "todo"
    done = a.fire(rec.id, "finish", at=_at(2), actor=WORKER)  # not allowed from "todo"
    assert (done.state, done.version) == ("done", 3)


def test_a_refusal_on_a_current_snapshot_is_raised_and_writes_nothing() -> None:
    a, _ = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={})
    with pytest.raises(ic.InvalidTransition):
        a.fire(rec.id, "finish", at=_at(1), actor=WORKER)
    assert a.get(rec.id) == rec


def test_a_stale_snapshot_with_an_expected_version_behind_is_a_concurrency_error() -> None:
    a, b = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={})
    b.fire(rec.id, "start", at=_at(1), actor=WORKER)
    with pytest.raises(ic.ConcurrencyError) as err:
        a.fire(rec.id, "finish", at=_at(2), actor=WORKER, expected_version=1)
    assert (err.value.expected, err.value.actual) == (1, 2)


def test_a_failed_save_on_a_cached_snapshot_is_not_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, _ = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={})
    calls: list[int] = []

    def unavailable(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise ic.StorageUnavailable("connection lost mid-save", outcome_unknown=True)

    monkeypatch.setattr(a.storage, "append", unavailable)
    with pytest.raises(ic.StorageUnavailable):
        a.fire(rec.id, "update", at=_at(1), actor=WORKER, fields={"count": 1})
    assert calls == [1]  # the save may have committed: firing again could apply it twice


def test_a_store_holding_another_history_is_never_forked() -> None:
    # The engine's snapshot is version 2 of one history; the store (a restored backup,
    # say) holds version 2 of another. The save refuses the snapshot; the engine
    # reloads and extends what the store holds.
    engine, _ = _workers()
    rec = engine.open("task", at=T0, actor=WORKER, fields={}, record_id="TSK-1")
    engine.fire(rec.id, "update", at=_at(1), actor=WORKER, fields={"note": "mine"})
    other = ic.Engine(MemoryStorage(), processes=[TASK])
    other.open("task", at=T0, actor=WORKER, fields={}, record_id="TSK-1")
    other.fire("TSK-1", "update", at=_at(1), actor=WORKER, fields={"note": "restored"})
    engine.storage = other.storage
    done = engine.fire("TSK-1", "update", at=_at(2), actor=WORKER, fields={"count": 1})
    assert dict(done.fields) == {"note": "restored", "count": 1}
    assert engine.verify().ok


def test_record_cache_zero_loads_on_every_fire(monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = _workers(record_cache=0)
    rec = a.open("task", at=T0, actor=WORKER, fields={})
    loads: list[str] = []
    real = a.storage.load
    monkeypatch.setattr(a.storage, "load", lambda rid: loads.append(rid) or real(rid))
    a.fire(rec.id, "update", at=_at(1), actor=WORKER)
    a.fire(rec.id, "update", at=_at(2), actor=WORKER)
    assert loads == [rec.id, rec.id]


def test_a_read_modify_write_loop_loads_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    a, _ = _workers()
    rec = a.open("task", at=T0, actor=WORKER, fields={"count": 0})
    monkeypatch.setattr(a.storage, "load", lambda rid: pytest.fail(f"loaded {rid}"))
    for i in range(1, 4):
        rec = a.fire(
            rec.id,
            "update",
            at=_at(i),
            actor=WORKER,
            fields={"count": rec.fields["count"] + 1},
            expected_version=rec.version,
        )
    assert rec.fields["count"] == 3
