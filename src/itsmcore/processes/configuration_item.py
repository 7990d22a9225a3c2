"""The configuration item process: the lifecycle of one CI in the CMDB.

ISO/IEC 20000-1 clause 8.2.6 (configuration management); the seed's R2.4-02 (versioned
CIs under change control, traceable), R4.2-04 (relationships, redundancy), R6.4-04
(criticality) and RX-03 (an owner on every CI). States and rules:

- ``planned`` → ``in_build`` (``build``) → ``live`` (``go_live``) ⇄ ``maintenance``
  (``start_maintenance`` with a ``maintenance_reason``, ``end_maintenance``) →
  ``retired`` (``retire`` from ``live`` or ``maintenance``, requires ``reason``) →
  ``disposed`` (``dispose``, requires ``disposal_method``); a CI that is never built is
  ``cancel``-led from ``planned`` or ``in_build`` (requires ``reason``).
- ``title`` (the CI's name), ``ci_type`` and ``owner`` are required and never cleared.
- **Change control** (R2.4-02): while a CI is in a controlled state (``live`` and
  ``maintenance``, ``options["controlled_states"]``), an event that changes a controlled
  attribute (``options["controlled_fields"]``, default ``ci_type``, ``version``,
  ``environment``, ``service``, ``criticality``) must carry the authorising change's id
  in ``change_ref`` in the same event. The pure guard checks that a reference is given;
  that the change is authorised is the host's check (link it: ``engine.link(change_id,
  ci_id, "affects")``).
- **Secure disposal**: disposing a CI of a data-bearing type
  (``options["sanitise_types"]``) requires ``data_sanitised`` = true.
- Relationships between CIs are links (``depends_on``, ``runs_on``, ``part_of``,
  ``connected_to``, ``redundant_with``; see :mod:`itsmcore.relations`), and
  ``engine.impact(ci_id)`` lists everything that depends on a CI, transitively.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from itsmcore.processes import common as _common  # noqa: F401  (registers common.*)
from itsmcore.registry import BUILTINS, Context
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TransitionSpec

__all__ = [
    "CI_TYPES",
    "CRITICALITIES",
    "DISPOSAL_METHODS",
    "ENVIRONMENTS",
    "SPEC",
]

#: CI classes (a broad, flat set; a host needing its own classes ships a new version).
CI_TYPES: Final = (
    "business_service",
    "application",
    "software",
    "database",
    "server",
    "virtual_machine",
    "container",
    "network_device",
    "storage",
    "end_user_device",
    "mobile_device",
    "cloud_resource",
    "document",
    "facility",
    "other",
)
ENVIRONMENTS: Final = ("production", "staging", "test", "development", "disaster_recovery")
#: How much the business relies on the CI (seed R6.4-04), most critical first.
CRITICALITIES: Final = ("critical", "high", "medium", "low")
DISPOSAL_METHODS: Final = ("resale", "recycling", "destruction", "return_to_vendor", "donation")

_CONTROLLED_FIELDS: Final = ("ci_type", "version", "environment", "service", "criticality")
_CONTROLLED_STATES: Final = ("live", "maintenance")
_SANITISE_TYPES: Final = (
    "server",
    "storage",
    "end_user_device",
    "mobile_device",
    "network_device",
    "database",
)
_KEPT: Final = ("title", "ci_type", "owner")


def _names(value: Any, default: Sequence[str]) -> tuple[str, ...]:
    if value is None:
        return tuple(default)
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


@BUILTINS.guard("configuration_item.change_controlled")
def _change_controlled(ctx: Context) -> str | None:
    """In a controlled state, a change to a controlled attribute names its change."""
    record = ctx.record
    if record is None or ctx.source not in _names(
        ctx.options.get("controlled_states"), _CONTROLLED_STATES
    ):
        return None
    controlled = _names(ctx.options.get("controlled_fields"), _CONTROLLED_FIELDS)
    moved = [n for n in controlled if n in ctx.changes and ctx.changes[n] != record.get(n)]
    if moved and ctx.changes.get("change_ref") is None:
        return (
            f"{', '.join(moved)} of a {ctx.source} CI change only under an authorised change: "
            "give its id in 'change_ref' with this event"
        )
    return None


@BUILTINS.guard("configuration_item.keeps_identity")
def _keeps_identity(ctx: Context) -> str | None:
    """The name, type and owner of a CI are never cleared (RX-03: always an owner)."""
    cleared = [n for n in _KEPT if n in ctx.changes and ctx.changes[n] in (None, "")]
    if cleared:
        return f"cannot clear {', '.join(cleared)}: give a new value instead"
    return None


@BUILTINS.guard("configuration_item.sanitised")
def _sanitised(ctx: Context) -> str | None:
    """A data-bearing CI is disposed of only once its data is wiped or destroyed."""
    kinds = _names(ctx.options.get("sanitise_types"), _SANITISE_TYPES)
    if ctx.value("ci_type") in kinds and ctx.value("data_sanitised") is not True:
        return (
            f"a {ctx.value('ci_type')} may hold data: set 'data_sanitised' to true once its "
            "media are wiped or destroyed, then dispose of it"
        )
    return None


@BUILTINS.effect("configuration_item.end_maintenance")
def _end_maintenance(ctx: Context) -> Mapping[str, Any] | None:
    """Back in service: the maintenance reason no longer applies (the next maintenance
    states its own)."""
    return {"maintenance_reason": None}


_G = ("configuration_item.change_controlled", "configuration_item.keeps_identity")

SPEC: Final = ProcessSpec(
    name="configuration_item",
    version=1,
    title="Configuration item",
    id_prefix="CI",
    description="A component that is managed to deliver a service, from plan to disposal.",
    states=(
        StateSpec("planned", "open", initial=True, description="Recorded, not yet built."),
        StateSpec("in_build", "open", description="Being built, bought or configured."),
        StateSpec("live", "active", description="In service."),
        StateSpec("maintenance", "paused", description="Temporarily out of normal service."),
        StateSpec("retired", "closed", description="Out of service, not yet disposed of."),
        StateSpec("disposed", "closed", terminal=True),
        StateSpec("cancelled", "cancelled", terminal=True, description="Never built."),
    ),
    fields=(
        FieldSpec("title", "str", required=True, description="The CI's name."),
        FieldSpec("ci_type", "enum", required=True, choices=CI_TYPES),
        FieldSpec("owner", "str", required=True, description="Who is accountable for it."),
        FieldSpec("service", "ref", description="The service the CI supports."),
        FieldSpec("description", "text"),
        FieldSpec("environment", "enum", choices=ENVIRONMENTS),
        FieldSpec("criticality", "enum", choices=CRITICALITIES),
        FieldSpec("version", "str"),
        FieldSpec("serial_number", "str"),
        FieldSpec("vendor", "str"),
        FieldSpec("location", "str"),
        FieldSpec("change_ref", "ref", description="The change authorising this event."),
        FieldSpec("maintenance_reason", "text"),
        FieldSpec("reason", "text", description="Why it was retired or cancelled."),
        FieldSpec("disposal_method", "enum", choices=DISPOSAL_METHODS),
        FieldSpec("data_sanitised", "bool"),
    ),
    transitions=(
        TransitionSpec("build", ("planned",), "in_build", guards=_G),
        TransitionSpec("go_live", ("in_build",), "live", guards=_G),
        TransitionSpec(
            "start_maintenance",
            ("live",),
            "maintenance",
            requires=("maintenance_reason",),
            guards=_G,
        ),
        TransitionSpec(
            "end_maintenance",
            ("maintenance",),
            "live",
            guards=_G,
            effects=("configuration_item.end_maintenance",),
        ),
        TransitionSpec(
            "retire",
            ("live", "maintenance"),
            "retired",
            requires=("reason",),
            guards=(*_G, "common.has_reason"),
        ),
        TransitionSpec(
            "dispose",
            ("retired",),
            "disposed",
            requires=("disposal_method",),
            guards=(*_G, "configuration_item.sanitised"),
        ),
        TransitionSpec(
            "cancel",
            ("planned", "in_build"),
            "cancelled",
            requires=("reason",),
            guards=(*_G, "common.has_reason"),
        ),
        TransitionSpec("update", ("*",), "=", guards=_G),
    ),
    options={
        "controlled_fields": list(_CONTROLLED_FIELDS),
        "controlled_states": list(_CONTROLLED_STATES),
        "sanitise_types": list(_SANITISE_TYPES),
    },
)
