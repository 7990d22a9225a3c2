"""Rules found missing in review: every problem of a spec is reported, never ignored."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import itsmcore as ic
from itsmcore._time import parse_duration


def _spec(**overrides: Any) -> ic.ProcessSpec:
    base: dict[str, Any] = {
        "name": "demo",
        "version": 1,
        "states": [ic.StateSpec("a", initial=True), ic.StateSpec("z", "closed", terminal=True)],
        "transitions": [ic.TransitionSpec("end", ["a"], "z")],
        "fields": [
            ic.FieldSpec("label", "str"),
            ic.FieldSpec("due_at", "datetime"),
            ic.FieldSpec("score", "int", derived=True),
        ],
    }
    base.update(overrides)
    return ic.ProcessSpec(**base)


def _problems(**overrides: Any) -> str:
    with pytest.raises(ic.SpecError) as err:
        _spec(**overrides)
    return "; ".join(err.value.problems)


def test_a_timer_at_field_must_hold_a_datetime_or_date() -> None:
    text = _problems(timers=[ic.TimerSpec("t", "a", event="end", at_field="label")])
    assert "timer 't'" in text
    assert "'label'" in text
    assert "datetime or date" in text
    assert _spec(timers=[ic.TimerSpec("t", "a", event="end", at_field="due_at")]).timers


def test_timer_fields_must_be_declared_fields_a_caller_may_set() -> None:
    text = _problems(
        timers=[
            ic.TimerSpec("t", "a", event="end", after=timedelta(days=1), fields={"nope": 1}),
            ic.TimerSpec("u", "a", event="end", after=timedelta(days=2), fields={"score": 1}),
        ]
    )
    assert "timer 't': unknown field 'nope'" in text
    assert "timer 'u': field 'score' is derived" in text


def test_timer_fields_need_an_event_to_fire() -> None:
    text = _problems(
        timers=[ic.TimerSpec("t", "a", after=timedelta(days=1), fields={"label": "x"})]
    )
    assert "timer 't'" in text
    assert "only a timer that fires an event" in text


@pytest.mark.parametrize("key", ["event", "at_field", "calendar"])
def test_spec_data_with_a_non_text_timer_value_is_refused(key: str) -> None:
    data = ic.spec_to_dict(ic.catalog.get("incident")) | {"name": "custom"}
    data["timers"][0][key] = ["close"]
    with pytest.raises(ic.SpecError, match=rf"\$\.timers\[0\]\.{key}: expected a string"):
        ic.load_spec(data)


def test_spec_data_with_two_opening_transitions_is_refused() -> None:
    data = ic.spec_to_dict(ic.catalog.get("incident")) | {"name": "custom"}
    data["transitions"] = [
        {"event": "open", "sources": [], "target": "new"},
        {"event": "open", "sources": [], "target": "new", "roles": ["agent"]},
        *data["transitions"],
    ]
    with pytest.raises(ic.SpecError, match=r"\$\.transitions\[1\]\.event: .*'open'.*twice"):
        ic.load_spec(data)


def test_a_spec_path_that_is_a_directory_is_a_spec_error(tmp_path: Path) -> None:
    folder = tmp_path / "flow.toml"
    folder.mkdir()
    with pytest.raises(ic.SpecError, match="cannot read"):
        ic.load_spec(folder)


@pytest.mark.parametrize("text", ["P1DT", "PT", "P", "P1D1H"])
def test_a_duration_with_a_bare_time_designator_is_refused(text: str) -> None:
    with pytest.raises(ic.ValidationError, match="not an ISO 8601 duration"):
        parse_duration(text)


def test_durations_with_time_parts_still_parse() -> None:
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_duration("PT0.25S") == timedelta(microseconds=250_000)
