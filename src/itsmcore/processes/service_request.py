"""The service request process: fulfil a standard request from the request catalogue.

ISO/IEC 20000-1 clause 8.6.2; the seed's R5.1-02 (request process) and R5.1-05 (one
service desk intake). States and rules:

- ``new`` → ``submit`` → ``awaiting_approval`` when the catalogue item needs approval,
  else straight to ``fulfilling``; ``approve`` → ``fulfilling`` or ``reject`` →
  ``rejected`` (requires ``reason``); ``fulfilling`` ⇄ ``on_hold`` (``hold`` with a
  ``hold_reason``, ``resume``); ``fulfil`` (requires ``fulfilment_notes``) →
  ``fulfilled`` → ``close`` (or automatically 7 days later by the ``auto_close`` timer);
  ``reopen`` takes a fulfilled request back to ``fulfilling`` (requires ``reason``);
  ``cancel`` from any non-terminal state (requires ``reason``).
- The **request catalogue** is data in ``options["catalogue"]``: item name → ``title``,
  ``needs_approval``, ``approver_role`` (required when approval is needed),
  ``fulfilment_group`` and ``target`` (the fulfilment target, an ISO 8601 duration such
  as ``"P5D"``). :data:`DEFAULT_CATALOGUE` ships a few realistic items; a host sets its
  own with :func:`with_catalogue`. Opening (or updating a ``new`` request) with an item
  that is not in the catalogue raises ``ValidationError`` naming the known items.
- Opening copies the item's rules onto the record (``approval_required``,
  ``approver_role``, ``fulfilment_target``, and ``group`` unless given), so a request
  keeps the rules it was submitted under. ``catalogue_item`` and ``requested_for`` can
  change only while the request is ``new``.
- **Approval.** The approver must hold the item's ``approver_role`` (else ``Forbidden``:
  the role depends on the data, so the guard ``service_request.approver_role`` raises
  ``Forbidden`` itself instead of returning a reason). Segregation of duties: neither the
  requester (``record.opened_by``) nor the person it is ``requested_for`` may approve or
  reject it (``GuardFailed``). ``decided_by``/``decided_at`` record the decision.
- ``awaiting_approval`` and ``on_hold`` are ``paused``: fulfilment clocks do not run
  while the request waits for an approver or for the requester.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Final

import attrs

from itsmcore._time import parse_duration
from itsmcore.errors import Forbidden, SpecError, ValidationError, did_you_mean
from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.processes.incident import CHANNELS
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "DEFAULT_CATALOGUE",
    "HOLD_REASONS",
    "SPEC",
    "CatalogueItem",
    "catalogue_of",
    "parse_catalogue",
    "with_catalogue",
]

#: Why a request waits while being fulfilled.
HOLD_REASONS: Final = ("awaiting_requester", "awaiting_vendor", "awaiting_stock", "awaiting_change")

#: A small, realistic request catalogue (plain data, as it would sit in a TOML file).
DEFAULT_CATALOGUE: Final[Mapping[str, Mapping[str, Any]]] = {
    "password_reset": {
        "title": "Reset a password",
        "needs_approval": False,
        "fulfilment_group": "service_desk",
        "target": "PT4H",
    },
    "standard_software": {
        "title": "Install software from the approved list",
        "needs_approval": False,
        "fulfilment_group": "end_user_computing",
        "target": "P2D",
    },
    "new_laptop": {
        "title": "A new or replacement laptop",
        "needs_approval": True,
        "approver_role": "line_manager",
        "fulfilment_group": "end_user_computing",
        "target": "P5D",
    },
    "access_request": {
        "title": "Access to a system or a shared folder",
        "needs_approval": True,
        "approver_role": "resource_owner",
        "fulfilment_group": "identity_access",
        "target": "P1D",
    },
    "new_starter": {
        "title": "Accounts and equipment for a new employee",
        "needs_approval": True,
        "approver_role": "line_manager",
        "fulfilment_group": "end_user_computing",
        "target": "P10D",
    },
}

_ITEM_KEYS: Final = frozenset(
    {"title", "needs_approval", "approver_role", "fulfilment_group", "target", "description"}
)


@attrs.frozen(slots=True)
class CatalogueItem:
    """One orderable item of the request catalogue (read from plain data)."""

    name: str
    title: str
    needs_approval: bool
    approver_role: str | None
    fulfilment_group: str
    target: timedelta
    description: str = ""


def _item(name: str, data: Any, problems: list[str]) -> CatalogueItem | None:
    path = f"catalogue.{name}"
    if not isinstance(data, Mapping):
        problems.append(f"{path}: expected a table with {', '.join(sorted(_ITEM_KEYS))}")
        return None
    start = len(problems)
    for key in data:
        if key not in _ITEM_KEYS:
            problems.append(f"{path}.{key}: unknown key; allowed: {', '.join(sorted(_ITEM_KEYS))}")
    needs = data.get("needs_approval")
    if not isinstance(needs, bool):
        problems.append(f"{path}.needs_approval: expected true or false")
    role = data.get("approver_role")
    if needs is True and (not isinstance(role, str) or not role):
        problems.append(f"{path}.approver_role: an item that needs approval names the role")
    if role is not None and not isinstance(role, str):
        problems.append(f"{path}.approver_role: expected a role name")
    group = data.get("fulfilment_group")
    if not isinstance(group, str) or not group:
        problems.append(f"{path}.fulfilment_group: name the group that fulfils the item")
    title = data.get("title", name)
    description = data.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        problems.append(f"{path}: title and description must be text")
    target = timedelta(0)
    try:
        target = parse_duration(data.get("target"), f"{path}.target")
    except ValidationError as exc:
        problems.extend(f"{p}: {m}" for p, m in exc.errors)
    if len(problems) > start:
        return None
    return CatalogueItem(
        name=name,
        title=str(title),
        needs_approval=bool(needs),
        approver_role=str(role) if needs and role else None,
        fulfilment_group=str(group),
        target=target,
        description=str(description),
    )


def parse_catalogue(data: Any) -> dict[str, CatalogueItem]:
    """Read a catalogue (item name → table) into :class:`CatalogueItem` values.

    Raises :class:`SpecError` listing every problem (a missing group, approval without
    an approver role, a bad ``target`` duration, an unknown key).
    """
    problems: list[str] = []
    items: dict[str, CatalogueItem] = {}
    if not isinstance(data, Mapping) or not data:
        raise SpecError("service_request", ["catalogue: expected a non-empty table of items"])
    for name, entry in data.items():
        if not isinstance(name, str) or not name:
            problems.append(f"catalogue: item names are non-empty text, got {name!r}")
            continue
        item = _item(name, entry, problems)
        if item is not None:
            items[name] = item
    if problems:
        raise SpecError("service_request", problems)
    return items


def catalogue_of(spec: ProcessSpec) -> dict[str, CatalogueItem]:
    """The catalogue in ``spec.options["catalogue"]`` (raises :class:`SpecError`)."""
    return parse_catalogue(spec.options.get("catalogue"))


def with_catalogue(catalogue: Mapping[str, Mapping[str, Any]]) -> ProcessSpec:
    """The built-in spec with the host's catalogue, checked now (``SpecError``)."""
    parse_catalogue(catalogue)
    return SPEC.with_options(catalogue={k: dict(v) for k, v in catalogue.items()})


def _lookup(ctx: Context, name: Any) -> CatalogueItem:
    items = catalogue_of(ctx.spec)
    item = items.get(name) if isinstance(name, str) else None
    if item is None:
        hint = did_you_mean(str(name), items)
        raise ValidationError.single(
            "$.fields.catalogue_item",
            f"{name!r} is not in the request catalogue{hint}; known items: "
            f"{', '.join(sorted(items))}",
        )
    return item


@BUILTINS.guard("service_request.known_item")
def _known_item(ctx: Context) -> str | None:
    """The requested item is in the catalogue (raises ``ValidationError`` naming the
    known items: an unknown item is bad input, not a rule that failed)."""
    if ctx.record is None or "catalogue_item" in ctx.changes:
        _lookup(ctx, ctx.value("catalogue_item"))
    return None


@BUILTINS.effect("service_request.apply_item")
def _apply_item(ctx: Context) -> Mapping[str, Any] | None:
    """Copy the item's rules onto the request on open, and when a ``new`` request's
    item changes; ``requested_for`` defaults to the requester."""
    record = ctx.record
    if record is not None and ctx.changes.get("catalogue_item", record.get("catalogue_item")) == (
        record.get("catalogue_item")
    ):
        return None
    item = _lookup(ctx, ctx.value("catalogue_item"))
    out: dict[str, Any] = {
        "approval_required": item.needs_approval,
        "fulfilment_target": item.target,
    }
    if item.approver_role is not None or ctx.record is not None:
        out["approver_role"] = item.approver_role  # None clears a previous item's role
    if "group" not in ctx.changes:
        out["group"] = item.fulfilment_group
    if ctx.record is None and ctx.value("requested_for") is None:
        out["requested_for"] = ctx.actor.id
    return out


@BUILTINS.guard("service_request.needs_approval")
def _needs_approval(ctx: Context) -> str | None:
    """Condition: the item needs approval."""
    return None if ctx.value("approval_required") is True else "the item needs no approval"


@BUILTINS.guard("service_request.no_approval_needed")
def _no_approval_needed(ctx: Context) -> str | None:
    """Condition: the item needs no approval."""
    return "the item needs approval" if ctx.value("approval_required") is True else None


@BUILTINS.guard("service_request.approver_role")
def _approver_role(ctx: Context) -> str | None:
    """The decider holds the item's approver role. The role comes from the data, so a
    static ``roles`` cannot express it: this guard raises ``Forbidden`` itself."""
    role = ctx.value("approver_role")
    if isinstance(role, str) and role and not ctx.actor.has_role(role):
        raise Forbidden(
            f"{ctx.event!r} on this {ctx.value('catalogue_item')!r} request needs the role "
            f"{role!r}; actor {ctx.actor.id!r} has "
            f"{', '.join(sorted(ctx.actor.roles)) or 'none'}",
            by="service_request.approver_role",
            actor=ctx.actor.id,
            event=ctx.event,
        )
    return None


@BUILTINS.guard("service_request.not_requester")
def _not_requester(ctx: Context) -> str | None:
    """Segregation of duties: the requester, and the person the request is for, cannot
    decide on it."""
    record = ctx.record
    if record is None:
        return None
    if ctx.actor.id == record.opened_by:
        return (
            f"{ctx.actor.id!r} opened this request and cannot {ctx.event} it: "
            "another holder of the approver role must decide"
        )
    if ctx.actor.id == record.get("requested_for"):
        return (
            f"the request is for {ctx.actor.id!r}, who cannot {ctx.event} it: "
            "another holder of the approver role must decide"
        )
    return None


#: Fields fixed once a request leaves ``new`` (the approval was given for them).
_LOCKED: Final = ("catalogue_item", "requested_for")
#: Fields that may never be cleared.
_KEPT: Final = ("title", "catalogue_item", "requested_for")


@BUILTINS.guard("service_request.update_allowed")
def _update_allowed(ctx: Context) -> str | None:
    """No event clears the title, item or beneficiary, and only ``update`` changes the
    item or beneficiary, while the request is ``new`` (``submit`` chooses the approval
    path from the rules the item copied onto the request, so it cannot switch items)."""
    cleared = [n for n in _KEPT if n in ctx.changes and ctx.changes[n] in (None, "")]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value instead"
    record = ctx.record
    if record is not None and (ctx.source != "new" or ctx.event != "update"):
        moved = [n for n in _LOCKED if n in ctx.changes and ctx.changes[n] != record.get(n)]
        if moved and ctx.source == "new":
            return f"{', '.join(moved)} change with 'update' before {ctx.event!r}"
        if moved:
            return (
                f"{', '.join(moved)} cannot change once the request is submitted: cancel it "
                "and open a new request"
            )
    return None


@BUILTINS.effect("service_request.record_decision")
def _record_decision(ctx: Context) -> Mapping[str, Any] | None:
    """Who approved or rejected the request, and when."""
    return {"decided_by": ctx.actor.id, "decided_at": ctx.at}


@BUILTINS.effect("service_request.count_reopen")
def _count_reopen(ctx: Context) -> Mapping[str, Any] | None:
    """Count the reopen, and clear the old fulfilment notes: the next ``fulfil`` says
    what was done this time."""
    assert ctx.record is not None
    return {"reopen_count": ctx.record.get("reopen_count", 0) + 1, "fulfilment_notes": None}


@BUILTINS.effect("service_request.clear_hold")
def _clear_hold(ctx: Context) -> Mapping[str, Any] | None:
    """A resumed request is no longer waiting; the next ``hold`` states its reason."""
    return {"hold_reason": None}


_DECIDE = ("service_request.approver_role", "service_request.not_requester")
_WORKING = ("new", "awaiting_approval", "fulfilling", "on_hold")
_KEEPS = "service_request.update_allowed"

SPEC: Final = ProcessSpec(
    name="service_request",
    version=1,
    title="Service request",
    id_prefix="REQ",
    description="Fulfil a standard request from the request catalogue.",
    states=(
        StateSpec("new", "open", initial=True, description="Recorded, not yet submitted."),
        StateSpec("awaiting_approval", "paused", description="Waits for the approver."),
        StateSpec("fulfilling", "open", description="Approved (or needing no approval)."),
        StateSpec("on_hold", "paused", description="Fulfilment waits (see hold_reason)."),
        StateSpec("fulfilled", "resolved", description="Delivered; the requester may reopen."),
        StateSpec("closed", "closed", terminal=True),
        StateSpec("rejected", "cancelled", terminal=True, description="The approver said no."),
        StateSpec("cancelled", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("description", "text"),
        FieldSpec(
            "catalogue_item", "str", required=True, description="Key in options['catalogue']."
        ),
        FieldSpec("requested_for", "str", description="Who receives it (default: requester)."),
        FieldSpec("priority", "int", minimum=1, maximum=5, description="1 critical … 5 planning"),
        FieldSpec("channel", "enum", choices=CHANNELS),
        FieldSpec("quantity", "int", minimum=1, maximum=10_000),
        FieldSpec("justification", "text"),
        FieldSpec("service", "ref"),
        FieldSpec("group", "str", description="Fulfilment group (default: the item's)."),
        FieldSpec("assignee", "str"),
        FieldSpec("approval_required", "bool", derived=True),
        FieldSpec("approver_role", "str", derived=True),
        FieldSpec("fulfilment_target", "duration", derived=True),
        FieldSpec("decided_by", "str", derived=True),
        FieldSpec("decided_at", "datetime", derived=True),
        FieldSpec("hold_reason", "enum", choices=HOLD_REASONS),
        FieldSpec("fulfilment_notes", "text"),
        FieldSpec("reason", "text", description="Why it was rejected, reopened or cancelled."),
        FieldSpec("reopen_count", "int", derived=True),
    ),
    opening=TransitionSpec(
        "open",
        (),
        "new",
        guards=("service_request.known_item",),
        effects=("service_request.apply_item",),
    ),
    transitions=(
        TransitionSpec(
            "submit",
            ("new",),
            "awaiting_approval",
            conditions=("service_request.needs_approval",),
            guards=(_KEEPS,),
        ),
        TransitionSpec(
            "submit",
            ("new",),
            "fulfilling",
            conditions=("service_request.no_approval_needed",),
            guards=(_KEEPS,),
        ),
        TransitionSpec(
            "approve",
            ("awaiting_approval",),
            "fulfilling",
            guards=(_KEEPS, *_DECIDE),
            effects=("service_request.record_decision",),
        ),
        TransitionSpec(
            "reject",
            ("awaiting_approval",),
            "rejected",
            requires=("reason",),
            guards=(_KEEPS, *_DECIDE, "common.has_reason"),
            effects=("service_request.record_decision",),
        ),
        TransitionSpec(
            "assign", ("fulfilling", "on_hold"), "=", requires=("assignee",), guards=(_KEEPS,)
        ),
        TransitionSpec(
            "hold", ("fulfilling",), "on_hold", requires=("hold_reason",), guards=(_KEEPS,)
        ),
        TransitionSpec(
            "resume",
            ("on_hold",),
            "fulfilling",
            guards=(_KEEPS,),
            effects=("service_request.clear_hold",),
        ),
        TransitionSpec(
            "fulfil",
            ("fulfilling",),
            "fulfilled",
            requires=("fulfilment_notes",),
            guards=(_KEEPS,),
        ),
        TransitionSpec(
            "reopen",
            ("fulfilled",),
            "fulfilling",
            requires=("reason",),
            guards=(_KEEPS, "common.has_reason"),
            effects=("service_request.count_reopen",),
        ),
        TransitionSpec("close", ("fulfilled",), "closed", guards=(_KEEPS,)),
        TransitionSpec(
            "cancel",
            _WORKING,
            "cancelled",
            requires=("reason",),
            guards=(_KEEPS, "common.has_reason"),
        ),
        TransitionSpec(
            "update",
            ("*",),
            "=",
            guards=(_KEEPS, "service_request.known_item"),
            effects=("service_request.apply_item",),
        ),
    ),
    timers=(TimerSpec("auto_close", "fulfilled", event="close", after=timedelta(days=7)),),
    options={"catalogue": {name: dict(item) for name, item in DEFAULT_CATALOGUE.items()}},
)
