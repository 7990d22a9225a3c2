"""Process mining: what the records really did, from their audited events (R7.2-03, R7.4-01).

:func:`process_map` reads event histories (:class:`~itsmcore.improvement.kpis.History`)
and returns, per process and spec version (records opened under different versions
followed different rules, so they are never mixed):

* per **state**: visits (entries, the opening included), distinct records, and the time
  spent per completed visit: mean, p50 and p90 (nearest rank: always an observed
  duration). A visit still going on at the cut-off has no duration yet and is left out
  of the times (it is counted as a visit);
* per **transition** ``(source, event, target)``: its count, and for a state change the
  median and mean time spent in ``source`` before taking it. The opening is the
  transition ``(None, "open", initial)``. ``link`` and ``unlink`` events (relations, not steps
  of the process) are not transitions; self-transitions such as ``update`` are;
* **rework**: records that entered some state a second time (``revisits`` per state),
  and reopenings (events named in ``reopen_events``);
* **hand-offs**: events that change ``assignee`` or ``group`` (``handoff_fields``)
  from one set value to another, and how many records had at least one;
* **paths**: each record's sequence of states (self-transitions left out); the most
  common paths with their share, among records that reached a terminal state (all
  records when the catalog does not know the spec). The most common one is the
  *happy path*;
* **pass-through states** (R7.4-01): states whose every completed visit was left by an
  event that changed no field, with no event during the visit, within
  ``short_dwell``: candidates for removal from the process.

``period`` selects the records opened in ``[start, end)`` and reads only their events
before ``end``, so a past period's map never changes. Durations are wall-clock
``timedelta`` s. :meth:`ProcessMap.to_mermaid` draws the map as a Mermaid state diagram
with counts and median times on its edges. Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Final

import attrs

from itsmcore._catalog import Catalog
from itsmcore._catalog import catalog as builtin_catalog
from itsmcore.errors import NotFound, ValidationError
from itsmcore.improvement.kpis import History
from itsmcore.records import Event
from itsmcore.sla.availability import Period
from itsmcore.spec import ProcessSpec

__all__ = [
    "PathStats",
    "ProcessMap",
    "StateStats",
    "TransitionStats",
    "VersionMap",
    "process_map",
]

_ZERO: Final = timedelta(0)


def _percentile(ordered: Sequence[timedelta], q: Fraction) -> timedelta | None:
    """Nearest rank: the smallest value with at least ``q`` of the data at or below it."""
    if not ordered:
        return None
    rank = max(1, -(-q.numerator * len(ordered) // q.denominator))
    return ordered[rank - 1]


@attrs.frozen(slots=True)
class StateStats:
    """One state: ``visits`` (entries), distinct ``records``, ``revisits`` (entries by
    a record that had been there before), ``completed`` visits (left again) and the time
    spent per completed visit (``total``, ``mean``, ``p50``, ``p90``; ``None`` without
    completed visits)."""

    state: str
    visits: int
    records: int
    revisits: int
    completed: int
    total: timedelta
    mean: timedelta | None
    p50: timedelta | None
    p90: timedelta | None


@attrs.frozen(slots=True)
class TransitionStats:
    """One transition ``source --event--> target`` (``source`` ``None`` for the
    opening): how often, and for a state change the median and mean time spent in
    ``source`` before it (``None`` for openings and self-transitions)."""

    source: str | None
    event: str
    target: str
    count: int
    p50: timedelta | None = None
    mean: timedelta | None = None


@attrs.frozen(slots=True)
class PathStats:
    """One sequence of states, how many records followed it and their ``share`` of
    the path population (exact)."""

    states: tuple[str, ...]
    count: int
    share: Fraction


def _short(value: timedelta | None) -> str:
    """A duration for a diagram label: the two largest units (``2h 5m``, ``45s``)."""
    if value is None:
        return "-"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{value.total_seconds():.0f}s" if seconds else f"{value.total_seconds():.1f}s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return " ".join(parts[:2])


@attrs.frozen(slots=True)
class VersionMap:
    """The process map of one process at one spec version (see the module docstring).

    ``records`` and ``events`` (link events excluded) are the population;
    ``rework_records`` revisited some state; ``reopens`` and ``reopened_records`` count
    reopenings; ``handoffs`` and ``handoff_records`` count hand-offs; ``paths`` are the
    most common paths among ``path_population`` records, ``happy_path`` the first.
    """

    process: str
    spec_version: int
    records: int
    events: int
    states: tuple[StateStats, ...]
    transitions: tuple[TransitionStats, ...]
    rework_records: int
    reopens: int
    reopened_records: int
    handoffs: int
    handoff_records: int
    paths: tuple[PathStats, ...]
    path_population: int
    pass_through: tuple[str, ...]
    terminal: tuple[str, ...]

    @property
    def happy_path(self) -> PathStats | None:
        """The most common path, or ``None`` without a path population."""
        return self.paths[0] if self.paths else None

    @property
    def rework_share(self) -> Fraction:
        """Records that revisited a state ÷ records."""
        return Fraction(self.rework_records, self.records) if self.records else Fraction(0)

    def state(self, name: str) -> StateStats:
        """The statistics of state ``name``. Raises ``NotFound``."""
        for stats in self.states:
            if stats.state == name:
                return stats
        raise NotFound(f"state {name!r} was never visited; visited: "
                       f"{', '.join(s.state for s in self.states)}")  # fmt: skip

    def transition(self, source: str | None, event: str, target: str) -> TransitionStats:
        """The statistics of one transition. Raises ``NotFound``."""
        for stats in self.transitions:
            if (stats.source, stats.event, stats.target) == (source, event, target):
                return stats
        raise NotFound(f"transition {source} --{event}--> {target} never happened")

    def to_mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2``: each state with its visits and median time,
        each edge with its event, count and the median time in its source before it."""
        lines = ["stateDiagram-v2"]
        for s in self.states:
            lines.append(f"    {s.state} : {s.state} ({s.visits} visits, p50 {_short(s.p50)})")
        for t in self.transitions:
            source = "[*]" if t.source is None else t.source
            label = f"{t.event} · {t.count}"
            if t.p50 is not None:
                label += f" · p50 {_short(t.p50)}"
            lines.append(f"    {source} --> {t.target} : {label}")
        lines.extend(f"    {state} --> [*]" for state in self.terminal)
        return "\n".join(lines) + "\n"


@attrs.frozen(slots=True)
class ProcessMap:
    """Process maps per ``(process, spec_version)``, ordered by process then version."""

    versions: tuple[VersionMap, ...]
    period: Period | None = None

    def version(self, process: str, spec_version: int | None = None) -> VersionMap:
        """The map of ``process`` at ``spec_version`` (default: its only or latest one
        seen). Raises ``NotFound``."""
        found = [v for v in self.versions if v.process == process]
        if spec_version is not None:
            found = [v for v in found if v.spec_version == spec_version]
        if not found:
            seen = ", ".join(f"{v.process} v{v.spec_version}" for v in self.versions)
            raise NotFound(f"no histories of {process!r} (v{spec_version}); seen: {seen}")
        return found[-1]

    def to_mermaid(self, process: str | None = None, spec_version: int | None = None) -> str:
        """The diagram of one map (:meth:`VersionMap.to_mermaid`). ``process`` may be
        omitted when the map holds one process; raises ``ValidationError`` otherwise."""
        if process is None:
            names = sorted({v.process for v in self.versions})
            if len(names) != 1:
                raise ValidationError.single(
                    "$.process", f"the map holds {len(names)} processes ({', '.join(names)}); "
                    "name one",
                )  # fmt: skip
            process = names[0]
        return self.version(process, spec_version).to_mermaid()


class _Tally:
    """Running counts of one (process, spec version)."""

    def __init__(self, spec: ProcessSpec | None) -> None:
        self.spec = spec
        self.records = self.events = self.rework = self.reopens = self.reopened = 0
        self.handoffs = self.handoff_records = 0
        self.visits: Counter[str] = Counter()
        self.visitors: Counter[str] = Counter()
        self.revisits: Counter[str] = Counter()
        self.dwell: dict[str, list[timedelta]] = {}
        self.noisy: set[str] = set()
        self.edges: Counter[tuple[str | None, str, str]] = Counter()
        self.edge_dwell: dict[tuple[str | None, str, str], list[timedelta]] = {}
        self.paths: Counter[tuple[str, ...]] = Counter()
        self.order: dict[str, int] = {}


def _tally_history(
    tally: _Tally,
    events: Sequence[Event],
    handoff_fields: tuple[str, ...],
    reopen_events: frozenset[str],
    short_dwell: timedelta,
) -> None:
    state: str | None = None
    entered: datetime | None = None
    quiet = True
    seen: set[str] = set()
    path: list[str] = []
    owners: dict[str, object] = {}
    handoffs = reopens = 0
    rework = False
    for event in events:
        name = event.name
        if name in ("link", "unlink"):  # relations, not steps of the process
            continue
        tally.events += 1
        target, at, changes = event.target, event.at, event.changes
        key = (state, name, target)
        tally.edges[key] += 1
        if name in reopen_events:
            reopens += 1
        for field in handoff_fields:
            if field in changes:
                after = changes[field]
                before = owners.get(field)
                if before is not None and after is not None and after != before:
                    handoffs += 1
                    break
        for field in handoff_fields:
            if field in changes:
                owners[field] = changes[field]
        if state is not None and target == state:
            quiet = False
            continue
        if state is not None and entered is not None:
            spent = at - entered
            tally.dwell.setdefault(state, []).append(spent)
            tally.edge_dwell.setdefault(key, []).append(spent)
            if not quiet or changes or spent > short_dwell:
                tally.noisy.add(state)
        tally.visits[target] += 1
        tally.order.setdefault(target, len(tally.order))
        if target in seen:
            tally.revisits[target] += 1
            rework = True
        else:
            seen.add(target)
            tally.visitors[target] += 1
        path.append(target)
        state, entered, quiet = target, at, True
    if not path:
        return
    tally.records += 1
    tally.rework += rework
    tally.reopens += reopens
    tally.reopened += reopens > 0
    tally.handoffs += handoffs
    tally.handoff_records += handoffs > 0
    if tally.spec is None or (state is not None and tally.spec.is_terminal(state)):
        tally.paths[tuple(path)] += 1


def _state_stats(tally: _Tally, name: str) -> StateStats:
    spent = sorted(tally.dwell.get(name, ()))
    total = sum(spent, _ZERO)
    return StateStats(
        state=name,
        visits=tally.visits[name],
        records=tally.visitors[name],
        revisits=tally.revisits[name],
        completed=len(spent),
        total=total,
        mean=total / len(spent) if spent else None,
        p50=_percentile(spent, Fraction(1, 2)),
        p90=_percentile(spent, Fraction(9, 10)),
    )


def _finish(process: str, version: int, tally: _Tally, top: int) -> VersionMap:
    spec = tally.spec
    rank = {s.name: i for i, s in enumerate(spec.states)} if spec else {}
    names = sorted(tally.visits, key=lambda n: (rank.get(n, len(rank)), tally.order[n]))
    transitions = []
    for (source, event, target), count in tally.edges.items():
        spent = sorted(tally.edge_dwell.get((source, event, target), ()))
        mean = sum(spent, _ZERO) / len(spent) if spent else None
        p50 = _percentile(spent, Fraction(1, 2))
        transitions.append(TransitionStats(source, event, target, count, p50, mean))
    transitions.sort(
        key=lambda t: (t.source is not None, rank.get(t.source or "", -1), -t.count, t.event)
    )
    population = sum(tally.paths.values())
    paths = tuple(
        PathStats(p, n, Fraction(n, population))
        for p, n in sorted(tally.paths.items(), key=lambda item: (-item[1], item[0]))[:top]
    )
    if spec is not None:
        terminal = tuple(n for n in names if spec.is_terminal(n))
    else:
        left = {t.source for t in transitions if t.source != t.target}
        terminal = tuple(n for n in names if n not in left)
    quiet = tuple(n for n in names if tally.dwell.get(n) and n not in tally.noisy)
    return VersionMap(
        process=process,
        spec_version=version,
        records=tally.records,
        events=tally.events,
        states=tuple(_state_stats(tally, n) for n in names),
        transitions=tuple(transitions),
        rework_records=tally.rework,
        reopens=tally.reopens,
        reopened_records=tally.reopened,
        handoffs=tally.handoffs,
        handoff_records=tally.handoff_records,
        paths=paths,
        path_population=population,
        pass_through=quiet,
        terminal=terminal,
    )


def process_map(
    histories: Iterable[History],
    *,
    period: Period | None = None,
    catalog: Catalog | None = None,
    handoff_fields: Sequence[str] = ("assignee", "group"),
    reopen_events: Iterable[str] = ("reopen",),
    short_dwell: timedelta = timedelta(minutes=1),
    top: int = 5,
) -> ProcessMap:
    """The process map of ``histories`` (see the module docstring).

    ``catalog`` (default: the built-in one) gives state order and terminal states per
    spec version; a spec it lacks is mined without them. ``top`` is how many paths are
    kept. Raises ``ValidationError`` for an item that is not a History
    (``$.histories[i]``), a ``period`` that is not a Period or a bad ``top``.
    """
    if period is not None and not isinstance(period, Period):
        raise ValidationError.single("$.period", "expected a Period(start, end) or None")
    if isinstance(top, bool) or not isinstance(top, int) or top < 1:
        raise ValidationError.single("$.top", "must be a whole number of at least 1")
    specs = catalog or builtin_catalog
    fields = tuple(handoff_fields)
    reopen = frozenset(reopen_events)
    tallies: dict[tuple[str, int], _Tally] = {}
    errors: list[tuple[str, str]] = []
    items: Iterable[object] = histories
    for index, history in enumerate(items):
        if not isinstance(history, History):
            errors.append((f"$.histories[{index}]", f"expected a History, got {type(history)}"))
            continue
        events = history.events
        if not events:
            continue
        if period is not None:
            if not period.start <= events[0].at < period.end:
                continue
            events = tuple(e for e in events if e.at < period.end)
        key = (history.process, history.spec_version)
        tally = tallies.get(key)
        if tally is None:
            try:
                spec: ProcessSpec | None = specs.get(*key)
            except NotFound:
                spec = None
            tally = tallies[key] = _Tally(spec)
        _tally_history(tally, events, fields, reopen, short_dwell)
    if errors:
        raise ValidationError(errors)
    versions = tuple(_finish(p, v, tallies[(p, v)], top) for p, v in sorted(tallies))
    return ProcessMap(versions=versions, period=period)
