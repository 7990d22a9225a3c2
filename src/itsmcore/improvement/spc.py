"""Statistical process control: XmR and p control charts, Western Electric rules, shift check.

Why: an improvement "worked" only if the process moved beyond its routine variation,
and a service review should flag a series that changed. Control charts separate the two.

* **XmR** (individuals and moving range), for times and other measurements: centre =
  mean; mR_i = |x_i − x_(i−1)|; limits = mean ± 2.66 × mean(mR). Sigma is taken as
  2.66 × mean(mR) / 3 (i.e. mean(mR) / 1.128, d2 for ranges of two), so 3σ is exactly
  the distance to the limits. The moving-range chart's upper limit is 3.267 × mean(mR).
* **p-chart**, for rates such as SLA attainment or reopen %: p̄ = Σ defectives / Σ sizes;
  σ_i = √(p̄(1 − p̄)/n_i); limits p̄ ± 3σ_i per point, clipped to [0, 1].
* **Western Electric rules**, each on one side of the centre line at a time:
  1. one point beyond 3σ;
  2. 2 of 3 consecutive points beyond 2σ;
  3. 4 of 5 consecutive points beyond 1σ;
  4. 8 consecutive points on one side of the centre (a point exactly on it breaks the run).

  "Beyond" is strict: a point exactly on a limit is inside it.

Floats are fine here: these are estimates, not ledgers. Input is validated (finite
numbers, counts within their sizes) and bad input raises :class:`ValidationError` with
``$.values[3]``-style paths. Pure functions; no I/O.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import ClassVar, Literal

import attrs

from itsmcore.errors import ValidationError

__all__ = [
    "D4",
    "E2",
    "ControlChart",
    "PChart",
    "ShiftVerdict",
    "Signal",
    "XmRChart",
    "compare",
    "p_chart",
    "western_electric",
    "xmr",
]

E2: float = 2.66
"""Individuals-chart factor for moving ranges of two: 3 / d2 = 3 / 1.128."""
D4: float = 3.267
"""Upper-limit factor of the moving-range chart for ranges of two."""

Side = Literal["above", "below"]
Direction = Literal["up", "down"]
_RUN = 8
_WINDOWS = {2: (2, 3, 2), 3: (4, 5, 1)}  # rule: (need, of width, beyond k sigma)
_SIDES: tuple[tuple[int, Side], ...] = ((1, "above"), (-1, "below"))


@attrs.frozen
class Signal:
    """One Western Electric signal.

    ``rule`` is 1-4 (see the module docstring). ``points`` are the indices involved:
    rule 1, the point beyond 3σ; rules 2 and 3, the points beyond 2σ / 1σ in the
    qualifying windows; rule 4, every point of the run. ``side`` is where they lie
    relative to the centre line.

    Each episode is reported once: overlapping qualifying windows of the same rule and
    side merge into one signal, and a run of 12 is one rule-4 signal with 12 points,
    not five overlapping runs of 8.
    """

    rule: int
    points: tuple[int, ...]
    side: Side
    description: str


@attrs.frozen(kw_only=True)
class ControlChart:
    """A control chart: the plotted ``points``, the ``center`` line, and per point the
    ``ucl``, ``lcl`` and ``sigma`` (constant for XmR, varying with the subgroup size on a
    p-chart), with the ``signals`` the Western Electric rules found.
    """

    kind: ClassVar[str] = ""

    points: tuple[float, ...]
    center: float
    ucl: tuple[float, ...]
    lcl: tuple[float, ...]
    sigma: tuple[float, ...]
    signals: tuple[Signal, ...]

    @property
    def in_control(self) -> bool:
        """True when no rule signalled."""
        return not self.signals

    def signals_for(self, rule: int) -> tuple[Signal, ...]:
        """The signals of one rule (1-4)."""
        return tuple(s for s in self.signals if s.rule == rule)


@attrs.frozen(kw_only=True)
class XmRChart(ControlChart):
    """An individuals chart with its moving-range chart.

    ``moving_ranges[j]`` is ``|points[j + 1] − points[j]|``. ``mr_center`` is their mean
    over the baseline, ``mr_ucl`` = 3.267 × ``mr_center``, and ``mr_signals`` lists the
    indices *i* of the points whose jump from point *i − 1* exceeds ``mr_ucl``.
    ``baseline`` is how many leading points the limits were computed from.
    """

    kind: ClassVar[str] = "xmr"

    moving_ranges: tuple[float, ...]
    mr_center: float
    mr_ucl: float
    mr_signals: tuple[int, ...]
    baseline: int

    @property
    def upper_limit(self) -> float:
        """The upper natural process limit (the same for every point)."""
        return self.ucl[0]

    @property
    def lower_limit(self) -> float:
        """The lower natural process limit (the same for every point)."""
        return self.lcl[0]

    @property
    def process_sigma(self) -> float:
        """The estimated process standard deviation, mean(mR) × 2.66 / 3."""
        return self.sigma[0]


@attrs.frozen(kw_only=True)
class PChart(ControlChart):
    """A p-chart: ``points[i] = defectives[i] / sizes[i]``; limits vary with the size."""

    kind: ClassVar[str] = "p"

    defectives: tuple[int, ...]
    sizes: tuple[int, ...]


@attrs.frozen
class ShiftVerdict:
    """Whether a process moved after a change (see :func:`compare`).

    ``signals`` index into ``after``. ``direction`` is ``"up"``/``"down"`` when every
    signal lies on one side of the baseline centre (then ``shifted`` is True), else None.
    ``improved`` is ``shifted and direction == better`` when a better direction was
    given, else None. ``summary`` says the same in one sentence for reports.
    """

    shifted: bool
    direction: Direction | None
    before_mean: float
    after_mean: float
    baseline: XmRChart
    signals: tuple[Signal, ...]
    improved: bool | None
    summary: str

    @property
    def change(self) -> float:
        """``after_mean − before_mean``."""
        return self.after_mean - self.before_mean


# --- validation -------------------------------------------------------------------------


def _numbers(values: Sequence[float], name: str, minimum: int) -> tuple[float, ...]:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence):
        raise ValidationError.single(f"$.{name}", "expected a sequence of numbers")
    errors = [
        (f"$.{name}[{i}]", f"expected a finite number, got {v!r}")
        for i, v in enumerate(values)
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
    ]
    if errors:
        raise ValidationError(errors)
    if len(values) < minimum:
        raise ValidationError.single(
            f"$.{name}", f"at least {minimum} values are needed, got {len(values)}"
        )
    return tuple(float(v) for v in values)


def _counts(values: Sequence[int], name: str) -> list[tuple[str, str]]:
    return [
        (f"$.{name}[{i}]", f"expected a whole number, got {v!r}")
        for i, v in enumerate(values)
        if isinstance(v, bool) or not isinstance(v, int)
    ]


# --- the rules --------------------------------------------------------------------------


def _beyond(
    points: Sequence[float], center: float, sigma: Sequence[float], k: float, sign: int
) -> list[bool]:
    return [sign * (x - center) > k * s for x, s in zip(points, sigma, strict=True)]


def _describe(rule: int, points: tuple[int, ...], side: Side) -> str:
    if rule == 1:
        limit = "upper" if side == "above" else "lower"
        return f"rule 1: point {points[0]} is {side} the {limit} control limit (3σ)"
    if points[-1] - points[0] == len(points) - 1 and len(points) > 2:
        listed = f"{points[0]}-{points[-1]}"
    else:
        listed = ", ".join(str(p) for p in points)
    if rule == 4:
        return f"rule 4: {len(points)} consecutive points {side} the centre line (points {listed})"
    need, width, k = _WINDOWS[rule]
    return (
        f"rule {rule}: {need} of {width} consecutive points beyond {k}σ {side} the centre "
        f"line (points {listed})"
    )


def _windows(flags: list[bool], need: int, width: int) -> list[tuple[int, ...]]:
    """Episodes of windows of ``width`` points with at least ``need`` flagged; windows
    that overlap join one episode. Returns the flagged indices of each episode."""
    episodes: list[tuple[int, ...]] = []
    current: set[int] = set()
    current_end = -1
    for start in range(len(flags) - width + 1):
        window = [i for i in range(start, start + width) if flags[i]]
        if len(window) < need:
            continue
        if current and start > current_end:
            episodes.append(tuple(sorted(current)))
            current = set()
        current.update(window)
        current_end = start + width - 1
    if current:
        episodes.append(tuple(sorted(current)))
    return episodes


def _runs(flags: list[bool], length: int) -> list[tuple[int, ...]]:
    runs: list[tuple[int, ...]] = []
    start = None
    for i, flag in enumerate([*flags, False]):
        if flag and start is None:
            start = i
        elif not flag and start is not None:
            if i - start >= length:
                runs.append(tuple(range(start, i)))
            start = None
    return runs


def western_electric(
    points: Sequence[float], center: float, sigma: Sequence[float]
) -> tuple[Signal, ...]:
    """Apply the four Western Electric rules to ``points`` around ``center``.

    ``sigma`` gives the standard deviation per point (pass ``[s] * len(points)`` for a
    constant one). A sigma of 0 puts every point off the centre beyond all zones.
    Signals are ordered by their first point, then rule.

    Raises:
        ValidationError: a point, the centre or a sigma that is not a finite number, a
            negative sigma, or not one sigma per point.
    """
    xs = _numbers(points, "points", 0)
    if isinstance(sigma, str | bytes) or not isinstance(sigma, Sequence) or len(sigma) != len(xs):
        raise ValidationError.single(
            "$.sigma", f"give a sequence of one sigma per point ({len(xs)})"
        )
    errors = [
        (f"$.sigma[{i}]", f"expected a finite number >= 0, got {s!r}")
        for i, s in enumerate(sigma)
        if isinstance(s, bool) or not (isinstance(s, int | float) and math.isfinite(s) and s >= 0)
    ]
    if errors or not (isinstance(center, int | float) and math.isfinite(center)):
        raise ValidationError(errors or [("$.center", f"expected a finite number, got {center!r}")])
    found: list[tuple[int, tuple[int, ...], Side]] = []
    for sign, side in _SIDES:
        beyond_3 = _beyond(xs, center, sigma, 3, sign)
        found.extend((1, (i,), side) for i, flag in enumerate(beyond_3) if flag)
        for rule, (need, width, k) in _WINDOWS.items():
            flags = _beyond(xs, center, sigma, k, sign)
            found.extend((rule, group, side) for group in _windows(flags, need, width))
        found.extend((4, run, side) for run in _runs(_beyond(xs, center, sigma, 0, sign), _RUN))
    found.sort(key=lambda f: (f[1][0], f[0], f[2]))
    return tuple(Signal(rule, pts, side, _describe(rule, pts, side)) for rule, pts, side in found)


# --- charts -----------------------------------------------------------------------------


def xmr(values: Sequence[float], *, baseline: int | None = None) -> XmRChart:
    """An XmR chart of ``values`` (in time order).

    Args:
        values: at least 2 finite numbers.
        baseline: compute the centre and limits from the first ``baseline`` values only
            (at least 2) and judge every value against them; default all values.

    Raises:
        ValidationError: fewer than 2 values, a value that is not a finite number
            (``$.values[i]``), or a baseline outside 2..len(values) (``$.baseline``).
    """
    xs = _numbers(values, "values", 2)
    used = len(xs) if baseline is None else baseline
    if isinstance(used, bool) or not isinstance(used, int) or not 2 <= used <= len(xs):
        raise ValidationError.single(
            "$.baseline", f"baseline must be a whole number in 2..{len(xs)}, got {baseline!r}"
        )
    ranges = tuple(abs(b - a) for a, b in itertools.pairwise(xs))
    center = math.fsum(xs[:used]) / used
    mr_center = math.fsum(ranges[: used - 1]) / (used - 1)
    sigma = E2 * mr_center / 3
    mr_ucl = D4 * mr_center
    n = len(xs)
    return XmRChart(
        points=xs,
        center=center,
        ucl=(center + 3 * sigma,) * n,
        lcl=(center - 3 * sigma,) * n,
        sigma=(sigma,) * n,
        signals=western_electric(xs, center, (sigma,) * n),
        moving_ranges=ranges,
        mr_center=mr_center,
        mr_ucl=mr_ucl,
        mr_signals=tuple(j + 1 for j, r in enumerate(ranges) if r > mr_ucl),
        baseline=used,
    )


def p_chart(defectives: Sequence[int], sizes: Sequence[int] | int) -> PChart:
    """A p-chart of ``defectives[i]`` out of ``sizes[i]`` per subgroup (in time order).

    ``sizes`` may be one number when every subgroup has the same size.

    Raises:
        ValidationError: fewer than 2 subgroups, lengths that differ (``$.sizes``), a
            size that is not a whole number above 0 (``$.sizes[i]``), or a defective
            count that is negative, fractional or above its size (``$.defectives[i]``).
    """
    if isinstance(defectives, str | bytes) or not isinstance(defectives, Sequence):
        raise ValidationError.single("$.defectives", "expected a sequence of counts")
    if isinstance(sizes, int) and not isinstance(sizes, bool):
        sizes = [sizes] * len(defectives)
    if isinstance(sizes, str | bytes) or not isinstance(sizes, Sequence):
        raise ValidationError.single("$.sizes", "expected a count or a sequence of counts")
    errors = _counts(defectives, "defectives") + _counts(sizes, "sizes")
    if not errors and len(sizes) != len(defectives):
        errors.append(
            ("$.sizes", f"{len(sizes)} sizes for {len(defectives)} defective counts; give one each")
        )
    if not errors:
        errors.extend(
            (f"$.sizes[{i}]", f"a subgroup size must be above 0, got {n}")
            for i, n in enumerate(sizes)
            if n <= 0
        )
        errors.extend(
            (f"$.defectives[{i}]", f"must be between 0 and the subgroup size {n}, got {d}")
            for i, (d, n) in enumerate(zip(defectives, sizes, strict=True))
            if n > 0 and not 0 <= d <= n
        )
    if errors:
        raise ValidationError(errors)
    if len(defectives) < 2:
        raise ValidationError.single(
            "$.defectives", f"at least 2 subgroups are needed, got {len(defectives)}"
        )
    center = sum(defectives) / sum(sizes)
    sigma = tuple(math.sqrt(center * (1 - center) / n) for n in sizes)
    points = tuple(d / n for d, n in zip(defectives, sizes, strict=True))
    return PChart(
        points=points,
        center=center,
        ucl=tuple(min(1.0, center + 3 * s) for s in sigma),
        lcl=tuple(max(0.0, center - 3 * s) for s in sigma),
        sigma=sigma,
        signals=western_electric(points, center, sigma),
        defectives=tuple(defectives),
        sizes=tuple(sizes),
    )


def compare(
    before: Sequence[float], after: Sequence[float], *, better: Direction | None = None
) -> ShiftVerdict:
    """Did the process shift between ``before`` and ``after`` (e.g. a change date)?

    Method: the XmR limits are computed from ``before`` alone (the baseline), and the
    Western Electric rules are applied to ``after`` alone against that baseline's centre
    and sigma (windows never straddle the change). The process *shifted* when at least
    one rule signals and every signal lies on the same side of the baseline centre;
    signals on both sides mean the process became unstable, not that it moved, so
    ``shifted`` is then False. Rule 4 needs 8 points after the change; with fewer, only
    large shifts (rules 1-3) can show.

    Args:
        before: the baseline series, at least 2 values.
        after: the series after the change, at least 1 value.
        better: ``"down"`` when lower is better (times, defects), ``"up"`` when higher
            is; fills ``improved``.

    Raises:
        ValidationError: as for :func:`xmr`, with paths ``$.before[i]`` / ``$.after[i]``.
    """
    xs = _numbers(before, "before", 2)
    ys = _numbers(after, "after", 1)
    if better not in (None, "up", "down"):
        raise ValidationError.single("$.better", f"expected 'up', 'down' or None, got {better!r}")
    baseline = xmr(xs)
    signals = western_electric(ys, baseline.center, (baseline.process_sigma,) * len(ys))
    sides = {s.side for s in signals}
    direction: Direction | None = None
    if sides == {"above"}:
        direction = "up"
    elif sides == {"below"}:
        direction = "down"
    after_mean = math.fsum(ys) / len(ys)
    rules = ", ".join(sorted({f"rule {s.rule}" for s in signals}))
    if direction is not None:
        summary = (
            f"shifted {direction}: mean {baseline.center:.4g} -> {after_mean:.4g}, "
            f"outside the baseline's routine variation ({rules})"
        )
    elif signals:
        summary = (
            f"no consistent shift: signals on both sides of the baseline centre "
            f"{baseline.center:.4g} ({rules}); the process became unstable"
        )
    else:
        summary = (
            f"no shift: mean {baseline.center:.4g} -> {after_mean:.4g} is within the "
            f"baseline's routine variation"
        )
    return ShiftVerdict(
        shifted=direction is not None,
        direction=direction,
        before_mean=baseline.center,
        after_mean=after_mean,
        baseline=baseline,
        signals=signals,
        improved=None if better is None else direction == better,
        summary=summary,
    )
