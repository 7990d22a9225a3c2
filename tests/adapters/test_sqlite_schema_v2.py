"""Schema version 2 of the SQLite file: heads in a column, an outbox of pending rows only.

A file written by schema version 1 (built here from its released statements) is
migrated on open, keeping every record, event and notification, and then keeps the
rules of version 2.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import itsmcore as ic
from itsmcore._codec import encode_event, encode_notification, encode_record
from itsmcore.adapters import _sqlite_schema as schema
from itsmcore.adapters.sqlite import SqliteStorage
from itsmcore.testing._storage_data import finish, note_for, opened, updated


def _version_1_file(path: Path) -> tuple[ic.Record, list[str]]:
    """A schema-1 file holding record CT-1 (two events) and two notifications, the
    first delivered. Returns the record and the notification ids."""
    first = opened("CT-1", team="ops")
    second = updated(first.record, count=1)
    notes = [note_for(first), note_for(second)]
    with sqlite3.connect(path) as raw:
        for statement in schema.MIGRATIONS[1]:
            raw.execute(statement)
        raw.execute("INSERT INTO itsmcore_schema VALUES (1, 1, 'itsmcore')")
        rec = second.record
        raw.execute(
            "INSERT INTO records VALUES (?, ?, ?, ?, 0, ?)",
            (rec.id, rec.process, rec.state, rec.version, encode_record(rec)),
        )
        for step in (first, second):
            raw.execute(
                "INSERT INTO events VALUES (?, ?, ?)",
                (rec.id, step.event.version, encode_event(step.event)),
            )
        for delivered, note in enumerate(notes, start=1):
            raw.execute(
                "INSERT INTO outbox (id, record_id, data, delivered) VALUES (?, ?, ?, ?)",
                (note.id, note.record_id, encode_notification(note), delivered % 2),
            )
    return rec, [n.id for n in notes]


def test_a_version_1_file_is_migrated_keeping_records_events_and_pending_notes(
    tmp_path: Path,
) -> None:
    path = tmp_path / "v1.db"
    rec, (delivered, pending) = _version_1_file(path)
    store = SqliteStorage(path)
    assert store.load("CT-1") == rec
    assert [e.version for e in store.history("CT-1")] == [1, 2]
    assert [n.id for n in store.pending()] == [pending]
    store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT version FROM itsmcore_schema").fetchone() == (2,)
        assert raw.execute("SELECT head FROM records").fetchone() == (rec.head,)
        assert raw.execute("SELECT id FROM outbox_delivered").fetchall() == [(delivered,)]


def test_after_migration_a_delivered_id_is_never_queued_again(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _version_1_file(path)
    store = SqliteStorage(path)
    first = opened("CT-1", team="ops")
    store.claim([], outbox=[note_for(first)])  # delivered before the migration
    assert [n.id for n in store.pending()] == ["event:CT-1:2"]
    store.close()


def test_after_migration_appends_extend_the_migrated_head(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    rec, _ = _version_1_file(path)
    store = SqliteStorage(path)
    stranger = updated(opened("CT-1", team="dev").record, count=5)  # another history
    with pytest.raises(ic.ConcurrencyError):
        store.append([updated(stranger.record)])
    third = updated(rec, count=2)
    store.append([third])
    assert store.load("CT-1") == third.record
    store.close()


def test_delivered_notifications_leave_the_outbox_and_keep_their_id(tmp_path: Path) -> None:
    store = SqliteStorage(tmp_path / "itsm.db")
    first = opened("CT-1")
    store.append([first], outbox=[note_for(first)])
    store.mark_delivered([note_for(first).id])
    store.claim([], outbox=[note_for(first)])
    assert store.pending() == []
    with sqlite3.connect(store.path) as raw:
        assert raw.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
        assert raw.execute("SELECT id FROM outbox_delivered").fetchall() == [(note_for(first).id,)]
    store.close()


def test_the_state_column_follows_every_save(tmp_path: Path) -> None:
    # The narrow UPDATE (state unchanged) and the wide one (state changed) both keep
    # the indexed columns equal to the stored JSON; so does a new record's INSERT of
    # several steps at once.
    store = SqliteStorage(tmp_path / "itsm.db")
    first = opened("CT-1")
    same = updated(first.record, count=1)
    store.append([first, same])
    third = updated(same.record, count=2)
    store.append([third])
    assert store.find(state=third.record.state) == [third.record]
    closed = finish(third.record)
    store.append([closed])
    assert store.find(state=closed.record.state) == [closed.record]
    assert store.find(state=third.record.state) == []
    store.close()
