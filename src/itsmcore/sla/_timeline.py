"""Business time as sorted UTC intervals with prefix sums (private).

All arithmetic here is on integers: instants are microseconds since 1970-01-01 UTC, local
wall-clock readings are microseconds since 1970-01-01 00:00 *local*, a local date is the
number of days since 1970-01-01. Nothing overflows and nothing is rounded.

How local windows become UTC intervals. The zone's UTC offset is a step function of the
UTC instant. On a stretch ``[u0, u1)`` with constant offset ``o`` the wall clock reads
``[u0 + o, u1 + o)``, so the instants whose reading lies in a local window ``[ls, le)``
are ``[max(u0, ls - o), min(u1, le - o))``. Doing this stretch by stretch is exact in a
DST gap (no instant reads a skipped time, so a window there has no measure) and in a fold
(both stretches read the repeated hour, so it counts twice).

Offset stretches are found by sampling the offset every 12 hours and bisecting to the
second where two samples differ. That is exact as long as a zone never changes its offset
twice within 12 hours; in the tz database the closest two changes are about four days
apart (Africa/Freetown, 1939), and a test checks the installed tz data for this.

Each interval also records the zone's offset when no offset change lies within two days
of it: every local reading in it is then unambiguous, and ``add`` can build its result as
``1970-01-01 local + (t + offset)`` without asking the zone.

The intervals are computed lazily for contiguous UTC ranges ("islands", at most four) that
grow in 28-day-aligned chunks; a query far from every island starts a new one instead of
computing the years in between. A snapshot ``(lo, hi, starts, ends, cum, offsets)`` is never
mutated once published; growth builds new lists under a lock and swaps the tuple of
islands, so readers need no lock.
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from operator import sub
from zoneinfo import ZoneInfo

__all__ = ["DAY", "DOMAIN_HI", "DOMAIN_LO", "EPOCH", "ONE_US", "State", "Timeline"]

US = 1_000_000
DAY = 86_400 * US
WEEK = 7 * DAY
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_US = timedelta(microseconds=1)

# The instants an aware datetime can denote, with room for the largest UTC offsets.
DOMAIN_LO = (datetime.min.replace(tzinfo=UTC) - EPOCH) // ONE_US - 2 * DAY
DOMAIN_HI = (datetime.max.replace(tzinfo=UTC) - EPOCH) // ONE_US + 2 * DAY
# Offsets are sampled inside this range (datetime cannot go further); constant outside.
_SAMPLE_MIN_S = (DOMAIN_LO + 4 * DAY) // US
_SAMPLE_MAX_S = (DOMAIN_HI - 4 * DAY) // US

_MARGIN = 30 * 3600 * US  # more than any UTC offset ever used
_GRID_S = 12 * 3600  # offset sampling step, seconds
_ALIGN = 28 * DAY  # coverage grows in multiples of this
_MAX_GROWTH = 2 * 366 * DAY  # growth beyond what a query needs is capped at ~2 years
_NEAR = 2 * 366 * DAY  # a query this close to a covered range extends it
_MAX_ISLANDS = 4  # disjoint covered ranges kept at once

Span = tuple[int, int]
"""A window within its date: (start after local midnight, length), in microseconds."""

Offsets = list[int | None]
Intervals = tuple[list[int], list[int], Offsets]

State = tuple[int, int, list[int], list[int], list[int], Offsets]
"""(lo, hi, starts, ends, cum, offsets): every business interval meeting [lo, hi), clipped
to it, merged and sorted; ``cum[i]`` is the measure of intervals before ``i`` (len n + 1);
``offsets[i]`` is the zone's UTC offset all through interval ``i`` when no offset change
lies within two days of it (so every local reading in it is unambiguous and
``local = utc + offset``), else ``None``."""

_NOTHING: State = (0, -1, [], [], [0], [])  # covers nothing
_SAFE = 2 * DAY  # more than any offset change, so farther changes cause no ambiguity


def _align_down(u: int) -> int:
    return max(DOMAIN_LO, u // _ALIGN * _ALIGN)


def _align_up(u: int) -> int:
    return min(DOMAIN_HI, -(-u // _ALIGN) * _ALIGN)


def _merge(pieces: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Union of half-open intervals, as sorted disjoint start and end lists."""
    pieces.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in pieces:
        if ends and start <= ends[-1]:
            if end > ends[-1]:
                ends[-1] = end
        else:
            starts.append(start)
            ends.append(end)
    return starts, ends


def _measure(spans: Iterable[Span]) -> int:
    """The local measure of the union of some spans of one date."""
    starts, ends = _merge([(start, start + length) for start, length in spans])
    return sum(ends) - sum(starts)


def _join(a: Intervals, b: Intervals) -> Intervals:
    """Concatenate two interval lists where ``a`` lies before ``b``, merging at the seam."""
    (a_s, a_e, a_o), (b_s, b_e, b_o) = a, b
    if a_s and b_s and a_e[-1] == b_s[0]:
        seam = a_o[-1] if a_o[-1] == b_o[0] else None
        return a_s + b_s[1:], a_e[:-1] + b_e, [*a_o[:-1], seam, *b_o[1:]]
    return a_s + b_s, a_e + b_e, a_o + b_o


def measure_before(state: State, u: int) -> int:
    """The prefix sum at ``u``: business measure of ``(-inf, u)`` within the snapshot."""
    _lo, _hi, starts, ends, cum, _offsets = state
    i = bisect_right(starts, u) - 1
    if i < 0:
        return cum[0]
    if u < ends[i]:
        return cum[i] + u - starts[i]
    return cum[i + 1]


class Timeline:
    """The business intervals of one calendar, computed lazily and cached.

    ``weekly[k]`` are the spans of weekday ``k`` (Monday 0); ``overrides`` maps a local
    date (days since 1970-01-01) to the spans that replace its weekly ones.
    """

    __slots__ = (
        "_dense",
        "_horizon",
        "_islands",
        "_lock",
        "_open_days",
        "_overrides",
        "_rate",
        "_weekly",
        "_zone",
        "finite",
        "has_hours",
        "hot",
    )

    def __init__(
        self,
        zone: ZoneInfo,
        weekly: Sequence[Sequence[Span]],
        overrides: dict[int, tuple[Span, ...]],
    ) -> None:
        self._zone = zone
        self._weekly = tuple(tuple(spans) for spans in weekly)
        self._overrides = overrides
        self._dense = any(self._weekly)
        self._open_days = sorted(day for day, spans in overrides.items() if spans)
        self.has_hours = self._dense or bool(self._open_days)
        self.finite = not self._dense  # only finitely many (override) windows
        # Nominal business measure per week, used only to guess how far to look ahead.
        self._rate = sum(_measure(spans) for spans in self._weekly)
        if self._dense or not self._open_days:
            self._horizon = DOMAIN_HI
        else:
            self._horizon = min(DOMAIN_HI, (self._open_days[-1] + 3) * DAY + _MARGIN)
        self._lock = threading.Lock()
        self._islands: tuple[State, ...] = ()  # most recently grown first
        # The island that answered last: callers try it before calling state().
        self.hot: State = _NOTHING

    # -- snapshots -------------------------------------------------------------------

    def state(self, lo_need: int, hi_need: int) -> State:
        """A snapshot covering at least ``[lo_need, hi_need]`` (clamped to the domain)."""
        lo_need = max(DOMAIN_LO, min(lo_need, DOMAIN_HI))
        hi_need = min(DOMAIN_HI, max(hi_need, lo_need))
        for st in self._islands:
            if st[0] <= lo_need and hi_need <= st[1]:
                self.hot = st
                return st
        with self._lock:
            islands = self._islands
            for st in islands:
                if st[0] <= lo_need and hi_need <= st[1]:
                    self.hot = st
                    return st
            # Grow the nearest island when the gap is small against its size (growth is
            # then amortised); otherwise start a new one, so that asking about 1990 and
            # then 2090 does not compute the century in between.
            nearest: State | None = None
            nearest_gap = 0
            for st in islands:
                gap = max(0, st[0] - hi_need, lo_need - st[1])
                if gap <= max(st[1] - st[0], _NEAR) and (nearest is None or gap < nearest_gap):
                    nearest, nearest_gap = st, gap
            grown = self._grow(nearest, lo_need, hi_need)
            kept = [
                st
                for st in islands
                if st is not nearest and not (grown[0] <= st[0] and st[1] <= grown[1])
            ]
            self._islands = (grown, *kept[: _MAX_ISLANDS - 1])
            self.hot = grown
            return grown

    def horizon(self) -> int:
        """No business time lies at or after this instant (``DOMAIN_HI`` when unbounded)."""
        return self._horizon

    def lookahead(self, st: State, missing: int) -> int:
        """A guess of the ``hi`` that holds ``missing`` more business measure than ``st``."""
        hi = st[1]
        if not self._dense:
            return self._horizon
        return hi + missing * WEEK // self._rate * 5 // 4 + _ALIGN

    def _grow(self, st: State | None, lo_need: int, hi_need: int) -> State:
        if st is None:
            lo, hi = _align_down(lo_need), _align_up(hi_need)
            if hi <= lo:
                hi = min(DOMAIN_HI, lo + _ALIGN)
            intervals = self._build(lo, hi)
        else:
            old_lo, old_hi, starts, ends, _cum, offsets = st
            grow = min((old_hi - old_lo) // 2, _MAX_GROWTH)
            lo = _align_down(min(lo_need, old_lo - grow)) if lo_need < old_lo else old_lo
            hi = _align_up(max(hi_need, old_hi + grow)) if hi_need > old_hi else old_hi
            intervals = (starts, ends, offsets)
            if lo < old_lo:
                intervals = _join(self._build(lo, old_lo), intervals)
            if hi > old_hi:
                intervals = _join(intervals, self._build(old_hi, hi))
        new_starts, new_ends, new_offsets = intervals
        cum = [0, *accumulate(map(sub, new_ends, new_starts))]
        return lo, hi, new_starts, new_ends, cum, new_offsets

    # -- building --------------------------------------------------------------------

    def _local_days(self, first: int, last: int) -> Iterable[tuple[int, tuple[Span, ...]]]:
        """The open local dates in ``[first, last]`` with their spans."""
        if self._dense:
            weekly, overrides = self._weekly, self._overrides
            for day in range(first, last + 1):
                spans = overrides.get(day)
                yield day, weekly[(day + 3) % 7] if spans is None else spans
        else:
            days = self._open_days
            for day in days[bisect_left(days, first) : bisect_right(days, last)]:
                yield day, self._overrides[day]

    def _build(self, c0: int, c1: int) -> Intervals:
        """The business intervals within ``[c0, c1)``, clipped, merged and sorted."""
        pieces = [
            (day * DAY + start, day * DAY + start + length)
            for day, spans in self._local_days((c0 - _MARGIN) // DAY - 2, (c1 + _MARGIN) // DAY + 1)
            for start, length in spans
        ]
        local_starts, local_ends = _merge(pieces)
        count = len(local_starts)
        out_starts: list[int] = []
        out_ends: list[int] = []
        out_offsets: Offsets = []
        k = 0
        while k < count:
            # A neighbourhood: consecutive local intervals whose UTC images may touch.
            n0 = max(c0, local_starts[k] - _MARGIN)
            n1 = min(c1, local_ends[k] + _MARGIN)
            k += 1
            while k < count and local_starts[k] - _MARGIN <= n1:
                n1 = min(c1, max(n1, local_ends[k] + _MARGIN))
                k += 1
            if n0 >= n1:
                continue
            # Stretches reach _SAFE beyond the neighbourhood, so every stretch boundary
            # within _SAFE of a piece is a real offset change.
            for s0, s1, offset in self._stretches(n0 - _SAFE, n1 + _SAFE):
                u0, u1 = max(s0, n0), min(s1, n1)
                j = bisect_right(local_ends, u0 + offset)
                while u0 < u1 and j < count and local_starts[j] < u1 + offset:
                    a = max(u0, local_starts[j] - offset)
                    b = min(u1, local_ends[j] - offset)
                    if a < b:
                        safe = offset if a - s0 >= _SAFE and s1 - b >= _SAFE else None
                        if out_ends and out_ends[-1] == a:
                            out_ends[-1] = b
                            if out_offsets[-1] != safe:
                                out_offsets[-1] = None
                        else:
                            out_starts.append(a)
                            out_ends.append(b)
                            out_offsets.append(safe)
                    j += 1
        return out_starts, out_ends, out_offsets

    def _offset(self, second: int) -> int:
        """The zone's UTC offset, in microseconds, at a UTC second since the epoch."""
        second = min(max(second, _SAMPLE_MIN_S), _SAMPLE_MAX_S)
        offset = datetime.fromtimestamp(second, self._zone).utcoffset()
        assert offset is not None  # a ZoneInfo always gives one
        return offset // ONE_US

    def _stretches(self, u0: int, u1: int) -> list[tuple[int, int, int]]:
        """``[u0, u1)`` cut where the UTC offset changes: ``(start, end, offset)`` triples."""
        first = (u0 // US) // _GRID_S * _GRID_S
        last = -(-u1 // US)
        out: list[tuple[int, int, int]] = []
        start = u0
        sample = first
        offset = self._offset(sample)
        while sample < last:
            nxt = sample + _GRID_S
            nxt_offset = self._offset(nxt)
            if nxt_offset != offset:
                lo, hi = sample, nxt  # the change happens at a second in (lo, hi]
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if self._offset(mid) == offset:
                        lo = mid
                    else:
                        hi = mid
                change = hi * US
                if change >= u1:
                    break
                if change > start:
                    out.append((start, change, offset))
                    start = change
                offset = nxt_offset
            sample = nxt
        out.append((start, u1, offset))
        return out
