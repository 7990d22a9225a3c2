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
