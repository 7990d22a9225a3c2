"""The compliance obligation process: a versioned register of what the provider must meet.

ISO/IEC 20000-1 clauses 4.2 (requirements of interested parties, including legal and
regulatory ones) and 6.1 (risks of not meeting them); the seed's R6.2-01 (an obligation
register: source, clause, applicability, owner, mapped controls and processes, review
date), R6.2-04 (dynamic compliance: versioned obligations with a review cadence, a
revision opens an impact assessment naming what must change) and R6.3-05 (law, industry
standard, internal policy). States and rules:

- ``identified`` → ``assessed`` (``assess``, requires non-blank ``applicability`` and an
  ``owner``) → ``implemented`` (``implement``, requires at least one mapped control or
  process) → ``monitored`` (``monitor``, requires ``next_review_at``) → ``revised``
  (``revise``) or ``retired`` (``retire``, from any non-terminal state, requires a
  ``reason``);
- ``kind`` is one of law / industry_standard / internal_policy; ``source`` names the
  law, standard or policy and ``source_version`` its edition;
- **versions**: ``obligation_version`` starts at 1 and ``revise`` adds one. A revision
  *is* an impact assessment: it requires ``revision_summary``, ``impact_assessment``
  and the lists ``affected_specs`` (process specs, e.g. ``change@1``) and
  ``affected_controls`` (control ids), at least one of them non-empty
  (guard ``compliance_obligation.revision_scoped``). A revised obligation is implemented
  again (``implement``) and monitored again;
- ``review`` (in ``monitored``) stamps ``last_reviewed_at`` and sets the next review
  date, which must lie after the review; the ``review_due`` timer signals when
  ``next_review_at`` passes (reviews may also be opened by a
  :class:`~itsmcore.cadence.Cadence` as ``scheduled_activity`` records of kind
  ``review`` whose ``subject`` is the obligation);
- ``update`` edits descriptive fields; the source edition changes only by ``revise``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = ["OBLIGATION_KINDS", "SPEC"]

#: Where an obligation comes from (seed R6.3-05).
OBLIGATION_KINDS: Final = ("law", "industry_standard", "internal_policy")


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.effect("compliance_obligation.first_version")
def _first_version(ctx: Context) -> Mapping[str, Any]:
    return {"obligation_version": 1}


@BUILTINS.guard("compliance_obligation.applicability_stated")
def _applicability_stated(ctx: Context) -> str | None:
    if _blank(ctx.value("applicability")) or _blank(ctx.value("owner")):
        return "state the 'applicability' and name the 'owner' (non-blank text)"
    return None


@BUILTINS.guard("compliance_obligation.mapped")
def _mapped(ctx: Context) -> str | None:
    """An implemented obligation is met by something: a control or a process."""
    if not ctx.value("controls") and not ctx.value("processes"):
        return "map the obligation to at least one control ('controls') or process ('processes')"
    return None


@BUILTINS.guard("compliance_obligation.revision_scoped")
def _revision_scoped(ctx: Context) -> str | None:
    """A revision says what changed and what it touches."""
    if _blank(ctx.changes.get("revision_summary")) or _blank(ctx.changes.get("impact_assessment")):
        return "give this revision's 'revision_summary' and 'impact_assessment' (non-blank text)"
    specs, controls = ctx.changes.get("affected_specs"), ctx.changes.get("affected_controls")
    if not specs and not controls:
        return (
            "list what the revision touches: 'affected_specs' (process specs) and/or "
            "'affected_controls' (control ids); at least one must be non-empty"
        )
    return None


@BUILTINS.effect("compliance_obligation.next_version")
def _next_version(ctx: Context) -> Mapping[str, Any]:
    assert ctx.record is not None
    return {"obligation_version": ctx.record.get("obligation_version", 1) + 1}


@BUILTINS.guard("compliance_obligation.next_review_after_now")
def _next_review_after_now(ctx: Context) -> str | None:
    due = ctx.value("next_review_at")
    if due is not None and due <= ctx.at:
        return "'next_review_at' must be after the time of this event"
    return None


@BUILTINS.effect("compliance_obligation.stamp_review")
def _stamp_review(ctx: Context) -> Mapping[str, Any]:
    return {"last_reviewed_at": ctx.at}


@BUILTINS.guard("compliance_obligation.edition_via_revise")
def _edition_via_revise(ctx: Context) -> str | None:
    """No event but ``revise`` changes the source edition once assessed: a new edition
    is a revision, with its impact assessment and a new obligation version."""
    record = ctx.record
    if record is None or record.state == "identified":
        return None
    if "source_version" in ctx.changes and ctx.changes["source_version"] != record.get(
        "source_version"
    ):
        return "a new 'source_version' is a revision: use 'revise' with an impact assessment"
    return None


_EDITION = "compliance_obligation.edition_via_revise"

SPEC: Final = ProcessSpec(
    name="compliance_obligation",
    version=1,
    title="Compliance obligation",
    id_prefix="OBL",
    description="A legal, regulatory, standard or policy requirement the provider must meet.",
    states=(
        StateSpec("identified", "open", initial=True, description="Registered."),
        StateSpec("assessed", "open", description="Applicability and owner known."),
        StateSpec("implemented", "open", description="Mapped to controls and processes."),
        StateSpec("monitored", "active", description="In force and reviewed periodically."),
        StateSpec("revised", "open", description="Changed; impact being addressed."),
        StateSpec("retired", "closed", terminal=True, description="No longer applies."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("kind", "enum", required=True, choices=OBLIGATION_KINDS),
        FieldSpec("source", "str", required=True, description="e.g. PIPL, ISO/IEC 27001."),
        FieldSpec("source_version", "str", description="The edition of the source."),
        FieldSpec("clause", "str"),
        FieldSpec("description", "text"),
        FieldSpec("applicability", "text"),
        FieldSpec("owner", "str"),
        FieldSpec("controls", "list", description="Control ids that meet it."),
        FieldSpec("processes", "list", description="Process names that meet it."),
        FieldSpec("implementation_notes", "text"),
        FieldSpec("obligation_version", "int", derived=True),
        FieldSpec("revision_summary", "text"),
        FieldSpec("impact_assessment", "text"),
        FieldSpec("affected_specs", "list"),
        FieldSpec("affected_controls", "list"),
        FieldSpec("next_review_at", "datetime"),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("reason", "text"),
    ),
    opening=TransitionSpec(
        "open", (), "identified", effects=("compliance_obligation.first_version",)
    ),
    transitions=(
        TransitionSpec(
            "assess",
            ("identified",),
            "assessed",
            requires=("applicability", "owner"),
            guards=("compliance_obligation.applicability_stated",),
        ),
        TransitionSpec(
            "implement",
            ("assessed", "revised"),
            "implemented",
            guards=(_EDITION, "compliance_obligation.mapped"),
        ),
        TransitionSpec(
            "monitor",
            ("implemented",),
            "monitored",
            requires=("next_review_at",),
            guards=(_EDITION, "compliance_obligation.next_review_after_now"),
        ),
        TransitionSpec(
            "review",
            ("monitored",),
            "=",
            requires=("next_review_at",),
            guards=(_EDITION, "compliance_obligation.next_review_after_now"),
            effects=("compliance_obligation.stamp_review",),
        ),
        TransitionSpec(
            "revise",
            ("monitored",),
            "revised",
            requires=("revision_summary", "impact_assessment"),
            guards=("compliance_obligation.revision_scoped",),
            effects=("compliance_obligation.next_version",),
        ),
        TransitionSpec(
            "retire", ("*",), "retired", requires=("reason",), guards=("common.has_reason",)
        ),
        TransitionSpec("update", ("*",), "=", guards=(_EDITION,)),
    ),
    timers=(TimerSpec("review_due", "monitored", at_field="next_review_at"),),
)
