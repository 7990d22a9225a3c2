"""A hand-written corpus of business-time cases with their expected values.

Every expected value here was worked out by hand from the rules in design.md §3 and the
zone's published transitions (noted beside each case), not by running the code. Instants
are written in UTC so that the arithmetic is visible; the local reading is in comments.

Transitions used (2026 unless noted):
- Europe/Berlin: gap 03-29 02:00→03:00 (at 01:00Z); fold 10-25 03:00→02:00 (at 01:00Z).
- America/New_York: gap 03-08 02:00→03:00 (07:00Z); fold 11-01 02:00→01:00 (06:00Z).
- Australia/Lord_Howe (+10:30/+11): fold 04-05 02:00→01:30 (04-04 15:00Z);
  gap 10-04 02:00→02:30 (10-03 15:30Z).
- Pacific/Chatham (+12:45/+13:45): fold 04-05 03:45→02:45 (04-04 14:00Z);
  gap 09-27 02:45→03:45 (09-26 14:00Z).
- America/Havana (-5/-4): gap 03-08 00:00→01:00 (05:00Z); fold 11-01 01:00→00:00 (05:00Z).
- America/Santiago (-4/-3): fold 04-04 24:00→23:00 (04-05 03:00Z);
  gap 09-06 00:00→01:00 (04:00Z).
- Asia/Kathmandu: +05:45 all year. Asia/Shanghai: +08:00 all year.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

H = timedelta(hours=1)
M = timedelta(minutes=1)
US = timedelta(microseconds=1)
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")


def Z(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    """A UTC instant: Z(2026, 11, 23, 9) is 2026-11-23T09:00Z."""
    return datetime(year, month, day, hour, minute, second, us, tzinfo=UTC)


def cal(
    zone: str, week: dict[str, list[str]], overrides: dict[str, list[str]] | None = None
) -> dict[str, Any]:
    return {"timezone": zone, "week": week, "overrides": overrides or {}}


def office(zone: str = "UTC", hours: str = "09:00-17:00", **overrides: list[str]) -> dict[str, Any]:
    """Monday to Friday, one window; overrides given as d2026_12_25=[] keywords."""
    return cal(
        zone,
        {day: [hours] for day in WORKDAYS},
        {key[1:].replace("_", "-"): value for key, value in overrides.items()},
    )


def sunday(zone: str, *windows: str) -> dict[str, Any]:
    return cal(zone, {"sun": list(windows)})


def saturday(zone: str, *windows: str) -> dict[str, Any]:
    return cal(zone, {"sat": list(windows)})


@dataclass(frozen=True)
class Case:
    name: str
    calendar: dict[str, Any]
    op: str  # elapsed | add | is_open | next_open | windows
    args: tuple[Any, ...]
    expected: Any


NIGHTS = cal("UTC", {day: ["22:00-06:00"] for day in WORKDAYS})
SHANGHAI = cal(
    "Asia/Shanghai",
    {day: ["09:00-18:00"] for day in WORKDAYS},
    {"2024-02-04": ["09:00-18:00"], "2024-02-15": [], "2024-02-16": []},
)

CASES: list[Case] = [
    # -- plain office hours, UTC; 2026-11-23 is a Monday --------------------------------
    Case(
        "add_eight_hours_from_monday_nine_ends_monday_five",
        office(),
        "add",
        (Z(2026, 11, 23, 9), 8 * H),
        Z(2026, 11, 23, 17),
    ),
    Case(
        "add_a_microsecond_past_a_full_day_ends_next_morning",
        office(),
        "add",
        (Z(2026, 11, 23, 9), 8 * H + US),
        Z(2026, 11, 24, 9, 0, 0, 1),
    ),
    Case(
        "add_from_friday_afternoon_crosses_the_weekend",
        office(),
        "add",
        (Z(2026, 11, 27, 16), 2 * H),
        Z(2026, 11, 30, 10),
    ),
    Case(
        "elapsed_counts_only_the_window",
        office(),
        "elapsed",
        (Z(2026, 11, 23, 8), Z(2026, 11, 23, 18)),
        8 * H,
    ),
    Case(
        "elapsed_over_a_weekend_counts_friday_and_monday",
        office(),
        "elapsed",
        (Z(2026, 11, 27, 12), Z(2026, 11, 30, 12)),
        8 * H,
    ),
    Case(
        "add_zero_on_a_closed_saturday_is_the_start",
        office(),
        "add",
        (Z(2026, 11, 28, 12), timedelta(0)),
        Z(2026, 11, 28, 12),
    ),
    Case(
        "add_from_closed_time_counts_from_the_next_opening",
        office(),
        "add",
        (Z(2026, 11, 28, 12), H),
        Z(2026, 11, 30, 10),
    ),
    Case("window_start_is_open", office(), "is_open", (Z(2026, 11, 23, 9),), True),
    Case("window_end_is_closed", office(), "is_open", (Z(2026, 11, 23, 17),), False),
    Case(
        "next_open_on_saturday_is_monday_nine",
        office(),
        "next_open",
        (Z(2026, 11, 28, 12),),
        Z(2026, 11, 30, 9),
    ),
    Case(
        "two_microseconds_from_the_last_one_wrap_to_the_next_morning",
        office(),
        "add",
        (Z(2026, 11, 23, 16, 59, 59, 999_999), 2 * US),
        Z(2026, 11, 24, 9, 0, 0, 1),
    ),
    Case(
        "elapsed_is_exact_to_the_microsecond",
        office(),
        "elapsed",
        (Z(2026, 11, 23, 9, 0, 0, 1), Z(2026, 11, 23, 9, 0, 0, 250)),
        249 * US,
    ),
    Case(
        "elapsed_of_an_empty_range_is_zero",
        office(),
        "elapsed",
        (Z(2026, 11, 23, 10), Z(2026, 11, 23, 10)),
        timedelta(0),
    ),
    Case(
        "elapsed_accepts_instants_in_other_zones",
        office(),
        "elapsed",
        (
            datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Europe/Berlin")),  # 09:00Z
            datetime(2026, 11, 23, 12, tzinfo=ZoneInfo("America/New_York")),
        ),  # 17:00Z
        8 * H,
    ),
    Case(
        "windows_lists_open_intervals_clipped_to_the_range",
        office(),
        "windows",
        (Z(2026, 11, 23, 8), Z(2026, 11, 24, 10)),
        [(Z(2026, 11, 23, 9), Z(2026, 11, 23, 17)), (Z(2026, 11, 24, 9), Z(2026, 11, 24, 10))],
    ),
    # -- Berlin DST -------------------------------------------------------------------
    # Sun 03-29 00:00 CET = 03-28 23:00Z; Mon 00:00 CEST = 03-29 22:00Z.
    Case(
        "whole_day_on_spring_forward_sunday_is_23_hours",
        sunday("Europe/Berlin", "00:00-24:00"),
        "elapsed",
        (Z(2026, 3, 28, 12), Z(2026, 3, 30, 12)),
        23 * H,
    ),
    # Sun 10-25 00:00 CEST = 10-24 22:00Z; Mon 00:00 CET = 10-25 23:00Z.
    Case(
        "whole_day_on_fall_back_sunday_is_25_hours",
        sunday("Europe/Berlin", "00:00-24:00"),
        "elapsed",
        (Z(2026, 10, 24, 12), Z(2026, 10, 26, 12)),
        25 * H,
    ),
    Case(
        "add_23_hours_on_spring_forward_sunday_ends_at_midnight",
        sunday("Europe/Berlin", "00:00-24:00"),
        "add",
        (Z(2026, 3, 28, 12), 23 * H),
        Z(2026, 3, 29, 22),
    ),
    Case(
        "window_inside_the_spring_forward_gap_has_no_time",
        sunday("Europe/Berlin", "02:00-03:00"),
        "elapsed",
        (Z(2026, 3, 28, 12), Z(2026, 3, 30, 12)),
        timedelta(0),
    ),
    # 02:00-03:00 CEST = 00:00-01:00Z, then 02:00-03:00 CET = 01:00-02:00Z.
    Case(
        "window_inside_the_fall_back_fold_counts_twice",
        sunday("Europe/Berlin", "02:00-03:00"),
        "elapsed",
        (Z(2026, 10, 24, 12), Z(2026, 10, 26, 12)),
        2 * H,
    ),
    Case(
        "add_inside_the_fold_ends_at_the_second_reading",
        sunday("Europe/Berlin", "02:00-03:00"),
        "add",
        (Z(2026, 10, 25, 0, 30), H),
        Z(2026, 10, 25, 1, 30),
    ),
    Case(
        "fold_window_after_its_first_half_hour_gives_two_intervals",
        sunday("Europe/Berlin", "02:30-03:00"),
        "windows",
        (Z(2026, 10, 24, 12), Z(2026, 10, 26, 12)),
        [
            (Z(2026, 10, 25, 0, 30), Z(2026, 10, 25, 1)),
            (Z(2026, 10, 25, 1, 30), Z(2026, 10, 25, 2)),
        ],
    ),
    # 30 minutes in the first reading (00:30-01:00Z), 15 in the second (from 01:30Z).
    Case(
        "add_into_the_second_reading_of_a_split_fold_window",
        sunday("Europe/Berlin", "02:30-03:00"),
        "add",
        (Z(2026, 10, 25, 0, 30), 45 * M),
        Z(2026, 10, 25, 1, 45),
    ),
    Case(
        "next_open_between_the_two_readings_is_the_second",
        sunday("Europe/Berlin", "02:30-03:00"),
        "next_open",
        (Z(2026, 10, 25, 1, 10),),
        Z(2026, 10, 25, 1, 30),
    ),
    # 01:45-02:00 (+11) = 04-04 14:45-15:00Z; (+10:30) = 15:15-15:30Z.
    Case(
        "lord_howe_add_into_the_second_reading",
        sunday("Australia/Lord_Howe", "01:45-02:00"),
        "add",
        (Z(2026, 4, 4, 14, 45), 20 * M),
        Z(2026, 4, 4, 15, 20),
    ),
    # 23:30-24:00 (-3) = 04-05 02:30-03:00Z; (-4) = 03:30-04:00Z.
    Case(
        "santiago_add_into_the_second_reading",
        saturday("America/Santiago", "23:30-24:00"),
        "add",
        (Z(2026, 4, 5, 2, 30), 45 * M),
        Z(2026, 4, 5, 3, 45),
    ),
    # 01:30-02:00 EDT = 05:30-06:00Z; EST = 06:30-07:00Z.
    Case(
        "new_york_add_into_the_second_reading",
        sunday("America/New_York", "01:30-02:00"),
        "add",
        (Z(2026, 11, 1, 5, 30), 40 * M),
        Z(2026, 11, 1, 6, 40),
    ),
    # 01:30-02:00 CET = 00:30-01:00Z; 03:00-03:30 CEST = 01:00-01:30Z.
    Case(
        "window_across_the_gap_counts_what_the_clock_shows",
        sunday("Europe/Berlin", "01:30-03:30"),
        "elapsed",
        (Z(2026, 3, 28, 12), Z(2026, 3, 30, 12)),
        H,
    ),
    # Sat 22:00 CET = 21:00Z; Sun 06:00 CEST = 04:00Z.
    Case(
        "overnight_shift_into_spring_forward_is_seven_hours",
        saturday("Europe/Berlin", "22:00-06:00"),
        "elapsed",
        (Z(2026, 3, 28), Z(2026, 3, 30)),
        7 * H,
    ),
    # Sat 22:00 CEST = 20:00Z; Sun 06:00 CET = 05:00Z.
    Case(
        "overnight_shift_into_fall_back_is_nine_hours",
        saturday("Europe/Berlin", "22:00-06:00"),
        "elapsed",
        (Z(2026, 10, 24), Z(2026, 10, 26)),
        9 * H,
    ),
    # Override on a closed Sunday: 01:00 CEST = 10-24 23:00Z; 04:00 CET = 03:00Z.
    Case(
        "override_window_over_the_fold_is_four_real_hours",
        cal("Europe/Berlin", {}, {"2026-10-25": ["01:00-04:00"]}),
        "elapsed",
        (Z(2026, 10, 24), Z(2026, 10, 26)),
        4 * H,
    ),
    Case(
        "always_counts_real_hours_over_spring_forward",
        cal(
            "Europe/Berlin",
            {day: ["00:00-24:00"] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        ),
        "elapsed",
        (Z(2026, 3, 28), Z(2026, 3, 30)),
        48 * H,
    ),
    # -- New York -----------------------------------------------------------------------
    # Sat 20:00 EDT = 11-01 00:00Z; Sun 08:00 EST = 13:00Z.
    Case(
        "new_york_overnight_shift_over_fall_back_is_13_hours",
        saturday("America/New_York", "20:00-08:00"),
        "elapsed",
        (Z(2026, 10, 31, 12), Z(2026, 11, 2, 12)),
        13 * H,
    ),
    # 01:00 EDT = 05:00Z ... 02:00 EST = 07:00Z.
    Case(
        "new_york_repeated_hour_counts_twice",
        sunday("America/New_York", "01:00-02:00"),
        "elapsed",
        (Z(2026, 10, 31, 12), Z(2026, 11, 2, 12)),
        2 * H,
    ),
    Case(
        "new_york_add_in_repeated_hour",
        sunday("America/New_York", "01:00-02:00"),
        "add",
        (Z(2026, 11, 1, 5, 30), H),
        Z(2026, 11, 1, 6, 30),
    ),
    # 03-08's window is in the gap; the next Sunday's 02:00 EDT = 03-15 06:00Z.
    Case(
        "next_open_skips_a_window_lost_in_the_gap",
        sunday("America/New_York", "02:00-03:00"),
        "next_open",
        (Z(2026, 3, 7, 12),),
        Z(2026, 3, 15, 6),
    ),
    # -- Lord Howe (half-hour DST) -------------------------------------------------------
    # Sun 04-05 00:00 (+11) = 04-04 13:00Z; Mon 00:00 (+10:30) = 04-05 13:30Z.
    Case(
        "lord_howe_whole_day_on_fall_back_is_24_and_a_half_hours",
        sunday("Australia/Lord_Howe", "00:00-24:00"),
        "elapsed",
        (Z(2026, 4, 3), Z(2026, 4, 6, 12)),
        24 * H + 30 * M,
    ),
    # Sun 10-04 00:00 (+10:30) = 10-03 13:30Z; Mon 00:00 (+11) = 10-04 13:00Z.
    Case(
        "lord_howe_whole_day_on_spring_forward_is_23_and_a_half_hours",
        sunday("Australia/Lord_Howe", "00:00-24:00"),
        "elapsed",
        (Z(2026, 10, 2), Z(2026, 10, 5)),
        23 * H + 30 * M,
    ),
    # 01:30-02:00 (+11) = 14:30-15:00Z, then (+10:30) = 15:00-15:30Z.
    Case(
        "lord_howe_repeated_half_hour_counts_twice",
        sunday("Australia/Lord_Howe", "01:30-02:00"),
        "elapsed",
        (Z(2026, 4, 3), Z(2026, 4, 6)),
        H,
    ),
    # -- Chatham (+12:45/+13:45) ---------------------------------------------------------
    # 02:00-02:45 (+12:45) = 13:15-14:00Z; 03:45-04:00 (+13:45) = 14:00-14:15Z.
    Case(
        "chatham_window_across_spring_forward_is_one_hour",
        sunday("Pacific/Chatham", "02:00-04:00"),
        "elapsed",
        (Z(2026, 9, 25), Z(2026, 9, 28)),
        H,
    ),
    # 02:00 (+13:45) = 12:15Z; readings run to 03:45 at 14:00Z, restart at 02:45 and
    # reach 04:00 (+12:45) at 15:15Z.
    Case(
        "chatham_window_across_fall_back_is_three_hours",
        sunday("Pacific/Chatham", "02:00-04:00"),
        "elapsed",
        (Z(2026, 4, 3), Z(2026, 4, 6)),
        3 * H,
    ),
    Case(
        "chatham_add_jumps_the_gap",
        sunday("Pacific/Chatham", "02:00-04:00"),
        "add",
        (Z(2026, 9, 26, 13, 15), 50 * M),
        Z(2026, 9, 26, 14, 5),
    ),
    # -- Havana (DST at midnight) --------------------------------------------------------
    # 03-08 00:00 does not exist; readings start at 01:00 CDT = 05:00Z; 24:00 = 03-09 04:00Z.
    Case(
        "havana_whole_day_starting_in_the_midnight_gap_is_23_hours",
        sunday("America/Havana", "00:00-24:00"),
        "elapsed",
        (Z(2026, 3, 7), Z(2026, 3, 10)),
        23 * H,
    ),
    Case(
        "havana_next_open_in_the_midnight_gap_is_one_am",
        sunday("America/Havana", "00:00-24:00"),
        "next_open",
        (Z(2026, 3, 8, 4, 30),),
        Z(2026, 3, 8, 5),
    ),
    # Sat 23:00 CST = 03-08 04:00Z; Sun 01:00 CDT = 05:00Z.
    Case(
        "havana_overnight_shift_into_the_midnight_gap_is_one_hour",
        saturday("America/Havana", "23:00-01:00"),
        "elapsed",
        (Z(2026, 3, 7), Z(2026, 3, 9)),
        H,
    ),
    # 00:00 CDT = 04:00Z, clocks go back at 05:00Z to 00:00 CST, 01:00 CST = 06:00Z.
    Case(
        "havana_repeated_midnight_hour_counts_twice",
        sunday("America/Havana", "00:00-01:00"),
        "elapsed",
        (Z(2026, 10, 31), Z(2026, 11, 2)),
        2 * H,
    ),
    # -- Santiago (DST at midnight) ------------------------------------------------------
    # Sat 23:00 (-3) = 04-05 02:00Z; back to 23:00 (-4) at 03:00Z; 24:00 (-4) = 04:00Z.
    Case(
        "santiago_repeated_saturday_last_hour_counts_twice",
        saturday("America/Santiago", "23:00-24:00"),
        "elapsed",
        (Z(2026, 4, 3), Z(2026, 4, 6)),
        2 * H,
    ),
    # Sat 00:00 (-3) = 04-04 03:00Z; 24:00 (-4) = 04-05 04:00Z.
    Case(
        "santiago_whole_saturday_on_fall_back_is_25_hours",
        saturday("America/Santiago", "00:00-24:00"),
        "elapsed",
        (Z(2026, 4, 3), Z(2026, 4, 6)),
        25 * H,
    ),
    # 09-06 00:00-01:00 does not exist; 01:00 (-3) = 04:00Z, 02:00 = 05:00Z.
    Case(
        "santiago_sunday_window_starting_in_the_gap_is_one_hour",
        sunday("America/Santiago", "00:00-02:00"),
        "elapsed",
        (Z(2026, 9, 5), Z(2026, 9, 7)),
        H,
    ),
    # -- Kathmandu (+05:45) ----------------------------------------------------------
    Case(
        "kathmandu_add_eight_hours_from_nine_local",
        office("Asia/Kathmandu"),
        "add",
        (Z(2026, 11, 23, 3, 15), 8 * H),
        Z(2026, 11, 23, 11, 15),
    ),
    Case(
        "kathmandu_utc_day_holds_one_local_working_day",
        office("Asia/Kathmandu"),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 24)),
        8 * H,
    ),
    # -- holidays and overnight shifts -----------------------------------------------
    Case(
        "overnight_friday_shift_runs_into_saturday",
        NIGHTS,
        "elapsed",
        (Z(2026, 11, 28), Z(2026, 11, 28, 12)),
        6 * H,
    ),
    Case(
        "holiday_removes_the_shift_that_starts_that_day",
        {**NIGHTS, "overrides": {"2026-11-25": []}},
        "elapsed",
        (Z(2026, 11, 25), Z(2026, 11, 26)),
        6 * H,
    ),
    Case(
        "holiday_leaves_the_next_morning_closed",
        {**NIGHTS, "overrides": {"2026-11-25": []}},
        "elapsed",
        (Z(2026, 11, 26), Z(2026, 11, 26, 6)),
        timedelta(0),
    ),
    Case(
        "friday_holiday_removes_the_saturday_morning_tail",
        {**NIGHTS, "overrides": {"2026-11-27": []}},
        "elapsed",
        (Z(2026, 11, 28), Z(2026, 11, 28, 12)),
        timedelta(0),
    ),
    # -- make-up days (Shanghai, 2024-02-04 is a Sunday) -----------------------------
    # Local 09:00-18:00 = 01:00-10:00Z.
    Case(
        "make_up_sunday_counts_as_a_working_day",
        SHANGHAI,
        "elapsed",
        (Z(2024, 2, 3), Z(2024, 2, 5)),
        9 * H,
    ),
    Case(
        "add_from_friday_close_lands_on_the_make_up_sunday",
        SHANGHAI,
        "add",
        (Z(2024, 2, 2, 10), H),
        Z(2024, 2, 4, 2),
    ),
    Case(
        "add_over_closed_thursday_and_friday_lands_on_monday",
        SHANGHAI,
        "add",
        (Z(2024, 2, 14, 10), H),
        Z(2024, 2, 19, 2),
    ),
    # -- leap days -------------------------------------------------------------------
    Case(
        "closed_leap_day_is_skipped",
        office(d2028_02_29=[]),
        "add",
        (Z(2028, 2, 28, 16, 30), H),
        Z(2028, 3, 1, 9, 30),
    ),
    Case("open_leap_day_counts", office(), "elapsed", (Z(2028, 2, 28), Z(2028, 3, 1)), 16 * H),
    # -- 00:00-24:00 versus 00:00-23:59, and 24-hour windows -------------------------
    Case(
        "whole_day_window_counts_24_hours",
        cal("UTC", {"mon": ["00:00-24:00"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 24)),
        24 * H,
    ),
    Case(
        "window_to_23_59_leaves_the_last_minute_out",
        cal("UTC", {"mon": ["00:00-23:59"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 24)),
        23 * H + 59 * M,
    ),
    Case(
        "add_steps_over_the_missing_last_minute",
        cal("UTC", {"mon": ["00:00-23:59"], "tue": ["00:00-23:59"]}),
        "add",
        (Z(2026, 11, 23, 23, 58), 2 * M),
        Z(2026, 11, 24, 0, 1),
    ),
    Case(
        "midnight_to_midnight_window_runs_the_whole_date",
        cal("UTC", {"mon": ["00:00-00:00"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 25)),
        24 * H,
    ),
    Case(
        "equal_start_and_end_is_a_24_hour_window",
        cal("UTC", {"mon": ["09:00-09:00"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 25)),
        24 * H,
    ),
    Case(
        "overlapping_windows_count_once",
        cal("UTC", {"mon": ["09:00-13:00", "12:00-17:00"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 24)),
        8 * H,
    ),
    Case(
        "overnight_window_and_next_morning_window_count_once",
        cal("UTC", {"mon": ["22:00-06:00"], "tue": ["00:00-08:00"]}),
        "elapsed",
        (Z(2026, 11, 23), Z(2026, 11, 25)),
        10 * H,
    ),
    # -- calendars with only override windows ---------------------------------------
    Case(
        "override_only_calendar_reaches_its_one_window",
        cal("UTC", {}, {"2026-12-01": ["09:00-10:00"]}),
        "add",
        (Z(2026, 11, 1), H),
        Z(2026, 12, 1, 10),
    ),
]
