"""The interval cache under the calendar: offset changes, islands and growth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsmcore.sla._timeline import EPOCH, ONE_US, Timeline
from itsmcore.sla.calendar import BusinessCalendar

try:  # The pure-Python zoneinfo keeps the tzif transition table (a private detail).
    from zoneinfo import _zoneinfo as pure_zoneinfo
except ImportError:  # pragma: no cover - every CPython 3.11 has it
    pure_zoneinfo = None

GRID_SECONDS = 12 * 3600
ZONES = (
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/Havana",
    "America/Santiago",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "Antarctica/Troll",
    "Europe/Dublin",
    "America/Sao_Paulo",
    "Pacific/Apia",
)


def offset_changes(name: str) -> list[tuple[int, int]]:
    """(UTC second, new offset in seconds) of each offset change, from the tzif table."""
    assert pure_zoneinfo is not None
    zone = pure_zoneinfo.ZoneInfo.no_cache(name)
    before = zone._tti_before
    previous = before.utcoff if before is not None else None
    changes = []
    for second, info in zip(zone._trans_utc, zone._ttinfos, strict=True):
        if info.utcoff != previous:
            changes.append((second, int(info.utcoff.total_seconds())))
            previous = info.utcoff
    return changes


@pytest.mark.skipif(pure_zoneinfo is None, reason="needs zoneinfo's pure-Python module")
def test_no_zone_changes_its_offset_twice_within_the_sampling_step() -> None:
    # The timeline samples offsets every 12 hours and bisects between differing samples;
    # that is exact only while no zone changes its offset twice within 12 hours.
    closest = min(
        later - earlier
        for name in available_timezones()
        for (earlier, _), (later, _) in pairwise(offset_changes(name))
    )
    assert closest > 2 * GRID_SECONDS


@pytest.mark.skipif(pure_zoneinfo is None, reason="needs zoneinfo's pure-Python module")
@pytest.mark.parametrize("name", ZONES)
def test_offset_stretches_match_the_tz_database(name: str) -> None:
    lo = (datetime(2000, 1, 1, tzinfo=UTC) - EPOCH) // ONE_US
    hi = (datetime(2030, 1, 1, tzinfo=UTC) - EPOCH) // ONE_US
    timeline = Timeline(ZoneInfo(name), [()] * 7, {})
    stretches = timeline._stretches(lo, hi)
    found = [(start // 1_000_000, offset // 1_000_000) for start, _, offset in stretches[1:]]
    expected = [(s, o) for s, o in offset_changes(name) if lo < s * 1_000_000 < hi]
    assert found == expected
    for (_, end, _), (start, _, _) in pairwise(stretches):
        assert end == start


queries = st.lists(
    st.tuples(st.integers(-30 * 366, 30 * 366), st.integers(0, 200)), min_size=2, max_size=6
)


@settings(max_examples=25, deadline=None)
@given(st.sampled_from(ZONES), queries)
def test_queries_in_any_order_agree_with_a_fresh_calendar(
    name: str, asked: list[tuple[int, int]]
) -> None:
    definition = {
        "timezone": name,
        "week": {"mon": ["22:00-06:00"], "wed": ["00:00-24:00"], "fri": ["09:00-17:00"]},
        "overrides": {"2026-03-04": [], "2026-03-07": ["01:00-03:00"]},
    }
    shared = BusinessCalendar.from_dict(definition)
    base = datetime(2026, 3, 1, tzinfo=UTC)
    for offset, span in asked:
        a = base + timedelta(days=offset)
        b = a + timedelta(days=span)
        fresh = BusinessCalendar.from_dict(definition)
        assert shared.elapsed(a, b) == fresh.elapsed(a, b)
        assert shared.add(a, timedelta(hours=span)) == fresh.add(a, timedelta(hours=span))
    assert len(shared._timeline._islands) <= 4


def test_a_far_query_starts_a_new_range_instead_of_filling_the_gap() -> None:
    calendar = BusinessCalendar("Europe/Berlin", week={"mon": ["09:00-17:00"]})
    first = datetime(1990, 1, 1, tzinfo=UTC)
    second = datetime(2090, 1, 1, tzinfo=UTC)
    calendar.elapsed(first, first + timedelta(days=30))
    calendar.elapsed(second, second + timedelta(days=30))
    covered = sum(hi - lo for lo, hi, *_ in calendar._timeline._islands)
    assert covered < 2 * 366 * 86_400 * 1_000_000


def test_intervals_far_from_offset_changes_carry_their_offset_and_near_ones_do_not() -> None:
    calendar = BusinessCalendar(
        "Europe/Berlin", week={day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    )
    first = datetime(2026, 1, 1, tzinfo=UTC)
    calendar.elapsed(first, first + timedelta(days=365))
    _lo, _hi, starts, ends, _cum, offsets = calendar._timeline.hot
    changes = [
        (datetime(2026, 3, 29, 1, tzinfo=UTC) - EPOCH) // ONE_US,
        (datetime(2026, 10, 25, 1, tzinfo=UTC) - EPOCH) // ONE_US,
    ]
    two_days = 2 * 86_400 * 1_000_000
    for start, end, offset in zip(starts, ends, offsets, strict=True):
        near = any(start - two_days <= change <= end + two_days for change in changes)
        if near:
            assert offset is None
        else:
            local = datetime.fromtimestamp(start // 1_000_000, ZoneInfo("Europe/Berlin"))
            assert offset == local.utcoffset() // timedelta(microseconds=1)
    assert sum(offset is not None for offset in offsets) > 200
