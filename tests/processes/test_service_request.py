"""The service request process, rule by rule, through the pure spec and the engine."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from processes_b_support import LAYERS, T0, Driver, paths

import itsmcore as ic
from itsmcore.processes import service_request as sr

SPEC = ic.catalog.get("service_request")
RITA = ic.Actor("rita")  # the requester
MONA = ic.Actor("mona", roles=frozenset({"line_manager"}))
OWEN = ic.Actor("owen", roles=frozenset({"resource_owner"}))
SAM = ic.Actor("sam", roles=frozenset({"agent"}))
LAPTOP = {"title": "Laptop for the new analyst", "catalogue_item": "new_laptop"}
RESET = {"title": "Reset my VPN password", "catalogue_item": "password_reset"}
DOCS = Path(__file__).resolve().parents[2] / "docs" / "processes" / "service_request.md"


@pytest.fixture(params=LAYERS)
def drive(request: pytest.FixtureRequest) -> Driver:
    return Driver(request.param)


def _awaiting(drive: Driver, **extra: object) -> ic.Record:
    rec = drive.open("service_request", RITA, **{**LAPTOP, **extra})
    return drive.fire(rec, "submit", RITA)


def _fulfilling(drive: Driver) -> ic.Record:
    return drive.fire(_awaiting(drive), "approve", MONA)


# -- the lifecycle ------------------------------------------------------------------------


def test_request_needing_approval_walks_new_awaiting_fulfilling_fulfilled_closed(
    drive: Driver,
) -> None:
    rec = drive.open("service_request", RITA, **LAPTOP)
    states = [rec.state]
    for event, actor, fields in (
        ("submit", RITA, {}),
        ("approve", MONA, {}),
        ("assign", SAM, {"assignee": "sam"}),
        ("fulfil", SAM, {"fulfilment_notes": "Imaged and handed over"}),
        ("close", SAM, {}),
    ):
        rec = drive.fire(rec, event, actor, **fields)
        states.append(rec.state)
    assert states == ["new", "awaiting_approval", "fulfilling", "fulfilling", "fulfilled", "closed"]
    assert [e.name for e in drive.history(rec.id)] == [
        "open",
        "submit",
        "approve",
        "assign",
        "fulfil",
        "close",
    ]


def test_item_without_approval_goes_straight_to_fulfilling(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **RESET)
    rec = drive.fire(rec, "submit", RITA)
    assert rec.state == "fulfilling"
    assert rec.get("approval_required") is False
    assert rec.get("approver_role") is None


def test_opening_copies_the_catalogue_items_rules_onto_the_request(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **LAPTOP)
    assert rec.get("approval_required") is True
    assert rec.get("approver_role") == "line_manager"
    assert rec.get("group") == "end_user_computing"
    assert rec.get("fulfilment_target") == timedelta(days=5)
    assert rec.get("requested_for") == "rita"


def test_a_given_group_overrides_the_items_fulfilment_group(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **LAPTOP, group="field_services")
    assert rec.get("group") == "field_services"


def test_unknown_catalogue_item_is_a_validation_error_naming_the_known_items(
    drive: Driver,
) -> None:
    err = drive.open_refused(
        ic.ValidationError, "service_request", RITA, title="x", catalogue_item="new_laptp"
    )
    assert paths(err) == {"$.fields.catalogue_item"}
    text = str(err)
    assert "did you mean 'new_laptop'?" in text
    for name in sr.DEFAULT_CATALOGUE:
        assert name in text


def test_opening_requires_title_and_catalogue_item(drive: Driver) -> None:
    err = drive.open_refused(ic.ValidationError, "service_request", RITA)
    assert paths(err) == {"$.fields.title", "$.fields.catalogue_item"}


def test_waiting_states_pause_the_clocks() -> None:
    assert SPEC.category("awaiting_approval") == "paused"
    assert SPEC.category("on_hold") == "paused"
    assert SPEC.category("fulfilling") == "open"


# -- approval -----------------------------------------------------------------------------


def test_approver_needs_the_items_approver_role(drive: Driver) -> None:
    rec = _awaiting(drive)
    err = drive.refused(ic.Forbidden, rec, "approve", OWEN)
    assert err.by == "service_request.approver_role"
    assert "'line_manager'" in str(err)


def test_the_approver_role_follows_the_item(drive: Driver) -> None:
    rec = drive.open(
        "service_request", RITA, title="Finance share", catalogue_item="access_request"
    )
    rec = drive.fire(rec, "submit", RITA)
    drive.refused(ic.Forbidden, rec, "approve", MONA)
    assert drive.fire(rec, "approve", OWEN).state == "fulfilling"


def test_requester_cannot_approve_own_request(drive: Driver) -> None:
    boss = ic.Actor("mona", roles=frozenset({"line_manager"}))
    rec = drive.open("service_request", boss, **LAPTOP)
    rec = drive.fire(rec, "submit", boss)
    err = drive.refused(ic.GuardFailed, rec, "approve", boss)
    assert err.guard == "service_request.not_requester"
    assert "opened this request" in err.reason


def test_beneficiary_cannot_approve_a_request_opened_for_them(drive: Driver) -> None:
    rec = _awaiting(drive, requested_for="mona")
    err = drive.refused(ic.GuardFailed, rec, "approve", MONA)
    assert err.guard == "service_request.not_requester"
    assert "is for 'mona'" in err.reason


def test_requester_cannot_reject_own_request_either(drive: Driver) -> None:
    boss = ic.Actor("mona", roles=frozenset({"line_manager"}))
    rec = drive.fire(drive.open("service_request", boss, **LAPTOP), "submit", boss)
    drive.refused(ic.GuardFailed, rec, "reject", boss, reason="changed my mind")


def test_approval_records_who_decided_and_when(drive: Driver) -> None:
    rec = _fulfilling(drive)
    assert rec.get("decided_by") == "mona"
    assert rec.get("decided_at") == rec.updated_at


def test_reject_requires_a_reason(drive: Driver) -> None:
    rec = _awaiting(drive)
    err = drive.refused(ic.ValidationError, rec, "reject", MONA)
    assert paths(err) == {"$.fields.reason"}
    drive.refused(ic.GuardFailed, rec, "reject", MONA, reason="   ")
    rec = drive.fire(rec, "reject", MONA, reason="Laptop refresh is due in March")
    assert rec.state == "rejected"
    assert rec.get("decided_by") == "mona"


def test_reject_needs_the_approver_role(drive: Driver) -> None:
    drive.refused(ic.Forbidden, _awaiting(drive), "reject", SAM, reason="no budget")


def test_a_request_needing_no_approval_cannot_be_approved(drive: Driver) -> None:
    rec = drive.fire(drive.open("service_request", RITA, **RESET), "submit", RITA)
    err = drive.refused(ic.InvalidTransition, rec, "approve", MONA)
    assert "approve" not in err.allowed


# -- fulfilment ---------------------------------------------------------------------------


def test_fulfil_requires_fulfilment_notes(drive: Driver) -> None:
    err = drive.refused(ic.ValidationError, _fulfilling(drive), "fulfil", SAM)
    assert paths(err) == {"$.fields.fulfilment_notes"}


def test_hold_requires_a_reason_and_resume_clears_it(drive: Driver) -> None:
    rec = _fulfilling(drive)
    err = drive.refused(ic.ValidationError, rec, "hold", SAM)
    assert paths(err) == {"$.fields.hold_reason"}
    rec = drive.fire(rec, "hold", SAM, hold_reason="awaiting_stock")
    assert rec.state == "on_hold"
    rec = drive.fire(rec, "resume", SAM)
    assert rec.state == "fulfilling"
    assert rec.get("hold_reason") is None
    drive.refused(ic.ValidationError, rec, "hold", SAM)


def test_hold_reason_must_be_a_known_reason(drive: Driver) -> None:
    err = drive.refused(ic.ValidationError, _fulfilling(drive), "hold", SAM, hold_reason="bored")
    assert "awaiting_stock" in str(err)


def test_reopen_requires_a_reason_counts_and_asks_for_fresh_notes(drive: Driver) -> None:
    rec = drive.fire(_fulfilling(drive), "fulfil", SAM, fulfilment_notes="Delivered")
    drive.refused(ic.ValidationError, rec, "reopen", RITA)
    rec = drive.fire(rec, "reopen", RITA, reason="Wrong keyboard layout")
    assert rec.state == "fulfilling"
    assert rec.get("reopen_count") == 1
    assert rec.get("fulfilment_notes") is None
    drive.refused(ic.ValidationError, rec, "fulfil", SAM)


def test_fulfilled_requests_close_automatically_after_seven_days() -> None:
    (timer,) = SPEC.timers
    assert (timer.state, timer.event, timer.after) == ("fulfilled", "close", timedelta(days=7))
    engine = ic.Engine.in_memory()
    rec = engine.open("service_request", at=T0, actor=RITA, fields=RESET)
    engine.fire(rec.id, "submit", at=T0, actor=RITA)
    engine.fire(rec.id, "fulfil", at=T0, actor=SAM, fields={"fulfilment_notes": "Done"})
    assert engine.tick(T0 + timedelta(days=7) - timedelta(seconds=1)) == []
    engine.tick(T0 + timedelta(days=7))
    closed = engine.get(rec.id)
    assert closed.state == "closed"
    assert engine.history(rec.id)[-1].actor == ic.SYSTEM


def test_cancel_requires_a_reason_and_is_not_allowed_once_fulfilled(drive: Driver) -> None:
    rec = _awaiting(drive)
    drive.refused(ic.ValidationError, rec, "cancel", RITA)
    assert drive.fire(rec, "cancel", RITA, reason="Bought one myself").state == "cancelled"
    done = drive.fire(_fulfilling(drive), "fulfil", SAM, fulfilment_notes="Delivered")
    drive.refused(ic.InvalidTransition, done, "cancel", RITA, reason="too late")


# -- what may change ----------------------------------------------------------------------


def test_item_and_beneficiary_change_only_while_new(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **RESET)
    rec = drive.fire(rec, "update", RITA, catalogue_item="new_laptop")
    assert rec.get("approval_required") is True
    assert rec.get("approver_role") == "line_manager"
    rec = drive.fire(rec, "update", RITA, catalogue_item="password_reset")
    assert rec.get("approval_required") is False
    assert rec.get("approver_role") is None
    rec = drive.fire(rec, "submit", RITA)
    err = drive.refused(ic.GuardFailed, rec, "update", RITA, catalogue_item="new_laptop")
    assert "open a new request" in err.reason
    drive.refused(ic.GuardFailed, rec, "update", RITA, requested_for="someone_else")


def test_submit_cannot_switch_to_an_item_that_needs_approval(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **RESET)
    drive.refused(ic.GuardFailed, rec, "submit", RITA, catalogue_item="new_laptop")


def test_item_and_beneficiary_change_only_by_update(drive: Driver) -> None:
    rec = _fulfilling(drive)
    for event, extra in (("assign", {"assignee": "sam"}), ("fulfil", {"fulfilment_notes": "x"})):
        for change in ({"catalogue_item": "password_reset"}, {"requested_for": "someone"}):
            drive.refused(ic.GuardFailed, rec, event, SAM, **extra, **change)


def test_update_with_an_unknown_item_is_a_validation_error(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **RESET)
    err = drive.refused(ic.ValidationError, rec, "update", RITA, catalogue_item="pony")
    assert paths(err) == {"$.fields.catalogue_item"}


def test_update_cannot_clear_the_title(drive: Driver) -> None:
    rec = drive.open("service_request", RITA, **RESET)
    drive.refused(ic.ValidationError, rec, "update", RITA, title=None)


def test_restating_the_same_item_keeps_a_reassigned_group(drive: Driver) -> None:
    rec = drive.fire(drive.open("service_request", RITA, **RESET), "submit", RITA)
    rec = drive.fire(rec, "update", SAM, group="tier2")
    rec = drive.fire(rec, "update", SAM, catalogue_item="password_reset", title="VPN reset")
    assert rec.get("group") == "tier2"


# -- the catalogue is data ----------------------------------------------------------------

HOST_CATALOGUE = {
    "parking_permit": {
        "title": "A parking permit",
        "needs_approval": True,
        "approver_role": "facilities_manager",
        "fulfilment_group": "facilities",
        "target": "P3D",
    },
    "toner": {"needs_approval": False, "fulfilment_group": "print", "target": 3600},
}


@pytest.mark.parametrize("layer", LAYERS)
def test_host_catalogue_replaces_the_default_one(layer: str) -> None:
    drive = Driver(layer, sr.with_catalogue(HOST_CATALOGUE))
    rec = drive.open("service_request", RITA, title="Permit", catalogue_item="parking_permit")
    assert rec.get("fulfilment_target") == timedelta(days=3)
    rec = drive.fire(rec, "submit", RITA)
    drive.refused(ic.Forbidden, rec, "approve", MONA)
    fm = ic.Actor("fay", roles=frozenset({"facilities_manager"}))
    assert drive.fire(rec, "approve", fm).state == "fulfilling"
    toner = drive.open("service_request", RITA, title="Toner", catalogue_item="toner")
    assert toner.get("fulfilment_target") == timedelta(hours=1)
    assert toner.get("group") == "print"
    err = drive.open_refused(
        ic.ValidationError, "service_request", RITA, title="x", catalogue_item="new_laptop"
    )
    assert "parking_permit, toner" in str(err)


def test_malformed_catalogue_is_a_spec_error_listing_every_problem() -> None:
    with pytest.raises(ic.SpecError) as err:
        sr.with_catalogue(
            {
                "a": {"needs_approval": True, "fulfilment_group": "g", "target": "P1D"},
                "b": {"needs_approval": "yes", "fulfilment_group": "", "target": "soon"},
                "c": {"needs_approval": False, "fulfilment_group": "g", "target": "P1D", "x": 1},
            }
        )
    problems = "\n".join(err.value.problems)
    assert "catalogue.a.approver_role" in problems
    assert "catalogue.b.needs_approval" in problems
    assert "catalogue.b.fulfilment_group" in problems
    assert "catalogue.b.target" in problems
    assert "catalogue.c.x: unknown key" in problems


def test_empty_catalogue_is_a_spec_error() -> None:
    with pytest.raises(ic.SpecError):
        sr.with_catalogue({})


def test_default_catalogue_parses_into_items() -> None:
    items = sr.catalogue_of(SPEC)
    assert set(items) == set(sr.DEFAULT_CATALOGUE)
    assert items["new_laptop"].approver_role == "line_manager"
    assert items["password_reset"].needs_approval is False


def test_docs_page_shows_the_current_diagram() -> None:
    assert SPEC.to_mermaid() in DOCS.read_text(encoding="utf-8")
