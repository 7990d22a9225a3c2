"""Draw a report :class:`~itsmcore.improvement.report.Chart` as inline SVG with matplotlib.

Why this way: matplotlib is optional (``pip install 'itsmcore[report]'``) and imported
only here, when a chart is drawn. Each chart gets its own
:class:`matplotlib.figure.Figure` and its own SVG canvas: pyplot and its global figure
registry are never used, so reports can be drawn from several threads at once. The
global ``rcParams`` are read, never written.

The SVG is made deterministic and embeddable: no date metadata, no XML prologue, and
every ``id`` (matplotlib draws random ones for clip paths) renamed ``<prefix>-<n>`` in
order of appearance, so two charts in one HTML page never share an id and the same
report renders to the same bytes.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Sequence
from typing import Any, Final

from itsmcore.improvement.report import Chart
from itsmcore.improvement.spc import XmRChart

__all__ = ["MISSING_MATPLOTLIB", "draw"]

MISSING_MATPLOTLIB: Final = (
    "Report.to_html() draws its charts with matplotlib, which is not installed: "
    "pip install 'itsmcore[report]' (Report.to_markdown() and to_dict() need nothing)"
)
_COLOURS: Final = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
_SIGNAL: Final = "#d62728"
_TARGET: Final = "#2ca02c"
_LIMIT: Final = "#7f7f7f"
_IDS: Final = re.compile(r'(id="|url\(#|href="#)([^")]+)')


def _figure(height: float = 3.2) -> Any:
    try:
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError(MISSING_MATPLOTLIB) from exc
    figure = Figure(figsize=(8.0, height), dpi=100)
    FigureCanvasSVG(figure)
    # Fixed margins (room for rotated week labels): a layout engine would triple the
    # drawing time and could move the axes from one report to the next.
    figure.subplots_adjust(left=0.09, right=0.98, top=0.96, bottom=0.2 * 3.2 / height, hspace=0.08)
    return figure


def _values(values: Sequence[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _x_axis(ax: Any, labels: Sequence[str]) -> None:
    step = max(1, math.ceil(len(labels) / 13))
    ticks = list(range(0, len(labels), step))
    ax.set_xticks(ticks, [labels[i] for i in ticks], rotation=30 if len(labels) > 6 else 0,
                  ha="right" if len(labels) > 6 else "center", fontsize=8)  # fmt: skip
    ax.set_xlim(-0.6, len(labels) - 0.4)
    ax.grid(axis="y", alpha=0.3)


def _target(ax: Any, chart: Chart) -> None:
    if chart.target is not None:
        ax.axhline(chart.target, color=_TARGET, linestyle="--", linewidth=1.2,
                   label=f"target {chart.target:g}")  # fmt: skip


def _trend(chart: Chart) -> Any:
    figure = _figure()
    ax = figure.add_subplot()
    x = list(range(len(chart.labels)))
    for i, series in enumerate(chart.series):
        ax.plot(x, _values(series.values), marker="o", color=_COLOURS[i % 4], label=series.name)
    _target(ax, chart)
    _x_axis(ax, chart.labels)
    ax.set_ylabel(chart.unit)
    ax.legend(fontsize=8, loc="best")
    return figure


def _bars(chart: Chart) -> Any:
    figure = _figure()
    ax = figure.add_subplot()
    width = 0.8 / max(1, len(chart.series))
    for i, series in enumerate(chart.series):
        offset = (i - (len(chart.series) - 1) / 2) * width
        x = [k + offset for k in range(len(chart.labels))]
        ax.bar(x, _values(series.values), width=width, color=_COLOURS[i % 4], label=series.name)
    _target(ax, chart)
    _x_axis(ax, chart.labels)
    ax.set_ylabel(chart.unit)
    ax.legend(fontsize=8, loc="best")
    return figure


def _signals(chart: Chart) -> list[int]:
    assert chart.control is not None
    return sorted({i for s in chart.control.signals for i in s.points})


def _control(chart: Chart) -> Any:
    control = chart.control
    assert control is not None
    moving = isinstance(control, XmRChart)
    figure = _figure(4.4 if moving else 3.2)
    if moving:
        ax, mr = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    else:
        ax, mr = figure.add_subplot(), None
    x = list(range(len(control.points)))
    ax.plot(x, control.points, marker="o", color=_COLOURS[0], label=chart.unit or "value")
    ax.axhline(control.center, color="black", linewidth=1, label=f"centre {control.center:.4g}")
    steps = "default" if moving else "steps-mid"
    ax.plot(x, control.ucl, color=_LIMIT, linestyle="--", drawstyle=steps, label="limits (3σ)")
    ax.plot(x, control.lcl, color=_LIMIT, linestyle="--", drawstyle=steps)
    flagged = _signals(chart)
    if flagged:
        ax.plot(flagged, [control.points[i] for i in flagged], linestyle="none", marker="o",
                markersize=9, markerfacecolor="none", markeredgecolor=_SIGNAL,
                markeredgewidth=2, label="signal")  # fmt: skip
    ax.set_ylabel(chart.unit)
    ax.legend(fontsize=8, loc="best")
    ax.grid(axis="y", alpha=0.3)
    if isinstance(control, XmRChart) and mr is not None:
        mx = x[1:]
        mr.plot(mx, control.moving_ranges, marker=".", color=_COLOURS[1], label="moving range")
        mr.axhline(control.mr_center, color="black", linewidth=1)
        mr.axhline(control.mr_ucl, color=_LIMIT, linestyle="--", label=f"UCL {control.mr_ucl:.3g}")
        jumps = list(control.mr_signals)
        if jumps:
            mr.plot(jumps, [control.moving_ranges[i - 1] for i in jumps], linestyle="none",
                    marker="o", markerfacecolor="none", markeredgecolor=_SIGNAL)  # fmt: skip
        mr.set_ylabel("mR")
        mr.legend(fontsize=7, loc="upper right")
        _x_axis(mr, chart.labels)
    else:
        _x_axis(ax, chart.labels)
    return figure


def _svg(figure: Any, prefix: str, title: str) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        kind, name = match.group(1), match.group(2)
        if name not in names:
            names[name] = f"{prefix}-{len(names) + 1}"
        return kind + names[name]

    text = _IDS.sub(rename, text)
    label = title.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return text.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1).strip()


_DRAW: Final = {"trend": _trend, "bars": _bars, "xmr": _control, "p": _control}


def draw(chart: Chart, *, ids: str) -> str:
    """The chart as an ``<svg>`` element, its ids prefixed with ``ids``. Raises
    ``ImportError`` (naming the ``itsmcore[report]`` extra) without matplotlib and
    ``ValueError`` for an unknown chart kind."""
    if chart.kind not in _DRAW:
        raise ValueError(f"unknown chart kind {chart.kind!r}; use one of {', '.join(_DRAW)}")
    figure = _DRAW[chart.kind](chart)
    return _svg(figure, ids, chart.title)
