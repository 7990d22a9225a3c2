"""The change process: standard, normal and emergency changes, with CAB approval.

ISO/IEC 20000-1 clause 8.5.1 (change management); the seed's R3.3-01 (request, assess,
approve, implement, review), R3.3-02 (impact and risk before approval), R3.3-04 (test
before implementation), R3.3-05 (change-log fields), R3.3-07 (post-implementation
review) and R3.3-08 (authorised approval, requester ≠ approver). The rules are in
:mod:`itsmcore.processes.change_rules`, with the host options they read.

One process, three ``change_type`` paths from ``new`` (``submit`` picks the first of its
ordered branches whose condition holds):

- **normal**: ``new`` → ``assessing`` → ``authorizing`` → ``scheduled`` →
  ``implementing`` → ``reviewing`` → ``closed``;
- **emergency**: as normal but ``submit`` goes straight to ``authorizing`` (no
  ``assessing``) and needs ``risk`` and a ``backout_plan`` up front;
- **standard**: ``submit`` goes straight to ``scheduled``; it needs a ``template`` naming
  one of the host's pre-approved changes (``options["standard_templates"]``), checked
  on ``open`` and again on ``submit``.

Rules:

- ``open`` requires ``title``, ``description`` and ``change_type``; ``submit`` requires the
  change-log fields ``reason``, ``impact_scope`` and ``owner`` (R3.3-05);
- ``assess`` requires ``risk`` (low / medium / high), ``impact_assessment``,
  ``backout_plan`` and ``test_plan``;
- ``approve`` and ``reject`` need the role ``cab_member`` (else ``Forbidden``). The
  requester (``record.opened_by``) never approves their own change and nobody approves
  twice (``GuardFailed``). Each approval appends the approver's id to the derived
  ``approvals`` list (who and when: the ``approve`` events, see
  :func:`~itsmcore.processes.change_rules.approval_log`); the change moves to
  ``scheduled`` when the distinct approvers reach the quorum (``normal_quorum`` 2,
  ``emergency_quorum`` 1). ``reject`` requires a ``rejection_reason``;
- ``planned_start``/``planned_end`` may be given on ``open``, ``update`` (before
  authorisation) or ``schedule`` (re-plan while ``scheduled``). Wherever a window is
  set, and again at ``implement``, it must end after it starts and overlap no change
  freeze (``options["change_freezes"]``; ``GuardFailed`` naming the freeze);
- ``implement`` requires the window and ``test_result`` = ``passed`` (R3.3-04); it
  stamps ``actual_start``. ``complete`` requires ``outcome`` (given with it) and stamps
  ``actual_end``;
- ``close`` from ``reviewing`` requires ``review_notes`` when the outcome was not
  ``successful`` or the change was an emergency;
- ``cancel`` (requires ``cancellation_reason``) is allowed before ``implementing``;
  ``rejected`` and ``cancelled`` are terminal;
- any event may carry fields, but the controlled ones change only where
  :data:`~itsmcore.processes.change_rules.FIELD_PLACES` allows: the type and template
  in ``new``; reason, impact scope and assessment before authorisation (so nobody edits
  the plan under the CAB, and an approval cannot lower its own quorum by switching the
  type); the window before authorisation or with ``schedule``; ``test_result`` before
  ``implementing``; outcome, review notes and reasons with their own events;
- ``update`` edits fields in ``new``, ``assessing`` and ``scheduled`` and never empties
  ``title``, ``description`` or ``change_type``.

Link what a change touches with ``engine.link(change_id, ci_id, "affects")`` and the
problem it fixes with ``engine.link(change_id, problem_id, "fixes")``.
"""

from __future__ import annotations

from typing import Any, Final

from itsmcore.processes import change_rules as _rules
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["CHANGE_TYPES", "OUTCOMES", "RISKS", "SPEC", "TEST_RESULTS", "configured"]

CHANGE_TYPES: Final = ("standard", "normal", "emergency")
RISKS: Final = ("low", "medium", "high")
TEST_RESULTS: Final = ("passed", "failed")
#: How the implementation went (seed R3.3-07).
OUTCOMES: Final = ("successful", "successful_with_issues", "failed", "backed_out")

_WINDOW = "change.window_valid"
_LOG = "change.change_log_complete"
_CAB = ("cab_member",)
_PLACED = "change.fields_in_place"
_APPROVE_GUARDS = (_PLACED, "change.not_requester", "change.first_approval")

SPEC: Final = ProcessSpec(
    name="change",
    version=1,
    title="Change",
    id_prefix="CHG",
    description="Control changes so that their benefit is gained with the least disruption.",
    states=(
        StateSpec("new", "open", initial=True, description="Requested, not yet submitted."),
        StateSpec("assessing", "open", description="Impact and risk being assessed."),
        StateSpec("authorizing", "open", description="Awaiting CAB approval."),
        StateSpec("scheduled", "open", description="Authorised and planned."),
        StateSpec("implementing", "open", description="Being carried out."),
        StateSpec("reviewing", "resolved", description="Post-implementation review."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("rejected", "cancelled", terminal=True, description="Refused by the CAB."),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text", required=True),
        FieldSpec("change_type", "enum", required=True, choices=CHANGE_TYPES),
        FieldSpec("template", "str", description="The pre-approved standard change."),
        FieldSpec("reason", "text", description="Why the change is needed (R3.3-05)."),
        FieldSpec("impact_scope", "text", description="What it affects (R3.3-05)."),
        FieldSpec("owner", "str", description="Who is responsible for it (R3.3-05)."),
        FieldSpec("service", "ref"),
        FieldSpec("ci", "ref"),
        FieldSpec("risk", "enum", choices=RISKS),
        FieldSpec("impact_assessment", "text"),
        FieldSpec("backout_plan", "text"),
        FieldSpec("test_plan", "text"),
        FieldSpec("planned_start", "datetime"),
        FieldSpec("planned_end", "datetime"),
        FieldSpec("test_result", "enum", choices=TEST_RESULTS),
        FieldSpec("approvals", "list", derived=True, description="Approver ids, in order."),
        FieldSpec("rejection_reason", "text"),
        FieldSpec("actual_start", "datetime", derived=True),
        FieldSpec("actual_end", "datetime", derived=True),
        FieldSpec("outcome", "enum", choices=OUTCOMES),
        FieldSpec("review_notes", "text"),
        FieldSpec("cancellation_reason", "text"),
    ),
    opening=TransitionSpec(
        "open", (), "new", guards=(_PLACED, "change.standard_template", _WINDOW)
    ),
    transitions=(
        TransitionSpec(
            "submit",
            ("new",),
            "scheduled",
            conditions=("change.is_standard",),
            requires=("template", *_rules.CHANGE_LOG_FIELDS),
            guards=(_PLACED, "change.standard_template", _LOG, _WINDOW),
            description="A standard change is pre-approved.",
        ),
        TransitionSpec(
            "submit",
            ("new",),
            "authorizing",
            conditions=("change.is_emergency",),
            requires=(*_rules.CHANGE_LOG_FIELDS, "risk", "backout_plan"),
            guards=(_PLACED, _LOG, "change.emergency_plan", _WINDOW),
            description="An emergency change goes to the emergency CAB.",
        ),
        TransitionSpec(
            "submit",
            ("new",),
            "assessing",
            conditions=("change.is_normal",),
            requires=_rules.CHANGE_LOG_FIELDS,
            guards=(_PLACED, _LOG, _WINDOW),
        ),
        TransitionSpec(
            "assess",
            ("assessing",),
            "authorizing",
            requires=_rules.ASSESSMENT_FIELDS,
            guards=(_PLACED, "change.assessment_complete", _WINDOW),
        ),
        TransitionSpec(
            "approve",
            ("authorizing",),
            "scheduled",
            conditions=("change.quorum_reached",),
            roles=_CAB,
            guards=_APPROVE_GUARDS,
            effects=("change.record_approval",),
            description="The approval that reaches the quorum.",
        ),
        TransitionSpec(
            "approve",
            ("authorizing",),
            "=",
            roles=_CAB,
            guards=_APPROVE_GUARDS,
            effects=("change.record_approval",),
            description="An approval short of the quorum.",
        ),
        TransitionSpec(
            "reject",
            ("authorizing",),
            "rejected",
            roles=_CAB,
            requires=("rejection_reason",),
            guards=(_PLACED, "change.rejection_reason"),
        ),
        TransitionSpec(
            "schedule",
            ("scheduled",),
            "=",
            requires=("planned_start", "planned_end"),
            guards=(_PLACED, _WINDOW),
            description="Plan or re-plan the implementation window.",
        ),
        TransitionSpec(
            "implement",
            ("scheduled",),
            "implementing",
            requires=("planned_start", "planned_end", "test_result"),
            guards=(_PLACED, "change.tested", _WINDOW),
            effects=("change.actual_start",),
        ),
        TransitionSpec(
            "complete",
            ("implementing",),
            "reviewing",
            requires=("outcome",),
            guards=(_PLACED, "change.outcome_given"),
            effects=("change.actual_end",),
        ),
        TransitionSpec("close", ("reviewing",), "closed", guards=(_PLACED, "change.review_notes")),
        TransitionSpec(
            "cancel",
            ("new", "assessing", "authorizing", "scheduled"),
            "cancelled",
            requires=("cancellation_reason",),
            guards=(_PLACED, "change.cancellation_reason"),
        ),
        TransitionSpec(
            "update",
            ("new", "assessing", "scheduled"),
            "=",
            guards=(_PLACED, "change.keeps_required", "change.standard_template", _WINDOW),
        ),
    ),
)


def configured(**options: Any) -> ProcessSpec:
    """The change spec with the host's options (see
    :mod:`~itsmcore.processes.change_rules`), checked now rather than at the first event.

    Give the result to the engine: ``ic.Engine.in_memory(processes=[configured(...)])``.
    Raises :class:`~itsmcore.errors.SpecError` naming a malformed option.
    """
    spec = SPEC.with_options(**options)
    _rules.check_options(spec.options)
    return spec
