"""Package exports imported on first use (PEP 562), for the ``__init__`` modules.

Why: ``import itsmcore`` is paid by every host process and, through the pytest plugin
that lives in this package, by every test run of every project that installs it. With
lazy exports a name costs its module's import only when it is first used, and
``import itsmcore.testing.plugin`` loads none of the engine.

A package keeps its names visible to type checkers and documentation tools with
``if TYPE_CHECKING:`` imports and lists them in ``__all__``; at run time
:func:`lazy_exports` gives it the module-level ``__getattr__`` and ``__dir__``. An
export must not share its name with a submodule of the package: importing that
submodule would bind the module under the export's name.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    exports: Mapping[str, str],
    *,
    extras: frozenset[str] = frozenset(),
    install_hint: str = "",
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose public names ``exports`` maps
    to the modules that define them.

    A name is imported from its module on first access and then kept in the package's
    namespace (later accesses are plain lookups). An unknown name is an
    ``AttributeError``, so ``from package import submodule`` still finds submodules.
    When a module fails to import because a distribution named in ``extras`` is
    missing, the ``ImportError`` names it and says ``install_hint``.
    """
    namespace = vars(sys.modules[package])

    def get_export(name: str) -> Any:
        module_name = exports.get(name)
        if module_name is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = (exc.name or "").split(".")[0]
            if missing in extras:
                raise ImportError(
                    f"{package}.{name} needs {missing!r}, which is not installed: {install_hint}"
                ) from exc
            raise
        value = getattr(module, name)
        namespace[name] = value
        return value

    def names() -> list[str]:
        return sorted({*namespace, *exports})

    return get_export, names
