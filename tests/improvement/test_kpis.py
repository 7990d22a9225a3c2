"""KPIs against values computed by hand on small fixed logs (see docs/kpis.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

import itsmcore as ic
from itsmcore.improvement import kpis
from itsmcore.sla import Period

AGENT = ic.Actor("alice", roles=frozenset({"agent"}))
NOV = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))


def at(day: int, hour: int = 0, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _incident(
    engine: ic.Engine, opened: datetime, steps: list[tuple[str, datetime, dict]], **fields: object
) -> str:
    rec = engine.open(
        "incident",
        at=opened,
        actor=AGENT,
        fields={"title": "t", "impact": 2, "urgency": 2, "caller": "c", **fields},
    )
    for name, when, extra in steps:
        engine.fire(rec.id, name, at=when, actor=AGENT, fields=extra)
    return rec.id


FIX = {"resolution_code": "fixed", "resolution_notes": "done"}


@pytest.fixture(scope="module")
def log() -> list[kpis.History]:
    engine = ic.Engine.in_memory()
    # A: assigned after 10 min, resolved after 2 h, first contact.
    _incident(
        engine,
        at(2, 9),
        [
            ("assign", at(2, 9, 10), {"assignee": "bob"}),
            ("start", at(2, 9, 20), {}),
            ("resolve", at(2, 11), FIX),
        ],
    )
    # B: assigned after 30 min, reassigned, resolved after 4 h.
    _incident(
        engine,
        at(3, 10),
        [
            ("assign", at(3, 10, 30), {"assignee": "bob"}),
            ("assign", at(3, 11), {"assignee": "eve"}),
            ("start", at(3, 11, 5), {}),
            ("resolve", at(3, 14), FIX),
        ],
    )
    # C: assigned after 20 min, resolved after 1 h, reopened, resolved again.
    _incident(
        engine,
        at(4, 8),
        [
            ("assign", at(4, 8, 20), {"assignee": "bob"}),
            ("start", at(4, 8, 30), {}),
            ("resolve", at(4, 9), FIX),
            ("reopen", at(5, 9), {}),
            ("resolve", at(5, 10), {}),
        ],
    )
    # D: opened in October, first resolved on 1 November: 48 h, a major one.
    _incident(
        engine,
        at(30, 0, month=10),
        [
            ("assign", at(30, 0, 5, month=10), {"assignee": "bob"}),
            ("start", at(30, 1, month=10), {}),
            ("resolve", at(1, 0), FIX),
        ],
        major=True,
        service="mail",
    )
    # E: never assigned, open at the end of November (11 days old).
    _incident(engine, at(20), [])
    # F: assigned after 1 h, in progress at the end (3 days old).
    _incident(
        engine, at(28), [("assign", at(28, 1), {"assignee": "bob"}), ("start", at(28, 2), {})]
    )
    # G: opened in December: outside the period.
    _incident(engine, at(2, month=12), [("assign", at(2, 0, 1, month=12), {"assignee": "x"})])
    # Feedback: CSAT 5, 4, 2, 3 and NPS 10, 9, 6, 8 in November; one in December.
    for i, (csat, nps, day) in enumerate(
        [(5, 10, 3), (4, 9, 4), (2, 6, 5), (3, 8, 6), (5, 10, 40)]
    ):
        when = at(day) if day <= 30 else at(day - 30, month=12)
        rec = engine.open(
            "feedback",
            at=when,
            actor=AGENT,
            fields={"title": f"survey {i}", "subject": "INC-000001", "respondent": "carol"},
        )
        engine.fire(rec.id, "respond", at=when, actor=AGENT, fields={"csat": csat, "nps": nps})
    histories = []
    for rid in engine.storage.record_ids():
        histories.append(kpis.History.of(engine.get(rid), engine.history(rid)))
    return histories


def test_mtta_is_the_mean_time_to_first_assignment_of_incidents_opened_in_the_period(
    log: list[kpis.History],
) -> None:
    value = kpis.compute("mtta", log, period=NOV)
    assert value.value == timedelta(minutes=30)  # (10 + 30 + 20 + 60) / 4
    assert (value.numerator, value.denominator) == (timedelta(minutes=120), 4)


def test_mttr_is_the_mean_time_to_first_resolution_of_incidents_first_resolved_in_the_period(
    log: list[kpis.History],
) -> None:
    value = kpis.compute("mttr", log, period=NOV)
    assert value.value == timedelta(hours=13, minutes=45)  # (2 + 4 + 1 + 48) h / 4
    assert value.sample_size == 4


def test_mtrs_counts_major_incidents_only(log: list[kpis.History]) -> None:
    assert kpis.compute("mtrs", log, period=NOV).value == timedelta(hours=48)


def test_fcr_excludes_reassigned_and_reopened_incidents(log: list[kpis.History]) -> None:
    value = kpis.compute("fcr", log, period=NOV)
    assert (value.numerator, value.denominator, value.value) == (2, 4, 0.5)


def test_reopen_rate_is_reopened_over_first_resolved(log: list[kpis.History]) -> None:
    assert kpis.compute("reopen_rate", log, period=NOV).value == 0.25


def test_backlog_counts_open_and_paused_records_at_the_period_end(
    log: list[kpis.History],
) -> None:
    assert kpis.compute("backlog", log, period=NOV).value == 2


def test_backlog_age_gives_nearest_rank_median_and_p90(log: list[kpis.History]) -> None:
    value = kpis.compute("backlog_age", log, period=NOV)
    assert value.value == timedelta(days=3)
    assert value.details["p90"] == timedelta(days=11)


def test_csat_is_the_share_of_scores_four_and_five(log: list[kpis.History]) -> None:
    value = kpis.compute("csat", log, period=NOV)
    assert (value.numerator, value.denominator) == (2, 4)


def test_nps_is_promoters_minus_detractors_in_points(log: list[kpis.History]) -> None:
    value = kpis.compute("nps", log, period=NOV)
    assert value.numerator == Fraction(25)
    assert value.value == 25.0


def test_a_past_period_is_reproducible_whatever_happened_later(
    log: list[kpis.History],
) -> None:
    october = Period(at(1, month=10), at(1))
    # D was resolved in November: in October it is open backlog, not a resolution.
    assert kpis.compute("mttr", log, period=october).value is None
    assert kpis.compute("backlog", log, period=october).value == 1


def test_an_empty_population_gives_none_not_an_error() -> None:
    value = kpis.compute("mttr", [], period=NOV)
    assert (value.value, value.sample_size) == (None, 0)
    assert kpis.compute("csat", [], period=NOV).value is None
    assert kpis.compute("nps", [], period=NOV).value is None


def test_business_calendar_measures_durations_in_business_time(
    log: list[kpis.History],
) -> None:
    from itsmcore.sla import BusinessCalendar

    cal = BusinessCalendar.from_dict(
        {
            "timezone": "UTC",
            "week": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")},
        }
    )
    # A: Mon 2 Nov 09:00 -> 09:10 (10 min); B: Tue 10:00 -> 10:30 (30 min);
    # C: Wed 08:00 -> 08:20 (0 business minutes); F: Sat 28 Nov 00:00 -> 01:00 (0).
    value = kpis.compute("mtta", log, period=NOV, calendar=cal)
    assert value.value == timedelta(minutes=10)


def test_availability_and_mtbf_come_from_major_incidents_of_the_service(
    log: list[kpis.History],
) -> None:
    value = kpis.compute("availability", log, period=NOV, service="mail")
    # D is down from 30 Oct to 1 Nov 00:00: nothing of it falls in November.
    assert value.value == 1.0
    assert kpis.compute("mtbf", log, period=NOV, service="mail").value is None


def test_service_health_is_the_weighted_mean_attainment(log: list[kpis.History]) -> None:
    value = kpis.compute(
        "service_health",
        log,
        period=NOV,
        targets=[
            {"kpi": "fcr", "target": 0.8, "direction": "higher", "weight": 1},  # 0.5/0.8
            {
                "kpi": "mtta",
                "target": timedelta(minutes=15),
                "direction": "lower",
                "weight": 3,
            },  # 15/30
        ],
    )
    # (1 * 5/8 + 3 * 1/2) / 4 * 100 = 53.125
    assert value.numerator == Fraction(53125, 1000)


def test_unknown_kpis_suggest_the_closest_name() -> None:
    with pytest.raises(ic.NotFound, match="did you mean 'mttr'"):
        kpis.compute("mtrr", [], period=NOV)


def test_every_kpi_is_described() -> None:
    for name in kpis.names():
        assert kpis.describe(name)


def _change(engine: ic.Engine, opened: datetime, change_type: str, outcome: str | None) -> str:
    cab = ic.Actor("carl", roles=frozenset({"cab_member"}))
    rec = engine.open(
        "change",
        at=opened,
        actor=AGENT,
        fields={
            "title": "patch",
            "description": "apply patch",
            "change_type": change_type,
            "planned_start": opened + timedelta(hours=2),
            "planned_end": opened + timedelta(hours=3),
            "reason": "security fix",
            "impact_scope": "mail",
            "owner": "alice",
            "risk": "medium",
            "backout_plan": "restore snapshot",
        },
    )
    engine.fire(rec.id, "submit", at=opened, actor=AGENT)
    engine.fire(rec.id, "approve", at=opened + timedelta(minutes=1), actor=cab)
    if outcome is not None:
        engine.fire(
            rec.id,
            "implement",
            at=opened + timedelta(hours=2),
            actor=AGENT,
            fields={"test_result": "passed"},
        )
        engine.fire(
            rec.id,
            "complete",
            at=opened + timedelta(hours=3),
            actor=AGENT,
            fields={"outcome": outcome},
        )
    return rec.id


def test_change_rates_are_exact_over_completed_and_opened_changes() -> None:
    engine = ic.Engine.in_memory()
    ok = _change(engine, at(2, 9), "emergency", "successful")
    _change(engine, at(3, 9), "emergency", "failed")
    _change(engine, at(4, 9), "emergency", None)
    incident = _incident(engine, at(5), [])
    engine.link(incident, ok, "caused_by", at=at(5, 1), actor=AGENT)
    # A problem caused by the failed change is not an incident: it does not count.
    failed = engine.find(process="change", outcome="failed")[0].id
    problem = engine.open(
        "problem", at=at(6), actor=AGENT, fields={"title": "p", "impact": 2, "urgency": 2}
    )
    engine.link(problem.id, failed, "caused_by", at=at(6, 1), actor=AGENT)
    log = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    assert kpis.compute("change_success_rate", log, period=NOV).value == 0.5
    assert kpis.compute("emergency_change_rate", log, period=NOV).value == 1.0
    caused = kpis.compute("changes_causing_incidents", log, period=NOV)
    assert (caused.numerator, caused.denominator) == (1, 2)


def test_changes_causing_incidents_counts_only_links_standing_at_the_period_end() -> None:
    engine = ic.Engine.in_memory()
    ok = _change(engine, at(2, 9), "emergency", "successful")
    incident = _incident(engine, at(5), [])
    engine.link(incident, ok, "caused_by", at=at(5, 1), actor=AGENT)

    def caused(period: Period) -> tuple[object, object]:
        log = [
            kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()
        ]
        value = kpis.compute("changes_causing_incidents", log, period=period)
        return value.numerator, value.denominator

    assert caused(NOV) == (1, 1)
    # The attribution was wrong: removed in December, November's figure stays.
    engine.unlink(incident, ok, "caused_by", at=at(3, month=12), actor=AGENT)
    assert caused(NOV) == (1, 1)
    december = Period(at(1), at(31, month=12))
    assert caused(december) == (0, 1)


def test_sla_compliance_counts_stopped_cycles_without_breach() -> None:
    from itsmcore.sla import SlaRules

    engine = ic.Engine.in_memory()
    urgent = {"impact": 1, "urgency": 1}  # priority 1: response 20 min on 24x7
    # Response met: in progress after 10 min.
    _incident(
        engine,
        at(2, 9),
        [("assign", at(2, 9, 5), {"assignee": "bob"}), ("start", at(2, 9, 10), {})],
        **urgent,
    )
    # Response breached: in progress after 30 min.
    _incident(
        engine,
        at(3, 9),
        [("assign", at(3, 9, 5), {"assignee": "bob"}), ("start", at(3, 9, 30), {})],
        **urgent,
    )
    # Still running at the period end: not counted (it has not stopped).
    _incident(engine, at(30, 23, 50), [], **urgent)
    log = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    value = kpis.compute("sla_compliance", log, period=NOV, rules=SlaRules(), clock="response")
    assert (value.numerator, value.denominator) == (1, 2)


def test_sla_compliance_filters_by_service() -> None:
    from itsmcore.sla import SlaRules

    engine = ic.Engine.in_memory()
    urgent = {"impact": 1, "urgency": 1}
    _incident(
        engine,
        at(2, 9),
        [("assign", at(2, 9, 5), {"assignee": "bob"}), ("start", at(2, 9, 10), {})],
        service="mail",
        **urgent,
    )
    _incident(
        engine,
        at(3, 9),
        [("assign", at(3, 9, 5), {"assignee": "bob"}), ("start", at(3, 9, 30), {})],
        service="vpn",
        **urgent,
    )
    log = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    mail = kpis.compute(
        "sla_compliance", log, period=NOV, rules=SlaRules(), clock="response", service="mail"
    )
    assert (mail.numerator, mail.denominator) == (1, 1)


def test_emergency_change_rate_honours_the_record_filters() -> None:
    engine = ic.Engine.in_memory()
    _change(engine, at(2, 9), "emergency", "successful")
    _change(engine, at(3, 9), "emergency", None)
    log = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    done = kpis.compute("emergency_change_rate", log, period=NOV, where={"outcome": "successful"})
    assert (done.numerator, done.denominator) == (1, 1)
    vpn = kpis.compute("emergency_change_rate", log, period=NOV, where={"impact_scope": "vpn"})
    assert vpn.value is None
    assert vpn.sample_size == 0


def _nps_log(scores: list[int]) -> list[kpis.History]:
    engine = ic.Engine.in_memory()
    for i, score in enumerate(scores):
        rec = engine.open(
            "feedback",
            at=at(3),
            actor=AGENT,
            fields={"title": f"survey {i}", "subject": "INC-000001", "respondent": "carol"},
        )
        engine.fire(rec.id, "respond", at=at(3, 1), actor=AGENT, fields={"csat": 3, "nps": score})
    return [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]


def test_service_health_attainment_never_goes_below_zero() -> None:
    log = _nps_log([0, 0, 10])  # NPS = 33.3 - 66.7 = -33.3 points
    value = kpis.compute("service_health", log, period=NOV, targets=[{"kpi": "nps", "target": 30}])
    assert value.value == 0.0


def test_service_health_rejects_a_target_that_is_not_positive() -> None:
    log = _nps_log([10])
    for target in (-10, 0, timedelta(0)):
        with pytest.raises(ic.ValidationError, match="positive target"):
            kpis.compute(
                "service_health", log, period=NOV, targets=[{"kpi": "nps", "target": target}]
            )


def test_service_health_rejects_a_target_in_another_unit(log: list[kpis.History]) -> None:
    with pytest.raises(ic.ValidationError, match="duration"):
        kpis.compute(
            "service_health",
            log,
            period=NOV,
            targets=[{"kpi": "fcr", "target": timedelta(hours=1)}],
        )
    with pytest.raises(ic.ValidationError, match="duration"):
        kpis.compute("service_health", log, period=NOV, targets=[{"kpi": "mtta", "target": 0.5}])


def test_service_health_counts_every_target_it_scores(log: list[kpis.History]) -> None:
    value = kpis.compute(
        "service_health",
        log,
        period=NOV,
        targets=[
            {"kpi": "fcr", "target": 0.5},  # 1/3 of A, B, D... all first resolved: 0.5 → 1
            {"kpi": "fcr", "target": 1, "major": True},  # D only: first contact → 1
        ],
    )
    assert value.sample_size == 2
    assert value.denominator == 2


def test_engine_availability_counts_planned_change_windows_like_the_histories_do() -> None:
    engine = ic.Engine.in_memory()
    change = _change(engine, at(2, 9), "emergency", None)  # authorised, window 11:00-12:00
    engine.fire(change, "update", at=at(2, 9, 30), actor=AGENT, fields={"service": "mail"})
    _incident(
        engine,
        at(5, 9),
        [
            ("assign", at(5, 9, 5), {"assignee": "bob"}),
            ("start", at(5, 9, 10), {}),
            ("resolve", at(5, 10), FIX),
        ],
        major=True,
        service="mail",
    )
    log = [kpis.History.of(engine.get(r), engine.history(r)) for r in engine.storage.record_ids()]
    by_hand = kpis.compute("availability", log, period=NOV, service="mail")
    assert by_hand.details["agreed_time"] == NOV.end - NOV.start - timedelta(hours=1)
    assert engine.kpi("availability", period=NOV, service="mail") == by_hand
