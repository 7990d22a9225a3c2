"""Business calendars: exact business time in a time zone, with holidays and make-up days.

A :class:`BusinessCalendar` answers "how much business time lies between two instants"
(:meth:`~BusinessCalendar.elapsed`) and "when have *d* business hours passed"
(:meth:`~BusinessCalendar.add`), exactly to the microsecond, in the calendar's IANA zone,
across DST gaps and folds. ``docs/business-time.md`` states the meanings with examples.

Why it is fast: the open time is precomputed, lazily and in chunks, as sorted UTC
intervals with prefix sums, so after warm-up each query is two binary searches. The cache
lives inside the calendar but never shows: a calendar is an immutable value whose
equality, hash and :meth:`~BusinessCalendar.to_dict` depend only on its definition.
"""

from __future__ import annotations

import os
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

from itsmcore._time import require_aware, require_timedelta
from itsmcore.errors import NoBusinessTime, ValidationError
from itsmcore.sla._definition import (
    DAYS,
    CalendarDefinition,
    merge_overrides,
    parse_definition,
    parse_overrides,
    window_minutes,
)
from itsmcore.sla._timeline import EPOCH, ONE_US, Span, Timeline, measure_before

__all__ = ["BusinessCalendar"]

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MINUTE = 60_000_000
_ALWAYS = ("00:00-24:00",)
_LAST_US = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_US  # the last instant there is


def _spans(windows: Iterable[str]) -> tuple[Span, ...]:
    """Window texts as (start, length) in microseconds; an end not after the start runs
    overnight (so ``"00:00-00:00"`` and ``"09:00-09:00"`` last 24 hours)."""
    out: list[Span] = []
    for text in windows:
        start, end = window_minutes(text)
        length = end - start if end > start else end + 1440 - start
        out.append((start * _MINUTE, length * _MINUTE))
    return tuple(out)


def _to_us(value: Any, path: str) -> int:
    """An aware datetime as microseconds since the epoch; anything else is rejected."""
    try:
        delta = value - EPOCH
    except TypeError:
        require_aware(value, path)
        raise  # pragma: no cover - require_aware raised already
    if not isinstance(delta, timedelta):
        raise ValidationError.single(
            path, f"expected a timezone-aware datetime, got {type(value).__name__}"
        )
    result: int = delta // ONE_US
    return result


def _overflow(what: str) -> NoReturn:
    raise NoBusinessTime(
        f"{what} would fall after the year 9999, the last year a datetime can hold; "
        "check the duration and the calendar's hours"
    )


class BusinessCalendar:
    """Business hours in one IANA time zone: weekly windows plus per-date overrides.

    Build one with :meth:`from_dict` (the plain-data form), the keyword constructor
    (same fields) or :meth:`always` (24×7). Every datetime argument must be timezone-aware
    (any zone; a naive one raises :class:`~itsmcore.errors.ValidationError`); results are
    aware datetimes in the calendar's zone and :class:`~datetime.timedelta` durations,
    exact to the microsecond.

    Meaning, in short: a window ``"HH:MM-HH:MM"`` belongs to the date it starts on and
    runs overnight when its end is not after its start; an override replaces the weekly
    windows of its date (``[]`` closes it). An instant is business time when its
    wall-clock reading in the zone lies in a window of an open date, so DST gaps count
    nothing and folds count twice.

    Thread-safe: calendars are immutable values, and the internal interval cache swaps
    immutable snapshots under a lock.
    """

    __slots__ = ("_definition", "_epoch", "_timeline", "_zone")

    _definition: CalendarDefinition
    _epoch: datetime  # 1970-01-01 00:00 carrying the zone, for _at's fast conversion
    _timeline: Timeline
    _zone: ZoneInfo

    def __init__(
        self,
        timezone: str,
        week: Mapping[str, Sequence[str]] | None = None,
        overrides: Mapping[str | date, Sequence[str]] | None = None,
    ) -> None:
        """Validate and build a calendar; see :meth:`from_dict` for the fields."""
        data = {
            "timezone": timezone,
            "week": {} if week is None else week,
            "overrides": {} if overrides is None else overrides,
        }
        self._setup(*parse_definition(data))

    def _setup(self, definition: CalendarDefinition, zone: ZoneInfo) -> None:
        week = dict(definition.week)
        weekly = [_spans(week.get(day, ())) for day in DAYS]
        overrides = {
            date.fromisoformat(when).toordinal() - _EPOCH_ORDINAL: _spans(windows)
            for when, windows in definition.overrides
        }
        object.__setattr__(self, "_definition", definition)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_epoch", datetime(1970, 1, 1, tzinfo=zone))
        object.__setattr__(self, "_timeline", Timeline(zone, weekly, overrides))

    @classmethod
    def _make(cls, definition: CalendarDefinition, zone: ZoneInfo) -> BusinessCalendar:
        calendar = cls.__new__(cls)
        calendar._setup(definition, zone)
        return calendar

    # -- construction and plain data -------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from plain data.

        ``{"timezone": "Europe/Berlin", "week": {"mon": ["09:00-17:00"], ...},
        "overrides": {"2026-12-25": [], "2026-06-06": ["10:00-14:00"]}}``

        ``timezone`` (required) is an IANA name. ``week`` maps ``mon`` … ``sun`` to lists
        of ``"HH:MM-HH:MM"`` windows (``24:00`` allowed as an end; windows may overlap and
        count once); a missing day is closed. ``overrides`` maps ``"YYYY-MM-DD"`` to the
        windows that replace that date's weekly ones (``[]``: closed, e.g. a holiday).

        Raises ``ValidationError`` listing every problem with its path, e.g.
        ``$.week.mon[0]``, ``$.overrides.2026-02-30``, ``$.timezone``.
        """
        return cls._make(*parse_definition(data))

    @classmethod
    def always(cls, timezone: str = "UTC") -> BusinessCalendar:
        """A 24×7 calendar: every instant is business time, so ``elapsed(a, b) == b - a``."""
        return cls(timezone, week={day: list(_ALWAYS) for day in DAYS})

    def to_dict(self) -> dict[str, Any]:
        """The plain-data definition: ``from_dict(c.to_dict()) == c``, and
        ``from_dict(d).to_dict() == d`` for any valid ``d`` with all three keys."""
        return self._definition.to_dict()

    @property
    def timezone(self) -> str:
        """The IANA name of the calendar's zone."""
        return self._definition.timezone

    @property
    def tzinfo(self) -> ZoneInfo:
        """The calendar's zone; results of :meth:`add` and friends are in it."""
        return self._zone

    @property
    def has_hours(self) -> bool:
        """Whether any weekly or override window exists (if not, :meth:`add` raises)."""
        return self._timeline.has_hours

    def with_overrides(self, overrides: Mapping[str | date, Sequence[str]]) -> BusinessCalendar:
        """A new calendar whose overrides for the given dates are replaced by these.

        Use it for one-off closures (``[]``), short days and make-up working days on a
        weekend (a date with windows). Raises ``ValidationError`` (paths under
        ``$.overrides``).
        """
        errors: list[tuple[str, str]] = []
        extra = parse_overrides(overrides, "$.overrides", errors)
        if errors:
            raise ValidationError(errors)
        return self._with(extra, replace=True)

    def _with(
        self, extra: Iterable[tuple[str, tuple[str, ...]]], *, replace: bool
    ) -> BusinessCalendar:
        definition = CalendarDefinition(
            timezone=self._definition.timezone,
            week=self._definition.week,
            overrides=merge_overrides(self._definition.overrides, extra, replace=replace),
        )
        return self._make(definition, self._zone)

    def with_holidays(
        self,
        country: str,
        subdiv: str | None = None,
        *,
        years: int | Iterable[int],
        observed: bool = True,
        makeup_windows: Sequence[str] | None = None,
    ) -> BusinessCalendar:
        """A new calendar closed on the public holidays of ``country`` in ``years``.

        Holidays come from the ``holidays`` package (``pip install itsmcore[holidays]``);
        ``country``/``subdiv`` are its ISO codes (``"DE"``, ``"BY"``). Each holiday becomes
        a closed override (it removes the shift that *starts* that day). Weekend dates
        the country declares working days (make-up days such as China's 调休 Saturdays)
        become overrides with ``makeup_windows`` (default: this calendar's Monday
        windows) when the weekly pattern has them closed. Overrides already in the
        calendar win over the table.

        Raises ``ValidationError`` for an unknown country, subdivision or bad years, and
        :class:`~itsmcore.sla.holidays.MissingExtra` when ``holidays`` is not installed.
        """
        from itsmcore.sla.holidays import holiday_overrides

        extra = holiday_overrides(
            self._definition.week,
            country,
            subdiv,
            years=years,
            observed=observed,
            makeup_windows=makeup_windows,
        )
        return self._with(extra, replace=False)

    def with_ical(
        self,
        source: bytes | str | os.PathLike[str],
        *,
        years: int | Iterable[int] | None = None,
    ) -> BusinessCalendar:
        """A new calendar closed on every date covered by an all-day event of an iCalendar.

        ``source`` is the file's content (``bytes``, or ``str`` starting with
        ``BEGIN:``) or a path. Timed and cancelled events are ignored; recurring events
        (``RRULE``) are expanded within ``years``, which they require. Overrides already
        in the calendar win. Needs ``pip install itsmcore[ical]``; raises
        ``ValidationError`` for an unreadable or malformed file.
        """
        from itsmcore.sla.holidays import ical_closed_dates

        closed = ical_closed_dates(source, years=years)
        return self._with([(day.isoformat(), ()) for day in closed], replace=False)

    # -- value semantics -------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BusinessCalendar):
            return NotImplemented
        return self._definition == other._definition

    def __hash__(self) -> int:
        return hash(self._definition)

    def __repr__(self) -> str:
        week = {day: list(windows) for day, windows in self._definition.week}
        count = len(self._definition.overrides)
        return (
            f"BusinessCalendar(timezone={self.timezone!r}, week={week!r}, "
            f"overrides=<{count} date{'s' if count != 1 else ''}>)"
        )

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"BusinessCalendar is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"BusinessCalendar is immutable; cannot delete {name!r}")

    def __reduce__(self) -> tuple[Any, tuple[dict[str, Any]]]:
        return (BusinessCalendar.from_dict, (self.to_dict(),))

    # -- business time ---------------------------------------------------------------

    def _at(self, u: int, what: str) -> datetime:
        """The instant ``u`` as an aware datetime in the zone (fold set in a fold).

        ``_epoch + delta`` is the UTC wall time carrying the zone; ``fromutc`` turns it
        into the local reading, as ``astimezone`` would, with one step less.
        """
        try:
            return self._zone.fromutc(self._epoch + timedelta(0, 0, u))
        except OverflowError:
            _overflow(what)

    def elapsed(self, a: datetime, b: datetime) -> timedelta:
        """The business time in ``[a, b)``, exact to the microsecond.

        Raises ``ValidationError`` when ``b`` is before ``a`` or either is naive.
        """
        try:  # the hot path: two subtractions; _to_us explains what is wrong otherwise
            ua = (a - EPOCH) // ONE_US
            ub = (b - EPOCH) // ONE_US
        except TypeError:
            ua, ub = _to_us(a, "$.a"), _to_us(b, "$.b")
        if ub < ua:
            raise ValidationError.single(
                "$.b", f"end {b.isoformat()} is before start {a.isoformat()}"
            )
        lo, hi, starts, ends, cum, _offsets = self._timeline.hot
        if ua < lo or ub > hi:
            lo, hi, starts, ends, cum, _offsets = self._timeline.state(ua, ub)
        # The prefix sum at each end (see _timeline.measure_before), inlined for speed.
        i = bisect_right(starts, ua) - 1
        before_a = 0 if i < 0 else cum[i] + ua - starts[i] if ua < ends[i] else cum[i + 1]
        i = bisect_right(starts, ub) - 1
        before_b = 0 if i < 0 else cum[i] + ub - starts[i] if ub < ends[i] else cum[i + 1]
        return timedelta(0, 0, before_b - before_a)

    def add(self, a: datetime, d: timedelta) -> datetime:
        """The earliest instant ``t >= a`` with ``elapsed(a, t) == d``, in the calendar's zone.

        So 8 hours from Monday 09:00 on a 09:00-17:00 calendar is Monday 17:00, and
        ``add(a, timedelta(0))`` is ``a`` itself. Raises ``ValidationError`` for a
        negative or non-timedelta ``d`` or a naive ``a``, and ``NoBusinessTime`` when
        the calendar has no hours (at once) or runs out of them (only finitely many
        override windows), never looping.
        """
        try:
            ua = (a - EPOCH) // ONE_US
            need = d // ONE_US
        except TypeError:
            ua = _to_us(a, "$.a")
            need = require_timedelta(d, "$.d") // ONE_US
        if type(need) is not int:
            need = require_timedelta(d, "$.d") // ONE_US
        if need <= 0:
            if need < 0:
                raise ValidationError.single(
                    "$.d", f"duration {d} is negative; pass a duration >= 0"
                )
            return self._at(ua, "the result")
        timeline = self._timeline
        st = timeline.hot
        if ua < st[0] or ua + need > st[1]:
            if ua + need > _LAST_US:  # business time never outruns real time
                _overflow("the result")
            st = timeline.state(ua, ua + need)
        while True:
            _lo, hi, starts, ends, cum, offsets = st
            i = bisect_right(starts, ua) - 1
            target = need + (
                0 if i < 0 else cum[i] + ua - starts[i] if ua < ends[i] else cum[i + 1]
            )
            if target <= cum[-1]:
                i = bisect_left(cum, target) - 1  # cum[i] < target <= cum[i + 1]
                t = starts[i] + target - cum[i]
                offset = offsets[i]
                try:
                    if offset is not None:  # unambiguous: the local reading is t + offset
                        return self._epoch + timedelta(0, 0, t + offset)
                    return self._zone.fromutc(self._epoch + timedelta(0, 0, t))  # as _at
                except OverflowError:
                    _overflow("the result")
            # Not enough business time is covered yet: look further, or say why not.
            if not timeline.has_hours:
                raise NoBusinessTime(
                    "this calendar has no business hours: add windows to 'week' or 'overrides'"
                )
            if hi >= timeline.horizon():
                if timeline.finite:
                    raise NoBusinessTime(
                        f"only {timedelta(microseconds=cum[-1] - measure_before(st, ua))} of "
                        f"business time remains after {a.isoformat()}; {d} was asked: the "
                        "calendar has no weekly windows and its override windows run out"
                    )
                _overflow("the result")
            st = timeline.state(
                ua, min(timeline.lookahead(st, target - cum[-1]), timeline.horizon())
            )

    def is_open(self, t: datetime) -> bool:
        """Whether ``t`` is business time (window starts count, window ends do not)."""
        u = _to_us(t, "$.t")
        _lo, _hi, starts, ends, _cum, _offsets = self._timeline.state(u, u + 1)
        i = bisect_right(starts, u) - 1
        return i >= 0 and u < ends[i]

    def next_open(self, t: datetime) -> datetime:
        """The earliest business instant at or after ``t``, in the calendar's zone.

        Raises ``NoBusinessTime`` when there is none.
        """
        u = _to_us(t, "$.t")
        timeline = self._timeline
        if not timeline.has_hours:
            raise NoBusinessTime("this calendar has no business hours: nothing ever opens")
        st = timeline.state(u, u + 1)
        while True:
            _lo, hi, starts, ends, _cum, _offsets = st
            i = bisect_right(starts, u) - 1
            if i >= 0 and u < ends[i]:
                return self._at(u, "the next opening")
            if i + 1 < len(starts):
                return self._at(starts[i + 1], "the next opening")
            if hi >= timeline.horizon():
                raise NoBusinessTime(f"this calendar never opens at or after {t.isoformat()}")
            st = timeline.state(u, min(timeline.lookahead(st, 1), timeline.horizon()))

    def windows(self, a: datetime, b: datetime) -> list[tuple[datetime, datetime]]:
        """The business intervals within ``[a, b)`` as ``(start, end)`` pairs.

        Each pair is half-open, maximal and clipped to ``[a, b)``; times are in the
        calendar's zone. A window in a DST fold may give two pairs (both readings count).
        Raises ``ValidationError`` when ``b`` is before ``a``.
        """
        ua = _to_us(a, "$.a")
        ub = _to_us(b, "$.b")
        if ub < ua:
            raise ValidationError.single(
                "$.b", f"end {b.isoformat()} is before start {a.isoformat()}"
            )
        _lo, _hi, starts, ends, _cum, _offsets = self._timeline.state(ua, ub)
        out: list[tuple[datetime, datetime]] = []
        i = bisect_right(ends, ua)
        while i < len(starts) and starts[i] < ub:
            start, end = max(starts[i], ua), min(ends[i], ub)
            if start < end:  # an empty [a, a) inside an interval yields nothing
                out.append((self._at(start, "a window"), self._at(end, "a window")))
            i += 1
        return out
