"""itsmcore: an embeddable, pure-domain process engine for IT service management.

The public API is what ``__all__`` lists here and in each subpackage; everything else is
private. See ``docs/concepts.md`` for the pure/engine split.
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import Any

from itsmcore.cadence import Cadence, CadenceOccurrence
from itsmcore.catalog import Catalog, catalog
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


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return _metadata.version("itsmcore")
    raise AttributeError(f"module 'itsmcore' has no attribute {name!r}")
