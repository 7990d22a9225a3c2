"""A generated HTML report opened in a real headless browser renders its charts.

Needs Chromium at ``/usr/bin/chromium`` (``apt-get install -y chromium``); skipped with
that reason otherwise. Two looks: the DOM the browser built holds one ``<svg>`` with
drawn paths per chart, and a screenshot shows the charts' line colour.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

import itsmcore as ic
from itsmcore.improvement.report import Report
from itsmcore.sla import Period

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs Chromium at /usr/bin/chromium (apt-get install chromium)"
)
SHANGHAI = ZoneInfo("Asia/Shanghai")
LINE_BLUE = (0x1F, 0x77, 0xB4)  # the first series' colour in itsmcore's charts


def _browser(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """The November service-metrics report of a small log, written to a file."""
    engine = ic.Engine.in_memory()
    agent = ic.Actor("alice", roles=frozenset({"agent"}))
    november = Period.month(2026, 11, SHANGHAI)
    for week in range(26):
        for k in range(3):
            opened = (
                november.end - (week + 1) * (november.length / 30 * 7) + k * (november.length / 90)
            )
            rec = engine.open(
                "incident",
                at=opened,
                actor=agent,
                fields={"title": "t", "caller": "c", "impact": 2, "urgency": 2, "service": "mail"},
            )
            minutes = 30 + 7 * k if week > 8 else 10 + 3 * k
            engine.fire(
                rec.id,
                "assign",
                at=opened + minutes * (november.length / 43200),
                actor=agent,
                fields={"assignee": "bob"},
            )
    report = Report.service_metrics(engine, november)
    charts = sum(len(s.charts) for s in report.sections)
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report.to_html(), encoding="utf-8")
    return path, charts


def test_the_browser_builds_one_svg_with_drawn_paths_per_chart(
    page: tuple[Path, int], tmp_path: Path
) -> None:
    path, charts = page
    dom = _browser(tmp_path, "--dump-dom", path.as_uri()).stdout
    svgs = re.findall(r"<svg\b.*?</svg>", dom, flags=re.S)
    assert len(svgs) == charts >= 4
    for svg in svgs:
        assert len(re.findall(r"<path\b", svg)) > 10, "each chart draws its lines and axes"
    assert "Weekly mean time to acknowledge (XmR)" in dom


def test_a_screenshot_shows_the_charts(page: tuple[Path, int], tmp_path: Path) -> None:
    from PIL import Image

    path, _ = page
    shot = tmp_path / "report.png"
    _browser(tmp_path, "--window-size=1200,4000", f"--screenshot={shot}", path.as_uri())
    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 100, "the page is not blank"
    blue = sum(
        count
        for count, (r, g, b) in colours
        if abs(r - LINE_BLUE[0]) + abs(g - LINE_BLUE[1]) + abs(b - LINE_BLUE[2]) < 30
    )
    assert blue > 2000, f"the charts' lines and bars are drawn ({blue} blue pixels)"
