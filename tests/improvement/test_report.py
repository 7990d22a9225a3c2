"""The standard reports: figures equal to the KPIs, reproducible for past periods,
rendered to Markdown, plain data and one self-contained HTML page."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from zoneinfo import ZoneInfo

import pytest

import itsmcore as ic
from itsmcore.improvement import kpis
from itsmcore.improvement._charts import MISSING_MATPLOTLIB, draw
from itsmcore.improvement._report_parts import formatted, trend_periods, week_periods
from itsmcore.improvement.report import KINDS, Chart, Report, Series
from itsmcore.sla import Period

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "service-report-2026-11.html"
SHANGHAI = ZoneInfo("Asia/Shanghai")
NOVEMBER = Period.month(2026, 11, SHANGHAI)
OCTOBER = Period.month(2026, 10, SHANGHAI)
AGENT = ic.Actor("alice", roles=frozenset({"agent"}))


def _load_example_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_report", EXAMPLE.with_name("make_report.py")
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_report"] = module
    spec.loader.exec_module(module)
    return module


make_report = _load_example_script()


@pytest.fixture(scope="module")
def demo() -> ic.Engine:
    """The half-year of docs/examples/make_report.py, in memory."""
    engine = ic.Engine.in_memory()
    make_report.simulate(engine)
    return engine


@pytest.fixture(scope="module")
def metrics(demo: ic.Engine) -> dict[str, Report]:
    """The demo's service-metrics reports of November and October."""
    return {
        "november": Report.service_metrics(demo, NOVEMBER),
        "october": Report.service_metrics(demo, OCTOBER),
    }


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def small() -> ic.Engine:
    """Four problems, two incidents and three survey answers, by hand."""
    engine = ic.Engine.in_memory()
    for day, category, hours, resolve in (
        (2, "storage", 20, True),
        (3, "storage", 30, True),
        (4, "network", 10, False),
        (20, None, 5, True),
    ):
        rec = engine.open(
            "problem",
            at=at(day),
            actor=AGENT,
            fields={
                "title": "p",
                "impact": 2,
                "urgency": 3,
                **({"category": category} if category else {}),
            },
        )
        if resolve:
            for event, extra in (
                ("investigate", {}),
                ("identify_root_cause", {"root_cause": "x"}),
                ("start_fix", {}),
            ):
                engine.fire(rec.id, event, at=at(day), actor=AGENT, fields=extra)
            engine.fire(
                rec.id,
                "resolve",
                at=at(day) + timedelta(hours=hours),
                actor=AGENT,
                fields={"resolution_code": "fix_applied", "corrective_action": "y"},
            )
    for day in (5, 6):
        rec = engine.open(
            "incident",
            at=at(day),
            actor=AGENT,
            fields={"title": "t", "caller": "c", "impact": 2, "urgency": 2, "service": "mail"},
        )
        engine.fire(
            rec.id,
            "assign",
            at=at(day) + timedelta(minutes=10 * day),
            actor=AGENT,
            fields={"assignee": "bob"},
        )
    for score in (5, 4, 2):
        rec = engine.open(
            "feedback",
            at=at(7),
            actor=AGENT,
            fields={"title": "s", "subject": "INC-000001", "respondent": "r"},
        )
        engine.fire(
            rec.id, "respond", at=at(8), actor=AGENT, fields={"csat": score, "nps": score * 2}
        )
    return engine


def _row(report: Report, first_cell: str) -> tuple[str, ...]:
    for section in report.sections:
        for table in section.tables:
            for row in table.rows:
                if row[0] == first_cell:
                    return row
    raise AssertionError(f"no row {first_cell!r}")


# -- figures --------------------------------------------------------------------------------


def test_problem_statistics_count_opened_resolved_and_break_them_down(small: ic.Engine) -> None:
    report = Report.problem_statistics(small, NOVEMBER)
    assert _row(report, "Problems opened in the period")[1] == "4"
    assert _row(report, "Problems first resolved in the period")[1] == "3"
    assert _row(report, "Mean resolution time (first resolve − open)")[1] == "18 h 20 min"
    assert _row(report, "storage") == ("storage", "2")
    assert _row(report, "uncategorised") == ("uncategorised", "1")
    assert _row(report, "P4") == ("P4", "4")  # impact 2 x urgency 3
    assert _row(report, "new") == ("new", "1")


def test_customer_satisfaction_shows_csat_nps_and_the_score_distribution(
    small: ic.Engine,
) -> None:
    report = Report.customer_satisfaction(small, NOVEMBER, csat_target=0.92)
    assert _row(report, "CSAT (share of scores 4–5)")[1] == "66.7 %"
    assert _row(report, "Net Promoter Score")[1] == "+0.0 points"  # 10, 8, 4: 1 − 1 of 3
    assert _row(report, "Low scores needing a follow-up")[1] == "1"
    assert _row(report, "2") == ("2", "1", "33.3 %")


def test_service_metrics_indicators_are_the_engine_kpis(
    demo: ic.Engine, metrics: dict[str, Report]
) -> None:
    report = metrics["november"]
    for name, label in (
        ("mtta", "Mean time to acknowledge (first assignment)"),
        ("mttr", "Mean time to resolve (first resolution)"),
        ("fcr", "First-contact resolution"),
    ):
        row = _row(report, label)
        assert row[2] == formatted(demo.kpi(name, period=NOVEMBER))
        assert row[3] == formatted(demo.kpi(name, period=OCTOBER))
        assert row[4] == str(demo.kpi(name, period=NOVEMBER).sample_size)


def test_availability_row_gives_the_downtime_budget_of_the_target(
    metrics: dict[str, Report],
) -> None:
    report = metrics["november"]  # the default target: 0.999
    # November: one 25-minute mail outage; 99.9 % of 30 days allows 43.2 minutes.
    assert _row(report, "mail") == (
        "mail",
        "99.942 %",
        "25 min",
        "1",
        "99.9 %",
        "43 min 12 s",
        "yes",
    )
    assert _row(metrics["october"], "mail")[2::4] == ("1 h", "no")


def test_open_and_recently_closed_improvements_are_listed(metrics: dict[str, Report]) -> None:
    report = metrics["november"]
    assert _row(report, "IMP-000001")[3:] == (
        "closed (cycle 1)",
        "1 d 22 h",
        "≤ 1 d",
        "22 h 26 min (met)",
    )
    assert _row(report, "IMP-000003")[3] == "doing (cycle 2)"
    assert _row(report, "IMP-000004")[3] == "planning (cycle 1)"
    # In October the CSAT initiative had just been adjusted.
    assert _row(metrics["october"], "IMP-000003")[3] == "doing (cycle 2)"


def test_a_past_report_is_reproducible_whatever_happened_later(small: ic.Engine) -> None:
    before = Report.service_metrics(small, NOVEMBER).to_markdown()
    problems = Report.problem_statistics(small, NOVEMBER).to_markdown()
    # December: the open problem is resolved, incidents resolved, new records opened.
    rec = small.find(process="problem", state="new")[0]
    small.fire(rec.id, "investigate", at=at(2, month=12), actor=AGENT)
    small.open(
        "problem", at=at(3, month=12), actor=AGENT, fields={"title": "q", "impact": 1, "urgency": 1}
    )
    for inc in small.find(process="incident"):
        small.fire(inc.id, "start", at=at(2, month=12), actor=AGENT)
    assert Report.service_metrics(small, NOVEMBER).to_markdown() == before
    assert Report.problem_statistics(small, NOVEMBER).to_markdown() == problems


def test_a_report_from_histories_equals_the_report_from_the_engine(small: ic.Engine) -> None:
    histories = [
        kpis.History.of(small.get(r), small.history(r)) for r in small.storage.record_ids()
    ]
    for kind in KINDS:
        assert Report.build(kind, histories, NOVEMBER) == Report.build(kind, small, NOVEMBER)


def test_unknown_kinds_and_options_are_refused(small: ic.Engine) -> None:
    with pytest.raises(ic.NotFound, match="did you mean 'service_metrics'"):
        Report.build("service_metric", small, NOVEMBER)
    with pytest.raises(ic.ValidationError, match="csat_target"):
        Report.problem_statistics(small, NOVEMBER, csat_target=0.9)
    with pytest.raises(ic.ValidationError, match=r"\$\.months"):
        Report.service_metrics(small, NOVEMBER, months=1)


def test_trends_are_calendar_months_in_the_period_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    months = trend_periods(Period.month(2026, 4, berlin), 3)
    assert [(p.start.month, p.length) for p in months] == [
        (2, timedelta(days=28)),
        (3, timedelta(days=31) - timedelta(hours=1)),  # DST starts on 29 March
        (4, timedelta(days=30)),
    ]
    weeks = week_periods(NOVEMBER, 2)
    assert weeks[-1].end == NOVEMBER.end
    assert weeks[0].length == timedelta(weeks=1)


# -- renderers -----------------------------------------------------------------------------


def test_markdown_shows_each_chart_as_data_with_its_limits_and_signals(
    metrics: dict[str, Report],
) -> None:
    text = metrics["november"].to_markdown()
    assert "### Weekly mean time to acknowledge (XmR)" in text
    assert "Signals: rule 4:" in text
    assert "| period | minutes | LCL | centre | UCL |  |" in text


def test_to_dict_is_plain_json(demo: ic.Engine) -> None:
    data = Report.customer_satisfaction(demo, NOVEMBER).to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["sections"][2]["charts"][2]["control"]["center"] > 0


@pytest.fixture(scope="module")
def november(demo: ic.Engine) -> Report:
    return make_report.november_report(demo)


@pytest.fixture(scope="module")
def page(november: Report) -> str:
    return november.to_html()


def test_html_is_one_self_contained_page_with_an_svg_per_chart(november: Report, page: str) -> None:
    charts = [c for s in november.sections for c in s.charts]
    assert page.count("<svg ") == len(charts) == 11
    assert not re.search(r"<script|<link |src=\"http|url\(http", page)
    ids = re.findall(r' id="([^"]+)"', page)
    assert len(ids) == len(set(ids)), "ids are unique across the page"


def test_html_rendering_is_deterministic(november: Report, page: str) -> None:
    assert november.to_html() == page


def test_charts_can_be_drawn_from_several_threads_at_once() -> None:
    chart = Chart("trend", "t", ("a", "b", "c"), (Series("s", (1.0, None, 3.0)),), unit="h")
    alone = draw(chart, ids="x")
    found: list[str] = []
    threads = [
        threading.Thread(target=lambda: found.append(draw(chart, ids="x"))) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert found == [alone] * 4


def test_html_without_matplotlib_names_the_extra(
    small: ic.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = Report.problem_statistics(small, NOVEMBER)
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=re.escape("pip install 'itsmcore[report]'")) as err:
        report.to_html()
    assert str(err.value) == MISSING_MATPLOTLIB
    assert report.to_markdown()  # needs no matplotlib


def _without_svg(text: str) -> str:
    return re.sub(r"<svg .*?</svg>", "<svg/>", text, flags=re.S)


def test_the_committed_example_is_what_make_report_generates(page: str) -> None:
    """Everything but the drawn SVG (which depends on the matplotlib version) must
    match: rerun ``python docs/examples/make_report.py`` after changing a report."""
    committed = EXAMPLE.read_text(encoding="utf-8")
    assert _without_svg(committed) == _without_svg(page)
    assert committed.count("<svg ") == page.count("<svg ")


def test_the_example_tells_the_seed_stories(november: Report) -> None:
    text = november.to_markdown()
    assert "| IMP-000001 | Halve the problem resolution time | mttr | closed (cycle 1) |" in text
    assert (
        "| IMP-000002 | Acknowledge incidents within 20 minutes | mtta | closed (cycle 1) |" in text
    )
    assert "| mail | 99.942 % |" in text
    assert november.period == NOVEMBER
    assert november.title == "Service report, 2026-11"
    assert datetime(2026, 12, 1, tzinfo=SHANGHAI).astimezone(UTC) == NOVEMBER.end


def test_a_service_report_measures_sla_attainment_of_that_service_only() -> None:
    engine = ic.Engine.in_memory()
    for service, day, start_after in (("mail", 2, 10), ("vpn", 3, 30)):
        opened = datetime(2026, 11, day, 9, tzinfo=UTC)
        rec = engine.open(
            "incident",
            at=opened,
            actor=AGENT,
            fields={"title": "t", "impact": 1, "urgency": 1, "caller": "c", "service": service},
        )
        engine.fire(
            rec.id, "assign", at=opened + timedelta(minutes=5), actor=AGENT,
            fields={"assignee": "bob"},
        )  # fmt: skip
        engine.fire(rec.id, "start", at=opened + timedelta(minutes=start_after), actor=AGENT)
    report = Report.service_metrics(engine, NOVEMBER, service="mail")
    row = _row(report, "SLA attainment, response clocks")
    mail = engine.kpi("sla_compliance", period=NOVEMBER, clock="response", service="mail")
    assert (mail.numerator, mail.denominator) == (1, 1)
    assert row[2] == formatted(mail)
    assert row[4] == "1"


def test_an_improvement_ended_earlier_is_not_listed_because_of_a_later_link() -> None:
    engine = ic.Engine.in_memory()
    owner = ic.Actor("olga", roles=frozenset({"improvement_manager"}))
    october = datetime(2026, 10, 10, 9, tzinfo=UTC)
    rec = engine.open(
        "improvement",
        at=october,
        actor=owner,
        fields={"title": "Faster triage", "trigger_kind": "problem", "trigger": "PRB-000001"},
    )
    engine.fire(rec.id, "abandon", at=october, actor=owner, fields={"reason": "Superseded."})
    incident = engine.open(
        "incident",
        at=datetime(2026, 11, 5, 9, tzinfo=UTC),
        actor=AGENT,
        fields={"title": "t", "impact": 2, "urgency": 2, "caller": "c"},
    )
    engine.link(
        incident.id, rec.id, "follow_up_of", at=datetime(2026, 11, 5, 10, tzinfo=UTC), actor=AGENT
    )
    ids = [row[0] for row in _improvements(Report.service_metrics(engine, NOVEMBER))]
    assert rec.id not in ids
    assert rec.id in [row[0] for row in _improvements(Report.service_metrics(engine, OCTOBER))]


def _improvements(report: Report) -> tuple[tuple[str, ...], ...]:
    section = next(s for s in report.sections if s.heading == "Improvements")
    return section.tables[0].rows
