"""Rules found missing in review: every problem of a spec is reported, never ignored."""

from __future__ import annotations

import pickle
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import pytest
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic
from itsmcore._time import parse_duration
from itsmcore.sla.holidays import MissingExtra


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


@pytest.mark.parametrize(
    "error",
    [
        ic.ValidationError([("$.a", "bad"), ("$.b", "worse")]),
        ic.SpecError("demo", ["one", "two"]),
        ic.InvalidTransition("new", "clse", ("close",), "incident"),
        ic.GuardFailed("incident.resolution_given", "give a resolution"),
        ic.ConcurrencyError(1, 2, "INC-1"),
        ic.ChainBroken(3, "hash does not match the event's content"),
        ic.Forbidden("no", by="roles", actor="bob", event="approve"),
        MissingExtra("holidays", "holidays"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_survive_pickling_across_process_pools(error: ic.ItsmError) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error)
    assert str(back) == str(error)
    assert vars(back) == vars(error)


def _rechained(events: list[ic.Event]) -> list[ic.Event]:
    """The events with every hash recomputed, as someone forging a history would."""
    out: list[ic.Event] = []
    prev = ic.chain.GENESIS
    for ev in events:
        ev = attrs.evolve(ev, prev_hash=prev)
        ev = attrs.evolve(ev, hash=ic.chain.event_hash(ev))
        out.append(ev)
        prev = ev.hash
    return out


def _incident_history() -> list[ic.Event]:
    spec = ic.catalog.get("incident")
    step = spec.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    later = spec.fire(
        step.record,
        "assign",
        at=T0 + timedelta(minutes=5),
        actor=ALICE,
        fields={"assignee": "bob"},
    )
    return [step.event, later.event]


def test_replay_refuses_a_history_that_goes_back_in_time() -> None:
    opened, assigned = _incident_history()
    forged = _rechained([opened, attrs.evolve(assigned, at=T0 - timedelta(minutes=1))])
    ic.verify_chain(forged)  # the hashes are consistent: only the order of time is wrong
    with pytest.raises(ic.ValidationError, match=r"\$\.events\[1\]\.at"):
        ic.replay(ic.catalog.get("incident"), forged)


def test_replay_refuses_an_event_from_a_state_the_record_was_not_in() -> None:
    opened, assigned = _incident_history()
    forged = _rechained([opened, attrs.evolve(assigned, source="resolved")])
    with pytest.raises(ic.ValidationError, match=r"\$\.events\[1\]\.source"):
        ic.replay(ic.catalog.get("incident"), forged)


_ROWS = [[1, 2, 3], [2, 3, 4], [3, 4, 5]]


@pytest.mark.parametrize(
    ("impacts", "problem"),
    [
        ([1.9, 2, 3], "impact levels must be whole numbers, got 1.9"),
        ([True, 2, 3], "impact levels must be whole numbers, got True"),
        (["1", 2, 3], "impact levels must be whole numbers, got '1'"),
        ([1, 1, 3], "impact level 1 is given twice"),
    ],
)
def test_priority_matrix_levels_are_distinct_whole_numbers(
    impacts: list[object], problem: str
) -> None:
    data = {"impacts": impacts, "urgencies": [1, 2, 3], "priorities": _ROWS}
    with pytest.raises(ic.SpecError) as info:
        ic.PriorityMatrix.from_dict(data)
    assert problem in info.value.problems


def test_a_priority_matrix_built_directly_refuses_duplicate_levels() -> None:
    table = {(i, u): 1 for i in (1, 2) for u in (1, 2)}
    with pytest.raises(ic.SpecError, match="urgency level 2 is given twice"):
        ic.PriorityMatrix(impacts=(1, 2), urgencies=(1, 2, 2), table=table)


@pytest.mark.parametrize(
    ("key", "value"), [("title", 5), ("description", ["x"]), ("id_prefix", 1), ("name", None)]
)
def test_spec_data_with_a_non_text_heading_is_refused_with_its_path(
    key: str, value: object
) -> None:
    data = ic.spec_to_dict(ic.catalog.get("incident")) | {"name": "custom", key: value}
    with pytest.raises(ic.SpecError) as info:
        ic.load_spec(data)
    assert f"$.{key}: expected a string" in info.value.problems


def test_timer_field_values_must_be_valid_for_their_fields() -> None:
    timer = ic.TimerSpec("t", "a", event="end", after=timedelta(days=1), fields={"label": 5})
    assert "timer 't': field 'label' expected a string, got int" in _problems(timers=[timer])
    ok = ic.TimerSpec("t", "a", event="end", after=timedelta(days=1), fields={"label": "x"})
    assert _spec(timers=[ok]).timers[0].fields == {"label": "x"}


@pytest.mark.parametrize("name", [123, None, "incidnet"])
def test_an_unknown_process_of_any_type_is_not_found(name: object) -> None:
    with pytest.raises(ic.NotFound, match="unknown process"):
        ic.catalog.get(name)  # type: ignore[arg-type]
