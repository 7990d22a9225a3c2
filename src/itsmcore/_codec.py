"""Fast JSON text ⇄ Record/Event/Notification/Deadline for the storage adapters (private).

Why: the cattrs converter of :mod:`itsmcore.serialization` is general and strict, and on
the save path of a small record it costs more than the SQL. These hand-written
functions produce exactly the JSON text of ``json.dumps(serialization.dump(obj))``
(same keys, same order, same value forms), so stored data stays readable by
``serialization.load`` and by older code.

Decoding takes a fast path only for a document in the exact shape this module (and
``dump``) writes; anything else (a missing or extra key, an unexpected type) goes through
``serialization.load``, so errors and lenient cases behave exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from itsmcore._values import decode_value, encode_fields, parse_utc_text
from itsmcore.errors import ValidationError
from itsmcore.ports.storage import Deadline, Notification
from itsmcore.records import Actor, Event, FieldMap, Link, Record
from itsmcore.serialization import load

__all__ = ["decode_event", "decode_record", "encode_deadline", "encode_event"]
__all__ += ["encode_notification", "encode_record"]

_TEXT: Final = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_RECORD_KEYS: Final = frozenset(
    (
        "id",
        "process",
        "spec_version",
        "state",
        "version",
        "fields",
        "opened_at",
        "updated_at",
        "opened_by",
        "head",
        "links",
    )
)
_EVENT_KEYS: Final = frozenset(
    (
        "record_id",
        "version",
        "name",
        "source",
        "target",
        "at",
        "actor",
        "changes",
        "prev_hash",
        "hash",
        "link",
    )
)
_LINK_KEYS: Final = frozenset(("kind", "source", "target", "at"))
_ACTOR_KEYS: Final = frozenset(("id", "roles"))


#: ISO texts of recent UTC instants: a save writes the same instant up to four times
#: (the record's ``updated_at``, the event's and the notification's ``at``; the
#: record's unchanging ``opened_at``), and ``isoformat`` is a large share of encoding.
_ISO: Final[dict[datetime, str]] = {}


def _iso(at: datetime) -> str:
    """``at.isoformat()``, remembered for UTC instants (equal instants in other zones
    have other texts, so only UTC ones share an entry)."""
    if at.tzinfo is not UTC:
        return at.isoformat()
    text = _ISO.get(at)
    if text is None:
        if len(_ISO) >= 1024:
            _ISO.clear()
        text = _ISO[at] = at.isoformat()
    return text


class _Slow(Exception):
    """The document is not in the exact written shape: decode it with ``load``."""


def _link(link: Link) -> dict[str, Any]:
    return {
        "kind": link.kind,
        "source": link.source,
        "target": link.target,
        "at": _iso(link.at),
    }


def encode_record(rec: Record) -> str:
    """The JSON text of ``serialization.dump(rec)``; ``ValueError`` for a NaN/inf value."""
    return _TEXT.encode(
        {
            "id": rec.id,
            "process": rec.process,
            "spec_version": rec.spec_version,
            "state": rec.state,
            "version": rec.version,
            "fields": encode_fields(rec.fields),
            "opened_at": _iso(rec.opened_at),
            "updated_at": _iso(rec.updated_at),
            "opened_by": rec.opened_by,
            "head": rec.head,
            "links": [_link(k) for k in rec.links],
        }
    )


def encode_event(ev: Event) -> str:
    """The JSON text of ``serialization.dump(ev)``; ``ValueError`` for a NaN/inf value."""
    return _TEXT.encode(
        {
            "record_id": ev.record_id,
            "version": ev.version,
            "name": ev.name,
            "source": ev.source,
            "target": ev.target,
            "at": _iso(ev.at),
            "actor": {"id": ev.actor.id, "roles": sorted(ev.actor.roles)},
            "changes": encode_fields(ev.changes),
            "prev_hash": ev.prev_hash,
            "hash": ev.hash,
            "link": None if ev.link is None else _link(ev.link),
        }
    )


def encode_notification(note: Notification) -> str:
    """The JSON text of ``serialization.dump(note)``."""
    return _TEXT.encode(
        {
            "id": note.id,
            "kind": note.kind,
            "record_id": note.record_id,
            "at": _iso(note.at),
            "payload": encode_fields(note.payload),
        }
    )


def encode_deadline(deadline: Deadline) -> str:
    """The JSON text of ``serialization.dump(deadline)``."""
    return _TEXT.encode(
        {"record_id": deadline.record_id, "key": deadline.key, "due": _iso(deadline.due)}
    )


# -- decoding ---------------------------------------------------------------------------


def _str(value: Any) -> str:
    if type(value) is not str:
        raise _Slow
    return value


def _int(value: Any) -> int:
    if type(value) is not int:
        raise _Slow
    return value


def _at(value: Any) -> datetime:
    if type(value) is not str:
        raise _Slow
    return parse_utc_text(value)


def _fields(value: Any) -> FieldMap:
    if type(value) is not dict:
        raise _Slow
    return FieldMap({k: decode_value(v, f"$.{k}") for k, v in value.items()})


def _dict(value: Any, keys: frozenset[str]) -> Mapping[str, Any]:
    if type(value) is not dict or value.keys() != keys:
        raise _Slow
    return value


def _decode_link(value: Any) -> Link:
    d = _dict(value, _LINK_KEYS)
    return Link(_str(d["kind"]), _str(d["source"]), _str(d["target"]), _at(d["at"]))


def decode_record(text: str) -> Record:
    """A :class:`Record` from its stored JSON text.

    Raises ``ValueError`` for text that is not JSON and ``ValidationError`` (from
    ``serialization.load``) for JSON that is not a record.
    """
    data = json.loads(text)
    try:
        d = _dict(data, _RECORD_KEYS)
        links = d["links"]
        if type(links) is not list:
            raise _Slow
        return Record(
            id=_str(d["id"]),
            process=_str(d["process"]),
            spec_version=_int(d["spec_version"]),
            state=_str(d["state"]),
            version=_int(d["version"]),
            fields=_fields(d["fields"]),
            opened_at=_at(d["opened_at"]),
            updated_at=_at(d["updated_at"]),
            opened_by=_str(d["opened_by"]),
            head=_str(d["head"]),
            links=tuple(_decode_link(k) for k in links),
        )
    except (_Slow, ValidationError):  # let load report it exactly as before
        return load(Record, data)


def decode_event(text: str) -> Event:
    """An :class:`Event` from its stored JSON text (errors as :func:`decode_record`)."""
    data = json.loads(text)
    try:
        d = _dict(data, _EVENT_KEYS)
        actor = _dict(d["actor"], _ACTOR_KEYS)
        roles = actor["roles"]
        if type(roles) is not list or not all(type(r) is str for r in roles):
            raise _Slow
        source = d["source"]
        link = d["link"]
        return Event(
            record_id=_str(d["record_id"]),
            version=_int(d["version"]),
            name=_str(d["name"]),
            source=None if source is None else _str(source),
            target=_str(d["target"]),
            at=_at(d["at"]),
            actor=Actor(_str(actor["id"]), frozenset(roles)),
            changes=_fields(d["changes"]),
            prev_hash=_str(d["prev_hash"]),
            hash=_str(d["hash"]),
            link=None if link is None else _decode_link(link),
        )
    except (_Slow, ValidationError):  # let load report it exactly as before
        return load(Event, data)
