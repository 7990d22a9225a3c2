"""The supplier contract process: put a contract in force, review the supplier, then
renew or terminate.

ISO/IEC 20000-1 clause 8.3.4 (supplier management: contracts, performance reviewed at
planned intervals, underpinning contracts aligned with SLAs). The seed has no supplier
content (see ``seed-requirements.md`` §0); the rules are itsmcore's reading of the
standard. States and rules:

- ``draft`` → ``active`` (``activate``) → ``under_review`` (``review``) → ``renewed``
  (``renew``, requires ``renewed_as``, the successor contract's id) or ``terminated``
  (``terminate``, requires ``reason``; also from ``draft`` and ``active``); a review
  that finds no reason to act ``confirm``-s the contract back to ``active``.
- ``activate`` needs the ``supplier_manager``, the term (``start_date`` before
  ``end_date``) and the ``obligations``. An **underpinning contract** (``category``
  ``underpinning``) names the SLAs it supports (``supported_slas``, ids of
  ``service_level_agreement`` records) and keeps at least one while in force.
- **Review due**: on activation and on each ``confirm``, ``review_due`` is the earlier of
  the next periodic review (``options["review_cadence"]``, ``annual`` by default) and
  the last day to give notice (``end_date`` − ``notice_period``, default
  ``options["notice_period"]`` or 90 days). The ``review_due`` timer signals it.
- The supplier and start date are fixed once the contract is active; the end date
  moves by renewal (a new contract), not by ``update``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, Final

from itsmcore._time import parse_duration
from itsmcore.errors import SpecError, ValidationError
from itsmcore.processes.service import is_blank
from itsmcore.processes.service_level_agreement import CADENCES, add_months
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "CATEGORIES",
    "DEFAULT_NOTICE_PERIOD",
    "DEFAULT_REVIEW_CADENCE",
    "SPEC",
    "review_due",
]

#: What the contract buys. ``underpinning`` contracts support SLAs (ISO 8.3.4).
CATEGORIES: Final = (
    "underpinning",
    "outsourcing",
    "cloud_service",
    "software_licence",
    "hardware_support",
    "consultancy",
)
#: How long before the end date notice must be given (itsmcore's default).
DEFAULT_NOTICE_PERIOD: Final = timedelta(days=90)
#: Supplier performance is reviewed at least this often (itsmcore's default).
DEFAULT_REVIEW_CADENCE: Final = "annual"


def _notice(ctx: Context) -> timedelta:
    own = ctx.value("notice_period")
    if own is not None:
        return own  # type: ignore[no-any-return]
    raw = ctx.options.get("notice_period")
    if raw is None:
        return DEFAULT_NOTICE_PERIOD
    try:
        return parse_duration(raw, "options.notice_period")
    except ValidationError as exc:
        raise SpecError(ctx.spec.name, [f"{p}: {m}" for p, m in exc.errors]) from None


def review_due(ctx: Context) -> datetime:
    """The earlier of the next periodic review (the event time plus
    ``options["review_cadence"]``) and the notice deadline (``end_date`` − notice
    period, at 00:00 UTC)."""
    cadence = ctx.options.get("review_cadence", DEFAULT_REVIEW_CADENCE)
    if cadence not in CADENCES:
        raise SpecError(
            ctx.spec.name,
            [f"options.review_cadence: {cadence!r} is not one of {', '.join(CADENCES)}"],
        )
    periodic = add_months(ctx.at, CADENCES[cadence])
    end = ctx.value("end_date")
    if end is None:
        return periodic
    notice = datetime.combine(end, time(0), tzinfo=UTC) - _notice(ctx)
    return min(periodic, max(notice, ctx.at))


@BUILTINS.guard("supplier_contract.term")
def _term(ctx: Context) -> str | None:
    """The term ends after it starts."""
    start, end = ctx.value("start_date"), ctx.value("end_date")
    if start is not None and end is not None and end <= start:
        return f"end_date {end} must be after start_date {start}"
    return None


@BUILTINS.guard("supplier_contract.underpins")
def _underpins(ctx: Context) -> str | None:
    """An underpinning contract names at least one SLA it supports."""
    if ctx.value("category") == "underpinning" and is_blank(ctx.value("supported_slas")):
        return "an underpinning contract names the SLAs it supports (supported_slas)"
    return None


@BUILTINS.guard("supplier_contract.not_itself")
def _not_itself(ctx: Context) -> str | None:
    """A contract is not renewed as itself."""
    if ctx.record is not None and ctx.value("renewed_as") == ctx.record.id:
        return "renewed_as names the successor contract, not this one"
    return None


_FIXED_ONCE_ACTIVE: Final = ("supplier", "start_date", "end_date")


@BUILTINS.guard("supplier_contract.keeps_terms")
def _keeps_terms(ctx: Context) -> str | None:
    """No event clears the title or supplier; once active, the supplier and term are
    fixed and an underpinning contract keeps its SLAs (``update``, ``review``,
    ``confirm`` and ``renew`` alike)."""
    record = ctx.record
    cleared = [n for n in ("title", "supplier") if n in ctx.changes and is_blank(ctx.changes[n])]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value"
    if record is not None and ctx.source != "draft":
        moved = [
            n for n in _FIXED_ONCE_ACTIVE if n in ctx.changes and ctx.changes[n] != record.get(n)
        ]
        if moved:
            return f"{', '.join(moved)} are fixed once active: renew as a new contract instead"
        return _underpins(ctx) or _term(ctx)
    return _term(ctx)


@BUILTINS.effect("supplier_contract.schedule_review")
def _schedule_review(ctx: Context) -> Mapping[str, Any] | None:
    """Set the next review (see :func:`review_due`)."""
    out: dict[str, Any] = {"review_due": review_due(ctx)}
    if ctx.event == "confirm":
        out["last_reviewed_at"] = ctx.at
        out["review_count"] = ctx.value("review_count", 0) + 1
    return out


@BUILTINS.effect("supplier_contract.review_started")
def _review_started(ctx: Context) -> Mapping[str, Any] | None:
    """A new review states its own findings."""
    return {"review_notes": None}


_FILLED = "service.filled"
_KEEPS = "supplier_contract.keeps_terms"

SPEC: Final = ProcessSpec(
    name="supplier_contract",
    version=1,
    title="Supplier contract",
    id_prefix="CON",
    description="A supplier contract: in force, reviewed at planned intervals, renewed or ended.",
    states=(
        StateSpec("draft", "open", initial=True),
        StateSpec("active", "active", description="In force."),
        StateSpec("under_review", "active", description="In force; renewal is being decided."),
        StateSpec("renewed", "closed", terminal=True, description="Succeeded by renewed_as."),
        StateSpec("terminated", "closed", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("supplier", "str", required=True),
        FieldSpec("category", "enum", choices=CATEGORIES),
        FieldSpec("supplier_manager", "str", description="Who manages the relationship."),
        FieldSpec("start_date", "date"),
        FieldSpec("end_date", "date"),
        FieldSpec("notice_period", "duration"),
        FieldSpec("obligations", "text", description="What the supplier must deliver."),
        FieldSpec("supported_slas", "list", description="ids of the SLAs it underpins."),
        FieldSpec("services", "list", description="ids of the services it supports."),
        FieldSpec("value", "float", minimum=0),
        FieldSpec("currency", "str"),
        FieldSpec("review_notes", "text", description="The supplier's performance, found."),
        FieldSpec("renewed_as", "ref", description="The successor contract."),
        FieldSpec("reason", "text", description="Why the contract was terminated."),
        FieldSpec("review_due", "datetime", derived=True),
        FieldSpec("last_reviewed_at", "datetime", derived=True),
        FieldSpec("review_count", "int", derived=True),
    ),
    opening=TransitionSpec("open", (), "draft", guards=(_FILLED,)),
    transitions=(
        TransitionSpec(
            "activate",
            ("draft",),
            "active",
            requires=("supplier_manager", "start_date", "end_date", "obligations"),
            guards=(_FILLED, "supplier_contract.term", "supplier_contract.underpins"),
            effects=("supplier_contract.schedule_review",),
        ),
        TransitionSpec(
            "review",
            ("active",),
            "under_review",
            guards=(_KEEPS,),
            effects=("supplier_contract.review_started",),
        ),
        TransitionSpec(
            "confirm",
            ("under_review",),
            "active",
            requires=("review_notes",),
            guards=(_FILLED, _KEEPS),
            effects=("supplier_contract.schedule_review",),
        ),
        TransitionSpec(
            "renew",
            ("under_review",),
            "renewed",
            requires=("renewed_as", "review_notes"),
            guards=(_FILLED, _KEEPS, "supplier_contract.not_itself"),
        ),
        TransitionSpec(
            "terminate",
            ("draft", "active", "under_review"),
            "terminated",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec("update", ("*",), "=", guards=(_KEEPS,)),
    ),
    timers=(TimerSpec("review_due", "active", at_field="review_due"),),
)
