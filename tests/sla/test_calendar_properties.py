"""Property tests: the laws that tie elapsed, add, is_open, next_open and windows together.

Instants and durations are drawn to the microsecond; calendars are random (any zone of a
varied set, overlapping and overnight windows, closed and make-up overrides).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from itsmcore.sla.calendar import BusinessCalendar

ZONES = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Havana",
    "America/Santiago",
    "Pacific/Chatham",
    "Antarctica/Troll",
    "Europe/Dublin",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
US = timedelta(microseconds=1)
ZERO = timedelta(0)

# Minutes around the transitions of the zones above, drawn often so that windows start,
# end or lie in gaps and folds.
EDGES = (0, 30, 60, 90, 105, 120, 150, 165, 180, 210, 225, 240, 1380, 1410)
window = st.builds(
    lambda s, e: f"{s // 60:02d}:{s % 60:02d}-{e // 60:02d}:{e % 60:02d}",
    st.one_of(st.sampled_from(EDGES), st.integers(0, 1439)),
    st.one_of(st.sampled_from((*EDGES, 1440)), st.integers(0, 1440)),
)
windows = st.lists(window, max_size=3)


@st.composite
def calendars(draw: Callable[..., Any]) -> BusinessCalendar:
    zone = draw(st.sampled_from(ZONES))
    week = {day: draw(windows) for day in DAYS if draw(st.booleans())}
    dates = st.dates(min_value=datetime(2026, 2, 20).date(), max_value=datetime(2026, 4, 10).date())
    overrides = draw(st.dictionaries(dates.map(lambda d: d.isoformat()), windows, max_size=4))
    if not any(week.values()):
        week["wed"] = ["10:00-11:30"]  # keep the weekly pattern open so add always ends
    return BusinessCalendar.from_dict({"timezone": zone, "week": week, "overrides": overrides})


# Around the 2026 March and April transitions of the zones above.
instants = st.datetimes(
    min_value=datetime(2026, 3, 1), max_value=datetime(2026, 4, 8), timezones=st.just(UTC)
)
durations = st.timedeltas(min_value=ZERO, max_value=timedelta(days=4))

SETTINGS = settings(max_examples=100, deadline=None)


@SETTINGS
@given(calendars(), instants, durations)
def test_elapsed_from_a_to_add_a_d_is_d(
    calendar: BusinessCalendar, a: datetime, d: timedelta
) -> None:
    assert calendar.elapsed(a, calendar.add(a, d)) == d


@SETTINGS
@given(calendars(), instants, durations)
def test_add_gives_the_local_reading_the_zone_itself_gives(
    calendar: BusinessCalendar, a: datetime, d: timedelta
) -> None:
    t = calendar.add(a, d)
    again = t.astimezone(UTC).astimezone(calendar.tzinfo)
    assert (t.replace(tzinfo=None), t.fold, t.utcoffset()) == (
        again.replace(tzinfo=None),
        again.fold,
        again.utcoffset(),
    )


@SETTINGS
@given(calendars(), instants, durations.filter(lambda d: d > ZERO))
def test_add_is_the_earliest_instant_with_that_much_business_time(
    calendar: BusinessCalendar, a: datetime, d: timedelta
) -> None:
    t = calendar.add(a, d)
    assert t > a
    assert calendar.elapsed(a, t - US) < d


@SETTINGS
@given(calendars(), instants, durations, durations)
def test_elapsed_is_additive(
    calendar: BusinessCalendar, a: datetime, gap1: timedelta, gap2: timedelta
) -> None:
    b = a + gap1
    c = b + gap2
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)


@SETTINGS
@given(calendars(), instants, durations)
def test_elapsed_lies_between_zero_and_the_real_span(
    calendar: BusinessCalendar, a: datetime, span: timedelta
) -> None:
    assert ZERO <= calendar.elapsed(a, a + span) <= span


@SETTINGS
@given(
    st.sampled_from(ZONES), instants, st.timedeltas(min_value=ZERO, max_value=timedelta(days=800))
)
def test_a_24x7_calendar_counts_real_time(zone: str, a: datetime, span: timedelta) -> None:
    assert BusinessCalendar.always(zone).elapsed(a, a + span) == span


@SETTINGS
@given(calendars(), instants, durations)
def test_windows_add_up_to_elapsed_and_lie_in_range(
    calendar: BusinessCalendar, a: datetime, span: timedelta
) -> None:
    b = a + span
    pairs = calendar.windows(a, b)
    # Compare and subtract in UTC: Python compares and subtracts two datetimes of one
    # ZoneInfo by their wall clocks, which is wrong across a fold.
    utc = [(start.astimezone(UTC), end.astimezone(UTC)) for start, end in pairs]
    assert sum((end - start for start, end in utc), ZERO) == calendar.elapsed(a, b)
    for start, end in utc:
        assert a <= start < end <= b
        assert calendar.is_open(start)
        assert calendar.elapsed(start, end) == end - start
    for (_, end), (start, _) in pairwise(utc):
        assert end < start  # maximal: never two touching pieces
        assert not calendar.is_open(end)


@SETTINGS
@given(calendars(), instants)
def test_is_open_means_the_next_microsecond_is_business_time(
    calendar: BusinessCalendar, t: datetime
) -> None:
    assert calendar.is_open(t) == (calendar.elapsed(t, t + US) == US)


@SETTINGS
@given(calendars(), instants)
def test_next_open_is_open_and_nothing_opens_before_it(
    calendar: BusinessCalendar, t: datetime
) -> None:
    opening = calendar.next_open(t)
    assert opening >= t
    assert calendar.is_open(opening)
    assert calendar.elapsed(t, opening) == ZERO


@SETTINGS
@given(calendars())
def test_to_dict_round_trips_with_equal_hash(calendar: BusinessCalendar) -> None:
    again = BusinessCalendar.from_dict(calendar.to_dict())
    assert again == calendar
    assert hash(again) == hash(calendar)
    assert again.to_dict() == calendar.to_dict()


@SETTINGS
@given(calendars(), instants, durations)
def test_answers_do_not_depend_on_what_was_asked_before(
    calendar: BusinessCalendar, a: datetime, span: timedelta
) -> None:
    far = a + timedelta(days=900)
    warm = BusinessCalendar.from_dict(calendar.to_dict())
    warm.elapsed(a - timedelta(days=400), far)  # grow the cache both ways first
    assert warm.elapsed(a, a + span) == calendar.elapsed(a, a + span)
    assert warm.windows(a, a + span) == calendar.windows(a, a + span)
