"""A plugin module loaded through a (faked) setuptools entry point in the tests."""

from __future__ import annotations

from typing import Any

from itsmcore.ports import hookimpl


@hookimpl
def itsmcore_guards() -> dict[str, Any]:
    return {"acme.always": lambda ctx: None}
