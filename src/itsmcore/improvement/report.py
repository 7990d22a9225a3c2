"""Service reports: service metrics, problem statistics and customer satisfaction.

The seed's three standard reports (R4.5-01), monthly by default (R4.5-06) and
reproducible for any past period (R4.5-05): a report is a pure function of the event
histories, the period and the options. Only events **before the period's end** count
(every KPI follows that rule, see :mod:`itsmcore.improvement.kpis`), so the October
report built in December says what the October report built on 1 November said.

Build one from an engine or from histories::

    report = Report.service_metrics(engine, Period.month(2026, 11, ZoneInfo("Asia/Shanghai")))
    report = Report.customer_satisfaction(histories, period, csat_target=0.92)
    markdown = report.to_markdown()
    html = report.to_html()        # one self-contained file, charts as inline SVG
    data = report.to_dict()        # plain data for a dashboard

A report is data (:class:`Report` → :class:`Section` → :class:`Table` and
:class:`Chart`), rendered three ways. ``to_html`` draws the charts with matplotlib
(``pip install 'itsmcore[report]'``), imported only then; ``to_markdown`` and
``to_dict`` need nothing. Trends cover the ``months`` calendar months up to the period
(in the period's time zone) and control charts the ``weeks`` weeks up to its end; see
``docs/reports.md`` for every figure's definition.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Final

import attrs

from itsmcore.improvement.kpis import History
from itsmcore.improvement.sources import HistorySource
from itsmcore.improvement.spc import ControlChart, XmRChart
from itsmcore.sla.availability import Period

__all__ = ["KINDS", "Chart", "Report", "Section", "Series", "Table", "chart_table"]

#: The standard reports, by the name :meth:`Report.build` takes.
KINDS: Final = ("service_metrics", "problem_statistics", "customer_satisfaction")
_TITLES: Final = {
    "service_metrics": "Service metrics",
    "problem_statistics": "Problem statistics",
    "customer_satisfaction": "Customer satisfaction",
}


@attrs.frozen
class Series:
    """One named line or bar series; ``None`` is a gap (no data in that period)."""

    name: str
    values: tuple[float | None, ...]


@attrs.frozen
class Chart:
    """One chart, as data.

    ``kind`` is ``"trend"`` (lines over ``labels``), ``"bars"`` (grouped bars),
    ``"xmr"`` (an individuals chart with its moving ranges: ``control`` is the
    :class:`~itsmcore.improvement.spc.XmRChart`) or ``"p"`` (a p-chart: ``control`` is
    the :class:`~itsmcore.improvement.spc.PChart`). ``unit`` labels the y axis;
    ``target`` draws a horizontal target line (in the chart's unit); ``note`` says in
    one sentence what the chart shows (limits, signals).
    """

    kind: str
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...] = ()
    unit: str = ""
    target: float | None = None
    control: ControlChart | None = None
    note: str = ""


@attrs.frozen
class Table:
    """A table of text cells (values already formatted with their units)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@attrs.frozen
class Section:
    """One heading with paragraphs, tables and charts, in that order. ``level`` is the
    heading level (2 in a single report; a combined report puts each part's title at 2
    and its sections at 3)."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()
    charts: tuple[Chart, ...] = ()
    level: int = 2


@attrs.frozen
class Report:
    """One standard report over one period; build it with :meth:`service_metrics`,
    :meth:`problem_statistics`, :meth:`customer_satisfaction` or :meth:`build`."""

    kind: str
    title: str
    period: Period
    sections: tuple[Section, ...]

    # -- builders ----------------------------------------------------------------------

    @classmethod
    def build(
        cls, kind: str, source: HistorySource | Iterable[History], period: Period, **options: Any
    ) -> Report:
        """The standard report ``kind`` (one of :data:`KINDS`). Raises ``NotFound`` for
        an unknown kind and what the builder raises."""
        from itsmcore.improvement import _report_builders as builders

        return builders.build(kind, source, period, **options)

    @classmethod
    def service_metrics(
        cls, source: HistorySource | Iterable[History], period: Period, **options: Any
    ) -> Report:
        """KPIs and SLA attainment (R4.5-01, R4.5-04): incident KPIs against the
        previous period, SLA attainment, availability per service, incident and
        problem frequency, the service status at the period's end, open improvements,
        trends and an XmR chart of the weekly time to acknowledge.

        Options: ``service`` (only that service's incidents), ``months`` (trend length,
        default 6), ``weeks`` (control-chart length, default 26), ``availability_target``
        (default 0.999), ``mtta_target`` (a ``timedelta``), ``sla_target`` (a ratio)."""
        return cls.build("service_metrics", source, period, **options)

    @classmethod
    def problem_statistics(
        cls, source: HistorySource | Iterable[History], period: Period, **options: Any
    ) -> Report:
        """Problems opened, resolved and open; counts by state, category and priority;
        ageing; mean resolution time with its trend and an XmR chart (R4.5-01).

        Options: ``months``, ``weeks``, ``resolution_target`` (a ``timedelta``)."""
        return cls.build("problem_statistics", source, period, **options)

    @classmethod
    def customer_satisfaction(
        cls, source: HistorySource | Iterable[History], period: Period, **options: Any
    ) -> Report:
        """CSAT, NPS, responses and their distribution, follow-ups of low scores, the
        CSAT trend and a p-chart of the weekly share of dissatisfied responses
        (R4.5-01, R4.5-03).

        Options: ``service``, ``months``, ``weeks``, ``csat_target`` (a ratio, e.g. 0.92)."""
        return cls.build("customer_satisfaction", source, period, **options)

    @classmethod
    def service_report(
        cls,
        source: HistorySource | Iterable[History],
        period: Period,
        *,
        service_metrics: Mapping[str, Any] | None = None,
        problem_statistics: Mapping[str, Any] | None = None,
        customer_satisfaction: Mapping[str, Any] | None = None,
    ) -> Report:
        """The three standard reports in one document (kind ``service_report``), each
        built with its own options (e.g. ``customer_satisfaction={"csat_target":
        0.92}``). The histories are read from ``source`` once."""
        from itsmcore.improvement.sources import loaded, source_of

        log = loaded(source_of(source), None, until=period.end)
        given = {
            "service_metrics": service_metrics,
            "problem_statistics": problem_statistics,
            "customer_satisfaction": customer_satisfaction,
        }
        sections: list[Section] = []
        for kind in KINDS:
            part = cls.build(kind, log, period, **(given[kind] or {}))
            sections.append(Section(_TITLES[kind], level=2))
            sections += [attrs.evolve(s, level=s.level + 1) for s in part.sections]
        title = f"Service report, {_label(period)}"
        return cls("service_report", title, period, tuple(sections))

    # -- renderers ---------------------------------------------------------------------

    @property
    def as_of(self) -> str:
        """The instant up to which events count, as text."""
        return self.period.end.isoformat()

    def to_markdown(self) -> str:
        """The report as Markdown: tables as pipe tables, each chart as its data table
        and one line on its limits and signals."""
        out = [f"# {self.title}", "", _period_line(self.period), ""]
        for section in self.sections:
            out += [f"{'#' * section.level} {section.heading}", ""]
            for paragraph in section.paragraphs:
                out += [paragraph, ""]
            for table in section.tables:
                out += [*_md_table(table), ""]
            for chart in section.charts:
                out += [f"{'#' * (section.level + 1)} {chart.title}", ""]
                if chart.note:
                    out += [chart.note, ""]
                out += [*_md_table(chart_table(chart)), ""]
        return "\n".join(out).rstrip() + "\n"

    def to_html(self) -> str:
        """The report as one self-contained HTML page (inline CSS, charts as inline SVG,
        no scripts, nothing fetched). Raises ``ImportError`` naming the
        ``itsmcore[report]`` extra when matplotlib is missing."""
        from itsmcore.improvement._charts import draw

        parts = [_HEAD.format(title=html.escape(self.title))]
        parts.append(f"<h1>{html.escape(self.title)}</h1>")
        parts.append(f'<p class="period">{html.escape(_period_line(self.period))}</p>')
        number = 0
        for section in self.sections:
            h, sub = f"h{section.level}", f"h{section.level + 1}"
            parts.append(f"<section><{h}>{html.escape(section.heading)}</{h}>")
            parts += [f"<p>{html.escape(p)}</p>" for p in section.paragraphs]
            parts += [_html_table(t) for t in section.tables]
            for chart in section.charts:
                number += 1
                svg = draw(chart, ids=f"c{number}")
                note = f"<figcaption>{html.escape(chart.note)}</figcaption>" if chart.note else ""
                parts.append(
                    f'<figure class="chart chart-{chart.kind}" id="chart-{number}">'
                    f"<{sub}>{html.escape(chart.title)}</{sub}>{svg}{note}</figure>"
                )
            parts.append("</section>")
        parts.append(
            f"<footer>Computed by itsmcore from the audited events dated before "
            f"{html.escape(self.as_of)}; rebuilding this report later gives the same "
            f"figures.</footer></body></html>\n"
        )
        return "\n".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-safe data (for dashboards)."""
        return {
            "kind": self.kind,
            "title": self.title,
            "period": {"start": self.period.start.isoformat(), "end": self.period.end.isoformat()},
            "sections": [
                {
                    "heading": s.heading,
                    "level": s.level,
                    "paragraphs": list(s.paragraphs),
                    "tables": [
                        {"columns": list(t.columns), "rows": [list(r) for r in t.rows]}
                        for t in s.tables
                    ],
                    "charts": [_chart_dict(c) for c in s.charts],
                }
                for s in self.sections
            ],
        }


def _label(period: Period) -> str:
    from itsmcore.improvement._report_parts import label_of

    return label_of(period)


def _period_line(period: Period) -> str:
    return (
        f"Period {period.start.isoformat()} to {period.end.isoformat()} (end excluded); "
        f"only events before the end count."
    )


def _chart_dict(chart: Chart) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": chart.kind,
        "title": chart.title,
        "labels": list(chart.labels),
        "series": [{"name": s.name, "values": list(s.values)} for s in chart.series],
        "unit": chart.unit,
        "target": chart.target,
        "note": chart.note,
    }
    if chart.control is not None:
        c = chart.control
        out["control"] = {
            "points": list(c.points),
            "center": c.center,
            "ucl": list(c.ucl),
            "lcl": list(c.lcl),
            "signals": [{"rule": s.rule, "points": list(s.points)} for s in c.signals],
        }
    return out


def _number(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{value:.1f}"
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:.0f}"


def chart_table(chart: Chart) -> Table:
    """A chart's data as a table (the Markdown form; also the HTML's text fallback)."""
    if chart.control is not None:
        c = chart.control
        flagged = {i for s in c.signals for i in s.points}
        controlled: tuple[tuple[str, ...], ...] = tuple(
            (
                label,
                _number(c.points[i], chart.unit),
                _number(c.lcl[i], chart.unit),
                _number(c.center, chart.unit),
                _number(c.ucl[i], chart.unit),
                "signal" if i in flagged else "",
            )
            for i, label in enumerate(chart.labels)
        )
        limits = ("period", chart.unit or "value", "LCL", "centre", "UCL", "")
        return Table(limits, controlled)
    columns = (
        "period",
        *(f"{s.name} ({chart.unit})" if chart.unit else s.name for s in chart.series),
    )
    rows: tuple[tuple[str, ...], ...] = tuple(
        (label, *(_number(s.values[i], chart.unit) for s in chart.series))
        for i, label in enumerate(chart.labels)
    )
    return Table(columns, rows)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    head = "| " + " | ".join(_md_cell(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    body = ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in table.rows]
    return (
        [head, rule, *body]
        if table.rows
        else [head, rule, "| " + " | ".join("" for _ in table.columns) + " |"]
    )


def _html_table(table: Table) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def xmr_note(chart: XmRChart, unit: str, every: str) -> str:
    """One sentence on an XmR chart's limits and signals, for captions."""
    limits = (
        f"centre {_number(chart.center, unit)} {unit}, limits "
        f"{_number(chart.lower_limit, unit)} .. {_number(chart.upper_limit, unit)} {unit} "
        f"(from the first {chart.baseline} points; {every})"
    )
    if chart.in_control:
        return f"In control: {limits}."
    described = "; ".join(s.description for s in chart.signals[:4])
    more = f" (+{len(chart.signals) - 4} more)" if len(chart.signals) > 4 else ""
    return f"Signals: {described}{more}. {limits}."


_HEAD: Final = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }}
h1 {{ font-size: 1.6rem; }} h2 {{ border-bottom: 1px solid #ccc; margin-top: 2rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
th, td {{ border: 1px solid #ccc; padding: .3rem .6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
figure {{ margin: 1.5rem 0; }} figure svg {{ max-width: 100%; height: auto; }}
figcaption, .period, footer {{ color: #555; font-size: .9rem; }}
footer {{ margin-top: 3rem; border-top: 1px solid #ccc; padding-top: .5rem; }}
</style></head><body>"""


def format_duration_text(value: timedelta) -> str:
    """A duration for people, to two units, the smaller one truncated: ``2 d 3 h``,
    ``13 h 45 min``, ``43 min 12 s``, ``40 s``."""
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    for big, big_unit, small, small_unit in (
        (days, "d", hours, "h"),
        (hours, "h", minutes, "min"),
        (minutes, "min", secs, "s"),
    ):
        if big:
            return f"{big} {big_unit} {small} {small_unit}" if small else f"{big} {big_unit}"
    return f"{secs} s"
