"""The hand-written corpus (corpus_business_time.py) against the calendar."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from corpus_business_time import CASES, Case

from itsmcore.sla.calendar import BusinessCalendar


def test_corpus_has_at_least_forty_cases_with_unique_names() -> None:
    names = [case.name for case in CASES]
    assert len(names) >= 40
    assert len(set(names)) == len(names)


def in_utc(value: Any) -> Any:
    """Instants compared in UTC: Python's == never equates a fold reading (fold=1) with a
    datetime in another zone (PEP 495), even when both denote the same instant."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    if isinstance(value, list):
        return [tuple(in_utc(item) for item in pair) for pair in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_corpus_case(case: Case) -> None:
    calendar = BusinessCalendar.from_dict(case.calendar)
    result = getattr(calendar, case.op)(*case.args)
    assert in_utc(result) == in_utc(case.expected)
    if isinstance(result, datetime):
        assert result.tzinfo is calendar.tzinfo
    if case.op == "windows":
        for start, end in result:
            assert start.tzinfo is calendar.tzinfo
            assert end.tzinfo is calendar.tzinfo
