"""Hypothesis strategies for itsmcore values: actors, aware datetimes, field values.

Why ship them: a host that declares its own process wants to property-test it without
first learning which values the kernel accepts. These strategies generate only *valid*
input (the kernel's rules, read from the spec's :class:`~itsmcore.spec.FieldSpec`\\ s),
so a rejection seen while using them is a guard saying no, not noise.

Every strategy returns a typed :class:`~hypothesis.strategies.SearchStrategy` and takes
keyword-only shaping parameters. Every datetime they produce is timezone-aware; by default
:func:`aware_datetimes` over-samples instants near the DST transitions of the chosen
zones (the fold and the gap), where time arithmetic usually breaks.

Guards are code the kit cannot read: :func:`event_fields` satisfies a transition's
``requires`` and field types, not its guards. Supply guard-satisfying fields through
``field_overrides`` of :func:`itsmcore.testing.stateful.process_state_machine`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, Final
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from hypothesis.errors import InvalidArgument
from hypothesis.strategies import SearchStrategy

from itsmcore.records import Actor, Record
from itsmcore.spec import FieldSpec, ProcessSpec, TransitionSpec

__all__ = [
    "DEFAULT_ACTOR_IDS",
    "DEFAULT_ZONES",
    "actors",
    "aware_datetimes",
    "dst_transitions",
    "event_fields",
    "field_values",
    "open_fields",
    "spec_roles",
    "time_gaps",
    "transitions_for",
]

#: Zones used when none are given: no DST (UTC, a half-hour offset), northern and
#: southern DST, a 30-minute DST shift (Lord Howe) and a 45-minute offset (Chatham).
DEFAULT_ZONES: Final = (
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "Europe/London",
)

#: A small pool of actor ids, so the same person often acts twice (segregation of
#: duties and "requester may not approve" rules only bite when ids repeat).
DEFAULT_ACTOR_IDS: Final = ("alice", "bob", "carol", "dave")

_MIN: Final = datetime(2000, 1, 1, tzinfo=UTC)
_MAX: Final = datetime(2100, 1, 1, tzinfo=UTC)
_JSON_SAFE_INT: Final = 2**53
_PROBE: Final = timedelta(days=1)
_SECOND: Final = timedelta(seconds=1)

# Offsets (µs) from a DST transition that matter most: the instant itself, its
# neighbours, and the edges of a one-hour fold or gap.
_EDGE_OFFSETS_US: Final = tuple(
    sign * us
    for us in (0, 1, 1_000_000, 30 * 60 * 1_000_000, 3_600 * 1_000_000, 5_400 * 1_000_000)
    for sign in (1, -1)
)


def _micros(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _zone(value: str | tzinfo) -> tzinfo:
    if isinstance(value, tzinfo):
        return value
    if not isinstance(value, str):
        raise InvalidArgument(f"a time zone is an IANA name or a tzinfo, got {value!r}")
    return ZoneInfo(value)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidArgument(f"{name} must be a timezone-aware datetime, got {value!r}")


@functools.lru_cache(maxsize=256)
def _transitions(zone: tzinfo, start: datetime, end: datetime) -> tuple[datetime, ...]:
    found: list[datetime] = []
    lo = start - _SECOND  # so that a change exactly at ``start`` is seen
    lo_offset = lo.astimezone(zone).utcoffset()
    while lo < end:
        hi = min(lo + _PROBE, end)
        hi_offset = hi.astimezone(zone).utcoffset()
        if hi_offset != lo_offset:
            # Bisect to the first whole second with the new offset (tzdata transitions
            # fall on whole seconds).
            a, b = lo, hi
            while b - a > _SECOND:
                mid = a + timedelta(seconds=(b - a) // _SECOND // 2)
                if mid.astimezone(zone).utcoffset() == lo_offset:
                    a = mid
                else:
                    b = mid
            if start <= b < end:  # the range is half-open
                found.append(b)
        lo, lo_offset = hi, hi_offset
    return tuple(found)


def dst_transitions(zone: str | tzinfo, start: datetime, end: datetime) -> tuple[datetime, ...]:
    """The UTC instants in ``[start, end)`` at which ``zone``'s UTC offset changes.

    Found by probing the offset once a day and bisecting to the second, so two changes
    less than a day apart (none in current tzdata) would be missed. Cached. Raises
    ``InvalidArgument`` for a naive bound or an unknown zone type.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    return _transitions(_zone(zone), start.astimezone(UTC), end.astimezone(UTC))


def aware_datetimes(
    *,
    min_value: datetime = _MIN,
    max_value: datetime = _MAX,
    timezones: Sequence[str | tzinfo] = DEFAULT_ZONES,
    dst_edges: bool = True,
) -> SearchStrategy[datetime]:
    """Timezone-aware datetimes between two instants, expressed in one of ``timezones``.

    ``min_value`` and ``max_value`` are aware instants (inclusive). With ``dst_edges``
    about half the draws lie within 90 minutes of a DST transition of their zone (often
    exactly on it, or one microsecond either side), in the zone whose transition it is, so
    folds (``fold=1``) and the instants around gaps are common. Shrinks towards
    ``min_value`` in the first zone.
    """
    _require_aware(min_value, "min_value")
    _require_aware(max_value, "max_value")
    if max_value < min_value:
        raise InvalidArgument("max_value must not be before min_value")
    zones = tuple(_zone(z) for z in timezones)
    if not zones:
        raise InvalidArgument("give at least one time zone")
    return _aware_datetimes(min_value.astimezone(UTC), max_value.astimezone(UTC), zones, dst_edges)


@functools.lru_cache(maxsize=256)
def _aware_datetimes(
    lo: datetime, hi: datetime, zones: tuple[tzinfo, ...], dst_edges: bool
) -> SearchStrategy[datetime]:
    # Cached: the edge list is long, and building strategies costs more than drawing.
    span = _micros(hi - lo)

    def at(offset: int, zone: tzinfo) -> datetime:
        return (lo + timedelta(microseconds=offset)).astimezone(zone)

    uniform = st.builds(at, st.integers(0, span), st.sampled_from(zones))
    if not dst_edges:
        return uniform

    def near_edges() -> SearchStrategy[datetime]:
        edges = [(z, t) for z in zones for t in _transitions(z, lo, hi)]
        if not edges:
            return uniform

        def near_dst_edge(index: int, offset: int) -> datetime:
            zone, instant = edges[index]
            moved = instant + timedelta(microseconds=offset)
            return min(max(moved, lo), hi).astimezone(zone)

        offsets = st.one_of(
            st.sampled_from(_EDGE_OFFSETS_US),
            st.integers(-_EDGE_OFFSETS_US[-2], _EDGE_OFFSETS_US[-2]),
        )
        # An index, not sampled_from(edges): a strategy's repr lists its elements.
        return st.builds(near_dst_edge, st.integers(0, len(edges) - 1), offsets)

    return st.one_of(uniform, st.deferred(near_edges))


def time_gaps(*, max_value: timedelta = timedelta(days=30)) -> SearchStrategy[timedelta]:
    """Non-negative gaps between two events: zero (equal times are allowed), seconds,
    or anything up to ``max_value``. Shrinks towards zero."""
    if max_value < timedelta(0):
        raise InvalidArgument("max_value must not be negative")
    top = _micros(max_value)
    return st.one_of(
        st.just(timedelta(0)),
        st.integers(0, min(top, 60_000_000)).map(lambda us: timedelta(microseconds=us)),
        st.integers(0, top).map(lambda us: timedelta(microseconds=us)),
    )


def actors(
    *,
    roles: Iterable[str] = (),
    ids: SearchStrategy[str] | None = None,
    min_roles: int = 0,
) -> SearchStrategy[Actor]:
    """Actors whose roles are a subset of ``roles`` (at least ``min_roles`` of them).

    ``ids`` defaults to :data:`DEFAULT_ACTOR_IDS`, a small pool so the same actor often
    acts twice.
    """
    pool = sorted(set(roles))
    if min_roles > len(pool):
        raise InvalidArgument(f"min_roles={min_roles} but only {len(pool)} roles given")
    role_sets: SearchStrategy[frozenset[str]] = (
        st.frozensets(st.sampled_from(pool), min_size=min_roles) if pool else st.just(frozenset())
    )
    id_strategy = ids if ids is not None else st.sampled_from(DEFAULT_ACTOR_IDS)
    return st.builds(Actor, id_strategy, role_sets)


def _printable(*, min_size: int, max_size: int, newlines: bool) -> SearchStrategy[str]:
    # No surrogates (not encodable as UTF-8, so not hashable into the chain) and no
    # control characters other than newline/tab in long text.
    chars = st.characters(
        codec="utf-8",
        exclude_categories=("Cs", "Cc"),
        include_characters="\n\t" if newlines else "",
    )
    return st.text(chars, min_size=min_size, max_size=max_size)


def _non_blank(text: str) -> bool:
    return bool(text.strip())


def field_values(field: FieldSpec, *, allow_blank: bool = False) -> SearchStrategy[Any]:
    """Values the kernel accepts for ``field``, in the form it stores them.

    By type: ``str`` up to 16 characters, ``text`` up to 48 (newlines and tabs
    included), ``ref`` a record id such as ``INC-000042``, ``int`` within
    ``minimum``/``maximum`` (default ±2**53, safe in JSON), ``float`` finite and within
    bounds, ``bool``, ``datetime`` from :func:`aware_datetimes`, ``date`` in 1900–2199,
    ``duration`` from zero to ten years, ``enum`` one of ``choices``, ``list`` a tuple of
    distinct choices (or of short strings when there are none). Strings are never blank
    unless ``allow_blank``: guards commonly refuse blank text. Derived fields get values
    of their type too, though a spec refuses them from a caller.
    """
    return _field_values(field, allow_blank)


@functools.lru_cache(maxsize=1024)
def _field_values(field: FieldSpec, allow_blank: bool) -> SearchStrategy[Any]:
    # Cached: building strategies (and introspecting filters) costs far more than drawing.
    kind = field.type
    if kind in ("str", "text"):
        text = _printable(
            min_size=0 if allow_blank else 1,
            max_size=16 if kind == "str" else 48,
            newlines=kind == "text",
        )
        return text if allow_blank else text.filter(_non_blank)
    if kind == "ref":
        return st.builds(
            "{}-{:06d}".format,
            st.sampled_from(("INC", "PRB", "CHG", "REQ", "CI", "SVC")),
            st.integers(1, 999_999),
        )
    if kind == "enum":
        return st.sampled_from(field.choices)
    if kind == "bool":
        return st.booleans()
    if kind == "int":
        lo = -_JSON_SAFE_INT if field.minimum is None else math.ceil(field.minimum)
        hi = _JSON_SAFE_INT if field.maximum is None else math.floor(field.maximum)
        return st.integers(lo, hi)
    if kind == "float":
        return st.floats(
            min_value=field.minimum,
            max_value=field.maximum,
            allow_nan=False,
            allow_infinity=False,
        )
    if kind == "datetime":
        return aware_datetimes()
    if kind == "date":
        return st.dates(date(1900, 1, 1), date(2199, 12, 31))
    if kind == "duration":
        return st.timedeltas(timedelta(0), timedelta(days=3_650))
    if kind == "list":
        if field.choices:
            items: SearchStrategy[str] = st.sampled_from(field.choices)
            return st.lists(items, unique=True, max_size=len(field.choices)).map(tuple)
        word = _printable(min_size=1, max_size=20, newlines=False).filter(_non_blank)
        return st.lists(word, max_size=5).map(tuple)
    raise InvalidArgument(f"field {field.name!r} has unknown type {kind!r}")


def _settable(spec: ProcessSpec) -> dict[str, FieldSpec]:
    return {f.name: f for f in spec.fields if not f.derived}


def _fields_with(
    settable: Mapping[str, FieldSpec], needed: Iterable[str], max_optional: int
) -> SearchStrategy[dict[str, Any]]:
    if max_optional < 0:
        raise InvalidArgument("max_optional must not be negative")
    wanted = sorted(set(needed))
    required = st.fixed_dictionaries(
        {n: field_values(settable[n]) for n in wanted if n in settable}
    )
    others = tuple((n, field_values(f)) for n, f in settable.items() if n not in wanted)
    if not others or max_optional == 0:
        return required
    picks = st.lists(st.integers(0, len(others) - 1), unique=True, max_size=max_optional)

    @st.composite
    def with_optional(draw: st.DrawFn) -> dict[str, Any]:
        fields = draw(required)
        for i in draw(picks):
            name, values = others[i]
            fields[name] = draw(values)
        return fields

    return with_optional()


def open_fields(spec: ProcessSpec, *, max_optional: int = 3) -> SearchStrategy[dict[str, Any]]:
    """Fields that open a record of ``spec``: every required field and every field the
    opening transition requires, plus up to ``max_optional`` of the other settable
    fields. Guards on the opening are not known to the kit."""
    return _open_fields(spec, max_optional)


@functools.lru_cache(maxsize=128)
def _open_fields(spec: ProcessSpec, max_optional: int) -> SearchStrategy[dict[str, Any]]:
    needed = {f.name for f in spec.fields if f.required}
    if spec.opening is not None:
        needed.update(spec.opening.requires)
    return _fields_with(_settable(spec), needed, max_optional)


def transitions_for(spec: ProcessSpec, state: str, event: str) -> tuple[TransitionSpec, ...]:
    """The declared transitions of ``event`` from ``state``, in declaration order
    (``*`` sources count for every non-terminal state). Empty when not allowed."""
    terminal = spec.is_terminal(state)
    return tuple(
        t
        for t in spec.transitions
        if t.event == event and (state in t.sources or ("*" in t.sources and not terminal))
    )


def spec_roles(spec: ProcessSpec) -> frozenset[str]:
    """Every role named by any transition of ``spec`` (the opening included)."""
    named: set[str] = set()
    for t in spec.transitions:
        named.update(t.roles)
    if spec.opening is not None:
        named.update(spec.opening.roles)
    return frozenset(named)


def event_fields(
    spec: ProcessSpec, event: str, record: Record, *, max_optional: int = 3
) -> SearchStrategy[dict[str, Any]]:
    """Fields for firing ``event`` on ``record``: a value for every field that any
    transition of ``event`` from the record's state ``requires`` (fresh values even when
    the record already has one), plus up to ``max_optional`` of the other settable
    fields. Guards are not known to the kit."""
    return _event_fields(spec, record.state, event, max_optional)


@functools.lru_cache(maxsize=1024)
def _event_fields(
    spec: ProcessSpec, state: str, event: str, max_optional: int
) -> SearchStrategy[dict[str, Any]]:
    needed = {name for t in transitions_for(spec, state, event) for name in t.requires}
    return _fields_with(_settable(spec), needed, max_optional)
