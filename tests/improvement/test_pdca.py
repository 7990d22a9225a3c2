"""The PDCA improvement process: measured baselines, checks, decisions and cycles.

Small logs: two problems a week, a four-week baseline window and weekly SPC buckets, so
the hand-computed values stay readable. The demo stories of the seed (48 h → 24 h,
first response within 20 minutes, availability 99.9 %, CSAT 92 %) run in full in
``docs/examples/make_report.py``; ``test_report.py`` uses that data set.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import itsmcore as ic
from itsmcore.improvement import kpis, pdca
from itsmcore.improvement.kpis import KpiValue
from itsmcore.improvement.sources import KPI_UNITS, kpi_processes
from itsmcore.records import Actor, Record, Step
from itsmcore.sla import Period
from itsmcore.testing.stateful import ProcessStateMachine, process_state_machine

ALICE = ic.Actor("alice", roles=frozenset({"agent"}))
OWNER = ic.Actor("olga", roles=frozenset({"improvement_manager"}))
T0 = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
SPEC = ic.catalog.get("improvement")
PLAN: dict[str, Any] = {
    "kpi": "mttr",
    "kpi_process": "problem",
    "direction": "lower",
    "target_duration": timedelta(hours=24),
    "owner": "olga",
    "due": date(2026, 12, 31),
    "actions": "Daily problem triage; a runbook for the top 5 causes.",
    "baseline_window": timedelta(weeks=4),
    "sample_interval": timedelta(weeks=1),
}


def week(n: int, hours: float = 0) -> datetime:
    return T0 + timedelta(weeks=n, hours=hours)


def problem(engine: ic.Engine, opened: datetime, hours: float) -> str:
    """A problem opened at ``opened`` and first resolved ``hours`` later."""
    rec = engine.open(
        "problem", at=opened, actor=ALICE, fields={"title": "p", "impact": 2, "urgency": 2}
    )
    engine.fire(rec.id, "investigate", at=opened, actor=ALICE)
    engine.fire(
        rec.id, "identify_root_cause", at=opened, actor=ALICE, fields={"root_cause": "disk"}
    )
    engine.fire(rec.id, "start_fix", at=opened, actor=ALICE)
    engine.fire(
        rec.id,
        "resolve",
        at=opened + timedelta(hours=hours),
        actor=ALICE,
        fields={"resolution_code": "fix_applied", "corrective_action": "replace disk"},
    )
    return rec.id


def baseline_log(engine: ic.Engine) -> None:
    """Weeks 0-3: two problems a week resolved in 44 h and 52 h (mean 48 h)."""
    for n in range(4):
        problem(engine, week(n, 1), 44)
        problem(engine, week(n, 2), 52)


def improvement(engine: ic.Engine, **fields: Any) -> Record:
    opening = {"title": "Halve problem resolution time", "trigger_kind": "problem"}
    opening["trigger"] = fields.pop("trigger", "PRB-000001")
    return engine.open("improvement", at=week(4), actor=OWNER, fields={**opening, **fields})


def planned(engine: ic.Engine, **plan: Any) -> Record:
    """An improvement in planning with ``PLAN`` (overridden by ``plan``)."""
    rec = improvement(engine)
    return engine.fire(rec.id, "plan", at=week(4), actor=OWNER, fields={**PLAN, **plan})


@pytest.fixture
def engine() -> ic.Engine:
    engine = ic.Engine.in_memory()
    baseline_log(engine)
    return engine


# -- the kernel's system fields ----------------------------------------------------------


def test_a_caller_cannot_type_in_a_baseline(engine: ic.Engine) -> None:
    rec = planned(engine)
    with pytest.raises(ic.ValidationError) as err:
        engine.fire(rec.id, "update", at=week(4), actor=OWNER, fields={"baseline_value": 1.0})
    assert err.value.errors == (
        ("$.fields.baseline_value", "is computed by the process and cannot be set"),
    )


def test_system_fields_set_derived_fields_only() -> None:
    rec = SPEC.open(
        record_id="IMP-1",
        at=T0,
        actor=OWNER,
        fields={"title": "t", "trigger_kind": "problem", "trigger": "PRB-1"},
    ).record
    with pytest.raises(ic.ValidationError) as err:
        SPEC.fire(rec, "update", at=T0, actor=OWNER, system_fields={"title": "x", "nope": 1})
    paths = [path for path, _ in err.value.errors]
    assert paths == ["$.system_fields.title", "$.system_fields.nope"]


def test_system_fields_are_checked_like_fields_and_recorded_in_the_event() -> None:
    opened = SPEC.open(
        record_id="IMP-1",
        at=T0,
        actor=OWNER,
        fields={"title": "t", "trigger_kind": "problem", "trigger": "PRB-1"},
    )
    rec = opened.record
    with pytest.raises(ic.ValidationError, match="expected a number"):
        SPEC.fire(rec, "update", at=T0, actor=OWNER, system_fields={"baseline_value": "high"})
    step = SPEC.fire(rec, "update", at=T0, actor=OWNER, system_fields={"baseline_value": 3})
    assert step.event.changes == {"baseline_value": 3.0}
    assert ic.replay(SPEC, [opened.event, step.event]) == step.record


# -- planning ----------------------------------------------------------------------------


def test_leaving_planning_without_a_measured_baseline_is_refused(engine: ic.Engine) -> None:
    rec = planned(engine)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)
    assert err.value.guard == "improvement.baseline_current"
    assert "engine.measure_improvement" in err.value.reason


def test_firing_measure_baseline_by_hand_is_refused(engine: ic.Engine) -> None:
    rec = planned(engine)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "measure_baseline", at=week(4), actor=OWNER)
    assert err.value.guard == "improvement.measured_by_engine"


def test_the_engine_measures_the_baseline_over_the_window_before_now(engine: ic.Engine) -> None:
    rec = planned(engine)
    rec = engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    assert rec.state == "planning"
    assert rec.get("baseline_duration") == timedelta(hours=48)  # (4 × 44 + 4 × 52) / 8
    assert rec.get("baseline_sample_size") == 8
    assert (rec.get("baseline_from"), rec.get("baseline_until")) == (week(0), week(4))
    assert rec.get("baseline_points") == 4
    assert engine.history(rec.id)[-1].name == "measure_baseline"


def test_a_baseline_measured_for_another_plan_is_stale(engine: ic.Engine) -> None:
    rec = planned(engine)
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    engine.fire(rec.id, "update", at=week(4), actor=OWNER, fields={"kpi_process": "incident"})
    with pytest.raises(ic.GuardFailed, match="measured for another plan"):
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)


def test_a_baseline_without_data_cannot_start_a_cycle() -> None:
    engine = ic.Engine.in_memory()
    rec = planned(engine)
    rec = engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    assert rec.get("baseline_duration") is None
    assert rec.get("baseline_sample_size") == 0
    with pytest.raises(ic.GuardFailed, match="the baseline has no data"):
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)


def test_the_target_must_improve_on_the_baseline(engine: ic.Engine) -> None:
    rec = planned(engine, target_duration=timedelta(hours=50))
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)
    assert err.value.guard == "improvement.target_improves"


def test_leaving_planning_needs_owner_due_date_actions_and_direction(engine: ic.Engine) -> None:
    rec = improvement(engine)
    rec = engine.fire(
        rec.id, "plan", at=week(4), actor=OWNER, fields={"kpi": "mttr", "kpi_process": "problem"}
    )
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    with pytest.raises(ic.ValidationError) as err:
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)
    assert {path for path, _ in err.value.errors} == {
        "$.fields.direction",
        "$.fields.owner",
        "$.fields.due",
        "$.fields.actions",
    }


def test_leaving_planning_needs_a_target(engine: ic.Engine) -> None:
    rec = planned(engine, target_duration=None)
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)
    assert err.value.guard == "improvement.target_given"


def test_a_due_date_in_the_past_is_refused(engine: ic.Engine) -> None:
    rec = planned(engine, due=date(2026, 6, 28))
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    with pytest.raises(ic.GuardFailed, match="in the past"):
        engine.fire(rec.id, "do", at=week(4), actor=OWNER)


def test_a_duration_kpi_takes_a_duration_target(engine: ic.Engine) -> None:
    with pytest.raises(ic.GuardFailed, match="give 'target_duration'"):
        planned(engine, target_duration=None, target_value=24.0)


def test_a_ratio_target_is_a_fraction(engine: ic.Engine) -> None:
    with pytest.raises(ic.GuardFailed, match=r"92 % is 0\.92"):
        planned(engine, kpi="csat", kpi_process=None, target_duration=None, target_value=92.0)


def test_an_unknown_kpi_is_refused_with_a_suggestion(engine: ic.Engine) -> None:
    with pytest.raises(ic.GuardFailed, match="did you mean 'mttr'"):
        planned(engine, kpi="mtrr")


def test_the_sample_interval_must_fit_the_baseline_window(engine: ic.Engine) -> None:
    with pytest.raises(ic.GuardFailed, match="must not be longer"):
        planned(engine, sample_interval=timedelta(weeks=5))


# -- do, check, act ----------------------------------------------------------------------


def started(engine: ic.Engine, **plan: Any) -> Record:
    rec = planned(engine, **plan)
    engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
    return engine.fire(rec.id, "do", at=week(4), actor=OWNER)


def cycle_log(engine: ic.Engine, hours: tuple[float, float], weeks: range = range(4, 8)) -> None:
    for n in weeks:
        problem(engine, week(n, 1), hours[0])
        problem(engine, week(n, 2), hours[1])


def test_the_plan_is_fixed_while_a_cycle_runs(engine: ic.Engine) -> None:
    rec = started(engine)
    assert rec.state == "doing"
    assert rec.get("cycle") == 1
    assert rec.get("cycle_started_at") == week(4)
    with pytest.raises(ic.GuardFailed, match=r"the plan \(target_duration\) is fixed"):
        engine.fire(
            rec.id,
            "update",
            at=week(5),
            actor=OWNER,
            fields={"target_duration": timedelta(hours=12)},
        )
    # The owner and the due date may still change.
    engine.fire(rec.id, "update", at=week(5), actor=OWNER, fields={"owner": "oscar"})


def test_firing_check_by_hand_is_refused(engine: ic.Engine) -> None:
    rec = started(engine)
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "check", at=week(8), actor=OWNER)
    assert err.value.guard == "improvement.checked_by_engine"


def test_check_records_the_post_measurement_the_target_check_and_the_spc_verdict(
    engine: ic.Engine,
) -> None:
    rec = started(engine)
    cycle_log(engine, (20, 26))  # mean 23 h
    rec = engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    assert rec.state == "checking"
    assert rec.get("result_duration") == timedelta(hours=23)
    assert (rec.get("result_from"), rec.get("result_until")) == (week(4), week(8))
    assert (rec.get("result_sample_size"), rec.get("result_points")) == (8, 4)
    assert rec.get("attainment") == "met"
    assert rec.get("target_met") is True
    # Baseline points are all 48 h (mR-bar 0, so sigma 0): every cycle point signals.
    assert rec.get("spc_shifted") is True
    assert rec.get("spc_improved") is True
    assert rec.get("spc_summary").startswith("shifted down: mean 48 -> 23")


def test_a_result_better_than_the_baseline_but_short_of_the_target_is_partially_met(
    engine: ic.Engine,
) -> None:
    rec = started(engine)
    cycle_log(engine, (30, 40))
    rec = engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    assert (rec.get("attainment"), rec.get("target_met")) == ("partially_met", False)


def test_a_cycle_without_data_is_no_data_and_cannot_be_standardised(engine: ic.Engine) -> None:
    rec = started(engine)
    rec = engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    assert rec.get("attainment") == "no_data"
    assert rec.get("result_duration") is None
    assert rec.get("spc_summary").startswith("no SPC verdict: 4 baseline points")
    with pytest.raises(ic.GuardFailed, match="nothing to standardise"):
        engine.fire(rec.id, "act", at=week(8), actor=OWNER, fields={"decision": "standardise"})


def test_effective_from_starts_the_cycle_window(engine: ic.Engine) -> None:
    rec = started(engine)
    cycle_log(engine, (60, 60), range(4, 6))  # before the change took effect
    cycle_log(engine, (20, 22), range(6, 8))
    engine.fire(rec.id, "update", at=week(6), actor=OWNER, fields={"effective_from": week(6)})
    rec = engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    assert rec.get("result_from") == week(6)
    assert rec.get("result_duration") == timedelta(hours=21)


def test_effective_from_must_lie_in_the_cycle(engine: ic.Engine) -> None:
    rec = started(engine)
    with pytest.raises(ic.GuardFailed, match="must lie in the cycle"):
        engine.fire(rec.id, "update", at=week(5), actor=OWNER, fields={"effective_from": week(3)})


def test_the_decision_is_given_only_with_act(engine: ic.Engine) -> None:
    rec = started(engine)
    with pytest.raises(ic.GuardFailed, match="give the 'decision' with 'act'"):
        engine.fire(rec.id, "update", at=week(5), actor=OWNER, fields={"decision": "adjust"})


def test_adjust_needs_a_root_cause_note(engine: ic.Engine) -> None:
    rec = started(engine)
    cycle_log(engine, (30, 40))
    engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    with pytest.raises(ic.GuardFailed, match="root_cause_note"):
        engine.fire(rec.id, "act", at=week(8), actor=OWNER, fields={"decision": "adjust"})


def test_close_follows_standardise_and_next_cycle_follows_adjust(engine: ic.Engine) -> None:
    rec = started(engine)
    cycle_log(engine, (20, 26))
    engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    engine.fire(rec.id, "act", at=week(8), actor=OWNER, fields={"decision": "standardise"})
    with pytest.raises(ic.GuardFailed) as err:
        engine.fire(rec.id, "next_cycle", at=week(8), actor=OWNER)
    assert err.value.guard == "improvement.decided_adjust"
    with pytest.raises(ic.ValidationError, match="standardisation"):
        engine.fire(rec.id, "close", at=week(8), actor=OWNER)
    rec = engine.fire(
        rec.id,
        "close",
        at=week(8),
        actor=OWNER,
        fields={"standardisation": "Runbook RB-12 is the standard triage."},
    )
    assert rec.state == "closed"


def test_next_cycle_counts_the_cycle_clears_its_result_and_keeps_the_baseline(
    engine: ic.Engine,
) -> None:
    rec = started(engine)
    cycle_log(engine, (30, 40))
    engine.measure_improvement(rec.id, at=week(8), actor=OWNER)
    engine.fire(
        rec.id,
        "act",
        at=week(8),
        actor=OWNER,
        fields={"decision": "adjust", "root_cause_note": "Triage skipped on weekends."},
    )
    rec = engine.fire(rec.id, "next_cycle", at=week(8), actor=OWNER)
    assert (rec.state, rec.get("cycle")) == ("planning", 2)
    assert rec.get("result_duration") is None
    assert rec.get("decision") is None
    assert rec.get("baseline_duration") == timedelta(hours=48)
    # Cycle 2: the kept baseline still matches the plan, so it may start at once.
    rec = engine.fire(rec.id, "do", at=week(8), actor=OWNER)
    cycle_log(engine, (22, 24), range(8, 12))
    rec = engine.measure_improvement(rec.id, at=week(12), actor=OWNER)
    assert rec.get("attainment") == "met"
    found = pdca.cycles(engine.history(rec.id))
    assert [(c.number, c.attainment, c.decision) for c in found] == [
        (1, "partially_met", "adjust"),
        (2, "met", None),
    ]
    assert found[0].root_cause_note == "Triage skipped on weekends."
    assert found[0].result == timedelta(hours=35)


def test_abandon_needs_a_reason_in_any_state(engine: ic.Engine) -> None:
    rec = started(engine)
    with pytest.raises(ic.ValidationError, match="reason"):
        engine.fire(rec.id, "abandon", at=week(5), actor=OWNER)
    rec = engine.fire(
        rec.id, "abandon", at=week(5), actor=OWNER, fields={"reason": "Service retired."}
    )
    assert rec.state == "abandoned"


def test_measure_improvement_in_another_state_is_an_invalid_transition(
    engine: ic.Engine,
) -> None:
    rec = improvement(engine)
    with pytest.raises(ic.InvalidTransition):
        engine.measure_improvement(rec.id, at=week(4), actor=OWNER)


def test_measurement_for_rejects_a_naive_time(engine: ic.Engine) -> None:
    rec = planned(engine)
    naive = week(8).replace(tzinfo=None)
    with pytest.raises(ic.ValidationError, match="naive"):
        pdca.measurement_for(rec, engine, at=naive, options=SPEC.options)


def test_measure_improvement_checks_the_expected_version(engine: ic.Engine) -> None:
    rec = planned(engine)
    with pytest.raises(ic.ConcurrencyError):
        engine.measure_improvement(rec.id, at=week(4), actor=OWNER, expected_version=1)


def test_availability_needs_a_service_to_be_measured(engine: ic.Engine) -> None:
    rec = planned(
        engine, kpi="availability", kpi_process=None, target_duration=None, target_value=0.999
    )
    with pytest.raises(ic.ValidationError, match="service"):
        engine.measure_improvement(rec.id, at=week(4), actor=OWNER)


# -- the whole cycle, on both adapters -------------------------------------------------


@pytest.mark.parametrize("adapter", ["memory", "sqlite"])
def test_the_problem_resolution_story_runs_end_to_end(adapter: str, tmp_path: Path) -> None:
    """Seed R4.3-08: problem mean resolution 48 h → 24 h, through the engine."""
    engine = ic.Engine.in_memory() if adapter == "memory" else ic.Engine.sqlite(tmp_path / "e.db")
    with engine:
        baseline_log(engine)
        rec = improvement(engine, trigger="PRB-000001")
        engine.link(rec.id, "PRB-000001", "follow_up_of", at=week(4), actor=OWNER)
        engine.fire(rec.id, "plan", at=week(4), actor=OWNER, fields=PLAN)
        engine.measure_improvement(rec.id, at=week(4, 1), actor=OWNER)
        engine.fire(rec.id, "do", at=week(4, 1), actor=OWNER)
        cycle_log(engine, (22, 26))
        rec = engine.measure_improvement(rec.id, at=week(8, 1), actor=OWNER)
        assert rec.get("attainment") == "met"
        assert rec.get("spc_improved") is True
        engine.fire(rec.id, "act", at=week(8, 2), actor=OWNER, fields={"decision": "standardise"})
        rec = engine.fire(
            rec.id, "close", at=week(8, 3), actor=OWNER, fields={"standardisation": "RB-12"}
        )
        assert rec.state == "closed"
        assert rec.linked("follow_up_of") == ("PRB-000001",)
        assert engine.verify().ok
        assert [e.name for e in engine.history(rec.id)] == [
            "open",
            "link",
            "plan",
            "measure_baseline",
            "do",
            "check",
            "act",
            "close",
        ]


# -- Engine.kpi --------------------------------------------------------------------------


def test_engine_kpi_equals_kpis_compute_over_the_same_histories(engine: ic.Engine) -> None:
    period = Period(week(0), week(4))
    every = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    for name, options in (("mttr", {"process": "problem"}), ("backlog", {"process": "problem"})):
        expected = kpis.compute(name, every, period=period, **options)
        assert engine.kpi(name, period=period, **options) == expected


def test_engine_kpi_of_a_past_period_ignores_later_events(engine: ic.Engine) -> None:
    period = Period(week(0), week(4))
    before = engine.kpi("mttr", period=period, process="problem")
    cycle_log(engine, (1, 1))
    assert engine.kpi("mttr", period=period, process="problem") == before
    assert before.value == timedelta(hours=48)


def test_engine_histories_filter_by_process_and_opening_time(engine: ic.Engine) -> None:
    improvement(engine)
    assert {h.process for h in engine.histories()} == {"problem", "improvement"}
    assert len(engine.histories(processes=["problem"], until=week(1))) == 2
    with pytest.raises(ic.ValidationError):
        engine.histories(until=datetime(2026, 1, 1))  # naive


def test_every_kpi_has_a_unit_and_known_processes() -> None:
    assert set(KPI_UNITS) == set(kpis.names())
    assert kpi_processes("mttr", {"process": "problem"}) == ("problem",)
    assert kpi_processes("csat", {}) == ("feedback",)
    assert kpi_processes("sla_compliance", {}) is None
    with pytest.raises(ic.NotFound):
        kpi_processes("nope", {})


def test_the_seed_stories_measure_their_baselines() -> None:
    """First response within 20 minutes, availability 99.9 %, CSAT 92 %: each plan
    gets an engine-measured baseline of the right unit from a small log."""
    engine = ic.Engine.in_memory()
    for i, minutes in enumerate((30, 40)):  # two incidents, assigned after 30 and 40 min
        rec = engine.open(
            "incident",
            at=week(1, i),
            actor=ALICE,
            fields={"title": "t", "caller": "c", "impact": 1, "urgency": 1, "service": "mail"},
        )
        engine.fire(
            rec.id, "assign", at=week(1, i) + timedelta(minutes=minutes), actor=ALICE,
            fields={"assignee": "bob", "major": True},
        )  # fmt: skip
    for score in (5, 4, 3, 2):
        rec = engine.open(
            "feedback",
            at=week(2),
            actor=ALICE,
            fields={"title": "s", "subject": "INC-000001", "respondent": "r"},
        )
        engine.fire(rec.id, "respond", at=week(2), actor=ALICE, fields={"csat": score})
    stories = {
        "mtta": ({"target_duration": timedelta(minutes=20)}, timedelta(minutes=35)),
        "availability": ({"target_value": 0.999, "service": "mail", "direction": "higher"}, None),
        "csat": ({"target_value": 0.92, "direction": "higher"}, 0.5),
    }
    for kpi, (plan, expected) in stories.items():
        plan = {**PLAN, "kpi": kpi, "kpi_process": None, "target_duration": None, **plan}
        rec = planned(engine, **plan)
        rec = engine.measure_improvement(rec.id, at=week(4), actor=OWNER)
        if kpi == "availability":
            # Both major incidents are still open: down since the first opened (the
            # overlapping outages merge).
            downtime = week(4) - week(1)
            assert rec.get("baseline_value") == pytest.approx(1 - downtime / timedelta(weeks=4))
        else:
            assert pdca.value_of(rec.fields, "baseline") == expected


# -- pure helpers ------------------------------------------------------------------------


def test_buckets_are_whole_intervals_from_the_start() -> None:
    found = pdca.buckets(Period(week(0), week(2, 5)), timedelta(weeks=1))
    assert [(b.start, b.end) for b in found] == [(week(0), week(1)), (week(1), week(2))]


@pytest.mark.parametrize(
    ("baseline", "result", "expected"),
    [(48.0, 24.0, "met"), (48.0, 23.0, "met"), (48.0, 30.0, "partially_met"),
     (48.0, 48.0, "not_met"), (48.0, 50.0, "not_met"), (48.0, None, "no_data")],
)  # fmt: skip
def test_attainment_against_target_and_baseline(
    baseline: float, result: float | None, expected: str
) -> None:
    assert pdca.attainment(baseline, result, 24.0, "lower") == expected
    flip = None if result is None else -result
    assert pdca.attainment(-baseline, flip, -24.0, "higher") == expected


# -- the process under the kernel's laws --------------------------------------------------


def _kpi_value(kpi: str, value: float, size: int) -> KpiValue:
    measured = timedelta(hours=value) if KPI_UNITS[kpi] == "duration" else value / 100
    return KpiValue(kpi, measured, KPI_UNITS[kpi], None, size, size)


class MeasuringMachine(ProcessStateMachine):
    """Fires ``measure_baseline`` and ``check`` the way the engine does: with measured
    system fields (synthetic KPI values varying with the record's version, so checks
    come out met, partially met, not met or without data)."""

    def do_fire(
        self, record: Record, event: str, *, at: datetime, actor: Actor, fields: Any
    ) -> Step:
        kpi = record.get("kpi")
        if event not in ("measure_baseline", "check") or kpi is None or at.tzinfo is None:
            return super().do_fire(record, event, at=at, actor=actor, fields=fields)
        v = record.version
        if event == "measure_baseline":
            window = Period(at - timedelta(weeks=12), at)
            found = pdca.Measurement(kpi, window, _kpi_value(kpi, 48, v % 3), (48.0, 47.0), _WEEK)
            system = pdca.baseline_changes(record.fields, found, self.spec.options)
        else:
            result = (20.0, 30.0, 60.0)[v % 3]
            start = record.get("cycle_started_at", at - _WEEK)
            period = Period(start, at) if at > start else Period(start, start + _WEEK)
            value = _kpi_value(kpi, result, 1 + v % 2)
            if v % 5 == 0:  # nothing to measure in the cycle
                value = KpiValue(kpi, None, KPI_UNITS[kpi], None, 0, 0)
            found = pdca.Measurement(kpi, period, value, (result,), _WEEK)
            system = pdca.result_changes(record.fields, (48.0, 47.0), found)
            system["result_until"] = at
        return self.spec.fire(
            record, event, at=at, actor=actor, fields=fields, system_fields=system
        )


_WEEK = timedelta(weeks=1)
_PLAN_NAMES = (
    "kpi", "kpi_process", "service", "baseline_window", "sample_interval", "direction",
    "target_value", "target_duration", "effective_from", "decision",
)  # fmt: skip
_text = st.sampled_from(("agreed", "RB-12 updated", "triage skipped on weekends"))


def _fixed(**values: Any) -> SearchStrategy[Mapping[str, Any]]:
    return st.fixed_dictionaries(
        {k: v if isinstance(v, SearchStrategy) else st.just(v) for k, v in values.items()}
    )


def _plan(record: Record | None) -> SearchStrategy[Mapping[str, Any]]:
    story = st.sampled_from(
        (
            {"kpi": "mttr", "direction": "lower", "target_duration": timedelta(hours=24)},
            {"kpi": "csat", "direction": "higher", "target_value": 0.92},
        )
    )
    return story.map(lambda s: {"target_value": None, "target_duration": None, **s})


def _kept(**extra: Any) -> Any:
    """The record's own plan fields (so generated values do not fight the phase rule)."""

    def fields(record: Record | None) -> SearchStrategy[Mapping[str, Any]]:
        own = {} if record is None else {n: record.get(n) for n in _PLAN_NAMES}
        return _fixed(**{**own, **extra})

    return fields


def _doing(record: Record | None) -> SearchStrategy[Mapping[str, Any]]:
    assert record is not None
    later = st.integers(31, 800).map(lambda d: (record.updated_at + timedelta(days=d)).date())
    return _kept(due=later, actions=_text, owner="olga")(record)


TestImprovementStateMachine = process_state_machine(
    SPEC,
    base=MeasuringMachine,
    field_overrides={
        "open": _plan,
        "plan": _plan,
        "update": _kept(),
        "measure_baseline": _kept(),
        "do": _doing,
        "check": _kept(),
        "act": lambda r: _kept(
            decision=st.sampled_from(("standardise", "adjust", "abandon")),
            root_cause_note=_text,
        )(r),
        "close": _kept(standardisation=_text),
        "next_cycle": _kept(),
        "abandon": _kept(reason=_text),
    },
).TestCase
TestImprovementStateMachine.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
