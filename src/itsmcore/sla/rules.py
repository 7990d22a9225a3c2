"""The SLA rules an engine applies: every policy version and the named calendars.

Why all versions: a record is measured by the policy version in force when it was
opened, so a policy edited for new records never changes a running clock. The rule is
data, not a stored flag: for each policy name, the version that applies to a record is
the highest one whose ``effective_from`` is at or before the record's ``opened_at`` (a
version without ``effective_from`` has been in force since the beginning). Every version
after the lowest must therefore carry an ``effective_from``, later than the version
before it; :class:`SlaRules` refuses anything else.

Everything here is pure: the answers depend only on the events, the process spec, the
rules and the instants passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Any

from itsmcore._time import require_aware
from itsmcore.errors import SpecError
from itsmcore.ports.storage import Deadline
from itsmcore.records import Event, apply_changes
from itsmcore.sla.calendar import BusinessCalendar
from itsmcore.sla.clock import (
    ClockStatus,
    Cycle,
    clock_status,
    crossing,
    cycle_priority,
    threshold_time,
    trace,
)
from itsmcore.sla.defaults import DEFAULT_CALENDARS, DEFAULT_POLICIES
from itsmcore.sla.policy import ClockSpec, SlaPolicy
from itsmcore.sla.signals import DueTimer, SlaSignal, timer_dues
from itsmcore.spec import ProcessSpec

__all__ = ["SlaRules"]


def _fields(events: Sequence[Event], until: datetime | None) -> dict[str, Any]:
    """The record's fields after the events dated at or before ``until`` (all when
    ``None``; the first event always counts)."""
    fields: dict[str, Any] = {}
    for i, ev in enumerate(events):
        if i and until is not None and ev.at > until:
            break
        apply_changes(fields, ev.changes)
    return fields


def _kind(percent: int) -> str:
    return "breach" if percent >= 100 else "warning"


class SlaRules:
    """SLA policies (all versions) and business calendars, by name.

    ``policies`` defaults to :data:`~itsmcore.sla.defaults.DEFAULT_POLICIES`; a given
    iterable replaces them. ``calendars`` are merged over
    :data:`~itsmcore.sla.defaults.DEFAULT_CALENDARS`, so a host replaces ``business`` or
    ``24x7`` by name and adds its own. Raises :class:`~itsmcore.errors.SpecError` when a
    policy names an unknown calendar, a name and version is given twice with different
    content, or versions lack increasing ``effective_from`` instants.
    """

    __slots__ = ("_by_process", "_calendars", "_versions")

    def __init__(
        self,
        policies: Iterable[SlaPolicy] | None = None,
        calendars: Mapping[str, BusinessCalendar] | None = None,
    ) -> None:
        merged: dict[str, BusinessCalendar] = dict(DEFAULT_CALENDARS)
        merged.update(calendars or {})
        problems: list[str] = []
        for name, value in merged.items():
            if not isinstance(value, BusinessCalendar):  # hosts may pass anything
                problems.append(f"calendar {name!r} is not a BusinessCalendar")  # type: ignore[unreachable]
        versions: dict[str, dict[int, SlaPolicy]] = {}
        given: Iterable[Any] = DEFAULT_POLICIES if policies is None else policies
        for policy in given:
            if not isinstance(policy, SlaPolicy):
                problems.append(
                    f"{policy!r} is not an SlaPolicy (build one with SlaPolicy.from_dict)"
                )
                continue
            known = versions.setdefault(policy.name, {})
            old = known.get(policy.version)
            if old is not None and old != policy:
                problems.append(
                    f"policy {policy.name!r} version {policy.version} is given twice with "
                    "different content; give the new one a higher version"
                )
            known[policy.version] = policy
            for cal_name in policy.calendar_names():
                if cal_name not in merged:
                    problems.append(
                        f"policy {policy.name!r} version {policy.version} uses unknown "
                        f"calendar {cal_name!r}; known: {', '.join(sorted(merged))}"
                    )
        ordered: dict[str, tuple[SlaPolicy, ...]] = {}
        for name, known in versions.items():
            chain = tuple(known[v] for v in sorted(known))
            problems.extend(_version_problems(chain))
            ordered[name] = chain
        if problems:
            raise SpecError("sla policies", problems)
        by_process: dict[str, list[tuple[SlaPolicy, ...]]] = {}
        for chain in ordered.values():
            for process in dict.fromkeys(p.process for p in chain):
                by_process.setdefault(process, []).append(chain)
        self._calendars: Mapping[str, BusinessCalendar] = MappingProxyType(merged)
        self._versions = MappingProxyType(ordered)
        self._by_process = MappingProxyType({k: tuple(v) for k, v in by_process.items()})

    # -- lookups --------------------------------------------------------------------

    @property
    def calendars(self) -> Mapping[str, BusinessCalendar]:
        """The calendars by name (defaults merged with the host's)."""
        return self._calendars

    @property
    def policies(self) -> tuple[SlaPolicy, ...]:
        """Every policy version, by name then version."""
        return tuple(p for name in sorted(self._versions) for p in self._versions[name])

    def calendar(self, name: str) -> BusinessCalendar:
        """The calendar called ``name`` (``KeyError`` if unknown)."""
        return self._calendars[name]

    def policies_for(self, process: str, opened_at: datetime) -> list[SlaPolicy]:
        """The policy versions in force for a record of ``process`` opened at
        ``opened_at`` (one per policy name, whatever its condition)."""
        out: list[SlaPolicy] = []
        for chain in self._by_process.get(process, ()):
            chosen = None
            for policy in chain:
                if policy.effective_from is None or policy.effective_from <= opened_at:
                    chosen = policy
            if chosen is not None and chosen.process == process:
                out.append(chosen)
        return out

    def watches(self, spec: ProcessSpec) -> bool:
        """Whether records of ``spec`` can ever have deadlines (a policy or a timer)."""
        return bool(spec.timers) or spec.name in self._by_process

    def check(self, specs: Iterable[ProcessSpec]) -> None:
        """Check the policies and the specs' timers against process specs (the latest
        version of each): unknown processes, states, events, fields (``priority_field``,
        ``when``) and timer calendars raise one :class:`~itsmcore.errors.SpecError`
        listing every problem."""
        by_name = {s.name: s for s in specs}
        problems: list[str] = []
        for spec in by_name.values():
            for timer in spec.timers:
                if timer.calendar is not None and timer.calendar not in self._calendars:
                    problems.append(
                        f"process {spec.name!r} timer {timer.name!r} uses unknown calendar "
                        f"{timer.calendar!r}; known: {', '.join(sorted(self._calendars))}"
                    )
        for policy in self.policies:
            found = by_name.get(policy.process)
            where = f"policy {policy.name!r} version {policy.version}"
            if found is None:
                problems.append(f"{where}: unknown process {policy.process!r}")
                continue
            spec = found
            # A field the process lacks is never set, so the clock would silently never
            # find a target (priority) or the policy never cover a record (when).
            if policy.priority_field not in spec.compiled.fields:
                problems.append(
                    f"{where}: priority_field {policy.priority_field!r} is not a field of "
                    f"{spec.name!r}"
                )
            for key in policy.when:
                if key not in spec.compiled.fields:
                    problems.append(
                        f"{where}: 'when' names {key!r}, which is not a field of {spec.name!r}"
                    )
            for clock in policy.clocks:
                for label in ("start", "pause", "stop", "resume", "cancel", "reset"):
                    trigger = getattr(clock, label)
                    for state in trigger.states:
                        if state not in spec.compiled.states:
                            problems.append(
                                f"{where}: clock {clock.name!r} {label} names unknown state "
                                f"{state!r} of {spec.name!r}"
                            )
                    for event in trigger.events:
                        if event not in spec.events() and event != "open":
                            problems.append(
                                f"{where}: clock {clock.name!r} {label} names unknown event "
                                f"{event!r} of {spec.name!r}"
                            )
        if problems:
            raise SpecError("sla policies", problems)

    # -- the pure answers -----------------------------------------------------------

    def _covering(
        self, events: Sequence[Event], spec: ProcessSpec, until: datetime | None
    ) -> list[SlaPolicy]:
        if not events:
            return []
        chosen = self.policies_for(spec.name, events[0].at)
        if not any(p.when for p in chosen):
            return chosen
        fields = _fields(events, until)
        return [p for p in chosen if p.covers(spec.name, fields)]

    def statuses(
        self, events: Sequence[Event], spec: ProcessSpec, now: datetime
    ) -> list[ClockStatus]:
        """The current cycle of every clock covering the record at ``now``, by policy
        and clock order. Clocks not started by ``now``, or without a target for the
        record's priority, are left out."""
        require_aware(now, "$.now")
        out: list[ClockStatus] = []
        for policy in self._covering(events, spec, now):
            for clock in policy.clocks:
                tr = trace(events, spec, clock, priority_field=policy.priority_field, until=now)
                if not tr.cycles:
                    continue
                cycle = tr.cycles[-1]
                priority = cycle_priority(policy, cycle, tr.priority)
                status = clock_status(
                    policy,
                    clock,
                    cycle,
                    priority=priority,
                    calendar=self._calendars[clock.calendar_for(priority)],
                    now=now,
                )
                if status is not None:
                    out.append(status)
        return out

    def _cycles(
        self, events: Sequence[Event], spec: ProcessSpec, until: datetime | None
    ) -> Iterator[tuple[SlaPolicy, ClockSpec, Cycle, timedelta, BusinessCalendar]]:
        """Every non-cancelled cycle of the covering clocks with its target and calendar
        (cycles whose priority has no target are left out)."""
        for policy in self._covering(events, spec, until):
            for clock in policy.clocks:
                tr = trace(events, spec, clock, priority_field=policy.priority_field, until=until)
                current = tr.priority
                for cycle in tr.cycles:
                    if cycle.cancelled_at is not None:
                        continue
                    priority = cycle_priority(policy, cycle, current)
                    target = clock.target_for(priority)
                    if target is not None:
                        calendar = self._calendars[clock.calendar_for(priority)]
                        yield policy, clock, cycle, target, calendar

    def signals(
        self, record_id: str, events: Sequence[Event], spec: ProcessSpec, now: datetime
    ) -> list[SlaSignal]:
        """Every warning and breach crossed at or before ``now``, as the record stands
        after all of ``events``: every cycle but cancelled ones, of the policies covering
        it (so a clock cancelled or detached by any known event emits nothing more).
        Which of them are *new* is for the storage claims to say. Raises
        ``ValidationError`` for a naive ``now``."""
        require_aware(now, "$.now")
        out: list[SlaSignal] = []
        for policy, clock, cycle, target, calendar in self._cycles(events, spec, None):
            for percent in clock.thresholds:
                at = crossing(cycle, calendar, threshold_time(target, percent))
                if at is None or at > now:
                    break
                out.append(_signal(record_id, policy, clock, cycle.number, percent, at, target))
        return out

    def deadlines(
        self,
        record_id: str,
        events: Sequence[Event],
        spec: ProcessSpec,
        *,
        after: datetime | None = None,
    ) -> list[Deadline]:
        """When ``tick`` must look at the record again: per clock, the earliest
        threshold crossing of any non-cancelled cycle (only those after ``after`` when
        given), and per applicable timer its due instant (same filter). Raises
        ``ValidationError`` for a naive ``after``."""
        if after is not None:
            require_aware(after, "$.after")
        best: dict[tuple[str, str], Deadline] = {}
        for policy, clock, cycle, target, calendar in self._cycles(events, spec, None):
            for percent in clock.thresholds:
                at = crossing(cycle, calendar, threshold_time(target, percent))
                if at is None:
                    break
                if after is not None and at <= after:
                    continue
                where = (policy.name, clock.name)
                if where not in best or at < best[where].due:
                    key = (
                        f"sla:{policy.name}:{clock.name}:{cycle.number}:{_kind(percent)}:{percent}"
                    )
                    best[where] = Deadline(record_id=record_id, key=key, due=at)
                break
        out = list(best.values())
        for due in self.timers(events, spec):
            if after is None or due.due > after:
                out.append(
                    Deadline(record_id=record_id, key=f"timer:{due.timer.name}", due=due.due)
                )
        return out

    def timers(self, events: Sequence[Event], spec: ProcessSpec) -> list[DueTimer]:
        """The spec's timers applying to the record now, with their due instants."""
        return timer_dues(events, spec, self._calendars)


def _signal(
    record_id: str,
    policy: SlaPolicy,
    clock: ClockSpec,
    cycle: int,
    percent: int,
    at: datetime,
    target: timedelta,
) -> SlaSignal:
    return SlaSignal(
        record_id=record_id,
        policy=policy.name,
        clock=clock.name,
        cycle=cycle,
        kind=_kind(percent),
        threshold=percent,
        due=at,
        policy_version=policy.version,
        policy_kind=policy.kind,
        target=target,
    )


def _version_problems(chain: Sequence[SlaPolicy]) -> list[str]:
    problems: list[str] = []
    for before, after in pairwise(chain):
        where = f"policy {after.name!r} version {after.version}"
        if after.effective_from is None:
            problems.append(
                f"{where}: give 'effective_from' (when it starts to apply to new records); "
                "only the lowest version may omit it"
            )
        elif before.effective_from is not None and after.effective_from <= before.effective_from:
            problems.append(
                f"{where}: 'effective_from' must be later than version {before.version}'s"
            )
    return problems
