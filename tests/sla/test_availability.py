"""Availability from outage intervals: hand-computed examples and properties."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsmcore.errors import ValidationError
from itsmcore.sla.availability import Outage, Period, availability

T0 = datetime(2026, 11, 1, tzinfo=UTC)
DAYS_30 = Period(T0, T0 + timedelta(days=30))


def at(hours: float) -> datetime:
    """An instant ``hours`` after the start of the 30-day test period."""
    return T0 + timedelta(hours=hours)


def down(start_h: float, end_h: float | None, *, planned: bool = False) -> Outage:
    return Outage("mail", at(start_h), None if end_h is None else at(end_h), planned=planned)


class NineToFiveUtc:
    """A fake business calendar: every day 09:00-17:00 UTC counts, nothing else."""

    def elapsed(self, a: datetime, b: datetime, /) -> timedelta:
        a, b = a.astimezone(UTC), b.astimezone(UTC)
        total = timedelta(0)
        day = datetime(a.year, a.month, a.day, tzinfo=UTC)
        while day < b:
            opens, closes = day + timedelta(hours=9), day + timedelta(hours=17)
            start, end = max(a, opens), min(b, closes)
            if start < end:
                total += end - start
            day += timedelta(days=1)
        return total


# --- the budget -------------------------------------------------------------------------


def test_999_percent_over_30_days_allows_exactly_43_minutes_12_seconds() -> None:
    report = availability([], DAYS_30, service="mail", target="99.9%")
    # 30 d = 43,200 min; 43,200 min x 0.001 = 43.2 min = 43 min 12 s.
    assert report.allowed_downtime == timedelta(minutes=43, seconds=12)
    assert report.remaining_budget == timedelta(minutes=43, seconds=12)
    assert report.attained is True


@pytest.mark.parametrize("target", ["99.9%", "0.999", Decimal("0.999"), Fraction(999, 1000), 0.999])
def test_every_spelling_of_a_target_is_the_same_exact_ratio(target: object) -> None:
    report = availability([], DAYS_30, service="mail", target=target)  # type: ignore[arg-type]
    assert report.target == Fraction(999, 1000)
    assert report.allowed_downtime == timedelta(seconds=2592)


def test_downtime_exactly_at_the_budget_still_attains_the_target() -> None:
    outage = Outage("mail", at(10), at(10) + timedelta(minutes=43, seconds=12))
    report = availability([outage], DAYS_30, target="99.9%")
    assert report.availability == Fraction(999, 1000)
    assert report.attained is True
    assert report.remaining_budget == timedelta(0)


def test_one_microsecond_over_the_budget_misses_the_target() -> None:
    outage = Outage("mail", at(10), at(10) + timedelta(minutes=43, seconds=12, microseconds=1))
    report = availability([outage], DAYS_30, target="99.9%")
    assert report.attained is False
    assert report.remaining_budget == timedelta(microseconds=-1)


@pytest.mark.parametrize("target", ["99.9", 1.5, -0.1, "abc", True])
def test_a_target_that_is_not_a_ratio_between_0_and_1_is_rejected(target: object) -> None:
    with pytest.raises(ValidationError) as info:
        availability([], DAYS_30, service="mail", target=target)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == "$.target"


# --- merging, clipping, planned maintenance ---------------------------------------------


def test_overlapping_unplanned_outages_are_merged_into_one_failure() -> None:
    # 01:00-02:00 and 01:30-03:00 overlap: 2 h of downtime, one failure.
    report = availability([down(1, 2), down(1.5, 3)], DAYS_30)
    assert report.downtime == timedelta(hours=2)
    assert report.outage_count == 1
    assert report.downtime_intervals == ((at(1), at(3)),)


def test_touching_outages_form_one_failure() -> None:
    report = availability([down(1, 2), down(2, 3)], DAYS_30)
    assert report.downtime == timedelta(hours=2)
    assert report.outage_count == 1


def test_unplanned_time_inside_a_planned_window_is_not_downtime() -> None:
    # Planned 10:00-14:00; unplanned 13:00-15:00 -> only 14:00-15:00 is downtime.
    report = availability([down(10, 14, planned=True), down(13, 15)], DAYS_30)
    assert report.planned_downtime == timedelta(hours=4)
    assert report.downtime == timedelta(hours=1)
    assert report.agreed_time == timedelta(days=30) - timedelta(hours=4)
    # (720 h - 4 h - 1 h) / (720 h - 4 h) = 715/716
    assert report.availability == Fraction(715, 716)


def test_an_outage_wholly_inside_a_planned_window_is_not_a_failure() -> None:
    report = availability([down(10, 14, planned=True), down(11, 12)], DAYS_30)
    assert report.downtime == timedelta(0)
    assert report.outage_count == 0
    assert report.mtrs is None


def test_a_planned_window_inside_an_outage_does_not_split_it_into_two_failures() -> None:
    report = availability([down(10, 16), down(12, 13, planned=True)], DAYS_30)
    assert report.downtime == timedelta(hours=5)
    assert report.outage_count == 1
    assert report.downtime_intervals == ((at(10), at(12)), (at(13), at(16)))


def test_outages_are_clipped_to_the_period() -> None:
    before_and_into = down(-5, 2)  # counts 00:00-02:00
    after_end = down(30 * 24 - 1, 30 * 24 + 7)  # counts the last hour
    outside = down(-10, -8)
    report = availability([before_and_into, after_end, outside], DAYS_30)
    assert report.downtime == timedelta(hours=3)
    assert report.outage_count == 2


def test_an_ongoing_outage_counts_up_to_the_period_end() -> None:
    report = availability([down(30 * 24 - 6, None)], DAYS_30)
    assert report.downtime == timedelta(hours=6)
    assert report.outage_count == 1


def test_an_ongoing_outage_that_starts_after_the_period_is_ignored() -> None:
    report = availability([down(30 * 24 + 1, None)], DAYS_30)
    assert report.downtime == timedelta(0)


def test_no_outages_means_full_availability() -> None:
    report = availability([], DAYS_30, service="mail")
    assert report.availability == 1
    assert report.percent == 100.0
    assert report.outage_count == 0
    assert report.mtbf is None
    assert report.mtrs is None
    assert report.target is None
    assert report.attained is None


def test_mtbf_and_mtrs_are_uptime_and_downtime_per_failure() -> None:
    # Two failures: 1 h and 3 h. Agreed 720 h, downtime 4 h.
    report = availability([down(10, 11), down(100, 103)], DAYS_30)
    assert report.outage_count == 2
    assert report.mtrs == timedelta(hours=2)  # 4 h / 2
    assert report.mtbf == timedelta(hours=358)  # (720 h - 4 h) / 2


def test_a_period_of_planned_maintenance_only_is_fully_available() -> None:
    report = availability([down(0, 30 * 24, planned=True)], DAYS_30, target="99.9%")
    assert report.agreed_time == timedelta(0)
    assert report.availability == 1
    assert report.allowed_downtime == timedelta(0)
    assert report.attained is True


def test_planned_windows_count_as_downtime_when_the_policy_says_so() -> None:
    report = availability(
        [down(10, 14, planned=True), down(13, 15)], DAYS_30, exclude_planned=False
    )
    assert report.agreed_time == timedelta(days=30)
    assert report.downtime == timedelta(hours=5)  # 10:00-15:00 merged
    assert report.planned_downtime == timedelta(hours=4)
    assert report.outage_count == 1


# --- services, zones, validation --------------------------------------------------------


def test_only_the_named_services_outages_count() -> None:
    other = Outage("web", at(1), at(5))
    report = availability([down(1, 2), other], DAYS_30, service="mail")
    assert report.service == "mail"
    assert report.downtime == timedelta(hours=1)


def test_outages_of_several_services_need_a_service_name() -> None:
    with pytest.raises(ValidationError) as info:
        availability([down(1, 2), Outage("web", at(1), at(5))], DAYS_30)
    assert info.value.errors[0][0] == "$.service"
    assert "'mail'" in info.value.errors[0][1]
    assert "'web'" in info.value.errors[0][1]


def test_an_item_that_is_not_an_outage_is_rejected_with_its_index() -> None:
    with pytest.raises(ValidationError) as info:
        availability([down(1, 2), "oops"], DAYS_30)  # type: ignore[list-item]
    assert info.value.errors == (("$.outages[1]", "expected an Outage, got str"),)


def test_an_outage_that_ends_before_it_starts_is_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        Outage("mail", at(2), at(1))
    assert info.value.errors[0][0] == "$.end"


def test_naive_datetimes_are_rejected_never_guessed() -> None:
    with pytest.raises(ValidationError) as info:
        Outage("mail", datetime(2026, 11, 1, 9), None)
    assert info.value.errors[0][0] == "$.start"
    with pytest.raises(ValidationError) as period_info:
        Period(T0, datetime(2026, 12, 1))
    assert period_info.value.errors[0][0] == "$.end"


def test_an_outage_must_name_its_service() -> None:
    with pytest.raises(ValidationError) as info:
        Outage("", at(1), at(2))
    assert info.value.errors[0][0] == "$.service"


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValidationError):
        Period(T0, T0)


def test_a_month_period_has_its_true_length_across_a_dst_change() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    october = Period.month(2026, 10, berlin)  # clocks go back on 25 October
    assert october.start == datetime(2026, 10, 1, tzinfo=berlin)
    assert october.length == timedelta(days=31, hours=1)
    assert Period.month(2026, 12, berlin).end == datetime(2027, 1, 1, tzinfo=berlin)
    assert Period.month(2026, 11, UTC).length == timedelta(days=30)


def test_a_month_outside_1_to_12_is_rejected() -> None:
    with pytest.raises(ValidationError):
        Period.month(2026, 13, UTC)


def test_outages_in_other_time_zones_are_compared_as_instants() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # 02:00-03:00 Berlin (CET, UTC+1) on 1 November = 01:00-02:00 UTC.
    local = Outage(
        "mail", datetime(2026, 11, 1, 2, tzinfo=berlin), datetime(2026, 11, 1, 3, tzinfo=berlin)
    )
    report = availability([local, down(1.5, 2.5)], DAYS_30)
    assert report.downtime == timedelta(hours=1, minutes=30)
    assert report.downtime_intervals == ((at(1), at(2.5)),)


def test_downtime_intervals_are_given_in_the_periods_time_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    report = availability([down(1, 2)], Period.month(2026, 11, berlin))
    start, _ = report.downtime_intervals[0]
    assert start.tzinfo is berlin
    assert start == at(1)


# --- business time ----------------------------------------------------------------------


def test_with_a_calendar_every_duration_is_business_time() -> None:
    calendar = NineToFiveUtc()
    # Day 1: 08:00-10:00 unplanned (1 h inside hours), planned 16:00-18:00 (1 h inside).
    # Day 2: 16:30-20:00 unplanned (30 min inside).
    outages = [down(8, 10), down(16, 18, planned=True), down(24 + 16.5, 24 + 20)]
    report = availability(outages, DAYS_30, calendar=calendar, target="99%")
    assert report.business_time is True
    assert report.planned_downtime == timedelta(hours=1)
    assert report.agreed_time == timedelta(hours=30 * 8 - 1)  # 239 h
    assert report.downtime == timedelta(hours=1, minutes=30)
    assert report.outage_count == 2
    assert report.availability == Fraction(239 * 60 - 90, 239 * 60)
    assert report.allowed_downtime == timedelta(hours=2, minutes=23, seconds=24)  # 1 % of 239 h


def test_with_a_calendar_an_outage_outside_business_hours_is_no_failure() -> None:
    report = availability([down(20, 23)], DAYS_30, calendar=NineToFiveUtc())
    assert report.downtime == timedelta(0)
    assert report.outage_count == 0
    assert report.availability == 1


# --- properties -------------------------------------------------------------------------

_hours = st.integers(min_value=-48, max_value=30 * 24 + 48)
_outages = st.lists(
    st.builds(
        lambda start, length, ongoing, planned: down(
            start, None if ongoing else start + length, planned=planned
        ),
        _hours,
        st.integers(min_value=0, max_value=72),
        st.booleans(),
        st.booleans(),
    ),
    max_size=8,
)


@settings(max_examples=150, deadline=None)
@given(outages=_outages, data=st.data())
def test_availability_is_a_ratio_in_0_1_and_independent_of_outage_order(
    outages: list[Outage], data: st.DataObject
) -> None:
    report = availability(outages, DAYS_30, service="mail", target="99.9%")
    assert 0 <= report.availability <= 1
    assert timedelta(0) <= report.downtime <= report.agreed_time <= DAYS_30.length
    assert report.agreed_time + report.planned_downtime == DAYS_30.length
    assert report.outage_count <= len(outages)
    shuffled = data.draw(st.permutations(outages))
    assert availability(shuffled, DAYS_30, service="mail", target="99.9%") == report


@settings(max_examples=75, deadline=None)
@given(outages=_outages)
def test_business_downtime_never_exceeds_real_downtime(outages: list[Outage]) -> None:
    real = availability(outages, DAYS_30, service="mail")
    business = availability(outages, DAYS_30, service="mail", calendar=NineToFiveUtc())
    assert business.downtime <= real.downtime
    assert business.outage_count <= real.outage_count
    assert 0 <= business.availability <= 1
