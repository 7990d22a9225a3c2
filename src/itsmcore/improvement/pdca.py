"""Measuring a PDCA improvement cycle: the baseline, the post-measurement, the target
check and the SPC verdict, all computed from event histories.

Why here and not in the process spec: a measurement reads *other* records' histories
(the incidents whose resolution time the improvement wants to halve), which a pure
transition cannot see. So the engine measures (``Engine.measure_improvement``) with the
functions below, and hands the results to the ``improvement`` process as *system
fields*: values of derived fields that no caller can type in (see
:meth:`itsmcore.ProcessSpec.fire`). The process's guards then only check that a
measurement is there, current and taken at the event's time.

The windows (every period half-open, ``[start, end)``; see ``docs/pdca.md``):

- **baseline**: the ``baseline_window`` (default 12 weeks) before the instant the
  baseline is measured, while ``planning``;
- **cycle**: from ``effective_from`` (when the change took effect; default the instant
  the cycle entered ``doing``) to the instant of ``check``.

The KPI over a whole window is the measured value. For the SPC verdict each window is
cut into ``sample_interval`` buckets (default one week) from its start; a trailing
partial bucket is left out (a shorter bucket is not comparable), and buckets with no
data give no point. :func:`~itsmcore.improvement.spc.compare` then judges the cycle's
points against the baseline's. Durations enter SPC in hours.

Pure: time is an argument and histories come through a
:class:`~itsmcore.improvement.sources.HistorySource`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import attrs

from itsmcore._time import format_duration, require_aware
from itsmcore.errors import InvalidTransition, ValidationError
from itsmcore.improvement import spc
from itsmcore.improvement.kpis import KpiValue
from itsmcore.improvement.sources import (
    KPI_UNITS,
    HistorySource,
    as_number,
    compute_kpi,
    kpi_processes,
    loaded,
)
from itsmcore.records import Event, Record, apply_changes
from itsmcore.sla.availability import Period

__all__ = [
    "ATTAINMENTS",
    "DEFAULT_BASELINE_WINDOW",
    "DEFAULT_SAMPLE_INTERVAL",
    "DIRECTIONS",
    "Cycle",
    "Measurement",
    "attainment",
    "baseline_changes",
    "basis",
    "buckets",
    "cycles",
    "is_better",
    "kpi_options",
    "measure",
    "measurement_for",
    "result_changes",
    "target_of",
    "value_of",
]

#: Which way is better: ``lower`` (times, backlog) or ``higher`` (CSAT, availability).
DIRECTIONS: Final = ("lower", "higher")
#: The check's verdict on the target (``partially_met``: better than the baseline, short
#: of the target; ``no_data``: nothing to measure in the cycle).
ATTAINMENTS: Final = ("met", "partially_met", "not_met", "no_data")
#: The baseline window unless the record or the spec's options give another.
DEFAULT_BASELINE_WINDOW: Final = timedelta(weeks=12)
#: The SPC bucket unless the record or the spec's options give another.
DEFAULT_SAMPLE_INTERVAL: Final = timedelta(weeks=1)
_BUCKETS: Final = {timedelta(weeks=1): "week", timedelta(days=1): "day", timedelta(hours=1): "hour"}


@attrs.frozen
class Measurement:
    """One KPI measured over one window: the pooled ``value`` and the per-bucket
    ``points`` (as numbers, durations in hours) for SPC."""

    kpi: str
    period: Period
    value: KpiValue
    points: tuple[float, ...]
    interval: timedelta


# -- reading an improvement's fields ----------------------------------------------------


def kpi_options(fields: Mapping[str, Any]) -> dict[str, Any]:
    """The :func:`~itsmcore.improvement.kpis.compute` filters an improvement names:
    ``kpi_process`` (as ``process``) and ``service``."""
    out: dict[str, Any] = {}
    if fields.get("kpi_process"):
        out["process"] = fields["kpi_process"]
    if fields.get("service"):
        out["service"] = fields["service"]
    return out


def _duration(fields: Mapping[str, Any], options: Mapping[str, Any], name: str) -> timedelta:
    default = DEFAULT_BASELINE_WINDOW if name == "baseline_window" else DEFAULT_SAMPLE_INTERVAL
    value = fields.get(name, options.get(name, default))
    if not isinstance(value, timedelta) or value <= timedelta(0):
        raise ValidationError.single(f"$.fields.{name}", "must be a positive timedelta")
    return value


def basis(fields: Mapping[str, Any], options: Mapping[str, Any]) -> str:
    """What a baseline measures, as text: the KPI, its filters, the window and the
    bucket. A baseline whose basis differs from the plan's is stale."""
    window = format_duration(_duration(fields, options, "baseline_window"))
    interval = format_duration(_duration(fields, options, "sample_interval"))
    return (
        f"kpi={fields.get('kpi', '')};process={fields.get('kpi_process', '')};"
        f"service={fields.get('service', '')};window={window};interval={interval}"
    )


def value_of(fields: Mapping[str, Any], prefix: str) -> float | timedelta | None:
    """The measured ``baseline`` or ``result`` (``prefix``): a ``timedelta`` for a
    duration KPI, else a float; ``None`` when not measured or no data."""
    found = fields.get(f"{prefix}_duration")
    return found if found is not None else fields.get(f"{prefix}_value")


def target_of(fields: Mapping[str, Any]) -> float | timedelta | None:
    """The plan's target: ``target_duration`` for a duration KPI, else ``target_value``."""
    found = fields.get("target_duration")
    return found if found is not None else fields.get("target_value")


def is_better(a: float | timedelta, b: float | timedelta, direction: str) -> bool:
    """True when ``a`` is strictly better than ``b`` in ``direction`` (``lower`` or
    ``higher``); both in the same unit."""
    return a < b if direction == "lower" else a > b  # type: ignore[operator]


def attainment(
    baseline: float | timedelta | None,
    result: float | timedelta | None,
    target: float | timedelta,
    direction: str,
) -> str:
    """``met`` when ``result`` reaches ``target`` in ``direction`` (equal counts),
    ``partially_met`` when it is only better than the ``baseline``, ``not_met``
    otherwise, ``no_data`` when there is no result."""
    if result is None:
        return "no_data"
    if result == target or is_better(result, target, direction):
        return "met"
    if baseline is not None and is_better(result, baseline, direction):
        return "partially_met"
    return "not_met"


# -- measuring ----------------------------------------------------------------------------


def buckets(period: Period, interval: timedelta) -> tuple[Period, ...]:
    """The whole ``interval``-long buckets of ``period`` from its start (a trailing
    partial bucket is left out). Raises ``ValidationError`` for a non-positive
    interval."""
    if interval <= timedelta(0):
        raise ValidationError.single("$.interval", "must be a positive timedelta")
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    out: list[Period] = []
    while start + interval <= end:
        out.append(Period(start, start + interval))
        start += interval
    return tuple(out)


def measure(
    source: HistorySource,
    kpi: str,
    period: Period,
    *,
    interval: timedelta,
    **options: Any,
) -> Measurement:
    """KPI ``kpi`` over ``period`` (pooled) and per ``interval`` bucket (for SPC).
    The histories are read from ``source`` once. Raises what
    :func:`~itsmcore.improvement.kpis.compute` raises."""
    log = loaded(source, kpi_processes(kpi, options), until=period.end)
    value = compute_kpi(log, kpi, period=period, **options)
    points: list[float] = []
    for bucket in buckets(period, interval):
        number = as_number(compute_kpi(log, kpi, period=bucket, **options).value)
        if number is not None:
            points.append(number)
    return Measurement(kpi, period, value, tuple(points), interval)


def _value_fields(prefix: str, kpi: str, value: KpiValue) -> dict[str, Any]:
    measured = value.value
    if KPI_UNITS.get(kpi) == "duration":
        return {f"{prefix}_duration": measured, f"{prefix}_value": None}
    number = None if measured is None else float(measured)  # type: ignore[arg-type]
    return {f"{prefix}_value": number, f"{prefix}_duration": None}


def baseline_changes(
    fields: Mapping[str, Any], measurement: Measurement, options: Mapping[str, Any]
) -> dict[str, Any]:
    """The system fields that record ``measurement`` as the baseline of the plan in
    ``fields``."""
    return {
        "baseline_basis": basis(fields, options),
        **_value_fields("baseline", measurement.kpi, measurement.value),
        "baseline_sample_size": measurement.value.sample_size,
        "baseline_from": measurement.period.start,
        "baseline_until": measurement.period.end,
        "baseline_points": len(measurement.points),
    }


def _spc(
    before: Sequence[float], measurement: Measurement, direction: str
) -> tuple[bool | None, bool | None, str]:
    after = measurement.points
    unit = ", durations in hours" if KPI_UNITS.get(measurement.kpi) == "duration" else ""
    bucket = _BUCKETS.get(measurement.interval) or format_duration(measurement.interval)
    every = f"one point per {bucket}{unit}"
    if len(before) < 2 or not after:
        return (
            None,
            None,
            f"no SPC verdict: {len(before)} baseline points (2 needed) and {len(after)} "
            f"cycle points (1 needed), {every}",
        )
    verdict = spc.compare(before, after, better="down" if direction == "lower" else "up")
    return verdict.shifted, verdict.improved, f"{verdict.summary} ({every})"


def result_changes(
    fields: Mapping[str, Any], before: Sequence[float], measurement: Measurement
) -> dict[str, Any]:
    """The system fields that record ``measurement`` as the cycle's post-measurement of
    the improvement in ``fields``: the result, the target check and the SPC verdict of
    the cycle's points against the baseline's points ``before``."""
    direction = str(fields.get("direction", "lower"))
    target = target_of(fields)
    result = _value_fields("result", measurement.kpi, measurement.value)
    measured = (
        result["result_duration"] if result["result_value"] is None else result["result_value"]
    )
    verdict = (
        "no_data"
        if target is None
        else attainment(value_of(fields, "baseline"), measured, target, direction)
    )
    shifted, improved, summary = _spc(before, measurement, direction)
    return {
        **result,
        "result_sample_size": measurement.value.sample_size,
        "result_from": measurement.period.start,
        "result_until": measurement.period.end,
        "result_points": len(measurement.points),
        "attainment": verdict,
        "target_met": verdict == "met",
        "spc_shifted": shifted,
        "spc_improved": improved,
        "spc_summary": summary,
    }


def _period(start: datetime, end: datetime, what: str) -> Period:
    if end <= start:
        raise ValidationError.single(
            "$.at", f"the {what} window is empty ({start.isoformat()} to {end.isoformat()})"
        )
    return Period(start, end)


def measurement_for(
    record: Record, source: HistorySource, *, at: datetime, options: Mapping[str, Any]
) -> tuple[str, dict[str, Any]]:
    """The event to fire on improvement ``record`` at ``at`` and the system fields
    measured for it: ``measure_baseline`` while ``planning`` (the baseline window
    before ``at``), ``check`` while ``doing`` (the cycle window up to ``at``).

    Raises ``InvalidTransition`` in any other state and ``ValidationError`` when ``at``
    is naive, the plan names no KPI, a window is empty, or the KPI needs an option it lacks (e.g.
    ``availability`` without a ``service``).
    """
    fields = record.fields
    at = require_aware(at, "$.at").astimezone(UTC)
    kpi = fields.get("kpi")
    if record.state not in ("planning", "doing"):
        raise InvalidTransition(record.state, "measure", (), record.process)
    if not kpi:
        raise ValidationError.single("$.fields.kpi", "name the KPI to measure first")
    interval = _duration(fields, options, "sample_interval")
    filters = kpi_options(fields)
    if record.state == "planning":
        window = _duration(fields, options, "baseline_window")
        found = measure(
            source, kpi, _period(at - window, at, "baseline"), interval=interval, **filters
        )
        return "measure_baseline", baseline_changes(fields, found, options)
    start = fields.get("effective_from") or fields.get("cycle_started_at") or record.updated_at
    found = measure(source, kpi, _period(start, at, "cycle"), interval=interval, **filters)
    before: tuple[float, ...] = ()
    if fields.get("baseline_from") is not None and fields.get("baseline_until") is not None:
        window_before = Period(fields["baseline_from"], fields["baseline_until"])
        before = measure(source, kpi, window_before, interval=interval, **filters).points
    return "check", result_changes(fields, before, found)


# -- reading a record's cycles back ------------------------------------------------------


@attrs.frozen
class Cycle:
    """One PDCA cycle of an improvement, read back from its events (see :func:`cycles`).

    ``baseline``/``target``/``result`` are in the KPI's unit (a ``timedelta`` for a
    duration KPI). Fields of steps not reached yet are ``None``.
    """

    number: int
    started_at: datetime | None
    baseline: float | timedelta | None
    target: float | timedelta | None
    direction: str | None
    result: float | timedelta | None = None
    checked_at: datetime | None = None
    attainment: str | None = None
    spc_summary: str | None = None
    decision: str | None = None
    root_cause_note: str | None = None


def cycles(events: Sequence[Event]) -> tuple[Cycle, ...]:
    """Every cycle of an improvement that reached ``doing``, from its events in order:
    what was planned, measured and decided each time (the history the next cycle
    carries forward)."""
    fields: dict[str, Any] = {}
    out: list[Cycle] = []
    for ev in events:
        apply_changes(fields, ev.changes)
        if ev.name == "do":
            out.append(
                Cycle(
                    number=int(fields.get("cycle", len(out) + 1)),
                    started_at=ev.at,
                    baseline=value_of(fields, "baseline"),
                    target=target_of(fields),
                    direction=fields.get("direction"),
                )
            )
        elif ev.name == "check" and out:
            out[-1] = attrs.evolve(
                out[-1],
                result=value_of(fields, "result"),
                checked_at=ev.at,
                attainment=fields.get("attainment"),
                spc_summary=fields.get("spc_summary"),
            )
        elif ev.name == "act" and out:
            out[-1] = attrs.evolve(
                out[-1],
                decision=fields.get("decision"),
                root_cause_note=fields.get("root_cause_note"),
            )
    return tuple(out)
