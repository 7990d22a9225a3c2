"""The PostgreSQL adapter's SQL (private): every statement, with the schema filled in once.

Writes that touch several tables go to the server as one statement, a call of a
function of the schema (``append_steps``, ``replace_deadlines``, see
:mod:`._postgres_schema`) or one statement with data-modifying CTEs (``claim``), with
server-side binary parameters: one round trip, one transaction, plans prepared once,
and row locks held only while the server runs it, never across a round trip to a
client that may be descheduled.
"""

from __future__ import annotations

from typing import Final

from itsmcore.adapters._postgres_schema import CHANNEL

__all__ = ["STALE", "UNIQUE_VIOLATION", "Statements"]

#: The SQLSTATE ``append_steps`` raises when a record's conditional write missed its row.
STALE: Final = "IM409"
#: PostgreSQL's unique_violation.
UNIQUE_VIOLATION: Final = "23505"


class Statements:
    """The adapter's SQL for one (quoted) schema name ``s``."""

    def __init__(self, s: str) -> None:
        self.schema = s
        # Parameters, as arrays (see append_steps): records (id, process, state,
        # version, expected version, expected head, new head, opened_us, fields, data),
        # events (record_id, version, data), outbox (id, record_id, data), notify,
        # deadlines (replaced ids, record_id, key, due_us, data), signed heads
        # (record_id, version, head, signature).
        self.append = (
            f"SELECT {s}.append_steps("
            "%b::text[], %b::text[], %b::text[], %b::integer[], %b::integer[], "
            "%b::text[], %b::text[], %b::bigint[], %b::text[], %b::text[], "
            "%b::text[], %b::integer[], %b::text[], "
            "%b::text[], %b::text[], %b::text[], %b::text, "
            "%b::text[], %b::text[], %b::text[], %b::bigint[], %b::text[], "
            "%b::text[], %b::integer[], %b::text[], %b::text[])"
        )
        self.replace_deadlines = (
            f"SELECT {s}.replace_deadlines(%b::text, %b::text[], %b::bigint[], %b::text[])"
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
        # The claims of an append, inside its transaction: the keys this one inserted.
        self.claim_only = (
            f"INSERT INTO {s}.claims (key, record_id, data) "
            "SELECT * FROM unnest(%b::text[], %b::text[], %b::text[]) "
            "ON CONFLICT (key) DO NOTHING RETURNING key"
        )
        self.claimed = f"SELECT key FROM {s}.claims WHERE key = ANY(%s)"
        self.next_number = (
            f"INSERT INTO {s}.sequences AS q (prefix, value) VALUES (%s, 1) "
            "ON CONFLICT (prefix) DO UPDATE SET value = q.value + 1 RETURNING value"
        )
        self.mark_delivered = (
            f"UPDATE {s}.outbox SET delivered = true, lease_owner = NULL, lease_until = NULL "
            "WHERE id = ANY(%s) AND NOT delivered"
        )
        # -- reads
        self.versions = f"SELECT id, version, head FROM {s}.records WHERE id = ANY(%s)"
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
