"""Load process specs from files or mappings (the only part of spec loading that reads
the disk; the pure conversion is :func:`itsmcore.serialization.spec_from_dict`).

Safe by default: a spec file is data. Nothing in it is imported or evaluated; guard and
effect names must be registered; files over :data:`MAX_SPEC_BYTES` are refused before
they are parsed.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from itsmcore.errors import SpecError
from itsmcore.registry import EffectFn, GuardFn, Registry
from itsmcore.serialization import spec_from_dict
from itsmcore.sla.policy import SlaPolicy
from itsmcore.spec import ProcessSpec

__all__ = ["MAX_SPEC_BYTES", "load_policy", "load_spec", "read_document"]

#: Spec (and policy) files larger than this are refused before parsing.
MAX_SPEC_BYTES: Final = 1_000_000


def read_document(path: str | Path, *, kind: str = "spec") -> Mapping[str, Any]:
    """Read a ``.toml`` or ``.json`` document of at most :data:`MAX_SPEC_BYTES` bytes.

    Raises :class:`SpecError` (unreadable, too large, unparsable, not a table/object).
    """
    path = Path(path)
    label = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SpecError(label, [f"cannot read {str(path)!r}: {exc.strerror}"]) from None
    if size > MAX_SPEC_BYTES:
        raise SpecError(label, [f"file is {size} bytes; the limit is {MAX_SPEC_BYTES}"])
    try:
        raw = path.read_bytes()  # a directory or unreadable file passes stat() but not this
    except OSError as exc:
        raise SpecError(label, [f"cannot read {str(path)!r}: {exc.strerror}"]) from None
    try:
        if path.suffix.lower() == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        elif path.suffix.lower() == ".json":
            data = json.loads(raw.decode("utf-8"))
        else:
            raise SpecError(label, [f"use a .toml or .json file for a {kind}"])
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise SpecError(label, [f"cannot parse: {exc}"]) from None
    if not isinstance(data, Mapping):
        raise SpecError(label, ["the document must be a table/object"])
    return data


def load_spec(
    source: str | Path | Mapping[str, Any],
    *,
    guards: Mapping[str, GuardFn] | None = None,
    effects: Mapping[str, EffectFn] | None = None,
    registry: Registry | None = None,
) -> ProcessSpec:
    """Load a process spec from a mapping, or from a ``.toml`` / ``.json`` file path.

    Safe by default: nothing is imported or evaluated; guard and effect names must be in
    the registry (built-ins plus ``guards``/``effects``); files over
    :data:`MAX_SPEC_BYTES` are refused. Any problem raises one :class:`SpecError`.
    """
    if isinstance(source, Mapping):
        return spec_from_dict(source, guards=guards, effects=effects, registry=registry)
    data = read_document(source)
    return spec_from_dict(data, guards=guards, effects=effects, registry=registry)


def load_policy(source: str | Path | Mapping[str, Any]) -> SlaPolicy:
    """Load an SLA policy from a mapping, or from a ``.toml`` / ``.json`` file path.

    The same limits as :func:`load_spec` apply. Raises :class:`SpecError` for an
    unreadable file and ``ValidationError``/``SpecError`` (with paths) for bad content.
    """
    data = source if isinstance(source, Mapping) else read_document(source, kind="policy")
    return SlaPolicy.from_dict(data)
