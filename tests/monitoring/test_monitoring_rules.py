"""Threshold rules: the pure evaluation (properties and examples) and Engine.sample."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import monitoring_workers as w
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import itsmcore as ic
from itsmcore.adapters.memory import MemoryStorage
from itsmcore.monitoring import (
    MonitoringPolicy,
    SeriesState,
    ThresholdRule,
    evaluate,
    evaluate_stream,
    series_record_id,
)

T0 = w.T0
RULE = ThresholdRule("latency_high", "latency_seconds", ">", 5.0, for_=timedelta(minutes=5))

# Gaps between samples (seconds) and whether each sample breaches.
gaps = st.lists(st.integers(min_value=0, max_value=240), min_size=1, max_size=40)


def _series(steps: list[int], breach: list[bool]) -> list[tuple[object, float]]:
    at, out = T0, []
    for gap, high in zip(steps, breach, strict=True):
        at += timedelta(seconds=gap)
        out.append((at, 9.0 if high else 1.0))
    return out


@settings(max_examples=200, deadline=None)
@given(gaps)
def test_a_stream_that_stays_past_the_threshold_for_the_duration_fires_exactly_once(
    steps: list[int],
) -> None:
    samples = _series(steps, [True] * len(steps))
    span = samples[-1][0] - samples[0][0]  # type: ignore[operator]
    state, emitted = evaluate_stream(RULE, samples)  # type: ignore[arg-type]
    if span >= RULE.for_:
        assert [o.status for o in emitted] == ["firing"]
        first_due = next(at for at, _ in samples if at - samples[0][0] >= RULE.for_)  # type: ignore[operator]
        assert emitted[0].at == first_due
        assert state.status == "firing"
    else:
        assert emitted == []
        assert state.status == "pending"


@settings(max_examples=200, deadline=None)
@given(gaps, st.data())
def test_a_stream_that_dips_back_before_the_duration_never_fires(
    steps: list[int], data: st.DataObject
) -> None:
    # Every run of breaching samples lasts less than 'for', and a dip ends each run.
    breach: list[bool] = []
    run_start = None
    at = T0
    for gap in steps:
        at += timedelta(seconds=gap)
        high = data.draw(st.booleans())
        if high and run_start is not None and at - run_start >= RULE.for_:
            high = False  # dip back before the duration is reached
        if high and run_start is None:
            run_start = at
        if not high:
            run_start = None
        breach.append(high)
    _state, emitted = evaluate_stream(RULE, _series(steps, breach))  # type: ignore[arg-type]
    assert emitted == []


@settings(max_examples=200, deadline=None)
@given(gaps, st.lists(st.booleans(), min_size=40, max_size=40))
def test_firings_and_clearings_alternate_starting_with_a_firing(
    steps: list[int], pattern: list[bool]
) -> None:
    _state, emitted = evaluate_stream(RULE, _series(steps, pattern[: len(steps)]))  # type: ignore[arg-type]
    statuses = [o.status for o in emitted]
    assert statuses == ["firing", "resolved"] * (len(statuses) // 2) + (
        ["firing"] if len(statuses) % 2 else []
    )
    assert {o.key for o in emitted} <= {"latency_high{}"}


def test_for_zero_fires_on_the_first_breaching_sample_and_clears_on_the_first_good_one() -> None:
    rule = ThresholdRule("cpu", "cpu", ">=", 90)
    state, emitted = evaluate_stream(rule, [(T0, 90.0), (T0 + timedelta(seconds=1), 89.9)],
                                     {"host": "a"})  # fmt: skip
    assert [(o.status, o.at, o.value) for o in emitted] == [
        ("firing", T0, 90.0),
        ("resolved", T0 + timedelta(seconds=1), 89.9),
    ]
    assert emitted[0].key == 'cpu{host="a"}'
    assert emitted[0].labels["alertname"] == "cpu"
    assert state == SeriesState("ok", T0 + timedelta(seconds=1))


def test_a_sample_older_than_the_last_change_is_stale_and_ignored() -> None:
    state = SeriesState("firing", T0)
    result = evaluate(RULE, state, 1.0, T0 - timedelta(seconds=1))
    assert result.stale
    assert not result.changed
    assert result.state == state
    assert result.observation is None


@pytest.mark.parametrize(
    ("comparison", "value", "breached"),
    [(">", 5.0, False), (">=", 5.0, True), ("<", 4.9, True), ("<=", 5.1, False),
     ("==", 5.0, True), ("!=", 5.0, False)],
)  # fmt: skip
def test_comparisons_compare_the_value_with_the_threshold(
    comparison: str, value: float, breached: bool
) -> None:
    assert ThresholdRule("r", "m", comparison, 5.0).breached(value) is breached


def test_bad_rules_and_samples_are_validation_errors_with_paths() -> None:
    with pytest.raises(ic.ValidationError) as err:
        ThresholdRule("", "m", "=~", float("nan"), for_=timedelta(seconds=-1))
    assert {p for p, _ in err.value.errors} == {"$.name", "$.comparison", "$.threshold", "$.for"}
    with pytest.raises(ic.ValidationError) as err:
        evaluate(RULE, SeriesState(), float("inf"), T0)
    assert err.value.errors[0][0] == "$.value"
    with pytest.raises(ic.ValidationError) as err:
        ThresholdRule.from_dict({"name": "r", "metric": "m", "comparison": ">", "threshold": 1,
                                 "for": "five minutes"}, "$.thresholds[0]")  # fmt: skip
    assert err.value.errors[0][0] == "$.thresholds[0].for"


def test_rules_read_from_plain_data() -> None:
    policy = MonitoringPolicy.from_dict(
        {
            "severities": {"page": [1, 1], "ticket": [3, 3], "log": None},
            "unknown_severity": "ticket",
            "rules": [{"name": "down", "match": {"alertname": "Down"}, "auto_resolve": True}],
            "thresholds": [{"name": "lat", "metric": "latency", "comparison": ">",
                            "threshold": 5, "for": "PT5M", "severity": "page"}],
        }
    )  # fmt: skip
    assert policy.thresholds[0].for_ == timedelta(minutes=5)
    assert policy.rules[0].auto_resolve is True
    assert policy.severities["log"] is None
    with pytest.raises(ic.ValidationError) as err:
        MonitoringPolicy.from_dict({"severities": {"page": [0, 9]}})
    assert {p for p, _ in err.value.errors} == {"$.severities.page.impact",
                                                "$.severities.page.urgency"}  # fmt: skip


# -- Engine.sample: the series state lives in the store ---------------------------------


def _engine(storage: ic.ports.storage.Storage | None = None) -> ic.Engine:
    if storage is None:
        return ic.Engine.in_memory(monitoring=w.POLICY)
    return ic.Engine(storage, monitoring=w.POLICY)


def test_sample_opens_an_incident_once_the_breach_lasts_for_the_duration() -> None:
    engine = _engine()
    labels = {"host": "web-1", "ci": "CI-1"}
    for minute in range(5):
        assert engine.sample("latency_seconds", 7.5, at=T0 + timedelta(minutes=minute),
                             labels=labels) == []  # fmt: skip
    [fired] = engine.sample("latency_seconds", 8.0, at=T0 + timedelta(minutes=5), labels=labels)
    assert fired.status == "firing"
    assert fired.value == 8.0
    [incident] = engine.find(process="incident")
    assert incident.opened_at == T0 + timedelta(minutes=5)
    assert (incident.get("impact"), incident.get("urgency")) == (1, 2)  # severity "high"
    assert engine.sample("latency_seconds", 9, at=T0 + timedelta(minutes=6), labels=labels) == []
    [cleared] = engine.sample("latency_seconds", 1, at=T0 + timedelta(minutes=7), labels=labels)
    assert cleared.status == "resolved"
    assert engine.get(incident.id).state == "resolved"  # the rule auto-resolves


def test_samples_of_other_metrics_or_a_dip_before_the_duration_open_nothing() -> None:
    engine = _engine()
    engine.sample("cpu", 99, at=T0)
    engine.sample("latency_seconds", 9, at=T0, labels={"host": "a"})
    engine.sample("latency_seconds", 1, at=T0 + timedelta(minutes=3), labels={"host": "a"})
    engine.sample("latency_seconds", 9, at=T0 + timedelta(minutes=4), labels={"host": "a"})
    engine.sample("latency_seconds", 9, at=T0 + timedelta(minutes=8), labels={"host": "a"})
    assert engine.find(process="incident") == []


def test_two_engines_on_one_store_share_the_pending_state() -> None:
    a = _engine()
    b = _engine(a.storage)  # another worker: its own engine, the same store
    labels = {"host": "web-1"}
    a.sample("latency_seconds", 9, at=T0, labels=labels)
    record = b.get(series_record_id('latency_high{host="web-1"}'))
    assert record.state == "pending"
    assert record.updated_at == T0
    [fired] = b.sample("latency_seconds", 9, at=T0 + timedelta(minutes=5), labels=labels)
    assert fired.status == "firing"
    assert a.sample("latency_seconds", 9, at=T0 + timedelta(minutes=6), labels=labels) == []
    assert len(a.find(process="incident")) == 1


def test_a_sample_that_changes_no_state_writes_nothing() -> None:
    engine = _engine()
    labels = {"host": "web-1"}
    engine.sample("latency_seconds", 9, at=T0, labels=labels)
    rid = series_record_id('latency_high{host="web-1"}')
    version = engine.get(rid).version
    for second in range(1, 30):
        engine.sample("latency_seconds", 9, at=T0 + timedelta(seconds=second), labels=labels)
    assert engine.get(rid).version == version
    engine.sample("latency_seconds", 1, at=T0, labels={"host": "quiet"})  # never breached
    assert len(engine.find(process="threshold_series")) == 1


class _IncidentSavesFail(MemoryStorage):
    """A store that fails every save carrying an incident while ``failing`` is set (a
    worker killed, or its connection lost, while saving the firing)."""

    failing = True

    def append(self, steps: Any, **kwargs: Any) -> None:
        if self.failing and any(s.record.process == "incident" for s in steps):
            raise ic.StorageUnavailable("the connection died")
        super().append(steps, **kwargs)


def test_a_firing_is_saved_with_its_incident_or_not_at_all() -> None:
    store = _IncidentSavesFail()
    engine = _engine(store)
    labels = {"host": "web-1"}
    engine.sample("latency_seconds", 9, at=T0, labels=labels)  # pending: no incident yet
    rid = series_record_id('latency_high{host="web-1"}')
    with pytest.raises(ic.StorageUnavailable):
        engine.sample("latency_seconds", 9, at=T0 + timedelta(minutes=5), labels=labels)
    assert engine.get(rid).state == "pending"  # the firing was not saved without its incident
    assert engine.find(process="incident") == []
    store.failing = False
    [fired] = engine.sample("latency_seconds", 9, at=T0 + timedelta(minutes=6), labels=labels)
    assert fired.status == "firing"
    assert engine.get(rid).state == "firing"
    assert len(engine.find(process="incident")) == 1


def test_sample_rejects_bad_input_with_paths() -> None:
    engine = _engine()
    with pytest.raises(ic.ValidationError) as err:
        engine.sample("", float("nan"), at=T0, labels={"a": 1}, mode="psychic")  # type: ignore[dict-item]
    assert {p for p, _ in err.value.errors} == {"$.metric", "$.value", "$.mode", "$.labels.a"}
    with pytest.raises(ic.ValidationError):
        engine.sample("latency_seconds", 1.0, at=T0.replace(tzinfo=None))
