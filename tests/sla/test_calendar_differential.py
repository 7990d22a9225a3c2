"""Differential test: the calendar against a brute-force minute-walk oracle.

The oracle knows nothing of the implementation. It walks UTC minute by minute, reads each
minute on the zone's wall clock with ``datetime.astimezone`` and asks whether that reading
lies in a window of its own date, or in an overnight window of the day before. With
windows on whole minutes, zones whose offsets are whole minutes and transitions on whole
minutes (all zones below, 2016-2030), a minute is either wholly open or wholly closed, so
counting open minutes is exact.

Random calendars in 30 zones (including Lord Howe's half-hour DST, Kathmandu's +05:45,
Havana's and Santiago's midnight transitions, Chatham's +12:45/+13:45 and Troll's
two-hour DST), 2016-2030, with instants near a DST transition in about half the cases
and window boundaries drawn often from the hours around transitions.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from itsmcore.errors import NoBusinessTime
from itsmcore.sla.calendar import BusinessCalendar

ZONES = (
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Havana",
    "America/Santiago",
    "Pacific/Chatham",
    "Europe/Berlin",
    "Europe/London",
    "Europe/Dublin",
    "America/New_York",
    "America/Los_Angeles",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Asuncion",
    "America/Mexico_City",
    "America/Nuuk",
    "Australia/Sydney",
    "Australia/Adelaide",
    "Asia/Tehran",
    "Asia/Gaza",
    "Asia/Amman",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Africa/Casablanca",
    "Africa/Cairo",
    "Pacific/Apia",
    "Pacific/Kiritimati",
    "Pacific/Norfolk",
    "Antarctica/Troll",
    "Europe/Moscow",
    "UTC",
)
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FIRST = datetime(2016, 1, 1, tzinfo=UTC)
LAST = datetime(2030, 12, 31, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
WALK_LIMIT = 8 * 24 * 60  # minutes the oracle walks for add / next_open


@functools.cache
def transition_instants(zone_name: str) -> tuple[datetime, ...]:
    """UTC instants within an hour after each offset change in 2016-2030 (hourly scan)."""
    zone = ZoneInfo(zone_name)
    found: list[datetime] = []
    day = FIRST
    previous = day.astimezone(zone).utcoffset()
    while day < LAST:
        nxt = day + timedelta(days=1)
        offset = nxt.astimezone(zone).utcoffset()
        if offset != previous:
            hour = day
            while hour.astimezone(zone).utcoffset() == previous:
                hour += timedelta(hours=1)
            found.append(hour)
            previous = offset
        day = nxt
    return tuple(found)


# -- the oracle ---------------------------------------------------------------------


def minutes_of(text: str) -> tuple[int, int]:
    start, end = text.split("-")
    sh, sm = start.split(":")
    eh, em = end.split(":")
    return int(sh) * 60 + int(sm), int(eh) * 60 + int(em)


class Oracle:
    """Business minutes by brute force, straight from the rules in design.md §3."""

    def __init__(self, definition: dict[str, Any]) -> None:
        self.zone = ZoneInfo(definition["timezone"])
        self.week = definition["week"]
        self.overrides = definition["overrides"]

    @functools.cache  # noqa: B019 - one oracle per example, dropped with it
    def windows_of(self, day: date) -> list[tuple[int, int]]:
        """The windows of a date as minute ranges, ``end`` past 1440 when overnight."""
        texts = self.overrides.get(day.isoformat())
        if texts is None:
            texts = self.week.get(DAYS[day.weekday()], [])
        out = []
        for text in texts:
            start, end = minutes_of(text)
            out.append((start, end if end > start else end + 1440))
        return out

    def is_open(self, instant: datetime) -> bool:
        local = instant.astimezone(self.zone)
        minute = local.hour * 60 + local.minute
        today = local.date()
        for day, shift in ((today, 0), (today - timedelta(days=1), 1440)):
            for start, end in self.windows_of(day):
                if start <= minute + shift < end:
                    return True
        return False

    def open_minutes(self, a: datetime, count: int) -> list[bool]:
        return [self.is_open(a + k * MINUTE) for k in range(count)]


# -- random calendars -----------------------------------------------------------------

# Minutes around the transitions of the zones above (00:00, 01:00, 01:30, 02:00, 02:30,
# 02:45, 03:00, 03:45, 23:00, 24:00 ...), drawn often so windows straddle gaps and folds.
EDGE_MINUTES = (0, 30, 60, 90, 120, 150, 165, 180, 210, 225, 240, 1380, 1410, 1439)


def minute_strategy(*, end: bool) -> st.SearchStrategy[int]:
    extra = (1440,) if end else ()
    top = 1440 if end else 1439
    return st.one_of(st.sampled_from(EDGE_MINUTES + extra), st.integers(0, top))


def window_text(start: int, end: int) -> str:
    return f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"


windows_strategy = st.lists(
    st.builds(window_text, minute_strategy(end=False), minute_strategy(end=True)),
    max_size=3,
)


@st.composite
def scenarios(draw: Callable[..., Any]) -> tuple[dict[str, Any], datetime]:
    zone = draw(st.sampled_from(ZONES))
    transitions = transition_instants(zone)
    if transitions and draw(st.booleans()):
        anchor = draw(st.sampled_from(transitions))
        a = anchor + draw(st.integers(-40 * 60, 8 * 60)) * MINUTE
    else:
        span = int((LAST - FIRST) / MINUTE)
        a = FIRST + draw(st.integers(0, span)) * MINUTE
    week = {day: draw(windows_strategy) for day in DAYS if draw(st.booleans())}
    local_day = a.astimezone(ZoneInfo(zone)).date()
    overrides: dict[str, list[str]] = {}
    for _ in range(draw(st.integers(0, 3))):
        day = local_day + timedelta(days=draw(st.integers(-2, 6)))
        overrides[day.isoformat()] = draw(windows_strategy)
    return {"timezone": zone, "week": week, "overrides": overrides}, a


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(scenarios(), st.integers(0, 3 * 24 * 60))
def test_elapsed_matches_the_minute_walk_oracle(
    scenario: tuple[dict[str, Any], datetime], span: int
) -> None:
    definition, a = scenario
    calendar = BusinessCalendar.from_dict(definition)
    expected = sum(Oracle(definition).open_minutes(a, span))
    assert calendar.elapsed(a, a + span * MINUTE) == expected * MINUTE


@SETTINGS
@given(scenarios(), st.integers(1, 24 * 60))
def test_add_is_open_and_next_open_match_the_minute_walk_oracle(
    scenario: tuple[dict[str, Any], datetime], need: int
) -> None:
    definition, a = scenario
    calendar = BusinessCalendar.from_dict(definition)
    oracle = Oracle(definition)

    assert calendar.is_open(a) == oracle.is_open(a)

    first: int | None = None  # the first open minute, if any within the walk
    counted = 0
    for k in range(WALK_LIMIT):  # walk only as far as the answers need
        if not oracle.is_open(a + k * MINUTE):
            continue
        if first is None:
            first = k
            assert calendar.next_open(a).astimezone(UTC) == a + first * MINUTE
        counted += 1
        if counted == need:
            assert calendar.add(a, need * MINUTE).astimezone(UTC) == a + (k + 1) * MINUTE
            break
    else:
        if first is None and any(definition["week"].values()):
            assert calendar.next_open(a) > a + WALK_LIMIT * MINUTE
        if any(definition["week"].values()):
            assert calendar.add(a, need * MINUTE) > a + WALK_LIMIT * MINUTE
        else:  # only finitely many override windows: they run out, or lie past the walk
            with contextlib.suppress(NoBusinessTime):
                assert calendar.add(a, need * MINUTE) > a + WALK_LIMIT * MINUTE
