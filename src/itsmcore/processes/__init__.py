"""The built-in processes, one module each, every one a :class:`~itsmcore.spec.ProcessSpec`.

Each module registers its guards and effects in :data:`itsmcore.registry.BUILTINS` and
exposes its spec as ``SPEC`` (older versions, if any, as ``OLDER_SPECS``).
"""

from __future__ import annotations

import importlib

from itsmcore.spec import ProcessSpec

__all__ = ["MODULES", "all_specs"]

#: The built-in process modules (our own modules, imported by fixed name).
MODULES: tuple[str, ...] = (
    "incident",
    "problem",
    "known_error",
    "change",
    "release",
    "service_request",
    "configuration_item",
    "knowledge_article",
    "security_incident",
    "service",
    "service_delivery",
    "service_requirement",
    "service_level_agreement",
    "supplier_contract",
    "capacity_allocation",
    "continuity_plan",
    "risk",
    "audit",
    "audit_finding",
    "compliance_obligation",
    "feedback",
    "training_enrollment",
    "certification",
    "scheduled_activity",
    "improvement",
)


def all_specs() -> list[ProcessSpec]:
    """Every version of every built-in process spec."""
    specs: list[ProcessSpec] = []
    for name in MODULES:
        module = importlib.import_module(f"itsmcore.processes.{name}")
        specs.extend(getattr(module, "OLDER_SPECS", ()))
        specs.append(module.SPEC)
    return specs
