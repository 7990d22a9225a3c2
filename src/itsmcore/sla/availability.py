"""Service availability from outage intervals: the ITIL availability %, downtime, MTBF, MTRS.

The convention (ITIL; ISO/IEC 20000-1 agrees)::

    availability = (agreed service time − downtime) / agreed service time

* **Agreed service time** is the period's length (24×7), or the business time a calendar
  counts in the period, *minus* planned downtime: planned maintenance is not time the
  service was promised, so it is taken out of both numerator and denominator.
* **Downtime** is the union of the unplanned outages clipped to the period (overlapping
  or touching outages are merged, never counted twice), minus any part that lies inside
  a planned window (that time is already out of the agreed service time).
* With ``exclude_planned=False`` (a policy that counts maintenance against the service),
  the agreed service time is the whole period and planned windows are downtime too.

Every duration is an exact :class:`datetime.timedelta` (microsecond resolution) and the
availability an exact :class:`fractions.Fraction`; floats appear only in
:attr:`AvailabilityReport.percent`, for display. All interval arithmetic is done on
UTC instants, so months that cross a DST change have their true length.

Pure: nothing here reads the clock. An ongoing outage (``end=None``) counts up to the
period's end, so for a month-to-date report pass a period that ends *now*.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Protocol

import attrs

from itsmcore.errors import ValidationError

__all__ = [
    "AvailabilityReport",
    "HasBusinessTime",
    "Outage",
    "Period",
    "availability",
]

_MICROSECOND = timedelta(microseconds=1)
_Span = tuple[datetime, datetime]


class HasBusinessTime(Protocol):
    """Anything that measures business time, such as ``itsmcore.sla.BusinessCalendar``."""

    def elapsed(self, a: datetime, b: datetime, /) -> timedelta:
        """The business time in ``[a, b)`` (zero when ``b <= a``)."""
        ...


def _aware_problem(value: object) -> str | None:
    if not isinstance(value, datetime):
        return f"expected a timezone-aware datetime, got {type(value).__name__}"
    if value.tzinfo is None or value.utcoffset() is None:
        return "naive datetime: attach a time zone (e.g. tzinfo=timezone.utc or a ZoneInfo)"
    return None


@attrs.frozen
class Period:
    """A half-open reporting period ``[start, end)`` of aware instants.

    Raises :class:`ValidationError` when either end is naive or ``end`` is not after
    ``start``.
    """

    start: datetime
    end: datetime

    def __attrs_post_init__(self) -> None:
        errors = [
            (path, problem)
            for path, value in (("$.start", self.start), ("$.end", self.end))
            if (problem := _aware_problem(value)) is not None
        ]
        if not errors and self.end.astimezone(UTC) <= self.start.astimezone(UTC):
            errors.append(("$.end", "a period must end after it starts"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def month(cls, year: int, month: int, tz: tzinfo) -> Period:
        """The calendar month ``year-month`` in time zone ``tz`` (e.g. a ``ZoneInfo``).

        It runs from local midnight on the 1st to local midnight on the 1st of the next
        month, so its :attr:`length` includes any DST change.
        """
        if isinstance(month, bool) or not isinstance(month, int) or not 1 <= month <= 12:
            raise ValidationError.single("$.month", f"month must be 1..12, got {month}")
        if not isinstance(tz, tzinfo):
            raise ValidationError.single(
                "$.tz", f"expected a tzinfo (e.g. ZoneInfo('Europe/Berlin')), got {tz!r}"
            )
        if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9998:
            raise ValidationError.single("$.year", f"year must be 1..9998, got {year}")
        next_year, next_month = (year + 1, 1) if month == 12 else (year, month + 1)
        return cls(
            datetime(year, month, 1, tzinfo=tz), datetime(next_year, next_month, 1, tzinfo=tz)
        )

    @property
    def length(self) -> timedelta:
        """The real (elapsed) length of the period."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)


@attrs.frozen
class Outage:
    """One interruption of a service: ``[start, end)``, planned (maintenance) or not.

    ``end=None`` means the outage is still ongoing. ``id`` is free text for the caller
    (e.g. the incident or change that records it). Raises :class:`ValidationError` when
    ``service`` is empty, a datetime is naive, or ``end`` is before ``start``.
    """

    service: str
    start: datetime
    end: datetime | None = None
    planned: bool = False
    id: str = ""

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not isinstance(self.service, str) or not self.service:
            errors.append(("$.service", "name the service the outage affected"))
        if (problem := _aware_problem(self.start)) is not None:
            errors.append(("$.start", problem))
        if self.end is not None and (problem := _aware_problem(self.end)) is not None:
            errors.append(("$.end", problem))
        if (
            not errors
            and self.end is not None
            and self.end.astimezone(UTC) < self.start.astimezone(UTC)
        ):
            errors.append(("$.end", "an outage cannot end before it starts; swap start and end"))
        if errors:
            raise ValidationError(errors)

    @property
    def ongoing(self) -> bool:
        """True while the outage has no end."""
        return self.end is None


@attrs.frozen
class AvailabilityReport:
    """Availability of one service over one period (see the module docstring).

    Durations are real time, or business time when a calendar was given
    (``business_time`` is then True). Fields:

    * ``agreed_time``: the period (or its business time) minus planned downtime
      (not minus it when planned downtime was counted as downtime).
    * ``downtime``: merged unplanned downtime inside the agreed time.
    * ``planned_downtime``: merged planned windows inside the period.
    * ``availability``: exact ratio in [0, 1]; 1 when ``agreed_time`` is zero (nothing
      was promised, so nothing was missed).
    * ``outage_count``: the number of failures, i.e. merged downtime episodes: overlapping
      or touching unplanned outages form one episode, and an episode counts only if it
      caused some downtime (one wholly inside a planned window, or outside the
      calendar's hours, does not). A planned window inside an episode does not split it.
    * ``mtbf``: mean time between failures, (agreed − downtime) / outage_count.
    * ``mtrs``: mean time to restore service, downtime / outage_count. Both are None
      without failures and rounded to the microsecond.
    * ``target``, ``allowed_downtime`` (agreed × (1 − target), rounded down to the
      microsecond so the budget is never overstated), ``attained``
      (availability ≥ target) and ``remaining_budget`` (allowed − downtime, negative
      once breached): all None without a target.
    * ``downtime_intervals``: the merged downtime as ``(start, end)`` pairs in the
      period's time zone (real instants, even in business-time mode).
    """

    service: str
    period: Period
    agreed_time: timedelta
    downtime: timedelta
    planned_downtime: timedelta
    availability: Fraction
    outage_count: int
    mtbf: timedelta | None
    mtrs: timedelta | None
    target: Fraction | None
    allowed_downtime: timedelta | None
    attained: bool | None
    remaining_budget: timedelta | None
    downtime_intervals: tuple[tuple[datetime, datetime], ...]
    business_time: bool

    @property
    def percent(self) -> float:
        """Availability in percent, as a float for display (99.9 means 99.9 %)."""
        return float(self.availability * 100)


def _parse_target(target: Fraction | Decimal | float | str) -> Fraction:
    """A target as an exact ratio: ``Fraction``, ``Decimal``, ``int``, ``float`` (read by
    its shortest repr, so ``0.999`` is exactly 999/1000), ``"0.999"`` or ``"99.9%"``."""
    if isinstance(target, bool):
        raise ValidationError.single("$.target", "expected a ratio such as 0.999 or '99.9%'")
    try:
        if isinstance(target, Fraction):
            value = target
        elif isinstance(target, int | Decimal):
            value = Fraction(target)
        elif isinstance(target, float):
            if not math.isfinite(target):
                raise ValueError(target)
            value = Fraction(repr(target))
        elif isinstance(target, str):
            text = target.strip()
            percent = text.endswith("%")
            value = Fraction(Decimal(text.removesuffix("%").strip()))
            if percent:
                value /= 100
        else:
            raise TypeError(type(target).__name__)
    except (ValueError, TypeError, ArithmeticError, InvalidOperation):
        raise ValidationError.single(
            "$.target", f"expected a ratio such as 0.999 or '99.9%', got {target!r}"
        ) from None
    if not 0 <= value <= 1:
        raise ValidationError.single(
            "$.target",
            f"a target is a ratio between 0 and 1 (got {target!r}); write 0.999 or '99.9%'",
        )
    return value


def _union(spans: Iterable[_Span]) -> list[_Span]:
    """Sorted, disjoint union of half-open spans; touching spans are joined."""
    merged: list[_Span] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _subtract(span: _Span, holes: Sequence[_Span]) -> list[_Span]:
    """The parts of ``span`` outside the sorted, disjoint ``holes``."""
    pieces: list[_Span] = []
    cursor, end = span
    for hole_start, hole_end in holes:
        if hole_end <= cursor:
            continue
        if hole_start >= end:
            break
        if hole_start > cursor:
            pieces.append((cursor, hole_start))
        cursor = max(cursor, hole_end)
        if cursor >= end:
            break
    if cursor < end:
        pieces.append((cursor, end))
    return pieces


def _measure(spans: Iterable[_Span], calendar: HasBusinessTime | None) -> timedelta:
    if calendar is None:
        return sum((end - start for start, end in spans), timedelta(0))
    return sum((calendar.elapsed(start, end) for start, end in spans), timedelta(0))


def _select(outages: Iterable[object], service: str | None) -> tuple[str, list[Outage]]:
    chosen: list[Outage] = []
    errors: list[tuple[str, str]] = []
    for index, outage in enumerate(outages):
        if not isinstance(outage, Outage):
            errors.append(
                (f"$.outages[{index}]", f"expected an Outage, got {type(outage).__name__}")
            )
        elif service is None or outage.service == service:
            chosen.append(outage)
    if errors:
        raise ValidationError(errors)
    if service is not None:
        return service, chosen
    names = sorted({o.service for o in chosen})
    if len(names) > 1:
        listed = ", ".join(repr(n) for n in names)
        raise ValidationError.single(
            "$.service",
            f"the outages name {len(names)} services ({listed}); pass service= to choose one",
        )
    return (names[0] if names else ""), chosen


def availability(
    outages: Iterable[Outage],
    period: Period,
    *,
    service: str | None = None,
    calendar: HasBusinessTime | None = None,
    target: Fraction | Decimal | float | str | None = None,
    exclude_planned: bool = True,
) -> AvailabilityReport:
    """Availability of one service over ``period`` from its outages.

    Args:
        outages: outages of any services; only those of ``service`` are used. Outages
            are clipped to the period; an ongoing one counts up to the period's end.
        period: the reporting period.
        service: the service to report on. When omitted, all outages must name the
            same service.
        calendar: measure every duration in this calendar's business time (agreed
            service hours) instead of real time; anything with ``elapsed(a, b)``.
        target: the availability target as a ratio (``Fraction("999/1000")``,
            ``Decimal("0.999")``, ``0.999`` or ``"99.9%"``); adds the downtime budget.
        exclude_planned: take planned maintenance out of the agreed service time (the
            ITIL convention, default). False counts planned windows as downtime.

    Raises:
        ValidationError: an item that is not an :class:`Outage` (``$.outages[i]``),
            outages of several services without ``service`` (``$.service``), or a
            target that is not a ratio in [0, 1] (``$.target``).

    Example: 99.9 % over a 30-day period allows exactly 43 min 12 s of downtime.
    """
    if not isinstance(period, Period):
        raise ValidationError.single("$.period", "expected a Period(start, end)")
    wanted = _parse_target(target) if target is not None else None
    name, chosen = _select(outages, service)

    window = (period.start.astimezone(UTC), period.end.astimezone(UTC))
    unplanned: list[_Span] = []
    planned: list[_Span] = []
    for outage in chosen:
        start = max(outage.start.astimezone(UTC), window[0])
        end = window[1] if outage.end is None else min(outage.end.astimezone(UTC), window[1])
        if start < end:
            (planned if outage.planned else unplanned).append((start, end))

    planned_spans = _union(planned)
    planned_downtime = _measure(planned_spans, calendar)
    whole = _measure([window], calendar)
    if exclude_planned:
        episodes = _union(unplanned)
        holes: list[_Span] = planned_spans
        agreed = whole - planned_downtime
    else:
        episodes = _union(unplanned + planned)
        holes = []
        agreed = whole

    down_spans: list[_Span] = []
    downtime = timedelta(0)
    failures = 0
    for episode in episodes:
        pieces = _subtract(episode, holes)
        lost = _measure(pieces, calendar)
        if lost > timedelta(0):
            failures += 1
            downtime += lost
            down_spans.extend(pieces)

    agreed_us = agreed // _MICROSECOND
    ratio = (
        Fraction(1) if agreed_us == 0 else Fraction(agreed_us - downtime // _MICROSECOND, agreed_us)
    )
    allowed = attained = remaining = None
    if wanted is not None:
        allowed = _MICROSECOND * math.floor(agreed_us * (1 - wanted))
        attained = ratio >= wanted
        remaining = allowed - downtime
    zone = period.start.tzinfo
    return AvailabilityReport(
        service=name,
        period=period,
        agreed_time=agreed,
        downtime=downtime,
        planned_downtime=planned_downtime,
        availability=ratio,
        outage_count=failures,
        mtbf=(agreed - downtime) / failures if failures else None,
        mtrs=downtime / failures if failures else None,
        target=wanted,
        allowed_downtime=allowed,
        attained=attained,
        remaining_budget=remaining,
        downtime_intervals=tuple((s.astimezone(zone), e.astimezone(zone)) for s, e in down_spans),
        business_time=calendar is not None,
    )
