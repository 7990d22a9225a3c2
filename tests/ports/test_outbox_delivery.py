"""The transactional outbox: delivered after commit, at least once, never lost."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

import itsmcore as ic
from itsmcore.ports import Inbox, PluginError, hookimpl

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
INCIDENT = {"title": "Mail down", "caller": "carol", "impact": 2, "urgency": 2}


class Flaky:
    """Fails on the notifications whose id is in ``failing``."""

    def __init__(self, *failing: str) -> None:
        self.failing = set(failing)
        self.calls: list[str] = []

    @hookimpl
    def itsmcore_notify(self, notification: ic.Notification) -> None:
        self.calls.append(notification.id)
        if notification.id in self.failing:
            raise ConnectionError("smtp down")


def test_deliver_hands_each_committed_notification_to_every_notifier_once() -> None:
    first, second = Inbox(), Inbox()
    engine = ic.Engine.in_memory(plugins=[first, second])
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    assert engine.deliver() == 2
    assert engine.deliver() == 0
    expected = [f"event:{rec.id}:1", f"event:{rec.id}:2"]
    assert first.ids() == second.ids() == expected
    assert (first.deliveries, engine.storage.pending()) == (2, [])


def test_notifications_wait_in_the_outbox_until_delivered() -> None:
    inbox = Inbox()
    engine = ic.Engine.in_memory(plugins=[inbox])
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    assert inbox.ids() == []
    assert [n.id for n in engine.storage.pending()] == [f"event:{rec.id}:1"]


def test_a_rejected_change_queues_no_notification() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    engine.fire(rec.id, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    with pytest.raises(ic.ConcurrencyError):
        engine.fire(rec.id, "start", at=T0, actor=ALICE, expected_version=1)
    assert len(engine.storage.pending()) == 2


def test_a_failing_notifier_keeps_its_notification_pending_and_redelivers_it() -> None:
    flaky = Flaky()
    engine = ic.Engine.in_memory(plugins=[flaky])
    a = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    b = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    flaky.failing = {f"event:{b.id}:1"}
    with pytest.raises(PluginError, match="smtp down") as err:
        engine.deliver()
    assert (err.value.plugin, err.value.hook) == ("Flaky", "itsmcore_notify")
    assert [n.id for n in engine.storage.pending()] == [f"event:{b.id}:1"]
    flaky.failing = set()
    assert engine.deliver() == 1
    assert flaky.calls == [f"event:{a.id}:1", f"event:{b.id}:1", f"event:{b.id}:1"]


def test_auto_deliver_delivers_right_after_the_commit() -> None:
    inbox = Inbox()
    engine = ic.Engine.in_memory(plugins=[inbox], auto_deliver=True)
    rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    assert inbox.ids() == [f"event:{rec.id}:1"]
    assert engine.storage.pending() == []


def test_auto_deliver_logs_a_failing_notifier_and_keeps_the_change(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky()
    engine = ic.Engine.in_memory(plugins=[flaky], auto_deliver=True)
    flaky.failing = {"event:INC-000001:1"}
    with caplog.at_level(logging.WARNING, logger="itsmcore.engine"):
        rec = engine.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    assert engine.get(rec.id).version == 1
    assert "stay pending" in caplog.text
    assert [n.id for n in engine.storage.pending()] == [f"event:{rec.id}:1"]


def test_a_crash_between_commit_and_delivery_redelivers_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "itsm.db"
    first = ic.Engine.sqlite(path)  # commits, then "crashes" before delivering
    rec = first.open("incident", at=T0, actor=ALICE, fields=INCIDENT)
    first.close()
    inbox = Inbox()
    with ic.Engine.sqlite(path, plugins=[inbox]) as restarted:
        assert restarted.deliver() == 1
    assert inbox.ids() == [f"event:{rec.id}:1"]


def test_the_log_notifier_never_logs_the_payload(caplog: pytest.LogCaptureFixture) -> None:
    engine = ic.Engine.in_memory()
    engine.open("incident", at=T0, actor=ALICE, fields={**INCIDENT, "title": "SECRET-TITLE"})
    with caplog.at_level(logging.DEBUG, logger="itsmcore.notify"):
        engine.deliver()
    assert "event:INC-000001:1" in caplog.text
    assert "SECRET" not in caplog.text
