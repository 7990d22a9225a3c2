"""The PostgreSQL adapter keeps the whole storage contract, read back through raw SQL,
and its own promises: schemas, URL options, typed errors, shared work, NOTIFY."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta

import pg_support as pg
import psycopg
import pytest

import itsmcore as ic
from itsmcore.adapters import _postgres_schema as schema_module
from itsmcore.adapters._postgres_rows import encode, fields_jsonb, micros
from itsmcore.adapters.postgres import PostgresStorage, postgres_options
from itsmcore.adapters.url import storage_from_url
from itsmcore.errors import StorageUnavailable
from itsmcore.ports.storage import Storage
from itsmcore.records import Step
from itsmcore.serialization import dump
from itsmcore.testing._storage_data import T0, deadline, note_for, opened, updated
from itsmcore.testing.contract import StorageContract


def _schema_of(storage: Storage) -> str:
    assert isinstance(storage, PostgresStorage)
    return storage.schema


class TestPostgresStorage(StorageContract):
    capabilities = frozenset({"claims_in_append", "reopen", "shared", "threads"})

    @pytest.fixture
    def make_storage(self) -> Iterator[Callable[[], Storage]]:
        pg.require_server()
        with pg.schemas() as names:

            def make() -> Storage:
                names.append(pg.new_name())
                return pg.store(names[-1])

            yield make

    def reopen(self, storage: Storage) -> Storage:
        return pg.store(_schema_of(storage))

    def backdoor_event_versions(self, storage: Storage, record_id: str) -> list[int]:
        rows = pg.raw(
            f'SELECT version FROM "{_schema_of(storage)}".events WHERE record_id = %s ORDER BY 1',
            (record_id,),
        )
        return [int(v) for (v,) in rows]

    def backdoor_outbox_ids(self, storage: Storage) -> list[str]:
        rows = pg.raw(f'SELECT id FROM "{_schema_of(storage)}".outbox ORDER BY seq')
        return [str(i) for (i,) in rows]


@pytest.fixture
def names() -> Iterator[list[str]]:
    """Schema names to drop after the test."""
    pg.require_server()
    with pg.schemas() as created:
        yield created


@pytest.fixture
def schema(names: list[str]) -> str:
    names.append(pg.new_name())
    return names[-1]


# -- opening -------------------------------------------------------------------------------------


def test_the_core_imports_without_psycopg_and_the_adapter_names_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without = (
        "import sys; sys.modules['psycopg'] = sys.modules['psycopg_pool'] = None; "
        "import itsmcore, itsmcore.adapters.postgres, itsmcore.adapters.url; "
        "itsmcore.Engine.in_memory().close(); print('imported')"
    )
    done = subprocess.run([sys.executable, "-c", without], capture_output=True, text=True)
    assert (done.returncode, done.stdout.strip()) == (0, "imported"), done.stderr
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(ic.StorageError, match=r"pip install 'itsmcore\[postgres\]'"):
        PostgresStorage("postgresql://nobody@127.0.0.1:1/none")


def test_another_applications_schema_is_refused_untouched(schema: str) -> None:
    pg.raw(f'CREATE SCHEMA "{schema}"')
    pg.raw(f'CREATE TABLE "{schema}".customers (id integer PRIMARY KEY)')
    with pytest.raises(ic.StorageError, match="another application"):
        pg.store(schema)
    tables = pg.raw("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    assert tables == [("customers",)]


def test_a_schema_from_a_newer_version_is_refused(schema: str) -> None:
    pg.store(schema).close()
    pg.raw(f'UPDATE "{schema}".itsmcore_schema SET version = 99')
    with pytest.raises(ic.StorageError, match=r"newer itsmcore.*Upgrade itsmcore"):
        pg.store(schema)


def test_an_older_schema_is_migrated_forward_keeping_its_data(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = pg.store(schema)
    store.append([opened("CT-1", team="ops")])
    store.close()
    later = schema_module.SCHEMA_VERSION + 1
    extra = ("ALTER TABLE {s}.records ADD COLUMN archived boolean",)
    monkeypatch.setattr(schema_module, "MIGRATIONS", {**schema_module.MIGRATIONS, later: extra})
    monkeypatch.setattr(schema_module, "SCHEMA_VERSION", later)
    store = pg.store(schema)
    assert store.load("CT-1").fields["team"] == "ops"
    store.close()
    assert pg.raw(f'SELECT version FROM "{schema}".itsmcore_schema') == [(later,)]
    columns = pg.raw(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'records'",
        (schema,),
    )
    assert ("archived",) in columns


def _append_as_version_1(schema: str, steps: Sequence[Step]) -> None:
    """One save as itsmcore wrote it to a version 1 schema: a call of that version's
    ``append_steps`` (records, events; no outbox rows, deadlines or signatures)."""
    recs = [s.record for s in steps]
    arrays = "%s::text[], %s::text[], %s::text[], %s::integer[], %s::integer[], " + (
        "%s::bigint[], %s::text[], %s::text[], %s::text[], %s::integer[], %s::text[], "
        "%s::text[], %s::text[], %s::text[], %s::text, %s::text[], %s::text[], %s::text[], "
        "%s::bigint[], %s::text[], %s::text[], %s::integer[], %s::text[], %s::text[]"
    )
    pg.raw(
        f'SELECT "{schema}".append_steps({arrays})',
        (
            [r.id for r in recs],
            [r.process for r in recs],
            [r.state for r in recs],
            [r.version for r in recs],
            [r.version - 1 for r in recs],
            [micros(r.opened_at) for r in recs],
            [fields_jsonb(dump(r)["fields"]) for r in recs],
            [encode(r) for r in recs],
            [s.event.record_id for s in steps],
            [s.event.version for s in steps],
            [encode(s.event) for s in steps],
            *([], [], [], None),
            *([], [], [], [], []),
            *([], [], [], []),
        ),
    )


def test_a_version_1_schema_is_migrated_to_heads_that_refuse_another_history(
    schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as released:
        released.setattr(schema_module, "SCHEMA_VERSION", 1)
        pg.store(schema).close()
    a1, b1 = opened("CT-1", team="a"), opened("CT-2", team="b")
    _append_as_version_1(schema, [a1, b1])
    a2 = updated(a1.record, count=1)
    _append_as_version_1(schema, [a2])
    assert pg.raw(f'SELECT version FROM "{schema}".itsmcore_schema') == [(1,)]

    store = pg.store(schema)  # migrates to version 2
    assert pg.raw(f'SELECT version FROM "{schema}".itsmcore_schema') == [(2,)]
    heads = dict(pg.raw(f'SELECT id, head FROM "{schema}".records'))
    assert heads == {"CT-1": a2.record.head, "CT-2": b1.record.head}
    functions = pg.raw(
        "SELECT count(*) FROM pg_proc "
        "WHERE proname = 'append_steps' AND pronamespace = %s::regnamespace",
        (f'"{schema}"',),
    )
    assert functions == [(1,)]  # the version 1 signature is gone

    fork = updated(opened("CT-2", team="x").record, count=1)  # version 2 of another history
    with pytest.raises(ic.ConcurrencyError) as err:
        store.append([fork])
    assert (err.value.expected, err.value.actual, err.value.record_id) == (1, 1, "CT-2")
    assert store.history("CT-2") == [b1.event]

    a3, b2 = updated(a2.record, count=2), updated(b1.record, count=1)
    store.append([a3, b2])
    assert (store.load("CT-1"), store.load("CT-2")) == (a3.record, b2.record)
    assert [e.version for e in store.history("CT-1")] == [1, 2, 3]
    store.close()


# -- the hash chain ------------------------------------------------------------------------------


def test_a_refused_head_names_the_first_step_whose_chain_differs(schema: str) -> None:
    store = pg.store(schema)
    a1, b1 = opened("CT-1", team="a"), opened("CT-2", team="b")
    store.append([a1, b1])
    fork = updated(opened("CT-1", team="x").record)
    # In id order CT-1 is written first; in step order CT-2's step comes first and is
    # fine, so the refusal names CT-1, as the reference adapter does.
    with pytest.raises(ic.ConcurrencyError) as err:
        store.append([updated(b1.record, count=1), fork])
    assert (err.value.expected, err.value.actual, err.value.record_id) == (1, 1, "CT-1")
    assert (store.history("CT-1"), store.history("CT-2")) == ([a1.event], [b1.event])
    store.close()


def test_a_step_off_both_the_stored_version_and_head_reports_the_versions(schema: str) -> None:
    store = pg.store(schema)
    a1 = opened("CT-1", team="a")
    store.append([a1])
    other = updated(opened("CT-1", team="x").record)
    with pytest.raises(ic.ConcurrencyError) as err:
        store.append([updated(other.record, count=2)])  # version 3 of another history
    assert (err.value.expected, err.value.actual, err.value.record_id) == (2, 1, "CT-1")
    assert store.history("CT-1") == [a1.event]
    store.close()


def test_later_steps_of_a_record_in_one_append_extend_its_first(schema: str) -> None:
    store = pg.store(schema)
    a1 = opened("CT-1", team="a")
    store.append([a1])
    a2 = updated(a1.record, count=1)
    a3 = updated(a2.record, count=2)
    store.append([a2, a3])
    assert store.history("CT-1") == [a1.event, a2.event, a3.event]
    assert pg.raw(f'SELECT head FROM "{schema}".records') == [(a3.record.head,)]
    store.close()


def test_a_schema_name_that_is_not_an_identifier_is_refused() -> None:
    with pytest.raises(ic.StorageError, match="plain identifier"):
        PostgresStorage(pg.DSN, schema='x"; DROP TABLE y; --')


def test_an_unknown_role_is_a_storage_error_that_says_what_to_check() -> None:
    pg.require_server()
    host = psycopg.conninfo.conninfo_to_dict(pg.DSN)
    url = f"postgresql://no_such_role_itsmcore@{host.get('host')}:{host.get('port', 5432)}/x"
    with pytest.raises(ic.StorageError, match="check the user") as err:
        PostgresStorage(url, schema="itsmcore_never")
    assert not isinstance(err.value, StorageUnavailable)


def test_a_server_that_does_not_answer_is_storage_unavailable() -> None:
    with pytest.raises(StorageUnavailable, match="connection failed"):
        PostgresStorage("postgresql://postgres@127.0.0.1:1/test", connect_timeout=2)


# -- URLs and the engine -------------------------------------------------------------------------


def test_url_options_go_to_the_adapter_and_the_rest_to_libpq() -> None:
    dsn, options = postgres_options(
        "postgresql://u:pw@db:5433/itsm?schema=ops&pool_size=8&lock_timeout=2.5"
        "&lease=none&notify=false&sslmode=require"
    )
    assert dsn == "postgresql://u:pw@db:5433/itsm?sslmode=require"
    assert options == {
        "schema": "ops",
        "pool_size": 8,
        "lock_timeout": 2.5,
        "lease": None,
        "notify": False,
    }
    with pytest.raises(ic.StorageError, match="pool_size is a whole number"):
        postgres_options("postgresql://db/itsm?pool_size=many")


def test_a_postgresql_url_opens_the_adapter_and_hides_the_password(schema: str) -> None:
    store = storage_from_url(pg.url(schema=schema, pool_size="1", lock_timeout="3"))
    assert isinstance(store, PostgresStorage)
    assert (store.schema, store.pool_size, store.lock_timeout) == (schema, 1, 3.0)
    store.close()
    with pytest.raises(ic.StorageError) as err:
        storage_from_url("postgresql://itsm:s3cret@127.0.0.1:1/itsm?connect_timeout=1")
    assert "s3cret" not in str(err.value)


def test_engine_postgres_opens_an_engine_over_the_schema(schema: str) -> None:
    with ic.Engine.postgres(pg.DSN, schema=schema, pool_size=1) as engine:
        assert isinstance(engine.storage, PostgresStorage)
        rec = engine.open(
            "incident",
            at=T0,
            actor=ic.Actor("alice", roles=frozenset({"agent"})),
            fields={"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 1},
        )
        assert engine.get(rec.id) == rec
        assert engine.storage.due(T0 + timedelta(days=30))  # its SLA deadlines were stored


# -- typed errors --------------------------------------------------------------------------------


def test_a_row_locked_past_the_timeout_raises_storage_busy_and_writes_nothing(
    schema: str,
) -> None:
    store = pg.store(schema, lock_timeout=0.2)
    first = opened("CT-1")
    store.append([first])
    with psycopg.connect(pg.DSN) as holder:
        holder.execute(f'SELECT 1 FROM "{schema}".records WHERE id = %s FOR UPDATE', ("CT-1",))
        with pytest.raises(ic.StorageBusy, match="lock_timeout"):
            store.append([updated(first.record)], outbox=[note_for(first)])
        holder.rollback()
    assert store.history("CT-1") == [first.event]
    assert store.pending() == []
    store.close()


# -- values jsonb cannot hold --------------------------------------------------------------------


def test_text_with_nul_round_trips_and_is_found(schema: str) -> None:
    store = pg.store(schema)
    odd = "a\x00b c"
    store.append([opened("CT-1", title=odd, team="ops"), opened("CT-2", title="a\ufffdb")])
    assert store.load("CT-1").fields["title"] == odd
    assert [r.id for r in store.find(fields={"title": odd})] == ["CT-1"]
    assert [r.id for r in store.find(fields={"title": "a\ufffdb"})] == ["CT-2"]
    assert [r.id for r in store.find(fields={"team": "ops", "title": odd}, limit=1)] == ["CT-1"]
    store.close()


def test_find_treats_true_as_one_as_python_does(schema: str) -> None:
    store = pg.store(schema)
    store.append([opened("CT-1", count=1), opened("CT-2", urgent=True), opened("CT-3", count=2)])
    assert [r.id for r in store.find(fields={"count": True})] == ["CT-1"]
    assert [r.id for r in store.find(fields={"urgent": 1.0})] == ["CT-2"]
    assert [r.id for r in store.find(fields={"count": 2.0})] == ["CT-3"]
    assert [r.id for r in store.find(fields={"urgent": None})] == ["CT-1", "CT-3"]
    store.close()


# -- work shared between workers -----------------------------------------------------------------


def test_a_worker_does_not_get_the_deadlines_another_worker_leased(schema: str) -> None:
    a, b = pg.store(schema), pg.store(schema)
    a.set_deadlines("CT-1", [deadline("CT-1", "warn", 5), deadline("CT-1", "breach", 9)])
    a.set_deadlines("CT-2", [deadline("CT-2", "warn", 7)])
    now = T0 + timedelta(hours=1)
    assert [d.key for d in a.due(now, limit=2)] == ["warn", "warn"]
    assert b.due(now) == [deadline("CT-1", "breach", 9)]
    assert [d.key for d in a.due(now)] == ["warn", "warn"]  # its own, not b's
    a.close()  # closing hands the leases back
    assert len(b.due(now)) == 3
    b.close()


def test_an_expired_lease_lets_another_worker_take_the_work(schema: str) -> None:
    a, b = pg.store(schema, lease=1.0), pg.store(schema, lease=1.0)
    steps = [opened(f"CT-{i}") for i in range(3)]
    a.append(steps, outbox=[note_for(s) for s in steps])
    assert len(a.pending()) == 3
    assert b.pending() == []
    time.sleep(1.1)
    assert b.pending() == [note_for(s) for s in steps]
    b.mark_delivered([note_for(steps[0]).id])
    assert a.pending() == []  # b's lease holds the rest
    assert b.pending() == [note_for(s) for s in steps[1:]]
    a.close()
    b.close()


def test_without_leases_every_worker_sees_all_the_work(schema: str) -> None:
    a, b = pg.store(schema, lease=None), pg.store(schema, lease=None)
    a.set_deadlines("CT-1", [deadline("CT-1", "warn", 5)])
    now = T0 + timedelta(hours=1)
    assert a.due(now) == b.due(now) == [deadline("CT-1", "warn", 5)]
    a.close()
    b.close()


def test_a_notify_wakes_a_deliverer_of_the_same_schema_only(names: list[str]) -> None:
    names.extend([pg.new_name(), pg.new_name()])
    mine, writer, other = pg.store(names[0]), pg.store(names[0]), pg.store(names[1])
    assert mine.wait_for_notifications(0) is True  # starts listening
    assert mine.wait_for_notifications(0.05) is False
    step = opened("CT-1")
    other.append([step], outbox=[note_for(step)])
    assert mine.wait_for_notifications(0.2) is False
    writer.append([step], outbox=[note_for(step)])
    assert mine.wait_for_notifications(2.0) is True
    quiet = pg.store(names[0], notify=False)
    later = updated(step.record)
    quiet.append([later], outbox=[note_for(later)])
    assert mine.wait_for_notifications(0.2) is False
    for store in (mine, writer, other, quiet):
        store.close()
