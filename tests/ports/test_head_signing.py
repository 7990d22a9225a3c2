"""Signed chain heads: a signer plugin makes a cut or rewritten tail detectable."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

import attrs

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.ports import hookimpl

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
INCIDENT = {"title": "Mail down", "caller": "carol", "impact": 2, "urgency": 2}


class Hmac:
    key = b"test-key"

    @hookimpl
    def itsmcore_sign(self, head: str) -> str:
        return hmac.new(self.key, head.encode(), hashlib.sha256).hexdigest()


def _two_versions(engine: ic.Engine) -> ic.Record:
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    return engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})


def _cut_the_tail(storage: MemoryStorage, rid: str) -> None:
    """What an attacker with write access could do: drop the last event, roll back."""
    events = storage._events[rid]
    events.pop()
    storage._records[rid] = attrs.evolve(
        storage._records[rid], version=events[-1].version, head=events[-1].hash
    )


def test_every_save_stores_a_signature_of_the_new_head() -> None:
    engine = ic.Engine.in_memory(plugins=[Hmac()])
    rec = _two_versions(engine)
    signed = engine.storage.signed_head(rec.id)
    assert signed is not None
    assert (signed.version, signed.head) == (2, rec.head)
    assert signed.signature == Hmac().itsmcore_sign(rec.head)
    assert engine.verify().ok


def test_a_cut_tail_passes_the_chain_but_fails_the_signature() -> None:
    engine = ic.Engine.in_memory(plugins=[Hmac()])
    rec = _two_versions(engine)
    assert isinstance(engine.storage, MemoryStorage)
    _cut_the_tail(engine.storage, rec.id)
    unsigned = ic.Engine(engine.storage)
    assert unsigned.verify().ok  # the hash chain alone cannot see it
    report = engine.verify()
    assert [rid for rid, _ in report.broken] == [rec.id]
    assert "tail was changed" in report.broken[0][1]


def test_a_forged_signature_does_not_verify() -> None:
    engine = ic.Engine.in_memory(plugins=[Hmac()])
    rec = _two_versions(engine)
    assert isinstance(engine.storage, MemoryStorage)
    signed = engine.storage._heads[rec.id]
    engine.storage._heads[rec.id] = attrs.evolve(signed, signature="0" * 64)
    assert engine.verify().broken == ((rec.id, "the head's signature does not verify"),)


def test_records_saved_before_the_signer_are_reported_unsigned() -> None:
    storage = MemoryStorage()
    rec = _two_versions(ic.Engine(storage))
    report = ic.Engine(storage, plugins=[Hmac()]).verify()
    assert [rid for rid, _ in report.broken] == [rec.id]
    assert "no signature" in report.broken[0][1]


def test_a_randomised_signer_verifies_through_its_verify_hook() -> None:
    class Nonced:
        """Signs with a fresh nonce, so re-signing never reproduces a signature."""

        @hookimpl
        def itsmcore_sign(self, head: str) -> str:
            nonce = secrets.token_hex(8)
            return nonce + ":" + hmac.new(b"k", (nonce + head).encode(), "sha256").hexdigest()

        @hookimpl
        def itsmcore_verify_signature(self, head: str, signature: str) -> bool:
            nonce, mac = signature.split(":")
            good = hmac.new(b"k", (nonce + head).encode(), "sha256").hexdigest()
            return hmac.compare_digest(mac, good)

    engine = ic.Engine.in_memory(plugins=[Nonced()])
    _two_versions(engine)
    assert engine.verify().ok
