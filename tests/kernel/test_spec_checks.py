"""A spec is checked when built; every problem is listed in one SpecError."""

from __future__ import annotations

from typing import Any

import pytest

import itsmcore as ic


def _spec(**overrides: Any) -> ic.ProcessSpec:
    base: dict[str, Any] = {
        "name": "demo",
        "version": 1,
        "states": [
            ic.StateSpec("a", initial=True),
            ic.StateSpec("b"),
            ic.StateSpec("z", "closed", terminal=True),
        ],
        "transitions": [ic.TransitionSpec("go", ["a"], "b"), ic.TransitionSpec("end", ["b"], "z")],
    }
    base.update(overrides)
    return ic.ProcessSpec(**base)


def _problems(**overrides: Any) -> str:
    with pytest.raises(ic.SpecError) as err:
        _spec(**overrides)
    return "; ".join(err.value.problems)


def test_a_valid_spec_compiles() -> None:
    assert _spec().initial == "a"


def test_exactly_one_initial_state_is_required() -> None:
    states = [
        ic.StateSpec("a", initial=True),
        ic.StateSpec("b", initial=True),
        ic.StateSpec("z", "closed", terminal=True),
    ]
    assert "exactly one initial state" in _problems(states=states)


def test_unknown_states_in_transitions_are_named() -> None:
    text = _problems(
        transitions=[
            ic.TransitionSpec("go", ["a"], "nowhere"),
            ic.TransitionSpec("end", ["ghost"], "z"),
        ]
    )
    assert "unknown target state 'nowhere'" in text
    assert "unknown source state 'ghost'" in text


def test_unreachable_state_is_named() -> None:
    states = [
        ic.StateSpec("a", initial=True),
        ic.StateSpec("b"),
        ic.StateSpec("island"),
        ic.StateSpec("z", "closed", terminal=True),
    ]
    transitions = [
        ic.TransitionSpec("go", ["a"], "b"),
        ic.TransitionSpec("end", ["b", "island"], "z"),
    ]
    assert "unreachable states: island" in _problems(states=states, transitions=transitions)


def test_non_terminal_dead_end_is_named() -> None:
    transitions = [
        ic.TransitionSpec("go", ["a"], "b"),
        ic.TransitionSpec("end", ["a"], "z"),
        ic.TransitionSpec("poke", ["b"], "="),
    ]
    text = _problems(transitions=transitions)
    assert "dead ends (no way out): b" in text


def test_terminal_state_must_be_reachable_from_every_state() -> None:
    states = [
        ic.StateSpec("a", initial=True),
        ic.StateSpec("b"),
        ic.StateSpec("c"),
        ic.StateSpec("z", "closed", terminal=True),
    ]
    transitions = [
        ic.TransitionSpec("go", ["a"], "b"),
        ic.TransitionSpec("end", ["a"], "z"),
        ic.TransitionSpec("ping", ["b"], "c"),
        ic.TransitionSpec("pong", ["c"], "b"),
    ]
    assert "no terminal state reachable from: b, c" in _problems(
        states=states, transitions=transitions
    )


def test_no_transition_out_of_a_terminal_state() -> None:
    transitions = [
        ic.TransitionSpec("go", ["a"], "b"),
        ic.TransitionSpec("end", ["b"], "z"),
        ic.TransitionSpec("revive", ["z"], "a"),
    ]
    assert "leaves terminal state 'z'" in _problems(transitions=transitions)


def test_unknown_guard_and_effect_names_are_named() -> None:
    transitions = [
        ic.TransitionSpec("go", ["a"], "b", guards=["os.system"], effects=["nope"]),
        ic.TransitionSpec("end", ["b"], "z"),
    ]
    text = _problems(transitions=transitions)
    assert "unknown guard 'os.system'" in text
    assert "unknown effect 'nope'" in text


def test_every_problem_is_listed_at_once() -> None:
    states = [ic.StateSpec("a", "weird", initial=True), ic.StateSpec("z", "closed", terminal=True)]
    with pytest.raises(ic.SpecError) as err:
        _spec(
            states=states,
            transitions=[ic.TransitionSpec("go", ["a"], "q")],
            fields=[ic.FieldSpec("f", "colour")],
        )
    assert len(err.value.problems) >= 3


def test_enum_fields_need_choices() -> None:
    assert "enum field 'kind' needs choices" in _problems(fields=[ic.FieldSpec("kind", "enum")])


def test_requires_must_name_known_fields() -> None:
    transitions = [
        ic.TransitionSpec("go", ["a"], "b", requires=["who"]),
        ic.TransitionSpec("end", ["b"], "z"),
    ]
    assert "requires unknown field 'who'" in _problems(transitions=transitions)


def test_reserved_event_names_are_refused() -> None:
    transitions = [ic.TransitionSpec("link", ["a"], "b"), ic.TransitionSpec("end", ["b"], "z")]
    assert "reserved" in _problems(transitions=transitions)


def test_timers_must_fire_an_allowed_event() -> None:
    from datetime import timedelta

    timers = [ic.TimerSpec("t", "a", event="end", after=timedelta(hours=1))]
    assert "not allowed in 'a'" in _problems(timers=timers)


def test_the_compiled_machine_never_resolves_strings() -> None:
    machine = _spec().compiled.machine
    with pytest.raises(ic.SpecError, match="only registered callables"):
        machine.resolve_callable("os.system", None)


def test_the_compiled_machine_has_no_auto_transitions() -> None:
    machine = _spec().compiled.machine
    assert not any(t.startswith("to_") for t in machine.get_triggers("a", "b"))
    assert machine.models == []


def test_the_catalog_lists_and_finds_processes() -> None:
    assert "incident" in ic.catalog.names()
    with pytest.raises(ic.NotFound, match="did you mean 'incident'"):
        ic.catalog.get("incidnt")


def test_the_builtin_catalog_is_read_only() -> None:
    with pytest.raises(ic.SpecError, match="read-only"):
        ic.catalog.register(_spec())


def test_catalog_keeps_older_versions() -> None:
    cat = ic.Catalog([_spec(), _spec(version=2)])
    assert cat.get("demo").version == 2
    assert cat.get("demo", 1).version == 1
    assert cat.versions("demo") == (1, 2)


def test_catalog_refuses_different_content_under_the_same_version() -> None:
    cat = ic.Catalog([_spec()])
    with pytest.raises(ic.SpecError, match="higher version"):
        cat.register(_spec(title="changed"))


def test_mermaid_diagram_lists_every_transition() -> None:
    text = ic.catalog.get("incident").to_mermaid()
    assert text.startswith("stateDiagram-v2")
    assert "[*] --> new" in text
    assert "resolved --> in_progress: reopen" in text
    assert "closed --> [*]" in text
