"""Closed loops: a record that follows up another, opened, linked and referenced from
its source in one atomic save (feedback, scheduled-activity findings, certificates).

The follow-up takes a fresh id per attempt: when a host-chosen id took the number the
save fails with ``ConcurrencyError`` and the next number is tried, unless the source
itself changed meanwhile (then the caller decides again).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from itsmcore._engine.commit import commit
from itsmcore.errors import ConcurrencyError, ValidationError
from itsmcore.processes.feedback import follow_up_fields as follow_up_fields_of
from itsmcore.processes.feedback import follow_up_steps
from itsmcore.records import Actor, Record, Step

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = ["follow_up", "open_follow_up", "respond_to_survey"]

# How many fresh ids one follow-up tries before giving up.
_ID_ATTEMPTS = 100


def open_follow_up(
    engine: Engine,
    source_id: str,
    process: str,
    *,
    at: datetime,
    actor: Actor,
    fields: Mapping[str, Any] | None,
    event: str,
    ref_field: str,
    kind: str,
    expected_version: int | None,
) -> Record:
    """See :meth:`itsmcore.Engine.open_follow_up`."""
    source = engine.storage.load(source_id)
    if expected_version is not None and source.version != expected_version:
        raise ConcurrencyError(expected_version, source.version, source_id)
    steps = follow_up(engine, source, [], process, at, actor, fields, event, ref_field, kind)
    return steps[1].record


def respond_to_survey(
    engine: Engine,
    feedback_id: str,
    *,
    at: datetime,
    actor: Actor,
    fields: Mapping[str, Any],
    follow_up_fields: Mapping[str, Any] | None,
    expected_version: int | None,
) -> tuple[Record, Record | None]:
    """See :meth:`itsmcore.Engine.respond_to_survey`."""
    record = engine.storage.load(feedback_id)
    if expected_version is not None and record.version != expected_version:
        raise ConcurrencyError(expected_version, record.version, feedback_id)
    spec = engine.spec_of(record)
    step = spec.fire(record, "respond", at=at, actor=actor, fields=fields)
    if not step.record.get("follow_up_required"):
        commit(engine, [step])
        return step.record, None
    process = str(spec.options.get("follow_up_process", "incident"))
    offered = follow_up_fields_of(step.record, engine.catalog.get(process))
    merged = {**offered, **(follow_up_fields or {})}
    steps = follow_up(
        engine, step.record, [step], process, at, actor, merged, "record_follow_up",
        "follow_up", "follow_up_of",
    )  # fmt: skip
    return steps[-1].record, steps[2].record


def follow_up(
    engine: Engine,
    source: Record,
    before: list[Step],
    process: str,
    at: datetime,
    actor: Actor,
    fields: Mapping[str, Any] | None,
    event: str,
    ref_field: str,
    kind: str,
) -> list[Step]:
    """Build and commit ``before`` + the follow-up steps (a fresh id per attempt)."""
    follow_spec = engine.catalog.get(process)
    source_spec = engine.spec_of(source)
    for _attempt in range(_ID_ATTEMPTS):
        fresh_id = engine._new_id(follow_spec)
        steps = [
            *before,
            *follow_up_steps(
                source=source, source_spec=source_spec, follow_spec=follow_spec,
                follow_up_id=fresh_id, at=at, actor=actor, fields=fields, event=event,
                ref_field=ref_field, link_kind=kind,
            ),
        ]  # fmt: skip
        placed = engine.link_rules.place(kind, steps[len(before)].record, source)
        if placed.kind.name != kind or placed.source.id != fresh_id:
            raise ValidationError.single(
                "$.kind", f"give the link kind read from the follow-up's side, not {kind!r}"
            )
        try:
            commit(engine, steps)
        except ConcurrencyError:
            if engine.storage.load(source.id).version != source.version - len(before):
                raise  # the source changed meanwhile: the caller decides again
            continue  # a host-chosen id took this number; take the next one
        return steps
    raise ConcurrencyError(0, 1, "could not find a free record id")  # pragma: no cover
