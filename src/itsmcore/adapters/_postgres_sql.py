"""The PostgreSQL adapter's SQL (private): every statement, with the schema filled in once,
and :class:`Script`, a write sent to the server in one round trip.

Why a script: a save is several statements (the record's conditional write, its events,
its notifications, its deadlines, its head signature). Sent as one simple-protocol
message with client-side parameters, the statements run as one implicit transaction
that the server commits, or rolls back entirely at the first error, before it answers.
So row locks are held only while the server runs the statements, never across a round
trip to a client that may be descheduled, and a refused save costs one round trip.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from itsmcore.adapters._postgres_schema import CHANNEL

__all__ = ["STALE", "UNIQUE_VIOLATION", "Script", "Statements"]

#: The SQLSTATE the schema's ``expect_one_row()`` raises: a record write missed its row.
STALE: Final = "IM409"
#: PostgreSQL's unique_violation.
UNIQUE_VIOLATION: Final = "23505"


class Script:
    """Statements and their parameters, run as one implicit transaction."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, params: Sequence[Any] = ()) -> None:
        """Append one statement (``%s`` placeholders) and its parameters."""
        self.statements.append(sql)
        self.params.extend(params)

    def add_rows(
        self,
        head: str,
        rows: Sequence[Sequence[Any]],
        tail: str = "",
        tail_params: Sequence[Any] = (),
    ) -> None:
        """Append ``head VALUES (...), (...) tail``: one tuple of placeholders per row,
        then the parameters of ``tail``. Nothing when ``rows`` is empty."""
        if not rows:
            return
        one = "(" + ", ".join(["%s"] * len(rows[0])) + ")"
        values = ", ".join([one] * len(rows))
        params = [value for row in rows for value in row]
        self.add(f"{head} VALUES {values} {tail}".rstrip(), [*params, *tail_params])

    @property
    def text(self) -> str:
        """The statements, joined into one query."""
        return ";\n".join(self.statements)


class Statements:
    """The adapter's SQL for one (quoted) schema name ``s``."""

    def __init__(self, s: str) -> None:
        self.schema = s
        # The conditional write of a record: it raises STALE (rolling the whole script
        # back) unless it wrote exactly its one row. Parameters: process, state,
        # version, opened_us, fields, data, id (and, to update, the expected version).
        self.insert_record = (
            f"WITH w AS (INSERT INTO {s}.records "
            "(process, state, version, opened_us, fields, data, id) "
            "VALUES (%s, %s, %s, %s, %s::jsonb, %s, %s) ON CONFLICT (id) DO NOTHING "
            f"RETURNING 1) SELECT {s}.expect_one_row((SELECT count(*) FROM w))"
        )
        self.update_record = (
            f"WITH w AS (UPDATE {s}.records SET process = %s, state = %s, version = %s, "
            "opened_us = %s, fields = %s::jsonb, data = %s WHERE id = %s AND version = %s "
            f"RETURNING 1) SELECT {s}.expect_one_row((SELECT count(*) FROM w))"
        )
        self.insert_events = f"INSERT INTO {s}.events (record_id, version, data)"
        # A known notification id is kept as it is; the rows get seq in the given order.
        self.insert_outbox = f"INSERT INTO {s}.outbox (id, record_id, data)"
        self.outbox_conflict = "ON CONFLICT (id) DO NOTHING"
        # As insert_outbox, and NOTIFY (sent at commit) when a row was added.
        self.insert_outbox_notify = f"WITH added AS ({self.insert_outbox}"
        self.outbox_notify_tail = (
            f"{self.outbox_conflict} RETURNING 1) SELECT pg_notify('{CHANNEL}', %s) "
            "WHERE EXISTS (SELECT 1 FROM added)"
        )
        self.lock_record = f"SELECT 1 FROM {s}.records WHERE id = %s FOR UPDATE"
        self.delete_deadlines = f"DELETE FROM {s}.deadlines WHERE record_id = ANY(%s)"
        self.insert_deadlines = f"INSERT INTO {s}.deadlines (record_id, key, due_us, data)"
        self.upsert_head = (
            f"INSERT INTO {s}.heads (record_id, version, head, signature) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (record_id) DO UPDATE SET "
            "version = excluded.version, head = excluded.head, signature = excluded.signature"
        )
        # One statement: the claims it inserts, the notifications of those claims (or of
        # no claim), and the NOTIFY; it answers the array of inserted keys.
        self.claim = (
            f"WITH won AS (INSERT INTO {s}.claims (key, record_id, data) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) "
            "ON CONFLICT (key) DO NOTHING RETURNING key), "
            f"added AS (INSERT INTO {s}.outbox (id, record_id, data) "
            "SELECT i, r, d FROM unnest(%b::text[], %b::text[], %b::text[]) "
            "WITH ORDINALITY AS t(i, r, d, n) "
            "WHERE i IN (SELECT key FROM won) OR NOT i = ANY(%b::text[]) "
            "ORDER BY n ON CONFLICT (id) DO NOTHING RETURNING 1) "
            "SELECT ARRAY(SELECT key FROM won), "
            f"(SELECT count(pg_notify('{CHANNEL}', p)) FROM (SELECT %s::text AS p) AS payload "
            "WHERE p IS NOT NULL AND EXISTS (SELECT 1 FROM added))"
        )
        self.next_number = (
            f"INSERT INTO {s}.sequences AS q (prefix, value) VALUES (%s, 1) "
            "ON CONFLICT (prefix) DO UPDATE SET value = q.value + 1 RETURNING value"
        )
        self.mark_delivered = (
            f"UPDATE {s}.outbox SET delivered = true, lease_owner = NULL, lease_until = NULL "
            "WHERE id = ANY(%s) AND NOT delivered"
        )
        # -- reads
        self.versions = f"SELECT id, version FROM {s}.records WHERE id = ANY(%s)"
        self.event = f"SELECT data FROM {s}.events WHERE record_id = %s AND version = %s"
        self.load = f"SELECT data FROM {s}.records WHERE id = %s"
        self.history = f"SELECT data FROM {s}.events WHERE record_id = %s ORDER BY version"
        self.record_ids = f"SELECT id FROM {s}.records ORDER BY id"
        self.find = f"SELECT data FROM {s}.records"
        self.signed_head = f"SELECT version, head, signature FROM {s}.heads WHERE record_id = %s"
        # -- shared work: rows picked with SKIP LOCKED and leased to one owner. Parameters:
        # owner, lease seconds, (now), owner, limit.
        lease = "lease_owner = %s, lease_until = clock_timestamp() + make_interval(secs => %s)"
        free = "(lease_owner IS NULL OR lease_owner = %s OR lease_until < clock_timestamp())"
        self.due = (
            f"SELECT due_us, record_id, key, data FROM {s}.deadlines WHERE due_us <= %s "
            "ORDER BY due_us, record_id, key LIMIT %s"
        )
        self.lease_due = (
            f"UPDATE {s}.deadlines AS d SET {lease} FROM ("
            f"SELECT record_id, key FROM {s}.deadlines WHERE due_us <= %s AND {free} "
            "ORDER BY due_us, record_id, key LIMIT %s FOR UPDATE SKIP LOCKED) AS pick "
            "WHERE d.record_id = pick.record_id AND d.key = pick.key "
            "RETURNING d.due_us, d.record_id, d.key, d.data"
        )
        self.pending = f"SELECT seq, data FROM {s}.outbox WHERE NOT delivered ORDER BY seq LIMIT %s"
        self.lease_pending = (
            f"UPDATE {s}.outbox AS o SET {lease} FROM ("
            f"SELECT seq FROM {s}.outbox WHERE NOT delivered AND {free} "
            "ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED) AS pick "
            "WHERE o.seq = pick.seq RETURNING o.seq, o.data"
        )
        self.release_due = (
            f"UPDATE {s}.deadlines SET lease_owner = NULL, lease_until = NULL "
            "WHERE lease_owner = %s"
        )
        self.release_pending = (
            f"UPDATE {s}.outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = %s"
        )
