"""``unlink`` through an engine on PostgreSQL: the link leaves both stored records, the
history replays and the chain verifies (the save function treats it like any step)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pg_support as pg

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
