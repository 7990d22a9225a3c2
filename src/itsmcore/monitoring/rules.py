"""Threshold rules over metric samples, and their pure evaluation.

A :class:`ThresholdRule` says: when metric ``metric`` (with labels containing
``match``) compares ``comparison`` ``threshold`` continuously for at least ``for_``,
the condition fires; when a sample no longer compares, it clears. One rule watches
each label set (a *series*) separately, like a Prometheus alerting rule.

:func:`evaluate` is the whole behaviour, as a pure function of the series' state and
one sample: a series is ``ok``, ``pending`` (past the threshold since ``since``, not
yet for ``for_``) or ``firing``. It returns the next state and the
:class:`~itsmcore.monitoring.observation.Observation` to emit, if any:

* a breaching sample in ``ok`` makes the series ``pending`` (or ``firing`` at once
  when ``for_`` is zero);
* a breaching sample at least ``for_`` after the pending start fires, once;
* a sample that does not breach ends ``pending`` silently, and ends ``firing`` with a
  ``resolved`` observation;
* a sample older than the series' last change (``since``) is stale and ignored, so
  late deliveries never undo a newer state.

The engine keeps each series' state in the store (``Engine.sample``), so several
workers agree. Pure: no clock, no I/O.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import attrs

from itsmcore._time import parse_duration
from itsmcore.errors import ValidationError
from itsmcore.monitoring.observation import Observation, labels_key
from itsmcore.records import FieldMap

__all__ = [
    "COMPARISONS",
    "SERIES_STATUSES",
    "Evaluation",
    "SeriesState",
    "ThresholdRule",
    "evaluate",
    "evaluate_stream",
]

#: The comparisons a rule may use, ``value <op> threshold``.
COMPARISONS: Final[Mapping[str, Callable[[float, float], bool]]] = FieldMap(
    {
        ">": operator.gt,
        ">=": operator.ge,
        "<": operator.lt,
        "<=": operator.le,
        "==": operator.eq,
        "!=": operator.ne,
    }
)
#: The states of one series.
SERIES_STATUSES: Final = ("ok", "pending", "firing")


def _fieldmap(value: Mapping[str, Any] | None) -> FieldMap:
    return value if isinstance(value, FieldMap) else FieldMap(value)


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@attrs.frozen(slots=True)
class ThresholdRule:
    """One threshold rule (see the module docstring).

    ``name`` becomes the ``alertname`` label of its observations and the start of their
    key (``name{labels}``); ``for_`` is a ``timedelta`` (``"for"`` in plain data, ISO
    8601 text such as ``"PT5M"``); ``severity``, ``summary``, ``auto_resolve``,
    ``outage`` and ``fields`` say what the incident looks like and does (see
    :class:`~itsmcore.monitoring.policy.AlertRule`). Raises ``ValidationError`` listing
    every bad attribute.
    """

    name: str
    metric: str
    comparison: str
    threshold: float
    for_: timedelta = timedelta(0)
    match: FieldMap = attrs.field(factory=FieldMap, converter=_fieldmap)
    severity: str = "warning"
    summary: str = ""
    auto_resolve: bool = False
    outage: bool = False
    fields: FieldMap = attrs.field(factory=FieldMap, converter=_fieldmap)

    def __attrs_post_init__(self) -> None:
        errors: list[tuple[str, str]] = []
        for name in ("name", "metric", "severity"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                errors.append((f"$.{name}", "must be a non-empty string"))
        if self.comparison not in COMPARISONS:
            allowed = " ".join(COMPARISONS)
            errors.append(("$.comparison", f"must be one of {allowed}, got {self.comparison!r}"))
        if not _finite(self.threshold):
            errors.append(("$.threshold", f"must be a finite number, got {self.threshold!r}"))
        if not isinstance(self.for_, timedelta) or self.for_ < timedelta(0):
            errors.append(("$.for", "must be a non-negative duration (timedelta or 'PT5M')"))
        for key, value in self.match.items():
            if not isinstance(value, str):
                errors.append((f"$.match.{key}", "label values are strings"))
        if errors:
            raise ValidationError(errors)

    def applies(self, metric: str, labels: Mapping[str, str]) -> bool:
        """True when a sample of ``metric`` with ``labels`` belongs to this rule."""
        return metric == self.metric and all(labels.get(k) == v for k, v in self.match.items())

    def breached(self, value: float) -> bool:
        """True when ``value`` is past the threshold."""
        return COMPARISONS[self.comparison](value, self.threshold)

    def series_key(self, labels: Mapping[str, str]) -> str:
        """The key of the series ``labels`` (also its observations' key)."""
        return labels_key(self.name, labels)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: str = "$") -> ThresholdRule:
        """Read a rule from plain data; ``for`` is ISO 8601 text or whole seconds."""
        if not isinstance(data, Mapping):
            raise ValidationError.single(path, "expected a mapping")
        values = dict(data)
        if "for" in values:
            values["for_"] = parse_duration(values.pop("for"), f"{path}.for")
        known = {a.name for a in attrs.fields(cls)}
        unknown = [(f"{path}.{k}", "unknown attribute") for k in values if k not in known]
        if unknown:
            raise ValidationError(unknown)
        try:
            return cls(**values)
        except ValidationError as exc:
            raise ValidationError([(path + p[1:], m) for p, m in exc.errors]) from None
        except TypeError as exc:
            raise ValidationError.single(path, str(exc)) from None


@attrs.frozen(slots=True)
class SeriesState:
    """One series' state: ``status`` (``ok``, ``pending``, ``firing``) and ``since``,
    the instant of its last change (``None`` for a series never seen)."""

    status: str = "ok"
    since: datetime | None = None


@attrs.frozen(slots=True)
class Evaluation:
    """The result of :func:`evaluate`: the next state and the observation to emit."""

    state: SeriesState
    observation: Observation | None = None
    stale: bool = False
    #: True when the status changed (what a store must save).
    changed: bool = False


def evaluate(
    rule: ThresholdRule,
    state: SeriesState,
    value: float,
    at: datetime,
    labels: Mapping[str, str] | None = None,
    *,
    mode: str = "passive",
) -> Evaluation:
    """The series' next state after sample ``value`` at ``at`` (see the module
    docstring). Raises ``ValidationError`` for a non-finite value or a naive ``at``."""
    errors: list[tuple[str, str]] = []
    if not _finite(value):
        errors.append(("$.value", f"must be a finite number, got {value!r}"))
    if not isinstance(at, datetime) or at.utcoffset() is None:
        errors.append(("$.at", "expected a timezone-aware datetime"))
    if errors:
        raise ValidationError(errors)
    if state.since is not None and at < state.since:
        return Evaluation(state, None, stale=True)
    labels = labels or {}
    breached = rule.breached(value)

    def emit(status: str) -> Observation:
        return Observation(
            source="threshold",
            key=rule.series_key(labels),
            status=status,
            at=at,
            severity=rule.severity,
            summary=rule.summary
            or f"{rule.metric} {rule.comparison} {rule.threshold:g} ({rule.name})",
            labels={**labels, "alertname": rule.name},
            value=float(value),
            mode=mode,
        )

    def to(status: str, observed: str | None = None) -> Evaluation:
        observation = emit(observed) if observed else None
        return Evaluation(SeriesState(status, at), observation, changed=True)

    if breached:
        if state.status == "firing":
            return Evaluation(state)
        if state.status == "pending":
            assert state.since is not None
            return to("firing", "firing") if at - state.since >= rule.for_ else Evaluation(state)
        return to("firing", "firing") if rule.for_ == timedelta(0) else to("pending")
    if state.status == "firing":
        return to("ok", "resolved")
    if state.status == "pending":
        return to("ok")
    return Evaluation(state)


def evaluate_stream(
    rule: ThresholdRule,
    samples: Iterable[tuple[datetime, float]],
    labels: Mapping[str, str] | None = None,
    *,
    state: SeriesState | None = None,
) -> tuple[SeriesState, list[Observation]]:
    """Fold :func:`evaluate` over ``(at, value)`` samples of one series, from ``state``
    (default: never seen). Returns the final state and the observations emitted."""
    current = state or SeriesState()
    emitted: list[Observation] = []
    for at, value in samples:
        result = evaluate(rule, current, value, at, labels)
        current = result.state
        if result.observation is not None:
            emitted.append(result.observation)
    return current, emitted
