"""The risk process, rule by rule, through the pure spec and the in-memory engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore.processes.risk import DEFAULT_RISK_MATRIX, RiskMatrix

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ANALYST = ic.Actor("ria", roles=frozenset({"security_analyst"}))
OWNER = ic.Actor("otto", roles=frozenset({"risk_owner"}))
OPEN = {"title": "Backup server unpatched", "threat": "ransomware"}
SPEC = ic.catalog.get("risk")
PLAN = {"treatment": "mitigate", "treatment_plan": "patch monthly, isolate backups"}


def _open(**extra: Any) -> ic.Record:
    return SPEC.open(record_id="RSK-1", at=T0, actor=ANALYST, fields={**OPEN, **extra}).record


def _fire(rec: ic.Record, event: str, actor: ic.Actor = ANALYST, **fields: Any) -> ic.Record:
    at = rec.updated_at + timedelta(hours=1)
    return SPEC.fire(rec, event, at=at, actor=actor, fields=fields).record


def _assessed(likelihood: int = 4, impact: int = 5) -> ic.Record:
    return _fire(_open(), "assess", likelihood=likelihood, impact=impact)


def _monitoring() -> ic.Record:
    rec = _fire(_fire(_assessed(), "plan_treatment", **PLAN), "treat")
    return _fire(rec, "monitor", next_review_at=T0 + timedelta(days=90))


def test_risk_walks_identified_assessed_planned_treated_monitoring_closed() -> None:
    rec = _open()
    states = [rec.state]
    for event, fields in (
        ("assess", {"likelihood": 3, "impact": 3}),
        ("plan_treatment", PLAN),
        ("treat", {"residual_likelihood": 1, "residual_impact": 3}),
        ("monitor", {"next_review_at": T0 + timedelta(days=30)}),
        ("close", {"reason": "system decommissioned"}),
    ):
        rec = _fire(rec, event, **fields)
        states.append(rec.state)
    assert states == [
        "identified", "assessed", "treatment_planned", "treated", "monitoring", "closed"
    ]  # fmt: skip


def test_open_requires_a_title() -> None:
    with pytest.raises(ic.ValidationError) as err:
        SPEC.open(record_id="RSK-1", at=T0, actor=ANALYST, fields={})
    assert err.value.errors == (("$.fields.title", "is required to open the record"),)


def test_assess_requires_likelihood_and_impact() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_open(), "assess")
    assert {p for p, _ in err.value.errors} == {"$.fields.likelihood", "$.fields.impact"}


def test_level_comes_from_the_matrix_and_score_is_likelihood_times_impact() -> None:
    for likelihood in range(1, 6):
        for impact in range(1, 6):
            rec = _assessed(likelihood, impact)
            assert rec.get("level") == DEFAULT_RISK_MATRIX.level(likelihood, impact)
            assert rec.get("score") == likelihood * impact
    assert _assessed(5, 5).get("level") == "critical"
    assert _assessed(1, 1).get("level") == "low"


def test_level_is_recomputed_when_likelihood_changes() -> None:
    rec = _fire(_assessed(1, 1), "update", likelihood=5)
    assert (rec.get("level"), rec.get("score")) == ("medium", 5)


def test_residual_level_is_derived_from_residual_likelihood_and_impact() -> None:
    rec = _fire(_assessed(), "plan_treatment", **PLAN)
    rec = _fire(rec, "treat", residual_likelihood=2, residual_impact=2)
    assert (rec.get("residual_level"), rec.get("residual_score")) == ("low", 4)


def test_level_and_score_cannot_be_set_by_the_caller() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _open(level="low", score=1)
    assert {p for p, _ in err.value.errors} == {"$.fields.level", "$.fields.score"}


def test_host_risk_matrix_option_is_used() -> None:
    three = {
        "likelihoods": [1, 2, 3],
        "impacts": [1, 2, 3],
        "levels": ["green", "amber", "red"],
        "table": [["green", "green", "amber"], ["green", "amber", "red"],
                  ["amber", "red", "red"]],
    }  # fmt: skip
    spec = SPEC.with_options(risk_matrix=three)
    rec = spec.open(record_id="RSK-1", at=T0, actor=ANALYST,
                    fields={**OPEN, "likelihood": 3, "impact": 3}).record  # fmt: skip
    assert rec.get("level") == "red"
    with pytest.raises(ic.ValidationError) as err:
        spec.open(record_id="RSK-2", at=T0, actor=ANALYST,
                  fields={**OPEN, "likelihood": 5, "impact": 1})  # fmt: skip
    assert err.value.errors[0][0] == "$.fields.likelihood"


def test_a_risk_matrix_with_a_gap_is_refused_when_built() -> None:
    with pytest.raises(ic.SpecError) as err:
        RiskMatrix(likelihoods=(1, 2), impacts=(1,), levels=("low",), table={(1, 1): "low"})
    assert "missing likelihood 2 x impact 1" in str(err.value)


def test_a_risk_matrix_with_an_unknown_level_is_refused() -> None:
    with pytest.raises(ic.SpecError) as err:
        RiskMatrix.from_dict(
            {"likelihoods": [1], "impacts": [1], "levels": ["low"], "table": [["huge"]]}
        )
    assert "'huge' is not one of the levels" in str(err.value)


def test_risk_matrix_round_trips_through_plain_data() -> None:
    assert RiskMatrix.from_dict(DEFAULT_RISK_MATRIX.to_dict()) == DEFAULT_RISK_MATRIX


def test_accepting_a_risk_needs_the_risk_owner_role() -> None:
    fields = {"treatment": "accept", "acceptance_rationale": "cost exceeds impact"}
    with pytest.raises(ic.Forbidden):
        _fire(_assessed(), "plan_treatment", **fields)
    rec = _fire(_assessed(), "plan_treatment", actor=OWNER, **fields)
    assert rec.state == "treatment_planned"
    assert rec.get("accepted_by") == "otto"


def test_accepting_a_risk_needs_a_rationale() -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_assessed(), "plan_treatment", actor=OWNER, treatment="accept")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(_assessed(), "plan_treatment", actor=OWNER, treatment="accept",
              acceptance_rationale="  ")  # fmt: skip
    assert err.value.guard == "risk.acceptance_justified"


@pytest.mark.parametrize("treatment", ["mitigate", "transfer", "avoid"])
def test_other_treatments_need_a_plan_but_no_role(treatment: str) -> None:
    with pytest.raises(ic.ValidationError):
        _fire(_assessed(), "plan_treatment", treatment=treatment)
    rec = _fire(_assessed(), "plan_treatment", treatment=treatment, treatment_plan="do it")
    assert rec.state == "treatment_planned"
    assert rec.get("accepted_by") is None


def test_plan_treatment_requires_a_treatment() -> None:
    with pytest.raises(ic.ValidationError) as err:
        _fire(_assessed(), "plan_treatment", treatment_plan="x")
    assert err.value.errors == (("$.fields.treatment", "is required to plan_treatment"),)


def test_update_cannot_change_the_treatment() -> None:
    rec = _fire(_assessed(), "plan_treatment", **PLAN)
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "update", treatment="accept")
    assert err.value.guard == "risk.treatment_via_plan"


def test_accepting_a_risk_needs_the_risk_owner_role_on_every_event() -> None:
    planned = _fire(_assessed(), "plan_treatment", **PLAN)
    treated = _fire(planned, "treat")
    monitored = _monitoring()
    for rec, event, extra in (
        (planned, "treat", {}),
        (treated, "monitor", {"next_review_at": treated.updated_at + timedelta(days=90)}),
        (monitored, "review", {"next_review_at": monitored.updated_at + timedelta(days=90)}),
        (monitored, "reassess", {"reason": "new exploit"}),
        (monitored, "close", {"reason": "asset retired"}),
    ):
        with pytest.raises(ic.GuardFailed) as err:
            _fire(rec, event, treatment="accept", acceptance_rationale="cheap", **extra)
        assert err.value.guard == "risk.treatment_via_plan"


def test_level_is_recomputed_when_plan_treatment_carries_a_new_rating() -> None:
    rec = _fire(_assessed(likelihood=4, impact=5), "plan_treatment", likelihood=1, **PLAN)
    assert rec.get("level") == DEFAULT_RISK_MATRIX.level(1, 5)
    assert rec.get("score") == 5


def test_the_rating_changes_after_planning_only_by_reassess() -> None:
    monitored = _monitoring()
    with pytest.raises(ic.GuardFailed):
        _fire(monitored, "review", likelihood=1, next_review_at=T0 + timedelta(days=900))


def test_update_cannot_change_the_rating_once_treatment_is_planned() -> None:
    rec = _fire(_assessed(), "plan_treatment", **PLAN)
    with pytest.raises(ic.GuardFailed):
        _fire(rec, "update", likelihood=1)


def test_monitor_requires_a_future_review_date() -> None:
    rec = _fire(_fire(_assessed(), "plan_treatment", **PLAN), "treat")
    with pytest.raises(ic.ValidationError):
        _fire(rec, "monitor")
    with pytest.raises(ic.GuardFailed) as err:
        _fire(rec, "monitor", next_review_at=T0)
    assert err.value.guard == "risk.next_review_after_now"


def test_review_stamps_last_reviewed_at() -> None:
    rec = _monitoring()
    reviewed = _fire(rec, "review", next_review_at=T0 + timedelta(days=400))
    assert reviewed.state == "monitoring"
    assert reviewed.get("last_reviewed_at") == reviewed.updated_at


def test_reassess_takes_a_monitored_risk_back_to_assessed() -> None:
    rec = _fire(_monitoring(), "reassess", reason="new exploit published", likelihood=5)
    assert rec.state == "assessed"
    assert rec.get("level") == DEFAULT_RISK_MATRIX.level(5, 5)


def test_close_requires_a_reason_and_only_from_monitoring() -> None:
    with pytest.raises(ic.InvalidTransition):
        _fire(_assessed(), "close", reason="x")
    with pytest.raises(ic.GuardFailed):
        _fire(_monitoring(), "close", reason=" ")


def test_review_due_timer_signals_at_next_review_at() -> None:
    timer = next(t for t in SPEC.timers if t.name == "review_due")
    assert (timer.state, timer.at_field, timer.event) == ("monitoring", "next_review_at", None)


# -- through the engine -----------------------------------------------------------------------


def test_engine_walks_a_risk_and_replays_it() -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("risk", at=T0, actor=ANALYST, fields=OPEN)
    assert rec.id.startswith("RSK-")
    at = T0
    for event, fields, actor in (
        ("assess", {"likelihood": 2, "impact": 4}, ANALYST),
        ("plan_treatment", {"treatment": "accept", "acceptance_rationale": "low value"}, OWNER),
        ("treat", {}, ANALYST),
        ("monitor", {"next_review_at": T0 + timedelta(days=180)}, ANALYST),
    ):
        at += timedelta(hours=1)
        rec = engine.fire(rec.id, event, at=at, actor=actor, fields=fields)
    assert rec.state == "monitoring"
    assert ic.replay(SPEC, engine.history(rec.id)) == engine.get(rec.id)


@pytest.mark.parametrize(
    ("event", "fields", "actor", "error"),
    [
        ("plan_treatment", {"treatment": "accept", "acceptance_rationale": "x"}, ANALYST,
         ic.Forbidden),
        ("plan_treatment", {"treatment": "mitigate", "treatment_plan": " "}, ANALYST,
         ic.GuardFailed),
        ("plan_treatment", {"treatment": "ignore"}, ANALYST, ic.ValidationError),
        ("close", {"reason": "x"}, ANALYST, ic.InvalidTransition),
    ],
)  # fmt: skip
def test_engine_refusals_store_nothing(
    event: str, fields: dict[str, Any], actor: ic.Actor, error: type[Exception]
) -> None:
    engine = ic.Engine.in_memory()
    rec = engine.open("risk", at=T0, actor=ANALYST, fields=OPEN)
    rec = engine.fire(rec.id, "assess", at=T0, actor=ANALYST,
                      fields={"likelihood": 3, "impact": 3})  # fmt: skip
    with pytest.raises(error):
        engine.fire(rec.id, event, at=T0 + timedelta(minutes=5), actor=actor, fields=fields)
    assert engine.get(rec.id) == rec
    assert len(engine.history(rec.id)) == rec.version


def test_docs_page_shows_the_current_diagram() -> None:
    page = Path(__file__).resolve().parents[2] / "docs" / "processes" / "risk.md"
    assert ic.catalog.get("risk").to_mermaid() in page.read_text(encoding="utf-8")
