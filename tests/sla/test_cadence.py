"""Cadences: RFC 5545 recurrences in a time zone, and ``Engine.tick`` opening each
due occurrence exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.cadence import (
    MAX_OCCURRENCES_PER_TICK,
    Cadence,
    CadenceOccurrence,
    due_occurrences,
    occurrence_key,
)
from itsmcore.ports.hookspecs import hookimpl
from itsmcore.ports.storage import appends_claims

BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 11, 1, tzinfo=UTC)
INSPECTION = {"title": "Server room inspection", "activity_kind": "inspection"}


def _cadence(**over: Any) -> Cadence:
    data: dict[str, Any] = {
        "name": "weekly-inspection",
        "rule": "FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        "start": T0,
        "timezone": "Europe/Berlin",
        "process": "scheduled_activity",
        "fields": INSPECTION,
    }
    data.update(over)
    return Cadence(**data)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# -- the schedule (pure) ----------------------------------------------------------------------


def test_occurrences_are_wall_clock_in_the_cadence_zone_returned_in_utc() -> None:
    found = _cadence().occurrences(None, _utc(2026, 11, 20))
    assert found == (_utc(2026, 11, 2, 8), _utc(2026, 11, 9, 8), _utc(2026, 11, 16, 8))
    assert all(t.astimezone(BERLIN).hour == 9 for t in found)


def test_a_daily_cadence_keeps_its_local_time_across_the_spring_dst_change() -> None:
    daily = _cadence(rule="FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", start=_utc(2026, 3, 27))
    found = daily.occurrences(None, _utc(2026, 3, 31))
    assert found == (_utc(2026, 3, 27, 8), _utc(2026, 3, 28, 8), _utc(2026, 3, 29, 7),
                     _utc(2026, 3, 30, 7))  # fmt: skip
    assert found[3] - found[2] == timedelta(hours=24)
    assert found[2] - found[1] == timedelta(hours=23)  # the short night


def test_a_daily_cadence_keeps_its_local_time_across_the_autumn_dst_change() -> None:
    daily = _cadence(rule="FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0", start=_utc(2026, 10, 24))
    found = daily.occurrences(None, _utc(2026, 10, 27))
    assert found == (_utc(2026, 10, 24, 7), _utc(2026, 10, 25, 8), _utc(2026, 10, 26, 8))
    assert found[1] - found[0] == timedelta(hours=25)


def test_a_time_in_the_dst_gap_happens_after_the_gap_as_rfc_5545_says() -> None:
    gap = _cadence(rule="FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", start=_utc(2026, 3, 28))
    found = gap.occurrences(None, _utc(2026, 3, 30, 12))
    assert [t.astimezone(BERLIN).strftime("%d %H:%M") for t in found] == [
        "28 02:30", "29 03:30", "30 02:30"
    ]  # fmt: skip


def test_an_hour_landing_twice_on_one_instant_in_the_gap_is_one_occurrence() -> None:
    hourly = _cadence(rule="FREQ=HOURLY;BYMINUTE=30;BYSECOND=0", start=_utc(2026, 3, 29))
    found = hourly.occurrences(None, _utc(2026, 3, 29, 3))
    assert found == (_utc(2026, 3, 29, 0, 30), _utc(2026, 3, 29, 1, 30), _utc(2026, 3, 29, 2, 30))


def test_a_time_in_the_dst_fold_happens_once_at_its_first_instant() -> None:
    fold = _cadence(rule="FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", start=_utc(2026, 10, 24))
    found = fold.occurrences(None, _utc(2026, 10, 26))
    assert found == (_utc(2026, 10, 24, 0, 30), _utc(2026, 10, 25, 0, 30))


def test_last_day_of_every_month_is_bymonthday_minus_one() -> None:
    month_end = _cadence(rule="FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=0;BYSECOND=0",
                         timezone="UTC", start=_utc(2026, 1, 1))  # fmt: skip
    days = [t.day for t in month_end.occurrences(None, _utc(2026, 5, 1))]
    assert days == [31, 28, 31, 30]


def test_count_and_until_end_a_cadence() -> None:
    counted = _cadence(rule="FREQ=DAILY;COUNT=2", timezone="UTC")
    assert len(counted.occurrences(None, T0 + timedelta(days=30))) == 2
    assert counted.next_after(T0 + timedelta(days=5)) is None
    until = _cadence(rule="FREQ=DAILY;UNTIL=20261103T000000Z", timezone="UTC")
    days = until.occurrences(None, T0 + timedelta(days=30))
    assert days == (T0, T0 + timedelta(days=1), T0 + timedelta(days=2))


def test_next_after_is_the_next_due_occurrence() -> None:
    cadence = _cadence()
    assert cadence.next_after(_utc(2026, 11, 2, 8)) == _utc(2026, 11, 9, 8)
    assert cadence.next_after(_utc(2026, 11, 2, 7)) == _utc(2026, 11, 2, 8)


def test_the_window_is_after_exclusive_until_inclusive() -> None:
    cadence = _cadence()
    assert cadence.occurrences(_utc(2026, 11, 2, 8), _utc(2026, 11, 9, 8)) == (
        _utc(2026, 11, 9, 8),
    )
    assert cadence.occurrences(_utc(2026, 11, 9, 8), _utc(2026, 11, 2)) == ()


def test_due_occurrences_catch_up_all_or_only_the_latest() -> None:
    now = _utc(2026, 11, 20)
    assert len(due_occurrences(_cadence(), None, now)) == 3
    assert due_occurrences(_cadence(catch_up="latest"), None, now) == (_utc(2026, 11, 16, 8),)
    assert due_occurrences(_cadence(), _utc(2026, 11, 10), now) == (_utc(2026, 11, 16, 8),)
    windowed = _cadence(catch_up_window=timedelta(days=8))
    assert due_occurrences(windowed, None, now) == (_utc(2026, 11, 16, 8),)


@pytest.mark.parametrize(
    ("over", "path"),
    [
        ({"rule": "FREQ=DAILX"}, "$.rule"),
        ({"rule": "FREQ=DAILY;UNTIL=20270101T000000"}, "$.rule"),
        ({"rule": "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY"}, "$.rule"),
        ({"timezone": "Mars/Olympus"}, "$.timezone"),
        ({"start": datetime(2026, 1, 1)}, "$.start"),
        ({"name": "Weekly Inspection"}, "$.name"),
        ({"catch_up": "some"}, "$.catch_up"),
        ({"due_within": timedelta(0)}, "$.due_within"),
        ({"process": ""}, "$.process"),
    ],
)
def test_a_bad_cadence_is_a_validation_error_naming_the_input(
    over: dict[str, Any], path: str
) -> None:
    with pytest.raises(ic.ValidationError) as err:
        _cadence(**over)
    assert path in {p for p, _ in err.value.errors}


def test_a_cadence_round_trips_through_plain_data() -> None:
    cadence = _cadence(catch_up="latest", due_within=timedelta(days=2),
                       actor=ic.Actor("ops", roles=frozenset({"operator"})))  # fmt: skip
    data = cadence.to_dict()
    assert data["due_within"] == "P2D"
    assert Cadence.from_dict(data) == cadence


def test_from_dict_reads_a_single_role_as_one_role_not_its_letters() -> None:
    data = {**_cadence().to_dict(), "actor": {"id": "ops", "roles": "operator"}}
    assert Cadence.from_dict(data).actor.roles == frozenset({"operator"})


def test_from_dict_names_unknown_and_missing_keys() -> None:
    with pytest.raises(ic.ValidationError) as err:
        Cadence.from_dict({"name": "x", "every": "day"})
    paths = {p for p, _ in err.value.errors}
    assert {"$.every", "$.rule", "$.start", "$.timezone", "$.process"} <= paths


def test_opening_fields_fill_scheduled_for_cadence_and_due_at_when_declared() -> None:
    cadence = _cadence(due_within=timedelta(days=2))
    at = _utc(2026, 11, 2, 8)
    fields = cadence.opening_fields(ic.catalog.get("scheduled_activity"), at)
    assert fields == {**INSPECTION, "scheduled_for": at, "cadence": "weekly-inspection",
                      "due_at": at + timedelta(days=2)}  # fmt: skip
    assert cadence.opening_fields(ic.catalog.get("incident"), at) == INSPECTION


# -- through the engine -----------------------------------------------------------------------


def _opened(engine: ic.Engine) -> list[tuple[Any, ...]]:
    return [(r.get("cadence"), r.get("scheduled_for")) for r in
            engine.find(process="scheduled_activity")]  # fmt: skip


def test_tick_opens_each_due_occurrence_once() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()])
    first = engine.tick(_utc(2026, 11, 20))
    opened = [o for o in first if isinstance(o, CadenceOccurrence)]
    assert [o.due for o in opened] == [_utc(2026, 11, 2, 8), _utc(2026, 11, 9, 8),
                                       _utc(2026, 11, 16, 8)]  # fmt: skip
    assert [engine.get(o.record_id).get("scheduled_for") for o in opened] == [o.due for o in opened]
    assert engine.tick(_utc(2026, 11, 20)) == []
    assert engine.tick(_utc(2026, 11, 22)) == []
    assert len(_opened(engine)) == 3


def test_a_new_engine_over_the_same_store_does_not_reopen_occurrences() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()])
    engine.tick(_utc(2026, 11, 20))
    restarted = ic.Engine(engine.storage, cadences=[_cadence()])
    later = restarted.tick(_utc(2026, 11, 24))
    assert [(o.cadence, o.due) for o in later] == [("weekly-inspection", _utc(2026, 11, 23, 8))]
    assert len(_opened(restarted)) == 4


def test_after_a_downtime_catch_up_all_opens_each_missed_occurrence_once() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()])
    engine.tick(_utc(2026, 11, 3))
    missed = engine.tick(_utc(2026, 12, 1))  # four weeks down
    assert [o.due.day for o in missed if isinstance(o, CadenceOccurrence)] == [9, 16, 23, 30]


def test_after_a_downtime_catch_up_latest_opens_only_the_latest_occurrence() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence(catch_up="latest")])
    engine.tick(_utc(2026, 11, 3))
    missed = engine.tick(_utc(2026, 12, 1))
    assert [o.due.day for o in missed if isinstance(o, CadenceOccurrence)] == [30]
    assert [s.day for _, s in _opened(engine)] == [2, 30]


def test_occurrences_are_claimed_under_their_cadence_key_with_a_notification() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()])
    engine.tick(_utc(2026, 11, 3))
    key = occurrence_key("weekly-inspection", _utc(2026, 11, 2, 8))
    assert key == "cadence:weekly-inspection:2026-11-02T08:00:00.000000Z"
    notes = [n for n in engine.storage.pending(limit=100) if n.kind == "cadence"]
    assert [n.id for n in notes] == [key]
    assert engine.storage.claim([ic.Claim(key=key, record_id="x", at=T0)]) == []


def test_a_missed_occurrence_is_opened_overdue_and_signalled_by_the_same_tick() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence(due_within=timedelta(days=2))])
    out = engine.tick(_utc(2026, 11, 5))
    assert [type(o).__name__ for o in out] == ["CadenceOccurrence", "TimerSignal"]
    assert getattr(out[1], "timer", None) == "overdue"


def test_a_cadence_across_a_dst_change_opens_each_local_morning_once() -> None:
    daily = _cadence(name="daily-check", rule="FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
                     start=_utc(2026, 3, 27))  # fmt: skip
    engine = ic.Engine.in_memory(cadences=[daily])
    for hour in range(0, 5 * 24, 7):  # ticks every 7 hours through the change
        engine.tick(_utc(2026, 3, 27) + timedelta(hours=hour))
    local = [s.astimezone(BERLIN) for _, s in _opened(engine)]
    assert [(t.day, t.hour) for t in local] == [(27, 9), (28, 9), (29, 9), (30, 9), (31, 9)]


def test_reviews_of_slas_articles_and_obligations_are_cadence_occurrences() -> None:
    engine = ic.Engine.in_memory()
    obligation = engine.open(
        "compliance_obligation",
        at=T0,
        actor=ic.SYSTEM,
        fields={"title": "PIPL", "kind": "law", "source": "PIPL"},
    )
    review = _cadence(
        name="pipl-review",
        rule="FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        fields={"title": "Quarterly PIPL review", "activity_kind": "review",
                "subject": obligation.id},
    )  # fmt: skip
    ticking = ic.Engine(engine.storage, cadences=[review])
    ticking.tick(_utc(2027, 5, 2))
    opened = ticking.find(process="scheduled_activity", subject=obligation.id)
    assert [r.get("scheduled_for").month for r in opened] == [11, 2, 5]
    assert {r.get("activity_kind") for r in opened} == {"review"}


def test_an_engine_refuses_a_cadence_its_catalog_cannot_open() -> None:
    with pytest.raises(ic.SpecError) as err:
        ic.Engine.in_memory(cadences=[_cadence(process="drill")])
    assert "unknown process 'drill'" in str(err.value)
    with pytest.raises(ic.SpecError) as err:
        ic.Engine.in_memory(cadences=[_cadence(fields={"title": "no kind"})])
    assert "refuses the template" in str(err.value)
    with pytest.raises(ic.SpecError):
        ic.Engine.in_memory(cadences=[_cadence(), _cadence()])


class _NoAutomaticWork:
    @hookimpl
    def itsmcore_authorize(self, actor: ic.Actor, record: ic.Record, event: ic.Event) -> Any:
        return "frozen" if actor == ic.SYSTEM and event.name == "open" else None


def test_a_refused_open_is_reported_as_cadence_failed_and_not_retried() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()], plugins=[_NoAutomaticWork()])
    assert engine.tick(_utc(2026, 11, 3)) == []
    kinds = [n.kind for n in engine.storage.pending(limit=100)]
    assert kinds == ["cadence", "cadence_failed"]
    assert engine.tick(_utc(2026, 11, 4)) == []
    assert engine.find(process="scheduled_activity") == []


class _ClaimsApart:
    """A store whose ``append`` takes no claims (a host adapter without the optional
    ``claims_in_append`` capability): every other call goes to the memory adapter."""

    def __init__(self) -> None:
        self.inner = MemoryStorage()

    def append(self, steps: Any, *, outbox: Any = (), deadlines: Any = None,
               signatures: Any = None) -> None:  # fmt: skip
        self.inner.append(steps, outbox=outbox, deadlines=deadlines, signatures=signatures)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_a_store_without_claims_in_append_still_opens_each_occurrence_once() -> None:
    store: Any = _ClaimsApart()
    assert not appends_claims(store)
    engine = ic.Engine(store, cadences=[_cadence()])
    assert not engine._claims_in_append
    opened = engine.tick(_utc(2026, 11, 20))
    assert [o.due.day for o in opened] == [2, 9, 16]
    other = ic.Engine(store, cadences=[_cadence()])
    assert other.tick(_utc(2026, 11, 20)) == []
    assert len(_opened(engine)) == 3
    notes = [n.kind for n in store.pending(limit=100)]
    assert notes.count("cadence") == 3


def test_without_claims_in_append_a_refused_open_is_reported_once() -> None:
    store: Any = _ClaimsApart()
    engine = ic.Engine(store, cadences=[_cadence()], plugins=[_NoAutomaticWork()])
    assert engine.tick(_utc(2026, 11, 3)) == []
    assert [n.kind for n in store.pending(limit=100)] == ["cadence", "cadence_failed"]


class _FailingOnce(MemoryStorage):
    """The memory adapter, whose first append with claims fails as a dead store would."""

    failed = False

    def append(self, steps: Any, *, claims: Any = (), **kwargs: Any) -> None:
        if claims and not self.failed:
            self.failed = True
            raise ic.StorageUnavailable("the connection died")
        super().append(steps, claims=claims, **kwargs)


def test_a_storage_error_while_opening_leaves_the_occurrence_to_the_next_tick() -> None:
    store = _FailingOnce()
    engine = ic.Engine(store, cadences=[_cadence()])
    with pytest.raises(ic.StorageUnavailable):
        engine.tick(_utc(2026, 11, 3))
    assert _opened(engine) == []
    assert store.pending(limit=100) == []  # nothing claimed, nothing queued
    again = engine.tick(_utc(2026, 11, 3))
    assert [o.due for o in again] == [_utc(2026, 11, 2, 8)]
    assert [n.kind for n in store.pending(limit=100)] == ["cadence", "event"]


def test_a_second_worker_takes_no_record_id_for_occurrences_the_first_opened() -> None:
    first = ic.Engine.in_memory(cadences=[_cadence()])
    first.tick(_utc(2026, 11, 20))
    second = ic.Engine(first.storage, cadences=[_cadence()])
    assert second.tick(_utc(2026, 11, 20)) == []
    ids = sorted(r.id for r in first.find(process="scheduled_activity"))
    spec = first.catalog.get("scheduled_activity")
    prefix = spec.id_prefix or spec.name.upper()
    nxt = first.storage.next_number(prefix)
    assert ids == [f"{prefix}-{n:06d}" for n in range(1, nxt)]  # no number skipped


def test_an_occurrence_claimed_elsewhere_is_left_to_that_worker() -> None:
    engine = ic.Engine.in_memory(cadences=[_cadence()])
    key = occurrence_key("weekly-inspection", _utc(2026, 11, 2, 8))
    engine.storage.claim([ic.Claim(key=key, record_id="cadence:weekly-inspection", at=T0)])
    assert engine.tick(_utc(2026, 11, 3)) == []
    assert _opened(engine) == []
    assert engine.storage.pending(limit=100) == []  # the failed open wrote nothing


def test_a_tick_opens_at_most_the_per_tick_cap_and_the_next_tick_continues() -> None:
    minutely = _cadence(name="minutely", rule="FREQ=MINUTELY", timezone="UTC")
    engine = ic.Engine.in_memory(cadences=[minutely])
    now = T0 + timedelta(minutes=MAX_OCCURRENCES_PER_TICK + 9)
    assert len(engine.tick(now)) == MAX_OCCURRENCES_PER_TICK
    assert len(engine.tick(now)) == 10


def test_concurrent_workers_open_each_occurrence_exactly_once(tmp_path: Path) -> None:
    path = tmp_path / "cadence.db"
    engines = [ic.Engine.sqlite(path, cadences=[_cadence()]) for _ in range(3)]
    results: list[list[Any]] = [[] for _ in engines]
    barrier = threading.Barrier(len(engines))

    def work(i: int) -> None:
        barrier.wait()
        for now in (_utc(2026, 11, 10), _utc(2026, 11, 20), _utc(2026, 12, 1)):
            results[i].extend(engines[i].tick(now))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    opened = sorted(o.due for r in results for o in r if isinstance(o, CadenceOccurrence))
    assert opened == [_utc(2026, 11, d, 8) for d in (2, 9, 16, 23, 30)]
    assert len(_opened(engines[0])) == 5
    for engine in engines:
        engine.close()
