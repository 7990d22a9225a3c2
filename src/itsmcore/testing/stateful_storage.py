"""Differential testing of a storage adapter against the in-memory reference.

:class:`StorageDifferential` is a hypothesis rule-based state machine that applies every
operation to the adapter under test *and* to a fresh
:class:`~itsmcore.adapters.memory.MemoryStorage`, and asserts that both give the same
answer: the same records, events, ids, deadlines, claims and notifications, or the same
error (type, expected and actual version). Steps are built from the reference's state
with the contract suite's ``contract_ticket`` process, including stale steps that must
be refused by both.

Run it with :func:`run_differential` (``StorageContract`` does), or directly::

    run_state_machine_as_test(lambda: StorageDifferential(make_storage()))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, Final, TypeVar

from hypothesis import HealthCheck, note, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from itsmcore.adapters.memory import MemoryStorage
from itsmcore.errors import ConcurrencyError, ItsmError
from itsmcore.ports.storage import Notification, Storage, appends_claims
from itsmcore.records import Step
from itsmcore.testing._storage_data import (
    T0,
    TICKET,
    claim,
    deadline,
    finish,
    note_for,
    opened,
    updated,
)

__all__ = ["StorageDifferential", "run_differential"]

T = TypeVar("T")
_IDS: Final = ("CT-1", "CT-2", "CT-3", "CT-10")
_TEAMS: Final = ("ops", "net", "db")
_KEYS: Final = ("warn", "breach", "timer")
_CLAIMS: Final = tuple(f"sla:CT-{i}:{k}" for i in (1, 2) for k in ("warn", "breach"))


def _outcome(call: Callable[[Storage], T], storage: Storage) -> tuple[str, Any]:
    """What ``call`` returned, or the comparable parts of the error it raised."""
    try:
        return ("ok", call(storage))
    except ConcurrencyError as exc:
        return ("error", ("ConcurrencyError", exc.expected, exc.actual))
    except ItsmError as exc:
        return ("error", (type(exc).__name__,))


class StorageDifferential(RuleBasedStateMachine):
    """Drives ``subject`` beside the reference adapter and compares every answer."""

    def __init__(self, subject: Storage) -> None:
        super().__init__()
        self.subject = subject
        self.reference = MemoryStorage()
        self.accepted: list[Step] = []
        self.claims_in_append = appends_claims(subject)

    def same(self, label: str, call: Callable[[Storage], T]) -> tuple[str, Any]:
        """Run ``call`` on both adapters and assert the outcomes are equal."""
        expected = _outcome(call, self.reference)
        actual = _outcome(call, self.subject)
        note(f"{label}: reference {expected!r}")
        assert actual == expected, f"{label}: adapter gave {actual!r}, reference {expected!r}"
        return expected

    def teardown(self) -> None:
        self.subject.close()

    # -- writes -------------------------------------------------------------------------------

    def _append(self, label: str, steps: Sequence[Step], **kw: Any) -> None:
        outcome = self.same(label, lambda s: s.append(steps, **kw))
        if outcome[0] == "ok":
            self.accepted.extend(steps)

    @rule(
        rid=st.sampled_from(_IDS),
        minutes=st.integers(-600, 600),
        team=st.sampled_from(_TEAMS),
        count=st.integers(-3, 3),
        with_deadline=st.booleans(),
    )
    def open_record(
        self, rid: str, minutes: int, team: str, count: int, with_deadline: bool
    ) -> None:
        step = opened(rid, at=T0 + timedelta(minutes=minutes), team=team, count=count)
        dues = {rid: [deadline(rid, "breach", minutes + 60)]} if with_deadline else None
        self._append(f"open {rid}", [step], outbox=[note_for(step)], deadlines=dues)

    @rule(rid=st.sampled_from(_IDS), keys=st.lists(st.sampled_from(_CLAIMS), max_size=3))
    def open_record_claiming(self, rid: str, keys: list[str]) -> None:
        """An open that claims ``keys`` in the same append (only for an adapter with the
        ``claims_in_append`` capability): all written, or ``ClaimTaken`` and nothing."""
        if not self.claims_in_append:
            return
        step = opened(rid)
        claims = [claim(k, rid) for k in keys]
        self._append(f"open {rid} claiming {keys}", [step], outbox=[note_for(step)], claims=claims)

    @precondition(lambda self: bool(self.reference.record_ids()))
    @rule(
        data=st.data(),
        team=st.sampled_from((*_TEAMS, None)),
        count=st.integers(-3, 3),
        twice=st.booleans(),
        sign=st.booleans(),
    )
    def update_record(
        self, data: st.DataObject, team: str | None, count: int, twice: bool, sign: bool
    ) -> None:
        rid = data.draw(st.sampled_from(self.reference.record_ids()), label="record")
        record = self.reference.load(rid)
        if TICKET.is_terminal(record.state):
            return
        first = updated(record, team=team, count=count)
        steps = [first, updated(first.record, count=count + 1)] if twice else [first]
        signatures = {rid: f"sig-{steps[-1].event.version}"} if sign else None
        notes = [note_for(s) for s in steps]
        self._append(f"update {rid}", steps, outbox=notes, signatures=signatures)

    @precondition(lambda self: bool(self.reference.record_ids()))
    @rule(data=st.data())
    def finish_record(self, data: st.DataObject) -> None:
        rid = data.draw(st.sampled_from(self.reference.record_ids()), label="record")
        record = self.reference.load(rid)
        if not TICKET.is_terminal(record.state):
            self._append(f"finish {rid}", [finish(record)], deadlines={rid: []})

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def replay_an_accepted_step(self, data: st.DataObject) -> None:
        step = data.draw(st.sampled_from(self.accepted), label="stale step")
        self._append(f"stale {step.record.id} v{step.record.version}", [step])

    @rule(
        rid=st.sampled_from(_IDS),
        dues=st.lists(st.tuples(st.sampled_from(_KEYS), st.integers(-60, 600)), max_size=3),
    )
    def set_deadlines(self, rid: str, dues: list[tuple[str, int]]) -> None:
        items = [deadline(rid, key, minutes) for key, minutes in dues]
        self.same(f"set_deadlines {rid}", lambda s: s.set_deadlines(rid, items))

    @rule(keys=st.lists(st.sampled_from(_CLAIMS), max_size=4), noted=st.booleans())
    def claim_keys(self, keys: list[str], noted: bool) -> None:
        claims = [claim(k, k.split(":")[1]) for k in keys]
        outbox = [Notification(k, "sla", k.split(":")[1], T0) for k in keys] if noted else []
        self.same(f"claim {keys}", lambda s: s.claim(claims, outbox=outbox))
        if self.claims_in_append:
            asked = [*keys, *_CLAIMS[:2]]
            self.same(f"claimed {asked}", lambda s: s.claimed(asked))  # type: ignore[attr-defined]

    @rule(prefix=st.sampled_from(("INC", "CHG")))
    def next_number(self, prefix: str) -> None:
        self.same(f"next_number {prefix}", lambda s: s.next_number(prefix))

    @rule(data=st.data(), extra=st.booleans())
    def mark_delivered(self, data: st.DataObject, extra: bool) -> None:
        pending = [n.id for n in self.reference.pending(limit=1000)]
        ids = data.draw(st.lists(st.sampled_from(pending), max_size=3)) if pending else []
        if extra:
            ids.append("event:CT-404:1")
        self.same(f"mark_delivered {ids}", lambda s: s.mark_delivered(ids))

    # -- reads --------------------------------------------------------------------------------

    @rule(rid=st.sampled_from(_IDS))
    def load_and_history(self, rid: str) -> None:
        self.same(f"load {rid}", lambda s: s.load(rid))
        self.same(f"history {rid}", lambda s: s.history(rid))
        self.same(f"signed_head {rid}", lambda s: s.signed_head(rid))

    @rule(
        process=st.sampled_from((None, "contract_ticket", "incident")),
        state=st.sampled_from((None, "open", "done", ("open", "done"), ())),
        team=st.sampled_from((None, None, None, *_TEAMS)),
        count=st.sampled_from((None, None, None, 0, 1, "1", True)),
        limit=st.sampled_from((None, 0, 1, 3)),
    )
    def find(
        self,
        process: str | None,
        state: str | tuple[str, ...] | None,
        team: str | None,
        count: int | str | bool | None,
        limit: int | None,
    ) -> None:
        fields: dict[str, Any] = {}
        if team is not None:
            fields["team"] = team
        if count is not None:
            fields["count"] = count
        self.same(
            f"find {process} {state} {fields} {limit}",
            lambda s: s.find(process=process, state=state, fields=fields, limit=limit),
        )

    @rule(minutes=st.integers(-120, 800), limit=st.sampled_from((1, 2, 1000)))
    def due(self, minutes: int, limit: int) -> None:
        now = T0 + timedelta(minutes=minutes)
        self.same(f"due {minutes} {limit}", lambda s: s.due(now, limit=limit))

    @rule(limit=st.sampled_from((1, 3, 100)))
    def pending(self, limit: int) -> None:
        self.same(f"pending {limit}", lambda s: s.pending(limit=limit))

    @invariant()
    def the_same_records_are_stored(self) -> None:
        self.same("record_ids", lambda s: s.record_ids())
        self.same("find all", lambda s: s.find())


def run_differential(
    make_storage: Callable[[], Storage], *, max_examples: int = 25, steps: int = 30
) -> None:
    """Run :class:`StorageDifferential` on new stores from ``make_storage``.

    ``max_examples`` runs of up to ``steps`` operations each; no deadline (stores do I/O).
    Raises ``AssertionError`` with the failing sequence of operations.
    """

    class Bound(StorageDifferential):
        def __init__(self) -> None:
            super().__init__(make_storage())

    run_state_machine_as_test(
        Bound,
        settings=settings(
            max_examples=max_examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
