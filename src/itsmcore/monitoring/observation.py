"""Observations: one normalised alert or probe result, whatever tool produced it.

Why one shape: Alertmanager webhooks, Nagios notifications, synthetic probes and the
library's own threshold rules all say the same thing: *this condition is firing* or
*this condition has cleared*, at an instant, with a severity and labels. Normalising
them first lets one code path (``Engine.observe``) deduplicate them into incidents.

``key`` identifies the condition (a rule on one CI, one Alertmanager label set) and is
what deduplicates: every firing of one key while its incident is open adds to that
incident. :func:`labels_key` builds a readable, canonical key from labels.

Pure: nothing here reads the clock or does I/O.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from itsmcore.errors import ValidationError
from itsmcore.records import FieldMap

__all__ = ["MODES", "STATUSES", "Observation", "labels_key"]

#: ``firing``: the condition holds; ``resolved``: it has cleared.
STATUSES: Final = ("firing", "resolved")
#: ``active``: a probe or synthetic check asked; ``passive``: the system reported (R4.1-02).
MODES: Final = ("active", "passive")
#: The longest key kept (a longer one is a ``ValidationError``: hash it first).
MAX_KEY: Final = 1000


def _labels(value: Mapping[str, str] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


def labels_key(name: str, labels: Mapping[str, str]) -> str:
    """A canonical, readable key: ``name{a="1",b="2"}`` with labels sorted by name
    (the Prometheus notation). Equal label sets give equal keys in any order."""
    inner = ",".join(
        f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items(), key=lambda kv: str(kv[0]))
    )
    return f"{name}{{{inner}}}"


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _problems(obs: Observation) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    for name in ("source", "key"):
        value = getattr(obs, name)
        if not isinstance(value, str) or not value.strip():
            errors.append((f"$.{name}", "must be a non-empty string"))
    if isinstance(obs.key, str) and len(obs.key) > MAX_KEY:
        errors.append(("$.key", f"is longer than {MAX_KEY} characters; hash it into a shorter key"))
    if obs.status not in STATUSES:
        errors.append(("$.status", f"must be 'firing' or 'resolved', got {obs.status!r}"))
    if obs.mode not in MODES:
        errors.append(
            ("$.mode", f"must be 'active' (probe) or 'passive' (alert), got {obs.mode!r}")
        )
    at: object = obs.at
    if not isinstance(at, datetime):
        errors.append(("$.at", f"expected a timezone-aware datetime, got {type(at).__name__}"))
    elif at.tzinfo is None or at.utcoffset() is None:
        errors.append(("$.at", "naive datetime: attach a time zone (e.g. tzinfo=timezone.utc)"))
    severity: object = obs.severity
    if not isinstance(severity, str) or not severity:
        errors.append(("$.severity", "must be a non-empty string such as 'critical'"))
    summary: object = obs.summary
    if not isinstance(summary, str):
        errors.append(("$.summary", "must be a string"))
    for name, value in obs.labels.items():
        if not isinstance(name, str) or not name or not isinstance(value, str):
            errors.append((f"$.labels.{name}", "labels map non-empty names to strings"))
    if obs.value is not None and (
        isinstance(obs.value, bool)
        or not isinstance(obs.value, int | float)
        or not math.isfinite(obs.value)
    ):
        errors.append(("$.value", f"must be a finite number or None, got {obs.value!r}"))
    return errors


@attrs.frozen(slots=True)
class Observation:
    """One normalised alert or probe result.

    * ``source``: the tool or rule family (``"alertmanager"``, ``"nagios"``,
      ``"threshold"``, a host's probe name);
    * ``key``: the condition's identity; what deduplicates (see the module docstring);
    * ``status``: ``"firing"`` or ``"resolved"``;
    * ``at``: when the condition started firing or cleared (aware);
    * ``severity``: a name the monitoring policy maps to impact and urgency;
    * ``summary``: one line for the incident title; ``labels``: ``str`` → ``str``
      (``ci`` and ``service`` by default name the configuration item and service);
    * ``value``: the measured value, if any; ``mode``: ``"active"`` or ``"passive"``.

    Raises :class:`ValidationError` listing every bad attribute.
    """

    source: str
    key: str
    status: str
    at: datetime
    severity: str = "warning"
    summary: str = ""
    labels: FieldMap = attrs.field(factory=FieldMap, converter=_labels)
    value: float | None = None
    mode: str = "passive"

    def __attrs_post_init__(self) -> None:
        errors = _problems(self)
        if errors:
            raise ValidationError(errors)

    @property
    def firing(self) -> bool:
        """True for a firing observation, False for a clearing."""
        return self.status == "firing"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``at`` as ISO text), e.g. for a queue between a receiver and
        the engine; :meth:`from_dict` reads it back."""
        return {
            "source": self.source,
            "key": self.key,
            "status": self.status,
            "at": self.at.isoformat(),
            "severity": self.severity,
            "summary": self.summary,
            "labels": dict(self.labels),
            "value": self.value,
            "mode": self.mode,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Observation:
        """Read :meth:`to_dict`'s form. Raises ``ValidationError`` with paths."""
        if not isinstance(data, Mapping):
            raise ValidationError.single("$", "expected a mapping")
        known = {a.name for a in attrs.fields(cls)}
        unknown = [(f"$.{k}", "unknown attribute") for k in data if k not in known]
        if unknown:
            raise ValidationError(unknown)
        values = dict(data)
        at = values.get("at")
        if isinstance(at, str):
            try:
                values["at"] = datetime.fromisoformat(at)
            except ValueError:
                raise ValidationError.single("$.at", f"not an ISO 8601 instant: {at!r}") from None
        labels = values.get("labels", {})
        if not isinstance(labels, Mapping):
            raise ValidationError.single("$.labels", "expected a mapping of strings")
        try:
            return cls(**values)
        except TypeError as exc:  # a required attribute is missing
            raise ValidationError.single("$", str(exc)) from None
