"""The itsmcore testing kit: strategies, stateful machines and the storage contract suite.

Why shipped in the package: a host that declares its own process, or writes its own
storage adapter, should prove it obeys the same laws as the built-ins without copying
our tests. See ``docs/testing.md``.

- :mod:`itsmcore.testing.strategies`: hypothesis strategies for actors, aware datetimes
  (over-sampling DST transitions) and valid field values of any spec;
- :mod:`itsmcore.testing.stateful`: :func:`process_state_machine`, a rule-based state
  machine that drives any :class:`~itsmcore.ProcessSpec` and checks the kernel's laws;
- :mod:`itsmcore.testing.engine_stateful`: :func:`engine_state_machine`, the same through
  an :class:`~itsmcore.Engine` and its storage, against the pure layer as the oracle;
- :mod:`itsmcore.testing.laws`: the laws those machines check, as plain functions;
- :mod:`itsmcore.testing.contract`: :class:`StorageContract`, the storage contract suite
  a storage adapter subclasses (needs pytest), and
  :mod:`itsmcore.testing.stateful_storage`: the differential storage machine;
- :mod:`itsmcore.testing.plugin`: the pytest plugin (markers and fixtures).

``import itsmcore.testing`` needs neither hypothesis nor pytest: each name is imported
from its module on first use. The hypothesis-based parts need the ``testing`` extra
(``pip install 'itsmcore[testing]'``); a missing dependency raises ``ImportError``
saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from itsmcore._lazy import lazy_exports

if TYPE_CHECKING:
    from itsmcore.testing.contract import CAPABILITIES, StorageContract
    from itsmcore.testing.engine_stateful import EngineStateMachine, engine_state_machine
    from itsmcore.testing.laws import LawViolated, check_history, check_open, check_step
    from itsmcore.testing.stateful import (
        ActorSource,
        FieldSource,
        ProcessStateMachine,
        process_state_machine,
    )
    from itsmcore.testing.stateful_storage import StorageDifferential, run_differential
    from itsmcore.testing.strategies import (
        actors,
        aware_datetimes,
        dst_transitions,
        event_fields,
        field_values,
        open_fields,
        time_gaps,
    )

#: Public name -> the module it lives in (imported on first use).
_EXPORTS: Final[dict[str, str]] = {
    "ActorSource": "itsmcore.testing.stateful",
    "CAPABILITIES": "itsmcore.testing.contract",
    "EngineStateMachine": "itsmcore.testing.engine_stateful",
    "FieldSource": "itsmcore.testing.stateful",
    "LawViolated": "itsmcore.testing.laws",
    "ProcessStateMachine": "itsmcore.testing.stateful",
    "StorageContract": "itsmcore.testing.contract",
    "StorageDifferential": "itsmcore.testing.stateful_storage",
    "actors": "itsmcore.testing.strategies",
    "aware_datetimes": "itsmcore.testing.strategies",
    "check_history": "itsmcore.testing.laws",
    "check_open": "itsmcore.testing.laws",
    "check_step": "itsmcore.testing.laws",
    "dst_transitions": "itsmcore.testing.strategies",
    "engine_state_machine": "itsmcore.testing.engine_stateful",
    "event_fields": "itsmcore.testing.strategies",
    "field_values": "itsmcore.testing.strategies",
    "open_fields": "itsmcore.testing.strategies",
    "process_state_machine": "itsmcore.testing.stateful",
    "run_differential": "itsmcore.testing.stateful_storage",
    "time_gaps": "itsmcore.testing.strategies",
}

#: Third-party distributions the kit's modules need (the ``testing`` extra).
_EXTRAS: Final = frozenset({"hypothesis", "pytest"})

__all__ = [
    "CAPABILITIES",
    "ActorSource",
    "EngineStateMachine",
    "FieldSource",
    "LawViolated",
    "ProcessStateMachine",
    "StorageContract",
    "StorageDifferential",
    "actors",
    "aware_datetimes",
    "check_history",
    "check_open",
    "check_step",
    "dst_transitions",
    "engine_state_machine",
    "event_fields",
    "field_values",
    "open_fields",
    "process_state_machine",
    "run_differential",
    "time_gaps",
]


__getattr__, __dir__ = lazy_exports(
    __name__, _EXPORTS, extras=_EXTRAS, install_hint="pip install 'itsmcore[testing]'"
)
