"""The service requirement process: capture, analyse, approve and deliver a requirement
that passes the SMART check.

The seed's chapter 2.1: R2.1-01 (kinds and dimensions), R2.1-02 (collection methods),
R2.1-03 (SMART), R2.1-04 (requirement priority matrix), R2.1-05 (feasibility gate),
R2.1-06 (traceability to SLA and strategy), R2.1-07 (hierarchy and rank) and R2.1-08
(continuous iteration); ISO/IEC 20000-1 clause 8.3.2 (business relationship management:
requirements are recorded and reviewed). States and rules:

- ``draft`` → ``analysed`` (``analyse``) → ``approved`` (``approve``) → ``delivered``
  (``deliver``, requires ``delivery_evidence``); ``reject`` from ``analysed`` (requires
  ``reason``) and ``withdraw`` from any open state (requires ``reason``) end it;
  ``revise`` takes an approved requirement back to ``analysed`` (requires ``reason``;
  ``revision`` counts up, and the trigger, a feedback or change record, goes in
  ``revision_trigger``).
- **SMART** (:func:`smart_gaps`): *specific* — a ``statement``; *measurable* — a
  ``metric`` and a ``target_value``; *achievable* — the ``owner`` accepted it (the owner
  fires ``accept_ownership``; changing the owner withdraws the acceptance); *relevant* —
  linked to a ``service`` or a ``goal``; *time-bound* — a ``due_date``. ``analyse``
  needs all but *achievable*; ``approve`` needs all five. ``smart_gaps`` is kept
  up to date on the record.
- **Feasibility** (R2.1-05): ``approve`` needs ``feasibility`` ``feasible`` or
  ``feasible_with_conditions`` (with ``feasibility_notes``).
- **Segregation of duties**: whoever opened the requirement does not approve it.
- **Priority** (R2.1-04): ``priority`` is derived from ``business_value`` × ``urgency``
  (1 high … 3 low each) through a :class:`~itsmcore.priority.PriorityMatrix`: the
  ``options["priority_matrix"]`` (a matrix or its dict form), by default
  :data:`~itsmcore.priority.DEFAULT_MATRIX` (itsmcore's choice; the seed names the matrix
  but gives no values).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes.common import matrix_of
from itsmcore.processes.service import blank_fields, is_blank
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "COLLECTION_METHODS",
    "COMPARATORS",
    "DIMENSIONS",
    "FEASIBILITY",
    "KINDS",
    "SMART_CRITERIA",
    "SPEC",
    "smart_gaps",
]

#: R2.1-01: functional, non-functional and business requirements.
KINDS: Final = ("functional", "non_functional", "business")
#: R2.1-01: whose need it is.
DIMENSIONS: Final = ("customer", "business", "technical")
#: R2.1-02: how it was collected.
COLLECTION_METHODS: Final = ("interview", "questionnaire", "data_analysis")
#: How the measured value is compared with ``target_value``.
COMPARATORS: Final = ("<=", "<", ">=", ">", "==")
#: R2.1-05: the outcome of the feasibility assessment.
FEASIBILITY: Final = ("feasible", "feasible_with_conditions", "not_feasible")
#: The five SMART criteria, in order.
SMART_CRITERIA: Final = ("specific", "measurable", "achievable", "relevant", "time_bound")


def smart_gaps(fields: Mapping[str, Any]) -> tuple[str, ...]:
    """The SMART criteria ``fields`` do not meet, in :data:`SMART_CRITERIA` order.

    specific: a non-blank ``statement``; measurable: a ``metric`` and a
    ``target_value``; achievable: ``owner_accepted`` is true; relevant: a ``service``
    or a ``goal``; time-bound: a ``due_date``.
    """
    gaps: list[str] = []
    if is_blank(fields.get("statement")):
        gaps.append("specific")
    if is_blank(fields.get("metric")) or fields.get("target_value") is None:
        gaps.append("measurable")
    if fields.get("owner_accepted") is not True or is_blank(fields.get("owner")):
        gaps.append("achievable")
    if is_blank(fields.get("service")) and is_blank(fields.get("goal")):
        gaps.append("relevant")
    if fields.get("due_date") is None:
        gaps.append("time_bound")
    return tuple(gaps)


_HOW: Final = {
    "specific": "a statement",
    "measurable": "a metric and a target_value",
    "achievable": "the owner's acceptance (the owner fires accept_ownership)",
    "relevant": "a service or a goal",
    "time_bound": "a due_date",
}


def _smart_reason(gaps: tuple[str, ...], event: str) -> str:
    needs = "; ".join(f"{g}: {_HOW[g]}" for g in gaps)
    return f"not SMART yet, {event} needs {needs}"


@BUILTINS.guard("service_requirement.smart_except_achievable")
def _smart_to_analyse(ctx: Context) -> str | None:
    """Specific, measurable, relevant and time-bound (achievability comes with approval)."""
    gaps = tuple(g for g in smart_gaps(ctx.fields) if g != "achievable")
    return _smart_reason(gaps, ctx.event) if gaps else None


@BUILTINS.guard("service_requirement.smart")
def _smart(ctx: Context) -> str | None:
    """All five SMART criteria are met."""
    gaps = smart_gaps(ctx.fields)
    return _smart_reason(gaps, ctx.event) if gaps else None


@BUILTINS.guard("service_requirement.feasible")
def _feasible(ctx: Context) -> str | None:
    """The feasibility assessment found it feasible (R2.1-05)."""
    outcome = ctx.value("feasibility")
    if outcome is None:
        return "record the feasibility assessment (feasibility, feasibility_notes) first"
    if outcome == "not_feasible":
        return "the assessment found it not feasible: reject it, or revise and reassess"
    if blank_fields(ctx.fields, ("feasibility_notes",)):
        return "say what the feasibility assessment found in feasibility_notes"
    return None


@BUILTINS.guard("service_requirement.not_opener")
def _not_opener(ctx: Context) -> str | None:
    """Segregation of duties: whoever opened the requirement does not approve it."""
    if ctx.record is not None and ctx.actor.id == ctx.record.opened_by:
        return f"{ctx.actor.id!r} opened this requirement: someone else must approve it"
    return None


@BUILTINS.guard("service_requirement.is_owner")
def _is_owner(ctx: Context) -> str | None:
    """Only the named owner can accept ownership (that is what makes it achievable)."""
    owner = ctx.value("owner")
    if is_blank(owner):
        return "name the owner first (update owner=...)"
    if ctx.actor.id != owner:
        return f"only the owner {owner!r} can accept ownership, not {ctx.actor.id!r}"
    return None


_KEPT: Final = ("title", "statement")
#: What ``approve`` and ``deliver`` may state themselves; any other field they carry
#: would change the baseline the approval is about.
_OWN_FIELDS: Final = {"approve": frozenset(), "deliver": frozenset({"delivery_evidence"})}


@BUILTINS.guard("service_requirement.baseline_kept")
def _baseline_kept(ctx: Context) -> str | None:
    """``approve`` baselines exactly what was analysed (an owner swapped in the same
    event would be approved without accepting), and ``deliver`` delivers that baseline;
    changes go through ``update`` before approval or ``revise`` after it."""
    record = ctx.record
    if record is None:
        return None
    own = _OWN_FIELDS.get(ctx.event, frozenset())
    changed = sorted(n for n, v in ctx.changes.items() if n not in own and v != record.get(n))
    if changed:
        how = "update it before approving" if ctx.event == "approve" else "revise it"
        return f"{', '.join(changed)} cannot change with {ctx.event!r}: {how}"
    return None


@BUILTINS.guard("service_requirement.keeps_statement")
def _keeps_statement(ctx: Context) -> str | None:
    """``update`` never blanks the title or statement (an approved requirement is not
    updated at all: ``revise`` it, so the change is approved again)."""
    cleared = [n for n in _KEPT if n in ctx.changes and is_blank(ctx.changes[n])]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value"
    return None


@BUILTINS.effect("service_requirement.derive")
def _derive(ctx: Context) -> Mapping[str, Any] | None:
    """Keep ``priority`` (business value × urgency) and ``smart_gaps`` current; a new
    owner has not accepted yet."""
    out: dict[str, Any] = {}
    record = ctx.record
    if record is None:
        out["revision"] = 1
    elif "owner" in ctx.changes and ctx.changes["owner"] != record.get("owner"):
        out["owner_accepted"] = None
    value, urgency = ctx.value("business_value"), ctx.value("urgency")
    if value is not None and urgency is not None:
        out["priority"] = matrix_of(ctx).priority(value, urgency)
    else:
        out["priority"] = None
    fields = {**ctx.fields, **out}
    out["smart_gaps"] = smart_gaps(fields) or None
    return out


@BUILTINS.effect("service_requirement.owner_accepted")
def _owner_accepted(ctx: Context) -> Mapping[str, Any] | None:
    """Record the owner's acceptance."""
    fields = {**ctx.fields, "owner_accepted": True}
    return {"owner_accepted": True, "smart_gaps": smart_gaps(fields) or None}


@BUILTINS.effect("service_requirement.approved")
def _approved(ctx: Context) -> Mapping[str, Any] | None:
    """Who approved it and when (the baseline)."""
    return {"approved_by": ctx.actor.id, "approved_at": ctx.at}


@BUILTINS.effect("service_requirement.revised")
def _revised(ctx: Context) -> Mapping[str, Any] | None:
    """A revision starts a new version; it must be approved again."""
    return {
        "revision": ctx.value("revision", 1) + 1,
        "approved_by": None,
        "approved_at": None,
    }


_D = "service_requirement.derive"
_OPEN = ("draft", "analysed", "approved")

SPEC: Final = ProcessSpec(
    name="service_requirement",
    version=1,
    title="Service requirement",
    id_prefix="SRQ",
    description="A SMART service requirement, from capture to delivery.",
    states=(
        StateSpec("draft", "open", initial=True, description="Captured, being written."),
        StateSpec("analysed", "open", description="SMART except achievability; assessed."),
        StateSpec("approved", "active", description="Baselined; owner accepted."),
        StateSpec("delivered", "closed", terminal=True),
        StateSpec("rejected", "cancelled", terminal=True),
        StateSpec("withdrawn", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("statement", "text", required=True, description="What is needed (specific)."),
        FieldSpec("kind", "enum", choices=KINDS),
        FieldSpec("dimension", "enum", choices=DIMENSIONS),
        FieldSpec("source_method", "enum", choices=COLLECTION_METHODS),
        FieldSpec("metric", "str", description="What is measured (measurable)."),
        FieldSpec("comparator", "enum", choices=COMPARATORS),
        FieldSpec("target_value", "float"),
        FieldSpec("unit", "str"),
        FieldSpec("owner", "str", description="Who will achieve it."),
        FieldSpec("service", "ref", description="The service it serves (relevant)."),
        FieldSpec("goal", "str", description="The strategy goal it serves (relevant)."),
        FieldSpec("sla", "ref", description="The SLA whose targets cover it."),
        FieldSpec("due_date", "date", description="When it must be met (time-bound)."),
        FieldSpec("business_value", "int", minimum=1, maximum=3, description="1 high … 3 low"),
        FieldSpec("urgency", "int", minimum=1, maximum=3, description="1 high … 3 low"),
        FieldSpec("parent", "ref", description="The requirement this one refines."),
        FieldSpec("category", "str"),
        FieldSpec("rank", "int", minimum=1, description="Order among its siblings."),
        FieldSpec("feasibility", "enum", choices=FEASIBILITY),
        FieldSpec("feasibility_notes", "text"),
        FieldSpec("delivery_evidence", "text"),
        FieldSpec("revision_trigger", "ref", description="The feedback or change behind it."),
        FieldSpec("reason", "text"),
        FieldSpec("priority", "int", derived=True, description="1 critical … 5 planning"),
        FieldSpec("smart_gaps", "list", derived=True, choices=SMART_CRITERIA),
        FieldSpec("owner_accepted", "bool", derived=True),
        FieldSpec("approved_by", "str", derived=True),
        FieldSpec("approved_at", "datetime", derived=True),
        FieldSpec("revision", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "draft", guards=("service.filled",), effects=(_D,)),
    transitions=(
        TransitionSpec(
            "analyse",
            ("draft",),
            "analysed",
            guards=("service_requirement.smart_except_achievable",),
            effects=(_D,),
        ),
        TransitionSpec(
            "accept_ownership",
            ("draft", "analysed"),
            "=",
            guards=("service_requirement.is_owner",),
            effects=("service_requirement.owner_accepted",),
        ),
        TransitionSpec(
            "approve",
            ("analysed",),
            "approved",
            guards=(
                "service_requirement.baseline_kept",
                "service_requirement.smart",
                "service_requirement.feasible",
                "service_requirement.not_opener",
            ),
            effects=(_D, "service_requirement.approved"),
        ),
        TransitionSpec(
            "reject",
            ("analysed",),
            "rejected",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "revise",
            ("approved",),
            "analysed",
            requires=("reason",),
            guards=("common.has_reason",),
            effects=(_D, "service_requirement.revised"),
        ),
        TransitionSpec(
            "deliver",
            ("approved",),
            "delivered",
            requires=("delivery_evidence",),
            guards=("service.filled", "service_requirement.baseline_kept"),
        ),
        TransitionSpec(
            "withdraw", _OPEN, "withdrawn", requires=("reason",), guards=("common.has_reason",)
        ),
        TransitionSpec(
            "update",
            ("draft", "analysed"),
            "=",
            guards=("service_requirement.keeps_statement",),
            effects=(_D,),
        ),
    ),
)
