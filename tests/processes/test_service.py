"""The service (catalogue entry) process, rule by rule, through the pure spec and the
in-memory engine."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OWNER = ic.Actor("olga", roles=frozenset({"service_owner"}))
PLANNER = ic.Actor("pat")
SPEC = ic.catalog.get("service")
OPEN = {"title": "Managed e-mail", "owner": "olga"}
PLANNED = {
    "service_goals": "99.9 % mailbox availability",
    "strategy": "cloud-first collaboration",
    "requirements": ("SRQ-000001",),
}
DESIGNED = {"scope": "mailboxes, calendars", "delivery_standards": "ITIL 4 SVS"}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="SVC-1", at=T0, actor=PLANNER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = OWNER, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _live() -> ic.Record:
    rec = _fire(_open(), "design", **PLANNED)
    rec = _fire(rec, "transition", **DESIGNED)
    return _fire(rec, "go_live", slas=("SLA-000001",))


def _retiring() -> ic.Record:
    return _fire(_live(), "retire", retirement_reason="replaced", retirement_date=date(2026, 12, 1))


def test_service_walks_proposed_to_retired() -> None:
    rec = _open()
    assert rec.state == "proposed"
    rec = _fire(rec, "design", **PLANNED)
    rec = _fire(rec, "transition", **DESIGNED)
    rec = _fire(rec, "go_live", slas=("SLA-000001",))
    assert rec.state == "live"
    assert rec.get("went_live_at") == rec.updated_at
    rec = _fire(rec, "retire", retirement_reason="replaced", retirement_date=date(2026, 11, 26))
    rec = _fire(rec, "complete_retirement")
    assert rec.state == "retired"
    assert rec.get("retired_at") == rec.updated_at
    assert SPEC.allowed(rec) == ()


def test_open_requires_title_and_owner() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="SVC-1", at=T0, actor=PLANNER, fields={})
    assert {p for p, _ in err.value.errors} == {"$.fields.title", "$.fields.owner"}


def test_a_blank_owner_is_refused_on_open() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _open(owner="  ")
    assert err.value.guard == "service.filled"
    assert "owner" in err.value.reason


def test_planning_gate_needs_goals_strategy_and_requirements() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "design")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.service_goals",
        "$.fields.strategy",
        "$.fields.requirements",
    }


def test_planning_gate_refuses_an_empty_requirement_list() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "design", **{**PLANNED, "requirements": ()})
    assert "requirements" in err.value.reason


def test_design_gate_needs_scope_and_delivery_standards() -> None:
    rec = _fire(_open(), "design", **PLANNED)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "transition", scope=" ", delivery_standards="ISO 20000")
    assert err.value.guard == "service.filled"
    assert "scope" in err.value.reason


def test_go_live_needs_an_sla() -> None:
    rec = _fire(_fire(_open(), "design", **PLANNED), "transition", **DESIGNED)
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "go_live")
    assert err.value.errors[0][0] == "$.fields.slas"


def test_go_live_needs_the_service_owner_or_manager_role() -> None:
    rec = _fire(_fire(_open(), "design", **PLANNED), "transition", **DESIGNED)
    with pytest.raises(ic.Forbidden):
        _fire(rec, "go_live", actor=PLANNER, slas=("SLA-000001",))
    manager = ic.Actor("mia", roles=frozenset({"service_manager"}))
    assert _fire(rec, "go_live", actor=manager, slas=("SLA-000001",)).state == "live"


def test_improvement_is_a_loop_counted_each_time() -> None:
    rec = _fire(_live(), "improve", improvement_goal="cut spam by half")
    assert rec.state == "improving"
    rec = _fire(rec, "complete_improvement", improvement_outcome="spam down 60 %")
    assert rec.state == "live"
    assert rec.get("improvement_goal") is None
    with pytest.raises(ic.ValidationError):
        _fire(rec, "improve")  # the next cycle states its own goal
    rec = _fire(rec, "improve", improvement_goal="faster search")
    assert rec.get("improvement_count") == 2
    assert rec.get("improvement_outcome") is None


def test_retirement_date_cannot_be_in_the_past() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_live(), "retire", retirement_reason="x", retirement_date=date(2026, 1, 1))
    assert err.value.guard == "service.retirement_date_ahead"


def test_retirement_completes_no_earlier_than_its_date() -> None:
    rec = _retiring()
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "complete_retirement")
    assert err.value.guard == "service.retirement_date_reached"
    later = SPEC.fire(rec, "complete_retirement", at=datetime(2026, 12, 1, tzinfo=UTC), actor=OWNER)
    assert later.record.state == "retired"


def test_a_retiring_service_cannot_move_its_date_into_the_past() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_retiring(), "update", retirement_date=date(2025, 1, 1))


def test_withdraw_ends_a_service_that_never_went_live() -> None:
    rec = _fire(_open(), "withdraw", reason="no business case")
    assert rec.state == "withdrawn"
    with pytest.raises(ic.InvalidTransition):
        _fire(_live(), "withdraw", reason="x")


def test_withdraw_requires_a_reason() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "withdraw", reason=" ")


def test_update_cannot_clear_what_a_passed_gate_required() -> None:
    rec = _live()
    for name in ("service_goals", "scope", "slas"):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, "update", **{name: None})
        assert name in err.value.reason
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "update", owner="  ")
    with pytest.raises(ic.ValidationError):  # a required field: refused by the kernel
        _fire(rec, "update", owner=None)
    assert _fire(rec, "update", out_of_scope="shared mailboxes").get("out_of_scope")


def test_update_may_clear_gate_fields_before_the_gate() -> None:
    rec = _fire(_open(service_goals="x"), "update", service_goals=None)
    assert rec.get("service_goals") is None


def test_engine_stores_a_service_and_refuses_bad_input_without_storing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("service", at=T0, actor=PLANNER, fields=OPEN)
    assert rec.id.startswith("SVC-")
    with pytest.raises(ic.GuardFailed):
        engine.fire(rec.id, "design", at=T0, actor=OWNER, fields={**PLANNED, "strategy": " "})
    assert engine.get(rec.id).version == 1
    rec = engine.fire(rec.id, "design", at=T0, actor=OWNER, fields=PLANNED)
    assert [e.name for e in engine.history(rec.id)] == ["open", "design"]
    assert ic.replay(SPEC, engine.history(rec.id)) == engine.get(rec.id)


def test_the_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "service.md"
    assert ic.catalog.get("service").to_mermaid() in page.read_text(encoding="utf-8")


def test_the_clause_map_lists_every_catalog_process() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "iso20000-clause-map.md"
    text = page.read_text(encoding="utf-8")
    index = text.split("## Process index", 1)[1]
    missing = [n for n in ic.catalog.names() if f"| `{n}` |" not in index]
    assert not missing, f"add these processes to docs/iso20000-clause-map.md: {missing}"


def test_no_lifecycle_event_blanks_what_a_passed_gate_required() -> None:
    live = _live()
    for event, extra in (
        ("improve", {"improvement_goal": "cut latency"}),
        ("retire", {"retirement_reason": "replaced", "retirement_date": date(2027, 6, 30)}),
    ):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(live, event, scope=" ", **extra)
        assert err.value.guard == "service.keeps_gates"
