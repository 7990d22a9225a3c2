"""The PostgreSQL adapter's driver import, schema, migrations and error translation (private).

All of the adapter's tables live in one PostgreSQL schema (``itsmcore`` unless the host
names another), so several stores can share a database and a test run can use a
throw-away schema. The schema version is stamped in table ``itsmcore_schema`` (one
row). Opening a store:

1. a schema that holds tables but no ``itsmcore_schema`` belongs to another application
   and is refused, unchanged;
2. a schema version newer than this code is refused: upgrade itsmcore;
3. an absent or older schema is created or migrated forward in one transaction, by the
   statements of each later version in :data:`MIGRATIONS`, under a transaction-level
   advisory lock named after the schema, so concurrent openers migrate once.

Every driver error becomes a :class:`~itsmcore.errors.StorageError` here and only here
(:func:`describe`, :func:`translate`): a lock held past ``lock_timeout``, a deadlock or
a statement timeout is the retryable :class:`~itsmcore.errors.StorageBusy` (nothing
was written); a lost or refused connection is the retryable
:class:`~itsmcore.errors.StorageUnavailable`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING, Final

from itsmcore.errors import StorageBusy, StorageError, StorageUnavailable

if TYPE_CHECKING:
    import psycopg

__all__ = [
    "CHANNEL",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "describe",
    "driver",
    "ensure_schema",
    "quote_schema",
    "read_schema_version",
    "translate",
]

#: The schema version this code writes.
SCHEMA_VERSION: Final = 2
#: The LISTEN/NOTIFY channel; the payload is the schema name of the store that changed.
CHANNEL: Final = "itsmcore_outbox"

_APPLICATION: Final = "itsmcore"
_SCHEMA_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")

#: Statements that take a schema from version ``n - 1`` to ``n``, by ``n``; ``{s}`` is the
#: quoted schema name. Never edit a released entry: add the next version instead.
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    1: (
        """CREATE TABLE {s}.itsmcore_schema (
            id integer PRIMARY KEY CHECK (id = 1),
            version integer NOT NULL,
            application text NOT NULL
        )""",
        # The latest snapshot of each record: ``data`` is the exact JSON of
        # serialization.dump(record); ``fields`` the same fields as jsonb, for find().
        # Ids sort by code point (COLLATE "C"), as Python sorts str. No index on
        # ``fields`` by default: it would make every save a non-HOT update (see
        # docs/deployment.md for adding one where find(fields=...) must be fast).
        """CREATE TABLE {s}.records (
            id text COLLATE "C" PRIMARY KEY,
            process text NOT NULL,
            state text NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            opened_us bigint NOT NULL,
            fields jsonb NOT NULL,
            data text NOT NULL
        )""",
        "CREATE INDEX records_process_state ON {s}.records (process, state)",
        "CREATE INDEX records_opened ON {s}.records (opened_us, id)",
        # The key is the optimistic lock's second line: one event per (record, version).
        """CREATE TABLE {s}.events (
            record_id text COLLATE "C" NOT NULL,
            version integer NOT NULL CHECK (version >= 1),
            data text NOT NULL,
            PRIMARY KEY (record_id, version)
        )""",
        "CREATE TABLE {s}.sequences (prefix text PRIMARY KEY, value bigint NOT NULL)",
        """CREATE TABLE {s}.claims (
            key text COLLATE "C" PRIMARY KEY,
            record_id text NOT NULL,
            data text NOT NULL
        )""",
        # ``seq`` orders pending rows oldest first; ``id`` is the stable notification id;
        # a lease (owner, until) keeps other deliverers off a row being delivered.
        """CREATE TABLE {s}.outbox (
            seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            id text COLLATE "C" NOT NULL UNIQUE,
            record_id text NOT NULL,
            data text NOT NULL,
            delivered boolean NOT NULL DEFAULT false,
            lease_owner text,
            lease_until timestamptz
        )""",
        "CREATE INDEX outbox_pending ON {s}.outbox (seq) WHERE NOT delivered",
        "CREATE INDEX outbox_leased ON {s}.outbox (lease_owner) WHERE lease_owner IS NOT NULL",
        """CREATE TABLE {s}.deadlines (
            record_id text COLLATE "C" NOT NULL,
            key text COLLATE "C" NOT NULL,
            due_us bigint NOT NULL,
            data text NOT NULL,
            lease_owner text,
            lease_until timestamptz,
            PRIMARY KEY (record_id, key)
        )""",
        # due() reads this index from its start: O(log n + k).
        "CREATE INDEX deadlines_due ON {s}.deadlines (due_us, record_id, key)",
        "CREATE INDEX deadlines_leased ON {s}.deadlines (lease_owner) "
        "WHERE lease_owner IS NOT NULL",
        """CREATE TABLE {s}.heads (
            record_id text COLLATE "C" PRIMARY KEY,
            version integer NOT NULL,
            head text NOT NULL,
            signature text NOT NULL
        )""",
        # One save, in one statement (so one round trip and one transaction): the
        # conditional write of each record, in the given (id) order, raising IM409
        # unless it hit its row (stale version, or an id taken), which rolls it all
        # back; then the events, outbox rows (with NOTIFY when one was added), the
        # records' deadlines and their head signatures. Row locks are held only while
        # the server runs it, never across a round trip.
        """CREATE FUNCTION {s}.append_steps(
            r_id text[], r_process text[], r_state text[], r_version integer[],
            r_expected integer[], r_opened bigint[], r_fields text[], r_data text[],
            e_record text[], e_version integer[], e_data text[],
            o_id text[], o_record text[], o_data text[], notify text,
            d_replace text[], d_record text[], d_key text[], d_due bigint[], d_data text[],
            h_record text[], h_version integer[], h_head text[], h_signature text[]
        ) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            FOR i IN 1 .. coalesce(array_length(r_id, 1), 0) LOOP
                IF r_expected[i] = 0 THEN
                    INSERT INTO {s}.records
                        (id, process, state, version, opened_us, fields, data)
                    VALUES (r_id[i], r_process[i], r_state[i], r_version[i], r_opened[i],
                            r_fields[i]::jsonb, r_data[i])
                    ON CONFLICT (id) DO NOTHING;
                ELSE
                    UPDATE {s}.records SET process = r_process[i], state = r_state[i],
                        version = r_version[i], opened_us = r_opened[i],
                        fields = r_fields[i]::jsonb, data = r_data[i]
                    WHERE id = r_id[i] AND version = r_expected[i];
                END IF;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'IM409',
                        MESSAGE = 'itsmcore: record ' || r_id[i] || ' is not at version '
                            || r_expected[i];
                END IF;
            END LOOP;
            INSERT INTO {s}.events (record_id, version, data)
                SELECT * FROM unnest(e_record, e_version, e_data);
            INSERT INTO {s}.outbox (id, record_id, data)
                SELECT i, r, d FROM unnest(o_id, o_record, o_data) WITH ORDINALITY
                    AS t(i, r, d, n) ORDER BY n
                ON CONFLICT (id) DO NOTHING;
            IF FOUND AND notify IS NOT NULL THEN
                PERFORM pg_notify('itsmcore_outbox', notify);
            END IF;
            IF coalesce(array_length(d_replace, 1), 0) > 0 THEN
                DELETE FROM {s}.deadlines WHERE record_id = ANY(d_replace);
                INSERT INTO {s}.deadlines (record_id, key, due_us, data)
                    SELECT * FROM unnest(d_record, d_key, d_due, d_data);
            END IF;
            INSERT INTO {s}.heads (record_id, version, head, signature)
                SELECT * FROM unnest(h_record, h_version, h_head, h_signature)
                ON CONFLICT (record_id) DO UPDATE SET version = excluded.version,
                    head = excluded.head, signature = excluded.signature;
        END
        $$""",
        # Replace one record's deadlines, after taking its row lock as append_steps
        # does, so the two never interleave.
        """CREATE FUNCTION {s}.replace_deadlines(
            record text, d_key text[], d_due bigint[], d_data text[]
        ) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM {s}.records WHERE id = record FOR UPDATE;
            DELETE FROM {s}.deadlines WHERE record_id = record;
            INSERT INTO {s}.deadlines (record_id, key, due_us, data)
                SELECT record, k, d, x FROM unnest(d_key, d_due, d_data) AS t(k, d, x);
        END
        $$""",
    ),
    # A step must extend the stored chain (storage contract, guarantee 2): each record
    # keeps its head (the hash of its latest event) in a column, and the conditional
    # write of a stored record also matches the ``prev_hash`` of the record's first
    # step in the save. The backfill reads the head from the snapshot's JSON ('' when it
    # has none, as ``load`` reads it); the default is that same '', so a row inserted
    # without a head still holds the one its snapshot loads with. Rewrites every row of
    # ``records`` once (VACUUM it afterwards on a large store). Writers running older
    # itsmcore fail loudly afterwards: the function they call is gone.
    2: (
        "ALTER TABLE {s}.records ADD COLUMN head text NOT NULL DEFAULT ''",
        "UPDATE {s}.records SET head = coalesce(data::json ->> 'head', '')",
        """DROP FUNCTION {s}.append_steps(
            text[], text[], text[], integer[], integer[], bigint[], text[], text[],
            text[], integer[], text[], text[], text[], text[], text,
            text[], text[], text[], bigint[], text[], text[], integer[], text[], text[]
        )""",
        # As in version 1, with each record's new head (r_head) and, for a stored one,
        # the head its first step extends (r_prev): a record that is not at r_expected
        # with head r_prev is stale (IM409), whichever of the two differs.
        """CREATE FUNCTION {s}.append_steps(
            r_id text[], r_process text[], r_state text[], r_version integer[],
            r_expected integer[], r_prev text[], r_head text[], r_opened bigint[],
            r_fields text[], r_data text[],
            e_record text[], e_version integer[], e_data text[],
            o_id text[], o_record text[], o_data text[], notify text,
            d_replace text[], d_record text[], d_key text[], d_due bigint[], d_data text[],
            h_record text[], h_version integer[], h_head text[], h_signature text[]
        ) RETURNS void LANGUAGE plpgsql AS $$
        BEGIN
            FOR i IN 1 .. coalesce(array_length(r_id, 1), 0) LOOP
                IF r_expected[i] = 0 THEN
                    INSERT INTO {s}.records
                        (id, process, state, version, opened_us, fields, data, head)
                    VALUES (r_id[i], r_process[i], r_state[i], r_version[i], r_opened[i],
                            r_fields[i]::jsonb, r_data[i], r_head[i])
                    ON CONFLICT (id) DO NOTHING;
                ELSE
                    UPDATE {s}.records SET process = r_process[i], state = r_state[i],
                        version = r_version[i], opened_us = r_opened[i],
                        fields = r_fields[i]::jsonb, data = r_data[i], head = r_head[i]
                    WHERE id = r_id[i] AND version = r_expected[i] AND head = r_prev[i];
                END IF;
                IF NOT FOUND THEN
                    RAISE EXCEPTION USING ERRCODE = 'IM409',
                        MESSAGE = 'itsmcore: record ' || r_id[i] || ' is not at version '
                            || r_expected[i] || CASE WHEN r_expected[i] = 0 THEN ''
                                ELSE ' with head ' || coalesce(r_prev[i], 'NULL') END;
                END IF;
            END LOOP;
            INSERT INTO {s}.events (record_id, version, data)
                SELECT * FROM unnest(e_record, e_version, e_data);
            INSERT INTO {s}.outbox (id, record_id, data)
                SELECT i, r, d FROM unnest(o_id, o_record, o_data) WITH ORDINALITY
                    AS t(i, r, d, n) ORDER BY n
                ON CONFLICT (id) DO NOTHING;
            IF FOUND AND notify IS NOT NULL THEN
                PERFORM pg_notify('itsmcore_outbox', notify);
            END IF;
            IF coalesce(array_length(d_replace, 1), 0) > 0 THEN
                DELETE FROM {s}.deadlines WHERE record_id = ANY(d_replace);
                INSERT INTO {s}.deadlines (record_id, key, due_us, data)
                    SELECT * FROM unnest(d_record, d_key, d_due, d_data);
            END IF;
            INSERT INTO {s}.heads (record_id, version, head, signature)
                SELECT * FROM unnest(h_record, h_version, h_head, h_signature)
                ON CONFLICT (record_id) DO UPDATE SET version = excluded.version,
                    head = excluded.head, signature = excluded.signature;
        END
        $$""",
    ),
}


def driver() -> tuple[ModuleType, ModuleType]:
    """The ``psycopg`` and ``psycopg_pool`` modules, imported on first use.

    Raises :class:`StorageError` naming the extra to install when they are missing, so
    ``import itsmcore`` never needs them.
    """
    try:
        import psycopg
        import psycopg_pool
    except ImportError as exc:
        raise StorageError(
            f"the PostgreSQL adapter needs psycopg 3 and psycopg-pool ({exc}); install "
            "them with: pip install 'itsmcore[postgres]'"
        ) from exc
    return psycopg, psycopg_pool


def quote_schema(name: str) -> str:
    """``name`` as a quoted SQL identifier; refuses names that are not plain identifiers."""
    if not isinstance(name, str) or not _SCHEMA_NAME.fullmatch(name):
        raise StorageError(
            f"schema {name!r} is not a plain identifier: use letters, digits and '_' (at "
            "most 63, not starting with a digit), e.g. schema='itsmcore'"
        )
    return f'"{name}"'


# -- error translation -----------------------------------------------------------------------

#: A server that refuses a new connection for one of these reasons may accept it later.
_TRANSIENT_REFUSALS: Final = (
    "starting up",
    "shutting down",
    "recovery mode",
    "too many",
    "remaining connection slots",
)


def describe(
    exc: BaseException, where: str, *, lock_timeout: float, committing: bool = False
) -> StorageError:
    """The :class:`StorageError` (or a retryable subclass) that says what to do about ``exc``.

    ``where`` names the store (no password); ``committing`` is True when ``exc`` was
    raised by the ``COMMIT`` itself, so a lost connection leaves the outcome unknown.
    """
    psycopg, psycopg_pool = driver()
    errors = psycopg.errors
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg_pool.PoolTimeout):
        return StorageUnavailable(
            f"{where}: no connection within the timeout; the server is unreachable or every "
            "pooled connection is in use. Check the server, or raise pool_size"
        )
    if isinstance(exc, errors.LockNotAvailable):
        return StorageBusy(
            f"{where}: a row stayed locked by another writer for more than {lock_timeout:g} s; "
            "nothing was written. Retry, or raise lock_timeout if writers hold locks that long"
        )
    if isinstance(exc, errors.DeadlockDetected | errors.SerializationFailure):
        return StorageBusy(
            f"{where}: two writers waited for each other and PostgreSQL rolled this one back; "
            "nothing was written. Retry"
        )
    if isinstance(exc, errors.QueryCanceled):
        return StorageBusy(
            f"{where}: the statement was cancelled ({text}); nothing was written. Retry, or "
            "raise the server's statement_timeout"
        )
    if isinstance(exc, errors.UndefinedTable | errors.InvalidSchemaName):
        return StorageError(
            f"{where}: the store's tables are missing ({text}); they were dropped while the "
            "adapter was open. Open a new adapter to create them again"
        )
    if isinstance(exc, errors.InsufficientPrivilege):
        return StorageError(
            f"{where}: permission denied ({text}); grant the role USAGE and CREATE on the "
            "schema, or name a schema it owns"
        )
    if isinstance(exc, errors.UntranslatableCharacter | errors.CharacterNotInRepertoire):
        return StorageError(f"{where}: a value cannot be stored in this database ({text})")
    if isinstance(exc, psycopg.OperationalError | psycopg.InterfaceError):
        full = str(exc)
        refused = full.startswith("connection failed") and "FATAL:" in full
        if refused and not any(reason in full for reason in _TRANSIENT_REFUSALS):
            reason = full.split("FATAL:", 1)[1].strip().splitlines()[0]
            return StorageError(
                f"{where}: the server refused the connection ({reason}); check the user, "
                "password, database name and options of the DSN"
            )
        if committing:
            return StorageUnavailable(
                f"{where}: the connection was lost while committing ({text}); the change may "
                "or may not be stored. Reload the record, then decide again",
                outcome_unknown=True,
            )
        return StorageUnavailable(
            f"{where}: the connection failed or was lost ({text}); nothing was committed. "
            "Retry once the server answers"
        )
    if isinstance(exc, psycopg.Error):
        state = getattr(exc, "sqlstate", None) or "?"
        return StorageError(f"{where}: PostgreSQL error {state}: {text}")
    return StorageError(f"{where}: {type(exc).__name__}: {text}")


@contextmanager
def translate(where: str, lock_timeout: float, *, committing: bool = False) -> Iterator[None]:
    """Re-raise any driver error inside the block as a :class:`StorageError` (see
    :func:`describe`)."""
    psycopg, _ = driver()
    try:
        yield
    except psycopg.Error as exc:
        raise describe(exc, where, lock_timeout=lock_timeout, committing=committing) from exc


# -- schema ----------------------------------------------------------------------------------


def read_schema_version(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    """The schema's version (0 = absent or empty); refuses foreign and newer schemas."""
    tables = [
        str(name)
        for (name,) in conn.execute(
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = %s ORDER BY 1",
            (schema,),
        )
    ]
    if not tables:
        return 0
    if "itsmcore_schema" not in tables:
        raise StorageError(
            f"schema {schema!r} belongs to another application (tables: "
            f"{', '.join(tables[:5])}); name another schema, e.g. schema='itsmcore'"
        )
    row = conn.execute(
        f"SELECT version, application FROM {quote_schema(schema)}.itsmcore_schema WHERE id = 1"
    ).fetchone()
    if row is None or row[1] != _APPLICATION:
        raise StorageError(
            f"schema {schema!r} has a damaged itsmcore_schema table; restore a backup"
        )
    version = int(str(row[0]))
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"schema {schema!r} has version {version}, written by a newer itsmcore; this "
            f"version reads up to {SCHEMA_VERSION}. Upgrade itsmcore"
        )
    return version


def ensure_schema(conn: psycopg.Connection[tuple[object, ...]], schema: str) -> int:
    """Create or migrate ``schema`` to :data:`SCHEMA_VERSION`; return the old version.

    ``conn`` is in autocommit mode. The check without a lock is the fast path of every
    open; a migration runs in one transaction under an advisory lock, re-reading the
    version inside it, so concurrent openers never run it twice.
    """
    quoted = quote_schema(schema)
    version = read_schema_version(conn, schema)
    if version == SCHEMA_VERSION:
        return version
    with conn.transaction():
        conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"itsmcore:{schema}",)
        )
        version = read_schema_version(conn, schema)
        exists = conn.execute(
            "SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = %s", (schema,)
        ).fetchone()
        if exists is None:
            conn.execute(f"CREATE SCHEMA {quoted}")
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[step]:
                conn.execute(statement.format(s=quoted))
        if version < SCHEMA_VERSION:
            conn.execute(
                f"INSERT INTO {quoted}.itsmcore_schema (id, version, application) "
                "VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE SET version = excluded.version",
                (SCHEMA_VERSION, _APPLICATION),
            )
    return version
