"""The release process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.machine import apply_link
from itsmcore.processes.release import TEST_LEVELS, Deployment, deployment_log

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ENGINEER = ic.Actor("rita", roles=frozenset({"release_engineer"}))
MANAGER = ic.Actor("max", roles=frozenset({"release_manager"}))
SPEC = ic.catalog.get("release")
#: The pure tests cannot link records, so they switch the "ships a change" guard off.
UNLINKED = SPEC.with_options(require_shipped_change=False)
DEPLOY: dict[str, Any] = {
    "environment": "production",
    "environment_check": "passed",
    "deployment_result": "succeeded",
}


def _open(spec: ic.ProcessSpec = UNLINKED) -> ic.Record:
    fields = {"title": "Mail 2026.12", "release_version": "2026.12.0"}
    return spec.open(record_id="REL-1", at=T0, actor=ENGINEER, fields=fields).record


def _fire(
    rec: ic.Record,
    event: str,
    actor: ic.Actor = ENGINEER,
    spec: ic.ProcessSpec = UNLINKED,
    **fields: Any,
) -> ic.Record:
    at = rec.updated_at + timedelta(minutes=1)
    return spec.fire(rec, event, at=at, actor=actor, fields=fields).record


def _testing(spec: ic.ProcessSpec = UNLINKED) -> ic.Record:
    return _fire(_fire(_open(spec), "build", spec=spec), "start_testing", spec=spec)


def _tested(spec: ic.ProcessSpec = UNLINKED, levels: tuple[str, ...] = TEST_LEVELS) -> ic.Record:
    rec = _testing(spec)
    for level in levels:
        rec = _fire(rec, "pass_test", spec=spec, test_level=level)
    return rec


def _deploying() -> ic.Record:
    rec = _fire(_tested(), "request_approval")
    return _fire(rec, "approve", MANAGER)


def test_release_walks_planning_to_closed() -> None:
    rec = _deploying()
    rec = _fire(rec, "deploy", **DEPLOY)
    rec = _fire(rec, "verify")
    assert rec.state == "verifying"
    rec = _fire(rec, "close", verification_result="passed")
    assert rec.state == "closed"
    assert UNLINKED.allowed(rec) == ()


# -- test levels (R3.4-01, R3.5-01) ----------------------------------------------------------


def test_passed_levels_are_recorded_in_tests_passed() -> None:
    assert _tested().get("tests_passed") == TEST_LEVELS


def test_leaving_testing_requires_all_four_levels_passed() -> None:
    rec = _tested(levels=("unit", "integration", "system"))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "request_approval")
    assert err.value.guard == "release.all_levels_passed"
    assert "acceptance" in err.value.reason


def test_levels_pass_in_order() -> None:
    rec = _tested(levels=("unit", "integration"))
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "pass_test", test_level="acceptance")
    assert err.value.guard == "release.level_in_order"
    assert "system" in err.value.reason


def test_level_order_can_be_switched_off() -> None:
    spec = UNLINKED.with_options(test_levels_in_order=False)
    rec = _fire(_testing(spec), "pass_test", spec=spec, test_level="acceptance")
    assert rec.get("tests_passed") == ("acceptance",)


def test_a_host_may_require_fewer_levels() -> None:
    spec = UNLINKED.with_options(test_levels=["unit", "system"])
    rec = _tested(spec, levels=("unit", "system"))
    assert _fire(rec, "request_approval", spec=spec).state == "awaiting_approval"


def test_an_unknown_test_level_option_is_a_spec_error() -> None:
    spec = UNLINKED.with_options(test_levels=["unit", "smoke"])
    with pytest.raises(ic.SpecError) as err:
        _fire(_testing(spec), "pass_test", spec=spec, test_level="unit")
    assert "smoke" in str(err.value)


def test_an_unknown_test_level_is_a_validation_error() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_testing(), "pass_test", test_level="uat")
    assert err.value.errors[0][0] == "$.fields.test_level"


def test_a_failed_test_sends_the_release_back_to_building_and_clears_passes() -> None:
    rec = _fire(_tested(levels=("unit", "integration")), "fail_test", test_level="system")
    assert rec.state == "building"
    assert rec.get("tests_passed") is None


def test_tests_passed_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_testing(), "request_approval", tests_passed=list(TEST_LEVELS))
    assert err.value.errors[0][0] == "$.fields.tests_passed"


# -- approval -------------------------------------------------------------------------------


def test_approval_needs_the_release_manager_or_cab_role() -> None:
    rec = _fire(_tested(), "request_approval")
    with pytest.raises(ic.Forbidden):
        _fire(rec, "approve", ENGINEER)
    cab = ic.Actor("carl", roles=frozenset({"cab_member"}))
    assert _fire(rec, "approve", cab).state == "deploying"


def test_a_release_that_ships_no_change_cannot_be_approved() -> None:
    rec = _fire(_tested(SPEC), "request_approval", spec=SPEC)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "approve", MANAGER, SPEC)
    assert err.value.guard == "release.ships_change"
    assert "'ships'" in err.value.reason


def test_only_an_outgoing_ships_link_counts() -> None:
    rec = _fire(_tested(SPEC), "request_approval", spec=SPEC)
    incoming = ic.Link("ships", "REL-0", rec.id, rec.updated_at)
    rec = apply_link(rec, SPEC, incoming, actor=ENGINEER).record
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "approve", MANAGER, SPEC)
    outgoing = ic.Link("ships", rec.id, "CHG-1", rec.updated_at)
    rec = apply_link(rec, SPEC, outgoing, actor=ENGINEER).record
    assert _fire(rec, "approve", MANAGER, SPEC).state == "deploying"


# -- deployment (R3.5-03, R3.5-04) ----------------------------------------------------------


def test_each_deployment_is_logged_with_time_deployer_environment_and_result() -> None:
    rec = _fire(_deploying(), "deploy", **{**DEPLOY, "environment": "staging"})
    rec = _fire(rec, "deploy", **{**DEPLOY, "deployment_result": "failed"})
    rec = _fire(rec, "deploy", ic.Actor("sam"), **DEPLOY)
    log = deployment_log(rec)
    assert [(d.environment, d.result, d.deployer) for d in log] == [
        ("staging", "succeeded", "rita"),
        ("production", "failed", "rita"),
        ("production", "succeeded", "sam"),
    ]
    assert log[-1] == Deployment(
        at=rec.updated_at, environment="production", result="succeeded", deployer="sam"
    )


def test_a_repeated_identical_deployment_is_still_logged() -> None:
    rec = _fire(_fire(_deploying(), "deploy", **DEPLOY), "deploy", **DEPLOY)
    assert len(deployment_log(rec)) == 2


def test_deploy_requires_environment_check_and_result() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_deploying(), "deploy")
    assert {p for p, _ in err.value.errors} == {
        "$.fields.environment",
        "$.fields.environment_check",
        "$.fields.deployment_result",
    }


def test_each_deploy_states_its_own_environment() -> None:
    rec = _fire(_deploying(), "deploy", **DEPLOY)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "deploy", environment_check="passed", deployment_result="succeeded")
    assert "environment" in err.value.reason


def test_a_failed_environment_check_blocks_the_deployment() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_deploying(), "deploy", **{**DEPLOY, "environment_check": "failed"})
    assert err.value.guard == "release.deployment_given"
    assert "environment check" in err.value.reason


def test_environments_may_be_restricted_by_the_host() -> None:
    spec = UNLINKED.with_options(environments=["staging", "production"])
    rec = _fire(_fire(_tested(spec), "request_approval", spec=spec), "approve", MANAGER, spec)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "deploy", spec=spec, **{**DEPLOY, "environment": "prodution"})
    assert "did you mean 'production'" in err.value.reason


def test_verify_requires_a_successful_latest_deployment() -> None:
    rec = _deploying()
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "verify")
    rec = _fire(rec, "deploy", **{**DEPLOY, "deployment_result": "failed"})
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "verify")
    assert "roll back" in err.value.reason


def test_close_requires_a_passed_final_verification() -> None:
    rec = _fire(_fire(_deploying(), "deploy", **DEPLOY), "verify")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "close")
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "close", verification_result="failed")


@pytest.mark.parametrize("verified", [False, True])
def test_rollback_from_deploying_or_verifying(verified: bool) -> None:
    rec = _fire(_deploying(), "deploy", **DEPLOY)
    if verified:
        rec = _fire(rec, "verify")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "rollback")
    rec = _fire(rec, "rollback", rollback_reason="login errors after go-live")
    assert rec.state == "rolled_back"


def test_rollback_is_not_possible_before_deployment() -> None:
    with pytest.raises(ic.InvalidTransition):
        _fire(_tested(), "rollback", rollback_reason="x")


def test_update_cannot_record_deployment_or_verification_facts() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "update", verification_result="passed")
    assert err.value.guard == "release.fields_in_place"


def test_a_deployment_result_cannot_be_written_while_building() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "build", deployment_result="succeeded")
    assert "with 'deploy' in deploying" in err.value.reason


def test_facts_cannot_be_given_on_open() -> None:
    with pytest.raises(ic.GuardFailed):
        UNLINKED.open(
            record_id="REL-1",
            at=T0,
            actor=ENGINEER,
            fields={"title": "x", "verification_result": "passed"},
        )


def test_update_cannot_empty_the_title() -> None:
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_open(), "update", title=" ")
    assert err.value.guard == "release.keeps_title"


def test_cancel_before_deployment_requires_a_reason() -> None:
    with pytest.raises(ic.GuardFailed):
        _fire(_tested(), "cancel", cancellation_reason=" ")
    assert _fire(_tested(), "cancel", cancellation_reason="scope moved").state == "cancelled"


# -- through the engine -----------------------------------------------------------------------


def _change(engine: ic.Engine) -> ic.Record:
    fields = {"title": "Postfix 3.9", "description": "upgrade", "change_type": "normal"}
    return engine.open("change", at=T0, actor=ENGINEER, fields=fields)


def _engine_awaiting_approval(engine: ic.Engine) -> ic.Record:
    rel = engine.open("release", at=T0, actor=ENGINEER, fields={"title": "Mail 2026.12"})
    for event, fields in (
        ("build", {}),
        ("start_testing", {}),
        *(("pass_test", {"test_level": lv}) for lv in TEST_LEVELS),
        ("request_approval", {}),
    ):
        rel = engine.fire(rel.id, event, at=T0, actor=ENGINEER, fields=fields)
    return rel


def test_engine_release_ships_linked_changes_and_deploys() -> None:
    engine = ic.Engine.in_memory()
    rel = _engine_awaiting_approval(engine)
    assert rel.id.startswith("REL-")
    chg = _change(engine)
    engine.link(rel.id, chg.id, "ships", at=T0, actor=ENGINEER)
    at = T0 + timedelta(hours=1)
    engine.fire(rel.id, "approve", at=at, actor=MANAGER)
    engine.fire(rel.id, "deploy", at=at, actor=ENGINEER, fields=DEPLOY)
    engine.fire(rel.id, "verify", at=at, actor=ENGINEER)
    rel = engine.fire(
        rel.id, "close", at=at, actor=ENGINEER, fields={"verification_result": "passed"}
    )
    assert rel.state == "closed"
    assert rel.linked("ships") == (chg.id,)
    assert deployment_log(rel) == (Deployment(at, "production", "succeeded", "rita"),)
    assert ic.replay(SPEC, engine.history(rel.id)) == engine.get(rel.id)


def test_engine_a_change_linked_as_shipped_in_the_release_counts() -> None:
    engine = ic.Engine.in_memory()
    rel = _engine_awaiting_approval(engine)
    chg = _change(engine)
    engine.link(chg.id, rel.id, "shipped_in", at=T0, actor=ENGINEER)
    rel = engine.fire(rel.id, "approve", at=T0, actor=MANAGER)
    assert rel.state == "deploying"
    assert rel.linked("ships") == (chg.id,)


def test_engine_a_release_linked_to_a_change_by_another_kind_ships_nothing() -> None:
    engine = ic.Engine.in_memory()
    rel = _engine_awaiting_approval(engine)
    engine.link(rel.id, _change(engine).id, "follow_up_of", at=T0, actor=ENGINEER)
    rel = engine.get(rel.id)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rel.id, "approve", at=T0, actor=MANAGER)
    assert engine.get(rel.id).version == rel.version


@pytest.mark.parametrize(
    ("event", "actor", "fields", "error"),
    [
        ("approve", MANAGER, {}, ic.GuardFailed),
        ("approve", ENGINEER, {}, ic.Forbidden),
        ("deploy", MANAGER, DEPLOY, ic.InvalidTransition),
        ("approve", MANAGER, {"tests_passed": ["unit"]}, ic.ValidationError),
    ],
)
def test_engine_refusals_store_nothing(
    event: str, actor: ic.Actor, fields: dict[str, Any], error: type[Exception]
) -> None:
    engine = ic.Engine.in_memory()
    rel = _engine_awaiting_approval(engine)
    with pytest.raises(error):
        engine.fire(rel.id, event, at=T0, actor=actor, fields=fields)
    assert engine.get(rel.id).version == rel.version


def test_engine_untested_release_cannot_go_for_approval() -> None:
    engine = ic.Engine.in_memory()
    rel = engine.open("release", at=T0, actor=ENGINEER, fields={"title": "Mail 2026.12"})
    engine.fire(rel.id, "build", at=T0, actor=ENGINEER)
    rel = engine.fire(rel.id, "start_testing", at=T0, actor=ENGINEER)
    with pytest.raises(ic.GuardFailed):
        engine.fire(rel.id, "request_approval", at=T0, actor=ENGINEER)
    assert engine.get(rel.id).version == rel.version


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "release.md"
    assert ic.catalog.get("release").to_mermaid() in page.read_text(encoding="utf-8")
