"""The capacity allocation process and the capacity helpers, rule by rule: pools, the
capacity check, overbooking, utilisation and idle rate, and the Engine-level rule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.capacity import (
    DEFAULT_POOLS,
    ResourcePool,
    check,
    holdings,
    parse_pools,
    utilisation,
)
from itsmcore.processes.capacity_allocation import with_pools
from itsmcore.service_rules import (
    allocate,
    booking_key,
    install,
    last_booking,
    pool_booked,
    pool_utilisation,
)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEAD = ic.Actor("lee", roles=frozenset({"resource_manager"}))
CAPACITY_MANAGER = ic.Actor("cam", roles=frozenset({"capacity_manager"}))
POOLS = {"build_vcpu": {"capacity": 10, "unit": "vCPU", "resource_type": "technical"}}
SPEC = with_pools(POOLS)
OPEN = {"title": "CI runners for DLV-1", "pool": "build_vcpu", "quantity": 4.0}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="CAP-1", at=T0, actor=LEAD, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = LEAD, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


# -- the process (pure) -----------------------------------------------------------------------


def test_allocation_walks_requested_allocated_released() -> None:
    rec = _fire(_open(), "allocate", pool_booked=2.0)
    assert rec.state == "allocated"
    assert rec.get("utilisation_after") == pytest.approx(0.6)
    assert rec.get("overbooked") is False
    assert rec.get("allocated_by") == "lee"
    rec = _fire(rec, "release", release_reason="delivery accepted")
    assert rec.state == "released"
    assert rec.get("released_at") == rec.updated_at


def test_opening_copies_the_pools_unit_and_type() -> None:
    rec = _open()
    assert (rec.get("unit"), rec.get("resource_type")) == ("vCPU", "technical")


def test_an_unknown_pool_is_bad_input_naming_the_known_pools() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(pool="build_cpu")
    path, message = err.value.errors[0]
    assert path == "$.fields.pool"
    assert "build_vcpu" in message


def test_quantity_must_be_positive() -> None:
    with pytest.raises(ic.GuardFailed):
        _open(quantity=0.0)
    with pytest.raises(ic.ValidationError):
        _open(quantity=-1.0)


def test_allocate_states_the_pools_booked_quantity_measured_now() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "allocate")
    assert err.value.errors[0][0] == "$.fields.pool_booked"
    rec = _fire(_open(), "update", pool_booked=0.0)
    with pytest.raises(ic.GuardFailed) as gf:
        _fire(rec, "allocate")  # a stale statement from an earlier event
    assert "measured now" in gf.value.reason


def test_an_allocation_beyond_capacity_is_refused_saying_how_much_is_free() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "allocate", pool_booked=8.0)
    assert err.value.guard == "capacity_allocation.within_capacity"
    assert "2 vCPU of 10 vCPU free" in err.value.reason
    assert "overbook=true" in err.value.reason


def test_an_allocation_that_exactly_fills_the_pool_fits() -> None:
    assert _fire(_open(), "allocate", pool_booked=6.0).get("utilisation_after") == 1.0


def test_overbooking_is_explicit_and_needs_the_capacity_manager() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_open(), "allocate", pool_booked=8.0, overbook=True)
    rec = _fire(_open(), "allocate", actor=CAPACITY_MANAGER, pool_booked=8.0, overbook=True)
    assert rec.get("overbooked") is True
    assert rec.get("utilisation_after") == pytest.approx(1.2)


def test_a_capacity_manager_must_still_say_overbook() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "allocate", actor=CAPACITY_MANAGER, pool_booked=8.0)


def test_only_a_capacity_manager_sets_the_overbook_flag() -> None:
    with pytest.raises(ic.Forbidden):
        _fire(_open(), "update", overbook=True)
    rec = _fire(_open(), "update", actor=CAPACITY_MANAGER, overbook=True)
    with pytest.raises(ic.Forbidden):
        _fire(rec, "allocate", pool_booked=8.0)  # the flag does not lend the role


def test_growing_an_allocation_is_measured_again() -> None:
    rec = _fire(_open(), "allocate", pool_booked=2.0)
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "adjust", quantity=6.0)
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "adjust", quantity=9.0, pool_booked=2.0)
    assert _fire(rec, "adjust", quantity=8.0, pool_booked=2.0).get("quantity") == 8.0
    assert _fire(rec, "adjust", quantity=1.0).get("quantity") == 1.0  # shrinking is free


def test_an_allocation_is_reassigned_between_deliveries() -> None:
    rec = _fire(_open(requested_for="DLV-000001"), "allocate", pool_booked=0.0)
    rec = _fire(rec, "reassign", requested_for="DLV-000002")
    assert (rec.state, rec.get("requested_for")) == ("allocated", "DLV-000002")


def test_update_does_not_move_an_allocations_pool_or_quantity() -> None:
    rec = _fire(_open(), "allocate", pool_booked=0.0)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", quantity=5.0)
    assert "adjust" in err.value.reason


@pytest.mark.parametrize("event", ["reassign", "release"])
def test_only_adjust_moves_an_allocations_pool_or_quantity(event: str) -> None:
    rec = _fire(_open(), "allocate", pool_booked=2.0)
    for change in ({"quantity": 500.0}, {"pool": "other"}):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, event, requested_for="DLV-000002", **change)
        assert "adjust" in err.value.reason


def test_withdraw_needs_a_reason() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "withdraw")
    assert _fire(_open(), "withdraw", reason="not needed").state == "withdrawn"


def test_default_pools_cover_the_three_resource_types() -> None:
    pools = parse_pools(DEFAULT_POOLS)
    assert {p.resource_type for p in pools.values()} == {"human", "technical", "infrastructure"}
    spec = ic.catalog.get("capacity_allocation")
    rec = spec.open(
        record_id="CAP-1",
        at=T0,
        actor=LEAD,
        fields={"title": "desk", "pool": "service_desk_hours", "quantity": 40.0},
    ).record
    assert rec.get("unit") == "h/week"


def test_malformed_pools_are_a_spec_error_listing_every_problem() -> None:
    with pytest.raises(ic.SpecError) as err:
        with_pools(
            {
                "a": {"capacity": 0, "unit": "h"},
                "b": {"capacity": 5, "unit": " ", "low": 0.9, "high": 0.5},
                "c": {"capacity": 5, "unit": "h", "resource_type": "money", "size": 3},
            }
        )
    text = " ".join(err.value.problems)
    for fragment in ("a.capacity", "b.unit", "low (0.9)", "c.resource_type", "unknown keys size"):
        assert fragment in text


# -- the pure capacity helpers ----------------------------------------------------------------

POOL = ResourcePool("build_vcpu", capacity=10.0, unit="vCPU", low=0.3, high=0.9)


def _allocated(record_id: str, quantity: float, at: datetime = T0) -> list[ic.Event]:
    step1 = SPEC.open(record_id=record_id, at=at, actor=LEAD, fields={**OPEN, "quantity": quantity})
    step2 = SPEC.fire(
        step1.record,
        "allocate",
        at=at,
        actor=CAPACITY_MANAGER,
        fields={"pool_booked": 0.0, "overbook": True},
    )
    return [step1.event, step2.event]


def _record(events: list[ic.Event]) -> ic.Record:
    return ic.replay(SPEC, events)


def test_check_counts_only_allocated_records_of_the_pool() -> None:
    held = _record(_allocated("CAP-1", 4.0))
    requested = SPEC.open(record_id="CAP-2", at=T0, actor=LEAD, fields=OPEN).record
    other_pool = _record(_allocated("CAP-3", 3.0))
    other_pool = attrs.evolve(other_pool, fields=other_pool.fields.updated({"pool": "elsewhere"}))
    result = check(POOL, [held, requested, other_pool], 7.0)
    assert (result.booked, result.requested, result.fits) == (4.0, 7.0, False)
    assert result.shortfall == pytest.approx(1.0)
    assert holdings([held, requested, other_pool], "build_vcpu") == [held]


def test_check_does_not_count_the_request_twice() -> None:
    held = _record(_allocated("CAP-1", 4.0))
    assert check(POOL, [held], held).booked == 0.0


def test_utilisation_is_time_weighted_and_idle_rate_is_its_complement() -> None:
    day = timedelta(days=1)
    first = _allocated("CAP-1", 5.0, T0)
    second = _allocated("CAP-2", 10.0, T0 + day)
    released = SPEC.fire(_record(second), "release", at=T0 + 2 * day, actor=LEAD).event
    result = utilisation(POOL, [first, [*second, released]], T0, T0 + 4 * day)
    # 5 for 4 days + 10 for 1 day = 30 unit-days of 40 available
    assert result.utilisation == pytest.approx(0.75)
    assert result.idle_rate == pytest.approx(0.25)
    assert result.peak == 15.0
    assert result.flag is None


def test_utilisation_flags_waste_below_low_and_shortage_above_high() -> None:
    day = timedelta(days=1)
    low = utilisation(POOL, [_allocated("CAP-1", 1.0)], T0, T0 + day)
    assert (low.utilisation, low.flag) == (pytest.approx(0.1), "waste")
    high = utilisation(POOL, [_allocated("CAP-1", 9.5)], T0, T0 + day)
    assert high.flag == "shortage"


def test_utilisation_refuses_naive_or_empty_periods() -> None:
    with pytest.raises(ic.ValidationError):
        utilisation(POOL, [], T0, T0)
    with pytest.raises(ic.ValidationError):
        utilisation(POOL, [], T0.replace(tzinfo=None), T0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 96), st.integers(1, 96), st.integers(1, 5)),
        min_size=0,
        max_size=5,
    )
)
def test_utilisation_equals_the_sum_of_held_unit_hours(
    spans: list[tuple[int, int, int]],
) -> None:
    histories: list[list[ic.Event]] = []
    expected = 0.0
    hour = timedelta(hours=1)
    for i, (start, length, quantity) in enumerate(spans):
        events = _allocated(f"CAP-{i}", float(quantity), T0 + start * hour)
        end = T0 + (start + length) * hour
        events.append(SPEC.fire(_record(events), "release", at=end, actor=LEAD).event)
        histories.append(events)
        inside = max(0, min(start + length, 48) - min(start, 48))
        expected += quantity * inside
    result = utilisation(POOL, histories, T0, T0 + 48 * hour)
    assert result.utilisation == pytest.approx(expected / (10.0 * 48))
    assert 0.0 <= result.idle_rate <= 1.0


# -- through the engine -----------------------------------------------------------------------


def _engine() -> ic.Engine:
    engine = ic.Engine.in_memory(processes=[SPEC])
    install(engine)
    return engine


def _request(engine: ic.Engine, quantity: float) -> str:
    return engine.open(
        "capacity_allocation", at=T0, actor=LEAD, fields={**OPEN, "quantity": quantity}
    ).id


def test_engine_allocate_measures_the_pool_and_refuses_beyond_capacity() -> None:
    engine = _engine()
    first, second = _request(engine, 6.0), _request(engine, 5.0)
    assert allocate(engine, first, at=T0, actor=LEAD).get("pool_booked") == 0.0
    assert pool_booked(engine.storage, "build_vcpu") == 6.0
    with pytest.raises(ic.GuardFailed) as err:
        allocate(engine, second, at=T0, actor=LEAD)
    assert "4 vCPU of 10 vCPU free" in err.value.reason
    assert engine.get(second).state == "requested"
    done = allocate(engine, second, at=T0, actor=CAPACITY_MANAGER, fields={"overbook": True})
    assert done.get("overbooked") is True


def test_engine_refuses_an_understated_pool_measurement() -> None:
    engine = _engine()
    first, second = _request(engine, 6.0), _request(engine, 5.0)
    allocate(engine, first, at=T0, actor=LEAD)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(second, "allocate", at=T0, actor=LEAD, fields={"pool_booked": 0.0})
    assert err.value.guard == "service_rules.pool_measured"
    assert "hold 6" in err.value.reason
    assert engine.get(second).version == 1


def test_engine_releasing_frees_capacity() -> None:
    engine = _engine()
    first, second = _request(engine, 6.0), _request(engine, 5.0)
    allocate(engine, first, at=T0, actor=LEAD)
    engine.fire(first, "release", at=T0, actor=LEAD)
    assert allocate(engine, second, at=T0, actor=LEAD).state == "allocated"


def test_engine_growing_an_allocation_is_measured_against_the_others() -> None:
    engine = _engine()
    first, second = _request(engine, 6.0), _request(engine, 3.0)
    allocate(engine, first, at=T0, actor=LEAD)
    allocate(engine, second, at=T0, actor=LEAD)
    with pytest.raises(ic.GuardFailed):
        allocate(engine, second, at=T0, actor=LEAD, fields={"quantity": 5.0}, event="adjust")
    grown = allocate(engine, second, at=T0, actor=LEAD, fields={"quantity": 4.0}, event="adjust")
    assert grown.get("utilisation_after") == 1.0


class _RacingStore(MemoryStorage):
    """Runs ``race`` once, just before the next save that claims (between the engine's
    checks and its save: the window two workers race in)."""

    race: Any = None

    def append(self, steps: Any, *, claims: Any = (), **kwargs: Any) -> None:
        race, self.race = self.race, None
        if race is not None and claims:
            race()
        super().append(steps, claims=claims, **kwargs)


def test_two_allocations_measured_against_the_same_bookings_are_not_both_saved() -> None:
    store = _RacingStore()
    worker_a = ic.Engine(store, processes=[SPEC])
    worker_b = ic.Engine(store, processes=[SPEC])
    install(worker_a)
    install(worker_b)
    first, second = _request(worker_a, 6.0), _request(worker_a, 5.0)  # 11 > 10 vCPU
    store.race = lambda: allocate(worker_b, second, at=T0, actor=LEAD)
    with pytest.raises(ic.GuardFailed) as err:
        allocate(worker_a, first, at=T0, actor=LEAD)  # measured 0, then lost booking 1
    assert "5 vCPU of 10 vCPU free" in err.value.reason  # measured again, and refused
    assert worker_a.get(first).state == "requested"
    assert worker_a.get(second).state == "allocated"
    assert pool_booked(store, "build_vcpu") == 5.0
    assert last_booking(store, "build_vcpu") == 1


@pytest.mark.parametrize("count", [0, 1, 2, 3, 63, 64, 65, 300, 1000])
def test_last_booking_finds_the_highest_of_dense_booking_numbers(count: int) -> None:
    store = MemoryStorage()
    keys = [ic.Claim(booking_key("p", n), "CAP-1", T0) for n in range(1, count + 1)]
    store.claim(keys)
    assert last_booking(store, "p") == count
    assert last_booking(store, "other") == 0


def test_each_allocation_through_the_helper_takes_the_next_booking_number() -> None:
    engine = _engine()
    ids = [_request(engine, 1.0) for _ in range(3)]
    for rid in ids:
        allocate(engine, rid, at=T0, actor=LEAD)
    assert last_booking(engine.storage, "build_vcpu") == 3


def test_engine_pool_utilisation_reads_the_stored_histories() -> None:
    engine = _engine()
    first = _request(engine, 5.0)
    allocate(engine, first, at=T0, actor=LEAD)
    engine.fire(first, "release", at=T0 + timedelta(hours=12), actor=LEAD)
    result = pool_utilisation(engine, "build_vcpu", T0, T0 + timedelta(days=1))
    assert result.utilisation == pytest.approx(0.25)
    with pytest.raises(ic.ValidationError):
        pool_utilisation(engine, "nope", T0, T0 + timedelta(days=1))


def test_engine_pool_utilisation_counts_an_allocation_that_moved_to_another_pool() -> None:
    pools = {**POOLS, "gpu": {"capacity": 4, "unit": "GPU", "resource_type": "technical"}}
    engine = ic.Engine.in_memory(processes=[with_pools(pools)])
    install(engine)
    first = _request(engine, 5.0)
    allocate(engine, first, at=T0, actor=LEAD)
    moved = {"pool": "gpu", "quantity": 2.0}
    allocate(engine, first, at=T0 + timedelta(hours=12), actor=LEAD, fields=moved, event="adjust")
    day = (T0, T0 + timedelta(days=1))
    assert pool_utilisation(engine, "build_vcpu", *day).utilisation == pytest.approx(0.25)
    assert pool_utilisation(engine, "gpu", *day).utilisation == pytest.approx(0.25)


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "capacity_allocation.md"
    assert ic.catalog.get("capacity_allocation").to_mermaid() in page.read_text(encoding="utf-8")


def test_installing_the_service_rules_twice_keeps_one_plugin() -> None:
    engine = ic.Engine.in_memory()
    first = install(engine)
    assert install(engine) is first
    assert [n for n in engine.plugins.names() if n.startswith("service_rules")] == ["service_rules"]
