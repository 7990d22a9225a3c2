"""Holidays and make-up days from the `holidays` package and from iCalendar files."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from itsmcore.errors import ItsmError, ValidationError
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.holidays import MissingExtra, ical_closed_dates

WORKDAYS = ("mon", "tue", "wed", "thu", "fri")
H = timedelta(hours=1)


def office(zone: str, hours: str = "09:00-17:00") -> BusinessCalendar:
    return BusinessCalendar(zone, week={day: [hours] for day in WORKDAYS})


def local_day(calendar: BusinessCalendar, day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, datetime.min.time(), calendar.tzinfo)
    return start, datetime.combine(day + timedelta(days=1), datetime.min.time(), calendar.tzinfo)


# -- the holidays package -------------------------------------------------------------


def test_german_holidays_close_christmas_and_the_regional_day() -> None:
    calendar = office("Europe/Berlin").with_holidays("DE", "BY", years=2026)
    overrides = calendar.to_dict()["overrides"]
    assert overrides["2026-12-25"] == []
    assert overrides["2026-11-01"] == []  # All Saints' Day, Bavaria only
    assert calendar.elapsed(*local_day(calendar, date(2026, 12, 25))) == timedelta(0)
    assert calendar.elapsed(*local_day(calendar, date(2026, 12, 23))) == 8 * H


def test_a_subdivision_without_the_regional_day_stays_open() -> None:
    overrides = office("Europe/Berlin").with_holidays("DE", "BE", years=2026).to_dict()
    assert "2026-11-01" not in overrides["overrides"]


def test_holidays_of_several_years_and_only_those() -> None:
    calendar = office("Europe/Berlin").with_holidays("DE", years=range(2026, 2028))
    days = calendar.to_dict()["overrides"]
    assert {"2026-12-25", "2027-12-25"} <= set(days)
    assert not any(day.startswith(("2025", "2028")) for day in days)


def test_chinese_make_up_sunday_gets_the_monday_windows() -> None:
    calendar = office("Asia/Shanghai", "09:00-18:00").with_holidays("CN", years=2024)
    overrides = calendar.to_dict()["overrides"]
    assert overrides["2024-02-04"] == ["09:00-18:00"]  # Sunday worked for Spring Festival
    assert overrides["2024-02-15"] == []
    assert calendar.elapsed(*local_day(calendar, date(2024, 2, 4))) == 9 * H


def test_make_up_windows_can_be_given() -> None:
    calendar = office("Asia/Shanghai").with_holidays(
        "CN", years=2024, makeup_windows=["10:00-12:00"]
    )
    assert calendar.to_dict()["overrides"]["2024-02-04"] == ["10:00-12:00"]


def test_make_up_day_needs_windows_when_monday_is_closed() -> None:
    weekend_only = BusinessCalendar("Asia/Shanghai", week={"tue": ["09:00-17:00"]})
    with pytest.raises(ValidationError) as caught:
        weekend_only.with_holidays("CN", years=2024)
    assert caught.value.errors[0][0] == "$.makeup_windows"


def test_existing_overrides_win_over_the_holiday_table() -> None:
    calendar = office("Europe/Berlin").with_overrides({"2026-12-25": ["10:00-12:00"]})
    assert calendar.with_holidays("DE", years=2026).to_dict()["overrides"]["2026-12-25"] == [
        "10:00-12:00"
    ]


def test_a_holiday_removes_the_night_shift_that_starts_on_it() -> None:
    nights = BusinessCalendar("Europe/Berlin", week={day: ["22:00-06:00"] for day in WORKDAYS})
    closed = nights.with_holidays("DE", years=2026)  # Thursday 2026-12-24 open, Fri 25 closed
    friday_night = datetime(2026, 12, 25, 22, tzinfo=ZoneInfo("Europe/Berlin"))
    thursday_night = datetime(2026, 12, 24, 22, tzinfo=ZoneInfo("Europe/Berlin"))
    assert closed.elapsed(thursday_night, thursday_night + 8 * H) == 8 * H
    assert closed.elapsed(friday_night, friday_night + 8 * H) == timedelta(0)


@pytest.mark.parametrize(
    ("kwargs", "path"),
    [
        ({"country": "XX", "years": 2026}, "$.country"),
        ({"country": "DE", "subdiv": "ZZ", "years": 2026}, "$.subdiv"),
        ({"country": "DE", "years": []}, "$.years"),
        ({"country": "DE", "years": "2026"}, "$.years"),
        ({"country": "DE", "years": [2026, 0]}, "$.years"),
        ({"country": "DE", "years": 2026, "makeup_windows": ["9-5"]}, "$.makeup_windows[0]"),
    ],
)
def test_bad_holiday_arguments_are_validation_errors(kwargs: dict[str, object], path: str) -> None:
    with pytest.raises(ValidationError) as caught:
        office("Europe/Berlin").with_holidays(**kwargs)  # type: ignore[arg-type]
    assert caught.value.errors[0][0] == path


def test_missing_holidays_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)
    with pytest.raises(MissingExtra, match=r"pip install 'itsmcore\[holidays\]'") as caught:
        office("UTC").with_holidays("DE", years=2026)
    assert isinstance(caught.value, ItsmError)
    assert isinstance(caught.value, ImportError)


# -- iCalendar ----------------------------------------------------------------------

ICS = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//itsmcore tests//EN
BEGIN:VEVENT
UID:one-day
DTSTART;VALUE=DATE:20261224
SUMMARY:Company day off
END:VEVENT
BEGIN:VEVENT
UID:two-days
DTSTART;VALUE=DATE:20261230
DTEND;VALUE=DATE:20270101
SUMMARY:Year-end closure
END:VEVENT
BEGIN:VEVENT
UID:by-duration
DTSTART;VALUE=DATE:20260814
DURATION:P3D
SUMMARY:Summer closure
END:VEVENT
BEGIN:VEVENT
UID:timed
DTSTART:20261123T100000Z
DTEND:20261123T110000Z
SUMMARY:All-hands meeting
END:VEVENT
BEGIN:VEVENT
UID:cancelled
DTSTART;VALUE=DATE:20261125
STATUS:CANCELLED
SUMMARY:Cancelled closure
END:VEVENT
END:VCALENDAR
"""

RECURRING = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//itsmcore tests//EN
BEGIN:VEVENT
UID:xmas
DTSTART;VALUE=DATE:20251225
DTEND;VALUE=DATE:20251226
RRULE:FREQ=YEARLY
EXDATE;VALUE=DATE:20271225
SUMMARY:Christmas
END:VEVENT
END:VCALENDAR
"""


def test_all_day_events_close_each_date_they_cover() -> None:
    assert ical_closed_dates(ICS) == [
        date(2026, 8, 14),
        date(2026, 8, 15),
        date(2026, 8, 16),
        date(2026, 12, 24),
        date(2026, 12, 30),
        date(2026, 12, 31),
    ]


def test_with_ical_turns_events_into_closed_overrides() -> None:
    calendar = office("Europe/Berlin").with_ical(ICS)
    overrides = calendar.to_dict()["overrides"]
    assert overrides["2026-12-24"] == []
    assert "2026-11-23" not in overrides  # the timed event does not close the day
    assert "2026-11-25" not in overrides  # cancelled
    assert calendar.elapsed(*local_day(calendar, date(2026, 12, 24))) == timedelta(0)


def test_ical_from_a_path_or_text_gives_the_same_dates(tmp_path: Path) -> None:
    path = tmp_path / "closures.ics"
    path.write_bytes(ICS)
    assert ical_closed_dates(path) == ical_closed_dates(str(path)) == ical_closed_dates(ICS)
    assert ical_closed_dates(ICS.decode()) == ical_closed_dates(ICS)


def test_recurring_events_are_expanded_within_the_years_asked() -> None:
    assert ical_closed_dates(RECURRING, years=range(2025, 2029)) == [
        date(2025, 12, 25),
        date(2026, 12, 25),
        date(2028, 12, 25),
    ]


def test_recurring_events_need_years() -> None:
    with pytest.raises(ValidationError) as caught:
        ical_closed_dates(RECURRING)
    assert caught.value.errors[0][0] == "$.years"


def test_unreadable_or_malformed_ical_is_a_validation_error(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        ical_closed_dates(tmp_path / "missing.ics")
    with pytest.raises(ValidationError, match="not a valid iCalendar"):
        ical_closed_dates(b"this is not a calendar")
    with pytest.raises(ValidationError):
        ical_closed_dates(42)  # type: ignore[arg-type]


def test_missing_icalendar_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "icalendar", None)
    with pytest.raises(MissingExtra, match=r"pip install 'itsmcore\[ical\]'"):
        office("UTC").with_ical(ICS)


def test_ical_holidays_keep_existing_overrides() -> None:
    calendar = office("UTC").with_overrides({"2026-12-24": ["09:00-12:00"]}).with_ical(ICS)
    assert calendar.to_dict()["overrides"]["2026-12-24"] == ["09:00-12:00"]
    christmas_eve = datetime(2026, 12, 24, tzinfo=UTC)
    assert calendar.elapsed(christmas_eve, christmas_eve + 24 * H) == 3 * H
