"""itsmcore: an embeddable, pure-domain process engine for IT service management.

The public API is what ``__all__`` lists here and in each subpackage; everything else is
private. See ``docs/concepts.md`` for the pure/engine split. Each name is imported from
its module on first use (:mod:`itsmcore._lazy`), so ``import itsmcore`` itself is cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from itsmcore._lazy import lazy_exports

if TYPE_CHECKING:
    from itsmcore._catalog import Catalog, catalog
    from itsmcore.cadence import Cadence, CadenceOccurrence
    from itsmcore.chain import GENESIS, event_hash, verify_chain
    from itsmcore.engine import ChainReport, Engine
    from itsmcore.errors import (
        ChainBroken,
        ClaimTaken,
        ConcurrencyError,
        Forbidden,
        GuardFailed,
        InvalidTransition,
        ItsmError,
        NoBusinessTime,
        NotFound,
        SpecError,
        StorageBusy,
        StorageError,
        StorageUnavailable,
        ValidationError,
    )
    from itsmcore.loading import load_policy, load_spec
    from itsmcore.machine import replay
    from itsmcore.ports.hookspecs import hookimpl
    from itsmcore.ports.plugins import PluginError
    from itsmcore.ports.storage import Claim, Deadline, Notification, SignedHead, Storage
    from itsmcore.priority import DEFAULT_MATRIX, PriorityMatrix
    from itsmcore.records import (
        SYSTEM,
        Actor,
        Event,
        FieldMap,
        Link,
        Record,
        Step,
        apply_changes,
        fields_as_of,
        links_after,
    )
    from itsmcore.registry import BUILTINS, Context, Registry
    from itsmcore.relations import DEFAULT_LINK_RULES, ImpactedItem, LinkKind, LinkRules
    from itsmcore.serialization import dump, load, spec_from_dict, spec_to_dict
    from itsmcore.sla import (
        BusinessCalendar,
        ClockStatus,
        MissingExtra,
        SlaPolicy,
        SlaSignal,
        TimerSignal,
    )
    from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

#: Public name -> the module that defines it (imported on first use: see itsmcore._lazy).
_EXPORTS: Final[dict[str, str]] = {
    "Actor": "itsmcore.records",
    "BUILTINS": "itsmcore.registry",
    "BusinessCalendar": "itsmcore.sla",
    "Cadence": "itsmcore.cadence",
    "CadenceOccurrence": "itsmcore.cadence",
    "Catalog": "itsmcore._catalog",
    "ChainBroken": "itsmcore.errors",
    "ChainReport": "itsmcore.engine",
    "Claim": "itsmcore.ports.storage",
    "ClaimTaken": "itsmcore.errors",
    "ClockStatus": "itsmcore.sla",
    "ConcurrencyError": "itsmcore.errors",
    "Context": "itsmcore.registry",
    "DEFAULT_LINK_RULES": "itsmcore.relations",
    "DEFAULT_MATRIX": "itsmcore.priority",
    "Deadline": "itsmcore.ports.storage",
    "Engine": "itsmcore.engine",
    "Event": "itsmcore.records",
    "FieldMap": "itsmcore.records",
    "FieldSpec": "itsmcore.spec",
    "Forbidden": "itsmcore.errors",
    "GENESIS": "itsmcore.chain",
    "GuardFailed": "itsmcore.errors",
    "ImpactedItem": "itsmcore.relations",
    "InvalidTransition": "itsmcore.errors",
    "ItsmError": "itsmcore.errors",
    "Link": "itsmcore.records",
    "LinkKind": "itsmcore.relations",
    "LinkRules": "itsmcore.relations",
    "MissingExtra": "itsmcore.sla",
    "NoBusinessTime": "itsmcore.errors",
    "NotFound": "itsmcore.errors",
    "Notification": "itsmcore.ports.storage",
    "PluginError": "itsmcore.ports.plugins",
    "PriorityMatrix": "itsmcore.priority",
    "ProcessSpec": "itsmcore.spec",
    "Record": "itsmcore.records",
    "Registry": "itsmcore.registry",
    "SYSTEM": "itsmcore.records",
    "SignedHead": "itsmcore.ports.storage",
    "SlaPolicy": "itsmcore.sla",
    "SlaSignal": "itsmcore.sla",
    "SpecError": "itsmcore.errors",
    "StateSpec": "itsmcore.spec",
    "Step": "itsmcore.records",
    "Storage": "itsmcore.ports.storage",
    "StorageBusy": "itsmcore.errors",
    "StorageError": "itsmcore.errors",
    "StorageUnavailable": "itsmcore.errors",
    "TimerSignal": "itsmcore.sla",
    "TimerSpec": "itsmcore.spec",
    "TransitionSpec": "itsmcore.spec",
    "ValidationError": "itsmcore.errors",
    "apply_changes": "itsmcore.records",
    "catalog": "itsmcore._catalog",
    "dump": "itsmcore.serialization",
    "event_hash": "itsmcore.chain",
    "fields_as_of": "itsmcore.records",
    "hookimpl": "itsmcore.ports.hookspecs",
    "links_after": "itsmcore.records",
    "load": "itsmcore.serialization",
    "load_policy": "itsmcore.loading",
    "load_spec": "itsmcore.loading",
    "replay": "itsmcore.machine",
    "spec_from_dict": "itsmcore.serialization",
    "spec_to_dict": "itsmcore.serialization",
    "verify_chain": "itsmcore.chain",
}

__all__ = [
    "BUILTINS",
    "DEFAULT_LINK_RULES",
    "DEFAULT_MATRIX",
    "GENESIS",
    "SYSTEM",
    "Actor",
    "BusinessCalendar",
    "Cadence",
    "CadenceOccurrence",
    "Catalog",
    "ChainBroken",
    "ChainReport",
    "Claim",
    "ClaimTaken",
    "ClockStatus",
    "ConcurrencyError",
    "Context",
    "Deadline",
    "Engine",
    "Event",
    "FieldMap",
    "FieldSpec",
    "Forbidden",
    "GuardFailed",
    "ImpactedItem",
    "InvalidTransition",
    "ItsmError",
    "Link",
    "LinkKind",
    "LinkRules",
    "MissingExtra",
    "NoBusinessTime",
    "NotFound",
    "Notification",
    "PluginError",
    "PriorityMatrix",
    "ProcessSpec",
    "Record",
    "Registry",
    "SignedHead",
    "SlaPolicy",
    "SlaSignal",
    "SpecError",
    "StateSpec",
    "Step",
    "Storage",
    "StorageBusy",
    "StorageError",
    "StorageUnavailable",
    "TimerSignal",
    "TimerSpec",
    "TransitionSpec",
    "ValidationError",
    "apply_changes",
    "catalog",
    "dump",
    "event_hash",
    "fields_as_of",
    "hookimpl",
    "links_after",
    "load",
    "load_policy",
    "load_spec",
    "replay",
    "spec_from_dict",
    "spec_to_dict",
    "verify_chain",
]


_export, __dir__ = lazy_exports(__name__, _EXPORTS)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib import metadata  # read only by who asks for the version

        return metadata.version("itsmcore")
    return _export(name)
