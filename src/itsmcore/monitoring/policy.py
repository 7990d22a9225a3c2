"""The monitoring policy: how observations become incidents, as data.

Why data: which alerts open incidents, with which impact and urgency, and which clear
themselves is the host's operating policy, not code. A :class:`MonitoringPolicy` holds

* ``severities``: severity name → :class:`SeverityLevel` (impact, urgency), or ``None``
  for informational events that open nothing (ITIL event management: informational,
  warning, exception);
* ``rules``: :class:`AlertRule` s matched by labels, first match wins, each saying
  whether a clearing resolves the incident (``auto_resolve``), whether the firing
  condition is a service outage (``outage``, counted as downtime by
  ``Engine.outages``), and extra incident fields (group, category...);
* ``thresholds``: :class:`~itsmcore.monitoring.rules.ThresholdRule` s over metric
  samples (``Engine.sample``); each acts as an alert rule for its own observations;
* the label names that name the configuration item (``ci``) and service (``service``).

Give it to the engine: ``Engine.in_memory(monitoring=MonitoringPolicy(...))``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

import attrs

from itsmcore.errors import ValidationError
from itsmcore.monitoring.observation import Observation
from itsmcore.monitoring.rules import ThresholdRule
from itsmcore.records import FieldMap

__all__ = [
    "DEFAULT_SEVERITIES",
    "AlertRule",
    "MonitoringPolicy",
    "SeverityLevel",
]


def _fieldmap(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


@attrs.frozen(slots=True)
class SeverityLevel:
    """The impact and urgency (1 high … 3 low) an incident gets for one severity; the
    incident's priority follows from them (:mod:`itsmcore.priority`)."""

    impact: int
    urgency: int

    def __attrs_post_init__(self) -> None:
        errors = [
            (f"$.{name}", "must be a whole number 1 (high) … 3 (low)")
            for name in ("impact", "urgency")
            if not isinstance(getattr(self, name), int)
            or isinstance(getattr(self, name), bool)
            or not 1 <= getattr(self, name) <= 3
        ]
        if errors:
            raise ValidationError(errors)


#: Common severity names of Prometheus rules, Zabbix and Nagios. ``None``: informational,
#: no incident.
DEFAULT_SEVERITIES: Final[FieldMap] = FieldMap(
    {
        "critical": SeverityLevel(1, 1),
        "disaster": SeverityLevel(1, 1),
        "high": SeverityLevel(1, 2),
        "major": SeverityLevel(1, 2),
        "error": SeverityLevel(2, 2),
        "average": SeverityLevel(2, 2),
        "warning": SeverityLevel(2, 3),
        "minor": SeverityLevel(3, 2),
        "low": SeverityLevel(3, 3),
        "info": None,
        "information": None,
        "informational": None,
        "none": None,
    }
)


@attrs.frozen(slots=True)
class AlertRule:
    """What observations whose labels contain every ``match`` pair (and, when given,
    come from ``source``) do.

    * ``auto_resolve``: a clearing resolves the incident through the normal ``resolve``
      transition as the system actor (see ``docs/monitoring.md`` for the walk from
      states that cannot resolve yet), with ``resolution_code``;
    * ``resolver``: the assignee given when the walk must ``assign`` an unassigned
      incident before it can resolve it (``None``: never assign; record the clearing);
    * ``reopen``: a resolved (not yet closed) incident whose condition cleared and fires
      again is reopened (``False``: the firing is only counted);
    * ``outage``: the condition means the service is down (sets the incident's
      ``outage`` flag, so ``Engine.outages`` counts it as downtime while it fires);
    * ``severity``: overrides the observation's severity; ``fields``: extra incident
      fields on opening (``group``, ``category``, ``assignee``...).
    """

    name: str
    match: FieldMap = attrs.field(factory=FieldMap, converter=_fieldmap)
    source: str | None = None
    auto_resolve: bool = False
    resolver: str | None = "system"
    reopen: bool = True
    outage: bool = False
    severity: str | None = None
    fields: FieldMap = attrs.field(factory=FieldMap, converter=_fieldmap)
    resolution_code: str = "fixed"

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        if not isinstance(self.name, str) or not self.name:
            errors.append(("$.name", "name the rule"))
        for key, value in self.match.items():
            if not isinstance(value, str):
                errors.append((f"$.match.{key}", "label values are strings"))
        for flag in ("auto_resolve", "reopen", "outage"):
            if not isinstance(getattr(self, flag), bool):
                errors.append((f"$.{flag}", "must be true or false"))
        if errors:
            raise ValidationError(errors)

    def matches(self, observation: Observation) -> bool:
        """True when ``observation`` comes from ``source`` (if set) and carries every
        ``match`` label with the same value."""
        if self.source is not None and observation.source != self.source:
            return False
        labels = observation.labels
        return all(labels.get(k) == v for k, v in self.match.items())

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "$") -> AlertRule:
        """Read a rule from plain data (the attribute names as keys)."""
        rule: AlertRule = _build(cls, data, path)
        return rule


def _build(cls: type[Any], data: Mapping[str, Any], path: str) -> Any:
    if not isinstance(data, Mapping):
        raise ValidationError.single(path, "expected a mapping")
    known = {a.name for a in attrs.fields(cls)}
    unknown = [(f"{path}.{k}", "unknown attribute") for k in data if k not in known]
    if unknown:
        raise ValidationError(unknown)
    try:
        return cls(**data)
    except ValidationError as exc:
        raise ValidationError([(path + p[1:], m) for p, m in exc.errors]) from None
    except TypeError as exc:
        raise ValidationError.single(path, str(exc)) from None


def _rules(value: Iterable[AlertRule]) -> tuple[AlertRule, ...]:
    return tuple(value)


def _thresholds(value: Iterable[ThresholdRule]) -> tuple[ThresholdRule, ...]:
    return tuple(value)


@attrs.frozen(slots=True)
class MonitoringPolicy:
    """The host's monitoring policy (see the module docstring).

    ``unknown_severity`` is the severity used for a name missing from ``severities``
    (``None``: such an observation is a ``ValidationError``). ``caller`` is the
    incident's ``caller``. Raises ``ValidationError`` for a rule name used twice or a
    severity that is neither a :class:`SeverityLevel` nor ``None``.
    """

    rules: tuple[AlertRule, ...] = attrs.field(default=(), converter=_rules)
    thresholds: tuple[ThresholdRule, ...] = attrs.field(default=(), converter=_thresholds)
    severities: FieldMap = attrs.field(default=DEFAULT_SEVERITIES, converter=_fieldmap)
    unknown_severity: str | None = "warning"
    ci_label: str = "ci"
    service_label: str = "service"
    caller: str = "monitoring"
    default_rule: AlertRule = AlertRule("default")

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        given: list[tuple[str, object, type]] = [
            *((f"$.rules[{i}]", r, AlertRule) for i, r in enumerate(self.rules)),
            *((f"$.thresholds[{i}]", t, ThresholdRule) for i, t in enumerate(self.thresholds)),
        ]
        for path, item, kind in given:
            if not isinstance(item, kind):
                errors.append((path, f"expected a {kind.__name__}"))
        if errors:
            raise ValidationError(errors)
        names = [t.name for t in self.thresholds]
        for i, name in enumerate(names):
            if name in names[:i]:
                errors.append((f"$.thresholds[{i}].name", f"{name!r} is used twice"))
        for name, level in self.severities.items():
            if level is not None and not isinstance(level, SeverityLevel):
                errors.append((f"$.severities.{name}", "expected a SeverityLevel or None"))
        if self.unknown_severity is not None and self.unknown_severity not in self.severities:
            errors.append(("$.unknown_severity", "must be one of the severities' names"))
        if errors:
            raise ValidationError(errors)

    def rule_for(self, observation: Observation) -> AlertRule:
        """The rule for ``observation``: its threshold rule (by ``alertname``) for a
        ``threshold`` observation, else the first matching rule, else
        :attr:`default_rule`."""
        if observation.source == "threshold":
            name = observation.labels.get("alertname")
            for t in self.thresholds:
                if t.name == name:
                    return AlertRule(
                        t.name,
                        {"alertname": t.name},
                        source="threshold",
                        auto_resolve=t.auto_resolve,
                        outage=t.outage,
                        severity=t.severity,
                        fields=t.fields,
                    )
        for rule in self.rules:
            if rule.matches(observation):
                return rule
        return self.default_rule

    def level(self, observation: Observation, rule: AlertRule) -> SeverityLevel | None:
        """The impact and urgency for ``observation`` (``None``: informational).
        Raises ``ValidationError`` at ``$.severity`` for an unknown severity when
        :attr:`unknown_severity` is ``None``."""
        name = rule.severity or observation.severity
        if name in self.severities:
            level: SeverityLevel | None = self.severities[name]
            return level
        if self.unknown_severity is None:
            known = ", ".join(sorted(self.severities))
            raise ValidationError.single(
                "$.severity", f"unknown severity {name!r}; the policy knows: {known}"
            )
        fallback: SeverityLevel | None = self.severities[self.unknown_severity]
        return fallback

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MonitoringPolicy:
        """Read a policy from plain data: ``rules`` and ``thresholds`` as lists of
        mappings (a threshold's ``for`` as ISO 8601 text such as ``"PT5M"``),
        ``severities`` as name → ``[impact, urgency]`` or ``null``. Raises
        ``ValidationError`` with paths."""
        if not isinstance(data, Mapping):
            raise ValidationError.single("$", "expected a mapping")
        values = dict(data)
        values["rules"] = [
            AlertRule.from_dict(r, f"$.rules[{i}]") for i, r in enumerate(data.get("rules", ()))
        ]
        values["thresholds"] = [
            ThresholdRule.from_dict(r, f"$.thresholds[{i}]")
            for i, r in enumerate(data.get("thresholds", ()))
        ]
        if "severities" in data:
            values["severities"] = _severities(data["severities"])
        if isinstance(data.get("default_rule"), Mapping):
            values["default_rule"] = AlertRule.from_dict(data["default_rule"], "$.default_rule")
        policy: MonitoringPolicy = _build(cls, values, "$")
        return policy


def _severities(data: Any) -> dict[str, SeverityLevel | None]:
    if not isinstance(data, Mapping):
        raise ValidationError.single("$.severities", "expected a mapping of names")
    out: dict[str, SeverityLevel | None] = {}
    for name, value in data.items():
        path = f"$.severities.{name}"
        if value is None or isinstance(value, SeverityLevel):
            out[name] = value
            continue
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValidationError.single(path, "expected [impact, urgency] or null")
        try:
            out[name] = SeverityLevel(value[0], value[1])
        except ValidationError as exc:
            raise ValidationError([(path + p[1:], m) for p, m in exc.errors]) from None
    return out
