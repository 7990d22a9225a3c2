"""The known error process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
AUTHOR = ic.Actor("pat", roles=frozenset({"problem_manager"}))
SPEC = ic.catalog.get("known_error")
CONTENT = {
    "symptoms": "Outlook shows 'disconnected' after 22:00",
    "workaround": "Restart the spool service on MX1",
}


def _open(**extra: Any) -> ic.Record:
    fields = {"title": "Mail queue stalls", "problem": "PRB-000001", **extra}
    return SPEC.open(record_id="KE-1", at=T0, actor=AUTHOR, fields=fields).record


def _fire(rec: ic.Record, event: str, **fields: Any) -> ic.Record:
    return SPEC.fire(
        rec, event, at=rec.updated_at + timedelta(minutes=1), actor=AUTHOR, fields=fields
    ).record


def test_known_error_walks_draft_published_retired() -> None:
    rec = _open(**CONTENT)
    assert rec.state == "draft"
    rec = _fire(rec, "publish")
    assert rec.state == "published"
    rec = _fire(rec, "retire", reason="fix deployed by CHG-000003", fix_status="deployed")
    assert rec.state == "retired"
    assert SPEC.allowed(rec) == ()


def test_open_requires_a_title() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="KE-1", at=T0, actor=AUTHOR, fields={"workaround": "x"})
    assert err.value.errors == (("$.fields.title", "is required to open the record"),)


def test_known_error_has_the_documented_fields() -> None:
    names = {f.name for f in SPEC.fields}
    assert {"title", "problem", "symptoms", "root_cause", "workaround", "fix_change"} <= names


def test_publish_requires_a_workaround() -> None:
    rec = _open(symptoms=CONTENT["symptoms"])
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "publish")
    assert err.value.errors == (("$.fields.workaround", "is required to publish"),)


def test_publish_requires_symptoms() -> None:
    rec = _open(workaround=CONTENT["workaround"])
    with pytest.raises(ic.ValidationError) as err:
        _fire(rec, "publish")
    assert err.value.errors == (("$.fields.symptoms", "is required to publish"),)


def test_a_blank_workaround_is_not_published() -> None:
    rec = _open(symptoms=CONTENT["symptoms"], workaround="  \n")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "publish")
    assert err.value.guard == "known_error.publishable"
    assert "workaround" in err.value.reason


def test_the_workaround_may_be_given_with_publish() -> None:
    rec = _fire(_open(symptoms=CONTENT["symptoms"]), "publish", workaround="Restart spool")
    assert rec.state == "published"
    assert rec.get("workaround") == "Restart spool"


def test_a_published_workaround_may_be_rewritten_but_not_emptied() -> None:
    rec = _fire(_open(**CONTENT), "publish")
    rec = _fire(rec, "update", workaround="Run mailq -f on MX1")
    assert rec.get("workaround") == "Run mailq -f on MX1"
    for empty in (None, " "):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, "update", workaround=empty)
        assert err.value.guard == "known_error.keeps_content"


def test_a_draft_may_drop_its_workaround() -> None:
    rec = _fire(_open(**CONTENT), "update", workaround=None)
    assert rec.get("workaround") is None


def test_retire_requires_a_reason() -> None:
    rec = _fire(_open(**CONTENT), "publish")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "retire")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "retire", reason=" ")


def test_a_draft_may_be_retired_unpublished() -> None:
    assert _fire(_open(), "retire", reason="not a real error").state == "retired"


def test_fix_status_is_one_of_the_declared_values() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(fix_status="done")
    assert err.value.errors[0][0] == "$.fields.fix_status"


def test_engine_publishes_a_known_error_for_a_problem() -> None:
    engine = ic.Engine.in_memory()
    prb = engine.open(
        "problem",
        at=T0,
        actor=AUTHOR,
        fields={"title": "Mail queue stalls", "impact": 2, "urgency": 2},
    )
    ke = engine.open(
        "known_error",
        at=T0,
        actor=AUTHOR,
        fields={"title": "Mail queue stalls", "problem": prb.id, **CONTENT},
    )
    assert ke.id.startswith("KE-")
    ke = engine.fire(ke.id, "publish", at=T0 + timedelta(hours=1), actor=AUTHOR)
    assert engine.find(process="known_error", state="published", problem=prb.id) == [ke]


@pytest.mark.parametrize(
    ("event", "fields", "error"),
    [
        ("publish", {}, ic.ValidationError),
        ("publish", {"workaround": ""}, ic.GuardFailed),
        ("publish", {"fix_status": "someday"}, ic.ValidationError),
        ("unpublish", {}, ic.InvalidTransition),
    ],
)
def test_engine_refusals_store_nothing(
    event: str, fields: dict[str, Any], error: type[Exception]
) -> None:
    engine = ic.Engine.in_memory()
    ke = engine.open(
        "known_error",
        at=T0,
        actor=AUTHOR,
        fields={"title": "Mail queue stalls", "symptoms": "slow"},
    )
    with pytest.raises(error):
        engine.fire(ke.id, event, at=T0, actor=AUTHOR, fields=fields)
    assert engine.get(ke.id).version == ke.version == 1


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "known_error.md"
    assert ic.catalog.get("known_error").to_mermaid() in page.read_text(encoding="utf-8")
