"""The compliance obligation process, rule by rule, through the spec and the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
OFFICER = ic.Actor("olga", roles=frozenset({"compliance_officer"}))
OPEN = {"title": "PIPL consent for personal data", "kind": "law", "source": "PIPL",
        "source_version": "2021", "clause": "Art. 13"}  # fmt: skip
SPEC = ic.catalog.get("compliance_obligation")
ASSESS = {"applicability": "All customer records with personal data", "owner": "olga"}
REVISION = {
    "revision_summary": "Amendment tightens cross-border transfer rules",
    "impact_assessment": "Transfers need a recorded legal basis before approval",
    "affected_specs": ["change@1"],
    "affected_controls": ["CTL-000004"],
    "source_version": "2026",
}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="OBL-1", at=T0, actor=OFFICER, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(days=1)
    return SPEC.fire(rec, event, at=at, actor=OFFICER, fields=fields).record


def _monitored() -> ic.Record:
    rec = _fire(_fire(_open(), "assess", **ASSESS), "implement", controls=["CTL-000001"])
    return _fire(rec, "monitor", next_review_at=T0 + timedelta(days=365))


def test_obligation_walks_identified_assessed_implemented_monitored_revised_retired() -> None:
    rec = _open()
    states = [rec.state]
    for event, fields in (
        ("assess", ASSESS),
        ("implement", {"controls": ["CTL-000001"]}),
        ("monitor", {"next_review_at": T0 + timedelta(days=365)}),
        ("revise", REVISION),
        ("retire", {"reason": "law repealed"}),
    ):
        rec = _fire(rec, event, **fields)
        states.append(rec.state)
    assert states == ["identified", "assessed", "implemented", "monitored", "revised",
                      "retired"]  # fmt: skip
    assert SPEC.allowed(rec) == ()


def test_open_requires_title_kind_and_source() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="OBL-1", at=T0, actor=OFFICER, fields={})
    assert {p for p, _ in err.value.errors} == {"$.fields.title", "$.fields.kind",
                                                "$.fields.source"}  # fmt: skip


@pytest.mark.parametrize("kind", ["law", "industry_standard", "internal_policy"])
def test_kind_is_law_industry_standard_or_internal_policy(kind: str) -> None:
    assert _open(kind=kind).get("kind") == kind


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ic.ValidationError):
        _open(kind="regulation")


def test_an_obligation_starts_at_version_one() -> None:
    assert _open().get("obligation_version") == 1


def test_assess_requires_applicability_and_owner() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "assess")
    with pytest.raises(ic.GuardFailed):
        _fire(_open(), "assess", applicability=" ", owner="olga")


def test_implement_requires_a_mapped_control_or_process() -> None:
    rec = _fire(_open(), "assess", **ASSESS)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "implement")
    assert err.value.guard == "compliance_obligation.mapped"
    assert _fire(rec, "implement", processes=["change"]).state == "implemented"


def test_monitor_requires_a_future_review_date() -> None:
    rec = _fire(_fire(_open(), "assess", **ASSESS), "implement", controls=["CTL-1"])
    with pytest.raises(ic.ValidationError):
        _fire(rec, "monitor")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "monitor", next_review_at=T0)


def test_review_stamps_last_reviewed_at_and_moves_the_next_review() -> None:
    rec = _fire(_monitored(), "review", next_review_at=T0 + timedelta(days=800))
    assert rec.state == "monitored"
    assert rec.get("last_reviewed_at") == rec.updated_at


def test_a_revision_opens_an_impact_assessment_and_bumps_the_version() -> None:
    rec = _fire(_monitored(), "revise", **REVISION)
    assert rec.state == "revised"
    assert rec.get("obligation_version") == 2
    assert rec.get("affected_specs") == ("change@1",)
    assert rec.get("affected_controls") == ("CTL-000004",)
    rec = _fire(_fire(rec, "implement"), "monitor", next_review_at=T0 + timedelta(days=900))
    rec = _fire(rec, "revise", **{**REVISION, "revision_summary": "second amendment"})
    assert rec.get("obligation_version") == 3


def test_a_revision_requires_an_impact_assessment() -> None:
    fields = {k: v for k, v in REVISION.items() if k != "impact_assessment"}
    with pytest.raises(ic.ValidationError) as err:
        _fire(_monitored(), "revise", **fields)
    assert err.value.errors == (("$.fields.impact_assessment", "is required to revise"),)


def test_a_revision_must_name_what_it_touches() -> None:
    fields = {**REVISION, "affected_specs": [], "affected_controls": []}
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_monitored(), "revise", **fields)
    assert err.value.guard == "compliance_obligation.revision_scoped"


def test_a_second_revision_states_its_own_assessment() -> None:
    rec = _fire(_monitored(), "revise", **REVISION)
    rec = _fire(_fire(rec, "implement"), "monitor", next_review_at=T0 + timedelta(days=900))
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "revise", affected_specs=["incident@1"])


def test_the_source_edition_changes_only_by_revision() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_monitored(), "update", source_version="2026")
    assert err.value.guard == "compliance_obligation.edition_via_revise"


def test_no_lifecycle_event_changes_the_source_edition_without_a_revision() -> None:
    assessed = _fire(_open(), "assess", **ASSESS)
    implemented = _fire(assessed, "implement", controls=["CTL-000001"])
    later = {"next_review_at": T0 + timedelta(days=900)}
    for rec, event, extra in (
        (assessed, "implement", {"controls": ["CTL-000001"]}),
        (implemented, "monitor", later),
        (_monitored(), "review", later),
    ):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, event, source_version="2026", **extra)
        assert err.value.guard == "compliance_obligation.edition_via_revise"


def test_obligation_version_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_monitored(), "update", obligation_version=7)


def test_retire_requires_a_reason() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_open(), "retire")


# -- through the engine -----------------------------------------------------------------------


def test_engine_signals_review_due_once_per_review_date() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("compliance_obligation", at=T0, actor=OFFICER, fields=OPEN)
    engine.fire(rec.id, "assess", at=T0, actor=OFFICER, fields=ASSESS)
    engine.fire(rec.id, "implement", at=T0, actor=OFFICER, fields={"controls": ["CTL-1"]})
    due = T0 + timedelta(days=90)
    engine.fire(rec.id, "monitor", at=T0, actor=OFFICER, fields={"next_review_at": due})
    assert engine.tick(due - timedelta(seconds=1)) == []
    signals = engine.tick(due)
    assert [(getattr(s, "timer", None), s.due) for s in signals] == [("review_due", due)]
    assert engine.tick(due + timedelta(days=1)) == []
    later = due + timedelta(days=365)
    engine.fire(rec.id, "review", at=due + timedelta(days=2), actor=OFFICER,
                fields={"next_review_at": later})  # fmt: skip
    assert [s.due for s in engine.tick(later)] == [later]


def test_engine_refuses_an_unscoped_revision_and_stores_nothing() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("compliance_obligation", at=T0, actor=OFFICER, fields=OPEN)
    engine.fire(rec.id, "assess", at=T0, actor=OFFICER, fields=ASSESS)
    engine.fire(rec.id, "implement", at=T0, actor=OFFICER, fields={"controls": ["CTL-1"]})
    rec = engine.fire(rec.id, "monitor", at=T0, actor=OFFICER,
                      fields={"next_review_at": T0 + timedelta(days=9)})  # fmt: skip
    with pytest.raises(ic.GuardFailed):
        engine.fire(
            rec.id,
            "revise",
            at=T0,
            actor=OFFICER,
            fields={**REVISION, "affected_specs": [], "affected_controls": []},
        )
    with pytest.raises(ic.ValidationError):
        engine.fire(rec.id, "revise", at=T0, actor=OFFICER,
                    fields={**REVISION, "affected_specs": "change@1"})  # fmt: skip
    assert engine.get(rec.id) == rec
    assert len(engine.history(rec.id)) == rec.version


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "compliance_obligation.md"
    assert ic.catalog.get("compliance_obligation").to_mermaid() in page.read_text(encoding="utf-8")
