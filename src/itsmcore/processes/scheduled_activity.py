"""The scheduled activity process: planned, recurring operational work and its findings.

One small process for every "定期" (periodic) activity of the seed: inspections,
preventive and predictive maintenance and system updates (R5.2-01, R5.2-03),
availability drills (R4.2-05), vulnerability scans and penetration tests (R6.1-05),
control evaluations (R6.4-05) and reviews of SLAs, knowledge articles and obligations
(R2.5-04, R5.3-03, R6.2-04). A :class:`~itsmcore.cadence.Cadence` opens one record per
occurrence (ISO/IEC 20000-1 8.7.2 and 9.1 plan such work). States and rules:

- ``scheduled`` → ``in_progress`` (``start``, requires an ``assignee``; stamps
  ``started_at``) → ``done`` (``complete``, requires ``outcome``; stamps
  ``completed_at``) or ``skipped`` (``skip`` from ``scheduled`` or ``in_progress``,
  requires ``reason``);
- ``open`` requires ``title`` and ``activity_kind``; a system ``update`` starts only
  under a ``change`` (the change record's id, R5.2-01);
- **findings**: each finding is a record of its own (an incident, problem, change,
  audit finding or improvement) recorded with ``record_follow_up`` (requires
  ``follow_up``), which appends it to the derived ``follow_ups``. An activity completes
  with outcome ``findings`` or ``failed``, an ``ineffective`` control evaluation, or a
  drill that missed its RTO only once at least one follow-up is recorded (guard
  ``scheduled_activity.findings_followed_up``): a finding is never just a sentence;
- a ``drill`` completes with ``measured_recovery``; with an ``rto_target`` the derived
  ``rto_met`` says whether it was met; a ``control_evaluation`` completes with its
  ``effectiveness``;
- the ``overdue`` timers signal when ``due_at`` passes before the activity is done.

Open findings through the Engine so they are linked and recorded atomically:
``engine.open_follow_up(activity_id, "problem", at=..., actor=..., fields=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["ACTIVITY_KINDS", "EFFECTIVENESS", "OUTCOMES", "SPEC"]

#: What kind of periodic work it is.
ACTIVITY_KINDS: Final = (
    "inspection",
    "preventive_maintenance",
    "predictive_maintenance",
    "update",
    "drill",
    "vulnerability_scan",
    "penetration_test",
    "control_evaluation",
    "review",
)
#: How it went: ``findings`` and ``failed`` need recorded follow-ups.
OUTCOMES: Final = ("ok", "findings", "failed")
#: The result of a control evaluation (seed R6.4-05).
EFFECTIVENESS: Final = ("effective", "partially_effective", "ineffective")


@BUILTINS.effect("scheduled_activity.stamp_start")
def _stamp_start(ctx: Context) -> Mapping[str, Any]:
    return {"started_at": ctx.at}


@BUILTINS.guard("scheduled_activity.update_under_change")
def _update_under_change(ctx: Context) -> str | None:
    """A system update is carried out under a change (seed R5.2-01)."""
    if ctx.value("activity_kind") == "update" and ctx.value("change") is None:
        return "a system update runs under a change: give the change record's id in 'change'"
    return None


@BUILTINS.effect("scheduled_activity.append_follow_up")
def _append_follow_up(ctx: Context) -> Mapping[str, Any] | None:
    """Add the recorded follow-up to ``follow_ups`` (once)."""
    new = ctx.changes.get("follow_up")
    known: tuple[str, ...] = ctx.value("follow_ups", ())
    if new is None or new in known:
        return None
    return {"follow_ups": (*known, new)}


@BUILTINS.guard("scheduled_activity.follow_up_via_record")
def _follow_up_via_record(ctx: Context) -> str | None:
    """Findings are recorded only by ``record_follow_up``, so ``follow_ups`` lists all."""
    before = ctx.record.get("follow_up") if ctx.record is not None else None
    if ctx.event != "record_follow_up" and ctx.changes.get("follow_up", before) != before:
        return "record findings with 'record_follow_up' (or engine.open_follow_up)"
    return None


@BUILTINS.guard("scheduled_activity.completion_complete")
def _completion_complete(ctx: Context) -> str | None:
    """Drills report the measured recovery; control evaluations their effectiveness."""
    kind = ctx.value("activity_kind")
    if kind == "drill" and ctx.value("measured_recovery") is None:
        return "a drill completes with its 'measured_recovery' (a duration)"
    if kind == "control_evaluation" and ctx.value("effectiveness") is None:
        return "a control evaluation completes with its 'effectiveness'"
    return None


def _rto_met(fields: Mapping[str, Any]) -> bool | None:
    measured, target = fields.get("measured_recovery"), fields.get("rto_target")
    if measured is None or target is None:
        return None
    return bool(measured <= target)


@BUILTINS.guard("scheduled_activity.findings_followed_up")
def _findings_followed_up(ctx: Context) -> str | None:
    """What went wrong is tracked as records of its own before the activity is done."""
    reasons = []
    if ctx.value("outcome") in ("findings", "failed"):
        reasons.append(f"the outcome is {ctx.value('outcome')!r}")
    if ctx.value("effectiveness") == "ineffective":
        reasons.append("the control is ineffective")
    if _rto_met(ctx.fields) is False:
        reasons.append("the drill missed its RTO")
    if reasons and not ctx.value("follow_ups"):
        return (
            f"{'; '.join(reasons)}: record at least one follow-up (an incident, problem, "
            "change or improvement) with engine.open_follow_up or 'record_follow_up' first"
        )
    return None


@BUILTINS.effect("scheduled_activity.stamp_completion")
def _stamp_completion(ctx: Context) -> Mapping[str, Any]:
    return {"completed_at": ctx.at, "rto_met": _rto_met(ctx.fields)}


_VIA = "scheduled_activity.follow_up_via_record"

SPEC: Final = ProcessSpec(
    name="scheduled_activity",
    version=1,
    title="Scheduled activity",
    id_prefix="ACT",
    description="Planned periodic work: inspections, maintenance, drills, scans, reviews.",
    states=(
        StateSpec("scheduled", "open", initial=True, description="Planned for a time."),
        StateSpec("in_progress", "open", description="Being carried out."),
        StateSpec("done", "closed", terminal=True, description="Carried out."),
        StateSpec("skipped", "cancelled", terminal=True, description="Not carried out."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("activity_kind", "enum", required=True, choices=ACTIVITY_KINDS),
        FieldSpec("subject", "ref", description="What it inspects, tests or reviews."),
        FieldSpec("service", "ref"),
        FieldSpec("change", "ref", description="The change a system update runs under."),
        FieldSpec("checklist", "list"),
        FieldSpec("assignee", "str"),
        FieldSpec("cadence", "str", description="The cadence that opened it."),
        FieldSpec("scheduled_for", "datetime", description="The occurrence instant."),
        FieldSpec("due_at", "datetime"),
        FieldSpec("started_at", "datetime", derived=True),
        FieldSpec("completed_at", "datetime", derived=True),
        FieldSpec("outcome", "enum", choices=OUTCOMES),
        FieldSpec("results", "text"),
        FieldSpec("effectiveness", "enum", choices=EFFECTIVENESS),
        FieldSpec("measured_recovery", "duration", description="Drills: time to recover."),
        FieldSpec("rto_target", "duration", description="Drills: the plan's RTO."),
        FieldSpec("rto_met", "bool", derived=True),
        FieldSpec("follow_up", "ref", description="The finding record just recorded."),
        FieldSpec("follow_ups", "list", derived=True, description="Every finding record."),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec("open", (), "scheduled", guards=(_VIA,)),
    transitions=(
        TransitionSpec(
            "start",
            ("scheduled",),
            "in_progress",
            requires=("assignee",),
            guards=(_VIA, "scheduled_activity.update_under_change"),
            effects=("scheduled_activity.stamp_start",),
        ),
        TransitionSpec(
            "record_follow_up",
            ("in_progress",),
            "=",
            requires=("follow_up",),
            effects=("scheduled_activity.append_follow_up",),
        ),
        TransitionSpec(
            "complete",
            ("in_progress",),
            "done",
            requires=("outcome",),
            guards=(
                _VIA,
                "scheduled_activity.completion_complete",
                "scheduled_activity.findings_followed_up",
            ),
            effects=("scheduled_activity.stamp_completion",),
        ),
        TransitionSpec(
            "skip",
            ("scheduled", "in_progress"),
            "skipped",
            requires=("reason",),
            guards=(_VIA, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_VIA,)),
    ),
    timers=(
        TimerSpec("overdue", "scheduled", at_field="due_at"),
        TimerSpec("overdue_in_progress", "in_progress", at_field="due_at"),
    ),
)
