"""Removing a relationship: ``unlink``, the mirror of ``link``, one rule per test."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from processes_b_support import T0

import itsmcore as ic
from itsmcore.machine import apply_link, apply_unlink

OLGA = ic.Actor("olga", roles=frozenset({"configuration_manager", "agent"}))
LATER = T0 + timedelta(days=30)
CI = {"ci_type": "server", "owner": "olga"}


@pytest.fixture(params=["memory", "sqlite"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ic.Engine]:
    eng = (
        ic.Engine.in_memory() if request.param == "memory" else ic.Engine.sqlite(tmp_path / "u.db")
    )
    yield eng
    eng.close()


def _ci(engine: ic.Engine, title: str) -> str:
    return engine.open("configuration_item", at=T0, actor=OLGA, fields={"title": title, **CI}).id


def _unchanged(engine: ic.Engine, *records: ic.Record) -> None:
    for rec in records:
        assert engine.get(rec.id) == rec
        assert len(engine.history(rec.id)) == rec.version


def test_unlink_removes_the_link_from_both_records_with_an_audited_event(
    engine: ic.Engine,
) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    link = engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    removed = engine.unlink(vm, host, "runs_on", at=LATER, actor=OLGA)
    assert removed == link
    for rid in (vm, host):
        rec = engine.get(rid)
        assert rec.links == ()
        assert rec.version == 3
        event = engine.history(rid)[-1]
        assert (event.name, event.source, event.target, event.link) == (
            "unlink",
            rec.state,
            rec.state,
            link,
        )
        assert event.at == LATER
        assert event.actor == OLGA
        assert dict(event.changes) == {}
    assert engine.verify().broken == ()


def test_the_unlink_event_carries_the_link_as_it_was_added(engine: ic.Engine) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    engine.unlink(vm, host, "runs_on", at=LATER, actor=OLGA)
    event = engine.history(vm)[-1]
    assert event.link is not None
    assert event.link.at == T0
    assert event.at == LATER


def test_impact_no_longer_follows_a_removed_link(engine: ic.Engine) -> None:
    vm, old, new = _ci(engine, "vm"), _ci(engine, "hv-01"), _ci(engine, "hv-02")
    engine.link(vm, old, "runs_on", at=T0, actor=OLGA)
    assert [i.id for i in engine.impact(old)] == [vm]
    engine.unlink(vm, old, "runs_on", at=LATER, actor=OLGA)
    engine.link(vm, new, "runs_on", at=LATER, actor=OLGA)
    assert engine.impact(old) == ()
    assert [i.id for i in engine.impact(new)] == [vm]


def test_a_link_removed_can_be_added_again(engine: ic.Engine) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    engine.unlink(vm, host, "runs_on", at=LATER, actor=OLGA)
    again = engine.link(vm, host, "runs_on", at=LATER, actor=OLGA)
    assert engine.get(vm).links == (again,) == engine.get(host).links
    names = [e.name for e in engine.history(vm)]
    assert names == ["open", "link", "unlink", "link"]


def test_removing_a_link_the_records_do_not_hold_is_refused_and_writes_nothing(
    engine: ic.Engine,
) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "depends_on", at=T0, actor=OLGA)
    before = engine.get(vm), engine.get(host)
    with pytest.raises(ic.ValidationError, match=r"no runs_on link.*depends_on") as caught:
        engine.unlink(vm, host, "runs_on", at=LATER, actor=OLGA)
    assert caught.value.errors[0][0] == "$.link"
    _unchanged(engine, *before)


def test_a_non_symmetric_link_is_not_found_the_other_way_round(engine: ic.Engine) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    before = engine.get(vm), engine.get(host)
    with pytest.raises(ic.ValidationError):
        engine.unlink(host, vm, "runs_on", at=LATER, actor=OLGA)
    _unchanged(engine, *before)


def test_the_inverse_name_removes_the_canonical_link(engine: ic.Engine) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    link = engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    assert engine.unlink(host, vm, "hosts", at=LATER, actor=OLGA) == link
    assert engine.get(vm).links == () == engine.get(host).links


def test_a_symmetric_link_is_found_either_way_round(engine: ic.Engine) -> None:
    a, b = _ci(engine, "sw-01"), _ci(engine, "sw-02")
    link = engine.link(a, b, "connected_to", at=T0, actor=OLGA)
    assert engine.unlink(b, a, "connected_to", at=LATER, actor=OLGA) == link
    assert engine.get(a).links == () == engine.get(b).links


def test_unlink_works_in_a_terminal_state(engine: ic.Engine) -> None:
    inc = engine.open(
        "incident",
        at=T0,
        actor=OLGA,
        fields={"title": "Mail down", "caller": "carol", "impact": 3, "urgency": 3},
    )
    ci = _ci(engine, "mail-01")
    engine.link(inc.id, ci, "affects", at=T0, actor=OLGA)
    engine.fire(inc.id, "cancel", at=T0, actor=OLGA, fields={"reason": "duplicate"})
    assert ic.catalog.get("incident").is_terminal(engine.get(inc.id).state)
    engine.unlink(inc.id, ci, "affects", at=LATER, actor=OLGA)
    assert engine.get(inc.id).links == ()


def test_the_process_pair_is_not_checked_again_when_removing() -> None:
    # Rules narrowed after the link was made must not trap it.
    wide = ic.Engine.in_memory()
    vm, host = _ci(wide, "vm"), _ci(wide, "hv-01")
    wide.link(vm, host, "runs_on", at=T0, actor=OLGA)
    narrow_rules = ic.LinkRules(k for k in ic.DEFAULT_LINK_RULES if k.name != "depends_on")
    narrow = ic.Engine(wide.storage, link_rules=narrow_rules)
    assert narrow.unlink(vm, host, "runs_on", at=LATER, actor=OLGA).kind == "runs_on"


def test_unknown_kinds_and_missing_records_fail_before_anything_is_written(
    engine: ic.Engine,
) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    before = engine.get(vm), engine.get(host)
    with pytest.raises(ic.ValidationError, match=r"unknown link kind 'runs_onn'.*runs_on"):
        engine.unlink(vm, host, "runs_onn", at=LATER, actor=OLGA)
    with pytest.raises(ic.ValidationError, match="short identifier"):
        engine.unlink(vm, host, "runs on", at=LATER, actor=OLGA)
    with pytest.raises(ic.NotFound):
        engine.unlink(vm, "CI-999999", "runs_on", at=LATER, actor=OLGA)
    with pytest.raises(ic.ValidationError, match=r"\$\.at"):
        engine.unlink(vm, host, "runs_on", at=LATER.replace(tzinfo=None), actor=OLGA)
    _unchanged(engine, *before)


def test_an_unlink_dated_before_the_last_event_is_refused(engine: ic.Engine) -> None:
    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=LATER, actor=OLGA)
    before = engine.get(vm), engine.get(host)
    with pytest.raises(ic.ValidationError, match="never go back"):
        engine.unlink(vm, host, "runs_on", at=T0, actor=OLGA)
    _unchanged(engine, *before)


def test_an_authorization_plugin_sees_unlink_and_its_deny_writes_nothing(
    engine: ic.Engine,
) -> None:
    seen: list[str] = []

    class NoUnlink:
        @ic.hookimpl
        def itsmcore_authorize(self, actor: ic.Actor, record: ic.Record, event: ic.Event) -> Any:
            seen.append(event.name)
            return event.name != "unlink"

    vm, host = _ci(engine, "vm"), _ci(engine, "hv-01")
    engine.link(vm, host, "runs_on", at=T0, actor=OLGA)
    engine.plugins.register(NoUnlink(), name="no-unlink")
    before = engine.get(vm), engine.get(host)
    with pytest.raises(ic.Forbidden, match="no-unlink"):
        engine.unlink(vm, host, "runs_on", at=LATER, actor=OLGA)
    assert "unlink" in seen
    _unchanged(engine, *before)


def test_replay_rebuilds_the_links_after_link_and_unlink(engine: ic.Engine) -> None:
    vm, a, b = _ci(engine, "vm"), _ci(engine, "hv-01"), _ci(engine, "hv-02")
    engine.link(vm, a, "runs_on", at=T0, actor=OLGA)
    engine.link(vm, b, "depends_on", at=T0, actor=OLGA)
    engine.unlink(vm, a, "runs_on", at=LATER, actor=OLGA)
    spec = engine.catalog.get("configuration_item")
    events = engine.history(vm)
    assert ic.replay(spec, events) == engine.get(vm)
    as_of_link = ic.replay(spec, events[:3])
    assert [x.kind for x in as_of_link.links] == ["runs_on", "depends_on"]
    folded: tuple[ic.Link, ...] = ()
    for e in events:
        folded = ic.links_after(folded, e.name, e.link)
    assert folded == engine.get(vm).links


def test_the_pure_layer_matches_a_link_by_key_not_by_time() -> None:
    spec = ic.catalog.get("configuration_item")
    vm = spec.open(record_id="CI-1", at=T0, actor=OLGA, fields={"title": "vm", **CI})
    link = ic.Link("runs_on", "CI-1", "CI-2", T0)
    linked = apply_link(vm.record, spec, link, actor=OLGA).record
    step = apply_unlink(
        linked, spec, ic.Link("runs_on", "CI-1", "CI-2", LATER), at=LATER, actor=OLGA
    )
    assert step.event.link == link
    assert step.record.links == ()


def test_unlink_is_reserved_so_a_spec_cannot_declare_it() -> None:
    with pytest.raises(ic.SpecError, match="reserved"):
        ic.ProcessSpec(
            name="custom",
            version=1,
            states=(
                ic.StateSpec("open", "open", initial=True),
                ic.StateSpec("done", "closed", terminal=True),
            ),
            opening=ic.TransitionSpec("open", (), "open"),
            transitions=(ic.TransitionSpec("unlink", ("open",), "done"),),
        )


def test_fire_refuses_unlink_as_an_event_name(engine: ic.Engine) -> None:
    vm = _ci(engine, "vm")
    with pytest.raises(ic.InvalidTransition):
        engine.fire(vm, "unlink", at=LATER, actor=OLGA)
