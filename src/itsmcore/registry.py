"""Named guards, conditions and effects that specs refer to by name.

Why a registry: specs are data and may come from a file; a name in a spec is looked up
here and nowhere else. Nothing is imported or evaluated from a string, so loading a
spec is safe (compare python-statemachine's fix for GHSA-v4jc-pm6r-3vj8).

- A **guard** (or condition) takes a :class:`Context` and returns ``None`` when it
  passes, or a reason (``str``) saying why it failed and what to change.
- An **effect** takes a :class:`Context` and returns extra field changes (derived fields,
  counters) or ``None``.

Both must be pure: no clock, no I/O; ``ctx.at`` is the time of the event. A guard whose
failure is better described by another typed error may raise it instead of returning a
reason: ``Forbidden`` when the required role depends on the record's data (a catalogue
item's approver role), ``ValidationError`` for bad input it alone can judge.
:data:`BUILTINS` holds the functions of the built-in processes; a host or plugin extends
a copy (:meth:`Registry.extended`), never the shared one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs

from itsmcore.records import Actor, Record

if TYPE_CHECKING:
    from itsmcore.spec import ProcessSpec

__all__ = ["BUILTINS", "Context", "EffectFn", "GuardFn", "Registry"]

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")


@attrs.frozen(slots=True)
class Context:
    """What a guard or effect sees.

    ``record`` is ``None`` when opening. ``changes`` are the validated changes of this
    event so far (the caller's, then each effect's); ``fields`` is the record's fields
    with those changes applied. ``options`` are the spec's host-tunable options.
    """

    spec: ProcessSpec
    record: Record | None
    event: str
    source: str | None
    target: str
    actor: Actor
    at: datetime
    changes: Mapping[str, Any]
    fields: Mapping[str, Any]

    @property
    def options(self) -> Mapping[str, Any]:
        """The spec's options (see :meth:`ProcessSpec.with_options`)."""
        return self.spec.options

    def value(self, name: str, default: Any = None) -> Any:
        """The value a field will have after this event."""
        return self.fields.get(name, default)


GuardFn = Callable[[Context], str | None]
EffectFn = Callable[[Context], Mapping[str, Any] | None]
_F = TypeVar("_F", bound=Callable[..., Any])


class Registry:
    """A set of named guards and effects. Names are ``lower_snake`` with an optional
    ``process.`` prefix (``change.quorum_reached``)."""

    __slots__ = ("_effects", "_frozen", "_guards")

    def __init__(
        self,
        guards: Mapping[str, GuardFn] | None = None,
        effects: Mapping[str, EffectFn] | None = None,
    ) -> None:
        self._guards: dict[str, GuardFn] = {}
        self._effects: dict[str, EffectFn] = {}
        self._frozen = False
        for name, fn in (guards or {}).items():
            self.add_guard(name, fn)
        for name, efn in (effects or {}).items():
            self.add_effect(name, efn)

    @property
    def guards(self) -> Mapping[str, GuardFn]:
        """Guards and conditions by name (read-only view)."""
        return self._guards

    @property
    def effects(self) -> Mapping[str, EffectFn]:
        """Effects by name (read-only view)."""
        return self._effects

    def _check(self, name: str, fn: object, table: Mapping[str, object]) -> None:
        if self._frozen:
            raise RuntimeError("this registry is frozen; use .extended() for a copy")
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError(f"invalid name {name!r}: use lower_snake_case, e.g. 'change.quorum'")
        if not callable(fn):
            raise TypeError(f"{name!r} must be a callable, got {type(fn).__name__}")
        if name in table and table[name] is not fn:
            raise ValueError(f"{name!r} is already registered")

    def add_guard(self, name: str, fn: GuardFn) -> None:
        """Register guard (or condition) ``fn`` under ``name``."""
        self._check(name, fn, self._guards)
        self._guards[name] = fn

    def add_effect(self, name: str, fn: EffectFn) -> None:
        """Register effect ``fn`` under ``name``."""
        self._check(name, fn, self._effects)
        self._effects[name] = fn

    def guard(self, name: str) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_guard`."""

        def deco(fn: _F) -> _F:
            self.add_guard(name, fn)
            return fn

        return deco

    def effect(self, name: str) -> Callable[[_F], _F]:
        """Decorator form of :meth:`add_effect`."""

        def deco(fn: _F) -> _F:
            self.add_effect(name, fn)
            return fn

        return deco

    def extended(
        self,
        guards: Mapping[str, GuardFn] | None = None,
        effects: Mapping[str, EffectFn] | None = None,
    ) -> Registry:
        """A new, unfrozen registry with this one's entries plus the given ones."""
        new = Registry(self._guards, self._effects)
        for name, fn in (guards or {}).items():
            new.add_guard(name, fn)
        for name, efn in (effects or {}).items():
            new.add_effect(name, efn)
        return new

    def freeze(self) -> None:
        """Refuse further registrations (used for :data:`BUILTINS` once loaded)."""
        self._frozen = True

    def __repr__(self) -> str:
        return f"Registry(guards={sorted(self._guards)}, effects={sorted(self._effects)})"


#: Guards and effects of the built-in processes; populated when :mod:`itsmcore.processes`
#: is imported, then frozen.
BUILTINS: Final = Registry()
