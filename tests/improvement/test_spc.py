"""Statistical process control: published examples, one test per rule, the shift verdict."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from itsmcore.errors import ValidationError
from itsmcore.improvement import spc

# --- published examples -----------------------------------------------------------------

# SAS/QC User's Guide, MACONTROL Example 9.4 ("Displaying Individual Measurements on an
# EWMA Chart"): steel-belt diameters of 30 tires, and the IRCHART limits SAS prints in
# Output 9.4.1: _LCLI_ 23.8571, _MEAN_ 24.0083, _UCLI_ 24.1596, _R_ 0.056897,
# _UCLR_ 0.18585. SAS uses the exact d2 = 1.128379 and D4 = 3.2665, we use the table
# constants 2.66 and 3.267, so limits agree to about 1e-4.
TIRES = [
    24.05, 23.99, 23.95, 23.93, 23.97, 24.02, 24.06, 24.10, 23.98, 24.03,
    23.91, 24.06, 24.06, 23.96, 23.98, 24.06, 24.01, 24.00, 23.93, 23.92,
    24.09, 24.11, 24.05, 23.98, 23.98, 24.06, 24.02, 24.06, 23.97, 23.96,
]  # fmt: skip

# Montgomery, Introduction to Statistical Quality Control, Example 7.1 (Table 7.1): seals
# of frozen orange-juice cans, 30 samples of n = 50. Published: p-bar = 347/1500 = 0.2313,
# UCL 0.4102, LCL 0.0524; samples 15 and 23 (1-based) are above the UCL.
ORANGE_JUICE = [
    12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
    8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6,
]  # fmt: skip


def test_xmr_limits_match_the_published_sas_tire_example() -> None:
    chart = spc.xmr(TIRES)
    assert chart.center == pytest.approx(24.0083, abs=1e-4)
    assert chart.mr_center == pytest.approx(0.056897, abs=1e-6)
    assert chart.lower_limit == pytest.approx(23.8571, abs=2e-4)
    assert chart.upper_limit == pytest.approx(24.1596, abs=2e-4)
    assert chart.mr_ucl == pytest.approx(0.18585, abs=1e-4)
    assert chart.in_control


def test_xmr_limits_are_mean_plus_minus_2_66_average_moving_ranges() -> None:
    # By hand: the 30 values sum to 720.25 and the 29 moving ranges to 1.65.
    chart = spc.xmr(TIRES)
    mean, mr_bar = 720.25 / 30, 1.65 / 29
    assert chart.center == pytest.approx(mean, rel=1e-12)
    assert chart.mr_center == pytest.approx(mr_bar, rel=1e-12)
    assert chart.upper_limit == pytest.approx(mean + 2.66 * mr_bar, rel=1e-12)
    assert chart.lower_limit == pytest.approx(mean - 2.66 * mr_bar, rel=1e-12)
    assert chart.process_sigma == pytest.approx(mr_bar / 1.128, rel=1e-3)
    assert chart.mr_ucl == pytest.approx(3.267 * mr_bar, rel=1e-12)
    assert len(chart.moving_ranges) == 29
    assert chart.moving_ranges[0] == pytest.approx(0.06)


def test_p_chart_matches_montgomerys_orange_juice_example() -> None:
    chart = spc.p_chart(ORANGE_JUICE, 50)
    assert sum(ORANGE_JUICE) == 347
    assert chart.center == pytest.approx(0.2313, abs=1e-4)
    assert chart.ucl == pytest.approx((0.4102,) * 30, abs=1e-4)
    assert chart.lcl == pytest.approx((0.0524,) * 30, abs=1e-4)
    assert [s.points for s in chart.signals_for(1)] == [(14,), (22,)]  # samples 15 and 23
    assert all(s.side == "above" for s in chart.signals_for(1))


def test_p_chart_limits_are_per_point_and_narrow_as_subgroups_grow() -> None:
    # 16 subgroups of 10/100, then 18/100 and 162/900 (both 0.18). By hand:
    # p-bar = 340/2600 = 0.130769; sigma(100) = sqrt(p(1-p)/100) = 0.033715, UCL 0.231914;
    # sigma(900) = 0.011238, UCL 0.164484. So 0.18 is inside on n = 100, beyond on n = 900.
    chart = spc.p_chart([10] * 16 + [18, 162], [100] * 16 + [100, 900])
    assert chart.center == pytest.approx(340 / 2600)
    assert chart.ucl[16] == pytest.approx(0.231914, abs=1e-6)
    assert chart.ucl[17] == pytest.approx(0.164484, abs=1e-6)
    assert chart.sigma[17] == pytest.approx(0.011238, abs=1e-6)
    assert [s.points for s in chart.signals_for(1)] == [(17,)]
    assert [s.points for s in chart.signals_for(4)] == [tuple(range(16))]  # 0.10 < p-bar


def test_p_chart_limits_are_clipped_to_0_and_1() -> None:
    low = spc.p_chart([0, 1, 0, 1], 10)  # p-bar = 0.05, p-bar - 3 sigma < 0
    assert low.lcl == (0.0,) * 4
    high = spc.p_chart([10, 9, 10, 9], 10)  # p-bar = 0.95, p-bar + 3 sigma > 1
    assert high.ucl == (1.0,) * 4


# --- one test per Western Electric rule (centre 0, sigma 1) -----------------------------


def rules(points: list[float]) -> list[tuple[int, tuple[int, ...], str]]:
    found = spc.western_electric(points, 0.0, [1.0] * len(points))
    return [(s.rule, s.points, s.side) for s in found]


def test_rule_1_one_point_beyond_3_sigma() -> None:
    assert rules([0.0, 0.5, -0.5, 3.5, 0.0, -0.5, 0.5]) == [(1, (3,), "above")]


def test_a_point_exactly_on_the_limit_is_not_beyond_it() -> None:
    assert rules([0.5, -0.5, 3.0, -0.5]) == []


def test_rule_2_two_of_three_beyond_2_sigma_on_one_side() -> None:
    assert rules([0.5, -0.5, 2.5, 0.5, 2.5, -0.5, 0.5]) == [(2, (2, 4), "above")]


def test_rule_2_needs_both_points_on_the_same_side() -> None:
    assert rules([0.5, 2.5, -2.5, 0.5, -0.5]) == []


def test_rule_3_four_of_five_beyond_1_sigma_on_one_side() -> None:
    assert rules([-1.5, -1.5, -0.5, -1.5, -1.5, 0.5, 0.0]) == [(3, (0, 1, 3, 4), "below")]


def test_rule_4_eight_in_a_row_on_one_side() -> None:
    assert rules([-0.5] + [0.5] * 8 + [-0.5]) == [(4, tuple(range(1, 9)), "above")]


def test_a_point_on_the_centre_line_breaks_a_run() -> None:
    assert rules([0.5] * 7 + [0.0] + [0.5] * 7) == []


def test_a_stable_series_triggers_no_rule() -> None:
    assert rules([0.5, -0.5] * 10) == []


def test_a_long_run_is_reported_once_with_all_its_points() -> None:
    assert rules([-0.4] * 12) == [(4, tuple(range(12)), "below")]


def test_overlapping_windows_of_one_rule_are_one_signal() -> None:
    assert rules([2.5, 2.5, 2.5, 2.5]) == [(2, (0, 1, 2, 3), "above")]


def test_windows_sharing_a_point_are_one_signal() -> None:
    # Windows 0-2 (points 0, 2) and 2-4 (points 2, 4) share point 2: one episode.
    assert rules([2.5, 0.0, 2.5, 0.0, 2.5]) == [(2, (0, 2, 4), "above")]


def test_separate_episodes_of_one_rule_are_separate_signals() -> None:
    assert rules([2.5, 2.5, 0.0, 0.0, 0.0, 0.0, 2.5, 2.5]) == [
        (2, (0, 1), "above"),
        (2, (6, 7), "above"),
    ]


def test_signals_describe_rule_side_and_points() -> None:
    (run,) = spc.western_electric([0.5] * 8, 0.0, [1.0] * 8)
    assert run.description == "rule 4: 8 consecutive points above the centre line (points 0-7)"
    (low,) = spc.western_electric([0.0, -4.0], 0.0, [1.0, 1.0])
    assert low.description == "rule 1: point 1 is below the lower control limit (3σ)"
    (pair,) = spc.western_electric([2.5, 0.0, -2.1, -2.2], 0.0, [1.0] * 4)
    assert pair.description == (
        "rule 2: 2 of 3 consecutive points beyond 2σ below the centre line (points 2, 3)"
    )


def test_a_response_time_series_with_a_shift_is_flagged() -> None:
    # A service review's response times (minutes): the level rises half-way through.
    times = [4.1, 3.9, 4.3, 4.0, 3.8, 4.2, 4.0, 4.1, 3.9, 4.0]
    times += [4.6, 4.8, 4.5, 4.7, 4.9, 4.6, 4.8, 4.7, 4.5, 4.6]
    chart = spc.xmr(times)
    assert not chart.in_control
    assert [(s.points, s.side) for s in chart.signals_for(4)] == [
        (tuple(range(10)), "below"),
        (tuple(range(10, 20)), "above"),
    ]


def test_a_jump_beyond_the_moving_range_limit_is_flagged_at_the_later_point() -> None:
    chart = spc.xmr([10.0, 10.2, 10.1, 10.3, 10.2, 10.1, 14.0, 10.2, 10.1, 10.3])
    assert chart.mr_signals == (6, 7)


def test_constant_values_give_zero_width_limits_and_no_signals() -> None:
    chart = spc.xmr([5, 5, 5, 5])
    assert (chart.lower_limit, chart.center, chart.upper_limit) == (5.0, 5.0, 5.0)
    assert chart.in_control


def test_limits_can_come_from_a_baseline_window() -> None:
    chart = spc.xmr([10, 12, 10, 12, 20, 20], baseline=4)
    assert chart.center == 11.0
    assert chart.mr_center == 2.0  # |12-10|, |10-12|, |12-10|
    assert chart.upper_limit == pytest.approx(11 + 2.66 * 2)
    assert [s.points for s in chart.signals_for(1)] == [(4,), (5,)]


# --- before / after ---------------------------------------------------------------------

# R4.1-07's demo: latency from about 15 s down to about 5 s after a change.
LATENCY_BEFORE = [15.2, 14.8, 15.5, 14.9, 15.1, 15.3, 14.7, 15.0, 15.4, 14.6]
LATENCY_AFTER = [5.1, 4.9, 5.3, 4.8, 5.0, 5.2, 4.7, 5.1]


def test_a_drop_from_15_to_5_seconds_is_a_shift_down() -> None:
    verdict = spc.compare(LATENCY_BEFORE, LATENCY_AFTER, better="down")
    assert verdict.shifted
    assert verdict.direction == "down"
    assert verdict.improved is True
    assert verdict.before_mean == pytest.approx(15.05)
    assert verdict.after_mean == pytest.approx(5.0125)
    assert verdict.change == pytest.approx(-10.0375)
    assert {s.rule for s in verdict.signals} == {1, 2, 3, 4}
    assert all(s.side == "below" for s in verdict.signals)
    assert verdict.summary.startswith("shifted down: mean 15.05 -> 5.013")


def test_a_shift_in_the_worse_direction_is_not_an_improvement() -> None:
    verdict = spc.compare(LATENCY_AFTER, LATENCY_BEFORE, better="down")
    assert verdict.direction == "up"
    assert verdict.improved is False


def test_after_data_within_routine_variation_is_no_shift() -> None:
    verdict = spc.compare(LATENCY_BEFORE, [15.1, 14.9, 15.2, 14.8, 15.0], better="down")
    assert not verdict.shifted
    assert verdict.direction is None
    assert verdict.signals == ()
    assert verdict.improved is False
    assert verdict.summary.startswith("no shift")


def test_signals_on_both_sides_mean_unstable_not_shifted() -> None:
    verdict = spc.compare(LATENCY_BEFORE, [25.0, 15.0, 5.0])
    assert not verdict.shifted
    assert verdict.direction is None
    assert verdict.improved is None
    assert {(s.points, s.side) for s in verdict.signals} == {((0,), "above"), ((2,), "below")}


def test_the_baseline_limits_come_from_before_only() -> None:
    verdict = spc.compare(LATENCY_BEFORE, LATENCY_AFTER)
    assert verdict.baseline == spc.xmr(LATENCY_BEFORE)
    assert verdict.baseline.lower_limit == pytest.approx(15.05 - 2.66 * 4.2 / 9)


# --- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "path"),
    [
        ([1.0], "$.values"),
        ([], "$.values"),
        ([1.0, math.nan, 2.0], "$.values[1]"),
        ([1.0, 2.0, math.inf], "$.values[2]"),
        ([1.0, "2"], "$.values[1]"),
        ([True, 2.0], "$.values[0]"),
    ],
)
def test_xmr_rejects_bad_values_naming_the_point(values: list[object], path: str) -> None:
    with pytest.raises(ValidationError) as info:
        spc.xmr(values)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == path


@pytest.mark.parametrize("baseline", [1, 5, 0])
def test_xmr_rejects_a_baseline_outside_2_to_n(baseline: int) -> None:
    with pytest.raises(ValidationError) as info:
        spc.xmr([1, 2, 3, 4], baseline=baseline)
    assert info.value.errors[0][0] == "$.baseline"


@pytest.mark.parametrize(
    ("defectives", "sizes", "path"),
    [
        ([1, 2, 3, 4], [10, 10, 10, 0], "$.sizes[3]"),
        ([1, 2, 3, 4], [10, 10, 10, -5], "$.sizes[3]"),
        ([1, 11, 3], [10, 10, 10], "$.defectives[1]"),
        ([1, -1, 3], [10, 10, 10], "$.defectives[1]"),
        ([1.5, 1, 3], [10, 10, 10], "$.defectives[0]"),
        ([1, 2, 3], [10, 10], "$.sizes"),
        ([1], [10], "$.defectives"),
    ],
)
def test_p_chart_rejects_bad_counts_naming_the_subgroup(
    defectives: list[object], sizes: list[object], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        spc.p_chart(defectives, sizes)  # type: ignore[arg-type]
    assert info.value.errors[0][0] == path


@pytest.mark.parametrize(
    ("points", "center", "sigma", "path"),
    [
        ([1.0, 2.0], 0.0, [1.0], "$.sigma"),
        ([1.0, 2.0], 0.0, 1.0, "$.sigma"),
        ([1.0, 2.0], 0.0, [1.0, True], "$.sigma[1]"),
        ([1.0, 2.0], 0.0, [1.0, -1.0], "$.sigma[1]"),
        ([1.0, 2.0], 0.0, [1.0, math.nan], "$.sigma[1]"),
        ([1.0, math.nan], 0.0, [1.0, 1.0], "$.points[1]"),
        ([1.0, 2.0], math.inf, [1.0, 1.0], "$.center"),
    ],
)
def test_western_electric_rejects_bad_points_centre_or_sigma(
    points: list[float], center: float, sigma: list[float], path: str
) -> None:
    with pytest.raises(ValidationError) as info:
        spc.western_electric(points, center, sigma)
    assert info.value.errors[0][0] == path


def test_compare_names_the_series_with_the_bad_value() -> None:
    with pytest.raises(ValidationError) as info:
        spc.compare([1.0, 2.0], [1.0, math.nan])
    assert info.value.errors[0][0] == "$.after[1]"
    with pytest.raises(ValidationError) as empty:
        spc.compare([1.0, 2.0], [])
    assert empty.value.errors[0][0] == "$.after"


# --- properties -------------------------------------------------------------------------

_values = st.lists(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    min_size=2,
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(_values)
def test_mirroring_the_series_mirrors_every_signal(values: list[float]) -> None:
    chart = spc.xmr(values)
    mirrored = spc.xmr([-v for v in values])
    flip = {"above": "below", "below": "above"}
    assert [(s.rule, s.points, flip[s.side]) for s in chart.signals] == [
        (s.rule, s.points, s.side) for s in mirrored.signals
    ]
    assert chart.lower_limit <= chart.center <= chart.upper_limit
    for signal in chart.signals:
        assert list(signal.points) == sorted(set(signal.points))
        assert all(0 <= i < len(values) for i in signal.points)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 500), st.floats(0, 1)), min_size=2, max_size=30))
def test_p_chart_points_and_limits_stay_within_0_and_1(groups: list[tuple[int, float]]) -> None:
    sizes = [n for n, _ in groups]
    defectives = [round(n * share) for n, share in groups]
    chart = spc.p_chart(defectives, sizes)
    for point, lcl, ucl in zip(chart.points, chart.lcl, chart.ucl, strict=True):
        assert 0 <= point <= 1
        assert 0 <= lcl <= chart.center <= ucl <= 1
