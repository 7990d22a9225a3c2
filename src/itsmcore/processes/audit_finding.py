"""The audit finding process: a nonconformity corrected, verified, then closed.

ISO/IEC 20000-1 clauses 9.2 (audit results) and 10.1 (nonconformity and corrective
action: react, correct, review the effectiveness); the seed's R6.1-05 (scan and
pentest findings become remediation items with owner and due date, tracked to verified
closure) and R6.3-06 (a finding cannot close until its corrective action is verified;
overdue findings raise events; findings can become improvement initiatives). States
and rules:

- ``open`` → ``action_planned`` (``plan_action``, requires ``owner``,
  ``corrective_action`` and ``due_at``) → ``implemented`` (``implement``, requires
  ``implementation_notes``) → ``verified`` (``verify``, requires
  ``verification_notes``) → ``closed`` (``close``). ``closed`` is reachable only from
  ``verified``: a finding cannot close unverified;
- ``implement`` stamps the derived ``implemented_by`` (the actor of the ``implement``
  event) and ``implemented_at``; ``verify`` and ``reject`` need the role ``auditor``
  and may not be fired by the implementer (guard ``audit_finding.independent_verifier``):
  nobody verifies their own fix. ``verify`` stamps ``verified_by``/``verified_at``;
  ``reject`` sends the finding back to ``action_planned`` and counts ``rework_count``;
- ``withdraw`` (role ``auditor``, requires ``reason``) ends a finding raised in error,
  from ``open`` only: it is not a closure;
- overdue: the ``overdue`` timers signal (event ``None``) when ``due_at`` passes while
  the finding is still ``open`` or ``action_planned``;
- ``update`` edits descriptive fields, the owner and the due date until the finding
  is verified (what was verified is not rewritten afterwards).

- ``record_improvement`` (requires ``improvement``) records the improvement initiative a
  finding became, in any state before closure; ``engine.open_follow_up(finding_id,
  process, event="record_improvement", ref_field="improvement", ...)`` opens and links it.

``audit`` names the audit (or the scheduled activity, e.g. a vulnerability scan) that
raised the finding.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["SEVERITIES", "SPEC"]

#: How serious a finding is (ISO 19011 practice: observation, minor, major).
SEVERITIES: Final = ("observation", "minor", "major", "critical")


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


def _nonblank(name: str, *fields: str) -> None:
    """Register guard ``name``: every field in ``fields`` is non-blank text."""

    def guard(ctx: Context) -> str | None:
        missing = [f for f in fields if _blank(ctx.value(f))]
        if missing:
            return f"give {', '.join(repr(m) for m in missing)} as non-blank text"
        return None

    guard.__doc__ = f"{', '.join(fields)} must be non-blank text."
    BUILTINS.add_guard(name, guard)


_nonblank("audit_finding.action_described", "owner", "corrective_action")
_nonblank("audit_finding.implementation_described", "implementation_notes")
_nonblank("audit_finding.verification_described", "verification_notes")


@BUILTINS.guard("audit_finding.independent_verifier")
def _independent_verifier(ctx: Context) -> str | None:
    """The verifier is not the implementer (the actor of the ``implement`` event)."""
    implementer = ctx.value("implemented_by")
    if implementer is not None and ctx.actor.id == implementer:
        return (
            f"{ctx.actor.id!r} implemented the corrective action and cannot verify it; "
            "another auditor must"
        )
    return None


@BUILTINS.guard("audit_finding.verified_kept")
def _verified_kept(ctx: Context) -> str | None:
    """Once verified, the finding's facts stay as verified: only ``improvement`` may
    still be recorded."""
    record = ctx.record
    if record is None or ctx.source != "verified":
        return None
    changed = sorted(n for n, v in ctx.changes.items() if n != "improvement" and v != record.get(n))
    if changed:
        return (
            f"the finding was verified: {', '.join(changed)} cannot change any more; "
            "raise a new finding if the corrective action no longer holds"
        )
    return None


@BUILTINS.effect("audit_finding.stamp_implementation")
def _stamp_implementation(ctx: Context) -> Mapping[str, Any]:
    return {"implemented_by": ctx.actor.id, "implemented_at": ctx.at}


@BUILTINS.effect("audit_finding.stamp_verification")
def _stamp_verification(ctx: Context) -> Mapping[str, Any]:
    return {"verified_by": ctx.actor.id, "verified_at": ctx.at}


@BUILTINS.effect("audit_finding.count_rework")
def _count_rework(ctx: Context) -> Mapping[str, Any]:
    assert ctx.record is not None
    return {"rework_count": ctx.record.get("rework_count", 0) + 1}


SPEC: Final = ProcessSpec(
    name="audit_finding",
    version=1,
    title="Audit finding",
    id_prefix="FND",
    description="A nonconformity found by an audit or assessment, corrected and verified.",
    states=(
        StateSpec("open", "open", initial=True, description="Found, no action yet."),
        StateSpec("action_planned", "open", description="Owner, action and due date set."),
        StateSpec("implemented", "open", description="Action done, awaiting verification."),
        StateSpec("verified", "resolved", description="An independent check confirmed it."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("withdrawn", "cancelled", terminal=True, description="Raised in error."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("audit", "ref", description="The audit or assessment that found it."),
        FieldSpec("severity", "enum", choices=SEVERITIES),
        FieldSpec("criterion", "str", description="The requirement not met."),
        FieldSpec("evidence", "text"),
        FieldSpec("owner", "str"),
        FieldSpec("corrective_action", "text"),
        FieldSpec("due_at", "datetime"),
        FieldSpec("implementation_notes", "text"),
        FieldSpec("implemented_by", "str", derived=True),
        FieldSpec("implemented_at", "datetime", derived=True),
        FieldSpec("verification_notes", "text"),
        FieldSpec("verified_by", "str", derived=True),
        FieldSpec("verified_at", "datetime", derived=True),
        FieldSpec("rework_count", "int", derived=True),
        FieldSpec("improvement", "ref", description="An improvement initiative it became."),
        FieldSpec("reason", "text"),
    ),
    transitions=(
        TransitionSpec(
            "plan_action",
            ("open",),
            "action_planned",
            requires=("owner", "corrective_action", "due_at"),
            guards=("audit_finding.action_described",),
        ),
        TransitionSpec(
            "implement",
            ("action_planned",),
            "implemented",
            requires=("implementation_notes",),
            guards=("audit_finding.implementation_described",),
            effects=("audit_finding.stamp_implementation",),
        ),
        TransitionSpec(
            "verify",
            ("implemented",),
            "verified",
            roles=("auditor",),
            requires=("verification_notes",),
            guards=(
                "audit_finding.independent_verifier",
                "audit_finding.verification_described",
            ),
            effects=("audit_finding.stamp_verification",),
        ),
        TransitionSpec(
            "reject",
            ("implemented",),
            "action_planned",
            roles=("auditor",),
            requires=("verification_notes",),
            guards=(
                "audit_finding.independent_verifier",
                "audit_finding.verification_described",
            ),
            effects=("audit_finding.count_rework",),
            description="Verification failed: the action is reworked.",
        ),
        TransitionSpec(
            "record_improvement",
            ("open", "action_planned", "implemented", "verified"),
            "=",
            requires=("improvement",),
            guards=("audit_finding.verified_kept",),
            description="The finding became an improvement initiative (R6.3-06).",
        ),
        TransitionSpec("close", ("verified",), "closed", guards=("audit_finding.verified_kept",)),
        TransitionSpec(
            "withdraw",
            ("open",),
            "withdrawn",
            roles=("auditor",),
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update",
            ("open", "action_planned", "implemented"),
            "=",
        ),
    ),
    timers=(
        TimerSpec("overdue", "action_planned", at_field="due_at"),
        TimerSpec("overdue_unplanned", "open", at_field="due_at"),
    ),
)
