"""The engine side of monitoring: ``Engine.observe``, ``Engine.sample``, ``Engine.outages``.

Why here, outside :mod:`itsmcore.monitoring`: this module drives the storage port;
the monitoring package stays pure. The engine's methods delegate to the functions
below.

**Deduplication, exactly once across workers.** The incident of an observation key
has a deterministic id: ``<prefix>-A<16 hex digits of SHA-256(key)>-<generation>``
(``INC-A3f9c...-1``). Generation 1 is the first incident of the key; a key that fires
again after its incident was closed or cancelled opens generation *g + 1*. Opening is
a version-1 save of that id, which the storage port accepts once: a concurrent
observer that loses gets ``ConcurrencyError``, re-reads, finds the incident and adds
its firing to it. Every later change is version-checked the same way, so counts are
never lost. Generations are dense (*g + 1* is only opened after *g* exists), so the
current one is found by probing ids (a few reads, logarithmic in the generations).

**Threshold series** keep their state in ``threshold_series`` records (see
:mod:`itsmcore.monitoring.series`), saved only when a series changes status.

The actor of every change made here is :data:`~itsmcore.records.SYSTEM`.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from itsmcore._engine.commit import commit
from itsmcore._time import require_aware
from itsmcore.errors import (
    ConcurrencyError,
    Forbidden,
    GuardFailed,
    InvalidTransition,
    ItsmError,
    NotFound,
    ValidationError,
)
from itsmcore.improvement.kpis import History
from itsmcore.machine import apply_link
from itsmcore.monitoring.observation import MODES, Observation
from itsmcore.monitoring.outages import service_outages
from itsmcore.monitoring.policy import AlertRule, MonitoringPolicy, SeverityLevel
from itsmcore.monitoring.rules import SeriesState, ThresholdRule, evaluate
from itsmcore.monitoring.series import SERIES_EVENTS, SERIES_SPEC, series_record_id
from itsmcore.ports.storage import Storage
from itsmcore.records import SYSTEM, Link, Record, Step
from itsmcore.sla.availability import Outage, Period
from itsmcore.spec import ProcessSpec

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = [
    "current_incident",
    "incident_base_id",
    "incident_steps",
    "observe",
    "outages",
    "sample",
]

#: How often one observation re-reads after losing a race before giving up.
MAX_ATTEMPTS: Final = 50
#: The incident process observations open.
INCIDENT: Final = "incident"
#: How many transitions auto-resolution may walk before ``resolve``.
MAX_WALK: Final = 4
_TITLE_MAX: Final = 200


def incident_base_id(spec: ProcessSpec, key: str) -> str:
    """The id of ``key``'s incidents without the generation (``INC-A<16 hex>``)."""
    prefix = spec.id_prefix or spec.name.upper()
    return f"{prefix}-A{hashlib.sha256(key.encode('utf-8')).hexdigest()[:16]}"


def _load(storage: Storage, record_id: str) -> Record | None:
    try:
        return storage.load(record_id)
    except NotFound:
        return None


def current_incident(
    storage: Storage, base: str, live: Callable[[Record], bool] | None = None
) -> tuple[int, Record | None]:
    """The latest generation of ``base`` and its record (``(0, None)`` for none).

    Generations are dense (1..g), so exponential then binary probing finds the last
    one. With ``live`` (true for a record that is not closed or cancelled) a live
    record ends the search early: generation *g + 1* is only opened after *g* was seen
    finished, and a finished record never goes back, so a live one is the latest.
    """
    is_live = live or (lambda _record: False)
    first = _load(storage, f"{base}-1")
    if first is None or is_live(first):
        return (0, None) if first is None else (1, first)
    low, found, high = 1, first, 2
    while (record := _load(storage, f"{base}-{high}")) is not None:
        if is_live(record):
            return high, record
        low, found, high = high, record, high * 2
    while high - low > 1:
        middle = (low + high) // 2
        record = _load(storage, f"{base}-{middle}")
        if record is None:
            high = middle
        elif is_live(record):
            return middle, record
        else:
            low, found = middle, record
    return low, found


# -- observe ------------------------------------------------------------------------------


def observe(engine: Engine, observation: Observation) -> Record | None:
    """Turn ``observation`` into incident work (see ``Engine.observe``)."""
    for _attempt in range(MAX_ATTEMPTS):
        steps, result = incident_steps(engine, observation)
        try:
            if steps:
                commit(engine, steps)
        except ConcurrencyError:
            continue  # another observer or agent wrote first: read again
        return result
    raise ConcurrencyError(0, 0, f"{observation.key}: the incident kept changing; observe again")


def incident_steps(engine: Engine, observation: Observation) -> tuple[list[Step], Record | None]:
    """The steps that turn ``observation`` into incident work, read from the store now,
    and the incident record they leave (``None`` when there is nothing to do). Saved in
    one ``commit``, with other steps if the caller has some (``sample`` saves the series
    change with them); a ``ConcurrencyError`` then means: read again."""
    if not isinstance(observation, Observation):
        raise ValidationError.single("$.observation", "expected an Observation")
    policy: MonitoringPolicy = engine.monitoring
    rule = policy.rule_for(observation)
    level = policy.level(observation, rule)
    if level is None:
        return [], None  # informational: no incident
    spec = engine.catalog.get(INCIDENT)
    base = incident_base_id(spec, observation.key)

    def is_live(record: Record) -> bool:
        return not engine.spec_of(record).is_terminal(record.state)

    generation, record = current_incident(engine.storage, base, is_live)
    live = record is not None and is_live(record)
    if observation.firing:
        if record is None or not live:
            rid = f"{base}-{generation + 1}"
            return _open(engine, spec, policy, rule, level, observation, rid)
        return _add_firing(engine, rule, record, observation)
    if record is None or not live:
        return [], None  # nothing open to clear
    return _clear(engine, rule, record, observation)


def _describe(observation: Observation) -> str:
    lines = [
        observation.summary or observation.key,
        "",
        f"Observed by {observation.source} ({observation.mode}) at {observation.at.isoformat()}.",
        f"Condition: {observation.key}",
        f"Severity: {observation.severity}",
    ]
    if observation.value is not None:
        lines.append(f"Value: {observation.value:g}")
    lines.extend(f"{k}: {v}" for k, v in sorted(observation.labels.items()))
    return "\n".join(lines)


def _open(
    engine: Engine,
    spec: ProcessSpec,
    policy: MonitoringPolicy,
    rule: AlertRule,
    level: SeverityLevel,
    observation: Observation,
    record_id: str,
) -> tuple[list[Step], Record]:
    labels = observation.labels
    fields: dict[str, Any] = {
        "title": (observation.summary or observation.key)[:_TITLE_MAX],
        "caller": policy.caller,
        "impact": level.impact,
        "urgency": level.urgency,
        "channel": "monitoring",
        "description": _describe(observation),
    }
    if rule.outage:
        fields["outage"] = True
    service = labels.get(policy.service_label)
    if service:
        fields["service"] = service
    ci_id = labels.get(policy.ci_label)
    ci = _load(engine.storage, ci_id) if ci_id else None
    if ci is not None:
        fields["ci"] = ci.id
    fields.update(rule.fields)
    fields["alert_key"] = observation.key
    step = spec.open(record_id=record_id, at=observation.at, actor=SYSTEM, fields=fields)
    steps = [step]
    if ci is not None:
        steps.extend(_ci_link(engine, step.record, ci, observation.at))
    # One save: the open and both sides of the link.
    return steps, steps[1].record if len(steps) > 1 else step.record


def _ci_link(engine: Engine, incident: Record, ci: Record, at: datetime) -> list[Step]:
    """Both sides of ``incident affects ci`` (nothing when the host's link rules do not
    allow it). Dated no earlier than the CI's last event (events never go back)."""
    try:
        placed = engine.link_rules.place("affects", incident, ci)
    except ValidationError:
        return []
    link = Link(
        kind=placed.kind.name,
        source=placed.source.id,
        target=placed.target.id,
        at=max(at, ci.updated_at),
    )
    return [
        apply_link(incident, engine.spec_of(incident), link, actor=SYSTEM),
        apply_link(ci, engine.spec_of(ci), link, actor=SYSTEM),
    ]


def _add_firing(
    engine: Engine, rule: AlertRule, record: Record, obs: Observation
) -> tuple[list[Step], Record]:
    spec = engine.spec_of(record)
    last = record.get("alert_last_seen")
    system: dict[str, Any] = {
        "alert_count": int(record.get("alert_count", 0)) + 1,
        "alert_last_seen": obs.at if last is None else max(last, obs.at),
        "alert_status": "firing",
        "alert_cleared_at": None,
    }
    event = "update"
    cleared = record.get("alert_status") == "resolved"
    if (
        cleared
        and rule.reopen
        and spec.category(record.state) == "resolved"
        and "reopen" in spec.allowed(record)
    ):
        event = "reopen"
    at = max(obs.at, record.updated_at)
    step = spec.fire(record, event, at=at, actor=SYSTEM, system_fields=system)
    return [step], step.record


def _clear(
    engine: Engine, rule: AlertRule, record: Record, obs: Observation
) -> tuple[list[Step], Record]:
    if record.get("alert_status") == "resolved":
        return [], record  # a repeated clearing changes nothing
    spec = engine.spec_of(record)
    at = max(obs.at, record.updated_at)
    system = {"alert_status": "resolved", "alert_cleared_at": obs.at}
    steps = [spec.fire(record, "update", at=at, actor=SYSTEM, system_fields=system)]
    if rule.auto_resolve and spec.category(steps[0].record.state) in ("open", "paused"):
        steps.extend(_walk_to_resolve(spec, steps[0].record, at, rule, obs))
    return steps, steps[-1].record


def _walk_to_resolve(
    spec: ProcessSpec, record: Record, at: datetime, rule: AlertRule, obs: Observation
) -> list[Step]:
    """The shortest chain of transitions (at most :data:`MAX_WALK` before ``resolve``)
    that takes ``record`` to ``resolve``, each as the system actor; empty when none
    works (the clearing is then only recorded). Intermediate steps carry no fields,
    except ``assignee`` = ``rule.resolver`` for an unassigned incident that must be
    assigned first; they never enter a resolved, closed or cancelled state."""
    resolution = {
        "resolution_code": rule.resolution_code,
        "resolution_notes": (
            f"Monitoring: {obs.key} cleared at {obs.at.isoformat()}; "
            f"resolved automatically by rule {rule.name!r}."
        ),
    }
    extra = {"assignee": rule.resolver} if rule.resolver else {}
    frontier: list[tuple[Record, list[Step]]] = [(record, [])]
    seen = {record.state}
    for _depth in range(MAX_WALK + 1):
        following: list[tuple[Record, list[Step]]] = []
        for current, path in frontier:
            try:
                done = spec.fire(current, "resolve", at=at, actor=SYSTEM, fields=resolution)
            except (InvalidTransition, GuardFailed, Forbidden):
                pass  # not from here (or not for the system actor): walk on
            else:
                return [*path, done]
            for event in spec.allowed(current):
                if event in ("resolve", "update", "link"):
                    continue
                step = _try(spec, current, event, at, extra)
                if step is None or step.record.state in seen:
                    continue
                if spec.category(step.record.state) not in ("open", "paused"):
                    continue
                seen.add(step.record.state)
                following.append((step.record, [*path, step]))
        frontier = following
    return []


def _try(
    spec: ProcessSpec, record: Record, event: str, at: datetime, extra: Mapping[str, Any]
) -> Step | None:
    for fields in ({}, {k: v for k, v in extra.items() if record.get(k) is None}):
        try:
            return spec.fire(record, event, at=at, actor=SYSTEM, fields=fields)
        except ItsmError:
            continue
    return None


# -- sample -------------------------------------------------------------------------------


def sample(
    engine: Engine,
    metric: str,
    value: float,
    *,
    at: datetime,
    labels: Mapping[str, str] | None = None,
    mode: str = "passive",
) -> list[Observation]:
    """Feed one metric sample to the policy's threshold rules (see ``Engine.sample``)."""
    errors: list[tuple[str, str]] = []
    if not isinstance(metric, str) or not metric:
        errors.append(("$.metric", "name the metric"))
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        errors.append(("$.value", f"must be a finite number, got {value!r}"))
    if mode not in MODES:
        errors.append(("$.mode", "must be 'active' or 'passive'"))
    given = dict(labels or {})
    for name, label in given.items():
        if not isinstance(name, str) or not name or not isinstance(label, str):
            errors.append((f"$.labels.{name}", "labels map non-empty names to strings"))
    if errors:
        raise ValidationError(errors)
    at = require_aware(at, "$.at")
    emitted: list[Observation] = []
    for rule in engine.monitoring.thresholds:
        if not rule.applies(metric, given):
            continue
        observation = _advance(engine, rule, float(value), at, given, mode)
        if observation is not None:
            emitted.append(observation)
    return emitted


def _series_spec(engine: Engine) -> ProcessSpec:
    if SERIES_SPEC.version not in engine.catalog.versions(SERIES_SPEC.name):
        engine.catalog.register(SERIES_SPEC)
    return engine.catalog.get(SERIES_SPEC.name, SERIES_SPEC.version)


def _advance(
    engine: Engine,
    rule: ThresholdRule,
    value: float,
    at: datetime,
    labels: Mapping[str, str],
    mode: str,
) -> Observation | None:
    """Evaluate one sample against the stored state of its series and save a change
    together with the incident work of the observation it emits, in one version-checked
    save (a lost race re-reads both and evaluates again). Returns that observation
    (only the worker whose save won emits it)."""
    series = _series_spec(engine)
    key = rule.series_key(labels)
    rid = series_record_id(key)
    for _attempt in range(MAX_ATTEMPTS):
        record = _load(engine.storage, rid)
        state = SeriesState() if record is None else SeriesState(record.state, record.updated_at)
        if state.status not in ("ok", "pending", "firing"):
            return None  # a retired series
        result = evaluate(rule, state, value, at, labels, mode=mode)
        if not result.changed:
            return None
        steps: list[Step] = []
        if record is None:
            fields = {"rule": rule.name, "series": key}
            steps.append(series.open(record_id=rid, at=at, actor=SYSTEM, fields=fields))
            record = steps[-1].record
        event = SERIES_EVENTS[(state.status, result.state.status)]
        steps.append(series.fire(record, event, at=at, actor=SYSTEM, fields={}))
        if result.observation is not None:
            steps.extend(incident_steps(engine, result.observation)[0])
        try:
            commit(engine, steps)  # the series' change and its incident work, or nothing
        except ConcurrencyError:
            continue
        return result.observation
    raise ConcurrencyError(0, 0, f"{rid}: the series kept changing; sample again")


# -- outages ------------------------------------------------------------------------------


def outages(engine: Engine, service: str, period: Period) -> list[Outage]:
    """The outages of ``service`` overlapping ``period`` (see ``Engine.outages``)."""
    if not isinstance(period, Period):
        raise ValidationError.single("$.period", "expected a Period(start, end)")
    if not isinstance(service, str) or not service:
        raise ValidationError.single("$.service", "name the service (its record id)")
    histories: list[History] = []
    for process in (INCIDENT, "change"):
        if process not in engine.catalog:
            continue
        for record in engine.storage.find(process=process, fields={"service": service}):
            if record.opened_at >= period.end:
                continue
            events = engine.storage.history(record.id)[: record.version]
            histories.append(History.of(record, events))
    found = service_outages(histories, service, until=period.end, catalog=engine.catalog)
    return [o for o in found if o.start < period.end and (o.end is None or o.end > period.start)]
