"""The kernel's laws hold for the part-B processes under random walks.

Each process runs under :func:`itsmcore.testing.stateful.process_state_machine` (the
pure layer, 100 examples) with actors and field overrides that satisfy its guards often
enough to reach its later states (the kit cannot read guards); refusals are part of the
walk and must change nothing. A smaller run drives the same walks through
``Engine.in_memory()`` with its link rules, compared step by step with the pure layer.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import itsmcore as ic
from itsmcore.processes.service_request import DEFAULT_CATALOGUE
from itsmcore.testing.engine_stateful import engine_state_machine
from itsmcore.testing.stateful import process_state_machine
from itsmcore.testing.strategies import actors

#: Every role the four processes check, statically or from their data.
ROLES = ("line_manager", "resource_owner", "knowledge_manager", "security_officer", "agent")
SETTINGS = settings(
    max_examples=100,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
ITEMS = st.sampled_from(sorted(DEFAULT_CATALOGUE))
REASON = st.fixed_dictionaries({"reason": st.sampled_from(["duplicate", "no longer needed"])})


def _actor_for(*roles: str) -> Any:
    """Actors for the events that need one of ``roles``: usually a holder (so the walk
    gets past the decision), sometimes anyone (so refusals are exercised too)."""
    holders = actors(roles=roles, min_roles=1)
    anyone = actors(roles=ROLES)

    def choose(event: str, record: ic.Record | None) -> SearchStrategy[ic.Actor]:
        if event in DECISIONS:
            return st.one_of(holders, holders, anyone)
        return anyone

    return choose


#: The events whose actor needs a role (from the spec or from the record's data).
DECISIONS = frozenset({"approve", "reject", "publish", "confirm", "close"})


def _same_item(record: ic.Record | None) -> SearchStrategy[dict[str, Any]]:
    """``update`` keeps the request's item, except sometimes while it is still new."""
    if record is not None and record.state != "new":
        return st.just({"catalogue_item": record.get("catalogue_item")})
    return st.fixed_dictionaries({"catalogue_item": ITEMS})


ServiceRequestMachine = process_state_machine(
    ic.catalog.get("service_request"),
    actors=_actor_for("line_manager", "resource_owner"),
    max_records=2,
    field_overrides={
        "open": st.fixed_dictionaries({"catalogue_item": ITEMS}),
        "update": _same_item,
        "reject": REASON,
        "reopen": REASON,
        "cancel": REASON,
    },
)
TestServiceRequestLaws = ServiceRequestMachine.TestCase
TestServiceRequestLaws.settings = SETTINGS

ConfigurationItemMachine = process_state_machine(
    ic.catalog.get("configuration_item"),
    actors=actors(roles=ROLES),
    max_records=2,
    field_overrides={
        "dispose": st.fixed_dictionaries({"data_sanitised": st.booleans()}),
        "update": st.fixed_dictionaries({}, optional={"change_ref": st.just("CHG-000001")}),
    },
)
TestConfigurationItemLaws = ConfigurationItemMachine.TestCase
TestConfigurationItemLaws.settings = SETTINGS

KnowledgeArticleMachine = process_state_machine(
    ic.catalog.get("knowledge_article"),
    actors=_actor_for("knowledge_manager"),
    max_records=2,
)
TestKnowledgeArticleLaws = KnowledgeArticleMachine.TestCase
TestKnowledgeArticleLaws.settings = SETTINGS

CLOSING = st.fixed_dictionaries(
    {
        "lessons_learned": st.just("Alert triage took too long"),
        "root_cause": st.just("Phishing macro"),
        "personal_data_involved": st.booleans(),
        "regulator_notified": st.booleans(),
        "improvement_actions": st.just(("Block macros",)),
    }
)

SecurityIncidentMachine = process_state_machine(
    ic.catalog.get("security_incident"),
    actors=_actor_for("security_officer"),
    max_records=2,
    field_overrides={"close": CLOSING, "dismiss": REASON},
)
TestSecurityIncidentLaws = SecurityIncidentMachine.TestCase
TestSecurityIncidentLaws.settings = SETTINGS


# -- the same walks through the engine ----------------------------------------------------

ENGINE_SETTINGS = settings(SETTINGS, max_examples=30)
_WALKS: dict[str, tuple[Any, dict[str, Any]]] = {
    "service_request": (
        _actor_for("line_manager", "resource_owner"),
        {
            "open": st.fixed_dictionaries({"catalogue_item": ITEMS}),
            "update": _same_item,
            "reject": REASON,
            "reopen": REASON,
            "cancel": REASON,
        },
    ),
    "configuration_item": (actors(roles=ROLES), {}),
    "knowledge_article": (_actor_for("knowledge_manager"), {}),
    "security_incident": (
        _actor_for("security_officer"),
        {"close": CLOSING, "dismiss": REASON},
    ),
}


def _engine_case(process: str) -> Any:
    who, overrides = _WALKS[process]
    machine = engine_state_machine(
        ic.Engine.in_memory, process, actors=who, field_overrides=overrides, max_records=2
    )
    case = machine.TestCase
    case.settings = ENGINE_SETTINGS
    return case


TestServiceRequestThroughTheEngine = _engine_case("service_request")
TestConfigurationItemThroughTheEngine = _engine_case("configuration_item")
TestKnowledgeArticleThroughTheEngine = _engine_case("knowledge_article")
TestSecurityIncidentThroughTheEngine = _engine_case("security_incident")
