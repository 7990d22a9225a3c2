"""The unit of work: authorize, then save steps with their outbox, deadlines and
signatures in one atomic ``append``.

Every write of the engine ends here (:func:`commit`), so the order is the same for all
of them: each step is authorized first (any deny raises ``Forbidden`` before anything is
written); the outbox rows, the records' new SLA/timer deadlines and the signer's
signatures over the new heads are computed; one ``append`` saves it all, re-checking
the versions (``ConcurrencyError``: nothing written). Only after the commit are the
histories cached and, with ``auto_deliver``, the notifications delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from itsmcore._engine.outbox import deliver_after_commit
from itsmcore.ports.plugins import PluginHost
from itsmcore.ports.storage import Claim, Deadline, Notification, Storage
from itsmcore.records import Event, Record, Step
from itsmcore.spec import ProcessSpec

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = ["commit", "deadlines_for", "new_id", "signatures", "step_deadlines"]


def new_id(storage: Storage, spec: ProcessSpec) -> str:
    """The next free-looking id of ``spec`` (``INC-000001``); a host-chosen id may still
    hold it, which the save then reports as ``ConcurrencyError``."""
    prefix = spec.id_prefix or spec.name.upper()
    return f"{prefix}-{storage.next_number(prefix):06d}"


def deadlines_for(engine: Engine, record: Record, events: Sequence[Event] | None) -> list[Deadline]:
    """The deadlines of ``record`` (see :meth:`itsmcore.Engine.deadlines_for`)."""
    spec = engine.spec_of(record)
    if not engine.sla_rules.watches(spec):
        return []
    if events is None:
        events = engine.storage.history(record.id)[: record.version]
    return engine.sla_rules.deadlines(record.id, events, spec)


def step_deadlines(
    engine: Engine, steps: Sequence[Step]
) -> tuple[dict[str, list[Deadline]], dict[str, list[Event]]]:
    """The deadlines of each record ``steps`` write, from its history with them, and
    those histories (to cache once the save committed)."""
    histories: dict[str, list[Event]] = {}
    out: dict[str, list[Deadline]] = {}
    for step in steps:
        rid = step.record.id
        # A process no policy or timer watches never has deadlines: leave its
        # (empty) set alone instead of rewriting it on every save.
        if not engine.sla_rules.watches(engine.spec_of(step.record)):
            continue
        if rid not in histories:
            before = step.record.version - 1
            cached = engine._histories.before(step.event)
            if cached is not None:
                histories[rid] = list(cached)
            else:
                histories[rid] = engine.storage.history(rid)[:before] if before else []
        histories[rid].append(step.event)
        out[rid] = engine.deadlines_for(step.record, histories[rid])
    return out, histories


def signatures(plugins: PluginHost, steps: Sequence[Step]) -> dict[str, str] | None:
    """The signer's signature over each written record's new head (None: no signer)."""
    if not plugins.can_sign:
        return None
    heads = {step.record.id: step.event.hash for step in steps}
    out: dict[str, str] = {}
    for rid, head in heads.items():
        signature = plugins.sign(head)
        if signature is not None:
            out[rid] = signature
    return out


def commit(
    engine: Engine,
    steps: Sequence[Step],
    *,
    claims: Sequence[Claim] = (),
    outbox: Sequence[Notification] = (),
) -> None:
    """Authorize and save ``steps`` as one unit of work (see the module docstring), with
    ``outbox`` rows queued before the steps' own and, when given, ``claims`` inserted in
    the same transaction (the adapter must take ``claims=``: see
    :func:`~itsmcore.ports.storage.appends_claims`). Raises ``Forbidden``,
    ``ConcurrencyError``, ``ClaimTaken`` and the adapter's ``StorageError``."""
    for step in steps:  # any deny raises Forbidden before anything is written
        engine.plugins.authorize(step.event.actor, step.record, step.event)
    notes = [*outbox, *(n for step in steps for n in engine.notifications_for(step))]
    deadlines, histories = step_deadlines(engine, steps)
    signed = signatures(engine.plugins, steps)
    if claims:
        append: Any = engine.storage.append  # the optional claims_in_append capability
        append(steps, outbox=notes, deadlines=deadlines, signatures=signed, claims=claims)
    else:
        engine.storage.append(steps, outbox=notes, deadlines=deadlines, signatures=signed)
    for step in steps:
        engine._records.put(step.record)
    for rid, events in histories.items():
        engine._histories.put(rid, tuple(events))
    if engine.auto_deliver:
        deliver_after_commit(engine.deliver)
