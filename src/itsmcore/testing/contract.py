"""The storage contract suite, shipped: run it on your adapter in a few lines.

Subclass :class:`StorageContract` in a test module (name the subclass ``Test...``),
provide the ``make_storage`` fixture (each call returns a new, empty store) and the two
back-door readers, which must read your store *without* its adapter methods so the
adapter is checked against an independent path::

    class TestMyStorage(StorageContract):
        capabilities = frozenset({"reopen", "threads"})

        @pytest.fixture
        def make_storage(self, tmp_path): ...
        def reopen(self, storage): ...
        def backdoor_event_versions(self, storage, record_id): ...
        def backdoor_outbox_ids(self, storage): ...

Every test checks one rule of :mod:`itsmcore.ports.storage` and is named after it.
Optional capabilities (:data:`CAPABILITIES`) are declared in ``capabilities``; the tests
of undeclared ones skip with a reason. A subclass cannot override a ``test_*`` method
(it raises ``TypeError`` at class creation): a rule your adapter does not keep fails,
it is never quietly turned into a pass. ``test_agrees_with_the_reference_adapter``
drives your adapter beside the in-memory reference with random operations
(:mod:`itsmcore.testing.stateful_storage`).

Needs pytest (and hypothesis for the differential test).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta, timezone
from typing import Any, ClassVar, Final

import pytest

from itsmcore.errors import ClaimTaken, ConcurrencyError, NotFound, ValidationError, did_you_mean
from itsmcore.ports.storage import Notification, Storage, appends_claims
from itsmcore.testing._storage_data import (
    T0,
    claim,
    deadline,
    every_type_fields,
    note_for,
    opened,
    updated,
)

__all__ = ["CAPABILITIES", "StorageContract"]

#: Optional capabilities an adapter may declare, and what each promises.
CAPABILITIES: Final[dict[str, str]] = {
    "claims_in_append": (
        "append(claims=...) inserts the claims in the same transaction as the steps (a "
        "taken key refuses the whole append with ClaimTaken), and claimed(keys) reads "
        "which keys are taken"
    ),
    "reopen": "data survives close(); reopen(storage) opens the same store again",
    "shared": "several handles to one store may be open at once and see each other",
    "threads": "one adapter may be used from several threads at once",
}


class StorageContract:
    """The rules every storage adapter keeps; subclass it to test yours (module docs)."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.itsmcore_contract]

    #: The optional capabilities this adapter has (keys of :data:`CAPABILITIES`).
    capabilities: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Resolve each contract test through the MRO, so a mixin listed before
        # StorageContract cannot replace one either.
        overridden = sorted(
            name
            for name in vars(StorageContract)
            if name.startswith("test_")
            and next(k for k in cls.__mro__ if name in vars(k)) is not StorageContract
        )
        if overridden:
            raise TypeError(
                f"{cls.__name__} overrides contract test(s) {', '.join(overridden)}; a "
                "contract test cannot be replaced. If your adapter lacks an optional "
                "feature, leave it out of `capabilities` and the test skips with a reason"
            )
        for cap in cls.capabilities:
            if cap not in CAPABILITIES:
                raise TypeError(
                    f"{cls.__name__}: unknown capability {cap!r}"
                    f"{did_you_mean(cap, CAPABILITIES)}; known: {', '.join(CAPABILITIES)}"
                )

    # -- what the adapter's test class provides -------------------------------------------

    @pytest.fixture
    def make_storage(self) -> Callable[[], Storage]:
        """Override: a callable returning a new, empty store on each call."""
        pytest.fail(f"{type(self).__name__} must define the make_storage fixture")

    def reopen(self, storage: Storage) -> Storage:
        """Override for ``reopen``/``shared``: a new handle to the store ``storage`` is on."""
        raise NotImplementedError(f"{type(self).__name__} must implement reopen()")

    def backdoor_event_versions(self, storage: Storage, record_id: str) -> list[int]:
        """Override: the versions of the stored events of ``record_id``, read without the
        adapter's methods (raw SQL, the adapter's private dict...)."""
        raise NotImplementedError(f"{type(self).__name__} must implement backdoor_event_versions")

    def backdoor_outbox_ids(self, storage: Storage) -> list[str]:
        """Override: the ids of every stored outbox row, delivered or not, read without the
        adapter's methods."""
        raise NotImplementedError(f"{type(self).__name__} must implement backdoor_outbox_ids")

    # -- fixtures -----------------------------------------------------------------------------

    @pytest.fixture
    def storage(self, make_storage: Callable[[], Storage]) -> Iterator[Storage]:
        """A new, empty store, closed after the test."""
        store = make_storage()
        try:
            yield store
        finally:
            store.close()

    def require(self, capability: str) -> None:
        """Skip the calling test unless the adapter declared ``capability``."""
        if capability not in self.capabilities:
            pytest.skip(f"adapter does not declare {capability!r}: {CAPABILITIES[capability]}")

    # -- append, load, history ----------------------------------------------------------------

    def test_load_returns_what_was_appended(self, storage: Storage) -> None:
        step = opened("CT-1", **every_type_fields())
        storage.append([step])
        assert storage.load("CT-1") == step.record

    def test_field_values_of_every_type_round_trip_exactly(self, storage: Storage) -> None:
        fields = every_type_fields()
        storage.append([opened("CT-1", **fields)])
        stored = storage.load("CT-1").fields
        assert {k: (type(stored[k]), stored[k]) for k in fields} == {
            k: (type(v), v) for k, v in opened("CT-1", **fields).record.fields.items()
        }

    def test_datetimes_come_back_aware_at_the_same_instant(self, storage: Storage) -> None:
        at = T0.astimezone(timezone(timedelta(hours=-7)))
        storage.append([opened("CT-1", at=at)])
        record = storage.load("CT-1")
        assert record.opened_at.tzinfo is not None
        assert record.opened_at == at

    def test_history_returns_the_events_in_version_order(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record, count=1)
        third = updated(second.record, count=2)
        storage.append([first])
        storage.append([second])
        storage.append([third])
        assert storage.history("CT-1") == [first.event, second.event, third.event]

    def test_appended_events_are_in_the_store(self, storage: Storage) -> None:
        first = opened("CT-1")
        storage.append([first, updated(first.record, count=1)])
        assert self.backdoor_event_versions(storage, "CT-1") == [1, 2]

    def test_several_steps_of_one_record_append_in_one_call(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record, count=1)
        storage.append([first, second])
        assert storage.load("CT-1") == second.record

    def test_a_record_opened_with_several_steps_takes_the_next_one(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record, count=1)
        third = updated(second.record, count=2)
        storage.append([first, second])
        storage.append([third])
        assert storage.load("CT-1") == third.record

    def test_loading_an_unknown_record_raises_not_found(self, storage: Storage) -> None:
        with pytest.raises(NotFound):
            storage.load("CT-404")

    def test_history_of_an_unknown_record_raises_not_found(self, storage: Storage) -> None:
        with pytest.raises(NotFound):
            storage.history("CT-404")

    # -- optimistic concurrency and atomicity -------------------------------------------------

    def test_a_stale_step_raises_concurrency_error(self, storage: Storage) -> None:
        first = opened("CT-1")
        storage.append([first])
        storage.append([updated(first.record, count=1)])
        with pytest.raises(ConcurrencyError) as err:
            storage.append([updated(first.record, count=2)])
        assert (err.value.expected, err.value.actual) == (1, 2)

    def test_a_stale_step_overwrites_nothing(self, storage: Storage) -> None:
        first = opened("CT-1")
        winner = updated(first.record, count=1)
        storage.append([first])
        storage.append([winner])
        with pytest.raises(ConcurrencyError):
            storage.append([updated(first.record, count=2)])
        assert storage.load("CT-1") == winner.record
        assert self.backdoor_event_versions(storage, "CT-1") == [1, 2]

    def test_a_step_must_extend_the_stored_head(self, storage: Storage) -> None:
        # Same id and version, another history: a save computed from a snapshot the
        # store never held (a cache, a restored backup) must not fork the hash chain.
        first, other = opened("CT-1", team="a"), opened("CT-1", team="b")
        storage.append([first])
        with pytest.raises(ConcurrencyError) as err:
            storage.append([updated(other.record, count=1)])
        assert (err.value.expected, err.value.actual) == (1, 1)
        assert storage.load("CT-1") == first.record
        assert self.backdoor_event_versions(storage, "CT-1") == [1]

    def test_opening_an_existing_id_raises_concurrency_error(self, storage: Storage) -> None:
        storage.append([opened("CT-1", team="a")])
        with pytest.raises(ConcurrencyError) as err:
            storage.append([opened("CT-1", team="b")])
        assert (err.value.expected, err.value.actual) == (0, 1)
        assert storage.load("CT-1").fields["team"] == "a"

    def test_a_step_after_a_gap_raises_concurrency_error(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record)
        with pytest.raises(ConcurrencyError) as err:
            storage.append([updated(second.record)])
        assert (err.value.expected, err.value.actual) == (2, 0)

    def test_append_writes_all_steps_or_none(self, storage: Storage) -> None:
        existing = opened("CT-2")
        storage.append([existing])
        with pytest.raises(ConcurrencyError):
            storage.append([opened("CT-1"), opened("CT-2")])
        with pytest.raises(NotFound):
            storage.load("CT-1")
        assert self.backdoor_event_versions(storage, "CT-1") == []

    def test_a_failed_append_queues_no_notification(self, storage: Storage) -> None:
        storage.append([opened("CT-2")])
        fresh = opened("CT-1")
        with pytest.raises(ConcurrencyError):
            storage.append([fresh, opened("CT-2")], outbox=[note_for(fresh)])
        assert self.backdoor_outbox_ids(storage) == []

    def test_a_failed_append_keeps_the_old_deadlines(self, storage: Storage) -> None:
        first = opened("CT-1")
        storage.append([first], deadlines={"CT-1": [deadline("CT-1", "breach", 5)]})
        with pytest.raises(ConcurrencyError):
            storage.append([first], deadlines={"CT-1": []})
        assert storage.due(T0 + timedelta(minutes=5)) == [deadline("CT-1", "breach", 5)]

    def test_a_mismatched_step_is_a_validation_error(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record)
        from itsmcore.records import Step

        with pytest.raises(ValidationError):
            storage.append([Step(record=second.record, event=first.event)])
        assert self.backdoor_event_versions(storage, "CT-1") == []

    # -- queries ------------------------------------------------------------------------------

    def test_find_filters_by_process_and_state(self, storage: Storage) -> None:
        a = opened("CT-1")
        storage.append([a, updated(a.record)])
        b = opened("CT-2")
        from itsmcore.testing._storage_data import finish

        storage.append([b, finish(b.record)])
        assert [r.id for r in storage.find(process="contract_ticket", state="open")] == ["CT-1"]
        assert [r.id for r in storage.find(state=["open", "done"])] == ["CT-1", "CT-2"]
        assert storage.find(process="incident") == []

    def test_find_filters_by_exact_field_values(self, storage: Storage) -> None:
        storage.append([opened("CT-1", team="ops", count=1, urgent=True)])
        storage.append([opened("CT-2", team="ops", count=2)])
        storage.append([opened("CT-3", team="net", count=1)])
        assert [r.id for r in storage.find(fields={"team": "ops"})] == ["CT-1", "CT-2"]
        assert [r.id for r in storage.find(fields={"team": "ops", "count": 1})] == ["CT-1"]
        assert [r.id for r in storage.find(fields={"count": "1"})] == []
        assert [r.id for r in storage.find(fields={"urgent": True})] == ["CT-1"]

    def test_find_matches_structured_field_values(self, storage: Storage) -> None:
        fields = every_type_fields()
        storage.append([opened("CT-1", **fields), opened("CT-2")])
        for key in ("seen_at", "due_on", "effort", "tags"):
            assert [r.id for r in storage.find(fields={key: fields[key]})] == ["CT-1"], key

    def test_text_with_control_characters_round_trips_and_is_found(self, storage: Storage) -> None:
        odd = "a\x00b\x1f \u2028 \U0001f600 'q' \"dq\" \\"
        storage.append([opened("CT-1", title=odd, team="ops"), opened("CT-2", title="a\ufffdb")])
        assert storage.load("CT-1").fields["title"] == odd
        assert [r.id for r in storage.find(fields={"title": odd})] == ["CT-1"]
        assert [r.id for r in storage.find(fields={"team": "ops", "title": odd}, limit=1)] == [
            "CT-1"
        ]

    def test_find_compares_field_values_as_python_equality_does(self, storage: Storage) -> None:
        storage.append([opened("CT-1", count=1), opened("CT-2", urgent=True)])
        storage.append([opened("CT-3", count=2)])
        assert [r.id for r in storage.find(fields={"count": True})] == ["CT-1"]
        assert [r.id for r in storage.find(fields={"urgent": 1.0})] == ["CT-2"]
        assert [r.id for r in storage.find(fields={"count": 2.0})] == ["CT-3"]
        assert [r.id for r in storage.find(fields={"urgent": None})] == ["CT-1", "CT-3"]

    def test_find_orders_by_opening_time_then_id(self, storage: Storage) -> None:
        storage.append([opened("CT-2", at=T0)])
        storage.append([opened("CT-1", at=T0)])
        storage.append([opened("CT-0", at=T0 + timedelta(seconds=1))])
        storage.append([opened("CT-9", at=T0 - timedelta(microseconds=1))])
        assert [r.id for r in storage.find()] == ["CT-9", "CT-1", "CT-2", "CT-0"]

    def test_find_stops_at_the_limit(self, storage: Storage) -> None:
        for i in range(5):
            storage.append([opened(f"CT-{i}", at=T0 + timedelta(minutes=i), team="ops")])
        assert [r.id for r in storage.find(limit=2)] == ["CT-0", "CT-1"]
        assert [r.id for r in storage.find(fields={"team": "ops"}, limit=3)] == [
            "CT-0",
            "CT-1",
            "CT-2",
        ]

    def test_record_ids_are_sorted(self, storage: Storage) -> None:
        for rid in ("CT-b", "CT-a", "CT-c"):
            storage.append([opened(rid)])
        assert storage.record_ids() == ["CT-a", "CT-b", "CT-c"]

    # -- sequences and claims -----------------------------------------------------------------

    def test_next_number_counts_from_one_per_prefix(self, storage: Storage) -> None:
        assert [storage.next_number("INC") for _ in range(3)] == [1, 2, 3]
        assert storage.next_number("CHG") == 1

    def test_claim_returns_only_the_keys_it_inserted(self, storage: Storage) -> None:
        assert storage.claim([claim("k1"), claim("k2")]) == [claim("k1"), claim("k2")]
        assert storage.claim([claim("k2"), claim("k3"), claim("k3")]) == [claim("k3")]

    def test_claim_queues_notifications_only_for_won_keys(self, storage: Storage) -> None:
        storage.claim([claim("sla:CT-1:breach")])
        lost = note_for(opened("CT-1"), kind="x")
        lost = type(lost)("sla:CT-1:breach", "sla", "CT-1", T0)
        won = type(lost)("sla:CT-2:breach", "sla", "CT-2", T0)
        free = type(lost)("audit:1", "audit", "CT-2", T0)
        storage.claim(
            [claim("sla:CT-1:breach"), claim("sla:CT-2:breach")], outbox=[lost, won, free]
        )
        assert self.backdoor_outbox_ids(storage) == ["sla:CT-2:breach", "audit:1"]

    def test_an_append_taking_claims_declares_the_capability(self, storage: Storage) -> None:
        # The engine relies on append(claims=...) and claimed() whenever they exist.
        if appends_claims(storage):
            assert "claims_in_append" in self.capabilities, (
                "append takes claims= and claimed() exists: declare 'claims_in_append' "
                "so the suite checks them"
            )

    def test_claims_in_an_append_are_written_with_its_steps(self, storage: Storage) -> None:
        self.require("claims_in_append")
        step = opened("CT-1")
        note = Notification("cadence:c:1", "cadence", "cadence:c", T0)
        append: Any = storage.append
        append([step], outbox=[note], claims=[claim("cadence:c:1")])
        assert storage.load("CT-1") == step.record
        assert self.backdoor_outbox_ids(storage) == ["cadence:c:1"]
        assert storage.claim([claim("cadence:c:1")]) == []

    def test_claimed_reads_which_keys_are_taken_in_the_order_given(self, storage: Storage) -> None:
        self.require("claims_in_append")
        storage.claim([claim("k1"), claim("k3")])
        reader: Any = storage
        assert reader.claimed(["k3", "k2", "k1", "k3"]) == ["k3", "k1"]
        assert reader.claimed([]) == []

    def test_an_append_whose_claim_is_taken_writes_nothing(self, storage: Storage) -> None:
        self.require("claims_in_append")
        storage.claim([claim("cadence:c:1")])
        step = opened("CT-1")
        note = note_for(step, kind="x")
        append: Any = storage.append
        with pytest.raises(ClaimTaken) as err:
            append(
                [step],
                outbox=[note],
                deadlines={"CT-1": [deadline("CT-1", "k", 0)]},
                claims=[claim("cadence:c:2"), claim("cadence:c:1")],
            )
        assert err.value.keys == ("cadence:c:1",)
        with pytest.raises(NotFound):
            storage.load("CT-1")
        assert self.backdoor_outbox_ids(storage) == []
        assert storage.due(T0) == []
        assert storage.claim([claim("cadence:c:2")]) == [claim("cadence:c:2")]  # not kept

    # -- deadlines ----------------------------------------------------------------------------

    def test_due_returns_deadlines_up_to_now_earliest_first(self, storage: Storage) -> None:
        storage.set_deadlines("CT-1", [deadline("CT-1", "b", 30), deadline("CT-1", "a", 10)])
        storage.set_deadlines("CT-2", [deadline("CT-2", "a", 20), deadline("CT-2", "z", 90)])
        assert storage.due(T0 + timedelta(minutes=30)) == [
            deadline("CT-1", "a", 10),
            deadline("CT-2", "a", 20),
            deadline("CT-1", "b", 30),
        ]

    def test_due_stops_at_the_limit(self, storage: Storage) -> None:
        storage.set_deadlines("CT-1", [deadline("CT-1", f"k{i}", i) for i in range(5)])
        assert len(storage.due(T0 + timedelta(hours=1), limit=2)) == 2

    def test_append_replaces_the_deadlines_of_the_records_it_writes(self, storage: Storage) -> None:
        first = opened("CT-1")
        storage.append([first], deadlines={"CT-1": [deadline("CT-1", "warn", 5)]})
        storage.append([updated(first.record)], deadlines={"CT-1": [deadline("CT-1", "breach", 9)]})
        assert storage.due(T0 + timedelta(hours=1)) == [deadline("CT-1", "breach", 9)]

    def test_set_deadlines_with_none_clears_them(self, storage: Storage) -> None:
        storage.set_deadlines("CT-1", [deadline("CT-1", "warn", 5)])
        storage.set_deadlines("CT-1", [])
        assert storage.due(T0 + timedelta(hours=1)) == []

    # -- outbox -------------------------------------------------------------------------------

    def test_pending_returns_notifications_oldest_first(self, storage: Storage) -> None:
        a, b = opened("CT-1"), opened("CT-2")
        storage.append([a], outbox=[note_for(a)])
        storage.append([b], outbox=[note_for(b)])
        assert storage.pending() == [note_for(a), note_for(b)]

    def test_delivered_notifications_are_no_longer_pending(self, storage: Storage) -> None:
        a, b = opened("CT-1"), opened("CT-2")
        storage.append([a, b], outbox=[note_for(a), note_for(b)])
        storage.mark_delivered([note_for(a).id, "unknown:id"])
        assert storage.pending() == [note_for(b)]

    def test_a_notification_id_is_stored_once(self, storage: Storage) -> None:
        a = opened("CT-1")
        storage.append([a], outbox=[note_for(a)])
        storage.claim([claim("k")], outbox=[note_for(a)])
        assert self.backdoor_outbox_ids(storage) == [note_for(a).id]

    def test_pending_stops_at_the_limit(self, storage: Storage) -> None:
        steps = [opened(f"CT-{i}") for i in range(4)]
        storage.append(steps, outbox=[note_for(s) for s in steps])
        assert storage.pending(limit=3) == [note_for(s) for s in steps[:3]]

    # -- signed heads -------------------------------------------------------------------------

    def test_a_signature_is_stored_with_the_head_it_signs(self, storage: Storage) -> None:
        first = opened("CT-1")
        second = updated(first.record)
        storage.append([first, second], signatures={"CT-1": "sig-2"})
        signed = storage.signed_head("CT-1")
        assert signed is not None
        assert (signed.version, signed.head, signed.signature) == (2, second.event.hash, "sig-2")

    def test_a_record_without_a_signature_has_no_signed_head(self, storage: Storage) -> None:
        storage.append([opened("CT-1")])
        assert storage.signed_head("CT-1") is None

    def test_a_signature_for_a_record_not_written_is_refused(self, storage: Storage) -> None:
        with pytest.raises(ValidationError):
            storage.append([opened("CT-1")], signatures={"CT-2": "sig"})
        assert self.backdoor_event_versions(storage, "CT-1") == []

    # -- lifecycle ----------------------------------------------------------------------------

    def test_close_is_idempotent(self, make_storage: Callable[[], Storage]) -> None:
        store = make_storage()
        store.close()
        store.close()

    def test_data_survives_close_and_reopen(self, storage: Storage) -> None:
        self.require("reopen")
        step = opened("CT-1", **every_type_fields())
        storage.append([step], outbox=[note_for(step)])
        storage.close()
        again = self.reopen(storage)
        try:
            assert again.load("CT-1") == step.record
            assert again.pending() == [note_for(step)]
        finally:
            again.close()

    def test_a_stale_handle_gets_concurrency_error(self, storage: Storage) -> None:
        self.require("shared")
        first = opened("CT-1")
        storage.append([first])
        other = self.reopen(storage)
        try:
            other.append([updated(first.record, count=1)])
            with pytest.raises(ConcurrencyError):
                storage.append([updated(first.record, count=2)])
            assert storage.load("CT-1").fields["count"] == 1
        finally:
            other.close()

    def test_threads_updating_one_record_lose_no_update(self, storage: Storage) -> None:
        self.require("threads")
        storage.append([opened("CT-1", count=0)])
        errors: list[BaseException] = []

        def work() -> None:
            try:
                for _ in range(25):
                    while True:
                        record = storage.load("CT-1")
                        try:
                            storage.append([updated(record, count=record.fields["count"] + 1)])
                            break
                        except ConcurrencyError:
                            continue
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert storage.load("CT-1").fields["count"] == 100
        assert self.backdoor_event_versions(storage, "CT-1") == list(range(1, 102))

    def test_threads_claiming_one_key_win_it_once(self, storage: Storage) -> None:
        self.require("threads")
        won: list[int] = []
        barrier = threading.Barrier(4)

        def work() -> None:
            barrier.wait()
            won.append(len(storage.claim([claim(f"k{i}") for i in range(50)])))

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(won) == 50

    # -- differential -------------------------------------------------------------------------

    def test_agrees_with_the_reference_adapter(self, make_storage: Callable[[], Storage]) -> None:
        from itsmcore.testing.stateful_storage import run_differential

        run_differential(make_storage, max_examples=15, steps=25)
