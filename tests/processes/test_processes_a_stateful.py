"""The problem, known error, change and release processes obey the kernel's laws.

Each spec runs under :func:`itsmcore.testing.stateful.process_state_machine` (replay,
hash chain, terminal states, refusals change nothing, roles...). The kit draws any
subset of the settable fields for every event; these processes refuse controlled fields
given outside their place, so the overrides pin those fields to their current values
(no change), which lets runs get past the guards and reach the deep states.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

import itsmcore as ic
from itsmcore.processes import change_rules, release
from itsmcore.testing.stateful import FieldSource, process_state_machine

SETTINGS = settings(
    max_examples=100,
    stateful_step_count=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

#: The change and release paths are long (a normal change needs 9 accepted events to
#: close), so their runs are longer.
LONG = settings(SETTINGS, stateful_step_count=20)
#: A release needs ten accepted events to close even with two test levels.
LONGEST = settings(SETTINGS, stateful_step_count=40)

Places = Mapping[str, Sequence[tuple[str, str]]]
Fields = Mapping[str, Any]


def _pinned(
    spec: ic.ProcessSpec, places: Places, event: str
) -> Callable[[ic.Record | None], SearchStrategy[Fields]]:
    """Fields outside their place for ``event`` keep their current value (no change)."""

    def pin(record: ic.Record | None) -> SearchStrategy[Fields]:
        state = spec.initial if record is None else record.state
        kept = {
            name: None if record is None else record.get(name)
            for name, allowed in places.items()
            if not any(s in ("*", state) and e in ("*", event) for s, e in allowed)
        }
        return st.just(kept)

    return pin


def _merged(
    *parts: Callable[[ic.Record | None], SearchStrategy[Fields]],
) -> Callable[[ic.Record | None], SearchStrategy[Fields]]:
    """Draw every part for the record and merge them, later parts winning."""

    def draw(record: ic.Record | None) -> SearchStrategy[Fields]:
        return st.tuples(*(part(record) for part in parts)).map(
            lambda dicts: {k: v for d in dicts for k, v in d.items()}
        )

    return draw


def _fixed(
    strategy: SearchStrategy[Fields],
) -> Callable[[ic.Record | None], SearchStrategy[Fields]]:
    return lambda _record: strategy


def _overrides(
    spec: ic.ProcessSpec,
    places: Places,
    extra: Mapping[str, Callable[[ic.Record | None], SearchStrategy[Fields]]] | None = None,
) -> dict[str, FieldSource]:
    out: dict[str, FieldSource] = {}
    for event in ("open", *spec.events()):
        pin = _pinned(spec, places, event)
        more = (extra or {}).get(event)
        out[event] = pin if more is None else _merged(pin, more)
    return out


def _often_blank(
    name: str, blanks: int = 5
) -> Callable[[ic.Record | None], SearchStrategy[Fields]]:
    """A terminating event's reason: blank (refused) ``blanks`` times for each valid
    one, so that runs do not end most records early and reach the deep states."""
    reasons = [" " * (i % 3) for i in range(blanks)] + ["superseded"]
    return _fixed(st.fixed_dictionaries({name: st.sampled_from(reasons)}))


# -- problem --------------------------------------------------------------------------------

PROBLEM = ic.catalog.get("problem")
_PROBLEM_PLACES: Places = {
    "resolution_code": (("*", "resolve"),),
    "resolution_effect": (("resolved", "*"),),
}
TestProblemStateMachine = process_state_machine(
    PROBLEM,
    field_overrides=_overrides(PROBLEM, _PROBLEM_PLACES, {"cancel": _often_blank("reason")}),
    max_records=2,
).TestCase
TestProblemStateMachine.settings = SETTINGS

# -- known error ----------------------------------------------------------------------------

KNOWN_ERROR = ic.catalog.get("known_error")
TestKnownErrorStateMachine = process_state_machine(
    KNOWN_ERROR,
    field_overrides=_overrides(KNOWN_ERROR, {}, {"retire": _often_blank("reason")}),
    max_records=2,
).TestCase
TestKnownErrorStateMachine.settings = SETTINGS

# -- change ---------------------------------------------------------------------------------

_FREEZE_START = datetime(2026, 12, 15, tzinfo=UTC)
CHANGE = ic.catalog.get("change").with_options(
    standard_templates=["restart_web_server", "rotate_tls_certificate"],
    change_freezes=[
        {"name": "year-end", "start": _FREEZE_START, "end": _FREEZE_START + timedelta(days=21)}
    ],
)
_windows = st.builds(
    lambda start, hours: {"planned_start": start, "planned_end": start + timedelta(hours=hours)},
    st.datetimes(
        min_value=datetime(2026, 11, 1), max_value=datetime(2027, 2, 1), timezones=st.just(UTC)
    ),
    st.integers(1, 72),
)


def _window(record: ic.Record | None) -> SearchStrategy[Fields]:
    """A consistent window (sometimes in the freeze), or the current one unchanged."""
    current = {
        name: None if record is None else record.get(name)
        for name in ("planned_start", "planned_end")
    }
    return st.one_of(st.just(current), _windows)


_change_type = _fixed(
    st.sampled_from(
        [
            {"change_type": "normal", "template": None},
            {"change_type": "normal", "template": None},
            {"change_type": "emergency", "template": None},
            {"change_type": "standard", "template": "restart_web_server"},
            {"change_type": "standard", "template": "reboot"},
        ]
    )
)
TestChangeStateMachine = process_state_machine(
    CHANGE,
    field_overrides=_overrides(
        CHANGE,
        change_rules.FIELD_PLACES,
        {
            "open": _merged(_window, _change_type),
            "update": _window,
            "submit": _window,
            "assess": _window,
            "schedule": _window,
            "cancel": _often_blank("cancellation_reason"),
            "reject": _often_blank("rejection_reason"),
            "implement": _fixed(
                st.fixed_dictionaries(
                    {"test_result": st.sampled_from(["passed", "passed", "failed"])}
                )
            ),
        },
    ),
    max_records=2,
).TestCase
TestChangeStateMachine.settings = LONG

# -- release --------------------------------------------------------------------------------

#: One record per run and two test levels instead of four, so that short runs reach
#: deployment, verification and rollback; the kit's links never use ``ships``, so the
#: "ships at least one change" guard is off here (its examples are in test_release.py).
RELEASE = ic.catalog.get("release").with_options(
    test_levels=["unit", "acceptance"], require_shipped_change=False
)


def _next_level(record: ic.Record | None) -> SearchStrategy[Fields]:
    """Mostly the next level not yet passed, so runs get through testing."""
    passed = () if record is None else record.get("tests_passed", ())
    levels = RELEASE.options["test_levels"]
    missing = [lv for lv in levels if lv not in passed] or ["unit"]
    return st.fixed_dictionaries(
        {"test_level": st.one_of(st.just(missing[0]), st.sampled_from(release.TEST_LEVELS))}
    )


TestReleaseStateMachine = process_state_machine(
    RELEASE,
    field_overrides=_overrides(
        RELEASE,
        release.FIELD_PLACES,
        {
            "pass_test": _next_level,
            # Mostly refused (no level), so a run is not sent back to building too often.
            "fail_test": _fixed(
                st.fixed_dictionaries({"test_level": st.sampled_from([None] * 5 + ["unit"])})
            ),
            "cancel": _often_blank("cancellation_reason", blanks=11),
            "rollback": _often_blank("rollback_reason"),
        },
    ),
    max_records=1,
).TestCase
TestReleaseStateMachine.settings = LONGEST
