"""The improvement process: one improvement initiative run through PDCA cycles.

ISO/IEC 20000-1 clause 10 (improvement); the seed's R4.4-02 (based on performance
data), R4.4-03 (the PDCA cycle), R4.4-05 (effect verified), R7.2-01 (target, actions,
owner), R7.3-04 (SPC) and R7.3-05 (shortfall RCA into the next cycle). States:
``proposed`` → ``planning`` (``plan``) → ``doing`` (``do``) → ``checking`` (``check``)
→ ``acting`` (``act``) → ``closed`` (``close``), or back to ``planning``
(``next_cycle``) for another cycle; ``abandon`` (with a ``reason``) from any state.

Rules (guards, by name):

- An improvement names what triggered it: ``trigger_kind`` (a problem, an audit
  finding, a breached SLA, a low CSAT, a suggestion, a service review, a missed target)
  and the ``trigger`` record; link them too (``engine.link(id, trigger,
  "follow_up_of")``).
- ``improvement.plan_valid``: the ``kpi`` is one :func:`itsmcore.improvement.kpis.names`
  knows, and the target is written in its unit: ``target_duration`` (a ``timedelta``)
  for a duration KPI, ``target_value`` otherwise (a ratio as a fraction: 92 % is
  ``0.92``).
- ``improvement.in_place``: the plan (KPI, filters, windows, target, direction) changes
  only while ``proposed`` or ``planning``; the ``decision`` only with ``act``;
  ``effective_from`` only while ``doing``, within the cycle.
- Leaving ``planning`` (``do``) requires a ``kpi``, a ``direction``, a target, an
  ``owner``, a ``due`` date (not in the past), the planned ``actions``, and
  (``improvement.baseline_current``) a baseline *the engine measured* for exactly this
  plan, with data, which (``improvement.target_improves``) the target improves on.
- ``improvement.measured_by_engine`` (``measure_baseline``) and
  ``improvement.checked_by_engine`` (``check``): the baseline and the post-measurement
  are derived fields, set only through system fields at the event's time, i.e. by
  ``Engine.measure_improvement``; firing these events by hand is refused.
- ``improvement.decision_fits``: ``act`` with ``adjust`` needs a ``root_cause_note``
  (why the cycle fell short); ``standardise`` needs the target met or partially met.
  ``close`` needs the decision ``standardise`` and a ``standardisation`` note (what
  became standard practice); ``next_cycle`` needs ``adjust``, counts ``cycle`` and
  clears the cycle's result (its events keep it: see
  :func:`itsmcore.improvement.pdca.cycles`).

Options: ``baseline_window`` and ``sample_interval`` (``timedelta``) are the defaults
for the record fields of the same names (12 weeks and 1 week).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from itsmcore.errors import did_you_mean
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["DECISIONS", "LEVERS", "SPEC", "TRIGGER_KINDS"]

#: What triggered an improvement (the closed loops of RX-04 and R7.1-09).
TRIGGER_KINDS: Final = (
    "problem",
    "audit_finding",
    "sla_breach",
    "low_csat",
    "suggestion",
    "service_review",
    "missed_target",
)
#: How it improves (seed R4.4-01).
LEVERS: Final = ("review_finding", "process_optimisation", "technology_upgrade")
#: The Act phase's decision (seed R4.4-03).
DECISIONS: Final = ("standardise", "adjust", "abandon")
_DIRECTIONS: Final = ("lower", "higher")
_ATTAINMENTS: Final = ("met", "partially_met", "not_met", "no_data")

#: Fields that define what is measured and aimed at: fixed once a cycle runs.
PLAN_FIELDS: Final = (
    "kpi",
    "kpi_process",
    "service",
    "baseline_window",
    "sample_interval",
    "direction",
    "target_value",
    "target_duration",
)
_PLANNABLE: Final = (None, "proposed", "planning")
#: Cleared by ``next_cycle``: the finished cycle's result (its events keep it).
_CYCLE_RESULT: Final = (
    "cycle_started_at",
    "effective_from",
    "decision",
    "root_cause_note",
    "result_value",
    "result_duration",
    "result_sample_size",
    "result_from",
    "result_until",
    "result_points",
    "attainment",
    "target_met",
    "spc_shifted",
    "spc_improved",
    "spc_summary",
)


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _unit(kpi: str) -> str | None:
    """The unit of a known KPI, else None. Imported here, not at module level: the KPI
    module reads the built-in catalog, which imports this module."""
    from itsmcore.improvement.sources import KPI_UNITS

    return KPI_UNITS.get(kpi)


def _changed(ctx: Context, name: str) -> bool:
    current = ctx.record.fields if ctx.record is not None else {}
    return name in ctx.changes and ctx.changes[name] != current.get(name)


@BUILTINS.guard("improvement.plan_valid")
def _plan_valid(ctx: Context) -> str | None:
    """A known KPI, a target in its unit, and windows that fit."""
    kpi = ctx.value("kpi")
    if kpi is None:
        return None
    unit = _unit(kpi)
    if unit is None:
        from itsmcore.improvement.sources import KPI_UNITS

        return f"unknown KPI {kpi!r}{did_you_mean(kpi, KPI_UNITS)}; known: {', '.join(KPI_UNITS)}"
    if unit == "duration" and ctx.value("target_value") is not None:
        return f"{kpi!r} is a duration: give 'target_duration' (a timedelta), not 'target_value'"
    if unit != "duration" and ctx.value("target_duration") is not None:
        return f"{kpi!r} is a {unit}: give 'target_value', not 'target_duration'"
    target = ctx.value("target_value")
    if unit == "ratio" and target is not None and not 0 <= target <= 1:
        return f"{kpi!r} is a ratio: write the target as a fraction (92 % is 0.92), not {target}"
    window, interval = ctx.value("baseline_window"), ctx.value("sample_interval")
    for name, value in (("baseline_window", window), ("sample_interval", interval)):
        if value is not None and value.total_seconds() <= 0:
            return f"{name!r} must be a positive duration"
    if window is not None and interval is not None and interval > window:
        return "'sample_interval' must not be longer than 'baseline_window'"
    return None


@BUILTINS.guard("improvement.in_place")
def _in_place(ctx: Context) -> str | None:
    """Each field is given in its phase (see the module docstring)."""
    if ctx.source not in _PLANNABLE:
        fixed = [n for n in PLAN_FIELDS if _changed(ctx, n)]
        if fixed:
            return (
                f"the plan ({', '.join(fixed)}) is fixed while a cycle runs; change it in "
                "the next cycle (act with decision 'adjust', then next_cycle)"
            )
    if _changed(ctx, "decision") and ctx.event != "act":
        return "give the 'decision' with 'act'"
    if _changed(ctx, "effective_from"):
        if ctx.source != "doing":
            return "give 'effective_from' while doing (when the change took effect)"
        started: datetime | None = ctx.value("cycle_started_at")
        when: datetime = ctx.value("effective_from")
        if started is not None and not started <= when <= ctx.at:
            return (
                f"'effective_from' must lie in the cycle: between {started.isoformat()} "
                f"and now ({ctx.at.isoformat()})"
            )
    return None


@BUILTINS.guard("improvement.target_given")
def _target_given(ctx: Context) -> str | None:
    """A target in the KPI's unit."""
    if ctx.value("target_value") is None and ctx.value("target_duration") is None:
        return "give the target: 'target_duration' for a duration KPI, else 'target_value'"
    return None


@BUILTINS.guard("improvement.due_not_past")
def _due_not_past(ctx: Context) -> str | None:
    """The due date is today or later (UTC)."""
    due = ctx.value("due")
    if due is not None and due < ctx.at.astimezone(UTC).date():
        return f"the due date {due.isoformat()} is in the past; give a date from today on"
    return None


@BUILTINS.guard("improvement.baseline_current")
def _baseline_current(ctx: Context) -> str | None:
    """A baseline measured by the engine for exactly this plan, with data."""
    from itsmcore.improvement.pdca import basis

    measured = ctx.value("baseline_basis")
    how = "call engine.measure_improvement(id, at=..., actor=...) while planning"
    if measured is None:
        return f"no baseline measured yet: {how}"
    if measured != basis(ctx.fields, ctx.options):
        return f"the baseline was measured for another plan ({measured}); measure again: {how}"
    if ctx.value("baseline_value") is None and ctx.value("baseline_duration") is None:
        return (
            "the baseline has no data (nothing to measure in its window): choose a longer "
            "'baseline_window', other filters or another KPI, then measure again"
        )
    return None


@BUILTINS.guard("improvement.target_improves")
def _target_improves(ctx: Context) -> str | None:
    """The target is better than the baseline in the plan's direction."""
    from itsmcore.improvement.pdca import is_better, target_of, value_of

    baseline, target = value_of(ctx.fields, "baseline"), target_of(ctx.fields)
    direction = ctx.value("direction")
    if baseline is None or target is None or direction is None:
        return None
    if not is_better(target, baseline, direction):
        return (
            f"the target {target} does not improve on the baseline {baseline} "
            f"({direction} is better): set a target beyond the baseline"
        )
    return None


def _measured(ctx: Context, marker: str, until: str, what: str) -> str | None:
    if marker not in ctx.changes or ctx.value(until) != ctx.at:
        return (
            f"the {what} is measured by the engine, not typed in: call "
            "engine.measure_improvement(id, at=..., actor=...)"
        )
    return None


@BUILTINS.guard("improvement.measured_by_engine")
def _measured_by_engine(ctx: Context) -> str | None:
    """The baseline comes in as system fields, measured up to this event's time."""
    return _measured(ctx, "baseline_basis", "baseline_until", "baseline")


@BUILTINS.guard("improvement.checked_by_engine")
def _checked_by_engine(ctx: Context) -> str | None:
    """The post-measurement comes in as system fields, measured up to this event's time."""
    return _measured(ctx, "attainment", "result_until", "post-measurement")


@BUILTINS.guard("improvement.decision_fits")
def _decision_fits(ctx: Context) -> str | None:
    """``adjust`` explains the shortfall; ``standardise`` needs an effect to keep."""
    decision = ctx.value("decision")
    if decision == "adjust" and _blank(ctx.value("root_cause_note")):
        return "adjust needs a 'root_cause_note': why did this cycle fall short?"
    if decision == "standardise" and ctx.value("attainment") not in ("met", "partially_met"):
        return (
            f"the check found the target {ctx.value('attainment')}: nothing to standardise; "
            "decide 'adjust' (with a root_cause_note) or 'abandon'"
        )
    return None


def _decided(expected: str, event: str) -> Any:
    def guard(ctx: Context) -> str | None:
        decision = ctx.value("decision")
        if decision != expected:
            return f"{event!r} follows the decision {expected!r}; the decision is {decision!r}"
        return None

    guard.__doc__ = f"``{event}`` carries out the decision ``{expected}``."
    return guard


BUILTINS.add_guard("improvement.decided_standardise", _decided("standardise", "close"))
BUILTINS.add_guard("improvement.decided_adjust", _decided("adjust", "next_cycle"))


@BUILTINS.guard("improvement.standardisation_written")
def _standardisation_written(ctx: Context) -> str | None:
    if _blank(ctx.value("standardisation")):
        return "describe the 'standardisation' (what became standard practice, e.g. a runbook)"
    return None


@BUILTINS.effect("improvement.first_cycle")
def _first_cycle(ctx: Context) -> Mapping[str, Any] | None:
    """Planning starts cycle 1."""
    return None if ctx.value("cycle") is not None else {"cycle": 1}


@BUILTINS.effect("improvement.start_cycle")
def _start_cycle(ctx: Context) -> Mapping[str, Any]:
    """The cycle's *do* phase starts now (the default start of its measurement)."""
    return {"cycle_started_at": ctx.at}


@BUILTINS.effect("improvement.next_cycle")
def _next_cycle(ctx: Context) -> Mapping[str, Any]:
    """Count the cycle and clear the finished cycle's result; the baseline is kept."""
    return {"cycle": int(ctx.value("cycle", 1)) + 1, **dict.fromkeys(_CYCLE_RESULT)}


_CHECKS: Final = ("improvement.in_place", "improvement.plan_valid")

SPEC: Final = ProcessSpec(
    name="improvement",
    version=1,
    title="Improvement",
    id_prefix="IMP",
    description="An improvement initiative, run through measured PDCA cycles.",
    states=(
        StateSpec("proposed", "open", initial=True, description="Raised, not yet planned."),
        StateSpec("planning", "open", description="Plan: baseline, target, actions, owner."),
        StateSpec("doing", "open", description="Do: the actions are carried out."),
        StateSpec("checking", "open", description="Check: the effect was measured."),
        StateSpec("acting", "open", description="Act: standardise, adjust or abandon."),
        StateSpec("closed", "closed", terminal=True, description="Standardised."),
        StateSpec("abandoned", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("trigger_kind", "enum", required=True, choices=TRIGGER_KINDS),
        FieldSpec("trigger", "ref", required=True, description="The triggering record."),
        FieldSpec("lever", "enum", choices=LEVERS),
        FieldSpec("service", "ref", description="KPI filter: the service measured."),
        FieldSpec("kpi", "str", description="A name from itsmcore.improvement.kpis.names()."),
        FieldSpec("kpi_process", "str", description="KPI filter: e.g. 'problem' for mttr."),
        FieldSpec("direction", "enum", choices=_DIRECTIONS, description="Which way is better."),
        FieldSpec("target_value", "float", description="Target of a non-duration KPI."),
        FieldSpec("target_duration", "duration", description="Target of a duration KPI."),
        FieldSpec("owner", "str"),
        FieldSpec("due", "date"),
        FieldSpec("actions", "text", description="What the Do phase changes."),
        FieldSpec("baseline_window", "duration"),
        FieldSpec("sample_interval", "duration", description="The SPC bucket."),
        FieldSpec("effective_from", "datetime", description="When the change took effect."),
        FieldSpec("decision", "enum", choices=DECISIONS),
        FieldSpec("root_cause_note", "text", description="Why a cycle fell short."),
        FieldSpec("standardisation", "text", description="What became standard practice."),
        FieldSpec("reason", "text", description="Why it was abandoned."),
        FieldSpec("cycle", "int", derived=True),
        FieldSpec("cycle_started_at", "datetime", derived=True),
        FieldSpec("baseline_basis", "str", derived=True),
        FieldSpec("baseline_value", "float", derived=True),
        FieldSpec("baseline_duration", "duration", derived=True),
        FieldSpec("baseline_sample_size", "int", derived=True),
        FieldSpec("baseline_from", "datetime", derived=True),
        FieldSpec("baseline_until", "datetime", derived=True),
        FieldSpec("baseline_points", "int", derived=True),
        FieldSpec("result_value", "float", derived=True),
        FieldSpec("result_duration", "duration", derived=True),
        FieldSpec("result_sample_size", "int", derived=True),
        FieldSpec("result_from", "datetime", derived=True),
        FieldSpec("result_until", "datetime", derived=True),
        FieldSpec("result_points", "int", derived=True),
        FieldSpec("attainment", "enum", choices=_ATTAINMENTS, derived=True),
        FieldSpec("target_met", "bool", derived=True),
        FieldSpec("spc_shifted", "bool", derived=True),
        FieldSpec("spc_improved", "bool", derived=True),
        FieldSpec("spc_summary", "text", derived=True),
    ),
    opening=TransitionSpec("open", (), "proposed", guards=_CHECKS),
    transitions=(
        TransitionSpec(
            "plan", ("proposed",), "planning", guards=_CHECKS, effects=("improvement.first_cycle",)
        ),
        TransitionSpec(
            "measure_baseline",
            ("planning",),
            "=",
            guards=(*_CHECKS, "improvement.measured_by_engine"),
            description="Recorded by Engine.measure_improvement.",
        ),
        TransitionSpec(
            "do",
            ("planning",),
            "doing",
            requires=("kpi", "direction", "owner", "due", "actions"),
            guards=(
                *_CHECKS,
                "improvement.target_given",
                "improvement.due_not_past",
                "improvement.baseline_current",
                "improvement.target_improves",
            ),
            effects=("improvement.start_cycle",),
        ),
        TransitionSpec(
            "check",
            ("doing",),
            "checking",
            guards=(*_CHECKS, "improvement.checked_by_engine"),
            description="Recorded by Engine.measure_improvement.",
        ),
        TransitionSpec(
            "act",
            ("checking",),
            "acting",
            requires=("decision",),
            guards=(*_CHECKS, "improvement.decision_fits"),
        ),
        TransitionSpec(
            "close",
            ("acting",),
            "closed",
            requires=("standardisation",),
            guards=(
                *_CHECKS,
                "improvement.decided_standardise",
                "improvement.standardisation_written",
            ),
        ),
        TransitionSpec(
            "next_cycle",
            ("acting",),
            "planning",
            guards=(*_CHECKS, "improvement.decided_adjust"),
            effects=("improvement.next_cycle",),
        ),
        TransitionSpec(
            "abandon",
            ("*",),
            "abandoned",
            requires=("reason",),
            guards=(*_CHECKS, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=_CHECKS),
    ),
)
