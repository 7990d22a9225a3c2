"""The kit's strategies generate what they promise: aware times (often at DST edges),
valid field values, fields that open records and satisfy transitions, actors, gaps."""

from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument

import itsmcore as ic
from itsmcore.spec import FIELD_TYPES
from itsmcore.testing import (
    actors,
    aware_datetimes,
    dst_transitions,
    event_fields,
    field_values,
    open_fields,
    time_gaps,
)

INCIDENT = ic.catalog.get("incident")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FEW = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BERLIN = ZoneInfo("Europe/Berlin")
Y2026 = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


# -- DST transitions and aware datetimes ----------------------------------------------------


def test_dst_transitions_exclude_a_change_exactly_at_the_end() -> None:
    spring = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # Berlin: 02:00 CET -> 03:00 CEST
    assert dst_transitions("Europe/Berlin", spring - timedelta(days=3), spring) == ()
    assert dst_transitions("Europe/Berlin", spring, spring + timedelta(days=3)) == (spring,)


def test_dst_transitions_are_the_exact_instants_the_offset_changes() -> None:
    assert dst_transitions("Europe/Berlin", *Y2026) == (
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
    )
    # Lord Howe moves by 30 minutes; Kolkata and fixed offsets never move.
    assert len(dst_transitions("Australia/Lord_Howe", *Y2026)) == 2
    assert dst_transitions("Asia/Kolkata", *Y2026) == ()
    assert dst_transitions(timezone(timedelta(hours=5)), *Y2026) == ()


def test_dst_transitions_refuse_naive_bounds() -> None:
    with pytest.raises(InvalidArgument):
        dst_transitions("UTC", datetime(2026, 1, 1), Y2026[1])


@FEW
@given(aware_datetimes(min_value=Y2026[0], max_value=Y2026[1]))
def test_aware_datetimes_are_aware_and_within_bounds(value: datetime) -> None:
    assert value.utcoffset() is not None
    assert Y2026[0] <= value <= Y2026[1]


def test_aware_datetimes_reach_the_fold_and_both_sides_of_the_gap() -> None:
    values = aware_datetimes(min_value=Y2026[0], max_value=Y2026[1], timezones=["Europe/Berlin"])
    in_fold = find(values, lambda d: d.fold == 1)
    assert in_fold.utcoffset() == timedelta(hours=1)
    spring = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    just_before = find(values, lambda d: d.astimezone(UTC) == spring - timedelta(microseconds=1))
    assert just_before.utcoffset() == timedelta(hours=1)
    on_it = find(values, lambda d: d.astimezone(UTC) == spring)
    assert on_it.utcoffset() == timedelta(hours=2)


def test_dst_edges_are_over_sampled() -> None:
    near_edge = 0
    edges = dst_transitions(BERLIN, *Y2026)

    @settings(max_examples=200, database=None, deadline=None)
    @given(aware_datetimes(min_value=Y2026[0], max_value=Y2026[1], timezones=[BERLIN]))
    def count(value: datetime) -> None:
        nonlocal near_edge
        if any(abs(value - edge) <= timedelta(hours=2) for edge in edges):
            near_edge += 1

    count()
    # Uniform draws would land within two hours of one of two edges about 0.1 % of
    # the time; the strategy aims for about half.
    assert near_edge >= 40


def test_aware_datetimes_refuse_naive_or_reversed_bounds() -> None:
    with pytest.raises(InvalidArgument):
        aware_datetimes(min_value=datetime(2026, 1, 1)).example()
    with pytest.raises(InvalidArgument):
        aware_datetimes(min_value=Y2026[1], max_value=Y2026[0]).example()
    with pytest.raises(InvalidArgument):
        aware_datetimes(timezones=[]).example()


@FEW
@given(time_gaps(max_value=timedelta(hours=1)))
def test_time_gaps_are_never_negative(gap: timedelta) -> None:
    assert timedelta(0) <= gap <= timedelta(hours=1)


def test_time_gaps_include_zero() -> None:
    assert find(time_gaps(), lambda g: True) == timedelta(0)


# -- actors ---------------------------------------------------------------------------------


@FEW
@given(actors(roles=["cab_member", "agent"], min_roles=1))
def test_actors_hold_only_the_given_roles(actor: ic.Actor) -> None:
    assert actor.roles
    assert actor.roles <= {"cab_member", "agent"}
    assert actor.id


def test_actors_refuse_more_roles_than_given() -> None:
    with pytest.raises(InvalidArgument):
        actors(roles=["agent"], min_roles=2).example()


# -- field values ---------------------------------------------------------------------------

KINDS = [
    ic.FieldSpec("name", "str"),
    ic.FieldSpec("notes", "text"),
    ic.FieldSpec("count", "int", minimum=2, maximum=5),
    ic.FieldSpec("ratio", "float", minimum=0.5, maximum=1.5),
    ic.FieldSpec("flag", "bool"),
    ic.FieldSpec("when", "datetime"),
    ic.FieldSpec("day", "date"),
    ic.FieldSpec("took", "duration"),
    ic.FieldSpec("colour", "enum", choices=("red", "green")),
    ic.FieldSpec("tags", "list", choices=("a", "b", "c")),
    ic.FieldSpec("words", "list"),
    ic.FieldSpec("service", "ref"),
]
ALL_TYPES = ic.ProcessSpec(
    name="all_types",
    version=1,
    states=(ic.StateSpec("new", initial=True), ic.StateSpec("done", "closed", terminal=True)),
    transitions=(ic.TransitionSpec("finish", ("new",), "done"),),
    fields=KINDS,
)


def test_the_kinds_cover_every_field_type() -> None:
    assert {f.type for f in KINDS} == FIELD_TYPES


@pytest.mark.parametrize("field", KINDS, ids=lambda f: f.type)
def test_field_values_are_accepted_by_the_kernel(field: ic.FieldSpec) -> None:
    @FEW
    @given(field_values(field))
    def accepted(value: object) -> None:
        errors: list[tuple[str, str]] = []
        coerced = ALL_TYPES.compiled.validate_fields({field.name: value}, errors)
        assert errors == []
        if isinstance(value, datetime):  # kept as the same instant, in UTC
            assert coerced[field.name] == value.astimezone(UTC)
        else:
            assert coerced[field.name] == value

    accepted()


@FEW
@given(
    field_values(KINDS[2]),
    field_values(KINDS[3]),
    field_values(KINDS[8]),
    field_values(KINDS[9]),
    field_values(KINDS[0]),
)
def test_field_values_respect_bounds_choices_and_blankness(
    count: int, ratio: float, colour: str, tags: tuple[str, ...], name: str
) -> None:
    assert 2 <= count <= 5
    assert 0.5 <= ratio <= 1.5
    assert colour in ("red", "green")
    assert len(set(tags)) == len(tags)
    assert set(tags) <= {"a", "b", "c"}
    assert name.strip()


@FEW
@given(field_values(KINDS[5]), field_values(KINDS[6]))
def test_datetime_values_are_aware_and_dates_are_plain_dates(when: datetime, day: date) -> None:
    assert when.utcoffset() is not None
    assert not isinstance(day, datetime)


# -- fields for opening and for transitions -------------------------------------------------


@FEW
@given(open_fields(INCIDENT))
def test_open_fields_open_an_incident(fields: dict[str, object]) -> None:
    step = INCIDENT.open(record_id="INC-1", at=T0, actor=ic.Actor("alice"), fields=fields)
    for name in ("title", "caller", "impact", "urgency"):
        assert step.record.get(name) == fields[name]


DERIVED = frozenset(f.name for f in INCIDENT.fields if f.derived)


@FEW
@given(open_fields(INCIDENT, max_optional=30))
def test_open_fields_never_give_derived_fields(fields: dict[str, object]) -> None:
    assert DERIVED
    assert not set(fields) & DERIVED


def _in_progress() -> ic.Record:
    alice = ic.Actor("alice")
    step = INCIDENT.open(
        record_id="INC-1",
        at=T0,
        actor=alice,
        fields={"title": "Mail down", "caller": "bob", "impact": 2, "urgency": 2},
    )
    step = INCIDENT.fire(step.record, "assign", at=T0, actor=alice, fields={"assignee": "c"})
    return INCIDENT.fire(step.record, "start", at=T0, actor=alice).record


@FEW
@given(event_fields(INCIDENT, "resolve", _in_progress(), max_optional=0))
def test_event_fields_satisfy_what_the_transition_requires(fields: dict[str, object]) -> None:
    assert set(fields) == {"resolution_code", "resolution_notes"}
    step = INCIDENT.fire(_in_progress(), "resolve", at=T0, actor=ic.Actor("c"), fields=fields)
    assert step.record.state == "resolved"


@settings(FEW, max_examples=30)
@given(st.data())
def test_event_fields_for_any_allowed_event_pass_field_validation(data: st.DataObject) -> None:
    record = _in_progress()
    event = data.draw(st.sampled_from(INCIDENT.allowed(record)))
    fields = data.draw(event_fields(INCIDENT, event, record))
    # Guards are code the kit cannot read; field checks must never fail.
    with contextlib.suppress(ic.GuardFailed):
        INCIDENT.fire(record, event, at=T0, actor=ic.Actor("c"), fields=fields)


def test_max_optional_must_not_be_negative() -> None:
    with pytest.raises(InvalidArgument):
        open_fields(INCIDENT, max_optional=-1).example()
