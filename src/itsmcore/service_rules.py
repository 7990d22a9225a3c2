"""Engine-level rules of the service-management processes: the checks that read other
records, which a pure guard cannot do.

Why a plugin: a guard sees one record. "A retired service takes no new deliveries",
"an allocation fits next to the pool's other allocations" and "only a security or major
incident invokes a continuity plan" each need a look at other stored records. The
:class:`ServiceRules` plugin implements ``itsmcore_authorize``, which the Engine asks
for every event just before it saves, with the record as it would be. The plugin reads
the Engine's store and refuses with the same errors a guard would raise, so nothing is
saved:

- **References** (:data:`REFERENCES`): a ``ref`` field of these processes, when set,
  names an existing record of the right process (``ValidationError`` on
  ``$.fields.<name>`` otherwise).
- **Deliveries** (R3.1-02): opening a ``service_delivery``, or moving it to another
  service, needs a service that is not ``retiring``, ``retired`` or ``withdrawn``
  (``GuardFailed`` ``service_rules.service_takes_deliveries``).
- **Capacity** (R3.2-02): an allocation event that states ``pool_booked`` is refused
  when the pool's stored allocations hold more than stated (``GuardFailed``
  ``service_rules.pool_measured``: re-measure and retry). The process's own guard then
  holds the allocation to the capacity (or to an explicit overbook by a
  ``capacity_manager``).
- **Invocation** (R6.5-05): a continuity plan is invoked only by a
  ``security_incident`` or an ``incident`` marked ``major`` (``GuardFailed``
  ``service_rules.invoked_by_major``).

Install it on an engine with :func:`install` (``ServiceRules(engine.storage)`` as a
plugin). Concurrency: the check runs just before the save, outside the store's
transaction, so two allocations committed at the same instant by two workers could both
pass; :func:`allocate` closes that race on a store with the ``claims_in_append``
capability (each allocation claims the pool's next booking number in its save), so
allocate through it when several workers share a pool.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from itsmcore._engine.commit import commit
from itsmcore.capacity import ALLOCATION_PROCESS, PoolUtilisation, booked, utilisation
from itsmcore.errors import ClaimTaken, ConcurrencyError, GuardFailed, NotFound, ValidationError
from itsmcore.ports.hookspecs import hookimpl
from itsmcore.ports.storage import Claim, Storage, appends_claims
from itsmcore.processes.capacity_allocation import pools_of
from itsmcore.processes.continuity_plan import INVOKERS
from itsmcore.processes.service import NO_NEW_DELIVERIES
from itsmcore.records import Actor, Event, Record

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = [
    "REFERENCES",
    "ServiceRules",
    "allocate",
    "booking_key",
    "install",
    "last_booking",
    "pool_booked",
    "pool_utilisation",
]

#: (process, ref field) → the process the referenced record must belong to.
REFERENCES: Final[Mapping[tuple[str, str], str]] = {
    ("service_delivery", "service"): "service",
    ("service_delivery", "sla"): "service_level_agreement",
    ("service_requirement", "service"): "service",
    ("service_requirement", "sla"): "service_level_agreement",
    ("service_requirement", "parent"): "service_requirement",
    ("service_level_agreement", "service"): "service",
    ("service_level_agreement", "superseded_by"): "service_level_agreement",
    ("supplier_contract", "renewed_as"): "supplier_contract",
    ("continuity_plan", "service"): "service",
}
_TOLERANCE: Final = 1e-9
_PLUGIN_NAME: Final = "service_rules"
#: How often ``allocate`` measures again after losing its booking number.
_MAX_BOOKING_ATTEMPTS: Final = 50


def pool_booked(store: Storage, pool: str, *, exclude: str = "") -> float:
    """What the stored allocations of ``pool`` hold now (state ``allocated``), without
    the allocation ``exclude``."""
    holding = store.find(process=ALLOCATION_PROCESS, state="allocated", fields={"pool": pool})
    return booked(holding, pool, exclude=exclude)


class ServiceRules:
    """The ``itsmcore_authorize`` plugin enforcing the rules above on one store.

    ``store`` is the Engine's storage (``engine.storage``); the plugin only reads it.
    """

    def __init__(self, store: Storage) -> None:
        self.store = store

    def _load(self, record: Record, name: str, process: str) -> Record:
        ref = record.get(name)
        try:
            other = self.store.load(ref)
        except NotFound:
            raise ValidationError.single(
                f"$.fields.{name}", f"no record {ref!r}: give the id of a {process} record"
            ) from None
        if other.process != process:
            raise ValidationError.single(
                f"$.fields.{name}",
                f"{ref!r} is a {other.process} record; {name} names a {process} record",
            )
        return other

    @hookimpl
    def itsmcore_authorize(self, actor: Actor, record: Record, event: Event) -> bool | None:
        """Check the references, deliveries, capacity and invocations of ``event``."""
        if event.name in ("link", "unlink"):
            return None
        opening = event.name == "open"
        for (process, name), target in REFERENCES.items():
            if record.process != process or record.get(name) is None:
                continue
            if opening or name in event.changes:
                other = self._load(record, name, target)
                if process == "service_delivery" and name == "service":
                    self._takes_deliveries(other)
        if record.process == ALLOCATION_PROCESS:
            self._measured(record, event)
        if record.process == "continuity_plan" and event.name == "invoke":
            self._invoker(record)
        return None

    @staticmethod
    def _takes_deliveries(service: Record) -> None:
        if service.state in NO_NEW_DELIVERIES:
            raise GuardFailed(
                "service_rules.service_takes_deliveries",
                f"service {service.id} is {service.state}: a retiring, retired or "
                "withdrawn service takes no new deliveries; deliver a live service",
            )

    def _measured(self, record: Record, event: Event) -> None:
        if record.state != "allocated" or "pool_booked" not in event.changes:
            return
        pool = record.get("pool")
        measured = pool_booked(self.store, pool, exclude=record.id)
        stated = float(record.get("pool_booked"))
        if measured > stated + _TOLERANCE * max(1.0, measured):
            raise GuardFailed(
                "service_rules.pool_measured",
                f"pool_booked says {stated:g} but the allocations of pool {pool!r} hold "
                f"{measured:g} now: measure again (service_rules.allocate does) and retry",
            )

    def _invoker(self, record: Record) -> None:
        ref = record.get("invoked_by")
        try:
            invoker = self.store.load(ref)
        except NotFound:
            raise ValidationError.single(
                "$.fields.invoked_by", f"no record {ref!r}: give the invoking incident's id"
            ) from None
        if invoker.process not in INVOKERS or (
            invoker.process == "incident" and invoker.get("major") is not True
        ):
            raise GuardFailed(
                "service_rules.invoked_by_major",
                f"{ref} is not a security incident or a major incident: only those invoke "
                "a continuity plan (mark the incident major first)",
            )


def install(engine: Engine) -> ServiceRules:
    """Register a :class:`ServiceRules` over ``engine.storage`` on ``engine`` (once: a
    second call returns the installed one) and return it."""
    installed = engine.plugins.manager.get_plugin(_PLUGIN_NAME)
    if isinstance(installed, ServiceRules):
        return installed
    rules = ServiceRules(engine.storage)
    engine.plugins.register(rules, name=_PLUGIN_NAME)
    return rules


def allocate(
    engine: Engine,
    allocation_id: str,
    *,
    at: datetime,
    actor: Actor,
    fields: Mapping[str, Any] | None = None,
    event: str = "allocate",
) -> Record:
    """Measure the pool and fire ``allocate`` (or ``adjust``) with ``pool_booked``.

    ``fields`` may change the quantity or set ``overbook``. The fire is based on the
    version read here (``ConcurrencyError`` if the record moved meanwhile). Raises what
    ``Engine.fire`` raises; ``GuardFailed`` when the pool has no room.

    Race-free on a store with the ``claims_in_append`` capability (the shipped
    adapters): the save also claims the pool's next booking number
    (:func:`booking_key`), read before the pool was measured, so of two allocations
    measured against the same bookings only one is saved; the other measures again
    (and fits, or fails with ``GuardFailed``). Allocations made with
    ``Engine.fire`` directly take no booking number and keep the race.
    """
    booking_numbers = appends_claims(engine.storage)
    for _attempt in range(_MAX_BOOKING_ATTEMPTS):
        record = engine.get(allocation_id)
        given = dict(fields or {})
        pool = given.get("pool", record.get("pool"))
        if not booking_numbers:
            given["pool_booked"] = pool_booked(engine.storage, pool, exclude=record.id)
            return engine.fire(
                allocation_id, event, at=at, actor=actor, fields=given,
                expected_version=record.version,
            )  # fmt: skip
        last = last_booking(engine.storage, pool)  # before measuring: see the docstring
        given["pool_booked"] = pool_booked(engine.storage, pool, exclude=record.id)
        step = engine.spec_of(record).fire(record, event, at=at, actor=actor, fields=given)
        booking = Claim(key=booking_key(pool, last + 1), record_id=record.id, at=step.event.at)
        try:
            commit(engine, [step], claims=[booking])
        except ClaimTaken:
            continue  # another allocation of the pool was saved meanwhile: measure again
        return step.record
    raise ConcurrencyError(0, 0, f"pool {pool!r} kept changing; allocate again")


def booking_key(pool: str, number: int) -> str:
    """The claim key of booking ``number`` (1, 2, ...) of ``pool``."""
    return f"pool:{pool}:booking:{number}"


def last_booking(store: Storage, pool: str) -> int:
    """The highest booking number of ``pool`` claimed so far (0 for none).

    Booking numbers are dense (an allocation claims the next one in the save that
    allocates, or nothing is saved), so a few ``claimed`` reads find the last one:
    powers of two for a bound, then up to 64 points per read inside it."""
    reader: Any = store
    powers = [1 << i for i in range(48)]
    taken = set(reader.claimed([booking_key(pool, n) for n in powers]))
    present = [n for n in powers if booking_key(pool, n) in taken]
    if not present:
        return 0
    low, high = present[-1], present[-1] * 2  # low is taken, high is not
    while high - low > 1:
        stride = max(1, (high - low) // 64)
        points = list(range(low + stride, high, stride))
        taken = set(reader.claimed([booking_key(pool, n) for n in points]))
        low = max([low, *(n for n in points if booking_key(pool, n) in taken)])
        high = min([high, *(n for n in points if n > low and booking_key(pool, n) not in taken)])
    return low


def pool_utilisation(engine: Engine, pool: str, start: datetime, end: datetime) -> PoolUtilisation:
    """The time-weighted utilisation and idle rate of ``pool`` over ``[start, end)``,
    from the histories of every stored allocation that ever held that pool (see
    :func:`itsmcore.capacity.utilisation`). Raises ``ValidationError`` for an unknown
    pool, a naive bound or an empty period."""
    spec = engine.catalog.get(ALLOCATION_PROCESS)
    pools = pools_of(spec.options)
    if pool not in pools:
        raise ValidationError.single(
            "$.pool", f"unknown pool {pool!r}; known pools: {', '.join(sorted(pools))}"
        )
    # Every allocation that ever named the pool: one adjusted to another pool held this
    # one until it moved, so filtering on the current pool would lose that time.
    histories = [engine.history(r.id) for r in engine.storage.find(process=ALLOCATION_PROCESS)]
    held = [events for events in histories if any(e.changes.get("pool") == pool for e in events)]
    return utilisation(pools[pool], held, start, end)
