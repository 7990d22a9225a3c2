"""Resource pools, the capacity check, and utilisation and idle rate per pool.

Why a pure module: capacity is bookkeeping over records the caller already holds.
Nothing here reads a store or the clock; the Engine-level rule that uses
:func:`check` on the stored allocations is :class:`itsmcore.service_rules.ServiceRules`.

- A **pool** (:class:`ResourcePool`) is data: a name, a declared ``capacity`` in a
  ``unit`` (hours, vCPU, rack units...), its ``resource_type`` (the seed's R3.2-01:
  human, technical, infrastructure) and optional ``low``/``high`` utilisation thresholds
  (fractions 0–1) that flag waste or shortage (R3.2-03). The ``capacity_allocation``
  process reads its pools from ``options["pools"]`` (:func:`parse_pools`).
- An **allocation** holds ``quantity`` of one pool from the instant it is allocated
  until it is released (the record's own events say when).
- :func:`check` answers "does this request fit next to the current allocations?";
  overbooking beyond the capacity is allowed only explicitly (the process's
  ``overbook`` flag, set by a ``capacity_manager``).
- :func:`utilisation` is time-weighted: the booked quantity integrated over a period,
  divided by capacity × period length; the idle rate is 1 − utilisation (R3.2-04).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeGuard

import attrs

from itsmcore._time import require_aware
from itsmcore.errors import SpecError, ValidationError, did_you_mean
from itsmcore.records import Event, Record, apply_changes

__all__ = [
    "ALLOCATION_PROCESS",
    "DEFAULT_POOLS",
    "RESOURCE_TYPES",
    "CapacityCheck",
    "PoolUtilisation",
    "ResourcePool",
    "booked",
    "check",
    "holdings",
    "parse_pools",
    "pool_named",
    "utilisation",
]

#: The process whose records hold pool capacity.
ALLOCATION_PROCESS: Final = "capacity_allocation"
#: The seed's three resource types (R3.2-01).
RESOURCE_TYPES: Final = ("human", "technical", "infrastructure")
_POOL_KEYS: Final = frozenset(
    {"capacity", "unit", "resource_type", "low", "high", "title", "description"}
)

#: A few realistic pools, one per resource type (plain data, as in a TOML file).
DEFAULT_POOLS: Final[Mapping[str, Mapping[str, Any]]] = {
    "service_desk_hours": {
        "title": "Service desk agent hours per week",
        "capacity": 400.0,
        "unit": "h/week",
        "resource_type": "human",
        "low": 0.5,
        "high": 0.9,
    },
    "build_vcpu": {
        "title": "Build cluster vCPUs",
        "capacity": 128.0,
        "unit": "vCPU",
        "resource_type": "technical",
        "low": 0.3,
        "high": 0.85,
    },
    "dc_rack_units": {
        "title": "Data centre rack units",
        "capacity": 84.0,
        "unit": "U",
        "resource_type": "infrastructure",
        "high": 0.9,
    },
}


@attrs.frozen(slots=True)
class ResourcePool:
    """A pool of one resource with a declared capacity (``> 0``) in ``unit``.

    ``low``/``high`` are utilisation thresholds as fractions (0–1): utilisation below
    ``low`` flags waste, above ``high`` shortage; ``None`` flags nothing.
    """

    name: str
    capacity: float
    unit: str
    resource_type: str = "technical"
    low: float | None = None
    high: float | None = None
    title: str = ""
    description: str = ""


def _number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _pool(name: str, data: Any, problems: list[str]) -> ResourcePool | None:
    path = f"pools.{name}"
    if not isinstance(data, Mapping):
        problems.append(f"{path}: expected a table with capacity and unit")
        return None
    start = len(problems)
    unknown = sorted(str(k) for k in data if k not in _POOL_KEYS)
    if unknown:
        problems.append(f"{path}: unknown keys {', '.join(unknown)}; allowed: {sorted(_POOL_KEYS)}")
    capacity = data.get("capacity")
    if not _number(capacity) or capacity <= 0:
        problems.append(f"{path}.capacity: a positive number, e.g. 40")
    unit = data.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        problems.append(f"{path}.unit: name the unit, e.g. 'h/week' or 'vCPU'")
    kind = data.get("resource_type", "technical")
    if kind not in RESOURCE_TYPES:
        problems.append(f"{path}.resource_type: one of {', '.join(RESOURCE_TYPES)}")
    low, high = data.get("low"), data.get("high")
    for key, value in (("low", low), ("high", high)):
        if value is not None and (not _number(value) or not 0 <= value <= 1):
            problems.append(f"{path}.{key}: a fraction between 0 and 1, e.g. 0.85")
    if _number(low) and _number(high) and low >= high:
        problems.append(f"{path}: low ({low}) must be below high ({high})")
    title, description = data.get("title", name), data.get("description", "")
    if not isinstance(title, str) or not isinstance(description, str):
        problems.append(f"{path}: title and description are text")
    if len(problems) > start:
        return None
    assert _number(capacity)
    return ResourcePool(
        name=name,
        capacity=float(capacity),
        unit=str(unit),
        resource_type=str(kind),
        low=None if low is None else float(low),
        high=None if high is None else float(high),
        title=str(title),
        description=str(description),
    )


def parse_pools(data: Any) -> dict[str, ResourcePool]:
    """Read pools (name → table of ``capacity``, ``unit``, ``resource_type``, ``low``,
    ``high``, ``title``, ``description``). Raises :class:`SpecError` listing every
    problem."""
    if not isinstance(data, Mapping) or not data:
        raise SpecError(ALLOCATION_PROCESS, ["pools: expected a non-empty table of pools"])
    problems: list[str] = []
    pools: dict[str, ResourcePool] = {}
    for name, entry in data.items():
        if not isinstance(name, str) or not name.strip():
            problems.append(f"pools: a pool name is non-empty text, got {name!r}")
            continue
        pool = _pool(name, entry, problems)
        if pool is not None:
            pools[name] = pool
    if problems:
        raise SpecError(ALLOCATION_PROCESS, problems)
    return pools


def pool_named(pools: Mapping[str, ResourcePool], name: Any) -> ResourcePool:
    """The pool called ``name``; ``ValidationError`` on ``$.fields.pool`` naming the
    known pools otherwise."""
    pool = pools.get(name) if isinstance(name, str) else None
    if pool is None:
        hint = did_you_mean(str(name), pools)
        raise ValidationError.single(
            "$.fields.pool", f"unknown pool {name!r}{hint}; known pools: {', '.join(sorted(pools))}"
        )
    return pool


@attrs.frozen(slots=True)
class CapacityCheck:
    """The answer of :func:`check`: what is ``booked`` already (excluding the request),
    what is ``requested``, and whether it ``fits`` within ``capacity``."""

    pool: str
    capacity: float
    booked: float
    requested: float

    @property
    def after(self) -> float:
        """The booked quantity if the request is granted."""
        return self.booked + self.requested

    @property
    def fits(self) -> bool:
        """True when the request fits within the declared capacity."""
        return self.after <= self.capacity + 1e-9 * max(1.0, self.capacity)

    @property
    def free(self) -> float:
        """Capacity not yet booked (0 when already overbooked)."""
        return max(0.0, self.capacity - self.booked)

    @property
    def shortfall(self) -> float:
        """How much the request exceeds the free capacity (0 when it fits)."""
        return 0.0 if self.fits else self.after - self.capacity

    @property
    def utilisation_after(self) -> float:
        """Booked ÷ capacity if the request is granted (may exceed 1)."""
        return self.after / self.capacity

    def explain(self, unit: str = "") -> str:
        """One sentence for an error message, saying how to fix it."""
        u = f" {unit}" if unit else ""
        return (
            f"pool {self.pool!r} has {_fmt(self.free)}{u} of {_fmt(self.capacity)}{u} free "
            f"and {_fmt(self.requested)}{u} was requested ({_fmt(self.shortfall)}{u} short): "
            "request less, release an allocation, or have a capacity_manager allocate it "
            "with overbook=true"
        )


def _fmt(x: float) -> str:
    return f"{x:g}"


def holdings(allocations: Iterable[Record], pool: str, *, exclude: str = "") -> list[Record]:
    """The allocations that hold capacity of ``pool`` now: ``capacity_allocation`` records
    in state ``allocated`` whose ``pool`` is ``pool``, except the record ``exclude``."""
    return [
        r
        for r in allocations
        if r.process == ALLOCATION_PROCESS
        and r.state == "allocated"
        and r.get("pool") == pool
        and r.id != exclude
    ]


def booked(allocations: Iterable[Record], pool: str, *, exclude: str = "") -> float:
    """The quantity of ``pool`` held now by ``allocations`` (see :func:`holdings`)."""
    return math.fsum(
        float(r.get("quantity", 0.0)) for r in holdings(allocations, pool, exclude=exclude)
    )


def check(
    pool: ResourcePool, allocations: Iterable[Record], request: Record | float
) -> CapacityCheck:
    """Does ``request`` fit into ``pool`` next to the current ``allocations``?

    ``allocations`` are ``capacity_allocation`` records (any states; only those holding
    ``pool`` count, see :func:`holdings`). ``request`` is the allocation record asking
    (its own current holding, if it is already allocated, is not counted twice) or a bare
    quantity. Raises ``ValidationError`` for a negative or non-finite quantity.
    """
    if isinstance(request, Record):
        quantity, exclude = request.get("quantity"), request.id
    else:
        quantity, exclude = request, ""
    if not _number(quantity) or quantity < 0:
        raise ValidationError.single("$.fields.quantity", "a non-negative, finite number")
    return CapacityCheck(
        pool=pool.name,
        capacity=pool.capacity,
        booked=booked(allocations, pool.name, exclude=exclude),
        requested=float(quantity),
    )


@attrs.frozen(slots=True)
class PoolUtilisation:
    """Time-weighted use of one pool over ``[start, end)``.

    ``utilisation`` = booked quantity integrated over the period ÷ (capacity × period);
    ``idle_rate`` = 1 − utilisation (never negative: an overbooked period idles 0);
    ``peak`` is the highest booked quantity; ``flag`` is ``"waste"`` below the pool's
    ``low`` threshold, ``"shortage"`` above ``high``, else ``None``.
    """

    pool: str
    start: datetime
    end: datetime
    utilisation: float
    peak: float
    flag: str | None

    @property
    def idle_rate(self) -> float:
        """The unused share of the capacity over the period (0–1)."""
        return max(0.0, 1.0 - self.utilisation)


def _intervals(events: Sequence[Event], pool: str) -> list[tuple[datetime, float]]:
    """(instant, booked quantity from then on) steps of one allocation's history."""
    fields: dict[str, Any] = {}
    steps: list[tuple[datetime, float]] = []
    for ev in events:
        apply_changes(fields, ev.changes)
        held = ev.target == "allocated" and fields.get("pool") == pool
        amount = float(fields.get("quantity", 0.0)) if held else 0.0
        if not steps or steps[-1][1] != amount:
            steps.append((ev.at, amount))
    return steps


def utilisation(
    pool: ResourcePool,
    histories: Iterable[Sequence[Event]],
    start: datetime,
    end: datetime,
) -> PoolUtilisation:
    """The time-weighted utilisation of ``pool`` over ``[start, end)``.

    ``histories`` are the event lists of ``capacity_allocation`` records (``Engine.
    history(id)``); an allocation holds its quantity from the event that allocated it
    (or adjusted it) until the event that released it. Raises ``ValidationError`` for a
    naive bound or an empty period.
    """
    start = require_aware(start, "$.start")
    end = require_aware(end, "$.end")
    if end <= start:
        raise ValidationError.single("$.end", "the period must end after it starts")
    changes: list[tuple[datetime, float]] = []
    for events in histories:
        level = 0.0
        for at, amount in _intervals(events, pool.name):
            changes.append((at, amount - level))
            level = amount
    # Releases before allocations at the same instant: a hand-over is not a peak.
    changes.sort()
    level = math.fsum(delta for at, delta in changes if at <= start)
    peak, area, cursor = level, 0.0, start
    for at, delta in changes:
        if at <= start:
            continue
        if at >= end:
            break
        area += level * _seconds(at - cursor)
        cursor = at
        level += delta
        peak = max(peak, level)
    area += level * _seconds(end - cursor)
    rate = area / (pool.capacity * _seconds(end - start))
    flag: str | None = None
    if pool.low is not None and rate < pool.low:
        flag = "waste"
    elif pool.high is not None and rate > pool.high:
        flag = "shortage"
    return PoolUtilisation(
        pool=pool.name, start=start, end=end, utilisation=rate, peak=peak, flag=flag
    )


def _seconds(d: timedelta) -> float:
    return d.total_seconds()
