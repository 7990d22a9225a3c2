"""Links between records: adding and removing a relation, audited on both records.

Both ends of a link get an event (``link`` or ``unlink``) in one atomic save through the
unit of work (:mod:`.commit`), so a relation is never recorded on one side only. The
kinds, their inverse names and the process pairs they join are data
(:class:`~itsmcore.relations.LinkRules` of the engine).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from itsmcore._engine.commit import commit
from itsmcore._time import require_aware
from itsmcore.errors import ValidationError
from itsmcore.machine import apply_link, apply_unlink
from itsmcore.records import Actor, Link, Record

if TYPE_CHECKING:
    from itsmcore.engine import Engine

__all__ = ["link", "unlink"]

#: The longest link kind name accepted (checked before any lookup).
LINK_KIND_MAX: Final = 64


def link(
    engine: Engine, source_id: str, target_id: str, kind: str, *, at: datetime, actor: Actor
) -> Link:
    """Add a link (see :meth:`itsmcore.Engine.link`); the canonical link."""
    _check_kind(kind)
    at = require_aware(at, "$.at").astimezone(UTC)
    engine.link_rules.kind(kind)  # an unknown kind fails before any load
    placed = engine.link_rules.place(
        kind, engine.storage.load(source_id), engine.storage.load(target_id)
    )
    source, target = placed.source, placed.target
    new = Link(kind=placed.kind.name, source=source.id, target=target.id, at=at)
    commit(
        engine,
        [
            apply_link(source, engine.spec_of(source), new, actor=actor),
            apply_link(target, engine.spec_of(target), new, actor=actor),
        ],
    )
    return new


def unlink(
    engine: Engine, source_id: str, target_id: str, kind: str, *, at: datetime, actor: Actor
) -> Link:
    """Remove a link (see :meth:`itsmcore.Engine.unlink`); the link removed, as added."""
    _check_kind(kind)
    at = require_aware(at, "$.at").astimezone(UTC)
    found, inverted = engine.link_rules.kind(kind)  # an unknown kind fails before any load
    source, target = engine.storage.load(source_id), engine.storage.load(target_id)
    if inverted:
        source, target = target, source
    wanted = [(found.name, source.id, target.id)]
    if found.symmetric:
        wanted.append((found.name, target.id, source.id))
    old = next((x for x in source.links if x.key in wanted), None)
    if old is None:
        raise ValidationError.single(
            "$.link",
            f"{source.id} and {target.id} have no {found.name} link "
            f"({source.id} -> {target.id}); their links: {_between(source, target.id)}",
        )
    commit(
        engine,
        [
            apply_unlink(source, engine.spec_of(source), old, at=at, actor=actor),
            apply_unlink(target, engine.spec_of(target), old, at=at, actor=actor),
        ],
    )
    return old


def _check_kind(kind: Any) -> None:
    """Refuse anything but a short identifier as a link kind, before any lookup."""
    if not isinstance(kind, str) or not kind.isidentifier() or len(kind) > LINK_KIND_MAX:
        raise ValidationError.single("$.kind", "a link kind is a short identifier")


def _between(record: Record, other_id: str) -> str:
    """The links between ``record`` and ``other_id``, for an error message."""
    found = [
        f"{x.kind} {x.source} -> {x.target}"
        for x in record.links
        if other_id in (x.source, x.target)
    ]
    return ", ".join(found) or "none"
