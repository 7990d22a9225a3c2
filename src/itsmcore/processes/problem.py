"""The problem process: find the root cause of incidents and remove it.

ISO/IEC 20000-1 clause 8.6.3; the seed's R4.3-01 (problem lifecycle), R4.3-03 (priority
from impact × urgency), R4.3-04 (root-cause analysis and corrective action to prevent
recurrence) and R4.3-06 (tracking the effect of the resolution). States and rules:

- ``new`` → ``investigating`` (``investigate``) → ``root_cause_known``
  (``identify_root_cause``, requires a non-blank ``root_cause``) → ``fix_in_progress``
  (``start_fix``) → ``resolved`` (``resolve``) → ``closed`` (``close``);
- ``resolve`` requires ``resolution_code`` (``fix_applied`` or ``risk_accepted``) and a
  non-blank ``corrective_action``. Only ``risk_accepted`` may resolve straight from
  ``root_cause_known`` (accepting the risk needs no fix); a fix is applied from
  ``fix_in_progress``;
- ``reanalyze`` takes a resolved problem back to ``investigating`` (requires a
  ``reason``; the resolution code is cleared so the next ``resolve`` states a fresh one,
  and ``reanalysis_count`` is counted);
- ``close`` may record ``resolution_effect``; ``ineffective`` is refused there: a fix that
  did not work is reanalysed, not closed. The resolution code is given only with
  ``resolve`` and the effect only once resolved (any event may carry fields; these may
  not be pre-set by another event);
- ``cancel`` from any non-terminal state (requires ``reason``);
- ``update`` changes descriptive fields in any non-terminal state, but never clears what
  the current state rests on (the title, impact and urgency; the root cause once known;
  the resolution once resolved);
- ``priority`` is derived from impact × urgency with the same matrix as incidents
  (the ``common.priority`` effect; the host's matrix in ``options["priority_matrix"]``).

Link incidents to their problem with ``engine.link(incident_id, problem_id,
"caused_by")``, and the fixing change with ``engine.link(change_id, problem_id, "fixes")``
(or the ``fix_change`` field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["RESOLUTION_CODES", "RESOLUTION_EFFECTS", "SPEC"]

#: How a problem was resolved: a fix was applied, or the risk of leaving the root cause
#: in place was accepted (with a corrective action such as monitoring).
RESOLUTION_CODES: Final = ("fix_applied", "risk_accepted")

#: Whether the resolution was seen to work (seed R4.3-06).
RESOLUTION_EFFECTS: Final = ("verified_fixed", "not_verified", "ineffective")

#: Fields that must stay set from the state named onwards (``update`` may not clear them).
_KEPT: Final[Mapping[str, tuple[str, ...]]] = {
    "new": ("title", "impact", "urgency"),
    "investigating": ("title", "impact", "urgency"),
    "root_cause_known": ("title", "impact", "urgency", "root_cause"),
    "fix_in_progress": ("title", "impact", "urgency", "root_cause"),
    "resolved": (
        "title",
        "impact",
        "urgency",
        "root_cause",
        "resolution_code",
        "corrective_action",
    ),
}


def _blank(value: Any) -> bool:
    return not isinstance(value, str) or not value.strip()


@BUILTINS.guard("problem.root_cause_given")
def _root_cause_given(ctx: Context) -> str | None:
    """The root cause must be stated in words, not left blank."""
    if _blank(ctx.value("root_cause")):
        return "describe the 'root_cause' (a non-blank text) to identify it"
    return None


@BUILTINS.guard("problem.corrective_action_given")
def _corrective_action_given(ctx: Context) -> str | None:
    """A resolution names the corrective action that prevents recurrence (R4.3-04)."""
    if _blank(ctx.value("corrective_action")):
        return (
            "describe the 'corrective_action' (a non-blank text) that prevents the problem "
            "from recurring"
        )
    return None


@BUILTINS.guard("problem.risk_accepted_only")
def _risk_accepted_only(ctx: Context) -> str | None:
    """From ``root_cause_known`` only a risk acceptance resolves; a fix starts first."""
    code = ctx.value("resolution_code")
    if code != "risk_accepted":
        return (
            f"resolution_code {code!r} cannot resolve from 'root_cause_known': use "
            "'risk_accepted' to accept the risk, or fire 'start_fix' first to apply a fix"
        )
    return None


@BUILTINS.guard("problem.effect_not_ineffective")
def _effect_not_ineffective(ctx: Context) -> str | None:
    """A resolution seen to be ineffective is reanalysed, not closed."""
    if ctx.value("resolution_effect") == "ineffective":
        return "the resolution was ineffective: fire 'reanalyze' instead of closing"
    return None


@BUILTINS.guard("problem.keeps_required")
def _keeps_required(ctx: Context) -> str | None:
    """``update``, ``start_fix``, ``resolve`` and ``close`` may not clear a field that
    the current state rests on."""
    kept = _KEPT.get(ctx.source or "", ())
    cleared = [name for name in kept if ctx.value(name) is None or ctx.value(name) == ""]
    if cleared:
        return (
            f"cannot clear {', '.join(cleared)} in state {ctx.source!r}: give a new value "
            "instead of an empty one"
        )
    return None


@BUILTINS.guard("problem.resolution_in_place")
def _resolution_in_place(ctx: Context) -> str | None:
    """The resolution code is given with ``resolve`` and its effect once resolved.

    Any event may carry fields; without this an ``investigate`` could pre-set the
    resolution that ``resolve`` then merely inherits.
    """
    current = ctx.record.fields if ctx.record is not None else {}
    given = {k: v for k, v in ctx.changes.items() if v != current.get(k)}
    if "resolution_code" in given and ctx.event != "resolve":
        return "give the 'resolution_code' with 'resolve'"
    if "resolution_effect" in given and ctx.source != "resolved":
        return "give the 'resolution_effect' once the problem is resolved (e.g. with 'close')"
    return None


@BUILTINS.effect("problem.count_reanalysis")
def _count_reanalysis(ctx: Context) -> Mapping[str, Any] | None:
    """Count reanalyses and clear the old resolution code (the next resolve states one)."""
    assert ctx.record is not None
    return {
        "reanalysis_count": ctx.record.get("reanalysis_count", 0) + 1,
        "resolution_code": None,
    }


_P = "common.priority"
_IN_PLACE = "problem.resolution_in_place"
_KEEPS = "problem.keeps_required"
_RESOLVE_REQUIRES = ("resolution_code", "corrective_action")

SPEC: Final = ProcessSpec(
    name="problem",
    version=1,
    title="Problem",
    id_prefix="PRB",
    description="Find the root cause of incidents and prevent them from recurring.",
    states=(
        StateSpec("new", "open", initial=True, description="Recorded, not yet analysed."),
        StateSpec("investigating", "open", description="Root-cause analysis under way."),
        StateSpec("root_cause_known", "open", description="The root cause is identified."),
        StateSpec("fix_in_progress", "open", description="A fix is being built or applied."),
        StateSpec("resolved", "resolved", description="Fixed or risk accepted; to confirm."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("impact", "int", required=True, minimum=1, maximum=3),
        FieldSpec("urgency", "int", required=True, minimum=1, maximum=3),
        FieldSpec("priority", "int", derived=True, description="1 critical … 5 planning"),
        FieldSpec("category", "str", description="The host's problem taxonomy (R4.3-02)."),
        FieldSpec("service", "ref"),
        FieldSpec("ci", "ref"),
        FieldSpec("assignee", "str"),
        FieldSpec("group", "str"),
        FieldSpec("root_cause", "text"),
        FieldSpec("workaround", "text"),
        FieldSpec("resolution_code", "enum", choices=RESOLUTION_CODES),
        FieldSpec("corrective_action", "text"),
        FieldSpec("corrective_action_owner", "str"),
        FieldSpec("corrective_action_due", "date"),
        FieldSpec("fix_change", "ref", description="The change that applies the fix."),
        FieldSpec("resolution_effect", "enum", choices=RESOLUTION_EFFECTS),
        FieldSpec("reason", "text", description="Why it was cancelled or reanalysed."),
        FieldSpec("reanalysis_count", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "new", guards=(_IN_PLACE,), effects=(_P,)),
    transitions=(
        TransitionSpec(
            "investigate", ("new",), "investigating", guards=(_IN_PLACE,), effects=(_P,)
        ),
        TransitionSpec(
            "identify_root_cause",
            ("investigating",),
            "root_cause_known",
            requires=("root_cause",),
            guards=(_IN_PLACE, "problem.root_cause_given"),
            effects=(_P,),
        ),
        TransitionSpec(
            "start_fix",
            ("root_cause_known",),
            "fix_in_progress",
            guards=(_IN_PLACE, _KEEPS),
            effects=(_P,),
        ),
        TransitionSpec(
            "resolve",
            ("fix_in_progress",),
            "resolved",
            requires=_RESOLVE_REQUIRES,
            guards=(_IN_PLACE, _KEEPS, "problem.corrective_action_given"),
            effects=(_P,),
        ),
        TransitionSpec(
            "resolve",
            ("root_cause_known",),
            "resolved",
            requires=_RESOLVE_REQUIRES,
            guards=(
                _IN_PLACE,
                _KEEPS,
                "problem.risk_accepted_only",
                "problem.corrective_action_given",
            ),
            effects=(_P,),
            description="Accept the risk without a fix.",
        ),
        TransitionSpec(
            "close",
            ("resolved",),
            "closed",
            guards=(_IN_PLACE, _KEEPS, "problem.effect_not_ineffective"),
            effects=(_P,),
        ),
        TransitionSpec(
            "reanalyze",
            ("resolved",),
            "investigating",
            requires=("reason",),
            guards=(_IN_PLACE, "common.has_reason"),
            effects=("problem.count_reanalysis", _P),
        ),
        TransitionSpec(
            "cancel",
            ("*",),
            "cancelled",
            requires=("reason",),
            guards=(_IN_PLACE, "common.has_reason"),
            effects=(_P,),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_IN_PLACE, _KEEPS), effects=(_P,)),
    ),
)
