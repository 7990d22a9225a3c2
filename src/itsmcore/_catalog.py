"""The catalog of process specs, by name and version.

Why versions: a record keeps the spec version it was opened with, and the catalog keeps
older versions, so records in flight finish under the rules they started with while new
records get the new rules.

:data:`catalog` (exported as ``itsmcore.catalog``) holds the built-in processes and is
read-only. An :class:`~itsmcore.engine.Engine` works on its own copy, extended with the
processes its plugins provide, so two engines in one process never interfere.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from itsmcore.errors import NotFound, SpecError, did_you_mean
from itsmcore.spec import ProcessSpec

__all__ = ["Catalog", "builtin_specs", "catalog"]


class Catalog:
    """Specs by name and version. ``get(name)`` returns the latest version."""

    __slots__ = ("_frozen", "_specs")

    def __init__(self, specs: Iterable[ProcessSpec] = ()) -> None:
        self._specs: dict[str, dict[int, ProcessSpec]] = {}
        self._frozen = False
        for spec in specs:
            self.register(spec)

    def register(self, spec: ProcessSpec, *, replace: bool = False) -> None:
        """Add ``spec``. Registering a different spec under an existing name and version is
        a :class:`SpecError` unless ``replace`` (bump the version instead)."""
        if self._frozen:
            raise SpecError(spec.name, ["the built-in catalog is read-only; use .copy()"])
        if not isinstance(spec, ProcessSpec):
            raise SpecError(str(spec), ["expected a ProcessSpec"])
        versions = self._specs.setdefault(spec.name, {})
        old = versions.get(spec.version)
        if old is not None and old != spec and not replace:
            raise SpecError(
                spec.name,
                [
                    f"version {spec.version} is already registered with different content; "
                    "give the new spec a higher version"
                ],
            )
        versions[spec.version] = spec

    def get(self, name: str, version: int | None = None) -> ProcessSpec:
        """The spec ``name`` at ``version`` (default: the latest). Raises ``NotFound``."""
        versions = self._specs.get(name)
        if not versions:
            hint = did_you_mean(str(name), self._specs)
            raise NotFound(f"unknown process {name!r}{hint}; known: {', '.join(self.names())}")
        if version is None:
            return versions[max(versions)]
        try:
            return versions[version]
        except KeyError:
            raise NotFound(
                f"process {name!r} has no version {version}; known: {sorted(versions)}"
            ) from None

    def names(self) -> tuple[str, ...]:
        """Names of all processes, sorted."""
        return tuple(sorted(self._specs))

    def versions(self, name: str) -> tuple[int, ...]:
        """The versions of ``name``, ascending (empty if unknown)."""
        return tuple(sorted(self._specs.get(name, {})))

    def copy(self) -> Catalog:
        """A mutable copy."""
        new = Catalog()
        for versions in self._specs.values():
            for spec in versions.values():
                new.register(spec)
        return new

    def freeze(self) -> None:
        """Refuse further registrations."""
        self._frozen = True

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[ProcessSpec]:
        for name in self.names():
            yield self.get(name)

    def __len__(self) -> int:
        return len(self._specs)

    def __repr__(self) -> str:
        return f"Catalog({', '.join(self.names())})"


def builtin_specs() -> list[ProcessSpec]:
    """Every built-in process spec (all versions)."""
    from itsmcore.processes import all_specs

    return all_specs()


def _make_builtin() -> Catalog:
    from itsmcore.registry import BUILTINS

    cat = Catalog(builtin_specs())
    cat.freeze()
    BUILTINS.freeze()
    return cat


#: The built-in processes (read-only).
catalog = _make_builtin()
