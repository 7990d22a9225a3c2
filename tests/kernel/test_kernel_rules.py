"""Kernel rules that hold for every process: time, validation, transitions, immutability."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import attrs
import pytest
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic


def _open(spec: ic.ProcessSpec) -> ic.Record:
    return spec.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN_FIELDS).record


def test_naive_datetime_is_a_validation_error(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError) as err:
        incident.open(record_id="X", at=datetime(2026, 1, 1), actor=ALICE, fields=OPEN_FIELDS)
    assert err.value.errors[0][0] == "$.at"
    assert "naive" in err.value.errors[0][1]


def test_event_before_the_last_event_is_rejected(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(ic.ValidationError, match="never go back in time"):
        incident.fire(rec, "update", at=T0 - timedelta(microseconds=1), actor=ALICE, fields={})


def test_event_at_the_same_instant_is_accepted_and_ordered_by_version(
    incident: ic.ProcessSpec,
) -> None:
    rec = _open(incident)
    step = incident.fire(rec, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    assert step.event.version == 2
    assert step.event.at == T0


def test_equal_instants_in_other_zones_are_not_going_back(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    berlin = T0.astimezone(ZoneInfo("Europe/Berlin"))
    assert incident.fire(rec, "update", at=berlin, actor=ALICE, fields={}).record.version == 2


def test_invalid_transition_names_state_event_and_allowed(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(ic.InvalidTransition) as err:
        incident.fire(rec, "resolv", at=T0, actor=ALICE)
    assert err.value.state == "new"
    assert err.value.event == "resolv"
    assert err.value.allowed == incident.allowed(rec) == ("assign", "cancel", "update")
    assert "allowed events: assign, cancel, update" in str(err.value)


def test_unknown_field_suggests_the_closest_name(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError, match="did you mean 'urgency'"):
        incident.fire(_open(incident), "update", at=T0, actor=ALICE, fields={"urgncy": 1})


def test_every_field_problem_is_reported_at_once(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError) as err:
        incident.fire(
            _open(incident),
            "update",
            at=T0,
            actor=ALICE,
            fields={"title": 5, "channel": "fax", "major": "yes", "nope": 1},
        )
    assert [p for p, _ in err.value.errors] == [
        "$.fields.title",
        "$.fields.channel",
        "$.fields.major",
        "$.fields.nope",
    ]


def test_records_are_immutable(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        rec.state = "closed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        rec.fields["title"] = "x"  # type: ignore[index]


def test_firing_does_not_change_the_input_record(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    before = ic.dump(rec)
    incident.fire(rec, "assign", at=T0, actor=ALICE, fields={"assignee": "bob"})
    assert ic.dump(rec) == before


def test_record_at_version_n_has_events_one_to_n(incident: ic.ProcessSpec) -> None:
    step = incident.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    events = [step.event]
    for i in range(5):
        step = incident.fire(
            step.record,
            "update",
            at=T0 + timedelta(seconds=i),
            actor=ALICE,
            fields={"description": str(i)},
        )
        events.append(step.event)
    assert step.record.version == 6
    assert [e.version for e in events] == [1, 2, 3, 4, 5, 6]
    assert events[0].name == "open"
    assert events[0].source is None


def test_record_of_another_spec_version_is_refused(incident: ic.ProcessSpec) -> None:
    rec = attrs.evolve(_open(incident), spec_version=99)
    with pytest.raises(ic.ValidationError, match=r"version=\.\.\."):
        incident.fire(rec, "update", at=T0, actor=ALICE)


def test_actor_must_be_an_actor(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError, match=r"\$\.actor"):
        incident.fire(_open(incident), "update", at=T0, actor="alice")  # type: ignore[arg-type]


def test_actor_roles_default_to_none() -> None:
    assert ic.Actor("bob").roles == frozenset()


def test_datetime_fields_must_be_aware() -> None:
    spec = ic.ProcessSpec(
        name="timed",
        version=1,
        states=[ic.StateSpec("a", initial=True), ic.StateSpec("z", "closed", terminal=True)],
        transitions=[ic.TransitionSpec("finish", ["a"], "z")],
        fields=[ic.FieldSpec("when", "datetime")],
    )
    with pytest.raises(ic.ValidationError, match="naive"):
        spec.open(record_id="T", at=T0, actor=ALICE, fields={"when": datetime(2026, 1, 1)})
    aware = datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5)))
    rec = spec.open(record_id="T", at=T0, actor=ALICE, fields={"when": aware}).record
    assert rec.fields["when"] == aware


def test_roles_on_a_transition_are_enforced() -> None:
    spec = ic.ProcessSpec(
        name="gated",
        version=1,
        states=[ic.StateSpec("a", initial=True), ic.StateSpec("z", "closed", terminal=True)],
        transitions=[ic.TransitionSpec("finish", ["a"], "z", roles=["manager"])],
    )
    rec = spec.open(record_id="G", at=T0, actor=ALICE).record
    with pytest.raises(ic.Forbidden, match="manager"):
        spec.fire(rec, "finish", at=T0, actor=ALICE)
    boss = ic.Actor("boss", roles={"manager"})
    assert spec.fire(rec, "finish", at=T0, actor=boss).record.state == "z"


def test_conditions_choose_the_first_matching_branch() -> None:
    reg = ic.BUILTINS.extended(
        guards={
            "t.big": lambda ctx: None if ctx.value("n", 0) > 10 else "n must exceed 10",
            "t.small": lambda ctx: None if ctx.value("n", 0) <= 10 else "n must be at most 10",
        }
    )
    spec = ic.ProcessSpec(
        name="branchy",
        version=1,
        states=[
            ic.StateSpec("a", initial=True),
            ic.StateSpec("big", "closed", terminal=True),
            ic.StateSpec("small", "closed", terminal=True),
        ],
        transitions=[
            ic.TransitionSpec("go", ["a"], "big", conditions=["t.big"]),
            ic.TransitionSpec("go", ["a"], "small", conditions=["t.small"]),
        ],
        fields=[ic.FieldSpec("n", "int")],
        registry=reg,
    )
    rec = spec.open(record_id="B", at=T0, actor=ALICE).record
    assert spec.fire(rec, "go", at=T0, actor=ALICE, fields={"n": 11}).record.state == "big"
    assert spec.fire(rec, "go", at=T0, actor=ALICE, fields={"n": 3}).record.state == "small"


def test_a_field_required_on_open_cannot_be_cleared_later(incident: ic.ProcessSpec) -> None:
    rec = _open(incident)
    with pytest.raises(ic.ValidationError, match="cannot be cleared"):
        incident.fire(rec, "update", at=T0, actor=ALICE, fields={"title": None})


def test_text_that_cannot_be_encoded_is_a_validation_error(incident: ic.ProcessSpec) -> None:
    with pytest.raises(ic.ValidationError, match="Unicode"):
        incident.fire(_open(incident), "update", at=T0, actor=ALICE, fields={"title": "\ud800"})
    with pytest.raises(ic.ValidationError, match="actor"):
        incident.fire(_open(incident), "update", at=T0, actor=ic.Actor("\udfff"))


def test_an_effect_returning_a_bad_value_is_a_spec_error_naming_it() -> None:
    reg = ic.BUILTINS.extended(effects={"t.bad": lambda ctx: {"n": float("inf")}})
    spec = ic.ProcessSpec(
        name="effecty",
        version=1,
        states=[ic.StateSpec("a", initial=True), ic.StateSpec("z", "closed", terminal=True)],
        transitions=[ic.TransitionSpec("go", ["a"], "z", effects=["t.bad"])],
        fields=[ic.FieldSpec("n", "float", derived=True)],
        registry=reg,
    )
    rec = spec.open(record_id="E", at=T0, actor=ALICE).record
    with pytest.raises(ic.SpecError, match=r"effect 't\.bad'"):
        spec.fire(rec, "go", at=T0, actor=ALICE)


def _set_by_spec(**field: object) -> ic.ProcessSpec:
    return ic.ProcessSpec(
        name="scored",
        version=1,
        states=[ic.StateSpec("sent", initial=True), ic.StateSpec("done", "closed", terminal=True)],
        transitions=[
            ic.TransitionSpec("respond", ["sent"], "done"),
            ic.TransitionSpec("update", ["sent"], "="),
        ],
        fields=[ic.FieldSpec("score", "int", **field)],  # type: ignore[arg-type]
    )


def test_a_field_with_set_by_is_refused_on_other_events() -> None:
    spec = _set_by_spec(set_by=["respond"])
    rec = spec.open(record_id="S", at=T0, actor=ALICE).record
    with pytest.raises(ic.ValidationError, match="set only by respond, not by update"):
        spec.fire(rec, "update", at=T0, actor=ALICE, fields={"score": 5})
    with pytest.raises(ic.ValidationError, match="not by open"):
        spec.open(record_id="S", at=T0, actor=ALICE, fields={"score": 5})
    assert (
        spec.fire(rec, "respond", at=T0, actor=ALICE, fields={"score": 5}).record.get("score") == 5
    )


def test_set_by_must_name_declared_events() -> None:
    with pytest.raises(ic.SpecError, match="unknown event 'answer'"):
        _set_by_spec(set_by=["answer"])


def test_set_by_round_trips_through_spec_data() -> None:
    spec = _set_by_spec(set_by=["respond"])
    assert ic.spec_from_dict(ic.spec_to_dict(spec)) == spec
