"""The hash chain over a record's events: canonical form, hashing and verification.

Why: every transition is audit evidence. Each event carries the hash of the previous
event of the same record, so editing, dropping, reordering or inserting an event is
detected by :func:`verify_chain`, and a signature over the last hash (the *head*)
protects the tail (see the ``itsmcore_sign`` hook).

Canonical form (stable; other languages can verify it). The hash is the lowercase hex
SHA-256 of the UTF-8 bytes of this JSON object, serialized with keys sorted, no
whitespace (separators ``,`` and ``:``), non-ASCII characters written as themselves, and
no NaN or infinities::

    {"actor": {"id": <str>, "roles": [<sorted str>...]},
     "at": "<UTC instant, YYYY-MM-DDTHH:MM:SS.ffffffZ>",
     "changes": {<field>: <value in JSON form>...},
     "format": 1,
     "link": null | {"at": <instant>, "kind": <str>, "source": <id>, "target": <id>},
     "name": <event name>, "prev_hash": <64 hex>, "record_id": <str>,
     "source": <state or null>, "target": <state>, "version": <int>}

Field values use the JSON form of :mod:`itsmcore._values`: datetimes as
``{"$datetime": "<UTC instant>"}``, dates as ``{"$date": "YYYY-MM-DD"}``, durations as
``{"$timedelta": <microseconds>}``, tuples as lists. The first event's ``prev_hash`` is
64 zeros (:data:`GENESIS`). ``link`` is the link a ``link`` event adds or an ``unlink``
event removes (as it was added), ``null`` on every other event.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any, Final

from itsmcore._time import to_utc_text
from itsmcore._values import encode_fields
from itsmcore.errors import ChainBroken
from itsmcore.records import Actor, Event, Link

__all__ = ["GENESIS", "canonical_bytes", "event_hash", "verify_chain"]

#: The ``prev_hash`` of every record's first event.
GENESIS: Final = "0" * 64

_FORMAT: Final = 1
_ENCODER: Final = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def _link_form(link: Link | None) -> dict[str, Any] | None:
    if link is None:
        return None
    return {
        "at": to_utc_text(link.at),
        "kind": link.kind,
        "source": link.source,
        "target": link.target,
    }


def canonical_bytes(
    *,
    record_id: str,
    version: int,
    name: str,
    source: str | None,
    target: str,
    at_text: str,
    actor: Actor,
    changes: Mapping[str, Any],
    prev_hash: str,
    link: Link | None = None,
) -> bytes:
    """The canonical bytes of an event (see the module docstring)."""
    form = {
        "actor": {"id": actor.id, "roles": sorted(actor.roles)},
        "at": at_text,
        "changes": encode_fields(changes),
        "format": _FORMAT,
        "link": _link_form(link),
        "name": name,
        "prev_hash": prev_hash,
        "record_id": record_id,
        "source": source,
        "target": target,
        "version": version,
    }
    return _ENCODER.encode(form).encode("utf-8")


def event_hash(event: Event) -> str:
    """Recompute the hash an event should carry (ignores its stored ``hash``)."""
    data = canonical_bytes(
        record_id=event.record_id,
        version=event.version,
        name=event.name,
        source=event.source,
        target=event.target,
        at_text=to_utc_text(event.at),
        actor=event.actor,
        changes=event.changes,
        prev_hash=event.prev_hash,
        link=event.link,
    )
    return hashlib.sha256(data).hexdigest()


def verify_chain(events: Iterable[Event]) -> str:
    """Check one record's events, in order, and return the head hash.

    Raises :class:`~itsmcore.errors.ChainBroken` with the first version at which the
    chain breaks: a version out of sequence (dropped, reordered or inserted event), a
    ``prev_hash`` that does not match the previous event, a hash that does not match the
    event's content (an edit), or a first event that is not ``open``. An empty history
    verifies trivially and returns :data:`GENESIS`.
    """
    prev = GENESIS
    record_id: str | None = None
    expected_version = 1
    for event in events:
        if record_id is None:
            record_id = event.record_id
            if event.name != "open":
                raise ChainBroken(event.version, "the first event must be 'open'")
        elif event.record_id != record_id:
            raise ChainBroken(event.version, f"event of another record {event.record_id!r}")
        if event.version != expected_version:
            raise ChainBroken(
                expected_version,
                f"expected version {expected_version}, found {event.version}",
            )
        if event.prev_hash != prev:
            raise ChainBroken(event.version, "prev_hash does not match the previous event")
        if event_hash(event) != event.hash:
            raise ChainBroken(event.version, "hash does not match the event's content")
        prev = event.hash
        expected_version += 1
    return prev
