"""The fast codec writes exactly the JSON of ``serialization.dump`` and reads it back."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsmcore import _codec
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.errors import ConcurrencyError, ValidationError
from itsmcore.ports.storage import Deadline, Notification
from itsmcore.records import Actor, Event, Link, Record, Step
from itsmcore.serialization import dump, load

LIMIT = settings(max_examples=150, deadline=None)

odd_zones = st.one_of(
    st.just(UTC),
    st.timezones(),
    st.integers(min_value=-23 * 60 + 1, max_value=23 * 60 - 1).map(
        lambda m: timezone(timedelta(minutes=m, seconds=0))
    ),
    st.just(timezone(timedelta(hours=5, minutes=30, seconds=15))),
)
instants = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=odd_zones
)
text = st.text(max_size=12)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
    instants,
    st.dates(),
    st.timedeltas(),
)
values = st.one_of(scalars, st.lists(scalars, max_size=4).map(tuple))
fields = st.dictionaries(text, values, max_size=5)
links = st.builds(Link, kind=text, source=text, target=text, at=instants)
actors = st.builds(Actor, id=text, roles=st.frozensets(text, max_size=3))
records = st.builds(
    Record,
    id=text,
    process=text,
    spec_version=st.integers(min_value=1, max_value=9),
    state=text,
    version=st.integers(min_value=1, max_value=2**40),
    fields=fields,
    opened_at=instants,
    updated_at=instants,
    opened_by=text,
    head=text,
    links=st.lists(links, max_size=3).map(tuple),
)
events = st.builds(
    Event,
    record_id=text,
    version=st.integers(min_value=1, max_value=2**40),
    name=text,
    source=st.none() | text,
    target=text,
    at=instants,
    actor=actors,
    changes=fields,
    prev_hash=text,
    hash=text,
    link=st.none() | links,
)


def reference_text(obj: Any) -> str:
    return json.dumps(dump(obj), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@LIMIT
@given(records)
def test_record_text_is_the_text_of_dump_and_reads_back_exactly(rec: Record) -> None:
    stored = _codec.encode_record(rec)
    assert stored == reference_text(rec)
    back = _codec.decode_record(stored)
    # Compared as text: Python's == between aware datetimes of different zones is False
    # at an ambiguous wall time, although the instant and offset are the same.
    assert back == load(Record, json.loads(stored))
    assert _codec.encode_record(back) == stored


@LIMIT
@given(events)
def test_event_text_is_the_text_of_dump_and_reads_back_exactly(ev: Event) -> None:
    stored = _codec.encode_event(ev)
    assert stored == reference_text(ev)
    back = _codec.decode_event(stored)
    assert back == load(Event, json.loads(stored))
    assert _codec.encode_event(back) == stored


@LIMIT
@given(st.builds(Notification, id=text, kind=text, record_id=text, at=instants, payload=fields))
def test_notification_text_is_the_text_of_dump(note: Notification) -> None:
    stored = _codec.encode_notification(note)
    assert stored == reference_text(note)
    assert _codec.encode_notification(load(Notification, json.loads(stored))) == stored


@LIMIT
@given(st.builds(Deadline, record_id=text, key=text, due=instants))
def test_deadline_text_is_the_text_of_dump(deadline: Deadline) -> None:
    stored = _codec.encode_deadline(deadline)
    assert stored == reference_text(deadline)
    assert _codec.encode_deadline(load(Deadline, json.loads(stored))) == stored


def test_tuple_and_tagged_field_values_survive_the_round_trip() -> None:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    rec = Record(
        id="INC-1",
        process="incident",
        spec_version=1,
        state="new",
        version=3,
        fields={"when": at, "day": date(2026, 2, 28), "took": timedelta(hours=4), "t": (1, "a")},
        opened_at=at,
        updated_at=at,
    )
    back = _codec.decode_record(_codec.encode_record(rec))
    assert back == rec
    assert back.fields["t"] == (1, "a")
    assert back.opened_at.utcoffset() == timedelta(hours=-3, minutes=-30)


def test_a_document_in_another_shape_is_read_by_load_with_its_errors() -> None:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    rec = dump(Record("X", "p", 1, "s", 1, {"a": 1}, at, at))
    del rec["links"]  # a defaulted key left out: load accepts it, so the codec must too
    assert _codec.decode_record(json.dumps(rec)) == load(Record, rec)
    rec["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        _codec.decode_record(json.dumps(rec))


def _step(version: int, state: str, source: str | None) -> Step:
    at = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    rec = Record("CNT-1", "counter", 1, state, version, {"n": version}, at, at)
    ev = Event("CNT-1", version, "go", source, state, at, Actor("w"), {"n": version})
    return Step(rec, ev)


def test_sqlite_save_checks_the_version_in_the_write_and_reports_the_stored_one(
    tmp_path: Path,
) -> None:
    store = SqliteStorage(tmp_path / "s.db", synchronous="NORMAL")
    store.append([_step(1, "a", None)])
    with pytest.raises(ConcurrencyError) as opened_twice:
        store.append([_step(1, "a", None)])
    assert (opened_twice.value.expected, opened_twice.value.actual) == (0, 1)
    store.append([_step(2, "a", "a"), _step(3, "b", "a")])  # same state, then a new one
    with pytest.raises(ConcurrencyError) as stale:
        store.append([_step(3, "c", "b")])
    assert (stale.value.expected, stale.value.actual) == (2, 3)
    with pytest.raises(ConcurrencyError) as gap:
        store.append([_step(4, "c", "b"), _step(6, "c", "c")])
    assert (gap.value.expected, gap.value.actual) == (5, 4)
    assert store.load("CNT-1").version == 3  # the failed saves left nothing behind
    assert [r.id for r in store.find(state="b")] == ["CNT-1"]
    assert [e.version for e in store.history("CNT-1")] == [1, 2, 3]
    store.close()


def test_codec_knows_every_attribute_so_a_new_one_cannot_be_dropped_silently() -> None:
    assert {a.name for a in attrs.fields(Record)} == _codec._RECORD_KEYS
    assert {a.name for a in attrs.fields(Event)} == _codec._EVENT_KEYS
    assert {a.name for a in attrs.fields(Link)} == _codec._LINK_KEYS
    assert {a.name for a in attrs.fields(Actor)} == _codec._ACTOR_KEYS
    assert [a.name for a in attrs.fields(Notification)] == [
        "id",
        "kind",
        "record_id",
        "at",
        "payload",
    ]
    assert [a.name for a in attrs.fields(Deadline)] == ["record_id", "key", "due"]
