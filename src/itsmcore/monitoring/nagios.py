"""Nagios (and Icinga 1) notifications → observations, from the standard macros.

A Nagios notification command sees its macros as environment variables
(``NAGIOS_NOTIFICATIONTYPE``, ``NAGIOS_HOSTNAME``, ...) or passes them on its command
line. Hand them to :func:`from_nagios` as a mapping, with or without the ``NAGIOS_``
prefix (``dict(os.environ)`` works). The macros read:

* ``NOTIFICATIONTYPE``: ``PROBLEM`` → firing, ``RECOVERY`` → resolved; the others
  (``ACKNOWLEDGEMENT``, ``FLAPPINGSTART``, ``DOWNTIMESTART``, ``CUSTOM``...) change no
  condition, so the result is ``None``;
* ``HOSTNAME`` and, for a service notification, ``SERVICEDESC`` (the key is
  ``nagios{check="<desc>",host="<host>"}``; a host notification has no ``check``);
* ``SERVICESTATE`` (``CRITICAL`` → ``critical``, ``WARNING`` and ``UNKNOWN`` →
  ``warning``) or ``HOSTSTATE`` (``DOWN``/``UNREACHABLE`` → ``critical``);
* ``TIMET``: the notification's Unix time, required (the library never reads the clock);
* ``SERVICEOUTPUT`` / ``HOSTOUTPUT``: the summary.

Nagios checks are probes, so ``mode`` is ``active`` unless told otherwise. ``labels``
adds labels such as ``{"ci": "CI-000042", "service": "SVC-000001"}`` that name the
configuration item and service the host's records use.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from itsmcore.errors import ValidationError
from itsmcore.monitoring.observation import Observation, labels_key

__all__ = ["from_nagios"]

_STATUS = {"PROBLEM": "firing", "RECOVERY": "resolved"}
_SEVERITY = {
    "CRITICAL": "critical",
    "WARNING": "warning",
    "UNKNOWN": "warning",
    "OK": "warning",
    "DOWN": "critical",
    "UNREACHABLE": "critical",
    "UP": "critical",
}


def from_nagios(
    macros: Mapping[str, str],
    *,
    labels: Mapping[str, str] | None = None,
    mode: str = "active",
) -> Observation | None:
    """The observation of one Nagios notification, or ``None`` for a notification
    type that changes no condition. Raises ``ValidationError`` (paths ``$.HOSTNAME``
    ...) for missing or unreadable macros."""
    if not isinstance(macros, Mapping):
        raise ValidationError.single("$", "expected a mapping of Nagios macros")

    def get(name: str) -> str:
        value = macros.get(name, macros.get(f"NAGIOS_{name}", ""))
        return value.strip() if isinstance(value, str) else ""

    errors: list[tuple[str, str]] = []
    kind = get("NOTIFICATIONTYPE").upper()
    if not kind:
        errors.append(("$.NOTIFICATIONTYPE", "is required (PROBLEM, RECOVERY, ...)"))
    host = get("HOSTNAME")
    if not host:
        errors.append(("$.HOSTNAME", "is required"))
    check = get("SERVICEDESC")
    state = (get("SERVICESTATE") if check else get("HOSTSTATE")).upper()
    state_macro = "SERVICESTATE" if check else "HOSTSTATE"
    if state not in _SEVERITY:
        errors.append((f"$.{state_macro}", f"unknown state {state!r}"))
    at: datetime | None = None
    timet = get("TIMET")
    try:
        at = datetime.fromtimestamp(int(timet), UTC)
    except (ValueError, OverflowError, OSError):
        errors.append(("$.TIMET", f"expected the notification's Unix time, got {timet!r}"))
    if errors:
        raise ValidationError(errors)
    status = _STATUS.get(kind)
    if status is None:
        return None
    assert at is not None
    identity = {"host": host, **({"check": check} if check else {})}
    output = get("SERVICEOUTPUT") if check else get("HOSTOUTPUT")
    what = f"{check} on {host}" if check else host
    try:
        return Observation(
            source="nagios",
            key=labels_key("nagios", identity),
            status=status,
            at=at,
            severity=_SEVERITY[state],
            summary=output or f"{what} is {state}",
            labels={**identity, "state": state, **(labels or {})},
            mode=mode,
        )
    except ValidationError as exc:
        raise ValidationError(list(exc.errors)) from None
