"""Audit: verify every record's hash chain, stored head and head signature.

The result is a :class:`ChainReport` (re-exported as ``itsmcore.ChainReport``). Reads
go through the storage port only, so verification is safe while others write: a record
that changed between reads is read again.
"""

from __future__ import annotations

import attrs

from itsmcore.chain import verify_chain
from itsmcore.errors import ChainBroken
from itsmcore.ports.plugins import PluginHost
from itsmcore.ports.storage import Storage

__all__ = ["ChainReport", "verify_all"]

# How often one record is re-read when a save lands between the reads.
_READ_ATTEMPTS = 3


@attrs.frozen(slots=True)
class ChainReport:
    """The result of :meth:`Engine.verify`: how many records and events were checked,
    and the ids of the records whose chain or head did not verify (with reasons)."""

    records: int
    events: int
    broken: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """True when every chain verified."""
        return not self.broken


def verify_all(storage: Storage, plugins: PluginHost) -> ChainReport:
    """Verify every stored record (see :meth:`itsmcore.Engine.verify`)."""
    broken: list[tuple[str, str]] = []
    total = 0
    ids = storage.record_ids()
    for rid in ids:
        count, problem = verify_record(storage, plugins, rid)
        total += count
        if problem is not None:
            broken.append((rid, problem))
    return ChainReport(records=len(ids), events=total, broken=tuple(broken))


def verify_record(storage: Storage, plugins: PluginHost, rid: str) -> tuple[int, str | None]:
    """The number of events of record ``rid`` and why it did not verify (None: it did)."""
    signing = plugins.can_sign
    count, problem = 0, None
    for _attempt in range(_READ_ATTEMPTS):
        # Signature first: every later read includes at least the version it signs.
        signed = storage.signed_head(rid) if signing else None
        events = storage.history(rid)
        record = storage.load(rid)
        count = len(events)
        try:
            head = verify_chain(events)
        except ChainBroken as exc:
            return count, str(exc)
        if head != record.head or count != record.version:
            problem = "the stored record does not match its last event"
            continue  # a save may have landed between the reads: read again
        if not signing:
            return count, None
        if signed is None:
            return count, "the head has no signature (saved before the signer was added?)"
        if signed.version != record.version or signed.head != record.head:
            problem = (
                f"the signature is for version {signed.version}, but the head is version "
                f"{record.version}: the tail was changed"
            )
            continue
        if not plugins.verify_signature(signed.head, signed.signature):
            return count, "the head's signature does not verify"
        return count, None
    return count, problem
