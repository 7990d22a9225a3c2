"""``Engine.tick``: SLA signals and timers, each emitted exactly once, in order of due."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sla_clock_support import AGENT, MIN, T0, H, act, histories
from sla_clock_support import open_incident as open_

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.ports.hookspecs import hookimpl
from itsmcore.sla import SlaPolicy, SlaSignal, TimerSignal
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

DAY = timedelta(days=1)


def _sla(signals: Sequence[object]) -> list[tuple[str, str, str, int, datetime]]:
    out = []
    for s in signals:
        assert isinstance(s, SlaSignal)
        out.append((s.record_id, s.clock, s.kind, s.threshold, s.due))
    return out


def test_tick_emits_each_warning_and_breach_once_in_order_of_due() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id  # response 20 min, resolution 4 h, 24x7
    assert engine.tick(T0 + 9 * MIN) == []
    assert _sla(engine.tick(T0 + 30 * MIN)) == [
        (rid, "response", "warning", 50, T0 + 10 * MIN),
        (rid, "response", "warning", 75, T0 + 15 * MIN),
        (rid, "response", "warning", 90, T0 + 18 * MIN),
        (rid, "response", "breach", 100, T0 + 20 * MIN),
    ]
    assert engine.tick(T0 + 30 * MIN) == []
    assert _sla(engine.tick(T0 + 5 * H)) == [
        (rid, "resolution", "warning", 50, T0 + 2 * H),
        (rid, "resolution", "warning", 75, T0 + 3 * H),
        (rid, "resolution", "warning", 90, T0 + 216 * MIN),
        (rid, "resolution", "breach", 100, T0 + 4 * H),
    ]
    assert engine.tick(T0 + 6 * H) == []


def test_a_tick_after_three_days_of_downtime_emits_every_crossed_threshold_once_in_order() -> None:
    engine = ic.Engine.in_memory()
    ids = [open_(engine, p, at=T0 + p * MIN).id for p in (1, 2, 3)]
    now = T0 + 3 * DAY + 3 * H  # Thursday 12:00, no tick since Monday
    signals = engine.tick(now)
    assert len(signals) == 3 * 2 * 4  # three incidents, two clocks, four thresholds
    dues = [s.due for s in signals]
    assert dues == sorted(dues)
    assert len({s.key for s in signals}) == len(signals)
    assert {s.record_id for s in signals} == set(ids)
    p3 = [s for s in signals if s.record_id == ids[2] and s.clock == "resolution"]
    # 24 business hours from Monday 09:03: 7 h 57 min + 8 h + 8 h, then 3 min on Thursday
    assert p3[-1].due == T0 + 3 * DAY + 3 * MIN
    assert engine.tick(now) == []


def test_signals_go_to_the_outbox_with_the_claim_key_as_id() -> None:
    engine = ic.Engine.in_memory(auto_deliver=False)
    rid = open_(engine, 1).id
    signals = engine.tick(T0 + 12 * MIN)
    assert [s.key for s in signals] == [f"sla:{rid}:incident-default:response:1:warning:50"]
    sla_notes = [n for n in engine.storage.pending(limit=100) if n.kind == "sla"]
    assert [n.id for n in sla_notes] == [signals[0].key]
    note = sla_notes[0]
    assert note.record_id == rid
    assert note.at == T0 + 10 * MIN
    assert note.payload["threshold"] == 50
    assert note.payload["clock"] == "response"
    assert note.payload["target"] == "PT20M"


def test_a_cancelled_clock_emits_nothing_more() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id
    assert len(engine.tick(T0 + 12 * MIN)) == 1  # response 50 %
    act(engine, rid, "cancel", T0 + 13 * MIN)
    assert engine.tick(T0 + 2 * DAY) == []
    assert engine.storage.due(T0 + 365 * DAY) == []


def test_a_tick_lagging_behind_a_cancellation_emits_nothing_for_the_cancelled_clock() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id
    act(engine, rid, "cancel", T0 + H)
    assert engine.tick(T0 + 30 * MIN) == []  # the store already knows it was cancelled


def test_a_detached_clock_emits_nothing_more() -> None:
    major = SlaPolicy.from_dict(
        {
            "name": "major-incident",
            "version": 1,
            "process": "incident",
            "when": {"major": True},
            "clocks": [{"name": "bridge", "targets": {str(p): "PT1H" for p in range(1, 6)}}],
        }
    )
    engine = ic.Engine.in_memory(policies=[major])
    rid = open_(engine, 3, major=True).id
    assert [s.threshold for s in engine.tick(T0 + 31 * MIN)] == [50]
    act(engine, rid, "update", T0 + 40 * MIN, major=False)
    assert engine.tick(T0 + 5 * H) == []


def test_a_retroactive_priority_change_is_signalled_by_the_next_tick() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 3).id  # response 4 business hours
    assert engine.tick(T0 + 30 * MIN) == []
    act(engine, rid, "update", T0 + 40 * MIN, impact=1, urgency=1)  # now P1: 20 min
    assert _sla(engine.tick(T0 + 45 * MIN)) == [
        (rid, "response", "warning", 50, T0 + 10 * MIN),
        (rid, "response", "warning", 75, T0 + 15 * MIN),
        (rid, "response", "warning", 90, T0 + 18 * MIN),
        (rid, "response", "breach", 100, T0 + 20 * MIN),
    ]


def test_every_append_stores_the_records_next_deadlines() -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, 1).id
    far = T0 + 365 * DAY

    def keys() -> dict[str, datetime]:
        return {d.key: d.due for d in engine.storage.due(far) if d.record_id == rid}

    assert keys() == {
        "sla:incident-default:response:1:warning:50": T0 + 10 * MIN,
        "sla:incident-default:resolution:1:warning:50": T0 + 2 * H,
    }
    act(engine, rid, "assign", T0 + 2 * MIN)
    act(engine, rid, "start", T0 + 5 * MIN)
    assert keys() == {"sla:incident-default:resolution:1:warning:50": T0 + 2 * H}
    act(engine, rid, "resolve", T0 + H)
    assert keys() == {"timer:auto_close": T0 + H + 7 * DAY}


class _CountingStorage(MemoryStorage):
    def __init__(self) -> None:
        super().__init__()
        self.loads = 0

    def load(self, record_id: str) -> ic.Record:
        self.loads += 1
        return super().load(record_id)


def test_tick_reads_only_the_records_whose_deadlines_are_due() -> None:
    storage = _CountingStorage()
    engine = ic.Engine(storage)
    for _ in range(300):
        open_(engine, 5)  # response 16 business hours: nothing due on Monday
    due = [open_(engine, 1).id for _ in range(3)]
    storage.loads = 0
    signals = engine.tick(T0 + 12 * MIN)
    assert sorted({s.record_id for s in signals}) == due
    assert storage.loads <= 3 * len(due)


def test_concurrent_ticks_from_several_threads_emit_each_signal_once() -> None:
    engine = ic.Engine.in_memory()
    for i in range(30):
        open_(engine, 1 + i % 3, at=T0 + i * MIN)
    now = T0 + 4 * DAY  # every threshold of P1-P3 crossed
    barrier = threading.Barrier(6)
    results: list[list[Any]] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        got = engine.tick(now)
        with lock:
            results.append(got)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emitted = [s.key for batch in results for s in batch]
    assert len(emitted) == len(set(emitted)) == 30 * 2 * 4
    outbox = [n for n in engine.storage.pending(limit=10_000) if n.kind == "sla"]
    assert len(outbox) == 240
    assert engine.tick(now) == []


# -- timers ------------------------------------------------------------------------------------


def _resolved(engine: ic.Engine, at: datetime = T0 + H) -> str:
    rid = open_(engine, 2).id
    act(engine, rid, "assign", T0)
    act(engine, rid, "start", T0)
    act(engine, rid, "resolve", at)
    return rid


def test_auto_close_fires_once_seven_days_after_resolution_as_the_system_actor() -> None:
    engine = ic.Engine.in_memory()
    rid = _resolved(engine)
    due = T0 + H + 7 * DAY
    assert [s for s in engine.tick(due - MIN) if isinstance(s, TimerSignal)] == []
    fired = [s for s in engine.tick(due + 3 * DAY) if isinstance(s, TimerSignal)]
    assert fired == [TimerSignal(rid, "auto_close", due, event="close", version=5)]
    last = engine.history(rid)[-1]
    assert (last.name, last.actor, last.at) == ("close", ic.SYSTEM, due)
    assert engine.get(rid).state == "closed"
    assert engine.tick(due + 4 * DAY) == []


def test_concurrent_ticks_fire_a_timer_exactly_once() -> None:
    engine = ic.Engine.in_memory()
    ids = [_resolved(engine) for _ in range(10)]
    barrier = threading.Barrier(5)
    fired: list[TimerSignal] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        got = [s for s in engine.tick(T0 + 9 * DAY) if isinstance(s, TimerSignal)]
        with lock:
            fired.extend(got)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(s.record_id for s in fired) == sorted(ids)
    for rid in ids:
        assert [e.name for e in engine.history(rid)].count("close") == 1


class _Interrupted(ic.Engine):
    """A user updates the record just before the tick's first timer firing."""

    interrupted = False

    def _fire_timer(self, record: ic.Record, timer: TimerSpec, at: datetime) -> ic.Record:
        if not self.interrupted:
            self.interrupted = True
            self.fire(record.id, "update", at=at, actor=AGENT, fields={"category": "mail"})
        return super()._fire_timer(record, timer, at)


def test_a_timer_that_loses_the_race_reloads_and_decides_again() -> None:
    engine = _Interrupted(MemoryStorage())
    rid = _resolved(engine)
    fired = [s for s in engine.tick(T0 + 9 * DAY) if isinstance(s, TimerSignal)]
    assert [s.version for s in fired] == [6]
    assert [e.name for e in engine.history(rid)][-2:] == ["update", "close"]


class _FreezeWindow:
    """An authorization plugin that refuses every system change while ``frozen``."""

    frozen = True

    @hookimpl
    def itsmcore_authorize(self, actor: ic.Actor, record: ic.Record, event: ic.Event) -> Any:
        if actor == ic.SYSTEM and self.frozen:
            return "change freeze: no automatic closures"
        return None


def test_a_refused_timer_is_kept_due_and_retried_on_the_next_tick() -> None:
    freeze = _FreezeWindow()
    engine = ic.Engine.in_memory(plugins=[freeze])
    rid = _resolved(engine)
    assert [s for s in engine.tick(T0 + 9 * DAY) if isinstance(s, TimerSignal)] == []
    assert engine.get(rid).state == "resolved"
    assert [d.key for d in engine.storage.due(T0 + 9 * DAY)] == ["timer:auto_close"]
    freeze.frozen = False
    fired = [s for s in engine.tick(T0 + 10 * DAY) if isinstance(s, TimerSignal)]
    assert [(s.record_id, s.event) for s in fired] == [(rid, "close")]
    assert engine.get(rid).state == "closed"


_ARTICLE = ProcessSpec(
    name="article",
    version=1,
    id_prefix="KB",
    states=(
        StateSpec("draft", "open", initial=True),
        StateSpec("published", "active"),
        StateSpec("retired", "closed", terminal=True),
    ),
    fields=(FieldSpec("title", "str", required=True), FieldSpec("review_due", "datetime")),
    opening=TransitionSpec("open", (), "draft"),
    transitions=(
        TransitionSpec("publish", ("draft",), "published", requires=("review_due",)),
        TransitionSpec("update", ("*",), "="),
        TransitionSpec("retire", ("published",), "retired"),
    ),
    timers=(TimerSpec("review", "published", at_field="review_due"),),
)


def test_a_signal_only_timer_reads_its_instant_from_a_field_and_signals_once() -> None:
    engine = ic.Engine.in_memory(processes=[_ARTICLE], auto_deliver=False)
    rec = engine.open("article", at=T0, actor=AGENT, fields={"title": "Reset a password"})
    engine.fire(rec.id, "publish", at=T0, actor=AGENT, fields={"review_due": T0 + 30 * DAY})
    assert engine.tick(T0 + 29 * DAY) == []
    first = engine.tick(T0 + 31 * DAY)
    assert first == [TimerSignal(rec.id, "review", T0 + 30 * DAY)]
    assert engine.tick(T0 + 32 * DAY) == []
    note = next(n for n in engine.storage.pending(limit=100) if n.kind == "timer")
    assert note.id == first[0].key
    # Reviewed: the next review date gets its own signal.
    engine.fire(
        rec.id, "update", at=T0 + 33 * DAY, actor=AGENT, fields={"review_due": T0 + 60 * DAY}
    )
    assert engine.tick(T0 + 61 * DAY) == [TimerSignal(rec.id, "review", T0 + 60 * DAY)]


# -- properties ----------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(events=histories(), hours=st.integers(0, 200))
def test_tick_twice_at_the_same_now_emits_nothing_the_second_time(
    events: list[ic.Event], hours: int
) -> None:
    spec = ic.catalog.get("incident")
    engine = ic.Engine.in_memory()
    for ev in events:
        record = ic.replay(spec, events[: ev.version])
        step = ic.Step(record=record, event=ev)
        engine.storage.append(
            [step], deadlines={record.id: engine.deadlines_for(record, events[: ev.version])}
        )
    now = T0 + timedelta(hours=hours)
    first = engine.tick(now)
    assert engine.tick(now) == []
    # What the first tick emitted is exactly what had crossed by ``now``.
    sla = [s for s in first if isinstance(s, SlaSignal)]
    history = engine.history(events[0].record_id)
    expected = engine.sla_rules.signals(events[0].record_id, history, spec, now)
    assert {s.key for s in sla} == {s.key for s in expected}


def test_tick_refuses_a_naive_now() -> None:
    with pytest.raises(ic.ValidationError):
        ic.Engine.in_memory().tick(datetime(2026, 11, 23, 9))
