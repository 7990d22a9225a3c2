"""Records, events and specs round-trip through plain data exactly; bad data is refused."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernel_support import ALICE, OPEN_FIELDS, T0

import itsmcore as ic


def _steps() -> list[ic.Step]:
    spec = ic.catalog.get("incident")
    s1 = spec.open(record_id="INC-1", at=T0, actor=ALICE, fields=OPEN_FIELDS)
    s2 = spec.fire(
        s1.record, "assign", at=T0 + timedelta(seconds=1), actor=ALICE, fields={"assignee": "bob"}
    )
    return [s1, s2]


def test_records_and_events_round_trip_through_json() -> None:
    for step in _steps():
        for obj, cls in ((step.record, ic.Record), (step.event, ic.Event)):
            data = json.loads(json.dumps(ic.dump(obj)))
            assert ic.load(cls, data) == obj


def test_a_loaded_event_still_verifies() -> None:
    events = [ic.load(ic.Event, json.loads(json.dumps(ic.dump(s.event)))) for s in _steps()]
    ic.verify_chain(events)


def test_unknown_keys_are_refused_with_a_path() -> None:
    data = ic.dump(_steps()[0].record) | {"colour": "red"}
    with pytest.raises(ic.ValidationError, match="colour"):
        ic.load(ic.Record, data)


def test_naive_datetimes_are_refused_on_load() -> None:
    data = ic.dump(_steps()[0].event) | {"at": "2026-11-26T09:00:00"}
    with pytest.raises(ic.ValidationError) as err:
        ic.load(ic.Event, data)
    assert err.value.errors[0][0] == "$.at"


def test_missing_keys_are_named() -> None:
    data = ic.dump(_steps()[0].event)
    del data["name"]
    with pytest.raises(ic.ValidationError) as err:
        ic.load(ic.Event, data)
    assert ("$.name", "required field missing") in err.value.errors


_values = st.one_of(
    st.text(max_size=20),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.booleans(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(
        min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.timezones()
    ).map(lambda d: d.astimezone(UTC)),
    st.dates(),
    st.timedeltas(min_value=timedelta(0)),
    st.lists(st.text(max_size=5), max_size=3).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z]{1,8}", fullmatch=True), _values, max_size=6))
def test_field_values_round_trip_exactly(fields: dict[str, object]) -> None:
    record = ic.Record(
        id="R",
        process="p",
        spec_version=1,
        state="s",
        version=1,
        fields=fields,
        opened_at=T0,
        updated_at=T0,
    )
    back = ic.load(ic.Record, json.loads(json.dumps(ic.dump(record))))
    assert back == record
    for key, value in fields.items():
        assert type(back.fields[key]) is type(value)


def test_a_string_that_looks_like_a_date_stays_a_string() -> None:
    record = ic.Record(
        id="R",
        process="p",
        spec_version=1,
        state="s",
        version=1,
        fields={"note": "2026-01-01", "day": date(2026, 1, 1)},
        opened_at=T0,
        updated_at=T0,
    )
    back = ic.load(ic.Record, ic.dump(record))
    assert back.fields["note"] == "2026-01-01"
    assert back.fields["day"] == date(2026, 1, 1)


def test_specs_round_trip_through_plain_data() -> None:
    spec = ic.catalog.get("incident")
    data = json.loads(json.dumps(ic.spec_to_dict(spec)))
    assert ic.spec_from_dict(data) == spec


def test_spec_data_with_a_dotted_path_guard_is_refused() -> None:
    data = ic.spec_to_dict(ic.catalog.get("incident")) | {"name": "custom"}
    data["transitions"][1]["guards"] = ["os.system"]
    with pytest.raises(ic.SpecError, match=r"unknown guard 'os\.system'"):
        ic.load_spec(data)


def test_spec_data_problems_are_listed_with_paths() -> None:
    with pytest.raises(ic.SpecError) as err:
        ic.load_spec(
            {
                "name": "x",
                "version": "one",
                "states": [{"name": "a", "colour": 1}],
                "transitions": "nope",
            }
        )
    text = "; ".join(err.value.problems)
    assert "$.version" in text
    assert "$.states[0].colour" in text
    assert "$.transitions" in text


def test_toml_spec_files_load(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "flow.toml"
    path.write_text(
        """
name = "access_review"
version = 1
[[states]]
name = "open"
initial = true
[[states]]
name = "done"
category = "closed"
terminal = true
[[transitions]]
event = "finish"
sources = ["open"]
target = "done"
requires = ["reviewer"]
[[fields]]
name = "reviewer"
type = "str"
""",
        encoding="utf-8",
    )
    spec = ic.load_spec(path)
    rec = spec.open(record_id="AR-1", at=T0, actor=ALICE).record
    with pytest.raises(ic.ValidationError, match="required to finish"):
        spec.fire(rec, "finish", at=T0, actor=ALICE)


def test_oversized_spec_files_are_refused(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "big.json"
    path.write_text(" " * (ic.loading.MAX_SPEC_BYTES + 1), encoding="utf-8")
    with pytest.raises(ic.SpecError, match="limit"):
        ic.load_spec(path)


def test_the_converter_is_our_own() -> None:
    import cattrs

    conv = ic.serialization.make_converter()
    assert conv is not cattrs.global_converter
    assert ic.serialization.make_converter() is not conv


def test_sla_policies_load_from_files(tmp_path: object) -> None:
    from pathlib import Path

    from itsmcore.loading import load_policy
    from itsmcore.sla import INCIDENT_DEFAULT

    path = Path(str(tmp_path)) / "policy.json"
    path.write_text(json.dumps(INCIDENT_DEFAULT.to_dict()), encoding="utf-8")
    assert load_policy(path) == INCIDENT_DEFAULT
