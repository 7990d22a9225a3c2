"""SLA policies as data: loading, checking, the shipped defaults, versions and the
condition that selects records."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sla_clock_support import MIN, T0, H, act, clock
from sla_clock_support import open_incident as open_

import itsmcore as ic
from itsmcore.loading import read_document
from itsmcore.sla import (
    BUSINESS_HOURS,
    DEFAULT_CALENDARS,
    INCIDENT_DEFAULT,
    SlaPolicy,
    SlaRules,
)
from itsmcore.sla.defaults import INCIDENT_DEFAULT_DATA

# -- the data format -------------------------------------------------------------------------


def test_policy_round_trips_through_plain_data() -> None:
    data = INCIDENT_DEFAULT.to_dict()
    assert SlaPolicy.from_dict(data) == INCIDENT_DEFAULT
    assert SlaPolicy.from_dict(json.loads(json.dumps(data))).to_dict() == data


TOML = """
name = "mail-vip"
version = 2
effective_from = 2026-07-01T00:00:00Z
kind = "sla"
process = "incident"
retroactive = false

[when]
service = ["mail", "calendar"]
major = true

[[clocks]]
name = "response"
calendar = "24x7"
targets = { 1 = "PT10M", 2 = "PT30M" }
warnings = [80]
stop = { states = ["in_progress"] }
"""


def test_policy_loads_from_toml_and_json_files(tmp_path: Path) -> None:
    toml_path = tmp_path / "mail-vip.toml"
    toml_path.write_text(TOML, encoding="utf-8")
    policy = SlaPolicy.from_dict(read_document(toml_path, kind="policy"))
    assert (policy.name, policy.version, policy.retroactive) == ("mail-vip", 2, False)
    assert policy.effective_from == datetime(2026, 7, 1, tzinfo=UTC)
    response = policy.clock("response")
    assert response.targets == ((1, 10 * MIN), (2, 30 * MIN))
    assert response.thresholds == (80, 100)
    assert policy.covers("incident", {"service": "mail", "major": True})
    assert not policy.covers("incident", {"service": "web", "major": True})
    assert not policy.covers("problem", {"service": "mail", "major": True})
    json_path = tmp_path / "mail-vip.json"
    json_path.write_text(json.dumps(policy.to_dict()), encoding="utf-8")
    assert SlaPolicy.from_dict(read_document(json_path, kind="policy")) == policy


def test_a_bad_policy_document_lists_every_problem_with_its_path() -> None:
    with pytest.raises(ic.SpecError) as info:
        SlaPolicy.from_dict(
            {
                "name": "bad",
                "version": 0,
                "process": "incident",
                "colour": "red",
                "clocks": [
                    {
                        "name": "response",
                        "targets": {"one": "PT1H", "2": "4 hours"},
                        "warnings": [50, "75"],
                        "stop": {"state": ["resolved"]},
                    }
                ],
            }
        )
    text = "\n".join(info.value.problems)
    for path in (
        "$.version",
        "$.colour",
        "$.clocks[0].targets.one",
        "$.clocks[0].targets.2",
        "$.clocks[0].warnings[1]",
        "$.clocks[0].stop.state",
    ):
        assert path in text, path


@pytest.mark.parametrize(
    ("clock_data", "problem"),
    [
        ({"targets": {}}, "at least one target"),
        ({"targets": {"1": "PT0S"}}, "duration > 0"),
        ({"warnings": [50, 100]}, "between 1 and 99"),
        ({"warnings": [50, 50]}, "given twice"),
        ({"pause": {"events": ["pend"]}}, "cannot name events"),
        ({"pause": {"categories": ["waiting"]}}, "unknown category"),
        ({"start": {}}, "'start' must name"),
        ({"calendars": {"3": "24x7"}}, "priority 3, which has no target"),
    ],
)
def test_a_clock_that_cannot_work_is_refused(clock_data: dict[str, object], problem: str) -> None:
    data = {"name": "c", "version": 1, "process": "incident"}
    base = {"name": "response", "targets": {"1": "PT1H"}}
    with pytest.raises(ic.SpecError, match=problem):
        SlaPolicy.from_dict({**data, "clocks": [{**base, **clock_data}]})


def test_unknown_calendar_state_or_process_is_a_spec_error_when_the_engine_is_built() -> None:
    policy = SlaPolicy.from_dict(
        {
            "name": "p",
            "version": 1,
            "process": "incident",
            "clocks": [
                {
                    "name": "response",
                    "targets": {"1": "PT1H"},
                    "calendar": "office",
                    "stop": {"states": ["done"], "events": ["finish"]},
                }
            ],
        }
    )
    with pytest.raises(ic.SpecError, match="unknown calendar 'office'"):
        ic.Engine.in_memory(policies=[policy])
    cal = {"office": BUSINESS_HOURS}
    with pytest.raises(ic.SpecError) as info:
        ic.Engine.in_memory(policies=[policy], calendars=cal)
    assert any("unknown state 'done'" in p for p in info.value.problems)
    assert any("unknown event 'finish'" in p for p in info.value.problems)
    elsewhere = SlaPolicy.from_dict({**INCIDENT_DEFAULT_DATA, "process": "helpdesk"})
    with pytest.raises(ic.SpecError, match="unknown process 'helpdesk'"):
        ic.Engine.in_memory(policies=[elsewhere])


# -- the shipped defaults --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("priority", "response", "resolution", "calendar"),
    [
        (1, 20 * MIN, 4 * H, "24x7"),
        (2, H, 8 * H, "24x7"),
        (3, 4 * H, 24 * H, "business"),
        (4, 8 * H, 40 * H, "business"),
        (5, 16 * H, 80 * H, "business"),
    ],
)
def test_incident_default_targets_match_the_published_table(
    priority: int, response: timedelta, resolution: timedelta, calendar: str
) -> None:
    engine = ic.Engine.in_memory()
    rid = open_(engine, priority).id
    statuses = {s.clock: s for s in engine.sla(rid, T0)}
    assert statuses["response"].target == response
    assert statuses["resolution"].target == resolution
    assert statuses["response"].calendar == statuses["resolution"].calendar == calendar
    assert INCIDENT_DEFAULT.clock("response").warnings == (50, 75, 90)


def test_business_calendar_defaults_to_monday_to_friday_nine_to_five_utc() -> None:
    business = DEFAULT_CALENDARS["business"]
    assert business.timezone == "UTC"
    friday_noon = T0 + timedelta(days=4, hours=3)
    assert business.elapsed(T0, T0 + timedelta(days=7)) == 40 * H
    assert business.is_open(friday_noon)
    assert not business.is_open(friday_noon + timedelta(days=1))
    assert DEFAULT_CALENDARS["24x7"].elapsed(T0, T0 + 7 * H) == 7 * H


# -- versions and selection --------------------------------------------------------------------


def _version(version: int, response: str, effective: datetime | None) -> SlaPolicy:
    data = {**INCIDENT_DEFAULT_DATA, "version": version}
    clocks = [dict(c) for c in INCIDENT_DEFAULT_DATA["clocks"]]
    clocks[0]["targets"] = {**clocks[0]["targets"], "1": response}
    data["clocks"] = clocks
    if effective is not None:
        data["effective_from"] = effective.isoformat()
    return SlaPolicy.from_dict(data)


def test_a_record_keeps_the_policy_version_it_was_opened_under() -> None:
    v1 = _version(1, "PT20M", None)
    v2 = _version(2, "PT10M", T0 + H)  # tighter, for incidents opened from 10:00
    engine = ic.Engine.in_memory(policies=[v2, v1])
    old = open_(engine, 1, at=T0).id
    new = open_(engine, 1, at=T0 + 2 * H).id
    now = T0 + 3 * H
    kept = clock(engine, old, "response", now)
    assert (kept.policy_version, kept.target) == (1, 20 * MIN)
    fresh = clock(engine, new, "response", now)
    assert (fresh.policy_version, fresh.target) == (2, 10 * MIN)
    # Registering the new version later does not touch the old record's clock.
    before = ic.Engine.in_memory(policies=[v1])
    rid = open_(before, 1, at=T0).id
    assert before.sla(rid, now) == engine.sla(old, now)


def test_later_versions_need_a_later_effective_from() -> None:
    with pytest.raises(ic.SpecError, match="give 'effective_from'"):
        SlaRules([_version(1, "PT20M", None), _version(2, "PT10M", None)])
    with pytest.raises(ic.SpecError, match="must be later"):
        SlaRules([_version(1, "PT20M", T0), _version(2, "PT10M", T0)])
    with pytest.raises(ic.SpecError, match="different content"):
        SlaRules([_version(1, "PT20M", None), _version(1, "PT10M", None)])


def test_several_policies_may_apply_to_one_record() -> None:
    ola = SlaPolicy.from_dict(
        {
            "name": "service-desk-ola",
            "version": 1,
            "kind": "ola",
            "process": "incident",
            "clocks": [{"name": "triage", "targets": {"1": "PT5M", "2": "PT15M"}}],
        }
    )
    engine = ic.Engine.in_memory(policies=[INCIDENT_DEFAULT, ola])
    rid = open_(engine, 2).id
    seen = [(s.policy, s.clock, s.kind) for s in engine.sla(rid, T0 + MIN)]
    assert seen == [
        ("incident-default", "response", "sla"),
        ("incident-default", "resolution", "sla"),
        ("service-desk-ola", "triage", "ola"),
    ]
    # A P3 has no triage target: that clock does not measure it.
    other = open_(engine, 3).id
    assert [s.clock for s in engine.sla(other, T0 + MIN)] == ["response", "resolution"]


def test_the_condition_selects_records_and_a_detached_clock_is_not_reported() -> None:
    major = SlaPolicy.from_dict(
        {
            "name": "major-incident",
            "version": 1,
            "process": "incident",
            "when": {"major": True},
            "clocks": [{"name": "bridge", "targets": {str(p): "PT15M" for p in range(1, 6)}}],
        }
    )
    engine = ic.Engine.in_memory(policies=[major])
    rid = open_(engine, 2).id
    assert engine.sla(rid, T0 + MIN) == []
    act(engine, rid, "update", T0 + 5 * MIN, major=True)
    bridge = clock(engine, rid, "bridge", T0 + 10 * MIN)
    assert bridge.elapsed == 10 * MIN  # measured from the opening, as if it always applied
    act(engine, rid, "update", T0 + 12 * MIN, major=False)
    assert engine.sla(rid, T0 + 20 * MIN) == []
    # As of an instant when it matched, it is still reported.
    assert clock(engine, rid, "bridge", T0 + 11 * MIN).elapsed == 11 * MIN
