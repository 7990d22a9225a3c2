from __future__ import annotations

import pytest

import itsmcore as ic


def test_default_matrix_matches_the_itil_table() -> None:
    expected = {
        (1, 1): 1,
        (1, 2): 2,
        (1, 3): 3,
        (2, 1): 2,
        (2, 2): 3,
        (2, 3): 4,
        (3, 1): 3,
        (3, 2): 4,
        (3, 3): 5,
    }
    assert {k: ic.DEFAULT_MATRIX.priority(*k) for k in expected} == expected


def test_a_matrix_loads_from_and_dumps_to_data() -> None:
    data = {"impacts": [1, 2], "urgencies": [1, 2], "priorities": [[1, 2], [2, 4]]}
    matrix = ic.PriorityMatrix.from_dict(data)
    assert matrix.priority(2, 2) == 4
    assert matrix.to_dict() == data


def test_a_matrix_that_is_not_total_is_a_spec_error() -> None:
    with pytest.raises(ic.SpecError, match="missing impact 2 x urgency 2"):
        ic.PriorityMatrix(impacts=(1, 2), urgencies=(1, 2), table={(1, 1): 1, (1, 2): 2, (2, 1): 2})


def test_malformed_matrix_data_is_a_spec_error() -> None:
    with pytest.raises(ic.SpecError):
        ic.PriorityMatrix.from_dict({"impacts": [1], "urgencies": [1, 2], "priorities": [[1]]})


def test_values_off_the_axes_are_a_validation_error() -> None:
    with pytest.raises(ic.ValidationError):
        ic.DEFAULT_MATRIX.priority(4, 1)


def test_a_host_matrix_in_options_drives_the_incident_priority() -> None:
    from kernel_support import ALICE, OPEN_FIELDS, T0

    strict = {
        "impacts": [1, 2, 3],
        "urgencies": [1, 2, 3],
        "priorities": [[1, 1, 2], [1, 2, 3], [2, 3, 4]],
    }
    spec = ic.catalog.get("incident").with_options(priority_matrix=strict)
    rec = spec.open(record_id="I", at=T0, actor=ALICE, fields=OPEN_FIELDS).record
    assert rec.fields["priority"] == 1
