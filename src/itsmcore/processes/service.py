"""The service process: one entry of the service catalogue, from proposal to retirement.

ISO/IEC 20000-1 clause 8.2.4 (service catalogue management) within 8.2 (service
portfolio; 8.2.2 plan the services); the seed's R1.1-01 / R1.5-01 / R2.2-02 (service
lifecycle), R1.1-03 (service boundary and delivery standard), R1.5-02 (planning
outputs) and R1.5-03 (design outputs). States and rules:

- ``proposed`` → ``designing`` (``design``) → ``transitioning`` (``transition``) →
  ``live`` (``go_live``) ⇄ ``improving`` (``improve`` / ``complete_improvement``) →
  ``retiring`` (``retire``) → ``retired`` (``complete_retirement``). A service that never
  went live is ``withdraw``-n (requires ``reason``). Improvement is a loop, never a
  terminal phase (R1.1-01).
- **Planning gate** (R1.5-02): ``design`` needs the service goals, the strategy it
  serves and at least one analysed requirement (``requirements``, ids of
  ``service_requirement`` records).
- **Design gate** (R1.5-03, R1.1-03): ``transition`` needs the scope and the delivery
  standards (``out_of_scope`` and ``blueprint`` are recorded when known).
- **Go-live gate**: ``go_live`` needs at least one SLA (``slas``, ids of
  ``service_level_agreement`` records) and the role ``service_owner`` or
  ``service_manager``; so does ``retire``.
- **Retirement**: ``retire`` announces a ``retirement_date`` (not before the event's UTC
  date); ``complete_retirement`` is refused before that date. A retiring or retired
  service takes no new deliveries (enforced by the Engine, see
  :mod:`itsmcore.service_rules`).
- ``update`` never clears what a passed gate required (goals, strategy, requirements,
  scope, standards, SLAs), nor the title or owner.

Every required text must be non-blank (guard ``service.filled``). That guard and the
helpers :func:`is_blank` and :func:`blank_fields` are shared by the other
service-management processes (delivery, requirement, SLA, supplier contract, capacity,
continuity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "GATES",
    "NO_NEW_DELIVERIES",
    "SERVICE_TYPES",
    "SPEC",
    "blank_fields",
    "filled",
    "is_blank",
]

#: ITIL's two kinds of service: seen by customers, or supporting other services.
SERVICE_TYPES: Final = ("customer_facing", "supporting")

#: States in which a service takes no new deliveries (R3.1-02).
NO_NEW_DELIVERIES: Final = frozenset({"retiring", "retired", "withdrawn"})

#: Fields each gate requires, and the states from which the gate has been passed (so
#: ``update`` may no longer clear them).
GATES: Final[Mapping[str, tuple[tuple[str, ...], frozenset[str]]]] = {
    "design": (
        ("service_goals", "strategy", "requirements"),
        frozenset({"designing", "transitioning", "live", "improving", "retiring"}),
    ),
    "transition": (
        ("scope", "delivery_standards"),
        frozenset({"transitioning", "live", "improving", "retiring"}),
    ),
    "go_live": (("slas",), frozenset({"live", "improving", "retiring"})),
}


def is_blank(value: Any) -> bool:
    """True for a missing value, whitespace-only text or an empty list."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, tuple):
        return not value or all(is_blank(v) for v in value)
    return False


def blank_fields(fields: Mapping[str, Any], names: Iterable[str]) -> list[str]:
    """The names in ``names`` whose value in ``fields`` is blank (see :func:`is_blank`)."""
    return [n for n in names if is_blank(fields.get(n))]


def _required_by(ctx: Context) -> tuple[str, ...]:
    if ctx.record is None:
        opening = ctx.spec.opening
        own = opening.requires if opening is not None else ()
        return tuple(f.name for f in ctx.spec.fields if f.required) + own
    names: list[str] = []
    for t in ctx.spec.transitions:
        if t.event != ctx.event or not ({"*", ctx.source} & set(t.sources)):
            continue
        if (ctx.source if t.target == "=" else t.target) == ctx.target:
            names.extend(n for n in t.requires if n not in names)
    return tuple(names)


@BUILTINS.guard("service.filled")
def filled(ctx: Context) -> str | None:
    """Every field this transition requires is non-blank (the kernel's ``requires`` only
    checks that a value is present; whitespace or an empty list is not an answer)."""
    missing = blank_fields(ctx.fields, _required_by(ctx))
    if missing:
        return f"{ctx.event} needs non-blank {', '.join(missing)}: fill them in first"
    return None


@BUILTINS.guard("service.retirement_date_ahead")
def _retirement_date_ahead(ctx: Context) -> str | None:
    """The announced retirement date is not before the event's UTC date."""
    when = ctx.value("retirement_date")
    today = ctx.at.date()
    if when is not None and when < today:
        return f"retirement_date {when.isoformat()} is in the past: announce a date from {today}"
    return None


@BUILTINS.guard("service.retirement_date_reached")
def _retirement_date_reached(ctx: Context) -> str | None:
    """A service is retired no earlier than its announced retirement date (UTC)."""
    when = ctx.value("retirement_date")
    if when is not None and ctx.at.date() < when:
        return (
            f"the retirement was announced for {when.isoformat()}: complete it on or after "
            "that date, or update retirement_date"
        )
    return None


_KEPT: Final = ("title", "owner")


@BUILTINS.guard("service.keeps_gates")
def _keeps_gates(ctx: Context) -> str | None:
    """No event blanks the title, the owner, or what a passed gate required."""
    kept = list(_KEPT)
    for names, passed in GATES.values():
        if ctx.source in passed:
            kept.extend(names)
    cleared = [n for n in kept if n in ctx.changes and is_blank(ctx.changes[n])]
    if cleared:
        return f"cannot clear {', '.join(cleared)} in state {ctx.source!r}: give a new value"
    if ctx.source == "retiring" and "retirement_date" in ctx.changes:
        return _retirement_date_ahead(ctx)
    return None


@BUILTINS.effect("service.went_live")
def _went_live(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the first go-live."""
    return None if ctx.value("went_live_at") is not None else {"went_live_at": ctx.at}


@BUILTINS.effect("service.start_improvement")
def _start_improvement(ctx: Context) -> Mapping[str, Any] | None:
    """Count the improvement cycles; this cycle states its own outcome."""
    return {"improvement_count": ctx.value("improvement_count", 0) + 1, "improvement_outcome": None}


@BUILTINS.effect("service.end_improvement")
def _end_improvement(ctx: Context) -> Mapping[str, Any] | None:
    """The goal is met (or dropped): the next cycle states its own goal."""
    return {"improvement_goal": None}


@BUILTINS.effect("service.retired")
def _retired(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the retirement."""
    return {"retired_at": ctx.at}


_MANAGE: Final = ("service_owner", "service_manager")

_GATES = "service.keeps_gates"

SPEC: Final = ProcessSpec(
    name="service",
    version=1,
    title="Service",
    id_prefix="SVC",
    description="A service catalogue entry and its lifecycle, from proposal to retirement.",
    states=(
        StateSpec("proposed", "open", initial=True, description="Planning: goals, strategy."),
        StateSpec("designing", "open", description="Design: scope, standards, blueprint."),
        StateSpec("transitioning", "open", description="Being built, tested and deployed."),
        StateSpec("live", "active", description="In the catalogue and in operation."),
        StateSpec("improving", "active", description="Live, with an improvement under way."),
        StateSpec("retiring", "open", description="Announced for retirement."),
        StateSpec("retired", "closed", terminal=True),
        StateSpec("withdrawn", "cancelled", terminal=True, description="Never went live."),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec("owner", "str", required=True, description="The accountable service owner."),
        FieldSpec("service_type", "enum", choices=SERVICE_TYPES),
        FieldSpec("customers", "list", description="Customer groups served."),
        FieldSpec("service_goals", "text"),
        FieldSpec("strategy", "str", description="The strategy or goal the service serves."),
        FieldSpec("requirements", "list", description="ids of service_requirement records."),
        FieldSpec("scope", "text", description="What the service includes."),
        FieldSpec("out_of_scope", "text", description="What it explicitly excludes."),
        FieldSpec("delivery_standards", "text"),
        FieldSpec("blueprint", "str", description="Reference to the service blueprint."),
        FieldSpec("slas", "list", description="ids of service_level_agreement records."),
        FieldSpec("cis", "list", description="ids of configuration_item records."),
        FieldSpec("improvement_goal", "text"),
        FieldSpec("improvement_outcome", "text"),
        FieldSpec("retirement_reason", "text"),
        FieldSpec("retirement_date", "date"),
        FieldSpec("reason", "text", description="Why the proposal was withdrawn."),
        FieldSpec("went_live_at", "datetime", derived=True),
        FieldSpec("retired_at", "datetime", derived=True),
        FieldSpec("improvement_count", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "proposed", guards=("service.filled",)),
    transitions=(
        TransitionSpec(
            "design",
            ("proposed",),
            "designing",
            requires=GATES["design"][0],
            guards=("service.filled",),
        ),
        TransitionSpec(
            "transition",
            ("designing",),
            "transitioning",
            requires=GATES["transition"][0],
            guards=("service.filled",),
        ),
        TransitionSpec(
            "go_live",
            ("transitioning",),
            "live",
            roles=_MANAGE,
            requires=GATES["go_live"][0],
            guards=("service.filled",),
            effects=("service.went_live",),
        ),
        TransitionSpec(
            "improve",
            ("live",),
            "improving",
            requires=("improvement_goal",),
            guards=("service.filled", _GATES),
            effects=("service.start_improvement",),
        ),
        TransitionSpec(
            "complete_improvement",
            ("improving",),
            "live",
            requires=("improvement_outcome",),
            guards=("service.filled", _GATES),
            effects=("service.end_improvement",),
        ),
        TransitionSpec(
            "retire",
            ("live", "improving"),
            "retiring",
            roles=_MANAGE,
            requires=("retirement_reason", "retirement_date"),
            guards=("service.filled", _GATES, "service.retirement_date_ahead"),
        ),
        TransitionSpec(
            "complete_retirement",
            ("retiring",),
            "retired",
            roles=_MANAGE,
            guards=(_GATES, "service.retirement_date_reached"),
            effects=("service.retired",),
        ),
        TransitionSpec(
            "withdraw",
            ("proposed", "designing", "transitioning"),
            "withdrawn",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_GATES,)),
    ),
)
