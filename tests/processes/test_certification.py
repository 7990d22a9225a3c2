"""The certification process, its expiry signals and the assignment guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest

import itsmcore as ic
from itsmcore.processes.certification import DEFAULT_RENEWAL_LEAD, certified_people

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
YEAR = timedelta(days=365)
HR = ic.Actor("hana", roles=frozenset({"training_coordinator"}))
OPEN = {"title": "Network L2 certified", "person": "nick", "competency": "networking",
        "issued_at": T0, "expires_at": T0 + YEAR, "categories": ["network"]}  # fmt: skip
SPEC = ic.catalog.get("certification")


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="CRT-1", at=T0, actor=HR, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, at: datetime | None = None, **fields: Any) -> ic.Record:
    at = at or rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=HR, fields=fields).record


def test_open_requires_title_person_competency_and_issued_at() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="CRT-1", at=T0, actor=HR, fields={})
    assert {p for p, _ in err.value.errors} == {
        "$.fields.title", "$.fields.person", "$.fields.competency", "$.fields.issued_at"
    }  # fmt: skip


def test_expiry_must_be_after_issue() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(expires_at=T0)
    assert err.value.guard == "certification.expiry_after_issue"


def test_renewal_due_is_expiry_minus_the_default_lead() -> None:
    assert _open().get("renewal_due") == T0 + YEAR - DEFAULT_RENEWAL_LEAD


def test_renewal_lead_is_a_host_option() -> None:
    spec = SPEC.with_options(renewal_lead="P60D")
    rec = spec.open(record_id="CRT-1", at=T0, actor=HR, fields=OPEN).record
    assert rec.get("renewal_due") == T0 + YEAR - timedelta(days=60)


def test_a_certification_without_expiry_has_no_renewal_due_and_never_expires() -> None:
    rec = _open(expires_at=None)
    assert rec.get("renewal_due") is None
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "expire", at=T0 + 10 * YEAR)
    assert err.value.guard == "certification.expiry_reached"


def test_expire_is_refused_before_expires_at() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "expire", at=T0 + YEAR - timedelta(seconds=1))
    assert _fire(_open(), "expire", at=T0 + YEAR).state == "expired"


def test_expire_cannot_pull_its_own_expiry_forward() -> None:
    early = T0 + timedelta(days=30)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "expire", at=early, expires_at=early)
    assert err.value.guard == "certification.expiry_via_renew"


def test_renew_moves_expiry_and_renewal_due_forward() -> None:
    rec = _fire(_fire(_open(), "expire", at=T0 + YEAR), "renew", expires_at=T0 + 3 * YEAR)
    assert rec.state == "valid"
    assert rec.get("renewal_due") == T0 + 3 * YEAR - DEFAULT_RENEWAL_LEAD
    assert rec.get("renewal_count") == 1
    assert rec.get("renewed_at") == rec.updated_at


@pytest.mark.parametrize("fields", [{}, {"expires_at": T0}])
def test_renew_needs_a_new_expiry_after_the_renewal(fields: dict[str, Any]) -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "renew", **fields)
    assert err.value.guard == "certification.renewed_into_future"


def test_expiry_changes_only_by_renew() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "update", expires_at=T0 + 5 * YEAR)
    assert err.value.guard == "certification.expiry_via_renew"


def test_revoke_needs_a_reason_and_is_final() -> None:
    rec = _fire(_open(), "revoke", reason="exam fraud")
    assert rec.state == "revoked"
    assert SPEC.allowed(rec) == ()


def test_timers_signal_renewal_before_expiry_and_fire_expire_at_expiry() -> None:
    timers = {t.name: (t.state, t.at_field, t.event) for t in SPEC.timers}
    assert timers == {
        "renewal_due": ("valid", "renewal_due", None),
        "expire": ("valid", "expires_at", "expire"),
    }


def test_certified_people_lists_valid_certifications_by_category() -> None:
    nick = _open()
    mia = SPEC.open(record_id="CRT-2", at=T0, actor=HR,
                    fields={**OPEN, "person": "mia", "categories": ["network", "database"],
                            "expires_at": None}).record  # fmt: skip
    revoked = _fire(_open(person="rob"), "revoke", reason="left")
    people = certified_people([nick, mia, revoked], T0 + timedelta(days=10))
    assert people == {"database": ("mia",), "network": ("mia", "nick")}
    assert certified_people([nick, mia], T0 + 2 * YEAR) == {
        "database": ("mia",), "network": ("mia",)
    }  # fmt: skip
    with pytest.raises(ic.ValidationError):
        certified_people([nick], datetime(2026, 1, 1))


# -- the assignment guard on an incident variant ----------------------------------------------

INCIDENT = ic.catalog.get("incident")
ASSIGN_CERTIFIED = attrs.evolve(
    INCIDENT,
    version=INCIDENT.version + 1,
    transitions=tuple(
        attrs.evolve(t, guards=(*t.guards, "certification.required_for_assignment"))
        if t.event == "assign"
        else t
        for t in INCIDENT.transitions
    ),
)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))
INC = {"title": "Core switch down", "caller": "carl", "impact": 1, "urgency": 1,
       "category": "network"}  # fmt: skip


def _variant(table: dict[str, tuple[str, ...]] | None) -> ic.ProcessSpec:
    return ASSIGN_CERTIFIED if table is None else ASSIGN_CERTIFIED.with_options(
        certified_assignees=table
    )  # fmt: skip


def test_assignment_guard_requires_a_certified_assignee_for_the_category() -> None:
    spec = _variant({"network": ("nick",)})
    rec = spec.open(record_id="INC-1", at=T0, actor=AGENT, fields=INC).record
    with pytest.raises(ic.GuardFailed) as err:
        spec.fire(rec, "assign", at=T0, actor=AGENT, fields={"assignee": "bob"})
    assert err.value.guard == "certification.required_for_assignment"
    assert "nick" in err.value.reason
    ok = spec.fire(rec, "assign", at=T0, actor=AGENT, fields={"assignee": "nick"}).record
    assert ok.get("assignee") == "nick"


def test_assignment_guard_ignores_categories_without_a_requirement() -> None:
    spec = _variant({"network": ("nick",)})
    rec = spec.open(record_id="INC-1", at=T0, actor=AGENT,
                    fields={**INC, "category": "email"}).record  # fmt: skip
    assert spec.fire(rec, "assign", at=T0, actor=AGENT, fields={"assignee": "bob"}).record


def test_assignment_guard_star_applies_to_every_category() -> None:
    spec = _variant({"*": ("nick",)})
    rec = spec.open(record_id="INC-1", at=T0, actor=AGENT,
                    fields={**INC, "category": "email"}).record  # fmt: skip
    with pytest.raises(ic.GuardFailed):
        spec.fire(rec, "assign", at=T0, actor=AGENT, fields={"assignee": "bob"})


def test_assignment_guard_without_the_option_refuses_and_says_how_to_fix_it() -> None:
    spec = _variant(None)
    rec = spec.open(record_id="INC-1", at=T0, actor=AGENT, fields=INC).record
    with pytest.raises(ic.GuardFailed) as err:
        spec.fire(rec, "assign", at=T0, actor=AGENT, fields={"assignee": "nick"})
    assert "certified_people" in err.value.reason


def test_engine_assigns_only_people_with_a_valid_certification() -> None:
    engine = ic.Engine.in_memory()
    engine.open("certification", at=T0, actor=HR, fields=OPEN)
    table = certified_people(engine.find(process="certification", state="valid"), T0)
    engine.register(_variant(table))
    inc = engine.open("incident", at=T0, actor=AGENT, fields=INC)
    assert inc.spec_version == ASSIGN_CERTIFIED.version
    with pytest.raises(ic.GuardFailed):
        engine.fire(inc.id, "assign", at=T0, actor=AGENT, fields={"assignee": "bob"})
    assert engine.get(inc.id) == inc
    assert engine.fire(inc.id, "assign", at=T0, actor=AGENT,
                       fields={"assignee": "nick"}).state == "assigned"  # fmt: skip


# -- tick: renewal signal, then expiry --------------------------------------------------------


def test_engine_signals_renewal_due_then_expires_the_certification() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("certification", at=T0, actor=HR, fields=OPEN)
    renewal = T0 + YEAR - DEFAULT_RENEWAL_LEAD
    assert engine.tick(renewal - timedelta(seconds=1)) == []
    signals = engine.tick(renewal)
    assert [(getattr(s, "timer", None), s.due) for s in signals] == [("renewal_due", renewal)]
    assert engine.tick(renewal + timedelta(days=1)) == []
    fired = engine.tick(T0 + YEAR)
    assert [(getattr(s, "timer", None), getattr(s, "event", None)) for s in fired] == [
        ("expire", "expire")
    ]
    assert engine.get(rec.id).state == "expired"


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "certification.md"
    assert ic.catalog.get("certification").to_mermaid() in page.read_text(encoding="utf-8")


def test_engine_refusals_store_nothing() -> None:
    engine = ic.Engine.in_memory()
    with pytest.raises(ic.GuardFailed):
        engine.open("certification", at=T0, actor=HR, fields={**OPEN, "expires_at": T0})
    assert engine.find(process="certification") == []
    rec = engine.open("certification", at=T0, actor=HR, fields=OPEN)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "expire", at=T0 + timedelta(days=1), actor=HR)
    with pytest.raises(ic.ValidationError):
        engine.fire(rec.id, "renew", at=T0, actor=HR, fields={"expires_at": "next year"})
    assert engine.get(rec.id) == rec
    assert len(engine.history(rec.id)) == 1
