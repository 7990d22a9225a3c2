"""SLA policies as data: which records a policy covers, and the clocks it runs on them.

Why data: a policy is an agreement, not code. It is built from plain data
(:meth:`SlaPolicy.from_dict`, e.g. a TOML or JSON document read by
``itsmcore.loading.read_document``), diffed, versioned and checked when it is built;
nothing in it is imported or evaluated.

- :class:`SlaPolicy` names the process it covers and a condition on the record's fields
  (``when``), its ``kind`` (``sla`` with a customer, ``ola`` inside the provider, ``uc``
  with a supplier), whether a priority change is ``retroactive``, and its clocks. Every
  policy has a ``version``; versions after the first carry ``effective_from``, so a
  record is always measured by the version in force when it was opened (see
  :class:`~itsmcore.sla.rules.SlaRules`).
- :class:`ClockSpec` is one clock: when it starts, pauses, stops, resumes, is cancelled
  or reset (each a :class:`Trigger`), its target and calendar per priority, and its
  warning thresholds in percent (breach is always 100 %).

The meaning of a clock over a record's events is in :mod:`itsmcore.sla.clock`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from itsmcore.errors import SpecError
from itsmcore.records import FieldMap
from itsmcore.spec import STATE_CATEGORIES

__all__ = [
    "DEFAULT_WARNINGS",
    "POLICY_KINDS",
    "ClockSpec",
    "SlaPolicy",
    "Trigger",
]

#: ``sla`` (service level agreement with a customer), ``ola`` (operational level
#: agreement between internal teams), ``uc`` (underpinning contract with a supplier).
POLICY_KINDS: Final = ("sla", "ola", "uc")
#: Warning thresholds, in percent of the target, used when a clock names none.
DEFAULT_WARNINGS: Final = (50, 75, 90)

_POLICY_NAME = re.compile(r"^[a-z][a-z0-9_-]*$")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def _names(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


def _targets(
    value: Mapping[int, timedelta] | Iterable[tuple[int, timedelta]],
) -> tuple[tuple[int, timedelta], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted(items))


def _calendars(value: Mapping[int, str] | Iterable[tuple[int, str]]) -> tuple[tuple[int, str], ...]:
    items = value.items() if isinstance(value, Mapping) else value
    return tuple(sorted(items))


def _ints(value: Iterable[int]) -> tuple[int, ...]:
    return tuple(value)


def _condition(value: Mapping[str, Any] | None) -> FieldMap:
    if value is None:
        return FieldMap()
    return FieldMap({k: tuple(v) if isinstance(v, list | tuple) else v for k, v in value.items()})


def _clocks(value: Iterable[ClockSpec]) -> tuple[ClockSpec, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class Trigger:
    """When a clock rule applies, in terms of events and states.

    As an *edge* (start, stop, resume, cancel, reset) it fires on an event whose name is
    in ``events``, or that *enters* a state named in ``states`` or of a category in
    ``categories`` from a state that is not (a self-transition enters nothing; the
    ``open`` event enters the initial state). As a *condition* (pause) it holds while the
    record is in such a state; ``events`` mean nothing there. An empty trigger never
    fires and never holds.
    """

    events: tuple[str, ...] = attrs.field(default=(), converter=_names)
    states: tuple[str, ...] = attrs.field(default=(), converter=_names)
    categories: tuple[str, ...] = attrs.field(default=(), converter=_names)

    def holds(self, state: str | None, category: str | None) -> bool:
        """True when ``state`` (of ``category``) is one this trigger names."""
        return state is not None and (state in self.states or category in self.categories)

    def fires(
        self,
        event: str,
        source: str | None,
        source_category: str | None,
        target: str,
        target_category: str,
    ) -> bool:
        """True when an event named ``event`` from ``source`` to ``target`` fires it."""
        if event in self.events:
            return True
        return self.holds(target, target_category) and not self.holds(source, source_category)

    def __bool__(self) -> bool:
        return bool(self.events or self.states or self.categories)

    def to_dict(self) -> dict[str, list[str]]:
        """The plain-data form (only the non-empty keys)."""
        out: dict[str, list[str]] = {}
        for key in ("events", "states", "categories"):
            value: tuple[str, ...] = getattr(self, key)
            if value:
                out[key] = list(value)
        return out


@attrs.frozen(slots=True)
class ClockSpec:
    """One SLA clock (``response``, ``resolution``, or a custom one).

    - ``targets`` maps a priority to the business time allowed (a ``timedelta`` > 0); a
      record whose priority has no target is not measured by this clock.
    - ``calendar`` names the business calendar the time is counted on; ``calendars``
      overrides it per priority (e.g. 24×7 for priority 1 and 2).
    - ``start`` begins a cycle (default: the ``open`` event); a start after a stop or a
      cancel begins a new cycle. ``pause`` holds the clock while it holds; ``stop`` ends
      the cycle (met or breached); ``resume`` continues a stopped cycle (a reopen), so the
      time spent stopped does not count; ``cancel`` ends it for good (it emits nothing
      more); ``reset`` ends the cycle and begins a new one at once.
    - ``warnings`` are percents of the target, each strictly between 0 and 100.
    """

    name: str
    targets: tuple[tuple[int, timedelta], ...] = attrs.field(converter=_targets)
    calendar: str = "24x7"
    calendars: tuple[tuple[int, str], ...] = attrs.field(default=(), converter=_calendars)
    start: Trigger = Trigger(events=("open",))
    pause: Trigger = Trigger()
    stop: Trigger = Trigger()
    resume: Trigger = Trigger()
    cancel: Trigger = Trigger()
    reset: Trigger = Trigger()
    warnings: tuple[int, ...] = attrs.field(default=DEFAULT_WARNINGS, converter=_ints)
    description: str = ""

    def target_for(self, priority: object) -> timedelta | None:
        """The target for ``priority``, or ``None`` when the clock has none for it."""
        for p, target in self.targets:
            if p == priority and not isinstance(priority, bool):
                return target
        return None

    def calendar_for(self, priority: object) -> str:
        """The calendar name for ``priority``."""
        for p, name in self.calendars:
            if p == priority and not isinstance(priority, bool):
                return name
        return self.calendar

    def calendar_names(self) -> tuple[str, ...]:
        """Every calendar name the clock refers to."""
        return tuple(dict.fromkeys([self.calendar, *(name for _, name in self.calendars)]))

    def problems(self, where: str) -> list[str]:
        """Every static problem of this clock, each prefixed with ``where``."""
        out: list[str] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            out.append(f"{where}: clock name {self.name!r} must be lower_snake_case")
        if not self.targets:
            out.append(f"{where}: give at least one target (priority -> duration)")
        for p, target in self.targets:
            if isinstance(p, bool) or not isinstance(p, int):
                out.append(f"{where}: target priority {p!r} must be an integer")
            if not isinstance(target, timedelta) or target <= timedelta(0):
                out.append(f"{where}: target for priority {p} must be a duration > 0")
        for p, _name in self.calendars:
            if self.target_for(p) is None:
                out.append(f"{where}: calendar given for priority {p}, which has no target")
        if not self.start:
            out.append(f"{where}: 'start' must name at least one event or state")
        if self.pause.events:
            out.append(f"{where}: 'pause' holds in states; it cannot name events")
        seen: set[int] = set()
        for w in self.warnings:
            if isinstance(w, bool) or not isinstance(w, int) or not 0 < w < 100:
                out.append(f"{where}: warning {w!r} must be a whole percent between 1 and 99")
            elif w in seen:
                out.append(f"{where}: warning {w} is given twice")
            else:
                seen.add(w)
        for label in ("start", "pause", "stop", "resume", "cancel", "reset"):
            trigger: Trigger = getattr(self, label)
            for category in trigger.categories:
                if category not in STATE_CATEGORIES:
                    out.append(
                        f"{where}.{label}: unknown category {category!r}; use one of "
                        f"{', '.join(sorted(STATE_CATEGORIES))}"
                    )
        return out

    @property
    def thresholds(self) -> tuple[int, ...]:
        """The warning thresholds in ascending order, then 100 (the breach)."""
        return (*sorted(self.warnings), 100)


@attrs.frozen(slots=True)
class SlaPolicy:
    """An SLA, OLA or UC policy at one version: what it covers and its clocks.

    ``when`` maps field names to a required value, or to a tuple of accepted values; the
    policy covers records of ``process`` whose current fields match every entry (an empty
    ``when`` covers them all). A record whose fields stop matching is *detached*: its
    clocks are no longer reported and emit nothing; if they match again, the clocks are
    computed from the record's history as if they had always applied.

    ``retroactive`` (default true): a priority change recomputes the target from the
    clock's original start; false keeps the target of the priority the cycle started
    with. ``priority_field`` names the field holding the priority. ``effective_from`` (an
    aware datetime) is when this version starts to apply to newly opened records.

    Building one checks it and raises :class:`~itsmcore.errors.SpecError` listing every
    problem.
    """

    name: str
    version: int
    process: str
    clocks: tuple[ClockSpec, ...] = attrs.field(converter=_clocks)
    kind: str = "sla"
    when: FieldMap = attrs.field(factory=FieldMap, converter=_condition)
    retroactive: bool = True
    priority_field: str = "priority"
    effective_from: datetime | None = None
    title: str = ""
    description: str = ""

    def __attrs_post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise SpecError(str(self.name), problems)

    def problems(self) -> list[str]:
        """Every static problem of the policy (empty when it is valid)."""
        out: list[str] = []
        if not isinstance(self.name, str) or not _POLICY_NAME.match(self.name):
            out.append(f"policy name {self.name!r} must be lower-case letters, digits, - or _")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            out.append(f"version must be a positive integer, got {self.version!r}")
        if self.kind not in POLICY_KINDS:
            out.append(f"kind {self.kind!r} is not one of {', '.join(POLICY_KINDS)}")
        if not isinstance(self.process, str) or not _NAME.match(self.process):
            out.append(f"process {self.process!r} must be a process name")
        if self.effective_from is not None and (
            not isinstance(self.effective_from, datetime) or self.effective_from.utcoffset() is None
        ):
            out.append("effective_from must be a timezone-aware datetime")
        if not self.clocks:
            out.append("a policy needs at least one clock")
        names = [c.name for c in self.clocks]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            out.append(f"duplicate clocks: {', '.join(dupes)}")
        for i, clock in enumerate(self.clocks):
            out.extend(clock.problems(f"clocks[{i}] ({clock.name})"))
        return out

    def covers(self, process: str, fields: Mapping[str, Any]) -> bool:
        """True when the policy applies to a record of ``process`` with these fields."""
        if process != self.process:
            return False
        for key, wanted in self.when.items():
            value = fields.get(key)
            if isinstance(wanted, tuple):
                if value not in wanted:
                    return False
            elif value != wanted:
                return False
        return True

    def clock(self, name: str) -> ClockSpec:
        """The clock called ``name`` (``KeyError`` if unknown)."""
        for c in self.clocks:
            if c.name == name:
                return c
        raise KeyError(name)

    def calendar_names(self) -> tuple[str, ...]:
        """Every calendar name the policy's clocks refer to."""
        names: list[str] = []
        for c in self.clocks:
            names.extend(c.calendar_names())
        return tuple(dict.fromkeys(names))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        """Build a policy from plain data (the format in ``docs/sla-policies.md``).

        Raises :class:`~itsmcore.errors.SpecError` listing every problem with its path.
        """
        from itsmcore.sla._policy_data import policy_from_dict

        return policy_from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form; ``SlaPolicy.from_dict(p.to_dict()) == p``."""
        from itsmcore.sla._policy_data import policy_to_dict

        return policy_to_dict(self)
