"""Cadences: recurring schedules that open a record per occurrence.

Why data: "定期" (periodically) is the seed's most repeated word (RX-01): SLA reviews,
audits, drills, inspections, scans, control evaluations, knowledge reviews. A
:class:`Cadence` is plain data: an RFC 5545 recurrence rule (``"FREQ=MONTHLY;
BYMONTHDAY=-1;BYHOUR=9"``, evaluated by ``python-dateutil``'s ``rrule``, never by hand)
with a start and an IANA time zone, attached to a template: a process and the fields of
the record to open for each occurrence. ``Engine(..., cadences=[...])`` and
``Engine.tick(now)`` open each due occurrence exactly once (see :func:`run_cadences`).

Time zones. The rule runs on the wall clock of ``timezone``: "every day at 09:00" in
``Europe/Berlin`` is 08:00 UTC in winter and 07:00 UTC in summer. Following RFC 5545
(3.3.5), a wall-clock time that does not exist on a DST day (02:30 when clocks jump
from 02:00 to 03:00) is read with the offset before the gap, i.e. it happens at 03:30;
a time that occurs twice (the fold) happens at its first occurrence. Occurrences are
returned in UTC. ``UNTIL`` in a rule must be given in UTC (``...Z``).

Month ends: ``FREQ=MONTHLY`` from the 31st skips shorter months (RFC 5545); use
``BYMONTHDAY=-1`` for "the last day of every month". Quarterly is ``FREQ=MONTHLY;
INTERVAL=3``; the seed's default reporting cadence is monthly.

The schedule functions are pure (no clock, no I/O). :func:`run_cadences`, at the end,
is the part that drives the storage port for ``Engine.tick``; it never imports the
engine. ``python-dateutil`` is an optional dependency (``pip install
'itsmcore[cadence]'``): it is imported when a cadence is built, with a clear
``ImportError`` if it is missing.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from itsmcore._time import format_duration, parse_duration, require_aware, to_utc_text
from itsmcore.errors import ClaimTaken, ItsmError, SpecError, StorageError, ValidationError
from itsmcore.ports.storage import Claim, Notification, Storage
from itsmcore.records import SYSTEM, Actor, FieldMap, Record

if TYPE_CHECKING:
    from dateutil.rrule import rrule

    from itsmcore._catalog import Catalog
    from itsmcore.spec import ProcessSpec

__all__ = [
    "CATCH_UP_MODES",
    "MAX_OCCURRENCES_PER_TICK",
    "Cadence",
    "CadenceOccurrence",
    "check_cadences",
    "due_occurrences",
    "occurrence_key",
    "run_cadences",
]

#: ``all``: a tick opens every occurrence missed since the last one; ``latest``: only the
#: most recent due occurrence (older missed ones are never opened).
CATCH_UP_MODES: Final = ("all", "latest")
#: At most this many occurrences of one cadence are opened by one tick (earliest
#: first); the rest are opened by the next ticks.
MAX_OCCURRENCES_PER_TICK: Final = 1000

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
_log = logging.getLogger("itsmcore.cadence")


def _parse_rule(rule: str, start: datetime) -> rrule:
    """Parse one RRULE value with ``start`` as DTSTART (raises ``ValueError``)."""
    try:
        from dateutil.rrule import rrule, rrulestr
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError("cadences need python-dateutil: pip install 'itsmcore[cadence]'") from exc
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "\r" in text or ":" in text:
        raise ValueError("give one RRULE value, e.g. 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=9'")
    parsed = rrulestr(text, dtstart=start, cache=False)
    if not isinstance(parsed, rrule):  # pragma: no cover - one RRULE parses to an rrule
        raise ValueError("give one RRULE value")
    return parsed


def _is_a(value: object, cls: type) -> bool:
    """A run-time type check on data typed by annotation only (hosts pass anything)."""
    return isinstance(value, cls)


def _to_fieldmap(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


@attrs.frozen(slots=True)
class Cadence:
    """A recurring schedule attached to a record template.

    - ``name``: lower-case id (letters, digits, ``_``, ``-``), unique per engine; it is
      part of every claim key, so renaming a cadence re-opens its occurrences.
    - ``rule``: one RFC 5545 RRULE value (the ``RRULE:`` prefix is optional); DTSTART
      comes from ``start``, never from the text.
    - ``start``: an aware datetime, the first possible occurrence; its wall-clock
      reading in ``timezone`` anchors the rule (times of day not given by ``BYHOUR``
      etc. come from it).
    - ``timezone``: an IANA zone name (``"Europe/Berlin"``).
    - ``process`` and ``fields``: what to open per occurrence. When the process declares
      them, ``scheduled_for`` gets the occurrence instant, ``cadence`` this cadence's
      name, and (with ``due_within``) ``due_at`` the occurrence plus ``due_within``.
    - ``catch_up``: see :data:`CATCH_UP_MODES`; ``catch_up_window`` bounds how far back
      an engine's first tick looks for missed occurrences (default: back to ``start``).
    - ``actor``: who opens the records (default :data:`~itsmcore.records.SYSTEM`).

    Building one checks everything and raises :class:`ValidationError` listing every
    problem with its path (``$.rule``, ``$.timezone``...).
    """

    name: str
    rule: str
    start: datetime
    timezone: str
    process: str
    fields: FieldMap = attrs.field(factory=FieldMap, converter=_to_fieldmap)
    catch_up: str = "all"
    catch_up_window: timedelta | None = None
    due_within: timedelta | None = None
    actor: Actor = SYSTEM
    description: str = ""
    _zone: tzinfo = attrs.field(init=False, repr=False, eq=False)
    _rrule: rrule = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            errors.append(("$.name", "use 1-64 lower-case letters, digits, '_' or '-'"))
        if not isinstance(self.process, str) or not self.process:
            errors.append(("$.process", "name the process to open per occurrence"))
        if self.catch_up not in CATCH_UP_MODES:
            errors.append(("$.catch_up", f"must be one of {', '.join(CATCH_UP_MODES)}"))
        for path, value in (
            ("$.catch_up_window", self.catch_up_window),
            ("$.due_within", self.due_within),
        ):
            if value is not None and (not isinstance(value, timedelta) or value <= timedelta(0)):
                errors.append((path, "must be a positive datetime.timedelta or None"))
        if not _is_a(self.actor, Actor):
            errors.append(("$.actor", "expected an itsmcore.Actor"))
        zone: tzinfo | None = None
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            errors.append(("$.timezone", f"unknown IANA time zone {self.timezone!r}"))
        try:
            require_aware(self.start, "$.start")
        except ValidationError as exc:
            errors.extend(exc.errors)
            zone = None
        if zone is not None:
            try:
                parsed = _parse_rule(self.rule, self.start.astimezone(zone))
            except (ValueError, TypeError, AttributeError) as exc:
                errors.append(("$.rule", f"not an RFC 5545 recurrence rule: {exc}"))
            else:
                object.__setattr__(self, "_rrule", parsed)
                object.__setattr__(self, "_zone", zone)
        if errors:
            raise ValidationError(errors)

    # -- the schedule (pure) ---------------------------------------------------------------

    @property
    def zone(self) -> tzinfo:
        """The cadence's time zone."""
        return self._zone

    def occurrences(self, after: datetime | None, until: datetime) -> tuple[datetime, ...]:
        """Occurrence instants ``t`` (UTC) with ``after < t <= until``, oldest first
        (``after=None``: from the start, inclusive). Raises ``ValidationError`` for a
        naive bound."""
        until = require_aware(until, "$.until").astimezone(UTC)
        if after is not None:
            after = require_aware(after, "$.after").astimezone(UTC)
            if after >= until:
                return ()
        out: list[datetime] = []
        for instant in self._instants():
            if instant > until:
                break
            if after is None or instant > after:
                out.append(instant)
        return tuple(out)

    def _instants(self) -> Iterable[datetime]:
        """Every occurrence in UTC, in order, each instant once (a wall-clock time in a
        DST gap may land on the same instant as the next one: it counts once)."""
        last: datetime | None = None
        for local in self._rrule:
            instant = local.astimezone(UTC)
            if last is None or instant > last:
                last = instant
                yield instant

    def next_after(self, instant: datetime) -> datetime | None:
        """The first occurrence strictly after ``instant`` (UTC), or ``None`` when the
        rule has ended (``COUNT``/``UNTIL``). RX-01's ``next_due(last_done)``."""
        instant = require_aware(instant, "$.instant").astimezone(UTC)
        for value in self._instants():
            if value > instant:
                return value
        return None

    def opening_fields(self, spec: ProcessSpec, occurrence: datetime) -> dict[str, Any]:
        """The fields to open ``spec`` with for ``occurrence``: the template, plus
        ``scheduled_for``, ``cadence`` and ``due_at`` where ``spec`` declares them (and
        the template does not set them)."""
        declared = {f.name for f in spec.fields if not f.derived}
        fields = dict(self.fields)
        extra: dict[str, Any] = {"scheduled_for": occurrence, "cadence": self.name}
        if self.due_within is not None:
            extra["due_at"] = occurrence + self.due_within
        for key, value in extra.items():
            if key in declared and key not in fields:
                fields[key] = value
        return fields

    # -- plain data ------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Cadence:
        """Build from plain data (TOML/JSON): ``start`` as ISO 8601 text with an offset,
        durations as ISO 8601 text (``"P7D"``), ``actor`` as ``{"id": ..., "roles": [...]}``.
        Raises ``ValidationError`` naming each bad key."""
        if not isinstance(data, Mapping):
            raise ValidationError.single("$", "expected a table/object")
        known = {
            "name", "rule", "start", "timezone", "process", "fields", "catch_up",
            "catch_up_window", "due_within", "actor", "description",
        }  # fmt: skip
        errors = [(f"$.{k}", "unknown key") for k in data if k not in known]
        errors += [(f"$.{k}", "is required") for k in ("name", "rule", "start") if k not in data]
        errors += [(f"$.{k}", "is required") for k in ("timezone", "process") if k not in data]
        if errors:
            raise ValidationError(errors)
        start = data["start"]
        if isinstance(start, str):
            try:
                start = datetime.fromisoformat(start)
            except ValueError:
                raise ValidationError.single("$.start", "not an ISO 8601 datetime") from None
        actor = data.get("actor", SYSTEM)
        if isinstance(actor, Mapping):
            actor = Actor(str(actor.get("id", "")), roles=actor.get("roles", ()))
        windows = {
            k: parse_duration(data[k], f"$.{k}") if data.get(k) is not None else None
            for k in ("catch_up_window", "due_within")
        }
        return cls(
            name=data["name"],
            rule=data["rule"],
            start=start,
            timezone=data["timezone"],
            process=data["process"],
            fields=data.get("fields") or {},
            catch_up=data.get("catch_up", "all"),
            catch_up_window=windows["catch_up_window"],
            due_within=windows["due_within"],
            actor=actor,
            description=data.get("description", ""),
        )

    def to_dict(self) -> dict[str, Any]:
        """The plain-data form read by :meth:`from_dict` (field values as given)."""
        out: dict[str, Any] = {
            "name": self.name,
            "rule": self.rule,
            "start": self.start.isoformat(),
            "timezone": self.timezone,
            "process": self.process,
            "fields": self.fields.to_dict(),
            "catch_up": self.catch_up,
        }
        if self.catch_up_window is not None:
            out["catch_up_window"] = format_duration(self.catch_up_window)
        if self.due_within is not None:
            out["due_within"] = format_duration(self.due_within)
        if self.actor != SYSTEM:
            out["actor"] = {"id": self.actor.id, "roles": sorted(self.actor.roles)}
        if self.description:
            out["description"] = self.description
        return out


def due_occurrences(
    cadence: Cadence, since: datetime | None, now: datetime
) -> tuple[datetime, ...]:
    """The occurrences a tick at ``now`` must open, oldest first (UTC).

    The window is ``(since, now]``; with ``since=None`` (no earlier tick known) it starts
    at ``now - cadence.catch_up_window``, or at the cadence's start without a window.
    ``catch_up="latest"`` keeps only the most recent occurrence in the window. Pure: the
    caller makes each occurrence exactly-once (see :func:`run_cadences`).
    """
    now = require_aware(now, "$.now").astimezone(UTC)
    after = since
    if after is None and cadence.catch_up_window is not None:
        after = now - cadence.catch_up_window
    found = cadence.occurrences(after, now)
    if cadence.catch_up == "latest":
        return found[-1:]
    return found


def check_cadences(cadences: Iterable[Cadence], catalog: Catalog) -> tuple[Cadence, ...]:
    """Check cadences against a catalog: unique names, known processes, and a template
    the process accepts (opened once, purely, at the cadence's start). Raises one
    :class:`SpecError` listing every problem."""
    out = tuple(cadences)
    problems: list[str] = []
    seen: set[str] = set()
    for cadence in out:
        if not _is_a(cadence, Cadence):
            problems.append(f"expected a Cadence, got {type(cadence).__name__}")
            continue
        if cadence.name in seen:
            problems.append(f"cadence {cadence.name!r} is given twice")
        seen.add(cadence.name)
        if cadence.process not in catalog:
            problems.append(
                f"cadence {cadence.name!r}: unknown process {cadence.process!r}; "
                f"known: {', '.join(catalog.names())}"
            )
            continue
        spec = catalog.get(cadence.process)
        first = cadence.start.astimezone(UTC)
        try:
            spec.open(
                record_id="CADENCE-CHECK",
                at=first,
                actor=cadence.actor,
                fields=cadence.opening_fields(spec, first),
            )
        except ItsmError as exc:
            problems.append(f"cadence {cadence.name!r}: {spec.name!r} refuses the template: {exc}")
    if problems:
        raise SpecError("cadences", problems)
    return out


# -- the tick (drives the storage port) -----------------------------------------------------


@attrs.frozen(slots=True)
class CadenceOccurrence:
    """One occurrence of a cadence, opened by ``Engine.tick`` as record ``record_id``.

    ``due`` is the occurrence instant (UTC); ``kind`` is always ``"cadence"``. Its claim
    key (also the id of its ``"cadence"`` outbox notification) is
    ``cadence:<name>:<due as 2026-11-26T09:00:00.000000Z>``.
    """

    cadence: str
    due: datetime
    process: str
    record_id: str
    kind: str = "cadence"

    @property
    def key(self) -> str:
        """The claim key that makes this occurrence exactly-once."""
        return occurrence_key(self.cadence, self.due)


def occurrence_key(cadence: str, due: datetime) -> str:
    """``cadence:<name>:<due in canonical UTC text>``."""
    return f"cadence:{cadence}:{to_utc_text(due)}"


#: Opens the record of one occurrence ``(cadence, occurrence, now, claims, outbox)`` (the
#: engine opens it at the tick's ``now``, with the occurrence in ``scheduled_for``) and
#: saves ``claims`` and ``outbox`` in the same transaction; returns the record. Raises
#: ``ClaimTaken`` when a claim is taken (another worker opened it).
OccurrenceOpener = Callable[
    [Cadence, datetime, datetime, Sequence[Claim], Sequence[Notification]], Record
]


def run_cadences(
    storage: Storage,
    cadences: Sequence[Cadence],
    open_occurrence: OccurrenceOpener,
    now: datetime,
    marks: MutableMapping[str, datetime],
    *,
    atomic: bool = True,
) -> list[CadenceOccurrence]:
    """Open every due occurrence of ``cadences`` exactly once; return those this call
    opened, oldest first.

    For each cadence, the due occurrences (:func:`due_occurrences` since
    ``marks[name]``, this engine's previous tick) are opened one by one, each with its
    claim (key :func:`occurrence_key`) and a ``"cadence"`` outbox notification whose id
    is the claim key. With ``atomic`` (the store takes claims in ``append``, see
    :func:`~itsmcore.ports.storage.appends_claims`) the claim is saved with the open: the
    occurrences already claimed (``claimed``, one read) are skipped, a worker that finds
    one taken meanwhile (``ClaimTaken``) leaves it to the one that has it, and a worker
    that dies mid-way leaves nothing, so the next tick of any worker opens the
    occurrence. Without it, the claim is saved first and the record
    opened after: a worker that dies in between loses that occurrence (the
    ``"cadence"`` notification still records it, for the host to reconcile). With
    several workers each occurrence is opened by exactly one. ``marks`` is updated to
    ``now`` (or to the last occurrence handled when more than
    :data:`MAX_OCCURRENCES_PER_TICK` were due); a storage error leaves it as it was, so
    the next tick tries the same occurrences again.

    An open refused by the process (a guard that depends on the time, an authorization
    hook) is logged, the occurrence claimed, and a ``"cadence_failed"`` notification
    written; it is not retried.
    """
    now = require_aware(now, "$.now").astimezone(UTC)
    opened: list[CadenceOccurrence] = []
    for cadence in cadences:
        due = due_occurrences(cadence, marks.get(cadence.name), now)
        capped = len(due) > MAX_OCCURRENCES_PER_TICK
        due = due[:MAX_OCCURRENCES_PER_TICK]
        taken: set[str] = set()
        if atomic and due:  # skip what other workers have without taking an id for it
            reader: Any = storage
            taken = set(reader.claimed([occurrence_key(cadence.name, t) for t in due]))
        for occurrence in due:
            if occurrence_key(cadence.name, occurrence) in taken:
                continue
            record = _open_once(storage, cadence, occurrence, now, open_occurrence, atomic)
            if record is not None:
                opened.append(
                    CadenceOccurrence(cadence.name, occurrence, cadence.process, record.id)
                )
        marks[cadence.name] = due[-1] if capped else now
    opened.sort(key=lambda o: (o.due, o.cadence))
    return opened


def _open_once(
    storage: Storage,
    cadence: Cadence,
    occurrence: datetime,
    now: datetime,
    open_occurrence: OccurrenceOpener,
    atomic: bool,
) -> Record | None:
    """Open one occurrence unless another worker has it; the record, or ``None``."""
    owner = f"cadence:{cadence.name}"
    claim = Claim(key=occurrence_key(cadence.name, occurrence), record_id=owner, at=occurrence)
    note = Notification(
        id=claim.key,
        kind="cadence",
        record_id=owner,
        at=occurrence,
        payload={"cadence": cadence.name, "process": cadence.process,
                 "due": occurrence.isoformat()},
    )  # fmt: skip
    if not atomic and not storage.claim([claim], outbox=[note]):
        return None  # another worker claimed it
    try:
        if atomic:
            return open_occurrence(cadence, occurrence, now, [claim], [note])
        return open_occurrence(cadence, occurrence, now, (), ())
    except ClaimTaken:
        return None  # another worker opened it
    except StorageError as exc:
        if atomic:
            raise  # nothing was written: the next tick tries the occurrence again
        _log.warning("cadence %s: could not open %s: %s", cadence.name, claim.key, exc)
        _failed(storage, cadence, claim, str(exc))  # claimed already: report, do not retry
        return None
    except ItsmError as exc:
        _log.warning("cadence %s: could not open %s: %s", cadence.name, claim.key, exc)
        if atomic and not storage.claim([claim], outbox=[note]):
            return None  # another worker handled it meanwhile
        _failed(storage, cadence, claim, str(exc))
        return None


def _failed(storage: Storage, cadence: Cadence, claim: Claim, error: str) -> None:
    """Write the ``"cadence_failed"`` notification of a claimed occurrence, once."""
    failed = f"{claim.key}:failed"
    note = Notification(
        id=failed,
        kind="cadence_failed",
        record_id=claim.record_id,
        at=claim.at,
        payload={"cadence": cadence.name, "error": error},
    )
    storage.claim([Claim(key=failed, record_id=claim.record_id, at=claim.at)], outbox=[note])
