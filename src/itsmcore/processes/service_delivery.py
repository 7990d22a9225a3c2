"""The service delivery process: the seed's five delivery stages, each with an owner and
a definition of done.

ISO/IEC 20000-1 clauses 8.2.1 (service delivery), 8.5.2 (service design and
transition) and 8.2.4 (the catalogue entry it delivers); the seed's R3.1-01 (five
stages), R3.1-04 (an accountable role and exit criteria per stage), R3.1-05 (the SLA
defines the scope), R3.1-06 (the customer agrees content, mode and time), R3.2-05
(resource assessment before implementation), R2.4-01 (verification against the
delivery standard) and R3.1-07 (acceptance triggers a satisfaction survey). States and
rules:

- ``requirements_collection`` → ``solution_design`` (``design``) →
  ``resource_allocation`` (``allocate_resources``) → ``implementation`` (``implement``)
  → ``acceptance`` (``submit_for_acceptance``) → ``accepted`` (``accept``);
  ``reject`` sends a failed acceptance back to ``implementation`` (rework, requires
  ``rework_reason``, counted in ``rework_count``); ``cancel`` from any non-terminal
  state (requires ``reason``).
- **Accountable role per stage** (:data:`STAGES`): leaving a stage needs the stage's
  role or ``delivery_manager``; only a ``customer_representative`` accepts or rejects.
  ``accountable_role`` always names the role accountable for the current stage.
- **Exit criteria** are checked on leaving each stage: the stage's fields must be
  non-blank. Defaults in :data:`DEFAULT_EXIT_CRITERIA`; a host sets its own with
  :func:`with_exit_criteria` (``options["exit_criteria"]``).
- **Before implementation** (R3.1-06, R3.2-05): ``agreed_scope``, ``delivery_mode``,
  ``committed_date``, ``customer_contact`` and ``customer_agreed_at`` (not after the
  event) are set, a ``resource_plan`` is recorded and ``resources_covered`` is true.
- **Acceptance** (R2.4-01, R3.1-07): ``accept`` needs ``verification_notes`` (the check
  against the delivery standard) and sets ``accepted_at``, ``accepted_by`` and
  ``survey_due`` (true): the feedback process sends the satisfaction survey for every
  accepted delivery whose ``survey_due`` is true, once per delivery id.
- **The service** (R3.1-02): ``service`` (required) is the id of the ``service`` record
  delivered, ``sla`` the agreement implemented. A pure guard cannot read another record,
  so the rule "a retiring, retired or withdrawn service takes no new deliveries" is
  checked by the Engine when the delivery is opened or its service changes: see
  :class:`itsmcore.service_rules.ServiceRules`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import attrs

from itsmcore.errors import SpecError
from itsmcore.processes.service import blank_fields, is_blank
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "AGREEMENT_FIELDS",
    "DEFAULT_EXIT_CRITERIA",
    "SPEC",
    "STAGES",
    "Stage",
    "exit_criteria_of",
    "with_exit_criteria",
]


@attrs.frozen(slots=True)
class Stage:
    """One delivery stage: its state, the role accountable for it and the event that
    leaves it forwards."""

    state: str
    role: str
    leave: str


#: The five stages of R3.1-01, in order.
STAGES: Final = (
    Stage("requirements_collection", "service_level_manager", "design"),
    Stage("solution_design", "solution_architect", "allocate_resources"),
    Stage("resource_allocation", "resource_manager", "implement"),
    Stage("implementation", "delivery_manager", "submit_for_acceptance"),
    Stage("acceptance", "customer_representative", "accept"),
)
_BY_STATE: Final = {s.state: s for s in STAGES}

#: The customer's agreement on content, mode and time (R3.1-06), required before
#: implementation whatever the exit criteria say.
AGREEMENT_FIELDS: Final = (
    "agreed_scope",
    "delivery_mode",
    "committed_date",
    "customer_contact",
    "customer_agreed_at",
)

#: Fields that must be non-blank to leave each stage (the definition of done).
DEFAULT_EXIT_CRITERIA: Final[Mapping[str, tuple[str, ...]]] = {
    "requirements_collection": ("requirements_summary", "sla"),
    "solution_design": ("design_summary", "delivery_mode"),
    "resource_allocation": ("resource_plan", *AGREEMENT_FIELDS),
    "implementation": ("implementation_notes",),
    "acceptance": ("verification_notes",),
}


def _check_criteria(data: Any, field_names: Sequence[str]) -> dict[str, tuple[str, ...]]:
    problems: list[str] = []
    out: dict[str, tuple[str, ...]] = {}
    if not isinstance(data, Mapping):
        raise SpecError("service_delivery", ["exit_criteria: expected a table stage → fields"])
    for stage, names in data.items():
        if stage not in _BY_STATE:
            problems.append(f"exit_criteria.{stage}: not a stage; stages: {', '.join(_BY_STATE)}")
            continue
        if isinstance(names, str) or not isinstance(names, Sequence):
            problems.append(f"exit_criteria.{stage}: expected a list of field names")
            continue
        unknown = [n for n in names if n not in field_names]
        if unknown:
            problems.append(f"exit_criteria.{stage}: unknown fields {', '.join(map(str, unknown))}")
            continue
        out[stage] = tuple(names)
    if problems:
        raise SpecError("service_delivery", problems)
    return out


def exit_criteria_of(spec: ProcessSpec) -> dict[str, tuple[str, ...]]:
    """The exit criteria in force: :data:`DEFAULT_EXIT_CRITERIA` updated with
    ``options["exit_criteria"]`` (raises :class:`SpecError` for an unknown stage or field).
    """
    criteria = dict(DEFAULT_EXIT_CRITERIA)
    given = spec.options.get("exit_criteria")
    if given is not None:
        criteria.update(_check_criteria(given, [f.name for f in spec.fields]))
    return criteria


def with_exit_criteria(criteria: Mapping[str, Sequence[str]]) -> ProcessSpec:
    """The built-in spec with the host's exit criteria per stage, checked now
    (``SpecError``). Stages not named keep their defaults."""
    checked = _check_criteria(criteria, [f.name for f in SPEC.fields])
    return SPEC.with_options(exit_criteria={k: list(v) for k, v in checked.items()})


@BUILTINS.guard("service_delivery.exit_criteria")
def _exit_criteria(ctx: Context) -> str | None:
    """The stage being left has met its exit criteria (non-blank fields)."""
    names = exit_criteria_of(ctx.spec).get(ctx.source or "", ())
    missing = blank_fields(ctx.fields, names)
    if missing:
        return (
            f"{ctx.source} is not done: fill in {', '.join(missing)} before {ctx.event} "
            "(the stage's exit criteria)"
        )
    return None


@BUILTINS.guard("service_delivery.ready_to_implement")
def _ready_to_implement(ctx: Context) -> str | None:
    """The customer agreed content, mode and time (not after this event), and the
    resource assessment shows the plan is covered."""
    missing = blank_fields(ctx.fields, ("resource_plan", *AGREEMENT_FIELDS))
    if missing:
        return f"implementation needs {', '.join(missing)}: record the customer's agreement"
    agreed = ctx.value("customer_agreed_at")
    if agreed > ctx.at:
        return (
            f"customer_agreed_at {agreed.isoformat()} is after this event: the customer "
            "must have agreed before implementation starts"
        )
    if ctx.value("resources_covered") is not True:
        return (
            "the resource assessment does not show the plan covered: set "
            "resources_covered=true once the resources are allocated (R3.2-05)"
        )
    return None


_KEPT: Final = ("title", "service", "customer")


@BUILTINS.guard("service_delivery.keeps_agreed")
def _keeps_agreed(ctx: Context) -> str | None:
    """No event (``update`` or a stage event) blanks the title, service or customer, nor
    what a passed stage's exit criteria required; the service changes only during
    requirements collection."""
    criteria = exit_criteria_of(ctx.spec)
    kept = list(_KEPT)
    for stage in STAGES:
        if stage.state == ctx.source:
            break
        kept.extend(criteria.get(stage.state, ()))
    if ctx.source in ("implementation", "acceptance"):
        kept.extend(AGREEMENT_FIELDS)
    cleared = [n for n in dict.fromkeys(kept) if n in ctx.changes and is_blank(ctx.changes[n])]
    if cleared:
        return f"cannot clear {', '.join(cleared)} in stage {ctx.source!r}: give a new value"
    record = ctx.record
    if (
        record is not None
        and ctx.source != "requirements_collection"
        and ctx.changes.get("service", record.get("service")) != record.get("service")
    ):
        return "the service is fixed once requirements are collected: cancel and open anew"
    return None


@BUILTINS.effect("service_delivery.accountable")
def _accountable(ctx: Context) -> Mapping[str, Any] | None:
    """Name the role accountable for the stage the delivery enters."""
    stage = _BY_STATE.get(ctx.target)
    return {"accountable_role": stage.role if stage is not None else None}


@BUILTINS.effect("service_delivery.rework")
def _rework(ctx: Context) -> Mapping[str, Any] | None:
    """Count the rework; the next acceptance records a fresh verification."""
    return {
        "rework_count": ctx.value("rework_count", 0) + 1,
        "verification_notes": None,
        "accountable_role": _BY_STATE["implementation"].role,
    }


@BUILTINS.effect("service_delivery.accepted")
def _accepted(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the acceptance and ask for the satisfaction survey (R3.1-07)."""
    return {
        "accepted_at": ctx.at,
        "accepted_by": ctx.actor.id,
        "survey_due": True,
        "accountable_role": None,
    }


_FILLED = "service.filled"
_EXIT = "service_delivery.exit_criteria"
_STEP = "service_delivery.accountable"


def _roles(state: str) -> tuple[str, ...]:
    role = _BY_STATE[state].role
    return (role,) if role == "delivery_manager" else (role, "delivery_manager")


_WORKING = tuple(s.state for s in STAGES)

_AGREED = "service_delivery.keeps_agreed"

SPEC: Final = ProcessSpec(
    name="service_delivery",
    version=1,
    title="Service delivery",
    id_prefix="DLV",
    description="Deliver a service in five stages, each with an owner and exit criteria.",
    states=(
        StateSpec("requirements_collection", "open", initial=True),
        StateSpec("solution_design", "open"),
        StateSpec("resource_allocation", "open"),
        StateSpec("implementation", "open"),
        StateSpec("acceptance", "resolved", description="Delivered; the customer verifies."),
        StateSpec("accepted", "closed", terminal=True),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("service", "ref", required=True, description="The service record delivered."),
        FieldSpec("customer", "str", required=True),
        FieldSpec("sla", "ref", description="The service_level_agreement implemented."),
        FieldSpec("requirements", "list", description="ids of service_requirement records."),
        FieldSpec("requirements_summary", "text"),
        FieldSpec("design_summary", "text"),
        FieldSpec("resource_plan", "text"),
        FieldSpec("resources_covered", "bool", description="The resource assessment's result."),
        FieldSpec("allocations", "list", description="ids of capacity_allocation records."),
        FieldSpec("agreed_scope", "text"),
        FieldSpec("delivery_mode", "str"),
        FieldSpec("committed_date", "date"),
        FieldSpec("customer_contact", "str"),
        FieldSpec("customer_agreed_at", "datetime"),
        FieldSpec("implementation_notes", "text"),
        FieldSpec("verification_notes", "text", description="Verified against the standard."),
        FieldSpec("rework_reason", "text"),
        FieldSpec("reason", "text", description="Why the delivery was cancelled."),
        FieldSpec("accountable_role", "str", derived=True),
        FieldSpec("rework_count", "int", derived=True),
        FieldSpec("accepted_at", "datetime", derived=True),
        FieldSpec("accepted_by", "str", derived=True),
        FieldSpec("survey_due", "bool", derived=True),
    ),
    opening=TransitionSpec(
        "open", (), "requirements_collection", guards=(_FILLED,), effects=(_STEP,)
    ),
    transitions=(
        TransitionSpec(
            "design",
            ("requirements_collection",),
            "solution_design",
            roles=_roles("requirements_collection"),
            guards=(_EXIT, _AGREED),
            effects=(_STEP,),
        ),
        TransitionSpec(
            "allocate_resources",
            ("solution_design",),
            "resource_allocation",
            roles=_roles("solution_design"),
            guards=(_EXIT, _AGREED),
            effects=(_STEP,),
        ),
        TransitionSpec(
            "implement",
            ("resource_allocation",),
            "implementation",
            roles=_roles("resource_allocation"),
            requires=AGREEMENT_FIELDS,
            guards=(_EXIT, _AGREED, "service_delivery.ready_to_implement"),
            effects=(_STEP,),
        ),
        TransitionSpec(
            "submit_for_acceptance",
            ("implementation",),
            "acceptance",
            roles=_roles("implementation"),
            guards=(_EXIT, _AGREED),
            effects=(_STEP,),
        ),
        TransitionSpec(
            "accept",
            ("acceptance",),
            "accepted",
            roles=("customer_representative",),
            guards=(_EXIT, _AGREED),
            effects=("service_delivery.accepted",),
        ),
        TransitionSpec(
            "reject",
            ("acceptance",),
            "implementation",
            roles=("customer_representative",),
            requires=("rework_reason",),
            guards=(_FILLED, _AGREED),
            effects=("service_delivery.rework",),
        ),
        TransitionSpec(
            "cancel", _WORKING, "cancelled", requires=("reason",), guards=("common.has_reason",)
        ),
        TransitionSpec("update", _WORKING, "=", guards=(_AGREED,)),
    ),
)
