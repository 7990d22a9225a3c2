"""The configuration item process and the impact query, rule by rule."""

from __future__ import annotations

from collections import deque
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from processes_b_support import LAYERS, T0, Driver, paths

import itsmcore as ic
from itsmcore.relations import DEFAULT_LINK_RULES, LinkKind, impact

SPEC = ic.catalog.get("configuration_item")
OLGA = ic.Actor("olga", roles=frozenset({"configuration_manager"}))
SERVER = {"title": "db-01", "ci_type": "server", "owner": "olga"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "processes" / "configuration_item.md"


@pytest.fixture(params=LAYERS)
def drive(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)


def _live(drive: Driver, **fields: object) -> ic.Record:
    rec = drive.open("configuration_item", OLGA, **{**SERVER, **fields})
    return drive.walk(rec, OLGA, ("build", {}), ("go_live", {}))


# -- the lifecycle ------------------------------------------------------------------------


def test_ci_walks_planned_build_live_maintenance_retired_disposed(drive: Driver) -> None:
    rec = drive.open("configuration_item", OLGA, **SERVER)
    states = [rec.state]
    for event, fields in (
        ("build", {}),
        ("go_live", {}),
        ("start_maintenance", {"maintenance_reason": "firmware update"}),
        ("end_maintenance", {}),
        ("start_maintenance", {"maintenance_reason": "disk swap"}),
        ("retire", {"reason": "replaced by db-02"}),
        ("dispose", {"disposal_method": "recycling", "data_sanitised": True}),
    ):
        rec = drive.fire(rec, event, OLGA, **fields)
        states.append(rec.state)
    assert states == [
        "planned",
        "in_build",
        "live",
        "maintenance",
        "live",
        "maintenance",
        "retired",
        "disposed",
    ]


def test_opening_requires_title_type_and_owner(drive: Driver) -> None:
    err = drive.open_refused(ic.ValidationError, "configuration_item", OLGA)
    assert paths(err) == {"$.fields.title", "$.fields.ci_type", "$.fields.owner"}


def test_unknown_ci_type_names_the_known_types(drive: Driver) -> None:
    err = drive.open_refused(
        ic.ValidationError, "configuration_item", OLGA, title="x", ci_type="sever", owner="o"
    )
    assert "did you mean 'server'?" in str(err)


def test_name_type_and_owner_are_never_cleared(drive: Driver) -> None:
    rec = drive.open("configuration_item", OLGA, **SERVER)
    for name in ("title", "ci_type", "owner"):
        # Required on open, so the kernel itself refuses to clear them.
        err = drive.refused(ic.ValidationError, rec, "update", OLGA, **{name: None})
        assert "cannot be cleared" in str(err)


def test_live_is_active_and_maintenance_is_paused() -> None:
    assert SPEC.category("live") == "active"
    assert SPEC.category("maintenance") == "paused"


def test_start_maintenance_requires_a_reason_and_end_clears_it(drive: Driver) -> None:
    rec = _live(drive)
    err = drive.refused(ic.ValidationError, rec, "start_maintenance", OLGA)
    assert paths(err) == {"$.fields.maintenance_reason"}
    rec = drive.fire(rec, "start_maintenance", OLGA, maintenance_reason="patching")
    rec = drive.fire(rec, "end_maintenance", OLGA)
    assert rec.get("maintenance_reason") is None
    drive.refused(ic.ValidationError, rec, "start_maintenance", OLGA)


def test_retire_requires_a_reason_and_a_ci_in_service(drive: Driver) -> None:
    rec = _live(drive)
    drive.refused(ic.ValidationError, rec, "retire", OLGA)
    drive.refused(ic.GuardFailed, rec, "retire", OLGA, reason=" ")
    planned = drive.open("configuration_item", OLGA, **SERVER)
    drive.refused(ic.InvalidTransition, planned, "retire", OLGA, reason="never used")


def test_a_ci_never_built_is_cancelled_with_a_reason(drive: Driver) -> None:
    rec = drive.open("configuration_item", OLGA, **SERVER)
    drive.refused(ic.ValidationError, rec, "cancel", OLGA)
    assert drive.fire(rec, "cancel", OLGA, reason="project stopped").state == "cancelled"
    drive.refused(ic.InvalidTransition, _live(drive), "cancel", OLGA, reason="x")


# -- change control (R2.4-02) -------------------------------------------------------------


def test_controlled_attribute_of_a_live_ci_changes_only_with_a_change_ref(drive: Driver) -> None:
    rec = _live(drive, version="14.1")
    err = drive.refused(ic.GuardFailed, rec, "update", OLGA, version="15.0")
    assert err.guard == "configuration_item.change_controlled"
    assert "change_ref" in err.reason
    rec = drive.fire(rec, "update", OLGA, version="15.0", change_ref="CHG-000042")
    assert rec.get("version") == "15.0"
    assert drive.history(rec.id)[-1].changes["change_ref"] == "CHG-000042"


def test_an_earlier_change_ref_does_not_authorise_a_later_change(drive: Driver) -> None:
    rec = _live(drive)
    rec = drive.fire(rec, "update", OLGA, environment="production", change_ref="CHG-1")
    drive.refused(ic.GuardFailed, rec, "update", OLGA, environment="staging")


def test_uncontrolled_attributes_and_unbuilt_cis_need_no_change(drive: Driver) -> None:
    rec = drive.open("configuration_item", OLGA, **SERVER)
    rec = drive.fire(rec, "update", OLGA, version="1.0", environment="test")
    rec = drive.walk(rec, OLGA, ("build", {}), ("go_live", {}))
    assert drive.fire(rec, "update", OLGA, location="Rack 12").get("location") == "Rack 12"


def test_change_control_holds_for_every_event_not_only_update(drive: Driver) -> None:
    rec = drive.fire(_live(drive), "start_maintenance", OLGA, maintenance_reason="upgrade")
    drive.refused(ic.GuardFailed, rec, "end_maintenance", OLGA, version="2.0")
    rec = drive.fire(rec, "end_maintenance", OLGA, version="2.0", change_ref="CHG-7")
    assert rec.state == "live"


@pytest.mark.parametrize("layer", LAYERS)
def test_controlled_fields_are_a_host_option(layer: str) -> None:
    drive = Driver(layer, SPEC.with_options(controlled_fields=["location"]))
    rec = _live(drive)
    drive.refused(ic.GuardFailed, rec, "update", OLGA, location="DC2")
    assert drive.fire(rec, "update", OLGA, version="9").get("version") == "9"


# -- disposal -----------------------------------------------------------------------------


def test_dispose_requires_a_method(drive: Driver) -> None:
    rec = drive.fire(_live(drive), "retire", OLGA, reason="old")
    err = drive.refused(ic.ValidationError, rec, "dispose", OLGA)
    assert paths(err) == {"$.fields.disposal_method"}


def test_data_bearing_ci_is_disposed_only_once_sanitised(drive: Driver) -> None:
    rec = drive.fire(_live(drive), "retire", OLGA, reason="old")
    err = drive.refused(ic.GuardFailed, rec, "dispose", OLGA, disposal_method="resale")
    assert "data_sanitised" in err.reason
    rec = drive.fire(rec, "dispose", OLGA, disposal_method="resale", data_sanitised=True)
    assert rec.state == "disposed"


def test_a_ci_holding_no_data_needs_no_sanitising(drive: Driver) -> None:
    doc = {"title": "Runbook", "ci_type": "document", "owner": "olga"}
    rec = drive.fire(_live(drive, **doc), "retire", OLGA, reason="superseded")
    assert drive.fire(rec, "dispose", OLGA, disposal_method="destruction").state == "disposed"


# -- relationships and impact -------------------------------------------------------------


@pytest.fixture
def engine() -> ic.Engine:
    return ic.Engine.in_memory()


def _ci(engine: ic.Engine, title: str, ci_type: str = "application") -> str:
    rec = engine.open(
        "configuration_item",
        at=T0,
        actor=OLGA,
        fields={**SERVER, "title": title, "ci_type": ci_type},
    )
    return rec.id


def _link(engine: ic.Engine, a: str, b: str, kind: str) -> ic.Link:
    return engine.link(a, b, kind, at=T0, actor=OLGA)


def _seen(items: tuple[object, ...]) -> list[tuple[str, tuple[str, ...]]]:
    return [(i.id, i.path) for i in items]  # type: ignore[attr-defined]


def test_impact_of_b_contains_what_depends_on_b_with_its_path(engine: ic.Engine) -> None:
    app, db = _ci(engine, "app"), _ci(engine, "db", "database")
    _link(engine, app, db, "depends_on")
    (item,) = engine.impact(db)
    assert (item.id, item.path, item.kinds, item.depth) == (app, (db, app), ("depends_on",), 1)
    assert engine.impact(app) == ()


def test_impact_is_transitive_and_ordered_by_distance(engine: ic.Engine) -> None:
    web, app, db, host = (_ci(engine, n) for n in ("web", "app", "db", "host"))
    _link(engine, web, app, "depends_on")
    _link(engine, app, db, "depends_on")
    _link(engine, db, host, "runs_on")
    assert _seen(engine.impact(host)) == [
        (db, (host, db)),
        (app, (host, db, app)),
        (web, (host, db, app, web)),
    ]
    assert [i.kinds for i in engine.impact(host)][-1] == ("runs_on", "depends_on", "depends_on")


def test_runs_on_points_impact_from_the_host_to_what_runs_on_it(engine: ic.Engine) -> None:
    vm, hv = _ci(engine, "vm", "virtual_machine"), _ci(engine, "hv", "server")
    _link(engine, vm, hv, "runs_on")
    assert _seen(engine.impact(hv)) == [(vm, (hv, vm))]
    assert engine.impact(vm) == ()


def test_a_whole_depends_on_its_parts(engine: ic.Engine) -> None:
    disk, server = _ci(engine, "disk", "storage"), _ci(engine, "server", "server")
    _link(engine, disk, server, "part_of")
    assert _seen(engine.impact(disk)) == [(server, (disk, server))]
    assert engine.impact(server) == ()


def test_connected_to_carries_impact_both_ways(engine: ic.Engine) -> None:
    a, b = _ci(engine, "fw", "network_device"), _ci(engine, "lb", "network_device")
    _link(engine, a, b, "connected_to")
    assert _seen(engine.impact(a)) == [(b, (a, b))]
    assert _seen(engine.impact(b)) == [(a, (b, a))]


def test_redundant_with_and_non_ci_links_carry_no_impact(engine: ic.Engine) -> None:
    a, b = _ci(engine, "node1", "server"), _ci(engine, "node2", "server")
    _link(engine, a, b, "redundant_with")
    inc = engine.open(
        "incident",
        at=T0,
        actor=OLGA,
        fields={"title": "slow", "caller": "c", "impact": 2, "urgency": 2},
    )
    _link(engine, inc.id, a, "affects")
    assert engine.impact(a) == ()
    assert engine.impact(b) == ()


def test_impact_stops_on_cycles(engine: ic.Engine) -> None:
    a, b, c = (_ci(engine, n) for n in "abc")
    _link(engine, a, b, "depends_on")
    _link(engine, b, c, "depends_on")
    _link(engine, c, a, "depends_on")
    assert _seen(engine.impact(a)) == [(c, (a, c)), (b, (a, c, b))]


def test_impact_takes_a_shortest_path(engine: ic.Engine) -> None:
    top, mid, low = (_ci(engine, n) for n in ("top", "mid", "low"))
    _link(engine, top, mid, "depends_on")
    _link(engine, mid, low, "depends_on")
    _link(engine, top, low, "depends_on")
    # Both are one link away; equal distances are ordered by id (top was opened first).
    assert _seen(engine.impact(low)) == [(top, (low, top)), (mid, (low, mid))]


def test_impact_can_follow_some_kinds_and_stop_at_a_depth(engine: ic.Engine) -> None:
    web, app, host = (_ci(engine, n) for n in ("web", "app", "host"))
    _link(engine, web, app, "depends_on")
    _link(engine, app, host, "runs_on")
    assert _seen(engine.impact(host, kinds=["depends_on"])) == []
    assert _seen(engine.impact(host, max_depth=1)) == [(app, (host, app))]
    with pytest.raises(ic.ValidationError) as err:
        engine.impact(host, kinds=["depends"])
    assert "depends_on" in str(err.value)
    with pytest.raises(ic.ValidationError):
        engine.impact(host, max_depth=0)


def test_impact_of_an_unknown_record_is_not_found(engine: ic.Engine) -> None:
    with pytest.raises(ic.NotFound):
        engine.impact("CI-404")


def test_impact_includes_retired_dependants_for_the_caller_to_filter(engine: ic.Engine) -> None:
    app, db = _ci(engine, "app"), _ci(engine, "db", "database")
    _link(engine, app, db, "depends_on")
    engine.fire(app, "cancel", at=T0, actor=OLGA, fields={"reason": "dropped"})
    (item,) = engine.impact(db)
    assert item.record.state == "cancelled"


def test_linking_with_the_inverse_name_stores_the_canonical_link(engine: ic.Engine) -> None:
    app, db = _ci(engine, "app"), _ci(engine, "db", "database")
    link = _link(engine, db, app, "depended_on_by")
    assert (link.kind, link.source, link.target) == ("depends_on", app, db)
    assert _seen(engine.impact(db)) == [(app, (db, app))]


def test_impact_follows_host_kinds(engine: ic.Engine) -> None:
    rules = DEFAULT_LINK_RULES.extended(
        LinkKind("backs_up", [("configuration_item", "configuration_item")], dependant="target")
    )
    eng = ic.Engine.in_memory(link_rules=rules)
    a, b = _ci(eng, "backup"), _ci(eng, "primary")
    _link(eng, a, b, "backs_up")
    assert _seen(eng.impact(a)) == [(b, (a, b))]


# -- the pure query, as a property --------------------------------------------------------

_KINDS = ("depends_on", "runs_on", "part_of", "connected_to", "redundant_with")


def _records(n: int, edges: list[tuple[int, int, str]]) -> dict[str, ic.Record]:
    links: dict[str, list[ic.Link]] = {f"C{i}": [] for i in range(n)}
    seen: set[tuple[str, str, str]] = set()
    for a, b, kind in edges:
        src, dst = f"C{a}", f"C{b}"
        if src == dst or (kind, src, dst) in seen:
            continue
        seen.add((kind, src, dst))
        link = ic.Link(kind=kind, source=src, target=dst, at=T0)
        links[src].append(link)
        links[dst].append(link)
    return {
        rid: ic.Record(
            id=rid,
            process="configuration_item",
            spec_version=1,
            state="live",
            version=1 + len(ls),
            fields={},
            opened_at=T0,
            updated_at=T0,
            links=tuple(ls),
        )
        for rid, ls in links.items()
    }


def _depends(link: ic.Link, on: str) -> str | None:
    """The record that depends on ``on`` through ``link`` (the reference rule)."""
    if link.kind in ("depends_on", "runs_on") and link.target == on:
        return link.source
    if link.kind == "part_of" and link.source == on:
        return link.target
    if link.kind == "connected_to":
        return link.other(on)
    return None


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(1, 8),
    edges=st.lists(
        st.tuples(st.integers(0, 7), st.integers(0, 7), st.sampled_from(_KINDS)), max_size=20
    ),
    root=st.integers(0, 7),
)
def test_impact_is_exactly_the_reachable_dependants_by_shortest_paths(
    n: int, edges: list[tuple[int, int, str]], root: int
) -> None:
    edges = [(a % n, b % n, k) for a, b, k in edges]
    records = _records(n, edges)
    start = f"C{root % n}"
    # Reference: distances by a plain breadth-first search over the rule.
    dist = {start: 0}
    todo = deque([start])
    while todo:
        here = todo.popleft()
        for link in records[here].links:
            other = _depends(link, here)
            if other is not None and other not in dist:
                dist[other] = dist[here] + 1
                todo.append(other)
    found = impact(start, records.__getitem__)
    assert {i.id for i in found} == set(dist) - {start}
    assert len(found) == len({i.id for i in found})
    for item in found:
        assert item.path[0] == start
        assert item.path[-1] == item.id
        assert item.depth == dist[item.id] == len(item.path) - 1
        for (here, there), kind in zip(
            zip(item.path, item.path[1:], strict=False), item.kinds, strict=True
        ):
            assert any(
                link.kind == kind and _depends(link, here) == there for link in records[here].links
            )
    assert [i.depth for i in found] == sorted(i.depth for i in found)


def test_docs_page_shows_the_current_diagram() -> None:
    assert SPEC.to_mermaid() in DOCS.read_text(encoding="utf-8")
