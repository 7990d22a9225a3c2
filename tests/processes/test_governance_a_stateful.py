"""Every service-management process under the kernel's laws (hypothesis state machines).

``process_state_machine`` opens records, fires allowed, disallowed, back-dated and
naive-dated events, links records and checks replay, the hash chain, terminal states and
"a refused event changes nothing" after every step. The field overrides below satisfy
the processes' guards often enough that every state is reached, not only the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import itsmcore as ic
from itsmcore.capacity import DEFAULT_POOLS
from itsmcore.testing.stateful import process_state_machine
from itsmcore.testing.strategies import DEFAULT_ACTOR_IDS

SETTINGS = settings(max_examples=100, stateful_step_count=12, deadline=None)

_people = st.sampled_from(DEFAULT_ACTOR_IDS)
_text = st.sampled_from(("agreed", "see the design note", "done and verified"))


def _fixed(**values: Any) -> SearchStrategy[Mapping[str, Any]]:
    return st.fixed_dictionaries(
        {k: v if isinstance(v, SearchStrategy) else st.just(v) for k, v in values.items()}
    )


def _on_or_after_last_event(record: ic.Record | None) -> SearchStrategy[Mapping[str, Any]]:
    """A retirement date the next event can reach (the record's last event's UTC date)."""
    day = record.updated_at.date() if record is not None else date(2020, 1, 1)
    return _fixed(retirement_date=day, retirement_reason=_text)


TestService = process_state_machine(
    ic.catalog.get("service"),
    field_overrides={
        "open": _fixed(owner=_people),
        "design": _fixed(requirements=("SRQ-000001",)),
        "go_live": _fixed(slas=("SLA-000001",)),
        "retire": _on_or_after_last_event,
    },
).TestCase
TestService.settings = SETTINGS


def _agreed_before(record: ic.Record | None) -> SearchStrategy[Mapping[str, Any]]:
    agreed = record.updated_at if record is not None else None
    return _fixed(
        customer_agreed_at=agreed,
        resource_plan=_text,
        resources_covered=st.sampled_from((True, True, False)),
    )


TestServiceDelivery = process_state_machine(
    ic.catalog.get("service_delivery"),
    field_overrides={
        "design": _fixed(requirements_summary=_text, sla="SLA-000001"),
        "allocate_resources": _fixed(design_summary=_text, delivery_mode=_text),
        "implement": _agreed_before,
        "submit_for_acceptance": _fixed(implementation_notes=_text),
        "accept": _fixed(verification_notes=_text),
    },
    max_records=2,
).TestCase
TestServiceDelivery.settings = settings(SETTINGS, stateful_step_count=16)

TestServiceRequirement = process_state_machine(
    ic.catalog.get("service_requirement"),
    field_overrides={
        "open": _fixed(owner=_people),
        "analyse": _fixed(
            metric=_text, target_value=20.0, service="SVC-000001", due_date=date(2030, 1, 1)
        ),
        "approve": _fixed(feasibility="feasible", feasibility_notes=_text),
    },
).TestCase
TestServiceRequirement.settings = SETTINGS


def _later_policy(record: ic.Record | None) -> SearchStrategy[Mapping[str, Any]]:
    version = (record.get("sla_policy_version") or 1) if record is not None else 1
    return _fixed(sla_policy="mail-lyon", sla_policy_version=st.integers(version, version + 2))


TestServiceLevelAgreement = process_state_machine(
    ic.catalog.get("service_level_agreement"),
    field_overrides={
        "approve": _fixed(
            indicators=("availability >= 99.9 %",),
            valid_from=date(2020, 1, 1),
            valid_until=None,
        ),
        "activate": _later_policy,
        "complete_review": _later_policy,
    },
).TestCase
TestServiceLevelAgreement.settings = SETTINGS

TestSupplierContract = process_state_machine(
    ic.catalog.get("supplier_contract"),
    field_overrides={
        "activate": _fixed(
            start_date=date(2021, 1, 1),
            end_date=st.dates(date(2021, 1, 2), date(2040, 1, 1)),
            supported_slas=("SLA-000001",),
        ),
    },
).TestCase
TestSupplierContract.settings = SETTINGS

_pool = st.sampled_from(sorted(DEFAULT_POOLS))
TestCapacityAllocation = process_state_machine(
    ic.catalog.get("capacity_allocation"),
    field_overrides={
        "open": _fixed(pool=_pool, quantity=st.floats(0.5, 60.0)),
        "update": _fixed(pool=_pool),
        "allocate": _fixed(pool_booked=st.floats(0.0, 120.0)),
        "adjust": _fixed(pool=_pool, quantity=st.floats(0.5, 60.0), pool_booked=st.floats(0, 90)),
    },
).TestCase
TestCapacityAllocation.settings = SETTINGS

_short = st.timedeltas(timedelta(minutes=1), timedelta(hours=12))
TestContinuityPlan = process_state_machine(
    ic.catalog.get("continuity_plan"),
    field_overrides={
        "approve": _fixed(rto=timedelta(hours=4), rpo=timedelta(hours=1)),
        "test": _fixed(test_recovery_time=_short, test_data_loss=_short),
    },
).TestCase
TestContinuityPlan.settings = SETTINGS
