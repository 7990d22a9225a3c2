"""Rules found missing in review: a policy that could never measure a record is refused."""

from __future__ import annotations

from datetime import UTC
from typing import Any

import pytest
from sla_clock_support import AGENT, T0

import itsmcore as ic
from itsmcore.sla import Period, SlaPolicy, SlaRules
from itsmcore.sla.defaults import INCIDENT_DEFAULT_DATA


def _rules(**changes: Any) -> SlaRules:
    return SlaRules([SlaPolicy.from_dict({**INCIDENT_DEFAULT_DATA, **changes})])


def test_a_policy_priority_field_must_be_a_field_of_its_process() -> None:
    rules = _rules(priority_field="prio")
    with pytest.raises(ic.SpecError, match="priority_field 'prio' is not a field of 'incident'"):
        rules.check([ic.catalog.get("incident")])


def test_a_policy_condition_must_name_fields_of_its_process() -> None:
    rules = _rules(when={"sevrity": "high", "category": ["network"]})
    with pytest.raises(ic.SpecError) as info:
        rules.check([ic.catalog.get("incident")])
    text = "; ".join(info.value.problems)
    assert "'when' names 'sevrity', which is not a field of 'incident'" in text
    assert "'category'" not in text


def test_the_shipped_policy_passes_the_checks() -> None:
    SlaRules().check(ic.catalog)


def _opened_history() -> list[ic.Event]:
    spec = ic.catalog.get("incident")
    fields = {"title": "Mail down", "caller": "carol", "impact": 1, "urgency": 1}
    return [spec.open(record_id="INC-1", at=T0, actor=AGENT, fields=fields).event]


def test_signals_refuse_a_naive_now() -> None:
    events = _opened_history()
    spec = ic.catalog.get("incident")
    with pytest.raises(ic.ValidationError, match=r"\$\.now: naive datetime"):
        SlaRules().signals("INC-1", events, spec, T0.replace(tzinfo=None))


def test_deadlines_refuse_a_naive_after() -> None:
    events = _opened_history()
    spec = ic.catalog.get("incident")
    with pytest.raises(ic.ValidationError, match=r"\$\.after: naive datetime"):
        SlaRules().deadlines("INC-1", events, spec, after=T0.replace(tzinfo=None))
    assert SlaRules().deadlines("INC-1", events, spec, after=T0)  # aware is fine


@pytest.mark.parametrize(("year", "month", "path"), [(2026, "3", "$.month"), ("2026", 3, "$.year")])
def test_a_month_period_needs_whole_number_year_and_month(
    year: object, month: object, path: str
) -> None:
    with pytest.raises(ic.ValidationError) as info:
        Period.month(year, month, UTC)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == path
