"""The public API is what ``__all__`` lists; every public name is importable and documented."""

from __future__ import annotations

import importlib
import inspect

import pytest

PACKAGES = [
    "itsmcore",
    "itsmcore.sla",
    "itsmcore.improvement",
    "itsmcore.ports",
    "itsmcore.adapters",
    "itsmcore.processes",
    "itsmcore.monitoring",
    "itsmcore.testing",
]


def _public() -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for pkg in PACKAGES:
        module = importlib.import_module(pkg)
        for name in getattr(module, "__all__", ()):
            out.append((pkg, name))
    return out


@pytest.mark.parametrize(("package", "name"), _public(), ids=lambda v: str(v))
def test_every_public_name_exists_and_has_a_docstring(package: str, name: str) -> None:
    module = importlib.import_module(package)
    obj = getattr(module, name)
    if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismodule(obj):
        assert (obj.__doc__ or "").strip(), f"{package}.{name} has no docstring"


def test_section_six_names_are_exported() -> None:
    import itsmcore as ic

    for name in (
        "Actor",
        "Step",
        "Engine",
        "catalog",
        "replay",
        "verify_chain",
        "ValidationError",
        "SpecError",
        "InvalidTransition",
        "GuardFailed",
        "Forbidden",
        "ConcurrencyError",
        "NotFound",
        "NoBusinessTime",
        "ChainBroken",
        "ItsmError",
        "Record",
        "Event",
        "Link",
    ):
        assert name in ic.__all__, name
    assert all(
        issubclass(getattr(ic, n), ic.ItsmError)
        for n in (
            "ValidationError",
            "SpecError",
            "InvalidTransition",
            "GuardFailed",
            "Forbidden",
            "ConcurrencyError",
            "NotFound",
            "NoBusinessTime",
            "ChainBroken",
        )
    )


def test_the_version_comes_from_the_package_metadata() -> None:
    import itsmcore as ic

    assert ic.__version__ == "0.1.0"


def test_importing_the_package_or_its_pytest_plugin_loads_no_engine() -> None:
    # Every host's pytest run imports the plugin: it must not pay for the engine.
    import subprocess
    import sys

    code = (
        "import sys, itsmcore, itsmcore.testing.plugin\n"
        "heavy = [m for m in ('itsmcore.engine', 'itsmcore._catalog', 'transitions', "
        "'cattrs', 'itsmcore.sla') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


LAZY_PACKAGES = [p for p in PACKAGES if hasattr(importlib.import_module(p), "_EXPORTS")]


def test_the_packages_with_lazy_exports() -> None:
    assert LAZY_PACKAGES == ["itsmcore", "itsmcore.ports", "itsmcore.adapters", "itsmcore.testing"]


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_no_lazy_export_shares_its_name_with_a_submodule(package: str) -> None:
    # Importing such a submodule first would bind the module under the export's name.
    import pkgutil

    module = importlib.import_module(package)
    submodules = {m.name for m in pkgutil.iter_modules(getattr(module, "__path__", []))}
    assert not submodules & set(module.__all__), package


def test_exports_are_the_objects_whatever_was_imported_first() -> None:
    import subprocess
    import sys

    code = (
        "import itsmcore.engine, itsmcore._catalog, itsmcore.adapters.sqlite\n"
        "import itsmcore as ic\n"
        "from itsmcore._catalog import Catalog\n"
        "assert isinstance(ic.catalog, Catalog), ic.catalog\n"
        "assert ic.Engine is itsmcore.engine.Engine\n"
        "import itsmcore.adapters as a\n"
        "assert a.SqliteStorage is itsmcore.adapters.sqlite.SqliteStorage\n"
        "assert 'Engine' in dir(ic) and 'SqliteStorage' in dir(a)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
