"""Links between records: known kinds, allowed process pairs, inverse names, audit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from processes_b_support import T0

import itsmcore as ic
from itsmcore.relations import DEFAULT_LINK_RULES, LinkKind, LinkRules, kinds_table

ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "processes" / "configuration_item.md"

OPEN: dict[str, dict[str, Any]] = {
    "incident": {"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 2},
    "problem": {"title": "Mail queue stalls", "impact": 2, "urgency": 2},
    "known_error": {"title": "Queue stalls on full disk"},
    "change": {
        "title": "Grow the spool disk",
        "description": "Add 200 GB to the spool volume",
        "change_type": "normal",
    },
    "release": {"title": "2026.12 platform release"},
    "configuration_item": {"title": "mail-01", "ci_type": "server", "owner": "olga"},
    "service_request": {"title": "Reset", "catalogue_item": "password_reset"},
    "security_incident": {"title": "Phishing wave"},
    "knowledge_article": {"title": "Clear the mail queue", "kind": "how_to"},
}


@pytest.fixture
def engine() -> ic.Engine:
    return ic.Engine.in_memory()


def _open(engine: ic.Engine, process: str) -> ic.Record:
    return engine.open(process, at=T0, actor=ALICE, fields=OPEN[process])


def _unchanged(engine: ic.Engine, *records: ic.Record) -> None:
    for rec in records:
        assert engine.get(rec.id) == rec
        assert len(engine.history(rec.id)) == rec.version


@pytest.mark.parametrize(
    ("source", "kind", "target"),
    [
        ("incident", "caused_by", "problem"),
        ("problem", "documented_by", "known_error"),
        ("problem", "fixed_by", "change"),
        ("change", "affects", "configuration_item"),
        ("release", "ships", "change"),
        ("incident", "affects", "configuration_item"),
        ("incident", "matches", "known_error"),
        ("incident", "caused_by", "change"),
        ("knowledge_article", "documents", "known_error"),
        ("incident", "resolved_with", "knowledge_article"),
        ("security_incident", "affects", "configuration_item"),
        ("problem", "follow_up_of", "security_incident"),
        ("service_request", "duplicate_of", "service_request"),
    ],
)
def test_known_link_kinds_join_their_processes_audited_on_both_sides(
    engine: ic.Engine, source: str, kind: str, target: str
) -> None:
    a, b = _open(engine, source), _open(engine, target)
    link = engine.link(a.id, b.id, kind, at=T0, actor=ALICE)
    for rec in (a, b):
        stored = engine.get(rec.id)
        assert stored.version == rec.version + 1
        assert stored.links == (link,)
        event = engine.history(rec.id)[-1]
        assert (event.name, event.link, event.source, event.target) == (
            "link",
            link,
            rec.state,
            rec.state,
        )


def test_an_inverse_name_stores_the_canonical_kind_with_the_ends_swapped(
    engine: ic.Engine,
) -> None:
    problem, change = _open(engine, "problem"), _open(engine, "change")
    link = engine.link(change.id, problem.id, "fixes", at=T0, actor=ALICE)
    assert (link.kind, link.source, link.target) == ("fixed_by", problem.id, change.id)
    assert engine.get(problem.id).linked("fixed_by") == (change.id,)


def test_unknown_link_kind_is_a_validation_error_naming_the_known_kinds(
    engine: ic.Engine,
) -> None:
    a, b = _open(engine, "incident"), _open(engine, "problem")
    with pytest.raises(ic.ValidationError) as err:
        engine.link(a.id, b.id, "causd_by", at=T0, actor=ALICE)
    text = str(err.value)
    assert "did you mean 'caused_by'?" in text
    assert "depends_on" in text
    assert "link_rules" in text
    _unchanged(engine, a, b)


def test_a_pair_the_kind_does_not_allow_is_a_validation_error_naming_the_allowed_pairs(
    engine: ic.Engine,
) -> None:
    a, b = _open(engine, "incident"), _open(engine, "configuration_item")
    with pytest.raises(ic.ValidationError) as err:
        engine.link(a.id, b.id, "caused_by", at=T0, actor=ALICE)
    text = str(err.value)
    assert "incident → configuration_item" in text
    assert "incident → problem" in text
    _unchanged(engine, a, b)


def test_linking_a_missing_record_is_not_found_and_stores_nothing(engine: ic.Engine) -> None:
    a = _open(engine, "incident")
    with pytest.raises(ic.NotFound):
        engine.link(a.id, "PRB-404", "caused_by", at=T0, actor=ALICE)
    with pytest.raises(ic.NotFound):
        engine.link("PRB-404", a.id, "causes", at=T0, actor=ALICE)
    _unchanged(engine, a)


def test_a_duplicate_link_is_refused(engine: ic.Engine) -> None:
    a, b = _open(engine, "incident"), _open(engine, "problem")
    engine.link(a.id, b.id, "caused_by", at=T0, actor=ALICE)
    a, b = engine.get(a.id), engine.get(b.id)
    for kind, src, dst in (("caused_by", a, b), ("causes", b, a)):
        with pytest.raises(ic.ValidationError):
            engine.link(src.id, dst.id, kind, at=T0, actor=ALICE)
    _unchanged(engine, a, b)


def test_a_symmetric_link_the_other_way_round_is_a_duplicate(engine: ic.Engine) -> None:
    a, b = _open(engine, "configuration_item"), _open(engine, "configuration_item")
    engine.link(a.id, b.id, "connected_to", at=T0, actor=ALICE)
    a, b = engine.get(a.id), engine.get(b.id)
    with pytest.raises(ic.ValidationError) as err:
        engine.link(b.id, a.id, "connected_to", at=T0, actor=ALICE)
    assert "symmetric" in str(err.value)
    _unchanged(engine, a, b)


def test_follow_up_of_joins_any_two_processes(engine: ic.Engine) -> None:
    spec = ic.load_spec(
        {
            "name": "vendor_ticket",
            "version": 1,
            "states": [
                {"name": "open", "initial": True},
                {"name": "done", "category": "closed", "terminal": True},
            ],
            "transitions": [{"event": "finish", "sources": ["open"], "target": "done"}],
            "fields": [{"name": "title", "type": "str", "required": True}],
        }
    )
    eng = ic.Engine.in_memory(processes=[spec])
    ticket = eng.open("vendor_ticket", at=T0, actor=ALICE, fields={"title": "Case 881"})
    inc = eng.open("incident", at=T0, actor=ALICE, fields=OPEN["incident"])
    eng.link(ticket.id, inc.id, "follow_up_of", at=T0, actor=ALICE)
    with pytest.raises(ic.ValidationError):
        eng.link(ticket.id, inc.id, "caused_by", at=T0, actor=ALICE)


# -- hosts add kinds ----------------------------------------------------------------------


def test_a_host_adds_a_link_kind_through_an_engine_option() -> None:
    rules = DEFAULT_LINK_RULES.extended(
        LinkKind("escalated_to", [("incident", "problem")], inverse="escalated_from")
    )
    engine = ic.Engine.in_memory(link_rules=rules)
    a, b = _open(engine, "incident"), _open(engine, "problem")
    link = engine.link(b.id, a.id, "escalated_from", at=T0, actor=ALICE)
    assert (link.kind, link.source, link.target) == ("escalated_to", a.id, b.id)
    with pytest.raises(ic.ValidationError):
        ic.Engine.in_memory().link(a.id, b.id, "escalated_to", at=T0, actor=ALICE)


def test_a_host_adds_pairs_to_an_existing_kind() -> None:
    rules = DEFAULT_LINK_RULES.extended(
        LinkKind("caused_by", [("service_request", "change")], inverse="causes")
    )
    engine = ic.Engine.in_memory(link_rules=rules)
    req, chg = _open(engine, "service_request"), _open(engine, "change")
    engine.link(req.id, chg.id, "caused_by", at=T0, actor=ALICE)
    inc, prb = _open(engine, "incident"), _open(engine, "problem")
    engine.link(inc.id, prb.id, "caused_by", at=T0, actor=ALICE)


def test_extending_a_kind_may_not_change_its_meaning() -> None:
    with pytest.raises(ic.SpecError) as err:
        DEFAULT_LINK_RULES.extended(
            LinkKind("depends_on", [("service", "configuration_item")], dependant="target")
        )
    assert "add pairs only" in str(err.value)


def test_a_malformed_link_kind_is_a_spec_error_listing_every_problem() -> None:
    with pytest.raises(ic.SpecError) as err:
        LinkKind("Bad-Kind", [], inverse="Bad-Kind", dependant="upwards")
    problems = "\n".join(err.value.problems)
    assert "lower_snake_case" in problems
    assert "inverse" in problems
    assert "dependant" in problems
    assert "at least one" in problems


def test_symmetric_kinds_have_no_inverse() -> None:
    with pytest.raises(ic.SpecError):
        LinkKind("peers_with", [("a", "b")], inverse="peered_by", symmetric=True)


def test_two_kinds_may_not_share_a_name() -> None:
    with pytest.raises(ic.SpecError) as err:
        LinkRules([LinkKind("blocks", [("*", "*")], inverse="caused_by"), *DEFAULT_LINK_RULES])
    assert "'caused_by' is used by two link kinds" in str(err.value)


# -- the vocabulary -----------------------------------------------------------------------


def test_every_process_named_by_a_built_in_kind_is_a_built_in_process() -> None:
    processes = set(ic.catalog.names()) | {"*"}
    for kind in DEFAULT_LINK_RULES:
        for src, dst in kind.pairs:
            assert {src, dst} <= processes, f"{kind.name}: {src} → {dst}"


def test_every_link_kind_is_documented() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for name, pairs in kinds_table().items():
        assert f"`{name}`" in text, name
        assert pairs.split(",")[0] in text, name
