"""BusinessCalendar: validation, value semantics, errors, edge instants and speed."""

from __future__ import annotations

import copy
import pickle
import threading
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from itsmcore.errors import ItsmError, NoBusinessTime, ValidationError
from itsmcore.sla.calendar import BusinessCalendar

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFFICE: dict[str, Any] = {
    "timezone": "Europe/Berlin",
    "week": {day: ["09:00-17:00"] for day in WORKDAYS},
    "overrides": {"2026-12-25": [], "2026-06-06": ["10:00-14:00"]},
}
MONDAY_NINE = datetime(2026, 11, 23, 9, tzinfo=ZoneInfo("Europe/Berlin"))
H = timedelta(hours=1)


def office(**changes: Any) -> dict[str, Any]:
    return {**copy.deepcopy(OFFICE), **changes}


def paths(error: ValidationError) -> list[str]:
    return [path for path, _ in error.errors]


# -- plain data ---------------------------------------------------------------------


def test_to_dict_returns_exactly_what_from_dict_was_given() -> None:
    assert BusinessCalendar.from_dict(OFFICE).to_dict() == OFFICE


def test_to_dict_keeps_24_00_and_00_00_ends_apart() -> None:
    data = {"timezone": "UTC", "week": {"mon": ["00:00-24:00"], "tue": ["00:00-00:00"]}}
    assert BusinessCalendar.from_dict(data).to_dict() == {**data, "overrides": {}}


def test_keyword_constructor_equals_from_dict() -> None:
    built = BusinessCalendar("Europe/Berlin", week=OFFICE["week"], overrides=OFFICE["overrides"])
    assert built == BusinessCalendar.from_dict(OFFICE)


def test_override_keys_may_be_dates() -> None:
    calendar = BusinessCalendar("UTC", overrides={date(2026, 12, 25): []})
    assert calendar.to_dict()["overrides"] == {"2026-12-25": []}


def test_to_dict_gives_fresh_lists_that_do_not_change_the_calendar() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    data = calendar.to_dict()
    data["week"]["mon"].append("18:00-19:00")
    assert calendar.to_dict() == OFFICE


def test_calendar_does_not_keep_the_callers_mutable_input() -> None:
    data = office()
    calendar = BusinessCalendar.from_dict(data)
    data["week"]["mon"].append("18:00-19:00")
    assert calendar.to_dict() == OFFICE


def test_always_is_24x7_in_the_given_zone() -> None:
    calendar = BusinessCalendar.always("America/Santiago")
    assert calendar.timezone == "America/Santiago"
    assert set(calendar.to_dict()["week"].values().__iter__().__next__()) == {"00:00-24:00"}
    assert len(calendar.to_dict()["week"]) == 7
    assert BusinessCalendar.always() == BusinessCalendar.always("UTC")


# -- validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (office(timezone="Europe/Berln"), "$.timezone"),
        (office(timezone=42), "$.timezone"),
        (office(week={"mon": ["25:00-26:00"]}), "$.week.mon[0]"),
        (office(week={"mon": ["9-5"]}), "$.week.mon[0]"),
        (office(week={"mon": ["09:00 - 17:00"]}), "$.week.mon[0]"),
        (office(week={"mon": ["09:60-10:00"]}), "$.week.mon[0]"),
        (office(week={"mon": ["23:00-24:01"]}), "$.week.mon[0]"),
        (office(week={"mon": ["24:00-24:00"]}), "$.week.mon[0]"),
        (office(week={"mon": ["09:00-17:00", 9]}), "$.week.mon[1]"),
        (office(week={"mon": "09:00-17:00"}), "$.week.mon"),
        (office(week={"monday": ["09:00-17:00"]}), "$.week.monday"),
        (office(week=["09:00-17:00"]), "$.week"),
        (office(overrides={"2026-02-30": []}), "$.overrides.2026-02-30"),
        (office(overrides={"2027-02-29": []}), "$.overrides.2027-02-29"),
        (office(overrides={"2026-1-5": []}), "$.overrides.2026-1-5"),
        (office(overrides={"2026-12-24": None}), "$.overrides.2026-12-24"),
        (office(overrides={"2026-12-24": ["8:00-12:00"]}), "$.overrides.2026-12-24[0]"),
        (office(overrides=[]), "$.overrides"),
        (office(weeks={}), "$.weeks"),
        ({"week": {}}, "$.timezone"),
        ("UTC", "$"),
    ],
)
def test_invalid_definition_is_a_validation_error_naming_the_path(data: Any, path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar.from_dict(data)
    assert path in paths(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    data = {
        "timezone": "Mars/Olympus",
        "week": {"mon": ["9-5", "09:00-17:00", "25:00-26:00"], "fun": []},
        "overrides": {"2026-02-30": []},
    }
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar.from_dict(data)
    assert paths(caught.value) == [
        "$.timezone",
        "$.week.mon[0]",
        "$.week.mon[2]",
        "$.week.fun",
        "$.overrides.2026-02-30",
    ]


def test_error_messages_say_how_to_fix_the_input() -> None:
    with pytest.raises(ValidationError, match=r"did you mean 'Europe/Berlin'"):
        BusinessCalendar.from_dict(office(timezone="Europe/Berln"))
    with pytest.raises(ValidationError, match=r"did you mean 'mon'"):
        BusinessCalendar.from_dict(office(week={"mon ": []}))
    with pytest.raises(ValidationError, match=r"'HH:MM-HH:MM'"):
        BusinessCalendar.from_dict(office(week={"mon": ["9-5"]}))


def test_leap_day_override_is_valid_in_a_leap_year() -> None:
    calendar = BusinessCalendar.from_dict(office(overrides={"2028-02-29": []}))
    assert "2028-02-29" in calendar.to_dict()["overrides"]


def test_validation_errors_are_itsm_and_value_errors() -> None:
    with pytest.raises(ValidationError) as caught:
        BusinessCalendar.from_dict({})
    assert isinstance(caught.value, ItsmError)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("method", ["elapsed", "windows"])
def test_naive_datetimes_are_rejected(method: str) -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    with pytest.raises(ValidationError) as caught:
        getattr(calendar, method)(datetime(2026, 11, 23, 9), MONDAY_NINE)
    assert paths(caught.value) == ["$.a"]
    with pytest.raises(ValidationError) as caught:
        getattr(calendar, method)(MONDAY_NINE, datetime(2026, 11, 23, 17))
    assert paths(caught.value) == ["$.b"]


def test_naive_datetimes_are_rejected_by_add_is_open_and_next_open() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    naive = datetime(2026, 11, 23, 9)
    with pytest.raises(ValidationError):
        calendar.add(naive, H)
    with pytest.raises(ValidationError):
        calendar.is_open(naive)
    with pytest.raises(ValidationError):
        calendar.next_open(naive)
    with pytest.raises(ValidationError):
        calendar.is_open(date(2026, 11, 23))  # type: ignore[arg-type]


def test_elapsed_with_end_before_start_is_a_validation_error() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    with pytest.raises(ValidationError) as caught:
        calendar.elapsed(MONDAY_NINE, MONDAY_NINE - timedelta(microseconds=1))
    assert paths(caught.value) == ["$.b"]


def test_windows_with_end_before_start_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        BusinessCalendar.from_dict(OFFICE).windows(MONDAY_NINE, MONDAY_NINE - H)


def test_add_rejects_a_negative_or_non_timedelta_duration() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    with pytest.raises(ValidationError) as caught:
        calendar.add(MONDAY_NINE, -timedelta(microseconds=1))
    assert paths(caught.value) == ["$.d"]
    with pytest.raises(ValidationError):
        calendar.add(MONDAY_NINE, 3600)  # type: ignore[arg-type]


# -- results --------------------------------------------------------------------------


def test_results_are_aware_and_in_the_calendars_zone() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    assert calendar.add(start, H).tzinfo is calendar.tzinfo
    assert calendar.next_open(start).tzinfo is calendar.tzinfo
    assert calendar.add(start, H) == datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Europe/Berlin"))


def test_add_zero_returns_the_start_instant_in_the_calendars_zone() -> None:
    start = datetime(2026, 11, 28, 12, tzinfo=UTC)  # a closed Saturday
    result = BusinessCalendar.from_dict(OFFICE).add(start, timedelta(0))
    assert result == start
    assert result.tzinfo is ZoneInfo("Europe/Berlin")


def test_add_in_a_fold_returns_the_second_reading_with_fold_set() -> None:
    calendar = BusinessCalendar("Europe/Berlin", week={"sun": ["02:00-03:00"]})
    first_half_past_two = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    result = calendar.add(first_half_past_two, H)
    assert (result.hour, result.minute, result.fold) == (2, 30, 1)
    assert result.astimezone(UTC) == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


def test_eight_hours_from_monday_nine_is_monday_five_in_berlin() -> None:
    result = BusinessCalendar.from_dict(OFFICE).add(MONDAY_NINE, 8 * H)
    assert result == datetime(2026, 11, 23, 17, tzinfo=ZoneInfo("Europe/Berlin"))


def test_override_short_day_replaces_the_weekly_windows() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)  # 2026-06-06 is a Saturday: 10-14
    day = datetime(2026, 6, 6, tzinfo=ZoneInfo("Europe/Berlin"))
    assert calendar.elapsed(day, day + timedelta(days=1)) == 4 * H


def test_with_overrides_replaces_dates_and_leaves_the_original_alone() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    changed = calendar.with_overrides({"2026-12-25": ["10:00-11:00"], "2026-12-24": []})
    assert changed.to_dict()["overrides"] == {
        "2026-06-06": ["10:00-14:00"],
        "2026-12-24": [],
        "2026-12-25": ["10:00-11:00"],
    }
    assert calendar.to_dict() == OFFICE
    with pytest.raises(ValidationError) as caught:
        calendar.with_overrides({"2026-13-01": []})
    assert paths(caught.value) == ["$.overrides.2026-13-01"]


# -- no business time ---------------------------------------------------------------


def test_add_on_a_calendar_without_hours_raises_at_once() -> None:
    calendar = BusinessCalendar("UTC", week={"mon": []}, overrides={"2026-12-25": []})
    assert not calendar.has_hours
    started = time.perf_counter()
    with pytest.raises(NoBusinessTime):
        calendar.add(MONDAY_NINE, H)
    with pytest.raises(NoBusinessTime):
        calendar.next_open(MONDAY_NINE)
    assert time.perf_counter() - started < 0.1
    assert calendar.elapsed(MONDAY_NINE, MONDAY_NINE + 1000 * H) == timedelta(0)
    assert calendar.add(MONDAY_NINE, timedelta(0)) == MONDAY_NINE


def test_add_past_the_last_override_window_raises_instead_of_searching() -> None:
    calendar = BusinessCalendar(
        "UTC", overrides={"2026-12-01": ["09:00-10:00"], "2031-06-02": ["09:00-09:30"]}
    )
    start = datetime(2026, 11, 1, tzinfo=UTC)
    assert calendar.add(start, 90 * timedelta(minutes=1)) == datetime(2031, 6, 2, 9, 30, tzinfo=UTC)
    started = time.perf_counter()
    with pytest.raises(NoBusinessTime, match="run out"):
        calendar.add(start, 91 * timedelta(minutes=1))
    with pytest.raises(NoBusinessTime):
        calendar.next_open(datetime(2031, 6, 3, tzinfo=UTC))
    assert time.perf_counter() - started < 0.5


def test_hundreds_of_closed_weeks_are_crossed_quickly() -> None:
    closed = {
        (date(2026, 1, 5) + timedelta(days=k)).isoformat(): [] for k in range(7 * 600)
    }  # 600 weeks
    calendar = BusinessCalendar("Europe/Berlin", week={"mon": ["09:00-17:00"]}, overrides=closed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    started = time.perf_counter()
    result = calendar.add(start, H)
    assert time.perf_counter() - started < 1.0
    reopening = date(2026, 1, 5) + timedelta(days=7 * 600)  # a Monday
    assert (
        result
        == datetime.combine(reopening, datetime.min.time(), ZoneInfo("Europe/Berlin")) + 10 * H
    )


def test_sparse_make_up_days_decades_apart_are_reached_without_walking() -> None:
    calendar = BusinessCalendar(
        "Asia/Shanghai", overrides={"2016-02-06": ["09:00-18:00"], "2090-01-07": ["09:00-18:00"]}
    )
    started = time.perf_counter()
    result = calendar.add(datetime(2016, 1, 1, tzinfo=UTC), 10 * H)
    assert time.perf_counter() - started < 0.5
    assert result == datetime(2090, 1, 7, 10, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_add_beyond_the_year_9999_raises_no_business_time() -> None:
    calendar = BusinessCalendar.always()
    start = datetime(9999, 12, 31, 12, tzinfo=UTC)
    assert calendar.add(start, H) == start + H
    with pytest.raises(NoBusinessTime, match="9999"):
        calendar.add(start, 13 * H)


def test_add_of_more_time_than_remains_before_9999_raises_at_once() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    started = time.perf_counter()
    with pytest.raises(NoBusinessTime):
        calendar.add(MONDAY_NINE, timedelta(days=3_000_000))
    assert time.perf_counter() - started < 0.1


def test_instants_at_the_ends_of_the_datetime_range_work() -> None:
    calendar = BusinessCalendar("Asia/Kathmandu", week={"mon": ["09:00-17:00"]})
    low = datetime(1, 1, 1, tzinfo=UTC)
    assert calendar.elapsed(low, low + timedelta(days=14)) == 16 * H
    high = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert calendar.elapsed(high - timedelta(days=14), high) == 16 * H


# -- value semantics and threads ------------------------------------------------------


def test_equal_definitions_are_equal_and_hash_alike_even_after_use() -> None:
    used = BusinessCalendar.from_dict(OFFICE)
    used.elapsed(MONDAY_NINE, MONDAY_NINE + timedelta(days=400))
    fresh = BusinessCalendar.from_dict(office())
    assert used == fresh
    assert hash(used) == hash(fresh)
    assert len({used, fresh}) == 1
    assert used != BusinessCalendar.from_dict(office(timezone="Europe/Paris"))
    assert used != OFFICE


def test_calendar_is_immutable() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    with pytest.raises(AttributeError):
        calendar._zone = ZoneInfo("UTC")  # type: ignore[misc]
    with pytest.raises(AttributeError):
        calendar.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        del calendar._definition


def test_calendar_pickles_and_copies_by_its_definition() -> None:
    calendar = BusinessCalendar.from_dict(OFFICE)
    calendar.elapsed(MONDAY_NINE, MONDAY_NINE + timedelta(days=30))
    for again in (pickle.loads(pickle.dumps(calendar)), copy.deepcopy(calendar)):
        assert again == calendar
        assert again.add(MONDAY_NINE, 9 * H) == calendar.add(MONDAY_NINE, 9 * H)


def test_repr_names_the_zone_and_the_week() -> None:
    text = repr(BusinessCalendar.from_dict(OFFICE))
    assert "Europe/Berlin" in text
    assert "09:00-17:00" in text
    assert "2 dates" in text


def test_concurrent_queries_on_one_calendar_agree_with_a_fresh_one() -> None:
    shared = BusinessCalendar.from_dict(OFFICE)
    starts = [datetime(2000 + 3 * k, 1, 1, tzinfo=UTC) for k in range(10)]
    spans = [timedelta(days=30 + 97 * k) for k in range(10)]
    expected = [
        BusinessCalendar.from_dict(OFFICE).elapsed(start, start + span)
        for start, span in zip(starts, spans, strict=True)
    ]
    results: list[list[timedelta]] = [[] for _ in starts]
    barrier = threading.Barrier(len(starts))

    def work(k: int) -> None:
        barrier.wait()
        for _ in range(3):
            results[k].append(shared.elapsed(starts[k], starts[k] + spans[k]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(starts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [[value] * 3 for value in expected]
