"""The knowledge article process, rule by rule, through the pure spec and the engine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from processes_b_support import LAYERS, T0, Driver, paths

import itsmcore as ic
from itsmcore.processes import knowledge_article as ka

SPEC = ic.catalog.get("knowledge_article")
ANNA = ic.Actor("anna", roles=frozenset({"agent"}))  # the author
KIM = ic.Actor("kim", roles=frozenset({"knowledge_manager"}))
HOWTO = {"title": "Connect to the VPN from home", "kind": "how_to"}
BODY = {"body": "1. Open the client. 2. Choose 'Office'. 3. Sign in."}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "processes" / "knowledge_article.md"


@pytest.fixture(params=LAYERS)
def drive(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)


def _in_review(drive: Driver, **fields: object) -> ic.Record:
    rec = drive.open("knowledge_article", ANNA, **{**HOWTO, **BODY, **fields})
    return drive.fire(rec, "submit", ANNA)


def _published(drive: Driver, **fields: object) -> ic.Record:
    return drive.fire(_in_review(drive, **fields), "publish", KIM)


# -- the lifecycle ------------------------------------------------------------------------


def test_article_walks_draft_review_published_retired(drive: Driver) -> None:
    rec = drive.open("knowledge_article", ANNA, **HOWTO)
    states = [rec.state]
    for event, actor, fields in (
        ("update", ANNA, BODY),
        ("submit", ANNA, {}),
        ("publish", KIM, {}),
        ("retire", KIM, {"reason": "VPN replaced by zero-trust access"}),
    ):
        rec = drive.fire(rec, event, actor, **fields)
        states.append(rec.state)
    assert states == ["draft", "draft", "in_review", "published", "retired"]


def test_opening_requires_title_and_kind(drive: Driver) -> None:
    err = drive.open_refused(ic.ValidationError, "knowledge_article", ANNA)
    assert paths(err) == {"$.fields.title", "$.fields.kind"}


def test_kinds_include_how_to_known_error_workaround_and_faq() -> None:
    assert {"how_to", "known_error_workaround", "faq"} <= set(SPEC.field("kind").choices)


def test_the_author_defaults_to_who_opened_it(drive: Driver) -> None:
    assert drive.open("knowledge_article", ANNA, **HOWTO).get("author") == "anna"


def test_submit_requires_a_body(drive: Driver) -> None:
    rec = drive.open("knowledge_article", ANNA, **HOWTO)
    err = drive.refused(ic.ValidationError, rec, "submit", ANNA)
    assert paths(err) == {"$.fields.body"}


def test_a_written_body_is_never_cleared(drive: Driver) -> None:
    rec = drive.open("knowledge_article", ANNA, **HOWTO, **BODY)
    drive.refused(ic.GuardFailed, rec, "update", ANNA, body="")


def test_retire_requires_a_reason(drive: Driver) -> None:
    rec = _published(drive)
    drive.refused(ic.ValidationError, rec, "retire", KIM)
    drive.refused(ic.GuardFailed, rec, "retire", KIM, reason="  ")


# -- four eyes ----------------------------------------------------------------------------


def test_publish_needs_the_knowledge_manager_role(drive: Driver) -> None:
    err = drive.refused(ic.Forbidden, _in_review(drive), "publish", ic.Actor("bob"))
    assert "knowledge_manager" in str(err)


def test_author_cannot_publish_own_article(drive: Driver) -> None:
    writer = ic.Actor("kim", roles=frozenset({"knowledge_manager"}))
    rec = drive.fire(drive.open("knowledge_article", writer, **HOWTO, **BODY), "submit", writer)
    err = drive.refused(ic.GuardFailed, rec, "publish", writer)
    assert err.guard == "knowledge_article.not_author"


def test_naming_someone_else_as_author_does_not_let_the_writer_publish(drive: Driver) -> None:
    writer = ic.Actor("kim", roles=frozenset({"knowledge_manager"}))
    rec = drive.open("knowledge_article", writer, **HOWTO, **BODY, author="anna")
    rec = drive.fire(rec, "submit", writer)
    drive.refused(ic.GuardFailed, rec, "publish", writer)


def test_the_author_cannot_publish_by_naming_another_author_in_the_same_event(
    drive: Driver,
) -> None:
    kim_wrote = drive.fire(
        drive.open("knowledge_article", ANNA, **HOWTO, **BODY, author="kim"), "submit", ANNA
    )
    drive.refused(ic.GuardFailed, kim_wrote, "publish", KIM, author="anna")


@pytest.mark.parametrize("layer", LAYERS)
def test_four_eyes_can_be_switched_off_by_the_host(layer: str) -> None:
    drive = Driver(layer, SPEC.with_options(four_eyes=False))
    rec = drive.fire(drive.open("knowledge_article", KIM, **HOWTO, **BODY), "submit", KIM)
    assert drive.fire(rec, "publish", KIM).state == "published"


def test_reject_sends_the_article_back_with_fresh_review_notes(drive: Driver) -> None:
    rec = _in_review(drive)
    err = drive.refused(ic.ValidationError, rec, "reject", KIM)
    assert paths(err) == {"$.fields.review_notes"}
    rec = drive.fire(rec, "reject", KIM, review_notes="Add a screenshot")
    assert rec.state == "draft"
    rec = drive.fire(rec, "submit", ANNA)
    err2 = drive.refused(ic.GuardFailed, rec, "reject", KIM)
    assert "review_notes" in err2.reason


# -- review due (R5.3-03) -----------------------------------------------------------------


def test_publishing_sets_review_due_180_days_later(drive: Driver) -> None:
    rec = _published(drive)
    assert rec.get("published_at") == rec.updated_at
    assert rec.get("review_due") == rec.updated_at + timedelta(days=180)
    assert rec.get("revision") == 1


@pytest.mark.parametrize("layer", LAYERS)
def test_the_review_interval_is_a_host_option(layer: str) -> None:
    drive = Driver(layer, SPEC.with_options(review_interval="P90D"))
    rec = _published(drive)
    assert rec.get("review_due") == rec.updated_at + timedelta(days=90)


def test_an_article_may_set_its_own_review_interval(drive: Driver) -> None:
    rec = _published(drive, review_interval=timedelta(days=30))
    assert rec.get("review_due") == rec.updated_at + timedelta(days=30)


def test_a_zero_review_interval_is_refused(drive: Driver) -> None:
    err = drive.open_refused(
        ic.GuardFailed, "knowledge_article", ANNA, **HOWTO, review_interval=timedelta(0)
    )
    assert "longer than zero" in err.reason


def test_a_bad_review_interval_option_is_a_spec_error() -> None:
    spec = SPEC.with_options(review_interval="half a year")
    rec = spec.open(record_id="KB-1", at=T0, actor=ANNA, fields={**HOWTO, **BODY}).record
    rec = spec.fire(rec, "submit", at=T0, actor=ANNA).record
    with pytest.raises(ic.SpecError) as err:
        spec.fire(rec, "publish", at=T0, actor=KIM)
    assert "options.review_interval" in str(err.value)


def test_review_due_timer_signals_while_published() -> None:
    (timer,) = SPEC.timers
    assert (timer.name, timer.state, timer.at_field, timer.event) == (
        "review_due",
        "published",
        "review_due",
        None,
    )


def test_tick_signals_a_due_review_once_and_again_after_confirmation() -> None:
    engine = ic.Engine.in_memory()
    art = engine.open("knowledge_article", at=T0, actor=ANNA, fields={**HOWTO, **BODY})
    engine.fire(art.id, "submit", at=T0, actor=ANNA)
    art = engine.fire(art.id, "publish", at=T0, actor=KIM)
    due = art.get("review_due")
    assert engine.tick(due - timedelta(seconds=1)) == []
    (signal,) = engine.tick(due)
    assert (signal.record_id, signal.timer, signal.due) == (art.id, "review_due", due)
    assert engine.tick(due + timedelta(days=1)) == []
    art = engine.fire(art.id, "confirm", at=due + timedelta(days=1), actor=KIM)
    (again,) = engine.tick(art.get("review_due"))
    assert again.due == due + timedelta(days=181)


def test_confirming_a_review_moves_review_due_on(drive: Driver) -> None:
    rec = _published(drive)
    later = rec.updated_at + timedelta(days=170)
    rec = drive.fire(rec, "confirm", KIM, at=later)
    assert rec.state == "published"
    assert rec.get("last_reviewed_at") == later
    assert rec.get("review_due") == later + timedelta(days=180)
    drive.refused(ic.Forbidden, rec, "confirm", ANNA)


def test_a_revised_article_reenters_review(drive: Driver) -> None:
    rec = _published(drive)
    err = drive.refused(ic.ValidationError, rec, "revise", ANNA, body="New steps")
    assert paths(err) == {"$.fields.revision_notes"}
    rec = drive.fire(rec, "revise", ANNA, body="New steps", revision_notes="Client v5")
    assert rec.state == "in_review"
    assert rec.get("body") == "New steps"
    rec = drive.fire(rec, "publish", KIM)
    assert rec.get("revision") == 2
    assert rec.get("review_due") == rec.updated_at + timedelta(days=180)
    err2 = drive.refused(ic.GuardFailed, rec, "revise", ANNA, body="Newer")
    assert "revision_notes" in err2.reason


def test_a_published_article_is_never_edited_silently(drive: Driver) -> None:
    err = drive.refused(ic.InvalidTransition, _published(drive), "update", ANNA, body="x")
    assert "revise" in err.allowed


def test_confirming_a_review_cannot_change_the_published_content(drive: Driver) -> None:
    rec = _published(drive)
    for change in ({"body": "something else"}, {"title": "Other"}, {"known_error": "KE-9"}):
        err = drive.refused(ic.GuardFailed, rec, "confirm", KIM, **change)
        assert err.guard == "knowledge_article.confirm_only"
    notes = {"review_notes": "still right", "review_interval": timedelta(days=90)}
    assert drive.fire(rec, "confirm", KIM, **notes).state == "published"


# -- knowledge from known errors (R5.3-05) ------------------------------------------------


def test_workaround_article_names_its_known_error(drive: Driver) -> None:
    rec = drive.open(
        "knowledge_article", ANNA, title="Printer queue stuck", kind="known_error_workaround"
    )
    rec = drive.fire(rec, "update", ANNA, **BODY)
    err = drive.refused(ic.GuardFailed, rec, "submit", ANNA)
    assert "known_error" in err.reason
    assert drive.fire(rec, "submit", ANNA, known_error="KE-000001").state == "in_review"


def test_a_documents_link_also_names_the_known_error() -> None:
    engine = ic.Engine.in_memory()
    ke = engine.open(
        "known_error", at=T0, actor=ANNA, fields={"title": "Spooler hangs on large PDFs"}
    )
    art = engine.open(
        "knowledge_article",
        at=T0,
        actor=ANNA,
        fields={"title": "Printer queue stuck", "kind": "known_error_workaround", **BODY},
    )
    with pytest.raises(ic.GuardFailed):
        engine.fire(art.id, "submit", at=T0, actor=ANNA)
    engine.link(art.id, ke.id, "documents", at=T0, actor=ANNA)
    assert engine.fire(art.id, "submit", at=T0, actor=ANNA).state == "in_review"


def test_docs_page_shows_the_current_diagram() -> None:
    assert SPEC.to_mermaid() in DOCS.read_text(encoding="utf-8")


def test_kinds_are_exported() -> None:
    assert SPEC.field("kind").choices == ka.KINDS
