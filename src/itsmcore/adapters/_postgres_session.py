"""The PostgreSQL adapter's connections (private): a pool for statements, one listening
connection for ``NOTIFY``, the session settings, and what a fork may not share.

Why here: connection handling is the part of the adapter that knows about processes and
threads (psycopg_pool's worker threads, ``os.fork``), not about records; keeping it apart
keeps :mod:`itsmcore.adapters.postgres` about the storage port.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final

from itsmcore.adapters._postgres_schema import CHANNEL, driver, ensure_schema, translate
from itsmcore.errors import StorageError, StorageUnavailable

if TYPE_CHECKING:
    import psycopg
    import psycopg_pool

__all__ = ["Connections", "Row"]

Row = tuple[Any, ...]
_IDLE_IN_TRANSACTION_MS: Final = 60_000


class Connections:
    """The connections of one adapter to one schema.

    Opening connects once directly (so a wrong password or database name surfaces as
    itself, not as a pool timeout), creates or migrates the schema, then opens the pool.
    Every connection is in autocommit mode, at READ COMMITTED, with ``lock_timeout``.
    After a fork the child never uses nor closes the parent's connections: it opens its
    own, and leases under a new :attr:`owner`.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str,
        pool_size: int,
        lock_timeout: float,
        connect_timeout: float,
    ) -> None:
        self.psycopg, self.pool_module = driver()
        self.dsn = dsn
        self.schema = schema
        self.pool_size = pool_size
        self.lock_timeout = lock_timeout
        self.connect_timeout = connect_timeout
        try:
            info = dict(self.psycopg.conninfo.conninfo_to_dict(dsn))
        except self.psycopg.Error:
            raise StorageError(
                "the DSN cannot be parsed; write postgresql://user@host:5432/dbname or "
                "'host=... dbname=... user=...'"
            ) from None
        host = f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}"
        #: The store, for messages (never the password).
        self.where = f"PostgreSQL {host}/{info.get('dbname') or ''} schema {schema!r}"
        self._application = str(info.get("application_name") or "itsmcore")
        self._lock = threading.Lock()
        self._listen_lock = threading.Lock()
        self._listener: psycopg.Connection[Row] | None = None
        self._pool: psycopg_pool.ConnectionPool[psycopg.Connection[Row]] | None = None
        self._pid = os.getpid()
        self._owner = uuid.uuid4().hex
        self.closed = False
        conn = self.connect()
        try:
            with translate(self.where, lock_timeout):
                ensure_schema(conn, schema)
        finally:
            conn.close()
        self._pool = self._new_pool()

    @property
    def owner(self) -> str:
        """This process's lease owner id (new after a fork)."""
        with self._lock:
            self._forget_parent()
            return self._owner

    def _conninfo(self) -> dict[str, Any]:
        """Connection settings added to the DSN's (its ``application_name`` wins)."""
        return {
            "autocommit": True,
            "connect_timeout": max(1, round(self.connect_timeout)),
            "application_name": self._application,
        }

    def _configure(self, conn: psycopg.Connection[Row]) -> None:
        """Session settings: a write waits for a lock at most ``lock_timeout``, a session
        stuck in a transaction is ended, transactions are READ COMMITTED."""
        conn.execute(
            "SELECT set_config('lock_timeout', %s, false), "
            "set_config('idle_in_transaction_session_timeout', %s, false), "
            "set_config('default_transaction_isolation', 'read committed', false)",
            (f"{round(self.lock_timeout * 1000)}ms", f"{_IDLE_IN_TRANSACTION_MS}ms"),
        )

    def connect(self) -> psycopg.Connection[Row]:
        """A new connection of its own (not pooled), configured."""
        with translate(self.where, self.lock_timeout):
            conn: psycopg.Connection[Row] = self.psycopg.connect(self.dsn, **self._conninfo())
            self._configure(conn)
        return conn

    def _new_pool(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[Row]]:
        return self.pool_module.ConnectionPool(  # type: ignore[no-any-return]
            self.dsn,
            kwargs=self._conninfo(),
            configure=self._configure,
            min_size=1,
            max_size=self.pool_size,
            timeout=self.connect_timeout,
            num_workers=2,
            name=f"itsmcore:{self.schema}",
            open=True,
        )

    def _forget_parent(self) -> None:
        """After a fork: drop (never use, never close) the parent's connections; lease
        under a new owner. Call with ``self._lock`` held."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._owner = uuid.uuid4().hex
            self._listener = None
            self._pool = None

    def _current_pool(self) -> psycopg_pool.ConnectionPool[psycopg.Connection[Row]]:
        if self.closed:
            raise StorageError(f"the adapter on {self.where} is closed; open a new one")
        with self._lock:
            self._forget_parent()
            if self._pool is None:
                self._pool = self._new_pool()
            return self._pool

    @contextmanager
    def checkout(self, *, writing: bool = False) -> Iterator[psycopg.Connection[Row]]:
        """A pooled connection; driver errors inside the block are translated. With
        ``writing``, a lost connection leaves the outcome unknown (``StorageUnavailable``
        with ``outcome_unknown``): a write may have been committed."""
        pool = self._current_pool()
        with (
            translate(self.where, self.lock_timeout, committing=writing),
            pool.connection() as conn,
        ):
            yield conn

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one statement that may run twice (a read, a lease): retried once on
        a connection that turned out dead."""
        for attempt in (1, 2):
            try:
                with self.checkout() as conn:
                    return conn.execute(sql, params).fetchall()
            except StorageUnavailable as exc:
                if attempt == 2 or isinstance(exc.__cause__, self.pool_module.PoolTimeout):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def wait_for_notify(self, timeout: float) -> bool:
        """Wait for a ``NOTIFY`` on :data:`CHANNEL` naming this schema (see
        ``PostgresStorage.wait_for_notifications``)."""
        deadline = time.monotonic() + max(0.0, timeout)
        with self._listen_lock:
            if self.closed:
                raise StorageError(f"the adapter on {self.where} is closed; open a new one")
            with self._lock:
                self._forget_parent()
            if self._listener is None or self._listener.closed:
                conn = self.connect()
                with translate(self.where, self.lock_timeout):
                    conn.execute(f"LISTEN {CHANNEL}")
                self._listener = conn
                return True
            listener = self._listener
            try:
                with translate(self.where, self.lock_timeout):
                    while (remaining := deadline - time.monotonic()) > 0:
                        for note in listener.notifies(timeout=remaining, stop_after=1):
                            if note.payload == self.schema:
                                return True
                    return False
            except StorageError:
                with suppress(Exception):
                    listener.close()
                self._listener = None
                raise

    def close(self, last: Sequence[tuple[str, Sequence[Any]]] = ()) -> None:
        """Run the statements ``last`` (best effort), then close every connection this
        process opened; idempotent."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
            pool, self._pool = self._pool, None
            forked = os.getpid() != self._pid
        with self._listen_lock:
            listener, self._listener = self._listener, None
        if forked:
            return  # the parent's connections are the parent's to close
        if listener is not None:
            with suppress(Exception):
                listener.close()
        if pool is None:
            return
        with suppress(Exception), pool.connection(timeout=1.0) as conn:
            for sql, params in last:
                conn.execute(sql, params)
        pool.close()
