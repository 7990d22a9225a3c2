"""Prometheus Alertmanager webhook bodies → observations (no SDK, plain JSON data).

Alertmanager's webhook receiver POSTs a JSON body, format version ``"4"``::

    {"version": "4", "status": "firing", "receiver": "itsm", "groupKey": "...",
     "alerts": [{"status": "firing", "labels": {"alertname": "HostDown", ...},
                 "annotations": {"summary": "..."}, "startsAt": "2026-11-26T09:00:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "c5c9..."}], ...}

:func:`from_alertmanager` turns each alert into one
:class:`~itsmcore.monitoring.observation.Observation`:

* ``key``: ``alertname{other labels}`` (:func:`~itsmcore.monitoring.labels_key`), the
  same label set Alertmanager's ``fingerprint`` hashes, so one alert instance is one
  key across deliveries and restarts;
* ``status``: the alert's own status (not the group's);
* ``at``: ``startsAt`` for a firing alert, ``endsAt`` for a resolved one;
* ``severity``: the ``severity`` label (``default_severity`` when absent);
* ``summary``: the ``summary`` annotation, else ``description``, else the alertname;
* ``labels``: the alert's labels; ``mode``: ``passive`` unless told otherwise.

A body that is not this shape raises :class:`~itsmcore.errors.ValidationError` listing
every problem with its path (``$.alerts[2].startsAt``); nothing is returned then.
Go's zero time (``0001-01-01T00:00:00Z``) means "not set".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from itsmcore.errors import ValidationError
from itsmcore.monitoring.observation import MODES, Observation, labels_key

__all__ = ["from_alertmanager", "parse_rfc3339"]

_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|z|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: Any, path: str) -> datetime | None:
    """An RFC 3339 instant (nanoseconds truncated to microseconds) as an aware
    datetime; ``None`` for Go's zero time. Raises ``ValidationError`` at ``path``."""
    match = _RFC3339.match(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError.single(
            path, f"expected an RFC 3339 instant such as 2026-11-26T09:00:00Z, got {text!r}"
        )
    day, clock, fraction, offset = match.groups()
    micro = (fraction or "")[:6].ljust(6, "0")
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        value = datetime.fromisoformat(f"{day}T{clock}.{micro}{zone}")
    except ValueError:
        raise ValidationError.single(path, f"not a valid instant: {text!r}") from None
    if value.year == 1:
        return None
    return value.astimezone(UTC) if zone == "+00:00" else value


def _strings(value: Any, path: str, errors: list[tuple[str, str]]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        errors.append((path, "expected an object of string values"))
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or not isinstance(item, str):
            errors.append((f"{path}.{key}", "expected a string"))
        else:
            out[key] = item
    return out


def _alert(
    alert: Any, path: str, default_severity: str, mode: str, errors: list[tuple[str, str]]
) -> Observation | None:
    if not isinstance(alert, Mapping):
        errors.append((path, "expected an alert object"))
        return None
    before = len(errors)
    status = alert.get("status")
    if status not in ("firing", "resolved"):
        errors.append((f"{path}.status", f"expected 'firing' or 'resolved', got {status!r}"))
    labels = _strings(alert.get("labels"), f"{path}.labels", errors)
    annotations = _strings(alert.get("annotations"), f"{path}.annotations", errors)
    if "labels" not in alert:
        errors.append((f"{path}.labels", "is required (the alert's identity)"))
    elif not labels.get("alertname"):
        errors.append((f"{path}.labels.alertname", "is required"))
    fingerprint = alert.get("fingerprint")
    if fingerprint is not None and not isinstance(fingerprint, str):
        errors.append((f"{path}.fingerprint", "expected a string"))
    starts = ends = None
    try:
        starts = parse_rfc3339(alert.get("startsAt"), f"{path}.startsAt")
        if starts is None:
            errors.append((f"{path}.startsAt", "is the zero time; an alert has a start"))
    except ValidationError as exc:
        errors.extend(exc.errors)
    ends_readable = True
    if alert.get("endsAt") is not None:
        try:
            ends = parse_rfc3339(alert.get("endsAt"), f"{path}.endsAt")
        except ValidationError as exc:
            errors.extend(exc.errors)
            ends_readable = False
    if status == "resolved" and ends is None and ends_readable:
        errors.append((f"{path}.endsAt", "a resolved alert needs its end time"))
    if len(errors) > before:
        return None
    assert starts is not None
    name = labels["alertname"]
    rest = {k: v for k, v in labels.items() if k != "alertname"}
    at = ends if status == "resolved" and ends is not None else starts
    try:
        return Observation(
            source="alertmanager",
            key=labels_key(name, rest),
            status=str(status),
            at=at,
            severity=labels.get("severity", default_severity),
            summary=annotations.get("summary") or annotations.get("description") or name,
            labels=labels,
            mode=mode,
        )
    except ValidationError as exc:
        errors.extend((path + p[1:], m) for p, m in exc.errors)
        return None


def from_alertmanager(
    payload: Mapping[str, Any], *, default_severity: str = "warning", mode: str = "passive"
) -> list[Observation]:
    """The observations of one Alertmanager webhook body (see the module docstring),
    in the body's order. ``payload`` is the parsed JSON (``json.loads(body)``).

    Raises ``ValidationError`` listing every problem with its path: a body that is not
    an object, ``version`` other than ``"4"``, a missing ``alerts`` list, an alert
    without ``labels.alertname``, a bad ``status`` or an unreadable ``startsAt`` /
    ``endsAt``.
    """
    if mode not in MODES:
        raise ValidationError.single("$.mode", "must be 'active' or 'passive'")
    if not isinstance(payload, Mapping):
        raise ValidationError.single("$", "expected the webhook's JSON object")
    errors: list[tuple[str, str]] = []
    version = payload.get("version")
    if version != "4":
        errors.append(("$.version", f"expected webhook format version '4', got {version!r}"))
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        errors.append(("$.alerts", "expected a list of alerts"))
        raise ValidationError(errors)
    out: list[Observation] = []
    for index, alert in enumerate(alerts):
        observation = _alert(alert, f"$.alerts[{index}]", default_severity, mode, errors)
        if observation is not None:
            out.append(observation)
    if errors:
        raise ValidationError(errors)
    return out
