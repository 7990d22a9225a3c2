"""The incident process: restore normal service as quickly as possible.

ISO/IEC 20000-1 clause 8.6.1; the seed's chapter 3 (incident handling) and 5.1 (service
desk). States and rules:

- ``new`` → ``assigned`` (``assign``, requires ``assignee``) → ``in_progress``
  (``start``) → ``resolved`` (``resolve``, requires ``resolution_code`` and
  ``resolution_notes``) → ``closed`` (``close``, or automatically 7 days after
  resolution by the ``auto_close`` timer);
- ``pending`` (paused, SLA clocks pause) by ``pend`` with a ``pending_reason``, back by
  ``resume``; ``reopen`` takes a resolved incident back to ``in_progress``;
- ``cancel`` from any non-terminal state (requires ``reason``);
- ``update`` changes fields in any non-terminal state; the assignee changes only through
  ``assign`` (every other event carrying a new assignee is refused) so reassignments are
  counted;
- ``priority`` is derived from impact × urgency (:mod:`itsmcore.priority`) and
  recomputed whenever either changes; ``reassignments`` and ``reopen_count`` are counted;
- monitoring (``Engine.observe``, docs/monitoring.md): ``alert_key`` names the monitored
  condition of an incident opened for it, which starts ``alert_status`` ``firing`` with
  ``alert_count`` 1; the engine keeps ``alert_count``, ``alert_last_seen``,
  ``alert_status`` and ``alert_cleared_at`` (derived) as firings and clearings arrive;
  ``outage`` marks an incident whose service is down (downtime for availability).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["ALERT_STATUSES", "CHANNELS", "PENDING_REASONS", "RESOLUTION_CODES", "SPEC"]

CHANNELS: Final = ("phone", "email", "chat", "self_service", "monitoring", "walk_in")
PENDING_REASONS: Final = (
    "awaiting_caller",
    "awaiting_vendor",
    "awaiting_change",
    "awaiting_problem",
)
#: The monitored condition of an incident opened by monitoring (``alert_status``).
ALERT_STATUSES: Final = ("firing", "resolved")
RESOLUTION_CODES: Final = (
    "fixed",
    "workaround",
    "duplicate",
    "no_fault_found",
    "cancelled_by_caller",
)


@BUILTINS.effect("incident.count_reassignment")
def _count_reassignment(ctx: Context) -> Mapping[str, Any] | None:
    """An ``assign`` to a different assignee than the current one is a reassignment."""
    assert ctx.record is not None
    before = ctx.record.get("assignee")
    after = ctx.changes.get("assignee")
    if before is not None and after is not None and after != before:
        return {"reassignments": ctx.record.get("reassignments", 0) + 1}
    return None


@BUILTINS.effect("incident.count_reopen")
def _count_reopen(ctx: Context) -> Mapping[str, Any] | None:
    assert ctx.record is not None
    return {"reopen_count": ctx.record.get("reopen_count", 0) + 1}


@BUILTINS.effect("incident.alert_opened")
def _alert_opened(ctx: Context) -> Mapping[str, Any] | None:
    """An incident opened for a monitored condition (``alert_key``) starts firing, seen
    once, at its opening (later firings and the clearing come from ``Engine.observe``)."""
    if ctx.changes.get("alert_key") is None:
        return None
    return {"alert_status": "firing", "alert_count": 1, "alert_last_seen": ctx.at}


@BUILTINS.guard("incident.assignee_via_assign")
def _assignee_via_assign(ctx: Context) -> str | None:
    """Only ``assign`` changes the assignee, so every reassignment is counted."""
    record = ctx.record
    if record is not None and ctx.changes.get("assignee", record.get("assignee")) != record.get(
        "assignee"
    ):
        return f"change the assignee with the 'assign' event, not {ctx.event!r}"
    return None


_P = "common.priority"
_A = "incident.assignee_via_assign"

SPEC: Final = ProcessSpec(
    name="incident",
    version=1,
    title="Incident",
    id_prefix="INC",
    description="Restore normal service operation as quickly as possible.",
    states=(
        StateSpec("new", "open", initial=True),
        StateSpec("assigned", "open"),
        StateSpec("in_progress", "open"),
        StateSpec("pending", "paused"),
        StateSpec("resolved", "resolved"),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("caller", "str", required=True),
        FieldSpec("impact", "int", required=True, minimum=1, maximum=3),
        FieldSpec("urgency", "int", required=True, minimum=1, maximum=3),
        FieldSpec("priority", "int", derived=True, description="1 critical … 5 planning"),
        FieldSpec("category", "str"),
        FieldSpec("channel", "enum", choices=CHANNELS),
        FieldSpec("service", "ref"),
        FieldSpec("ci", "ref"),
        FieldSpec("assignee", "str"),
        FieldSpec("group", "str"),
        FieldSpec("major", "bool"),
        FieldSpec("pending_reason", "enum", choices=PENDING_REASONS),
        FieldSpec("resolution_code", "enum", choices=RESOLUTION_CODES),
        FieldSpec("resolution_notes", "text"),
        FieldSpec("reason", "text"),
        FieldSpec("reassignments", "int", derived=True),
        FieldSpec("reopen_count", "int", derived=True),
        # Monitoring (itsmcore.monitoring): set by Engine.observe, see docs/monitoring.md.
        FieldSpec("outage", "bool", description="The service is down: counts as downtime."),
        FieldSpec("alert_key", "str", description="The monitored condition that opened it."),
        FieldSpec("alert_status", "enum", derived=True, choices=ALERT_STATUSES),
        FieldSpec("alert_count", "int", derived=True, description="Firings observed."),
        FieldSpec("alert_last_seen", "datetime", derived=True),
        FieldSpec("alert_cleared_at", "datetime", derived=True),
    ),
    opening=TransitionSpec("open", (), "new", effects=(_P, "incident.alert_opened")),
    transitions=(
        TransitionSpec(
            "assign",
            ("new", "assigned", "in_progress"),
            "assigned",
            requires=("assignee",),
            effects=("incident.count_reassignment", _P),
        ),
        TransitionSpec("start", ("assigned",), "in_progress", guards=(_A,), effects=(_P,)),
        TransitionSpec(
            "pend",
            ("in_progress",),
            "pending",
            requires=("pending_reason",),
            guards=(_A,),
            effects=(_P,),
        ),
        TransitionSpec("resume", ("pending",), "in_progress", guards=(_A,), effects=(_P,)),
        TransitionSpec(
            "resolve",
            ("in_progress", "pending"),
            "resolved",
            requires=("resolution_code", "resolution_notes"),
            guards=(_A,),
            effects=(_P,),
        ),
        TransitionSpec(
            "reopen",
            ("resolved",),
            "in_progress",
            guards=(_A,),
            effects=("incident.count_reopen", _P),
        ),
        TransitionSpec("close", ("resolved",), "closed", guards=(_A,), effects=(_P,)),
        TransitionSpec(
            "cancel",
            ("*",),
            "cancelled",
            requires=("reason",),
            guards=(_A, "common.has_reason"),
            effects=(_P,),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_A,), effects=(_P,)),
    ),
    timers=(TimerSpec("auto_close", "resolved", event="close", after=timedelta(days=7)),),
)
