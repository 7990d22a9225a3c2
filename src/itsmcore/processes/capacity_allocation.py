"""The capacity allocation process: request, allocate and release capacity of a
resource pool, never beyond its declared capacity unless explicitly overbooked.

ISO/IEC 20000-1 clause 8.4.3 (capacity management: plan and provide sufficient
capacity); the seed's R3.2-02 (pools with declared capacity, no allocation beyond it
unless an authorised role overbooks), R3.2-04 (requested → allocated → released,
reallocation between deliveries) and R3.2-03 (utilisation; see
:func:`itsmcore.capacity.utilisation`). States and rules:

- ``requested`` → ``allocated`` (``allocate``) → ``released`` (``release``); a request
  that is not needed any more is ``withdraw``-n (requires ``reason``). While allocated,
  ``adjust`` changes the quantity and ``reassign`` moves it to another delivery or
  change (``requested_for``).
- **Pools** are data in ``options["pools"]`` (:func:`itsmcore.capacity.parse_pools`;
  :data:`~itsmcore.capacity.DEFAULT_POOLS` by default, a host sets its own with
  :func:`with_pools`). An unknown pool is a ``ValidationError`` naming the known ones.
  Opening copies the pool's ``unit`` and ``resource_type`` onto the record.
- **The capacity rule.** A guard sees only its own record, so ``allocate`` (and an
  ``adjust`` that grows the quantity or a pool change) must state ``pool_booked``: what
  the pool holds now *without* this allocation, measured with this event. The guard
  refuses when ``pool_booked + quantity`` exceeds the capacity, unless ``overbook`` is
  true; ``overbook`` is set only by a ``capacity_manager`` (``Forbidden`` otherwise).
  The event keeps ``pool_booked`` and the derived ``utilisation_after`` and
  ``overbooked``, so every decision shows the capacity it was based on.
- **Through the Engine** the measurement is not taken on trust:
  :class:`itsmcore.service_rules.ServiceRules` measures the stored allocations of the
  pool at commit and refuses a ``pool_booked`` below the truth (``Forbidden``), and
  :func:`itsmcore.service_rules.allocate` measures and fires in one call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itsmcore.capacity import (
    DEFAULT_POOLS,
    CapacityCheck,
    ResourcePool,
    parse_pools,
    pool_named,
)
from itsmcore.errors import Forbidden
from itsmcore.processes.service import is_blank
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = ["OVERBOOK_ROLE", "SPEC", "pool_of", "pools_of", "with_pools"]

#: The role that may allocate beyond a pool's capacity (R3.2-02).
OVERBOOK_ROLE: Final = "capacity_manager"


def pools_of(ctx_or_options: Context | Mapping[str, Any]) -> dict[str, ResourcePool]:
    """The pools of a spec's options (``options["pools"]``, else the defaults).
    Raises :class:`~itsmcore.errors.SpecError` for malformed pool data."""
    options = ctx_or_options.options if isinstance(ctx_or_options, Context) else ctx_or_options
    return parse_pools(options.get("pools", DEFAULT_POOLS))


def pool_of(ctx: Context) -> ResourcePool:
    """The record's pool (``ValidationError`` naming the known pools if unknown)."""
    return pool_named(pools_of(ctx), ctx.value("pool"))


def with_pools(pools: Mapping[str, Mapping[str, Any]]) -> ProcessSpec:
    """The built-in spec with the host's pools, checked now (``SpecError``)."""
    parse_pools(pools)
    return SPEC.with_options(pools={k: dict(v) for k, v in pools.items()})


@BUILTINS.guard("capacity_allocation.known_pool")
def _known_pool(ctx: Context) -> str | None:
    """The pool exists and the quantity is positive (an unknown pool is bad input: a
    ``ValidationError`` naming the known pools)."""
    pool_of(ctx)
    quantity = ctx.value("quantity")
    if quantity is not None and quantity <= 0:
        return "quantity must be more than 0: release the allocation instead"
    return None


def _needs_measure(ctx: Context) -> bool:
    record = ctx.record
    if record is None or ctx.source == "requested":
        return True
    grew = bool(ctx.value("quantity", 0.0) > record.get("quantity", 0.0))
    return grew or ctx.value("pool") != record.get("pool")


def _refuse_overbook(ctx: Context, why: str) -> Forbidden:
    return Forbidden(
        f"{why} needs the role {OVERBOOK_ROLE!r}; actor {ctx.actor.id!r} has "
        f"{', '.join(sorted(ctx.actor.roles)) or 'none'}",
        by="capacity_allocation.within_capacity",
        actor=ctx.actor.id,
        event=ctx.event,
    )


def _check_overbook_flag(ctx: Context) -> None:
    if ctx.changes.get("overbook") is True and not ctx.actor.has_role(OVERBOOK_ROLE):
        raise _refuse_overbook(ctx, "setting overbook=true")


@BUILTINS.guard("capacity_allocation.within_capacity")
def _within_capacity(ctx: Context) -> str | None:
    """The stated ``pool_booked`` plus the quantity fits the pool, unless a
    ``capacity_manager`` overbooks explicitly (``overbook`` true and the role held by the
    actor of this event; ``Forbidden`` for anyone else)."""
    _check_overbook_flag(ctx)
    if not _needs_measure(ctx):
        return None
    if "pool_booked" not in ctx.changes:
        return (
            "state pool_booked, the pool's booked quantity measured now (without this "
            "allocation); itsmcore.service_rules.allocate(engine, ...) measures it for you"
        )
    pool = pool_of(ctx)
    result = CapacityCheck(
        pool=pool.name,
        capacity=pool.capacity,
        booked=ctx.value("pool_booked"),
        requested=ctx.value("quantity"),
    )
    if result.fits:
        return None
    if ctx.value("overbook") is True:
        if not ctx.actor.has_role(OVERBOOK_ROLE):
            raise _refuse_overbook(ctx, "allocating beyond capacity")
        return None
    return result.explain(pool.unit)


@BUILTINS.effect("capacity_allocation.describe_pool")
def _describe_pool(ctx: Context) -> Mapping[str, Any] | None:
    """Copy the pool's unit and resource type onto the record."""
    if ctx.record is not None and "pool" not in ctx.changes:
        return None
    pool = pool_of(ctx)
    return {"unit": pool.unit, "resource_type": pool.resource_type}


@BUILTINS.effect("capacity_allocation.booked")
def _booked(ctx: Context) -> Mapping[str, Any] | None:
    """Record what the pool's utilisation becomes and whether this overbooks it."""
    if "pool_booked" not in ctx.changes:
        return None
    pool = pool_of(ctx)
    after = ctx.value("pool_booked") + ctx.value("quantity")
    out: dict[str, Any] = {
        "utilisation_after": after / pool.capacity,
        "overbooked": after > pool.capacity,
    }
    if ctx.source == "requested":
        out["allocated_at"] = ctx.at
        out["allocated_by"] = ctx.actor.id
    return out


@BUILTINS.effect("capacity_allocation.released")
def _released(ctx: Context) -> Mapping[str, Any] | None:
    """Stamp the release."""
    return {"released_at": ctx.at}


@BUILTINS.guard("capacity_allocation.update_allowed")
def _update_allowed(ctx: Context) -> str | None:
    """``update`` (and ``reassign``, ``release``) never clears the title, pool or
    quantity; once allocated the pool and quantity change only by ``adjust``, the event
    whose capacity is measured."""
    cleared = [
        n for n in ("title", "pool", "quantity") if n in ctx.changes and is_blank(ctx.changes[n])
    ]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value"
    record = ctx.record
    if record is not None and ctx.source == "allocated":
        moved = [
            n for n in ("pool", "quantity") if ctx.changes.get(n, record.get(n)) != record.get(n)
        ]
        if moved:
            return f"{', '.join(moved)} of an allocation change by 'adjust', not {ctx.event!r}"
    _check_overbook_flag(ctx)
    return _known_pool(ctx)


_MEASURED = ("capacity_allocation.known_pool", "capacity_allocation.within_capacity")

SPEC: Final = ProcessSpec(
    name="capacity_allocation",
    version=1,
    title="Capacity allocation",
    id_prefix="CAP",
    description="Allocate capacity of a resource pool, within its declared capacity.",
    states=(
        StateSpec("requested", "open", initial=True),
        StateSpec("allocated", "active", description="Holds its quantity of the pool."),
        StateSpec("released", "closed", terminal=True),
        StateSpec("withdrawn", "cancelled", terminal=True),
    ),
    fields=(
        FieldSpec("title", "str", required=True),
        FieldSpec("pool", "str", required=True, description="Key in options['pools']."),
        FieldSpec("quantity", "float", required=True, minimum=0, description="In the pool's unit."),
        FieldSpec("purpose", "text"),
        FieldSpec("requested_for", "ref", description="The delivery or change it serves."),
        FieldSpec("pool_booked", "float", minimum=0, description="Pool held without this one."),
        FieldSpec("overbook", "bool", description="Allocate beyond capacity (capacity_manager)."),
        FieldSpec("release_reason", "text"),
        FieldSpec("reason", "text", description="Why the request was withdrawn."),
        FieldSpec("unit", "str", derived=True),
        FieldSpec("resource_type", "str", derived=True),
        FieldSpec("utilisation_after", "float", derived=True, description="0–1, may exceed 1."),
        FieldSpec("overbooked", "bool", derived=True),
        FieldSpec("allocated_at", "datetime", derived=True),
        FieldSpec("allocated_by", "str", derived=True),
        FieldSpec("released_at", "datetime", derived=True),
    ),
    opening=TransitionSpec(
        "open",
        (),
        "requested",
        guards=("service.filled", "capacity_allocation.known_pool"),
        effects=("capacity_allocation.describe_pool",),
    ),
    transitions=(
        TransitionSpec(
            "allocate",
            ("requested",),
            "allocated",
            requires=("pool_booked",),
            guards=_MEASURED,
            effects=("capacity_allocation.describe_pool", "capacity_allocation.booked"),
        ),
        TransitionSpec(
            "adjust",
            ("allocated",),
            "=",
            guards=_MEASURED,
            effects=("capacity_allocation.describe_pool", "capacity_allocation.booked"),
        ),
        TransitionSpec(
            "reassign",
            ("allocated",),
            "=",
            requires=("requested_for",),
            guards=("capacity_allocation.update_allowed",),
        ),
        TransitionSpec(
            "release",
            ("allocated",),
            "released",
            guards=("capacity_allocation.update_allowed",),
            effects=("capacity_allocation.released",),
        ),
        TransitionSpec(
            "withdraw",
            ("requested",),
            "withdrawn",
            requires=("reason",),
            guards=("common.has_reason",),
        ),
        TransitionSpec(
            "update",
            ("requested", "allocated"),
            "=",
            guards=("capacity_allocation.update_allowed",),
            effects=("capacity_allocation.describe_pool",),
        ),
    ),
)
