"""itsmcore: an embeddable, pure-domain process engine for IT service management.

The public API is what ``__all__`` lists here and in each subpackage; everything else is
private. See ``docs/concepts.md`` for the pure/engine split.
"""

from __future__ import annotations

from importlib import metadata as _metadata
from typing import Any

from itsmcore.catalog import Catalog, catalog
from itsmcore.chain import GENESIS, event_hash, verify_chain
from itsmcore.engine import ChainReport, Engine
from itsmcore.errors import (
    ChainBroken,
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
    ValidationError,
)
from itsmcore.loading import load_spec
from itsmcore.machine import replay
from itsmcore.ports.storage import Claim, Deadline, Notification, Storage
from itsmcore.priority import DEFAULT_MATRIX, PriorityMatrix
from itsmcore.records import SYSTEM, Actor, Event, FieldMap, Link, Record, Step
from itsmcore.registry import BUILTINS, Context, Registry
from itsmcore.serialization import dump, load, spec_from_dict, spec_to_dict
from itsmcore.spec import FieldSpec, ProcessSpec, StateSpec, TimerSpec, TransitionSpec

__all__ = [
    "BUILTINS",
    "DEFAULT_MATRIX",
    "GENESIS",
    "SYSTEM",
    "Actor",
    "Catalog",
    "ChainBroken",
    "ChainReport",
    "Claim",
    "ConcurrencyError",
    "Context",
    "Deadline",
    "Engine",
    "Event",
    "FieldMap",
    "FieldSpec",
    "Forbidden",
    "GuardFailed",
    "InvalidTransition",
    "ItsmError",
    "Link",
    "NoBusinessTime",
    "NotFound",
    "Notification",
    "PriorityMatrix",
    "ProcessSpec",
    "Record",
    "Registry",
    "SpecError",
    "StateSpec",
    "Step",
    "Storage",
    "StorageBusy",
    "StorageError",
    "TimerSpec",
    "TransitionSpec",
    "ValidationError",
    "catalog",
    "dump",
    "event_hash",
    "load",
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
