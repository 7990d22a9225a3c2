"""Engine features on PostgreSQL beyond the contract suite: ``unlink`` (the link leaves
both stored records, the history replays, the chain verifies) and cadence occurrences
claimed in the save that opens them, by several workers at once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pg_support as pg
import sqlite_workers as w

import itsmcore as ic

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
OLGA = ic.Actor("olga", roles=frozenset({"configuration_manager"}))


def test_unlink_is_stored_on_both_records_and_replays() -> None:
    pg.require_server()
    with pg.schemas() as names:
        names.append(pg.new_name())
        engine = ic.Engine(pg.store(names[-1]))
        try:
            fields = {"ci_type": "server", "owner": "olga"}
            vm, host = (
                engine.open(
                    "configuration_item", at=T0, actor=OLGA, fields={"title": t, **fields}
                ).id
                for t in ("vm", "hv-01")
            )
            link = engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
            later = T0 + timedelta(days=1)
            assert engine.unlink(vm, host, "runs_on", at=later, actor=OLGA) == link
            reader = ic.Engine(pg.store(names[-1]))  # a fresh engine: no cached snapshot
            try:
                spec = reader.catalog.get("configuration_item")
                for rid in (vm, host):
                    assert reader.get(rid).links == ()
                    assert ic.replay(spec, reader.history(rid)) == reader.get(rid)
                assert reader.history(vm)[-1].link == link
                assert reader.verify().broken == ()
                assert reader.impact(host) == ()
            finally:
                reader.close()
        finally:
            engine.close()


def test_workers_ticking_together_open_each_cadence_occurrence_once() -> None:
    pg.require_server()
    with pg.schemas() as names:
        names.append(pg.new_name())
        engines = [ic.Engine(pg.store(names[-1]), cadences=[w.HOURLY]) for _ in range(3)]
        try:
            assert all(e._claims_in_append for e in engines)
            barrier = threading.Barrier(len(engines))
            opened: list[list[object]] = [[] for _ in engines]

            def work(i: int) -> None:
                barrier.wait()
                opened[i] = list(engines[i].tick(w.CADENCE_NOW))

            threads = [threading.Thread(target=work, args=(i,)) for i in range(len(engines))]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            records = engines[0].find(process="scheduled_activity")
            assert sum(len(o) for o in opened) == len(records) == 24
            assert len({r.fields["scheduled_for"] for r in records}) == 24
            notes = [n for n in engines[0].storage.pending(limit=1000) if n.kind == "cadence"]
            assert len(notes) == 24
        finally:
            for engine in engines:
                engine.close()
